//! Demo mode (`callrec-server serve --demo`): a newcomer sees live calls, recordings and a
//! journal within seconds, with nothing to set up.
//!
//! 1. When the database has no users besides `admin`, a demo directory is seeded: agents
//!    alice, bob and carol (extensions 201–203), supervisor sam (300), teams Support
//!    (alice, bob) and Sales (carol) both supervised by sam, a role per team, an automatic
//!    rule (Support's external calls are recorded) and a manual rule (Sales may record on
//!    demand). The logins are printed.
//! 2. A few SIPREC calls are kept going against the server's own SIP port by `callrec-sim`
//!    used as a library — real SIP and RTP over loopback, a distinct tone per participant —
//!    cycling through scenarios that show each kind of decision (recorded automatically,
//!    recordable on demand, not recorded, recording denied), some with a hold.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use callrec_sim::{Sim, Transport};
use callrec_store::NewUserRecord;
use callrec_types::directory::{Level, RoleInput, TeamInput};
use callrec_types::rules::{Dispatch, RuleDirection, RuleInput, RuleMode, RuleOrigin};
use tokio::task::JoinHandle;

use crate::auth::hash_password_blocking;
use crate::state::AppState;

/// The password of every demo user.
pub const DEMO_PASSWORD: &str = "callrec-demo";
/// Simulated calls kept in progress.
const CONCURRENT_CALLS: usize = 3;

/// One kind of demo call.
struct Scenario {
    caller: (&'static str, &'static str),
    callee: (&'static str, &'static str),
    mon_mode: Option<&'static str>,
    hold: bool,
}

const SCENARIOS: [Scenario; 6] = [
    // External customer calls Support: recorded automatically from answer to hangup.
    Scenario {
        caller: ("sip:+4930123456@carrier.example", "Customer Berlin"),
        callee: ("sip:201@demo.callrec", "Alice Adams"),
        mon_mode: None,
        hold: true,
    },
    // Support calls out: recorded automatically too (direction both).
    Scenario {
        caller: ("sip:202@demo.callrec", "Bob Brown"),
        callee: ("sip:+441632960123@carrier.example", "Supplier London"),
        mon_mode: None,
        hold: false,
    },
    // Sales takes a call: not recorded unless carol presses record.
    Scenario {
        caller: ("sip:+33142868200@carrier.example", "Prospect Paris"),
        callee: ("sip:203@demo.callrec", "Carol Clark"),
        mon_mode: None,
        hold: false,
    },
    // Internal call: no rule matches internal Support calls.
    Scenario {
        caller: ("sip:201@demo.callrec", "Alice Adams"),
        callee: ("sip:202@demo.callrec", "Bob Brown"),
        mon_mode: None,
        hold: false,
    },
    // The caller refused recording in the IVR: deny, nothing recorded at all.
    Scenario {
        caller: ("sip:+4989123456@carrier.example", "Caller Munich"),
        callee: ("sip:202@demo.callrec", "Bob Brown"),
        mon_mode: Some("deny"),
        hold: false,
    },
    // Forced by the PBX: recorded whatever the rules say.
    Scenario {
        caller: ("sip:203@demo.callrec", "Carol Clark"),
        callee: ("sip:+12025550123@carrier.example", "Client Washington"),
        mon_mode: Some("force"),
        hold: true,
    },
];

/// Seeds the demo directory (if empty) and starts the simulated calls.
pub fn start(state: AppState, sip: SocketAddr) -> JoinHandle<()> {
    tokio::spawn(async move {
        match seed(&state).await {
            Ok(true) => print_logins(),
            Ok(false) => tracing::info!("demo: the directory already has users; not seeding"),
            Err(e) => tracing::error!(error = %e, "demo: cannot seed the directory"),
        }
        let target = loopback_if_wildcard(sip);
        let sim = match Sim::connect(target, Transport::Udp).await {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(error = %e, "demo: cannot start the call simulator");
                return;
            }
        };
        eprintln!("callrec demo: placing simulated calls against SIP {target}");
        let mut lanes = tokio::task::JoinSet::new();
        for lane in 0..CONCURRENT_CALLS {
            let sim = sim.clone();
            lanes.spawn(async move { calls(sim, lane).await });
        }
        while lanes.join_next().await.is_some() {}
    })
}

/// The SIP address to call: a wildcard bind is reached over loopback.
fn loopback_if_wildcard(sip: SocketAddr) -> SocketAddr {
    match sip.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), sip.port()),
        IpAddr::V6(ip) if ip.is_unspecified() => SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), sip.port()),
        _ => sip,
    }
}

