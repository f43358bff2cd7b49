//! One simulated SIPREC call, step by step: INVITE (multipart SDP + rs-metadata), ACK,
//! RTP on both streams, hold and resume by re-INVITE, BYE; or INVITE then CANCEL.
//!
//! The client transactions follow RFC 3261 §17.1: over UDP an INVITE is retransmitted
//! every T1, doubling, until a provisional or final response (Timer A), other requests
//! until a final response with the interval capped at T2 (Timer E); both give up after
//! 64·T1 (Timers B and F). A 2xx retransmitted by the server is acknowledged again
//! (§13.2.2.4). A BYE from the recorder (its session timeout) is answered 200.

use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::time::Duration;

use callrec_media::g711::Law;
use callrec_media::multipart::MediaType;
use callrec_media::sdp::{Direction, SessionDescription};
use callrec_media::sip::{response_to, CSeq, Message, Method, NameAddr, StartLine};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::link::{host_port, Link, Transport};
use crate::offer::{self, OfferSpec, Party};
use crate::rtp::{RtpSender, StreamHandle, StreamSpec};
use crate::signal::{tone, XorShift, CALLEE_HZ, CALLER_HZ};
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
        let link = Link::connect(server, transport).await?;
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
        }
    }

    /// The SIP transport.
    pub fn link(&self) -> &Arc<Link> {
        &self.link
    }
}

/// The settings of one call before it is placed.
#[derive(Clone)]
pub struct CallBuilder {
    sim: Sim,
    caller: Party,
    callee: Party,
    law: Law,
    mon_mode: Option<String>,
    loss_pct: f64,
    reorder_pct: f64,
    caller_stream: usize,
    headers: Vec<(String, String)>,
    body: Option<(String, Vec<u8>)>,
    send_when_inactive: bool,
    tones: [u32; 2],
}

impl CallBuilder {
    /// The caller's AoR (first participant of the metadata).
    pub fn caller(mut self, aor: &str) -> Self {
        aor.clone_into(&mut self.caller.aor);
        self
    }

    /// The caller's display name.
    pub fn caller_name(mut self, name: &str) -> Self {
        name.clone_into(&mut self.caller.name);
        self
    }

    /// The callee's AoR.
    pub fn callee(mut self, aor: &str) -> Self {
        aor.clone_into(&mut self.callee.aor);
        self
    }

    /// The callee's display name.
    pub fn callee_name(mut self, name: &str) -> Self {
        name.clone_into(&mut self.callee.name);
        self
    }

    /// The codec of both streams.
    pub fn codec(mut self, law: Law) -> Self {
        self.law = law;
        self
    }

    /// Sends `X-MDC-MON-MODE: <value>` (any text, so bad values can be tested).
    pub fn mon_mode(mut self, value: &str) -> Self {
        self.mon_mode = Some(value.to_owned());
        self
    }

    /// Drops this percentage of RTP packets before sending.
    pub fn loss(mut self, percent: f64) -> Self {
        self.loss_pct = percent;
        self
    }

    /// Sends this percentage of RTP packets after their successor.
    pub fn reorder(mut self, percent: f64) -> Self {
        self.reorder_pct = percent;
        self
    }

    /// Puts the caller's stream on the second m-line (the metadata says so), to check that
    /// channels follow the metadata rather than the m-line order.
    pub fn caller_on_second_stream(mut self) -> Self {
        self.caller_stream = 1;
        self
    }

    /// Adds a header to the INVITE.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Replaces the INVITE body (to send malformed SDP or metadata).
    pub fn body(mut self, content_type: &str, body: Vec<u8>) -> Self {
        self.body = Some((content_type.to_owned(), body));
        self
    }

    /// Sends RTP even on streams the recorder answered `inactive` (a misbehaving source).
    pub fn send_when_inactive(mut self) -> Self {
        self.send_when_inactive = true;
        self
    }

    /// The tones (Hz) of the caller and the callee.
    pub fn tones(mut self, caller_hz: u32, callee_hz: u32) -> Self {
        self.tones = [caller_hz, callee_hz];
        self
    }

    /// Places the call: INVITE, waits for the final response, ACKs a 2xx and starts RTP.
    /// A non-2xx final response is `Err(SimError::Rejected(code))`.
    pub async fn invite(self) -> Result<SimCall, SimError> {
        let mut call = SimCall::prepare(self)?;
        let invite = call.build_invite();
        let response = match call.transaction(invite.clone()).await {
            Ok(r) => r,
            Err(e) => {
                call.close();
                return Err(e);
            }
        };
        let code = response.status().unwrap_or(0);
        if !(200..300).contains(&code) {
            call.close();
            return Err(SimError::Rejected(code));
        }
        call.on_answer(&response, &invite).await?;
        Ok(call)
    }

