//! From RTP packets to a stereo recording on the call's clock.
//!
//! Positions are sample counts (8 kHz) on the **call clock**: the recorder turns its wall
//! clock into a position (`(now - call start) × 8000`) and passes it in, so the logic is
//! deterministic and testable. Each packet is placed at a position derived from its RTP
//! timestamp, anchored to the position at which the stream's first packet arrived.
//!
//! - [`JitterBuffer`]: one mono stream. Accepts packets out of order within a window,
//!   emits audio in timeline order, fills gaps with G.711 silence, counts lost, reordered,
//!   duplicate and late packets, and re-anchors on SSRC changes and timestamp jumps.
//!   [`JitterBuffer::drain_to`] is also the hold padding: asked to emit up to a position
//!   where no packet arrived, it pads silence, so the file's timeline matches the call.
//! - [`StereoMixer`]: two buffers (caller, callee) drained to the same position and
//!   interleaved into stereo frames (channel 1 = caller, channel 2 = callee).

mod buffer;
mod mixer;

pub use buffer::{JitterBuffer, JitterConfig, JitterStats, Outcome, Packet};
pub use mixer::{Side, StereoMixer};

/// Samples per second of G.711 RTP (RFC 3551 §4.5.14): positions count these.
pub const CLOCK_RATE: u64 = 8000;
