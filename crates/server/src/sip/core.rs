//! What every SIP task shares: the [`SipCore`] with the application state, the RTP engine, the
//! dialogs by Call-ID, the completed transactions, the counters and the admission limits, and
//! the responses every task sends through it. Where a request goes is in `routing`.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use callrec_media::sip::{response_to, Message, Method};
use tokio::sync::{mpsc, watch, Notify};

use super::admission;
use super::peer::{self, Peer};
use super::transaction::{Completed, TxKey};
use crate::rtp::RtpEngine;
use crate::state::AppState;

/// Methods we answer (the `Allow` header).
pub const ALLOW: &str = "INVITE, ACK, BYE, CANCEL, OPTIONS, UPDATE, INFO";
/// A random token for tags and branches.
pub fn new_tag() -> String {
    format!("{:016x}", rand::random::<u64>())
}

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
    /// TLS connections whose handshake failed or timed out (certificate not trusted, no
    /// client certificate under mutual TLS, not TLS at all).
    pub tls_failed: Arc<AtomicU64>,
}

impl SipCounters {
    pub(super) fn register(m: &crate::metrics::Metrics) -> SipCounters {
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
            tls_failed: m.counter(
                "callrec_sip_tls_handshake_failures_total",
                "SIP TLS connections closed because their handshake failed or timed out.",
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
pub(super) struct Sessions {
    pub(super) running: AtomicUsize,
    pub(super) idle: Notify,
}

/// What every SIP task shares.
pub struct SipCore {
    pub(super) state: AppState,
    pub(super) rtp: Arc<RtpEngine>,
    pub(super) local: SocketAddr,
    /// The `sips` listener's address, when there is one.
    pub(super) local_tls: Option<SocketAddr>,
    pub(super) dialogs: Mutex<HashMap<String, mpsc::UnboundedSender<Inbound>>>,
    pub(super) completed: Mutex<Completed>,
    pub(super) counters: SipCounters,
    pub(super) shutdown: watch::Receiver<bool>,
    pub(super) sessions: Sessions,
    pub(super) unacknowledged: admission::Unacknowledged,
    pub(super) tcp: admission::TcpAdmission,
}

pub(super) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
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

    /// The SIP port (UDP and TCP).
    pub fn port(&self) -> u16 {
        self.local.port()
    }

    /// The port `peer` reached us on: the TLS port for a TLS connection, else the SIP port.
    pub fn port_for(&self, peer: &Peer) -> u16 {
        match (peer.is_tls(), self.local_tls) {
            (true, Some(tls)) => tls.port(),
            _ => self.local.port(),
        }
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
        match response_to(request, code, "", Some(&new_tag())) {
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
                peer::answer_unparsable(&request.to_bytes(), peer, &e.to_string());
            }
        }
    }

    /// Answers `request` 503 Service Unavailable with `Retry-After` (RFC 3261 §21.5.4: without
    /// it the client must treat the 503 as a 500).
    pub fn reply_retry_after(&self, request: &Message, secs: u32, peer: &Peer) {
        if let Ok(mut r) = response_to(request, 503, "", Some(&new_tag())) {
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
        peer::answer_unparsable(raw, peer, why);
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
