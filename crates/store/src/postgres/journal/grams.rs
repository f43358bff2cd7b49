//! PostgreSQL: the journal's search through grams in journal order (`journal_grams`,
//! `journal_user_grams`, migrations 0014 and 0016) — for a text with a word of four
//! characters or more.
//!
//! The rows are keyed by their first four characters (the head, 0016): a five-character gram
//! is found among its head's rows, and a four-character word of the text by its head alone —
//! every run of a call's text that holds it stores a row with that head (the five-character
//! gram that continues it, or the run's tail). The text's rarest key is walked newest first,
//! the whole text re-checked on each call (keys found in a call need not make up the text),
//! and the walk stops when the page is full. Every call holding the text holds each of its
//! keys, so a walk that reaches the end of the key's rows in the range has tested every
//! candidate: its page is exactly the newest `limit` matches, as the trigram path would
//! return them.

use super::{fetch_calls, push_on_call, push_range, CALL_COLS};
use crate::sqlite::journal::text::{is_word_char, GRAM};
use crate::{JournalQuery, Result};
use callrec_types::calls::JournalItem;
use sqlx::{PgPool, Postgres, QueryBuilder};

/// A key with at most this many rows in the range is walked to its end if need be; the
/// rarest key of a text with more is walked this far (unscoped) before the caller's other
/// paths answer. Measured at 1M calls: a frequent caller's number (1,713 calls) has ~1,800
/// rows in each of its grams, a common surname's grams ~60,000.
const GRAM_ROWS: i64 = 2_000;

/// Keys of a text probed for the rarest: a long text has many, any of them will do.
const MAX_GRAMS: usize = 12;

/// Length of a head: the first characters of a gram, by which the rows are keyed (0016).
const HEAD: usize = GRAM - 1;

/// What a search text is looked up by: rows whose head is `head` and, for a five-character
/// gram of the text, whose gram is `gram`; for a four-character word, any gram of that head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Key {
    head: String,
    gram: Option<String>,
}

