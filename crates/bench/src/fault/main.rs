//! `fault-bench`: the soak and fault benchmark of issue #13. It is a tool a user runs, not a
//! timed test: it prints what each fault did to the recordings and to `/healthz`.
//!
//! For each phase it starts a fresh release `callrec-server` process on a data directory of
//! its own, places `--calls` SIPREC calls with `callrec-sim` (`force`, so all are recorded),
//! lets them run, applies one fault, and then audits the data directory: recordings vs rows
//! vs files, whether every WAV header matches its file, and the audio lost per recording (the
//! audio the recorder was offered minus the duration it kept). The phases:
//!
//! - `sigterm`: SIGTERM with the calls up; the target is 0 ms lost and an exit within the
//!   grace period.
//! - `sigkill`: SIGKILL, then a restart that repairs; the target is ≤ 1 s lost per recording.
//! - `disk-full`: the data directory on a tmpfs the bench mounts (root) is filled with a
//!   ballast file for `--full-secs`, then freed; only the full span may be lost, and it must be
//!   recorded as a gap with the timeline kept.
//! - `invite-flood`: `--flood` INVITEs never acknowledged, from one source, while the calls
//!   run; none may leave a recording, and the calls must lose nothing.
//! - `idle-connections`: `--idle` TCP connections opened to the HTTP port and left silent.
//!
//! During each fault `/healthz` is probed every 50 ms on a new connection; the table shows its
//! p50/p99/max and failures.
//!
//! ```text
//! cargo build --release -p callrec-server -p callrec-bench
//! target/release/fault-bench --calls 50
//! ```
//! Figures and how to read them: README ("Faults") and docs/benchmarks.md.

mod server;

use anyhow::{bail, Context, Result};
use callrec_sim::{Sim, SimCall, Transport};
use clap::Parser;
use rustix::process::Signal;
use server::{audit, Audit, Latency, Probe, ServerProcess};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(Debug, Parser)]
#[command(
    name = "fault-bench",
    about = "Live calls through SIGTERM, SIGKILL, a full disk, an INVITE flood and idle connections"
)]
struct Args {
    /// Live calls during each fault
    #[arg(long, default_value_t = 50)]
    calls: usize,
    /// Phases to run, comma-separated
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "sigterm,sigkill,disk-full,invite-flood,idle-connections"
    )]
    phases: Vec<String>,
    /// Seconds the calls run before the fault
    #[arg(long, default_value_t = 5)]
    before: u64,
    /// Seconds the disk stays full
    #[arg(long, default_value_t = 10)]
    full_secs: u64,
    /// Unacknowledged INVITEs sent in the flood (over 10 s)
    #[arg(long, default_value_t = 2000)]
    flood: usize,
    /// Idle HTTP connections opened
    #[arg(long, default_value_t = 5000)]
    idle: usize,
    /// `disk_full_buffer_secs` of the server in the disk-full phase (its default is 30, more
    /// than `--full-secs`, so nothing is lost; set it below to see gaps recorded)
    #[arg(long)]
    disk_full_buffer_secs: Option<u32>,
    /// The server binary (default: `callrec-server` next to this one)
    #[arg(long)]
    server_bin: Option<PathBuf>,
    /// RTP port range of the server
    #[arg(long, default_value = "20000-29999")]
    rtp_ports: String,
}

/// One phase's figures.
struct Row {
    phase: &'static str,
    audit: Audit,
    healthz: Option<Latency>,
    note: String,
}

fn main() -> Result<()> {
    let args = Args::parse();
    // 5,000 connections need more descriptors than a default soft limit of 1,024.
    callrec_sim::raise_fd_limit();
    let bin = match &args.server_bin {
        Some(b) => b.clone(),
        None => std::env::current_exe()?
            .parent()
            .context("the bench's directory")?
            .join("callrec-server"),
    };
    if !bin.is_file() {
        bail!("{} is missing: cargo build --release -p callrec-server", bin.display());
    }
    let rt = tokio::runtime::Runtime::new()?;
    let mut rows = Vec::new();
    for phase in &args.phases {
        let row = match phase.as_str() {
            "sigterm" => rt.block_on(signal_phase(&args, &bin, Signal::TERM))?,
            "sigkill" => rt.block_on(signal_phase(&args, &bin, Signal::KILL))?,
            "disk-full" => rt.block_on(disk_full_phase(&args, &bin))?,
            "invite-flood" => rt.block_on(flood_phase(&args, &bin))?,
            "idle-connections" => rt.block_on(idle_phase(&args, &bin))?,
            other => bail!("unknown phase {other}"),
        };
        print_row(&row);
        rows.push(row);
    }
    println!();
    println!("phase             calls rows files no-row no-file bad-hdr open  lost/rec ms (mean/max)   healthz p50/p99/max ms (fail)");
    for r in &rows {
        print_line(r);
    }
    Ok(())
}

