//! PostgreSQL: calls and who took part in them (the journal query is in `journal.rs`).

use crate::sqlite::{
    conflict, consent_from, consent_json, from_ms, ms, opt_ms, parse_word, participants_json, search_text,
};
use crate::{NewCall, NewRecording, Result, Scope, StoreError};
use callrec_types::calls::{Call, Participant};
use callrec_types::engine::TraceLine;
use callrec_types::*;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool, Row};

pub(super) const CALL_COLS: &str =
    "c.id, c.call_key, c.source, c.direction, c.origin, c.mon_mode, c.started_at, c.answered_at, \
     c.ended_at, c.state, c.recording_count, c.participants, c.sip_call_ids, c.consent";

pub(super) fn call_row(r: &PgRow) -> Result<Call> {
    Ok(Call {
        id: CallId(r.get(0)),
        call_key: r.get(1),
        source: parse_word(r.get(2))?,
        direction: parse_word(r.get(3))?,
        origin: parse_word(r.get(4))?,
        mon_mode: parse_word(r.get(5))?,
        started_at: from_ms(r.get(6)),
        answered_at: r.get::<Option<i64>, _>(7).map(from_ms),
        ended_at: r.get::<Option<i64>, _>(8).map(from_ms),
        state: parse_word(r.get(9))?,
        recording_count: r.get(10),
        participants: serde_json::from_str(r.get(11)).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        sip_call_ids: serde_json::from_str(r.get(12)).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        consent: consent_from(r.get(13))?,
    })
}

fn word<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v)
        .expect("domain enums serialise")
        .trim_matches('"')
        .to_string()
}

