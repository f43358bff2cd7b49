//! The per-stream reorder buffer: RTP sequence numbers decide order, loss and duplicates;
//! RTP timestamps decide where audio goes on the call clock.
//!
//! Sequence tracking follows RFC 3550 §A.1: numbers are extended past the 16-bit wrap; a
//! jump of more than [`MAX_DROPOUT`] ahead or [`MAX_MISORDER`] behind is taken as a restart
//! of the sender only when the next packet confirms it. A 128-packet window remembers which
//! numbers arrived, to tell duplicates from late packets. Loss is counted as in §A.3:
//! expected (highest − first + 1) minus received, per source. Telephone-event packets share
//! the audio's sequence space: report them with [`JitterBuffer::mark_received`] so they
//! are not counted as lost.
//!
//! Timeline: `position = anchor_pos + (timestamp - anchor_ts)`. The anchor is set from the
//! arrival position of a source's first packet, follows in-order packets, and is reset to
//! the arrival position (a "resync") when an in-order packet's timestamp puts it more than
//! [`JitterConfig::max_drift`] away from where it arrived — a timestamp jump, a sender that
//! kept its timestamps through a hold, or accumulated clock drift.

use std::collections::VecDeque;

use crate::g711::Law;
use crate::rtp::RtpPacket;

/// A forward sequence jump larger than this is a possible sender restart (RFC 3550 §A.1).
pub const MAX_DROPOUT: i64 = 3000;
/// A backward sequence jump larger than this is a possible sender restart (RFC 3550 §A.1).
pub const MAX_MISORDER: i64 = 100;
/// Sequence numbers remembered for duplicate detection.
const WINDOW: i64 = 128;
/// Payload buffers kept for reuse, so a steady stream allocates nothing per packet.
const SPARE_BUFFERS: usize = 32;

/// A buffered packet: its place on the timeline and its samples (in the buffer's law).
#[derive(Debug, Clone)]
struct Buffered {
    pos: u64,
    /// Arrival order, so packets overlapping at the same position keep theirs.
    order: u64,
    data: Vec<u8>,
}

/// Tuning of a [`JitterBuffer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JitterConfig {
    /// How far (in samples) a packet's timestamp may place it from its arrival position
    /// before the stream is re-anchored. Default 1 s.
    pub max_drift: u64,
    /// Most packets held; more are dropped (and counted as overflow). Default 512.
    pub max_packets: usize,
    /// Largest payload accepted, in bytes (= samples). Default 2048 (256 ms).
    pub max_payload: usize,
}

impl Default for JitterConfig {
    fn default() -> Self {
        JitterConfig {
            max_drift: super::CLOCK_RATE,
            max_packets: 512,
            max_payload: 2048,
        }
    }
}

/// The fields of an RTP packet the buffer uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packet<'a> {
    /// RTP sequence number.
    pub sequence: u16,
    /// RTP timestamp (8 kHz).
    pub timestamp: u32,
    /// RTP SSRC.
    pub ssrc: u32,
    /// The law of the payload (from the payload type).
    pub law: Law,
    /// G.711 samples.
    pub payload: &'a [u8],
}

impl<'a> Packet<'a> {
    /// The buffer's view of a parsed RTP packet carrying `law`.
    pub fn from_rtp(packet: &RtpPacket<'a>, law: Law) -> Packet<'a> {
        Packet {
            sequence: packet.header.sequence,
            timestamp: packet.header.timestamp,
            ssrc: packet.header.ssrc,
            law,
            payload: packet.payload,
        }
    }
}

/// What [`JitterBuffer::push`] did with a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// In order; buffered.
    Accepted,
    /// Older than the newest packet but still in time; buffered.
    Reordered,
    /// First packet of a source (new SSRC, confirmed restart) or timestamp jump; buffered
    /// at the arrival position.
    Resync,
    /// Seen before; dropped.
    Duplicate,
    /// Its place on the timeline was already emitted, or it is too old; dropped.
    Late,
    /// Buffer full, or payload too large; dropped.
    Overflow,
}

