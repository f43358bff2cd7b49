//! Script dispatch: the rule's bash script, written to a private temporary file and run as
//! `bash <file> <abs wav> <abs json>` — the paths are arguments, never spliced into the
//! script's text. The script runs in its own process group with a clean environment (`PATH`,
//! `LANG`, `HOME` = the data directory, and `CALLREC_*` facts including the idempotency key
//! `CALLREC_DISPATCH_KEY`), stdin closed, and is killed with its whole group at the timeout.
//! Exit status 0 means sent.
//!
//! stdout and stderr are read as they come (so a chatty script never blocks on a full pipe);
//! the first [`MAX_OUTPUT`] bytes of each are kept in the target's detail and the rest is
//! counted and dropped, with a marker saying how much.

use super::attempt::{Attempt, Material};
use crate::state::AppState;
use rand::RngCore;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt};

/// Bytes of stdout, and of stderr, kept per run.
pub const MAX_OUTPUT: usize = 64 * 1024;
/// After the script ends, how long its pipes may stay open (a background child that escaped
/// the group) before we stop reading.
const DRAIN_GRACE: Duration = Duration::from_secs(2);
/// The `PATH` scripts get.
pub const SCRIPT_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// The first [`MAX_OUTPUT`] bytes of a stream and how many more there were.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Captured {
    pub kept: Vec<u8>,
    pub dropped: u64,
}

impl Captured {
    fn render(&self, name: &str) -> String {
        let mut s = format!("--- {name} ({} bytes) ---\n", self.kept.len() as u64 + self.dropped);
        s.push_str(&String::from_utf8_lossy(&self.kept));
        if self.dropped > 0 {
            s.push_str(&format!(
                "\n[… {} more bytes of {name} dropped; the first {} are kept]",
                self.dropped, MAX_OUTPUT
            ));
        }
        if !s.ends_with('\n') {
            s.push('\n');
        }
        s
    }
}

/// How a script run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptRun {
    /// The exit status; `None` when it was killed by a signal.
    pub status: Option<i32>,
    pub timed_out: bool,
    pub stdout: Captured,
    pub stderr: Captured,
    pub elapsed: Duration,
}

impl ScriptRun {
    /// The text kept in the target's detail.
    pub fn detail(&self, timeout: Duration) -> String {
        let head = match (self.timed_out, self.status) {
            (true, _) => format!("killed after the {} s timeout", timeout.as_secs_f64()),
            (false, Some(code)) => format!("exit status {code} after {:.1} s", self.elapsed.as_secs_f64()),
            (false, None) => format!("killed by a signal after {:.1} s", self.elapsed.as_secs_f64()),
        };
        format!(
            "{head}\n{}{}",
            self.stdout.render("stdout"),
            self.stderr.render("stderr")
        )
    }
}

/// Kills the whole process group when dropped before [`GroupGuard::disarm`] — also when the
/// task running the script is cancelled.
struct GroupGuard(Option<i32>);

impl GroupGuard {
    fn kill(&self) {
        if let Some(pgid) = self.0 {
            // A stale group id fails with ESRCH, which is fine: nothing is left to kill.
            if let Some(pgid) = rustix::process::Pid::from_raw(pgid) {
                let _ = rustix::process::kill_process_group(pgid, rustix::process::Signal::KILL);
            }
        }
    }
    fn disarm(&mut self) {
        self.0 = None;
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Removes the script file when dropped.
struct TempScript(PathBuf);

impl Drop for TempScript {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

async fn capture(mut r: impl AsyncRead + Unpin) -> Captured {
    let mut c = Captured::default();
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        match r.read(&mut buf).await {
            Ok(0) | Err(_) => return c,
            Ok(n) => {
                let room = MAX_OUTPUT.saturating_sub(c.kept.len()).min(n);
                c.kept.extend_from_slice(&buf[..room]);
                c.dropped += (n - room) as u64;
            }
        }
    }
}

async fn write_script(dir: &Path, body: &str) -> std::io::Result<TempScript> {
    tokio::fs::create_dir_all(dir).await?;
    let mut rnd = [0u8; 8];
    rand::rngs::OsRng.fill_bytes(&mut rnd);
    let path = dir.join(format!("dispatch-{}.sh", hex::encode(rnd)));
    let guard = TempScript(path.clone());
    let body = body.as_bytes().to_vec();
    tokio::task::spawn_blocking(move || -> std::io::Result<()> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)?;
        f.write_all(&body)?;
        f.sync_all()
    })
    .await
    .map_err(std::io::Error::other)??;
    Ok(guard)
}

