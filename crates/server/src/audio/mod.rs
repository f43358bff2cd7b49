//! Serving one recording's audio over HTTP: the body of
//! `GET/HEAD /api/v1/recordings/{id}/audio?format=original|pcm16[&download=1]`.
//!
//! The route handler resolves the recording and checks permission; [`respond`] does the HTTP
//! part: validators (`ETag`, `Last-Modified`), conditional requests (RFC 9110 §13), byte
//! ranges (RFC 9110 §14) and streaming from disk in bounded chunks, so a one-hour recording
//! (~60 MB) never sits in memory.
//!
//! `format=pcm16` serves a G.711 recording as a 16-bit PCM WAV converted on the fly by
//! [`callrec_media::wav::Pcm16Transcoder`]: the output length is known from the header
//! alone (44-byte header + 2 × the G.711 data), and output data byte `k` comes from source
//! data byte `k / 2`, so `Content-Length` and every range are exact without converting
//! anything before the requested bytes.
//!
//! Choices where the RFC leaves room, and why:
//! - Several ranges are answered with `multipart/byteranges` (RFC 9110 §14.6), in the
//!   order requested. More than [`MAX_RANGES`] ranges are refused with 416, and ranges whose
//!   total exceeds the representation (overlaps asking for the file many times over) are
//!   ignored in favour of one 200: both bound what a single request can make us send.
//! - `HEAD` gets exactly the headers the same `GET` would, Range included (as Apache and
//!   nginx do), so a client can probe a range's `Content-Range` before fetching it.
//! - A `Range` that does not parse (an unknown unit, `bytes=5-2`, which §14.1.1 calls
//!   invalid, numbers that overflow) is ignored and the whole file sent with 200: §14.2
//!   lets a server ignore Range, and 416 would wrongly say the bytes lie past the end.
//! - `If-Modified-Since` and a date in `If-Range` are honoured only for finished recordings
//!   (known SHA-256): a recording in progress changes within the one-second resolution of
//!   HTTP dates, so only its entity tag (size + modification time) can validate it.

//!
//! With object storage (issue #10.2) an uploaded recording is served from its object with
//! ranged GETs ([`respond_object`]); everything above is the same for it.
//!
//! The pieces, by noun: `blob` (the local file or the object the bytes come from), `digest`
//! (the SHA-256 of what is served, for the evidence chain), `ranges` (the `Range` header), `conditional` (entity tags, the
//! `If-*` headers and HTTP dates), `source` (the file and the format asked for),
//! `representation` (what is served and its validators, the entity tag among them) and
//! `body` (streaming, `multipart/byteranges`, the PCM16 conversion on the way out); `plain`
//! reads a recording's plaintext whole for analysis (the waveform peaks).

mod blob;
mod body;
mod conditional;
mod digest;
mod plain;
mod ranges;
mod representation;
mod source;

use std::io;

use axum::response::Response;
use http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use tokio::fs::File;

pub use digest::stored_sha256;
pub use plain::PlainAudio;
pub use ranges::MAX_RANGES;
pub use source::{AudioFormat, AudioSource, UnknownAudioFormat};

use blob::Blob;
use body::{empty, with_body, Multipart, Part};
use conditional::{http_date, if_range_allows, preconditions, Precondition};
use ranges::{content_range, requested_ranges, RangeRequest};
use representation::Representation;

/// Size of the chunks the body is read, converted and sent in.
pub const CHUNK_BYTES: usize = 64 * 1024;

/// Answers a `GET` or `HEAD` for `src` in `format`, honouring conditional and range
/// headers. Any method other than `HEAD` is answered like `GET`.
///
/// Errors are I/O errors opening or reading the file; a stored file that is not a WAV the
/// transcoder understands is [`io::ErrorKind::InvalidData`] (only for `Pcm16`). Once the
/// body is streaming, a read error aborts the response instead of sending short content.
pub async fn respond(
    src: &AudioSource,
    format: AudioFormat,
    download: bool,
    method: &Method,
    headers: &HeaderMap,
) -> io::Result<Response> {
    respond_in_chunks(src, format, download, method, headers, CHUNK_BYTES).await
}

