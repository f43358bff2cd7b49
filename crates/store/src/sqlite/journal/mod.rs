//! SQLite: the journal query — one page of the calls a viewer may see, newest first, with
//! keyset paging, filters and text search through the indexes of migrations 0003–0006.

use super::calls::{call_row, CALL_COLS};
use super::directory;
use super::ms;
use crate::{JournalCursor, JournalQuery, Result, Scope, StoreError};
use callrec_types::calls::{Call, JournalItem};
use callrec_types::*;
use sqlx::sqlite::SqliteArguments;
use sqlx::{Arguments, Row, SqlitePool};

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

/// Bits of a journal key below the start time (migrations 0003, 0004): the rank of a call
/// among those that started in the same millisecond.
const KEY_RANK_BITS: u32 = 21;

/// The key of the first call of a millisecond: `~(ms << 21)`. Keys are inverted (0004), so
/// the calls of this millisecond and every later one have keys `<=` this, and the calls of
/// earlier milliseconds `>` it. Saturates far outside any real call's time, where a bound
/// still includes or excludes everything as it should.
fn first_key(ms: i64) -> i64 {
    !ms.saturating_mul(1 << KEY_RANK_BITS)
}

/// A statement being built: SQL text and its arguments, in step.
struct Sql {
    text: String,
    args: SqliteArguments<'static>,
}

impl Sql {
    fn new(text: &str) -> Sql {
        Sql {
            text: text.to_string(),
            args: SqliteArguments::default(),
        }
    }

    fn push(&mut self, text: &str) -> &mut Sql {
        self.text.push_str(text);
        self
    }

    fn bind<T>(&mut self, value: T) -> Result<&mut Sql>
    where
        T: sqlx::Encode<'static, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite> + Send + 'static,
    {
        self.args.add(value).map_err(|e| StoreError::Invalid(e.to_string()))?;
        Ok(self)
    }

    /// ` IN (?, ?, …)` over `ids`.
    fn bind_in(&mut self, ids: &[i64]) -> Result<&mut Sql> {
        self.push(" IN (");
        for (n, id) in ids.iter().enumerate() {
            self.push(if n == 0 { "?" } else { ", ?" });
            self.bind(*id)?;
        }
        self.push(")");
        Ok(self)
    }
}

/// Whose calls a query walks.
enum Walk {
    /// Every call: an admin without a user filter.
    All,
    /// The calls of `users`; with `within`, only those in which one of each list of `within`
    /// took part too (a user filter naming someone outside the viewer's scope, users found by
    /// name: the intersection).
    Users { users: Vec<i64>, within: Vec<Vec<i64>> },
}

impl Walk {
    fn of(q: &JournalQuery) -> Walk {
        let ids = |l: &[UserId]| l.iter().map(|u| u.0).collect::<Vec<_>>();
        match (&q.scope, q.user_id) {
            (Scope::All, None) => Walk::All,
            (Scope::All, Some(u)) => Walk::Users {
                users: vec![u.0],
                within: Vec::new(),
            },
            (Scope::Users(list), None) => Walk::Users {
                users: ids(list),
                within: Vec::new(),
            },
            (Scope::Users(list), Some(u)) => Walk::Users {
                users: vec![u.0],
                within: if list.contains(&u) { Vec::new() } else { vec![ids(list)] },
            },
        }
    }

    /// This walk narrowed to the calls in which one of `users` took part: the smallest list is
    /// walked, every other one checked per call.
    fn narrowed_to(&self, users: Vec<i64>) -> (Vec<i64>, Vec<Vec<i64>>) {
        let mut lists = match self {
            Walk::All => Vec::new(),
            Walk::Users { users, within } => {
                let mut l = vec![users.clone()];
                l.extend(within.iter().cloned());
                l
            }
        };
        lists.push(users);
        lists.sort_by_key(Vec::len);
        let walked = lists.remove(0);
        (walked, lists)
    }
}

/// Length of the grams in `journal_grams` (migration 0005).
const GRAM: usize = 5;

/// The characters grams are cut from, as the GLOB class `[a-z0-9ß-öø-ÿ]` of migration 0005:
/// ASCII letters and digits and the lower-case Latin-1 letters (the search text is lower case).
/// (Migration 0005 points to `calls.rs`, where this lived when it was written.)
fn is_word_char(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || ('ß'..='ö').contains(&c) || ('ø'..='ÿ').contains(&c)
}

/// The FTS5 query for the grams of `text`: for every run of word characters of at least
/// [`GRAM`] characters, grams that cover the run (every fifth and the last), all required.
/// `None` when `text` has no such run.
fn gram_query(text: &str) -> Option<String> {
    let mut grams: Vec<String> = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    for run in chars.split(|c| !is_word_char(*c)).filter(|r| r.len() >= GRAM) {
        let starts = (0..=run.len() - GRAM).step_by(GRAM).chain([run.len() - GRAM]);
        for start in starts {
            let gram: String = run[start..start + GRAM].iter().collect();
            if !grams.contains(&gram) {
                grams.push(gram);
            }
        }
    }
    (!grams.is_empty()).then(|| {
        grams
            .iter()
            .map(|g| format!("\"{g}\""))
            .collect::<Vec<_>>()
            .join(" AND ")
    })
}

