//! callrec-store: the `Store` trait — the narrow set of domain methods the server needs — and
//! its backends. SQLite is the embedded default, PostgreSQL the shared one for several nodes;
//! the backend is chosen once from the URL scheme (`sqlite://…`, `postgres://…`). Nothing
//! backend-specific crosses the trait: times are `DateTime<Utc>`, ids are typed, documents
//! are domain types.

mod postgres;
mod records;
mod review;
mod sqlite;
mod transcripts;

pub use postgres::cluster::{ClusterLock, PgCluster};
pub use postgres::{is_postgres_url, PgStore};
pub use records::*;
pub use review::*;
pub use sqlite::SqliteStore;
pub use sqlx::postgres::PgListener;
pub use transcripts::*;

use async_trait::async_trait;
use callrec_types::alarms::Alarm;
use callrec_types::calls::{Call, DispatchTarget, JournalItem, Recording, RecordingHold, RecordingPause};
use callrec_types::directory::{Phone, PhoneInput, Role, RoleInput, Team, TeamInput, User};
use callrec_types::engine::{DirectoryView, TraceLine};
use callrec_types::evidence::{EvidenceEntry, Listen};
use callrec_types::review::{Comment, NewComment, Peaks, Share};
use callrec_types::rules::{Rule, RuleInput, RuleMove};
use callrec_types::scorecards::{Review, Scorecard, ScorecardInput};
use callrec_types::transcripts::WorkerToken;
use callrec_types::wire::AuditEntry;
use callrec_types::*;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A uniqueness or reference conflict, in words for the API (`username "x" is taken`).
    #[error("{0}")]
    Conflict(String),
    /// Input the database cannot hold (a reference to a missing row and the like).
    #[error("{0}")]
    Invalid(String),
    #[error("unsupported database URL: {0}")]
    UnsupportedUrl(String),
    #[error("database error: {0}")]
    Backend(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("corrupt row: {0}")]
    Corrupt(String),
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// Opens the backend named by the URL scheme and brings its schema up to date.
pub async fn open(url: &str) -> Result<Arc<dyn Store>> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::open(url).await?))
    } else if is_postgres_url(url) {
        Ok(Arc::new(PgStore::open(url).await?))
    } else {
        Err(StoreError::UnsupportedUrl(
            url.split(':').next().unwrap_or("").to_string(),
        ))
    }
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    // --- directory -------------------------------------------------------------------------
    async fn count_users(&self) -> Result<i64>;
    async fn create_user(&self, user: &NewUserRecord) -> Result<User>;
    async fn get_user(&self, id: UserId) -> Result<User>;
    /// The user and their password hash, for login.
    async fn user_credentials(&self, username: &str) -> Result<Option<(User, String)>>;
    async fn list_users(&self) -> Result<Vec<User>>;
    async fn update_user(&self, id: UserId, update: &UserUpdate) -> Result<User>;
    async fn delete_user(&self, id: UserId) -> Result<()>;
    /// The directory's name of each of `ids` that exists: its display name, or its username
    /// when the display name is empty. One statement, for the participants of a page of calls.
    async fn user_names(&self, ids: &[UserId]) -> Result<HashMap<UserId, String>>;
    /// Every (normalised address → user) pair, to match call participants to users.
    async fn list_addresses(&self) -> Result<Vec<(String, UserId)>>;

    async fn create_team(&self, team: &TeamInput) -> Result<Team>;
    async fn get_team(&self, id: TeamId) -> Result<Team>;
    async fn list_teams(&self) -> Result<Vec<Team>>;
    async fn update_team(&self, id: TeamId, team: &TeamInput) -> Result<Team>;
    async fn delete_team(&self, id: TeamId) -> Result<()>;

    async fn create_role(&self, role: &RoleInput) -> Result<Role>;
    async fn get_role(&self, id: RoleId) -> Result<Role>;
    async fn list_roles(&self) -> Result<Vec<Role>>;
    async fn update_role(&self, id: RoleId, role: &RoleInput) -> Result<Role>;
    async fn delete_role(&self, id: RoleId) -> Result<()>;

    async fn create_phone(&self, phone: &PhoneInput) -> Result<Phone>;
    async fn get_phone(&self, id: PhoneId) -> Result<Phone>;
    async fn list_phones(&self) -> Result<Vec<Phone>>;
    async fn update_phone(&self, id: PhoneId, phone: &PhoneInput) -> Result<Phone>;
    async fn delete_phone(&self, id: PhoneId) -> Result<()>;
    async fn phone_by_mac(&self, mac: &str) -> Result<Option<Phone>>;

    /// Roles resolved to users and teams, for the rule engine.
    async fn directory_view(&self) -> Result<DirectoryView>;

    // --- sessions --------------------------------------------------------------------------
    async fn create_session(
        &self,
        token_hash: &str,
        user: UserId,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<()>;
    /// The user of a live session, with the users they supervise, in one read (every request
    /// starts here); expired sessions are not found.
    async fn session_user(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<SessionUser>>;
    async fn delete_session(&self, token_hash: &str) -> Result<()>;
    async fn delete_expired_sessions(&self, now: DateTime<Utc>) -> Result<u64>;

    // --- rules -----------------------------------------------------------------------------
    async fn list_rules(&self) -> Result<Vec<Rule>>;
    async fn get_rule(&self, id: RuleId) -> Result<Rule>;
    /// Whether the rule keeps a webhook secret. Rules are stored and read with the secret
    /// masked ([`callrec_types::rules::Dispatch::redacted`]); the secret itself is kept apart
    /// and copied to each webhook target queued for the rule.
    async fn rule_has_secret(&self, id: RuleId) -> Result<bool>;
    async fn create_rule(&self, rule: &RuleInput) -> Result<Rule>;
    async fn update_rule(&self, id: RuleId, rule: &RuleInput) -> Result<Rule>;
    async fn delete_rule(&self, id: RuleId) -> Result<()>;
    /// Switches one rule on or off, nothing else of it changing. One statement.
    async fn set_rule_enabled(&self, id: RuleId, enabled: bool) -> Result<Rule>;
    /// Moves a rule one place up or down ([`callrec_types::rules::reorder`]) in one
    /// transaction, so two admins moving rules at once never leave equal or lost positions;
    /// returns every rule in its new order. A rule already first (up) or last (down) stays.
    async fn move_rule(&self, id: RuleId, to: RuleMove) -> Result<Vec<Rule>>;
    /// The description of each of `ids` that still exists. One statement.
    async fn rule_names(&self, ids: &[RuleId]) -> Result<HashMap<RuleId, String>>;

    // --- calls and recordings --------------------------------------------------------------
    async fn create_call(&self, call: &NewCall) -> Result<Call>;
    /// Imports many finished calls with their recordings in one transaction (bulk import,
    /// benchmark seeding).
    async fn import_calls(&self, calls: &[(NewCall, Vec<NewRecording>)]) -> Result<()>;
    async fn update_call(&self, call: &Call, trace: &[TraceLine]) -> Result<()>;
    async fn get_call(&self, id: CallId) -> Result<(Call, Vec<TraceLine>)>;
    /// The newest call with this SIP Call-ID.
    /// Calls not yet ended (ringing, active or held), oldest first. With no live calls in
    /// memory — at start-up — these are the calls a crash cut off.
    async fn unfinished_calls(&self) -> Result<Vec<CallId>>;
    async fn call_by_sip_id(&self, sip_call_id: &str) -> Result<Option<CallId>>;
    async fn call_visible(&self, id: CallId, scope: &Scope) -> Result<bool>;
    /// One page of the journal. The text `q` matches a participant's name or number as the PBX
    /// gave it, and also every call in which a user whose directory name (display name or
    /// username) contains it took part, whenever the call was stored.
    async fn journal(&self, query: &JournalQuery) -> Result<(Vec<JournalItem>, Option<JournalCursor>)>;

    async fn create_recording(&self, rec: &NewRecording) -> Result<Recording>;
    async fn finish_recording(&self, id: RecordingId, fin: &FinishedRecording) -> Result<Recording>;
    /// Replaces a recording's PCI pauses (issue #11.1); written at every pause and resume, so
    /// a crash keeps them.
    async fn set_recording_pauses(&self, id: RecordingId, pauses: &[RecordingPause]) -> Result<()>;
    /// Replaces the spans a recording's call was on hold; written at every hold and resume.
    async fn set_recording_holds(&self, id: RecordingId, holds: &[RecordingHold]) -> Result<()>;
    async fn get_recording(&self, id: RecordingId) -> Result<StoredRecording>;
    /// The recording stored at `rel_path`, if a row names it (the upload queue finds the row
    /// of a file whose ingest was cut off by a crash).
    async fn recording_by_path(&self, rel_path: &str) -> Result<Option<RecordingId>>;
    async fn list_recordings(&self, call: CallId) -> Result<Vec<Recording>>;
    /// Recordings still marked in progress (left by a crash), for repair at start-up.
    async fn unfinished_recordings(&self) -> Result<Vec<StoredRecording>>;
    async fn set_legal_hold(&self, id: RecordingId, hold: bool) -> Result<Recording>;
    /// Deletes the row (and its dispatch rows); returns the stored path so the caller can
    /// remove the file.
    async fn delete_recording(&self, id: RecordingId) -> Result<StoredRecording>;
    /// Recordings started before `before`, not on legal hold and with no pending dispatch.
    async fn expired_recordings(&self, before: DateTime<Utc>, limit: i64) -> Result<Vec<StoredRecording>>;
    async fn storage_totals(&self, since: DateTime<Utc>) -> Result<StorageTotals>;

    // --- dispatch queue --------------------------------------------------------------------
    async fn queue_dispatch(
        &self,
        rec: RecordingId,
        targets: &[NewDispatch],
        now: DateTime<Utc>,
    ) -> Result<Vec<DispatchTarget>>;
    /// The queue, newest first, each target with its `call` (participants as stored, without
    /// directory names).
    async fn list_dispatch(&self, filter: &DispatchFilter) -> Result<Vec<DispatchTarget>>;
    /// Pending targets whose next attempt is due.
    async fn due_dispatch(&self, now: DateTime<Utc>, limit: i64) -> Result<Vec<DispatchTarget>>;
    async fn record_dispatch_attempt(&self, id: DispatchId, outcome: &DispatchOutcome) -> Result<DispatchTarget>;
    async fn get_dispatch(&self, id: DispatchId) -> Result<DispatchTarget>;
    async fn dispatch_key(&self, id: DispatchId) -> Result<String>;
    /// Pending webhook targets whose next attempt is due and that no run holds: these are
    /// sent as soon as they are due, not on the schedule.
    async fn due_webhooks(&self, now: DateTime<Utc>, limit: i64) -> Result<Vec<DispatchTarget>>;
    /// When the next pending webhook target can be claimed (its next attempt or the end of
    /// its lease, whichever is later); `None` when none is pending.
    async fn next_webhook_due(&self) -> Result<Option<DateTime<Utc>>>;
    /// A webhook target's signing secret (copied from its rule when it was queued).
    async fn dispatch_secret(&self, id: DispatchId) -> Result<Option<String>>;
    /// Takes a due pending target for one attempt by leasing it until `lease_until`, if it is
    /// still pending, due and unleased at `now`; `false` when another run took it first.
    /// Recording the attempt ends the lease; a crash during the attempt leaves it, so the
    /// target comes due again when the lease ends: nothing queued is lost.
    async fn claim_dispatch(&self, id: DispatchId, now: DateTime<Utc>, lease_until: DateTime<Utc>) -> Result<bool>;
    /// Makes a target pending and due at `now` again (an admin's retry); its attempts, last
    /// error and detail are kept as history. `Conflict` while an attempt holds its lease.
    async fn retry_dispatch(&self, id: DispatchId, now: DateTime<Utc>) -> Result<DispatchTarget>;
    /// Makes every pending target waiting for its backoff due at `now` (an admin's "run now");
    /// returns how many. Targets being sent right now are left alone.
    async fn expedite_dispatch(&self, now: DateTime<Utc>) -> Result<u64>;

    // --- missing-recording alarms (issue #11.3) ---------------------------------------------
    /// Raises the call's alarm; `None` when the call has one already (one per call, whoever
    /// raises it: a restart's repair, another node).
    async fn raise_alarm(&self, alarm: &NewAlarm) -> Result<Option<Alarm>>;
    /// Newest first; only those not acknowledged yet when `unacknowledged`.
    async fn list_alarms(&self, unacknowledged: bool, limit: i64) -> Result<Vec<Alarm>>;
    async fn get_alarm(&self, id: AlarmId) -> Result<Alarm>;
    /// Acknowledges an alarm; the first acknowledgement (who, when) is kept.
    async fn ack_alarm(&self, id: AlarmId, by: UserId, at: DateTime<Utc>) -> Result<Alarm>;

    // --- the evidence chain (issue #12.2) ---------------------------------------------------
    /// Appends an entry at the head of the chain, sealed by `seal` (which signs it) while the
    /// chain is locked — one transaction, serialised across connections and nodes, so two
    /// appends never take the same place. A second `recorded` entry for a recording is not
    /// added: the existing one is returned (a retry, another node).
    async fn append_evidence(&self, entry: &NewEvidence, seal: Seal<'_>) -> Result<EvidenceEntry>;
    /// Entries after `after_seq` in chain order, at most `limit`.
    async fn list_evidence(&self, after_seq: i64, limit: i64) -> Result<Vec<EvidenceEntry>>;
    /// The recording's entries, in chain order.
    async fn recording_evidence(&self, id: RecordingId) -> Result<Vec<EvidenceEntry>>;
    /// The entries of the call's recordings, in chain order (for the journal JSON).
    async fn call_evidence(&self, id: CallId) -> Result<Vec<EvidenceEntry>>;
    /// Finished recordings with no `recorded` entry, by id after `after`, at most `limit`: the
    /// appends still to retry, or rows added outside the product.
    async fn recordings_without_evidence(&self, after: RecordingId, limit: i64) -> Result<Vec<StoredRecording>>;
    /// Records a public key that signs entries (one per node's data directory); idempotent.
    async fn register_evidence_key(&self, public_key: &str, node_id: &str, at: DateTime<Utc>) -> Result<()>;
    /// Every registered signing key (base64), oldest first.
    async fn evidence_keys(&self) -> Result<Vec<String>>;

    // --- who listened (issue #12.4) --------------------------------------------------------
    /// Plays and downloads (audit rows `play`/`download`) of the recordings of calls `user`
    /// took part in — also of recordings deleted since (their call is known from the chain) —
    /// newest first, before the audit id `before`, at most `limit`.
    async fn list_listens(&self, user: UserId, before: Option<AuditId>, limit: i64) -> Result<Vec<Listen>>;

    // --- quality review and training (issue #15) -------------------------------------------
    /// The recording's peaks at `buckets`, if computed and cached before.
    async fn get_peaks(&self, recording: RecordingId, buckets: u32) -> Result<Option<Peaks>>;
    /// Caches peaks computed for `buckets` buckets asked (a second store of the same is no
    /// error; a recording deleted meanwhile is not cached), keeping at most [`PEAKS_KEPT`]
    /// bucket counts per recording: the oldest others are dropped. The cache goes with its
    /// recording.
    async fn put_peaks(&self, buckets: u32, peaks: &Peaks, at: DateTime<Utc>) -> Result<()>;
    /// The recording's comments by position (`at_ms`, then id).
    async fn list_comments(&self, recording: RecordingId) -> Result<Vec<Comment>>;
    async fn get_comment(&self, id: CommentId) -> Result<Comment>;
    async fn create_comment(&self, comment: &NewCommentRecord) -> Result<Comment>;
    /// Replaces the comment's position, span and text; `edited_at` becomes `at`.
    async fn update_comment(&self, id: CommentId, comment: &NewComment, at: DateTime<Utc>) -> Result<Comment>;
    /// Deletes the comment; returns it as it was.
    async fn delete_comment(&self, id: CommentId) -> Result<Comment>;
    async fn create_share(&self, share: &NewShareRecord) -> Result<Share>;
    async fn get_share(&self, id: ShareId) -> Result<Share>;
    /// Every share of the recording, live or not, newest first.
    async fn list_shares(&self, recording: RecordingId) -> Result<Vec<Share>>;
    /// Revokes the share at `at` by `by`; a share revoked before keeps its first revocation.
    async fn revoke_share(&self, id: ShareId, by: UserId, at: DateTime<Utc>) -> Result<Share>;
    /// The shares of recordings of `call` live for `user` at `now` (not revoked, not expired).
    async fn live_shares(&self, user: UserId, call: CallId, now: DateTime<Utc>) -> Result<Vec<Share>>;
    /// Every share live for `user` at `now`, newest first ("Shared with me").
    async fn list_shared(&self, user: UserId, now: DateTime<Utc>) -> Result<Vec<Share>>;
    // --- scorecards and reviews (issue #15.4) -----------------------------------------------
    /// Scorecards by name; archived ones only when `archived`.
    async fn list_scorecards(&self, archived: bool) -> Result<Vec<Scorecard>>;
    /// A scorecard, archived or not.
    async fn get_scorecard(&self, id: ScorecardId) -> Result<Scorecard>;
    /// `Conflict` when a live scorecard has the name.
    async fn create_scorecard(&self, input: &ScorecardInput, at: DateTime<Utc>) -> Result<Scorecard>;
    /// Replaces name and criteria and bumps the version (reviews keep the criteria they were
    /// filled against). `Conflict` for an archived scorecard or a taken name.
    async fn update_scorecard(&self, id: ScorecardId, input: &ScorecardInput, at: DateTime<Utc>) -> Result<Scorecard>;
    /// Deletes a scorecard no review uses, archives one that reviews use; one transaction.
    async fn delete_scorecard(&self, id: ScorecardId) -> Result<ScorecardRemoval>;
    /// Stores a review and the call's new average score, in one transaction. `Conflict` when
    /// the call has a review of this agent on this scorecard already.
    async fn create_review(&self, review: &NewReview) -> Result<Review>;
    async fn get_review(&self, id: ReviewId) -> Result<Review>;
    /// The call's reviews, oldest first.
    async fn list_call_reviews(&self, call: CallId) -> Result<Vec<Review>>;
    /// An agent's reviews ([`ReviewFilter`]), newest call first.
    async fn list_agent_reviews(&self, filter: &ReviewFilter) -> Result<Vec<Review>>;
    /// Replaces a review's answers, comment and score, and the call's average score.
    async fn update_review(&self, id: ReviewId, change: &ReviewChange) -> Result<Review>;
    /// Deletes a review and updates the call's average score; returns what was deleted.
    async fn delete_review(&self, id: ReviewId) -> Result<Review>;

    // --- transcripts (issue #16) -----------------------------------------------------------
    /// Queues the recording's transcription; a second queue of the same recording is no error
    /// and changes nothing.
    async fn queue_transcript(&self, recording: RecordingId, call: CallId, now: DateTime<Utc>) -> Result<()>;
    /// Takes the job due first for one attempt under `lease` for `lease_ms` plus the
    /// recording's length (a long recording takes long to transcribe): a queued job
    /// whose next attempt has come, or a running one whose lease ended (its worker died). A
    /// running job whose lease ended after [`callrec_types::transcripts::MAX_TRANSCRIPT_ATTEMPTS`]
    /// attempts is marked failed instead. One statement, so two workers never take one job.
    async fn claim_transcript(
        &self,
        worker: &str,
        lease: &str,
        now: DateTime<Utc>,
        lease_ms: i64,
    ) -> Result<Option<ClaimedTranscript>>;
    /// Whether `lease` is the current lease of the recording's running job (a worker fetching
    /// its audio). A lease past its end still holds until another claim takes the job over.
    async fn transcript_lease_held(&self, recording: RecordingId, lease: &str) -> Result<bool>;
    /// Stores the transcript and makes its text searchable in the journal, if `lease` is the
    /// job's current one and it is running; `false` (nothing changed) otherwise.
    async fn put_transcript(&self, t: &NewTranscript<'_>) -> Result<bool>;
    /// Records a worker's failure, if `lease` is the job's current one; `false` otherwise.
    async fn fail_transcript(&self, f: &TranscriptFailure<'_>) -> Result<bool>;
    async fn get_transcript(&self, recording: RecordingId) -> Result<Option<StoredTranscript>>;
    /// The transcripts of the call's recordings, by recording.
    async fn call_transcripts(&self, call: CallId) -> Result<Vec<StoredTranscript>>;
    async fn create_worker_token(&self, name: &str, token_hash: &str, at: DateTime<Utc>) -> Result<WorkerToken>;
    async fn list_worker_tokens(&self) -> Result<Vec<WorkerToken>>;
    async fn delete_worker_token(&self, id: WorkerTokenId) -> Result<()>;
    async fn worker_token_exists(&self, token_hash: &str) -> Result<bool>;

    // --- audit and settings ----------------------------------------------------------------
    async fn append_audit(&self, entry: &NewAudit) -> Result<AuditEntry>;
    async fn list_audit(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>>;
    async fn get_setting(&self, key: &str) -> Result<Option<String>>;
    async fn put_setting(&self, key: &str, value: &str) -> Result<()>;
}
