//! PostgreSQL: the journal query — one page of the calls a viewer may see, newest first, with
//! keyset paging, filters and text search.
//!
//! Without a search text a scope walks `call_users` (user, started_at) newest first per user
//! ([`newest`]). With one ([`search`]), a text with a word of four characters or more (an
//! extension, seven digits of a number, a surname) first walks its rarest key newest first —
//! a five-character gram, or a four-character word's head (`grams`, migrations 0014 and
//! 0016) — and re-checks the text on each call; if that cannot settle the page (every key
//! common and the page not full, or common in a scope of several users), or the text has no
//! such word, a short
//! text (up to six characters: an extension, a prefix, digits) first walks a bounded stretch of the journal newest first, index-only
//! through the text copied into `calls_newest_search` or `call_users_newest_search`
//! (migration 0012), and stops when the page is full; a longer text, or a short one the walk
//! did not fill the page with, is found by the pg_trgm GIN index on `calls.search` (a
//! substring `LIKE '%…%'`) with the scope as a semi-join. Search texts of one or two
//! characters have no trigram and are tested on the rows walked, as on SQLite.

mod grams;

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
        // Why the search matched is the server's to say, for the page's items only.
        matched: None,
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
    push_on_call(sql, q, lists);
    if let Some(text) = text {
        push_text(sql, "c.search", "c.id", text, named);
    }
}

/// The conditions on the call `c` itself, each as ` AND …`: direction, recordings, reviews
/// and the took-part lists.
fn push_on_call(sql: &mut QueryBuilder<Postgres>, q: &JournalQuery, lists: impl Iterator<Item = Vec<i64>>) {
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
}

/// The search text's condition as ` AND …`: the text `search` holds `text` as a substring,
/// or one of `named` took part in the call `id`.
fn push_text(sql: &mut QueryBuilder<Postgres>, search: &str, id: &str, text: &str, named: &[i64]) {
    sql.push(format!(" AND ({search} LIKE "))
        .push_bind(like_pattern(text))
        .push(" ESCAPE '\\'");
    if !named.is_empty() {
        sql.push(format!(
            " OR EXISTS (SELECT 1 FROM call_users n WHERE n.call_id = {id} AND n.user_id = ANY("
        ))
        .push_bind(named.to_vec())
        .push("))");
    }
    sql.push(")");
}

