//! PCI pause inside a recording segment (issue #11.1): the spans of the engine clock during
//! which the call's audio is discarded and the segment gets silence (or a soft tone) of the
//! same length instead, so the file's timeline stays the call's and no call audio of the
//! span ever reaches the disk.
//!
//! The cost is per tick, never per packet: packets are received into the mixer as always,
//! and only where a tick drains the mixer does a pause split the drain at its edges (the
//! mixer runs [`super::worker::DELAY_SAMPLES`] behind real time, so a pause pressed "now"
//! lies ahead of what has been drained and cuts the audio exactly there). With no pause the
//! drain is one `is_empty` check longer.

use std::collections::VecDeque;

use callrec_media::g711::Law;
use callrec_media::jitter::StereoMixer;
use callrec_types::wire::PauseFill;

/// Bytes per stereo G.711 frame.
const FRAME: usize = 2;
/// Samples per second.
const RATE: usize = 8000;
/// The soft tone: 400 Hz (a whole number of samples per period at 8 kHz, so one second of
/// it loops without a click) at about −30 dBFS.
const TONE_HZ: usize = 400;
const TONE_AMPLITUDE: f64 = 1000.0;

#[derive(Debug, Clone, Copy)]
struct Span {
    start: u64,
    end: Option<u64>,
    fill: PauseFill,
}

/// The pauses of one segment not yet drained, on the engine clock (samples).
pub struct Pauses {
    spans: VecDeque<Span>,
    law: Law,
    /// One second of stereo tone, built at the first tone pause.
    tone: Vec<u8>,
    /// Where in `tone` the next frame comes from, so a tone runs on across ticks.
    phase: usize,
}

impl Pauses {
    /// No pause, for a `law` segment (allocates nothing).
    pub fn new(law: Law) -> Pauses {
        Pauses {
            spans: VecDeque::new(),
            law,
            tone: Vec::new(),
            phase: 0,
        }
    }

    /// The segment is paused from position `at` on (never before what is drained already).
    pub fn begin(&mut self, at: u64, drained: u64, fill: PauseFill) {
        if self.spans.back().is_some_and(|s| s.end.is_none()) {
            return; // already paused: the first pause holds
        }
        let start = at.max(drained).max(self.spans.back().and_then(|s| s.end).unwrap_or(0));
        if fill == PauseFill::Tone && self.tone.is_empty() {
            self.tone = tone(self.law);
        }
        self.spans.push_back(Span { start, end: None, fill });
    }

    /// The open pause ends at position `at`.
    pub fn end(&mut self, at: u64) {
        if let Some(s) = self.spans.back_mut().filter(|s| s.end.is_none()) {
            s.end = Some(at.max(s.start));
        }
    }

    /// Drains `mixer` up to `until` into `out`: the call's audio outside the pauses, the
    /// fill inside them.
    pub fn drain(&mut self, mixer: &mut StereoMixer, until: u64, out: &mut Vec<u8>) {
        loop {
            let pos = mixer.position();
            if pos >= until {
                return;
            }
            while self.spans.front().is_some_and(|s| s.end.is_some_and(|e| e <= pos)) {
                self.spans.pop_front();
            }
            match self.spans.front().copied() {
                None => {
                    mixer.drain_to(until, out);
                    return;
                }
                Some(s) if s.start > pos => {
                    mixer.drain_to(s.start.min(until), out);
                }
                Some(s) => {
                    let to = s.end.map_or(until, |e| e.min(until));
                    mixer.discard_to(to);
                    self.fill(s.fill, usize::try_from(to - pos).unwrap_or(usize::MAX), out);
                }
            }
            if mixer.position() == pos {
                return; // the mixer did not move (never expected): do not spin
            }
        }
    }

    fn fill(&mut self, fill: PauseFill, frames: usize, out: &mut Vec<u8>) {
        match fill {
            PauseFill::Silence => out.resize(out.len() + frames * FRAME, self.law.silence()),
            PauseFill::Tone => {
                let mut left = frames * FRAME;
                while left > 0 {
                    let n = left.min(self.tone.len() - self.phase);
                    out.extend_from_slice(&self.tone[self.phase..self.phase + n]);
                    self.phase = (self.phase + n) % self.tone.len();
                    left -= n;
                }
            }
        }
    }
}

/// One second of the soft tone on both channels.
fn tone(law: Law) -> Vec<u8> {
    (0..RATE)
        .flat_map(|i| {
            let x = (2.0 * std::f64::consts::PI * (TONE_HZ * i) as f64 / RATE as f64).sin();
            let code = law.encode((x * TONE_AMPLITUDE) as i16);
            [code, code]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use callrec_media::jitter::{JitterConfig, Packet, Side};

    use super::*;

    /// A mixer fed with a steady "audio" byte on both sides from position 0 to `frames`.
    fn mixer_with_audio(frames: u64) -> StereoMixer {
        let mut m = StereoMixer::new(Law::Ulaw, 0, JitterConfig::default());
        let payload = [0x11u8; 160];
        for (n, at) in (0..frames).step_by(160).enumerate() {
            for side in [Side::Caller, Side::Callee] {
                let packet = Packet {
                    sequence: n as u16,
                    timestamp: at as u32,
                    ssrc: side as u32 + 1,
                    law: Law::Ulaw,
                    payload: &payload,
                };
                m.push(side, packet, at);
            }
        }
        m
    }

    #[test]
    fn issue_11_a_pause_replaces_the_audio_of_its_span_and_keeps_the_length() {
        let mut m = mixer_with_audio(8000);
        let mut p = Pauses::new(Law::Ulaw);
        p.begin(2400, 0, PauseFill::Silence);
        p.end(4800);
        let mut out = Vec::new();
        p.drain(&mut m, 1200, &mut out);
        p.drain(&mut m, 6000, &mut out);
        assert_eq!(out.len(), 6000 * FRAME, "the timeline keeps its length");
        assert!(out[..2400 * FRAME].iter().all(|b| *b == 0x11), "audio before the pause");
        assert!(
            out[2400 * FRAME..4800 * FRAME]
                .iter()
                .all(|b| *b == Law::Ulaw.silence()),
            "silence inside it"
        );
        assert!(out[4800 * FRAME..].iter().all(|b| *b == 0x11), "audio after it");
        assert!(p.spans.is_empty(), "a drained pause is forgotten");
    }

    #[test]
    fn issue_11_an_open_pause_fills_every_drain_with_tone_and_never_with_audio() {
        let mut m = mixer_with_audio(8000);
        let mut p = Pauses::new(Law::Ulaw);
        p.begin(0, 0, PauseFill::Tone);
        let mut out = Vec::new();
        p.drain(&mut m, 3000, &mut out);
        p.drain(&mut m, 8000, &mut out);
        assert_eq!(out.len(), 8000 * FRAME);
        assert!(!out.contains(&0x11), "no call audio while paused");
        let decoded: Vec<i16> = out.iter().map(|c| Law::Ulaw.decode(*c)).collect();
        let peak = decoded.iter().map(|s| s.unsigned_abs()).max().unwrap_or(0);
        assert!((800..1200).contains(&peak), "a soft tone, peak {peak}");
        assert_eq!(
            &out[..40 * FRAME],
            &out[6000 * FRAME..6040 * FRAME],
            "the tone runs on across drains"
        );
    }
}
