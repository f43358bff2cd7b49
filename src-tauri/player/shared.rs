//! What the player's parts share, below all of them: the state the control, the decoder
//! thread and the audio callback share ([`Shared`], with the [`Timing`] of a generation), the
//! player's error, and how far ahead the decoder works.

use crate::error::{AppError, ErrorCode};
use callrec_client::ClientError;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How much decoded audio the decoder keeps ready ahead of the output.
pub const AHEAD_SECS: u64 = 2;

#[derive(Debug, thiserror::Error)]
pub enum PlayerError {
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error("no audio output: {0}")]
    NoAudioDevice(String),
    #[error("cannot decode the recording: {0}")]
    Decode(String),
    #[error("the audio download failed: {0}")]
    Stream(String),
    #[error("nothing is loaded")]
    Idle,
    /// Already turned into the window's terms (and shown in the player's status).
    #[error("{0}")]
    Shown(AppError),
}

impl From<PlayerError> for AppError {
    fn from(e: PlayerError) -> AppError {
        match e {
            PlayerError::Client(c) => AppError::from(c),
            PlayerError::NoAudioDevice(detail) => {
                tracing::warn!(%detail, "no audio output");
                AppError::new(
                    ErrorCode::NoAudioDevice,
                    "No audio output device was found, so the recording cannot be played on this \
                     computer. You can still download it.",
                )
            }
            PlayerError::Decode(detail) => AppError::failed(format!("This recording cannot be decoded ({detail}).")),
            PlayerError::Stream(detail) => AppError::new(
                ErrorCode::Unreachable,
                format!("The audio stopped arriving from the server ({detail})."),
            ),
            PlayerError::Idle => AppError::failed("Nothing is loaded in the player."),
            PlayerError::Shown(e) => e,
        }
    }
}

/// Timings of the current generation, for tests and the benchmark.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    pub generation: u64,
    pub requested: Instant,
    pub first_sample: Option<Instant>,
    /// The frame the first sample came from (a seek's landing point).
    pub first_frame: Option<u64>,
}

impl Timing {
    /// From the command (play or seek) to the first sample handed to the audio output.
    pub fn latency(&self) -> Option<Duration> {
        self.first_sample.map(|f| f - self.requested)
    }
}

/// State shared by the control, the decoder thread and the audio callback.
pub struct Shared {
    /// Chunks of other generations are stale.
    pub generation: AtomicU64,
    /// Frames handed to the output so far (the playing position).
    pub position: AtomicU64,
    /// Decoded frames of this generation waiting for the output.
    pub queued_frames: AtomicU64,
    pub ended: AtomicBool,
    failure: Mutex<Option<String>>,
    timing: Mutex<Timing>,
}

impl Default for Shared {
    fn default() -> Shared {
        Shared::new()
    }
}

impl Shared {
    pub fn new() -> Shared {
        Shared {
            generation: AtomicU64::new(0),
            position: AtomicU64::new(0),
            queued_frames: AtomicU64::new(0),
            ended: AtomicBool::new(false),
            failure: Mutex::new(None),
            timing: Mutex::new(Timing {
                generation: 0,
                requested: Instant::now(),
                first_sample: None,
                first_frame: None,
            }),
        }
    }

    /// Starts a generation at `frame`: older chunks become stale.
    pub fn begin(&self, frame: u64, requested: Instant) -> u64 {
        let generation = self.generation.load(Ordering::Acquire) + 1;
        *self.timing.lock().expect("timing lock") = Timing {
            generation,
            requested,
            first_sample: None,
            first_frame: None,
        };
        self.position.store(frame, Ordering::Release);
        self.queued_frames.store(0, Ordering::Release);
        self.ended.store(false, Ordering::Release);
        *self.failure.lock().expect("failure lock") = None;
        self.generation.store(generation, Ordering::Release);
        generation
    }

    /// Called by the output when it hands out the first sample of a chunk starting at `frame`.
    pub fn first_sample(&self, generation: u64, frame: u64) {
        let mut t = self.timing.lock().expect("timing lock");
        if t.generation == generation && t.first_sample.is_none() {
            t.first_sample = Some(Instant::now());
            t.first_frame = Some(frame);
        }
    }

    pub fn fail(&self, message: String) {
        *self.failure.lock().expect("failure lock") = Some(message);
    }

    pub(super) fn failure(&self) -> Option<String> {
        self.failure.lock().expect("failure lock").clone()
    }

    pub fn timing(&self) -> Timing {
        *self.timing.lock().expect("timing lock")
    }

    /// The output took `frames` of this generation off the queue.
    pub fn dequeued(&self, frames: u64) {
        let _ = self
            .queued_frames
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |q| Some(q.saturating_sub(frames)));
    }
}
