//! The SIP side of a placed call (RFC 3261 §17.1 client transactions): its requests and
//! their retransmission, the ACKs, answering the recorder's requests, the SDP answer and the
//! RTP streams it starts, re-INVITEs.

use std::net::SocketAddr;

use callrec_media::multipart::MediaType;
use callrec_media::sdp::{Direction, SessionDescription};
use callrec_media::sip::{response_to, CSeq, Message, Method, NameAddr, StartLine};
use tokio::time::Instant;

use super::{SimCall, T1, T2, TRANSACTION_TIMEOUT};
use crate::link::Transport;
use crate::offer::{self, OfferSpec};
use crate::rtp::StreamSpec;
use crate::signal::tone;
use crate::SimError;
use callrec_media::srtp::SrtpSender;

impl SimCall {
    pub(super) fn base_request(&mut self, method: Method) -> Message {
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

    pub(super) fn offer_body(&self, direction: Direction) -> Vec<u8> {
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
            crypto: [self.keys[0].as_ref(), self.keys[1].as_ref()],
        };
        offer::multipart(&offer::sdp(&spec), &offer::metadata(&spec))
    }

    pub(super) fn build_invite(&mut self) -> Message {
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
    pub(super) async fn recv_until(&mut self, deadline: Instant) -> Result<Option<Message>, SimError> {
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

    pub(super) async fn on_request(&mut self, m: &Message) -> Result<(), SimError> {
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

    pub(super) async fn reply(&self, request: &Message, code: u16) -> Result<(), SimError> {
        let resp = response_to(request, code, "", None)?;
        self.sim.link.send(&resp).await
    }

    /// Runs a client transaction to its final response (retransmitting over UDP).
    pub(super) async fn transaction(&mut self, request: Message) -> Result<Message, SimError> {
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

    pub(super) fn ack_for(&mut self, response: &Message, seq: u32) -> Message {
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

    pub(super) async fn on_answer(&mut self, response: &Message, invite: &Message) -> Result<(), SimError> {
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

    pub(super) fn start_media(&mut self, answer: &SessionDescription) -> Result<(), SimError> {
        let server_ip = self.sim.link.server().ip();
        for (index, socket) in std::mem::take(&mut self.sockets).into_iter().enumerate() {
            let Some(m) = answer.media.get(index) else { continue };
            let offered = self.keys.get(index).cloned().flatten();
            if offered.is_some() && m.port != 0 && (!m.is_srtp() || m.crypto().is_err()) {
                return Err(SimError::BadAnswer(
                    "SRTP was offered but the answer is not RTP/SAVP with a=crypto",
                ));
            }
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
            if self.spec.silent[usize::from(!is_caller)] {
                continue; // this side sends no RTP
            }
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
                srtp: match (offered, self.spec.srtp_wrong_key) {
                    (Some(key), false) => Some(SrtpSender::new(&key).map_err(|_| SimError::BadAnswer("SRTP key"))?),
                    (Some(key), true) => Some(
                        SrtpSender::new(&super::srtp_key(key.suite())?).map_err(|_| SimError::BadAnswer("SRTP key"))?,
                    ),
                    (None, _) => None,
                },
                tamper_every: self.spec.srtp_tamper_every,
            });
            self.streams.push((index, handle));
        }
        Ok(())
    }

    pub(super) async fn reinvite(&mut self, direction: Direction) -> Result<(), SimError> {
        self.reinvite_with(direction, &[]).await
    }

    /// A re-INVITE with extra headers (`X-Callrec-Consent` after an IVR asked).
    pub(super) async fn reinvite_with(
        &mut self,
        direction: Direction,
        headers: &[(&str, &str)],
    ) -> Result<(), SimError> {
        self.cseq += 1;
        self.sdp_version += 1;
        let mut m = self.base_request(Method::Invite);
        m.headers
            .push("Contact", &format!("<{}>;+sip.src", self.sim.link.contact_uri()));
        for (name, value) in headers {
            m.headers.push(name, value);
        }
        let body = self.offer_body(direction);
        m.set_body(offer::MULTIPART_TYPE, body);
        let response = self.transaction(m).await?;
        let code = response.status().unwrap_or(0);
        let ack = self.ack_for(&response, self.cseq);
        if (200..300).contains(&code) {
            self.sim.link.send(&ack).await?;
            if let Ok(answer) = answer_sdp(&response) {
                self.answer = Some(answer);
            }
            Ok(())
        } else {
            Err(SimError::Rejected(code))
        }
    }
}

/// The SDP of a 2xx: the body itself, or the `application/sdp` part of a multipart body.
pub(super) fn answer_sdp(response: &Message) -> Result<SessionDescription, SimError> {
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
pub(super) fn cancel_for(invite: &Message) -> Message {
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
pub(super) fn ack_non_2xx(invite: &Message, response: &Message) -> Message {
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