fn print_row(r: &Row) {
    println!("== {}: {}", r.phase, r.note);
}

fn print_line(r: &Row) {
    let a = &r.audit;
    let lost: Vec<i64> = a.kept.iter().map(|(offered, kept)| (offered - kept).max(0)).collect();
    let mean = if lost.is_empty() {
        0.0
    } else {
        lost.iter().sum::<i64>() as f64 / lost.len() as f64
    };
    let max = lost.iter().copied().max().unwrap_or(0);
    let health = match &r.healthz {
        Some(l) => format!(
            "{:.1}/{:.1}/{:.1} ({} of {})",
            l.p50_ms,
            l.p99_ms,
            l.max_ms,
            l.failures,
            l.samples as u64 + l.failures
        ),
        None => "—".into(),
    };
    println!(
        "{:<17} {:>5} {:>4} {:>5} {:>6} {:>7} {:>7} {:>4}  {:>8.0}/{:<8}        {}",
        r.phase,
        a.calls,
        a.rows,
        a.files,
        a.files_without_row,
        a.rows_without_file,
        a.headers_wrong,
        a.calls_open + a.rows_unfinished,
        mean,
        max,
        health
    );
}

/// Live calls placed by the simulator, with the moment each was answered.
struct Calls {
    _sim: Sim,
    calls: Vec<(SimCall, Instant)>,
}

async fn place_calls(server: &ServerProcess, n: usize) -> Result<Calls> {
    let sim = Sim::connect(server.sip, Transport::Udp).await?;
    let mut calls = Vec::with_capacity(n);
    for _ in 0..n {
        let call = sim
            .call()
            .mon_mode("force")
            .invite()
            .await
            .context("a call is answered")?;
        calls.push((call, Instant::now()));
    }
    Ok(Calls { _sim: sim, calls })
}

impl Calls {
    /// SIP Call-IDs with the audio offered up to `until` (ms).
    fn offered(&self, until: Instant) -> Vec<(String, i64)> {
        self.calls
            .iter()
            .map(|(c, at)| (c.call_id().to_owned(), until.duration_since(*at).as_millis() as i64))
            .collect()
    }

    /// Hangs every call up; the offered audio runs to each BYE.
    async fn hang_up(self) -> Vec<(String, i64)> {
        let mut out = Vec::new();
        for (call, at) in self.calls {
            let id = call.call_id().to_owned();
            let _ = call.bye().await;
            out.push((id, at.elapsed().as_millis() as i64));
        }
        out
    }
}

fn data_dir() -> Result<tempfile::TempDir> {
    Ok(tempfile::tempdir()?)
}

/// SIGTERM: the process must finalise and exit; SIGKILL: a restart must repair.
async fn signal_phase(args: &Args, bin: &Path, sig: Signal) -> Result<Row> {
    let dir = data_dir()?;
    let mut server = ServerProcess::start(bin, dir.path(), &args.rtp_ports, &[])?;
    let calls = place_calls(&server, args.calls).await?;
    tokio::time::sleep(Duration::from_secs(args.before)).await;
    let at = Instant::now();
    server.signal(sig);
    let exit = tokio::task::block_in_place(|| server.wait_exit(Duration::from_secs(60)));
    let offered = calls.offered(at);
    drop(calls);
    let phase = if sig == Signal::TERM { "sigterm" } else { "sigkill" };
    let mut note = match exit {
        Some(d) => format!("exited {:.2} s after the signal", d.as_secs_f64()),
        None => "did NOT exit within 60 s".into(),
    };
    if sig == Signal::KILL {
        // The restart repairs; audit what it left, then stop it.
        let t = Instant::now();
        let again = ServerProcess::start(bin, dir.path(), &args.rtp_ports, &[])?;
        note.push_str(&format!(
            "; restart with repair listening after {:.2} s",
            t.elapsed().as_secs_f64()
        ));
        let audit = audit(dir.path(), &offered).await?;
        again.stop(Duration::from_secs(30));
        return Ok(Row {
            phase,
            audit,
            healthz: None,
            note,
        });
    }
    Ok(Row {
        phase,
        audit: audit(dir.path(), &offered).await?,
        healthz: None,
        note,
    })
}

