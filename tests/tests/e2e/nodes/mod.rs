//! Several nodes, one system (issue #10.3): two real servers on one real PostgreSQL
//! (`callrec-testkit`), each with its own data directory, one of them a separate process
//! where SIGKILL is the subject. A SIPREC call received by node B is live on node A and
//! toggled there; "run now" on both nodes at once sends each dispatch once; the calls of a
//! killed node are ended by the other after the lease, and the node repairs its recording
//! when it restarts; connections cut under both nodes (what a PostgreSQL restart does to
//! them) are ridden out: the pools reconnect, the listeners listen again and the live calls
//! are published again.

mod bucket;
mod consent;
mod database;

use crate::post_call::{call, eventually};
use callrec_client::{AudioFormat, Client, EventStream};
use callrec_server::config::{Config, DatabaseUrl};
use callrec_sim::{Sim, Transport};
use callrec_testkit::s3;
use callrec_tests::directory::{self, add_rule, rule, PASSWORD};
use callrec_tests::{test_config, wav, TestServer, INGEST_TOKEN};
use callrec_types::calls::{CallState, LiveRecording, RecordingState};
use callrec_types::directory::PhoneInput;
use callrec_types::rules::{Dispatch, RuleDirection, RuleMode, RuleOrigin};
use callrec_types::wire::{ErrorCode, Event, RecordingAction};
use callrec_types::CallId;
use futures::StreamExt;
use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

const CAROL_MAC: &str = "00:04:13:AA:BB:03";

fn node_config(data_dir: &Path, url: &str, node: &str, lease_secs: u32) -> Config {
    let mut c = test_config(data_dir);
    c.database_url = Some(DatabaseUrl::new(url.to_owned()));
    c.node_id = Some(node.to_owned());
    c.node_lease_secs = lease_secs;
    c
}

async fn node(url: &str, name: &str) -> TestServer {
    let url = url.to_owned();
    let name = name.to_owned();
    TestServer::start_with(move |c| {
        c.database_url = Some(DatabaseUrl::new(url));
        c.node_id = Some(name);
    })
    .await
}

