//! `a=crypto` (SDES, RFC 4568 §9.1): the SRTP master key a `RTP/SAVP` offer carries in the
//! clear of its (TLS-protected) signalling, and the line our answer carries back.
//!
//! `a=crypto:<tag> <crypto-suite> inline:<base64 key||salt>[|<lifetime>][|<MKI>:<length>]
//! [<session-params>]`. What is accepted, within fixed limits ([`MAX_CRYPTO_VALUE`],
//! [`MAX_TAG`]): the suites of [`CryptoSuite`] (RFC 4568 §6.2, RFC 6188, RFC 7714), one
//! `inline:` key of exactly the suite's key and salt length, an optional lifetime (noted, not
//! enforced beyond the SRTP library's own 2^48 limit), and the `WSH` session parameter
//! (a window-size hint, RFC 4568 §6.3.7). A line with an MKI, several keys or another session
//! parameter (`KDR`, `UNENCRYPTED_SRTP`, …) is well-formed but unsupported: an offer keeps
//! other lines to choose from (§7.1.1), and only when none fits is the stream refused.
//!
//! A [`MasterKey`] never prints: its `Debug` says `<redacted>`, so keys cannot reach logs.

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;

/// The longest `a=crypto` value looked at (a 46-byte key in base64 is 64 characters; the
/// rest is tag, suite, lifetime and parameters).
pub const MAX_CRYPTO_VALUE: usize = 512;
/// The `a=crypto` lines of one m-line looked at, in order; the rest are ignored.
pub const MAX_CRYPTO_LINES: usize = 16;
/// The largest tag (RFC 4568 §9.1: 1*9DIGIT).
pub const MAX_TAG: u32 = 999_999_999;

/// Base64 as RFC 4568 writes it (RFC 4648 alphabet); padding optional on input.
const B64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_encode_padding(true)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// An SRTP crypto suite we can receive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CryptoSuite {
    /// `AES_CM_128_HMAC_SHA1_80` (RFC 4568 §6.2.1): the one every SBC offers.
    AesCm128HmacSha1_80,
    /// `AES_CM_128_HMAC_SHA1_32` (RFC 4568 §6.2.2).
    AesCm128HmacSha1_32,
    /// `AES_256_CM_HMAC_SHA1_80` (RFC 6188 §7.1).
    AesCm256HmacSha1_80,
    /// `AES_256_CM_HMAC_SHA1_32` (RFC 6188 §7.1).
    AesCm256HmacSha1_32,
    /// `AEAD_AES_128_GCM` (RFC 7714 §14.2).
    AeadAes128Gcm,
    /// `AEAD_AES_256_GCM` (RFC 7714 §14.2).
    AeadAes256Gcm,
}

impl CryptoSuite {
    /// Every suite, in our order of preference when we offer.
    pub const ALL: [CryptoSuite; 6] = [
        CryptoSuite::AesCm128HmacSha1_80,
        CryptoSuite::AesCm128HmacSha1_32,
        CryptoSuite::AesCm256HmacSha1_80,
        CryptoSuite::AesCm256HmacSha1_32,
        CryptoSuite::AeadAes128Gcm,
        CryptoSuite::AeadAes256Gcm,
    ];

    /// The name in `a=crypto`.
    pub fn name(self) -> &'static str {
        match self {
            CryptoSuite::AesCm128HmacSha1_80 => "AES_CM_128_HMAC_SHA1_80",
            CryptoSuite::AesCm128HmacSha1_32 => "AES_CM_128_HMAC_SHA1_32",
            CryptoSuite::AesCm256HmacSha1_80 => "AES_256_CM_HMAC_SHA1_80",
            CryptoSuite::AesCm256HmacSha1_32 => "AES_256_CM_HMAC_SHA1_32",
            CryptoSuite::AeadAes128Gcm => "AEAD_AES_128_GCM",
            CryptoSuite::AeadAes256Gcm => "AEAD_AES_256_GCM",
        }
    }

    /// The suite of a name (exact, as RFC 4568 §9.2 registers them).
    pub fn parse(name: &str) -> Option<CryptoSuite> {
        CryptoSuite::ALL.into_iter().find(|s| s.name() == name)
    }

    /// Master key length in bytes.
    pub fn key_len(self) -> usize {
        match self {
            CryptoSuite::AesCm128HmacSha1_80 | CryptoSuite::AesCm128HmacSha1_32 | CryptoSuite::AeadAes128Gcm => 16,
            CryptoSuite::AesCm256HmacSha1_80 | CryptoSuite::AesCm256HmacSha1_32 | CryptoSuite::AeadAes256Gcm => 32,
        }
    }

    /// Master salt length in bytes (112 bits; 96 for the AEAD suites, RFC 7714 §12).
    pub fn salt_len(self) -> usize {
        match self {
            CryptoSuite::AeadAes128Gcm | CryptoSuite::AeadAes256Gcm => 12,
            _ => 14,
        }
    }

    /// Authentication tag bytes at the end of each SRTP packet.
    pub fn tag_len(self) -> usize {
        match self {
            CryptoSuite::AesCm128HmacSha1_80 | CryptoSuite::AesCm256HmacSha1_80 => 10,
            CryptoSuite::AesCm128HmacSha1_32 | CryptoSuite::AesCm256HmacSha1_32 => 4,
            CryptoSuite::AeadAes128Gcm | CryptoSuite::AeadAes256Gcm => 16,
        }
    }
}