/// One lane of back-to-back calls, each 20–60 s, a short pause between them.
async fn calls(sim: Sim, lane: usize) {
    let mut n = lane * 2;
    loop {
        let s = &SCENARIOS[n % SCENARIOS.len()];
        n += CONCURRENT_CALLS;
        let secs = 20 + rand::random::<u64>() % 41;
        let mut builder = sim
            .call()
            .caller(s.caller.0)
            .caller_name(s.caller.1)
            .callee(s.callee.0)
            .callee_name(s.callee.1);
        if let Some(mode) = s.mon_mode {
            builder = builder.mon_mode(mode);
        }
        match builder.invite().await {
            Ok(mut call) => {
                let total = Duration::from_secs(secs);
                if s.hold {
                    let third = total / 3;
                    tokio::time::sleep(third).await;
                    let _ = call.hold().await;
                    tokio::time::sleep(Duration::from_secs(5).min(third)).await;
                    let _ = call.resume().await;
                    tokio::time::sleep(total.saturating_sub(third * 2)).await;
                } else {
                    tokio::time::sleep(total).await;
                }
                if let Err(e) = call.bye().await {
                    tracing::warn!(error = %e, "demo: hang-up failed");
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "demo: a simulated call failed");
                tokio::time::sleep(Duration::from_secs(5)).await;
            }
        }
        tokio::time::sleep(Duration::from_secs(2 + rand::random::<u64>() % 4)).await;
    }
}

/// Creates the demo directory when only `admin` (or nobody) exists. True if it did.
async fn seed(state: &AppState) -> anyhow::Result<bool> {
    if state.store.count_users().await? > 1 {
        return Ok(false);
    }
    let hash = hash_password_blocking(DEMO_PASSWORD.to_owned())
        .await
        .map_err(|e| anyhow::anyhow!(e.body.message))?;
    let mut ids = Vec::new();
    for (username, name, level, ext) in [
        ("alice", "Alice Adams", Level::Agent, "201"),
        ("bob", "Bob Brown", Level::Agent, "202"),
        ("carol", "Carol Clark", Level::Agent, "203"),
        ("sam", "Sam Supervisor", Level::Supervisor, "300"),
    ] {
        let user = state
            .store
            .create_user(&NewUserRecord {
                username: username.into(),
                display_name: name.into(),
                password_hash: hash.clone(),
                level,
                extensions: vec![ext.into(), format!("sip:{ext}@demo.callrec")],
            })
            .await?;
        ids.push(user.id);
    }
    let [alice, bob, carol, sam] = [ids[0], ids[1], ids[2], ids[3]];
    let support = state
        .store
        .create_team(&TeamInput {
            name: "Support".into(),
            members: vec![alice, bob],
            supervisors: vec![sam],
        })
        .await?;
    let sales = state
        .store
        .create_team(&TeamInput {
            name: "Sales".into(),
            members: vec![carol],
            supervisors: vec![sam],
        })
        .await?;
    let support_role = state
        .store
        .create_role(&RoleInput {
            name: "Support staff".into(),
            users: vec![],
            teams: vec![support.id],
        })
        .await?;
    let sales_role = state
        .store
        .create_role(&RoleInput {
            name: "Sales staff".into(),
            users: vec![],
            teams: vec![sales.id],
        })
        .await?;
    state
        .store
        .create_rule(&RuleInput {
            description: "Record every external call of Support".into(),
            enabled: true,
            mode: RuleMode::Automatic,
            role_id: support_role.id,
            direction: RuleDirection::Both,
            origin: RuleOrigin::External,
            dispatch: Dispatch::Store,
            position: None,
            require_consent: false,
            transcribe: false,
        })
        .await?;
    state
        .store
        .create_rule(&RuleInput {
            description: "Sales may record any call on demand".into(),
            enabled: true,
            mode: RuleMode::Manual,
            role_id: sales_role.id,
            direction: RuleDirection::Both,
            origin: RuleOrigin::Both,
            dispatch: Dispatch::Store,
            position: None,
            require_consent: false,
            transcribe: false,
        })
        .await?;
    Ok(true)
}

fn print_logins() {
    // Printed, not logged: this is what the newcomer needs to see first.
    eprintln!(
        "callrec demo: seeded a demo directory. Log in as any of (password \"{DEMO_PASSWORD}\"):\n\
         \x20 alice  agent, Support, ext 201 (external calls recorded automatically)\n\
         \x20 bob    agent, Support, ext 202\n\
         \x20 carol  agent, Sales,   ext 203 (may press record)\n\
         \x20 sam    supervisor of Support and Sales, ext 300\n\
         \x20 admin  (the bootstrap password)"
    );
}
