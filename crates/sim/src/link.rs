//! The simulator's SIP transport: one UDP socket, or one TCP or TLS connection to the
//! recorder, shared by every call, with a reader task that routes incoming messages to their call
//! by Call-ID (RFC 3261 §18: one transport, many dialogs).
//!
//! Requests for a Call-ID nobody waits for any more (a late BYE from the recorder) are
//! answered `481 Call/Transaction Does Not Exist` by the reader itself (§12.2.2).

use std::collections::HashMap;

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::{Arc, Mutex};

use callrec_media::sip::{parse_datagram, parse_stream, response_to, Limits, Message, Method, Streamed};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::SimError;

/// The SIP transport to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// SIP over UDP (RFC 3261 §18.1.1), with retransmissions.
    #[default]
    Udp,
    /// SIP over one TCP connection (RFC 3261 §18.1.1, Content-Length framing).
    Tcp,
    /// SIP over one TLS connection (RFC 3261 §26.2, `sips:` URIs); needs a [`TlsClient`].
    Tls,
}

/// How the simulator connects over TLS: whom it trusts, the name it expects, and the client
/// certificate it shows when the recorder asks for one (mutual TLS).
#[derive(Debug, Clone)]
pub struct TlsClient {
    config: Arc<rustls::ClientConfig>,
    name: ServerName<'static>,
}

impl TlsClient {
    /// Trusts the PEM certificates in `ca_file` (a CA, or the recorder's self-signed
    /// certificate) and expects the recorder to be `name` (a DNS name or an IP address);
    /// shows `client` (certificate chain and key, PEM files) when asked.
    pub fn new(ca_file: &Path, name: &str, client: Option<(&Path, &Path)>) -> Result<TlsClient, SimError> {
        let bad = |what: &str, e: &dyn std::fmt::Display| SimError::Tls(format!("{what}: {e}"));
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_file_iter(ca_file).map_err(|e| bad("CA file", &e))? {
            roots
                .add(cert.map_err(|e| bad("CA file", &e))?)
                .map_err(|e| bad("CA certificate", &e))?;
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| bad("TLS versions", &e))?
            .with_root_certificates(roots);
        let config = match client {
            None => builder.with_no_client_auth(),
            Some((cert, key)) => {
                let chain = CertificateDer::pem_file_iter(cert)
                    .and_then(|it| it.collect::<Result<Vec<_>, _>>())
                    .map_err(|e| bad("client certificate", &e))?;
                let key = PrivateKeyDer::from_pem_file(key).map_err(|e| bad("client key", &e))?;
                builder
                    .with_client_auth_cert(chain, key)
                    .map_err(|e| bad("client certificate", &e))?
            }
        };
        let name = ServerName::try_from(name.to_owned()).map_err(|e| bad("server name", &e))?;
        Ok(TlsClient {
            config: Arc::new(config),
            name,
        })
    }
}

impl Transport {
    /// The Via transport token.
    pub fn token(self) -> &'static str {
        match self {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
            Transport::Tls => "TLS",
        }
    }

    /// Parses `udp` / `tcp` / `tls` (any case).
    pub fn parse(s: &str) -> Option<Transport> {
        match s.to_ascii_lowercase().as_str() {
            "udp" => Some(Transport::Udp),
            "tcp" => Some(Transport::Tcp),
            "tls" => Some(Transport::Tls),
            _ => None,
        }
    }
}

/// Where each call's messages go, and whether the connection has closed (a call registered
/// after that sees its inbox closed at once instead of waiting for a timeout).
#[derive(Default)]
struct RouteTable {
    map: Mutex<HashMap<String, mpsc::UnboundedSender<Message>>>,
    closed: std::sync::atomic::AtomicBool,
}

type Routes = Arc<RouteTable>;

#[derive(Clone)]
enum Out {
    Udp(Arc<UdpSocket>, SocketAddr),
    Tcp(mpsc::UnboundedSender<Vec<u8>>),
}

impl Out {
    async fn send(&self, bytes: Vec<u8>) -> Result<(), SimError> {
        match self {
            Out::Udp(sock, to) => {
                sock.send_to(&bytes, to).await.map_err(SimError::Io)?;
                Ok(())
            }
            Out::Tcp(tx) => tx.send(bytes).map_err(|_| SimError::TransportClosed),
        }
    }
}

