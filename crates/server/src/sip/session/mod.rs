//! One SIPREC recording session (RFC 7866): the dialog of one INVITE, from offer to BYE.
//!
//! INVITE: 100 Trying at once; the body is read ([`super::offer`]); ports are
//! allocated and the streams handed to an RTP worker; `live::open` registers the call and
//! runs the rules; a CANCEL that arrived meanwhile ends it with 487 (RFC 3261 §9.2); then
//! 200 OK with the answer SDP — `a=recvonly`, or `a=inactive` on every stream when the mode
//! is `deny` — retransmitted until the ACK (§13.3.1.4).
//!
//! The ACK establishes the session, and only then does `live::answer` start automatic
//! recordings, from the moment of the 200 OK: the RTP workers hold the last 300 ms of audio
//! unrecorded (the reorder window), which covers the ACK's round trip, so nothing the client
//! sent after our 200 is lost. A session whose 200 OK is never acknowledged within
//! `sip_ack_timeout_secs` (64·T1 by default) is closed with a BYE (§13.3.1.4) and its call
//! ended unanswered with no recording and no file (issue #13, item 4: a flood of INVITEs
//! that never ACK used to leave a recording of silence each). Until its ACK a session also
//! counts against its source's limit ([`super::admission`]).
//!
//! In the dialog: re-INVITE (and UPDATE with a body) changes the hold state (every stream
//! `inactive`/`recvonly` = held, `live::set_held`) and applies rs-metadata updates to the
//! channel mapping; BYE ends the call (`live::end` finalises the files, the journal, the
//! events); OPTIONS and INFO get 200; a lower CSeq gets 500 (§12.2.2). With neither SIP nor
//! RTP for `sip_session_timeout_secs` the session is closed, finalised and a BYE sent.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use callrec_media::g711::Law;
use callrec_media::jitter::Side;
use callrec_media::metadata::Metadata;
use callrec_media::rtp::PayloadMap;
use callrec_media::sdp::{AnswerMode, AnswerPlan, LocalMedia};
use callrec_media::sip::{response_to, Message, Method, NameAddr};
use callrec_types::calls::CallSource;
use callrec_types::rules::MonMode;
use callrec_types::CallId;
use chrono::{DateTime, Utc};
use tokio::sync::mpsc;

use super::admission::Pending;
use super::offer::{self, Reject, RejectKind};
use super::transaction::Retransmit;
use super::transport::Peer;
use super::{Inbound, SipCore, ALLOW};
use crate::live::{self, NewLiveCall};
use crate::rtp::{NewStream, RtpCall};

/// How often the silence timeout is checked.
const IDLE_CHECK: Duration = Duration::from_secs(1);

/// A random token for tags and branches.
pub fn new_tag() -> String {
    format!("{:016x}", rand::random::<u64>())
}

/// Runs the session of `invite` until it ends.
pub async fn run(
    core: Arc<SipCore>,
    invite: Message,
    peer: Peer,
    rx: mpsc::UnboundedReceiver<Inbound>,
    pending: Pending,
) {
    let mut s = Session::new(core, invite, peer, rx);
    s.pending = Some(pending);
    if s.establish().await {
        s.dialog().await;
    }
    s.close().await;
}

/// The media side of an established dialog.
struct Media {
    rtp: Arc<RtpCall>,
    ports: Vec<u16>,
    plan: AnswerPlan,
}

struct Session {
    core: Arc<SipCore>,
    invite: Message,
    peer: Peer,
    rx: mpsc::UnboundedReceiver<Inbound>,
    call_id: String,
    local_tag: String,
    remote_cseq: u32,
    local_cseq: u32,
    mode: AnswerMode,
    sdp_session: u64,
    sdp_version: u64,
    metadata: Option<Metadata>,
    held: bool,
    call: Option<CallId>,
    media: Option<Media>,
    /// The last 2xx to an INVITE, sent again when that INVITE is retransmitted.
    last_2xx: Option<(u32, Vec<u8>)>,
    awaiting_ack: Option<Retransmit>,
    last_sip: Instant,
    /// A BYE is owed to the SRC when the recorder ends the dialog.
    send_bye: bool,
    /// When the 200 OK to the initial INVITE was sent: the call's answer time, and where
    /// automatic recordings start once the ACK arrives.
    answered_at: Option<DateTime<Utc>>,
    /// The ACK of that 200 OK arrived: the session is established and may be recorded.
    confirmed: bool,
    /// Why the session ended before its ACK, for the call's trace.
    unconfirmed_end: &'static str,
    /// Counts against the source's limit of sessions without an ACK until dropped.
    pending: Option<Pending>,
}

