//! The store's own input and query records: what the server hands in (new rows, updates,
//! queries) and the few stored facts it gets back beyond the domain types (file paths).

use callrec_types::calls::{
    AudioCodec, CallConsent, CallDirection, CallSource, CallState, DispatchStatus, Participant, Recording,
    RecordingGap, RecordingState, Trigger,
};
use callrec_types::directory::Level;
use callrec_types::engine::{CallOrigin, TraceLine};
use callrec_types::rules::{Dispatch, MonMode};
use callrec_types::*;
use chrono::{DateTime, Utc};

#[derive(Debug, Clone)]
pub struct NewUserRecord {
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub level: Level,
    pub extensions: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct UserUpdate {
    pub username: Option<String>,
    pub display_name: Option<String>,
    pub password_hash: Option<String>,
    pub level: Option<Level>,
    pub extensions: Option<Vec<String>>,
}

#[derive(Debug, Clone)]
pub struct NewCall {
    pub call_key: String,
    pub source: CallSource,
    pub sip_call_ids: Vec<String>,
    pub participants: Vec<Participant>,
    pub direction: CallDirection,
    pub origin: CallOrigin,
    pub mon_mode: MonMode,
    pub started_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub state: CallState,
    pub trace: Vec<TraceLine>,
    /// The caller's consent as the call arrived (the INVITE's header, the upload's field).
    pub consent: CallConsent,
}

#[derive(Debug, Clone)]
pub struct NewRecording {
    /// Ignored by `import_calls`, which fills in the call it just created.
    pub call_id: CallId,
    pub seq: i64,
    /// Relative to the data directory, built by the server only.
    pub rel_path: String,
    pub file_name: String,
    pub started_at: DateTime<Utc>,
    pub start_offset_ms: i64,
    pub duration_ms: i64,
    pub bytes: i64,
    pub codec: AudioCodec,
    pub sample_rate: u32,
    pub channels: u16,
    pub sha256: String,
    pub trigger: Trigger,
    pub state: RecordingState,
}

#[derive(Debug, Clone)]
pub struct FinishedRecording {
    pub duration_ms: i64,
    pub bytes: i64,
    pub sha256: String,
    /// The format of the closed file (a SIPREC call's codec is known for sure only then).
    pub codec: AudioCodec,
    pub sample_rate: u32,
    pub channels: u16,
    /// Spans whose audio was lost to a full disk (empty when nothing was).
    pub gaps: Vec<RecordingGap>,
}

/// A recording with where its file lives.
#[derive(Debug, Clone)]
pub struct StoredRecording {
    pub recording: Recording,
    pub rel_path: String,
    pub call_key: String,
}

/// The user of a live session and the members of the teams they supervise (not including
/// themselves; empty for anyone who supervises no team).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionUser {
    pub user: callrec_types::directory::User,
    pub supervised: Vec<UserId>,
}

/// Whose calls a viewer may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    All,
    /// Calls in which any of these users took part.
    Users(Vec<UserId>),
}

/// Keyset position: the last row of the previous page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JournalCursor {
    pub started_at_ms: i64,
    pub id: i64,
}

impl JournalCursor {
    pub fn encode(&self) -> String {
        format!("{}.{}", self.started_at_ms, self.id)
    }
    pub fn decode(s: &str) -> Option<Self> {
        if s.len() > 40 {
            return None;
        }
        let (a, b) = s.split_once('.')?;
        Some(JournalCursor {
            started_at_ms: a.parse().ok()?,
            id: b.parse().ok()?,
        })
    }
}

#[derive(Debug, Clone)]
pub struct JournalQuery {
    pub scope: Scope,
    /// Substring of a name or number (case-insensitive).
    pub q: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub direction: Option<CallDirection>,
    pub has_recordings: Option<bool>,
    /// Only calls of this user (within the scope).
    pub user_id: Option<UserId>,
    /// Only calls with (`true`) or without (`false`) a review (issue #15.4).
    pub reviewed: Option<bool>,
    pub cursor: Option<JournalCursor>,
    pub limit: i64,
}

impl JournalQuery {
    /// Why `q` cannot be searched for, in words for the API; `None` when it can.
    ///
    /// Control characters (U+0000–U+001F, U+007F–U+009F) are refused: no name or number
    /// holds one, and SQLite's FTS5 query parser ends a string at NUL ("unterminated
    /// string", #13.6), so a search for them could only fail or find nothing. Every other
    /// character, FTS5 syntax included (`"`, `*`, `NEAR`, `AND`, parentheses), is searched
    /// for literally.
    pub fn text_problem(q: &str) -> Option<&'static str> {
        q.chars()
            .any(char::is_control)
            .then_some("q must not contain control characters")
    }
}

