//! The player: a recording streamed from the server (HTTP Range, [`range`]), decoded by
//! symphonia on its own thread ([`decode`]) and played through rodio ([`output`]).
//!
//! Playback starts as soon as the header and the first packet have arrived — long before a
//! one-hour file is downloaded. Seeking bumps a *generation*: the decoder jumps (a new range
//! request if the target is not next in the response), and the output drops every chunk of an
//! older generation, so a seek is heard within one HTTP round trip plus one packet. Pause and
//! speed are rodio's; the position is counted from the frames actually handed to the output.
//! Which party is heard and the volume are applied to every frame on its way out ([`mix`]).
//! At the end the audio device is closed; play or seek opens it again.

pub mod decode;
mod decoder_thread;
mod digest;
pub mod mix;
pub mod output;
pub mod range;
mod shared;

use crate::error::AppError;
use callrec_client::{AudioFormat, Client};
use callrec_types::RecordingId;
use decode::{Decoder, StreamInfo};
use decoder_thread::{decode_loop, DecoderCommand};
pub use digest::StreamDigest;
pub use mix::{Channels, Mix};
use output::{Output, OutputCommand, StreamSource};
use range::RangeSource;
use serde::{Deserialize, Serialize};
pub use shared::{PlayerError, Shared, Timing};
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use ts_rs::TS;

