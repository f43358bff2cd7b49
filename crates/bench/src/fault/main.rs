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
    raise_fd_limit();
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
            "sigterm" => rt.block_on(signal_phase(&args, &bin, libc::SIGTERM))?,
            "sigkill" => rt.block_on(signal_phase(&args, &bin, libc::SIGKILL))?,
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
async fn signal_phase(args: &Args, bin: &Path, sig: libc::c_int) -> Result<Row> {
    let dir = data_dir()?;
    let mut server = ServerProcess::start(bin, dir.path(), &args.rtp_ports, &[])?;
    let calls = place_calls(&server, args.calls).await?;
    tokio::time::sleep(Duration::from_secs(args.before)).await;
    let at = Instant::now();
    server.signal(sig);
    let exit = tokio::task::block_in_place(|| server.wait_exit(Duration::from_secs(60)));
    let offered = calls.offered(at);
    drop(calls);
    let phase = if sig == libc::SIGTERM { "sigterm" } else { "sigkill" };
    let mut note = match exit {
        Some(d) => format!("exited {:.2} s after the signal", d.as_secs_f64()),
        None => "did NOT exit within 60 s".into(),
    };
    if sig == libc::SIGKILL {
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

async fn disk_full_phase(_args: &Args, _bin: &Path) -> Result<Row> {
    bail!("disk-full: not yet written")
}

async fn flood_phase(_args: &Args, _bin: &Path) -> Result<Row> {
    bail!("invite-flood: not yet written")
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

/// 5,000 connections need more descriptors than a default soft limit of 1,024.
fn raise_fd_limit() {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit with a valid pointer to a local.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 {
            lim.rlim_cur = lim.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}
