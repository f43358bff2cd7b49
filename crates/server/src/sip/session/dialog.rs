//! The confirmed dialog (RFC 3261 §12): the ACK that establishes the session, in-dialog
//! requests until BYE, the ACK and idle timeouts, and re-INVITEs and UPDATEs that change the
//! hold state or the metadata (RFC 7866 §7.1.1, §9.3).

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use callrec_media::sdp::{AnswerPlan, MasterKey};
use callrec_media::sip::Message;
use callrec_media::sip::Method;

use super::{retry, Session, IDLE_CHECK};
use crate::live;
use crate::sip::core::Inbound;
use crate::sip::offer::{self, Reject, RejectKind};
use crate::sip::peer::Peer;
use crate::sip::transaction::Retransmit;

impl Session {
    /// The ACK arrived: the session is established. Automatic recordings start from the
    /// 200 OK (the RTP workers still hold that audio), and the source's count of sessions
    /// without an ACK goes down.
    pub(super) async fn confirm(&mut self) {
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

    /// The confirmed dialog, until BYE, timeout, shutdown or a lost ACK.
    pub(super) async fn dialog(&mut self) {
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
        // A bad consent header refuses the whole request: nothing of it is acted on.
        let consent = match offer::consent(message) {
            Ok(c) => c,
            Err(r) => {
                self.refuse(message, &r, peer);
                return;
            }
        };
        if message.body.is_empty() {
            // An offerless re-INVITE: our current SDP is the offer, the ACK the answer.
            self.apply_consent(consent).await;
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
        let policy = offer::srtp_policy(self.core.state().config.require_srtp);
        let plan = match AnswerPlan::with_policy(&parsed.sdp, self.mode, policy) {
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
        self.apply_consent(consent).await;
        let Some(media) = &mut self.media else { return };
        if let Some(update) = parsed.metadata {
            match &mut self.metadata {
                Some(m) => m.apply(update),
                None => self.metadata = Some(update),
            }
        }
        media.rtp.set_sides(offer::sides(&plan, self.metadata.as_ref()));
        // Re-keying (RFC 4568 §7.1.4): a stream whose SRC key changed gets the new one.
        let rekeyed: Vec<(usize, Option<MasterKey>)> = plan
            .accepted()
            .zip(media.plan.accepted())
            .enumerate()
            .filter(|(_, (new, old))| new.srtp.as_ref().map(|c| &c.key) != old.srtp.as_ref().map(|c| &c.key))
            .map(|(i, (new, _))| (i, new.srtp.as_ref().map(|c| c.key.clone())))
            .collect();
        if !rekeyed.is_empty() {
            tracing::info!(call_id = %self.call_id, streams = rekeyed.len(), "SIPREC: SRTP re-keyed");
        }
        media.rtp.set_srtp_keys(rekeyed);
        media.keys = super::answer_keys(&plan, &media.keys);
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

    /// A re-INVITE's `X-Callrec-Consent` (an IVR asked meanwhile): a new value reaches the
    /// call; one the SRC repeats changes nothing.
    async fn apply_consent(&mut self, consent: Option<callrec_media::sip::consent::ConsentHeader>) {
        let Some(h) = consent else { return };
        if self.consent_seen.as_ref() == Some(&h) {
            return;
        }
        self.consent_seen = Some(h.clone());
        let Some(id) = self.call else { return };
        let state = self.core.state().clone();
        let c = offer::call_consent(&h, state.clock.now());
        match live::set_consent(&state, id, c).await {
            Ok(_) => tracing::info!(call_id = %self.call_id, consent = ?h.consent, "SIPREC: consent changed"),
            Err(e) => tracing::warn!(call_id = %self.call_id, error = %e, "SIPREC: cannot record the consent"),
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
}
