//! The initial INVITE up to the 200 OK: the offer read once ([`offer::read`]), the RTP
//! ports and worker streams, the call registered with its rules (`live::open`), a CANCEL
//! that arrived meanwhile, then the 200 OK retransmitted until the ACK.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use callrec_media::g711::Law;
use callrec_media::jitter::Side;
use callrec_media::rtp::PayloadMap;
use callrec_media::sdp::AnswerPlan;
use callrec_media::sip::{response_to, Message, Method};
use callrec_media::srtp::{SrtpError, SrtpReceiver};
use callrec_types::calls::CallSource;
use callrec_types::CallId;

use super::{retry, Media, Session};
use crate::live::{self, NewLiveCall};
use crate::rtp::{NewStream, RtpCall};
use crate::sip::core::Inbound;
use crate::sip::offer::{self, Answerable, Refusal, Reject, RejectKind};
use crate::sip::peer::Peer;
use crate::sip::transaction::Retransmit;

impl Session {
    /// The initial INVITE up to the 200 OK. False when the session ends here.
    pub(super) async fn establish(&mut self) -> bool {
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
        let policy = offer::srtp_policy(self.core.state().config.require_srtp);
        let answerable = match offer::read(&invite, policy) {
            Ok(a) => a,
            Err(r) => {
                self.refuse_offer(&invite, &r, &peer);
                return false;
            }
        };
        self.mode = answerable.mode;
        let Some((rtp, ports)) = self.open_media(&invite, &peer, &answerable) else {
            return false;
        };
        let Some(id) = self.register(&invite, &peer, answerable, rtp, ports).await else {
            return false;
        };
        if self.cancelled_meanwhile(&invite, &peer) {
            return false;
        }
        self.answer(&invite, &peer, id)
    }

    fn refuse_offer(&self, invite: &Message, r: &Refusal, peer: &Peer) {
        match r {
            Refusal::Unsupported(unsupported) => {
                self.core.counters().rejected.fetch_add(1, Ordering::Relaxed);
                if let Some(mut r) = self.response(invite, 420) {
                    r.headers.push("Unsupported", &unsupported.join(", "));
                    self.respond(invite, &r, peer);
                }
            }
            Refusal::Reject(r) => self.refuse(invite, r, peer),
        }
    }

    /// Ports for the accepted streams, handed to an RTP worker; `None` (answered) when there
    /// are none to be had.
    fn open_media(&self, invite: &Message, peer: &Peer, a: &Answerable) -> Option<(Arc<RtpCall>, Vec<u16>)> {
        let receivers = match srtp_receivers(&a.plan) {
            Ok(r) => r,
            Err(e) => {
                self.refuse(
                    invite,
                    &Reject {
                        code: 488,
                        reason: e.to_string(),
                        kind: RejectKind::Unacceptable,
                    },
                    peer,
                );
                return None;
            }
        };
        let sockets = match self.core.rtp().ports().allocate(a.plan.accepted_count()) {
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
                if let Some(mut r) = self.response(invite, 503) {
                    r.headers.push("Retry-After", "5");
                    self.respond(invite, &r, peer);
                }
                return None;
            }
        };
        let law = recording_law(&a.plan, &a.sides);
        let ports: Vec<u16> = sockets.iter().map(|(p, _)| *p).collect();
        let streams = sockets
            .into_iter()
            .zip(a.plan.accepted())
            .zip(&a.sides)
            .zip(receivers)
            .map(|((((port, socket), s), side), srtp)| NewStream {
                socket,
                port,
                payload: a
                    .offer
                    .sdp
                    .media
                    .get(s.index)
                    .map_or_else(PayloadMap::static_types, PayloadMap::from_media),
                side: *side,
                srtp,
            })
            .collect();
        match self.core.rtp().open_call(streams, law) {
            Ok(rtp) => Some((rtp, ports)),
            Err(e) => {
                self.refuse(
                    invite,
                    &Reject {
                        code: 488,
                        reason: e.to_string(),
                        kind: RejectKind::Unacceptable,
                    },
                    peer,
                );
                None
            }
        }
    }

    /// Registers the call (`live::open` runs the rules); `None` (answered 500) on failure.
    async fn register(
        &mut self,
        invite: &Message,
        peer: &Peer,
        a: Answerable,
        rtp: Arc<RtpCall>,
        ports: Vec<u16>,
    ) -> Option<CallId> {
        self.metadata = a.offer.metadata;
        self.consent_seen = a.consent.clone();
        let state = self.core.state().clone();
        let started_at = state.clock.now();
        let consent = a
            .consent
            .as_ref()
            .map(|h| offer::call_consent(h, started_at))
            .unwrap_or_default();
        let opened = retry(|| {
            live::open(
                &state,
                NewLiveCall {
                    sip_call_id: self.call_id.clone(),
                    participants: a.participants.clone(),
                    mon_mode: a.mon_mode,
                    source: CallSource::Siprec,
                    started_at,
                    consent: consent.clone(),
                },
                rtp.clone(),
            )
        })
        .await;
        let keys = super::answer_keys(&a.plan, &[]);
        self.media = Some(Media {
            rtp,
            ports,
            plan: a.plan,
            keys,
        });
        let id = match opened {
            Ok(id) => id,
            Err(e) => {
                tracing::error!(call_id = %self.call_id, error = %e, "SIPREC: cannot register the call");
                self.reply(invite, 500, "", peer);
                return None;
            }
        };
        self.call = Some(id);
        self.core.counters().sessions.fetch_add(1, Ordering::Relaxed);
        Some(id)
    }

    /// Whether a CANCEL arrived while the call was registered (then answered 487); a
    /// retransmitted INVITE meanwhile gets its 100 again.
    fn cancelled_meanwhile(&mut self, invite: &Message, peer: &Peer) -> bool {
        while let Ok(Inbound { message, peer: from }) = self.rx.try_recv() {
            match message.method() {
                Some(Method::Cancel) => {
                    self.reply(&message, 200, "", &from);
                    self.reply(invite, 487, "", peer);
                    return true;
                }
                Some(Method::Invite) if message.cseq().is_ok_and(|c| c.seq == self.remote_cseq) => {
                    if let Ok(trying) = response_to(&message, 100, "", None) {
                        from.send(trying.to_bytes());
                    }
                }
                _ => self.reply(&message, 481, "", &from),
            }
        }
        false
    }

    /// Sends the 200 OK with the answer and waits for its ACK from here on.
    fn answer(&mut self, invite: &Message, peer: &Peer, id: CallId) -> bool {
        let Some(ok) = self.ok_with_answer(invite) else {
            self.reply(invite, 500, "", peer);
            return false;
        };
        let bytes = ok.to_bytes();
        self.answered_at = Some(self.core.state().clock.now());
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
}

/// An SRTP receiver for each accepted stream that offered SRTP, keyed with the SRC's key.
fn srtp_receivers(plan: &AnswerPlan) -> Result<Vec<Option<Box<SrtpReceiver>>>, SrtpError> {
    plan.accepted()
        .map(|s| {
            s.srtp
                .as_ref()
                .map(|c| SrtpReceiver::new(&c.key).map(Box::new))
                .transpose()
        })
        .collect()
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
