//! The SIPREC recorder's SIP side (RFC 3261, RFC 7866 §8): transports on the `--sip`
//! address (UDP and TCP) and the `--sips` address (TLS), the server-transaction layer, and one dialog task per recording
//! session that turns it into a live call (`live::open`/`answer`/`set_held`/`end`) whose
//! audio the [`rtp`](crate::rtp) workers receive.
//!
//! - [`core`]: what every task shares, and the responses sent through it; `routing`: where
//!   a request goes (a completed transaction, a dialog, a new session, or an answer here).
//! - [`transport`]: sockets, framing; TCP idle timeout. [`peer`]: where responses go.
//!   [`tls`]: the TLS listener's certificate, key and client CA.
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
pub mod core;
pub mod offer;
pub mod peer;
mod routing;
pub mod session;
pub mod tls;
pub mod transaction;
pub mod transport;

pub use self::core::{Inbound, SipCore, SipCounters, ALLOW};

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use self::core::{lock, Sessions};
use crate::rtp::RtpEngine;
use crate::state::AppState;

/// How long shutdown waits for sessions to finalise their recordings.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// The SIP sockets, bound before serving so tests can use port 0.
pub struct SipSockets {
    udp: std::net::UdpSocket,
    tcp: std::net::TcpListener,
    /// The bound address (UDP and TCP share the port).
    pub addr: SocketAddr,
    /// The TLS listener and its configuration, when `sips` is set.
    tls: Option<(std::net::TcpListener, Arc<rustls::ServerConfig>)>,
    /// The TLS listener's bound address.
    pub tls_addr: Option<SocketAddr>,
}

impl SipSockets {
    /// Also listens for SIP over TLS on `addr` with `config`.
    pub fn listen_tls(&mut self, addr: SocketAddr, config: Arc<rustls::ServerConfig>) -> io::Result<()> {
        let listener = std::net::TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        self.tls_addr = Some(listener.local_addr()?);
        self.tls = Some((listener, config));
        Ok(())
    }
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
                return Ok(SipSockets {
                    udp,
                    tcp,
                    addr: bound,
                    tls: None,
                    tls_addr: None,
                });
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
            local_tls: sockets.tls_addr,
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
        let mut tasks = vec![
            tokio::spawn(transport::serve_udp(core.clone(), udp)),
            tokio::spawn(transport::serve_tcp(core.clone(), tcp)),
            purge,
        ];
        if let Some((listener, config)) = sockets.tls {
            let listener = tokio::net::TcpListener::from_std(listener).context("SIP TLS listener")?;
            let acceptor = tokio_rustls::TlsAcceptor::from(config);
            tasks.push(tokio::spawn(transport::serve_tls(core.clone(), listener, acceptor)));
            tracing::info!(sips = ?core.local_tls, mutual = core.state.config.tls_client_ca_file.is_some(), "SIPREC recorder listening for SIP over TLS");
        }
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