/// A SIP transport shared by many calls.
pub struct Link {
    transport: Transport,
    local: SocketAddr,
    server: SocketAddr,
    out: Out,
    routes: Routes,
    tasks: Vec<JoinHandle<()>>,
}

impl Link {
    /// Opens the transport to `server`: binds a UDP socket or connects over TCP.
    pub async fn connect(server: SocketAddr, transport: Transport) -> Result<Arc<Link>, SimError> {
        Link::connect_with(server, transport, None).await
    }

    /// Opens the transport to `server`; [`Transport::Tls`] needs `tls`.
    pub async fn connect_with(
        server: SocketAddr,
        transport: Transport,
        tls: Option<&TlsClient>,
    ) -> Result<Arc<Link>, SimError> {
        let routes: Routes = Arc::default();
        let ip = local_ip_towards(server)?;
        match transport {
            Transport::Tls => {
                let tls = tls.ok_or_else(|| SimError::Tls("--transport tls needs --tls-ca".into()))?;
                let stream = TcpStream::connect(server).await?;
                stream.set_nodelay(true)?;
                let local = stream.local_addr()?;
                let connector = tokio_rustls::TlsConnector::from(tls.config.clone());
                let stream = connector
                    .connect(tls.name.clone(), stream)
                    .await
                    .map_err(|e| SimError::Tls(format!("handshake with {server}: {e}")))?;
                let (rd, mut wr) = tokio::io::split(stream);
                let (tx, mut rx) = mpsc::unbounded_channel::<Vec<u8>>();
                let writer = tokio::spawn(async move {
                    while let Some(bytes) = rx.recv().await {
                        if wr.write_all(&bytes).await.is_err() {
                            return;
                        }
                        let _ = wr.flush().await;
                    }
                });
                let out = Out::Tcp(tx);
                let reader = tokio::spawn(read_tcp(rd, routes.clone(), out.clone()));
                Ok(Arc::new(Link {
                    transport,
                    local,
                    server,
                    out,
                    routes,
                    tasks: vec![reader, writer],
                }))
            }
            Transport::Udp => {
                let sock = Arc::new(UdpSocket::bind(SocketAddr::new(ip, 0)).await?);
                let local = sock.local_addr()?;
                let out = Out::Udp(sock.clone(), server);
                let reader = tokio::spawn(read_udp(sock, routes.clone(), out.clone()));
                Ok(Arc::new(Link {
                    transport,
                    local,
                    server,
                    out,
                    routes,
                    tasks: vec![reader],
                }))
            }
            Transport::Tcp => {
                let stream = TcpStream::connect(server).await?;
                stream.set_nodelay(true)?;
                let local = stream.local_addr()?;
                let (rd, mut wr) = stream.into_split();
                let (tx, mut rx) = mpsc::unbounded_channel::<Vec<u8>>();
                let writer = tokio::spawn(async move {
                    while let Some(bytes) = rx.recv().await {
                        if wr.write_all(&bytes).await.is_err() {
                            return;
                        }
                    }
                });
                let out = Out::Tcp(tx);
                let reader = tokio::spawn(read_tcp(rd, routes.clone(), out.clone()));
                Ok(Arc::new(Link {
                    transport,
                    local,
                    server,
                    out,
                    routes,
                    tasks: vec![reader, writer],
                }))
            }
        }
    }

    /// The transport in use.
    pub fn transport(&self) -> Transport {
        self.transport
    }

    /// Our address on this transport (for Via and Contact).
    pub fn local(&self) -> SocketAddr {
        self.local
    }

    /// The recorder's address.
    pub fn server(&self) -> SocketAddr {
        self.server
    }

    /// Starts routing messages with `call_id` to the returned receiver.
    pub fn register(&self, call_id: &str) -> mpsc::UnboundedReceiver<Message> {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut map = lock(&self.routes.map);
        if !self.routes.closed.load(std::sync::atomic::Ordering::Acquire) {
            map.insert(call_id.to_owned(), tx);
        }
        rx
    }

