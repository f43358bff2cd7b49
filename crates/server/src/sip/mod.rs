//! The SIPREC recorder's SIP side (RFC 3261, RFC 7866 §8): transports on the `--sip`
//! address (UDP and TCP), the server-transaction layer, and one dialog task per recording
//! session that turns it into a live call (`live::open`/`answer`/`set_held`/`end`) whose
//! audio the [`rtp`](crate::rtp) workers receive.
//!
//! - [`transport`]: sockets, framing, where responses go; TCP idle timeout.
//! - [`admission`]: the per-source limit on sessions without an ACK (503 beyond it), the TCP
//!   connection limit and the file-descriptor reserve.
//! - [`transaction`]: retransmission absorption, 2xx retransmission, 400 for unparsable
//!   requests.
//! - [`offer`]: the INVITE body (SDP + rs-metadata), `X-MDC-MON-MODE`, participants and
//!   channels.
//! - [`session`]: the dialog: INVITE → 200 (or 4xx), ACK (recording starts), re-INVITE
//!   (hold, metadata), BYE, CANCEL, ACK timeout (nothing recorded), silence timeout.
//!
//! Requests outside a dialog: INVITE starts a session; OPTIONS is answered 200 (RFC 3261
//! §11.2); BYE, CANCEL and other in-dialog requests for an unknown Call-ID get 481
//! (§12.2.2, §9.2); ACK is absorbed; other methods get 405 with `Allow`.

pub mod admission;
pub mod offer;
pub mod session;
pub mod transaction;
pub mod transport;

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use callrec_media::sip::{response_to, Message, Method};
use tokio::sync::{mpsc, watch, Notify};
use tokio::task::JoinHandle;

use crate::rtp::RtpEngine;
use crate::state::AppState;
use transaction::{Completed, TxKey};
use transport::Peer;

/// Methods we answer (the `Allow` header).
pub const ALLOW: &str = "INVITE, ACK, BYE, CANCEL, OPTIONS, UPDATE, INFO";
/// How long shutdown waits for sessions to finalise their recordings.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// The SIP counters of `/metrics`.
pub struct SipCounters {
    /// SIP requests received.
    pub requests: Arc<AtomicU64>,
    /// SIP messages refused as malformed (answered 400, or dropped when unanswerable).
    pub malformed: Arc<AtomicU64>,
    /// INVITEs refused for malformed SDP (400).
    pub bad_sdp: Arc<AtomicU64>,
    /// INVITEs refused for malformed rs-metadata (400).
    pub bad_metadata: Arc<AtomicU64>,
    /// INVITEs refused for other reasons (415, 420, 488, 503).
    pub rejected: Arc<AtomicU64>,
    /// Recording sessions accepted.
    pub sessions: Arc<AtomicU64>,
    /// Sessions closed for silence.
    pub timeouts: Arc<AtomicU64>,
    /// Sessions closed because the 200 OK was never acknowledged (nothing recorded).
    pub unacknowledged: Arc<AtomicU64>,
    /// INVITEs refused (503) because their source had too many sessions without an ACK.
    pub source_limited: Arc<AtomicU64>,
    /// TCP connections closed at once: the connection limit or the descriptor reserve.
    pub tcp_refused: Arc<AtomicU64>,
    /// TCP connections closed for idleness.
    pub tcp_idle: Arc<AtomicU64>,
}

impl SipCounters {
    fn register(m: &crate::metrics::Metrics) -> SipCounters {
        SipCounters {
            requests: m.counter("callrec_sip_requests_total", "SIP requests received."),
            malformed: m.counter(
                "callrec_sip_malformed_total",
                "SIP messages refused as malformed (400, or dropped when unanswerable).",
            ),
            bad_sdp: m.counter("callrec_sip_bad_sdp_total", "INVITEs refused for malformed SDP (400)."),
            bad_metadata: m.counter(
                "callrec_sip_bad_metadata_total",
                "INVITEs refused for malformed rs-metadata XML (400).",
            ),
            rejected: m.counter(
                "callrec_sip_rejected_total",
                "INVITEs refused as not recordable (415, 420, 488, 503).",
            ),
            sessions: m.counter("callrec_sip_sessions_total", "SIPREC sessions accepted."),
            timeouts: m.counter(
                "callrec_sip_session_timeouts_total",
                "SIPREC sessions closed after neither RTP nor SIP for the timeout.",
            ),
            unacknowledged: m.counter(
                "callrec_sip_unacknowledged_total",
                "SIPREC sessions closed because their 200 OK was never acknowledged (nothing recorded).",
            ),
            source_limited: m.counter(
                "callrec_sip_source_limited_total",
                "INVITEs refused (503) because their source had too many sessions without an ACK.",
            ),
            tcp_refused: m.counter(
                "callrec_sip_tcp_refused_total",
                "SIP TCP connections closed when accepted: connection limit or file-descriptor reserve.",
            ),
            tcp_idle: m.counter(
                "callrec_sip_tcp_idle_closed_total",
                "SIP TCP connections closed after the idle timeout.",
            ),
        }
    }
}

