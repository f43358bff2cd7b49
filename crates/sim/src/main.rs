//! The `callrec-sim` command: places SIPREC calls against a recorder and prints one JSON
//! summary line (calls ok/failed, RTP packets sent per stream). Exits 1 when a call failed.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use callrec_media::g711::Law;
use callrec_media::sdp::CryptoSuite;
use callrec_sim::{Options, TlsClient, Transport};
use clap::Parser;

/// SIPREC call simulator: real SIP and RTP, a distinct tone per participant.
#[derive(Parser, Debug)]
#[command(name = "callrec-sim", version)]
struct Cli {
    /// The recorder's SIP address.
    #[arg(long, value_name = "ADDR:PORT")]
    sip: SocketAddr,
    /// Calls to place in total.
    #[arg(long, value_name = "N", default_value_t = 1)]
    calls: u64,
    /// Calls in progress at most at once.
    #[arg(long, value_name = "C", default_value_t = 1)]
    concurrency: u64,
    /// Length of each call in seconds (answer to BYE).
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    duration: f64,
    /// New calls per second (0 = no limit but the concurrency).
    #[arg(long, value_name = "CPS", default_value_t = 100.0)]
    rate: f64,
    /// Codec of both streams.
    #[arg(long, value_parser = ["pcmu", "pcma"], default_value = "pcmu")]
    codec: String,
    /// The caller's address of record (first participant of the metadata).
    #[arg(long, value_name = "AOR", default_value = "sip:201@pbx.example")]
    caller: String,
    /// The callee's address of record.
    #[arg(long, value_name = "AOR", default_value = "sip:+15550100@carrier.example")]
    callee: String,
    /// Sends `X-MDC-MON-MODE` with this value.
    #[arg(long, value_parser = ["auto", "force", "deny", "manual"])]
    mon_mode: Option<String>,
    /// Sends `X-Callrec-Consent` with this value on the INVITE (an IVR asked before).
    #[arg(long, value_name = "VALUE")]
    consent: Option<String>,
    /// Sends `X-Callrec-Consent` with this value in a re-INVITE `--consent-at` seconds after
    /// the answer (an IVR asked during the call).
    #[arg(long, value_name = "VALUE")]
    consent_later: Option<String>,
    /// When `--consent-later` is sent, in seconds after the answer.
    #[arg(long, value_name = "SECS", default_value_t = 3.0)]
    consent_at: f64,
    /// SIP transport (`tls` needs --tls-ca; point --sip at the recorder's `sips` port).
    #[arg(long, value_parser = ["udp", "tcp", "tls"], default_value = "udp")]
    transport: String,
    /// With `--transport tls`: PEM file of the CA (or self-signed certificate) to trust.
    #[arg(long, value_name = "FILE")]
    tls_ca: Option<PathBuf>,
    /// With `--transport tls`: the name the recorder's certificate must carry [default: the
    /// IP address of --sip].
    #[arg(long, value_name = "NAME")]
    tls_name: Option<String>,
    /// With `--transport tls`: a client certificate (PEM) for mutual TLS; needs --tls-key.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The private key (PEM) of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Offer SRTP (RTP/SAVP with a=crypto, SDES) on both streams and encrypt every packet.
    #[arg(long)]
    srtp: bool,
    /// The SRTP suite offered with --srtp.
    #[arg(long, value_name = "SUITE", default_value = "AES_CM_128_HMAC_SHA1_80")]
    srtp_suite: String,
    /// Put each call on hold this many seconds after the answer.
    #[arg(long, value_name = "SECS")]
    hold_at: Option<f64>,
    /// Length of the hold in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 2.0)]
    hold_for: f64,
    /// Percentage of RTP packets not sent (simulated loss).
    #[arg(long, value_name = "PCT", default_value_t = 0.0)]
    loss: f64,
    /// Percentage of RTP packets sent after their successor (simulated reordering).
    #[arg(long, value_name = "PCT", default_value_t = 0.0)]
    reorder: f64,
    /// Send INVITE and CANCEL at once instead of placing calls.
    #[arg(long)]
    cancel: bool,
    /// Place calls that send no RTP at all (a forced one raises a missing-recording alarm).
    #[arg(long)]
    silent: bool,
    /// RTP sender threads.
    #[arg(long, value_name = "N", default_value_t = 1)]
    rtp_threads: usize,
}

fn secs(name: &str, v: f64) -> anyhow::Result<Duration> {
    Duration::try_from_secs_f64(v).with_context(|| format!("--{name} must be a non-negative number of seconds"))
}

fn options(cli: &Cli) -> anyhow::Result<Options> {
    let mut o = Options::new(cli.sip);
    o.transport = Transport::parse(&cli.transport).context("--transport is udp, tcp or tls")?;
    if o.transport == Transport::Tls {
        let ca = cli.tls_ca.as_deref().context("--transport tls needs --tls-ca FILE")?;
        let name = cli.tls_name.clone().unwrap_or_else(|| cli.sip.ip().to_string());
        let client = cli.tls_cert.as_deref().zip(cli.tls_key.as_deref());
        o.tls = Some(TlsClient::new(ca, &name, client)?);
    }
    if cli.srtp {
        o.srtp = Some(CryptoSuite::parse(&cli.srtp_suite).with_context(|| {
            let names: Vec<&str> = CryptoSuite::ALL.iter().map(|s| s.name()).collect();
            format!("--srtp-suite is one of {}", names.join(", "))
        })?);
    }
    o.calls = cli.calls;
    o.concurrency = cli.concurrency.max(1);
    o.duration = secs("duration", cli.duration)?;
    o.rate = cli.rate.max(0.0);
    o.law = if cli.codec == "pcma" { Law::Alaw } else { Law::Ulaw };
    o.caller.clone_from(&cli.caller);
    o.callee.clone_from(&cli.callee);
    o.mon_mode.clone_from(&cli.mon_mode);
    o.consent.clone_from(&cli.consent);
    o.consent_later = match &cli.consent_later {
        Some(v) => Some((secs("consent-at", cli.consent_at)?, v.clone())),
        None => None,
    };
    o.hold_at = cli.hold_at.map(|v| secs("hold-at", v)).transpose()?;
    o.hold_for = secs("hold-for", cli.hold_for)?;
    o.loss_pct = cli.loss.clamp(0.0, 100.0);
    o.reorder_pct = cli.reorder.clamp(0.0, 100.0);
    o.cancel = cli.cancel;
    o.silent = cli.silent;
    o.rtp_threads = cli.rtp_threads.max(1);
    Ok(o)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("callrec-sim: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: &Cli) -> anyhow::Result<bool> {
    let opts = options(cli)?;
    callrec_sim::raise_fd_limit();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let summary = rt
        .block_on(callrec_sim::run(&opts))
        .with_context(|| format!("simulating calls to {}", opts.sip))?;
    println!("{}", serde_json::to_string(&summary).context("encoding the summary")?);
    Ok(summary.calls_failed == 0)
}
