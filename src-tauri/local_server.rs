//! "This computer": the bundled `callrec-server` started as a child process — never linked —
//! with `serve --demo` on its embedded defaults (SQLite and a folder under the app's data
//! directory), watched until `/healthz` answers, and stopped (SIGTERM, then kill) when the
//! app exits. Its output is kept (the last lines, without terminal colours), and the sign-ins
//! it prints once (the demo users, the first admin password) are remembered across restarts in
//! a file beside its data (mode 0600), so the sign-in screen can always show them. If it dies,
//! the status says how, and [`LocalServer::start`] starts it again on the same data.

use crate::error::{AppError, AppResult, ErrorCode};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use ts_rs::TS;

/// How many lines of the server's output are kept.
const LOG_LINES: usize = 200;
/// How long the server may take to answer `/healthz` after start.
const START_TIMEOUT: Duration = Duration::from_secs(20);
/// How long a SIGTERM gets before the kill.
const STOP_GRACE: Duration = Duration::from_secs(3);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct LocalServerStatus {
    pub running: bool,
    /// `http://127.0.0.1:PORT` while running.
    pub url: Option<String>,
    pub data_dir: String,
    /// The last lines the server printed, without terminal colour codes.
    pub log: Vec<String>,
    /// How to sign in: the demo users and the first admin password, as the server printed
    /// them when it created them (remembered across restarts; empty until it did).
    pub sign_ins: Vec<String>,
    /// Why it is not running any more ("exit status: 1"), after it stopped by itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit: Option<String>,
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
    sign_ins: Arc<Mutex<SignIns>>,
    exit: Mutex<Option<String>>,
}

impl LocalServer {
    pub fn new(data_dir: PathBuf) -> LocalServer {
        let sign_ins = SignIns::load(sign_ins_path(&data_dir));
        LocalServer {
            data_dir,
            running: Mutex::new(None),
            log: Arc::new(Mutex::new(VecDeque::new())),
            sign_ins: Arc::new(Mutex::new(sign_ins)),
            exit: Mutex::new(None),
        }
    }

    pub fn status(&self) -> LocalServerStatus {
        let mut running = self.running.lock().expect("local server lock");
        // Notice a server that died by itself.
        if let Some(r) = running.as_mut() {
            if let Ok(Some(status)) = r.child.try_wait() {
                tracing::warn!(%status, "the local server stopped by itself");
                *self.exit.lock().expect("exit lock") = Some(status.to_string());
                *running = None;
            }
        }
        LocalServerStatus {
            running: running.is_some(),
            url: running.as_ref().map(|r| r.url.clone()),
            data_dir: self.data_dir.display().to_string(),
            log: self.log.lock().expect("log lock").iter().cloned().collect(),
            sign_ins: self.sign_ins.lock().expect("sign-ins lock").lines(),
            exit: if running.is_some() {
                None
            } else {
                self.exit.lock().expect("exit lock").clone()
            },
        }
    }

