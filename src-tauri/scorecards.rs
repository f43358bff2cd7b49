//! Scorecards and reviews (issue #15.4): admins define scorecards; supervisors fill one for a
//! call and an agent who took part in it; everyone reads their own reviews; supervisors read
//! an agent's averages over a date range. Plain functions over the signed-in client, named
//! after their routes; the server decides who may do what. [`score_answers`] runs the domain's
//! scoring rule (`callrec_types::scorecards::score`) here, without the server, so the review
//! form shows the score live — the saved score is always the server's.

use crate::error::{AppError, AppResult, ErrorCode};
use crate::state::AppState;
use callrec_client::scorecards::ScoresQuery;
use callrec_client::{Client, ClientError};
use callrec_types::scorecards::{
    score, Answer, Criterion, Review, ReviewInput, ReviewUpdate, ScoreSummary, Scorecard, ScorecardInput,
};
use callrec_types::{CallId, ReviewId, ScorecardId, UserId};
use chrono::{DateTime, Utc};
use std::future::Future;

/// Runs one request with the signed-in client; an expired session goes back to the login form.
async fn with<T, F>(state: &AppState, request: impl FnOnce(Client) -> F) -> AppResult<T>
where
    F: Future<Output = Result<T, ClientError>>,
{
    let client = state.client()?;
    request(client).await.map_err(|e| state.check(e.into()))
}

/// `list_scorecards`: the live scorecards by name, or the archived ones too.
pub async fn list_scorecards(state: &AppState, archived: bool) -> AppResult<Vec<Scorecard>> {
    with(state, |c| async move { c.list_scorecards(archived).await }).await
}

/// `create_scorecard` (admins).
pub async fn create_scorecard(state: &AppState, scorecard: ScorecardInput) -> AppResult<Scorecard> {
    with(state, |c| async move { c.create_scorecard(&scorecard).await }).await
}

/// `update_scorecard` (admins): a new version; reviews already filled keep theirs.
pub async fn update_scorecard(state: &AppState, id: ScorecardId, scorecard: ScorecardInput) -> AppResult<Scorecard> {
    with(state, |c| async move { c.update_scorecard(id, &scorecard).await }).await
}

/// `delete_scorecard` (admins): deleted, or archived when reviews use it.
pub async fn delete_scorecard(state: &AppState, id: ScorecardId) -> AppResult<()> {
    with(state, |c| async move { c.delete_scorecard(id).await }).await
}

/// `list_call_reviews`: the call's reviews the user may read.
pub async fn list_call_reviews(state: &AppState, call: CallId) -> AppResult<Vec<Review>> {
    with(state, |c| async move { c.list_call_reviews(call).await }).await
}

/// `create_review` (supervisors and admins).
pub async fn create_review(state: &AppState, call: CallId, review: ReviewInput) -> AppResult<Review> {
    with(state, |c| async move { c.create_review(call, &review).await }).await
}

/// `update_review` (its author or an admin).
pub async fn update_review(state: &AppState, id: ReviewId, review: ReviewUpdate) -> AppResult<Review> {
    with(state, |c| async move { c.update_review(id, &review).await }).await
}

/// `delete_review` (its author or an admin).
pub async fn delete_review(state: &AppState, id: ReviewId) -> AppResult<()> {
    with(state, |c| async move { c.delete_review(id).await }).await
}

/// `list_my_reviews`: the user's own reviews, newest call first.
pub async fn list_my_reviews(state: &AppState) -> AppResult<Vec<Review>> {
    with(state, |c| async move { c.list_my_reviews().await }).await
}

/// `agent_scores`: the agent's average score and per-criterion averages over the reviews of
/// calls that started in `[from, to)`.
pub async fn agent_scores(
    state: &AppState,
    agent: UserId,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    scorecard_id: Option<ScorecardId>,
) -> AppResult<ScoreSummary> {
    let query = ScoresQuery { from, to, scorecard_id };
    with(state, |c| async move { c.agent_scores(agent, &query).await }).await
}

/// `score_answers`: the score the server will store for `answers` against `criteria` (the
/// domain's rule, computed here); an incomplete or wrong answer is `invalid` with its fields.
pub fn score_answers(criteria: &[Criterion], answers: &[Answer]) -> AppResult<f64> {
    score(criteria, answers).map_err(|fields| AppError {
        fields,
        ..AppError::new(ErrorCode::Invalid, "answer every criterion to see the score")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use callrec_types::scorecards::CriterionKind;

    #[test]
    fn the_live_score_is_the_domains_and_a_missing_answer_names_the_list() {
        let criteria = [
            Criterion {
                name: "greeting".into(),
                kind: CriterionKind::YesNo,
                weight: 1.0,
            },
            Criterion {
                name: "empathy".into(),
                kind: CriterionKind::Scale1To5,
                weight: 2.0,
            },
        ];
        let s = score_answers(&criteria, &[Answer::YesNo(true), Answer::Scale(3)]).expect("complete answers");
        assert_eq!(s, 66.67, "(1 + 2 × 0.5) / 3");
        let e = score_answers(&criteria, &[Answer::YesNo(true)]).expect_err("one answer short");
        assert_eq!(e.code, ErrorCode::Invalid);
        assert_eq!(e.fields[0].field, "answers");
    }
}
