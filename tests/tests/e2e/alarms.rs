//! End-to-end: missing-recording alarms (issue #11.3) with real SIPREC calls from
//! `callrec-sim`: a forced call that sends no RTP (`--silent`) raises exactly one alarm —
//! listed, counted in `/metrics`, pushed, mailed to the real SMTP sink — and a normal forced
//! call raises none; acknowledging is for admins only and audited.

use crate::post_call::{eventually, use_smtp, Sink};
use callrec_client::{Client, ClientError};
use callrec_server::state::AppState;
use callrec_server::Server;
use callrec_sim::{Sim, Transport};
use callrec_tests::directory::{self, Cast, PASSWORD};
use callrec_tests::{test_config, ADMIN_PASSWORD};
use callrec_types::alarms::{Alarm, AlarmKind, AlarmQuery};
use callrec_types::calls::CallState;
use callrec_types::wire::{ErrorCode, Event, SettingsPatch};
use callrec_types::{AlarmId, CallId};
use std::net::SocketAddr;
use std::time::Duration;

/// The real server in-process on 127.0.0.1:0 (HTTP and SIP) on the system clock: a call's
/// length is real time.
struct Node {
    url: String,
    sip: SocketAddr,
    state: AppState,
    _dir: tempfile::TempDir,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Node {
    async fn start() -> Node {
        let dir = tempfile::tempdir().expect("a temp dir for the data");
        let server = Server::bind(test_config(dir.path())).await.expect("the server binds");
        let (url, sip, state) = (
            format!("http://{}", server.http_addr),
            server.sip_addr,
            server.state().clone(),
        );
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(server.run(async move {
            let _ = rx.await;
        }));
        Node {
            url,
            sip,
            state,
            _dir: dir,
            shutdown: Some(tx),
        }
    }

    async fn login(&self, user: &str, password: &str) -> Client {
        let mut c = Client::new(&self.url).expect("a valid URL");
        c.login(user, password)
            .await
            .unwrap_or_else(|e| panic!("{user} logs in: {e}"));
        c
    }

    /// A forced SIPREC call from Alice (201) to the outside, `secs` long, with or without RTP;
    /// returns once the server has ended it.
    async fn forced_call(&self, admin: &Client, secs: f64, silent: bool) -> CallId {
        let sim = Sim::connect(self.sip, Transport::Udp)
            .await
            .expect("the simulator reaches the recorder");
        let mut b = sim
            .call()
            .caller("sip:201@pbx.example")
            .callee("sip:+4930999@carrier.example")
            .mon_mode("force");
        if silent {
            b = b.silent();
        }
        let call = b.invite().await.expect("the recorder answers");
        let id = self
            .state
            .store
            .call_by_sip_id(call.call_id())
            .await
            .expect("the store answers")
            .expect("the call is stored");
        tokio::time::sleep(Duration::from_secs_f64(secs)).await; // the call's length, not a wait for readiness
        let report = call.bye().await.expect("the BYE is answered");
        if silent {
            assert_eq!(
                report.caller_packets + report.callee_packets,
                0,
                "--silent sends no RTP"
            );
        }
        eventually(20, "the call ends", || async {
            let d = admin.get_call(id).await.ok()?;
            (d.call.state == CallState::Ended && d.recordings.iter().all(|r| !r.sha256.is_empty())).then_some(())
        })
        .await;
        id
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

async fn missing_total(admin: &Client) -> u64 {
    let text = admin.metrics().await.expect("metrics");
    text.lines()
        .find_map(|l| l.strip_prefix("callrec_recordings_missing_total ")?.trim().parse().ok())
        .expect("callrec_recordings_missing_total is exported")
}

async fn open_alarms(admin: &Client) -> Vec<Alarm> {
    admin
        .list_alarms(&AlarmQuery {
            unacknowledged: true,
            limit: None,
        })
        .await
        .expect("the alarms list")
}

#[tokio::test]
async fn a_forced_call_with_no_rtp_raises_exactly_one_alarm_listed_counted_pushed_and_mailed_and_a_normal_call_none() {
    let node = Node::start().await;
    let admin = node.login("admin", ADMIN_PASSWORD).await;
    directory::build(&admin).await;
    let mail = tempfile::tempdir().expect("mail dir");
    let sink = Sink::start(mail.path(), 0).await;
    use_smtp(&admin, sink.port).await;
    admin
        .update_settings(&SettingsPatch {
            alarm_recipients: Some(vec!["ops@example.com".into()]),
            ..Default::default()
        })
        .await
        .expect("the alarm recipients are accepted");
    assert_eq!(missing_total(&admin).await, 0);
    let mut events = node.state.events.subscribe();

    let silent = node.forced_call(&admin, 2.5, true).await;
    let alarms = eventually(10, "the alarm is listed", || async {
        let v = open_alarms(&admin).await;
        (!v.is_empty()).then_some(v)
    })
    .await;
    assert_eq!(alarms.len(), 1, "exactly one alarm: {alarms:?}");
    let alarm = &alarms[0];
    assert_eq!((alarm.call_id, alarm.kind), (silent, AlarmKind::NoAudio));
    assert!(alarm.message.contains("no RTP"), "in plain words: {}", alarm.message);
    assert!(
        (2_000..4_000).contains(&alarm.expected_ms),
        "the span it should cover: {alarm:?}"
    );
    assert_eq!(missing_total(&admin).await, 1, "counted in /metrics");

    // Pushed, to admins only (no participant may see it as theirs).
    let pushed = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let env = events.recv().await.expect("the hub");
            if let Event::Alarm(a) = &env.event {
                return (a.clone(), env.users.clone());
            }
        }
    })
    .await
    .expect("the alarm is pushed");
    assert_eq!(pushed.0.id, alarm.id);
    assert!(pushed.1.is_empty(), "no participant list: only admins see it");

