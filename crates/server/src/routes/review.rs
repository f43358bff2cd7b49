//! Quality review and training (issue #15): a recording's waveform peaks, its timestamped
//! comments, and its time-limited shares with a trainee. Handlers parse and answer; who may do
//! what, and the audit, are `crate::review`'s.

use crate::auth::Caller;
use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiQuery, Id};
use crate::review::{access, comments, peaks, shares};
use crate::state::AppState;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::routing::{delete, get, patch};
use axum::{Json, Router};
use callrec_types::review::{Comment, NewComment, NewShare, Peaks, Share, ShareRecipient, SharedItem};
use callrec_types::*;
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/recordings/{id}/peaks", get(recording_peaks))
        .route(
            "/api/v1/recordings/{id}/comments",
            get(list_comments).post(create_comment),
        )
        .route("/api/v1/comments/{id}", patch(update_comment).delete(delete_comment))
        .route("/api/v1/recordings/{id}/shares", get(list_shares).post(create_share))
        .route("/api/v1/shares/{id}", delete(revoke_share))
        .route("/api/v1/me/shared", get(list_shared))
        .route("/api/v1/share-recipients", get(list_recipients))
}

/// A caller who may share (a supervisor or an admin): checked before the path, query and body
/// are looked at, so an agent gets 403 whatever they send.
struct Sharer(Caller);

impl FromRequestParts<AppState> for Sharer {
    type Rejection = crate::error::ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let caller = Caller::from_request_parts(parts, state).await?;
        shares::may_share(&caller)?;
        Ok(Sharer(caller))
    }
}

#[derive(Deserialize)]
struct PeaksParams {
    buckets: Option<String>,
}

async fn recording_peaks(
    State(s): State<AppState>,
    c: Caller,
    Id(id): Id<RecordingId>,
    ApiQuery(p): ApiQuery<PeaksParams>,
) -> ApiResult<Json<Peaks>> {
    let (rec, how) = access::viewable(&s, &c, id).await?;
    let buckets = peaks::buckets(p.buckets.as_deref())?;
    access::audit_use(&s, &c, &how, id, "peaks").await;
    Ok(Json(peaks::recording_peaks(&s, &rec, buckets).await?))
}

async fn list_comments(State(s): State<AppState>, c: Caller, Id(id): Id<RecordingId>) -> ApiResult<Json<Vec<Comment>>> {
    Ok(Json(comments::list_comments(&s, &c, id).await?))
}

async fn create_comment(
    State(s): State<AppState>,
    c: Caller,
    Id(id): Id<RecordingId>,
    ApiJson(new): ApiJson<NewComment>,
) -> ApiResult<(StatusCode, Json<Comment>)> {
    Ok((
        StatusCode::CREATED,
        Json(comments::create_comment(&s, &c, id, &new).await?),
    ))
}

async fn update_comment(
    State(s): State<AppState>,
    c: Caller,
    Id(id): Id<CommentId>,
    ApiJson(new): ApiJson<NewComment>,
) -> ApiResult<Json<Comment>> {
    Ok(Json(comments::update_comment(&s, &c, id, &new).await?))
}

async fn delete_comment(State(s): State<AppState>, c: Caller, Id(id): Id<CommentId>) -> ApiResult<StatusCode> {
    comments::delete_comment(&s, &c, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn create_share(
    State(s): State<AppState>,
    Sharer(c): Sharer,
    Id(id): Id<RecordingId>,
    ApiJson(new): ApiJson<NewShare>,
) -> ApiResult<(StatusCode, Json<Share>)> {
    Ok((StatusCode::CREATED, Json(shares::create_share(&s, &c, id, &new).await?)))
}

async fn list_shares(
    State(s): State<AppState>,
    Sharer(c): Sharer,
    Id(id): Id<RecordingId>,
) -> ApiResult<Json<Vec<Share>>> {
    Ok(Json(shares::list_shares(&s, &c, id).await?))
}

async fn revoke_share(State(s): State<AppState>, Sharer(c): Sharer, Id(id): Id<ShareId>) -> ApiResult<Json<Share>> {
    Ok(Json(shares::revoke_share(&s, &c, id).await?))
}

async fn list_recipients(State(s): State<AppState>, Sharer(_): Sharer) -> ApiResult<Json<Vec<ShareRecipient>>> {
    Ok(Json(shares::recipients(&s).await?))
}

async fn list_shared(State(s): State<AppState>, c: Caller) -> ApiResult<Json<Vec<SharedItem>>> {
    Ok(Json(shares::list_shared(&s, &c).await?))
}
