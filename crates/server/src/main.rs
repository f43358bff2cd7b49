//! The `callrec-server` binary: parses the command line, loads the configuration, sets up
//! logging and hands over to [`callrec_server::run`]. Everything else lives in the library
//! so tests can run the server in-process.

use std::process::ExitCode;

use anyhow::Context;
use callrec_server::config::{default_config_toml, Config, ServeArgs};
use callrec_server::sealed::{self, MasterKey};
use clap::{Parser, Subcommand};

/// callrec call-recording server (SIPREC, ingest API, journal, dispatch).
#[derive(Parser)]
#[command(name = "callrec-server", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server until Ctrl-C or SIGTERM.
    Serve(ServeArgs),
    /// Print a commented TOML configuration with every key at its default.
    DefaultConfig,
    /// Check the signed evidence chain against the database and the stored audio, without a
    /// running server: lists every recording altered, missing (row or file) or out of chain;
    /// exit status 1 when there is one.
    Verify(VerifyArgs),
    /// Write a new random master key for encryption at rest (base64, mode 0600) to PATH;
    /// an existing file is never overwritten.
    GenKey {
        /// Where to write the key.
        path: std::path::PathBuf,
    },
    /// Re-wrap every stored file's data key (data directory and object store) from the
    /// configured encryption key to a new one; the audio is not rewritten. Run it with the
    /// server stopped, then point encryption_key_file at the new key.
    Rekey {
        /// The new master key (make one with `gen-key`).
        #[arg(long, value_name = "FILE")]
        new_key_file: std::path::PathBuf,
        #[command(flatten)]
        args: ServeArgs,
    },
    /// Encrypt every plaintext recording and journal (data directory and object store) with
    /// the configured encryption key. Run it with the server stopped.
    EncryptExisting(ServeArgs),
}

#[derive(clap::Args)]
struct VerifyArgs {
    /// TOML configuration file; default: $CALLREC_CONFIG, else none.
    #[arg(long, value_name = "FILE")]
    config: Option<std::path::PathBuf>,
    /// The data directory [default: ./callrec-data]
    #[arg(long, value_name = "DIR")]
    data_dir: Option<std::path::PathBuf>,
    /// Print the report as JSON (the answer of `GET /api/v1/evidence/verify`).
    #[arg(long)]
    json: bool,
}

/// Exit status for a configuration the server refuses, as for other usage errors (clap
/// exits with 2 on bad flags too).
const EXIT_BAD_CONFIG: u8 = 2;

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::DefaultConfig => {
            print!("{}", default_config_toml());
            ExitCode::SUCCESS
        }
        Command::Verify(args) => {
            let serve = ServeArgs {
                config: args.config,
                data_dir: args.data_dir,
                ..ServeArgs::default()
            };
            let config = match load(&serve) {
                Ok(c) => c,
                Err(code) => return code,
            };
            match verify(&config, args.json) {
                Ok(true) => ExitCode::SUCCESS,
                Ok(false) => ExitCode::FAILURE,
                Err(e) => {
                    eprintln!("callrec-server: {e:#}");
                    ExitCode::from(EXIT_BAD_CONFIG)
                }
            }
        }
        Command::GenKey { path } => report(
            MasterKey::generate()
                .write_new(&path)
                .with_context(|| format!("cannot write a new key to {}", path.display()))
                .map(|()| {
                    format!(
                        "wrote a new master key to {} (mode 0600); keep a copy somewhere safe",
                        path.display()
                    )
                }),
        ),
        Command::Rekey { new_key_file, args } => {
            let config = match load(&args) {
                Ok(c) => c,
                Err(code) => return code,
            };
            report(
                MasterKey::load(&new_key_file)
                    .map_err(anyhow::Error::from)
                    .and_then(|new| {
                        let new = std::sync::Arc::new(new);
                        let id = new.id();
                        block_on(async move { sealed::convert::rekey(&config, new).await }).map(|done| {
                            format!(
                                "re-wrapped {} files under key {id} ({} unchanged); set encryption_key_file to {}",
                                done.changed,
                                done.unchanged,
                                new_key_file.display()
                            )
                        })
                    }),
            )
        }
        Command::EncryptExisting(args) => {
            let config = match load(&args) {
                Ok(c) => c,
                Err(code) => return code,
            };
            report(
                block_on(async move { sealed::convert::encrypt_existing(&config).await })
                    .map(|done| format!("encrypted {} files ({} were already)", done.changed, done.unchanged)),
            )
        }
        Command::Serve(args) => {
            let config = match load(&args) {
                Ok(c) => c,
                Err(code) => return code,
            };
            match serve(config) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("callrec-server: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

/// Runs the offline check and prints it; `Ok(false)` when a problem was found.
fn verify(config: &Config, json: bool) -> anyhow::Result<bool> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let report = runtime.block_on(callrec_server::evidence::verify::offline(config))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        for p in &report.problems {
            let seq = p.seq.map(|s| format!(" (entry {s})")).unwrap_or_default();
            println!(
                "recording {}: {}{seq}: {}",
                p.recording_id,
                serde_json::to_value(p.problem)?.as_str().unwrap_or("problem"),
                p.detail
            );
        }
        println!(
            "{}: {} entries, {} recordings checked, {} problem(s)",
            if report.ok { "ok" } else { "NOT OK" },
            report.entries,
            report.checked,
            report.problems.len()
        );
    }
    Ok(report.ok)
}

/// The configuration from the flags, file and environment, or the exit code for a bad one.
fn load(args: &ServeArgs) -> Result<Config, ExitCode> {
    // Lossy: a non-UTF-8 value then fails validation visibly instead of being silently
    // ignored.
    let env = |name: &str| std::env::var_os(name).map(|v| v.to_string_lossy().into_owned());
    Config::load(args, &env).map_err(|e| {
        eprintln!("callrec-server: {e}");
        ExitCode::from(EXIT_BAD_CONFIG)
    })
}

/// Prints a maintenance command's outcome in one line.
fn report(outcome: anyhow::Result<String>) -> ExitCode {
    match outcome {
        Ok(line) => {
            println!("callrec-server: {line}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("callrec-server: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn block_on<T>(f: impl std::future::Future<Output = anyhow::Result<T>>) -> anyhow::Result<T> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?
        .block_on(f)
}

fn serve(config: Config) -> anyhow::Result<()> {
    // `log` was validated by Config::load; this cannot fail for a loaded config.
    let filter =
        tracing_subscriber::EnvFilter::try_new(&config.log).with_context(|| format!("log filter {:?}", config.log))?;
    tracing_subscriber::fmt().with_env_filter(filter).init();
    tracing::info!(?config, "configuration loaded");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let result = runtime.block_on(callrec_server::run(config));
    // `run` has finalised what it could within the grace period; a blocking task still stuck
    // (a hung disk) must not keep the process alive past it.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    result
}