/// [`respond`] for a recording uploaded to the object store (issue #10.2): the object `rel`
/// is read with ranged GETs, and everything else — validators, conditional requests, ranges,
/// PCM16 — is the same. `src.path` is not used. A missing object is
/// [`io::ErrorKind::NotFound`], like a missing file.
pub async fn respond_object(
    objects: std::sync::Arc<crate::objects::Objects>,
    rel: &str,
    src: &AudioSource,
    format: AudioFormat,
    download: bool,
    method: &Method,
    headers: &HeaderMap,
) -> io::Result<Response> {
    let blob = Blob::object(objects, rel).await?.unsealed(&src.vault).await?;
    respond_blob(blob, src, format, download, method, headers, CHUNK_BYTES).await
}

/// [`respond`] with a chosen chunk size, so tests can cross chunk boundaries cheaply.
async fn respond_in_chunks(
    src: &AudioSource,
    format: AudioFormat,
    download: bool,
    method: &Method,
    headers: &HeaderMap,
    chunk: usize,
) -> io::Result<Response> {
    let file = Blob::File(File::open(&src.path).await?).unsealed(&src.vault).await?;
    respond_blob(file, src, format, download, method, headers, chunk).await
}

async fn respond_blob(
    mut file: Blob,
    src: &AudioSource,
    format: AudioFormat,
    download: bool,
    method: &Method,
    headers: &HeaderMap,
    chunk: usize,
) -> io::Result<Response> {
    let rep = Representation::open(&mut file, src, format).await?;
    if method != Method::HEAD {
        // An altered sealed file is refused with an error status before any byte is sent
        // when the damage is where the response starts (the rest fails the stream).
        let start = match requested_ranges(headers, rep.len) {
            RangeRequest::Ranges(r) if if_range_allows(headers, &rep) => r.first().map_or(0, |r| r.start),
            _ => 0,
        };
        let start = match &rep.transcoder {
            Some(t) => t.source_range(start..start + 1).start,
            None => start,
        };
        file.check_from(start).await?;
    }

    let mut common = HeaderMap::new();
    common.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    common.insert(header::CACHE_CONTROL, HeaderValue::from_static("private"));
    common.insert(header::ETAG, header_value(rep.etag.quoted())?);
    if let Some(lm) = rep.last_modified {
        common.insert(header::LAST_MODIFIED, header_value(http_date(lm))?);
    }

    match preconditions(headers, &rep) {
        Precondition::Proceed => {}
        Precondition::NotModified => return Ok(empty(StatusCode::NOT_MODIFIED, common)),
        Precondition::Failed => return Ok(empty(StatusCode::PRECONDITION_FAILED, common)),
    }

    if download {
        common.insert(
            header::CONTENT_DISPOSITION,
            header_value(format!(
                "attachment; filename=\"{}\"",
                download_name(&src.file_name, format)
            ))?,
        );
    }

    let ranges = if if_range_allows(headers, &rep) {
        requested_ranges(headers, rep.len)
    } else {
        RangeRequest::Full
    };
    let head_only = method == Method::HEAD;
    let wav = HeaderValue::from_static("audio/wav");
    match ranges {
        RangeRequest::Full => {
            let mut headers = common;
            headers.insert(header::CONTENT_TYPE, wav);
            headers.insert(header::CONTENT_LENGTH, HeaderValue::from(rep.len));
            let parts = vec![Part {
                head: None,
                range: 0..rep.len,
            }];
            Ok(with_body(
                StatusCode::OK,
                headers,
                head_only,
                file,
                rep,
                parts,
                None,
                chunk,
            ))
        }
        RangeRequest::Unsatisfiable => {
            let mut headers = common;
            headers.insert(header::CONTENT_RANGE, header_value(format!("bytes */{}", rep.len))?);
            headers.insert(header::CONTENT_LENGTH, HeaderValue::from(0u64));
            Ok(empty(StatusCode::RANGE_NOT_SATISFIABLE, headers))
        }
        RangeRequest::Ranges(ranges) if ranges.len() == 1 => {
            let range = ranges[0].clone();
            let mut headers = common;
            headers.insert(header::CONTENT_TYPE, wav);
            headers.insert(header::CONTENT_RANGE, header_value(content_range(&range, rep.len))?);
            headers.insert(header::CONTENT_LENGTH, HeaderValue::from(range.end - range.start));
            let parts = vec![Part { head: None, range }];
            Ok(with_body(
                StatusCode::PARTIAL_CONTENT,
                headers,
                head_only,
                file,
                rep,
                parts,
                None,
                chunk,
            ))
        }
        RangeRequest::Ranges(ranges) => {
            let multipart = Multipart::new(ranges, rep.len);
            let mut headers = common;
            headers.insert(header::CONTENT_TYPE, header_value(multipart.content_type)?);
            headers.insert(header::CONTENT_LENGTH, HeaderValue::from(multipart.len));
            Ok(with_body(
                StatusCode::PARTIAL_CONTENT,
                headers,
                head_only,
                file,
                rep,
                multipart.parts,
                Some(multipart.trailer),
                chunk,
            ))
        }
    }
}

