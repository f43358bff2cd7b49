//! `journal-bench`: the benchmark of issue #2, item 15.
//!
//! 1. Seeds a SQLite database with `--calls` calls (default 1,000,000, ~1.5 recordings each)
//!    across `--users` users through `Store::import_calls`, or reuses the one cached at
//!    `--db`. With `--postgres URL` the same seeding goes into that PostgreSQL database too
//!    (reused when it holds it), and every case is measured on both backends side by side;
//!    `--postgres auto` starts a throw-away PostgreSQL (callrec-testkit: durability off, seeded
//!    on every run).
//! 2. Starts the real server in-process on 127.0.0.1:0 over that database (its own runtime,
//!    so server and clients are scheduled as they would be in two processes), logs in an
//!    admin, a supervisor and an agent through `callrec-client`, and measures the journal
//!    p50/p99/max per case at each `--clients` concurrency.
//! 3. Measures audio throughput of a one-hour stereo µ-law WAV on a second server.
//!
//! Run it in release mode: `cargo run --release -p callrec-bench --bin journal-bench -- --help`.
//! Results and how to read them: `docs/benchmarks.md`.

mod audio;
mod cpu;
mod journal;
mod seed;
mod stats;

use anyhow::{bail, Context, Result};
use callrec_client::Client;
use callrec_server::config::Config;
use callrec_server::Server;
use callrec_store::{PgStore, SqliteStore, Store};
use chrono::{TimeZone, Utc};
use clap::Parser;
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Debug, Parser)]
#[command(name = "journal-bench", about = "Seed a large journal and measure it over real HTTP")]
struct Args {
    /// Calls to seed (recordings are ~1.5 per call)
    #[arg(long, default_value_t = 1_000_000)]
    calls: u64,
    /// Users in the directory (one admin, a supervisor per ~14 users, the rest agents)
    #[arg(long, default_value_t = 200)]
    users: usize,
    /// The SQLite database, seeded when missing and reused when it holds the same seeding
    /// (default: `target/bench/journal-<calls>.db`)
    #[arg(long, value_name = "FILE")]
    db: Option<PathBuf>,
    /// Calls per `import_calls` transaction while seeding
    #[arg(long, default_value_t = 10_000)]
    batch: usize,
    /// Requests per case and concurrency (split over the clients)
    #[arg(long, default_value_t = 1000)]
    requests: usize,
    /// Concurrent client counts to measure, comma-separated
    #[arg(long, value_delimiter = ',', default_value = "1,8")]
    clients: Vec<usize>,
    /// Length of the generated WAV for the audio throughput; 0 skips the audio part
    #[arg(long, default_value_t = 3600)]
    audio_seconds: u32,
    /// Downloads per audio format
    #[arg(long, default_value_t = 3)]
    audio_runs: usize,
    /// Only seed (or check the cache) — SQLite and, with `--postgres`, PostgreSQL — then stop
    #[arg(long)]
    seed_only: bool,
    /// Only the journal cases whose name contains this text (e.g. "supervisor")
    #[arg(long, value_name = "TEXT")]
    only: Option<String>,
    /// Also measure on PostgreSQL: an empty database's URL (seeded on first use, reused
    /// after), or `auto` for a throw-away server started here
    #[arg(long, value_name = "URL")]
    postgres: Option<String>,
}

fn sqlite_url(path: &Path) -> String {
    // As `Config::database_url` does: sqlx percent-decodes the path part.
    let p = path
        .to_string_lossy()
        .replace('%', "%25")
        .replace('?', "%3F")
        .replace('#', "%23");
    format!("sqlite://{p}?mode=rwc")
}

fn remove_db(path: &Path) -> Result<()> {
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        match std::fs::remove_file(&p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("removing {}", Path::new(&p).display())),
        }
    }
    Ok(())
}

/// Opens the cached database, or seeds it. Returns the seeding mark and the seeding time
/// (`None` when cached).
async fn prepare(args: &Args, db: &Path, plan: &seed::Plan) -> Result<(seed::Seeded, Option<f64>)> {
    if let Some(dir) = db.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let url = sqlite_url(db);
    if db.exists() {
        let store = SqliteStore::open(&url).await.context("opening the cached database")?;
        let mark = seed::seeded(&store).await?;
        if let Some(mark) = mark.filter(|m| m.calls == args.calls && m.users == args.users) {
            seed::check_directory(&store, plan).await?;
            store.pool().close().await;
            eprintln!("using the seeded database {} ({} calls)", db.display(), mark.calls);
            return Ok((mark, None));
        }
        store.pool().close().await;
        eprintln!(
            "{} holds another or an interrupted seeding: seeding it again",
            db.display()
        );
        remove_db(db)?;
    }
    let store = SqliteStore::open(&url).await.context("creating the database")?;
    let today = Utc::now().date_naive().and_hms_opt(0, 0, 0).expect("midnight exists");
    let end = Utc.from_utc_datetime(&today);
    eprintln!(
        "seeding {} calls across {} users into {} (batches of {})",
        args.calls,
        args.users,
        db.display(),
        args.batch
    );
    let seconds = seed_now(&store, plan, args.batch, end).await?;
    store.pool().close().await;
    let mark = seed::Seeded {
        calls: args.calls,
        users: args.users,
        end,
    };
    Ok((mark, Some(seconds)))
}

