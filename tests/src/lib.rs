//! The end-to-end harness: `TestServer` starts the real `callrec-server` in-process on
//! 127.0.0.1:0 with a fresh data directory (a real SQLite file, real files), hands out
//! `callrec-client`s, and stops it. `directory` builds the standard cast (two teams, a
//! supervisor, three agents); `wav` makes test audio with a distinct signal per channel.

pub mod directory;
pub mod import;
pub mod upload;
pub mod wav;

use callrec_client::Client;
use callrec_server::clock::{Clock, ManualClock, SystemClock};
use callrec_server::config::{Config, Secret};
use callrec_server::state::{AppState, EVENT_BUFFER};
use callrec_server::Server;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The value of the unlabelled metric `name` in `/metrics` text; panics when it is not there.
pub fn metric(text: &str, name: &str) -> i64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
        .unwrap_or_else(|| panic!("metric {name} is exported:\n{text}"))
}

pub const ADMIN_PASSWORD: &str = "admin-password-for-tests";
pub const INGEST_TOKEN: &str = "ingest-token-for-tests-0123456789";

pub struct TestServer {
    pub addr: SocketAddr,
    /// The SIP (SIPREC) address, UDP and TCP.
    pub sip: SocketAddr,
    pub url: String,
    pub state: AppState,
    /// Set when started with `start_with_manual_clock`.
    pub clock: Option<Arc<ManualClock>>,
    dir: Option<tempfile::TempDir>,
    data_dir: PathBuf,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

/// The config every test server starts from: a bootstrap admin and an ingest token.
pub fn test_config(data_dir: &Path) -> Config {
    let mut c = Config::for_data_dir(data_dir.to_path_buf());
    c.bootstrap_admin_password = Some(Secret::new(ADMIN_PASSWORD));
    c.ingest_token = Some(Secret::new(INGEST_TOKEN));
    c
}

impl TestServer {
    pub async fn start() -> TestServer {
        Self::start_with(|_| {}).await
    }

    /// Starts with a config changed by `tweak` (upload limits, timeouts, …).
    pub async fn start_with(tweak: impl FnOnce(&mut Config)) -> TestServer {
        let dir = tempfile::tempdir().expect("a temp dir for the data");
        let mut cfg = test_config(dir.path());
        tweak(&mut cfg);
        Self::start_in(Some(dir), cfg, Arc::new(SystemClock), None).await
    }

    /// Starts with the push streams keeping only `event_buffer` events per subscriber, so a
    /// test can make one fall behind without sending thousands.
    pub async fn start_with_event_buffer(event_buffer: usize) -> TestServer {
        let dir = tempfile::tempdir().expect("a temp dir for the data");
        let cfg = test_config(dir.path());
        Self::start_in_with(Some(dir), cfg, Arc::new(SystemClock), None, event_buffer).await
    }

    /// Starts with a clock the test moves (`server.clock.as_ref().unwrap().advance(..)`).
    pub async fn start_with_manual_clock(at: chrono::DateTime<chrono::Utc>) -> TestServer {
        let dir = tempfile::tempdir().expect("a temp dir for the data");
        let cfg = test_config(dir.path());
        let clock = Arc::new(ManualClock::new(at));
        Self::start_in(Some(dir), cfg, clock.clone(), Some(clock)).await
    }

    /// Starts with `cfg` as given; the caller owns its data directory (a file system the test
    /// mounted, say).
    pub async fn start_with_config(cfg: Config) -> TestServer {
        Self::start_in(None, cfg, Arc::new(SystemClock), None).await
    }

    /// Starts on an existing data directory (to test a restart); the caller owns the dir.
    pub async fn start_on(data_dir: &Path) -> TestServer {
        Self::start_in(None, test_config(data_dir), Arc::new(SystemClock), None).await
    }

    async fn start_in(
        dir: Option<tempfile::TempDir>,
        cfg: Config,
        clock: Arc<dyn Clock>,
        manual: Option<Arc<ManualClock>>,
    ) -> TestServer {
        Self::start_in_with(dir, cfg, clock, manual, EVENT_BUFFER).await
    }

    async fn start_in_with(
        dir: Option<tempfile::TempDir>,
        cfg: Config,
        clock: Arc<dyn Clock>,
        manual: Option<Arc<ManualClock>>,
        event_buffer: usize,
    ) -> TestServer {
        let data_dir = cfg.data_dir.clone();
        let server = Server::bind_with(cfg, clock, event_buffer)
            .await
            .expect("the server binds and opens its store");
        let addr = server.http_addr;
        let sip = server.sip_addr;
        let state = server.state().clone();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(server.run(async move {
            let _ = rx.await;
        }));
        TestServer {
            addr,
            sip,
            url: format!("http://{addr}"),
            state,
            clock: manual,
            dir,
            data_dir,
            shutdown: Some(tx),
            task: Some(task),
        }
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// A client with no session.
    pub fn client(&self) -> Client {
        Client::new(&self.url).expect("the server URL is valid")
    }

    /// A client logged in as `username`.
    pub async fn login(&self, username: &str, password: &str) -> Client {
        let mut c = self.client();
        c.login(username, password)
            .await
            .unwrap_or_else(|e| panic!("login as {username} must work: {e}"));
        c
    }

    pub async fn admin(&self) -> Client {
        self.login("admin", ADMIN_PASSWORD).await
    }

    /// Stops serving and waits for the server task; keeps the data directory until drop.
    pub async fn stop(mut self) -> Option<tempfile::TempDir> {
        self.shutdown_now().await;
        self.dir.take()
    }

    async fn shutdown_now(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            // SSE streams keep connections open; graceful shutdown waits for them, so bound it.
            let _ = tokio::time::timeout(std::time::Duration::from_secs(5), t).await;
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}

/// Every file under `dir` (recursively) whose name ends in `.{ext}`; none when `dir` is missing.
pub fn files_under(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                todo.push(path);
            } else if path.extension().is_some_and(|e| e == ext) {
                out.push(path);
            }
        }
    }
    out
}
