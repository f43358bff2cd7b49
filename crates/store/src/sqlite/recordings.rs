//! SQLite: recordings (one row per file), their dispatch targets, retention candidates and
//! storage totals.

use super::{from_ms, ms, opt_ms, parse_word};
use crate::{
    DispatchFilter, DispatchOutcome, FinishedRecording, NewDispatch, NewRecording, Result, StorageTotals, StoreError,
    StoredRecording,
};
use callrec_types::calls::{
    DispatchCall, DispatchStatus, DispatchTarget, Recording, RecordingHold, RecordingPause, RecordingState,
};
use callrec_types::*;
use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection, SqlitePool};

pub(super) const REC_COLS: &str =
    "r.id, r.call_id, r.seq, r.rel_path, r.file_name, r.started_at, r.start_offset_ms, r.duration_ms, \
     r.bytes, r.codec, r.sample_rate, r.channels, r.sha256, r.trigger, r.state, r.legal_hold, c.call_key, r.gaps, r.pauses, r.holds";

pub(super) fn rec_row(r: &SqliteRow) -> Result<StoredRecording> {
    Ok(StoredRecording {
        recording: Recording {
            id: RecordingId(r.get(0)),
            call_id: CallId(r.get(1)),
            seq: r.get(2),
            file_name: r.get(4),
            started_at: from_ms(r.get(5)),
            start_offset_ms: r.get(6),
            duration_ms: r.get(7),
            bytes: r.get(8),
            codec: parse_word(r.get(9))?,
            sample_rate: r.get::<i64, _>(10) as u32,
            channels: r.get::<i64, _>(11) as u16,
            sha256: r.get(12),
            trigger: serde_json::from_str(r.get(13)).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            state: parse_word(r.get(14))?,
            legal_hold: r.get(15),
            dispatch: Vec::new(),
            gaps: serde_json::from_str(r.get(17)).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            pauses: serde_json::from_str(r.get(18)).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            holds: serde_json::from_str(r.get(19)).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        },
        rel_path: r.get(3),
        call_key: r.get(16),
    })
}

fn word<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v)
        .expect("domain enums serialise")
        .trim_matches('"')
        .to_string()
}

pub(super) async fn insert_recording(conn: &mut SqliteConnection, r: &NewRecording) -> Result<i64> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO recordings (call_id, seq, rel_path, file_name, started_at, start_offset_ms, duration_ms, bytes, codec,
         sample_rate, channels, sha256, trigger, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(r.call_id.0)
    .bind(r.seq)
    .bind(&r.rel_path)
    .bind(&r.file_name)
    .bind(ms(r.started_at))
    .bind(r.start_offset_ms)
    .bind(r.duration_ms)
    .bind(r.bytes)
    .bind(r.codec.as_str())
    .bind(r.sample_rate as i64)
    .bind(r.channels as i64)
    .bind(&r.sha256)
    // Without the rule's name: the server fills it in from the rule as it is now.
    .bind(serde_json::to_string(&r.trigger.without_names()).expect("trigger serialises"))
    .bind(word(&r.state))
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| super::conflict(e, &format!("recording {} of call {} exists", r.seq, r.call_id)))?;
    sqlx::query("UPDATE calls SET recording_count = recording_count + 1 WHERE id = ?")
        .bind(r.call_id.0)
        .execute(&mut *conn)
        .await?;
    Ok(id)
}

