//! Per-party listening and volume (issue #15.2): the last stage before rodio. Each decoded
//! frame goes through [`Mix::apply`] in the output's source, so a change is heard within one
//! frame while playing, with no restart.
//!
//! A recording is stereo with the caller on channel 1 and the callee on channel 2 (the
//! specification's §3). "Caller only" plays channel 1 on both ears and nothing of channel 2;
//! "callee only" the other way round; "both" leaves the frame as it is. A mono recording has
//! one party per channel no more: only the volume applies. The settings live in the
//! [`super::Player`], so they hold for every recording played in the session.

use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicU8, Ordering};
use ts_rs::TS;

/// Which party of a stereo recording is heard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Channels {
    Both,
    /// Channel 1 only, on both ears.
    Caller,
    /// Channel 2 only, on both ears.
    Callee,
}

impl Channels {
    fn to_u8(self) -> u8 {
        match self {
            Channels::Both => 0,
            Channels::Caller => 1,
            Channels::Callee => 2,
        }
    }

    fn from_u8(v: u8) -> Channels {
        match v {
            1 => Channels::Caller,
            2 => Channels::Callee,
            _ => Channels::Both,
        }
    }
}

/// The loudest volume, in percent (the recording as it is).
pub const MAX_VOLUME: u8 = 100;

/// The listening settings, read by the audio callback once per frame and set by the commands.
#[derive(Debug)]
pub struct Mix {
    channels: AtomicU8,
    volume: AtomicU8,
}

impl Default for Mix {
    fn default() -> Mix {
        Mix {
            channels: AtomicU8::new(Channels::Both.to_u8()),
            volume: AtomicU8::new(MAX_VOLUME),
        }
    }
}

impl Mix {
    pub fn channels(&self) -> Channels {
        Channels::from_u8(self.channels.load(Ordering::Relaxed))
    }

    pub fn set_channels(&self, channels: Channels) {
        self.channels.store(channels.to_u8(), Ordering::Relaxed);
    }

    /// The volume in percent, 0–100.
    pub fn volume(&self) -> u8 {
        self.volume.load(Ordering::Relaxed)
    }

    /// Sets the volume in percent; above 100 is 100.
    pub fn set_volume(&self, percent: u8) {
        self.volume.store(percent.min(MAX_VOLUME), Ordering::Relaxed);
    }

    /// Writes the output frame for one decoded frame (`input` and `out` hold one sample per
    /// channel, the same count).
    pub fn apply(&self, input: &[f32], out: &mut [f32]) {
        mix_frame(self.channels(), self.volume(), input, out);
    }
}

/// One frame through the party choice and the volume.
pub fn mix_frame(channels: Channels, volume: u8, input: &[f32], out: &mut [f32]) {
    let gain = f32::from(volume.min(MAX_VOLUME)) / f32::from(MAX_VOLUME);
    let only = match (channels, input.len()) {
        (Channels::Caller, n) if n >= 2 => Some(input[0]),
        (Channels::Callee, n) if n >= 2 => Some(input[1]),
        _ => None,
    };
    match only {
        Some(sample) => out.fill(sample * gain),
        None => {
            for (o, i) in out.iter_mut().zip(input) {
                *o = *i * gain;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_party_is_played_on_both_ears_and_the_other_is_silent() {
        let mut out = [9.0f32; 2];
        mix_frame(Channels::Both, 100, &[0.5, -0.25], &mut out);
        assert_eq!(out, [0.5, -0.25]);
        mix_frame(Channels::Caller, 100, &[0.5, -0.25], &mut out);
        assert_eq!(out, [0.5, 0.5]);
        mix_frame(Channels::Callee, 100, &[0.5, -0.25], &mut out);
        assert_eq!(out, [-0.25, -0.25]);
        mix_frame(Channels::Callee, 50, &[0.5, -0.25], &mut out);
        assert_eq!(out, [-0.125, -0.125]);
        mix_frame(Channels::Both, 0, &[0.5, -0.25], &mut out);
        assert_eq!(out, [0.0, 0.0]);
    }

    #[test]
    fn mono_only_takes_the_volume() {
        let mut out = [0.0f32; 1];
        mix_frame(Channels::Caller, 40, &[0.5], &mut out);
        assert_eq!(out, [0.2]);
    }

    #[test]
    fn the_volume_is_capped_at_one_hundred_percent() {
        let mix = Mix::default();
        mix.set_volume(250);
        assert_eq!(mix.volume(), 100);
        mix.set_channels(Channels::Callee);
        assert_eq!(mix.channels(), Channels::Callee);
    }
}