impl std::fmt::Display for CryptoSuite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// An SRTP master key and salt (concatenated, as `inline:` carries them). Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct MasterKey {
    suite: CryptoSuite,
    bytes: Vec<u8>,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MasterKey({}, <redacted>)", self.suite)
    }
}

impl MasterKey {
    /// A key of `suite` from key‖salt bytes; `None` unless exactly the suite's length.
    pub fn new(suite: CryptoSuite, key_and_salt: Vec<u8>) -> Option<MasterKey> {
        (key_and_salt.len() == suite.key_len() + suite.salt_len()).then_some(MasterKey {
            suite,
            bytes: key_and_salt,
        })
    }

    /// The suite the key is for.
    pub fn suite(&self) -> CryptoSuite {
        self.suite
    }

    /// The master key.
    pub fn key(&self) -> &[u8] {
        &self.bytes[..self.suite.key_len()]
    }

    /// The master salt.
    pub fn salt(&self) -> &[u8] {
        &self.bytes[self.suite.key_len()..]
    }

    /// The key‖salt in base64, as after `inline:`.
    pub fn inline(&self) -> String {
        B64.encode(&self.bytes)
    }
}

/// One usable `a=crypto` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crypto {
    /// The tag, echoed in the answer (RFC 4568 §7.1.2).
    pub tag: u32,
    /// The suite.
    pub suite: CryptoSuite,
    /// The master key and salt the offerer sends with.
    pub key: MasterKey,
    /// The key's lifetime in packets, if stated (noted, not enforced).
    pub lifetime: Option<u64>,
}

impl Crypto {
    /// The attribute value of an answer: our `key` under the offer's tag and suite.
    pub fn answer_value(tag: u32, key: &MasterKey) -> String {
        format!("{tag} {} inline:{}", key.suite(), key.inline())
    }
}

/// Why an `a=crypto` line cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// Longer than [`MAX_CRYPTO_VALUE`].
    #[error("a=crypto is longer than {MAX_CRYPTO_VALUE} bytes")]
    TooLong,
    /// Not `<tag> <suite> <key-params>`.
    #[error("malformed a=crypto")]
    Malformed,
    /// The tag is not 1 to 9 digits.
    #[error("malformed a=crypto tag")]
    BadTag,
    /// A suite we do not implement (named).
    #[error("unsupported SRTP crypto suite {0}")]
    UnknownSuite(String),
    /// The key is not `inline:` base64 of the suite's key and salt length.
    #[error("malformed or wrong-length SRTP key for {0}")]
    BadKey(CryptoSuite),
    /// Well-formed but beyond what the recorder supports (MKI, several keys, a session
    /// parameter).
    #[error("unsupported a=crypto feature: {0}")]
    Unsupported(&'static str),
}

/// Parses the value of one `a=crypto` attribute (after `crypto:`).
pub fn parse_crypto(value: &str) -> Result<Crypto, CryptoError> {
    if value.len() > MAX_CRYPTO_VALUE {
        return Err(CryptoError::TooLong);
    }
    let mut fields = value.split_ascii_whitespace();
    let (Some(tag), Some(suite), Some(key_params)) = (fields.next(), fields.next(), fields.next()) else {
        return Err(CryptoError::Malformed);
    };
    if tag.is_empty() || tag.len() > 9 || !tag.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CryptoError::BadTag);
    }
    let tag: u32 = tag.parse().map_err(|_| CryptoError::BadTag)?;
    let suite = CryptoSuite::parse(suite).ok_or_else(|| {
        let shown: String = suite.chars().filter(|c| c.is_ascii_graphic()).take(40).collect();
        CryptoError::UnknownSuite(shown)
    })?;
    for param in fields {
        // RFC 4568 §6.3.7: a window-size hint changes nothing for a receiver like us.
        if !param.starts_with("WSH=") {
            return Err(CryptoError::Unsupported("session parameter"));
        }
    }
    if key_params.contains(';') {
        return Err(CryptoError::Unsupported("several master keys"));
    }
    let inline = key_params.strip_prefix("inline:").ok_or(CryptoError::BadKey(suite))?;
    let mut parts = inline.split('|');
    let b64 = parts.next().unwrap_or_default();
    let mut lifetime = None;
    for (i, part) in parts.enumerate() {
        if part.contains(':') {
            return Err(CryptoError::Unsupported("MKI"));
        }
        if i > 0 {
            return Err(CryptoError::Malformed);
        }
        lifetime = Some(parse_lifetime(part).ok_or(CryptoError::Malformed)?);
    }
    let want = suite.key_len() + suite.salt_len();
    // Base64 of `want` bytes is at most 4·⌈want/3⌉ characters: refuse longer before decoding.
    if b64.len() > want.div_ceil(3) * 4 {
        return Err(CryptoError::BadKey(suite));
    }
    let bytes = B64.decode(b64).map_err(|_| CryptoError::BadKey(suite))?;
    let key = MasterKey::new(suite, bytes).ok_or(CryptoError::BadKey(suite))?;
    Ok(Crypto {
        tag,
        suite,
        key,
        lifetime,
    })
}

