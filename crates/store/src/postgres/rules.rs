//! PostgreSQL: sessions (hashed bearer tokens) and recording rules.

use super::rule_row;
use crate::sqlite::ms;
use crate::{Result, SessionUser, StoreError};
use callrec_types::directory::{Level, User};
use callrec_types::rules::{reorder, Rule, RuleInput, RuleMove};
use callrec_types::*;
use chrono::{DateTime, Utc};
use sqlx::{PgPool, Row};
use std::collections::HashMap;

pub async fn create_session(
    pool: &PgPool,
    hash: &str,
    user: UserId,
    now: DateTime<Utc>,
    exp: DateTime<Utc>,
) -> Result<()> {
    sqlx::query("INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
        .bind(hash)
        .bind(user.0)
        .bind(ms(now))
        .bind(ms(exp))
        .execute(pool)
        .await?;
    Ok(())
}

/// The user of a live session: one statement (session, user, extensions and the members of
/// the teams they supervise), since every
/// authenticated request asks it first.
pub async fn session_user(pool: &PgPool, hash: &str, now: DateTime<Utc>) -> Result<Option<SessionUser>> {
    let row = sqlx::query(
        "SELECT u.id, u.username, u.display_name, u.level,
                (SELECT COALESCE(json_agg(a.raw ORDER BY a.position), '[]'::json)::text
                 FROM user_addresses a WHERE a.user_id = u.id),
                (SELECT COALESCE(json_agg(x.user_id ORDER BY x.user_id), '[]'::json)::text FROM (SELECT DISTINCT m.user_id FROM team_supervisors t
                  JOIN team_members m ON m.team_id = t.team_id WHERE t.user_id = u.id AND m.user_id <> u.id) x)
         FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.token_hash = $1 AND s.expires_at > $2",
    )
    .bind(hash)
    .bind(ms(now))
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let level: &str = row.get(3);
    let corrupt = |e: serde_json::Error| StoreError::Corrupt(e.to_string());
    let user = User {
        id: UserId(row.get(0)),
        username: row.get(1),
        display_name: row.get(2),
        level: Level::parse(level).ok_or_else(|| StoreError::Corrupt(format!("level {level:?}")))?,
        extensions: serde_json::from_str(row.get(4)).map_err(corrupt)?,
    };
    let supervised: Vec<i64> = serde_json::from_str(row.get(5)).map_err(corrupt)?;
    Ok(Some(SessionUser {
        user,
        supervised: supervised.into_iter().map(UserId).collect(),
    }))
}

pub async fn delete_session(pool: &PgPool, hash: &str) -> Result<()> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(hash)
        .execute(pool)
        .await?;
    Ok(())
}

pub async fn delete_expired_sessions(pool: &PgPool, now: DateTime<Utc>) -> Result<u64> {
    Ok(sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
        .bind(ms(now))
        .execute(pool)
        .await?
        .rows_affected())
}

const RULE_COLS: &str =
    "id, description, enabled, mode, role_id, direction, origin, dispatch, position, require_consent, transcribe";

pub async fn list_rules(pool: &PgPool) -> Result<Vec<Rule>> {
    let rows = sqlx::query(&format!("SELECT {RULE_COLS} FROM rules ORDER BY position, id"))
        .fetch_all(pool)
        .await?;
    rows.iter().map(rule_row).collect()
}

/// Whether the rule has a webhook secret stored (a masked secret sent back keeps it).
pub async fn rule_has_secret(pool: &PgPool, id: RuleId) -> Result<bool> {
    let n: Option<Option<String>> = sqlx::query_scalar("SELECT dispatch_secret FROM rules WHERE id = $1")
        .bind(id.0)
        .fetch_optional(pool)
        .await?;
    Ok(n.ok_or(StoreError::NotFound)?.is_some())
}

pub async fn get_rule(pool: &PgPool, id: RuleId) -> Result<Rule> {
    let r = sqlx::query(&format!("SELECT {RULE_COLS} FROM rules WHERE id = $1"))
        .bind(id.0)
        .fetch_optional(pool)
        .await?
        .ok_or(StoreError::NotFound)?;
    rule_row(&r)
}

async fn role_exists(pool: &PgPool, id: RoleId) -> Result<()> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM roles WHERE id = $1")
        .bind(id.0)
        .fetch_one(pool)
        .await?;
    if n == 0 {
        return Err(StoreError::Invalid(format!("role {id} does not exist")));
    }
    Ok(())
}

fn enc<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("domain types serialise")
}

fn word<T: serde::Serialize>(v: &T) -> String {
    enc(v).trim_matches('"').to_string()
}

