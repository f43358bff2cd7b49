//! SQLite: calls and who took part in them (the journal query is in `journal.rs`).

use super::{from_ms, ms, opt_ms, parse_word};
use crate::{NewCall, NewRecording, Result, Scope, StoreError};
use callrec_types::calls::{Call, CallConsent, Participant};
use callrec_types::directory::normalize_address;
use callrec_types::engine::TraceLine;
use callrec_types::*;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection, SqlitePool};

pub(super) const CALL_COLS: &str =
    "c.id, c.call_key, c.source, c.direction, c.origin, c.mon_mode, c.started_at, c.answered_at, \
     c.ended_at, c.state, c.recording_count, c.participants, c.sip_call_ids, c.consent";

pub(super) fn call_row(r: &SqliteRow) -> Result<Call> {
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

/// A call's consent as stored (SQLite migration 0012, PostgreSQL 0007): NULL while unknown,
/// else its JSON.
pub(crate) fn consent_json(c: &CallConsent) -> Option<String> {
    (*c != CallConsent::default()).then(|| serde_json::to_string(c).expect("consent serialises"))
}

pub(crate) fn consent_from(v: Option<String>) -> Result<CallConsent> {
    v.map(|j| serde_json::from_str(&j).map_err(|e| StoreError::Corrupt(e.to_string())))
        .transpose()
        .map(Option::unwrap_or_default)
}

fn word<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v)
        .expect("domain enums serialise")
        .trim_matches('"')
        .to_string()
}

/// The participants as stored: the PBX's facts, without the directory names the server fills
/// in when it sends a call (they are looked up afresh each time, so a rename shows at once).
pub(crate) fn participants_json(ps: &[Participant]) -> String {
    let stored: Vec<Participant> = ps.iter().map(Participant::without_directory_name).collect();
    serde_json::to_string(&stored).expect("participants serialise")
}

/// Lower-case names, numbers and their normalised forms, for substring search. A normalised
/// number equal to the number as written is left out: the index would only grow (and every
/// search of it slow down) by the repeat.
pub(crate) fn search_text(ps: &[Participant]) -> String {
    let mut s = String::new();
    for p in ps {
        let number = p.number.to_lowercase();
        let normalized = normalize_address(&p.number);
        let normalized = if normalized == number {
            String::new()
        } else {
            normalized
        };
        for part in [p.name.to_lowercase(), number, normalized] {
            if !part.is_empty() {
                s.push_str(&part);
                s.push(' ');
            }
        }
    }
    s
}

/// Writes who took part in call `id` (`call_users`, with the call's search text: migration
/// 0006) and its SIP Call-IDs, replacing what was there.
async fn write_members(
    conn: &mut SqliteConnection,
    id: i64,
    started: i64,
    call: &[Participant],
    sip_ids: &[String],
    search: &str,
) -> Result<()> {
    sqlx::query("DELETE FROM call_users WHERE call_id = ?")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    for p in call {
        if let Some(u) = p.user_id {
            sqlx::query("INSERT OR IGNORE INTO call_users (user_id, started_at, call_id, search) VALUES (?, ?, ?, ?)")
                .bind(u.0)
                .bind(started)
                .bind(id)
                .bind(search)
                .execute(&mut *conn)
                .await?;
        }
    }
    for s in sip_ids {
        sqlx::query("INSERT OR IGNORE INTO call_sip_ids (sip_call_id, call_id) VALUES (?, ?)")
            .bind(s)
            .bind(id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

pub(super) async fn insert_call(conn: &mut SqliteConnection, c: &NewCall) -> Result<i64> {
    let started = ms(c.started_at);
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO calls (call_key, source, direction, origin, mon_mode, started_at, answered_at, ended_at, state,
         participants, sip_call_ids, trace, search, consent) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
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
    .bind(consent_json(&c.consent))
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| super::conflict(e, &format!("call key {} exists", c.call_key)))?;
    let search = search_text(&c.participants);
    write_members(conn, id, started, &c.participants, &c.sip_call_ids, &search).await?;
    Ok(id)
}

pub(super) async fn load_call(conn: &mut SqliteConnection, id: i64) -> Result<(Call, Vec<TraceLine>)> {
    let r = sqlx::query(&format!("SELECT {CALL_COLS}, c.trace FROM calls c WHERE c.id = ?"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    let trace = serde_json::from_str(r.get(14)).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok((call_row(&r)?, trace))
}

pub async fn create_call(pool: &SqlitePool, c: &NewCall) -> Result<Call> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let id = insert_call(&mut tx, c).await?;
    let (call, _) = load_call(&mut tx, id).await?;
    tx.commit().await?;
    Ok(call)
}

pub async fn import_calls(pool: &SqlitePool, calls: &[(NewCall, Vec<NewRecording>)]) -> Result<()> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    for (c, recs) in calls {
        let id = insert_call(&mut tx, c).await?;
        for r in recs {
            let mut r = r.clone();
            r.call_id = CallId(id);
            super::recordings::insert_recording(&mut tx, &r).await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

pub async fn update_call(pool: &SqlitePool, c: &Call, trace: &[TraceLine]) -> Result<()> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    // The search text is the participants' followed by the call's transcripts' (migration 0017).
    let search: Option<String> = sqlx::query_scalar(
        "UPDATE calls SET direction = ?, origin = ?, mon_mode = ?, answered_at = ?, ended_at = ?, state = ?,
         participants = ?, sip_call_ids = ?, trace = ?, search = ? || transcript_search, consent = ? WHERE id = ?
         RETURNING search",
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
    .fetch_optional(&mut *tx)
    .await?;
    let Some(search) = search else {
        return Err(StoreError::NotFound);
    };
    write_members(
        &mut tx,
        c.id.0,
        ms(c.started_at),
        &c.participants,
        &c.sip_call_ids,
        &search,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn get_call(pool: &SqlitePool, id: CallId) -> Result<(Call, Vec<TraceLine>)> {
    load_call(&mut *pool.acquire().await?, id.0).await
}

pub async fn unfinished_calls(pool: &SqlitePool) -> Result<Vec<CallId>> {
    // Served by the partial index of migration 0008: a few rows, not a scan of the journal.
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM calls WHERE state <> 'ended' ORDER BY id")
        .fetch_all(pool)
        .await?;
    Ok(ids.into_iter().map(CallId).collect())
}

pub async fn call_by_sip_id(pool: &SqlitePool, sip: &str) -> Result<Option<CallId>> {
    let id: Option<i64> = sqlx::query_scalar("SELECT MAX(call_id) FROM call_sip_ids WHERE sip_call_id = ?")
        .bind(sip)
        .fetch_one(pool)
        .await?;
    Ok(id.map(CallId))
}

pub async fn call_visible(pool: &SqlitePool, id: CallId, scope: &Scope) -> Result<bool> {
    match scope {
        Scope::All => Ok(sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM calls WHERE id = ?")
            .bind(id.0)
            .fetch_one(pool)
            .await?
            > 0),
        Scope::Users(users) if users.is_empty() => Ok(false),
        Scope::Users(users) => {
            let marks = vec!["?"; users.len()].join(",");
            let sql = format!("SELECT COUNT(*) FROM call_users WHERE call_id = ? AND user_id IN ({marks})");
            let mut q = sqlx::query_scalar::<_, i64>(&sql).bind(id.0);
            for u in users {
                q = q.bind(u.0);
            }
            Ok(q.fetch_one(pool).await? > 0)
        }
    }
}
