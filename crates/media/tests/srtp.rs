//! SRTP against the known answers of RFC 3711 Appendix B, through the same [`SrtpSender`] and
//! [`SrtpReceiver`] the recorder and the simulator use.
//!
//! The SRTP library's key derivation and cipher are internal, so they are checked from the
//! outside: a packet protected under the B.3 master key and salt must carry exactly the
//! AES-CM keystream of the B.3 *session* keys (cipher key, salt) over its payload, and exactly
//! the HMAC-SHA1 tag of the B.3 authentication key. The keystream and the tag are computed
//! independently with RustCrypto's `aes`/`ctr`/`hmac`/`sha1`, and that oracle is first checked
//! against the B.2 keystream vectors themselves.

use aes::cipher::{KeyIvInit, StreamCipher};
use callrec_media::rtp::{write_packet, RtpHeader};
use callrec_media::sdp::{CryptoSuite, MasterKey};
use callrec_media::srtp::{SrtpError, SrtpReceiver, SrtpSender};
use hmac::{Hmac, Mac};

type Aes128Ctr = ctr::Ctr128BE<aes::Aes128>;

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s).expect("hex")
}

/// B.3: the master key and salt, and the session keys derived from them (index 0, KDR 0).
const MASTER_KEY: &str = "E1F97A0D3E018BE0D64FA32C06DE4139";
const MASTER_SALT: &str = "0EC675AD498AFEEBB6960B3AABE6";
const SESSION_KEY: &str = "C61E7A93744F39EE10734AFE3FF7A087";
const SESSION_SALT: &str = "30CBBC08863D8C85D49DB34A9AE1";
/// The first 160 bits of the B.3 authentication key (HMAC-SHA1's key, RFC 3711 §4.2.1).
const AUTH_KEY: &str = "CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4";

/// The AES-CM keystream (RFC 3711 §4.1.1) of `len` bytes for one packet.
fn keystream(key: &[u8], salt: &[u8], ssrc: u32, index: u64, len: usize) -> Vec<u8> {
    let mut iv = [0u8; 16];
    iv[..14].copy_from_slice(salt);
    let iv = u128::from_be_bytes(iv) ^ (u128::from(ssrc) << 64) ^ (u128::from(index) << 16);
    let mut out = vec![0u8; len];
    Aes128Ctr::new(key.into(), &iv.to_be_bytes().into()).apply_keystream(&mut out);
    out
}

#[test]
fn the_oracle_matches_the_b2_keystream_vectors() {
    let key = unhex("2B7E151628AED2A6ABF7158809CF4F3C");
    let salt = unhex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD");
    let ks = keystream(&key, &salt, 0, 0, 16 * 0xff02);
    let block = |n: usize| hex::encode_upper(&ks[n * 16..(n + 1) * 16]);
    assert_eq!(block(0), "E03EAD0935C95E80E166B16DD92B4EB4", "block 0");
    assert_eq!(block(1), "D23513162B02D0F72A43A2FE4A5F97AB", "block 1");
    assert_eq!(block(2), "41E95B3BB0A2E8DD477901E4FCA894C0", "block 2");
    assert_eq!(block(0xfeff), "EC8CDF7398607CB0F2D21675EA9EA1E4", "block feff");
    assert_eq!(block(0xff00), "362B7C3C6773516318A077D7FC5073AE", "block ff00");
    assert_eq!(block(0xff01), "6A2CC3787889374FBEB4C81B17BA6C44", "block ff01");
}

fn packet(seq: u16, ssrc: u32, payload: &[u8]) -> Vec<u8> {
    let header = RtpHeader {
        padding: false,
        extension: false,
        csrc_count: 0,
        marker: false,
        payload_type: 0,
        sequence: seq,
        timestamp: 0x0102_0304,
        ssrc,
    };
    let mut out = Vec::new();
    write_packet(&header, payload, &mut out);
    out
}

fn b3_key(suite: CryptoSuite) -> MasterKey {
    MasterKey::new(suite, [unhex(MASTER_KEY), unhex(MASTER_SALT)].concat()).expect("30 bytes")
}

#[test]
fn protected_packets_carry_the_b3_keystream_and_auth_tag() {
    for (suite, tag_len) in [
        (CryptoSuite::AesCm128HmacSha1_80, 10),
        (CryptoSuite::AesCm128HmacSha1_32, 4),
    ] {
        let mut tx = SrtpSender::new(&b3_key(suite)).expect("sender");
        // SSRC 0 and index 0 first (the IV is the session salt itself), then another SSRC and
        // a later index, which move the IV (RFC 3711 §4.1.1).
        for (seq, ssrc) in [(0u16, 0u32), (1, 0), (0x1234, 0xDEAD_BEEF)] {
            if ssrc != 0 {
                tx = SrtpSender::new(&b3_key(suite)).expect("sender");
            }
            let payload = [0u8; 160];
            let plain = packet(seq, ssrc, &payload);
            let protected = tx.protect(&plain).expect("protect");
            assert_eq!(protected.len(), 12 + 160 + tag_len, "{suite}: tag length");
            assert_eq!(&protected[..12], &plain[..12], "{suite}: the header stays clear");
            let ks = keystream(&unhex(SESSION_KEY), &unhex(SESSION_SALT), ssrc, u64::from(seq), 160);
            assert_eq!(
                hex::encode(&protected[12..172]),
                hex::encode(&ks),
                "{suite}: payload = B.3 session keystream (seq {seq}, ssrc {ssrc:x})"
            );
            let mut mac = Hmac::<sha1::Sha1>::new_from_slice(&unhex(AUTH_KEY)).expect("HMAC key");
            mac.update(&protected[..172]);
            mac.update(&0u32.to_be_bytes()); // ROC (RFC 3711 §4.2)
            let tag = mac.finalize().into_bytes();
            assert_eq!(
                hex::encode(&protected[172..]),
                hex::encode(&tag[..tag_len]),
                "{suite}: the tag is HMAC-SHA1 under the B.3 auth key"
            );
            let mut rx = SrtpReceiver::new(&b3_key(suite)).expect("receiver");
            assert_eq!(
                &rx.unprotect(&protected).expect("opens")[..],
                &plain[..],
                "{suite}: round trip"
            );
        }
    }
}

#[test]
fn a_wrong_tag_is_refused_before_anything_is_decrypted() {
    let suite = CryptoSuite::AesCm128HmacSha1_80;
    let mut tx = SrtpSender::new(&b3_key(suite)).expect("sender");
    let mut protected = tx.protect(&packet(9, 1, &[0x11; 160])).expect("protect").to_vec();
    let last = protected.len() - 1;
    protected[last] ^= 0x80;
    let mut rx = SrtpReceiver::new(&b3_key(suite)).expect("receiver");
    assert_eq!(rx.unprotect(&protected).err(), Some(SrtpError::Auth), "tag flipped");
    assert_eq!(
        rx.unprotect(&protected[..8]).err(),
        Some(SrtpError::Malformed),
        "shorter than a header"
    );
}
