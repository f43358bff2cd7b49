//! Downloads: a recording streamed to a file the user chose (`original` or `pcm16`), with
//! progress events, cancellation, and the SHA-256 of the original checked against the
//! server's. The bytes go to `<file>.part` and are renamed only when complete and verified,
//! so a cancelled or failed download never leaves a file that looks finished.

use crate::error::{AppError, AppResult, ErrorCode};
use callrec_client::{AudioFormat, Client};
use callrec_types::RecordingId;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;
use ts_rs::TS;

/// Progress events are sent at most this often (and always at start and end).
const PROGRESS_EVERY: Duration = Duration::from_millis(100);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum DownloadFormat {
    /// The stored file as recorded (G.711 WAV).
    Original,
    /// 16-bit PCM WAV, converted by the server on the fly.
    Pcm16,
}

impl From<DownloadFormat> for AudioFormat {
    fn from(f: DownloadFormat) -> AudioFormat {
        match f {
            DownloadFormat::Original => AudioFormat::Original,
            DownloadFormat::Pcm16 => AudioFormat::Pcm16,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct DownloadRequest {
    /// Chosen by the window, so it can match progress events and cancel.
    pub download_id: String,
    pub recording_id: RecordingId,
    pub format: DownloadFormat,
    pub path: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct DownloadProgress {
    pub download_id: String,
    pub done: u64,
    pub total: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct DownloadResult {
    pub download_id: String,
    pub path: String,
    pub bytes: u64,
    pub sha256: String,
    /// `true` when the SHA-256 equals the server's (only the original has one: `pcm16` is made
    /// on the fly, so it is `false` there and the window says so).
    pub verified: bool,
}

/// Where a download reports its progress (the app turns it into a UI event).
pub type OnProgress = Arc<dyn Fn(DownloadProgress) + Send + Sync>;

/// The downloads in flight, by id, so they can be cancelled.
pub struct Downloads {
    running: Mutex<HashMap<String, CancellationToken>>,
    on_progress: OnProgress,
}

impl Downloads {
    pub fn new(on_progress: OnProgress) -> Downloads {
        Downloads {
            running: Mutex::default(),
            on_progress,
        }
    }

    pub fn cancel(&self, download_id: &str) -> bool {
        match self.running.lock().expect("downloads lock").get(download_id) {
            Some(token) => {
                token.cancel();
                true
            }
            None => false,
        }
    }

    pub fn cancel_all(&self) {
        for token in self.running.lock().expect("downloads lock").values() {
            token.cancel();
        }
    }

    /// Runs one download to completion, failure or cancellation.
    pub async fn run(&self, client: &Client, request: DownloadRequest) -> AppResult<DownloadResult> {
        let token = CancellationToken::new();
        {
            let mut running = self.running.lock().expect("downloads lock");
            if running.contains_key(&request.download_id) {
                return Err(AppError::failed("This download is already running."));
            }
            running.insert(request.download_id.clone(), token.clone());
        }
        let result = tokio::select! {
            r = download(client, &request, &self.on_progress) => r,
            () = token.cancelled() => Err(AppError::new(ErrorCode::Cancelled, "The download was cancelled.")),
        };
        self.running
            .lock()
            .expect("downloads lock")
            .remove(&request.download_id);
        if result.is_err() {
            // A cancelled download leaves the client's streaming file behind.
            let part = part_path(Path::new(&request.path));
            let _ = tokio::fs::remove_file(part_path(&part)).await;
            let _ = tokio::fs::remove_file(part).await;
        }
        result
    }
}

async fn download(client: &Client, request: &DownloadRequest, on_progress: &OnProgress) -> AppResult<DownloadResult> {
    let path = PathBuf::from(&request.path);
    if path.file_name().is_none() || path.parent().is_some_and(|d| !d.as_os_str().is_empty() && !d.is_dir()) {
        return Err(AppError::new(
            ErrorCode::Invalid,
            format!("Cannot save to {}: the folder does not exist.", path.display()),
        ));
    }
    let recording = client.get_recording(request.recording_id).await?;
    let id = request.download_id.clone();
    let mut last = Instant::now() - PROGRESS_EVERY;
    let progress = |done: u64, total: Option<u64>| {
        let finished = total == Some(done);
        if done == 0 || finished || last.elapsed() >= PROGRESS_EVERY {
            last = Instant::now();
            on_progress(DownloadProgress {
                download_id: id.clone(),
                done,
                total,
            });
        }
    };
    let part = part_path(&path);
    let report = client
        .download_to(request.recording_id, request.format.into(), &part, progress)
        .await?;
    let verified = match request.format {
        DownloadFormat::Original if recording.sha256.is_empty() => false,
        DownloadFormat::Original => {
            if !report.sha256_hex.eq_ignore_ascii_case(&recording.sha256) {
                let _ = tokio::fs::remove_file(&part).await;
                return Err(AppError::failed(
                    "The downloaded file does not match the server's checksum, so it was deleted. Try again.",
                ));
            }
            true
        }
        DownloadFormat::Pcm16 => false,
    };
    tokio::fs::rename(&part, &path)
        .await
        .map_err(|e| AppError::failed(format!("Cannot save {}: {e}.", path.display())))?;
    Ok(DownloadResult {
        download_id: request.download_id.clone(),
        path: path.display().to_string(),
        bytes: report.bytes,
        sha256: report.sha256_hex,
        verified,
    })
}

/// `<path>.part`: the client writes `<part>.part` while streaming and renames it to `part`;
/// this module renames `part` to the chosen name once verified.
fn part_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".part");
    path.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_part_file_sits_beside_the_target() {
        assert_eq!(part_path(Path::new("/a/b.wav")), PathBuf::from("/a/b.wav.part"));
    }
}