/// A message for a dialog's task.
pub struct Inbound {
    /// The request.
    pub message: Message,
    /// Where it came from.
    pub peer: Peer,
}

/// Counts running sessions so shutdown can wait for them.
#[derive(Default)]
struct Sessions {
    running: AtomicUsize,
    idle: Notify,
}

/// What every SIP task shares.
pub struct SipCore {
    state: AppState,
    rtp: Arc<RtpEngine>,
    local: SocketAddr,
    dialogs: Mutex<HashMap<String, mpsc::UnboundedSender<Inbound>>>,
    completed: Mutex<Completed>,
    counters: SipCounters,
    shutdown: watch::Receiver<bool>,
    sessions: Sessions,
    unacknowledged: admission::Unacknowledged,
    tcp: admission::TcpAdmission,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Both maps stay consistent across a panic (single inserts and removals).
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl SipCore {
    /// The application state.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The counters.
    pub fn counters(&self) -> &SipCounters {
        &self.counters
    }

    /// The address our SDP and Contact advertise to `peer`: the bound address, or the
    /// local address the kernel routes to the peer from when bound to a wildcard.
    pub fn local_ip_for(&self, peer: SocketAddr) -> IpAddr {
        let ip = self.local.ip();
        if !ip.is_unspecified() {
            return ip;
        }
        let probe = if peer.is_ipv4() {
            std::net::UdpSocket::bind((std::net::Ipv4Addr::UNSPECIFIED, 0))
        } else {
            std::net::UdpSocket::bind((std::net::Ipv6Addr::UNSPECIFIED, 0))
        };
        probe
            .and_then(|s| s.connect(peer).and_then(|()| s.local_addr()))
            .map(|a| a.ip())
            .unwrap_or(ip)
    }

    /// The SIP port.
    pub fn port(&self) -> u16 {
        self.local.port()
    }

    /// Sends a response to `request` and, when final, remembers it for retransmissions
    /// (except a 2xx to INVITE, retransmitted by its dialog).
    pub fn respond(&self, request: &Message, response: &Message, peer: &Peer) {
        let bytes = response.to_bytes();
        let code = response.status().unwrap_or(0);
        let is_invite = request.method() == Some(&Method::Invite);
        if code >= 200 && !(is_invite && code < 300) {
            if let Some(key) = TxKey::of(request) {
                lock(&self.completed).insert(key, bytes.clone(), Instant::now());
            }
        }
        peer.send(bytes);
    }

    /// Answers `request` with `code` (and a `Warning` when `why` is not empty).
    pub fn reply(&self, request: &Message, code: u16, why: &str, peer: &Peer) {
        match response_to(request, code, "", Some(&session::new_tag())) {
            Ok(mut r) => {
                if code == 405 || code == 200 && request.method() == Some(&Method::Options) {
                    r.headers.push("Allow", ALLOW);
                }
                if !why.is_empty() {
                    let text: String = why.chars().filter(|c| !c.is_control()).take(200).collect();
                    r.headers
                        .push("Warning", &format!("399 callrec \"{}\"", text.replace('"', "'")));
                }
                self.respond(request, &r, peer);
            }
            Err(e) => {
                transport::answer_unparsable(&request.to_bytes(), peer, &e.to_string());
            }
        }
    }

    /// Answers `request` 503 Service Unavailable with `Retry-After` (RFC 3261 §21.5.4: without
    /// it the client must treat the 503 as a 500).
    pub fn reply_retry_after(&self, request: &Message, secs: u32, peer: &Peer) {
        if let Ok(mut r) = response_to(request, 503, "", Some(&session::new_tag())) {
            r.headers.push("Retry-After", &secs.to_string());
            self.respond(request, &r, peer);
        }
    }

    /// The configuration's ACK timeout (64·T1 by default).
    pub fn ack_timeout(&self) -> Duration {
        Duration::from_secs(u64::from(self.state.config.sip_ack_timeout_secs.max(1)))
    }

    /// Sessions from `ip` still waiting for their ACK.
    pub fn unacknowledged_from(&self, ip: IpAddr) -> u32 {
        self.unacknowledged.of(ip)
    }

    /// TCP connection admission.
    pub fn tcp(&self) -> &admission::TcpAdmission {
        &self.tcp
    }

    /// A message that did not parse: counted, answered 400 when it looks like a request.
    pub fn malformed(&self, raw: &[u8], peer: &Peer, why: &str) {
        self.counters.malformed.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(peer = %peer.addr(), why, "SIP: malformed message");
        transport::answer_unparsable(raw, peer, why);
    }

    /// Routes one parsed message.
    pub fn handle(self: &Arc<Self>, message: Message, peer: Peer) {
        let Some(method) = message.method().cloned() else {
            return; // a response to a BYE we sent: nothing waits for it
        };
        self.counters.requests.fetch_add(1, Ordering::Relaxed);
        // RFC 3261 §8.1.1: these five are mandatory; CSeq's method must be the request's.
        let valid = message.top_via().is_ok()
            && message.from().is_ok()
            && message.to().is_ok()
            && message.call_id().is_ok()
            && message.cseq().is_ok_and(|c| c.method == method);
        if !valid {
            self.malformed(
                &message.to_bytes(),
                &peer,
                "missing or malformed Via, From, To, Call-ID or CSeq",
            );
            return;
        }
        if method != Method::Ack {
            if let Some(key) = TxKey::of(&message) {
                let cached = lock(&self.completed).get(&key, Instant::now());
                if let Some(bytes) = cached {
                    peer.send(bytes);
                    return;
                }
            }
        }
        let call_id = message.call_id().unwrap_or_default().to_owned();
        let dialog = lock(&self.dialogs).get(&call_id).cloned();
        if let Some(tx) = dialog {
            match tx.send(Inbound { message, peer }) {
                Ok(()) => return,
                // The session just ended: answer as if it never existed.
                Err(mpsc::error::SendError(Inbound { message, peer })) => {
                    self.outside_dialog(message, peer, method);
                }
            }
            return;
        }
        self.outside_dialog(message, peer, method);
    }

    fn outside_dialog(self: &Arc<Self>, message: Message, peer: Peer, method: Method) {
        let has_to_tag = message.to().is_ok_and(|t| t.tag().is_some());
        match method {
            Method::Invite if !has_to_tag => self.start_session(message, peer),
            Method::Ack => {}
            Method::Options if !has_to_tag => self.reply(&message, 200, "", &peer),
            Method::Invite
            | Method::Bye
            | Method::Cancel
            | Method::Options
            | Method::Info
            | Method::Update
            | Method::Prack => self.reply(&message, 481, "", &peer),
            _ => self.reply(&message, 405, "", &peer),
        }
    }

    fn start_session(self: &Arc<Self>, invite: Message, peer: Peer) {
        let ip = peer.addr().ip();
        let Some(pending) = self.unacknowledged.admit(ip) else {
            // Before any work (no dialog, no ports, no row): this is what a flood of INVITEs
            // that are never acknowledged meets once its source has used up its share.
            self.counters.source_limited.fetch_add(1, Ordering::Relaxed);
            self.counters.rejected.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(source = %ip, "SIPREC: too many sessions without an ACK from this source; 503");
            self.reply_retry_after(&invite, admission::RETRY_AFTER_SECS, &peer);
            return;
        };
        let call_id = invite.call_id().unwrap_or_default().to_owned();
        let (tx, rx) = mpsc::unbounded_channel();
        lock(&self.dialogs).insert(call_id.clone(), tx);
        self.sessions.running.fetch_add(1, Ordering::Relaxed);
        let core = self.clone();
        tokio::spawn(async move {
            session::run(core.clone(), invite, peer, rx, pending).await;
            lock(&core.dialogs).remove(&call_id);
            if core.sessions.running.fetch_sub(1, Ordering::Relaxed) == 1 {
                core.sessions.idle.notify_waiters();
            }
        });
    }

    /// A receiver that turns true when the server shuts down.
    pub fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.shutdown.clone()
    }

