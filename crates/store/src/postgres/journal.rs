//! PostgreSQL: the journal query — one page of the calls a viewer may see, newest first, with
//! keyset paging, filters and text search.
//!
//! One statement per page. Without a search text a scope walks `call_users` (user,
//! started_at) newest first per user (see [`journal`]). Otherwise the planner chooses between
//! walking `calls_newest` (started_at, id) newest first and checking each call, and collecting
//! the matches of the text through the pg_trgm GIN index on `calls.search` (a substring
//! `LIKE '%…%'`); the scope is then a semi-join on `call_users`. Search texts of one or two characters have no trigram and are tested on
//! the rows walked, as on SQLite.

use super::calls::{call_row, CALL_COLS};
use super::directory;
use crate::sqlite::ms;
use crate::{JournalCursor, JournalQuery, Result, Scope, StoreError};
use callrec_types::calls::{Call, JournalItem};
use callrec_types::UserId;
use sqlx::{PgPool, Postgres, QueryBuilder};

/// A LIKE pattern for a substring: `%`, `_` and `\` stand for themselves.
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

/// The search text as it is compared: trimmed and lower case; `None` when there is none.
fn search_text(q: &JournalQuery) -> Option<String> {
    q.q.as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_lowercase)
}

/// The lists of users of which one must have taken part in each call: the viewer's scope and
/// the `user_id` filter (none for an admin without a filter).
fn took_part(q: &JournalQuery) -> Vec<Vec<i64>> {
    let ids = |l: &[UserId]| l.iter().map(|u| u.0).collect::<Vec<_>>();
    let mut lists = Vec::new();
    if let Scope::Users(list) = &q.scope {
        lists.push(ids(list));
    }
    if let Some(u) = q.user_id {
        lists.push(vec![u.0]);
    }
    lists
}

fn item(call: Call) -> JournalItem {
    let start = call.answered_at.unwrap_or(call.started_at);
    let duration_ms = call.ended_at.map(|e| (e - start).num_milliseconds().max(0));
    JournalItem { call, duration_ms }
}

/// The page's conditions on call `c`, each as ` AND …`: time range and cursor on `started`
/// and `id` (the driving table's copies, so its index serves them), direction, recordings,
/// the other took-part lists and the search text (`named`: the users whose directory name
/// holds it).
fn push_filters(
    sql: &mut QueryBuilder<Postgres>,
    q: &JournalQuery,
    started: &str,
    id: &str,
    lists: impl Iterator<Item = Vec<i64>>,
    named: &[i64],
) {
    if let Some(from) = q.from {
        sql.push(format!(" AND {started} >= ")).push_bind(ms(from));
    }
    if let Some(to) = q.to {
        sql.push(format!(" AND {started} < ")).push_bind(ms(to));
    }
    if let Some(c) = q.cursor {
        sql.push(format!(" AND ({started}, {id}) < ("))
            .push_bind(c.started_at_ms)
            .push(", ")
            .push_bind(c.id)
            .push(")");
    }
    if let Some(d) = q.direction {
        sql.push(" AND c.direction = ").push_bind(d.as_str().to_string());
    }
    match q.has_recordings {
        Some(true) => {
            sql.push(" AND c.recording_count > 0");
        }
        Some(false) => {
            sql.push(" AND c.recording_count = 0");
        }
        None => {}
    }
    for users in lists {
        sql.push(" AND EXISTS (SELECT 1 FROM call_users u WHERE u.call_id = c.id AND u.user_id = ANY(")
            .push_bind(users)
            .push("))");
    }
    if let Some(text) = search_text(q) {
        sql.push(" AND (c.search LIKE ")
            .push_bind(like_pattern(&text))
            .push(" ESCAPE '\\'");
        if !named.is_empty() {
            sql.push(" OR EXISTS (SELECT 1 FROM call_users n WHERE n.call_id = c.id AND n.user_id = ANY(")
                .push_bind(named.to_vec())
                .push("))");
        }
        sql.push(")");
    }
}

/// One page of the journal, newest first (started_at, then id, descending), with the cursor
/// of the next page when this one is full. The text matches a participant's name or number
/// as stored, or any call of a user whose directory name holds it (#17). A search text with
/// control characters is [`StoreError::Invalid`] ([`JournalQuery::text_problem`]), as on
/// SQLite.
pub async fn journal(pool: &PgPool, q: &JournalQuery) -> Result<(Vec<JournalItem>, Option<JournalCursor>)> {
    if let Some(problem) = q.q.as_deref().and_then(JournalQuery::text_problem) {
        return Err(StoreError::Invalid(problem.to_string()));
    }
    let limit = q.limit.clamp(1, 500);
    let lists = took_part(q);
    if lists.iter().any(Vec::is_empty) {
        return Ok((Vec::new(), None));
    }
    let named = match search_text(q) {
        Some(text) => directory::users_named(pool, &text).await?,
        None => Vec::new(),
    };
    let mut sql: QueryBuilder<Postgres> = QueryBuilder::new(format!("SELECT {CALL_COLS} FROM calls c WHERE "));
    // A scope (or a user filter) drives the walk through `call_users` (user, started_at)
    // newest first, one user at a time: an agent takes part in ~1 call in 200, and walking
    // the whole journal newest first for their 50 cost ~40 ms at 1M calls (three processes
    // of a parallel plan) against ~1 ms this way. The shortest list drives; the others stay
    // filters. Each user's walk stops at `limit` matches, so the newest `limit` of their
    // union are the page (`IN` drops a call two of them took part in twice).
    // With a search text the trigram index finds the few matches faster than a walk of
    // every scoped user's calls (a supervisor's 23 agents × ~5,000 calls: ~0.8 s at p99), so
    // the scope stays a filter then.
    let mut lists = lists;
    lists.sort_by_key(Vec::len);
    let mut lists = lists.into_iter();
    let drive = if search_text(q).is_none() { lists.next() } else { None };
    match drive {
        Some(drive) => {
            sql.push("c.id IN (SELECT x.id FROM unnest(")
                .push_bind(drive)
                .push("::bigint[]) AS s(uid) CROSS JOIN LATERAL (SELECT c.id FROM call_users cu JOIN calls c ON c.id = cu.call_id WHERE cu.user_id = s.uid");
            push_filters(&mut sql, q, "cu.started_at", "cu.call_id", lists, &named);
            sql.push(" ORDER BY cu.started_at DESC, cu.call_id DESC LIMIT ")
                .push_bind(limit)
                .push(") x)");
        }
        None => {
            sql.push("TRUE");
            push_filters(&mut sql, q, "c.started_at", "c.id", lists, &named);
        }
    }
    sql.push(" ORDER BY c.started_at DESC, c.id DESC LIMIT ")
        .push_bind(limit);
    let calls = sql
        .build()
        .fetch_all(pool)
        .await?
        .iter()
        .map(call_row)
        .collect::<Result<Vec<Call>>>()?;
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
