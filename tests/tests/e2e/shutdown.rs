//! End-to-end, issue #13.1 and #13.2: the server as its own process, stopped by real signals.
//!
//! - SIGTERM while a push stream, a half-sent request and an idle connection are attached and
//!   a SIPREC call is recording: the process exits by itself within its grace period, and
//!   nothing is left for crash repair — the recording is finished, its header matches its
//!   file, the call is ended.
//! - SIGKILL with a recorded call, a `deny` call and a manual call nobody recorded, then a
//!   restart after some downtime: every call is closed, at the moment the server was last
//!   known alive and not at the restart.
//!
//! The child process is this test binary re-run with [`CHILD_ENV`] set: it runs the server
//! library exactly as `callrec-server serve` does (bind, then serve until Ctrl-C or SIGTERM).

use std::io::{BufRead, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use callrec_media::wav::{WavInfo, MAX_HEADER_LEN};
use callrec_server::Server;
use callrec_sim::{Sim, Transport};
use callrec_store::Store;
use callrec_tests::{test_config, ADMIN_PASSWORD};
use callrec_types::calls::{CallState, RecordingState};
use chrono::{DateTime, Utc};
use rustix::process::{kill_process, Pid, Signal};

/// The variable that turns this test binary into a server process (it holds the data dir).
const CHILD_ENV: &str = "CALLREC_SHUTDOWN_CHILD_DATA_DIR";
/// The child's shutdown grace period.
const GRACE_SECS: u32 = 3;

/// Not a test on its own: with [`CHILD_ENV`] set it serves until a signal stops it.
#[test]
fn shutdown_child_server() {
    let Some(dir) = std::env::var_os(CHILD_ENV) else { return };
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async move {
        let mut cfg = test_config(Path::new(&dir));
        cfg.shutdown_grace_secs = GRACE_SECS;
        let server = Server::bind(cfg).await.expect("the server binds");
        let mut out = std::io::stdout();
        // Straight to fd 1: the test harness captures `println!` even in a child.
        writeln!(out, "READY {} {}", server.http_addr, server.sip_addr).expect("stdout");
        out.flush().expect("stdout");
        server
            .run(callrec_server::shutdown_signal())
            .await
            .expect("the server stops cleanly");
        writeln!(out, "STOPPED").expect("stdout");
    });
    rt.shutdown_timeout(Duration::from_secs(1));
}

struct Process {
    child: Child,
    http: SocketAddr,
    sip: SocketAddr,
    stdout: std::sync::mpsc::Receiver<String>,
}