impl Session {
    fn new(core: Arc<SipCore>, invite: Message, peer: Peer, rx: mpsc::UnboundedReceiver<Inbound>) -> Session {
        let call_id = invite.call_id().unwrap_or_default().to_owned();
        let remote_cseq = invite.cseq().map(|c| c.seq).unwrap_or(0);
        Session {
            core,
            invite,
            peer,
            rx,
            call_id,
            local_tag: new_tag(),
            remote_cseq,
            local_cseq: 0,
            mode: AnswerMode::Record,
            sdp_session: rand::random::<u32>().into(),
            sdp_version: 1,
            metadata: None,
            held: false,
            call: None,
            media: None,
            last_2xx: None,
            awaiting_ack: None,
            last_sip: Instant::now(),
            send_bye: false,
            answered_at: None,
            confirmed: false,
            unconfirmed_end: "not recorded: the session ended before the recording client acknowledged the answer",
            pending: None,
        }
    }

    fn respond(&self, request: &Message, response: &Message, peer: &Peer) {
        self.core.respond(request, response, peer);
    }

    /// A response with our To tag.
    fn response(&self, request: &Message, code: u16) -> Option<Message> {
        response_to(request, code, "", Some(&self.local_tag)).ok()
    }

    fn reply(&self, request: &Message, code: u16, why: &str, peer: &Peer) {
        let Some(mut r) = self.response(request, code) else {
            return;
        };
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

    fn refuse(&self, request: &Message, r: &Reject, peer: &Peer) {
        let c = self.core.counters();
        match r.kind {
            RejectKind::Sip => c.malformed.fetch_add(1, Ordering::Relaxed),
            RejectKind::Sdp => c.bad_sdp.fetch_add(1, Ordering::Relaxed),
            RejectKind::Metadata => c.bad_metadata.fetch_add(1, Ordering::Relaxed),
            RejectKind::Unacceptable => c.rejected.fetch_add(1, Ordering::Relaxed),
        };
        tracing::info!(call_id = %self.call_id, code = r.code, reason = %r.reason, "SIPREC: INVITE refused");
        let Some(mut resp) = self.response(request, r.code) else {
            return;
        };
        if r.code == 415 {
            resp.headers.push("Accept", "application/sdp, multipart/mixed");
        }
        let text: String = r.reason.chars().filter(|c| !c.is_control()).take(200).collect();
        resp.headers
            .push("Warning", &format!("399 callrec \"{}\"", text.replace('"', "'")));
        self.respond(request, &resp, peer);
    }

    /// The initial INVITE up to the 200 OK. False when the session ends here.
    async fn establish(&mut self) -> bool {
        let invite = self.invite.clone();
        let peer = self.peer.clone();
        if let Ok(trying) = response_to(&invite, 100, "", None) {
            peer.send(trying.to_bytes());
        }
        // A call the disk cannot take is refused, not answered and left unrecorded (#13).
        if self.core.state().refuse_while_disk_full() {
            self.core.counters().rejected.fetch_add(1, Ordering::Relaxed);
            if let Some(r) = crate::disk::refusal(self.response(&invite, 503)) {
                self.respond(&invite, &r, &peer);
            }
            return false;
        }
        let unsupported = offer::unsupported_requirements(&invite);
        if !unsupported.is_empty() {
            self.core.counters().rejected.fetch_add(1, Ordering::Relaxed);
            if let Some(mut r) = self.response(&invite, 420) {
                r.headers.push("Unsupported", &unsupported.join(", "));
                self.respond(&invite, &r, &peer);
            }
            return false;
        }
        let mon_mode = match offer::mon_mode(&invite) {
            Ok(m) => m,
            Err(r) => {
                self.refuse(&invite, &r, &peer);
                return false;
            }
        };
        self.mode = if mon_mode == MonMode::Deny {
            AnswerMode::Deny
        } else {
            AnswerMode::Record
        };
        let parsed = match offer::parse(&invite) {
            Ok(o) => o,
            Err(r) => {
                self.refuse(&invite, &r, &peer);
                return false;
            }
        };
        let plan = match AnswerPlan::new(&parsed.sdp, self.mode) {
            Ok(p) => p,
            Err(e) => {
                self.refuse(&invite, &offer::unanswerable(&e), &peer);
                return false;
            }
        };
        let n = plan.accepted_count();
        if n > crate::rtp::MAX_STREAMS {
            self.refuse(
                &invite,
                &Reject {
                    code: 488,
                    reason: format!("too many audio streams ({n})"),
                    kind: RejectKind::Unacceptable,
                },
                &peer,
            );
            return false;
        }
        let sockets = match self.core.rtp().ports().allocate(n) {
            Ok(s) => s,
            Err(e) => {
                self.core.counters().rejected.fetch_add(1, Ordering::Relaxed);
                // The error names the real cause: descriptors (EMFILE/ENFILE) or the range.
                match &e {
                    crate::rtp::RtpError::OutOfFds(_) => {
                        tracing::error!(call_id = %self.call_id, error = %e, "SIPREC: cannot open RTP sockets; 503");
                    }
                    _ => tracing::warn!(
                        call_id = %self.call_id,
                        error = %e,
                        free_ports = self.core.rtp().ports().available(),
                        "SIPREC: cannot allocate RTP ports; 503"
                    ),
                }
                if let Some(mut r) = self.response(&invite, 503) {
                    r.headers.push("Retry-After", "5");
                    self.respond(&invite, &r, &peer);
                }
                return false;
            }
        };
        let sides = offer::sides(&plan, parsed.metadata.as_ref());
        let law = recording_law(&plan, &sides);
        let ports: Vec<u16> = sockets.iter().map(|(p, _)| *p).collect();
        let streams = sockets
            .into_iter()
            .zip(plan.accepted())
            .zip(&sides)
            .map(|(((port, socket), s), side)| NewStream {
                socket,
                port,
                payload: parsed
                    .sdp
                    .media
                    .get(s.index)
                    .map_or_else(PayloadMap::static_types, PayloadMap::from_media),
                side: *side,
            })
            .collect();
        let rtp = match self.core.rtp().open_call(streams, law) {
            Ok(r) => r,
            Err(e) => {
                self.refuse(
                    &invite,
                    &Reject {
                        code: 488,
                        reason: e.to_string(),
                        kind: RejectKind::Unacceptable,
                    },
                    &peer,
                );
                return false;
            }
        };
        let participants = offer::participants(parsed.metadata.as_ref(), &invite);
        self.metadata = parsed.metadata;
        let state = self.core.state().clone();
        let started_at = state.clock.now();
        let opened = retry(|| {
            live::open(
                &state,
                NewLiveCall {
                    sip_call_id: self.call_id.clone(),
                    participants: participants.clone(),
                    mon_mode,
                    source: CallSource::Siprec,
                    started_at,
                },
                rtp.clone(),
            )
        })
        .await;
        self.media = Some(Media { rtp, ports, plan });
        let id = match opened {
            Ok(id) => id,
            Err(e) => {
                tracing::error!(call_id = %self.call_id, error = %e, "SIPREC: cannot register the call");
                self.reply(&invite, 500, "", &peer);
                return false;
            }
        };
        self.call = Some(id);
        self.core.counters().sessions.fetch_add(1, Ordering::Relaxed);
        // A CANCEL (or a retransmission) may have arrived while the call was registered.
        while let Ok(Inbound { message, peer: from }) = self.rx.try_recv() {
            match message.method() {
                Some(Method::Cancel) => {
                    self.reply(&message, 200, "", &from);
                    self.reply(&invite, 487, "", &peer);
                    return false;
                }
                Some(Method::Invite) if message.cseq().is_ok_and(|c| c.seq == self.remote_cseq) => {
                    if let Ok(trying) = response_to(&message, 100, "", None) {
                        from.send(trying.to_bytes());
                    }
                }
                _ => self.reply(&message, 481, "", &from),
            }
        }
        let Some(ok) = self.ok_with_answer(&invite) else {
            self.reply(&invite, 500, "", &peer);
            return false;
        };
        let bytes = ok.to_bytes();
        self.answered_at = Some(state.clock.now());
        peer.send(bytes.clone());
        self.last_2xx = Some((self.remote_cseq, bytes.clone()));
        self.awaiting_ack = Some(Retransmit::new(
            bytes,
            self.remote_cseq,
            Instant::now(),
            self.core.ack_timeout(),
        ));
        self.last_sip = Instant::now();
        // The body was read; the headers stay for the BYE we may owe. Less memory per call.
        self.invite.body = Vec::new();
        tracing::info!(call_id = %self.call_id, call = %id, "SIPREC: session answered");
        true
    }

    /// The CSeq number of the INVITE that opened the dialog.
    fn initial_cseq(&self) -> u32 {
        self.invite.cseq().map(|c| c.seq).unwrap_or(0)
    }

    /// The ACK arrived: the session is established. Automatic recordings start from the
    /// 200 OK (the RTP workers still hold that audio), and the source's count of sessions
    /// without an ACK goes down.
    async fn confirm(&mut self) {
        self.confirmed = true;
        self.pending = None;
        let Some(id) = self.call else { return };
        let state = self.core.state().clone();
        let at = self.answered_at.unwrap_or_else(|| state.clock.now());
        if let Err(e) = retry(|| live::answer_at(&state, id, at)).await {
            tracing::error!(call_id = %self.call_id, error = %e, "SIPREC: cannot answer the call");
        }
        self.held = self.media.as_ref().is_some_and(|m| offer::is_held(&m.plan));
        if self.held {
            let _ = live::set_held(&state, id, true).await;
        }
        tracing::debug!(call_id = %self.call_id, call = %id, "SIPREC: session established (ACK)");
    }

    /// A 200 OK to `request` carrying the SDP answer for the current plan.
    fn ok_with_answer(&mut self, request: &Message) -> Option<Message> {
        let media = self.media.as_ref()?;
        let address = self.core.local_ip_for(self.peer.addr()).to_string();
        let sdp = media
            .plan
            .render(
                &LocalMedia {
                    address: &address,
                    session_id: self.sdp_session,
                    session_version: self.sdp_version,
                },
                &media.ports,
            )
            .ok()?;
        let mut ok = self.response(request, 200)?;
        ok.headers.push("Contact", &self.contact(&address));
        ok.headers.push("Allow", ALLOW);
        ok.headers.push("Supported", "siprec");
        ok.set_body("application/sdp", sdp.into_bytes());
        Some(ok)
    }

    fn contact(&self, address: &str) -> String {
        let host = if address.contains(':') {
            format!("[{address}]")
        } else {
            address.to_owned()
        };
        let transport = if self.peer.is_reliable() { ";transport=tcp" } else { "" };
        format!("<sip:srs@{host}:{}{transport}>;+sip.srs", self.core.port())
    }

    /// The confirmed dialog, until BYE, timeout, shutdown or a lost ACK.
    async fn dialog(&mut self) {
        let timeout = Duration::from_secs(u64::from(self.core.state().config.sip_session_timeout_secs.max(1)));
        let mut shutdown = self.core.shutdown_signal();
        let mut next_idle_check = Instant::now() + IDLE_CHECK;
        loop {
            let mut wake = next_idle_check;
            if let Some(r) = &self.awaiting_ack {
                wake = wake.min(r.deadline);
                if !self.peer.is_reliable() {
                    wake = wake.min(r.next);
                }
            }
            let inbound = tokio::select! {
                m = self.rx.recv() => m,
                _ = tokio::time::sleep_until(wake.into()) => None,
                _ = shutdown.changed() => {
                    tracing::info!(call_id = %self.call_id, "SIPREC: ending the session at shutdown");
                    self.send_bye = true;
                    return;
                }
            };
            let now = Instant::now();
            if let Some(Inbound { message, peer }) = inbound {
                self.last_sip = now;
                if self.on_request(message, peer).await {
                    return;
                }
                continue;
            }
            let initial_cseq = self.initial_cseq();
            if let Some(r) = &mut self.awaiting_ack {
                if now >= r.deadline {
                    let initial = r.cseq == initial_cseq;
                    self.awaiting_ack = None;
                    if initial && !self.confirmed {
                        self.core.counters().unacknowledged.fetch_add(1, Ordering::Relaxed);
                        tracing::info!(call_id = %self.call_id, source = %self.peer.addr(), "SIPREC: no ACK for the 200 OK; ending the session unrecorded");
                        self.unconfirmed_end =
                            "not recorded: the recording client never acknowledged the answer (no ACK)";
                        // §13.3.1.4: the dialog is confirmed, but the session SHOULD be
                        // terminated with a BYE.
                        self.send_bye = true;
                        return;
                    }
                } else if now >= r.next && !self.peer.is_reliable() {
                    self.peer.send(r.bytes.clone());
                    r.backoff(now);
                }
            }
            if now >= next_idle_check {
                next_idle_check = now + IDLE_CHECK;
                let rtp_idle = self.media.as_ref().map_or(Duration::MAX, |m| m.rtp.idle_for());
                let idle = rtp_idle.min(now.duration_since(self.last_sip));
                if idle >= timeout {
                    self.core.counters().timeouts.fetch_add(1, Ordering::Relaxed);
                    tracing::info!(call_id = %self.call_id, idle_secs = idle.as_secs(), "SIPREC: session silent too long; closing it");
                    self.send_bye = true;
                    return;
                }
            }
        }
    }

    /// Handles an in-dialog request; true when the dialog is over.
    async fn on_request(&mut self, message: Message, peer: Peer) -> bool {
        let Some(method) = message.method().cloned() else {
            return false;
        };
        let seq = message.cseq().map(|c| c.seq).unwrap_or(0);
        if method == Method::Ack {
            if self.awaiting_ack.as_ref().is_some_and(|r| r.cseq == seq) {
                self.awaiting_ack = None;
            }
            // The ACK of a re-INVITE's 2xx also proves the client had our first 200.
            if !self.confirmed && seq >= self.initial_cseq() {
                self.confirm().await;
            }
            return false;
        }
        if method == Method::Invite && seq == self.remote_cseq {
            // A retransmitted INVITE: the same answer again (§13.3.1.4).
            if let Some((s, bytes)) = &self.last_2xx {
                if *s == seq {
                    peer.send(bytes.clone());
                }
            }
            return false;
        }
        if method == Method::Cancel {
            // Nothing left to cancel once the INVITE is answered (§9.2).
            self.reply(&message, 200, "", &peer);
            return false;
        }
        if seq < self.remote_cseq {
            self.reply(&message, 500, "CSeq out of order", &peer);
            return false;
        }
        self.remote_cseq = seq;
        self.peer = peer.clone();
        match method {
            Method::Bye => {
                if !self.confirmed {
                    self.unconfirmed_end =
                        "not recorded: the recording client ended the session before acknowledging the answer";
                }
                self.reply(&message, 200, "", &peer);
                true
            }
            Method::Invite => {
                self.reinvite(&message, &peer, true).await;
                false
            }
            Method::Update if !message.body.is_empty() => {
                self.reinvite(&message, &peer, false).await;
                false
            }
            Method::Options | Method::Info | Method::Update | Method::Prack => {
                self.reply(&message, 200, "", &peer);
                false
            }
            _ => {
                self.reply(&message, 405, "", &peer);
                false
            }
        }
    }

    /// A re-INVITE or UPDATE: hold/resume and metadata updates (RFC 7866 §7.1.1, §9.3).
    async fn reinvite(&mut self, message: &Message, peer: &Peer, needs_ack: bool) {
        if message.body.is_empty() {
            // An offerless re-INVITE: our current SDP is the offer, the ACK the answer.
            if let Some(ok) = self.ok_with_answer(message) {
                self.finish_reinvite(ok, needs_ack, message, peer);
            }
            return;
        }
        let parsed = match offer::parse(message) {
            Ok(o) => o,
            Err(r) => {
                self.refuse(message, &r, peer);
                return;
            }
        };
        let plan = match AnswerPlan::new(&parsed.sdp, self.mode) {
            Ok(p) => p,
            Err(e) => {
                self.refuse(message, &offer::unanswerable(&e), peer);
                return;
            }
        };
        let Some(media) = &mut self.media else { return };
        if plan.accepted_count() != media.ports.len() {
            self.refuse(
                message,
                &Reject {
                    code: 488,
                    reason: "the number of audio streams cannot change".into(),
                    kind: RejectKind::Unacceptable,
                },
                peer,
            );
            return;
        }
        if let Some(update) = parsed.metadata {
            match &mut self.metadata {
                Some(m) => m.apply(update),
                None => self.metadata = Some(update),
            }
        }
        media.rtp.set_sides(offer::sides(&plan, self.metadata.as_ref()));
        let held = offer::is_held(&plan);
        media.plan = plan;
        if held != self.held {
            self.held = held;
            if let Some(id) = self.call {
                if let Err(e) = live::set_held(self.core.state(), id, held).await {
                    tracing::warn!(call_id = %self.call_id, error = %e, "SIPREC: cannot record the hold state");
                }
            }
            tracing::info!(call_id = %self.call_id, held, "SIPREC: hold state changed");
        }
        self.sdp_version += 1;
        if let Some(ok) = self.ok_with_answer(message) {
            self.finish_reinvite(ok, needs_ack, message, peer);
        }
    }

    fn finish_reinvite(&mut self, ok: Message, needs_ack: bool, request: &Message, peer: &Peer) {
        if needs_ack {
            let bytes = ok.to_bytes();
            peer.send(bytes.clone());
            let seq = request.cseq().map(|c| c.seq).unwrap_or(0);
            self.last_2xx = Some((seq, bytes.clone()));
            self.awaiting_ack = Some(Retransmit::new(bytes, seq, Instant::now(), self.core.ack_timeout()));
        } else {
            self.respond(request, &ok, peer);
        }
    }

    /// Ends the call (files, journal, events), sends the BYE owed, frees the media.
    async fn close(&mut self) {
        self.pending = None;
        if let Some(id) = self.call.take() {
            // Answered but never acknowledged: the session never existed for the client.
            let ended = if self.answered_at.is_some() && !self.confirmed {
                live::abandon(self.core.state(), id, self.unconfirmed_end).await
            } else {
                live::end(self.core.state(), id).await
            };
            if let Err(e) = ended {
                tracing::error!(call_id = %self.call_id, error = %e, "SIPREC: cannot finalise the call");
            }
            tracing::info!(call_id = %self.call_id, call = %id, "SIPREC: session ended");
        }
        if let Some(m) = self.media.take() {
            m.rtp.close();
        }
        if self.send_bye {
            self.bye();
        }
    }

    /// A BYE to the SRC (RFC 3261 §15.1.1): to the INVITE's Contact, our tag in From.
    fn bye(&mut self) {
        let Ok(from) = self.invite.from() else { return };
        let Ok(to) = self.invite.to() else { return };
        let target = self
            .invite
            .headers
            .get("Contact")
            .and_then(NameAddr::parse)
            .map_or_else(|| from.uri.clone(), |c| c.uri);
        self.local_cseq += 1;
        let address = self.core.local_ip_for(self.peer.addr());
        let host = SocketAddr::new(address, self.core.port());
        let mut bye = Message::request(Method::Bye, &target);
        bye.headers.push(
            "Via",
            &format!("SIP/2.0/{} {host};branch=z9hG4bK{}", self.peer.transport(), new_tag()),
        );
        bye.headers.push("Max-Forwards", "70");
        let mut ours = to.clone();
        ours.params.push("tag", Some(&self.local_tag));
        bye.headers.push("From", &ours.to_string());
        bye.headers.push("To", &from.to_string());
        bye.headers.push("Call-ID", &self.call_id);
        bye.headers.push("CSeq", &format!("{} BYE", self.local_cseq));
        // Its response, if any, is absorbed by the core: nothing waits for it.
        self.peer.send(bye.to_bytes());
    }
}

/// Runs `op` up to three times: call set-up must survive a transiently busy database
/// (every step it retries leaves nothing behind when it fails).
async fn retry<T, E: std::fmt::Display, F: std::future::Future<Output = Result<T, E>>>(
    mut op: impl FnMut() -> F,
) -> Result<T, E> {
    let mut pause = Duration::from_millis(20);
    for _ in 0..2 {
        match op().await {
            Ok(v) => return Ok(v),
            Err(e) => tracing::warn!(error = %e, "SIPREC: call set-up step failed; retrying"),
        }
        tokio::time::sleep(pause + Duration::from_millis(rand::random::<u64>() % 20)).await;
        pause *= 3;
    }
    op().await
}

/// The law of the recording: the caller's stream's, else the first stream's.
fn recording_law(plan: &AnswerPlan, sides: &[Option<Side>]) -> Law {
    plan.accepted()
        .zip(sides)
        .find(|(_, side)| **side == Some(Side::Caller))
        .map(|(s, _)| s.law)
        .or_else(|| plan.accepted().next().map(|s| s.law))
        .unwrap_or(Law::Ulaw)
}
