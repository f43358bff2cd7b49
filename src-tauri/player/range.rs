//! A recording's audio as a seekable byte source over HTTP Range requests, for symphonia.
//!
//! One response streams from the current position (`Range: bytes=N-`) and is read as the
//! decoder asks, so playback starts with the first chunk instead of after the whole file, and
//! TCP flow control bounds how far the download runs ahead. A seek inside the next 256 KiB
//! reads forward on the same response; any other seek opens a new response at the target.
//! Reads block the calling (decoder) thread on the async client through a runtime handle.

use super::digest::StreamDigest;
use super::shared::PlayerError;
use bytes::{Buf, Bytes};
use callrec_client::{AudioFormat, Client};
use callrec_types::RecordingId;
use futures::stream::BoxStream;
use futures::StreamExt;
use std::io::{self, Read, Seek, SeekFrom};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use symphonia::core::io::MediaSource;

/// A forward seek shorter than this reads through instead of opening a new response.
const SKIP_FORWARD: u64 = 256 * 1024;
/// A response that sends nothing for this long counts as broken.
const STALL: Duration = Duration::from_secs(30);

type Body = BoxStream<'static, reqwest::Result<Bytes>>;

/// The open response: its bytes not yet read, and where they start in the file.
struct Open {
    /// A mutex only to make the source `Sync` as symphonia asks; it is never contended.
    body: std::sync::Mutex<Body>,
    pending: Bytes,
    /// File offset of `pending[0]`.
    at: u64,
}

pub struct RangeSource {
    client: Client,
    id: RecordingId,
    format: AudioFormat,
    rt: tokio::runtime::Handle,
    len: u64,
    pos: u64,
    open: Option<Open>,
    stats: Arc<RangeStats>,
    /// Hashes the file as it arrives (issue #12.3).
    digest: Arc<StreamDigest>,
}

/// What a source did on the network (the tests and the benchmark look).
#[derive(Debug, Default)]
pub struct RangeStats {
    /// HTTP requests made.
    pub requests: AtomicU32,
    /// Body bytes taken from the network.
    pub fetched: AtomicU64,
}

impl RangeSource {
    /// Opens the recording from byte 0; fails with the server's refusal (403, 404, …) or when
    /// the server cannot be reached. Must not be called on a runtime worker thread.
    pub fn open(
        client: Client,
        id: RecordingId,
        format: AudioFormat,
        rt: tokio::runtime::Handle,
    ) -> Result<RangeSource, PlayerError> {
        let mut source = RangeSource {
            client,
            id,
            format,
            rt,
            len: 0,
            pos: 0,
            open: None,
            stats: Arc::default(),
            digest: Arc::default(),
        };
        let len = source.request(0)?;
        source.len = len;
        source.digest.set_len(len);
        Ok(source)
    }

    /// Feeds what arrives into `digest` (instead of a digest of its own).
    pub fn hashing_into(mut self, digest: Arc<StreamDigest>) -> RangeSource {
        digest.set_len(self.len);
        self.digest = digest;
        self
    }

    /// The SHA-256 of the file as streamed so far ([`StreamDigest`]).
    pub fn digest(&self) -> Arc<StreamDigest> {
        self.digest.clone()
    }

