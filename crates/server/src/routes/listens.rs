//! "Who listened to my calls" (issue #12.4): `GET /api/v1/me/listens` — every play and
//! download of a recording of a call the asking user took part in, from the audit log, newest
//! first. Every signed-in user has it, agents included; it shows only their own calls.

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiQuery;
use crate::state::AppState;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use callrec_types::evidence::ListensPage;
use callrec_types::wire::ErrorCode;
use callrec_types::AuditId;
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/me/listens", get(list_listens))
}

#[derive(Deserialize)]
struct ListensParams {
    cursor: Option<String>,
    limit: Option<String>,
}

async fn list_listens(
    State(s): State<AppState>,
    c: Caller,
    ApiQuery(p): ApiQuery<ListensParams>,
) -> ApiResult<Json<ListensPage>> {
    let bad = |m: &str| ApiError::bad_request(ErrorCode::BadQuery, m.to_string());
    let before = p
        .cursor
        .filter(|x| !x.is_empty())
        .map(|x| {
            x.parse::<AuditId>()
                .map_err(|_| bad("cursor is not one this server handed out"))
        })
        .transpose()?;
    let limit = match p.limit.filter(|x| !x.is_empty()) {
        None => 100,
        Some(l) => l
            .parse::<i64>()
            .ok()
            .filter(|l| (1..=1000).contains(l))
            .ok_or_else(|| bad("limit is 1 to 1000"))?,
    };
    let items = s.store.list_listens(c.id(), before, limit).await?;
    let next_cursor = (items.len() as i64 == limit)
        .then(|| items.last().map(|l| l.id.to_string()))
        .flatten();
    Ok(Json(ListensPage { items, next_cursor }))
}
