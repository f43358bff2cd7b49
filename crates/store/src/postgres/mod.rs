//! The PostgreSQL backend: a connection pool to one database, its own migrations
//! (`migrations/postgres`) applied at open, and the `Store` trait implemented by delegating to
//! one module per noun, as the SQLite backend does.
//!
//! Rows have the same shape as on SQLite (times are BIGINT milliseconds, enums snake_case
//! TEXT, documents JSON TEXT), so the row helpers and the semantics are the same; what
//! differs is concurrency. SQLite runs one writer at a time (`BEGIN IMMEDIATE`); PostgreSQL
//! runs writers side by side at READ COMMITTED. Where a SQLite transaction relies on being
//! alone (read the rules' order, then renumber) the PostgreSQL one takes a table lock first;
//! single-statement guards (`UPDATE … WHERE lease_until …`) are re-checked by PostgreSQL on
//! the newest row version, so they race as safely as on SQLite.

mod alarms;
mod calls;
pub mod cluster;
mod directory;
mod evidence;
mod journal;
mod recordings;
mod review;
mod rules;
mod scorecards;
mod transcripts;

use crate::sqlite::{from_ms, ms, parse_word};
use crate::*;
use callrec_types::alarms::Alarm;
use callrec_types::evidence::{EvidenceEntry, Listen};
use callrec_types::review::{Comment, NewComment, Peaks, Share};
use callrec_types::rules::Rule;
use callrec_types::scorecards::{Review, Scorecard, ScorecardInput};
use callrec_types::transcripts::WorkerToken;
use callrec_types::wire::AuditEntry;
use chrono::{DateTime, Utc};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgRow};
use sqlx::{Connection, PgPool, Postgres, QueryBuilder, Row};
use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// One node's handle on the shared database. Several nodes share it (issue #10.3): each call
/// row names the node that holds its media (`calls.node_id`), the calls this handle creates
/// are `node`'s, and start-up repair (`unfinished_calls`, `unfinished_recordings`) sees only
/// `node`'s — another node's open calls are live there, not cut off by this node's crash.
pub struct PgStore {
    pool: PgPool,
    /// The journal's reads whose plan its SQL fixes ([`journal::journal`]): connections whose
    /// statements keep one generic plan each (see [`journal_options`]).
    journal_pool: PgPool,
    node: String,
}

/// Connections for the journal's reads: `plan_cache_mode = force_generic_plan`, so that each
/// of their prepared statements is planned once per connection, not at every request.
///
/// PostgreSQL plans a prepared statement afresh for its parameters ("custom plans") until a
/// generic plan looks as cheap, and for the journal's statements it never did: 0.2–0.3 ms of
/// planning per statement and request on top of ~0.5 ms of execution (pg_stat_statements,
/// journal-bench at 1M calls, 2026-12-04). The journal's SQL fixes its plans itself: the
/// driving index by the statement's shape, page sizes and walk bounds as literals (not
/// parameters a generic plan would guess at). The trigram index's statements stay on the main
/// pool: their plan depends on how common the text is, which only a custom plan sees. Set on
/// the whole database for a trial, the same setting made the evidence sweep's statement 14×
/// slower (8.4 ms instead of 0.6): so it is these connections only. A generic plan is made
/// with the statistics of its connection's first use; a connection lives at most 30 minutes
/// (sqlx's `max_lifetime`), so a plan made while the journal was small is not kept for long
/// as it grows.
fn journal_options(opts: &PgConnectOptions) -> PgConnectOptions {
    opts.clone()
        .application_name("callrec journal")
        .options([("plan_cache_mode", "force_generic_plan")])
}

impl PgStore {
    /// [`PgStore::open_node`] as the node with the empty name (a single node, tests).
    pub async fn open(url: &str) -> Result<Self> {
        Self::open_node(url, "").await
    }

