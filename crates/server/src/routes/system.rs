//! Liveness, Prometheus metrics and the audit log.

use crate::auth::Admin;
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiQuery;
use crate::state::AppState;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use callrec_store::AuditFilter;
use callrec_types::wire::AuditPage;
use callrec_types::wire::ErrorCode;
use callrec_types::*;
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/api/v1/audit", get(audit))
}

async fn healthz(State(s): State<AppState>) -> ApiResult<impl IntoResponse> {
    // Alive means the database answers.
    s.store.count_users().await?;
    Ok(Json(
        serde_json::json!({ "status": "ok", "live_calls": s.live.len(), "node_id": s.node_id }),
    ))
}

async fn metrics(State(s): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        s.metrics.render(),
    )
}

#[derive(Deserialize)]
struct AuditParams {
    cursor: Option<String>,
    limit: Option<String>,
    action: Option<String>,
    user_id: Option<String>,
}

/// A page of audit rows (the audit log, "who listened"): `cursor` (the last id of the page
/// before, as handed out) and `limit` (1 to 1000, default 100); 400 `bad_query` otherwise.
pub(super) fn audit_paging(cursor: Option<String>, limit: Option<String>) -> ApiResult<(Option<AuditId>, i64)> {
    let bad = |m: &str| ApiError::bad_request(ErrorCode::BadQuery, m.to_string());
    let before = cursor
        .filter(|x| !x.is_empty())
        .map(|x| {
            x.parse::<AuditId>()
                .map_err(|_| bad("cursor is not one this server handed out"))
        })
        .transpose()?;
    let limit = match limit.filter(|x| !x.is_empty()) {
        None => 100,
        Some(l) => l
            .parse::<i64>()
            .ok()
            .filter(|l| (1..=1000).contains(l))
            .ok_or_else(|| bad("limit is 1 to 1000"))?,
    };
    Ok((before, limit))
}

async fn audit(State(s): State<AppState>, _: Admin, ApiQuery(p): ApiQuery<AuditParams>) -> ApiResult<Json<AuditPage>> {
    let bad = |m: &str| ApiError::bad_request(ErrorCode::BadQuery, m.to_string());
    let (before, limit) = audit_paging(p.cursor, p.limit)?;
    let user_id = p
        .user_id
        .filter(|x| !x.is_empty())
        .map(|x| {
            x.parse::<UserId>()
                .map_err(|_| bad("user_id must be a positive integer"))
        })
        .transpose()?;
    let action = p.action.filter(|a| !a.is_empty());
    let items = s
        .store
        .list_audit(&AuditFilter {
            before,
            action,
            user_id,
            limit,
        })
        .await?;
    let next_cursor = (items.len() as i64 == limit)
        .then(|| items.last().map(|e| e.id.to_string()))
        .flatten();
    Ok(Json(AuditPage { items, next_cursor }))
}