/// Runs `body` as `bash <file> <wav> <json>` in `work_dir` with exactly `env`.
pub async fn run(
    body: &str,
    wav: &Path,
    json: &Path,
    env: &[(String, String)],
    tmp_dir: &Path,
    work_dir: &Path,
    timeout: Duration,
) -> std::io::Result<ScriptRun> {
    let file = write_script(tmp_dir, body).await?;
    let started = Instant::now();
    let mut cmd = tokio::process::Command::new("bash");
    cmd.arg(&file.0)
        .arg(wav)
        .arg(json)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .current_dir(work_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    let mut child = cmd.spawn()?;
    let mut group = GroupGuard(child.id().and_then(|p| i32::try_from(p).ok()));
    let out = tokio::spawn(capture(
        child.stdout.take().ok_or_else(|| std::io::Error::other("no stdout"))?,
    ));
    let err = tokio::spawn(capture(
        child.stderr.take().ok_or_else(|| std::io::Error::other("no stderr"))?,
    ));
    let (status, timed_out) = match tokio::time::timeout(timeout, child.wait()).await {
        Ok(status) => (status?, false),
        Err(_) => {
            group.kill();
            (child.wait().await?, true)
        }
    };
    // Whatever the script left running in its group goes with it.
    group.kill();
    group.disarm();
    let elapsed = started.elapsed();
    let collect = |h: tokio::task::JoinHandle<Captured>| async move {
        match tokio::time::timeout(DRAIN_GRACE, h).await {
            Ok(Ok(c)) => c,
            _ => Captured {
                kept: b"[output not collected: the pipe stayed open after the script ended]".to_vec(),
                dropped: 0,
            },
        }
    };
    let stdout = collect(out).await;
    let stderr = collect(err).await;
    Ok(ScriptRun {
        status: status.code(),
        timed_out,
        stdout,
        stderr,
        elapsed,
    })
}

/// The environment of a dispatch script.
pub fn environment(home: &Path, m: &Material, attempt: i64) -> Vec<(String, String)> {
    let r = &m.recording.recording;
    vec![
        ("PATH".into(), SCRIPT_PATH.into()),
        ("LANG".into(), "C.UTF-8".into()),
        ("HOME".into(), home.to_string_lossy().into_owned()),
        ("CALLREC_DISPATCH_KEY".into(), m.key.clone()),
        ("CALLREC_ATTEMPT".into(), attempt.to_string()),
        ("CALLREC_RECORDING_ID".into(), r.id.to_string()),
        ("CALLREC_CALL_ID".into(), m.call.id.to_string()),
        ("CALLREC_FILE_NAME".into(), r.file_name.clone()),
        ("CALLREC_SHA256".into(), r.sha256.clone()),
        ("CALLREC_WAV".into(), m.wav.to_string_lossy().into_owned()),
        ("CALLREC_JSON".into(), m.journal.to_string_lossy().into_owned()),
    ]
}

/// Runs a rule's script for one recording: the dispatch attempt.
pub async fn run_for(state: &AppState, body: &str, m: &Material, attempt: i64, timeout: Duration) -> Attempt {
    let home = match std::fs::canonicalize(state.files.root()) {
        Ok(h) => h,
        Err(e) => return Attempt::failed(format!("the data directory is not usable: {e}"), None),
    };
    let env = environment(&home, m, attempt);
    match run(body, &m.wav, &m.journal, &env, &state.files.tmp_dir(), &home, timeout).await {
        Err(e) => Attempt::failed(format!("cannot run the script: {e}"), None),
        Ok(r) => {
            let detail = Some(r.detail(timeout));
            match (r.timed_out, r.status) {
                (false, Some(0)) => Attempt::sent(detail),
                (true, _) => Attempt::failed(
                    format!("the script ran longer than {} s and was killed", timeout.as_secs()),
                    detail,
                ),
                (false, Some(code)) => Attempt::failed(format!("the script exited with status {code}"), detail),
                (false, None) => Attempt::failed("the script was killed by a signal", detail),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn run_here(body: &str, timeout: Duration) -> ScriptRun {
        let dir = tempfile::tempdir().expect("temp dir");
        let wav = dir.path().join("a b.wav");
        let json = dir.path().join("a b.json");
        std::fs::write(&wav, b"RIFF").expect("wav");
        std::fs::write(&json, b"{}").expect("json");
        let env = vec![("PATH".to_string(), SCRIPT_PATH.to_string())];
        run(body, &wav, &json, &env, &dir.path().join("tmp"), dir.path(), timeout)
            .await
            .expect("bash runs")
    }

    #[tokio::test]
    async fn arguments_arrive_as_arguments_and_the_environment_is_clean() {
        let r = run_here(
            "printf '%s|%s|%s\\n' \"$1\" \"$2\" \"${SECRET_FROM_PARENT:-unset}\"",
            Duration::from_secs(10),
        )
        .await;
        let out = String::from_utf8_lossy(&r.stdout.kept).to_string();
        assert_eq!(r.status, Some(0), "the script succeeds: {out}");
        assert!(
            out.contains("a b.wav|"),
            "$1 is the WAV path with its space intact: {out}"
        );
        assert!(
            out.contains("a b.json|unset"),
            "$2 is the JSON path and nothing leaks in: {out}"
        );
    }

    #[tokio::test]
    async fn a_hanging_script_and_its_children_are_killed_at_the_timeout() {
        let started = Instant::now();
        let r = run_here("sleep 300 & sleep 300; echo never", Duration::from_millis(500)).await;
        assert!(r.timed_out, "the run is reported as timed out");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the kill is prompt, not after the sleep: {:?}",
            started.elapsed()
        );
    }

    #[tokio::test]
    async fn megabytes_of_output_are_truncated_with_a_marker() {
        let r = run_here(
            "head -c 3000000 /dev/zero | tr '\\0' x; echo done >&2",
            Duration::from_secs(20),
        )
        .await;
        assert_eq!(r.status, Some(0), "a chatty script is not blocked by its pipe");
        assert_eq!(r.stdout.kept.len(), MAX_OUTPUT, "the first 64 KiB are kept");
        assert_eq!(r.stdout.dropped, 3_000_000 - MAX_OUTPUT as u64, "the rest is counted");
        let d = r.detail(Duration::from_secs(20));
        assert!(d.contains("more bytes of stdout dropped"), "the detail says so");
        assert!(d.contains("done"), "stderr is kept beside it");
    }
}