/// Counters of one stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct JitterStats {
    /// Packets offered to [`JitterBuffer::push`].
    pub received: u64,
    /// Sequence numbers that never arrived (RFC 3550 §A.3: expected − received, summed
    /// over sources; a packet still in flight counts until it arrives).
    pub lost: u64,
    /// Packets that arrived after a higher sequence number and were still used.
    pub reordered: u64,
    /// Packets dropped as duplicates.
    pub duplicates: u64,
    /// Packets dropped because they came too late.
    pub late: u64,
    /// Packets dropped for size or a full buffer.
    pub overflow: u64,
    /// Times the SSRC changed.
    pub ssrc_changes: u64,
    /// Times the timeline was re-anchored (timestamp jumps, confirmed restarts).
    pub resyncs: u64,
    /// Samples emitted from packets.
    pub audio_samples: u64,
    /// Samples of silence emitted to fill gaps.
    pub silence_samples: u64,
}

/// The sequence/timestamp state of the current sender.
#[derive(Debug, Clone)]
struct Source {
    ssrc: u32,
    /// Extended first and highest sequence numbers.
    first: i64,
    highest: i64,
    /// Distinct sequence numbers that arrived (used, late or marked).
    received: u64,
    /// Bit k set = sequence `highest - k` arrived.
    seen: u128,
    anchor_ts: u32,
    anchor_pos: i64,
    /// The sequence number that would confirm a restart (RFC 3550 §A.1 `bad_seq`).
    probation: Option<u16>,
}

impl Source {
    /// How far `seq` is ahead of (positive) or behind (negative) the highest seen.
    fn delta(&self, seq: u16) -> i64 {
        i64::from(seq.wrapping_sub(self.highest as u16) as i16)
    }

    /// A new highest sequence number, `delta` > 0 ahead.
    fn advance(&mut self, delta: i64) {
        self.seen = if delta >= WINDOW { 0 } else { self.seen << delta };
        self.seen |= 1;
        self.highest += delta;
        self.received += 1;
    }

    /// Marks the number `back` ≥ 0 behind the highest as arrived; false if it already had
    /// (a duplicate) or is too old to tell.
    fn mark_back(&mut self, back: i64) -> bool {
        if back >= WINDOW || self.seen & (1u128 << back) != 0 {
            return false;
        }
        self.seen |= 1u128 << back;
        self.received += 1;
        true
    }

    /// Expected minus received (RFC 3550 §A.3).
    fn lost(&self) -> u64 {
        let expected = (self.highest - self.first + 1).max(0) as u64;
        expected.saturating_sub(self.received)
    }
}

/// One mono stream's reorder buffer. See the [module docs](crate::jitter).
#[derive(Debug, Clone)]
pub struct JitterBuffer {
    law: Law,
    config: JitterConfig,
    emitted: u64,
    source: Option<Source>,
    /// Sorted by (position, arrival order) so overlapping packets coexist. Packets almost
    /// always arrive in order, so an insertion is a push at the back.
    packets: VecDeque<Buffered>,
    /// Emptied payload buffers for reuse.
    spare: Vec<Vec<u8>>,
    arrivals: u64,
    /// Loss of the sources before the current one.
    lost_before: u64,
    stats: JitterStats,
}

impl JitterBuffer {
    /// A buffer emitting `law` samples from call-clock position `start`.
    pub fn new(law: Law, start: u64, config: JitterConfig) -> JitterBuffer {
        JitterBuffer {
            law,
            config,
            emitted: start,
            source: None,
            packets: VecDeque::new(),
            spare: Vec::new(),
            arrivals: 0,
            lost_before: 0,
            stats: JitterStats::default(),
        }
    }

    /// The law of the emitted samples.
    pub fn law(&self) -> Law {
        self.law
    }

    /// The next position to be emitted.
    pub fn position(&self) -> u64 {
        self.emitted
    }

