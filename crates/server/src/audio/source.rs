//! What is served: the recording file as the route resolved it ([`AudioSource`]) and the
//! rendition asked for with `?format=` ([`AudioFormat`]).

use std::path::PathBuf;
use std::str::FromStr;

/// Which rendition of a recording to serve (`?format=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AudioFormat {
    /// The stored file, byte for byte.
    #[default]
    Original,
    /// A 16-bit PCM WAV, converted on the fly from G.711 (or the stored file if it is PCM16).
    Pcm16,
}

impl AudioFormat {
    /// The query value: `original` or `pcm16`.
    pub fn as_str(self) -> &'static str {
        match self {
            AudioFormat::Original => "original",
            AudioFormat::Pcm16 => "pcm16",
        }
    }
}

/// A `?format=` value other than `original` and `pcm16`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown audio format {0:?}: expected original or pcm16")]
pub struct UnknownAudioFormat(pub String);

impl FromStr for AudioFormat {
    type Err = UnknownAudioFormat;

    fn from_str(s: &str) -> Result<AudioFormat, UnknownAudioFormat> {
        match s {
            "original" => Ok(AudioFormat::Original),
            "pcm16" => Ok(AudioFormat::Pcm16),
            other => Err(UnknownAudioFormat(other.to_owned())),
        }
    }
}

/// The recording file to serve, as the route handler resolved it.
#[derive(Debug, Clone)]
pub struct AudioSource {
    /// The WAV file (a path built by the server, never by a client).
    pub path: PathBuf,
    /// Hex SHA-256 of the finished file; empty while the recording is in progress.
    pub sha256: String,
    /// Download name, e.g. `20261126-101500-42_001.wav`.
    pub file_name: String,
}
