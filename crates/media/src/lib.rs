//! callrec-media: sans-I/O building blocks for recording calls.
//!
//! Nothing in this crate opens a socket, spawns a task or reads a clock: callers feed bytes
//! in and get values (or bytes to write) out. That keeps every parser fuzzable and every
//! state machine testable with plain unit tests.
//!
//! - [`g711`]: ITU-T G.711 µ-law / A-law sample conversion.
//! - [`jitter`]: per-stream reorder buffer and the stereo mixer on the call clock.
//! - [`metadata`]: SIPREC recording metadata (RFC 7865 rs-metadata XML).
//! - [`multipart`]: `multipart/mixed` bodies (SDP + rs-metadata in a SIPREC INVITE).
//! - [`sdp`]: SDP offers and recvonly answers (RFC 4566, RFC 3264).
//! - [`rtp`]: RTP header parsing and packet classification (RFC 3550).
//! - [`sip`]: SIP message parsing with limits, stream framing, responses (RFC 3261).
//! - [`srtp`]: SRTP protect/unprotect of one stream keyed by SDES (RFC 3711, RFC 4568).
//! - [`wav`]: WAV header parsing (uploads), header writing, PCM16 transcoding with byte
//!   ranges, and a growing stereo G.711 writer that stays playable after a crash.

pub mod g711;
pub mod jitter;
pub mod metadata;
pub mod multipart;
pub mod rtp;
pub mod sdp;
pub mod sealed;
pub mod sip;
pub mod srtp;
pub mod wav;