/// The data directory on a tmpfs of its own, filled with a ballast file for `--full-secs`.
async fn disk_full_phase(args: &Args, bin: &Path) -> Result<Row> {
    let dir = data_dir()?;
    let mount = Tmpfs::mount(dir.path(), 512)?;
    let env: Vec<(&str, String)> = args
        .disk_full_buffer_secs
        .map(|s| ("CALLREC_DISK_FULL_BUFFER_SECS", s.to_string()))
        .into_iter()
        .collect();
    let server = ServerProcess::start(bin, dir.path(), &args.rtp_ports, &env)?;
    let calls = place_calls(&server, args.calls).await?;
    tokio::time::sleep(Duration::from_secs(args.before)).await;
    let probe = Probe::start(server.http);
    let ballast = dir.path().join("ballast");
    let full_at = Instant::now();
    fill(&ballast)?;
    tokio::time::sleep(Duration::from_secs(args.full_secs)).await;
    // A call offered while full must be refused honestly, not answered and lost.
    let sim = Sim::connect(server.sip, Transport::Udp).await?;
    let refused = match sim.call().mon_mode("force").invite_or_refusal().await {
        Ok(Err(response)) => format!("a call offered while full got {}", response.status().unwrap_or(0)),
        Ok(Ok(call)) => {
            let _ = call.bye().await;
            "a call offered while full was ANSWERED".to_owned()
        }
        Err(e) => format!("a call offered while full failed: {e}"),
    };
    std::fs::remove_file(&ballast)?;
    let full_for = full_at.elapsed();
    tokio::time::sleep(Duration::from_secs(args.before)).await;
    let healthz = probe.finish();
    let offered = calls.hang_up().await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    server.stop(Duration::from_secs(30));
    let audit = audit(dir.path(), &offered).await?;
    let gaps = gaps_ms(dir.path(), &offered).await?;
    // What counts as lost here is audio missing *outside* the recorded gaps: the timeline is
    // padded, so a recording's duration should still be the call's.
    let worst_gap = gaps.iter().copied().max().unwrap_or(0);
    drop(mount);
    Ok(Row {
        phase: "disk-full",
        audit,
        healthz: Some(healthz),
        note: format!(
            "disk full for {:.1} s (memory bound {}); {} recordings with a gap, longest {:.1} s, total {:.1} s; {refused} \
             (lost/rec below = offered − kept: with gaps padded it is the timeline error)",
            full_for.as_secs_f64(),
            args.disk_full_buffer_secs
                .map_or("30 s, the default".to_owned(), |s| format!("{s} s")),
            gaps.iter().filter(|g| **g > 0).count(),
            worst_gap as f64 / 1000.0,
            gaps.iter().sum::<i64>() as f64 / 1000.0
        ),
    })
}

/// The gaps (total ms) of each recording of these calls.
async fn gaps_ms(data_dir: &Path, calls: &[(String, i64)]) -> Result<Vec<i64>> {
    let url = format!("sqlite://{}?mode=rwc", data_dir.join("callrec.db").display());
    let store = callrec_store::open(&url).await?;
    let mut out = Vec::new();
    for (sip_id, _) in calls {
        let Some(id) = store.call_by_sip_id(sip_id).await? else {
            continue;
        };
        for rec in store.list_recordings(id).await? {
            out.push(rec.gaps.iter().map(|g| g.duration_ms).sum());
        }
    }
    Ok(out)
}