    /// Whether the server was started and has stopped since (crashed, killed).
    pub fn died(&self) -> bool {
        let status = self.status();
        !status.running && status.exit.is_some()
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
            // Plain text for the "Server output" box: no terminal colour codes.
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| AppError::failed(format!("Cannot start {}: {e}.", binary.display())))?;
        self.log.lock().expect("log lock").clear();
        *self.exit.lock().expect("exit lock") = None;
        if let Some(out) = child.stdout.take() {
            keep_lines(out, self.log.clone(), self.sign_ins.clone());
        }
        if let Some(err) = child.stderr.take() {
            keep_lines(err, self.log.clone(), self.sign_ins.clone());
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
#[allow(unsafe_code)] // `pre_exec`, below
fn stop_with_parent(command: &mut Command) {
    use rustix::process::{set_parent_process_death_signal, Signal};
    use std::os::unix::process::CommandExt;
    // `pre_exec` is unsafe because the closure runs in the forked child before exec, where
    // only async-signal-safe work is allowed; there is no safe way to run anything there.
    // SAFETY: the closure makes one prctl(2) system call (async-signal-safe), allocates
    // nothing and touches no memory of the parent.
    unsafe {
        command.pre_exec(|| Ok(set_parent_process_death_signal(Some(Signal::TERM))?));
    }
}

#[cfg(not(target_os = "linux"))]
fn stop_with_parent(_command: &mut Command) {}

#[cfg(unix)]
fn terminate(child: &Child) {
    use rustix::process::{kill_process, Pid, Signal};
    if let Some(pid) = i32::try_from(child.id()).ok().and_then(Pid::from_raw) {
        let _ = kill_process(pid, Signal::TERM);
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

fn keep_lines(
    stream: impl std::io::Read + Send + 'static,
    log: Arc<Mutex<VecDeque<String>>>,
    sign_ins: Arc<Mutex<SignIns>>,
) {
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            let line = strip_ansi(&line);
            sign_ins.lock().expect("sign-ins lock").see(&line);
            let mut log = log.lock().expect("log lock");
            if log.len() == LOG_LINES {
                log.pop_front();
            }
            log.push_back(line);
        }
    });
}

/// `line` without ANSI escape sequences (colours, cursor moves): `ESC [ … final-byte` and
/// two-byte `ESC x` forms.
pub fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\u{1b}' {
            out.push(c);
            continue;
        }
        match chars.next() {
            // CSI: parameters and intermediates up to a final byte in @..~.
            Some('[') => {
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
            // OSC: up to BEL or ESC \.
            Some(']') => {
                while let Some(c) = chars.next() {
                    if c == '\u{7}' || (c == '\u{1b}' && chars.next_if_eq(&'\\').is_some()) {
                        break;
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// Where the sign-ins are remembered: beside the server's data directory.
fn sign_ins_path(data_dir: &Path) -> PathBuf {
    data_dir.with_file_name("local-server-sign-ins.json")
}

/// The sign-ins the local server printed: the demo block (`callrec demo: … Log in …` and
/// the indented lines after it) and the bootstrap admin's password.
#[derive(Debug, Default, Serialize, Deserialize)]
struct SignIns {
    demo: Vec<String>,
    admin: Option<String>,
    #[serde(skip)]
    path: PathBuf,
    /// Reading the indented lines of a demo block.
    #[serde(skip)]
    in_demo: bool,
}

impl SignIns {
    fn load(path: PathBuf) -> SignIns {
        let mut s: SignIns = std::fs::read(&path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        s.path = path;
        s
    }

    fn lines(&self) -> Vec<String> {
        self.demo.iter().chain(self.admin.iter()).cloned().collect()
    }

    /// Takes one line of output; saves when it changed what is known.
    fn see(&mut self, line: &str) {
        let changed = if let Some(rest) = line.strip_prefix("callrec demo:").filter(|r| r.contains("Log in")) {
            self.demo = vec![rest.trim().to_string()];
            self.in_demo = true;
            true
        } else if self.in_demo && line.starts_with("  ") {
            self.demo.push(line.trim().to_string());
            true
        } else if let Some(password) = admin_password(line) {
            self.in_demo = false;
            self.admin = Some(format!("admin  first password: {password}"));
            true
        } else {
            self.in_demo = false;
            false
        };
        if changed {
            self.save();
        }
    }

    fn save(&self) {
        let Ok(json) = serde_json::to_vec_pretty(self) else {
            return;
        };
        let tmp = self.path.with_extension("json.tmp");
        let written = write_private(&tmp, &json).and_then(|()| std::fs::rename(&tmp, &self.path));
        if let Err(e) = written {
            tracing::warn!(error = %e, path = %self.path.display(), "cannot remember the local sign-ins");
        }
    }
}

/// The password in `callrec: created user "admin" with password XYZ  (set …)`.
fn admin_password(line: &str) -> Option<&str> {
    let rest = line.split_once("created user \"admin\" with password ")?.1;
    rest.split_whitespace().next()
}

/// Writes a file only its owner can read (it holds a password).
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_codes_are_stripped_from_the_output() {
        assert_eq!(
            strip_ansi("\u{1b}[2m2026-12-02\u{1b}[0m \u{1b}[32m INFO\u{1b}[0m callrec: ready"),
            "2026-12-02  INFO callrec: ready"
        );
        assert_eq!(strip_ansi("\u{1b}]0;title\u{7}plain"), "plain");
        assert_eq!(strip_ansi("no codes"), "no codes");
    }

    #[test]
    fn sign_ins_are_read_from_the_output_and_remembered_across_restarts() {
        let dir = tempfile::tempdir().expect("tmp");
        let data = dir.path().join("local-server");
        let mut s = SignIns::load(sign_ins_path(&data));
        for line in [
            "callrec-server: HTTP on http://127.0.0.1:1",
            "callrec: created user \"admin\" with password s3cret-Pw  (set CALLREC_BOOTSTRAP_ADMIN_PASSWORD to choose it)",
            "callrec demo: seeded a demo directory. Log in as any of (password \"demo\"):",
            "  alice  agent, Support, ext 201",
            "  sam    supervisor",
            "callrec demo: placing simulated calls against SIP 127.0.0.1:5",
        ] {
            s.see(line);
        }
        let expected = vec![
            "seeded a demo directory. Log in as any of (password \"demo\"):".to_string(),
            "alice  agent, Support, ext 201".to_string(),
            "sam    supervisor".to_string(),
            "admin  first password: s3cret-Pw".to_string(),
        ];
        assert_eq!(s.lines(), expected);
        // A restart prints nothing of it again: the file still knows.
        let again = SignIns::load(sign_ins_path(&data));
        assert_eq!(again.lines(), expected);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(sign_ins_path(&data))
                .expect("file")
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "only the owner may read the password: {mode:o}");
        }
    }
}
