//! PostgreSQL: the journal query — one page of the calls a viewer may see, newest first, with
//! keyset paging, filters and text search.
//!
//! Without a search text a scope walks `call_users` (user, started_at) newest first per user
//! ([`newest`]). With one, a bounded newest-first walk finds a frequent text's matches and
//! the pg_trgm GIN index on `calls.search` (a substring `LIKE '%…%'`) the rest of a rare
//! one's ([`search`]). Search texts of one or two characters have no trigram and are tested on
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

/// How many of the newest calls (in the query's scope, time range and after its cursor) a
/// search tests one by one before it asks the trigram index for the rest.
const WALK: i64 = 3000;

/// The page for a search text, in two steps. The trigram index alone is slow when the text
/// is common (a 4-digit extension or a prefix: its bitmap holds a good part of the table,
/// every row of it fetched and sorted for the newest 50) and a newest-first walk alone is
/// slow when the text is rare (it walks until it has 50). So:
///
/// 1. **Walk** the newest [`WALK`] calls of the query (of the whole journal, or of each user
///    of the scope's shortest list through `call_users`, a share each) and test each. The
///    walk is complete down to its *edge*: the oldest `started_at` it reached (for a scope,
///    the newest such edge of the users whose walk was cut short). A frequent text fills the
///    page here.
/// 2. Otherwise the matches at or below the edge come from the trigram index (the scope a
///    semi-join), as many as the page still lacks; the walk's matches above the edge are
///    kept.
async fn search(
    pool: &PgPool,
    q: &JournalQuery,
    text: &str,
    lists: Vec<Vec<i64>>,
    named: &[i64],
    limit: i64,
) -> Result<Vec<JournalItem>> {
    let (walked, edge) = walk(pool, q, text, lists.clone(), named).await?;
    let complete: Vec<(i64, i64)> = match edge {
        Some(edge) => walked.into_iter().filter(|&(at, _)| at > edge).collect(),
        None => walked,
    };
    let mut sql: QueryBuilder<Postgres> = QueryBuilder::new(format!(
        "SELECT {CALL_COLS}, c.review_score FROM calls c WHERE c.id = ANY("
    ));
    let ids: Vec<i64> = complete.iter().take(limit as usize).map(|&(_, id)| id).collect();
    let rest = limit - ids.len() as i64;
    sql.push_bind(ids).push(")");
    if let (Some(edge), true) = (edge, rest > 0) {
        sql.push(format!(
            " UNION ALL (SELECT {CALL_COLS}, c.review_score FROM calls c WHERE c.started_at <= "
        ))
        .push_bind(edge);
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
            .push_bind(rest)
            .push(")");
    }
    sql.push(" ORDER BY started_at DESC, id DESC");
    fetch_calls(pool, sql).await
}

/// Step 1 of [`search`]: the matches among the newest calls walked, newest first as
/// (started_at, id) without repeats, and the walk's edge (`None`: the walk saw every call of
/// the query, so its matches are all there are).
async fn walk(
    pool: &PgPool,
    q: &JournalQuery,
    text: &str,
    lists: Vec<Vec<i64>>,
    named: &[i64],
) -> Result<(Vec<(i64, i64)>, Option<i64>)> {
    let mut lists = lists.into_iter();
    let mut sql: QueryBuilder<Postgres> = QueryBuilder::new("WITH w AS MATERIALIZED (");
    let share = match lists.next() {
        Some(drive) => {
            let share = (WALK / drive.len() as i64).max(50);
            sql.push("SELECT x.call_id AS id, x.started_at, s.uid FROM unnest(")
                .push_bind(drive)
                .push("::bigint[]) AS s(uid) CROSS JOIN LATERAL (SELECT cu.call_id, cu.started_at FROM call_users cu WHERE cu.user_id = s.uid");
            push_range(&mut sql, q, "cu.started_at", "cu.call_id");
            sql.push(" ORDER BY cu.started_at DESC, cu.call_id DESC LIMIT ")
                .push_bind(share)
                .push(") x");
            share
        }
        None => {
            sql.push("SELECT c.id, c.started_at, 0::bigint AS uid FROM calls c WHERE TRUE");
            push_range(&mut sql, q, "c.started_at", "c.id");
            sql.push(" ORDER BY c.started_at DESC, c.id DESC LIMIT ")
                .push_bind(WALK);
            WALK
        }
    };
    sql.push(
        "), e AS (SELECT max(m) AS edge FROM (SELECT min(started_at) AS m FROM w GROUP BY uid HAVING count(*) >= ",
    )
    .push_bind(share)
    .push(") t) SELECT DISTINCT w.started_at, w.id FROM w JOIN calls c ON c.id = w.id WHERE TRUE");
    // The range was the walk's; here only the rest of the filters.
    let unranged = JournalQuery {
        from: None,
        to: None,
        cursor: None,
        ..q.clone()
    };
    push_filters(&mut sql, &unranged, "w.started_at", "w.id", lists, named, Some(text));
    sql.push(" UNION ALL SELECT edge, -1 FROM e ORDER BY 1 DESC NULLS LAST, 2 DESC");
    let rows = sql.build().fetch_all(pool).await?;
    let mut hits = Vec::with_capacity(rows.len());
    let mut edge = None;
    for r in &rows {
        let at: Option<i64> = r.try_get(0)?;
        let id: i64 = r.try_get(1)?;
        match (id, at) {
            (-1, e) => edge = e,
            (_, Some(at)) => hits.push((at, id)),
            (_, None) => {}
        }
    }
    Ok((hits, edge))
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
