//! The phone's record key (Snom action URLs). Being written.

use crate::state::AppState;
use axum::Router;

pub fn routes() -> Router<AppState> {
    Router::new()
}
