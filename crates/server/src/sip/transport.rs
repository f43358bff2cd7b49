//! SIP transports (RFC 3261 §18): one UDP socket and one TCP listener on the `--sip`
//! address, and the [`Peer`] a response goes back to.
//!
//! Responses follow §18.2.2 with RFC 3581 symmetric response routing: over UDP to the
//! source address and port of the request (what `rport` asks for, and right behind NAT),
//! over TCP on the connection the request came in on. A TCP connection is framed by
//! Content-Length (§18.3); a framing error cannot be resynchronised, so the connection is
//! answered 400 where possible and closed.

use std::net::SocketAddr;
use std::sync::Arc;

use callrec_media::sip::{parse_datagram, parse_stream, Limits, Streamed};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::mpsc;

use super::transaction::bad_request_from_raw;
use super::SipCore;

/// Largest UDP datagram read (the SIP limit is enforced by the parser).
const MAX_DATAGRAM: usize = 65_535;
/// Most TCP connections served at once; more are refused until one closes.
const MAX_TCP_CONNECTIONS: usize = 4096;

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
    /// A TCP connection.
    Tcp {
        /// The connection's writer.
        conn: mpsc::UnboundedSender<Vec<u8>>,
        /// The remote address.
        addr: SocketAddr,
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
            Peer::Tcp { .. } => "TCP",
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

/// Reads datagrams until the task is aborted.
pub async fn serve_udp(core: Arc<SipCore>, socket: Arc<UdpSocket>) {
    let mut buf = vec![0u8; MAX_DATAGRAM];
    loop {
        let (n, addr) = match socket.recv_from(&mut buf).await {
            Ok(x) => x,
            Err(e) => {
                // ICMP port unreachable from an earlier send shows up here on Linux.
                tracing::debug!(error = %e, "SIP: UDP receive error");
                continue;
            }
        };
        let peer = Peer::Udp {
            socket: socket.clone(),
            addr,
        };
        let raw = &buf[..n];
        if raw.iter().all(|b| matches!(b, b'\r' | b'\n' | b' ' | 0)) {
            continue; // keep-alive (RFC 5626 §4.4.1) or padding
        }
        match parse_datagram(raw, &Limits::DEFAULT) {
            Ok(message) => core.handle(message, peer),
            Err(e) => core.malformed(raw, &peer, &e.to_string()),
        }
    }
}

/// Accepts TCP connections until the task is aborted.
pub async fn serve_tcp(core: Arc<SipCore>, listener: TcpListener) {
    let open = Arc::new(tokio::sync::Semaphore::new(MAX_TCP_CONNECTIONS));
    loop {
        let Ok(permit) = open.clone().acquire_owned().await else {
            return;
        };
        let (stream, addr) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                tracing::warn!(error = %e, "SIP: TCP accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let core = core.clone();
        tokio::spawn(async move {
            connection(core, stream, addr).await;
            drop(permit);
        });
    }
}

async fn connection(core: Arc<SipCore>, stream: TcpStream, addr: SocketAddr) {
    let _ = stream.set_nodelay(true);
    let (mut rd, mut wr) = stream.into_split();
    let (tx, mut rx) = mpsc::unbounded_channel::<Vec<u8>>();
    let writer = tokio::spawn(async move {
        while let Some(bytes) = rx.recv().await {
            if wr.write_all(&bytes).await.is_err() {
                return;
            }
        }
        let _ = wr.shutdown().await;
    });
    let peer = Peer::Tcp { conn: tx, addr };
    let limits = Limits::DEFAULT;
    let mut buf: Vec<u8> = Vec::with_capacity(8 * 1024);
    let mut chunk = vec![0u8; 16 * 1024];
    'read: loop {
        loop {
            match parse_stream(&buf, &limits) {
                Ok(Streamed::Message { message, consumed }) => {
                    buf.drain(..consumed);
                    core.handle(message, peer.clone());
                }
                Ok(Streamed::KeepAlive { consumed }) => {
                    buf.drain(..consumed);
                    // RFC 5626 §3.5.1: a CRLFCRLF ping gets a CRLF pong.
                    peer.send(b"\r\n".to_vec());
                }
                Ok(Streamed::Incomplete) => break,
                Err(e) => {
                    core.malformed(&buf, &peer, &e.to_string());
                    break 'read;
                }
            }
        }
        match rd.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    drop(peer);
    // The writer ends when every clone of the peer (sessions hold some) is gone.
    drop(writer);
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