    /// Places the call like [`invite`](Self::invite), but a non-2xx final response is
    /// acknowledged (RFC 3261 §17.1.1.3) and handed back, so a test can read its headers
    /// (`Retry-After` of a 503).
    pub async fn invite_or_refusal(self) -> Result<Result<SimCall, Message>, SimError> {
        let mut call = SimCall::prepare(self)?;
        let invite = call.build_invite();
        let response = match call.transaction(invite.clone()).await {
            Ok(r) => r,
            Err(e) => {
                call.close();
                return Err(e);
            }
        };
        if !response.status().is_some_and(|c| (200..300).contains(&c)) {
            let sent = call.sim.link.send(&ack_non_2xx(&invite, &response)).await;
            call.close();
            sent?;
            return Ok(Err(response));
        }
        call.on_answer(&response, &invite).await?;
        Ok(Ok(call))
    }

    /// Sends the INVITE and at once a CANCEL (RFC 3261 §9.1); returns the INVITE's final
    /// status (487 when the CANCEL won, 200 when the answer did — that call is then BYEd).
    pub async fn invite_and_cancel(self) -> Result<u16, SimError> {
        let mut call = SimCall::prepare(self)?;
        let invite = call.build_invite();
        call.sim.link.send(&invite).await?;
        let cancel = cancel_for(&invite);
        call.sim.link.send(&cancel).await?;
        let deadline = Instant::now() + TRANSACTION_TIMEOUT;
        let invite_seq = call.cseq;
        let mut final_code = None;
        let mut cancel_done = false;
        while final_code.is_none() || !cancel_done {
            let Some(m) = call.recv_until(deadline).await? else {
                call.close();
                return Err(SimError::Timeout("INVITE/CANCEL"));
            };
            let Ok(cseq) = m.cseq() else { continue };
            match (m.status(), cseq.method) {
                (Some(code), Method::Invite) if cseq.seq == invite_seq && code >= 200 => {
                    final_code = Some(code);
                    if code >= 300 {
                        // ACK for a non-2xx final response: same branch (RFC 3261 §17.1.1.3).
                        call.sim.link.send(&ack_non_2xx(&invite, &m)).await?;
                    } else {
                        call.on_answer(&m, &invite).await?;
                    }
                }
                (Some(code), Method::Cancel) if code >= 200 => cancel_done = true,
                _ => {}
            }
        }
        let code = final_code.unwrap_or(0);
        if (200..300).contains(&code) {
            call.bye().await?;
        } else {
            call.close();
        }
        Ok(code)
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
        let request_uri = format!("sip:srs@{}", host_port(server));
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

    fn base_request(&mut self, method: Method) -> Message {
        let mut m = Message::request(method.clone(), &self.request_uri);
        let branch = format!("z9hG4bK{}", self.rng.token());
        m.headers.push("Via", &self.sim.link.via(&branch));
        m.headers.push("Max-Forwards", "70");
        m.headers.push("From", &self.from);
        m.headers.push("To", &self.to);
        m.headers.push("Call-ID", &self.call_id);
        m.headers.push("CSeq", &format!("{} {method}", self.cseq));
        m
    }

    fn offer_body(&self, direction: Direction) -> Vec<u8> {
        let spec = OfferSpec {
            ip: self.sim.link.local().ip(),
            ports: self.ports,
            law: self.spec.law,
            session_id: self.session_id,
            version: self.sdp_version,
            direction,
            caller_stream: self.spec.caller_stream,
            caller: &self.spec.caller,
            callee: &self.spec.callee,
            recording_id: &self.call_id,
        };
        offer::multipart(&offer::sdp(&spec), &offer::metadata(&spec))
    }

    fn build_invite(&mut self) -> Message {
        let mut m = self.base_request(Method::Invite);
        m.headers
            .push("Contact", &format!("<{}>;+sip.src", self.sim.link.contact_uri()));
        m.headers.push("Require", "siprec");
        m.headers.push("Accept", "application/sdp, application/rs-metadata+xml");
        if let Some(mode) = &self.spec.mon_mode {
            m.headers.push("X-MDC-MON-MODE", mode);
        }
        for (name, value) in &self.spec.headers {
            m.headers.push(name, value);
        }
        match &self.spec.body {
            Some((ct, body)) => m.set_body(ct, body.clone()),
            None => {
                let body = self.offer_body(Direction::SendOnly);
                m.set_body(offer::MULTIPART_TYPE, body);
            }
        }
        m
    }

    /// Waits for the next response until `deadline`; answers requests from the recorder.
    /// `None` at the deadline, or at once when the recorder has ended the call (its BYE).
    async fn recv_until(&mut self, deadline: Instant) -> Result<Option<Message>, SimError> {
        loop {
            if self.ended_by_server {
                return Ok(None);
            }
            let m = match tokio::time::timeout_at(deadline, self.inbox.recv()).await {
                Err(_) => return Ok(None),
                Ok(None) => return Err(SimError::TransportClosed),
                Ok(Some(m)) => m,
            };
            if m.is_request() {
                self.on_request(&m).await?;
                continue;
            }
            return Ok(Some(m));
        }
    }

    async fn on_request(&mut self, m: &Message) -> Result<(), SimError> {
        match m.method() {
            Some(Method::Ack) => Ok(()),
            Some(Method::Bye) => {
                self.ended_by_server = true;
                for (_, s) in &self.streams {
                    s.set_sending(false);
                }
                self.reply(m, 200).await
            }
            Some(Method::Options) => self.reply(m, 200).await,
            _ => self.reply(m, 501).await,
        }
    }

    async fn reply(&self, request: &Message, code: u16) -> Result<(), SimError> {
        let resp = response_to(request, code, "", None)?;
        self.sim.link.send(&resp).await
    }

    /// Runs a client transaction to its final response (retransmitting over UDP).
    async fn transaction(&mut self, request: Message) -> Result<Message, SimError> {
        let is_invite = request.method() == Some(&Method::Invite);
        let method = request.method().cloned().unwrap_or(Method::Options);
        let seq = request.cseq()?.seq;
        self.sim.link.send(&request).await?;
        let udp = self.sim.link.transport() == Transport::Udp;
        let deadline = Instant::now() + TRANSACTION_TIMEOUT;
        let mut interval = T1;
        let mut next_resend = Instant::now() + interval;
        let mut provisional = false;
        loop {
            let wake = if udp && !(is_invite && provisional) {
                next_resend.min(deadline)
            } else {
                deadline
            };
            match self.recv_until(wake).await? {
                None if self.ended_by_server => return Err(SimError::EndedByServer),
                None if Instant::now() >= deadline => return Err(SimError::Timeout("SIP transaction")),
                None => {
                    self.sim.link.send(&request).await?;
                    interval = if is_invite {
                        interval * 2
                    } else {
                        (interval * 2).min(T2)
                    };
                    next_resend = Instant::now() + interval;
                }
                Some(m) => {
                    let Ok(CSeq { seq: s, method: mm }) = m.cseq() else {
                        continue;
                    };
                    if s != seq || mm != method {
                        // A 2xx retransmitted for an earlier INVITE: ACK it again.
                        if mm == Method::Invite && m.status().is_some_and(|c| (200..300).contains(&c)) {
                            let ack = self.ack_for(&m, s);
                            self.sim.link.send(&ack).await?;
                        }
                        continue;
                    }
                    match m.status() {
                        Some(code) if code < 200 => provisional = true,
                        Some(_) => return Ok(m),
                        None => {}
                    }
                }
            }
        }
    }

    fn ack_for(&mut self, response: &Message, seq: u32) -> Message {
        let mut ack = Message::request(Method::Ack, &self.request_uri);
        let branch = format!("z9hG4bK{}", self.rng.token());
        ack.headers.push("Via", &self.sim.link.via(&branch));
        ack.headers.push("Max-Forwards", "70");
        ack.headers.push("From", &self.from);
        ack.headers
            .push("To", response.headers.get("To").unwrap_or(self.to.as_str()));
        ack.headers.push("Call-ID", &self.call_id);
        ack.headers.push("CSeq", &format!("{seq} ACK"));
        ack
    }

    async fn on_answer(&mut self, response: &Message, invite: &Message) -> Result<(), SimError> {
        if let Some(to) = response.headers.get("To") {
            to.clone_into(&mut self.to);
        }
        if let Some(contact) = response.headers.get("Contact").and_then(NameAddr::parse) {
            self.request_uri = contact.uri;
        }
        let seq = invite.cseq()?.seq;
        let ack = self.ack_for(response, seq);
        self.sim.link.send(&ack).await?;
        let answer = answer_sdp(response)?;
        self.start_media(&answer)?;
        self.answer = Some(answer);
        Ok(())
    }

    fn start_media(&mut self, answer: &SessionDescription) -> Result<(), SimError> {
        let server_ip = self.sim.link.server().ip();
        for (index, socket) in std::mem::take(&mut self.sockets).into_iter().enumerate() {
            let Some(m) = answer.media.get(index) else { continue };
            let sending = answer.direction_of(index) == Direction::RecvOnly;
            if m.port == 0 || (!sending && !self.spec.send_when_inactive) {
                continue;
            }
            let ip = answer
                .connection_of(index)
                .and_then(|c| c.address.parse().ok())
                .unwrap_or(server_ip);
            socket.connect(SocketAddr::new(ip, m.port))?;
            socket.set_nonblocking(true)?;
            let is_caller = index == self.spec.caller_stream;
            let hz = self.spec.tones[usize::from(!is_caller)];
            let law = self.spec.law;
            #[allow(clippy::cast_possible_truncation)]
            let ssrc = self.rng.next_u64() as u32;
            let handle = self.sim.rtp.add(StreamSpec {
                socket,
                payload_type: law.payload_type(),
                audio: tone(law, hz),
                ssrc,
                loss_pct: self.spec.loss_pct,
                reorder_pct: self.spec.reorder_pct,
                seed: self.rng.next_u64(),
            });
            self.streams.push((index, handle));
        }
        Ok(())
    }

    async fn reinvite(&mut self, direction: Direction) -> Result<(), SimError> {
        self.cseq += 1;
        self.sdp_version += 1;
        let mut m = self.base_request(Method::Invite);
        m.headers
            .push("Contact", &format!("<{}>;+sip.src", self.sim.link.contact_uri()));
        let body = self.offer_body(direction);
        m.set_body(offer::MULTIPART_TYPE, body);
        let response = self.transaction(m).await?;
        let code = response.status().unwrap_or(0);
        let ack = self.ack_for(&response, self.cseq);
        if (200..300).contains(&code) {
            self.sim.link.send(&ack).await?;
            Ok(())
        } else {
            Err(SimError::Rejected(code))
        }
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

impl Drop for SimCall {
    fn drop(&mut self) {
        self.close();
    }
}

/// The SDP of a 2xx: the body itself, or the `application/sdp` part of a multipart body.
fn answer_sdp(response: &Message) -> Result<SessionDescription, SimError> {
    let ct = response.content_type().unwrap_or("application/sdp");
    let is_multipart = MediaType::parse(ct).is_some_and(|t| t.essence.starts_with("multipart/"));
    if is_multipart {
        let parts = callrec_media::multipart::parse(ct, &response.body)?;
        let part = parts
            .iter()
            .find(|p| p.content_type().is("application/sdp"))
            .ok_or(SimError::BadAnswer("no SDP part"))?;
        return Ok(SessionDescription::parse(&part.body)?);
    }
    Ok(SessionDescription::parse(&response.body)?)
}

/// The CANCEL of `invite` (RFC 3261 §9.1): same Request-URI, Call-ID, From, To, top Via and
/// CSeq number.
fn cancel_for(invite: &Message) -> Message {
    let uri = match &invite.start {
        StartLine::Request { uri, .. } => uri.clone(),
        StartLine::Response { .. } => String::new(),
    };
    let mut c = Message::request(Method::Cancel, &uri);
    if let Some(via) = invite.headers.get("Via") {
        c.headers.push("Via", via);
    }
    c.headers.push("Max-Forwards", "70");
    for h in ["From", "To", "Call-ID"] {
        if let Some(v) = invite.headers.get(h) {
            c.headers.push(h, v);
        }
    }
    let seq = invite.cseq().map(|c| c.seq).unwrap_or(1);
    c.headers.push("CSeq", &format!("{seq} CANCEL"));
    c
}

/// The ACK of a non-2xx final response (RFC 3261 §17.1.1.3): the INVITE's Via, its To with
/// the response's tag.
fn ack_non_2xx(invite: &Message, response: &Message) -> Message {
    let uri = match &invite.start {
        StartLine::Request { uri, .. } => uri.clone(),
        StartLine::Response { .. } => String::new(),
    };
    let mut a = Message::request(Method::Ack, &uri);
    if let Some(via) = invite.headers.get("Via") {
        a.headers.push("Via", via);
    }
    a.headers.push("Max-Forwards", "70");
    for h in ["From", "Call-ID"] {
        if let Some(v) = invite.headers.get(h) {
            a.headers.push(h, v);
        }
    }
    if let Some(to) = response.headers.get("To") {
        a.headers.push("To", to);
    }
    let seq = invite.cseq().map(|c| c.seq).unwrap_or(1);
    a.headers.push("CSeq", &format!("{seq} ACK"));
    a
}
