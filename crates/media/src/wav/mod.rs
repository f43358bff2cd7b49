//! WAV files as callrec reads and writes them: G.711 (µ-law/A-law) and 16-bit PCM, mono or
//! stereo, 8 or 16 kHz.
//!
//! - [`parse`]: validate an uploaded file's header and find its audio ([`WavInfo`]).
//! - [`header`]: canonical headers with a fixed, documented length ([`wav_header`]).
//! - [`pcm16`]: serve a G.711 WAV as a PCM16 WAV with exact HTTP byte ranges
//!   ([`Pcm16Transcoder`]).
//! - [`writer`]: a growing recording that stays playable up to its last flush
//!   ([`WavWriter`], [`WavFile`]).
//! - [`peaks`]: min/max per bucket per channel in one streaming pass ([`PeakScan`]).
//! - [`mod@repair`]: fix the header of a recording left behind by a crash ([`repair()`]).
//! - [`upload`]: check an uploaded file's sizes against its length, repairing placeholders
//!   and refusing lies ([`check_upload`]).
//!
//! Stereo recordings interleave channel 1 = caller, channel 2 = callee.
//!
//! The format follows the Microsoft RIFF/WAVE specification (Multimedia Programming Interface
//! and Data Specifications 1.0, 1991) and its WAVE_FORMAT_EXTENSIBLE addendum.

pub mod header;
pub mod parse;
pub mod pcm16;
pub mod peaks;
pub mod repair;
pub mod upload;
pub mod writer;

pub use header::{header_len, wav_header, G711_HEADER_LEN, PCM16_HEADER_LEN};
pub use parse::{WavError, WavInfo, MAX_CHUNKS, MAX_HEADER_LEN};
pub use pcm16::{g711_to_pcm16_range, Pcm16Transcoder, TranscodeError};
pub use peaks::{PeakScan, PeakSummary};
pub use repair::{repair, repair_file, RepairReport};
pub use upload::{check_upload, check_upload_file, UploadReport};
pub use writer::{HeaderPatch, SetLen, WavFile, WavIoError, WavWriter};

use crate::g711::Law;

/// WAVE format tag for integer PCM (`WAVE_FORMAT_PCM`).
pub const FORMAT_PCM: u16 = 0x0001;
/// WAVE format tag for A-law (`WAVE_FORMAT_ALAW`).
pub const FORMAT_ALAW: u16 = 0x0006;
/// WAVE format tag for µ-law (`WAVE_FORMAT_MULAW`).
pub const FORMAT_MULAW: u16 = 0x0007;
/// WAVE format tag announcing a `WAVEFORMATEXTENSIBLE` structure with a subformat GUID.
pub const FORMAT_EXTENSIBLE: u16 = 0xFFFE;

/// The audio encoding of a WAV file's `data` chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Codec {
    /// Signed 16-bit little-endian linear PCM.
    Pcm16,
    /// G.711 µ-law, one byte per sample.
    Ulaw,
    /// G.711 A-law, one byte per sample.
    Alaw,
}

impl Codec {
    /// Bytes per sample of one channel.
    pub const fn bytes_per_sample(self) -> u16 {
        match self {
            Codec::Pcm16 => 2,
            Codec::Ulaw | Codec::Alaw => 1,
        }
    }

    /// The WAVE format tag written for this codec.
    pub const fn format_tag(self) -> u16 {
        match self {
            Codec::Pcm16 => FORMAT_PCM,
            Codec::Ulaw => FORMAT_MULAW,
            Codec::Alaw => FORMAT_ALAW,
        }
    }

    /// The codec of a plain (non-extensible) WAVE format tag, if callrec supports it.
    pub const fn from_format_tag(tag: u16) -> Option<Codec> {
        match tag {
            FORMAT_PCM => Some(Codec::Pcm16),
            FORMAT_MULAW => Some(Codec::Ulaw),
            FORMAT_ALAW => Some(Codec::Alaw),
            _ => None,
        }
    }

    /// The G.711 law of this codec, or `None` for PCM16.
    pub const fn law(self) -> Option<Law> {
        match self {
            Codec::Pcm16 => None,
            Codec::Ulaw => Some(Law::Ulaw),
            Codec::Alaw => Some(Law::Alaw),
        }
    }

    /// A short lower-case name (`pcm16`, `ulaw`, `alaw`) for logs and journals.
    pub const fn as_str(self) -> &'static str {
        match self {
            Codec::Pcm16 => "pcm16",
            Codec::Ulaw => "ulaw",
            Codec::Alaw => "alaw",
        }
    }
}

impl From<Law> for Codec {
    fn from(law: Law) -> Codec {
        match law {
            Law::Ulaw => Codec::Ulaw,
            Law::Alaw => Codec::Alaw,
        }
    }
}

impl std::fmt::Display for Codec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