    /// The end of the furthest buffered audio (at least [`position`](Self::position)).
    pub fn buffered_end(&self) -> u64 {
        self.packets
            .iter()
            .map(|b| b.pos + b.data.len() as u64)
            .max()
            .unwrap_or(self.emitted)
            .max(self.emitted)
    }

    /// The counters.
    pub fn stats(&self) -> JitterStats {
        JitterStats {
            lost: self.lost_before + self.source.as_ref().map_or(0, Source::lost),
            ..self.stats
        }
    }

    /// Takes a packet that arrived at call-clock position `arrival`.
    pub fn push(&mut self, packet: Packet<'_>, arrival: u64) -> Outcome {
        self.stats.received += 1;
        if packet.payload.len() > self.config.max_payload {
            self.stats.overflow += 1;
            return Outcome::Overflow;
        }
        let arrival = i64::try_from(arrival).unwrap_or(i64::MAX);
        let seq = packet.sequence;
        let Some(src) = self.source.as_mut().filter(|s| s.ssrc == packet.ssrc) else {
            if self.source.is_some() {
                self.stats.ssrc_changes += 1;
            }
            return self.restart(packet, arrival);
        };
        let delta = src.delta(seq);
        if !(-MAX_MISORDER..=MAX_DROPOUT).contains(&delta) {
            // A big jump: a restart if the next packet follows it, else a stray (§A.1).
            if src.probation == Some(seq) {
                self.stats.resyncs += 1;
                return self.restart(packet, arrival);
            }
            src.probation = Some(seq.wrapping_add(1));
            self.stats.late += 1;
            return Outcome::Late;
        }
        src.probation = None;
        let ts_delta = i64::from(packet.timestamp.wrapping_sub(src.anchor_ts) as i32);
        let mut pos = src.anchor_pos + ts_delta;
        let len = packet.payload.len() as i64;
        let emitted = i64::try_from(self.emitted).unwrap_or(i64::MAX);
        let outcome = if delta > 0 {
            let drift = self.config.max_drift as i64;
            let outcome = if (pos - arrival).abs() > drift || pos + len <= emitted {
                self.stats.resyncs += 1;
                pos = arrival.max(emitted);
                Outcome::Resync
            } else {
                Outcome::Accepted
            };
            src.anchor_ts = packet.timestamp;
            src.anchor_pos = pos;
            src.advance(delta);
            outcome
        } else {
            if !src.mark_back(-delta) {
                self.stats.duplicates += 1;
                return Outcome::Duplicate;
            }
            if pos + len <= emitted {
                self.stats.late += 1;
                return Outcome::Late;
            }
            self.stats.reordered += 1;
            Outcome::Reordered
        };
        match self.insert(pos, packet) {
            Ok(()) => outcome,
            Err(dropped) => dropped,
        }
    }

    /// Records that sequence number `sequence` of `ssrc` arrived without audio to record —
    /// a telephone-event (RFC 4733) or comfort-noise packet — so it is not counted as lost.
    /// The timeline is not touched: such packets' timestamps do not advance like audio's.
    pub fn mark_received(&mut self, sequence: u16, ssrc: u32) -> Outcome {
        self.stats.received += 1;
        let Some(src) = self.source.as_mut().filter(|s| s.ssrc == ssrc) else {
            return Outcome::Late;
        };
        let delta = src.delta(sequence);
        if !(-MAX_MISORDER..=MAX_DROPOUT).contains(&delta) {
            return Outcome::Late;
        }
        if delta > 0 {
            src.advance(delta);
            Outcome::Accepted
        } else if src.mark_back(-delta) {
            Outcome::Reordered
        } else {
            self.stats.duplicates += 1;
            Outcome::Duplicate
        }
    }

