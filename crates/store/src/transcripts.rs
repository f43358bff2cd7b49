//! The store's records of transcripts (issue #16): a transcription job as stored, with its
//! transcript's lines as the server handed them in (JSON, sealed when encryption at rest is
//! on), and the outcome of a worker's failure.

use callrec_types::transcripts::TranscriptStatus;
use callrec_types::*;
use chrono::{DateTime, Utc};

/// A recording's transcription job and, once done, its transcript.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredTranscript {
    pub recording_id: RecordingId,
    pub call_id: CallId,
    pub status: TranscriptStatus,
    pub attempts: i64,
    pub error: Option<String>,
    pub queued_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// The lines' JSON as stored (sealed or not: the server knows).
    pub lines: Option<Vec<u8>>,
}

/// A job a worker has just claimed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClaimedTranscript {
    pub recording_id: RecordingId,
    /// This attempt's number, from 1.
    pub attempt: i64,
    /// The lease's end: the claim's time, plus the lease asked for, plus the recording's length.
    pub lease_until: DateTime<Utc>,
}

/// A transcript to store: only taken with the lease of the job's current holder.
#[derive(Debug, Clone)]
pub struct NewTranscript<'a> {
    pub recording_id: RecordingId,
    pub lease: &'a str,
    pub lines: &'a [u8],
    /// The transcript's lower-case text for the journal's search (at most
    /// [`MAX_TRANSCRIPT_SEARCH_CHARS`] characters per call are indexed).
    pub search: &'a str,
    pub at: DateTime<Utc>,
}

/// A worker's failure: the job is queued again at `retry_at`, or marked failed when `None`.
#[derive(Debug, Clone)]
pub struct TranscriptFailure<'a> {
    pub recording_id: RecordingId,
    pub lease: &'a str,
    pub error: &'a str,
    pub retry_at: Option<DateTime<Utc>>,
    pub at: DateTime<Utc>,
}

/// The most transcript text indexed per call: SQLite's five-character grams are cut from the
/// first 65,536 characters of a call's search text (migration 0005).
pub const MAX_TRANSCRIPT_SEARCH_CHARS: usize = 60_000;

/// `s` cut to at most `n` characters.
pub(crate) fn cut_chars(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((at, _)) => &s[..at],
        None => s,
    }
}