    let mails = sink.wait_for(1).await;
    assert_eq!(mails[0].rcpt_tos, ["ops@example.com"], "mailed to the alarm recipients");
    assert!(
        mails[0].text.contains(&alarm.message),
        "the mail says what is wrong: {}",
        mails[0].text
    );

    // A normal forced call (RTP on both sides) raises none.
    let normal = node.forced_call(&admin, 2.5, false).await;
    let all = admin.list_alarms(&AlarmQuery::default()).await.expect("all alarms");
    assert_eq!(all.len(), 1, "a call with audio raises no alarm");
    assert!(all.iter().all(|a| a.call_id != normal));
    assert_eq!(missing_total(&admin).await, 1);
    assert_eq!(sink.messages().len(), 1, "and mails nothing");
    sink.stop().await;
}

#[tokio::test]
async fn an_alarm_is_acknowledged_by_admins_only_and_the_acknowledgement_is_audited() {
    let node = Node::start().await;
    let admin = node.login("admin", ADMIN_PASSWORD).await;
    let cast: Cast = directory::build(&admin).await;
    node.forced_call(&admin, 1.5, true).await;
    let alarm = eventually(10, "the alarm is listed", || async {
        open_alarms(&admin).await.into_iter().next()
    })
    .await;

    let agent = node.login(&cast.alice.username, PASSWORD).await;
    for r in [
        agent.list_alarms(&AlarmQuery::default()).await.map(|_| ()),
        agent.ack_alarm(alarm.id).await.map(|_| ()),
    ] {
        match r {
            Err(ClientError::Api { status, .. }) => assert_eq!(status, 403, "admins only"),
            other => panic!("an agent is refused, got {other:?}"),
        }
    }
    assert_eq!(open_alarms(&admin).await.len(), 1, "the refused ack changed nothing");
    match admin.ack_alarm(AlarmId(999_999)).await {
        Err(ClientError::Api { status, code, .. }) => assert_eq!((status, code), (404, ErrorCode::NotFound)),
        other => panic!("an unknown alarm is 404, got {other:?}"),
    }

    let acked = admin.ack_alarm(alarm.id).await.expect("the admin acknowledges");
    let me = admin.me().await.expect("me");
    assert_eq!(acked.acknowledged_by, Some(me.id));
    assert!(acked.acknowledged_at.is_some());
    assert!(open_alarms(&admin).await.is_empty(), "no longer unacknowledged");
    let again = admin
        .ack_alarm(alarm.id)
        .await
        .expect("acknowledging twice is harmless");
    assert_eq!(
        again.acknowledged_at, acked.acknowledged_at,
        "the first acknowledgement is kept"
    );

    let audit = admin.audit(None, Some(50)).await.expect("audit");
    assert!(
        audit
            .items
            .iter()
            .any(|e| e.action == "alarm_ack" && e.target == format!("alarm {}", alarm.id) && e.actor == "admin"),
        "the acknowledgement is audited"
    );
}
