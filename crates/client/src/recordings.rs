//! Recordings: metadata, the audio (whole, ranged, HEAD), a hashing download to disk, legal
//! hold and deletion.

use crate::calls::set_query;
use crate::error::ClientError;
use crate::{check, Client, Result};
use bytes::Bytes;
use callrec_types::calls::Recording;
use callrec_types::wire::HoldRequest;
use callrec_types::RecordingId;
use futures::StreamExt;
use reqwest::header::{HeaderMap, RANGE};
use reqwest::{Method, Url};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use tokio::io::AsyncWriteExt;

pub use callrec_types::wire::AudioFormat;

/// What [`Client::download_to`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadReport {
    pub bytes: u64,
    /// Lower-case hex SHA-256 of the bytes written, comparable with `Recording::sha256`.
    pub sha256_hex: String,
}

/// `bytes=start-` or `bytes=start-end` (RFC 9110 §14.1.2, `end` inclusive).
fn range_header(range: (u64, Option<u64>)) -> String {
    match range {
        (start, Some(end)) => format!("bytes={start}-{end}"),
        (start, None) => format!("bytes={start}-"),
    }
}

/// `<path>.part` beside the destination.
fn part_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".part");
    path.with_file_name(name)
}

impl Client {
    /// `GET /api/v1/recordings/{id}`: metadata incl. `sha256`, `bytes`, `duration_ms`,
    /// `trigger`.
    pub async fn get_recording(&self, id: RecordingId) -> Result<Recording> {
        self.get_json(&format!("/api/v1/recordings/{id}")).await
    }

    /// The audio route; `download` adds `download=1`, which makes the server audit the
    /// request as a download (not a play) and send it as an attachment.
    fn audio_url(&self, id: RecordingId, format: AudioFormat, download: bool) -> Url {
        let mut url = self.url(&format!("/api/v1/recordings/{id}/audio"));
        let mut query = vec![("format", format.as_str().to_string())];
        if download {
            query.push(("download", "1".to_string()));
        }
        set_query(&mut url, &query);
        url
    }

    /// `GET /api/v1/recordings/{id}/audio?format=…` with an optional `Range`
    /// (`(start, Some(end))` inclusive, `(start, None)` to the end). Returns the response
    /// whatever its status (200, 206, 416, 403 …) so that callers can read status, headers
    /// and stream the body; use [`crate::check`] to turn a non-2xx into a [`ClientError`].
    pub async fn audio(
        &self,
        id: RecordingId,
        format: AudioFormat,
        range: Option<(u64, Option<u64>)>,
    ) -> Result<reqwest::Response> {
        let mut builder = self.request(Method::GET, self.audio_url(id, format, false));
        if let Some(range) = range {
            builder = builder.header(RANGE, range_header(range));
        }
        Ok(builder.send().await?)
    }

    /// [`Client::audio`] read whole: `(status, headers, body)`, whatever the status.
    pub async fn audio_bytes(
        &self,
        id: RecordingId,
        format: AudioFormat,
        range: Option<(u64, Option<u64>)>,
    ) -> Result<(u16, HeaderMap, Bytes)> {
        let response = self.audio(id, format, range).await?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        Ok((status, headers, response.bytes().await?))
    }

    /// `HEAD /api/v1/recordings/{id}/audio?format=…`: `(status, headers)`, whatever the
    /// status.
    pub async fn audio_head(&self, id: RecordingId, format: AudioFormat) -> Result<(u16, HeaderMap)> {
        let response = self
            .request(Method::HEAD, self.audio_url(id, format, false))
            .send()
            .await?;
        Ok((response.status().as_u16(), response.headers().clone()))
    }

    /// Downloads a recording's audio to `path`, hashing as it streams: the bytes go to
    /// `<path>.part`, which is renamed to `path` only when complete (and removed on
    /// failure). `progress(done, total)` is called after every chunk, `total` from
    /// `Content-Length`. The request says `download=1`: the server audits it as a download.
    pub async fn download_to(
        &self,
        id: RecordingId,
        format: AudioFormat,
        path: &Path,
        mut progress: impl FnMut(u64, Option<u64>) + Send,
    ) -> Result<DownloadReport> {
        let response = check(
            self.request(Method::GET, self.audio_url(id, format, true))
                .send()
                .await?,
        )
        .await?;
        let part = part_path(path);
        let result = write_hashed(response, &part, &mut progress).await;
        match result {
            Ok(report) => {
                tokio::fs::rename(&part, path)
                    .await
                    .map_err(|e| ClientError::io(format!("renaming to {}", path.display()), e))?;
                Ok(report)
            }
            Err(e) => {
                // Best effort: the error that matters is the one already in hand.
                let _ = tokio::fs::remove_file(&part).await;
                Err(e)
            }
        }
    }

    /// `PUT /api/v1/recordings/{id}/hold`: sets or clears the legal hold.
    pub async fn hold_recording(&self, id: RecordingId, legal_hold: bool) -> Result<Recording> {
        self.send_body(
            Method::PUT,
            &format!("/api/v1/recordings/{id}/hold"),
            &HoldRequest { legal_hold },
        )
        .await
    }

    /// `DELETE /api/v1/recordings/{id}`.
    pub async fn delete_recording(&self, id: RecordingId) -> Result<()> {
        self.delete_path(&format!("/api/v1/recordings/{id}")).await
    }
}

