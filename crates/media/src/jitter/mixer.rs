//! Two mono streams (caller, callee) interleaved into stereo G.711 frames on the call clock.

use super::{JitterBuffer, JitterConfig, Outcome, Packet};
use crate::g711::Law;

/// Which channel a stream feeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// Channel 1: the party that placed the call.
    Caller,
    /// Channel 2: the party that was called.
    Callee,
}

/// Two [`JitterBuffer`]s drained together into interleaved stereo frames. A side that sends
/// nothing (on hold, muted, not yet connected) is padded with silence, so both channels
/// always cover the same span of the call clock.
#[derive(Debug, Clone)]
pub struct StereoMixer {
    caller: JitterBuffer,
    callee: JitterBuffer,
    scratch: [Vec<u8>; 2],
}

impl StereoMixer {
    /// A mixer producing `law` frames from call-clock position `start`. Packets in the other
    /// law are transcoded, so one WAV file has one codec.
    pub fn new(law: Law, start: u64, config: JitterConfig) -> StereoMixer {
        StereoMixer {
            caller: JitterBuffer::new(law, start, config),
            callee: JitterBuffer::new(law, start, config),
            scratch: [Vec::new(), Vec::new()],
        }
    }

    /// The law of the frames.
    pub fn law(&self) -> Law {
        self.caller.law()
    }

    /// The next position to be emitted.
    pub fn position(&self) -> u64 {
        self.caller.position()
    }

    /// One side's buffer (for its statistics).
    pub fn side(&self, side: Side) -> &JitterBuffer {
        match side {
            Side::Caller => &self.caller,
            Side::Callee => &self.callee,
        }
    }

    /// Takes a packet of `side` that arrived at call-clock position `arrival`.
    pub fn push(&mut self, side: Side, packet: Packet<'_>, arrival: u64) -> Outcome {
        match side {
            Side::Caller => self.caller.push(packet, arrival),
            Side::Callee => self.callee.push(packet, arrival),
        }
    }

    /// Notes a sequence number of `side` that carries no audio to record (telephone-event,
    /// comfort noise); see [`JitterBuffer::mark_received`].
    pub fn mark_received(&mut self, side: Side, sequence: u16, ssrc: u32) -> Outcome {
        match side {
            Side::Caller => self.caller.mark_received(sequence, ssrc),
            Side::Callee => self.callee.mark_received(sequence, ssrc),
        }
    }

    /// Appends the stereo frames from [`position`](Self::position) to `until` to `out`
    /// (caller byte, callee byte, …) and returns the number of frames.
    pub fn drain_to(&mut self, until: u64, out: &mut Vec<u8>) -> usize {
        let [a, b] = &mut self.scratch;
        a.clear();
        b.clear();
        let n = self.caller.drain_to(until, a);
        let m = self.callee.drain_to(until, b);
        debug_assert_eq!(n, m, "both sides start at the same position");
        let frames = n.min(m);
        let start = out.len();
        out.resize(start + frames * 2, 0);
        for ((frame, l), r) in out[start..].chunks_exact_mut(2).zip(&a[..frames]).zip(&b[..frames]) {
            frame[0] = *l;
            frame[1] = *r;
        }
        frames
    }

    /// Advances both sides to `until`, discarding their audio (not recording).
    pub fn discard_to(&mut self, until: u64) {
        self.caller.discard_to(until);
        self.callee.discard_to(until);
    }

    /// Emits everything either side has buffered (at the end of the call). Returns frames.
    pub fn flush(&mut self, out: &mut Vec<u8>) -> usize {
        let end = self.caller.buffered_end().max(self.callee.buffered_end());
        self.drain_to(end, out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(seq: u16, ts: u32, byte: u8) -> ([u8; 160], u16, u32) {
        ([byte; 160], seq, ts)
    }

    fn push(m: &mut StereoMixer, side: Side, (data, seq, ts): &([u8; 160], u16, u32), at: u64) {
        let p = Packet {
            sequence: *seq,
            timestamp: *ts,
            ssrc: 7,
            law: Law::Ulaw,
            payload: data,
        };
        m.push(side, p, at);
    }

    #[test]
    fn interleaves_caller_then_callee_and_pads_a_silent_side() {
        let mut m = StereoMixer::new(Law::Ulaw, 1000, JitterConfig::default());
        push(&mut m, Side::Caller, &packet(1, 0, 0x11), 1000);
        push(&mut m, Side::Caller, &packet(2, 160, 0x12), 1160);
        push(&mut m, Side::Callee, &packet(9, 5000, 0x22), 1160);
        let mut out = Vec::new();
        assert_eq!(m.drain_to(1320, &mut out), 320, "320 frames");
        assert_eq!(out.len(), 640, "two bytes per frame");
        assert_eq!(
            &out[..4],
            &[0x11, 0xFF, 0x11, 0xFF],
            "callee silent before its first packet"
        );
        assert_eq!(
            &out[320..324],
            &[0x12, 0x22, 0x12, 0x22],
            "both sides in the second 20 ms"
        );
        assert_eq!(m.position(), 1320, "position advanced");
    }

    #[test]
    fn hold_is_padded_on_both_channels() {
        let mut m = StereoMixer::new(Law::Ulaw, 0, JitterConfig::default());
        push(&mut m, Side::Caller, &packet(1, 0, 0x11), 0);
        let mut out = Vec::new();
        // Nothing arrives for 10 s (hold): the recorder drains on its clock.
        assert_eq!(m.drain_to(80_160, &mut out), 80_160, "10 s + 20 ms of frames");
        assert!(out[320..].iter().all(|&b| b == 0xFF), "silence during the hold");
        assert_eq!(m.side(Side::Caller).stats().silence_samples, 80_000, "caller padded");
    }

    #[test]
    fn discard_then_record_starts_at_the_new_position() {
        let mut m = StereoMixer::new(Law::Alaw, 0, JitterConfig::default());
        push(&mut m, Side::Caller, &packet(1, 0, 0x11), 0);
        m.discard_to(160);
        let mut out = Vec::new();
        push(&mut m, Side::Caller, &packet(2, 160, 0x12), 160);
        assert_eq!(m.flush(&mut out), 160, "only the recorded packet");
        assert_eq!(out[0], Law::Alaw.encode(Law::Ulaw.decode(0x12)), "transcoded to A-law");
        assert_eq!(out[1], 0xD5, "A-law silence on the callee side");
    }
}
