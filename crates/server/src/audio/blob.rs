//! Where the served bytes come from: the local file (the spool, or the data directory without
//! object storage) or an object in the object store (issue #10.2), read with ranged GETs. Both
//! give the same length, date and bytes, so ranges, validators and the PCM16 conversion work
//! the same for either.
//!
//! A file or object stored encrypted (issue #12.1) is wrapped in [`Blob::Sealed`]: it has the
//! plaintext's length and bytes, and a range reads and opens only the chunks it covers (in
//! batches of [`BATCH_CHUNKS`], one read or ranged GET each). A chunk that fails
//! authentication ends the read with an `InvalidData` error carrying the
//! [`SealedError`](crate::sealed::SealedError): altered audio is never sent.

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
use crate::sealed::format::{is_sealed, Chunks, Header, SealedError, HEADER_LEN, NONCE_LEN};
use crate::sealed::Vault;

/// Chunks read (and opened) per read of a sealed blob: 1 MiB of audio per ranged GET.
const BATCH_CHUNKS: u64 = 64;

pub(super) enum Blob {
    File(File),
    Sealed(Box<Sealed>),
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

/// A sealed file or object and its opened data key.
pub(super) struct Sealed {
    inner: Blob,
    chunks: Chunks,
    /// Length of the stored (sealed) bytes.
    stored_len: u64,
    /// Length of the plaintext.
    len: u64,
    /// The batch [`Blob::check_from`] authenticated, kept for the body to send without
    /// reading and opening it twice.
    checked: Option<Batch>,
}

fn sealed_io(e: SealedError) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e)
}

/// Chunks `from..=to` read in one go and opened in place: each chunk's plaintext is a slice
/// of `buf` (no copy on the way to the socket).
struct Batch {
    from: u64,
    to: u64,
    buf: Bytes,
    /// Per chunk: plaintext offset, and where its plaintext sits in `buf`.
    parts: Vec<(u64, Range<usize>)>,
}

impl Batch {
    /// The plaintext of the batch inside `range`, as slices of the buffer.
    fn clip<'a>(&'a self, range: &'a Range<u64>) -> impl Iterator<Item = Bytes> + 'a {
        self.parts.iter().filter_map(move |(start, at)| {
            let end = start + (at.end - at.start) as u64;
            let lo = range.start.max(*start);
            let hi = range.end.min(end);
            (lo < hi).then(|| {
                self.buf
                    .slice(at.start + (lo - start) as usize..at.start + (hi - start) as usize)
            })
        })
    }
}

impl Sealed {
    /// Reads chunks `from..=to` and opens them; any chunk failing authentication is an error.
    async fn load(&mut self, from: u64, to: u64) -> io::Result<Batch> {
        if let Some(b) = self.checked.take() {
            if b.from == from && b.to == to {
                return Ok(b);
            }
        }
        let n = self.chunks.count(self.len);
        let at = self.chunks.offset(from);
        let end = if to + 1 >= n {
            self.stored_len
        } else {
            self.chunks.offset(to + 1)
        };
        let mut buf = vec![0u8; (end - at) as usize];
        self.inner.read_exact_at(at, &mut buf).await?;
        let mut parts = Vec::with_capacity((to - from + 1) as usize);
        for i in from..=to {
            let s = (self.chunks.offset(i) - at) as usize;
            let e = if i == to {
                buf.len()
            } else {
                (self.chunks.offset(i + 1) - at) as usize
            };
            let plain_len = self
                .chunks
                .open_in_place(i, i + 1 == n, &mut buf[s..e])
                .map_err(sealed_io)?;
            if i + 1 < n && plain_len as u64 != self.chunks.cap(i) {
                return Err(sealed_io(SealedError::ChunkAltered { index: i }));
            }
            parts.push((self.chunks.start(i), s + NONCE_LEN..s + NONCE_LEN + plain_len));
        }
        Ok(Batch {
            from,
            to,
            buf: Bytes::from(buf),
            parts,
        })
    }

    /// The plaintext of `range` (clipped), a batch of chunks at a time.
    fn range(&mut self, range: Range<u64>) -> BoxStream<'_, io::Result<Bytes>> {
        let range = range.start.min(self.len)..range.end.min(self.len);
        async_stream::try_stream! {
            if range.start < range.end {
                let last = self.chunks.index_of(range.end - 1);
                let mut i = self.chunks.index_of(range.start);
                while i <= last {
                    let to = (i + BATCH_CHUNKS - 1).min(last);
                    let batch = self.load(i, to).await?;
                    for bytes in batch.clip(&range) {
                        yield bytes;
                    }
                    i = to + 1;
                }
            }
        }
        .boxed()
    }
}

impl Blob {
    /// This blob as its plaintext: unchanged when it is not sealed; a sealed one is opened with
    /// `vault`'s key, its shape checked and its first and last chunks authenticated.
    pub(super) async fn unsealed(mut self, vault: &Vault) -> io::Result<Blob> {
        let (stored_len, _) = self.meta().await?;
        let head = self.head(HEADER_LEN as usize).await?;
        if !is_sealed(&head) {
            return Ok(self);
        }
        let key = vault.key().ok_or_else(|| sealed_io(SealedError::NoKey))?;
        let chunks = Header::parse(&head).and_then(|h| h.open(key)).map_err(sealed_io)?;
        let len = chunks.plain_len(stored_len).map_err(sealed_io)?;
        let mut sealed = Sealed {
            inner: self,
            chunks,
            stored_len,
            len,
            checked: None,
        };
        let last = sealed.chunks.count(len) - 1;
        sealed.load(0, 0).await?;
        sealed.load(last, last).await?;
        Ok(Blob::Sealed(Box::new(sealed)))
    }

    /// Authenticates the first batch of chunks from plaintext offset `start`, so a response
    /// can still be an error when they are altered. Nothing to do for a plaintext blob.
    pub(super) async fn check_from(&mut self, start: u64) -> io::Result<()> {
        if let Blob::Sealed(s) = self {
            if start < s.len {
                let i = s.chunks.index_of(start);
                let last = s.chunks.count(s.len) - 1;
                let batch = s.load(i, (i + BATCH_CHUNKS - 1).min(last)).await?;
                s.checked = Some(batch);
            }
        }
        Ok(())
    }
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
            Blob::Sealed(s) => {
                let (_, modified) = Box::pin(s.inner.meta()).await?;
                Ok((s.len, modified))
            }
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
            Blob::Sealed(s) => Ok(s.range(range)),
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
            Blob::Object { .. } | Blob::Sealed(_) => {
                let want = buf.len();
                let end = start + want as u64;
                let parts: Vec<Bytes> = Box::pin(self.range(start..end, want.max(1)))
                    .await?
                    .try_collect()
                    .await?;
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
