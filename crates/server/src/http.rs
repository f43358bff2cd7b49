//! Serving HTTP: the accept loop, the connection limit, the header-read and idle timeouts, and a
//! shutdown that ends within a bounded time whatever the clients do (issue #13.1, #13.5).
//!
//! `axum::serve` has none of these: it keeps idle and half-sent connections forever, and its
//! graceful shutdown waits for every response — a push stream never ends, so SIGTERM never
//! finished while a desktop was attached. This loop serves the same `Router` through hyper's
//! HTTP/1 connection, which is what axum uses underneath:
//!
//! - hyper's `header_read_timeout` closes a connection whose request head is not complete in
//!   time (slowloris);
//! - every connection's socket counts bytes both ways; one with no traffic for the idle
//!   timeout is closed (push streams send a keep-alive every 15 s, so they stay);
//! - at the connection limit the connection idle longest is closed to make room, so a flood of
//!   idle connections delays users by one eviction instead of locking them out;
//! - [`HttpServer::shutdown`] stops accepting, asks every connection to finish its response
//!   and close, and drops whatever is still open at the deadline.

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// The limits of [`HttpServer`], from the configuration.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// A request head must be complete this long after its first byte.
    pub header_timeout: Duration,
    /// A connection with no traffic either way for this long is closed.
    pub idle_timeout: Duration,
    /// Most connections open at once.
    pub max_connections: usize,
}

impl Limits {
    pub fn of(config: &crate::config::Config) -> Limits {
        Limits {
            header_timeout: Duration::from_secs(config.http_header_timeout_secs.into()),
            idle_timeout: Duration::from_secs(config.http_idle_timeout_secs.into()),
            // Never more than half the open-file limit: the other half is for the calls' RTP
            // sockets and files, SIP and the database (issue #13.5).
            max_connections: (config.http_max_connections as usize)
                .min(crate::rtp::fds::limit().map_or(usize::MAX, |l| (l / 2).max(1) as usize)),
        }
    }
}

/// The HTTP side of a running server.
pub struct HttpServer {
    accept: JoinHandle<()>,
    conns: Arc<Connections>,
    /// Cancelled: every connection finishes its response in progress and closes.
    graceful: CancellationToken,
    /// Cancelled: every connection is dropped at once.
    force: CancellationToken,
}

/// How a connection's traffic is timed: milliseconds since `Connections::epoch` of the last
/// byte read or written.
struct Activity(AtomicU64);

struct Slot {
    activity: Arc<Activity>,
    evict: CancellationToken,
}

/// The open connections, for the limit and for shutdown.
struct Connections {
    epoch: Instant,
    open: Mutex<std::collections::HashMap<u64, Slot>>,
    next_id: AtomicU64,
    count: AtomicUsize,
    drained: tokio::sync::Notify,
    /// Connections closed to make room at the limit, and for idleness (counted for the log).
    evicted: AtomicU64,
}

impl Connections {
    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    /// Registers a new connection, first closing the one idle longest when at the limit.
    fn admit(&self, limit: usize) -> (u64, Arc<Activity>, CancellationToken) {
        let activity = Arc::new(Activity(AtomicU64::new(self.now_ms())));
        let evict = CancellationToken::new();
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut open = self.open.lock().expect("connections lock");
        if open.len() >= limit {
            let oldest = open
                .iter()
                .min_by_key(|(_, s)| s.activity.0.load(Ordering::Relaxed))
                .map(|(id, _)| *id);
            if let Some(slot) = oldest.and_then(|id| open.remove(&id)) {
                slot.evict.cancel();
                let n = self.evicted.fetch_add(1, Ordering::Relaxed);
                if n.is_power_of_two() {
                    tracing::warn!(
                        limit,
                        closed_so_far = n + 1,
                        "HTTP connection limit reached: closed the connection idle longest to admit a new one"
                    );
                }
            }
        }
        open.insert(
            id,
            Slot {
                activity: activity.clone(),
                evict: evict.clone(),
            },
        );
        self.count.fetch_add(1, Ordering::Relaxed);
        (id, activity, evict)
    }

    fn release(&self, id: u64) {
        self.open.lock().expect("connections lock").remove(&id);
        if self.count.fetch_sub(1, Ordering::Relaxed) == 1 {
            self.drained.notify_waiters();
        }
    }
}

