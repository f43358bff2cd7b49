//! Scorecards and reviews over HTTP (issue #15.4). Admins define scorecards; supervisors and
//! admins read them and fill reviews; every user reads the reviews they may see
//! ([`crate::scorecards`] says who) and their own under `/me/reviews`; the per-agent summary is
//! for the agent's supervisors (and the agent). The level is checked by the extractor, before
//! the path, query or body is parsed; the rules are in [`crate::scorecards`].

use super::calls::time;
use crate::auth::{Admin, Caller};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiQuery, Id};
use crate::names::{fill, Named};
use crate::scorecards;
use crate::state::AppState;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use callrec_types::directory::Level;
use callrec_types::scorecards::{Review, ReviewInput, ReviewUpdate, ScoreSummary, Scorecard, ScorecardInput};
use callrec_types::wire::ErrorCode;
use callrec_types::{CallId, ReviewId, ScorecardId, UserId};
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/scorecards", get(list_scorecards).post(create_scorecard))
        .route(
            "/api/v1/scorecards/{id}",
            get(get_scorecard).put(update_scorecard).delete(delete_scorecard),
        )
        .route("/api/v1/calls/{id}/reviews", get(list_call_reviews).post(create_review))
        .route(
            "/api/v1/reviews/{id}",
            get(get_review).put(update_review).delete(delete_review),
        )
        .route("/api/v1/me/reviews", get(list_my_reviews))
        .route("/api/v1/agents/{id}/scores", get(agent_scores))
}

/// `item` with the directory's names of its agents and reviewers.
async fn named<T: Named>(s: &AppState, mut item: T) -> ApiResult<Json<T>> {
    fill(s, &mut item).await?;
    Ok(Json(item))
}

/// A caller at the supervisor level or above: who reads scorecards and fills reviews. Like
/// [`Admin`], it answers 403 before anything of the request is parsed.
struct Reviewer(Caller);

impl FromRequestParts<AppState> for Reviewer {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let caller = Caller::from_request_parts(parts, state).await?;
        caller.require(Level::Supervisor)?;
        Ok(Reviewer(caller))
    }
}

#[derive(Deserialize)]
struct ListParams {
    archived: Option<String>,
}

/// `?archived=true` lists archived scorecards too.
async fn list_scorecards(
    State(s): State<AppState>,
    _: Reviewer,
    ApiQuery(p): ApiQuery<ListParams>,
) -> ApiResult<Json<Vec<Scorecard>>> {
    let archived = match p.archived.as_deref().filter(|a| !a.is_empty()) {
        None | Some("false" | "0") => false,
        Some("true" | "1") => true,
        Some(_) => return Err(ApiError::bad_request(ErrorCode::BadQuery, "archived is true or false")),
    };
    Ok(Json(s.store.list_scorecards(archived).await?))
}

async fn get_scorecard(State(s): State<AppState>, _: Reviewer, Id(id): Id<ScorecardId>) -> ApiResult<Json<Scorecard>> {
    Ok(Json(scorecards::get_scorecard(&s, id).await?))
}

async fn create_scorecard(
    State(s): State<AppState>,
    Admin(c): Admin,
    ApiJson(input): ApiJson<ScorecardInput>,
) -> ApiResult<(StatusCode, Json<Scorecard>)> {
    Ok((
        StatusCode::CREATED,
        Json(scorecards::create_scorecard(&s, &c, &input).await?),
    ))
}

async fn update_scorecard(
    State(s): State<AppState>,
    Admin(c): Admin,
    Id(id): Id<ScorecardId>,
    ApiJson(input): ApiJson<ScorecardInput>,
) -> ApiResult<Json<Scorecard>> {
    Ok(Json(scorecards::update_scorecard(&s, &c, id, &input).await?))
}

/// 204 either way: a scorecard reviews use is archived (still readable by id), any other
/// deleted.
async fn delete_scorecard(
    State(s): State<AppState>,
    Admin(c): Admin,
    Id(id): Id<ScorecardId>,
) -> ApiResult<StatusCode> {
    scorecards::delete_scorecard(&s, &c, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn create_review(
    State(s): State<AppState>,
    Reviewer(c): Reviewer,
    Id(id): Id<CallId>,
    ApiJson(input): ApiJson<ReviewInput>,
) -> ApiResult<(StatusCode, Json<Review>)> {
    let review = scorecards::create_review(&s, &c, id, &input).await?;
    Ok((StatusCode::CREATED, named(&s, review).await?))
}

async fn list_call_reviews(State(s): State<AppState>, c: Caller, Id(id): Id<CallId>) -> ApiResult<Json<Vec<Review>>> {
    named(&s, scorecards::list_call_reviews(&s, &c, id).await?).await
}

async fn get_review(State(s): State<AppState>, c: Caller, Id(id): Id<ReviewId>) -> ApiResult<Json<Review>> {
    named(&s, scorecards::visible_review(&s, &c, id).await?).await
}

async fn update_review(
    State(s): State<AppState>,
    c: Caller,
    Id(id): Id<ReviewId>,
    ApiJson(update): ApiJson<ReviewUpdate>,
) -> ApiResult<Json<Review>> {
    named(&s, scorecards::update_review(&s, &c, id, &update).await?).await
}

async fn delete_review(State(s): State<AppState>, c: Caller, Id(id): Id<ReviewId>) -> ApiResult<StatusCode> {
    scorecards::delete_review(&s, &c, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_my_reviews(State(s): State<AppState>, c: Caller) -> ApiResult<Json<Vec<Review>>> {
    named(&s, scorecards::list_my_reviews(&s, &c).await?).await
}

#[derive(Deserialize)]
struct ScoresParams {
    from: Option<String>,
    to: Option<String>,
    scorecard_id: Option<String>,
}

/// Over the reviews of calls that started in `[from, to)`; both optional.
async fn agent_scores(
    State(s): State<AppState>,
    c: Caller,
    Id(id): Id<UserId>,
    ApiQuery(p): ApiQuery<ScoresParams>,
) -> ApiResult<Json<ScoreSummary>> {
    let scorecard_id = match p.scorecard_id.as_deref().filter(|v| !v.is_empty()) {
        None => None,
        Some(v) => Some(
            v.parse::<ScorecardId>()
                .map_err(|_| ApiError::bad_request(ErrorCode::BadQuery, "scorecard_id must be a positive integer"))?,
        ),
    };
    let (from, to) = (time("from", p.from)?, time("to", p.to)?);
    Ok(Json(
        scorecards::agent_scores(&s, &c, id, from, to, scorecard_id).await?,
    ))
}
