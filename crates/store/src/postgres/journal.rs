//! PostgreSQL: the journal query — one page of the calls a viewer may see, newest first, with
//! keyset paging, filters and text search.
//!
//! One statement per page. The planner chooses between walking `calls_newest` (started_at,
//! id) newest first and checking each call, and collecting the matches of the text through the
//! pg_trgm GIN index on `calls.search` (a substring `LIKE '%…%'`); the scope is a semi-join
//! on `call_users`. Search texts of one or two characters have no trigram and are tested on
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
    let mut sql: QueryBuilder<Postgres> = QueryBuilder::new(format!("SELECT {CALL_COLS} FROM calls c WHERE TRUE"));
    if let Some(from) = q.from {
        sql.push(" AND c.started_at >= ").push_bind(ms(from));
    }
    if let Some(to) = q.to {
        sql.push(" AND c.started_at < ").push_bind(ms(to));
    }
    if let Some(c) = q.cursor {
        sql.push(" AND (c.started_at, c.id) < (")
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
        let named = directory::users_named(pool, &text).await?;
        if !named.is_empty() {
            sql.push(" OR EXISTS (SELECT 1 FROM call_users n WHERE n.call_id = c.id AND n.user_id = ANY(")
                .push_bind(named)
                .push("))");
        }
        sql.push(")");
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
