//! The audio output: a thread that owns the rodio device sink (a cpal stream is not `Send`)
//! and one rodio `Player` fed by a [`StreamSource`] — the decoded chunks from the decoder
//! thread, in order, with stale chunks (from before a seek) dropped.
//!
//! The source never blocks the audio callback: when no chunk is ready it plays silence
//! without advancing the position. It keeps frame alignment (silence and chunk switches
//! happen on frame boundaries) so the channels never swap.

use super::mix::Mix;
use super::shared::{PlayerError, Shared};
use rodio::Source;
use std::num::NonZero;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, Receiver, TryRecvError};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// What the decoder thread sends to the output.
pub enum Feed {
    /// Interleaved samples (f32, −1..1) from frame `start`, for seek generation `generation`.
    Audio {
        generation: u64,
        start: u64,
        samples: Vec<f32>,
    },
    /// No more audio in this generation.
    End { generation: u64 },
    /// Decoding or the download failed in this generation.
    Failed { generation: u64, message: String },
}

pub struct StreamSource {
    rx: Receiver<Feed>,
    shared: Arc<Shared>,
    mix: Arc<Mix>,
    channels: NonZero<u16>,
    rate: NonZero<u32>,
    /// The chunk being played: generation, first frame, samples, read index.
    current: Option<(u64, u64, Vec<f32>, usize)>,
    /// The frame being emitted, after the mix (one sample per channel).
    frame: Vec<f32>,
    /// Samples of `frame` emitted so far.
    phase: usize,
}

impl StreamSource {
    pub fn new(
        rx: Receiver<Feed>,
        shared: Arc<Shared>,
        mix: Arc<Mix>,
        channels: u16,
        rate: u32,
    ) -> Option<StreamSource> {
        let channels = NonZero::new(channels)?;
        Some(StreamSource {
            rx,
            shared,
            mix,
            channels,
            rate: NonZero::new(rate)?,
            current: None,
            frame: vec![0.0; usize::from(channels.get())],
            phase: 0,
        })
    }

    /// Fills `frame` with the next frame through the mix (silence when nothing is ready,
    /// without advancing the position); `false` once the decoder is gone.
    fn next_frame(&mut self) -> bool {
        let generation = self.shared.generation.load(Ordering::Acquire);
        let channels = usize::from(self.channels.get());
        loop {
            if let Some((chunk_gen, start, samples, index)) = &mut self.current {
                if *chunk_gen == generation && *index + channels <= samples.len() {
                    self.mix.apply(&samples[*index..*index + channels], &mut self.frame);
                    *index += channels;
                    self.shared
                        .position
                        .store(*start + (*index / channels) as u64, Ordering::Release);
                    if *index == channels {
                        self.shared.first_sample(generation, *start);
                    }
                    return true;
                }
                self.current = None;
            }
            match self.rx.try_recv() {
                Ok(Feed::Audio {
                    generation: g,
                    start,
                    samples,
                }) => {
                    if g == generation {
                        let frames = (samples.len() / channels) as u64;
                        self.shared.dequeued(frames);
                        self.current = Some((g, start, samples, 0));
                    }
                }
                Ok(Feed::End { generation: g }) => {
                    if g == generation {
                        self.shared.ended.store(true, Ordering::Release);
                    }
                }
                Ok(Feed::Failed { generation: g, message }) => {
                    if g == generation {
                        self.shared.fail(message);
                    }
                }
                // Nothing decoded yet (start, seek, slow network) or the end: silence.
                Err(TryRecvError::Empty) => {
                    self.frame.fill(0.0);
                    return true;
                }
                Err(TryRecvError::Disconnected) => return false,
            }
        }
    }
}

/// Whole frames only: a chunk switch or silence never shifts the channels.
impl Iterator for StreamSource {
    type Item = f32;

    fn next(&mut self) -> Option<f32> {
        if self.phase == 0 && !self.next_frame() {
            return None;
        }
        let sample = self.frame[self.phase];
        self.phase = (self.phase + 1) % self.frame.len();
        Some(sample)
    }
}

impl Source for StreamSource {
    fn current_span_len(&self) -> Option<usize> {
        None
    }

    fn channels(&self) -> rodio::ChannelCount {
        self.channels
    }

    fn sample_rate(&self) -> rodio::SampleRate {
        self.rate
    }

    fn total_duration(&self) -> Option<Duration> {
        None
    }
}

/// Commands to the output thread.
pub enum OutputCommand {
    Pause,
    Resume,
    Speed(f32),
    Stop,
}

/// The output thread: opened before the stream format is known (so opening the device runs
/// in parallel with the first HTTP request), then handed its source.
pub struct Output {
    commands: mpsc::Sender<OutputCommand>,
    source: Option<mpsc::SyncSender<StreamSource>>,
    opened: Option<oneshot::Receiver<Result<(), PlayerError>>>,
}

impl Output {
    pub fn spawn(paused: bool, speed: f32) -> Output {
        let (commands, command_rx) = mpsc::channel::<OutputCommand>();
        let (source_tx, source_rx) = mpsc::sync_channel::<StreamSource>(1);
        let (opened_tx, opened_rx) = oneshot::channel();
        std::thread::Builder::new()
            .name("callrec-audio".into())
            .spawn(move || run(paused, speed, command_rx, source_rx, opened_tx))
            .expect("the audio thread starts");
        Output {
            commands,
            source: Some(source_tx),
            opened: Some(opened_rx),
        }
    }

    /// Waits until the device is open (or could not be).
    pub async fn opened(&mut self) -> Result<(), PlayerError> {
        match self.opened.take() {
            Some(rx) => rx
                .await
                .unwrap_or_else(|_| Err(PlayerError::NoAudioDevice("the audio thread ended".into()))),
            None => Ok(()),
        }
    }

    pub fn start(&mut self, source: StreamSource) {
        if let Some(tx) = self.source.take() {
            let _ = tx.send(source);
        }
    }

    pub fn send(&self, command: OutputCommand) {
        let _ = self.commands.send(command);
    }
}

impl Drop for Output {
    fn drop(&mut self) {
        let _ = self.commands.send(OutputCommand::Stop);
    }
}

fn run(
    paused: bool,
    speed: f32,
    commands: Receiver<OutputCommand>,
    source: Receiver<StreamSource>,
    opened: oneshot::Sender<Result<(), PlayerError>>,
) {
    let started = Instant::now();
    let mut sink = match rodio::DeviceSinkBuilder::open_default_sink() {
        Ok(sink) => sink,
        Err(e) => {
            let _ = opened.send(Err(PlayerError::NoAudioDevice(e.to_string())));
            return;
        }
    };
    sink.log_on_drop(false);
    tracing::debug!(elapsed = ?started.elapsed(), "audio device open");
    let player = rodio::Player::connect_new(sink.mixer());
    player.set_speed(speed);
    if paused {
        player.pause();
    }
    let _ = opened.send(Ok(()));
    let Ok(source) = source.recv() else { return };
    player.append(source);
    while let Ok(command) = commands.recv() {
        match command {
            OutputCommand::Pause => player.pause(),
            OutputCommand::Resume => player.play(),
            OutputCommand::Speed(s) => player.set_speed(s),
            OutputCommand::Stop => break,
        }
    }
    player.stop();
}
