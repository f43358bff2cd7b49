//! The response bodies: each part (with its `multipart/byteranges` head when there are
//! several ranges) streamed from disk in bounded chunks, converted to PCM16 on the way when
//! the representation asks for it; and the bodiless responses (304, 412, 416, `HEAD`).

use std::io;
use std::ops::Range;

use axum::body::Body;
use axum::response::Response;
use bytes::{Bytes, BytesMut};
use callrec_media::wav::Pcm16Transcoder;
use futures::StreamExt;
use http::{HeaderMap, StatusCode};

use super::blob::Blob;
use super::ranges::content_range;
use super::representation::Representation;

pub(super) fn empty(status: StatusCode, headers: HeaderMap) -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    response
}

/// One part of the body: an optional multipart header, then bytes of the representation.
pub(super) struct Part {
    pub(super) head: Option<Bytes>,
    pub(super) range: Range<u64>,
}

/// A `multipart/byteranges` body (RFC 9110 §14.6): one part per range, in request order,
/// each headed by the boundary, its type and its `Content-Range`.
pub(super) struct Multipart {
    /// The `Content-Type` value, which names the boundary.
    pub(super) content_type: String,
    /// The parts, each with its head.
    pub(super) parts: Vec<Part>,
    /// The closing boundary.
    pub(super) trailer: Bytes,
    /// The exact body length, for `Content-Length`.
    pub(super) len: u64,
}

impl Multipart {
    /// Lays out `ranges` of a representation of `total` bytes under a random boundary.
    pub(super) fn new(ranges: Vec<Range<u64>>, total: u64) -> Multipart {
        let boundary = format!("callrec-{:016x}{:016x}", rand::random::<u64>(), rand::random::<u64>());
        let parts: Vec<Part> = ranges
            .into_iter()
            .map(|range| Part {
                head: Some(Bytes::from(format!(
                    "\r\n--{boundary}\r\nContent-Type: audio/wav\r\nContent-Range: {}\r\n\r\n",
                    content_range(&range, total)
                ))),
                range,
            })
            .collect();
        let trailer = Bytes::from(format!("\r\n--{boundary}--\r\n"));
        let len = parts
            .iter()
            .map(|p| p.head.as_ref().map_or(0, |h| h.len() as u64) + (p.range.end - p.range.start))
            .sum::<u64>()
            + trailer.len() as u64;
        Multipart {
            content_type: format!("multipart/byteranges; boundary={boundary}"),
            parts,
            trailer,
            len,
        }
    }
}

#[allow(clippy::too_many_arguments)] // one call site per status; a struct would only rename them
pub(super) fn with_body(
    status: StatusCode,
    headers: HeaderMap,
    head_only: bool,
    file: Blob,
    rep: Representation,
    parts: Vec<Part>,
    trailer: Option<Bytes>,
    chunk: usize,
) -> Response {
    let body = if head_only {
        Body::empty()
    } else {
        Body::from_stream(body_stream(file, rep.transcoder, parts, trailer, chunk))
    };
    let mut response = Response::new(body);
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    response
}

