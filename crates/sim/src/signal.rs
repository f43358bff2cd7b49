//! The audio the simulator sends: a different tone per participant, so that a recording's
//! channels can be told apart by content (caller = 440 Hz, callee = 1000 Hz), and the RTP
//! header that carries it (RFC 3550 §5.1).
//!
//! A tone is encoded once into one second of G.711 (8,000 samples). Every whole-number
//! frequency fits a whole number of periods into one second, so 20 ms packets are plain
//! slices of that table and generating audio costs nothing per packet.

use std::sync::Arc;

use callrec_media::g711::Law;

/// The caller's tone (channel 1 of a recording).
pub const CALLER_HZ: u32 = 440;
/// The callee's tone (channel 2 of a recording).
pub const CALLEE_HZ: u32 = 1000;
/// Samples per second of G.711 narrowband audio (RFC 3551 §4.5.14).
pub const SAMPLE_RATE: u32 = 8000;
/// Samples per 20 ms packet.
pub const SAMPLES_PER_PACKET: usize = 160;
/// Length of the fixed RTP header without CSRCs (RFC 3550 §5.1).
pub const RTP_HEADER_LEN: usize = 12;

/// One second of a sine tone at `hz` (an integer, so the table loops seamlessly), at about
/// −6 dBFS, encoded with `law`.
pub fn tone(law: Law, hz: u32) -> Arc<[u8]> {
    let amplitude = 16_000.0;
    (0..SAMPLE_RATE)
        .map(|n| {
            let phase = 2.0 * std::f64::consts::PI * f64::from(hz) * f64::from(n) / f64::from(SAMPLE_RATE);
            // |sin| ≤ 1, so the product stays inside i16.
            #[allow(clippy::cast_possible_truncation)]
            let sample = (amplitude * phase.sin()).round() as i16;
            law.encode(sample)
        })
        .collect()
}

/// Writes an RTP fixed header (version 2, no padding, no extension, no CSRC) into `out`.
pub fn write_rtp_header(out: &mut [u8; RTP_HEADER_LEN], payload_type: u8, marker: bool, seq: u16, ts: u32, ssrc: u32) {
    out[0] = 0x80;
    out[1] = (payload_type & 0x7f) | if marker { 0x80 } else { 0 };
    out[2..4].copy_from_slice(&seq.to_be_bytes());
    out[4..8].copy_from_slice(&ts.to_be_bytes());
    out[8..12].copy_from_slice(&ssrc.to_be_bytes());
}

/// A small, fast pseudo-random generator (xorshift64*), deterministic per seed: enough to
/// choose which packets to drop or reorder, and to make tags and branches unique.
#[derive(Debug, Clone)]
pub struct XorShift(u64);

impl XorShift {
    /// A generator from `seed` (0 is replaced by a fixed odd constant).
    pub fn new(seed: u64) -> XorShift {
        XorShift(if seed == 0 { 0x9E37_79B9_7F4A_7C15 } else { seed })
    }

    /// A generator seeded from the clock and a counter, for identifiers.
    pub fn from_entropy() -> XorShift {
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNTER: AtomicU64 = AtomicU64::new(1);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        #[allow(clippy::cast_possible_truncation)]
        let mixed = (nanos as u64) ^ COUNTER.fetch_add(0x9E37_79B9, Ordering::Relaxed).rotate_left(32);
        let mut g = XorShift::new(mixed ^ u64::from(std::process::id()));
        g.next_u64();
        g
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// True with probability `percent` / 100.
    pub fn chance(&mut self, percent: f64) -> bool {
        if percent <= 0.0 {
            return false;
        }
        #[allow(clippy::cast_precision_loss)]
        let unit = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        unit * 100.0 < percent
    }

    /// A lowercase hex token of 16 characters.
    pub fn token(&mut self) -> String {
        format!("{:016x}", self.next_u64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counts sign changes: twice the frequency per second of audio.
    fn crossings(law: Law, table: &[u8]) -> usize {
        let pcm: Vec<i16> = table.iter().map(|&c| law.decode(c)).collect();
        pcm.windows(2).filter(|w| (w[0] < 0) != (w[1] < 0)).count()
    }

    #[test]
    fn each_participant_has_its_own_tone() {
        for law in [Law::Ulaw, Law::Alaw] {
            let caller = tone(law, CALLER_HZ);
            let callee = tone(law, CALLEE_HZ);
            assert_eq!(caller.len(), 8000, "one second of audio");
            let c = crossings(law, &caller);
            let e = crossings(law, &callee);
            assert!((870..=890).contains(&c), "caller tone near 440 Hz: {c} crossings");
            assert!((1990..=2010).contains(&e), "callee tone near 1000 Hz: {e} crossings");
        }
    }

    #[test]
    fn rtp_header_layout() {
        let mut h = [0u8; RTP_HEADER_LEN];
        write_rtp_header(&mut h, 8, true, 0x0102, 0x0304_0506, 0x0708_090a);
        assert_eq!(
            h,
            [0x80, 0x88, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
            "version 2, marker, PT 8, fields big-endian"
        );
    }

    #[test]
    fn chance_is_roughly_right() {
        let mut g = XorShift::new(7);
        let hits = (0..100_000).filter(|_| g.chance(5.0)).count();
        assert!((4_500..5_500).contains(&hits), "about 5 %: {hits}");
        assert!(!XorShift::new(1).chance(0.0), "0 % never happens");
    }
}
