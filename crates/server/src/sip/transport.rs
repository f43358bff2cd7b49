//! SIP transports (RFC 3261 §18): one UDP socket and one TCP listener on the `--sip`
//! address, a TLS listener on the `--sips` address (RFC 3261 §26.2; the configuration is
//! `tls`), and the [`Peer`] a response goes back to.
//!
//! Responses follow §18.2.2 with RFC 3581 symmetric response routing: over UDP to the
//! source address and port of the request (what `rport` asks for, and right behind NAT),
//! over TCP on the connection the request came in on. A TCP connection is framed by
//! Content-Length (§18.3); a framing error cannot be resynchronised, so the connection is
//! answered 400 where possible and closed.
//!
//! TCP connections are admitted by [`super::admission::TcpAdmission`] (a connection limit
//! and a file-descriptor reserve; one refused is closed at once), and one that carries no
//! session and has received nothing for `sip_tcp_idle_timeout_secs` is closed. A connection
//! that a session still answers on stays open however quiet: a long call sends no SIP, and
//! closing it would leave the session's BYE nowhere to go.
//!
//! A TLS connection is a TCP connection with a handshake first: the same admission and idle
//! rules, the same framing, the same sessions. A failed handshake (a client that does not
//! trust our certificate, or without the client certificate mutual TLS asks for) is counted
//! and the connection closed.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use callrec_media::sip::{parse_datagram, parse_stream, Limits, Streamed};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;

use super::core::SipCore;
use super::peer::Peer;
use crate::rtp::fds;

/// Largest UDP datagram read (the SIP limit is enforced by the parser).
const MAX_DATAGRAM: usize = 65_535;
/// The pause after a failed `accept`: the listener stays readable, and retrying at once would
/// spin. Longer when out of descriptors, which only a closing call or connection cures.
const ACCEPT_RETRY: Duration = Duration::from_millis(50);
const ACCEPT_RETRY_NO_FDS: Duration = Duration::from_millis(250);
/// A TLS client must finish its handshake within this long.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

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
    serve_stream(core, listener, None).await;
}

/// Accepts TLS connections (`sips`) until the task is aborted.
pub async fn serve_tls(core: Arc<SipCore>, listener: TcpListener, acceptor: TlsAcceptor) {
    serve_stream(core, listener, Some(acceptor)).await;
}

async fn serve_stream(core: Arc<SipCore>, listener: TcpListener, tls: Option<TlsAcceptor>) {
    // Refusals are logged when they start, not once per connection of a flood.
    let mut refusing = false;
    let mut out_of_fds = false;
    loop {
        let (stream, addr) = match listener.accept().await {
            Ok(x) => x,
            Err(e) if fds::exhausted(&e) => {
                if !out_of_fds {
                    tracing::error!(error = %e, "SIP: out of file descriptors; cannot accept TCP connections (raise the open-file limit)");
                    out_of_fds = true;
                }
                tokio::time::sleep(ACCEPT_RETRY_NO_FDS).await;
                continue;
            }
            Err(e) => {
                tracing::warn!(error = %e, "SIP: TCP accept failed");
                tokio::time::sleep(ACCEPT_RETRY).await;
                continue;
            }
        };
        out_of_fds = false;
        let permit = match core.tcp().admit(Instant::now()) {
            Ok(p) => p,
            Err(why) => {
                core.counters().tcp_refused.fetch_add(1, Ordering::Relaxed);
                if refusing {
                    tracing::debug!(peer = %addr, %why, "SIP: TCP connection refused");
                } else {
                    tracing::warn!(peer = %addr, %why, "SIP: refusing new TCP connections");
                    refusing = true;
                }
                drop(stream); // closed at once: the client fails fast instead of hanging
                continue;
            }
        };
        if refusing {
            tracing::info!(open = core.tcp().open(), "SIP: accepting TCP connections again");
            refusing = false;
        }
        let core = core.clone();
        let _ = stream.set_nodelay(true);
        let tls = tls.clone();
        tokio::spawn(async move {
            match tls {
                None => connection(core, stream, addr, false).await,
                Some(acceptor) => match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                    Ok(Ok(stream)) => connection(core, stream, addr, true).await,
                    Ok(Err(e)) => {
                        core.counters().tls_failed.fetch_add(1, Ordering::Relaxed);
                        tracing::info!(peer = %addr, error = %e, "SIP: TLS handshake failed");
                    }
                    Err(_) => {
                        core.counters().tls_failed.fetch_add(1, Ordering::Relaxed);
                        tracing::info!(peer = %addr, "SIP: TLS handshake timed out");
                    }
                },
            }
            drop(permit);
        });
    }
}

async fn connection<S>(core: Arc<SipCore>, stream: S, addr: SocketAddr, tls: bool)
where
    S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let (mut rd, mut wr) = tokio::io::split(stream);
    let (tx, mut rx) = mpsc::unbounded_channel::<Vec<u8>>();
    let writer = tokio::spawn(async move {
        while let Some(bytes) = rx.recv().await {
            // A TLS stream holds records back until flushed; for TCP this is a no-op.
            if wr.write_all(&bytes).await.is_err() || wr.flush().await.is_err() {
                return;
            }
        }
        let _ = wr.shutdown().await;
    });
    let idle = Duration::from_secs(u64::from(core.state().config.sip_tcp_idle_timeout_secs.max(1)));
    let peer = Peer::Tcp { conn: tx, addr, tls };
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
        let n = loop {
            match tokio::time::timeout(idle, rd.read(&mut chunk)).await {
                Ok(read) => break read,
                // Sessions hold clones of the peer to answer on: the connection is in use.
                Err(_) if peer.in_use() => {}
                Err(_) => {
                    core.counters().tcp_idle.fetch_add(1, Ordering::Relaxed);
                    tracing::debug!(peer = %addr, idle_secs = idle.as_secs(), "SIP: closing an idle TCP connection");
                    break 'read;
                }
            }
        };
        match n {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    drop(peer);
    // The writer ends when every clone of the peer (sessions hold some) is gone.
    drop(writer);
}
