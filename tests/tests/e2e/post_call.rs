//! What the after-the-call tests (`dispatch.rs`, `retention.rs`) share: a server on a manual
//! clock with config tweaks that can be stopped, "crashed" and started again on the same data
//! directory and clock; a real SMTP server (`tests/support/smtp_sink.py`, Debian's
//! python3-aiosmtpd) that writes what it receives to a directory; and small steps used by
//! every test (ingest a recording, configure SMTP, run the job, find a dispatch target).

use callrec_client::Client;
use callrec_server::clock::{Clock, ManualClock};
use callrec_server::config::Config;
use callrec_server::state::AppState;
use callrec_server::Server;
use callrec_tests::directory::{self, Cast};
use callrec_tests::{test_config, ADMIN_PASSWORD, INGEST_TOKEN};
use callrec_types::calls::DispatchTarget;
use callrec_types::wire::{IngestCall, IngestResponse, RunReport, SettingsPatch, SmtpPatch, SmtpSecurity};
use callrec_types::RecordingId;
use chrono::{DateTime, Local, TimeZone, Utc};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};

/// A server on a manual clock.
pub struct Srv {
    pub url: String,
    pub state: AppState,
    pub clock: Arc<ManualClock>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl Srv {
    pub async fn start(data_dir: &Path, clock: Arc<ManualClock>, tweak: impl FnOnce(&mut Config)) -> Srv {
        let mut cfg = test_config(data_dir);
        tweak(&mut cfg);
        let server = Server::bind_with_clock(cfg, clock.clone())
            .await
            .expect("the server binds and opens its store");
        let url = format!("http://{}", server.http_addr);
        let state = server.state().clone();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(server.run(async move {
            let _ = rx.await;
        }));
        Srv {
            url,
            state,
            clock,
            shutdown: Some(tx),
            task: Some(task),
        }
    }

    /// Moves the server's clock to `at` and returns once the scheduler has looked at that
    /// time — having run the job if one was due — as it publishes (no sleeping).
    pub async fn set_clock(&self, at: DateTime<Utc>) {
        self.clock.set(at);
        let mut checked = self.state.scheduler_checked.subscribe();
        tokio::time::timeout(
            std::time::Duration::from_secs(30),
            checked.wait_for(|t| t.is_some_and(|t| t >= at)),
        )
        .await
        .unwrap_or_else(|_| panic!("the scheduler did not look at {at} within 30 s"))
        .expect("the scheduler's state lives as long as the server");
    }

    pub async fn admin(&self) -> Client {
        let mut c = Client::new(&self.url).expect("a valid URL");
        c.login("admin", ADMIN_PASSWORD).await.expect("the admin logs in");
        c
    }

    pub async fn login(&self, user: &str) -> Client {
        let mut c = Client::new(&self.url).expect("a valid URL");
        c.login(user, directory::PASSWORD)
            .await
            .unwrap_or_else(|e| panic!("{user} logs in: {e}"));
        c
    }

    /// Kills the server where it stands — no graceful shutdown, tasks dropped mid-flight — as a
    /// crash would (the store keeps what was committed, nothing else).
    pub async fn crash(mut self) {
        self.shutdown.take();
        if let Some(t) = self.task.take() {
            t.abort();
            let _ = t.await;
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }
}

impl Drop for Srv {
    fn drop(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}

/// A fresh server with the standard cast, its admin client and its data directory.
pub struct World {
    pub dir: tempfile::TempDir,
    pub srv: Srv,
    pub admin: Client,
    pub cast: Cast,
}

pub async fn world(at: DateTime<Utc>, tweak: impl FnOnce(&mut Config)) -> World {
    let dir = tempfile::tempdir().expect("a temp dir for the data");
    let clock = Arc::new(ManualClock::new(at));
    let srv = Srv::start(dir.path(), clock, tweak).await;
    let admin = srv.admin().await;
    let cast = directory::build(&admin).await;
    World { dir, srv, admin, cast }
}

/// A local wall-clock time as UTC (the schedule is in local time).
pub fn local(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
    Local
        .with_ymd_and_hms(y, mo, d, h, mi, s)
        .single()
        .expect("an unambiguous local time")
        .with_timezone(&Utc)
}

/// The facts of an uploaded call: `caller` calls `callee` at `at`, one minute long.
pub fn call(id: &str, at: DateTime<Utc>, caller: &str, callee: &str) -> IngestCall {
    callrec_tests::upload::two_party(id, at, 2, 62, (caller, "Caller"), (callee, "Callee"))
}

/// Uploads `wav` for the call, as a PBX would.
pub async fn ingest(srv: &Srv, c: &IngestCall, wav: Vec<u8>) -> IngestResponse {
    Client::new(&srv.url)
        .expect("a valid URL")
        .ingest_bytes(INGEST_TOKEN, c, wav)
        .await
        .expect("the upload is accepted")
}

/// Points the server at an SMTP server on 127.0.0.1:`port`, plain, no login.
pub async fn use_smtp(admin: &Client, port: u16) {
    admin
        .update_settings(&SettingsPatch {
            smtp: Some(SmtpPatch {
                host: Some("127.0.0.1".into()),
                port: Some(port),
                security: Some(SmtpSecurity::None),
                from: Some("callrec@example.com".into()),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .expect("the SMTP settings are accepted");
}

/// `POST /api/v1/dispatch/run`, decoded.
pub async fn run_now(admin: &Client) -> RunReport {
    admin.run_dispatch().await.expect("run now works")
}

/// The dispatch targets of a recording.
pub async fn targets(admin: &Client, rec: RecordingId) -> Vec<DispatchTarget> {
    let mut v: Vec<DispatchTarget> = admin
        .list_dispatch()
        .await
        .expect("the queue lists")
        .into_iter()
        .filter(|t| t.recording_id == rec)
        .collect();
    v.sort_by_key(|t| t.id);
    v
}

pub async fn target(admin: &Client, rec: RecordingId) -> DispatchTarget {
    let v = targets(admin, rec).await;
    assert_eq!(v.len(), 1, "recording {rec} has one dispatch target: {v:?}");
    v.into_iter().next().expect("one")
}

/// Polls `check` until it returns `Some`, for at most `secs` seconds.
pub async fn eventually<T, F, Fut>(secs: u64, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what} did not happen within {secs} s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

// --- the SMTP server -------------------------------------------------------------------------

/// A Python that has aiosmtpd: `CALLREC_TEST_PYTHON`, else Debian's `/usr/bin/python3`
/// (python3-aiosmtpd installs there), else `python3` on the PATH.
pub fn python() -> PathBuf {
    let candidates: Vec<PathBuf> = std::env::var_os("CALLREC_TEST_PYTHON")
        .map(PathBuf::from)
        .into_iter()
        .chain([PathBuf::from("/usr/bin/python3"), PathBuf::from("python3")])
        .collect();
    for p in &candidates {
        let ok = std::process::Command::new(p)
            .args(["-c", "import aiosmtpd"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            return p.clone();
        }
    }
    panic!(
        "no Python with aiosmtpd found (tried {candidates:?}); install it with `apt-get install -y python3-aiosmtpd`"
    );
}

fn sink_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("support/smtp_sink.py")
}

/// One message as the SMTP server received it.
#[derive(Debug, Clone, Deserialize)]
pub struct Mail {
    pub mail_from: String,
    pub rcpt_tos: Vec<String>,
    pub message_id: Option<String>,
    pub dispatch_key: Option<String>,
    pub subject: Option<String>,
    pub text: String,
    pub attachments: Vec<MailPart>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct MailPart {
    pub filename: Option<String>,
    pub content_type: String,
    pub file: String,
}

/// The SMTP server process; killed when dropped.
pub struct Sink {
    child: tokio::process::Child,
    pub port: u16,
    pub dir: PathBuf,
}

impl Sink {
    /// Starts on `port` (0 = any free port), writing messages to `dir`.
    pub async fn start(dir: &Path, port: u16) -> Sink {
        let mut child = tokio::process::Command::new(python())
            .arg(sink_script())
            .arg("--dir")
            .arg(dir)
            .arg("--port")
            .arg(port.to_string())
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("the SMTP sink starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout).lines();
        let line = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
            .await
            .expect("the SMTP sink says its port within 20 s")
            .expect("its stdout is readable")
            .expect("it printed a line");
        let port = line
            .strip_prefix("PORT ")
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or_else(|| panic!("the SMTP sink printed {line:?}, not PORT <n>"));
        Sink {
            child,
            port,
            dir: dir.to_path_buf(),
        }
    }

    /// Stops the server: its port refuses connections afterwards.
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }

    /// Every message received so far, in order.
    pub fn messages(&self) -> Vec<Mail> {
        messages_in(&self.dir)
    }

    /// Waits until `n` messages have arrived and returns them.
    pub async fn wait_for(&self, n: usize) -> Vec<Mail> {
        let dir = self.dir.clone();
        eventually(20, &format!("{n} message(s) arriving"), || {
            let dir = dir.clone();
            async move {
                let m = messages_in(&dir);
                (m.len() >= n).then_some(m)
            }
        })
        .await
    }

    /// The decoded bytes of an attachment.
    pub fn attachment(&self, part: &MailPart) -> Vec<u8> {
        std::fs::read(self.dir.join(&part.file)).expect("the attachment file exists")
    }
}

/// The messages an SMTP sink wrote to `dir` (also after it stopped).
pub fn messages_in(dir: &Path) -> Vec<Mail> {
    let mut numbered: Vec<(u64, PathBuf)> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter_map(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    let n = name.strip_suffix(".json")?.parse::<u64>().ok()?;
                    Some((n, e.path()))
                })
                .collect()
        })
        .unwrap_or_default();
    numbered.sort();
    numbered
        .into_iter()
        .map(|(_, p)| {
            let bytes = std::fs::read(&p).expect("a message summary is readable");
            serde_json::from_slice(&bytes).expect("a message summary is JSON")
        })
        .collect()
}