impl HttpServer {
    /// Serves `app` on `listener` until [`shutdown`](Self::shutdown).
    pub fn start(listener: TcpListener, app: Router, limits: Limits) -> HttpServer {
        let conns = Arc::new(Connections {
            epoch: Instant::now(),
            open: Mutex::default(),
            next_id: AtomicU64::new(0),
            count: AtomicUsize::new(0),
            drained: tokio::sync::Notify::new(),
            evicted: AtomicU64::new(0),
        });
        let graceful = CancellationToken::new();
        let force = CancellationToken::new();
        let accept = tokio::spawn(accept_loop(
            listener,
            app,
            limits,
            conns.clone(),
            graceful.clone(),
            force.clone(),
        ));
        HttpServer {
            accept,
            conns,
            graceful,
            force,
        }
    }

    /// Connections open now.
    pub fn open_connections(&self) -> usize {
        self.conns.count.load(Ordering::Relaxed)
    }

    /// Stops accepting, lets responses in progress finish until `deadline`, then drops every
    /// connection still open. Push streams end by themselves when the server starts stopping
    /// (`AppState::stopping`).
    pub async fn shutdown(self, deadline: tokio::time::Instant) {
        self.accept.abort();
        self.graceful.cancel();
        loop {
            let drained = self.conns.drained.notified();
            let open = self.conns.count.load(Ordering::Relaxed);
            if open == 0 {
                return;
            }
            if tokio::time::timeout_at(deadline, drained).await.is_err() {
                tracing::warn!(
                    open = self.conns.count.load(Ordering::Relaxed),
                    "HTTP clients still connected at the shutdown deadline: disconnecting them"
                );
                break;
            }
        }
        self.force.cancel();
        // The connection tasks notice at their next poll; give them a moment to close their
        // sockets so the process does not exit under them.
        let _ = tokio::time::timeout(Duration::from_secs(1), async {
            while self.conns.count.load(Ordering::Relaxed) > 0 {
                self.conns.drained.notified().await;
            }
        })
        .await;
    }
}

async fn accept_loop(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    conns: Arc<Connections>,
    graceful: CancellationToken,
    force: CancellationToken,
) {
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(s) => s,
            Err(e) => {
                // EMFILE/ENFILE: out of file descriptors; say so (the old log blamed RTP
                // ports) and back off instead of spinning.
                let fds = crate::rtp::fds::exhausted(&e);
                if fds {
                    tracing::error!(error = %e, "cannot accept an HTTP connection: the process is out of file descriptors");
                } else {
                    tracing::warn!(error = %e, "cannot accept an HTTP connection");
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let (id, activity, evict) = conns.admit(limits.max_connections);
        let io = TokioIo::new(Counted {
            inner: stream,
            activity: activity.clone(),
            conns: conns.clone(),
        });
        let service = TowerToHyperService::new(app.clone());
        let builder = builder.clone();
        let (conns, graceful, force) = (conns.clone(), graceful.clone(), force.clone());
        let idle = limits.idle_timeout;
        tokio::spawn(async move {
            let conn = builder.serve_connection(io, service);
            tokio::pin!(conn);
            let mut stopping = false;
            loop {
                let last = Duration::from_millis(activity.0.load(Ordering::Relaxed));
                let idle_at = tokio::time::Instant::from_std(conns.epoch + last + idle);
                tokio::select! {
                    result = conn.as_mut() => {
                        if let Err(e) = result {
                            tracing::debug!(%peer, error = %e, "HTTP connection ended with an error");
                        }
                        break;
                    }
                    _ = graceful.cancelled(), if !stopping => {
                        stopping = true;
                        conn.as_mut().graceful_shutdown();
                    }
                    _ = force.cancelled() => break,
                    _ = evict.cancelled() => break,
                    _ = tokio::time::sleep_until(idle_at) => {
                        let quiet = conns.now_ms().saturating_sub(activity.0.load(Ordering::Relaxed));
                        if quiet >= idle.as_millis() as u64 {
                            tracing::debug!(%peer, "closing an idle HTTP connection");
                            break;
                        }
                    }
                }
            }
            conns.release(id);
        });
    }
}

/// A socket that stamps its connection's activity on every byte moved either way.
struct Counted {
    inner: TcpStream,
    activity: Arc<Activity>,
    conns: Arc<Connections>,
}

impl Counted {
    fn touch(&self) {
        self.activity.0.store(self.conns.now_ms(), Ordering::Relaxed);
    }
}

impl AsyncRead for Counted {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(r, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.touch();
        }
        r
    }
}

impl AsyncWrite for Counted {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, data);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.touch();
        }
        r
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.touch();
        }
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
