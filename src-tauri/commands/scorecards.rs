//! Commands: scorecards, reviews, my reviews, an agent's score summary and the review form's
//! live score, one line each over `crate::scorecards`.

use crate::error::AppError;
use crate::scorecards;
use crate::state::AppState;
use callrec_types::scorecards::{
    Answer, Criterion, Review, ReviewInput, ReviewUpdate, ScoreSummary, Scorecard, ScorecardInput,
};
use callrec_types::{CallId, ReviewId, ScorecardId, UserId};
use chrono::{DateTime, Utc};
use tauri::State;

#[tauri::command]
pub async fn list_scorecards(state: State<'_, AppState>, archived: bool) -> Result<Vec<Scorecard>, AppError> {
    scorecards::list_scorecards(&state, archived).await
}

#[tauri::command]
pub async fn create_scorecard(state: State<'_, AppState>, scorecard: ScorecardInput) -> Result<Scorecard, AppError> {
    scorecards::create_scorecard(&state, scorecard).await
}

#[tauri::command]
pub async fn update_scorecard(
    state: State<'_, AppState>,
    scorecard_id: ScorecardId,
    scorecard: ScorecardInput,
) -> Result<Scorecard, AppError> {
    scorecards::update_scorecard(&state, scorecard_id, scorecard).await
}

#[tauri::command]
pub async fn delete_scorecard(state: State<'_, AppState>, scorecard_id: ScorecardId) -> Result<(), AppError> {
    scorecards::delete_scorecard(&state, scorecard_id).await
}

#[tauri::command]
pub async fn list_call_reviews(state: State<'_, AppState>, call_id: CallId) -> Result<Vec<Review>, AppError> {
    scorecards::list_call_reviews(&state, call_id).await
}

#[tauri::command]
pub async fn create_review(
    state: State<'_, AppState>,
    call_id: CallId,
    review: ReviewInput,
) -> Result<Review, AppError> {
    scorecards::create_review(&state, call_id, review).await
}

#[tauri::command]
pub async fn update_review(
    state: State<'_, AppState>,
    review_id: ReviewId,
    review: ReviewUpdate,
) -> Result<Review, AppError> {
    scorecards::update_review(&state, review_id, review).await
}

#[tauri::command]
pub async fn delete_review(state: State<'_, AppState>, review_id: ReviewId) -> Result<(), AppError> {
    scorecards::delete_review(&state, review_id).await
}

#[tauri::command]
pub async fn list_my_reviews(state: State<'_, AppState>) -> Result<Vec<Review>, AppError> {
    scorecards::list_my_reviews(&state).await
}

#[tauri::command]
pub async fn agent_scores(
    state: State<'_, AppState>,
    agent_id: UserId,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    scorecard_id: Option<ScorecardId>,
) -> Result<ScoreSummary, AppError> {
    scorecards::agent_scores(&state, agent_id, from, to, scorecard_id).await
}

#[tauri::command]
pub fn score_answers(criteria: Vec<Criterion>, answers: Vec<Answer>) -> Result<f64, AppError> {
    scorecards::score_answers(&criteria, &answers)
}
