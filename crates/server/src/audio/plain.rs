//! A recording's plaintext read from start to end for analysis (the waveform peaks, issue
//! #15.1), from wherever it is: the local file, else its object (issue #10.2), opened with the
//! vault when sealed (issue #12.1) — the same read path as the audio route, so a sealed chunk
//! that fails authentication is an error here too, never data.

use std::io;
use std::ops::Range;
use std::sync::Arc;

use futures::StreamExt;
use tokio::fs::File;

use super::blob::Blob;
use super::source::AudioSource;
use super::CHUNK_BYTES;
use crate::objects::Objects;

/// An opened recording's plaintext.
pub struct PlainAudio(Blob);

impl PlainAudio {
    /// Opens `src.path`, or — when the file is gone (uploaded) and `objects` is set — the
    /// object `rel`. A missing file and object is [`io::ErrorKind::NotFound`].
    pub async fn open(src: &AudioSource, objects: Option<Arc<Objects>>, rel: &str) -> io::Result<PlainAudio> {
        let blob = match (File::open(&src.path).await, objects) {
            (Ok(f), _) => Blob::File(f),
            (Err(e), Some(objects)) if e.kind() == io::ErrorKind::NotFound => Blob::object(objects, rel).await?,
            (Err(e), _) => return Err(e),
        };
        Ok(PlainAudio(blob.unsealed(&src.vault).await?))
    }

    /// The plaintext's length.
    pub async fn byte_len(&self) -> io::Result<u64> {
        Ok(self.0.meta().await?.0)
    }

    /// Up to `n` bytes from the start (the WAV header).
    pub async fn head(&mut self, n: usize) -> io::Result<Vec<u8>> {
        self.0.head(n).await
    }

    /// Hands `range` to `each` in pieces of about [`CHUNK_BYTES`] (a sealed blob: a batch of
    /// chunks), in order.
    pub async fn read(&mut self, range: Range<u64>, mut each: impl FnMut(&[u8])) -> io::Result<()> {
        let mut stream = self.0.range(range, CHUNK_BYTES).await?;
        while let Some(piece) = stream.next().await {
            each(&piece?);
        }
        Ok(())
    }
}