/// How often the window hears the position while playing.
const TICK: Duration = Duration::from_millis(100);
/// The speeds offered.
pub const MIN_SPEED: f32 = 0.5;
pub const MAX_SPEED: f32 = 2.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum PlaybackState {
    Idle,
    /// Waiting for the first audio (start or seek).
    Loading,
    Playing,
    Paused,
    Ended,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct PlayerStatus {
    pub recording_id: Option<RecordingId>,
    pub state: PlaybackState,
    pub position_ms: u64,
    pub duration_ms: u64,
    pub speed: f32,
    /// Which party is heard (both, the caller's channel, the callee's).
    pub channels: Channels,
    /// The volume in percent, 0–100.
    pub volume: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<AppError>,
    /// Something the listener should know that is not an error (the output played far
    /// faster than real time: no real sound device, nothing was heard).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice: Option<String>,
    /// The hex SHA-256 of the recording's file, once every byte of it has streamed through
    /// the player (a play to the end): the window checks it against the signed evidence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub streamed_sha256: Option<String>,
}

/// Shown when the output takes audio much faster than real time (e.g. ALSA's null device).
pub const NOT_REAL_TIME: &str =
    "Nothing was heard: the audio output is not a real sound device (it ran faster than real time).";

/// How much audio must have gone out before the pace is judged.
const PACE_MIN_MS: u64 = 2_000;

struct Playback {
    recording_id: RecordingId,
    info: StreamInfo,
    shared: Arc<Shared>,
    decoder: mpsc::Sender<DecoderCommand>,
    /// `None` once the end was reached (the device is closed).
    output: Option<Output>,
    paused: bool,
    speed: f32,
    /// Wall time and frame when audio last (re)started flowing; `None` while paused.
    pace: Option<(Instant, u64)>,
    /// Set once the output was seen taking audio faster than real time.
    notice: Option<String>,
    /// The SHA-256 of the file as it streams.
    digest: Arc<StreamDigest>,
    /// The player's listening settings (shared with every output it opens).
    mix: Arc<Mix>,
}

impl Playback {
    /// Restarts the pace measurement at `frame` (after play, seek, resume, speed).
    fn pace_from(&mut self, frame: u64) {
        self.pace = (!self.paused).then(|| (Instant::now(), frame));
    }

    /// Notes (once) that the output runs far faster than real time.
    fn check_pace(&mut self, frame: u64) {
        let Some((since, from)) = self.pace else { return };
        if self.notice.is_some() || frame <= from {
            return;
        }
        let audio_ms = self.info.ms_at_frame(frame) - self.info.ms_at_frame(from);
        let audio_ms = (audio_ms as f64 / f64::from(self.speed)) as u64;
        if too_fast(audio_ms, since.elapsed()) {
            self.notice = Some(NOT_REAL_TIME.to_string());
        }
    }

    fn status(&self) -> PlayerStatus {
        let failure = self.shared.failure();
        let state = if failure.is_some() {
            PlaybackState::Failed
        } else if self.output.is_none() {
            PlaybackState::Ended
        } else if self.paused {
            PlaybackState::Paused
        } else if self.shared.timing().first_sample.is_none() {
            PlaybackState::Loading
        } else {
            PlaybackState::Playing
        };
        let frame = self.shared.position.load(Ordering::Acquire);
        PlayerStatus {
            recording_id: Some(self.recording_id),
            state,
            position_ms: self.info.ms_at_frame(frame),
            duration_ms: self.info.duration_ms(),
            speed: self.speed,
            channels: self.mix.channels(),
            volume: self.mix.volume(),
            error: failure.map(|m| AppError::from(PlayerError::Stream(m))),
            notice: self.notice.clone(),
            streamed_sha256: self.digest.sha256(),
        }
    }

    /// Opens the device and starts feeding it from `frame` (a new generation).
    async fn attach_output(&mut self, frame: u64, requested: Instant) -> Result<(), PlayerError> {
        let mut output = Output::spawn(self.paused, self.speed);
        let (feed, feed_rx) = mpsc::channel();
        let generation = self.shared.begin(frame, requested);
        self.decoder
            .send(DecoderCommand::Restart {
                frame,
                generation,
                feed,
            })
            .map_err(|_| PlayerError::Stream("the decoder stopped".into()))?;
        let source = StreamSource::new(
            feed_rx,
            self.shared.clone(),
            self.mix.clone(),
            self.info.channels,
            self.info.sample_rate,
        )
        .ok_or_else(|| PlayerError::Decode("no channels or no sample rate".into()))?;
        output.opened().await?;
        output.start(source);
        self.output = Some(output);
        self.pace_from(frame);
        Ok(())
    }
}

/// Where the player reports every change of its status (the app turns it into a UI event).
pub type OnStatus = Arc<dyn Fn(PlayerStatus) + Send + Sync>;

/// The app's one player.
pub struct Player {
    now: Arc<tokio::sync::Mutex<Option<Playback>>>,
    on_status: OnStatus,
    speed: Mutex<f32>,
    /// Party and volume: kept for the whole session, whatever is played.
    mix: Arc<Mix>,
    /// The play that failed last (client, recording, position): "play" tries it again.
    failed: Mutex<Option<(Client, RecordingId, u64)>>,
}

impl Player {
    pub fn new(on_status: OnStatus) -> Player {
        Player {
            now: Arc::new(tokio::sync::Mutex::new(None)),
            on_status,
            speed: Mutex::new(1.0),
            mix: Arc::default(),
            failed: Mutex::new(None),
        }
    }

    /// Loads recording `id` and plays it from `start_ms`. Returns when the stream is open and
    /// the device is ready; the first sample follows within milliseconds.
    pub async fn play(&self, client: Client, id: RecordingId, start_ms: u64) -> Result<PlayerStatus, PlayerError> {
        let speed = *self.speed.lock().expect("speed lock");
        *self.failed.lock().expect("failed lock") = None;
        match self.start(client.clone(), id, start_ms).await {
            Ok(status) => Ok(status),
            Err(e) => {
                *self.failed.lock().expect("failed lock") = Some((client, id, start_ms));
                // The bar says why nothing plays (no device, not permitted, unreachable).
                let error = AppError::from(e);
                (self.on_status)(PlayerStatus {
                    recording_id: Some(id),
                    state: PlaybackState::Failed,
                    position_ms: start_ms,
                    duration_ms: 0,
                    speed,
                    channels: self.mix.channels(),
                    volume: self.mix.volume(),
                    error: Some(error.clone()),
                    notice: None,
                    streamed_sha256: None,
                });
                Err(PlayerError::Shown(error))
            }
        }
    }

    async fn start(&self, client: Client, id: RecordingId, start_ms: u64) -> Result<PlayerStatus, PlayerError> {
        let requested = Instant::now();
        // Unload what plays now (the bar stays: the loading status follows at once).
        drop(self.now.lock().await.take());
        let speed = *self.speed.lock().expect("speed lock");
        let mut guard = self.now.lock().await;
        (self.on_status)(PlayerStatus {
            recording_id: Some(id),
            state: PlaybackState::Loading,
            position_ms: start_ms,
            duration_ms: 0,
            speed,
            channels: self.mix.channels(),
            volume: self.mix.volume(),
            error: None,
            notice: None,
            streamed_sha256: None,
        });
        // The device opens while the first request is on its way.
        let mut output = Output::spawn(false, speed);
        let shared = Arc::new(Shared::new());
        let (commands, command_rx) = mpsc::channel();
        let (info_tx, info_rx) = tokio::sync::oneshot::channel();
        let rt = tokio::runtime::Handle::current();
        let thread_shared = shared.clone();
        let digest = Arc::new(StreamDigest::default());
        let thread_digest = digest.clone();
        std::thread::Builder::new()
            .name("callrec-decoder".into())
            .spawn(move || {
                let opened = RangeSource::open(client, id, AudioFormat::Original, rt)
                    .map(|source| source.hashing_into(thread_digest))
                    .and_then(Decoder::open);
                match opened {
                    Ok(decoder) => {
                        let _ = info_tx.send(Ok(decoder.info()));
                        decode_loop(decoder, thread_shared, command_rx);
                    }
                    Err(e) => {
                        let _ = info_tx.send(Err(e));
                    }
                }
            })
            .expect("the decoder thread starts");
        let info = info_rx
            .await
            .map_err(|_| PlayerError::Stream("the decoder stopped".into()))??;
        let frame = info.frame_at_ms(start_ms);
        let (feed, feed_rx) = mpsc::channel();
        let generation = shared.begin(frame, requested);
        commands
            .send(DecoderCommand::Restart {
                frame,
                generation,
                feed,
            })
            .map_err(|_| PlayerError::Stream("the decoder stopped".into()))?;
        let source = StreamSource::new(
            feed_rx,
            shared.clone(),
            self.mix.clone(),
            info.channels,
            info.sample_rate,
        )
        .ok_or_else(|| PlayerError::Decode("no channels or no sample rate".into()))?;
        output.opened().await?;
        output.start(source);
        let mut playback = Playback {
            recording_id: id,
            info,
            shared,
            decoder: commands,
            output: Some(output),
            paused: false,
            speed,
            pace: None,
            notice: None,
            digest,
            mix: self.mix.clone(),
        };
        playback.pace_from(frame);
        let status = playback.status();
        *guard = Some(playback);
        drop(guard);
        self.spawn_ticker();
        Ok(status)
    }

    /// Emits the position while something is loaded; closes the device at the end.
    fn spawn_ticker(&self) {
        let now = self.now.clone();
        let on_status = self.on_status.clone();
        tokio::spawn(async move {
            let mut last: Option<PlayerStatus> = None;
            loop {
                tokio::time::sleep(TICK).await;
                let mut guard = now.lock().await;
                let Some(p) = guard.as_mut() else { break };
                if p.output.is_some() && p.shared.ended.load(Ordering::Acquire) {
                    p.output = None;
                    let end = p.info.frames.unwrap_or(0);
                    p.shared.position.store(end, Ordering::Release);
                    p.check_pace(end);
                    p.pace = None;
                } else if p.output.is_some() {
                    let frame = p.shared.position.load(Ordering::Acquire);
                    p.check_pace(frame);
                }
                let status = p.status();
                drop(guard);
                if last.as_ref() != Some(&status) {
                    on_status(status.clone());
                    last = Some(status);
                }
            }
        });
    }

    pub async fn status(&self) -> PlayerStatus {
        let speed = *self.speed.lock().expect("speed lock");
        match self.now.lock().await.as_ref() {
            Some(p) => p.status(),
            None => PlayerStatus {
                recording_id: None,
                state: PlaybackState::Idle,
                position_ms: 0,
                duration_ms: 0,
                speed,
                channels: self.mix.channels(),
                volume: self.mix.volume(),
                error: None,
                notice: None,
                streamed_sha256: None,
            },
        }
    }

    /// Timings of the current generation (tests, benchmark).
    pub async fn timing(&self) -> Option<Timing> {
        self.now.lock().await.as_ref().map(|p| p.shared.timing())
    }

    pub async fn pause(&self) -> Result<PlayerStatus, PlayerError> {
        let mut guard = self.now.lock().await;
        let p = guard.as_mut().ok_or(PlayerError::Idle)?;
        if let Some(o) = &p.output {
            o.send(OutputCommand::Pause);
            p.paused = true;
            p.pace = None;
        }
        let status = p.status();
        drop(guard);
        (self.on_status)(status.clone());
        Ok(status)
    }

    /// Resumes; after the end, plays again from the start; after a play that failed (no
    /// device, server gone), tries that play again.
    pub async fn resume(&self) -> Result<PlayerStatus, PlayerError> {
        let requested = Instant::now();
        let mut guard = self.now.lock().await;
        let Some(p) = guard.as_mut() else {
            drop(guard);
            let failed = self.failed.lock().expect("failed lock").clone();
            return match failed {
                Some((client, id, start_ms)) => self.play(client, id, start_ms).await,
                None => Err(PlayerError::Idle),
            };
        };
        p.paused = false;
        match &p.output {
            Some(o) => {
                o.send(OutputCommand::Resume);
                let frame = p.shared.position.load(Ordering::Acquire);
                p.pace_from(frame);
            }
            None => p.attach_output(0, requested).await?,
        }
        let status = p.status();
        drop(guard);
        (self.on_status)(status.clone());
        Ok(status)
    }

    /// Jumps to `ms` (clamped to the recording). Paused stays paused.
    pub async fn seek(&self, ms: u64) -> Result<PlayerStatus, PlayerError> {
        let requested = Instant::now();
        let mut guard = self.now.lock().await;
        let p = guard.as_mut().ok_or(PlayerError::Idle)?;
        let frame = p.info.frame_at_ms(ms);
        if p.output.is_some() {
            let generation = p.shared.begin(frame, requested);
            p.decoder
                .send(DecoderCommand::Seek { frame, generation })
                .map_err(|_| PlayerError::Stream("the decoder stopped".into()))?;
            p.pace_from(frame);
        } else {
            p.attach_output(frame, requested).await?;
        }
        let status = p.status();
        drop(guard);
        (self.on_status)(status.clone());
        Ok(status)
    }

    /// Moves by `delta_ms` (negative: back).
    pub async fn skip(&self, delta_ms: i64) -> Result<PlayerStatus, PlayerError> {
        let position = self.status().await.position_ms;
        self.seek(position.saturating_add_signed(delta_ms)).await
    }

    pub async fn set_speed(&self, speed: f32) -> Result<PlayerStatus, PlayerError> {
        let speed = if speed.is_finite() {
            speed.clamp(MIN_SPEED, MAX_SPEED)
        } else {
            1.0
        };
        *self.speed.lock().expect("speed lock") = speed;
        let mut guard = self.now.lock().await;
        if let Some(p) = guard.as_mut() {
            p.speed = speed;
            if let Some(o) = &p.output {
                o.send(OutputCommand::Speed(speed));
                let frame = p.shared.position.load(Ordering::Acquire);
                p.pace_from(frame);
            }
        }
        drop(guard);
        let status = self.status().await;
        (self.on_status)(status.clone());
        Ok(status)
    }

    /// Which party is heard, at once while playing and for every later play.
    pub async fn set_channels(&self, channels: Channels) -> PlayerStatus {
        self.mix.set_channels(channels);
        self.report().await
    }

    /// The volume in percent (above 100 is 100), at once and for every later play.
    pub async fn set_volume(&self, percent: u8) -> PlayerStatus {
        self.mix.set_volume(percent);
        self.report().await
    }

    /// Tells the window the status and returns it.
    async fn report(&self) -> PlayerStatus {
        let status = self.status().await;
        (self.on_status)(status.clone());
        status
    }

    /// Stops and unloads; closes the device. Always tells the window the player is idle
    /// (also after a play that failed and left nothing loaded, so its bar can close).
    pub async fn stop(&self) {
        let old = self.now.lock().await.take();
        drop(old);
        *self.failed.lock().expect("failed lock") = None;
        (self.on_status)(self.status().await);
    }
}

/// Whether `audio_ms` of sound (at speed 1) went out in far less wall time than it lasts.
fn too_fast(audio_ms: u64, wall: Duration) -> bool {
    audio_ms >= PACE_MIN_MS && (wall.as_millis() as u64).saturating_mul(2) < audio_ms
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    #[test]
    fn no_audio_device_is_said_plainly_and_suggests_the_download() {
        let e = AppError::from(PlayerError::NoAudioDevice("DeviceNotAvailable".into()));
        assert_eq!(e.code, ErrorCode::NoAudioDevice);
        assert!(e.message.contains("No audio output device"), "{}", e.message);
        assert!(e.message.contains("download"), "{}", e.message);
        assert!(!e.message.contains("DeviceNotAvailable"), "no internals: {}", e.message);
    }

    #[test]
    fn an_output_much_faster_than_real_time_is_noticed_only_past_two_seconds() {
        assert!(too_fast(21_000, Duration::from_millis(300)), "the ALSA null device");
        assert!(!too_fast(21_000, Duration::from_millis(20_500)), "a real device");
        assert!(!too_fast(21_000, Duration::from_millis(11_000)), "a loaded machine");
        assert!(!too_fast(1_500, Duration::from_millis(10)), "too little to judge");
    }

    #[test]
    fn a_shown_error_passes_through_unchanged() {
        let shown = AppError::new(ErrorCode::NotPermitted, "You may not play this.");
        assert_eq!(AppError::from(PlayerError::Shown(shown.clone())), shown);
    }
}
