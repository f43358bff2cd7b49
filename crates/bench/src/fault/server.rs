//! The server under test as its own process (the release `callrec-server`), the `/healthz`
//! probe that samples its latency while a fault is on, and the audit of a data directory:
//! recordings vs rows vs files, and whether every WAV header tells the truth.

use anyhow::{bail, Context, Result};
use callrec_media::wav::{WavInfo, MAX_HEADER_LEN};
use rustix::process::{kill_process, Pid, Signal};
use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub const ADMIN_PASSWORD: &str = "fault-bench-admin-password";

pub struct ServerProcess {
    child: Child,
    pub http: SocketAddr,
    pub sip: SocketAddr,
}

impl ServerProcess {
    pub fn start(bin: &Path, data_dir: &Path, rtp_ports: &str, extra_env: &[(&str, String)]) -> Result<ServerProcess> {
        let mut cmd = Command::new(bin);
        cmd.args([
            "serve",
            "--http",
            "127.0.0.1:0",
            "--sip",
            "127.0.0.1:0",
            "--rtp-ports",
            rtp_ports,
        ])
        .arg("--data-dir")
        .arg(data_dir)
        .env("CALLREC_BOOTSTRAP_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("CALLREC_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().with_context(|| format!("starting {}", bin.display()))?;
        let stderr = child.stderr.take().context("server stderr")?;
        let mut lines = BufReader::new(stderr).lines();
        let (mut http, mut sip) = (None, None);
        while http.is_none() || sip.is_none() {
            let line = lines.next().context("the server exited before listening")??;
            if let Some(rest) = line.strip_prefix("callrec-server: HTTP on http://") {
                http = Some(rest.trim().parse::<SocketAddr>()?);
            } else if let Some(rest) = line.strip_prefix("callrec-server: SIP on ") {
                sip = Some(
                    rest.split_whitespace()
                        .next()
                        .unwrap_or_default()
                        .parse::<SocketAddr>()?,
                );
            }
        }
        // Keep draining stderr so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Ok(ServerProcess {
            child,
            http: http.context("HTTP address")?,
            sip: sip.context("SIP address")?,
        })
    }

    pub fn signal(&self, sig: Signal) {
        if let Some(pid) = i32::try_from(self.child.id()).ok().and_then(Pid::from_raw) {
            let _ = kill_process(pid, sig);
        }
    }

    /// Waits up to `limit` for the process to exit: how long it took, or `None`.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<Duration> {
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Ok(Some(_)) = self.child.try_wait() {
                return Some(start.elapsed());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        None
    }

    /// SIGTERM, then SIGKILL after `limit`.
    pub fn stop(mut self, limit: Duration) -> Option<Duration> {
        self.signal(Signal::TERM);
        let took = self.wait_exit(limit);
        if took.is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        took
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// `/healthz` latencies sampled every 50 ms on a fresh connection each time.
pub struct Probe {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<(Vec<Duration>, u64)>,
}

#[derive(Debug, Default)]
pub struct Latency {
    pub samples: usize,
    pub failures: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Probe {
    pub fn start(http: SocketAddr) -> Probe {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let (mut ok, mut failed) = (Vec::new(), 0u64);
            while !flag.load(Ordering::Relaxed) {
                let t = Instant::now();
                match healthz(http) {
                    Ok(()) => ok.push(t.elapsed()),
                    Err(_) => failed += 1,
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            (ok, failed)
        });
        Probe { stop, thread }
    }

    pub fn finish(self) -> Latency {
        self.stop.store(true, Ordering::Relaxed);
        let (mut ok, failures) = self.thread.join().unwrap_or_default();
        ok.sort();
        let pick = |q: f64| {
            if ok.is_empty() {
                f64::NAN
            } else {
                let i = ((ok.len() as f64 - 1.0) * q).round() as usize;
                ok[i].as_secs_f64() * 1000.0
            }
        };
        Latency {
            samples: ok.len(),
            failures,
            p50_ms: pick(0.5),
            p99_ms: pick(0.99),
            max_ms: pick(1.0),
        }
    }
}

fn healthz(http: SocketAddr) -> Result<()> {
    let mut s = TcpStream::connect_timeout(&http, Duration::from_secs(5))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(s, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")?;
    let mut head = [0u8; 12];
    s.read_exact(&mut head)?;
    if !head.starts_with(b"HTTP/1.1 200") {
        bail!("healthz: {}", String::from_utf8_lossy(&head));
    }
    Ok(())
}

/// What a data directory holds after a fault, for the calls placed in it.
#[derive(Debug, Default)]
pub struct Audit {
    pub calls: usize,
    pub calls_open: usize,
    pub rows: usize,
    pub rows_unfinished: usize,
    pub files: usize,
    pub files_without_row: usize,
    pub rows_without_file: usize,
    pub headers_wrong: usize,
    /// Per recording: the call's audio the recorder was offered (ms) and the duration kept.
    pub kept: Vec<(i64, i64)>,
}

/// Audits `data_dir` for the calls with these SIP Call-IDs and their offered audio length (ms).
pub async fn audit(data_dir: &Path, calls: &[(String, i64)]) -> Result<Audit> {
    let url = format!("sqlite://{}?mode=rwc", data_dir.join("callrec.db").display());
    let store = callrec_store::open(&url).await.context("opening the database")?;
    let mut a = Audit {
        calls: calls.len(),
        ..Audit::default()
    };
    a.calls_open = store.unfinished_calls().await?.len();
    a.rows_unfinished = store.unfinished_recordings().await?.len();
    let mut paths = HashSet::new();
    for (sip_id, offered_ms) in calls {
        let Some(id) = store.call_by_sip_id(sip_id).await? else {
            continue;
        };
        for rec in store.list_recordings(id).await? {
            a.rows += 1;
            let stored = store.get_recording(rec.id).await?;
            let path = data_dir.join(&stored.rel_path);
            paths.insert(path.clone());
            match header_truthful(&path) {
                Some(true) => {}
                Some(false) => a.headers_wrong += 1,
                None => a.rows_without_file += 1,
            }
            a.kept.push((*offered_ms, rec.duration_ms));
        }
    }
    for file in wav_files(data_dir) {
        a.files += 1;
        // Each phase has a data directory of its own: every file belongs to its calls.
        if !paths.contains(&file) {
            a.files_without_row += 1;
        }
    }
    Ok(a)
}

/// Whether a WAV's RIFF and data sizes are exactly the file's; `None` when there is no file.
fn header_truthful(path: &Path) -> Option<bool> {
    let bytes = std::fs::read(path).ok()?;
    let Ok(info) = WavInfo::parse_with_file_len(&bytes[..MAX_HEADER_LEN.min(bytes.len())], bytes.len() as u64) else {
        return Some(false);
    };
    let riff = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]);
    Some(
        u64::from(info.declared_data_len) == bytes.len() as u64 - info.data_offset
            && u64::from(riff) == bytes.len() as u64 - 8,
    )
}

fn wav_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "wav") {
                out.push(p);
            }
        }
    }
    out
}
