//! callrec-sim: a SIPREC client (RFC 7866) that places calls with generated G.711 audio
//! against any recorder, over the network, for load tests, end-to-end tests and the demo.
//!
//! Each call is a real SIP dialog — INVITE with a `multipart/mixed` body (SDP offering two
//! `sendonly` audio streams with `a=label`, plus `application/rs-metadata+xml` naming the
//! caller and the callee and who sends on which stream), ACK, optional hold and resume by
//! re-INVITE, BYE — and two real RTP streams of 20 ms packets carrying a different tone per
//! participant (caller 440 Hz, callee 1000 Hz; see [`signal`]).
//!
//! It is cheap enough to be the load generator: SIP runs on one tokio runtime and one shared
//! socket or connection ([`link`]), RTP on a few threads with a timer wheel ([`rtp`]).
//!
//! - [`run`] places N calls, C at a time, at a rate, and returns a [`Summary`].
//! - [`Sim`] and [`CallBuilder`] / [`SimCall`] drive single calls step by step from tests.

pub mod call;
pub mod link;
pub mod offer;
pub mod rtp;
pub mod signal;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

use callrec_media::g711::Law;
use tokio::task::JoinSet;
use tokio::time::Instant;

pub use call::{CallBuilder, CallReport, Sim, SimCall};
pub use link::{TlsClient, Transport};

/// Raises the soft open-file limit to the hard one: every call holds two RTP sockets (and, in
/// the server, a file). The one copy of this, for the sim's binaries, the server and the
/// benches (all of which link this crate); a limit that cannot be raised is left as it is.
pub fn raise_fd_limit() {
    use rustix::process::{getrlimit, setrlimit, Resource};
    let mut lim = getrlimit(Resource::Nofile);
    // `None` is unlimited.
    let below_hard = match (lim.current, lim.maximum) {
        (Some(soft), Some(hard)) => soft < hard,
        (Some(_), None) => true,
        (None, _) => false,
    };
    if below_hard {
        lim.current = lim.maximum;
        let _ = setrlimit(Resource::Nofile, lim);
    }
}

