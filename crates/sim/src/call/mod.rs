//! One simulated SIPREC call, step by step: INVITE (multipart SDP + rs-metadata), ACK,
//! RTP on both streams, hold and resume by re-INVITE, BYE; or INVITE then CANCEL.
//!
//! The client transactions follow RFC 3261 §17.1: over UDP an INVITE is retransmitted
//! every T1, doubling, until a provisional or final response (Timer A), other requests
//! until a final response with the interval capped at T2 (Timer E); both give up after
//! 64·T1 (Timers B and F). A 2xx retransmitted by the server is acknowledged again
//! (§13.2.2.4). A BYE from the recorder (its session timeout) is answered 200.
//!
//! By noun: the [`Sim`] and the [`SimCall`] here, the call's settings in `builder`, its SIP
//! messages and transactions in `dialog`.

use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::time::Duration;

use callrec_media::g711::Law;
use callrec_media::sdp::{CryptoSuite, Direction, MasterKey, SessionDescription};
use callrec_media::sip::consent::HEADER as CONSENT_HEADER;
use callrec_media::sip::{Message, Method};
use tokio::sync::mpsc;
use tokio::time::Instant;

mod builder;
mod dialog;

pub use builder::CallBuilder;

use crate::link::{host_port, Link, TlsClient, Transport};
use crate::offer::Party;
use crate::rtp::{RtpSender, StreamHandle};
use crate::signal::{XorShift, CALLEE_HZ, CALLER_HZ};
use crate::SimError;

/// RFC 3261 T1: the round-trip estimate.
const T1: Duration = Duration::from_millis(500);
/// RFC 3261 T2: the longest retransmission interval of non-INVITE requests.
const T2: Duration = Duration::from_secs(4);
/// Timers B and F: 64·T1.
const TRANSACTION_TIMEOUT: Duration = Duration::from_secs(32);

/// A simulator: one SIP transport and the RTP sender threads, shared by many calls.
#[derive(Clone)]
pub struct Sim {
    link: Arc<Link>,
    rtp: Arc<RtpSender>,
}

impl Sim {
    /// Connects to the recorder at `server` with one RTP sender thread.
    pub async fn connect(server: SocketAddr, transport: Transport) -> Result<Sim, SimError> {
        Sim::with_threads(server, transport, 1).await
    }

    /// Connects with `rtp_threads` RTP sender threads.
    pub async fn with_threads(server: SocketAddr, transport: Transport, rtp_threads: usize) -> Result<Sim, SimError> {
        Sim::counting(server, transport, rtp_threads, Arc::default()).await
    }

    /// Connects with `rtp_threads` RTP sender threads that add every datagram sent to
    /// `packets_sent` (read it while the calls run: the rate actually offered).
    pub async fn counting(
        server: SocketAddr,
        transport: Transport,
        rtp_threads: usize,
        packets_sent: Arc<std::sync::atomic::AtomicU64>,
    ) -> Result<Sim, SimError> {
        Sim::counting_tls(server, transport, None, rtp_threads, packets_sent).await
    }

    /// Connects over TLS with `tls` (whom to trust, our client certificate).
    pub async fn connect_tls(server: SocketAddr, tls: &TlsClient) -> Result<Sim, SimError> {
        Sim::counting_tls(server, Transport::Tls, Some(tls), 1, Arc::default()).await
    }

    /// [`Sim::counting`] over any transport; [`Transport::Tls`] needs `tls`.
    pub async fn counting_tls(
        server: SocketAddr,
        transport: Transport,
        tls: Option<&TlsClient>,
        rtp_threads: usize,
        packets_sent: Arc<std::sync::atomic::AtomicU64>,
    ) -> Result<Sim, SimError> {
        let link = Link::connect_with(server, transport, tls).await?;
        let rtp = Arc::new(RtpSender::start_counting(rtp_threads, packets_sent)?);
        Ok(Sim { link, rtp })
    }

    /// A new call to configure and place.
    pub fn call(&self) -> CallBuilder {
        CallBuilder {
            sim: self.clone(),
            caller: Party {
                aor: "sip:201@pbx.example".into(),
                name: "Caller".into(),
            },
            callee: Party {
                aor: "sip:+15550100@carrier.example".into(),
                name: "Callee".into(),
            },
            law: Law::Ulaw,
            mon_mode: None,
            loss_pct: 0.0,
            reorder_pct: 0.0,
            caller_stream: 0,
            headers: Vec::new(),
            body: None,
            send_when_inactive: false,
            tones: [CALLER_HZ, CALLEE_HZ],
            silent: [false, false],
            srtp: None,
            srtp_wrong_key: false,
            srtp_tamper_every: 0,
        }
    }

