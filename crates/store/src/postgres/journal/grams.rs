//! PostgreSQL: the journal's search through five-character grams in journal order
//! (`journal_grams`, `journal_user_grams`, migration 0014) — for a text with a word of five
//! characters or more.
//!
//! The text's rarest gram is walked newest first, the whole text re-checked on each call
//! (grams found in a call need not make up the text), and the walk stops when the page is
//! full. Every call holding the text holds each of its grams, so a walk that reaches the end
//! of the gram's rows in the range has tested every candidate: its page is exactly the newest
//! `limit` matches, as the trigram path would return them.

use super::{fetch_calls, push_on_call, push_range, CALL_COLS};
use crate::sqlite::journal::text::{is_word_char, GRAM};
use crate::{JournalQuery, Result};
use callrec_types::calls::JournalItem;
use sqlx::{PgPool, Postgres, QueryBuilder};

/// A gram with at most this many rows in the range is walked to its end if need be; the
/// rarest gram of a text with more is walked this far (unscoped) before the caller's other
/// paths answer. Measured at 1M calls: a frequent caller's number (1,713 calls) has ~1,800
/// rows in each of its grams, a common surname's grams ~60,000.
const GRAM_ROWS: i64 = 2_000;

/// Grams of a text probed for the rarest: a long text has many, any of them will do.
const MAX_GRAMS: usize = 12;

/// The distinct grams of `text`: every window of [`GRAM`] word characters, as migration
/// 0014's `journal_grams_of` cuts them from a call's text.
pub(super) fn grams_of(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut grams: Vec<String> = Vec::new();
    for run in chars.split(|c| !is_word_char(*c)).filter(|r| r.len() >= GRAM) {
        for window in run.windows(GRAM) {
            let gram: String = window.iter().collect();
            if !grams.contains(&gram) {
                grams.push(gram);
            }
        }
    }
    grams
}

/// The page for `text` through the grams, or `None` when they cannot settle it: the text
/// has no gram, or every gram is common (more than [`GRAM_ROWS`] rows in the range) and the
/// walk did not fill the page. `lists` as in `journal` (shortest first; the first, if any,
/// drives the walk through `journal_user_grams`). The text must not match by a directory
/// name (those calls need not hold it); the caller checks.
pub(super) async fn search(
    pool: &PgPool,
    q: &JournalQuery,
    text: &str,
    lists: &[Vec<i64>],
    limit: i64,
) -> Result<Option<Vec<JournalItem>>> {
    let mut grams = grams_of(text);
    if grams.is_empty() {
        return Ok(None);
    }
    grams.truncate(MAX_GRAMS);
    let (gram, rows) = rarest(pool, q, grams).await?;
    let complete = rows <= GRAM_ROWS;
    let sql = match lists.split_first() {
        None => walk_all(q, text, &gram, limit),
        // A scope's walk is one per user; bounded, it could miss a user's older match that
        // belongs on the page, so a common gram is left to the other paths.
        Some(_) if !complete => return Ok(None),
        Some((drive, rest)) => walk_users(q, text, &gram, drive, rest, limit),
    };
    let page = fetch_calls(pool, sql).await?;
    Ok((complete || page.len() as i64 == limit).then_some(page))
}

/// The gram of `grams` with the fewest rows in the query's range, and that number (counted
/// up to [`GRAM_ROWS`] + 1, index-only).
async fn rarest(pool: &PgPool, q: &JournalQuery, grams: Vec<String>) -> Result<(String, i64)> {
    let mut sql: QueryBuilder<Postgres> =
        QueryBuilder::new("SELECT g.gram, (SELECT count(*) FROM (SELECT 1 FROM journal_grams j WHERE j.gram = g.gram");
    push_range(&mut sql, q, "j.started_at", "j.call_id");
    sql.push(" LIMIT ")
        .push_bind(GRAM_ROWS + 1)
        .push(") n) AS rows FROM unnest(")
        .push_bind(grams)
        .push("::text[]) AS g(gram) ORDER BY rows, g.gram LIMIT 1");
    let (gram, rows): (String, i64) = sql.build_query_as().fetch_one(pool).await?;
    Ok((gram, rows))
}

