//! The decoder thread of the [`super::Player`]: takes starts and seeks as commands and keeps
//! `AHEAD_SECS` of decoded audio queued for the output, in the current generation.

use super::decode::Decoder;
use super::output::Feed;
use super::shared::{Shared, AHEAD_SECS};
use std::sync::atomic::Ordering;
use std::sync::{mpsc, Arc};
use std::time::Duration;

/// Commands to the decoder thread.
pub(super) enum DecoderCommand {
    /// Continue at `frame` in `generation` on the same output.
    Seek { frame: u64, generation: u64 },
    /// Continue at `frame` in `generation` into a new output channel.
    Restart {
        frame: u64,
        generation: u64,
        feed: mpsc::Sender<Feed>,
    },
}

/// The decoder thread: waits for a start, then keeps `AHEAD_SECS` of audio queued, following
/// seeks, until the control goes away.
pub(super) fn decode_loop(mut decoder: Decoder, shared: Arc<Shared>, commands: mpsc::Receiver<DecoderCommand>) {
    let info = decoder.info();
    let channels = usize::from(info.channels);
    let ahead = u64::from(info.sample_rate) * AHEAD_SECS;
    let mut feed: Option<mpsc::Sender<Feed>> = None;
    let mut generation = 0;
    let mut idle = true;
    loop {
        let waiting = idle || shared.queued_frames.load(Ordering::Acquire) >= ahead;
        let command = if waiting {
            match commands.recv_timeout(Duration::from_millis(5)) {
                Ok(c) => Some(c),
                Err(mpsc::RecvTimeoutError::Timeout) => None,
                Err(mpsc::RecvTimeoutError::Disconnected) => return,
            }
        } else {
            match commands.try_recv() {
                Ok(c) => Some(c),
                Err(mpsc::TryRecvError::Empty) => None,
                Err(mpsc::TryRecvError::Disconnected) => return,
            }
        };
        if let Some(command) = command {
            let frame = match command {
                DecoderCommand::Seek { frame, generation: g } => {
                    generation = g;
                    frame
                }
                DecoderCommand::Restart {
                    frame,
                    generation: g,
                    feed: f,
                } => {
                    generation = g;
                    feed = Some(f);
                    frame
                }
            };
            idle = false;
            if let Err(e) = decoder.seek(frame) {
                send(
                    &feed,
                    Feed::Failed {
                        generation,
                        message: e.to_string(),
                    },
                );
                idle = true;
            }
            continue;
        }
        if waiting {
            continue;
        }
        match decoder.next_pcm() {
            Ok(Some(pcm)) => {
                let frames = (pcm.samples.len() / channels) as u64;
                shared.queued_frames.fetch_add(frames, Ordering::AcqRel);
                let samples = pcm.to_f32();
                if !send(
                    &feed,
                    Feed::Audio {
                        generation,
                        start: pcm.start,
                        samples,
                    },
                ) {
                    shared.dequeued(frames);
                }
            }
            Ok(None) => {
                send(&feed, Feed::End { generation });
                idle = true;
            }
            Err(e) => {
                send(
                    &feed,
                    Feed::Failed {
                        generation,
                        message: e.to_string(),
                    },
                );
                idle = true;
            }
        }
    }
}

fn send(feed: &Option<mpsc::Sender<Feed>>, item: Feed) -> bool {
    feed.as_ref().is_some_and(|f| f.send(item).is_ok())
}
