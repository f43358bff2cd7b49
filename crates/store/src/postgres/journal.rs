//! PostgreSQL: the journal query — one page of the calls a viewer may see, newest first, with
//! keyset paging, filters and text search.
//!
//! Without a search text a scope walks `call_users` (user, started_at) newest first per user
//! ([`newest`]). With one, the pg_trgm GIN index on `calls.search` (a substring
//! `LIKE '%…%'`) finds the matches and the scope is a semi-join ([`search`]). Search texts of one or two characters have no trigram and are tested on
//! the rows walked, as on SQLite.

use super::calls::{call_row, CALL_COLS};
use super::directory;
use crate::sqlite::ms;
use crate::{JournalCursor, JournalQuery, Result, Scope, StoreError};
use callrec_types::calls::{Call, JournalItem};
use callrec_types::UserId;
use sqlx::{PgPool, Postgres, QueryBuilder, Row};

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

fn item(call: Call, score: Option<f64>) -> JournalItem {
    let start = call.answered_at.unwrap_or(call.started_at);
    let duration_ms = call.ended_at.map(|e| (e - start).num_milliseconds().max(0));
    JournalItem {
        call,
        duration_ms,
        score,
    }
}

/// The page's time range and cursor, each as ` AND …`, on `started` and `id` (the driving
/// table's copies, so its index serves them).
fn push_range(sql: &mut QueryBuilder<Postgres>, q: &JournalQuery, started: &str, id: &str) {
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
}

/// The page's conditions on call `c`, each as ` AND …`: the range ([`push_range`]),
/// direction, recordings, reviews, the other took-part lists and the search text `text` (`named`: the
/// users whose directory name holds it).
fn push_filters(
    sql: &mut QueryBuilder<Postgres>,
    q: &JournalQuery,
    started: &str,
    id: &str,
    lists: impl Iterator<Item = Vec<i64>>,
    named: &[i64],
    text: Option<&str>,
) {
    push_range(sql, q, started, id);
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
    match q.reviewed {
        Some(true) => {
            sql.push(" AND c.review_score IS NOT NULL");
        }
        Some(false) => {
            sql.push(" AND c.review_score IS NULL");
        }
        None => {}
    }
    for users in lists {
        sql.push(" AND EXISTS (SELECT 1 FROM call_users u WHERE u.call_id = c.id AND u.user_id = ANY(")
            .push_bind(users)
            .push("))");
    }
    if let Some(text) = text {
        sql.push(" AND (c.search LIKE ")
            .push_bind(like_pattern(text))
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
    let mut lists = lists;
    lists.sort_by_key(Vec::len);
    let calls = match search_text(q) {
        None => newest(pool, q, lists, limit).await?,
        Some(text) => search(pool, q, &text, lists, &named, limit).await?,
    };
    let next = if calls.len() as i64 == limit {
        calls.last().map(|i| JournalCursor {
            started_at_ms: ms(i.call.started_at),
            id: i.call.id.0,
        })
    } else {
        None
    };
    Ok((calls, next))
}

/// The page without a search text. A scope (or a user filter) drives the walk through
/// `call_users` (user, started_at) newest first, one user at a time: an agent takes part in
/// ~1 call in 200, and walking the whole journal newest first for their 50 cost ~40 ms at 1M
/// calls (three processes of a parallel plan) against ~1 ms this way. The shortest list
/// drives; the others stay filters. Each user's walk stops at `limit` matches; the newest
/// `limit` distinct calls of their union are the page (a call two of them took part in is
/// walked twice). Without a filter on the call itself the walks stay in `call_users`' primary
/// key (an index-only scan) and only the page's calls are read from `calls`: a supervisor's
/// 23 agents walk 1,150 keys, and reading each of their calls cost ~10 ms at 1M calls.
///
/// Reviewed calls only (`reviewed=true`) walk the partial index `calls_reviewed` (migration
/// 0011) newest first instead, every list a filter: reviews are filled by people, so reviewed
/// calls are few, where a user's walk would step over all of their unreviewed calls.
async fn newest(pool: &PgPool, q: &JournalQuery, lists: Vec<Vec<i64>>, limit: i64) -> Result<Vec<JournalItem>> {
    let mut lists = lists.into_iter();
    let mut sql: QueryBuilder<Postgres> =
        QueryBuilder::new(format!("SELECT {CALL_COLS}, c.review_score FROM calls c WHERE "));
    let drive = if q.reviewed == Some(true) { None } else { lists.next() };
    match drive {
        Some(drive) => {
            let rest: Vec<Vec<i64>> = lists.collect();
            let on_call =
                q.direction.is_some() || q.has_recordings.is_some() || q.reviewed.is_some() || !rest.is_empty();
            sql.push("c.id IN (SELECT p.call_id FROM (SELECT DISTINCT x.started_at, x.call_id FROM unnest(")
                .push_bind(drive)
                .push("::bigint[]) AS s(uid) CROSS JOIN LATERAL (SELECT cu.started_at, cu.call_id FROM call_users cu");
            if on_call {
                sql.push(" JOIN calls c ON c.id = cu.call_id");
            }
            sql.push(" WHERE cu.user_id = s.uid");
            if on_call {
                push_filters(&mut sql, q, "cu.started_at", "cu.call_id", rest.into_iter(), &[], None);
            } else {
                push_range(&mut sql, q, "cu.started_at", "cu.call_id");
            }
            sql.push(" ORDER BY cu.started_at DESC, cu.call_id DESC LIMIT ")
                .push_bind(limit)
                .push(") x ORDER BY x.started_at DESC, x.call_id DESC LIMIT ")
                .push_bind(limit)
                .push(") p)");
        }
        None => {
            sql.push("TRUE");
            push_filters(&mut sql, q, "c.started_at", "c.id", lists, &[], None);
        }
    }
    sql.push(" ORDER BY c.started_at DESC, c.id DESC LIMIT ")
        .push_bind(limit);
    fetch_calls(pool, sql).await
}

/// The page for a search text: the pg_trgm GIN index on `calls.search` finds the matches (a
/// substring `LIKE`), the scope a semi-join on `call_users`. A bounded newest-first walk of
/// 3,000 calls before the index was measured at 1M calls (2026-12-04) and was slower for
/// five of six search cases (7-digit p50 19.8 against 4.3 ms, 4-digit 37.2 against 16.8 ms):
/// the walk read 3,000 rows of `calls` even when the page filled early, and a rare text still
/// needed the index. Per-user walks for a scope were slower still (a supervisor's rare search
/// ~0.8 s at p99).
async fn search(
    pool: &PgPool,
    q: &JournalQuery,
    text: &str,
    lists: Vec<Vec<i64>>,
    named: &[i64],
    limit: i64,
) -> Result<Vec<JournalItem>> {
    let mut sql: QueryBuilder<Postgres> =
        QueryBuilder::new(format!("SELECT {CALL_COLS}, c.review_score FROM calls c WHERE TRUE"));
    push_filters(
        &mut sql,
        q,
        "c.started_at",
        "c.id",
        lists.into_iter(),
        named,
        Some(text),
    );
    sql.push(" ORDER BY c.started_at DESC, c.id DESC LIMIT ")
        .push_bind(limit);
    fetch_calls(pool, sql).await
}

/// The page's rows: the call's columns, then its reviews' average score (migration 0011).
async fn fetch_calls(pool: &PgPool, mut sql: QueryBuilder<'_, Postgres>) -> Result<Vec<JournalItem>> {
    sql.build()
        .fetch_all(pool)
        .await?
        .iter()
        .map(|r| Ok(item(call_row(r)?, r.try_get(14)?)))
        .collect()
}
