//! The HTTP router: one module per noun, each a `routes()` merged here, plus the request
//! counter and the body limit. Handlers are thin: they check who asks, call the domain code,
//! and shape the answer.

mod alarms;
mod calls;
mod directory;
mod events;
mod evidence;
mod ingest;
mod listens;
mod maintenance;
mod phone;
mod recordings;
mod review;
mod rules;
mod scorecards;
mod session;
mod system;
mod transcripts;

use crate::state::AppState;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::Router;

/// JSON bodies are small; uploads have their own, larger limit on their route.
pub const JSON_BODY_LIMIT: usize = 1024 * 1024;

pub fn router(state: AppState) -> Router {
    let ingest = ingest::routes(&state);
    Router::new()
        .merge(session::routes())
        .merge(directory::routes())
        .merge(rules::routes())
        .merge(calls::routes())
        .merge(recordings::routes())
        .merge(events::routes())
        .merge(maintenance::routes())
        .merge(alarms::routes())
        .merge(evidence::routes())
        .merge(listens::routes())
        .merge(review::routes())
        .merge(scorecards::routes())
        .merge(phone::routes())
        .merge(system::routes())
        .merge(transcripts::routes())
        .layer(DefaultBodyLimit::max(JSON_BODY_LIMIT))
        .merge(ingest)
        .fallback(|| async { crate::error::ApiError::not_found("route") })
        .layer(middleware::from_fn_with_state(state.clone(), count))
        .with_state(state)
}

/// Counts every answer by status class, and tells browsers (the desktop's WebView) never to
/// sniff a type other than the one sent.
async fn count(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    state.metrics.count_status(res.status().as_u16());
    res.headers_mut().insert(
        axum::http::header::X_CONTENT_TYPE_OPTIONS,
        axum::http::HeaderValue::from_static("nosniff"),
    );
    res
}
