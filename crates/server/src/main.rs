//! The `callrec-server` binary: parses the command line, loads the configuration, sets up
//! logging and hands over to [`callrec_server::run`]. Everything else lives in the library
//! so tests can run the server in-process.

use std::process::ExitCode;

use anyhow::Context;
use callrec_server::config::{default_config_toml, Config, ServeArgs};
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
        Command::Serve(args) => {
            // Lossy: a non-UTF-8 value then fails validation visibly instead of being
            // silently ignored.
            let env = |name: &str| std::env::var_os(name).map(|v| v.to_string_lossy().into_owned());
            let config = match Config::load(&args, &env) {
                Ok(config) => config,
                Err(e) => {
                    eprintln!("callrec-server: {e}");
                    return ExitCode::from(EXIT_BAD_CONFIG);
                }
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