/// Seeds `store` (either backend) and says how it went; returns the seconds it took.
async fn seed_now(store: &dyn Store, plan: &seed::Plan, batch: usize, end: chrono::DateTime<Utc>) -> Result<f64> {
    let report = seed::seed(store, plan, batch, end).await?;
    eprintln!(
        "seeded {} calls and {} recordings in {:.1} s ({:.0} calls/s)",
        report.calls,
        report.recordings,
        report.seconds,
        report.calls as f64 / report.seconds
    );
    Ok(report.seconds)
}

/// Opens the PostgreSQL database at `url`, or seeds it when it is empty. A database that holds
/// anything else is refused rather than emptied: it may be someone's.
async fn prepare_postgres(args: &Args, url: &str, plan: &seed::Plan) -> Result<(seed::Seeded, Option<f64>)> {
    let store = PgStore::open(url).await.context("opening the PostgreSQL database")?;
    if let Some(mark) = seed::seeded(&store).await? {
        if mark.calls == args.calls && mark.users == args.users {
            seed::check_directory(&store, plan).await?;
            store.pool().close().await;
            eprintln!("using the seeded PostgreSQL database ({} calls)", mark.calls);
            return Ok((mark, None));
        }
    }
    if store.count_users().await? > 0 {
        bail!("the PostgreSQL database holds other data (or another seeding): give --postgres an empty database");
    }
    let today = Utc::now().date_naive().and_hms_opt(0, 0, 0).expect("midnight exists");
    let end = Utc.from_utc_datetime(&today);
    eprintln!(
        "seeding {} calls across {} users into PostgreSQL",
        args.calls, args.users
    );
    let seconds = seed_now(&store, plan, args.batch, end).await?;
    // Fresh statistics, as an operator's autovacuum would have them by the time the journal
    // is read.
    sqlx::query("ANALYZE").execute(store.pool()).await.context("ANALYZE")?;
    store.pool().close().await;
    let mark = seed::Seeded {
        calls: args.calls,
        users: args.users,
        end,
    };
    Ok((mark, Some(seconds)))
}

async fn login(base: &str, username: &str) -> Result<Client> {
    let mut c = Client::new(base)?;
    c.login(username, seed::PASSWORD)
        .await
        .with_context(|| format!("logging in as {username}"))?;
    Ok(c)
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    format!("{cores} cores, {cpu}")
}

/// The 1-minute load average: the machine is shared, so the report says how busy it was.
fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

