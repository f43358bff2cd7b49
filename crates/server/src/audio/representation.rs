//! What one request is served: the stored file or its PCM16 rendition, its length, and its
//! validators (entity tag and `Last-Modified`).

use std::io;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::blob::Blob;
use super::source::{AudioFormat, AudioSource};
use callrec_media::wav::{Codec, Pcm16Transcoder, WavInfo, MAX_HEADER_LEN};

/// Bumped whenever the PCM16 rendition of the same source could change (header layout,
/// G.711 tables), so a cached PCM16 file is never revalidated against different bytes.
const PCM16_RENDITION: &str = "pcm16v1";

/// A strong entity tag's opaque value, without quotes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ETag(pub(super) String);

impl ETag {
    pub(super) fn quoted(&self) -> String {
        format!("\"{}\"", self.0)
    }
}

/// What is served for one request: its length, how its bytes are made, its validators.
pub(super) struct Representation {
    pub(super) len: u64,
    pub(super) transcoder: Option<Pcm16Transcoder>,
    pub(super) etag: ETag,
    pub(super) last_modified: Option<SystemTime>,
    /// The SHA-256 is known, so the file no longer changes.
    pub(super) finished: bool,
}

impl Representation {
    pub(super) async fn open(file: &mut Blob, src: &AudioSource, format: AudioFormat) -> io::Result<Representation> {
        let transcoder = match format {
            AudioFormat::Original => None,
            AudioFormat::Pcm16 => {
                // The header before the length: a recording in progress appends audio and
                // then patches the header, so the file is at least as long as it says.
                let head = file.head(MAX_HEADER_LEN).await?;
                let (file_len, _) = file.meta().await?;
                let info = WavInfo::parse_with_file_len(&head, file_len)
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
                if info.codec == Codec::Pcm16 {
                    None
                } else {
                    Some(Pcm16Transcoder::new(&info).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?)
                }
            }
        };
        let (meta_len, modified) = file.meta().await?;
        let len = transcoder.as_ref().map_or(meta_len, Pcm16Transcoder::output_len);
        // A modification time in the future (clock skew) would make the date useless for
        // If-Modified-Since; RFC 9110 §8.8.2.1 says to send the current time instead.
        let last_modified = modified.map(|m| m.min(SystemTime::now()));
        let rendition = if transcoder.is_some() { PCM16_RENDITION } else { "orig" };
        let finished = is_sha256_hex(&src.sha256);
        let etag = if finished {
            ETag(format!("{}-{rendition}", src.sha256.to_ascii_lowercase()))
        } else {
            let since = modified
                .and_then(|m| m.duration_since(UNIX_EPOCH).ok())
                .unwrap_or(Duration::ZERO);
            ETag(format!(
                "{:x}-{:x}.{:x}-{rendition}",
                meta_len,
                since.as_secs(),
                since.subsec_nanos()
            ))
        };
        Ok(Representation {
            len,
            transcoder,
            etag,
            last_modified,
            finished,
        })
    }
}

fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::respond;
    use crate::audio::tests::{fetch, g711_fixture, headers};
    use callrec_media::g711::Law;
    use callrec_media::wav::wav_header;
    use http::{header, HeaderMap, HeaderValue, Method, StatusCode};

    #[tokio::test]
    async fn etags_follow_sha256_and_rendition_and_revalidate() {
        let (_dir, mut src, file, _) = g711_fixture(Law::Ulaw, 1, &[9, 8, 7, 6]);
        let (_, h, _) = fetch(&src, AudioFormat::Original, &HeaderMap::new(), 64).await;
        let unfinished = h.get(header::ETAG).cloned().expect("etag");
        assert!(
            unfinished
                .to_str()
                .expect("ascii")
                .starts_with(&format!("\"{:x}-", file.len())),
            "size+mtime tag"
        );

        src.sha256 = "AB".repeat(32);
        let (_, h, _) = fetch(&src, AudioFormat::Original, &HeaderMap::new(), 64).await;
        let orig = h.get(header::ETAG).cloned().expect("etag");
        assert_eq!(
            orig,
            HeaderValue::from_str(&format!("\"{}-orig\"", "ab".repeat(32))).expect("tag")
        );
        let (_, h, _) = fetch(&src, AudioFormat::Pcm16, &HeaderMap::new(), 64).await;
        let pcm = h.get(header::ETAG).cloned().expect("etag");
        assert_ne!(orig, pcm, "renditions have different tags");

        let inm = headers(&[(header::IF_NONE_MATCH, orig.to_str().expect("ascii"))]);
        let (status, h, body) = fetch(&src, AudioFormat::Original, &inm, 64).await;
        assert_eq!(status, StatusCode::NOT_MODIFIED, "revalidated");
        assert!(
            body.is_empty() && h.contains_key(header::ETAG),
            "304 carries the tag, no body"
        );

        // If-Range with a stale tag: the whole file, not the range.
        let stale = headers(&[(header::RANGE, "bytes=0-1"), (header::IF_RANGE, "\"stale\"")]);
        let (status, _, body) = fetch(&src, AudioFormat::Original, &stale, 64).await;
        assert_eq!(
            (status, body),
            (StatusCode::OK, file.clone()),
            "stale If-Range sends everything"
        );
        let fresh = headers(&[
            (header::RANGE, "bytes=0-1"),
            (header::IF_RANGE, pcm.to_str().expect("ascii")),
        ]);
        let (status, _, body) = fetch(&src, AudioFormat::Pcm16, &fresh, 64).await;
        assert_eq!(
            (status, body.len()),
            (StatusCode::PARTIAL_CONTENT, 2),
            "matching If-Range honours Range"
        );
    }

    #[tokio::test]
    async fn pcm16_of_a_pcm16_file_is_the_original() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("pcm.wav");
        let mut file = wav_header(Codec::Pcm16, 8000, 1, 4);
        file.extend_from_slice(&[1, 0, 2, 0]);
        std::fs::write(&path, &file).expect("write");
        let src = AudioSource {
            path,
            sha256: String::new(),
            file_name: "x.wav".into(),
            vault: Default::default(),
        };
        let (status, h1, body) = fetch(&src, AudioFormat::Pcm16, &HeaderMap::new(), 64).await;
        assert_eq!((status, body), (StatusCode::OK, file), "served as stored");
        let (_, h2, _) = fetch(&src, AudioFormat::Original, &HeaderMap::new(), 64).await;
        assert_eq!(h1.get(header::ETAG), h2.get(header::ETAG), "same bytes, same tag");
    }

    #[tokio::test]
    async fn a_file_that_is_not_a_wav_is_invalid_data_for_pcm16() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("junk.wav");
        std::fs::write(&path, b"not a wav file at all").expect("write");
        let src = AudioSource {
            path,
            sha256: String::new(),
            file_name: "x.wav".into(),
            vault: Default::default(),
        };
        let err = respond(&src, AudioFormat::Pcm16, false, &Method::GET, &HeaderMap::new())
            .await
            .expect_err("refused");
        assert_eq!(err.kind(), io::ErrorKind::InvalidData, "invalid data");
        let (status, _, _) = fetch(&src, AudioFormat::Original, &HeaderMap::new(), 64).await;
        assert_eq!(status, StatusCode::OK, "the original is served as it is");
    }
}
