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
//! `inactive`/`recvonly` = held, `live::set_held`), applies rs-metadata updates to the
//! channel mapping and a changed `X-Callrec-Consent` (`live::set_consent`); BYE ends the call (`live::end` finalises the files, the journal, the
//! events); OPTIONS and INFO get 200; a lower CSeq gets 500 (§12.2.2). With neither SIP nor
//! RTP for `sip_session_timeout_secs` the session is closed, finalised and a BYE sent.
//!
//! By noun: the initial INVITE up to the 200 OK in `invite`, the confirmed dialog in
//! `dialog`; here the session itself, its responses, and its end (close, BYE).

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use callrec_media::metadata::Metadata;
use callrec_media::sdp::{AnswerMode, AnswerPlan, LocalMedia, MasterKey};
use callrec_media::sip::consent::ConsentHeader;
use callrec_media::sip::{response_to, Message, Method, NameAddr};
use callrec_types::CallId;
use chrono::{DateTime, Utc};
use tokio::sync::mpsc;

mod dialog;
mod invite;

use super::admission::Pending;
use super::core::{new_tag, Inbound, SipCore, ALLOW};
use super::offer::{Reject, RejectKind};
use super::peer::Peer;
use super::transaction::Retransmit;
use crate::live;
use crate::rtp::RtpCall;

/// How often the silence timeout is checked.
const IDLE_CHECK: Duration = Duration::from_secs(1);

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
    /// Our SRTP key of each accepted stream (`None` for plain RTP), in the answer's
    /// `a=crypto` (RFC 4568 §7.1.2: the answerer's own key, never the offerer's echoed).
    keys: Vec<Option<MasterKey>>,
}

/// Our key for each accepted SRTP stream of `plan`: the one we answered before (`previous`,
/// by stream) when its suite is unchanged, else a new random one. Keys come from the
/// operating system's generator and are never logged.
fn answer_keys(plan: &AnswerPlan, previous: &[Option<MasterKey>]) -> Vec<Option<MasterKey>> {
    plan.accepted()
        .enumerate()
        .map(|(i, s)| {
            let suite = s.srtp.as_ref()?.suite;
            if let Some(Some(old)) = previous.get(i) {
                if old.suite() == suite {
                    return Some(old.clone());
                }
            }
            let mut bytes = vec![0u8; suite.key_len() + suite.salt_len()];
            rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
            MasterKey::new(suite, bytes)
        })
        .collect()
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
    /// The last `X-Callrec-Consent` the SRC sent: a re-INVITE repeating it changes nothing.
    consent_seen: Option<ConsentHeader>,
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
            consent_seen: None,
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

    /// The CSeq number of the INVITE that opened the dialog.
    fn initial_cseq(&self) -> u32 {
        self.invite.cseq().map(|c| c.seq).unwrap_or(0)
    }

    /// A 200 OK to `request` carrying the SDP answer for the current plan.
    fn ok_with_answer(&mut self, request: &Message) -> Option<Message> {
        let media = self.media.as_ref()?;
        let address = self.core.local_ip_for(self.peer.addr()).to_string();
        let sdp = media
            .plan
            .render_keyed(
                &LocalMedia {
                    address: &address,
                    session_id: self.sdp_session,
                    session_version: self.sdp_version,
                },
                &media.ports,
                &media.keys,
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
        // RFC 5630 §3.1.1: over TLS a sips: URI, on the TLS port, without a transport param.
        if self.peer.is_tls() {
            return format!("<sips:srs@{host}:{}>;+sip.srs", self.core.port_for(&self.peer));
        }
        let transport = if self.peer.is_reliable() { ";transport=tcp" } else { "" };
        format!("<sip:srs@{host}:{}{transport}>;+sip.srs", self.core.port())
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
        let host = SocketAddr::new(address, self.core.port_for(&self.peer));
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
