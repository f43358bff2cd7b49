//! SRTP (RFC 3711) for one stream keyed by SDES ([`MasterKey`] from `a=crypto`): the
//! recorder's [`SrtpReceiver`] (authenticate, then decrypt; rollover counter and replay window
//! per SSRC) and the simulator's [`SrtpSender`].
//!
//! The cryptography is webrtc-rs's `rtc-srtp` (sans-I/O, RustCrypto AES-CM + HMAC-SHA1, ring
//! AES-GCM); this module only maps our suites onto its profiles and its errors onto what a
//! recorder counts. A packet that fails authentication yields [`SrtpError::Auth`] and
//! nothing else: no byte of it is decrypted into the recording.
//!
//! Re-keying (a re-INVITE with a new `a=crypto`) keeps the previous key as a fallback, so
//! packets already in flight under the old key when the new one arrives still authenticate.

use std::ops::Deref;

use rtc_srtp::context::Context;
use rtc_srtp::option::{srtcp_no_replay_protection, srtp_no_replay_protection, srtp_replay_protection};
use rtc_srtp::protection_profile::ProtectionProfile;

use crate::sdp::{CryptoSuite, MasterKey};

/// The replay window of a receiver in packets (RFC 3711 §3.3.2: at least 64).
pub const REPLAY_WINDOW: usize = 128;

/// Why an SRTP packet was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SrtpError {
    /// The authentication tag did not verify: a tampered packet or the wrong key.
    #[error("SRTP authentication failed")]
    Auth,
    /// A packet already received (RFC 3711 §3.3.2).
    #[error("SRTP replay")]
    Replay,
    /// Too short or not RTP.
    #[error("malformed SRTP packet")]
    Malformed,
    /// The key could not be set up (never with a [`MasterKey`] of a known suite).
    #[error("SRTP key set-up failed")]
    Key,
}

/// A decrypted RTP packet (header and payload, the tag removed) or a protected one.
#[derive(Debug)]
pub struct Packet(bytes::BytesMut);

impl Deref for Packet {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

/// The rtc-srtp profile of a suite.
fn profile(suite: CryptoSuite) -> ProtectionProfile {
    match suite {
        CryptoSuite::AesCm128HmacSha1_80 => ProtectionProfile::Aes128CmHmacSha1_80,
        CryptoSuite::AesCm128HmacSha1_32 => ProtectionProfile::Aes128CmHmacSha1_32,
        CryptoSuite::AesCm256HmacSha1_80 => ProtectionProfile::Aes256CmHmacSha1_80,
        CryptoSuite::AesCm256HmacSha1_32 => ProtectionProfile::Aes256CmHmacSha1_32,
        CryptoSuite::AeadAes128Gcm => ProtectionProfile::AeadAes128Gcm,
        CryptoSuite::AeadAes256Gcm => ProtectionProfile::AeadAes256Gcm,
    }
}

fn context(key: &MasterKey, replay: bool) -> Result<Context, SrtpError> {
    let srtp_opt = if replay {
        srtp_replay_protection(REPLAY_WINDOW)
    } else {
        srtp_no_replay_protection()
    };
    Context::new(
        key.key(),
        key.salt(),
        profile(key.suite()),
        Some(srtp_opt),
        Some(srtcp_no_replay_protection()),
    )
    .map_err(|_| SrtpError::Key)
}

fn refusal(e: &rtc_shared::error::Error) -> SrtpError {
    use rtc_shared::error::Error as E;
    match e {
        E::SrtpSsrcDuplicated(..) => SrtpError::Replay,
        E::ErrTooShortRtp | E::ErrHeaderSizeInsufficient | E::ErrHeaderSizeInsufficientForExtension => {
            SrtpError::Malformed
        }
        _ => SrtpError::Auth,
    }
}

/// The receiving side of one SRTP stream.
pub struct SrtpReceiver {
    current: Context,
    previous: Option<Context>,
}

impl std::fmt::Debug for SrtpReceiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SrtpReceiver(<keys redacted>)")
    }
}

impl SrtpReceiver {
    /// A receiver for packets protected with `key` (the offer's).
    pub fn new(key: &MasterKey) -> Result<SrtpReceiver, SrtpError> {
        Ok(SrtpReceiver {
            current: context(key, true)?,
            previous: None,
        })
    }

    /// Switches to `key` (a re-INVITE's); the old key still opens packets sent before.
    pub fn rekey(&mut self, key: &MasterKey) -> Result<(), SrtpError> {
        let next = context(key, true)?;
        self.previous = Some(std::mem::replace(&mut self.current, next));
        Ok(())
    }

    /// Authenticates and decrypts one SRTP packet into the plain RTP packet.
    pub fn unprotect(&mut self, packet: &[u8]) -> Result<Packet, SrtpError> {
        match self.current.decrypt_rtp(packet) {
            Ok(plain) => Ok(Packet(plain)),
            Err(e) => {
                let why = refusal(&e);
                if why == SrtpError::Auth {
                    if let Some(prev) = self.previous.as_mut() {
                        if let Ok(plain) = prev.decrypt_rtp(packet) {
                            return Ok(Packet(plain));
                        }
                    }
                }
                Err(why)
            }
        }
    }
}

