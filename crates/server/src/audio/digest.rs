//! The SHA-256 of a stored recording's audio as it is served (issue #12.2): read through the
//! same [`Blob`] as playback — the spool file first, then the object store — so what is hashed
//! is exactly what a download with `format=original` gives (the plaintext, whatever the
//! storage does underneath). The evidence chain's sweep and both verifies use it.

use std::io;
use std::path::Path;
use std::sync::Arc;

use futures::StreamExt;
use sha2::{Digest, Sha256};
use tokio::fs::File;

use super::blob::Blob;
use super::CHUNK_BYTES;
use crate::objects::Objects;

/// Hex SHA-256 and length of the recording stored at `abs` (the spool or data directory) or,
/// when no file is there, of the object `rel`. A recording in neither place is
/// [`io::ErrorKind::NotFound`].
pub async fn stored_sha256(
    abs: &Path,
    objects: Option<&Arc<Objects>>,
    rel: &str,
    vault: &crate::sealed::Vault,
) -> io::Result<(String, u64)> {
    let blob = match (File::open(abs).await, objects) {
        (Ok(f), _) => Blob::File(f),
        (Err(e), Some(objects)) if e.kind() == io::ErrorKind::NotFound => Blob::object(objects.clone(), rel).await?,
        (Err(e), _) => return Err(e),
    };
    // A sealed file or object (#12.1) is hashed as its plaintext, every chunk authenticated.
    sha256_of(blob.unsealed(vault).await?).await
}

async fn sha256_of(mut blob: Blob) -> io::Result<(String, u64)> {
    let (len, _) = blob.meta().await?;
    let mut h = Sha256::new();
    let mut n = 0u64;
    let mut body = blob.range(0..len, CHUNK_BYTES).await?;
    while let Some(chunk) = body.next().await {
        let chunk = chunk?;
        n += chunk.len() as u64;
        h.update(&chunk);
    }
    Ok((hex::encode(h.finalize()), n))
}