    /// The RTP engine.
    pub fn rtp(&self) -> &Arc<RtpEngine> {
        &self.rtp
    }
}

/// The SIP sockets, bound before serving so tests can use port 0.
pub struct SipSockets {
    udp: std::net::UdpSocket,
    tcp: std::net::TcpListener,
    /// The bound address (UDP and TCP share the port).
    pub addr: SocketAddr,
}

/// Binds UDP and TCP on `addr`. With port 0 the kernel picks a UDP port and TCP takes the
/// same one; if that TCP port is taken, another pair is tried.
pub fn bind(addr: SocketAddr) -> io::Result<SipSockets> {
    let tries = if addr.port() == 0 { 20 } else { 1 };
    let mut last = None;
    for _ in 0..tries {
        let udp = std::net::UdpSocket::bind(addr)?;
        let bound = udp.local_addr()?;
        match std::net::TcpListener::bind(bound) {
            Ok(tcp) => {
                udp.set_nonblocking(true)?;
                tcp.set_nonblocking(true)?;
                return Ok(SipSockets { udp, tcp, addr: bound });
            }
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("cannot bind SIP")))
}

/// The running SIP service.
pub struct SipService {
    core: Arc<SipCore>,
    tasks: Vec<JoinHandle<()>>,
    shutdown: watch::Sender<bool>,
}