/// One page of the journal, newest first (started_at, then id, descending), with the cursor
/// of the next page when this one is full. The text matches a participant's name or number
/// as stored, or any call of a user whose directory name holds it (#17). A search text with
/// control characters is [`StoreError::Invalid`] ([`JournalQuery::text_problem`]), as on
/// SQLite.
///
/// `generic` serves the statements whose plan the SQL fixes (the walks, the grams, the page
/// without a text) with one generic plan per connection; `pool` the trigram index's, whose
/// plan PostgreSQL must choose for the text at hand (`PgStore::journal_pool`).
pub async fn journal(
    pool: &PgPool,
    generic: &PgPool,
    q: &JournalQuery,
) -> Result<(Vec<JournalItem>, Option<JournalCursor>)> {
    if let Some(problem) = q.q.as_deref().and_then(JournalQuery::text_problem) {
        return Err(StoreError::Invalid(problem.to_string()));
    }
    let limit = q.limit.clamp(1, 500);
    let lists = took_part(q);
    if lists.iter().any(Vec::is_empty) {
        return Ok((Vec::new(), None));
    }
    let named = match search_text(q) {
        Some(text) => directory::users_named(generic, &text).await?,
        None => Vec::new(),
    };
    let mut lists = lists;
    lists.sort_by_key(Vec::len);
    let calls = match search_text(q) {
        None => newest(generic, q, lists, limit).await?,
        Some(text) => search(pool, generic, q, &text, lists, &named, limit).await?,
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
/// key (an index-only scan) and only the page's calls are read from `calls`: reading each of a
/// supervisor's 23 agents' calls cost ~10 ms at 1M calls. Up to [`MERGE_MAX_USERS`] users the
/// walks are the branches of one `UNION ALL`, merged in order (Merge Append) and stopped
/// together at the page's last call: ~`limit` keys instead of `limit` per user (a supervisor's
/// 23 agents, pgbench at 1M calls, 2026-12-05: 0.48 ms against 0.9–1.0 for the per-user walks).
/// Such a statement is worth it only with one generic plan per connection (`generic`, see
/// `PgStore::journal_pool`): planned at every request it took 2.0 ms (1.0 ms of it planning,
/// tried and dropped on 2026-12-05 for that reason).
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
            // One user's walk: their newest `limit` calls that pass the filters.
            let walk = |sql: &mut QueryBuilder<'_, Postgres>, user: Option<i64>| {
                sql.push("SELECT cu.started_at, cu.call_id FROM call_users cu");
                if on_call {
                    sql.push(" JOIN calls c ON c.id = cu.call_id");
                }
                match user {
                    Some(user) => sql.push(" WHERE cu.user_id = ").push_bind(user),
                    None => sql.push(" WHERE cu.user_id = s.uid"),
                };
                if on_call {
                    push_filters(sql, q, "cu.started_at", "cu.call_id", rest.iter().cloned(), &[], None);
                } else {
                    push_range(sql, q, "cu.started_at", "cu.call_id");
                }
                sql.push(" ORDER BY cu.started_at DESC, cu.call_id DESC LIMIT ")
                    .push(limit);
            };
            sql.push("c.id IN (SELECT p.call_id FROM (SELECT DISTINCT x.started_at, x.call_id FROM ");
            if drive.len() <= MERGE_MAX_USERS {
                // The walks as branches of one UNION ALL: each is in index order, so the planner
                // merges them (Merge Append) and stops at the `limit`th distinct call, reading
                // ~`limit` keys in all instead of `limit` per user.
                sql.push("(");
                for (i, user) in drive.iter().enumerate() {
                    sql.push(if i == 0 { "(" } else { " UNION ALL (" });
                    walk(&mut sql, Some(*user));
                    sql.push(")");
                }
                sql.push(")");
            } else {
                sql.push("unnest(")
                    .push_bind(drive)
                    .push("::bigint[]) AS s(uid) CROSS JOIN LATERAL (");
                walk(&mut sql, None);
                sql.push(")");
            }
            sql.push(" x ORDER BY x.started_at DESC, x.call_id DESC LIMIT ")
                .push(limit)
                .push(") p)");
        }
        None => {
            sql.push("TRUE");
            push_filters(&mut sql, q, "c.started_at", "c.id", lists, &[], None);
        }
    }
    sql.push(" ORDER BY c.started_at DESC, c.id DESC LIMIT ").push(limit);
    fetch_calls(pool, sql).await
}

/// Scopes of up to this many users are walked as one merge of their index ranges ([`newest`]);
/// larger ones user by user (a statement of more branches would grow past what is worth
/// planning, even once per connection).
const MERGE_MAX_USERS: usize = 64;

/// Texts of up to this many characters walk the journal newest first before the trigram
/// index is asked ([`search`]); longer ones are rare enough to go to the index at once.
const WALK_MAX_CHARS: usize = 6;

/// Calls an unscoped search walks newest first (through `calls_newest_search`, index-only)
/// before it asks the trigram index.
const WALK_CALLS: i64 = 12_000;

/// Calls of one user a scoped search walks newest first (through `call_users_newest_search`,
/// index-only) before it asks the trigram index.
const WALK_USER_CALLS: i64 = 8_000;