/// A size-limited tmpfs over a directory, unmounted on drop.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(at: &Path, mib: u64) -> Result<Tmpfs> {
        let status = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mib}m"), "tmpfs"])
            .arg(at)
            .status()?;
        if !status.success() {
            bail!(
                "cannot mount a tmpfs on {} (the disk-full phase needs root)",
                at.display()
            );
        }
        Ok(Tmpfs(at.to_path_buf()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        // Lazily: the audit's database pool may still be closing its file.
        let _ = std::process::Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Writes zeros until the filesystem refuses more.
fn fill(path: &Path) -> Result<()> {
    use std::io::Write;
    let mut f = std::fs::File::create(path)?;
    let chunk = vec![0u8; 1 << 20];
    loop {
        if f.write_all(&chunk).is_err() {
            break;
        }
    }
    // The last partial megabyte too.
    while f.write(&chunk[..4096]).map(|n| n > 0).unwrap_or(false) {}
    Ok(())
}

/// `--flood` INVITEs that are never acknowledged, over 10 s from one source, while the calls
/// run. None may leave a recording; the calls must lose nothing.
async fn flood_phase(args: &Args, bin: &Path) -> Result<Row> {
    let dir = data_dir()?;
    let server = ServerProcess::start(bin, dir.path(), &args.rtp_ports, &[])?;
    let calls = place_calls(&server, args.calls).await?;
    tokio::time::sleep(Duration::from_secs(args.before)).await;
    let probe = Probe::start(server.http);
    let sock = std::net::UdpSocket::bind("127.0.0.1:0")?;
    sock.set_nonblocking(true)?;
    let me = sock.local_addr()?;
    let started = Instant::now();
    let mut codes = std::collections::BTreeMap::<String, u64>::new();
    let mut buf = vec![0u8; 65536];
    for i in 0..args.flood {
        let call_id = format!("flood-{i}");
        let sip = server.sip;
        let invite = callrec_sim::offer::raw_invite(sip, me, &call_id, "UDP", "force");
        sock.send_to(&invite, sip)?;
        // Spread over 10 s; count the final answers as they come.
        let due = started + Duration::from_secs(10).mul_f64((i + 1) as f64 / args.flood as f64);
        while Instant::now() < due {
            while let Ok((n, _)) = sock.recv_from(&mut buf) {
                let text = String::from_utf8_lossy(&buf[..n]);
                if let Some(code) = text.strip_prefix("SIP/2.0 ").and_then(|r| r.get(..3)) {
                    if code != "100" {
                        *codes.entry(code.to_owned()).or_default() += 1;
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    let healthz = probe.finish();
    let offered = calls.hang_up().await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    server.stop(Duration::from_secs(30));
    let audit = audit(dir.path(), &offered).await?;
    let flood_ids: Vec<(String, i64)> = (0..args.flood).map(|i| (format!("flood-{i}"), 0)).collect();
    let from_flood = gaps_ms(dir.path(), &flood_ids).await?.len();
    Ok(Row {
        phase: "invite-flood",
        audit,
        healthz: Some(healthz),
        note: format!(
            "{} unacknowledged INVITEs in {:.1} s; answers (incl. retransmissions): {:?}; recordings left by them: {}",
            args.flood,
            started.elapsed().as_secs_f64(),
            codes,
            from_flood
        ),
    })
}

/// `--idle` silent TCP connections to the HTTP port while the calls run.
async fn idle_phase(args: &Args, bin: &Path) -> Result<Row> {
    let dir = data_dir()?;
    let server = ServerProcess::start(bin, dir.path(), &args.rtp_ports, &[])?;
    let calls = place_calls(&server, args.calls).await?;
    tokio::time::sleep(Duration::from_secs(args.before)).await;
    let probe = Probe::start(server.http);
    let mut open = Vec::with_capacity(args.idle);
    let mut refused = 0;
    for _ in 0..args.idle {
        match std::net::TcpStream::connect_timeout(&server.http, Duration::from_secs(2)) {
            Ok(s) => open.push(s),
            Err(_) => refused += 1,
        }
    }
    tokio::time::sleep(Duration::from_secs(10)).await;
    // How many the server has closed by now (a read returns 0 or fails).
    let closed = open
        .iter_mut()
        .filter_map(|s| {
            use std::io::Read;
            s.set_nonblocking(true).ok()?;
            match s.read(&mut [0u8; 1]) {
                Ok(0) => Some(()),
                Err(e) if e.kind() != std::io::ErrorKind::WouldBlock => Some(()),
                _ => None,
            }
        })
        .count();
    let healthz = probe.finish();
    drop(open);
    let offered = calls.hang_up().await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    server.stop(Duration::from_secs(30));
    Ok(Row {
        phase: "idle-connections",
        audit: audit(dir.path(), &offered).await?,
        healthz: Some(healthz),
        note: format!(
            "{} connections opened ({} refused); after 10 s the server had closed {}",
            args.idle - refused,
            refused,
            closed
        ),
    })
}
