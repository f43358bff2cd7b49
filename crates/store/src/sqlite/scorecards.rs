//! SQLite: scorecards and reviews (issue #15.4, migration 0016). Writing a review also writes
//! its call's `review_score` (the average of the call's reviews) in the same transaction: the
//! journal's score column and "reviewed" filter read only the call row.

use super::{conflict, from_ms, ms};
use crate::{NewReview, Result, ReviewChange, ReviewFilter, ScorecardRemoval, StoreError};
use callrec_types::scorecards::{Review, Scorecard, ScorecardInput};
use callrec_types::*;
use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection, SqlitePool};

const CARD_COLS: &str = "id, name, criteria, version, archived, created_at, updated_at";

pub(crate) const REVIEW_COLS: &str = "id, call_id, call_started_at, agent_id, reviewer_id, scorecard_id, \
     scorecard_name, scorecard_version, criteria, answers, comment, score, created_at, updated_at";

fn json<T: serde::de::DeserializeOwned>(s: &str) -> Result<T> {
    serde_json::from_str(s).map_err(|e| StoreError::Corrupt(e.to_string()))
}

pub(crate) fn to_json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("criteria and answers serialise")
}

fn card_row(r: &SqliteRow) -> Result<Scorecard> {
    Ok(Scorecard {
        id: ScorecardId(r.get(0)),
        name: r.get(1),
        criteria: json(r.get(2))?,
        version: r.get(3),
        archived: r.get(4),
        created_at: from_ms(r.get(5)),
        updated_at: from_ms(r.get(6)),
    })
}

fn review_row(r: &SqliteRow) -> Result<Review> {
    Ok(Review {
        id: ReviewId(r.get(0)),
        call_id: CallId(r.get(1)),
        call_started_at: from_ms(r.get(2)),
        agent_id: UserId(r.get(3)),
        reviewer_id: UserId(r.get(4)),
        scorecard_id: ScorecardId(r.get(5)),
        scorecard_name: r.get(6),
        scorecard_version: r.get(7),
        criteria: json(r.get(8))?,
        answers: json(r.get(9))?,
        comment: r.get(10),
        score: r.get(11),
        created_at: from_ms(r.get(12)),
        updated_at: from_ms(r.get(13)),
        agent_name: None,
        reviewer_name: None,
    })
}

fn name_taken(name: &str) -> String {
    format!("a scorecard named {:?} exists", name.trim())
}

pub async fn list_scorecards(pool: &SqlitePool, archived: bool) -> Result<Vec<Scorecard>> {
    let filter = if archived { "" } else { "WHERE archived = 0" };
    sqlx::query(&format!(
        "SELECT {CARD_COLS} FROM scorecards {filter} ORDER BY name, id"
    ))
    .fetch_all(pool)
    .await?
    .iter()
    .map(card_row)
    .collect()
}

pub async fn get_scorecard(pool: &SqlitePool, id: ScorecardId) -> Result<Scorecard> {
    let r = sqlx::query(&format!("SELECT {CARD_COLS} FROM scorecards WHERE id = ?"))
        .bind(id.0)
        .fetch_optional(pool)
        .await?
        .ok_or(StoreError::NotFound)?;
    card_row(&r)
}

pub async fn create_scorecard(pool: &SqlitePool, input: &ScorecardInput, at: DateTime<Utc>) -> Result<Scorecard> {
    let r = sqlx::query(&format!(
        "INSERT INTO scorecards (name, criteria, created_at, updated_at) VALUES (?, ?, ?, ?) RETURNING {CARD_COLS}"
    ))
    .bind(input.name.trim())
    .bind(to_json(&input.criteria))
    .bind(ms(at))
    .bind(ms(at))
    .fetch_one(pool)
    .await
    .map_err(|e| conflict(e, &name_taken(&input.name)))?;
    card_row(&r)
}

pub async fn update_scorecard(
    pool: &SqlitePool,
    id: ScorecardId,
    input: &ScorecardInput,
    at: DateTime<Utc>,
) -> Result<Scorecard> {
    let r = sqlx::query(&format!(
        "UPDATE scorecards SET name = ?, criteria = ?, version = version + 1, updated_at = ?
         WHERE id = ? AND archived = 0 RETURNING {CARD_COLS}"
    ))
    .bind(input.name.trim())
    .bind(to_json(&input.criteria))
    .bind(ms(at))
    .bind(id.0)
    .fetch_optional(pool)
    .await
    .map_err(|e| conflict(e, &name_taken(&input.name)))?;
    match r {
        Some(r) => card_row(&r),
        // Archived, or not there at all.
        None => get_scorecard(pool, id).await.and(Err(StoreError::Conflict(
            "the scorecard is archived; it cannot be edited".into(),
        ))),
    }
}