    /// Stops routing `call_id`.
    pub fn unregister(&self, call_id: &str) {
        lock(&self.routes.map).remove(call_id);
    }

    /// Sends a message to the recorder.
    pub async fn send(&self, message: &Message) -> Result<(), SimError> {
        self.out.send(message.to_bytes()).await
    }

    /// A Via value for a new client transaction (RFC 3261 §8.1.1.7; `rport`, RFC 3581).
    pub fn via(&self, branch: &str) -> String {
        format!(
            "SIP/2.0/{} {};branch={branch};rport",
            self.transport.token(),
            host_port(self.local)
        )
    }

    /// Our Contact URI.
    pub fn contact_uri(&self) -> String {
        let transport = match self.transport {
            Transport::Udp => "",
            Transport::Tcp => ";transport=tcp",
            // RFC 5630 §3.1.1: a sips: URI, no transport parameter.
            Transport::Tls => return format!("sips:callrec-sim@{}", host_port(self.local)),
        };
        format!("sip:callrec-sim@{}{transport}", host_port(self.local))
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// `host:port` with brackets around an IPv6 host (RFC 3261 §25.1).
pub fn host_port(addr: SocketAddr) -> String {
    match addr.ip() {
        IpAddr::V4(ip) => format!("{ip}:{}", addr.port()),
        IpAddr::V6(ip) => format!("[{ip}]:{}", addr.port()),
    }
}

/// The local address the kernel would use to reach `server` (a connected UDP socket's
/// source address; nothing is sent).
pub fn local_ip_towards(server: SocketAddr) -> Result<IpAddr, SimError> {
    let any: SocketAddr = if server.is_ipv4() {
        SocketAddr::from(([0, 0, 0, 0], 0))
    } else {
        SocketAddr::from(([0u16; 8], 0))
    };
    let probe = std::net::UdpSocket::bind(any)?;
    probe.connect(server)?;
    Ok(probe.local_addr()?.ip())
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding the routes lock cannot leave the map inconsistent.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

async fn route(routes: &Routes, out: &Out, message: Message) {
    let Ok(call_id) = message.call_id().map(str::to_owned) else {
        return;
    };
    let tx = lock(&routes.map).get(&call_id).cloned();
    if let Some(tx) = tx {
        if tx.send(message).is_ok() {
            return;
        }
        // The call is gone; fall through like an unknown dialog.
        return;
    }
    if message.is_request() && message.method() != Some(&Method::Ack) {
        if let Ok(resp) = response_to(&message, 481, "", None) {
            let _ = out.send(resp.to_bytes()).await;
        }
    }
}

async fn read_udp(sock: Arc<UdpSocket>, routes: Routes, out: Out) {
    let mut buf = vec![0u8; 65_536];
    loop {
        let Ok((n, _from)) = sock.recv_from(&mut buf).await else {
            // ICMP errors surface as recv errors on some systems; keep reading.
            tokio::task::yield_now().await;
            continue;
        };
        if let Ok(message) = parse_datagram(&buf[..n], &Limits::DEFAULT) {
            route(&routes, &out, message).await;
        }
    }
}

async fn read_tcp(mut rd: impl AsyncRead + Unpin, routes: Routes, out: Out) {
    let mut buf: Vec<u8> = Vec::with_capacity(16 * 1024);
    let mut chunk = vec![0u8; 16 * 1024];
    loop {
        loop {
            match parse_stream(&buf, &Limits::DEFAULT) {
                Ok(Streamed::Message { message, consumed }) => {
                    buf.drain(..consumed);
                    route(&routes, &out, message).await;
                }
                Ok(Streamed::KeepAlive { consumed }) => {
                    buf.drain(..consumed);
                }
                Ok(Streamed::Incomplete) => break,
                Err(_) => {
                    close_all(&routes);
                    return;
                }
            }
        }
        match rd.read(&mut chunk).await {
            Ok(0) | Err(_) => {
                close_all(&routes);
                return;
            }
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// The connection is gone: every call waiting on it sees its inbox close.
fn close_all(routes: &Routes) {
    let mut map = lock(&routes.map);
    routes.closed.store(true, std::sync::atomic::Ordering::Release);
    map.clear();
}