    /// The file's length in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn stats(&self) -> Arc<RangeStats> {
        self.stats.clone()
    }

    /// Opens a response at `start`; returns the file's total length.
    fn request(&mut self, start: u64) -> Result<u64, PlayerError> {
        self.stats.requests.fetch_add(1, Ordering::Relaxed);
        let (client, id, format) = (self.client.clone(), self.id, self.format);
        let response = self.rt.block_on(async move {
            let response = client.audio(id, format, Some((start, None))).await?;
            callrec_client::check(response).await
        })?;
        let total = match response.status().as_u16() {
            206 => response
                .headers()
                .get(reqwest::header::CONTENT_RANGE)
                .and_then(|v| v.to_str().ok())
                .and_then(content_range_total),
            200 if start == 0 => response.content_length(),
            _ => None,
        }
        .ok_or_else(|| PlayerError::Stream("the server does not answer byte ranges".into()))?;
        self.open = Some(Open {
            body: std::sync::Mutex::new(response.bytes_stream().boxed()),
            pending: Bytes::new(),
            at: start,
        });
        Ok(total)
    }

    /// The next chunk of the open response; `None` at its end.
    fn next_chunk(&mut self) -> io::Result<Option<Bytes>> {
        let open = self.open.as_mut().expect("a response is open while reading");
        // Every caller reads the next chunk with nothing pending: it starts here in the file.
        let at = open.at + open.pending.len() as u64;
        let body = open.body.get_mut().unwrap_or_else(|poisoned| poisoned.into_inner());
        // The timer must be made inside the runtime, hence the async block.
        let next = self
            .rt
            .block_on(async { tokio::time::timeout(STALL, body.next()).await });
        match next {
            Err(_) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the server stopped sending audio",
            )),
            Ok(None) => Ok(None),
            Ok(Some(Err(e))) => Err(io::Error::other(e)),
            Ok(Some(Ok(bytes))) => {
                self.stats.fetched.fetch_add(bytes.len() as u64, Ordering::Relaxed);
                self.digest.feed(at, &bytes);
                Ok(Some(bytes))
            }
        }
    }

    /// Makes the open response start at `self.pos`.
    fn position_response(&mut self) -> io::Result<()> {
        while let Some(open) = self.open.as_mut() {
            let end = open.at + open.pending.len() as u64;
            if self.pos < open.at || self.pos > end + SKIP_FORWARD {
                break;
            }
            if self.pos < end {
                open.pending.advance((self.pos - open.at) as usize);
                open.at = self.pos;
                return Ok(());
            }
            // Read through to the target on this response.
            open.at = end;
            open.pending = Bytes::new();
            if open.at == self.pos {
                return Ok(());
            }
            match self.next_chunk()? {
                Some(bytes) => {
                    let open = self.open.as_mut().expect("still open");
                    open.pending = bytes;
                }
                None => break,
            }
        }
        self.request(self.pos).map_err(io::Error::other)?;
        Ok(())
    }
}

impl Read for RangeSource {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() || self.pos >= self.len {
            return Ok(0);
        }
        let positioned = self.open.as_ref().is_some_and(|o| o.at == self.pos);
        if !positioned {
            self.position_response()?;
        }
        if self.open.as_ref().is_some_and(|o| o.pending.is_empty()) {
            match self.next_chunk()? {
                Some(bytes) => self.open.as_mut().expect("open").pending = bytes,
                None => {
                    // The response ended early (a proxy, a restart): continue on a new one.
                    self.request(self.pos).map_err(io::Error::other)?;
                    match self.next_chunk()? {
                        Some(bytes) => self.open.as_mut().expect("open").pending = bytes,
                        None => return Ok(0),
                    }
                }
            }
        }
        let open = self.open.as_mut().expect("open");
        let n = buf.len().min(open.pending.len());
        buf[..n].copy_from_slice(&open.pending[..n]);
        open.pending.advance(n);
        open.at += n as u64;
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for RangeSource {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        let target = target.ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before the start"))?;
        self.pos = target;
        Ok(target)
    }
}

impl MediaSource for RangeSource {
    fn is_seekable(&self) -> bool {
        true
    }

    fn byte_len(&self) -> Option<u64> {
        Some(self.len)
    }
}

/// The total of `Content-Range: bytes 0-99/1234` (RFC 9110 §14.4).
fn content_range_total(value: &str) -> Option<u64> {
    let (_, total) = value.strip_prefix("bytes ")?.split_once('/')?;
    total.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_range_totals() {
        assert_eq!(content_range_total("bytes 0-99/1234"), Some(1234));
        assert_eq!(
            content_range_total("bytes 0-99/*"),
            None,
            "an unknown length is refused"
        );
        assert_eq!(content_range_total("items 0-1/2"), None);
    }
}