pub async fn delete_scorecard(pool: &SqlitePool, id: ScorecardId) -> Result<ScorecardRemoval> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let used: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM reviews WHERE scorecard_id = ?)")
        .bind(id.0)
        .fetch_one(&mut *tx)
        .await?;
    let sql = if used {
        "UPDATE scorecards SET archived = 1 WHERE id = ?"
    } else {
        "DELETE FROM scorecards WHERE id = ?"
    };
    let n = sqlx::query(sql).bind(id.0).execute(&mut *tx).await?.rows_affected();
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    tx.commit().await?;
    Ok(if used {
        ScorecardRemoval::Archived
    } else {
        ScorecardRemoval::Deleted
    })
}

/// Sets the call's `review_score` to the average of its reviews (NULL when none is left).
async fn rescore_call(conn: &mut SqliteConnection, call: i64) -> Result<()> {
    sqlx::query(
        "UPDATE calls SET review_score = (SELECT round(avg(score), 2) FROM reviews WHERE call_id = ?1) WHERE id = ?1",
    )
    .bind(call)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn create_review(pool: &SqlitePool, n: &NewReview) -> Result<Review> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let r = sqlx::query(&format!(
        "INSERT INTO reviews (call_id, call_started_at, agent_id, reviewer_id, scorecard_id, scorecard_name,
         scorecard_version, criteria, answers, comment, score, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING {REVIEW_COLS}"
    ))
    .bind(n.call_id.0)
    .bind(ms(n.call_started_at))
    .bind(n.agent_id.0)
    .bind(n.reviewer_id.0)
    .bind(n.scorecard.id.0)
    .bind(&n.scorecard.name)
    .bind(n.scorecard.version)
    .bind(to_json(&n.scorecard.criteria))
    .bind(to_json(&n.answers))
    .bind(&n.comment)
    .bind(n.score)
    .bind(ms(n.at))
    .bind(ms(n.at))
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| {
        conflict(
            e,
            "this call already has a review of this agent on this scorecard; edit that one",
        )
    })?;
    let review = review_row(&r)?;
    rescore_call(&mut tx, n.call_id.0).await?;
    tx.commit().await?;
    Ok(review)
}

pub async fn get_review(pool: &SqlitePool, id: ReviewId) -> Result<Review> {
    let r = sqlx::query(&format!("SELECT {REVIEW_COLS} FROM reviews WHERE id = ?"))
        .bind(id.0)
        .fetch_optional(pool)
        .await?
        .ok_or(StoreError::NotFound)?;
    review_row(&r)
}

pub async fn list_call_reviews(pool: &SqlitePool, call: CallId) -> Result<Vec<Review>> {
    sqlx::query(&format!(
        "SELECT {REVIEW_COLS} FROM reviews WHERE call_id = ? ORDER BY id"
    ))
    .bind(call.0)
    .fetch_all(pool)
    .await?
    .iter()
    .map(review_row)
    .collect()
}

pub async fn list_agent_reviews(pool: &SqlitePool, f: &ReviewFilter) -> Result<Vec<Review>> {
    let mut sql = format!("SELECT {REVIEW_COLS} FROM reviews WHERE agent_id = ?");
    if f.from.is_some() {
        sql.push_str(" AND call_started_at >= ?");
    }
    if f.to.is_some() {
        sql.push_str(" AND call_started_at < ?");
    }
    if f.scorecard_id.is_some() {
        sql.push_str(" AND scorecard_id = ?");
    }
    sql.push_str(" ORDER BY call_started_at DESC, id DESC LIMIT ?");
    let mut q = sqlx::query(&sql).bind(f.agent_id.0);
    if let Some(from) = f.from {
        q = q.bind(ms(from));
    }
    if let Some(to) = f.to {
        q = q.bind(ms(to));
    }
    if let Some(s) = f.scorecard_id {
        q = q.bind(s.0);
    }
    q.bind(f.limit.clamp(1, 100_000))
        .fetch_all(pool)
        .await?
        .iter()
        .map(review_row)
        .collect()
}

pub async fn update_review(pool: &SqlitePool, id: ReviewId, c: &ReviewChange) -> Result<Review> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let r = sqlx::query(&format!(
        "UPDATE reviews SET answers = ?, comment = ?, score = ?, updated_at = ? WHERE id = ? RETURNING {REVIEW_COLS}"
    ))
    .bind(to_json(&c.answers))
    .bind(&c.comment)
    .bind(c.score)
    .bind(ms(c.at))
    .bind(id.0)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(StoreError::NotFound)?;
    let review = review_row(&r)?;
    rescore_call(&mut tx, review.call_id.0).await?;
    tx.commit().await?;
    Ok(review)
}

pub async fn delete_review(pool: &SqlitePool, id: ReviewId) -> Result<Review> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let r = sqlx::query(&format!("DELETE FROM reviews WHERE id = ? RETURNING {REVIEW_COLS}"))
        .bind(id.0)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound)?;
    let review = review_row(&r)?;
    rescore_call(&mut tx, review.call_id.0).await?;
    tx.commit().await?;
    Ok(review)
}
