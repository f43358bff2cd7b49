//! This node's own transcription worker (`transcription = true`): the configured command,
//! started under `nice -n 15` and, where util-linux's `chrt` is on the `PATH` (every Linux
//! distribution), in the `SCHED_IDLE` class, so the recorder always comes first, against this server's HTTP
//! address, with a token minted at start-up in its environment (never on its command line,
//! which `ps` shows). Restarted when it exits (after 1 s, doubling up to a minute while it
//! keeps dying at once); sent SIGTERM when the server stops, SIGKILL if it lingers.

use crate::state::AppState;
use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::process::{Child, Command};

/// How long the worker may take to stop after SIGTERM.
const STOP_GRACE: Duration = Duration::from_secs(3);
/// A worker that ran this long was healthy: the restart backoff starts over.
const HEALTHY_RUN: Duration = Duration::from_secs(60);

/// `chrt` on the `PATH`, if there is one.
///
/// Why `SCHED_IDLE` and not only a nice value: the worker's engine keeps both cores busy, and a
/// nice-15 task still holds a core until the scheduler's next tick decides; `SCHED_IDLE` runs
/// only on time nothing else wants, and a waking recorder thread preempts it at once. In
/// `siprec-bench --calls 1500 --transcribe-beside` on 2 cores (2026-12-04) the recorder lost
/// 5,866 packets beside a nice-15 engine and none beside a `SCHED_IDLE` one.
fn chrt() -> Option<std::path::PathBuf> {
    std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .map(|dir| dir.join("chrt"))
        .find(|path| path.is_file())
}

/// The command line: `nice -n 15`, `chrt --idle 0` ([`chrt`]), the configured program and
/// arguments, `--server URL`, `--name NAME`.
fn command(state: &AppState, http: SocketAddr) -> Option<Command> {
    let mut words = state.config.transcription_command.split_whitespace();
    let program = words.next()?;
    // A worker on this machine reaches the server on loopback even when it listens on all
    // addresses.
    let host = if http.ip().is_unspecified() {
        SocketAddr::new(
            if http.is_ipv4() {
                std::net::Ipv4Addr::LOCALHOST.into()
            } else {
                std::net::Ipv6Addr::LOCALHOST.into()
            },
            http.port(),
        )
    } else {
        http
    };
    let mut cmd = Command::new("nice");
    cmd.args(["-n", "15"]);
    match chrt() {
        Some(chrt) => {
            cmd.arg(chrt).args(["--idle", "0"]);
        }
        None => tracing::warn!("chrt is not on the PATH: the transcription worker runs at nice 15 only"),
    }
    cmd.arg(program)
        .args(words)
        .arg("--server")
        .arg(format!("http://{host}"))
        .arg("--name")
        .arg(format!("{}-local", state.node_id))
        .env("CALLREC_WORKER_TOKEN", state.transcription.local_token())
        .stdin(Stdio::null())
        .kill_on_drop(true);
    if let Some(dir) = &state.config.transcription_model_dir {
        cmd.env("CALLREC_MODEL_DIR", dir);
    }
    Some(cmd)
}

/// Runs the local worker until the server stops (module doc); `None` when transcription is
/// off.
pub fn start(state: AppState, http: SocketAddr) -> Option<tokio::task::JoinHandle<()>> {
    if !state.config.transcription {
        return None;
    }
    Some(tokio::spawn(async move {
        let mut backoff = Duration::from_secs(1);
        loop {
            let Some(mut cmd) = command(&state, http) else {
                tracing::error!("transcription_command is empty: no local transcription worker");
                return;
            };
            let started = tokio::time::Instant::now();
            match cmd.spawn() {
                Ok(mut child) => {
                    tracing::info!(pid = child.id(), "local transcription worker started");
                    let pid = &state.transcription.worker_pid;
                    pid.store(child.id().unwrap_or(0), Ordering::Relaxed);
                    tokio::select! {
                        status = child.wait() => {
                            tracing::warn!(status = ?status, "the local transcription worker exited; restarting it");
                        }
                        _ = state.stopping.cancelled() => {
                            stop(&mut child).await;
                            pid.store(0, Ordering::Relaxed);
                            return;
                        }
                    }
                    pid.store(0, Ordering::Relaxed);
                }
                Err(e) => {
                    tracing::error!(command = %state.config.transcription_command, error = %e, "cannot start the local transcription worker");
                }
            }
            if started.elapsed() >= HEALTHY_RUN {
                backoff = Duration::from_secs(1);
            }
            tokio::select! {
                _ = tokio::time::sleep(backoff) => {}
                _ = state.stopping.cancelled() => return,
            }
            backoff = (backoff * 2).min(Duration::from_secs(60));
        }
    }))
}

/// SIGTERM, then SIGKILL after [`STOP_GRACE`].
async fn stop(child: &mut Child) {
    if let Some(pid) = child
        .id()
        .and_then(|p| i32::try_from(p).ok())
        .and_then(rustix::process::Pid::from_raw)
    {
        // `nice` and `chrt` exec the worker, so this pid is the worker's.
        let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
    }
    if tokio::time::timeout(STOP_GRACE, child.wait()).await.is_err() {
        let _ = child.kill().await;
    }
    tracing::info!("local transcription worker stopped");
}