/// The distinct keys of `text`: every window of [`GRAM`] word characters, as migration
/// 0014's `journal_grams_of` cuts them from a call's text, and every run of exactly
/// [`HEAD`] word characters (a four-digit extension) by its head.
pub(super) fn keys_of(text: &str) -> Vec<Key> {
    let chars: Vec<char> = text.chars().collect();
    let mut keys: Vec<Key> = Vec::new();
    for run in chars.split(|c| !is_word_char(*c)).filter(|r| r.len() >= HEAD) {
        let found: Vec<Key> = if run.len() == HEAD {
            vec![Key {
                head: run.iter().collect(),
                gram: None,
            }]
        } else {
            run.windows(GRAM)
                .map(|w| Key {
                    head: w[..HEAD].iter().collect(),
                    gram: Some(w.iter().collect()),
                })
                .collect()
        };
        for key in found {
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
    }
    keys
}

/// The page for `text` through the grams, or `None` when they cannot settle it: the text
/// has no key, or every key is common (more than [`GRAM_ROWS`] rows in the range) and the
/// walk did not fill the page, or several users drive a scope and the key is common. `lists`
/// as in `journal` (shortest first; the first, if any, drives the walk through
/// `journal_user_grams`). The text must not match by a directory name (those calls need not
/// hold it); the caller checks.
pub(super) async fn search(
    pool: &PgPool,
    q: &JournalQuery,
    text: &str,
    lists: &[Vec<i64>],
    limit: i64,
) -> Result<Option<Vec<JournalItem>>> {
    let mut keys = keys_of(text);
    keys.truncate(MAX_GRAMS);
    // One key needs no count to be chosen; it is counted only if the answer needs it.
    let (key, counted) = match keys.len() {
        0 => return Ok(None),
        1 => (keys.remove(0), None),
        _ => {
            let (key, rows) = rarest(pool, q, keys).await?;
            (key, Some(rows))
        }
    };
    match lists.split_first() {
        None => {
            let page = fetch_calls(pool, walk_all(q, text, &key, limit)).await?;
            if page.len() as i64 == limit {
                return Ok(Some(page));
            }
            let rows = match counted {
                Some(rows) => rows,
                None => count(pool, q, &key).await?,
            };
            Ok((rows <= GRAM_ROWS).then_some(page))
        }
        Some((drive, rest)) => {
            // Each user's walk goes on until their page is full or their rows end, so it is
            // exact; one user's rows of a key are at most a few per call of theirs. Several
            // users' walks over a common key would add up, so those are left to the other
            // paths.
            if drive.len() > 1 {
                let rows = match counted {
                    Some(rows) => rows,
                    None => count(pool, q, &key).await?,
                };
                if rows > GRAM_ROWS {
                    return Ok(None);
                }
            }
            let page = fetch_calls(pool, walk_users(q, text, &key, drive, rest, limit)).await?;
            Ok(Some(page))
        }
    }
}

/// The condition that row `j` is under a head: `left(j.gram, 4)`, the first column of the
/// tables' keys by head (0016).
const HEAD_OF_ROW: &str = " AND left(j.gram, 4) = ";

/// Appends the condition that row `j` of `journal_grams` is under `key`, each through its
/// own key (0016): ` AND j.gram = gram` for a gram, [`HEAD_OF_ROW`] for a head.
fn push_key(sql: &mut QueryBuilder<'_, Postgres>, key: &Key) {
    match &key.gram {
        Some(gram) => sql.push(" AND j.gram = ").push_bind(gram.clone()),
        None => sql.push(HEAD_OF_ROW).push_bind(key.head.clone()),
    };
}

/// Appends the condition that row `j` of `journal_user_grams` is under `key`: its head (the
/// table's key after the user, 0016) and, for a gram, the gram.
fn push_user_key(sql: &mut QueryBuilder<'_, Postgres>, key: &Key) {
    sql.push(HEAD_OF_ROW).push_bind(key.head.clone());
    if let Some(gram) = &key.gram {
        sql.push(" AND j.gram = ").push_bind(gram.clone());
    }
}

/// Appends `(SELECT count(*) …)`: the rows of `journal_grams` that `on_key` (` AND …` on row
/// `j`) selects in the query's range, counted up to [`GRAM_ROWS`] + 1, index-only.
fn push_count(
    sql: &mut QueryBuilder<'_, Postgres>,
    q: &JournalQuery,
    on_key: impl FnOnce(&mut QueryBuilder<'_, Postgres>),
) {
    sql.push("(SELECT count(*) FROM (SELECT 1 FROM journal_grams j WHERE TRUE");
    on_key(sql);
    push_range(sql, q, "j.started_at", "j.call_id");
    sql.push(" LIMIT ").push(GRAM_ROWS + 1).push(") n)");
}

/// The key of `keys` with the fewest rows in the query's range, and that number (counted
/// as [`count`] does, each through its own key).
async fn rarest(pool: &PgPool, q: &JournalQuery, keys: Vec<Key>) -> Result<(Key, i64)> {
    let (heads, grams): (Vec<String>, Vec<Option<String>>) = keys.into_iter().map(|k| (k.head, k.gram)).unzip();
    let mut sql: QueryBuilder<Postgres> = QueryBuilder::new("SELECT k.head, k.gram, CASE WHEN k.gram IS NULL THEN ");
    push_count(&mut sql, q, |sql| {
        sql.push(format!("{HEAD_OF_ROW}k.head"));
    });
    sql.push(" ELSE ");
    push_count(&mut sql, q, |sql| {
        sql.push(" AND j.gram = k.gram");
    });
    sql.push(" END AS rows FROM unnest(")
        .push_bind(heads)
        .push("::text[], ")
        .push_bind(grams)
        .push("::text[]) AS k(head, gram) ORDER BY rows, k.head, k.gram LIMIT 1");
    let (head, gram, rows): (String, Option<String>, i64) = sql.build_query_as().fetch_one(pool).await?;
    Ok((Key { head, gram }, rows))
}

/// The rows of `key` in the query's range, counted up to [`GRAM_ROWS`] + 1.
async fn count(pool: &PgPool, q: &JournalQuery, key: &Key) -> Result<i64> {
    let mut sql: QueryBuilder<Postgres> = QueryBuilder::new("SELECT ");
    push_count(&mut sql, q, |sql| push_key(sql, key));
    let (rows,): (i64,) = sql.build_query_as().fetch_one(pool).await?;
    Ok(rows)
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

/// An unscoped search: the newest [`GRAM_ROWS`] calls under `key` in the range (a call may
/// hold several grams of one head: each is walked once), re-checked in order until `limit`
/// match.
fn walk_all<'a>(q: &JournalQuery, text: &str, key: &Key, limit: i64) -> QueryBuilder<'a, Postgres> {
    let mut sql: QueryBuilder<Postgres> = QueryBuilder::new(format!(
        "SELECT {CALL_COLS}, c.review_score FROM calls c WHERE c.id IN (SELECT j.call_id FROM \
         (SELECT DISTINCT j.started_at, j.call_id FROM journal_grams j WHERE TRUE"
    ));
    push_key(&mut sql, key);
    push_range(&mut sql, q, "j.started_at", "j.call_id");
    sql.push(" ORDER BY j.started_at DESC, j.call_id DESC LIMIT ")
        .push(GRAM_ROWS)
        .push(") j");
    push_recheck(&mut sql, q, text, &[]);
    sql.push(" ORDER BY j.started_at DESC, j.call_id DESC LIMIT ")
        .push(limit)
        .push(") ORDER BY c.started_at DESC, c.id DESC LIMIT ")
        .push(limit);
    sql
}

/// A scoped search: one walk per user of `drive` through `journal_user_grams` (user, head,
/// started_at) newest first, each re-checked and stopped at `limit` matching calls; the
/// newest `limit` distinct calls of their union are the page (a call two of them took part
/// in is found twice). The other lists `rest` are checked on each call.
fn walk_users<'a>(
    q: &JournalQuery,
    text: &str,
    key: &Key,
    drive: &[i64],
    rest: &[Vec<i64>],
    limit: i64,
) -> QueryBuilder<'a, Postgres> {
    let mut sql: QueryBuilder<Postgres> = QueryBuilder::new(format!(
        "SELECT {CALL_COLS}, c.review_score FROM calls c WHERE c.id IN (SELECT p.call_id FROM \
         (SELECT DISTINCT w.started_at, w.call_id FROM unnest("
    ));
    sql.push_bind(drive.to_vec()).push(
        "::bigint[]) AS s(uid) CROSS JOIN LATERAL (SELECT DISTINCT j.started_at, j.call_id \
         FROM journal_user_grams j",
    );
    push_recheck(&mut sql, q, text, rest);
    sql.push(" WHERE j.user_id = s.uid");
    push_user_key(&mut sql, key);
    push_range(&mut sql, q, "j.started_at", "j.call_id");
    sql.push(" ORDER BY j.started_at DESC, j.call_id DESC LIMIT ")
        .push(limit)
        .push(") w ORDER BY w.started_at DESC, w.call_id DESC LIMIT ")
        .push(limit)
        .push(") p) ORDER BY c.started_at DESC, c.id DESC LIMIT ")
        .push(limit);
    sql
}

#[cfg(test)]
mod tests {
    use super::{keys_of, Key, HEAD, HEAD_OF_ROW};

    fn gram(g: &str) -> Key {
        Key {
            head: g.chars().take(4).collect(),
            gram: Some(g.to_string()),
        }
    }

    fn head(h: &str) -> Key {
        Key {
            head: h.to_string(),
            gram: None,
        }
    }

    #[test]
    fn keys_are_windows_of_long_runs_and_heads_of_four_character_runs() {
        assert_eq!(
            keys_of("+4930 123456"),
            vec![head("4930"), gram("12345"), gram("23456")]
        );
        assert_eq!(keys_of("müller"), vec![gram("mülle"), gram("üller")]);
        assert_eq!(keys_of("ab 1234 +49-30"), vec![head("1234")]);
        assert!(keys_of("ab 123 +49-30").is_empty());
        assert_eq!(keys_of("aaaaaaa"), vec![gram("aaaaa")]);
        assert_eq!(keys_of("2047 x 2047"), vec![head("2047")]);
    }

    #[test]
    fn the_sql_cuts_heads_as_long_as_the_keys() {
        assert!(HEAD_OF_ROW.contains(&format!("left(j.gram, {HEAD})")));
    }
}
