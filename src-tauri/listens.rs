//! "Who listened to my calls" (issue #12.4): pages of the plays and downloads of the signed-in
//! user's calls, newest first.

use crate::error::AppResult;
use crate::state::AppState;
use callrec_types::evidence::ListensPage;

/// Rows per page.
const PAGE: u32 = 200;

/// `list_listens`: the page after `cursor` (the first without one).
pub async fn list_listens(state: &AppState, cursor: Option<String>) -> AppResult<ListensPage> {
    let client = state.client()?;
    client
        .list_listens(cursor.as_deref().filter(|c| !c.is_empty()), Some(PAGE))
        .await
        .map_err(|e| state.check(e.into()))
}