impl Process {
    fn start(dir: &Path) -> Process {
        let exe = std::env::current_exe().expect("the test binary");
        let mut child = Command::new(exe)
            .args([
                "--exact",
                "shutdown::shutdown_child_server",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the server process starts");
        let (tx, rx) = std::sync::mpsc::channel();
        let stdout = child.stdout.take().expect("stdout");
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        // The harness prints "test shutdown::shutdown_child_server ... " before it on the same line.
        let ready = loop {
            let line = rx
                .recv_timeout(Duration::from_secs(60))
                .expect("the child server reports READY");
            if let Some((_, rest)) = line.split_once("READY ") {
                break rest.to_owned();
            }
        };
        let mut parts = ready
            .split_whitespace()
            .map(|s| s.parse::<SocketAddr>().expect("an address"));
        let (http, sip) = (parts.next().expect("http"), parts.next().expect("sip"));
        Process {
            child,
            http,
            sip,
            stdout: rx,
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.http)
    }

    fn signal(&self, sig: Signal) {
        let pid = i32::try_from(self.child.id())
            .ok()
            .and_then(Pid::from_raw)
            .expect("a child's pid is a positive i32");
        kill_process(pid, sig).expect("the signal is delivered");
    }

    /// Waits up to `limit` for the process to exit; its exit status, or `None` if it still runs.
    fn wait_for_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn token(url: &str) -> String {
    let mut c = callrec_client::Client::new(url).expect("a URL");
    c.login("admin", ADMIN_PASSWORD).await.expect("the admin logs in");
    c.token().expect("a token").to_owned()
}

async fn store(dir: &Path) -> std::sync::Arc<dyn Store> {
    callrec_store::open(&test_config(dir).database_url())
        .await
        .expect("the database opens")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue13_sigterm_with_clients_attached_finalises_every_recording_and_exits() {
    let dir = tempfile::tempdir().expect("data dir");
    let mut server = Process::start(dir.path());
    let token = token(&server.url()).await;

    let sim = Sim::connect(server.sip, Transport::Udp).await.expect("sim");
    let call = sim
        .call()
        .mon_mode("force")
        .invite()
        .await
        .expect("the recorder answers");
    let sip_call_id = call.call_id().to_owned();

    // A desktop's push stream, read up to its first event (the live call).
    let mut push = TcpStream::connect(server.http).expect("connect");
    write!(
        push,
        "GET /api/v1/events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\nAuthorization: Bearer {token}\r\n\r\n"
    )
    .expect("send");
    push.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&seen).contains("event: call") {
        let n = push.read(&mut buf).expect("the push stream sends the live call");
        assert!(n > 0, "the push stream stays open while the server runs");
        seen.extend_from_slice(&buf[..n]);
    }
    // A request cut off in its head, and a connection that never says anything.
    let mut half = TcpStream::connect(server.http).expect("connect");
    half.write_all(b"GET /api/v1/journal HTTP/1.1\r\nHost: x\r\n")
        .expect("send");
    let _idle = TcpStream::connect(server.http).expect("connect");

    tokio::time::sleep(Duration::from_millis(2500)).await;
    server.signal(Signal::TERM);
    let status = tokio::task::block_in_place(|| server.wait_for_exit(Duration::from_secs(u64::from(GRACE_SECS) + 10)));
    let status = status.unwrap_or_else(|| {
        panic!("SIGTERM with clients attached: the server must exit within its grace period ({GRACE_SECS} s) plus slack, and it still runs")
    });
    assert!(status.success(), "the server exits cleanly: {status}");
    let said: Vec<String> = server.stdout.try_iter().collect();
    assert!(
        said.iter().any(|l| l.contains("STOPPED")),
        "Server::run returned (not killed): {said:?}"
    );
    // The push stream ended rather than being cut by the process exit alone: the chunked
    // body is terminated.
    push.set_read_timeout(Some(Duration::from_secs(2))).expect("timeout");
    let mut rest = Vec::new();
    let _ = push.read_to_end(&mut rest);
    seen.extend_from_slice(&rest);
    assert!(
        String::from_utf8_lossy(&seen).ends_with("0\r\n\r\n"),
        "the push stream was ended by the server (a closed chunked body)"
    );
    drop(call);

    let store = store(dir.path()).await;
    assert!(
        store.unfinished_recordings().await.expect("store").is_empty(),
        "no recording is left for crash repair"
    );
    assert!(
        store.unfinished_calls().await.expect("store").is_empty(),
        "no call is left open"
    );
    let id = store
        .call_by_sip_id(&sip_call_id)
        .await
        .expect("store")
        .expect("the call is in the journal");
    let (call, _) = store.get_call(id).await.expect("the call");
    assert_eq!(call.state, CallState::Ended, "the call was ended at shutdown");
    let recs = store.list_recordings(id).await.expect("recordings");
    assert_eq!(recs.len(), 1, "one recording");
    assert_eq!(recs[0].state, RecordingState::Complete, "finished, not cut off");
    assert!(
        recs[0].duration_ms >= 2000,
        "the recording holds the ~2.5 s recorded before SIGTERM: {} ms",
        recs[0].duration_ms
    );
    let stored = store.get_recording(recs[0].id).await.expect("the recording");
    let path = dir.path().join(&stored.rel_path);
    let bytes = std::fs::read(&path).expect("the file");
    let info = WavInfo::parse_with_file_len(&bytes[..MAX_HEADER_LEN.min(bytes.len())], bytes.len() as u64)
        .expect("a WAV header");
    assert_eq!(
        u64::from(info.declared_data_len),
        bytes.len() as u64 - info.data_offset,
        "the header's data size is the file's audio, to the byte"
    );
    assert_eq!(
        info.duration_ms() as i64,
        recs[0].duration_ms,
        "the header, the file and the row agree"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue13_after_sigkill_every_live_call_is_closed_when_the_server_was_last_alive() {
    let dir = tempfile::tempdir().expect("data dir");
    let mut server = Process::start(dir.path());
    let sim = Sim::connect(server.sip, Transport::Udp).await.expect("sim");
    let mut ids = Vec::new();
    let mut calls = Vec::new();
    for mode in ["force", "deny", "manual"] {
        let call = sim
            .call()
            .mon_mode(mode)
            .invite()
            .await
            .unwrap_or_else(|e| panic!("the recorder answers a {mode} call: {e}"));
        ids.push((mode, call.call_id().to_owned()));
        calls.push(call);
    }
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let killed_at: DateTime<Utc> = Utc::now();
    server.signal(Signal::KILL);
    assert!(
        tokio::task::block_in_place(|| server.wait_for_exit(Duration::from_secs(10))).is_some(),
        "SIGKILL ends the process"
    );
    drop(calls);
    drop(sim);
    // Downtime that must not count as call length.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let restarted_at = Utc::now();

    let server = Process::start(dir.path());
    let store = store(dir.path()).await;
    assert!(
        store.unfinished_calls().await.expect("store").is_empty(),
        "start-up closes every call that was live, recorded or not"
    );
    for (mode, sip_call_id) in &ids {
        let id = store
            .call_by_sip_id(sip_call_id)
            .await
            .expect("store")
            .unwrap_or_else(|| panic!("the {mode} call is in the journal"));
        let (call, _) = store.get_call(id).await.expect("the call");
        assert_eq!(call.state, CallState::Ended, "the {mode} call is ended");
        let ended = call.ended_at.expect("an end time");
        assert!(
            ended < restarted_at,
            "the {mode} call ends before the restart (downtime is not call length): ended {ended}, restarted {restarted_at}"
        );
        // The heartbeat is written every second.
        let early = killed_at - chrono::Duration::milliseconds(1500);
        let late = killed_at + chrono::Duration::milliseconds(500);
        assert!(
            ended >= early && ended <= late,
            "the {mode} call ends when the server was last alive: ended {ended}, killed {killed_at}"
        );
        // The call's journal JSON on disk says the same.
        let journal = dir.path().join(callrec_server::files::Files::journal_rel_path(
            call.started_at,
            &call.call_key,
        ));
        let doc: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&journal).expect("the journal JSON")).expect("JSON");
        assert_eq!(doc["call"]["state"], "ended", "the {mode} call's journal says ended");
    }
    let recorded = store
        .call_by_sip_id(&ids[0].1)
        .await
        .expect("store")
        .expect("the force call");
    let recs = store.list_recordings(recorded).await.expect("recordings");
    assert_eq!(recs.len(), 1, "the force call's recording is kept");
    assert_eq!(recs[0].state, RecordingState::Complete, "and repaired");
    drop(server);
}