impl SipService {
    /// Starts the RTP workers and the SIP tasks. Must run inside the tokio runtime.
    pub fn start(state: AppState, sockets: SipSockets) -> anyhow::Result<SipService> {
        let rtp = RtpEngine::start(&state.metrics, sockets.addr.ip(), state.config.rtp_ports)
            .context("cannot start the RTP workers")?;
        let udp = Arc::new(tokio::net::UdpSocket::from_std(sockets.udp).context("SIP UDP socket")?);
        let tcp = tokio::net::TcpListener::from_std(sockets.tcp).context("SIP TCP listener")?;
        let (shutdown, shutdown_rx) = watch::channel(false);
        let cfg = &state.config;
        let unacknowledged = admission::Unacknowledged::new(cfg.sip_unacknowledged_per_source);
        let tcp_admission = admission::TcpAdmission::new(
            cfg.sip_tcp_max_connections,
            cfg.sip_tcp_fd_reserve,
            crate::rtp::fds::FreeFds::default(),
        );
        let core = Arc::new(SipCore {
            counters: SipCounters::register(&state.metrics),
            state,
            rtp,
            local: sockets.addr,
            dialogs: Mutex::default(),
            completed: Mutex::default(),
            shutdown: shutdown_rx,
            sessions: Sessions::default(),
            unacknowledged,
            tcp: tcp_admission,
        });
        let purge = {
            let core = core.clone();
            tokio::spawn(async move {
                let mut every = tokio::time::interval(Duration::from_secs(5));
                loop {
                    every.tick().await;
                    lock(&core.completed).purge(Instant::now());
                }
            })
        };
        let tasks = vec![
            tokio::spawn(transport::serve_udp(core.clone(), udp)),
            tokio::spawn(transport::serve_tcp(core.clone(), tcp)),
            purge,
        ];
        tracing::info!(sip = %core.local, rtp_ports = ?core.state.config.rtp_ports, "SIPREC recorder listening (UDP and TCP)");
        Ok(SipService { core, tasks, shutdown })
    }

    /// The shared core (for the demo and tests).
    pub fn core(&self) -> &Arc<SipCore> {
        &self.core
    }

    /// Stops accepting, ends every session (their recordings are finalised), stops RTP.
    pub async fn stop(self) {
        for t in &self.tasks {
            t.abort();
        }
        let _ = self.shutdown.send(true);
        let deadline = tokio::time::Instant::now() + SHUTDOWN_GRACE;
        while self.core.sessions.running.load(Ordering::Relaxed) > 0 {
            let idle = self.core.sessions.idle.notified();
            if self.core.sessions.running.load(Ordering::Relaxed) == 0 {
                break;
            }
            if tokio::time::timeout_at(deadline, idle).await.is_err() {
                tracing::warn!(
                    "SIP sessions still running at shutdown; their recordings are repaired at the next start"
                );
                break;
            }
        }
        let rtp = self.core.rtp.clone();
        let _ = tokio::task::spawn_blocking(move || rtp.shutdown()).await;
    }
}

impl Drop for SipService {
    /// Dropped without [`stop`](Self::stop) (the serving task was aborted): the listeners
    /// and the RTP threads must not outlive it.
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
        let _ = self.shutdown.send(true);
        self.core.rtp.signal_shutdown();
    }
}