pub async fn create_rule(pool: &PgPool, r: &RuleInput) -> Result<Rule> {
    role_exists(pool, r.role_id).await?;
    // The position is computed in the INSERT itself: one statement, like SQLite's two under
    // its single writer, so rules created at once never share a position by default.
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO rules (description, enabled, mode, role_id, direction, origin, dispatch, position, dispatch_secret, require_consent, transcribe)
         VALUES ($1, $2, $3, $4, $5, $6, $7, COALESCE($8, (SELECT COALESCE(MAX(position), 0) + 1 FROM rules)), $9, $10, $11)
         RETURNING id",
    )
    .bind(&r.description)
    .bind(r.enabled)
    .bind(word(&r.mode))
    .bind(r.role_id.0)
    .bind(word(&r.direction))
    .bind(word(&r.origin))
    // The webhook's secret apart, the mask in the JSON (migration 0005).
    .bind(enc(&r.dispatch.redacted()))
    .bind(r.position)
    .bind(r.dispatch.new_secret())
    .bind(r.require_consent)
    .bind(r.transcribe)
    .fetch_one(pool)
    .await?;
    get_rule(pool, RuleId(id)).await
}

pub async fn update_rule(pool: &PgPool, id: RuleId, r: &RuleInput) -> Result<Rule> {
    role_exists(pool, r.role_id).await?;
    let n = sqlx::query(
        "UPDATE rules SET description = $1, enabled = $2, mode = $3, role_id = $4, direction = $5, origin = $6,
         dispatch = $7, position = COALESCE($8, position), require_consent = $9, transcribe = $10,
         dispatch_secret = CASE WHEN $12 THEN dispatch_secret ELSE $13 END WHERE id = $11",
    )
    .bind(&r.description)
    .bind(r.enabled)
    .bind(word(&r.mode))
    .bind(r.role_id.0)
    .bind(word(&r.direction))
    .bind(word(&r.origin))
    .bind(enc(&r.dispatch.redacted()))
    .bind(r.position)
    .bind(r.require_consent)
    .bind(r.transcribe)
    .bind(id.0)
    // A webhook sent back with the mask keeps its secret; any other kind has none.
    .bind(r.dispatch.keeps_secret())
    .bind(r.dispatch.new_secret())
    .execute(pool)
    .await?
    .rows_affected();
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    get_rule(pool, id).await
}

pub async fn set_rule_enabled(pool: &PgPool, id: RuleId, enabled: bool) -> Result<Rule> {
    let n = sqlx::query("UPDATE rules SET enabled = $1 WHERE id = $2")
        .bind(enabled)
        .bind(id.0)
        .execute(pool)
        .await?
        .rows_affected();
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    get_rule(pool, id).await
}

/// Reads the order, renumbers and reads it back inside one transaction that holds the rules
/// table against other writers (readers go on): two moves at once run one after the other,
/// as SQLite's `BEGIN IMMEDIATE` makes them, instead of both renumbering the same old order.
pub async fn move_rule(pool: &PgPool, id: RuleId, to: RuleMove) -> Result<Vec<Rule>> {
    let mut tx = pool.begin().await?;
    sqlx::query("LOCK TABLE rules IN SHARE ROW EXCLUSIVE MODE")
        .execute(&mut *tx)
        .await?;
    let select = format!("SELECT {RULE_COLS} FROM rules ORDER BY position, id");
    let rules = sqlx::query(&select)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(rule_row)
        .collect::<Result<Vec<_>>>()?;
    if !rules.iter().any(|r| r.id == id) {
        return Err(StoreError::NotFound);
    }
    for (rule, position) in reorder(&rules, id, to) {
        sqlx::query("UPDATE rules SET position = $1 WHERE id = $2")
            .bind(position)
            .bind(rule.0)
            .execute(&mut *tx)
            .await?;
    }
    let rules = sqlx::query(&select)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(rule_row)
        .collect::<Result<Vec<_>>>()?;
    tx.commit().await?;
    Ok(rules)
}

pub async fn delete_rule(pool: &PgPool, id: RuleId) -> Result<()> {
    super::directory::delete_by_id(pool, "DELETE FROM rules WHERE id = $1", id.0).await
}

pub async fn rule_names(pool: &PgPool, ids: &[RuleId]) -> Result<HashMap<RuleId, String>> {
    let mut ids: Vec<i64> = ids.iter().map(|r| r.0).collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(sqlx::query("SELECT id, description FROM rules WHERE id = ANY($1)")
        .bind(&ids)
        .fetch_all(pool)
        .await?
        .iter()
        .map(|r| (RuleId(r.get(0)), r.get(1)))
        .collect())
}
