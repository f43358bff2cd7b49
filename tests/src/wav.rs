//! Test audio: stereo G.711 and PCM16 WAVs with a distinct tone per channel, and a frequency
//! estimate so tests can tell the channels apart by content.

use callrec_media::g711::Law;
use callrec_media::wav::{wav_header, Codec};

/// `secs` of stereo audio at 8 kHz: channel 1 a `left_hz` tone, channel 2 a `right_hz` tone.
pub fn stereo_g711(law: Law, secs: f64, left_hz: f64, right_hz: f64) -> Vec<u8> {
    let frames = (secs * 8000.0) as usize;
    let mut data = Vec::with_capacity(frames * 2);
    for i in 0..frames {
        let t = i as f64 / 8000.0;
        let l = (8000.0 * (2.0 * std::f64::consts::PI * left_hz * t).sin()) as i16;
        let r = (8000.0 * (2.0 * std::f64::consts::PI * right_hz * t).sin()) as i16;
        data.push(law.encode(l));
        data.push(law.encode(r));
    }
    let codec = match law {
        Law::Ulaw => Codec::Ulaw,
        Law::Alaw => Codec::Alaw,
    };
    let mut out = wav_header(codec, 8000, 2, data.len() as u32);
    out.extend_from_slice(&data);
    out
}

/// The standard test recording: µ-law, caller 440 Hz, callee 1000 Hz.
pub fn stereo_ulaw(secs: f64) -> Vec<u8> {
    stereo_g711(Law::Ulaw, secs, 440.0, 1000.0)
}

/// `secs` of stereo µ-law that looks like a conversation on a waveform: the parties take turns
/// of two seconds (the caller first), speaking in syllables of varying loudness, with a faint
/// noise floor while silent. The caller's voice is a 440 Hz tone, the callee's 1000 Hz.
pub fn conversation_ulaw(secs: f64) -> Vec<u8> {
    use std::f64::consts::PI;
    let frames = (secs * 8000.0) as usize;
    let mut data = Vec::with_capacity(frames * 2);
    let mut seed: u32 = 0x1234_5678;
    let mut noise = move || {
        seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        ((seed >> 16) as i32 % 80 - 40) as f64
    };
    for i in 0..frames {
        let t = i as f64 / 8000.0;
        let caller_turn = ((t / 2.0) as u64).is_multiple_of(2);
        let envelope = (PI * t * 3.0).sin().abs() * (0.55 + 0.45 * (2.0 * PI * 0.37 * t).sin());
        let voice = |hz: f64| 12000.0 * envelope * (2.0 * PI * hz * t).sin();
        let (l, r) = if caller_turn {
            (voice(440.0), noise())
        } else {
            (noise(), voice(1000.0))
        };
        data.push(Law::Ulaw.encode(l as i16));
        data.push(Law::Ulaw.encode(r as i16));
    }
    let mut out = wav_header(Codec::Ulaw, 8000, 2, data.len() as u32);
    out.extend_from_slice(&data);
    out
}

/// Mono 16-bit PCM at `rate`.
pub fn mono_pcm16(secs: f64, rate: u32, hz: f64) -> Vec<u8> {
    let n = (secs * rate as f64) as usize;
    let mut data = Vec::with_capacity(n * 2);
    for i in 0..n {
        let s = (8000.0 * (2.0 * std::f64::consts::PI * hz * i as f64 / rate as f64).sin()) as i16;
        data.extend_from_slice(&s.to_le_bytes());
    }
    let mut out = wav_header(Codec::Pcm16, rate, 1, data.len() as u32);
    out.extend_from_slice(&data);
    out
}

/// Estimated frequency of a mono signal by zero crossings.
pub fn zero_crossing_hz(samples: &[i16], rate: u32) -> f64 {
    let crossings = samples.windows(2).filter(|w| (w[0] < 0) != (w[1] < 0)).count();
    crossings as f64 * rate as f64 / (2.0 * samples.len() as f64)
}
