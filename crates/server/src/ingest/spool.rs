//! An upload's audio on its way in (SPEC §4.2): streamed to a spool file under
//! `<data_dir>/tmp` (sealed from the first byte when an encryption key is set) and hashed as
//! it arrives ([`SpoolWriter`]), its WAV header checked against the bytes received
//! ([`SpooledAudio`]); spool files a crash left behind are removed at start-up
//! ([`remove_leftover_uploads`]).

use crate::error::{ApiError, ApiResult};
use crate::files::Files;
use crate::state::AppState;
use axum::http::StatusCode;
use callrec_media::wav::{check_upload, check_upload_file, WavInfo, WavIoError};
use callrec_types::wire::ErrorCode;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use tokio::io::AsyncWriteExt;

/// Spool files are `<data_dir>/tmp/upload-<hex>.part`.
const SPOOL_PREFIX: &str = "upload-";
const SPOOL_SUFFIX: &str = ".part";

/// The spooled upload; removed on drop unless it was moved into place.
pub(super) struct Spool {
    pub(super) path: PathBuf,
    pub(super) keep: bool,
}

impl Drop for Spool {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// The audio of an upload as it arrives: written to a spool file under `<data_dir>/tmp`
/// (never whole in memory) and hashed on the way, bounded by `max_upload_bytes`. With an
/// encryption key the spool file is sealed as it is written (issue #12.1): no plaintext of an
/// upload ever reaches the disk.
pub struct SpoolWriter {
    spool: Spool,
    file: SpoolFile,
    hasher: Sha256,
    total: u64,
    limit: u64,
    vault: crate::sealed::Vault,
}

/// The spool file: plaintext (no key), or sealed and written by blocking tasks (`None` only
/// while one runs).
enum SpoolFile {
    Plain(tokio::fs::File),
    Sealed(Option<Box<crate::sealed::StoredFile>>),
}

fn write_error(e: std::io::Error) -> ApiError {
    if rustix::io::Errno::from_io_error(&e) == Some(rustix::io::Errno::NOSPC) {
        ApiError::new(
            StatusCode::INSUFFICIENT_STORAGE,
            ErrorCode::DiskFull,
            "the server's disk is full; the upload was not stored",
        )
    } else {
        ApiError::from(e)
    }
}

/// An upload's audio once complete and checked: the spool file, its WAV facts, and the
/// SHA-256 and size of what is stored.
pub struct SpooledAudio {
    pub(super) spool: Spool,
    pub(super) info: WavInfo,
    pub(super) sha256: String,
    pub(super) bytes: u64,
}

impl SpoolWriter {
    /// Creates the spool file.
    pub async fn create(state: &AppState) -> ApiResult<SpoolWriter> {
        let dir = state.files.tmp_dir();
        tokio::fs::create_dir_all(&dir).await?;
        let mut rnd = [0u8; 8];
        rand::rngs::OsRng.fill_bytes(&mut rnd);
        let spool = Spool {
            path: dir.join(format!("{SPOOL_PREFIX}{}{SPOOL_SUFFIX}", hex::encode(rnd))),
            keep: false,
        };
        let file = match state.vault.key_arc().cloned() {
            None => SpoolFile::Plain(tokio::fs::File::create(&spool.path).await?),
            Some(key) => {
                let path = spool.path.clone();
                let sealed = tokio::task::spawn_blocking(move || {
                    let f = std::fs::OpenOptions::new()
                        .create_new(true)
                        .read(true)
                        .write(true)
                        .open(&path)?;
                    crate::sealed::StoredFile::create(f, Some(&key))
                })
                .await
                .map_err(ApiError::internal)?
                .map_err(write_error)?;
                SpoolFile::Sealed(Some(Box::new(sealed)))
            }
        };
        Ok(SpoolWriter {
            spool,
            file,
            hasher: Sha256::new(),
            total: 0,
            limit: state.config.max_upload_bytes,
            vault: state.vault.clone(),
        })
    }