    /// The SIP transport.
    pub fn link(&self) -> &Arc<Link> {
        &self.link
    }
}

/// How a call ended and what it sent.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct CallReport {
    /// RTP packets sent on the caller's stream.
    pub caller_packets: u64,
    /// RTP packets sent on the callee's stream.
    pub callee_packets: u64,
    /// Packets not sent on purpose (simulated loss).
    pub skipped: u64,
    /// Packets sent out of order on purpose.
    pub reordered: u64,
    /// Whether the recorder ended the call (BYE from the server).
    pub ended_by_server: bool,
}

/// A placed call.
pub struct SimCall {
    sim: Sim,
    spec: CallBuilder,
    call_id: String,
    from: String,
    to: String,
    request_uri: String,
    cseq: u32,
    session_id: u64,
    sdp_version: u64,
    rng: XorShift,
    inbox: mpsc::UnboundedReceiver<Message>,
    sockets: Vec<UdpSocket>,
    ports: [u16; 2],
    answer: Option<SessionDescription>,
    /// The SRTP key offered on each m-line, when the call offers SRTP.
    keys: [Option<MasterKey>; 2],
    streams: Vec<(usize, StreamHandle)>,
    ended_by_server: bool,
    closed: bool,
}

impl SimCall {
    fn prepare(spec: CallBuilder) -> Result<SimCall, SimError> {
        let link = spec.sim.link.clone();
        let mut rng = XorShift::from_entropy();
        let call_id = format!("{}@callrec-sim", rng.token());
        let inbox = link.register(&call_id);
        let ip = link.local().ip();
        let mut sockets = Vec::with_capacity(2);
        let mut ports = [0u16; 2];
        for port in &mut ports {
            let s = UdpSocket::bind(SocketAddr::new(ip, 0))?;
            *port = s.local_addr()?.port();
            sockets.push(s);
        }
        let server = link.server();
        let from = format!("<sip:callrec-sim@{}>;tag={}", host_port(link.local()), rng.token());
        // RFC 5630: over TLS the recorder is a sips: URI.
        let scheme = if link.transport() == Transport::Tls {
            "sips"
        } else {
            "sip"
        };
        let request_uri = format!("{scheme}:srs@{}", host_port(server));
        let keys = match spec.srtp {
            Some(suite) => [Some(srtp_key(suite)?), Some(srtp_key(suite)?)],
            None => [None, None],
        };
        #[allow(clippy::cast_possible_truncation)]
        let session_id = rng.next_u64() >> 16;
        Ok(SimCall {
            to: format!("<{request_uri}>"),
            sim: spec.sim.clone(),
            spec,
            call_id,
            from,
            request_uri,
            cseq: 1,
            session_id,
            sdp_version: 1,
            rng,
            inbox,
            sockets,
            ports,
            answer: None,
            keys,
            streams: Vec::new(),
            ended_by_server: false,
            closed: false,
        })
    }

    /// The SIP Call-ID (what the phone's record key refers to).
    pub fn call_id(&self) -> &str {
        &self.call_id
    }

    /// The recorder's SDP answer.
    pub fn answer(&self) -> Option<&SessionDescription> {
        self.answer.as_ref()
    }

    /// The answered direction of each m-line (`recvonly`, or `inactive` with deny).
    pub fn answered_directions(&self) -> Vec<Direction> {
        match &self.answer {
            Some(a) => (0..a.media.len()).map(|i| a.direction_of(i)).collect(),
            None => Vec::new(),
        }
    }

    /// RTP packets sent so far on the caller's and the callee's stream.
    pub fn packets_sent(&self) -> [u64; 2] {
        let mut out = [0u64; 2];
        for (index, s) in &self.streams {
            let who = usize::from(*index != self.spec.caller_stream);
            out[who] += s.counters().sent.load(std::sync::atomic::Ordering::Relaxed);
        }
        out
    }

    /// Puts the call on hold: re-INVITE with `a=inactive` (the recorder pads the pause with
    /// silence), and stops sending RTP.
    pub async fn hold(&mut self) -> Result<(), SimError> {
        for (_, s) in &self.streams {
            s.set_sending(false);
        }
        self.reinvite(Direction::Inactive).await
    }

    /// Resumes after [`hold`](Self::hold): re-INVITE with `a=sendonly`, RTP again.
    pub async fn resume(&mut self) -> Result<(), SimError> {
        self.reinvite(Direction::SendOnly).await?;
        for (_, s) in &self.streams {
            s.set_sending(true);
        }
        Ok(())
    }