    /// Starts a new source (SSRC change or confirmed restart) anchored at `arrival`.
    fn restart(&mut self, packet: Packet<'_>, arrival: i64) -> Outcome {
        if let Some(old) = &self.source {
            self.lost_before += old.lost();
        }
        let pos = arrival.max(i64::try_from(self.emitted).unwrap_or(i64::MAX));
        let seq = i64::from(packet.sequence);
        self.source = Some(Source {
            ssrc: packet.ssrc,
            first: seq,
            highest: seq,
            received: 1,
            seen: 1,
            anchor_ts: packet.timestamp,
            anchor_pos: pos,
            probation: None,
        });
        match self.insert(pos, packet) {
            Ok(()) => Outcome::Resync,
            Err(dropped) => dropped,
        }
    }

    /// Buffers a packet at `pos`; the error is why it was dropped instead.
    fn insert(&mut self, pos: i64, packet: Packet<'_>) -> Result<(), Outcome> {
        if self.packets.len() >= self.config.max_packets {
            self.stats.overflow += 1;
            return Err(Outcome::Overflow);
        }
        let Ok(pos) = u64::try_from(pos) else {
            self.stats.late += 1;
            return Err(Outcome::Late);
        };
        let mut data = self.spare.pop().unwrap_or_default();
        data.clear();
        if packet.law == self.law {
            data.extend_from_slice(packet.payload);
        } else {
            let (from, to) = (packet.law, self.law);
            data.extend(packet.payload.iter().map(|&c| to.encode(from.decode(c))));
        }
        self.arrivals += 1;
        let order = self.arrivals;
        self.insert_sorted(Buffered { pos, order, data });
        Ok(())
    }

    /// Inserts in (position, arrival) order, searching from the back: in-order packets are
    /// a push at the end.
    fn insert_sorted(&mut self, b: Buffered) {
        let at = self
            .packets
            .iter()
            .rposition(|x| (x.pos, x.order) <= (b.pos, b.order))
            .map_or(0, |i| i + 1);
        self.packets.insert(at, b);
    }

    /// Emits every sample from [`position`](Self::position) up to `until` into `out`:
    /// buffered audio where packets arrived, silence elsewhere. Call it with the call-clock
    /// position minus the reorder delay; during a hold it pads the silence.
    /// Returns the number of samples appended.
    pub fn drain_to(&mut self, until: u64, out: &mut Vec<u8>) -> usize {
        let before = out.len();
        self.advance(until, Some(out));
        out.len() - before
    }

    /// Advances to `until` without output: the audio is discarded (not recording).
    pub fn discard_to(&mut self, until: u64) {
        self.advance(until, None);
    }

    /// Emits everything buffered (at the end of the stream). Returns samples appended.
    pub fn flush(&mut self, out: &mut Vec<u8>) -> usize {
        let end = self.buffered_end();
        self.drain_to(end, out)
    }

    fn advance(&mut self, until: u64, mut out: Option<&mut Vec<u8>>) {
        let silence = self.law.silence();
        while self.emitted < until {
            let next = self.packets.front().map(|b| b.pos);
            let gap_end = next.unwrap_or(until).clamp(self.emitted, until);
            if gap_end > self.emitted {
                let n = gap_end - self.emitted;
                if let Some(out) = out.as_deref_mut() {
                    out.resize(out.len() + n as usize, silence);
                }
                self.stats.silence_samples += n;
                self.emitted = gap_end;
                continue;
            }
            let Some(Buffered { pos, order, mut data }) = self.packets.pop_front() else {
                break;
            };
            let len = data.len() as u64;
            let start = (self.emitted - pos).min(len);
            let end = (until - pos).min(len);
            if start < end {
                if let Some(out) = out.as_deref_mut() {
                    out.extend_from_slice(&data[start as usize..end as usize]);
                }
                self.stats.audio_samples += end - start;
                self.emitted = pos + end;
            }
            if end < len && end > start {
                // The packet runs past `until`: keep the rest for the next call.
                data.drain(..end as usize);
                self.insert_sorted(Buffered {
                    pos: pos + end,
                    order,
                    data,
                });
            } else if self.spare.len() < SPARE_BUFFERS {
                self.spare.push(data);
            }
        }
    }
}

#[cfg(test)]
#[path = "buffer_tests.rs"]
mod tests;