async fn load(conn: &mut SqliteConnection, id: i64) -> Result<StoredRecording> {
    let r = sqlx::query(&format!(
        "SELECT {REC_COLS} FROM recordings r JOIN calls c ON c.id = r.call_id WHERE r.id = ?"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    let mut s = rec_row(&r)?;
    s.recording.dispatch = targets_of(conn, id).await?;
    Ok(s)
}

pub async fn create_recording(pool: &SqlitePool, r: &NewRecording) -> Result<Recording> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let id = insert_recording(&mut tx, r).await?;
    let rec = load(&mut tx, id).await?;
    tx.commit().await?;
    Ok(rec.recording)
}

pub async fn finish_recording(pool: &SqlitePool, id: RecordingId, f: &FinishedRecording) -> Result<Recording> {
    let n = sqlx::query(
        "UPDATE recordings SET duration_ms = ?, bytes = ?, sha256 = ?, codec = ?, sample_rate = ?, channels = ?,
         state = ?, gaps = ? WHERE id = ?",
    )
    .bind(f.duration_ms)
    .bind(f.bytes)
    .bind(&f.sha256)
    .bind(f.codec.as_str())
    .bind(i64::from(f.sample_rate))
    .bind(i64::from(f.channels))
    .bind(word(&RecordingState::Complete))
    .bind(serde_json::to_string(&f.gaps).expect("gaps serialise"))
    .bind(id.0)
    .execute(pool)
    .await?
    .rows_affected();
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(load(&mut *pool.acquire().await?, id.0).await?.recording)
}

pub async fn set_recording_pauses(pool: &SqlitePool, id: RecordingId, pauses: &[RecordingPause]) -> Result<()> {
    set_spans(pool, id, "UPDATE recordings SET pauses = ? WHERE id = ?", pauses).await
}

pub async fn set_recording_holds(pool: &SqlitePool, id: RecordingId, holds: &[RecordingHold]) -> Result<()> {
    set_spans(pool, id, "UPDATE recordings SET holds = ? WHERE id = ?", holds).await
}

/// Writes one of a recording's JSON span lists (pauses, holds) with `sql`; `NotFound` for no row.
async fn set_spans<T: serde::Serialize>(
    pool: &SqlitePool,
    id: RecordingId,
    sql: &'static str,
    spans: &[T],
) -> Result<()> {
    let n = sqlx::query(sql)
        .bind(serde_json::to_string(spans).expect("spans serialise"))
        .bind(id.0)
        .execute(pool)
        .await?
        .rows_affected();
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub async fn get_recording(pool: &SqlitePool, id: RecordingId) -> Result<StoredRecording> {
    load(&mut *pool.acquire().await?, id.0).await
}

pub async fn recording_by_path(pool: &SqlitePool, rel_path: &str) -> Result<Option<RecordingId>> {
    let id: Option<i64> = sqlx::query_scalar("SELECT id FROM recordings WHERE rel_path = ?")
        .bind(rel_path)
        .fetch_optional(pool)
        .await?;
    Ok(id.map(RecordingId))
}

pub async fn list_recordings(pool: &SqlitePool, call: CallId) -> Result<Vec<Recording>> {
    let mut conn = pool.acquire().await?;
    let rows = sqlx::query(&format!(
        "SELECT {REC_COLS} FROM recordings r JOIN calls c ON c.id = r.call_id WHERE r.call_id = ? ORDER BY r.seq"
    ))
    .bind(call.0)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let mut s = rec_row(r)?;
        s.recording.dispatch = targets_of(&mut conn, s.recording.id.0).await?;
        out.push(s.recording);
    }
    Ok(out)
}

pub async fn unfinished_recordings(pool: &SqlitePool) -> Result<Vec<StoredRecording>> {
    let rows = sqlx::query(&format!(
        "SELECT {REC_COLS} FROM recordings r JOIN calls c ON c.id = r.call_id WHERE r.state = 'recording' ORDER BY r.id"
    ))
    .fetch_all(pool)
    .await?;
    rows.iter().map(rec_row).collect()
}

pub async fn set_legal_hold(pool: &SqlitePool, id: RecordingId, hold: bool) -> Result<Recording> {
    if sqlx::query("UPDATE recordings SET legal_hold = ? WHERE id = ?")
        .bind(hold)
        .bind(id.0)
        .execute(pool)
        .await?
        .rows_affected()
        == 0
    {
        return Err(StoreError::NotFound);
    }
    Ok(load(&mut *pool.acquire().await?, id.0).await?.recording)
}

pub async fn delete_recording(pool: &SqlitePool, id: RecordingId) -> Result<StoredRecording> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let rec = load(&mut tx, id.0).await?;
    sqlx::query("DELETE FROM recordings WHERE id = ?")
        .bind(id.0)
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE calls SET recording_count = recording_count - 1 WHERE id = ?")
        .bind(rec.recording.call_id.0)
        .execute(&mut *tx)
        .await?;
    // Its transcript went with it (ON DELETE CASCADE): so go its words from the search text.
    super::transcripts::refresh_search(&mut tx, rec.recording.call_id.0).await?;
    tx.commit().await?;
    Ok(rec)
}

