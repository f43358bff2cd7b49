//! SQLite: the journal query — one page of the calls a viewer may see, newest first, with
//! keyset paging, filters and text search through the indexes of migrations 0003–0006.
//!
//! By noun: the statement and the journal key in `sql`, the text search in `text`, whose
//! calls a query walks in `walk`; here the statements themselves and the page.

mod sql;
pub(crate) mod text;
mod walk;

use super::calls::{call_row, CALL_COLS};
use super::directory;
use super::ms;
use crate::{JournalCursor, JournalQuery, Result, StoreError};
use callrec_types::calls::{Call, JournalItem};
use sql::{first_key, Sql};
use sqlx::{Row, SqlitePool};
use text::{search_text, Text};
use walk::{Upper, Walk};

/// Appends the filters on the call row itself (`c`): direction, recordings, reviews, and a short text
/// tested with LIKE on `search_col` (`c.search`, or `cu.search` when walking `call_users`).
fn push_call_filters(q: &JournalQuery, text: &Text, search_col: &str, sql: &mut Sql) -> Result<()> {
    if let Some(d) = q.direction {
        sql.push(" AND c.direction = ?").bind(d.as_str().to_string())?;
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
    if let Text::Like(pattern) = text {
        sql.push(&format!(" AND {search_col} LIKE ? ESCAPE '\\'"))
            .bind(pattern.clone())?;
    }
    Ok(())
}

/// Appends "one of each list of `within` took part in the call `call_col`" (aliases
/// `{alias}0`, `{alias}1`, …).
fn push_took_part_all(sql: &mut Sql, alias: &str, call_col: &str, within: &[Vec<i64>]) -> Result<()> {
    for (n, users) in within.iter().enumerate() {
        push_took_part(sql, &format!("{alias}{n}"), call_col, users)?;
    }
    Ok(())
}

/// Appends "one of `users` took part in the call `call_col`": the call's few rows of
/// `call_users` are found by call id and their users tested against the list (the unary `+`
/// keeps SQLite from seeking once per listed user instead: 24 seeks per match for a supervisor,
/// a frequent caller's number 1.3 → 0.5 ms over 1M calls).
fn push_took_part(sql: &mut Sql, alias: &str, call_col: &str, users: &[i64]) -> Result<()> {
    sql.push(&format!(
        " AND EXISTS (SELECT 1 FROM call_users {alias} WHERE {alias}.call_id = {call_col} AND +{alias}.user_id"
    ));
    sql.bind_in(users)?;
    sql.push(")");
    Ok(())
}

/// Admin, no text or short text: one walk down `calls_newest` (started_at, id) — or, for
/// reviewed calls only, down `calls_reviewed` (migration 0016), which holds only them; then
/// for any walk, the scope checked per reviewed call: reviews are filled by people, so
/// reviewed calls are few and this reads far fewer rows than a scope's own walks would, each
/// of which would step over every unreviewed call of its user.
fn all_calls(q: &JournalQuery, text: &Text, walk: &Walk, limit: i64) -> Result<Sql> {
    let mut sql = Sql::new(&format!("SELECT {CALL_COLS}, c.review_score FROM calls c WHERE 1 = 1"));
    if let Some(from) = q.from {
        sql.push(" AND c.started_at >= ?").bind(ms(from))?;
    }
    match Upper::of(q) {
        Upper::None => {}
        Upper::Before(to) => {
            sql.push(" AND c.started_at < ?").bind(to)?;
        }
        Upper::Cursor(c) => {
            sql.push(" AND (c.started_at, c.id) < (?, ?)")
                .bind(c.started_at_ms)?
                .bind(c.id)?;
        }
    }
    push_call_filters(q, text, "c.search", &mut sql)?;
    if let Walk::Users { users, within } = walk {
        push_took_part(&mut sql, "cu", "c.id", users)?;
        push_took_part_all(&mut sql, "cw", "c.id", within)?;
    }
    sql.push(" ORDER BY c.started_at DESC, c.id DESC LIMIT ?").bind(limit)?;
    Ok(sql)
}

/// Appends the time range and the cursor as a key range of `table`; the cursor's own
/// millisecond is included whole (the caller compares (started_at, id) exactly if it needs to).
fn push_key_range(q: &JournalQuery, table: &str, sql: &mut Sql) -> Result<()> {
    if let Some(from) = q.from {
        sql.push(&format!(" AND {table}.rowid <= ?"))
            .bind(first_key(ms(from)))?;
    }
    match Upper::of(q) {
        Upper::None => {}
        Upper::Before(to) => {
            sql.push(&format!(" AND {table}.rowid > ?")).bind(first_key(to))?;
        }
        Upper::Cursor(c) => {
            sql.push(&format!(" AND {table}.rowid > ?"))
                .bind(first_key(c.started_at_ms.saturating_add(1)))?;
        }
    }
    Ok(())
}

/// A text search through an index in journal order (`journal_fts` or `journal_grams`; keys
/// ascending are newest first, migrations 0003–0005), any walk: newest match first, every
/// other condition checked per match, and the walk stops at the end of the page.
fn text_search(
    q: &JournalQuery,
    table: &str,
    expr: &str,
    verify: Option<&str>,
    walk: &Walk,
    limit: i64,
) -> Result<Sql> {
    let mut sql = Sql::new(&format!(
        "SELECT {CALL_COLS}, c.review_score FROM {table} JOIN journal_keys k ON k.key = {table}.rowid \
         JOIN calls c ON c.id = k.call_id WHERE {table} MATCH ?"
    ));
    sql.bind(expr.to_string())?;
    push_key_range(q, table, &mut sql)?;
    if let Upper::Cursor(c) = Upper::of(q) {
        // The key range ends after the cursor's millisecond; within it the exact comparison
        // drops the few calls at or above the cursor.
        sql.push(" AND (c.started_at, c.id) < (?, ?)")
            .bind(c.started_at_ms)?
            .bind(c.id)?;
    }
    if let Some(pattern) = verify {
        sql.push(" AND c.search LIKE ? ESCAPE '\\'").bind(pattern.to_string())?;
    }
    push_call_filters(q, &Text::None, "c.search", &mut sql)?;
    if let Walk::Users { users, within } = walk {
        push_took_part(&mut sql, "cu", "k.call_id", users)?;
        push_took_part_all(&mut sql, "cw", "k.call_id", within)?;
    }
    sql.push(&format!(" ORDER BY {table}.rowid LIMIT ?")).bind(limit)?;
    Ok(sql)
}

/// Users allowed in one statement's compound SELECT (SQLite allows 500 terms).
const USERS_PER_STATEMENT: usize = 100;

/// Whether the scoped walk must look at the call row: the direction and the recordings are
/// only there, and the reviews' average score (the search text is in `call_users` too,
/// migration 0006).
fn needs_call_row(q: &JournalQuery) -> bool {
    q.direction.is_some() || q.has_recordings.is_some() || q.reviewed.is_some()
}

/// Scoped, with a filter on the call row: per user, a walk down `call_users` (user_id,
/// started_at, call_id) newest first, at most `limit` each; the walks are merged in one
/// compound SELECT that returns only keys, so a supervisor's page reads O(users × limit) index
/// entries and loads just the `limit` calls it shows.
fn user_walks(q: &JournalQuery, text: &Text, users: &[i64], within: &[Vec<i64>], limit: i64) -> Result<Sql> {
    let mut sql = Sql::new("SELECT s, i FROM (");
    for (n, user) in users.iter().enumerate() {
        if n > 0 {
            sql.push(" UNION ");
        }
        sql.push(
            "SELECT * FROM (SELECT cu.started_at AS s, cu.call_id AS i FROM call_users cu \
             JOIN calls c ON c.id = cu.call_id",
        );
        sql.push(" WHERE cu.user_id = ?").bind(*user)?;
        if let Some(from) = q.from {
            sql.push(" AND cu.started_at >= ?").bind(ms(from))?;
        }
        match Upper::of(q) {
            Upper::None => {}
            Upper::Before(to) => {
                sql.push(" AND cu.started_at < ?").bind(to)?;
            }
            Upper::Cursor(c) => {
                sql.push(" AND (cu.started_at, cu.call_id) < (?, ?)")
                    .bind(c.started_at_ms)?
                    .bind(c.id)?;
            }
        }
        push_call_filters(q, text, "cu.search", &mut sql)?;
        push_took_part_all(&mut sql, "cw", "cu.call_id", within)?;
        sql.push(" ORDER BY cu.started_at DESC, cu.call_id DESC LIMIT ?)")
            .bind(limit)?;
    }
    // UNION, not UNION ALL: a call between two walked users is one row of the page.
    sql.push(") ORDER BY s DESC, i DESC LIMIT ?").bind(limit)?;
    Ok(sql)
}

/// The page's rows: the call's columns, then its reviews' average score (migration 0016).
async fn fetch_calls(pool: &SqlitePool, sql: Sql) -> Result<Vec<JournalItem>> {
    sqlx::query_with(&sql.text, sql.args)
        .fetch_all(pool)
        .await?
        .iter()
        .map(|r| Ok(item(call_row(r)?, r.get(14))))
        .collect()
}

/// Scoped, and no filter needs the call row: one statement over `call_users` with
/// `user_id IN (…) ORDER BY started_at DESC, call_id DESC LIMIT n`, which SQLite answers as
/// the merge of one index walk per user, each abandoned as soon as it cannot improve the page
/// (0.2 ms for a supervisor of 24 users over 1M calls; the UNION of per-user walks below
/// takes 0.7 ms). DISTINCT: a call between two of the users is one row of the page. A short or
/// common text is tested with LIKE on the walked rows' own copy of the search text.
fn scope_walk(
    q: &JournalQuery,
    text: &Text,
    users: &[i64],
    within: &[Vec<i64>],
    down_to: Option<i64>,
    limit: i64,
) -> Result<Sql> {
    let mut sql = Sql::new(&format!(
        "SELECT {CALL_COLS}, c.review_score FROM (SELECT DISTINCT cu.started_at AS s, cu.call_id AS i FROM call_users cu \
         WHERE cu.user_id"
    ));
    push_users_range(q, users, &mut sql)?;
    if let Some(bound) = down_to {
        sql.push(" AND cu.started_at >= ?").bind(bound)?;
    }
    if let Text::Like(pattern) = text {
        sql.push(" AND cu.search LIKE ? ESCAPE '\\'").bind(pattern.clone())?;
    }
    push_took_part_all(&mut sql, "cw", "cu.call_id", within)?;
    sql.push(" ORDER BY s DESC, i DESC LIMIT ?) k JOIN calls c ON c.id = k.i ORDER BY k.s DESC, k.i DESC")
        .bind(limit)?;
    Ok(sql)
}

/// Appends ` IN (users)` and the time range and cursor as conditions on `call_users cu`.
fn push_users_range(q: &JournalQuery, users: &[i64], sql: &mut Sql) -> Result<()> {
    sql.bind_in(users)?;
    if let Some(from) = q.from {
        sql.push(" AND cu.started_at >= ?").bind(ms(from))?;
    }
    match Upper::of(q) {
        Upper::None => {}
        Upper::Before(to) => {
            sql.push(" AND cu.started_at < ?").bind(to)?;
        }
        Upper::Cursor(c) => {
            sql.push(" AND (cu.started_at, cu.call_id) < (?, ?)")
                .bind(c.started_at_ms)?
                .bind(c.id)?;
        }
    }
    Ok(())
}

/// The scoped journal without an index search: reviewed calls only through [`all_calls`];
/// [`scope_walk`] when no filter needs the call row; otherwise keys from the per-user walks (in statements of at most
/// [`USERS_PER_STATEMENT`] users), merged, then the page's calls by id.
async fn scoped_page(
    pool: &SqlitePool,
    q: &JournalQuery,
    text: &Text,
    users: &[i64],
    within: &[Vec<i64>],
    limit: i64,
) -> Result<Vec<JournalItem>> {
    if q.reviewed == Some(true) {
        let walk = Walk::Users {
            users: users.to_vec(),
            within: within.to_vec(),
        };
        return fetch_calls(pool, all_calls(q, text, &walk, limit)?).await;
    }
    if !needs_call_row(q) {
        return fetch_calls(pool, scope_walk(q, text, users, within, None, limit)?).await;
    }
    let mut keys: Vec<(i64, i64)> = Vec::new();
    for chunk in users.chunks(USERS_PER_STATEMENT) {
        let sql = user_walks(q, text, chunk, within, limit)?;
        let rows = sqlx::query_with(&sql.text, sql.args).fetch_all(pool).await?;
        keys.extend(rows.iter().map(|r| (r.get::<i64, _>(0), r.get::<i64, _>(1))));
    }
    keys.sort_unstable_by(|a, b| b.cmp(a));
    keys.dedup();
    keys.truncate(limit as usize);
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = keys.iter().map(|k| k.1).collect();
    let mut sql = Sql::new(&format!("SELECT {CALL_COLS}, c.review_score FROM calls c WHERE c.id"));
    sql.bind_in(&ids)?;
    fetch_calls(pool, sql).await
}

/// How many matches of the index make a text "common" for [`scoped_search`].
fn common_matches(limit: i64) -> i64 {
    (limit * 20).clamp(200, 5000)
}

/// Scopes of fewer users than this are "narrow" for [`scoped_search`].
const NARROW_SCOPE: usize = 8;

/// How many of a narrow scope's own rows (newest first) [`scoped_search`] tests with LIKE
/// before it turns to the index: ~0.1 µs each over a million calls, so at most ~0.3 ms.
const WALK_ROWS: i64 = 3000;

/// A text search within a scope. Through the index, each match costs a check of who took
/// part: cheap when the viewer sees many of the matches (a supervisor of teams), wasteful when
/// a common text meets a narrow scope (an agent searching `+4930` would examine ~10,000 matches
/// for a page: 40 ms over 1M calls). Walking the viewer's own calls and testing each with
/// LIKE costs the opposite: little when the text is common, all of the viewer's calls when it
/// is rare. So a narrow scope first walks at most [`WALK_ROWS`] of its own rows (the search
/// text is in `call_users`, migration 0006): a full page, or a walk that reached the end of
/// the range, is the answer; otherwise the text is rare among the viewer's calls and the index
/// answers. With a filter on the call row (direction, recordings) the walk needs the calls
/// too, so there the index is first asked how many matches there are (up to
/// [`common_matches`], without touching the calls) and a common text walks the viewer's calls.
async fn scoped_search(
    pool: &SqlitePool,
    q: &JournalQuery,
    text: &Text,
    users: &[i64],
    within: &[Vec<i64>],
    limit: i64,
) -> Result<Vec<JournalItem>> {
    let Text::Index {
        table,
        expr,
        pattern,
        verify,
    } = text
    else {
        return scoped_page(pool, q, text, users, within, limit).await;
    };
    if users.len() < NARROW_SCOPE && !needs_call_row(q) {
        // The start time of the WALK_ROWS-th row: an index-only walk; none if the range
        // holds fewer rows, and then the walk below covers all of them.
        let mut edge = Sql::new("SELECT cu.started_at FROM call_users cu WHERE cu.user_id");
        push_users_range(q, users, &mut edge)?;
        edge.push(" ORDER BY cu.started_at DESC, cu.call_id DESC LIMIT 1 OFFSET ?")
            .bind(WALK_ROWS - 1)?;
        let edge: Option<i64> = sqlx::query_scalar_with(&edge.text, edge.args)
            .fetch_optional(pool)
            .await?;
        let like = Text::Like(pattern.clone());
        let calls = fetch_calls(pool, scope_walk(q, &like, users, within, edge, limit)?).await?;
        if edge.is_none() || calls.len() as i64 == limit {
            return Ok(calls);
        }
    } else if users.len() < NARROW_SCOPE {
        let cap = common_matches(limit);
        let mut probe = Sql::new(&format!(
            "SELECT count(*) FROM (SELECT 1 FROM {table} WHERE {table} MATCH ?"
        ));
        probe.bind(expr.clone())?;
        push_key_range(q, table, &mut probe)?;
        probe.push(" LIMIT ?)").bind(cap)?;
        let matches: i64 = sqlx::query_scalar_with(&probe.text, probe.args).fetch_one(pool).await?;
        if matches == 0 {
            return Ok(Vec::new());
        }
        if matches >= cap {
            return scoped_page(pool, q, &Text::Like(pattern.clone()), users, within, limit).await;
        }
    }
    let walk = Walk::Users {
        users: users.to_vec(),
        within: within.to_vec(),
    };
    let verify = verify.then_some(pattern.as_str());
    fetch_calls(pool, text_search(q, table, expr, verify, &walk, limit)?).await
}

fn item(call: Call, score: Option<f64>) -> JournalItem {
    let start = call.answered_at.unwrap_or(call.started_at);
    let duration_ms = call.ended_at.map(|e| (e - start).num_milliseconds().max(0));
    JournalItem {
        call,
        duration_ms,
        score,
        // Why the search matched is the server's to say, for the page's items only.
        matched: None,
    }
}

/// One page of the journal, newest first (started_at, then id, descending), with the cursor
/// of the next page when this one is full. A search text with control characters is
/// [`StoreError::Invalid`] ([`JournalQuery::text_problem`]).
///
/// Three query shapes, each reading about one page's worth of index entries per walked user
/// whatever the journal's size (see `docs/benchmarks.md` for the figures at a million calls):
/// the admin's walk down `calls_newest`, the scoped per-user walks down `call_users`, and
/// any search of three characters and more through `journal_fts` in journal order.
pub async fn journal(pool: &SqlitePool, q: &JournalQuery) -> Result<(Vec<JournalItem>, Option<JournalCursor>)> {
    if let Some(problem) = q.q.as_deref().and_then(JournalQuery::text_problem) {
        // Refused for every scope alike, before any walk: a scoped walk would answer with
        // LIKE and the admin's with FTS5, which fails on NUL (#13.6).
        return Err(StoreError::Invalid(problem.to_string()));
    }
    let limit = q.limit.clamp(1, 500);
    let walk = Walk::of(q);
    let text = Text::of(q);
    if matches!(&walk, Walk::Users { users, within } if users.is_empty() || within.iter().any(Vec::is_empty)) {
        return Ok((Vec::new(), None));
    }
    let mut calls = match (&text, &walk) {
        (
            Text::Index {
                table,
                expr,
                pattern,
                verify,
            },
            Walk::All,
        ) => {
            let verify = verify.then_some(pattern.as_str());
            fetch_calls(pool, text_search(q, table, expr, verify, &walk, limit)?).await?
        }
        (_, Walk::All) => fetch_calls(pool, all_calls(q, &text, &walk, limit)?).await?,
        (_, Walk::Users { users, within }) => scoped_search(pool, q, &text, users, within, limit).await?,
    };
    // The directory's names (#17): the calls of every user whose display name or username
    // holds the text, whatever the PBX called them, within the same walk, filters and range.
    // Each part is the newest `limit` of its own matches, so the newest `limit` of the two
    // together are the page, and the cursor stays exact.
    let named = match search_text(q) {
        Some(t) => directory::users_named(pool, &t).await?,
        None => Vec::new(),
    };
    if !named.is_empty() {
        let (users, within) = walk.narrowed_to(named);
        let more = scoped_page(pool, q, &Text::None, &users, &within, limit).await?;
        calls.extend(more);
        calls.sort_by_key(|i| std::cmp::Reverse((i.call.started_at, i.call.id)));
        calls.dedup_by_key(|i| i.call.id);
        calls.truncate(limit as usize);
    }
    calls.sort_by_key(|i| std::cmp::Reverse((i.call.started_at, i.call.id)));
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
