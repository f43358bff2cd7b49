//! Where a request came from, and so where its responses go (RFC 3261 §18.2.2, RFC 3581):
//! the [`Peer`] of a UDP datagram or of a TCP or TLS connection, and the 400 to bytes that did
//! not parse.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::UdpSocket;
use tokio::sync::mpsc;

use super::transaction::bad_request_from_raw;

/// Where a request came from, and so where its responses go.
#[derive(Clone, Debug)]
pub enum Peer {
    /// A UDP source address.
    Udp {
        /// The SIP socket.
        socket: Arc<UdpSocket>,
        /// The request's source.
        addr: SocketAddr,
    },
    /// A TCP connection, or a TLS one (`sips`) when `tls`.
    Tcp {
        /// The connection's writer.
        conn: mpsc::UnboundedSender<Vec<u8>>,
        /// The remote address.
        addr: SocketAddr,
        /// Whether the connection is TLS (the Via token `TLS`, a `sips:` Contact).
        tls: bool,
    },
}

impl Peer {
    /// The remote address.
    pub fn addr(&self) -> SocketAddr {
        match self {
            Peer::Udp { addr, .. } | Peer::Tcp { addr, .. } => *addr,
        }
    }

    /// Whether the transport is reliable (no retransmissions needed, RFC 3261 §17).
    pub fn is_reliable(&self) -> bool {
        matches!(self, Peer::Tcp { .. })
    }

    /// The Via transport token.
    pub fn transport(&self) -> &'static str {
        match self {
            Peer::Udp { .. } => "UDP",
            Peer::Tcp { tls: false, .. } => "TCP",
            Peer::Tcp { tls: true, .. } => "TLS",
        }
    }

    /// Whether the request came over TLS: answer with `sips:` URIs (RFC 5630 §3.1.1).
    pub fn is_tls(&self) -> bool {
        matches!(self, Peer::Tcp { tls: true, .. })
    }

    /// Whether anything besides the connection's own reader holds this TCP peer (a session
    /// answers on it, a request waits in a dialog's queue). Always false for UDP.
    pub fn in_use(&self) -> bool {
        match self {
            Peer::Udp { .. } => false,
            Peer::Tcp { conn, .. } => conn.strong_count() > 1,
        }
    }

    /// Sends bytes; best effort (a lost UDP response is recovered by retransmissions, a
    /// closed TCP connection by the peer's transaction timeout).
    pub fn send(&self, bytes: Vec<u8>) {
        match self {
            Peer::Udp { socket, addr } => {
                if let Err(e) = socket.try_send_to(&bytes, *addr) {
                    tracing::debug!(%addr, error = %e, "SIP: UDP send failed");
                }
            }
            Peer::Tcp { conn, .. } => {
                let _ = conn.send(bytes);
            }
        }
    }
}

/// A 400 for bytes that did not parse, when they look enough like a request to answer.
pub fn answer_unparsable(raw: &[u8], peer: &Peer, why: &str) -> bool {
    match bad_request_from_raw(raw, why) {
        Some(bytes) => {
            peer.send(bytes);
            true
        }
        None => false,
    }
}
