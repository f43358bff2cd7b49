//! SQLite: transcription jobs and transcripts (issue #16), and the worker tokens. A job is
//! claimed, finished and failed each in one statement that names its lease, so a worker whose
//! lease was taken over (it was presumed dead) changes nothing; a stored transcript's text is
//! appended to its call's search text (migration 0017) in the same transaction.

use super::{from_ms, ms};
use crate::transcripts::cut_chars;
use crate::{
    ClaimedTranscript, NewTranscript, Result, StoreError, StoredTranscript, TranscriptFailure,
    MAX_TRANSCRIPT_SEARCH_CHARS,
};
use callrec_types::transcripts::{TranscriptStatus, WorkerToken, MAX_TRANSCRIPT_ATTEMPTS};
use callrec_types::*;
use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection, SqlitePool};

pub async fn queue_transcript(pool: &SqlitePool, rec: RecordingId, call: CallId, now: DateTime<Utc>) -> Result<()> {
    sqlx::query(
        "INSERT INTO transcripts (recording_id, call_id, status, queued_at, next_attempt_at)
         VALUES (?, ?, 'queued', ?, ?) ON CONFLICT (recording_id) DO NOTHING",
    )
    .bind(rec.0)
    .bind(call.0)
    .bind(ms(now))
    .bind(ms(now))
    .execute(pool)
    .await
    .map_err(|e| super::conflict(e, "the recording no longer exists"))?;
    Ok(())
}

pub async fn claim_transcript(
    pool: &SqlitePool,
    worker: &str,
    lease: &str,
    now: DateTime<Utc>,
    lease_ms: i64,
) -> Result<Option<ClaimedTranscript>> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    sqlx::query(
        "UPDATE transcripts SET status = 'failed', lease = NULL, lease_until = NULL, finished_at = ?1,
         error = COALESCE(error, 'the worker stopped answering') || ' (gave up after ' || attempts || ' attempts)'
         WHERE status = 'running' AND lease_until <= ?1 AND attempts >= ?2",
    )
    .bind(ms(now))
    .bind(MAX_TRANSCRIPT_ATTEMPTS)
    .execute(&mut *tx)
    .await?;
    let row: Option<(i64, i64, i64)> = sqlx::query_as(
        "UPDATE transcripts SET status = 'running', attempts = attempts + 1, lease = ?1, worker = ?3,
         lease_until = ?4 + ?2 + COALESCE((SELECT r.duration_ms FROM recordings r WHERE r.id = transcripts.recording_id), 0),
         error = CASE WHEN status = 'running' THEN 'the worker stopped answering' ELSE error END
         WHERE recording_id = (SELECT recording_id FROM transcripts
                               WHERE (status = 'queued' AND next_attempt_at <= ?4)
                                  OR (status = 'running' AND lease_until <= ?4)
                               ORDER BY next_attempt_at, recording_id LIMIT 1)
         RETURNING recording_id, attempts, lease_until",
    )
    .bind(lease)
    .bind(lease_ms)
    .bind(worker)
    .bind(ms(now))
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(row.map(|(id, attempt, until)| ClaimedTranscript {
        recording_id: RecordingId(id),
        attempt,
        lease_until: from_ms(until),
    }))
}

pub async fn transcript_lease_held(pool: &SqlitePool, rec: RecordingId, lease: &str) -> Result<bool> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM transcripts WHERE recording_id = ? AND status = 'running' AND lease = ?",
    )
    .bind(rec.0)
    .bind(lease)
    .fetch_one(pool)
    .await?;
    Ok(n > 0)
}

pub async fn put_transcript(pool: &SqlitePool, t: &NewTranscript<'_>) -> Result<bool> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let call: Option<i64> = sqlx::query_scalar(
        "UPDATE transcripts SET status = 'done', lines = ?, search = ?, finished_at = ?, error = NULL,
         lease = NULL, lease_until = NULL
         WHERE recording_id = ? AND status = 'running' AND lease = ? RETURNING call_id",
    )
    .bind(t.lines)
    .bind(cut_chars(t.search, MAX_TRANSCRIPT_SEARCH_CHARS))
    .bind(ms(t.at))
    .bind(t.recording_id.0)
    .bind(t.lease)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(call) = call else {
        return Ok(false);
    };
    refresh_search(&mut tx, call).await?;
    tx.commit().await?;
    Ok(true)
}

