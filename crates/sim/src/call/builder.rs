//! The settings of one call before it is placed ([`CallBuilder`]): parties, law, mode,
//! simulated loss and reordering, extra headers; and placing it (or placing and cancelling).

use callrec_media::g711::Law;
use callrec_media::sdp::CryptoSuite;
use callrec_media::sip::{Message, Method};
use tokio::time::Instant;

use super::dialog::{ack_non_2xx, cancel_for};
use super::{Sim, SimCall, TRANSACTION_TIMEOUT};
use crate::offer::Party;
use crate::SimError;

/// The settings of one call before it is placed.
#[derive(Clone)]
pub struct CallBuilder {
    pub(super) sim: Sim,
    pub(super) caller: Party,
    pub(super) callee: Party,
    pub(super) law: Law,
    pub(super) mon_mode: Option<String>,
    pub(super) loss_pct: f64,
    pub(super) reorder_pct: f64,
    pub(super) caller_stream: usize,
    pub(super) headers: Vec<(String, String)>,
    pub(super) body: Option<(String, Vec<u8>)>,
    pub(super) send_when_inactive: bool,
    pub(super) tones: [u32; 2],
    /// Sides (caller, callee) that send no RTP at all.
    pub(super) silent: [bool; 2],
    /// SRTP (SDES) on both streams with this suite.
    pub(super) srtp: Option<CryptoSuite>,
    /// Encrypt with another key than the one offered.
    pub(super) srtp_wrong_key: bool,
    /// Flip a payload bit of every n-th SRTP packet (0 = never).
    pub(super) srtp_tamper_every: u64,
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

    /// Sends `X-Callrec-Consent: <value>` on the INVITE (any text, so bad values can be tested).
    pub fn consent(self, value: &str) -> Self {
        self.header(super::CONSENT_HEADER, value)
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

    /// Sends no RTP at all, on either side (the call is set up and ended normally): a
    /// recording of it holds nothing but silence.
    pub fn silent(mut self) -> Self {
        self.silent = [true, true];
        self
    }

    /// The callee sends no RTP (one side silent for the whole call).
    pub fn silent_callee(mut self) -> Self {
        self.silent[1] = true;
        self
    }

    /// Offers SRTP on both streams (`RTP/SAVP` with `a=crypto`, RFC 4568) with `suite` and keys
    /// of the simulator's own, and encrypts every packet with them. The simulator decrypts
    /// nothing: the recorder only receives.
    pub fn srtp(mut self, suite: CryptoSuite) -> Self {
        self.srtp = Some(suite);
        self
    }

    /// Encrypts with a key other than the one offered: every packet fails the recorder's
    /// authentication.
    pub fn srtp_wrong_key(mut self) -> Self {
        self.srtp_wrong_key = true;
        self
    }

    /// Flips one payload bit of every `n`-th SRTP packet after it is protected (a tampered
    /// packet the recorder must drop and count).
    pub fn srtp_tamper_every(mut self, n: u64) -> Self {
        self.srtp_tamper_every = n;
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
