//! SQLite: calls, who took part in them, and the journal query (keyset pages, newest first,
//! scoped to what a viewer may see).

use super::{from_ms, ms, opt_ms, parse_word};
use crate::{JournalCursor, JournalQuery, NewCall, NewRecording, Result, Scope, StoreError};
use callrec_types::calls::{Call, JournalItem, Participant};
use callrec_types::directory::normalize_address;
use callrec_types::engine::TraceLine;
use callrec_types::*;
use sqlx::sqlite::{SqliteArguments, SqliteRow};
use sqlx::{Arguments, Row, SqliteConnection, SqlitePool};

pub(super) const CALL_COLS: &str =
    "c.id, c.call_key, c.source, c.direction, c.origin, c.mon_mode, c.started_at, c.answered_at, \
     c.ended_at, c.state, c.recording_count, c.participants, c.sip_call_ids";

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
    })
}

fn word<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v)
        .expect("domain enums serialise")
        .trim_matches('"')
        .to_string()
}

/// Lower-case names, numbers and their normalised forms, for substring search.
fn search_text(ps: &[Participant]) -> String {
    let mut s = String::new();
    for p in ps {
        for part in [
            p.name.to_lowercase(),
            p.number.to_lowercase(),
            normalize_address(&p.number),
        ] {
            if !part.is_empty() {
                s.push_str(&part);
                s.push(' ');
            }
        }
    }
    s
}

async fn write_members(
    conn: &mut SqliteConnection,
    id: i64,
    started: i64,
    call: &[Participant],
    sip_ids: &[String],
) -> Result<()> {
    sqlx::query("DELETE FROM call_users WHERE call_id = ?")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    for p in call {
        if let Some(u) = p.user_id {
            sqlx::query("INSERT OR IGNORE INTO call_users (user_id, started_at, call_id) VALUES (?, ?, ?)")
                .bind(u.0)
                .bind(started)
                .bind(id)
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
         participants, sip_call_ids, trace, search) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
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
    .bind(serde_json::to_string(&c.participants).expect("participants serialise"))
    .bind(serde_json::to_string(&c.sip_call_ids).expect("ids serialise"))
    .bind(serde_json::to_string(&c.trace).expect("trace serialises"))
    .bind(search_text(&c.participants))
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| super::conflict(e, &format!("call key {} exists", c.call_key)))?;
    write_members(conn, id, started, &c.participants, &c.sip_call_ids).await?;
    Ok(id)
}