/// The next `call` event about `id` (or `call_ended` when `ended`) on a push stream.
async fn wait_for(stream: &mut EventStream, id: CallId, ended: bool, secs: u64) -> Event {
    let wait = async {
        loop {
            let e = stream
                .next()
                .await
                .expect("the push stream stays open")
                .expect("a well-formed event");
            match &e {
                Event::Call(d) if !ended && d.call.id == id => return e,
                Event::CallEnded { call_id } if ended && *call_id == id => return e,
                _ => {}
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(secs), wait)
        .await
        .unwrap_or_else(|_| {
            panic!(
                "no {} event for call {id} within {secs} s",
                if ended { "call_ended" } else { "call" }
            )
        })
}

async fn call_id(server: &TestServer, sip_call_id: &str) -> CallId {
    server
        .state
        .store
        .call_by_sip_id(sip_call_id)
        .await
        .expect("the store answers")
        .expect("the call has a row")
}

#[tokio::test]
async fn a_call_on_node_b_is_live_and_toggled_on_node_a_by_client_and_record_key_with_the_same_checks() {
    let url = callrec_testkit::postgres::fresh_database().await;
    let a = node(&url, "node-a").await;
    let b = node(&url, "node-b").await;
    let admin = a.admin().await;
    let cast = directory::build(&admin).await;
    add_rule(
        &admin,
        rule(
            "sales may record",
            RuleMode::Manual,
            cast.sales_role,
            RuleDirection::Both,
            RuleOrigin::Both,
            Dispatch::Store,
        ),
    )
    .await;
    let health: serde_json::Value = reqwest::get(format!("{}/healthz", a.url))
        .await
        .expect("healthz answers")
        .json()
        .await
        .expect("healthz is JSON");
    assert_eq!(health["node_id"], "node-a", "healthz names the node");

    let carol_a = a.login("carol", PASSWORD).await;
    let mut carol_events = carol_a.events().await.expect("carol subscribes on node A");
    let sim = Sim::connect(b.sip, Transport::Udp)
        .await
        .expect("the simulator reaches node B");
    let sip_call = sim
        .call()
        .caller("sip:+4930555@carrier.example")
        .callee("sip:203@pbx.example")
        .invite()
        .await
        .expect("node B answers");
    let id = call_id(&b, sip_call.call_id()).await;

    let Event::Call(seen) = wait_for(&mut carol_events, id, false, 10).await else {
        unreachable!()
    };
    assert!(
        seen.can_toggle,
        "node A's push stream shows carol may record node B's call"
    );
    let live = carol_a.live_calls().await.expect("node A lists live calls");
    let listed = live
        .iter()
        .find(|d| d.call.id == id)
        .expect("node B's call is live on node A");
    assert!(listed.can_toggle, "and carol may record it there");

    // Refusals are the same on either node: the admin sees the call but takes no part in it
    // (on node A the refusal comes from node B's recorder, carried back).
    let admin_b = b.admin().await;
    let on_a = admin
        .set_recording(id, RecordingAction::Start)
        .await
        .expect_err("refused on A");
    let on_b = admin_b
        .set_recording(id, RecordingAction::Start)
        .await
        .expect_err("refused on B");
    assert_eq!(on_a.code(), Some(ErrorCode::NotPermitted), "refused on A: {on_a}");
    assert_eq!(
        (on_a.status(), on_a.code(), on_a.to_string()),
        (on_b.status(), on_b.code(), on_b.to_string()),
        "the same refusal on either node"
    );

    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = carol_a
        .set_recording(id, RecordingAction::Start)
        .await
        .expect("carol starts recording node B's call on node A");
    assert!(
        matches!(started.state, LiveRecording::RecordingManual { .. }),
        "the answer says recording: {:?}",
        started.state
    );
    // Node A answered after node B's recorder acted: the segment is open there already.
    let (_, _, _, on_b_now) = b.state.live.snapshot(id).await.expect("the call is live on node B");
    assert!(
        matches!(on_b_now, LiveRecording::RecordingManual { .. }),
        "node B is recording"
    );
    let recs = a.state.store.list_recordings(id).await.expect("recordings");
    assert_eq!(recs.len(), 1, "one segment was started");
    assert_eq!(recs[0].state, RecordingState::Recording);

    // Issue #11.1: a pause on node A reaches node B's recorder; an admin on node A, who takes
    // no part in the call, may resume it (node B checks the same permission).
    let paused = carol_a
        .set_recording(id, RecordingAction::Pause)
        .await
        .expect("carol pauses node B's call on node A");
    assert!(paused.state.paused().is_some(), "the answer says paused");
    let (_, _, _, on_b_now) = b.state.live.snapshot(id).await.expect("the call is live on node B");
    assert!(on_b_now.paused().is_some(), "node B's recording is paused");
    let resumed = admin
        .set_recording(id, RecordingAction::Resume)
        .await
        .expect("the admin resumes it on node A");
    assert_eq!(resumed.state.paused(), None);
    let recs = a.state.store.list_recordings(id).await.expect("recordings");
    assert_eq!(recs[0].pauses.len(), 1, "node B wrote the pause for every node to read");

    tokio::time::sleep(Duration::from_millis(1000)).await;
    let stopped = carol_a
        .set_recording(id, RecordingAction::Stop)
        .await
        .expect("carol stops it on node A");
    assert_eq!(stopped.state, LiveRecording::NotRecording);

    // The phone's record key, pressed against node A, reaches node B's recorder too.
    admin
        .create_phone(&PhoneInput {
            mac: CAROL_MAC.into(),
            user_id: cast.carol.id,
        })
        .await
        .expect("carol's phone is registered");
    let (status, body) = a
        .client()
        .snom_record(CAROL_MAC, sip_call.call_id())
        .await
        .expect("node A answers the phone");
    assert_eq!(
        (status, body.trim()),
        (200, "Recording"),
        "the record key starts a second segment"
    );
    let (_, _, _, on_b_now) = b.state.live.snapshot(id).await.expect("the call is live on node B");
    assert!(
        matches!(on_b_now, LiveRecording::RecordingManual { .. }),
        "node B records again"
    );
    tokio::time::sleep(Duration::from_millis(600)).await;
    let (status, body) = a
        .client()
        .snom_record(CAROL_MAC, sip_call.call_id())
        .await
        .expect("node A answers the phone");
    assert_eq!((status, body.trim()), (200, "Recording stopped"));
    let mut admin_events = admin.events().await.expect("admin subscribes on node A");
    sip_call.bye().await.expect("node B answers the BYE");
    wait_for(&mut admin_events, id, true, 10).await;
    let detail = carol_a.get_call(id).await.expect("the call on node A");
    assert_eq!(detail.call.state, CallState::Ended);
    assert_eq!(
        detail.recordings.len(),
        2,
        "the toggle's and the record key's recordings appear"
    );
    assert!(detail.recordings.iter().all(|r| r.state == RecordingState::Complete));
    assert!(
        detail.recordings[0].duration_ms > 500,
        "it holds the audio between start and stop: {} ms",
        detail.recordings[0].duration_ms
    );
    assert!(
        carol_a
            .live_calls()
            .await
            .expect("live")
            .iter()
            .all(|d| d.call.id != id),
        "the ended call is no longer live on node A"
    );
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn run_now_on_two_nodes_at_once_runs_each_dispatch_once() {
    let url = callrec_testkit::postgres::fresh_database().await;
    // One data directory for both: the stand-in for the shared bucket, so either node can
    // send any recording.
    let dir = tempfile::tempdir().expect("data dir");
    let a = TestServer::start_with_config(node_config(dir.path(), &url, "node-a", 15)).await;
    let b = TestServer::start_with_config(node_config(dir.path(), &url, "node-b", 15)).await;
    let admin_a = a.admin().await;
    let admin_b = b.admin().await;
    let cast = directory::build(&admin_a).await;
    let runs = tempfile::tempdir().expect("runs dir");
    let log = runs.path().join("runs");
    add_rule(
        &admin_a,
        rule(
            "support is recorded",
            RuleMode::Automatic,
            cast.support_role,
            RuleDirection::Both,
            RuleOrigin::Both,
            Dispatch::Script {
                script: format!("echo \"$CALLREC_DISPATCH_KEY\" >> '{}'\n", log.display()),
            },
        ),
    )
    .await;
    let ingest = Client::new(&a.url).expect("url");
    for i in 0..4 {
        let c = call(&format!("run-{i}@pbx"), chrono::Utc::now(), "+4930999000", "201");
        ingest
            .ingest_bytes(INGEST_TOKEN, &c, wav::stereo_ulaw(0.5))
            .await
            .expect("the upload is accepted");
    }
    let (ra, rb) = tokio::join!(admin_a.run_dispatch(), admin_b.run_dispatch());
    let (ra, rb) = (ra.expect("run on A"), rb.expect("run on B"));
    assert_eq!(
        ra.sent + rb.sent,
        4,
        "four dispatches sent between the two runs: {ra:?} {rb:?}"
    );
    let text = std::fs::read_to_string(&log).expect("the script ran");
    let mut keys: Vec<&str> = text.lines().collect();
    assert_eq!(keys.len(), 4, "the script ran once per dispatch: {keys:?}");
    keys.dedup();
    assert_eq!(keys.len(), 4, "each dispatch key once");
    a.stop().await;
    b.stop().await;
}

const CHILD_ENV: &str = "CALLREC_NODES_CHILD";

/// Not a test on its own: with [`CHILD_ENV`] (`url|data dir|node|lease`, and `|S3 endpoint|
/// prefix` for object storage) set it runs a node until killed.
#[test]
fn child_node() {
    let Ok(spec) = std::env::var(CHILD_ENV) else { return };
    let parts: Vec<&str> = spec.split('|').collect();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async move {
        let mut cfg = node_config(
            Path::new(parts[1]),
            parts[0],
            parts[2],
            parts[3].parse().expect("lease"),
        );
        if let [_, _, _, _, endpoint, prefix] = parts[..] {
            crate::object_storage::use_s3_at(&mut cfg, endpoint, prefix);
        }
        let server = TestServer::start_with_config(cfg).await;
        let mut out = std::io::stdout();
        writeln!(out, "READY {} {}", server.url, server.sip).expect("stdout");
        out.flush().expect("stdout");
        std::future::pending::<()>().await;
    });
}

/// Starts node `name` as its own process (see [`child_node`]); returns it and its SIP address.
async fn spawn_node(url: &str, dir: &Path, name: &str, lease: u32) -> (std::process::Child, SocketAddr) {
    spawn_node_spec(format!("{url}|{}|{name}|{lease}", dir.display())).await
}

/// [`spawn_node`] with the child's whole spec (see [`child_node`]).
async fn spawn_node_spec(spec: String) -> (std::process::Child, SocketAddr) {
    use std::io::BufRead;
    let exe = std::env::current_exe().expect("the test binary");
    let mut child = std::process::Command::new(exe)
        .args(["--exact", "nodes::child_node", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, spec)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("the node starts");
    let stdout = child.stdout.take().expect("stdout");
    let ready = tokio::task::spawn_blocking(move || {
        let mut lines = std::io::BufReader::new(stdout).lines();
        lines.find_map(|l| l.ok()?.split_once("READY ").map(|(_, rest)| rest.to_owned()))
    })
    .await
    .expect("task")
    .expect("the node reports READY");
    let sip = ready
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("the node's SIP address");
    (child, sip)
}

/// Every `.json` file under `dir`, but for the upload queue's notes (`outbox/`).
fn json_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = callrec_tests::files_under(dir, "json");
    files.retain(|p| !p.starts_with(dir.join("outbox")));
    files
}

#[tokio::test]
async fn a_killed_node_s_calls_end_after_the_lease_and_its_recording_is_repaired_at_restart() {
    let url = callrec_testkit::postgres::fresh_database().await;
    let a_dir = tempfile::tempdir().expect("data dir");
    let a = TestServer::start_with_config(node_config(a_dir.path(), &url, "node-a", 2)).await;
    let admin = a.admin().await;
    let mut events = admin.events().await.expect("admin subscribes on node A");

    let b_dir = tempfile::tempdir().expect("data dir");
    let (mut child, sip) = spawn_node(&url, b_dir.path(), "node-b", 2).await;

    let sim = Sim::connect(sip, Transport::Udp).await.expect("sim");
    let sip_call = sim.call().mon_mode("force").invite().await.expect("node B answers");
    let id = call_id(&a, sip_call.call_id()).await;
    wait_for(&mut events, id, false, 10).await;
    // Let a second or more of audio reach node B's disk, then kill it mid-call.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    child.kill().expect("SIGKILL node B");
    let _ = child.wait();
    drop(sip_call);

    wait_for(&mut events, id, true, 30).await;
    let detail = admin.get_call(id).await.expect("the call on node A");
    assert_eq!(detail.call.state, CallState::Ended, "node A ended node B's call");
    assert!(
        admin.live_calls().await.expect("live").iter().all(|d| d.call.id != id),
        "and it is no longer live"
    );
    assert_eq!(detail.recordings.len(), 1);
    assert_eq!(
        detail.recordings[0].state,
        RecordingState::Recording,
        "the recording waits for node B's spool"
    );
    let archived = eventually(10, "node A archives the ended call's journal JSON", || async {
        json_files(a_dir.path()).into_iter().next()
    })
    .await;
    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&archived).expect("read the journal JSON")).expect("JSON");
    assert_eq!(
        doc["call"]["state"], "ended",
        "the archived journal says the call ended: {doc}"
    );

    let b = TestServer::start_with_config(node_config(b_dir.path(), &url, "node-b", 2)).await;
    let rec = eventually(10, "the recording is repaired", || async {
        let r = admin.get_call(id).await.ok()?.recordings.into_iter().next()?;
        (r.state == RecordingState::Complete).then_some(r)
    })
    .await;
    assert!(
        rec.duration_ms >= 1000,
        "node B repaired its recording: {} ms",
        rec.duration_ms
    );
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn a_node_pointed_at_an_unreachable_database_fails_with_one_line() {
    let port = callrec_testkit::free_port().expect("a free port");
    let dir = tempfile::tempdir().expect("data dir");
    let mut cfg = test_config(dir.path());
    cfg.database_url = Some(DatabaseUrl::new(format!(
        "postgres://callrec:pw@127.0.0.1:{port}/callrec"
    )));
    let e = match callrec_server::Server::bind(cfg).await {
        Ok(_) => panic!("no database listens there"),
        Err(e) => format!("{e:#}"),
    };
    assert!(!e.contains('\n'), "one line: {e}");
    assert!(e.contains("cannot open the database"), "says what failed: {e}");
    assert!(e.contains("refused"), "and why, not only that a pool timed out: {e}");
    assert!(!e.contains(":pw@"), "the password stays out of it: {e}");
}

#[tokio::test]
async fn a_node_restarted_within_its_lease_repairs_its_calls_and_tells_the_other_nodes_and_meanwhile_actions_time_out()
{
    let url = callrec_testkit::postgres::fresh_database().await;
    let a_dir = tempfile::tempdir().expect("data dir");
    // A lease far longer than the test: only node B's own repair can end its call.
    let a = TestServer::start_with_config(node_config(a_dir.path(), &url, "node-a", 600)).await;
    let admin = a.admin().await;
    let mut events = admin.events().await.expect("admin subscribes on node A");
    let b_dir = tempfile::tempdir().expect("data dir");
    let (mut child, sip) = spawn_node(&url, b_dir.path(), "node-b", 600).await;
    let sim = Sim::connect(sip, Transport::Udp).await.expect("sim");
    let sip_call = sim.call().mon_mode("force").invite().await.expect("node B answers");
    let id = call_id(&a, sip_call.call_id()).await;
    wait_for(&mut events, id, false, 10).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    child.kill().expect("SIGKILL node B");
    let _ = child.wait();
    drop(sip_call);
    assert!(
        admin.live_calls().await.expect("live").iter().any(|d| d.call.id == id),
        "within the lease node A still shows node B's call"
    );
    let e = admin
        .set_recording(id, RecordingAction::Start)
        .await
        .expect_err("nobody holds the call's media to act on it");
    assert_eq!(
        (e.status(), e.code()),
        (Some(503), Some(ErrorCode::NodeUnavailable)),
        "a dead node's call answers a clear error in time: {e}"
    );

    let b = TestServer::start_with_config(node_config(b_dir.path(), &url, "node-b", 600)).await;
    wait_for(&mut events, id, true, 10).await;
    let detail = admin.get_call(id).await.expect("the call on node A");
    assert_eq!(detail.call.state, CallState::Ended, "node B's repair closed its call");
    assert_eq!(detail.recordings.len(), 1);
    assert_eq!(
        detail.recordings[0].state,
        RecordingState::Complete,
        "and its recording"
    );
    assert!(
        admin.live_calls().await.expect("live").iter().all(|d| d.call.id != id),
        "node A no longer shows it live"
    );
    a.stop().await;
    b.stop().await;
}