/// The page for a search text.
///
/// A text with a key (a run of four word characters or more) and no directory name that
/// holds it is first asked of the grams ([`grams::search`]); the rest of this is for the
/// texts they do not settle: runs of three characters or fewer (`+49`, `20`), texts a
/// directory name holds, common keys in a scope of several users.
///
/// Plan choice (measured at 1M calls, 2026-12-04): the pg_trgm GIN index finds a rare text
/// fast (seven digits of a number: ~2.5 ms of database time), but digit strings have only
/// 1,000 trigrams, each in a few percent of all calls, so for a common text (an extension, a
/// prefix like `+4930`) it hands back thousands of candidates, each read from `calls`,
/// re-checked and sorted: a four-digit extension ~7,000 calls and ~35–40 ms. Walking the
/// journal newest first and testing each call's text stops as soon as the page is full: the
/// same extension after ~5,500–6,300 calls, ~2 ms index-only through `calls_newest_search`
/// (migration 0012; ~15 ms through `calls_newest` and the table); an agent's `+4930` (in ~2 %
/// of their calls) after ~2,200 of their rows, index-only now that `call_users` carries the
/// text (reading each call's row for it cost ~14 ms of server CPU per request). So a short text (up to
/// [`WALK_MAX_CHARS`] characters) first walks a bounded number of calls — [`WALK_CALLS`]
/// newest of all, or, when one user drives the scope (an agent, a user filter),
/// [`WALK_USER_CALLS`] newest of theirs through `call_users` — and only when that walk does
/// not fill the page does the trigram index answer (the same query as for a long text, so the
/// page is the same either way: a full page from the walk is the newest `limit` matches, as
/// every call newer than its last one was tested). The walk is bounded because a rare short
/// text would otherwise walk the whole journal; a long text skips it, as it is rare and the
/// walk would only add its cost. The planner is not left to choose: its estimate of how many
/// calls hold a digit string is off by a hundredfold either way, and it picked a parallel
/// sequential scan (~700 ms) or the index for a common text (~40 ms). A plain fixed walk of
/// 3,000 calls that read every one of them before asking the index was measured earlier and
/// dropped (slower in five of six cases). In journal-bench (1M calls, 1 client, p50 / p99)
/// this took the four-digit extension from 16.8 / 70.7 to 8.1 / 17.6 ms and an agent's
/// common prefix from 55.1 / 127.3 to 7.4 / 16.3 ms, in a run on a busier machine (SQLite's
/// newest page 2.9 / 7.2 ms against 1.6 / 2.7 before); long texts and multi-user scopes still take the
/// index and miss p99 ≤ 5 ms (README, "The same journal on PostgreSQL"). Index-only needs the table's visibility map: calls
/// changed since the last vacuum are read from the table, which is correct, only slower.
async fn search(
    pool: &PgPool,
    generic: &PgPool,
    q: &JournalQuery,
    text: &str,
    lists: Vec<Vec<i64>>,
    named: &[i64],
    limit: i64,
) -> Result<Vec<JournalItem>> {
    if named.is_empty() {
        if let Some(page) = grams::search(generic, q, text, &lists, limit).await? {
            return Ok(page);
        }
    }
    let chars = text.chars().count();
    // Whether the trigram index must answer (see below): the text has trigrams and is long,
    // or the walk found it rare among the newest calls.
    let mut rare = chars > WALK_MAX_CHARS;
    if chars <= WALK_MAX_CHARS {
        let walk = match lists.split_first() {
            None => Some(walk_all(q, text, named, limit)),
            Some((first, rest)) if first.len() == 1 => Some(walk_user(q, text, first[0], rest, named, limit)),
            Some(_) => None,
        };
        if let Some(walk) = walk {
            let page = fetch_calls(generic, walk).await?;
            if page.len() as i64 == limit {
                return Ok(page);
            }
            rare = chars >= 3;
        }
    }
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
    // A rare text is ordered by an expression no index provides, so the planner cannot walk
    // `calls_newest_search` newest first for it: misled by its estimate (10,000 matches for
    // some seven-digit numbers), it chose that walk for 4 of 2,544 numbers tried, and walking
    // 1M calls for a handful of matches took 1.2–4.7 s in journal-bench.
    // Nor does it start parallel workers for one: its estimate makes a parallel bitmap scan
    // look worth it, and starting the workers costs more than the few matches.
    if !rare {
        sql.push(" ORDER BY c.started_at DESC, c.id DESC LIMIT ").push(limit);
        return fetch_calls(pool, sql).await;
    }
    sql.push(" ORDER BY c.started_at + 0 DESC, c.id DESC LIMIT ")
        .push(limit);
    let mut tx = pool.begin().await?;
    sqlx::query("SET LOCAL max_parallel_workers_per_gather = 0")
        .execute(&mut *tx)
        .await?;
    let rows = sql.build().fetch_all(&mut *tx).await?;
    tx.commit().await?;
    rows.iter().map(|r| Ok(item(call_row(r)?, r.try_get(14)?))).collect()
}

