//! Where the served bytes come from: the local file (the spool, or the data directory without
//! object storage) or an object in the object store (issue #10.2), read with ranged GETs. Both
//! give the same length, date and bytes, so ranges, validators and the PCM16 conversion work
//! the same for either.

use std::io;
use std::ops::Range;
use std::sync::Arc;
use std::time::SystemTime;

use bytes::Bytes;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use tokio::fs::File;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio_util::io::ReaderStream;

use crate::objects::{Objects, ObjectsError};

pub(super) enum Blob {
    File(File),
    Object {
        objects: Arc<Objects>,
        rel: String,
        len: u64,
        modified: SystemTime,
    },
}

/// A missing object reads like a missing file (the route answers 410 Gone).
fn io_error(e: ObjectsError) -> io::Error {
    if e.is_not_found() {
        io::Error::new(io::ErrorKind::NotFound, e)
    } else {
        io::Error::other(e)
    }
}

impl Blob {
    /// The object `rel`, its length and date read with one HEAD request.
    pub(super) async fn object(objects: Arc<Objects>, rel: &str) -> io::Result<Blob> {
        let info = objects.head(rel).await.map_err(io_error)?;
        Ok(Blob::Object {
            objects,
            rel: rel.to_owned(),
            len: info.len,
            modified: info.modified,
        })
    }

    /// Length and modification time.
    pub(super) async fn meta(&self) -> io::Result<(u64, Option<SystemTime>)> {
        match self {
            Blob::File(f) => {
                let m = f.metadata().await?;
                Ok((m.len(), m.modified().ok()))
            }
            Blob::Object { len, modified, .. } => Ok((*len, Some(*modified))),
        }
    }

    /// The bytes `range` (clipped to the end), streamed in chunks of about `chunk` bytes.
    pub(super) async fn range(
        &mut self,
        range: Range<u64>,
        chunk: usize,
    ) -> io::Result<BoxStream<'_, io::Result<Bytes>>> {
        match self {
            Blob::File(f) => {
                f.seek(io::SeekFrom::Start(range.start)).await?;
                Ok(ReaderStream::with_capacity(f.take(range.end - range.start), chunk).boxed())
            }
            Blob::Object { objects, rel, len, .. } => {
                let r = range.start.min(*len)..range.end.min(*len);
                Ok(objects.get_range(rel, r).await.map_err(io_error)?.boxed())
            }
        }
    }

    /// Fills `buf` from `start`; fewer bytes than asked is `UnexpectedEof`.
    pub(super) async fn read_exact_at(&mut self, start: u64, buf: &mut [u8]) -> io::Result<()> {
        match self {
            Blob::File(f) => {
                f.seek(io::SeekFrom::Start(start)).await?;
                f.read_exact(buf).await?;
                Ok(())
            }
            Blob::Object { .. } => {
                let want = buf.len();
                let end = start + want as u64;
                let parts: Vec<Bytes> = self.range(start..end, want.max(1)).await?.try_collect().await?;
                let mut at = 0;
                for p in parts {
                    let n = p.len().min(want - at);
                    buf[at..at + n].copy_from_slice(&p[..n]);
                    at += n;
                }
                if at != want {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "object shorter than asked",
                    ));
                }
                Ok(())
            }
        }
    }

    /// Up to `n` bytes from the start (the WAV header).
    pub(super) async fn head(&mut self, n: usize) -> io::Result<Vec<u8>> {
        let (len, _) = self.meta().await?;
        let n = (n as u64).min(len) as usize;
        let mut buf = vec![0u8; n];
        self.read_exact_at(0, &mut buf).await?;
        Ok(buf)
    }
}
