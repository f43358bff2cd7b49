//! `node-bench`: the cross-node record toggle (issue #10.3). Two nodes on one PostgreSQL
//! database, in this process; a SIPREC call (callrec-sim) is held by node B and toggled over
//! HTTP on node A, N times (start, stop, start, …). For each toggle it measures
//!
//! - **request → recorder acted on B**: from sending the request to node A until node B's
//!   recorder has opened or closed the segment (its `recording` event, read in-process);
//! - **request → answer on A**: the whole HTTP round trip, which includes the above (node A
//!   answers only once node B has acted).
//!
//! and prints p50 / p99 / max of each. Target p99 ≤ 100 ms. The database is
//! `--database-url`, else a throw-away PostgreSQL from `callrec-testkit` (as root: it runs
//! Debian's PostgreSQL 15 as user `postgres`).
//!
//! ```text
//! cargo run --release -p callrec-bench --bin node-bench -- --toggles 400
//! ```

use anyhow::Context;
use callrec_client::Client;
use callrec_server::config::{Config, DatabaseUrl, Secret};
use callrec_server::state::AppState;
use callrec_server::Server;
use callrec_sim::{Sim, Transport};
use callrec_types::directory::{Level, NewUser, RoleInput};
use callrec_types::rules::{Dispatch, RuleDirection, RuleInput, RuleMode, RuleOrigin};
use callrec_types::wire::{Event, RecordingAction};
use clap::Parser;
use std::time::{Duration, Instant};

#[derive(Parser)]
#[command(name = "node-bench", about = "cross-node record toggle latency")]
struct Args {
    /// How many toggles (half start, half stop).
    #[arg(long, default_value_t = 200)]
    toggles: usize,
    /// A PostgreSQL database to use (emptied tables are not required: a fresh one is best).
    #[arg(long)]
    database_url: Option<String>,
}

const ADMIN_PASSWORD: &str = "node-bench-admin";
const PASSWORD: &str = "node-bench-agent";

struct Node {
    url: String,
    sip: std::net::SocketAddr,
    state: AppState,
    _dir: tempfile::TempDir,
    _task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

async fn node(db: &str, name: &str) -> anyhow::Result<Node> {
    let dir = tempfile::tempdir()?;
    let mut cfg = Config::for_data_dir(dir.path().to_path_buf());
    cfg.database_url = Some(DatabaseUrl::new(db.to_owned()));
    cfg.node_id = Some(name.to_owned());
    cfg.bootstrap_admin_password = Some(Secret::new(ADMIN_PASSWORD));
    cfg.log = "warn".into();
    let server = Server::bind(cfg).await.with_context(|| format!("starting {name}"))?;
    let (url, sip, state) = (
        format!("http://{}", server.http_addr),
        server.sip_addr,
        server.state().clone(),
    );
    let task = tokio::spawn(server.run(std::future::pending()));
    Ok(Node {
        url,
        sip,
        state,
        _dir: dir,
        _task: task,
    })
}

async fn login(url: &str, user: &str, password: &str) -> anyhow::Result<Client> {
    let mut c = Client::new(url)?;
    c.login(user, password).await?;
    Ok(c)
}

fn summary(what: &str, mut samples: Vec<Duration>) {
    samples.sort_unstable();
    let at = |p: f64| samples[(((p / 100.0) * samples.len() as f64).ceil() as usize).clamp(1, samples.len()) - 1];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "| {what} | {} | {:.2} | {:.2} | {:.2} |",
        samples.len(),
        ms(at(50.0)),
        ms(at(99.0)),
        ms(*samples.last().expect("samples"))
    );
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    anyhow::ensure!(args.toggles > 0, "--toggles must be at least 1");
    let db = match args.database_url {
        Some(u) => u,
        None => callrec_testkit::postgres::fresh_database().await,
    };
    let a = node(&db, "node-a").await?;
    let b = node(&db, "node-b").await?;

    let admin = login(&a.url, "admin", ADMIN_PASSWORD).await?;
    let carol = admin
        .create_user(&NewUser {
            username: "carol".into(),
            display_name: "Carol".into(),
            password: PASSWORD.into(),
            level: Level::Agent,
            extensions: vec!["203".into()],
        })
        .await?;
    let role = admin
        .create_role(&RoleInput {
            name: "Sales".into(),
            users: vec![carol.id],
            teams: vec![],
        })
        .await?;
    admin
        .create_rule(&RuleInput {
            description: "Sales may record".into(),
            enabled: true,
            mode: RuleMode::Manual,
            role_id: role.id,
            direction: RuleDirection::Both,
            origin: RuleOrigin::Both,
            dispatch: Dispatch::Store,
            position: None,
            require_consent: false,
            transcribe: false,
        })
        .await?;
    let carol_a = login(&a.url, "carol", PASSWORD).await?;

    let sim = Sim::connect(b.sip, Transport::Udp).await?;
    let call = sim
        .call()
        .caller("sip:+4930555@carrier.example")
        .callee("sip:203@pbx.example")
        .invite()
        .await?;
    let id = b
        .state
        .store
        .call_by_sip_id(call.call_id())
        .await?
        .context("node B registered the call")?;
    // Node A knows the call once B's live row is written (the first `call` event).
    let deadline = Instant::now() + Duration::from_secs(10);
    while !carol_a.live_calls().await?.iter().any(|d| d.call.id == id) {
        anyhow::ensure!(Instant::now() < deadline, "node A never saw node B's call");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let mut acted = Vec::with_capacity(args.toggles);
    let mut answered = Vec::with_capacity(args.toggles);
    for i in 0..args.toggles {
        let action = if i % 2 == 0 {
            RecordingAction::Start
        } else {
            RecordingAction::Stop
        };
        let mut events = b.state.events.subscribe();
        let t0 = Instant::now();
        // Node B's `recording` event: published once its recorder opened (or closed and
        // finished) the segment.
        let on_b = tokio::spawn(async move {
            loop {
                match events.recv().await {
                    Ok(env) if matches!(env.event, Event::Recording(_)) => return Instant::now(),
                    Ok(_) => {}
                    Err(e) => panic!("node B's hub: {e}"),
                }
            }
        });
        carol_a.set_recording(id, action).await?;
        let t_answer = Instant::now();
        let t_acted = tokio::time::timeout(Duration::from_secs(10), on_b)
            .await
            .context("node B never acted")??;
        acted.push(t_acted - t0);
        answered.push(t_answer - t0);
    }
    if args.toggles % 2 == 1 {
        carol_a.set_recording(id, RecordingAction::Stop).await?;
    }
    call.bye().await?;

    println!("| cross-node toggle | n | p50 ms | p99 ms | max ms |");
    println!("|---|---|---|---|---|");
    summary("request on A → recorder acted on B", acted);
    summary("request on A → answer on A", answered);
    Ok(())
}
