//! PostgreSQL: scorecards and reviews (issue #15.4, migration 0011), as on SQLite. Writers run
//! side by side here, so a review's transaction locks its call row first (the call's average
//! score is then computed after any other review of the call committed), and deleting a
//! scorecard locks its row (a review being added holds a key-share lock on it).

use crate::sqlite::{conflict, from_ms, ms, to_json};
use crate::{NewReview, Result, ReviewChange, ReviewFilter, ScorecardRemoval, StoreError};
use callrec_types::scorecards::{Review, Scorecard, ScorecardInput};
use callrec_types::*;
use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool, Postgres, QueryBuilder, Row};

const CARD_COLS: &str = "id, name, criteria, version, archived, created_at, updated_at";

const REVIEW_COLS: &str = "id, call_id, call_started_at, agent_id, reviewer_id, scorecard_id, \
     scorecard_name, scorecard_version, criteria, answers, comment, score, created_at, updated_at";

fn json<T: serde::de::DeserializeOwned>(s: &str) -> Result<T> {
    serde_json::from_str(s).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn card_row(r: &PgRow) -> Result<Scorecard> {
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

fn review_row(r: &PgRow) -> Result<Review> {
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

pub async fn list_scorecards(pool: &PgPool, archived: bool) -> Result<Vec<Scorecard>> {
    let filter = if archived { "" } else { "WHERE NOT archived" };
    sqlx::query(&format!(
        "SELECT {CARD_COLS} FROM scorecards {filter} ORDER BY name, id"
    ))
    .fetch_all(pool)
    .await?
    .iter()
    .map(card_row)
    .collect()
}

pub async fn get_scorecard(pool: &PgPool, id: ScorecardId) -> Result<Scorecard> {
    let r = sqlx::query(&format!("SELECT {CARD_COLS} FROM scorecards WHERE id = $1"))
        .bind(id.0)
        .fetch_optional(pool)
        .await?
        .ok_or(StoreError::NotFound)?;
    card_row(&r)
}

pub async fn create_scorecard(pool: &PgPool, input: &ScorecardInput, at: DateTime<Utc>) -> Result<Scorecard> {
    let r = sqlx::query(&format!(
        "INSERT INTO scorecards (name, criteria, created_at, updated_at) VALUES ($1, $2, $3, $4) RETURNING {CARD_COLS}"
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
    pool: &PgPool,
    id: ScorecardId,
    input: &ScorecardInput,
    at: DateTime<Utc>,
) -> Result<Scorecard> {
    let r = sqlx::query(&format!(
        "UPDATE scorecards SET name = $1, criteria = $2, version = version + 1, updated_at = $3
         WHERE id = $4 AND NOT archived RETURNING {CARD_COLS}"
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

pub async fn delete_scorecard(pool: &PgPool, id: ScorecardId) -> Result<ScorecardRemoval> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT 1 FROM scorecards WHERE id = $1 FOR UPDATE")
        .bind(id.0)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound)?;
    let used: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM reviews WHERE scorecard_id = $1)")
        .bind(id.0)
        .fetch_one(&mut *tx)
        .await?;
    let sql = if used {
        "UPDATE scorecards SET archived = TRUE WHERE id = $1"
    } else {
        "DELETE FROM scorecards WHERE id = $1"
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
async fn rescore_call(conn: &mut PgConnection, call: i64) -> Result<()> {
    sqlx::query(
        "UPDATE calls SET review_score = (SELECT round(avg(score)::numeric, 2)::float8 FROM reviews WHERE call_id = $1) WHERE id = $1",
    )
    .bind(call)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Locks the call's row for the rest of the transaction: reviews of one call are written one
/// after the other, so each average sees the others.
async fn lock_call(conn: &mut PgConnection, call: i64) -> Result<()> {
    sqlx::query("SELECT 1 FROM calls WHERE id = $1 FOR UPDATE")
        .bind(call)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    Ok(())
}

/// The call of a stored review (to lock it before the review is changed).
async fn review_call(conn: &mut PgConnection, id: ReviewId) -> Result<i64> {
    sqlx::query_scalar("SELECT call_id FROM reviews WHERE id = $1")
        .bind(id.0)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound)
}

pub async fn create_review(pool: &PgPool, n: &NewReview) -> Result<Review> {
    let mut tx = pool.begin().await?;
    lock_call(&mut tx, n.call_id.0).await?;
    let r = sqlx::query(&format!(
        "INSERT INTO reviews (call_id, call_started_at, agent_id, reviewer_id, scorecard_id, scorecard_name,
         scorecard_version, criteria, answers, comment, score, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING {REVIEW_COLS}"
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

pub async fn get_review(pool: &PgPool, id: ReviewId) -> Result<Review> {
    let r = sqlx::query(&format!("SELECT {REVIEW_COLS} FROM reviews WHERE id = $1"))
        .bind(id.0)
        .fetch_optional(pool)
        .await?
        .ok_or(StoreError::NotFound)?;
    review_row(&r)
}

pub async fn list_call_reviews(pool: &PgPool, call: CallId) -> Result<Vec<Review>> {
    sqlx::query(&format!(
        "SELECT {REVIEW_COLS} FROM reviews WHERE call_id = $1 ORDER BY id"
    ))
    .bind(call.0)
    .fetch_all(pool)
    .await?
    .iter()
    .map(review_row)
    .collect()
}

pub async fn list_agent_reviews(pool: &PgPool, f: &ReviewFilter) -> Result<Vec<Review>> {
    let mut sql: QueryBuilder<Postgres> =
        QueryBuilder::new(format!("SELECT {REVIEW_COLS} FROM reviews WHERE agent_id = "));
    sql.push_bind(f.agent_id.0);
    if let Some(from) = f.from {
        sql.push(" AND call_started_at >= ").push_bind(ms(from));
    }
    if let Some(to) = f.to {
        sql.push(" AND call_started_at < ").push_bind(ms(to));
    }
    if let Some(s) = f.scorecard_id {
        sql.push(" AND scorecard_id = ").push_bind(s.0);
    }
    sql.push(" ORDER BY call_started_at DESC, id DESC LIMIT ")
        .push_bind(f.limit.clamp(1, 100_000));
    sql.build().fetch_all(pool).await?.iter().map(review_row).collect()
}

pub async fn update_review(pool: &PgPool, id: ReviewId, c: &ReviewChange) -> Result<Review> {
    let mut tx = pool.begin().await?;
    let call = review_call(&mut tx, id).await?;
    lock_call(&mut tx, call).await?;
    let r = sqlx::query(&format!(
        "UPDATE reviews SET answers = $1, comment = $2, score = $3, updated_at = $4 WHERE id = $5 RETURNING {REVIEW_COLS}"
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

pub async fn delete_review(pool: &PgPool, id: ReviewId) -> Result<Review> {
    let mut tx = pool.begin().await?;
    let call = review_call(&mut tx, id).await?;
    lock_call(&mut tx, call).await?;
    let r = sqlx::query(&format!("DELETE FROM reviews WHERE id = $1 RETURNING {REVIEW_COLS}"))
        .bind(id.0)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound)?;
    let review = review_row(&r)?;
    rescore_call(&mut tx, review.call_id.0).await?;
    tx.commit().await?;
    Ok(review)
}