pub(super) async fn load_call(conn: &mut SqliteConnection, id: i64) -> Result<(Call, Vec<TraceLine>)> {
    let r = sqlx::query(&format!("SELECT {CALL_COLS}, c.trace FROM calls c WHERE c.id = ?"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    let trace = serde_json::from_str(r.get(13)).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok((call_row(&r)?, trace))
}

pub async fn create_call(pool: &SqlitePool, c: &NewCall) -> Result<Call> {
    let mut tx = pool.begin().await?;
    let id = insert_call(&mut tx, c).await?;
    let (call, _) = load_call(&mut tx, id).await?;
    tx.commit().await?;
    Ok(call)
}

pub async fn import_calls(pool: &SqlitePool, calls: &[(NewCall, Vec<NewRecording>)]) -> Result<()> {
    let mut tx = pool.begin().await?;
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
    let mut tx = pool.begin().await?;
    let n = sqlx::query(
        "UPDATE calls SET direction = ?, origin = ?, mon_mode = ?, answered_at = ?, ended_at = ?, state = ?,
         participants = ?, sip_call_ids = ?, trace = ?, search = ? WHERE id = ?",
    )
    .bind(word(&c.direction))
    .bind(word(&c.origin))
    .bind(word(&c.mon_mode))
    .bind(opt_ms(c.answered_at))
    .bind(opt_ms(c.ended_at))
    .bind(word(&c.state))
    .bind(serde_json::to_string(&c.participants).expect("participants serialise"))
    .bind(serde_json::to_string(&c.sip_call_ids).expect("ids serialise"))
    .bind(serde_json::to_string(trace).expect("trace serialises"))
    .bind(search_text(&c.participants))
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

pub async fn get_call(pool: &SqlitePool, id: CallId) -> Result<(Call, Vec<TraceLine>)> {
    load_call(&mut *pool.acquire().await?, id.0).await
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

/// FTS5 phrase for a substring (trigram tokenizer): the text in double quotes, quotes doubled.
fn fts_phrase(q: &str) -> String {
    format!("\"{}\"", q.replace('"', "\"\""))
}

fn like_pattern(q: &str) -> String {
    let mut s = String::from("%");
    for ch in q.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            s.push('\\');
        }
        s.push(ch);
    }
    s.push('%');
    s
}

/// Filters shared by both query shapes, appended to `sql` with their arguments.
fn push_filters(q: &JournalQuery, sql: &mut String, args: &mut SqliteArguments<'_>) -> Result<()> {
    let bad = |e: sqlx::error::BoxDynError| StoreError::Invalid(e.to_string());
    if let Some(text) = q.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        let text = text.to_lowercase();
        if text.chars().count() >= 3 {
            sql.push_str(" AND c.id IN (SELECT rowid FROM calls_fts WHERE calls_fts MATCH ?)");
            args.add(fts_phrase(&text)).map_err(bad)?;
        } else {
            sql.push_str(" AND c.search LIKE ? ESCAPE '\\'");
            args.add(like_pattern(&text)).map_err(bad)?;
        }
    }
    if let Some(from) = q.from {
        sql.push_str(" AND c.started_at >= ?");
        args.add(ms(from)).map_err(bad)?;
    }
    if let Some(to) = q.to {
        sql.push_str(" AND c.started_at < ?");
        args.add(ms(to)).map_err(bad)?;
    }
    if let Some(d) = q.direction {
        sql.push_str(" AND c.direction = ?");
        args.add(d.as_str().to_string()).map_err(bad)?;
    }
    match q.has_recordings {
        Some(true) => sql.push_str(" AND c.recording_count > 0"),
        Some(false) => sql.push_str(" AND c.recording_count = 0"),
        None => {}
    }
    Ok(())
}

fn item(call: Call) -> JournalItem {
    let start = call.answered_at.unwrap_or(call.started_at);
    let duration_ms = call.ended_at.map(|e| (e - start).num_milliseconds().max(0));
    JournalItem { call, duration_ms }
}

pub async fn journal(pool: &SqlitePool, q: &JournalQuery) -> Result<(Vec<JournalItem>, Option<JournalCursor>)> {
    let limit = q.limit.clamp(1, 500);
    let bad = |e: sqlx::error::BoxDynError| StoreError::Invalid(e.to_string());
    // Which users' calls to walk; None = every call (admin without a user filter).
    let users: Option<Vec<UserId>> = match (&q.scope, q.user_id) {
        (Scope::All, None) => None,
        (Scope::All, Some(u)) => Some(vec![u]),
        (Scope::Users(list), None) => Some(list.clone()),
        (Scope::Users(list), Some(u)) => Some(if list.contains(&u) { vec![u] } else { vec![] }),
    };
    let mut calls: Vec<Call> = Vec::new();
    match users {
        None => {
            let mut sql = format!("SELECT {CALL_COLS} FROM calls c WHERE 1 = 1");
            let mut args = SqliteArguments::default();
            push_filters(q, &mut sql, &mut args)?;
            if let Some(cur) = q.cursor {
                sql.push_str(" AND (c.started_at < ? OR (c.started_at = ? AND c.id < ?))");
                args.add(cur.started_at_ms).map_err(bad)?;
                args.add(cur.started_at_ms).map_err(bad)?;
                args.add(cur.id).map_err(bad)?;
            }
            sql.push_str(" ORDER BY c.started_at DESC, c.id DESC LIMIT ?");
            args.add(limit).map_err(bad)?;
            for r in sqlx::query_with(&sql, args).fetch_all(pool).await? {
                calls.push(call_row(&r)?);
            }
        }
        Some(users) => {
            // One index walk per user (newest first), merged: each walk reads at most `limit`
            // rows, so a supervisor's page costs O(users × limit) whatever the journal's size.
            for u in users {
                let mut sql = format!(
                    "SELECT {CALL_COLS} FROM call_users cu JOIN calls c ON c.id = cu.call_id WHERE cu.user_id = ?"
                );
                let mut args = SqliteArguments::default();
                args.add(u.0).map_err(bad)?;
                if let Some(from) = q.from {
                    sql.push_str(" AND cu.started_at >= ?");
                    args.add(ms(from)).map_err(bad)?;
                }
                if let Some(to) = q.to {
                    sql.push_str(" AND cu.started_at < ?");
                    args.add(ms(to)).map_err(bad)?;
                }
                if let Some(cur) = q.cursor {
                    sql.push_str(" AND (cu.started_at < ? OR (cu.started_at = ? AND cu.call_id < ?))");
                    args.add(cur.started_at_ms).map_err(bad)?;
                    args.add(cur.started_at_ms).map_err(bad)?;
                    args.add(cur.id).map_err(bad)?;
                }
                push_filters(q, &mut sql, &mut args)?;
                sql.push_str(" ORDER BY cu.started_at DESC, cu.call_id DESC LIMIT ?");
                args.add(limit).map_err(bad)?;
                for r in sqlx::query_with(&sql, args).fetch_all(pool).await? {
                    calls.push(call_row(&r)?);
                }
            }
            calls.sort_by_key(|c| std::cmp::Reverse((c.started_at, c.id)));
            calls.dedup_by_key(|c| c.id);
            calls.truncate(limit as usize);
        }
    }
    let next = if calls.len() as i64 == limit {
        calls.last().map(|c| JournalCursor {
            started_at_ms: ms(c.started_at),
            id: c.id.0,
        })
    } else {
        None
    };
    Ok((calls.into_iter().map(item).collect(), next))
}
