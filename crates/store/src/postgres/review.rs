//! PostgreSQL: quality review and training (issue #15) — the peaks cache, timestamped comments and
//! time-limited shares. Names are the directory's as they are now (display name, else
//! username), read with the rows; a deleted author keeps the name stored with the comment.

use crate::sqlite::{from_ms, ms, opt_ms};
use crate::{NewCommentRecord, NewShareRecord, Result, StoreError, PEAKS_KEPT};
use callrec_types::review::{Comment, NewComment, Peaks, Share};
use callrec_types::*;
use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Row};

pub async fn get_peaks(pool: &PgPool, recording: RecordingId, buckets: u32) -> Result<Option<Peaks>> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT peaks FROM recording_peaks WHERE recording_id = $1 AND buckets = $2")
            .bind(recording.0)
            .bind(i64::from(buckets))
            .fetch_optional(pool)
            .await?;
    row.map(|(json,)| serde_json::from_str(&json).map_err(|e| StoreError::Corrupt(format!("peaks: {e}"))))
        .transpose()
}

pub async fn put_peaks(pool: &PgPool, buckets: u32, peaks: &Peaks, at: DateTime<Utc>) -> Result<()> {
    let json = serde_json::to_string(peaks).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let mut tx = pool.begin().await?;
    let put = sqlx::query(
        "INSERT INTO recording_peaks (recording_id, buckets, computed_at, peaks) VALUES ($1, $2, $3, $4)
         ON CONFLICT (recording_id, buckets) DO NOTHING",
    )
    .bind(peaks.recording_id.0)
    .bind(i64::from(buckets))
    .bind(ms(at))
    .bind(json)
    .execute(&mut *tx)
    .await;
    match put {
        Ok(_) => {}
        // The recording was deleted meanwhile: nothing to cache.
        Err(sqlx::Error::Database(db)) if db.is_foreign_key_violation() => return Ok(()),
        Err(e) => return Err(e.into()),
    }
    sqlx::query(
        "DELETE FROM recording_peaks WHERE recording_id = $1 AND buckets NOT IN
           (SELECT buckets FROM recording_peaks WHERE recording_id = $1
            ORDER BY computed_at DESC, buckets DESC LIMIT $2)",
    )
    .bind(peaks.recording_id.0)
    .bind(PEAKS_KEPT)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

const COMMENT_COLS: &str = "c.id, c.recording_id, c.author_id, \
    COALESCE(NULLIF(u.display_name, ''), u.username, c.author_name), c.at_ms, c.to_ms, c.text, c.created_at, \
    c.edited_at";

fn comment_row(r: &PgRow) -> Comment {
    Comment {
        id: CommentId(r.get(0)),
        recording_id: RecordingId(r.get(1)),
        author_id: r.get::<Option<i64>, _>(2).map(UserId),
        author_name: r.get(3),
        at_ms: r.get(4),
        to_ms: r.get(5),
        text: r.get(6),
        created_at: from_ms(r.get(7)),
        edited_at: r.get::<Option<i64>, _>(8).map(from_ms),
    }
}

pub async fn list_comments(pool: &PgPool, recording: RecordingId) -> Result<Vec<Comment>> {
    let rows = sqlx::query(&format!(
        "SELECT {COMMENT_COLS} FROM comments c LEFT JOIN users u ON u.id = c.author_id
         WHERE c.recording_id = $1 ORDER BY c.at_ms, c.id"
    ))
    .bind(recording.0)
    .fetch_all(pool)
    .await?;
    Ok(rows.iter().map(comment_row).collect())
}

pub async fn get_comment(pool: &PgPool, id: CommentId) -> Result<Comment> {
    sqlx::query(&format!(
        "SELECT {COMMENT_COLS} FROM comments c LEFT JOIN users u ON u.id = c.author_id WHERE c.id = $1"
    ))
    .bind(id.0)
    .fetch_optional(pool)
    .await?
    .map(|r| comment_row(&r))
    .ok_or(StoreError::NotFound)
}

pub async fn create_comment(pool: &PgPool, c: &NewCommentRecord) -> Result<Comment> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO comments (recording_id, author_id, author_name, at_ms, to_ms, text, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(c.recording_id.0)
    .bind(c.author_id.0)
    .bind(&c.author_name)
    .bind(c.at_ms)
    .bind(c.to_ms)
    .bind(&c.text)
    .bind(ms(c.created_at))
    .fetch_one(pool)
    .await
    .map_err(|e| crate::sqlite::conflict(e, "the recording or the author no longer exists"))?;
    get_comment(pool, CommentId(id)).await
}

pub async fn update_comment(pool: &PgPool, id: CommentId, c: &NewComment, at: DateTime<Utc>) -> Result<Comment> {
    let done = sqlx::query("UPDATE comments SET at_ms = $1, to_ms = $2, text = $3, edited_at = $4 WHERE id = $5")
        .bind(c.at_ms)
        .bind(c.to_ms)
        .bind(&c.text)
        .bind(ms(at))
        .bind(id.0)
        .execute(pool)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    get_comment(pool, id).await
}

pub async fn delete_comment(pool: &PgPool, id: CommentId) -> Result<Comment> {
    let comment = get_comment(pool, id).await?;
    let done = sqlx::query("DELETE FROM comments WHERE id = $1")
        .bind(id.0)
        .execute(pool)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(comment)
}

const SHARE_COLS: &str = "s.id, s.recording_id, s.call_id, s.user_id, \
    COALESCE(NULLIF(t.display_name, ''), t.username, ''), s.granted_by, \
    COALESCE(NULLIF(g.display_name, ''), g.username, s.granted_by_name), s.granted_at, s.expires_at, \
    s.revoked_at, s.revoked_by";
const SHARE_FROM: &str = "shares s LEFT JOIN users t ON t.id = s.user_id LEFT JOIN users g ON g.id = s.granted_by";

fn share_row(r: &PgRow) -> Share {
    Share {
        id: ShareId(r.get(0)),
        recording_id: RecordingId(r.get(1)),
        call_id: CallId(r.get(2)),
        user_id: UserId(r.get(3)),
        user_name: r.get(4),
        granted_by: r.get::<Option<i64>, _>(5).map(UserId),
        granted_by_name: r.get(6),
        granted_at: from_ms(r.get(7)),
        expires_at: from_ms(r.get(8)),
        revoked_at: r.get::<Option<i64>, _>(9).map(from_ms),
        revoked_by: r.get::<Option<i64>, _>(10).map(UserId),
    }
}

pub async fn create_share(pool: &PgPool, s: &NewShareRecord) -> Result<Share> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO shares (recording_id, call_id, user_id, granted_by, granted_by_name, granted_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(s.recording_id.0)
    .bind(s.call_id.0)
    .bind(s.user_id.0)
    .bind(s.granted_by.0)
    .bind(&s.granted_by_name)
    .bind(ms(s.granted_at))
    .bind(ms(s.expires_at))
    .fetch_one(pool)
    .await
    .map_err(|e| match crate::sqlite::conflict(e, "") {
        StoreError::Conflict(_) => StoreError::Invalid("user_id: no such user".into()),
        other => other,
    })?;
    get_share(pool, ShareId(id)).await
}

pub async fn get_share(pool: &PgPool, id: ShareId) -> Result<Share> {
    sqlx::query(&format!("SELECT {SHARE_COLS} FROM {SHARE_FROM} WHERE s.id = $1"))
        .bind(id.0)
        .fetch_optional(pool)
        .await?
        .map(|r| share_row(&r))
        .ok_or(StoreError::NotFound)
}

pub async fn list_shares(pool: &PgPool, recording: RecordingId) -> Result<Vec<Share>> {
    let rows = sqlx::query(&format!(
        "SELECT {SHARE_COLS} FROM {SHARE_FROM} WHERE s.recording_id = $1 ORDER BY s.id DESC"
    ))
    .bind(recording.0)
    .fetch_all(pool)
    .await?;
    Ok(rows.iter().map(share_row).collect())
}

pub async fn revoke_share(pool: &PgPool, id: ShareId, by: UserId, at: DateTime<Utc>) -> Result<Share> {
    sqlx::query("UPDATE shares SET revoked_at = $1, revoked_by = $2 WHERE id = $3 AND revoked_at IS NULL")
        .bind(opt_ms(Some(at)))
        .bind(by.0)
        .bind(id.0)
        .execute(pool)
        .await?;
    get_share(pool, id).await
}

pub async fn live_shares(pool: &PgPool, user: UserId, call: CallId, now: DateTime<Utc>) -> Result<Vec<Share>> {
    let rows = sqlx::query(&format!(
        "SELECT {SHARE_COLS} FROM {SHARE_FROM}
         WHERE s.call_id = $1 AND s.user_id = $2 AND s.revoked_at IS NULL AND s.expires_at > $3 ORDER BY s.id DESC"
    ))
    .bind(call.0)
    .bind(user.0)
    .bind(ms(now))
    .fetch_all(pool)
    .await?;
    Ok(rows.iter().map(share_row).collect())
}

pub async fn list_shared(pool: &PgPool, user: UserId, now: DateTime<Utc>) -> Result<Vec<Share>> {
    let rows = sqlx::query(&format!(
        "SELECT {SHARE_COLS} FROM {SHARE_FROM}
         WHERE s.user_id = $1 AND s.revoked_at IS NULL AND s.expires_at > $2 ORDER BY s.id DESC"
    ))
    .bind(user.0)
    .bind(ms(now))
    .fetch_all(pool)
    .await?;
    Ok(rows.iter().map(share_row).collect())
}