/// Why a simulated call or run failed.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// A socket failed.
    #[error("network: {0}")]
    Io(#[from] std::io::Error),
    /// The TCP connection to the recorder closed.
    #[error("the SIP connection closed")]
    TransportClosed,
    /// No final response in time.
    #[error("timed out waiting for {0}")]
    Timeout(&'static str),
    /// The recorder ended the call (BYE) while a request was pending.
    #[error("the recorder ended the call")]
    EndedByServer,
    /// The recorder answered with a non-2xx final response.
    #[error("rejected with SIP {0}")]
    Rejected(u16),
    /// The recorder's answer could not be used.
    #[error("unusable answer: {0}")]
    BadAnswer(&'static str),
    /// A SIP message could not be built or read.
    #[error(transparent)]
    Sip(#[from] callrec_media::sip::SipError),
    /// The answer's SDP could not be read.
    #[error(transparent)]
    Sdp(#[from] callrec_media::sdp::SdpError),
    /// The answer's multipart body could not be read.
    #[error(transparent)]
    Multipart(#[from] callrec_media::multipart::MultipartError),
    /// TLS could not be set up (certificates, handshake).
    #[error("TLS: {0}")]
    Tls(String),
}

impl SimError {
    /// A short, stable key for counting failures by kind.
    pub fn kind(&self) -> String {
        match self {
            SimError::Io(e) => format!("io_{:?}", e.kind()).to_lowercase(),
            SimError::TransportClosed => "transport_closed".into(),
            SimError::EndedByServer => "ended_by_server".into(),
            SimError::Timeout(what) => format!("timeout {what}"),
            SimError::Rejected(code) => format!("sip_{code}"),
            SimError::BadAnswer(_) | SimError::Sdp(_) | SimError::Multipart(_) => "bad_answer".into(),
            SimError::Sip(_) => "bad_sip".into(),
            SimError::Tls(_) => "tls".into(),
        }
    }
}

/// What [`run`] does.
#[derive(Debug, Clone)]
pub struct Options {
    /// The recorder's SIP address.
    pub sip: SocketAddr,
    /// SIP transport.
    pub transport: Transport,
    /// With [`Transport::Tls`]: whom to trust, and our client certificate.
    pub tls: Option<TlsClient>,
    /// Offer SRTP (SDES) with this suite on both streams.
    pub srtp: Option<callrec_media::sdp::CryptoSuite>,
    /// Calls to place in total.
    pub calls: u64,
    /// Calls in progress at most at once.
    pub concurrency: u64,
    /// How long each call lasts (answer to BYE).
    pub duration: Duration,
    /// New calls per second (0 = as fast as `concurrency` allows).
    pub rate: f64,
    /// Codec of both streams.
    pub law: Law,
    /// The caller's AoR.
    pub caller: String,
    /// The callee's AoR.
    pub callee: String,
    /// `X-MDC-MON-MODE` to send, if any.
    pub mon_mode: Option<String>,
    /// `X-Callrec-Consent` to send on the INVITE, if any.
    pub consent: Option<String>,
    /// `X-Callrec-Consent` to send in a re-INVITE this long after the answer, if any.
    pub consent_later: Option<(Duration, String)>,
    /// Put every call on hold this long after it was answered…
    pub hold_at: Option<Duration>,
    /// …for this long.
    pub hold_for: Duration,
    /// Percentage of RTP packets not sent.
    pub loss_pct: f64,
    /// Percentage of RTP packets sent after their successor.
    pub reorder_pct: f64,
    /// Send INVITE then CANCEL at once instead of placing the calls.
    pub cancel: bool,
    /// Send no RTP at all (`--silent`): calls a recorder should raise an alarm for.
    pub silent: bool,
    /// RTP sender threads.
    pub rtp_threads: usize,
    /// RTP datagrams sent so far by the run, readable while it goes on: what a load test
    /// compares with the rate it meant to offer.
    pub packets_sent: Arc<AtomicU64>,
}

impl Options {
    /// One call of `duration` to `sip`, with the defaults of the command line.
    pub fn new(sip: SocketAddr) -> Options {
        Options {
            sip,
            transport: Transport::Udp,
            tls: None,
            srtp: None,
            calls: 1,
            concurrency: 1,
            duration: Duration::from_secs(10),
            rate: 100.0,
            law: Law::Ulaw,
            caller: "sip:201@pbx.example".into(),
            callee: "sip:+15550100@carrier.example".into(),
            mon_mode: None,
            consent: None,
            consent_later: None,
            hold_at: None,
            hold_for: Duration::from_secs(2),
            loss_pct: 0.0,
            silent: false,
            reorder_pct: 0.0,
            cancel: false,
            rtp_threads: 1,
            packets_sent: Arc::default(),
        }
    }
}

/// Packets sent, per stream.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct PerStream {
    /// The caller's stream (channel 1 of the recording).
    pub caller: u64,
    /// The callee's stream (channel 2).
    pub callee: u64,
}

/// The outcome of [`run`]; printed by the binary as one JSON line.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Summary {
    /// Calls that were answered and hung up cleanly (or cancelled as asked).
    pub calls_ok: u64,
    /// Calls that failed.
    pub calls_failed: u64,
    /// RTP packets sent per stream.
    pub packets_sent: PerStream,
    /// Packets not sent on purpose (`--loss`).
    pub packets_skipped: u64,
    /// Packets sent out of order on purpose (`--reorder`).
    pub packets_reordered: u64,
    /// Failures by kind (`sip_488`, `timeout …`).
    pub failures: BTreeMap<String, u64>,
    /// Wall-clock time of the run.
    pub elapsed_secs: f64,
}

impl Summary {
    fn add(&mut self, result: Result<CallReport, SimError>) {
        match result {
            Ok(r) => {
                self.calls_ok += 1;
                self.packets_sent.caller += r.caller_packets;
                self.packets_sent.callee += r.callee_packets;
                self.packets_skipped += r.skipped;
                self.packets_reordered += r.reordered;
            }
            Err(e) => {
                self.calls_failed += 1;
                *self.failures.entry(e.kind()).or_default() += 1;
            }
        }
    }
}

/// Places `opts.calls` calls, at most `opts.concurrency` at once, starting `opts.rate` per
/// second, each lasting `opts.duration`; returns what happened.
pub async fn run(opts: &Options) -> Result<Summary, SimError> {
    let sim = Sim::counting_tls(
        opts.sip,
        opts.transport,
        opts.tls.as_ref(),
        opts.rtp_threads,
        opts.packets_sent.clone(),
    )
    .await?;
    let started = Instant::now();
    let permits = Arc::new(tokio::sync::Semaphore::new(
        usize::try_from(opts.concurrency.max(1)).unwrap_or(usize::MAX),
    ));
    let interval = if opts.rate > 0.0 {
        Duration::from_secs_f64(1.0 / opts.rate)
    } else {
        Duration::ZERO
    };
    let mut summary = Summary::default();
    let mut tasks = JoinSet::new();
    let opts = Arc::new(opts.clone());
    let mut next_start = started;
    for _ in 0..opts.calls {
        let Ok(permit) = permits.clone().acquire_owned().await else {
            break;
        };
        tokio::time::sleep_until(next_start).await;
        next_start = next_start.max(Instant::now() - interval) + interval;
        let builder = builder_for(&sim, &opts);
        let o = opts.clone();
        tasks.spawn(async move {
            let result = one_call(builder, &o).await;
            drop(permit);
            result
        });
        while let Some(done) = tasks.try_join_next() {
            summary.add(done.unwrap_or(Err(SimError::Timeout("a call task"))));
        }
    }
    while let Some(done) = tasks.join_next().await {
        summary.add(done.unwrap_or(Err(SimError::Timeout("a call task"))));
    }
    summary.elapsed_secs = started.elapsed().as_secs_f64();
    Ok(summary)
}

fn builder_for(sim: &Sim, opts: &Options) -> CallBuilder {
    let mut b = sim
        .call()
        .caller(&opts.caller)
        .callee(&opts.callee)
        .codec(opts.law)
        .loss(opts.loss_pct)
        .reorder(opts.reorder_pct);
    if let Some(mode) = &opts.mon_mode {
        b = b.mon_mode(mode);
    }
    if opts.silent {
        b = b.silent();
    }
    if let Some(suite) = opts.srtp {
        b = b.srtp(suite);
    }
    if let Some(consent) = &opts.consent {
        b = b.consent(consent);
    }
    b
}

async fn one_call(builder: CallBuilder, opts: &Options) -> Result<CallReport, SimError> {
    if opts.cancel {
        return match builder.invite_and_cancel().await? {
            487 | 200 => Ok(CallReport::default()),
            code => Err(SimError::Rejected(code)),
        };
    }
    let mut call = builder.invite().await?;
    let answered = Instant::now();
    let end = answered + opts.duration;
    if let Some((at, value)) = opts.consent_later.as_ref().filter(|(at, _)| *at < opts.duration) {
        tokio::time::sleep_until(answered + *at).await;
        call.consent(value).await?;
    }
    if let Some(at) = opts.hold_at.filter(|at| *at < opts.duration) {
        tokio::time::sleep_until(answered + at).await;
        call.hold().await?;
        tokio::time::sleep_until((answered + at + opts.hold_for).min(end)).await;
        call.resume().await?;
    }
    tokio::time::sleep_until(end).await;
    call.bye().await
}