/// The walk of an unscoped search: the newest [`WALK_CALLS`] calls that pass the other
/// filters, the text tested on each in order until `limit` match. The text is tested outside
/// the bounded walk so that the walk counts calls, not matches; without other filters it
/// reads only `calls_newest_search`.
fn walk_all<'a>(q: &JournalQuery, text: &str, named: &[i64], limit: i64) -> QueryBuilder<'a, Postgres> {
    let mut sql: QueryBuilder<Postgres> = QueryBuilder::new(format!(
        "SELECT {CALL_COLS}, c.review_score FROM calls c WHERE c.id IN (SELECT w.id FROM \
         (SELECT c.id, c.started_at, c.search FROM calls c WHERE TRUE"
    ));
    push_filters(
        &mut sql,
        q,
        "c.started_at",
        "c.id",
        std::iter::empty::<Vec<i64>>(),
        &[],
        None,
    );
    sql.push(" ORDER BY c.started_at DESC, c.id DESC LIMIT ")
        .push(WALK_CALLS)
        .push(") w WHERE TRUE");
    push_text(&mut sql, "w.search", "w.id", text, named);
    sql.push(" ORDER BY w.started_at DESC, w.id DESC LIMIT ")
        .push(limit)
        .push(") ORDER BY c.started_at DESC, c.id DESC LIMIT ")
        .push(limit);
    sql
}

/// The walk of a search whose scope one user drives: their newest [`WALK_USER_CALLS`] calls
/// through `call_users_newest_search` (index-only: each row carries the call's text,
/// migration 0012), the text tested on each in order; only a match's call row is read, when
/// the other lists `rest` or a filter on the call must be checked too. The lateral join keeps
/// the walk's order, so it stops at the `limit`th match.
fn walk_user<'a>(
    q: &JournalQuery,
    text: &str,
    user: i64,
    rest: &[Vec<i64>],
    named: &[i64],
    limit: i64,
) -> QueryBuilder<'a, Postgres> {
    let mut sql: QueryBuilder<Postgres> = QueryBuilder::new(format!(
        "SELECT {CALL_COLS}, c.review_score FROM calls c WHERE c.id IN (SELECT w.call_id FROM \
         (SELECT cu.started_at, cu.call_id, cu.search FROM call_users cu WHERE cu.user_id = "
    ));
    sql.push_bind(user);
    push_range(&mut sql, q, "cu.started_at", "cu.call_id");
    sql.push(" ORDER BY cu.started_at DESC, cu.call_id DESC LIMIT ")
        .push(WALK_USER_CALLS)
        .push(") w");
    let on_call = q.direction.is_some() || q.has_recordings.is_some() || q.reviewed.is_some() || !rest.is_empty();
    if on_call {
        sql.push(" CROSS JOIN LATERAL (SELECT 1 FROM calls c WHERE c.id = w.call_id");
        push_filters(&mut sql, q, "c.started_at", "c.id", rest.iter().cloned(), &[], None);
        sql.push(") x");
    }
    sql.push(" WHERE TRUE");
    push_text(&mut sql, "w.search", "w.call_id", text, named);
    sql.push(" ORDER BY w.started_at DESC, w.call_id DESC LIMIT ")
        .push(limit)
        .push(") ORDER BY c.started_at DESC, c.id DESC LIMIT ")
        .push(limit);
    sql
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