    /// Tells the recorder the caller's consent in a re-INVITE (`X-Callrec-Consent: <value>`,
    /// any text, so bad values can be tested) — as a PBX does once its IVR has asked. The
    /// streams stay as they are (`a=sendonly`). A non-2xx is `Err(SimError::Rejected(code))`.
    pub async fn consent(&mut self, value: &str) -> Result<(), SimError> {
        self.reinvite_with(Direction::SendOnly, &[(CONSENT_HEADER, value)])
            .await
    }

    /// Re-keys SRTP (RFC 4568 §7.1.4): a re-INVITE offering new keys on both streams, and
    /// once it is answered every following packet is protected with them. A call without
    /// SRTP is unchanged.
    pub async fn rekey(&mut self) -> Result<(), SimError> {
        let Some(suite) = self.spec.srtp else { return Ok(()) };
        let old = std::mem::replace(&mut self.keys, [Some(srtp_key(suite)?), Some(srtp_key(suite)?)]);
        if let Err(e) = self.reinvite(Direction::SendOnly).await {
            self.keys = old;
            return Err(e);
        }
        for (index, s) in &self.streams {
            if let Some(key) = self.keys.get(*index).cloned().flatten() {
                let sender = callrec_media::srtp::SrtpSender::new(&key).map_err(|_| SimError::BadAnswer("SRTP key"))?;
                s.set_srtp(sender);
            }
        }
        Ok(())
    }

    /// Stops or restarts RTP without telling the recorder (to test its silence timeout).
    pub fn set_sending(&self, sending: bool) {
        for (_, s) in &self.streams {
            s.set_sending(sending);
        }
    }

    /// Waits up to `within` for the recorder to end the call with a BYE.
    pub async fn wait_for_bye(&mut self, within: Duration) -> Result<CallReport, SimError> {
        let deadline = Instant::now() + within;
        while !self.ended_by_server {
            if self.recv_until(deadline).await?.is_none() && !self.ended_by_server {
                return Err(SimError::Timeout("BYE from the recorder"));
            }
        }
        Ok(self.finish())
    }

    /// Hangs up: stops RTP (waiting for the last packet to leave), BYE, waits for its final
    /// response.
    pub async fn bye(mut self) -> Result<CallReport, SimError> {
        use std::sync::atomic::Ordering::Relaxed;
        let mut report = CallReport::default();
        for (index, s) in std::mem::take(&mut self.streams) {
            let c = s.stop().await;
            if index == self.spec.caller_stream {
                report.caller_packets += c.sent.load(Relaxed);
            } else {
                report.callee_packets += c.sent.load(Relaxed);
            }
            report.skipped += c.skipped.load(Relaxed);
            report.reordered += c.reordered.load(Relaxed);
        }
        report.ended_by_server = self.ended_by_server;
        if self.ended_by_server {
            self.close();
            return Ok(report);
        }
        self.cseq += 1;
        let bye = self.base_request(Method::Bye);
        let response = self.transaction(bye).await;
        report.ended_by_server = self.ended_by_server;
        self.close();
        match response?.status() {
            Some(c) if (200..300).contains(&c) => Ok(report),
            Some(c) => Err(SimError::Rejected(c)),
            None => Err(SimError::Timeout("BYE")),
        }
    }

    fn report_counts(&self) -> CallReport {
        let [caller_packets, callee_packets] = self.packets_sent();
        let (mut skipped, mut reordered) = (0, 0);
        for (_, s) in &self.streams {
            skipped += s.counters().skipped.load(std::sync::atomic::Ordering::Relaxed);
            reordered += s.counters().reordered.load(std::sync::atomic::Ordering::Relaxed);
        }
        CallReport {
            caller_packets,
            callee_packets,
            skipped,
            reordered,
            ended_by_server: self.ended_by_server,
        }
    }

    fn finish(&mut self) -> CallReport {
        let report = self.report_counts();
        self.close();
        report
    }

    fn close(&mut self) {
        if !self.closed {
            self.closed = true;
            self.streams.clear();
            self.sim.link.unregister(&self.call_id);
        }
    }
}

/// A fresh SRTP master key and salt of `suite` from the operating system's generator.
pub fn srtp_key(suite: CryptoSuite) -> Result<MasterKey, SimError> {
    use std::io::Read;
    let mut bytes = vec![0u8; suite.key_len() + suite.salt_len()];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    MasterKey::new(suite, bytes).ok_or(SimError::BadAnswer("SRTP key length"))
}

impl Drop for SimCall {
    fn drop(&mut self) {
        self.close();
    }
}