#[derive(Debug, Clone, Default)]
pub struct StorageTotals {
    pub bytes: i64,
    pub recordings: i64,
    pub bytes_since: i64,
    /// When the oldest recording of the window started (to average over less than 30 days).
    pub oldest_since: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub struct NewDispatch {
    pub rule_id: Option<RuleId>,
    pub target: Dispatch,
}

#[derive(Debug, Clone, Default)]
pub struct DispatchFilter {
    pub status: Option<DispatchStatus>,
    pub recording_id: Option<RecordingId>,
    pub limit: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct DispatchOutcome {
    pub status: DispatchStatus,
    pub at: DateTime<Utc>,
    pub error: Option<String>,
    pub detail: Option<String>,
    pub next_attempt_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub struct NewAudit {
    pub at: DateTime<Utc>,
    pub user_id: Option<UserId>,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub detail: String,
}

#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub before: Option<AuditId>,
    pub action: Option<String>,
    pub user_id: Option<UserId>,
    pub limit: i64,
}

/// A missing-recording alarm to raise (issue #11.3); one per call.
#[derive(Debug, Clone)]
pub struct NewAlarm {
    pub call_id: CallId,
    pub kind: callrec_types::alarms::AlarmKind,
    pub message: String,
    pub expected_ms: i64,
    pub recorded_ms: i64,
    pub raised_at: DateTime<Utc>,
}

/// An entry to append to the evidence chain (issue #12.2); the store gives it its place (the
/// next `seq` and the head's hash) and the seal signs it there.
#[derive(Debug, Clone)]
pub struct NewEvidence {
    pub kind: callrec_types::evidence::EvidenceKind,
    pub recording_id: RecordingId,
    pub call_id: CallId,
    pub sha256: String,
    pub duration_ms: i64,
    pub bytes: i64,
    pub at: DateTime<Utc>,
}

impl NewEvidence {
    /// The entry at `seq` after `prev_hash`, not yet sealed (no key, hash or signature).
    pub fn at_place(&self, seq: i64, prev_hash: String) -> callrec_types::evidence::EvidenceEntry {
        callrec_types::evidence::EvidenceEntry {
            seq,
            kind: self.kind,
            recording_id: self.recording_id,
            call_id: self.call_id,
            sha256: self.sha256.clone(),
            duration_ms: self.duration_ms,
            bytes: self.bytes,
            at: self.at,
            prev_hash,
            entry_hash: String::new(),
            public_key: String::new(),
            signature: String::new(),
        }
    }
}

/// Fills in an entry's `public_key`, `entry_hash` and `signature` once its place is known;
/// called inside the store's append, while the chain is locked.
pub type Seal<'a> = &'a (dyn Fn(&mut callrec_types::evidence::EvidenceEntry) + Send + Sync);

/// A review to store (issue #15.4), validated and scored by the server against `scorecard`
/// as it is now; the store keeps the scorecard's name, version and criteria with it.
#[derive(Debug, Clone)]
pub struct NewReview {
    pub call_id: CallId,
    pub call_started_at: DateTime<Utc>,
    pub agent_id: UserId,
    pub reviewer_id: UserId,
    pub scorecard: callrec_types::scorecards::Scorecard,
    pub answers: Vec<callrec_types::scorecards::Answer>,
    pub comment: Option<String>,
    pub score: f64,
    pub at: DateTime<Utc>,
}

/// New answers and comment for a stored review, scored against its own criteria.
#[derive(Debug, Clone)]
pub struct ReviewChange {
    pub answers: Vec<callrec_types::scorecards::Answer>,
    pub comment: Option<String>,
    pub score: f64,
    pub at: DateTime<Utc>,
}

/// Which of an agent's reviews to read: calls started in `[from, to)`, of one scorecard or
/// all; newest call first, at most `limit`.
#[derive(Debug, Clone)]
pub struct ReviewFilter {
    pub agent_id: UserId,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub scorecard_id: Option<ScorecardId>,
    pub limit: i64,
}

/// What deleting a scorecard did: a scorecard no review uses is deleted; one that reviews use
/// is archived (kept for them, closed to new reviews, no longer listed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScorecardRemoval {
    Deleted,
    Archived,
}
