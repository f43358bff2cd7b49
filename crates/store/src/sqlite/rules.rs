//! SQLite: sessions (hashed bearer tokens) and recording rules.

use super::{ms, rule_row};
use crate::{Result, SessionUser, StoreError};
use callrec_types::directory::{Level, User};
use callrec_types::rules::{reorder, Rule, RuleInput, RuleMove};
use callrec_types::*;
use chrono::{DateTime, Utc};
use sqlx::{Row, SqlitePool};
use std::collections::HashMap;

pub async fn create_session(
    pool: &SqlitePool,
    hash: &str,
    user: UserId,
    now: DateTime<Utc>,
    exp: DateTime<Utc>,
) -> Result<()> {
    sqlx::query("INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)")
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
pub async fn session_user(pool: &SqlitePool, hash: &str, now: DateTime<Utc>) -> Result<Option<SessionUser>> {
    let row = sqlx::query(
        "SELECT u.id, u.username, u.display_name, u.level,
                (SELECT json_group_array(a.raw ORDER BY a.position) FROM user_addresses a WHERE a.user_id = u.id),
                (SELECT json_group_array(x.user_id) FROM (SELECT DISTINCT m.user_id FROM team_supervisors t
                  JOIN team_members m ON m.team_id = t.team_id WHERE t.user_id = u.id AND m.user_id <> u.id ORDER BY m.user_id) x)
         FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.token_hash = ? AND s.expires_at > ?",
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

pub async fn delete_session(pool: &SqlitePool, hash: &str) -> Result<()> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = ?")
        .bind(hash)
        .execute(pool)
        .await?;
    Ok(())
}

pub async fn delete_expired_sessions(pool: &SqlitePool, now: DateTime<Utc>) -> Result<u64> {
    Ok(sqlx::query("DELETE FROM sessions WHERE expires_at <= ?")
        .bind(ms(now))
        .execute(pool)
        .await?
        .rows_affected())
}

const RULE_COLS: &str =
    "id, description, enabled, mode, role_id, direction, origin, dispatch, position, require_consent, transcribe";

pub async fn list_rules(pool: &SqlitePool) -> Result<Vec<Rule>> {
    let rows = sqlx::query(&format!("SELECT {RULE_COLS} FROM rules ORDER BY position, id"))
        .fetch_all(pool)
        .await?;
    rows.iter().map(rule_row).collect()
}

/// Whether the rule has a webhook secret stored (a masked secret sent back keeps it).
pub async fn rule_has_secret(pool: &SqlitePool, id: RuleId) -> Result<bool> {
    let n: Option<Option<String>> = sqlx::query_scalar("SELECT dispatch_secret FROM rules WHERE id = ?")
        .bind(id.0)
        .fetch_optional(pool)
        .await?;
    Ok(n.ok_or(StoreError::NotFound)?.is_some())
}

pub async fn get_rule(pool: &SqlitePool, id: RuleId) -> Result<Rule> {
    let r = sqlx::query(&format!("SELECT {RULE_COLS} FROM rules WHERE id = ?"))
        .bind(id.0)
        .fetch_optional(pool)
        .await?
        .ok_or(StoreError::NotFound)?;
    rule_row(&r)
}

async fn role_exists(pool: &SqlitePool, id: RoleId) -> Result<()> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM roles WHERE id = ?")
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

pub async fn create_rule(pool: &SqlitePool, r: &RuleInput) -> Result<Rule> {
    role_exists(pool, r.role_id).await?;
    let position = match r.position {
        Some(p) => p,
        None => {
            sqlx::query_scalar::<_, i64>("SELECT COALESCE(MAX(position), 0) + 1 FROM rules")
                .fetch_one(pool)
                .await?
        }
    };
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO rules (description, enabled, mode, role_id, direction, origin, dispatch, position, dispatch_secret, require_consent, transcribe)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(&r.description)
    .bind(r.enabled)
    .bind(word(&r.mode))
    .bind(r.role_id.0)
    .bind(word(&r.direction))
    .bind(word(&r.origin))
    // The webhook's secret apart, the mask in the JSON (migration 0010).
    .bind(enc(&r.dispatch.redacted()))
    .bind(position)
    .bind(r.dispatch.new_secret())
    .bind(r.require_consent)
    .bind(r.transcribe)
    .fetch_one(pool)
    .await?;
    get_rule(pool, RuleId(id)).await
}

pub async fn update_rule(pool: &SqlitePool, id: RuleId, r: &RuleInput) -> Result<Rule> {
    role_exists(pool, r.role_id).await?;
    let n = sqlx::query(
        "UPDATE rules SET description = ?, enabled = ?, mode = ?, role_id = ?, direction = ?, origin = ?, dispatch = ?,
         position = COALESCE(?, position), dispatch_secret = CASE WHEN ? THEN dispatch_secret ELSE ? END, require_consent = ?, transcribe = ? WHERE id = ?",
    )
    .bind(&r.description)
    .bind(r.enabled)
    .bind(word(&r.mode))
    .bind(r.role_id.0)
    .bind(word(&r.direction))
    .bind(word(&r.origin))
    .bind(enc(&r.dispatch.redacted()))
    .bind(r.position)
    // A webhook sent back with the mask keeps its secret; any other kind has none.
    .bind(r.dispatch.keeps_secret())
    .bind(r.dispatch.new_secret())
    .bind(r.require_consent)
    .bind(r.transcribe)
    .bind(id.0)
    .execute(pool)
    .await?
    .rows_affected();
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    get_rule(pool, id).await
}

pub async fn set_rule_enabled(pool: &SqlitePool, id: RuleId, enabled: bool) -> Result<Rule> {
    let n = sqlx::query("UPDATE rules SET enabled = ? WHERE id = ?")
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

/// Reads the order, renumbers and reads it back inside one write transaction.
pub async fn move_rule(pool: &SqlitePool, id: RuleId, to: RuleMove) -> Result<Vec<Rule>> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
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
        sqlx::query("UPDATE rules SET position = ? WHERE id = ?")
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

pub async fn delete_rule(pool: &SqlitePool, id: RuleId) -> Result<()> {
    super::directory::delete_by_id(pool, "DELETE FROM rules WHERE id = ?", id.0).await
}

pub async fn rule_names(pool: &SqlitePool, ids: &[RuleId]) -> Result<HashMap<RuleId, String>> {
    let mut ids: Vec<i64> = ids.iter().map(|r| r.0).collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let marks = vec!["?"; ids.len()].join(", ");
    let sql = format!("SELECT id, description FROM rules WHERE id IN ({marks})");
    let mut q = sqlx::query(&sql);
    for id in &ids {
        q = q.bind(*id);
    }
    Ok(q.fetch_all(pool)
        .await?
        .iter()
        .map(|r| (RuleId(r.get(0)), r.get(1)))
        .collect())
}