    /// Connects to the database at `url` (`postgres://user:password@host:port/db`, or
    /// `postgresql://…`) as node `node` and runs the migrations. The database must exist; the
    /// migrations create the `pg_trgm` extension if it is not there yet.
    pub async fn open_node(url: &str, node: &str) -> Result<Self> {
        let opts = PgConnectOptions::from_str(url)?.application_name("callrec");
        // One plain connection first: a refused connection, a wrong password or a missing
        // database fails at once with its cause, where the pool would retry until its
        // acquire timeout and then say only "pool timed out".
        sqlx::PgConnection::connect_with(&opts).await?.close().await?;
        let journal_pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(30))
            .connect_lazy_with(journal_options(&opts));
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(opts)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(PgStore {
            pool,
            journal_pool,
            node: node.to_owned(),
        })
    }

    /// This handle's node.
    pub fn node(&self) -> &str {
        &self.node
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

/// Whether `url` names a PostgreSQL database (`postgres://` or `postgresql://`).
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

pub(crate) fn rule_row(r: &PgRow) -> Result<Rule> {
    Ok(Rule {
        id: RuleId(r.get(0)),
        description: r.get(1),
        enabled: r.get(2),
        mode: parse_word(r.get(3))?,
        role_id: RoleId(r.get(4)),
        direction: parse_word(r.get(5))?,
        origin: parse_word(r.get(6))?,
        dispatch: serde_json::from_str(r.get(7)).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        position: r.get(8),
        require_consent: r.get(9),
        transcribe: r.get(10),
    })
}

fn audit_row(r: &PgRow) -> AuditEntry {
    AuditEntry {
        id: AuditId(r.get(0)),
        at: from_ms(r.get(1)),
        user_id: r.get::<Option<i64>, _>(2).map(UserId),
        actor: r.get(3),
        action: r.get(4),
        target: r.get(5),
        detail: r.get(6),
    }
}

#[async_trait]
impl Store for PgStore {
    async fn count_users(&self) -> Result<i64> {
        directory::count_users(&self.pool).await
    }
    async fn create_user(&self, u: &NewUserRecord) -> Result<User> {
        directory::create_user(&self.pool, u).await
    }
    async fn get_user(&self, id: UserId) -> Result<User> {
        directory::get_user(&self.pool, id).await
    }
    async fn user_credentials(&self, n: &str) -> Result<Option<(User, String)>> {
        directory::user_credentials(&self.pool, n).await
    }
    async fn list_users(&self) -> Result<Vec<User>> {
        directory::list_users(&self.pool).await
    }
    async fn update_user(&self, id: UserId, u: &UserUpdate) -> Result<User> {
        directory::update_user(&self.pool, id, u).await
    }
    async fn delete_user(&self, id: UserId) -> Result<()> {
        directory::delete_user(&self.pool, id).await
    }
    async fn user_names(&self, ids: &[UserId]) -> Result<HashMap<UserId, String>> {
        directory::user_names(&self.pool, ids).await
    }
    async fn list_addresses(&self) -> Result<Vec<(String, UserId)>> {
        directory::list_addresses(&self.pool).await
    }
    async fn create_team(&self, t: &TeamInput) -> Result<Team> {
        directory::create_team(&self.pool, t).await
    }
    async fn get_team(&self, id: TeamId) -> Result<Team> {
        directory::get_team(&self.pool, id).await
    }
    async fn list_teams(&self) -> Result<Vec<Team>> {
        directory::list_teams(&self.pool).await
    }
    async fn update_team(&self, id: TeamId, t: &TeamInput) -> Result<Team> {
        directory::update_team(&self.pool, id, t).await
    }
    async fn delete_team(&self, id: TeamId) -> Result<()> {
        directory::delete_team(&self.pool, id).await
    }
    async fn create_role(&self, r: &RoleInput) -> Result<Role> {
        directory::create_role(&self.pool, r).await
    }
    async fn get_role(&self, id: RoleId) -> Result<Role> {
        directory::get_role(&self.pool, id).await
    }
    async fn list_roles(&self) -> Result<Vec<Role>> {
        directory::list_roles(&self.pool).await
    }
    async fn update_role(&self, id: RoleId, r: &RoleInput) -> Result<Role> {
        directory::update_role(&self.pool, id, r).await
    }
    async fn delete_role(&self, id: RoleId) -> Result<()> {
        directory::delete_role(&self.pool, id).await
    }
    async fn create_phone(&self, p: &PhoneInput) -> Result<Phone> {
        directory::create_phone(&self.pool, p).await
    }
    async fn get_phone(&self, id: PhoneId) -> Result<Phone> {
        directory::get_phone(&self.pool, id).await
    }
    async fn list_phones(&self) -> Result<Vec<Phone>> {
        directory::list_phones(&self.pool).await
    }
    async fn update_phone(&self, id: PhoneId, p: &PhoneInput) -> Result<Phone> {
        directory::update_phone(&self.pool, id, p).await
    }
    async fn delete_phone(&self, id: PhoneId) -> Result<()> {
        directory::delete_phone(&self.pool, id).await
    }
    async fn phone_by_mac(&self, mac: &str) -> Result<Option<Phone>> {
        directory::phone_by_mac(&self.pool, mac).await
    }
    async fn directory_view(&self) -> Result<DirectoryView> {
        directory::directory_view(&self.pool).await
    }

    async fn create_session(&self, h: &str, u: UserId, now: DateTime<Utc>, exp: DateTime<Utc>) -> Result<()> {
        rules::create_session(&self.pool, h, u, now, exp).await
    }
    async fn session_user(&self, h: &str, now: DateTime<Utc>) -> Result<Option<SessionUser>> {
        rules::session_user(&self.pool, h, now).await
    }
    async fn delete_session(&self, h: &str) -> Result<()> {
        rules::delete_session(&self.pool, h).await
    }
    async fn delete_expired_sessions(&self, now: DateTime<Utc>) -> Result<u64> {
        rules::delete_expired_sessions(&self.pool, now).await
    }

    async fn list_rules(&self) -> Result<Vec<Rule>> {
        rules::list_rules(&self.pool).await
    }
    async fn get_rule(&self, id: RuleId) -> Result<Rule> {
        rules::get_rule(&self.pool, id).await
    }
    async fn rule_has_secret(&self, id: RuleId) -> Result<bool> {
        rules::rule_has_secret(&self.pool, id).await
    }
    async fn create_rule(&self, r: &RuleInput) -> Result<Rule> {
        rules::create_rule(&self.pool, r).await
    }
    async fn update_rule(&self, id: RuleId, r: &RuleInput) -> Result<Rule> {
        rules::update_rule(&self.pool, id, r).await
    }
    async fn rule_names(&self, ids: &[RuleId]) -> Result<HashMap<RuleId, String>> {
        rules::rule_names(&self.pool, ids).await
    }
    async fn delete_rule(&self, id: RuleId) -> Result<()> {
        rules::delete_rule(&self.pool, id).await
    }
    async fn set_rule_enabled(&self, id: RuleId, enabled: bool) -> Result<Rule> {
        rules::set_rule_enabled(&self.pool, id, enabled).await
    }
    async fn move_rule(&self, id: RuleId, to: RuleMove) -> Result<Vec<Rule>> {
        rules::move_rule(&self.pool, id, to).await
    }

    async fn create_call(&self, c: &NewCall) -> Result<Call> {
        calls::create_call(&self.pool, &self.node, c).await
    }
    async fn import_calls(&self, c: &[(NewCall, Vec<NewRecording>)]) -> Result<()> {
        calls::import_calls(&self.pool, &self.node, c).await
    }
    async fn update_call(&self, c: &Call, t: &[TraceLine]) -> Result<()> {
        calls::update_call(&self.pool, c, t).await
    }
    async fn get_call(&self, id: CallId) -> Result<(Call, Vec<TraceLine>)> {
        calls::get_call(&self.pool, id).await
    }
    async fn unfinished_calls(&self) -> Result<Vec<CallId>> {
        calls::unfinished_calls(&self.pool, &self.node).await
    }
    async fn call_by_sip_id(&self, s: &str) -> Result<Option<CallId>> {
        calls::call_by_sip_id(&self.pool, s).await
    }
    async fn call_visible(&self, id: CallId, s: &Scope) -> Result<bool> {
        calls::call_visible(&self.pool, id, s).await
    }
    async fn journal(&self, q: &JournalQuery) -> Result<(Vec<JournalItem>, Option<JournalCursor>)> {
        journal::journal(&self.pool, &self.journal_pool, q).await
    }

    async fn create_recording(&self, r: &NewRecording) -> Result<Recording> {
        recordings::create_recording(&self.pool, r).await
    }
    async fn finish_recording(&self, id: RecordingId, f: &FinishedRecording) -> Result<Recording> {
        recordings::finish_recording(&self.pool, id, f).await
    }
    async fn set_recording_pauses(&self, id: RecordingId, pauses: &[RecordingPause]) -> Result<()> {
        recordings::set_recording_pauses(&self.pool, id, pauses).await
    }

    async fn set_recording_holds(&self, id: RecordingId, holds: &[RecordingHold]) -> Result<()> {
        recordings::set_recording_holds(&self.pool, id, holds).await
    }

    async fn get_recording(&self, id: RecordingId) -> Result<StoredRecording> {
        recordings::get_recording(&self.pool, id).await
    }

    async fn recording_by_path(&self, rel_path: &str) -> Result<Option<RecordingId>> {
        recordings::recording_by_path(&self.pool, rel_path).await
    }
    async fn list_recordings(&self, c: CallId) -> Result<Vec<Recording>> {
        recordings::list_recordings(&self.pool, c).await
    }
    async fn unfinished_recordings(&self) -> Result<Vec<StoredRecording>> {
        recordings::unfinished_recordings(&self.pool, &self.node).await
    }
    async fn set_legal_hold(&self, id: RecordingId, h: bool) -> Result<Recording> {
        recordings::set_legal_hold(&self.pool, id, h).await
    }
    async fn delete_recording(&self, id: RecordingId) -> Result<StoredRecording> {
        recordings::delete_recording(&self.pool, id).await
    }
    async fn expired_recordings(&self, b: DateTime<Utc>, l: i64) -> Result<Vec<StoredRecording>> {
        recordings::expired_recordings(&self.pool, b, l).await
    }
    async fn storage_totals(&self, s: DateTime<Utc>) -> Result<StorageTotals> {
        recordings::storage_totals(&self.pool, s).await
    }

    async fn queue_dispatch(
        &self,
        r: RecordingId,
        t: &[NewDispatch],
        now: DateTime<Utc>,
    ) -> Result<Vec<DispatchTarget>> {
        recordings::queue_dispatch(&self.pool, r, t, now).await
    }
    async fn list_dispatch(&self, f: &DispatchFilter) -> Result<Vec<DispatchTarget>> {
        recordings::list_dispatch(&self.pool, f).await
    }
    async fn due_dispatch(&self, now: DateTime<Utc>, l: i64) -> Result<Vec<DispatchTarget>> {
        recordings::due_dispatch(&self.pool, now, l).await
    }
    async fn record_dispatch_attempt(&self, id: DispatchId, o: &DispatchOutcome) -> Result<DispatchTarget> {
        recordings::record_dispatch_attempt(&self.pool, id, o).await
    }
    async fn get_dispatch(&self, id: DispatchId) -> Result<DispatchTarget> {
        recordings::get_dispatch(&self.pool, id).await
    }
    async fn dispatch_key(&self, id: DispatchId) -> Result<String> {
        recordings::dispatch_key(&self.pool, id).await
    }
    async fn due_webhooks(&self, now: DateTime<Utc>, l: i64) -> Result<Vec<DispatchTarget>> {
        recordings::due_webhooks(&self.pool, now, l).await
    }
    async fn next_webhook_due(&self) -> Result<Option<DateTime<Utc>>> {
        recordings::next_webhook_due(&self.pool).await
    }
    async fn dispatch_secret(&self, id: DispatchId) -> Result<Option<String>> {
        recordings::dispatch_secret(&self.pool, id).await
    }
    async fn claim_dispatch(&self, id: DispatchId, now: DateTime<Utc>, lease_until: DateTime<Utc>) -> Result<bool> {
        recordings::claim_dispatch(&self.pool, id, now, lease_until).await
    }
    async fn retry_dispatch(&self, id: DispatchId, now: DateTime<Utc>) -> Result<DispatchTarget> {
        recordings::retry_dispatch(&self.pool, id, now).await
    }
    async fn expedite_dispatch(&self, now: DateTime<Utc>) -> Result<u64> {
        recordings::expedite_dispatch(&self.pool, now).await
    }

    async fn raise_alarm(&self, a: &NewAlarm) -> Result<Option<Alarm>> {
        alarms::raise_alarm(&self.pool, a).await
    }
    async fn list_alarms(&self, unacknowledged: bool, limit: i64) -> Result<Vec<Alarm>> {
        alarms::list_alarms(&self.pool, unacknowledged, limit).await
    }
    async fn get_alarm(&self, id: AlarmId) -> Result<Alarm> {
        alarms::get_alarm(&self.pool, id).await
    }
    async fn ack_alarm(&self, id: AlarmId, by: UserId, at: DateTime<Utc>) -> Result<Alarm> {
        alarms::ack_alarm(&self.pool, id, by, at).await
    }
    async fn append_evidence(&self, e: &NewEvidence, seal: Seal<'_>) -> Result<EvidenceEntry> {
        evidence::append_evidence(&self.pool, e, seal).await
    }
    async fn list_evidence(&self, after_seq: i64, limit: i64) -> Result<Vec<EvidenceEntry>> {
        evidence::list_evidence(&self.pool, after_seq, limit).await
    }
    async fn recording_evidence(&self, id: RecordingId) -> Result<Vec<EvidenceEntry>> {
        evidence::recording_evidence(&self.pool, id).await
    }
    async fn call_evidence(&self, id: CallId) -> Result<Vec<EvidenceEntry>> {
        evidence::call_evidence(&self.pool, id).await
    }
    async fn recordings_without_evidence(&self, after: RecordingId, limit: i64) -> Result<Vec<StoredRecording>> {
        evidence::recordings_without_evidence(&self.pool, after, limit).await
    }
    async fn register_evidence_key(&self, key: &str, node_id: &str, at: DateTime<Utc>) -> Result<()> {
        evidence::register_evidence_key(&self.pool, key, node_id, at).await
    }
    async fn evidence_keys(&self) -> Result<Vec<String>> {
        evidence::evidence_keys(&self.pool).await
    }
    async fn list_listens(&self, user: UserId, before: Option<AuditId>, limit: i64) -> Result<Vec<Listen>> {
        evidence::list_listens(&self.pool, user, before, limit).await
    }
    async fn get_peaks(&self, r: RecordingId, buckets: u32) -> Result<Option<Peaks>> {
        review::get_peaks(&self.pool, r, buckets).await
    }
    async fn put_peaks(&self, buckets: u32, p: &Peaks, at: DateTime<Utc>) -> Result<()> {
        review::put_peaks(&self.pool, buckets, p, at).await
    }
    async fn list_comments(&self, r: RecordingId) -> Result<Vec<Comment>> {
        review::list_comments(&self.pool, r).await
    }
    async fn get_comment(&self, id: CommentId) -> Result<Comment> {
        review::get_comment(&self.pool, id).await
    }
    async fn create_comment(&self, c: &NewCommentRecord) -> Result<Comment> {
        review::create_comment(&self.pool, c).await
    }
    async fn update_comment(&self, id: CommentId, c: &NewComment, at: DateTime<Utc>) -> Result<Comment> {
        review::update_comment(&self.pool, id, c, at).await
    }
    async fn delete_comment(&self, id: CommentId) -> Result<Comment> {
        review::delete_comment(&self.pool, id).await
    }
    async fn create_share(&self, s: &NewShareRecord) -> Result<Share> {
        review::create_share(&self.pool, s).await
    }
    async fn get_share(&self, id: ShareId) -> Result<Share> {
        review::get_share(&self.pool, id).await
    }
    async fn list_shares(&self, r: RecordingId) -> Result<Vec<Share>> {
        review::list_shares(&self.pool, r).await
    }
    async fn revoke_share(&self, id: ShareId, by: UserId, at: DateTime<Utc>) -> Result<Share> {
        review::revoke_share(&self.pool, id, by, at).await
    }
    async fn live_shares(&self, u: UserId, c: CallId, now: DateTime<Utc>) -> Result<Vec<Share>> {
        review::live_shares(&self.pool, u, c, now).await
    }
    async fn list_shared(&self, u: UserId, now: DateTime<Utc>) -> Result<Vec<Share>> {
        review::list_shared(&self.pool, u, now).await
    }
    async fn list_scorecards(&self, archived: bool) -> Result<Vec<Scorecard>> {
        scorecards::list_scorecards(&self.pool, archived).await
    }
    async fn get_scorecard(&self, id: ScorecardId) -> Result<Scorecard> {
        scorecards::get_scorecard(&self.pool, id).await
    }
    async fn create_scorecard(&self, input: &ScorecardInput, at: DateTime<Utc>) -> Result<Scorecard> {
        scorecards::create_scorecard(&self.pool, input, at).await
    }
    async fn update_scorecard(&self, id: ScorecardId, input: &ScorecardInput, at: DateTime<Utc>) -> Result<Scorecard> {
        scorecards::update_scorecard(&self.pool, id, input, at).await
    }
    async fn delete_scorecard(&self, id: ScorecardId) -> Result<ScorecardRemoval> {
        scorecards::delete_scorecard(&self.pool, id).await
    }
    async fn create_review(&self, review: &NewReview) -> Result<Review> {
        scorecards::create_review(&self.pool, review).await
    }
    async fn get_review(&self, id: ReviewId) -> Result<Review> {
        scorecards::get_review(&self.pool, id).await
    }
    async fn list_call_reviews(&self, call: CallId) -> Result<Vec<Review>> {
        scorecards::list_call_reviews(&self.pool, call).await
    }
    async fn list_agent_reviews(&self, filter: &ReviewFilter) -> Result<Vec<Review>> {
        scorecards::list_agent_reviews(&self.pool, filter).await
    }
    async fn update_review(&self, id: ReviewId, change: &ReviewChange) -> Result<Review> {
        scorecards::update_review(&self.pool, id, change).await
    }
    async fn delete_review(&self, id: ReviewId) -> Result<Review> {
        scorecards::delete_review(&self.pool, id).await
    }
    async fn queue_transcript(&self, r: RecordingId, call: CallId, now: DateTime<Utc>) -> Result<()> {
        transcripts::queue_transcript(&self.pool, r, call, now).await
    }
    async fn claim_transcript(
        &self,
        worker: &str,
        lease: &str,
        now: DateTime<Utc>,
        lease_ms: i64,
    ) -> Result<Option<ClaimedTranscript>> {
        transcripts::claim_transcript(&self.pool, worker, lease, now, lease_ms).await
    }
    async fn transcript_lease_held(&self, r: RecordingId, lease: &str) -> Result<bool> {
        transcripts::transcript_lease_held(&self.pool, r, lease).await
    }
    async fn put_transcript(&self, t: &NewTranscript<'_>) -> Result<bool> {
        transcripts::put_transcript(&self.pool, t).await
    }
    async fn fail_transcript(&self, f: &TranscriptFailure<'_>) -> Result<bool> {
        transcripts::fail_transcript(&self.pool, f).await
    }
    async fn get_transcript(&self, r: RecordingId) -> Result<Option<StoredTranscript>> {
        transcripts::get_transcript(&self.pool, r).await
    }
    async fn call_transcripts(&self, call: CallId) -> Result<Vec<StoredTranscript>> {
        transcripts::call_transcripts(&self.pool, call).await
    }
    async fn create_worker_token(&self, name: &str, hash: &str, at: DateTime<Utc>) -> Result<WorkerToken> {
        transcripts::create_worker_token(&self.pool, name, hash, at).await
    }
    async fn list_worker_tokens(&self) -> Result<Vec<WorkerToken>> {
        transcripts::list_worker_tokens(&self.pool).await
    }
    async fn delete_worker_token(&self, id: WorkerTokenId) -> Result<()> {
        transcripts::delete_worker_token(&self.pool, id).await
    }
    async fn worker_token_exists(&self, hash: &str) -> Result<bool> {
        transcripts::worker_token_exists(&self.pool, hash).await
    }
    async fn append_audit(&self, e: &NewAudit) -> Result<AuditEntry> {
        let r = sqlx::query(
            "INSERT INTO audit (at, user_id, actor, action, target, detail) VALUES ($1, $2, $3, $4, $5, $6)
             RETURNING id, at, user_id, actor, action, target, detail",
        )
        .bind(ms(e.at))
        .bind(e.user_id.map(|u| u.0))
        .bind(&e.actor)
        .bind(&e.action)
        .bind(&e.target)
        .bind(&e.detail)
        .fetch_one(&self.pool)
        .await?;
        Ok(audit_row(&r))
    }

    async fn list_audit(&self, f: &AuditFilter) -> Result<Vec<AuditEntry>> {
        let mut q: QueryBuilder<Postgres> =
            QueryBuilder::new("SELECT id, at, user_id, actor, action, target, detail FROM audit WHERE TRUE");
        if let Some(b) = f.before {
            q.push(" AND id < ").push_bind(b.0);
        }
        if let Some(a) = &f.action {
            q.push(" AND action = ").push_bind(a.clone());
        }
        if let Some(u) = f.user_id {
            q.push(" AND user_id = ").push_bind(u.0);
        }
        q.push(" ORDER BY id DESC LIMIT ").push_bind(f.limit.clamp(1, 1000));
        let rows = q.build().fetch_all(&self.pool).await?;
        Ok(rows.iter().map(audit_row).collect())
    }

    async fn get_setting(&self, key: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?)
    }

    async fn put_setting(&self, key: &str, value: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