/// The text filter, by what can answer it fast:
/// - a word of five characters or more: the five-character grams (0005), every candidate
///   checked with LIKE, since grams found apart are no substring;
/// - else three characters or more: the trigram index (0003, 0004), exact by itself;
/// - else (one or two characters): LIKE while walking the journal.
enum Text {
    None,
    /// An index in journal order: its table, the MATCH expression, the text as a LIKE pattern,
    /// and whether every match must be checked with it (the grams).
    Index {
        table: &'static str,
        expr: String,
        pattern: String,
        verify: bool,
    },
    Like(String),
}

/// The search text as it is compared: trimmed and lower case; `None` when there is none.
fn search_text(q: &JournalQuery) -> Option<String> {
    q.q.as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_lowercase)
}

impl Text {
    fn of(q: &JournalQuery) -> Text {
        match search_text(q) {
            None => Text::None,
            Some(t) => {
                if let Some(expr) = gram_query(&t) {
                    Text::Index {
                        table: "journal_grams",
                        expr,
                        pattern: like_pattern(&t),
                        verify: true,
                    }
                } else if t.chars().count() >= 3 {
                    Text::Index {
                        table: "journal_fts",
                        expr: fts_phrase(&t),
                        pattern: like_pattern(&t),
                        verify: false,
                    }
                } else {
                    Text::Like(like_pattern(&t))
                }
            }
        }
    }
}

/// The newest end of the page: `to` (exclusive) or the cursor, whichever is tighter. Only one
/// is given to SQLite, so that it can start its index walk there (with both, it may start
/// at `to` and step over every row down to the cursor).
enum Upper {
    None,
    Before(i64),
    Cursor(JournalCursor),
}

impl Upper {
    fn of(q: &JournalQuery) -> Upper {
        match (q.to.map(ms), q.cursor) {
            (None, None) => Upper::None,
            (Some(to), None) => Upper::Before(to),
            (None, Some(c)) => Upper::Cursor(c),
            (Some(to), Some(c)) if c.started_at_ms < to => Upper::Cursor(c),
            (Some(to), Some(_)) => Upper::Before(to),
        }
    }
}

/// Appends the filters on the call row itself (`c`): direction, recordings, and a short text
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

/// Admin, no text or short text: one walk down `calls_newest` (started_at, id).
fn all_calls(q: &JournalQuery, text: &Text, limit: i64) -> Result<Sql> {
    let mut sql = Sql::new(&format!("SELECT {CALL_COLS} FROM calls c WHERE 1 = 1"));
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
        "SELECT {CALL_COLS} FROM {table} JOIN journal_keys k ON k.key = {table}.rowid \
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
/// only there (the search text is in `call_users` too, migration 0006).
fn needs_call_row(q: &JournalQuery) -> bool {
    q.direction.is_some() || q.has_recordings.is_some()
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

async fn fetch_calls(pool: &SqlitePool, sql: Sql) -> Result<Vec<Call>> {
    sqlx::query_with(&sql.text, sql.args)
        .fetch_all(pool)
        .await?
        .iter()
        .map(call_row)
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
        "SELECT {CALL_COLS} FROM (SELECT DISTINCT cu.started_at AS s, cu.call_id AS i FROM call_users cu \
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

/// The scoped journal without an index search: [`scope_walk`] when no filter needs the call
/// row; otherwise keys from the per-user walks (in statements of at most
/// [`USERS_PER_STATEMENT`] users), merged, then the page's calls by id.
async fn scoped_page(
    pool: &SqlitePool,
    q: &JournalQuery,
    text: &Text,
    users: &[i64],
    within: &[Vec<i64>],
    limit: i64,
) -> Result<Vec<Call>> {
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
    let mut sql = Sql::new(&format!("SELECT {CALL_COLS} FROM calls c WHERE c.id"));
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
) -> Result<Vec<Call>> {
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

fn item(call: Call) -> JournalItem {
    let start = call.answered_at.unwrap_or(call.started_at);
    let duration_ms = call.ended_at.map(|e| (e - start).num_milliseconds().max(0));
    JournalItem { call, duration_ms }
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
        (_, Walk::All) => fetch_calls(pool, all_calls(q, &text, limit)?).await?,
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
        calls.sort_by_key(|c| std::cmp::Reverse((c.started_at, c.id)));
        calls.dedup_by_key(|c| c.id);
        calls.truncate(limit as usize);
    }
    calls.sort_by_key(|c| std::cmp::Reverse((c.started_at, c.id)));
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