/// The body: each part's head, then its bytes read (and for PCM16 converted) `chunk` at a
/// time. A file shorter than planned ends the stream with an error, never with short data.
fn body_stream(
    mut file: Blob,
    transcoder: Option<Pcm16Transcoder>,
    parts: Vec<Part>,
    trailer: Option<Bytes>,
    chunk: usize,
) -> impl futures::Stream<Item = io::Result<Bytes>> + Send {
    async_stream::try_stream! {
        let mut source = Vec::new();
        for part in parts {
            if let Some(head) = part.head {
                yield head;
            }
            let want = part.range.end - part.range.start;
            match &transcoder {
                None => {
                    let mut sent = 0u64;
                    let mut bytes = file.range(part.range.clone(), chunk).await?;
                    while let Some(bytes) = bytes.next().await {
                        let bytes = bytes?;
                        sent += bytes.len() as u64;
                        yield bytes;
                    }
                    if sent != want {
                        Err::<(), _>(io::Error::new(io::ErrorKind::UnexpectedEof, "recording shorter than its length"))?;
                    }
                }
                Some(t) => {
                    let mut pos = part.range.start;
                    while pos < part.range.end {
                        let n = usize::try_from(part.range.end - pos).map_or(chunk, |left| left.min(chunk));
                        let src = t.source_range(pos..pos + n as u64);
                        source.resize(usize::try_from(src.end - src.start).map_err(io::Error::other)?, 0);
                        if !source.is_empty() {
                            file.read_exact_at(src.start, &mut source).await?;
                        }
                        let mut out = BytesMut::zeroed(n);
                        let written = t.fill(pos, &source, &mut out);
                        if written != n {
                            Err::<(), _>(io::Error::new(io::ErrorKind::UnexpectedEof, "recording shorter than its length"))?;
                        }
                        pos += n as u64;
                        yield out.freeze();
                    }
                }
            }
        }
        if let Some(trailer) = trailer {
            yield trailer;
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::audio::tests::{fetch, g711_fixture, headers, runtime};
    use crate::audio::AudioFormat;
    use callrec_media::g711::Law;
    use http::{header, HeaderMap, HeaderValue, StatusCode};
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn pcm16_ranges_equal_slices_of_the_full_conversion(
            data in proptest::collection::vec(any::<u8>(), 0..600),
            stereo in any::<bool>(),
            alaw in any::<bool>(),
            a in 0u64..1400,
            span in 1u64..1400,
            chunk in 1usize..200,
        ) {
            let channels = if stereo { 2 } else { 1 };
            let mut data = data;
            data.truncate(data.len() - data.len() % usize::from(channels));
            let law = if alaw { Law::Alaw } else { Law::Ulaw };
            let (_dir, src, _file, pcm) = g711_fixture(law, channels, &data);
            let len = pcm.len() as u64;
            let rt = runtime();

            let (status, h, body) = rt.block_on(fetch(&src, AudioFormat::Pcm16, &HeaderMap::new(), chunk));
            prop_assert_eq!(status, StatusCode::OK);
            let want_len = len.to_string();
            prop_assert_eq!(h.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()), Some(want_len.as_str()));
            prop_assert_eq!(&body, &pcm, "whole file");

            let last = a + span - 1;
            let range = headers(&[(header::RANGE, &format!("bytes={a}-{last}"))]);
            let (status, h, body) = rt.block_on(fetch(&src, AudioFormat::Pcm16, &range, chunk));
            if a >= len {
                prop_assert_eq!(status, StatusCode::RANGE_NOT_SATISFIABLE);
                let want = format!("bytes */{len}");
                prop_assert_eq!(h.get(header::CONTENT_RANGE).and_then(|v| v.to_str().ok()), Some(want.as_str()));
            } else {
                let end = (last + 1).min(len);
                prop_assert_eq!(status, StatusCode::PARTIAL_CONTENT);
                let want = format!("bytes {a}-{}/{len}", end - 1);
                prop_assert_eq!(h.get(header::CONTENT_RANGE).and_then(|v| v.to_str().ok()), Some(want.as_str()));
                prop_assert_eq!(&body[..], &pcm[a as usize..end as usize], "range {}-{}", a, last);
            }
        }
    }

    #[tokio::test]
    async fn multipart_byteranges_carry_each_range() {
        let data: Vec<u8> = (0..=255).collect();
        let (_dir, src, file, _) = g711_fixture(Law::Ulaw, 2, &data);
        let len = file.len();
        let h = headers(&[(header::RANGE, "bytes=0-3, -4")]);
        let (status, h, body) = fetch(&src, AudioFormat::Original, &h, 3).await;
        assert_eq!(status, StatusCode::PARTIAL_CONTENT, "206");
        let ct = h
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .expect("content type");
        let boundary = ct.strip_prefix("multipart/byteranges; boundary=").expect("multipart");
        let mut want = Vec::new();
        for (a, b) in [(0, 4), (len - 4, len)] {
            want.extend_from_slice(
                format!(
                    "\r\n--{boundary}\r\nContent-Type: audio/wav\r\nContent-Range: bytes {a}-{}/{len}\r\n\r\n",
                    b - 1
                )
                .as_bytes(),
            );
            want.extend_from_slice(&file[a..b]);
        }
        want.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        assert_eq!(body, want, "multipart body");
        assert_eq!(
            h.get(header::CONTENT_LENGTH),
            Some(&HeaderValue::from(want.len())),
            "exact length"
        );
    }
}
