//! "This computer": the bundled `callrec-server` started as a child process — never linked —
//! with `serve --demo` on its embedded defaults (SQLite and a folder under the app's data
//! directory), watched until `/healthz` answers, and stopped (SIGTERM, then kill) when the
//! app exits. Its output is kept (the last lines) because demo mode prints the demo logins.

use crate::error::{AppError, AppResult, ErrorCode};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How many lines of the server's output are kept.
const LOG_LINES: usize = 200;
/// How long the server may take to answer `/healthz` after start.
const START_TIMEOUT: Duration = Duration::from_secs(20);
/// How long a SIGTERM gets before the kill.
const STOP_GRACE: Duration = Duration::from_secs(3);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalServerStatus {
    pub running: bool,
    /// `http://127.0.0.1:PORT` while running.
    pub url: Option<String>,
    pub data_dir: String,
    /// The last lines the server printed (demo logins among them).
    pub log: Vec<String>,
}

struct Running {
    child: Child,
    url: String,
}

/// The child server. Started on demand, at most one.
pub struct LocalServer {
    data_dir: PathBuf,
    running: Mutex<Option<Running>>,
    log: Arc<Mutex<VecDeque<String>>>,
}

impl LocalServer {
    pub fn new(data_dir: PathBuf) -> LocalServer {
        LocalServer {
            data_dir,
            running: Mutex::new(None),
            log: Arc::new(Mutex::new(VecDeque::new())),
        }
    }

    pub fn status(&self) -> LocalServerStatus {
        let mut running = self.running.lock().expect("local server lock");
        // Notice a server that died by itself.
        if let Some(r) = running.as_mut() {
            if let Ok(Some(_)) = r.child.try_wait() {
                *running = None;
            }
        }
        LocalServerStatus {
            running: running.is_some(),
            url: running.as_ref().map(|r| r.url.clone()),
            data_dir: self.data_dir.display().to_string(),
            log: self.log.lock().expect("log lock").iter().cloned().collect(),
        }
    }

    /// Starts the server unless it runs already; returns its URL once it answers.
    pub async fn start(&self) -> AppResult<String> {
        if let Some(url) = self.status().url {
            return Ok(url);
        }
        let binary = find_server_binary().ok_or_else(|| {
            AppError::failed(
                "The bundled callrec-server program was not found next to this app. \
                 Install it, or set CALLREC_SERVER_BIN to its path.",
            )
        })?;
        let port = free_port()?;
        // SIP on a free port too: 5060 may be taken, and the demo calls find the bound one.
        let sip_port = free_port()?;
        let url = format!("http://127.0.0.1:{port}");
        std::fs::create_dir_all(&self.data_dir)
            .map_err(|e| AppError::failed(format!("Cannot create {}: {e}.", self.data_dir.display())))?;
        let mut command = Command::new(&binary);
        stop_with_parent(&mut command);
        let mut child = command
            .arg("serve")
            .arg("--demo")
            .arg("--data-dir")
            .arg(&self.data_dir)
            .arg("--http")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--sip")
            .arg(format!("127.0.0.1:{sip_port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| AppError::failed(format!("Cannot start {}: {e}.", binary.display())))?;
        self.log.lock().expect("log lock").clear();
        if let Some(out) = child.stdout.take() {
            keep_lines(out, self.log.clone());
        }
        if let Some(err) = child.stderr.take() {
            keep_lines(err, self.log.clone());
        }
        *self.running.lock().expect("local server lock") = Some(Running {
            child,
            url: url.clone(),
        });
        self.wait_until_ready(&url).await?;
        Ok(url)
    }

    async fn wait_until_ready(&self, url: &str) -> AppResult<()> {
        let client = callrec_client::Client::new(url)?;
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Ok(true) = client.healthz().await {
                return Ok(());
            }
            if !self.status().running {
                let last = self.status().log.into_iter().rev().take(3).collect::<Vec<_>>();
                let last: Vec<_> = last.into_iter().rev().collect();
                return Err(AppError::failed(format!(
                    "The local server stopped right after starting: {}",
                    last.join(" / ")
                )));
            }
            if Instant::now() > deadline {
                self.stop();
                return Err(AppError::new(
                    ErrorCode::Unreachable,
                    "The local server did not answer within 20 seconds.",
                ));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stops the server: SIGTERM (it finishes open recordings), then a kill after 3 s.
    pub fn stop(&self) {
        let Some(mut r) = self.running.lock().expect("local server lock").take() else {
            return;
        };
        terminate(&r.child);
        let deadline = Instant::now() + STOP_GRACE;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = r.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = r.child.kill();
        let _ = r.child.wait();
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }
}

impl Drop for LocalServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// If the app dies without its exit handler (killed, crashed), the kernel sends the server
/// SIGTERM. Linux delivers it when the spawning *thread* ends: the server is started from the
/// async runtime's worker threads, which live as long as the app.
#[cfg(target_os = "linux")]
fn stop_with_parent(command: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: runs in the forked child before exec; prctl(2) is async-signal-safe and touches
    // no memory of the parent.
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

#[cfg(not(target_os = "linux"))]
fn stop_with_parent(_command: &mut Command) {}

#[cfg(unix)]
fn terminate(child: &Child) {
    // SAFETY: kill(2) with a pid we own and a valid signal number has no memory effects.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGTERM);
    }
}

#[cfg(not(unix))]
fn terminate(_child: &Child) {}

/// The server program: `CALLREC_SERVER_BIN`, else beside this executable (the bundle, and
/// `target/<profile>/` in development), else on `PATH`.
pub fn find_server_binary() -> Option<PathBuf> {
    let name = format!("callrec-server{}", std::env::consts::EXE_SUFFIX);
    if let Some(p) = std::env::var_os("CALLREC_SERVER_BIN").map(PathBuf::from) {
        return p.is_file().then_some(p);
    }
    let beside = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|d| d.join(&name)));
    if let Some(p) = beside.filter(|p| p.is_file()) {
        return Some(p);
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(&name))
            .find(|p| p.is_file())
    })
}

/// A port free right now on loopback (the server binds it a moment later).
fn free_port() -> AppResult<u16> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| AppError::failed(format!("No free local port for the server: {e}.")))
}

fn keep_lines(stream: impl std::io::Read + Send + 'static, log: Arc<Mutex<VecDeque<String>>>) {
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            let mut log = log.lock().expect("log lock");
            if log.len() == LOG_LINES {
                log.pop_front();
            }
            log.push_back(line);
        }
    });
}