pub async fn expired_recordings(pool: &SqlitePool, before: DateTime<Utc>, limit: i64) -> Result<Vec<StoredRecording>> {
    let rows = sqlx::query(&format!(
        "SELECT {REC_COLS} FROM recordings r JOIN calls c ON c.id = r.call_id
         WHERE r.started_at < ? AND r.legal_hold = 0 AND r.state = 'complete'
           AND NOT EXISTS (SELECT 1 FROM dispatch d WHERE d.recording_id = r.id AND d.status = 'pending')
         ORDER BY r.started_at LIMIT ?"
    ))
    .bind(ms(before))
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.iter().map(rec_row).collect()
}

pub async fn storage_totals(pool: &SqlitePool, since: DateTime<Utc>) -> Result<StorageTotals> {
    let r = sqlx::query(
        "SELECT COALESCE(SUM(bytes), 0), COUNT(*),
                COALESCE(SUM(CASE WHEN started_at >= ? THEN bytes ELSE 0 END), 0),
                MIN(CASE WHEN started_at >= ? THEN started_at END)
         FROM recordings",
    )
    .bind(ms(since))
    .bind(ms(since))
    .fetch_one(pool)
    .await?;
    Ok(StorageTotals {
        bytes: r.get(0),
        recordings: r.get(1),
        bytes_since: r.get(2),
        oldest_since: r.get::<Option<i64>, _>(3).map(from_ms),
    })
}

// --- dispatch -------------------------------------------------------------------------------

const DISPATCH_COLS: &str =
    "id, recording_id, rule_id, target, status, attempts, last_error, next_attempt_at, sent_at, detail";

fn dispatch_row(r: &SqliteRow) -> Result<DispatchTarget> {
    Ok(DispatchTarget {
        id: DispatchId(r.get(0)),
        recording_id: RecordingId(r.get(1)),
        rule_id: r.get::<Option<i64>, _>(2).map(RuleId),
        target: serde_json::from_str(r.get(3)).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        status: DispatchStatus::parse(r.get(4)).ok_or_else(|| StoreError::Corrupt("dispatch status".into()))?,
        attempts: r.get(5),
        last_error: r.get(6),
        next_attempt_at: r.get::<Option<i64>, _>(7).map(from_ms),
        sent_at: r.get::<Option<i64>, _>(8).map(from_ms),
        detail: r.get(9),
        call: None,
    })
}

async fn targets_of(conn: &mut SqliteConnection, rec: i64) -> Result<Vec<DispatchTarget>> {
    let rows = sqlx::query(&format!(
        "SELECT {DISPATCH_COLS} FROM dispatch WHERE recording_id = ? ORDER BY id"
    ))
    .bind(rec)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(dispatch_row).collect()
}

pub async fn queue_dispatch(
    pool: &SqlitePool,
    rec: RecordingId,
    targets: &[NewDispatch],
    now: DateTime<Utc>,
) -> Result<Vec<DispatchTarget>> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    for (i, t) in targets.iter().enumerate() {
        // Stable per recording and target: the same copy keeps the same key through retries.
        let key = format!("callrec-{}-{}-{}", rec.0, t.rule_id.map(|r| r.0).unwrap_or(0), i);
        // A webhook's secret: the one given, else its rule's (the JSON keeps the mask).
        sqlx::query(
            "INSERT OR IGNORE INTO dispatch (recording_id, rule_id, target, status, attempts, next_attempt_at, idempotency_key, created_at, secret)
             VALUES (?, ?, ?, 'pending', 0, ?, ?, ?,
                     CASE WHEN ? THEN COALESCE(?, (SELECT dispatch_secret FROM rules WHERE id = ?)) END)",
        )
        .bind(rec.0)
        .bind(t.rule_id.map(|r| r.0))
        .bind(serde_json::to_string(&t.target.redacted()).expect("dispatch serialises"))
        .bind(ms(now))
        .bind(key)
        .bind(ms(now))
        .bind(t.target.is_immediate())
        .bind(t.target.new_secret())
        .bind(t.rule_id.map(|r| r.0))
        .execute(&mut *tx)
        .await?;
    }
    let out = targets_of(&mut tx, rec.0).await?;
    tx.commit().await?;
    Ok(out)
}