/// The sending side of one SRTP stream (the simulator's).
pub struct SrtpSender {
    ctx: Context,
}

impl std::fmt::Debug for SrtpSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SrtpSender(<key redacted>)")
    }
}

impl SrtpSender {
    /// A sender protecting with `key`.
    pub fn new(key: &MasterKey) -> Result<SrtpSender, SrtpError> {
        Ok(SrtpSender {
            ctx: context(key, false)?,
        })
    }

    /// Encrypts and authenticates one RTP packet.
    pub fn protect(&mut self, packet: &[u8]) -> Result<Packet, SrtpError> {
        self.ctx.encrypt_rtp(packet).map(Packet).map_err(|e| refusal(&e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rtp::{write_packet, RtpHeader, RtpPacket};

    fn rtp(seq: u16, payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let header = RtpHeader {
            padding: false,
            extension: false,
            csrc_count: 0,
            marker: false,
            payload_type: 0,
            sequence: seq,
            timestamp: u32::from(seq) * 160,
            ssrc: 0x1234_5678,
        };
        write_packet(&header, payload, &mut out);
        out
    }

    fn key(suite: CryptoSuite, fill: u8) -> MasterKey {
        MasterKey::new(suite, vec![fill; suite.key_len() + suite.salt_len()]).expect("key")
    }

    #[test]
    fn every_suite_round_trips_and_refuses_tampering_and_the_wrong_key() {
        for suite in CryptoSuite::ALL {
            let mut tx = SrtpSender::new(&key(suite, 1)).expect("sender");
            let mut rx = SrtpReceiver::new(&key(suite, 1)).expect("receiver");
            let mut wrong = SrtpReceiver::new(&key(suite, 2)).expect("receiver");
            let plain = rtp(7, &[0x55; 160]);
            let protected = tx.protect(&plain).expect("protect");
            assert_eq!(protected.len(), plain.len() + suite.tag_len(), "{suite}: tag appended");
            assert_ne!(&protected[12..172], &plain[12..], "{suite}: payload encrypted");
            assert_eq!(&rx.unprotect(&protected).expect("unprotect")[..], &plain[..], "{suite}");
            assert_eq!(
                rx.unprotect(&protected).err(),
                Some(SrtpError::Replay),
                "{suite}: replay"
            );
            let next = tx.protect(&rtp(8, &[0x55; 160])).expect("protect");
            let mut tampered = next.to_vec();
            tampered[40] ^= 1;
            assert_eq!(
                rx.unprotect(&tampered).err(),
                Some(SrtpError::Auth),
                "{suite}: tampered"
            );
            assert_eq!(
                wrong.unprotect(&next).err(),
                Some(SrtpError::Auth),
                "{suite}: wrong key"
            );
            assert!(rx.unprotect(&next).is_ok(), "{suite}: the genuine packet still opens");
        }
    }

    #[test]
    fn the_rollover_counter_follows_the_sequence_number_across_zero() {
        let k = key(CryptoSuite::AesCm128HmacSha1_80, 3);
        let mut tx = SrtpSender::new(&k).expect("sender");
        let mut rx = SrtpReceiver::new(&k).expect("receiver");
        let mut seq: u16 = 65_530;
        for _ in 0..20 {
            let plain = rtp(seq, &[seq as u8; 160]);
            let back = rx
                .unprotect(&tx.protect(&plain).expect("protect"))
                .expect("after the wrap too");
            let parsed = RtpPacket::parse(&back).expect("RTP");
            assert_eq!(parsed.header.sequence, seq, "sequence");
            assert_eq!(parsed.payload, &plain[12..], "payload at {seq}");
            seq = seq.wrapping_add(1);
        }
    }

    #[test]
    fn rekeying_keeps_the_old_key_for_packets_in_flight() {
        let (old, new) = (
            key(CryptoSuite::AesCm128HmacSha1_32, 4),
            key(CryptoSuite::AesCm128HmacSha1_32, 5),
        );
        let mut tx_old = SrtpSender::new(&old).expect("sender");
        let mut tx_new = SrtpSender::new(&new).expect("sender");
        let mut rx = SrtpReceiver::new(&old).expect("receiver");
        assert!(
            rx.unprotect(&tx_old.protect(&rtp(1, &[1; 160])).expect("p")).is_ok(),
            "old key"
        );
        assert_eq!(
            rx.unprotect(&tx_new.protect(&rtp(2, &[1; 160])).expect("p")).err(),
            Some(SrtpError::Auth),
            "new key before the re-INVITE"
        );
        rx.rekey(&new).expect("rekey");
        assert!(
            rx.unprotect(&tx_old.protect(&rtp(3, &[1; 160])).expect("p")).is_ok(),
            "a late old packet"
        );
        assert!(
            rx.unprotect(&tx_new.protect(&rtp(4, &[1; 160])).expect("p")).is_ok(),
            "new key"
        );
        assert!(format!("{rx:?}").contains("redacted"), "no key in Debug");
    }
}
