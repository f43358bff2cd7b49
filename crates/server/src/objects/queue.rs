//! The upload queue: closed recordings and journals waiting in the spool for the object store.
//!
//! The queue is a directory, `data_dir/outbox/`, with one small JSON note per file to upload,
//! written (atomically) *before* the recording's row is marked complete. It therefore survives
//! a crash and a restart needs nothing but to read the directory again; a note whose row is not
//! complete yet (the crash came between the note and the row) waits until the start-up repair
//! completes the row. A note is removed only after the object has been read back and its SHA-256
//! matched the row and the local copy has been removed, so an unreachable store loses nothing:
//! the note and the file wait, and the uploader retries with exponential backoff (1 s doubling
//! to [`MAX_BACKOFF`]), counting failures in `/metrics` and on the storage report.
//!
//! An uploaded file (`POST /api/v1/ingest`) gets its row in one step, complete, so before the
//! file is moved into the spool an [`Note::Ingest`] note names only its path; once the row is
//! written it becomes a [`Note::Recording`]. A crash in between leaves the `Ingest` note: the
//! next run finds the row by the path ([`callrec_store::Store::recording_by_path`]) and
//! uploads it, or, when no row was written (the upload was never acknowledged), removes the
//! file that has no row, as the ingest itself does when its row fails.
//!
//! This file holds the queue's nouns (a leaf the application state holds); the uploader that
//! works through it is `objects::upload`.

use callrec_types::RecordingId;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, AtomicU64};
use std::sync::Arc;
use std::time::Duration;

/// The queue's directory below the data directory.
pub const DIR: &str = "outbox";
/// The longest wait between two attempts while the store fails.
pub const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// How often the queue is read again when nothing wakes the uploader (a note written by a
/// process that crashed before it could wake it, say).
pub const RESCAN: Duration = Duration::from_secs(30);

/// What a note asks to upload.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Note {
    /// A closed recording: uploaded, checked against the row's SHA-256, then removed locally.
    Recording {
        rel_path: String,
        recording_id: RecordingId,
    },
    /// A journal document of an ended call: uploaded (replacing an older one), then removed
    /// locally unless it was rewritten meanwhile.
    Journal { rel_path: String },
    /// An uploaded file being moved into the spool, its row not written yet; replaced by
    /// `Recording` once it is. Left over only by a crash, and resolved by the next run.
    Ingest { rel_path: String },
}

impl Note {
    pub fn rel_path(&self) -> &str {
        match self {
            Note::Recording { rel_path, .. } | Note::Journal { rel_path } | Note::Ingest { rel_path } => rel_path,
        }
    }
}

/// The uploader's progress, published for the storage report and for tests to wait on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Backlog {
    /// Notes waiting (recordings and journals).
    pub waiting: u64,
    /// Bytes of the local files they name.
    pub bytes: u64,
    /// Recordings uploaded, checked and removed from the spool since start.
    pub recordings_uploaded: u64,
    /// Journals uploaded since start.
    pub journals_uploaded: u64,
    /// Failed attempts since start.
    pub failures: u64,
    /// The last failure, cleared by the next successful pass.
    pub last_error: Option<String>,
}

/// The uploader's handle in the application state.
pub struct Uploads {
    pub backlog: tokio::sync::watch::Sender<Backlog>,
    pub(super) wake: tokio::sync::Notify,
    pub(super) uploaded: Arc<AtomicU64>,
    pub(super) failures: Arc<AtomicU64>,
    pub(super) waiting: Arc<AtomicI64>,
    pub(super) waiting_bytes: Arc<AtomicI64>,
    /// When this process began: an `Ingest` note older than this was left by a crash.
    pub(super) started: std::time::SystemTime,
}

impl Uploads {
    pub fn new(metrics: &crate::metrics::Metrics) -> Uploads {
        Uploads {
            started: std::time::SystemTime::now(),
            backlog: tokio::sync::watch::Sender::new(Backlog::default()),
            wake: tokio::sync::Notify::new(),
            uploaded: metrics.counter(
                "callrec_object_uploads_total",
                "Recordings and journals uploaded to the object store.",
            ),
            failures: metrics.counter(
                "callrec_object_upload_failures_total",
                "Failed attempts to upload to the object store (retried with backoff).",
            ),
            waiting: metrics.gauge(
                "callrec_spool_backlog",
                "Recordings and journals in the local spool waiting for the object store.",
            ),
            waiting_bytes: metrics.gauge(
                "callrec_spool_backlog_bytes",
                "Bytes in the local spool waiting for the object store.",
            ),
        }
    }
}

/// Where the note for `rel_path` is kept (its path with `/` as `_`, in the outbox).
pub fn note_path(data_dir: &Path, rel_path: &str) -> PathBuf {
    data_dir.join(DIR).join(format!("{}.json", rel_path.replace('/', "_")))
}
