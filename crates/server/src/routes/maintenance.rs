//! Settings, the dispatch queue, legal hold and deletion, and storage figures (issue: dispatch,
//! schedule, retention). Being written.

use crate::state::AppState;
use axum::Router;

pub fn routes() -> Router<AppState> {
    Router::new()
}
