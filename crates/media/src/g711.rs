//! ITU-T G.711 companding: µ-law and A-law to and from 16-bit linear PCM.
//!
//! The algorithms follow ITU-T Rec. G.711 (11/88) tables 1a/1b and 2a/2b as implemented by
//! the public-domain Sun Microsystems reference (`g711.c`), which every telephony stack
//! agrees with bit for bit:
//!
//! - µ-law encodes a 14-bit magnitude with a bias of 33, 8 segments, and stores the code word
//!   inverted (so silence is `0xFF`); decoded values span −32124..=32124.
//! - A-law encodes a 13-bit magnitude, 8 segments, and stores the code word with even bits
//!   inverted (XOR `0x55`, so silence is `0xD5`); decoded values span −32256..=32256.
//!
//! Decoding goes through 256-entry tables built at compile time. Encoding is branch-light
//! arithmetic; a 64 K table would cost more cache than it saves at 8 kHz.

/// The µ-law code word for a zero sample (silence), RFC 3551 §4.5.14 / G.711.
pub const ULAW_SILENCE: u8 = 0xFF;
/// The A-law code word for the smallest positive sample (silence), G.711 table 1a.
pub const ALAW_SILENCE: u8 = 0xD5;

/// Which G.711 companding law a byte stream uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Law {
    /// µ-law (PCMU, RTP static payload type 0, WAV format tag 7).
    Ulaw,
    /// A-law (PCMA, RTP static payload type 8, WAV format tag 6).
    Alaw,
}

impl Law {
    /// The code word that decodes to (near) zero: what lost or missing audio is filled with.
    pub const fn silence(self) -> u8 {
        match self {
            Law::Ulaw => ULAW_SILENCE,
            Law::Alaw => ALAW_SILENCE,
        }
    }

    /// The static RTP payload type of this law (RFC 3551 §6, table 4).
    pub const fn payload_type(self) -> u8 {
        match self {
            Law::Ulaw => 0,
            Law::Alaw => 8,
        }
    }

    /// The law carried by a static RTP payload type, if it is PCMU (0) or PCMA (8).
    pub const fn from_payload_type(pt: u8) -> Option<Law> {
        match pt {
            0 => Some(Law::Ulaw),
            8 => Some(Law::Alaw),
            _ => None,
        }
    }

    /// The SDP `a=rtpmap` encoding name (RFC 3551 §4.5.14).
    pub const fn encoding_name(self) -> &'static str {
        match self {
            Law::Ulaw => "PCMU",
            Law::Alaw => "PCMA",
        }
    }

    /// Decodes one code word.
    #[inline]
    pub fn decode(self, code: u8) -> i16 {
        match self {
            Law::Ulaw => ulaw_to_linear(code),
            Law::Alaw => alaw_to_linear(code),
        }
    }

    /// Encodes one linear sample.
    #[inline]
    pub fn encode(self, sample: i16) -> u8 {
        match self {
            Law::Ulaw => linear_to_ulaw(sample),
            Law::Alaw => linear_to_alaw(sample),
        }
    }

    /// Decodes `src` into `dst` sample by sample; converts `min(src.len(), dst.len())`
    /// samples and returns that count.
    pub fn decode_slice(self, src: &[u8], dst: &mut [i16]) -> usize {
        let table = match self {
            Law::Ulaw => &ULAW_TABLE,
            Law::Alaw => &ALAW_TABLE,
        };
        let n = src.len().min(dst.len());
        for (d, s) in dst[..n].iter_mut().zip(&src[..n]) {
            *d = table[usize::from(*s)];
        }
        n
    }

    /// Encodes `src` into `dst`; converts `min(src.len(), dst.len())` samples and returns
    /// that count.
    pub fn encode_slice(self, src: &[i16], dst: &mut [u8]) -> usize {
        let n = src.len().min(dst.len());
        for (d, s) in dst[..n].iter_mut().zip(&src[..n]) {
            *d = self.encode(*s);
        }
        n
    }
}

const SIGN_BIT: u8 = 0x80;
const QUANT_MASK: u8 = 0x0F;
const SEG_SHIFT: u32 = 4;
const SEG_MASK: u8 = 0x70;
/// µ-law bias added before segment search (G.711 µ-law uses 33 on the 14-bit scale).
const ULAW_BIAS: i32 = 0x84;
/// Largest 14-bit magnitude µ-law can represent before the bias is added.
const ULAW_CLIP: i32 = 8159;