    /// Appends one chunk: 413 `too_large` past the limit, 507 `disk_full` when the disk is.
    pub async fn write(&mut self, chunk: &[u8]) -> ApiResult<()> {
        self.total += chunk.len() as u64;
        if self.total > self.limit {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorCode::TooLarge,
                format!("the recording is over the limit of {} bytes", self.limit),
            ));
        }
        self.hasher.update(chunk);
        match &mut self.file {
            SpoolFile::Plain(f) => f.write_all(chunk).await.map_err(write_error),
            SpoolFile::Sealed(slot) => {
                let mut f = slot
                    .take()
                    .ok_or_else(|| ApiError::internal("an earlier write of this upload failed"))?;
                let chunk = chunk.to_vec();
                let (f, written) = tokio::task::spawn_blocking(move || {
                    let r = std::io::Write::write_all(&mut *f, &chunk);
                    (f, r)
                })
                .await
                .map_err(ApiError::internal)?;
                *slot = Some(f);
                written.map_err(write_error)
            }
        }
    }

    /// Syncs the file and checks its WAV header against the bytes received: placeholders
    /// repaired, lies refused (422 `invalid_wav`; callrec_media::wav::upload has the policy).
    pub async fn finish(self) -> ApiResult<SpooledAudio> {
        let SpoolWriter {
            spool,
            file,
            hasher,
            total,
            vault,
            ..
        } = self;
        let path = spool.path.clone();
        let report = match file {
            SpoolFile::Plain(file) => {
                file.sync_all().await?;
                drop(file);
                tokio::task::spawn_blocking(move || -> Result<_, WavIoError> {
                    let mut f = std::fs::OpenOptions::new().read(true).write(true).open(&path)?;
                    check_upload_file(&mut f)
                })
                .await
            }
            SpoolFile::Sealed(f) => {
                let mut f = f.ok_or_else(|| ApiError::internal("an earlier write of this upload failed"))?;
                tokio::task::spawn_blocking(move || -> Result<_, WavIoError> {
                    use callrec_media::wav::SetLen;
                    use std::io::Write;
                    f.flush().map_err(WavIoError::from)?;
                    let report = check_upload(&mut *f)?;
                    if report.file_len < report.file_len_before {
                        f.set_len(report.file_len)?;
                    }
                    f.flush()?;
                    f.get_ref().sync_all()?;
                    Ok(report)
                })
                .await
            }
        };
        let report = report.map_err(ApiError::internal)?.map_err(|e| match e {
            WavIoError::Wav(e) => ApiError::unprocessable(
                ErrorCode::InvalidWav,
                format!("the audio is not a usable WAV file: {e}"),
            ),
            WavIoError::TooLarge => ApiError::unprocessable(
                ErrorCode::InvalidWav,
                "the audio is longer than a WAV file can describe",
            ),
            other => ApiError::internal(other),
        })?;
        let (sha256, bytes) = if report.rewritten {
            // The stored bytes are not the received ones: the checksum is of what is stored
            // (of its plaintext when sealed).
            vault.sha256(&spool.path).await?
        } else {
            (hex::encode(hasher.finalize()), total)
        };
        Ok(SpooledAudio {
            spool,
            info: report.info,
            sha256,
            bytes,
        })
    }
}

/// Removes the upload spool files (`<data_dir>/tmp/upload-*.part`) a crash or kill left
/// behind: an upload in progress is lost with its connection, so at start-up every one is
/// garbage. Returns how many were removed; one that cannot be removed is logged and skipped.
pub async fn remove_leftover_uploads(files: &Files) -> std::io::Result<usize> {
    let dir = files.tmp_dir();
    let mut entries = match tokio::fs::read_dir(&dir).await {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    let mut removed = 0;
    while let Some(entry) = entries.next_entry().await? {
        let path = entry.path();
        if !is_spool_file(&path) || !entry.file_type().await?.is_file() {
            continue;
        }
        match tokio::fs::remove_file(&path).await {
            Ok(()) => removed += 1,
            Err(e) => tracing::warn!(path = %path.display(), error = %e, "could not remove a leftover upload"),
        }
    }
    if removed > 0 {
        tracing::warn!(removed, dir = %dir.display(), "removed uploads a crash left unfinished");
    }
    Ok(removed)
}

fn is_spool_file(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with(SPOOL_PREFIX) && n.ends_with(SPOOL_SUFFIX))
}
