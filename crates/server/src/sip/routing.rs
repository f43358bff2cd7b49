//! Where a SIP request goes (RFC 3261 §8.2, §12.2): a retransmission of a completed
//! transaction gets its response again, a request in a dialog goes to that session's task, an
//! INVITE outside one starts a session (within its source's limit), and the rest is answered
//! here.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use callrec_media::sip::{Message, Method};
use tokio::sync::mpsc;

use super::admission;
use super::core::{lock, Inbound, SipCore};
use super::peer::Peer;
use super::session;
use super::transaction::TxKey;

impl SipCore {
    /// Routes one parsed message.
    pub fn handle(self: &Arc<Self>, message: Message, peer: Peer) {
        let Some(method) = message.method().cloned() else {
            return; // a response to a BYE we sent: nothing waits for it
        };
        self.counters.requests.fetch_add(1, Ordering::Relaxed);
        // RFC 3261 §8.1.1: these five are mandatory; CSeq's method must be the request's.
        let valid = message.top_via().is_ok()
            && message.from().is_ok()
            && message.to().is_ok()
            && message.call_id().is_ok()
            && message.cseq().is_ok_and(|c| c.method == method);
        if !valid {
            self.malformed(
                &message.to_bytes(),
                &peer,
                "missing or malformed Via, From, To, Call-ID or CSeq",
            );
            return;
        }
        if method != Method::Ack {
            if let Some(key) = TxKey::of(&message) {
                let cached = lock(&self.completed).get(&key, Instant::now());
                if let Some(bytes) = cached {
                    peer.send(bytes);
                    return;
                }
            }
        }
        let call_id = message.call_id().unwrap_or_default().to_owned();
        let dialog = lock(&self.dialogs).get(&call_id).cloned();
        if let Some(tx) = dialog {
            match tx.send(Inbound { message, peer }) {
                Ok(()) => return,
                // The session just ended: answer as if it never existed.
                Err(mpsc::error::SendError(Inbound { message, peer })) => {
                    self.outside_dialog(message, peer, method);
                }
            }
            return;
        }
        self.outside_dialog(message, peer, method);
    }

    fn outside_dialog(self: &Arc<Self>, message: Message, peer: Peer, method: Method) {
        let has_to_tag = message.to().is_ok_and(|t| t.tag().is_some());
        match method {
            Method::Invite if !has_to_tag => self.start_session(message, peer),
            Method::Ack => {}
            Method::Options if !has_to_tag => self.reply(&message, 200, "", &peer),
            Method::Invite
            | Method::Bye
            | Method::Cancel
            | Method::Options
            | Method::Info
            | Method::Update
            | Method::Prack => self.reply(&message, 481, "", &peer),
            _ => self.reply(&message, 405, "", &peer),
        }
    }

    fn start_session(self: &Arc<Self>, invite: Message, peer: Peer) {
        let ip = peer.addr().ip();
        let Some(pending) = self.unacknowledged.admit(ip) else {
            // Before any work (no dialog, no ports, no row): this is what a flood of INVITEs
            // that are never acknowledged meets once its source has used up its share.
            self.counters.source_limited.fetch_add(1, Ordering::Relaxed);
            self.counters.rejected.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(source = %ip, "SIPREC: too many sessions without an ACK from this source; 503");
            self.reply_retry_after(&invite, admission::RETRY_AFTER_SECS, &peer);
            return;
        };
        let call_id = invite.call_id().unwrap_or_default().to_owned();
        let (tx, rx) = mpsc::unbounded_channel();
        lock(&self.dialogs).insert(call_id.clone(), tx);
        self.sessions.running.fetch_add(1, Ordering::Relaxed);
        let core = self.clone();
        tokio::spawn(async move {
            session::run(core.clone(), invite, peer, rx, pending).await;
            lock(&core.dialogs).remove(&call_id);
            if core.sessions.running.fetch_sub(1, Ordering::Relaxed) == 1 {
                core.sessions.idle.notify_waiters();
            }
        });
    }
}