/// `2^n` or a decimal number of packets (RFC 4568 §6.1).
fn parse_lifetime(s: &str) -> Option<u64> {
    if let Some(exp) = s.strip_prefix("2^") {
        let exp: u32 = exp.parse().ok()?;
        return (exp < 64).then(|| 1u64 << exp);
    }
    if s.is_empty() || s.len() > 20 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz"; // RFC 4568 §4's example

    #[test]
    fn parses_the_rfc_example_and_round_trips_the_key() {
        let c = parse_crypto(&format!("1 AES_CM_128_HMAC_SHA1_80 inline:{KEY}|2^20")).expect("valid");
        assert_eq!(
            (c.tag, c.suite, c.lifetime),
            (1, CryptoSuite::AesCm128HmacSha1_80, Some(1 << 20))
        );
        assert_eq!((c.key.key().len(), c.key.salt().len()), (16, 14), "key and salt split");
        assert_eq!(c.key.inline(), KEY, "base64 round trip");
        assert!(!format!("{c:?}").contains(KEY), "Debug never shows the key: {c:?}");
        let answer = Crypto::answer_value(7, &c.key);
        assert_eq!(
            answer,
            format!("7 AES_CM_128_HMAC_SHA1_80 inline:{KEY}"),
            "answer value"
        );
        assert_eq!(parse_crypto(&answer).map(|c| c.tag), Ok(7), "our answer parses");
    }

    #[test]
    fn unusable_lines_are_named() {
        let cases: [(String, CryptoError); 9] = [
            ("1 AES_CM_128_HMAC_SHA1_80".into(), CryptoError::Malformed),
            (format!("x AES_CM_128_HMAC_SHA1_80 inline:{KEY}"), CryptoError::BadTag),
            (
                format!("1234567890 AES_CM_128_HMAC_SHA1_80 inline:{KEY}"),
                CryptoError::BadTag,
            ),
            (
                format!("1 F8_128_HMAC_SHA1_80 inline:{KEY}"),
                CryptoError::UnknownSuite("F8_128_HMAC_SHA1_80".into()),
            ),
            (
                format!("1 AES_CM_128_HMAC_SHA1_80 inline:{KEY}|2^20|1:4"),
                CryptoError::Unsupported("MKI"),
            ),
            (
                format!("1 AES_CM_128_HMAC_SHA1_80 inline:{KEY} UNENCRYPTED_SRTP"),
                CryptoError::Unsupported("session parameter"),
            ),
            (
                format!("1 AES_CM_128_HMAC_SHA1_80 inline:{KEY};inline:{KEY}"),
                CryptoError::Unsupported("several master keys"),
            ),
            (
                format!("1 AES_256_CM_HMAC_SHA1_80 inline:{KEY}"),
                CryptoError::BadKey(CryptoSuite::AesCm256HmacSha1_80),
            ),
            (
                format!("1 AES_CM_128_HMAC_SHA1_80 inline:{}", "A".repeat(300)),
                CryptoError::BadKey(CryptoSuite::AesCm128HmacSha1_80),
            ),
        ];
        for (value, want) in cases {
            assert_eq!(parse_crypto(&value), Err(want.clone()), "{value:?} should be {want}");
        }
        assert_eq!(parse_crypto(&"1 ".repeat(300)), Err(CryptoError::TooLong), "size limit");
        assert!(
            parse_crypto(&format!("1 AES_CM_128_HMAC_SHA1_80 inline:{KEY} WSH=128")).is_ok(),
            "a window-size hint is fine"
        );
        let unpadded = "1 AEAD_AES_128_GCM inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGw";
        assert_eq!(
            parse_crypto(unpadded).map(|c| c.key.salt().len()),
            Ok(12),
            "AEAD salt, no padding"
        );
    }
}