/// Appends the re-check of call `j` (`journal_grams` or `journal_user_grams`): its text holds
/// `text` (`strpos`, which no index serves, so the planner keeps to the walk) and it passes
/// the call's filters and the took-part lists `lists`. A lateral subquery the planner cannot
/// flatten (OFFSET 0), so that the walk drives in journal order and stops at the page's end;
/// without filters it reads only `calls_newest_search` (index-only).
fn push_recheck(sql: &mut QueryBuilder<'_, Postgres>, q: &JournalQuery, text: &str, lists: &[Vec<i64>]) {
    sql.push(
        " CROSS JOIN LATERAL (SELECT 1 FROM calls c WHERE c.started_at = j.started_at AND c.id = j.call_id \
         AND strpos(c.search, ",
    )
    .push_bind(text.to_string())
    .push(") > 0");
    push_on_call(sql, q, lists.iter().cloned());
    sql.push(" OFFSET 0) x");
}

/// An unscoped search: the newest [`GRAM_ROWS`] rows of `gram` in the range, re-checked in
/// order until `limit` match.
fn walk_all<'a>(q: &JournalQuery, text: &str, gram: &str, limit: i64) -> QueryBuilder<'a, Postgres> {
    let mut sql: QueryBuilder<Postgres> = QueryBuilder::new(format!(
        "SELECT {CALL_COLS}, c.review_score FROM calls c WHERE c.id IN (SELECT j.call_id FROM \
         (SELECT j.started_at, j.call_id FROM journal_grams j WHERE j.gram = "
    ));
    sql.push_bind(gram.to_string());
    push_range(&mut sql, q, "j.started_at", "j.call_id");
    sql.push(" ORDER BY j.started_at DESC, j.call_id DESC LIMIT ")
        .push_bind(GRAM_ROWS)
        .push(") j");
    push_recheck(&mut sql, q, text, &[]);
    sql.push(" ORDER BY j.started_at DESC, j.call_id DESC LIMIT ")
        .push_bind(limit)
        .push(") ORDER BY c.started_at DESC, c.id DESC LIMIT ")
        .push_bind(limit);
    sql
}

/// A scoped search: one walk per user of `drive` through `journal_user_grams` (user, gram,
/// started_at) newest first, each re-checked and stopped at `limit` matches; the newest
/// `limit` distinct calls of their union are the page (a call two of them took part in is
/// found twice). The other lists `rest` are checked on each call.
fn walk_users<'a>(
    q: &JournalQuery,
    text: &str,
    gram: &str,
    drive: &[i64],
    rest: &[Vec<i64>],
    limit: i64,
) -> QueryBuilder<'a, Postgres> {
    let mut sql: QueryBuilder<Postgres> = QueryBuilder::new(format!(
        "SELECT {CALL_COLS}, c.review_score FROM calls c WHERE c.id IN (SELECT p.call_id FROM \
         (SELECT DISTINCT w.started_at, w.call_id FROM unnest("
    ));
    sql.push_bind(drive.to_vec())
        .push("::bigint[]) AS s(uid) CROSS JOIN LATERAL (SELECT j.started_at, j.call_id FROM journal_user_grams j");
    push_recheck(&mut sql, q, text, rest);
    sql.push(" WHERE j.user_id = s.uid AND j.gram = ")
        .push_bind(gram.to_string());
    push_range(&mut sql, q, "j.started_at", "j.call_id");
    sql.push(" ORDER BY j.started_at DESC, j.call_id DESC LIMIT ")
        .push_bind(limit)
        .push(") w ORDER BY w.started_at DESC, w.call_id DESC LIMIT ")
        .push_bind(limit)
        .push(") p) ORDER BY c.started_at DESC, c.id DESC LIMIT ")
        .push_bind(limit);
    sql
}

#[cfg(test)]
mod tests {
    use super::grams_of;

    #[test]
    fn grams_are_windows_of_word_runs() {
        assert_eq!(grams_of("+4930 123456"), vec!["12345", "23456"]);
        assert_eq!(grams_of("müller"), vec!["mülle", "üller"]);
        assert!(grams_of("ab 1234 +49-30").is_empty());
        assert_eq!(grams_of("aaaaaaa"), vec!["aaaaa"]);
    }
}