/// The queue, newest first, each target with its recording's call (one statement: the call's
/// few facts come by primary key with each row).
pub async fn list_dispatch(pool: &SqlitePool, f: &DispatchFilter) -> Result<Vec<DispatchTarget>> {
    let cols = DISPATCH_COLS
        .split(", ")
        .map(|c| format!("d.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut sql = format!(
        "SELECT {cols}, c.id, c.started_at, c.participants, r.seq FROM dispatch d \
         JOIN recordings r ON r.id = d.recording_id JOIN calls c ON c.id = r.call_id WHERE 1 = 1"
    );
    if f.status.is_some() {
        sql.push_str(" AND d.status = ?");
    }
    if f.recording_id.is_some() {
        sql.push_str(" AND d.recording_id = ?");
    }
    sql.push_str(" ORDER BY d.id DESC LIMIT ?");
    let mut q = sqlx::query(&sql);
    if let Some(s) = f.status {
        q = q.bind(s.as_str());
    }
    if let Some(r) = f.recording_id {
        q = q.bind(r.0);
    }
    let rows = q.bind(f.limit.unwrap_or(1000).clamp(1, 10_000)).fetch_all(pool).await?;
    rows.iter()
        .map(|r| {
            let mut t = dispatch_row(r)?;
            t.call = Some(DispatchCall {
                id: CallId(r.get(10)),
                started_at: from_ms(r.get(11)),
                participants: serde_json::from_str(r.get(12)).map_err(|e| StoreError::Corrupt(e.to_string()))?,
                recording_seq: u32::try_from(r.get::<i64, _>(13))
                    .map_err(|_| StoreError::Corrupt("recording seq".into()))?,
            });
            Ok(t)
        })
        .collect()
}

pub async fn due_dispatch(pool: &SqlitePool, now: DateTime<Utc>, limit: i64) -> Result<Vec<DispatchTarget>> {
    let rows = sqlx::query(&format!(
        "SELECT {DISPATCH_COLS} FROM dispatch WHERE status = 'pending' AND (next_attempt_at IS NULL OR next_attempt_at <= ?)
           AND (lease_until IS NULL OR lease_until <= ?)
         ORDER BY id LIMIT ?"
    ))
    .bind(ms(now))
    .bind(ms(now))
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.iter().map(dispatch_row).collect()
}

/// Pending webhook targets that are due and unleased (sent as soon as they are due, not on
/// the schedule).
pub async fn due_webhooks(pool: &SqlitePool, now: DateTime<Utc>, limit: i64) -> Result<Vec<DispatchTarget>> {
    let rows = sqlx::query(&format!(
        "SELECT {DISPATCH_COLS} FROM dispatch WHERE status = 'pending' AND json_extract(target, '$.kind') = 'webhook'
           AND (next_attempt_at IS NULL OR next_attempt_at <= ?) AND (lease_until IS NULL OR lease_until <= ?)
         ORDER BY id LIMIT ?"
    ))
    .bind(ms(now))
    .bind(ms(now))
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.iter().map(dispatch_row).collect()
}

/// When the next pending webhook target can be claimed: its next attempt or the end of its
/// lease, whichever is later; `None` when no webhook is pending.
pub async fn next_webhook_due(pool: &SqlitePool) -> Result<Option<DateTime<Utc>>> {
    let at: Option<i64> = sqlx::query_scalar(
        "SELECT MIN(MAX(COALESCE(next_attempt_at, 0), COALESCE(lease_until, 0))) FROM dispatch
         WHERE status = 'pending' AND json_extract(target, '$.kind') = 'webhook'",
    )
    .fetch_one(pool)
    .await?;
    Ok(at.map(from_ms))
}

pub async fn dispatch_secret(pool: &SqlitePool, id: DispatchId) -> Result<Option<String>> {
    let s: Option<Option<String>> = sqlx::query_scalar("SELECT secret FROM dispatch WHERE id = ?")
        .bind(id.0)
        .fetch_optional(pool)
        .await?;
    s.ok_or(StoreError::NotFound)
}

pub async fn record_dispatch_attempt(pool: &SqlitePool, id: DispatchId, o: &DispatchOutcome) -> Result<DispatchTarget> {
    let sent_at = (o.status == DispatchStatus::Sent).then_some(o.at);
    let r = sqlx::query(&format!(
        "UPDATE dispatch SET status = ?, attempts = attempts + 1, last_error = ?, detail = COALESCE(?, detail),
         next_attempt_at = ?, sent_at = COALESCE(?, sent_at), lease_until = NULL WHERE id = ? RETURNING {DISPATCH_COLS}"
    ))
    .bind(o.status.as_str())
    .bind(&o.error)
    .bind(&o.detail)
    .bind(opt_ms(o.next_attempt_at))
    .bind(opt_ms(sent_at))
    .bind(id.0)
    .fetch_optional(pool)
    .await?
    .ok_or(StoreError::NotFound)?;
    dispatch_row(&r)
}

pub async fn get_dispatch(pool: &SqlitePool, id: DispatchId) -> Result<DispatchTarget> {
    let r = sqlx::query(&format!("SELECT {DISPATCH_COLS} FROM dispatch WHERE id = ?"))
        .bind(id.0)
        .fetch_optional(pool)
        .await?
        .ok_or(StoreError::NotFound)?;
    dispatch_row(&r)
}

pub async fn dispatch_key(pool: &SqlitePool, id: DispatchId) -> Result<String> {
    sqlx::query_scalar("SELECT idempotency_key FROM dispatch WHERE id = ?")
        .bind(id.0)
        .fetch_optional(pool)
        .await?
        .ok_or(StoreError::NotFound)
}

pub async fn claim_dispatch(
    pool: &SqlitePool,
    id: DispatchId,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
) -> Result<bool> {
    // One statement, so two runs racing for the same target cannot both win.
    let n = sqlx::query(
        "UPDATE dispatch SET lease_until = ?
         WHERE id = ? AND status = 'pending' AND (next_attempt_at IS NULL OR next_attempt_at <= ?)
           AND (lease_until IS NULL OR lease_until <= ?)",
    )
    .bind(ms(lease_until))
    .bind(id.0)
    .bind(ms(now))
    .bind(ms(now))
    .execute(pool)
    .await?
    .rows_affected();
    Ok(n == 1)
}

pub async fn retry_dispatch(pool: &SqlitePool, id: DispatchId, now: DateTime<Utc>) -> Result<DispatchTarget> {
    let r = sqlx::query(&format!(
        "UPDATE dispatch SET status = 'pending', next_attempt_at = ?
         WHERE id = ? AND (lease_until IS NULL OR lease_until <= ?) RETURNING {DISPATCH_COLS}"
    ))
    .bind(ms(now))
    .bind(id.0)
    .bind(ms(now))
    .fetch_optional(pool)
    .await?;
    match r {
        Some(r) => dispatch_row(&r),
        None => {
            get_dispatch(pool, id).await?;
            Err(StoreError::Conflict(format!(
                "dispatch target {id} is being sent right now"
            )))
        }
    }
}

pub async fn expedite_dispatch(pool: &SqlitePool, now: DateTime<Utc>) -> Result<u64> {
    Ok(sqlx::query(
        "UPDATE dispatch SET next_attempt_at = ?
         WHERE status = 'pending' AND next_attempt_at > ? AND (lease_until IS NULL OR lease_until <= ?)",
    )
    .bind(ms(now))
    .bind(ms(now))
    .bind(ms(now))
    .execute(pool)
    .await?
    .rows_affected())
}