const fn ulaw_decode_calc(code: u8) -> i16 {
    let u = !code;
    let mut t = (((u & QUANT_MASK) as i32) << 3) + ULAW_BIAS;
    t <<= ((u & SEG_MASK) >> SEG_SHIFT) as i32;
    if u & SIGN_BIT != 0 {
        (ULAW_BIAS - t) as i16
    } else {
        (t - ULAW_BIAS) as i16
    }
}

const fn alaw_decode_calc(code: u8) -> i16 {
    let a = code ^ 0x55;
    let mut t = ((a & QUANT_MASK) as i32) << 4;
    let seg = ((a & SEG_MASK) >> SEG_SHIFT) as i32;
    match seg {
        0 => t += 8,
        1 => t += 0x108,
        _ => {
            t += 0x108;
            t <<= seg - 1;
        }
    }
    // A-law stores the sign bit set for positive values (G.711 table 1a).
    if a & SIGN_BIT != 0 {
        t as i16
    } else {
        -t as i16
    }
}

const fn build_table(alaw: bool) -> [i16; 256] {
    let mut table = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = if alaw {
            alaw_decode_calc(i as u8)
        } else {
            ulaw_decode_calc(i as u8)
        };
        i += 1;
    }
    table
}

static ULAW_TABLE: [i16; 256] = build_table(false);
static ALAW_TABLE: [i16; 256] = build_table(true);

/// Decodes one µ-law code word to 16-bit linear PCM (G.711 table 2a/2b).
#[inline]
pub fn ulaw_to_linear(code: u8) -> i16 {
    ULAW_TABLE[usize::from(code)]
}

/// Decodes one A-law code word to 16-bit linear PCM (G.711 table 1a/1b).
#[inline]
pub fn alaw_to_linear(code: u8) -> i16 {
    ALAW_TABLE[usize::from(code)]
}

/// Index of the first segment end that is `>= value`, or 8 when `value` is beyond them all.
#[inline]
fn segment(value: i32, ends: &[i32; 8]) -> u8 {
    // At most 8 comparisons; `position` keeps it obviously bounded.
    ends.iter().position(|&end| value <= end).unwrap_or(8) as u8
}

/// Encodes a 16-bit linear sample as µ-law (G.711 table 2a/2b).
pub fn linear_to_ulaw(sample: i16) -> u8 {
    const SEG_END: [i32; 8] = [0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF];
    // Work on the 14-bit scale G.711 µ-law is defined on.
    let mut value = i32::from(sample) >> 2;
    let mask: u8 = if value < 0 {
        value = -value;
        0x7F
    } else {
        0xFF
    };
    value = value.min(ULAW_CLIP) + (ULAW_BIAS >> 2);
    let seg = segment(value, &SEG_END);
    if seg >= 8 {
        return 0x7F ^ mask;
    }
    let quant = ((value >> (u32::from(seg) + 1)) & 0x0F) as u8;
    ((seg << SEG_SHIFT) | quant) ^ mask
}