/// The answer to a failed read of recording `id`'s audio, for every route that reads it: a
/// missing file (and object) is `410 file_missing`, a sealed file failing its integrity check
/// `500 recording_altered` (logged; never its bytes), anything else internal.
pub fn read_error(id: callrec_types::RecordingId, e: io::Error) -> crate::error::ApiError {
    use crate::error::ApiError;
    use callrec_types::wire::ErrorCode;
    if e.kind() == io::ErrorKind::NotFound {
        ApiError::new(
            StatusCode::GONE,
            ErrorCode::FileMissing,
            "the recording's file is missing from the server's disk",
        )
    } else if crate::sealed::sealed_error(&e).is_some() {
        tracing::error!(recording = %id, error = %e, "a stored recording fails its integrity check; not served");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::RecordingAltered,
            format!("the recording's stored file fails its integrity check and is not served: {e}"),
        )
    } else {
        e.into()
    }
}

/// The `filename` of `Content-Disposition`: the server-built name, restricted to
/// characters that need no quoting or encoding in any browser.
fn download_name(file_name: &str, format: AudioFormat) -> String {
    let safe: String = file_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let stem = match safe.len().checked_sub(4) {
        Some(i) if safe[i..].eq_ignore_ascii_case(".wav") => &safe[..i],
        _ => safe.as_str(),
    };
    let stem = if stem.trim_matches(['.', '_']).is_empty() {
        "recording"
    } else {
        stem
    };
    match format {
        AudioFormat::Original => format!("{stem}.wav"),
        AudioFormat::Pcm16 => format!("{stem}_pcm16.wav"),
    }
}

fn header_value(s: String) -> io::Result<HeaderValue> {
    HeaderValue::try_from(s).map_err(io::Error::other)
}

#[cfg(test)]
mod tests {
    //! Helpers shared by the audio unit tests, and the tests of [`respond`] itself.

    use super::*;
    use callrec_media::g711::Law;
    use callrec_media::wav::{wav_header, Codec};
    use http::HeaderName;

    pub(super) fn headers(pairs: &[(HeaderName, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(k.clone(), HeaderValue::from_str(v).expect("test header"));
        }
        h
    }

    /// A G.711 WAV on disk and its full PCM16 conversion, computed independently.
    pub(super) fn g711_fixture(
        law: Law,
        channels: u16,
        data: &[u8],
    ) -> (tempfile::TempDir, AudioSource, Vec<u8>, Vec<u8>) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("rec.wav");
        let mut file = wav_header(law.into(), 8000, channels, data.len() as u32);
        file.extend_from_slice(data);
        std::fs::write(&path, &file).expect("write fixture");
        let mut pcm = wav_header(Codec::Pcm16, 8000, channels, 2 * data.len() as u32);
        for b in data {
            pcm.extend_from_slice(&law.decode(*b).to_le_bytes());
        }
        let src = AudioSource {
            path,
            sha256: String::new(),
            file_name: "rec.wav".into(),
            vault: Default::default(),
        };
        (dir, src, file, pcm)
    }

    pub(super) async fn fetch(
        src: &AudioSource,
        format: AudioFormat,
        h: &HeaderMap,
        chunk: usize,
    ) -> (StatusCode, HeaderMap, Vec<u8>) {
        let r = respond_in_chunks(src, format, false, &Method::GET, h, chunk)
            .await
            .expect("respond");
        let (parts, body) = r.into_parts();
        let body = axum::body::to_bytes(body, usize::MAX).await.expect("body");
        (parts.status, parts.headers, body.to_vec())
    }