/// Rewrites the call's transcript text (the end of its search text, and the copies in
/// `call_users`) from its recordings' transcripts: after one is stored or deleted.
pub(super) async fn refresh_search(conn: &mut SqliteConnection, call: i64) -> Result<()> {
    let parts: Vec<String> = sqlx::query_scalar(
        "SELECT search FROM transcripts WHERE call_id = ? AND status = 'done' ORDER BY recording_id",
    )
    .bind(call)
    .fetch_all(&mut *conn)
    .await?;
    let all = parts.concat();
    let text = cut_chars(&all, MAX_TRANSCRIPT_SEARCH_CHARS);
    let changed = sqlx::query(
        "UPDATE calls SET search = substr(search, 1, length(search) - length(transcript_search)) || ?1,
         transcript_search = ?1 WHERE id = ?2 AND transcript_search <> ?1",
    )
    .bind(text)
    .bind(call)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if changed > 0 {
        sqlx::query("UPDATE call_users SET search = (SELECT search FROM calls WHERE id = ?1) WHERE call_id = ?1")
            .bind(call)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

pub async fn fail_transcript(pool: &SqlitePool, f: &TranscriptFailure<'_>) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE transcripts SET status = ?, error = ?, next_attempt_at = ?, finished_at = ?, lease = NULL, lease_until = NULL
         WHERE recording_id = ? AND status = 'running' AND lease = ?",
    )
    .bind(if f.retry_at.is_some() { "queued" } else { "failed" })
    .bind(f.error)
    .bind(ms(f.retry_at.unwrap_or(f.at)))
    .bind(f.retry_at.is_none().then(|| ms(f.at)))
    .bind(f.recording_id.0)
    .bind(f.lease)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() > 0)
}

const COLS: &str = "recording_id, call_id, status, attempts, error, queued_at, finished_at, lines";

fn row(r: &SqliteRow) -> Result<StoredTranscript> {
    let status: String = r.get(2);
    Ok(StoredTranscript {
        recording_id: RecordingId(r.get(0)),
        call_id: CallId(r.get(1)),
        status: TranscriptStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("transcript status {status:?}")))?,
        attempts: r.get(3),
        error: r.get(4),
        queued_at: from_ms(r.get(5)),
        finished_at: r.get::<Option<i64>, _>(6).map(from_ms),
        lines: r.get(7),
    })
}

pub async fn get_transcript(pool: &SqlitePool, rec: RecordingId) -> Result<Option<StoredTranscript>> {
    sqlx::query(&format!("SELECT {COLS} FROM transcripts WHERE recording_id = ?"))
        .bind(rec.0)
        .fetch_optional(pool)
        .await?
        .map(|r| row(&r))
        .transpose()
}

pub async fn call_transcripts(pool: &SqlitePool, call: CallId) -> Result<Vec<StoredTranscript>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLS} FROM transcripts WHERE call_id = ? ORDER BY recording_id"
    ))
    .bind(call.0)
    .fetch_all(pool)
    .await?;
    rows.iter().map(row).collect()
}

pub async fn create_worker_token(pool: &SqlitePool, name: &str, hash: &str, at: DateTime<Utc>) -> Result<WorkerToken> {
    let id: i64 =
        sqlx::query_scalar("INSERT INTO worker_tokens (name, token_hash, created_at) VALUES (?, ?, ?) RETURNING id")
            .bind(name)
            .bind(hash)
            .bind(ms(at))
            .fetch_one(pool)
            .await
            .map_err(|e| super::conflict(e, "the token exists"))?;
    Ok(WorkerToken {
        id: WorkerTokenId(id),
        name: name.to_string(),
        created_at: from_ms(ms(at)),
        token: None,
    })
}

pub async fn list_worker_tokens(pool: &SqlitePool) -> Result<Vec<WorkerToken>> {
    let rows: Vec<(i64, String, i64)> = sqlx::query_as("SELECT id, name, created_at FROM worker_tokens ORDER BY id")
        .fetch_all(pool)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, name, at)| WorkerToken {
            id: WorkerTokenId(id),
            name,
            created_at: from_ms(at),
            token: None,
        })
        .collect())
}

pub async fn delete_worker_token(pool: &SqlitePool, id: WorkerTokenId) -> Result<()> {
    let done = sqlx::query("DELETE FROM worker_tokens WHERE id = ?")
        .bind(id.0)
        .execute(pool)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub async fn worker_token_exists(pool: &SqlitePool, hash: &str) -> Result<bool> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM worker_tokens WHERE token_hash = ?")
        .bind(hash)
        .fetch_one(pool)
        .await?;
    Ok(n > 0)
}