async fn write_hashed(
    response: reqwest::Response,
    part: &Path,
    progress: &mut (impl FnMut(u64, Option<u64>) + Send),
) -> Result<DownloadReport> {
    let io = |e| ClientError::io(format!("writing {}", part.display()), e);
    let total = response.content_length();
    let file = tokio::fs::File::create(part).await.map_err(io)?;
    let mut file = tokio::io::BufWriter::new(file);
    let mut hasher = Sha256::new();
    let mut done = 0u64;
    let mut chunks = response.bytes_stream();
    progress(0, total);
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk?;
        hasher.update(&chunk);
        file.write_all(&chunk).await.map_err(io)?;
        done += chunk.len() as u64;
        progress(done, total);
    }
    file.flush().await.map_err(io)?;
    file.get_ref().sync_all().await.map_err(io)?;
    Ok(DownloadReport {
        bytes: done,
        sha256_hex: hex::encode(hasher.finalize()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_headers_follow_rfc_9110() {
        assert_eq!(range_header((0, Some(99))), "bytes=0-99");
        assert_eq!(range_header((100, None)), "bytes=100-");
    }

    #[test]
    fn the_part_file_sits_beside_the_destination() {
        assert_eq!(
            part_path(Path::new("/tmp/x/call_1.wav")),
            PathBuf::from("/tmp/x/call_1.wav.part")
        );
    }

    #[test]
    fn the_audio_url_carries_the_format() {
        let c = Client::new("http://h:1").expect("valid");
        assert_eq!(
            c.audio_url(RecordingId(3), AudioFormat::Pcm16, false).as_str(),
            "http://h:1/api/v1/recordings/3/audio?format=pcm16"
        );
        assert_eq!(
            c.audio_url(RecordingId(3), AudioFormat::Original, true).as_str(),
            "http://h:1/api/v1/recordings/3/audio?format=original&download=1",
            "downloads say so, to be audited as downloads"
        );
    }
}

#[cfg(test)]
mod download_tests {
    use super::*;
    use crate::test_server::{serve, Canned};

    #[tokio::test]
    async fn download_hashes_while_streaming_and_renames_when_complete() {
        let audio: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
        let mut canned = Canned::streamed(200, "audio/wav", &[&audio[..1000], &audio[1000..]]);
        canned.headers.push(("Content-Length", audio.len().to_string()));
        let (client, server) = serve(vec![
            canned,
            Canned::json(404, r#"{"code":"not_found","message":"no such recording"}"#),
        ])
        .await;
        let dir = tempfile::tempdir().expect("temp dir");
        let dest = dir.path().join("call_1.wav");
        let mut calls = Vec::new();
        let report = client
            .download_to(RecordingId(9), AudioFormat::Original, &dest, |done, total| {
                calls.push((done, total))
            })
            .await
            .expect("download succeeds");
        assert_eq!(report.bytes, audio.len() as u64);
        assert_eq!(report.sha256_hex, hex::encode(Sha256::digest(&audio)));
        assert_eq!(std::fs::read(&dest).expect("file written"), audio);
        assert!(!part_path(&dest).exists(), "the .part file is renamed away");
        assert_eq!(calls.first(), Some(&(0, Some(70_000))), "progress starts at zero");
        assert_eq!(calls.last(), Some(&(70_000, Some(70_000))), "progress ends complete");

        let other = dir.path().join("missing.wav");
        let err = client
            .download_to(RecordingId(10), AudioFormat::Pcm16, &other, |_, _| {})
            .await
            .expect_err("404 is an error");
        assert_eq!(err.code(), Some(callrec_types::wire::ErrorCode::NotFound));
        assert!(!other.exists() && !part_path(&other).exists(), "nothing is left behind");

        let requests = server.await.expect("server ran");
        assert_eq!(
            requests[0].request_line(),
            "GET /api/v1/recordings/9/audio?format=original&download=1 HTTP/1.1"
        );
        assert_eq!(requests[0].header("range"), None);
    }

    #[tokio::test]
    async fn ranged_audio_is_returned_raw_whatever_the_status() {
        let mut partial = Canned::streamed(206, "audio/wav", &[b"RIFF"]);
        partial.headers.push(("Content-Range", "bytes 0-3/100".to_string()));
        partial.headers.push(("Content-Length", "4".to_string()));
        let (client, server) = serve(vec![partial, Canned::empty(416)]).await;
        let (status, headers, body) = client
            .audio_bytes(RecordingId(1), AudioFormat::Original, Some((0, Some(3))))
            .await
            .expect("reachable");
        assert_eq!((status, body.as_ref()), (206, b"RIFF".as_ref()));
        assert_eq!(
            headers.get("content-range").and_then(|v| v.to_str().ok()),
            Some("bytes 0-3/100")
        );
        let response = client
            .audio(RecordingId(1), AudioFormat::Pcm16, Some((500, None)))
            .await
            .expect("reachable");
        assert_eq!(response.status().as_u16(), 416, "a 416 is handed back, not an error");
        let requests = server.await.expect("server ran");
        assert_eq!(requests[0].header("range"), Some("bytes=0-3"));
        assert_eq!(requests[1].header("range"), Some("bytes=500-"));
    }
}