    pub(super) fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
    }

    #[test]
    fn download_names_are_safe_and_mark_pcm16() {
        assert_eq!(
            download_name("20261126-101500-42_001.wav", AudioFormat::Original),
            "20261126-101500-42_001.wav"
        );
        assert_eq!(
            download_name("20261126-101500-42_001.wav", AudioFormat::Pcm16),
            "20261126-101500-42_001_pcm16.wav"
        );
        assert_eq!(
            download_name("a\"b\r\n.WAV", AudioFormat::Original),
            "a_b__.wav",
            "quotes and CR/LF replaced"
        );
        assert_eq!(
            download_name("Müller", AudioFormat::Pcm16),
            "M_ller_pcm16.wav",
            "non-ASCII replaced"
        );
        assert_eq!(download_name("", AudioFormat::Original), "recording.wav", "empty");
        assert_eq!("pcm16".parse::<AudioFormat>(), Ok(AudioFormat::Pcm16));
        assert!("mp3".parse::<AudioFormat>().is_err(), "unknown format");
    }

    #[tokio::test]
    async fn head_sends_the_get_headers_without_a_body() {
        let (_dir, src, file, _) = g711_fixture(Law::Alaw, 1, &[1, 2, 3, 4]);
        let h = headers(&[(header::RANGE, "bytes=2-")]);
        let r = respond(&src, AudioFormat::Original, true, &Method::HEAD, &h)
            .await
            .expect("respond");
        assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT, "HEAD honours Range like GET");
        let want = (file.len() - 2).to_string();
        let h = r.headers().clone();
        assert_eq!(
            h.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()),
            Some(want.as_str())
        );
        assert_eq!(h.get(header::ACCEPT_RANGES), Some(&HeaderValue::from_static("bytes")));
        assert_eq!(h.get(header::CACHE_CONTROL), Some(&HeaderValue::from_static("private")));
        assert_eq!(
            h.get(header::CONTENT_DISPOSITION),
            Some(&HeaderValue::from_static("attachment; filename=\"rec.wav\"")),
        );
        assert!(h.contains_key(header::LAST_MODIFIED), "Last-Modified");
        let body = axum::body::to_bytes(r.into_body(), usize::MAX).await.expect("body");
        assert!(body.is_empty(), "no body");
    }
    /// Issue #12.1: a sealed file serves its plaintext, whole, by ranges across chunk
    /// boundaries and as PCM16; an altered chunk is an error, not bytes.
    #[tokio::test]
    async fn a_sealed_file_serves_its_plaintext_and_refuses_an_altered_chunk() {
        use crate::sealed::{MasterKey, StoredFile, Vault};
        use std::io::Write;
        let data: Vec<u8> = (0..50_000u32).map(|i| (i * 31 % 251) as u8).collect();
        let (_dir, mut src, file, pcm) = g711_fixture(Law::Ulaw, 2, &data);
        let vault = Vault::new(Some(MasterKey::from_bytes([7; 32])));
        let out = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .truncate(true)
            .open(&src.path)
            .expect("reopen");
        let mut sealed = vault.create(out).expect("sealed");
        sealed.write_all(&file).expect("write");
        sealed.flush().expect("flush");
        drop::<StoredFile>(sealed);
        src.vault = vault;
        let (status, _, body) = fetch(&src, AudioFormat::Original, &HeaderMap::new(), 4096).await;
        assert_eq!((status, body.len()), (StatusCode::OK, file.len()), "whole");
        assert!(body == file, "whole read is the plaintext");
        for (a, b) in [
            (0usize, 63usize),
            (60, 70),
            (64 + 16_384 - 3, 64 + 16_384 + 3),
            (20_000, 49_999),
        ] {
            let h = headers(&[(header::RANGE, &format!("bytes={a}-{b}"))]);
            let (status, _, body) = fetch(&src, AudioFormat::Original, &h, 4096).await;
            assert_eq!(status, StatusCode::PARTIAL_CONTENT, "range {a}-{b}");
            assert!(body == file[a..=b], "range {a}-{b} is the plaintext");
        }
        let (_, _, body) = fetch(&src, AudioFormat::Pcm16, &HeaderMap::new(), 4096).await;
        assert!(body == pcm, "PCM16 of the plaintext");
        let mut stored = std::fs::read(&src.path).expect("read");
        stored[96 + 104 + 16_424 + 500] ^= 1;
        std::fs::write(&src.path, &stored).expect("tamper");
        let err = respond(&src, AudioFormat::Original, false, &Method::GET, &HeaderMap::new())
            .await
            .expect_err("an altered chunk is refused");
        assert!(
            crate::sealed::sealed_error(&err).is_some(),
            "a sealed-file error: {err}"
        );
    }
}
