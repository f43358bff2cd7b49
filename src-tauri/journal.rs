//! The journal: pages of the calls the user may see (newest first, keyset paging with
//! `next_cursor`, filters), one call with its recordings, and the people a supervisor can
//! filter by.

use crate::error::AppResult;
use crate::state::AppState;
use callrec_client::JournalQuery;
use callrec_types::calls::{CallDetail, CallDirection, JournalPage};
use callrec_types::directory::User;
use callrec_types::{CallId, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Rows per page unless the window asks otherwise, and the most it may ask for.
const DEFAULT_LIMIT: u32 = 200;
const MAX_LIMIT: u32 = 500;

/// The journal's filters as the window sends them; empty strings mean "no filter".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct JournalFilter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direction: Option<CallDirection>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_recordings: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<UserId>,
    /// Only calls with a review (`true`) or without one (`false`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reviewed: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

impl JournalFilter {
    pub fn to_query(&self) -> JournalQuery {
        let text = |s: &Option<String>| {
            s.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        JournalQuery {
            q: text(&self.q),
            from: self.from,
            to: self.to,
            direction: self.direction,
            has_recordings: self.has_recordings.filter(|h| *h),
            user_id: self.user_id,
            reviewed: self.reviewed,
            cursor: text(&self.cursor),
            limit: Some(self.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT)),
        }
    }
}

/// `journal`: one page.
pub async fn journal(state: &AppState, filter: JournalFilter) -> AppResult<JournalPage> {
    let client = state.client()?;
    client
        .journal(&filter.to_query())
        .await
        .map_err(|e| state.check(e.into()))
}

/// `get_call`: a call with its recordings.
pub async fn get_call(state: &AppState, id: CallId) -> AppResult<CallDetail> {
    let client = state.client()?;
    client.get_call(id).await.map_err(|e| state.check(e.into()))
}

/// `list_users`: the directory for the user filter. Only admins may list users; for everyone
/// else the list is empty and the window offers the people seen in the journal instead.
pub async fn list_users(state: &AppState) -> AppResult<Vec<User>> {
    let client = state.client()?;
    match client.list_users().await {
        Ok(users) => Ok(users),
        Err(e) if e.status() == Some(403) => Ok(Vec::new()),
        Err(e) => Err(state.check(e.into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_filters_are_left_out_and_the_limit_is_bounded() {
        let q = JournalFilter {
            q: Some("  ".into()),
            has_recordings: Some(false),
            limit: Some(100_000),
            ..JournalFilter::default()
        }
        .to_query();
        assert_eq!(q.q, None, "blank text is no filter");
        assert_eq!(q.has_recordings, None, "an unticked box is no filter");
        assert_eq!(q.limit, Some(MAX_LIMIT));
        assert_eq!(JournalFilter::default().to_query().limit, Some(DEFAULT_LIMIT));
    }
}