/// Waits for the server's start-up evidence sweep, which reads every finished recording without
/// a signed entry: the seeded recordings have neither entries nor audio, so on a big journal it
/// walks all of them once — work a real installation (whose recordings were signed as they
/// finished) does not do, and which would otherwise run beside the first cases.
fn start_up_sweep(state: &callrec_server::state::AppState) {
    use callrec_server::evidence::sweep::{SWEEPS, UNSIGNED};
    let started = std::time::Instant::now();
    while state.metrics.value(SWEEPS).unwrap_or(0) < 1 {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    eprintln!(
        "the server's start-up evidence sweep: {} recordings without an entry or audio, {:.1} s; measuring after it",
        state.metrics.value(UNSIGNED).unwrap_or(0),
        started.elapsed().as_secs_f64()
    );
}

/// Starts the real server over the database at `url` (its own runtime) and measures every
/// journal case at each concurrency.
fn measure(
    args: &Args,
    plan: &seed::Plan,
    mark: &seed::Seeded,
    url: &str,
    data: &Path,
    client_rt: &tokio::runtime::Runtime,
    server_rt: &tokio::runtime::Runtime,
) -> Result<Vec<(stats::Row, f64)>> {
    let mut config = Config::for_data_dir(data.to_path_buf());
    config.database_url = Some(url.to_string().into());
    config.retention_days = 36_600;
    config.log = "warn".into();
    let server = server_rt.block_on(Server::bind(config))?;
    let base = format!("http://{}", server.http_addr);
    let state = server.state().clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = server_rt.spawn(server.run(async move {
        let _ = stopped.await;
    }));
    start_up_sweep(&state);
    let supervisor = plan.supervisors().next().expect("the plan has a supervisor");
    let agent = plan.agents().next().expect("the plan has an agent");
    let rows = client_rt.block_on(async {
        let clients = journal::Clients {
            admin: login(&base, "admin").await?,
            supervisor: login(&base, &plan.people[supervisor].username).await?,
            agent: login(&base, &plan.people[agent].username).await?,
        };
        eprintln!(
            "journal over http://{}: {} requests per case and concurrency",
            base.trim_start_matches("http://"),
            args.requests
        );
        journal::run(
            &clients,
            journal::Terms::new(plan, mark),
            &args.clients,
            args.requests,
            args.only.as_deref(),
        )
        .await
    })?;
    let _ = stop.send(());
    server_rt.block_on(serving).context("the server task panicked")??;
    Ok(rows)
}

fn main() -> Result<()> {
    let args = Args::parse();
    if args.clients.is_empty() || args.clients.contains(&0) {
        bail!("--clients needs positive counts, e.g. 1,8");
    }
    if args.calls == 0 {
        bail!("--calls must be positive");
    }
    let db = args
        .db
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("target/bench/journal-{}.db", args.calls)));
    let plan = seed::Plan::new(args.users, args.calls)?;

    // Clients (and seeding) on one runtime, the server on another: two cores, two threads
    // each, as a separate server process would be scheduled.
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("server")
        // Its blocking threads (also named `server`) would otherwise exit after 10 s idle
        // and take their CPU time out of `cpu::seconds` between two readings: a negative
        // figure per request in the 2026-12-05 run.
        .thread_keep_alive(std::time::Duration::from_secs(24 * 3600))
        .enable_all()
        .build()?;

    println!("machine: {}", machine());
    let (mark, seeding) = client_rt.block_on(prepare(&args, &db, &plan))?;
    match seeding {
        Some(s) => println!("seeding: {} calls in {:.1} s", args.calls, s),
        None => println!("seeding: cached at {}", db.display()),
    }
    let work = tempfile::Builder::new()
        .prefix("journal-bench-")
        .tempdir_in(db.parent().unwrap_or(Path::new(".")))?;
    let mut backends = vec![("SQLite", sqlite_url(&db), mark)];
    if let Some(pg) = &args.postgres {
        let url = if pg == "auto" {
            println!("PostgreSQL: a throw-away server started here (fsync off), seeded in this run");
            client_rt.block_on(callrec_testkit::postgres::fresh_database())
        } else {
            pg.clone()
        };
        let (pg_mark, seeding) = client_rt.block_on(prepare_postgres(&args, &url, &plan))?;
        match seeding {
            Some(s) => println!("seeding PostgreSQL: {} calls in {:.1} s", args.calls, s),
            None => println!("seeding PostgreSQL: cached"),
        }
        backends.push(("PostgreSQL", url, pg_mark));
    }
    if args.seed_only {
        return Ok(());
    }
    let supervisor = plan.supervisors().next().expect("the plan has a supervisor");
    let mut tables = Vec::new();
    for (name, url, mark) in &backends {
        let load_before = load();
        let rows = measure(&args, &plan, mark, url, &work.path().join(name), &client_rt, &server_rt)?;
        println!(
            "{name}: load average (1 min) before the journal runs: {load_before}, after: {}",
            load()
        );
        tables.push((name, rows));
    }

    let sup_teams = plan
        .teams
        .iter()
        .filter(|t| t.supervisors.contains(&supervisor))
        .count();
    let sup_members: usize = plan
        .teams
        .iter()
        .filter(|t| t.supervisors.contains(&supervisor))
        .map(|t| t.members.len())
        .sum();
    println!(
        "\njournal: {} calls, {} users; page {}; supervisor {} supervises {} teams ({} agents); {} requests per cell",
        args.calls,
        args.users,
        journal::PAGE,
        plan.people[supervisor].username,
        sup_teams,
        sup_members,
        args.requests
    );
    for (name, rows) in &tables {
        let table: Vec<stats::Row> = rows
            .iter()
            .map(|(r, _)| stats::Row {
                case: r.case.clone(),
                by_clients: r.by_clients.clone(),
            })
            .collect();
        println!("\n{name}:\n{}", stats::journal_table(&table));
        println!(
            "average rows per page: {}",
            rows.iter()
                .map(|(r, n)| format!("{}: {n:.1}", r.case))
                .collect::<Vec<_>>()
                .join("; ")
        );
    }

    if args.audio_seconds > 0 {
        let report = client_rt.block_on(async {
            let began = Instant::now();
            let r = audio::run(work.path(), args.audio_seconds, args.audio_runs, None).await;
            eprintln!("audio part took {:.1} s", began.elapsed().as_secs_f64());
            r
        })?;
        println!(
            "\naudio: {} s stereo µ-law WAV, {:.1} MB; ingest upload {:.0} MB/s",
            args.audio_seconds,
            report.wav_bytes as f64 / 1e6,
            report.ingest_mb_s
        );
        println!("| format | bytes | MB/s (each run) | best MB/s |\n|---|---:|---|---:|");
        for (format, bytes, speeds) in &report.downloads {
            let best = speeds.iter().copied().fold(0.0, f64::max);
            let each: Vec<String> = speeds.iter().map(|s| format!("{s:.0}")).collect();
            println!("| {} | {bytes} | {} | {best:.0} |", format.as_str(), each.join(", "));
        }
        let first: Vec<String> = report.first_audio_ms.iter().map(|m| format!("{m:.2}")).collect();
        println!("time to first audio (ms, each run): {}", first.join(", "));
        if let Some((first, cached)) = report.peaks_ms.split_first() {
            let cached: Vec<String> = cached.iter().map(|m| format!("{m:.2}")).collect();
            println!(
                "peaks of the hour, 1000 buckets (ms): first {first:.1}, cached {}",
                cached.join(", ")
            );
        }
    }
    Ok(())
}