/// Encodes a 16-bit linear sample as A-law (G.711 table 1a/1b).
pub fn linear_to_alaw(sample: i16) -> u8 {
    const SEG_END: [i32; 8] = [0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF];
    // Work on the 13-bit scale G.711 A-law is defined on.
    let mut value = i32::from(sample) >> 3;
    let mask: u8 = if value >= 0 {
        0xD5
    } else {
        value = -value - 1;
        0x55
    };
    let seg = segment(value, &SEG_END);
    if seg >= 8 {
        return 0x7F ^ mask;
    }
    let quant = if seg < 2 {
        ((value >> 1) & 0x0F) as u8
    } else {
        ((value >> u32::from(seg)) & 0x0F) as u8
    };
    ((seg << SEG_SHIFT) | quant) ^ mask
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ulaw_known_values_match_g711() {
        assert_eq!(ulaw_to_linear(0xFF), 0, "0xFF is µ-law positive zero");
        assert_eq!(ulaw_to_linear(0x7F), 0, "0x7F is µ-law negative zero");
        assert_eq!(ulaw_to_linear(0x00), -32124, "0x00 is the most negative µ-law value");
        assert_eq!(ulaw_to_linear(0x80), 32124, "0x80 is the most positive µ-law value");
        assert_eq!(ulaw_to_linear(0xFE), 8, "smallest positive step");
        assert_eq!(ulaw_to_linear(0x7E), -8, "smallest negative step");
        assert_eq!(ulaw_to_linear(0xEF), 132, "top of segment 0 (G.711 table 2a)");
    }

    #[test]
    fn alaw_known_values_match_g711() {
        assert_eq!(alaw_to_linear(0xD5), 8, "0xD5 is A-law smallest positive value");
        assert_eq!(alaw_to_linear(0x55), -8, "0x55 is A-law smallest negative value");
        assert_eq!(alaw_to_linear(0xAA), 32256, "0xAA is the most positive A-law value");
        assert_eq!(alaw_to_linear(0x2A), -32256, "0x2A is the most negative A-law value");
        assert_eq!(alaw_to_linear(0x80), 5504, "segment 5 value");
    }

    #[test]
    fn encoders_map_silence_and_extremes() {
        assert_eq!(linear_to_ulaw(0), ULAW_SILENCE, "zero encodes to µ-law silence");
        assert_eq!(linear_to_alaw(0), ALAW_SILENCE, "zero encodes to A-law silence");
        assert_eq!(linear_to_ulaw(i16::MAX), 0x80, "µ-law clips at the top");
        assert_eq!(linear_to_ulaw(i16::MIN), 0x00, "µ-law clips at the bottom");
        assert_eq!(linear_to_alaw(i16::MAX), 0xAA, "A-law clips at the top");
        assert_eq!(linear_to_alaw(i16::MIN), 0x2A, "A-law clips at the bottom");
    }

    #[test]
    fn every_ulaw_code_round_trips_except_negative_zero() {
        for code in 0..=255u8 {
            let back = linear_to_ulaw(ulaw_to_linear(code));
            if code == 0x7F {
                assert_eq!(back, 0xFF, "negative zero re-encodes as positive zero");
            } else {
                assert_eq!(back, code, "µ-law code {code:#04x} should round trip");
            }
        }
    }

    #[test]
    fn every_alaw_code_round_trips() {
        for code in 0..=255u8 {
            assert_eq!(
                linear_to_alaw(alaw_to_linear(code)),
                code,
                "A-law code {code:#04x} should round trip"
            );
        }
    }

    #[test]
    fn encoding_is_monotonic_and_close_for_every_linear_value() {
        // Every 16-bit value encodes to a code whose decoded value is the nearest level at
        // or below the input's magnitude step: the error never exceeds the segment step.
        for law in [Law::Ulaw, Law::Alaw] {
            let mut prev = i32::MIN;
            for s in i16::MIN..=i16::MAX {
                let d = i32::from(law.decode(law.encode(s)));
                assert!(d >= prev, "{law:?} decode(encode(x)) is monotonic at {s}");
                prev = d;
                let err = (d - i32::from(s)).abs();
                let step = (i32::from(s).abs() / 16).max(16) + 132;
                assert!(err <= step, "{law:?} error {err} too large at {s}");
            }
        }
    }

    #[test]
    fn slice_helpers_convert_min_length() {
        let src = [0xFFu8, 0x80, 0x00];
        let mut dst = [1i16; 2];
        assert_eq!(Law::Ulaw.decode_slice(&src, &mut dst), 2, "converts the shorter length");
        assert_eq!(dst, [0, 32124], "decoded values");
        let mut enc = [0u8; 3];
        assert_eq!(Law::Alaw.encode_slice(&[0, 32767, -32768], &mut enc), 3);
        assert_eq!(enc, [0xD5, 0xAA, 0x2A], "encoded values");
    }

    #[test]
    fn payload_types_map_both_ways() {
        assert_eq!(Law::from_payload_type(0), Some(Law::Ulaw), "PT 0 is PCMU");
        assert_eq!(Law::from_payload_type(8), Some(Law::Alaw), "PT 8 is PCMA");
        assert_eq!(Law::from_payload_type(18), None, "PT 18 is not G.711");
        assert_eq!(Law::Alaw.payload_type(), 8, "PCMA is 8");
        assert_eq!(Law::Ulaw.silence(), 0xFF, "µ-law silence");
    }
}
