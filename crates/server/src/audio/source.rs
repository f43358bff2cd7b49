//! What is served: the recording file as the route resolved it ([`AudioSource`]) and the
//! rendition asked for with `?format=` ([`AudioFormat`]).

use std::path::PathBuf;

pub use callrec_types::wire::{AudioFormat, UnknownAudioFormat};

/// The recording file to serve, as the route handler resolved it.
#[derive(Debug, Clone)]
pub struct AudioSource {
    /// The WAV file (a path built by the server, never by a client).
    pub path: PathBuf,
    /// Hex SHA-256 of the finished file; empty while the recording is in progress.
    pub sha256: String,
    /// Download name, e.g. `20261126-101500-42_001.wav`.
    pub file_name: String,
    /// Opens the file when it is stored encrypted (issue #12.1).
    pub vault: crate::sealed::Vault,
}
