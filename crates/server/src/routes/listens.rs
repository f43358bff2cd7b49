//! "Who listened to my calls" (issue #12.4): `GET /api/v1/me/listens` — every play and
//! download of a recording of a call the asking user took part in, from the audit log, newest
//! first. Every signed-in user has it, agents included; it shows only their own calls.

use crate::auth::Caller;
use crate::error::ApiResult;
use crate::extract::ApiQuery;
use crate::state::AppState;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use callrec_types::evidence::ListensPage;
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
    let (before, limit) = super::system::audit_paging(p.cursor, p.limit)?;
    let items = s.store.list_listens(c.id(), before, limit).await?;
    let next_cursor = (items.len() as i64 == limit)
        .then(|| items.last().map(|l| l.id.to_string()))
        .flatten();
    Ok(Json(ListensPage { items, next_cursor }))
}