/// Writes who took part in call `id` (`call_users`) and its SIP Call-IDs, replacing what was
/// there. (Each row's copy of the call's search text, for a scope's walk in the journal, is
/// filled and kept by the triggers of migration 0012.)
async fn write_members(
    conn: &mut PgConnection,
    id: i64,
    started: i64,
    call: &[Participant],
    sip_ids: &[String],
) -> Result<()> {
    sqlx::query("DELETE FROM call_users WHERE call_id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    for p in call {
        if let Some(u) = p.user_id {
            sqlx::query(
                "INSERT INTO call_users (user_id, started_at, call_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            )
            .bind(u.0)
            .bind(started)
            .bind(id)
            .execute(&mut *conn)
            .await?;
        }
    }
    for s in sip_ids {
        sqlx::query("INSERT INTO call_sip_ids (sip_call_id, call_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(s)
            .bind(id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Inserts the call as one of `node`'s (the node holding its media, see [`super::PgStore`]).
pub(super) async fn insert_call(conn: &mut PgConnection, node: &str, c: &NewCall) -> Result<i64> {
    let started = ms(c.started_at);
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO calls (call_key, source, direction, origin, mon_mode, started_at, answered_at, ended_at, state,
         participants, sip_call_ids, trace, search, node_id, consent)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id",
    )
    .bind(&c.call_key)
    .bind(word(&c.source))
    .bind(word(&c.direction))
    .bind(word(&c.origin))
    .bind(word(&c.mon_mode))
    .bind(started)
    .bind(opt_ms(c.answered_at))
    .bind(opt_ms(c.ended_at))
    .bind(word(&c.state))
    .bind(participants_json(&c.participants))
    .bind(serde_json::to_string(&c.sip_call_ids).expect("ids serialise"))
    .bind(serde_json::to_string(&c.trace).expect("trace serialises"))
    .bind(search_text(&c.participants))
    .bind(node)
    .bind(consent_json(&c.consent))
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| conflict(e, &format!("call key {} exists", c.call_key)))?;
    write_members(conn, id, started, &c.participants, &c.sip_call_ids).await?;
    Ok(id)
}

pub(super) async fn load_call(conn: &mut PgConnection, id: i64) -> Result<(Call, Vec<TraceLine>)> {
    let r = sqlx::query(&format!("SELECT {CALL_COLS}, c.trace FROM calls c WHERE c.id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    let trace = serde_json::from_str(r.get(14)).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok((call_row(&r)?, trace))
}

pub async fn create_call(pool: &PgPool, node: &str, c: &NewCall) -> Result<Call> {
    let mut tx = pool.begin().await?;
    let id = insert_call(&mut tx, node, c).await?;
    let (call, _) = load_call(&mut tx, id).await?;
    tx.commit().await?;
    Ok(call)
}

pub async fn import_calls(pool: &PgPool, node: &str, calls: &[(NewCall, Vec<NewRecording>)]) -> Result<()> {
    let mut tx = pool.begin().await?;
    for (c, recs) in calls {
        let id = insert_call(&mut tx, node, c).await?;
        for r in recs {
            let mut r = r.clone();
            r.call_id = CallId(id);
            super::recordings::insert_recording(&mut tx, &r).await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

pub async fn update_call(pool: &PgPool, c: &Call, trace: &[TraceLine]) -> Result<()> {
    let mut tx = pool.begin().await?;
    let n = sqlx::query(
        "UPDATE calls SET direction = $1, origin = $2, mon_mode = $3, answered_at = $4, ended_at = $5, state = $6,
         participants = $7, sip_call_ids = $8, trace = $9, search = $10 || transcript_search, consent = $11 WHERE id = $12",
    )
    .bind(word(&c.direction))
    .bind(word(&c.origin))
    .bind(word(&c.mon_mode))
    .bind(opt_ms(c.answered_at))
    .bind(opt_ms(c.ended_at))
    .bind(word(&c.state))
    .bind(participants_json(&c.participants))
    .bind(serde_json::to_string(&c.sip_call_ids).expect("ids serialise"))
    .bind(serde_json::to_string(trace).expect("trace serialises"))
    .bind(search_text(&c.participants))
    .bind(consent_json(&c.consent))
    .bind(c.id.0)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    write_members(&mut tx, c.id.0, ms(c.started_at), &c.participants, &c.sip_call_ids).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn get_call(pool: &PgPool, id: CallId) -> Result<(Call, Vec<TraceLine>)> {
    load_call(&mut *pool.acquire().await?, id.0).await
}

/// The open calls of `node` (and of no node: rows from before migration 0003): another
/// node's open calls are live there, not cut off by this node's crash.
pub async fn unfinished_calls(pool: &PgPool, node: &str) -> Result<Vec<CallId>> {
    // Served by the partial index calls_open_by_node: a few rows, not a scan of the journal.
    let ids: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM calls WHERE state <> 'ended' AND node_id IN ($1, '') ORDER BY id")
            .bind(node)
            .fetch_all(pool)
            .await?;
    Ok(ids.into_iter().map(CallId).collect())
}

pub async fn call_by_sip_id(pool: &PgPool, sip: &str) -> Result<Option<CallId>> {
    let id: Option<i64> = sqlx::query_scalar("SELECT MAX(call_id) FROM call_sip_ids WHERE sip_call_id = $1")
        .bind(sip)
        .fetch_one(pool)
        .await?;
    Ok(id.map(CallId))
}

pub async fn call_visible(pool: &PgPool, id: CallId, scope: &Scope) -> Result<bool> {
    match scope {
        Scope::All => Ok(sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM calls WHERE id = $1")
            .bind(id.0)
            .fetch_one(pool)
            .await?
            > 0),
        Scope::Users(users) if users.is_empty() => Ok(false),
        Scope::Users(users) => {
            let users: Vec<i64> = users.iter().map(|u| u.0).collect();
            Ok(
                sqlx::query_scalar::<_, i64>(
                    "SELECT COUNT(*) FROM call_users WHERE call_id = $1 AND user_id = ANY($2)",
                )
                .bind(id.0)
                .bind(&users)
                .fetch_one(pool)
                .await?
                    > 0,
            )
        }
    }
}
