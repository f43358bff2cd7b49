//! Scorecards and reviews (issue #15.4): who may define, fill, read, change and delete them,
//! and the checks a review passes before the store keeps it. The scoring itself is
//! [`callrec_types::scorecards::score`]; every create, edit and delete is audited.
//!
//! Who reads a review: an admin; the agent it is about; whoever wrote it; a supervisor of the
//! agent's team (the agent is in their scope). Anyone else is answered "not found", as for a
//! call they may not see. Who fills one: a supervisor, for a member of a team they supervise
//! who took part in the call, or an admin for anyone who did; never for themselves. Only the
//! author or an admin changes or deletes it.
//!
//! A review written, changed or deleted changes its call's score in the journal, so the call's
//! journal row is announced (`journal` push event) as for any other change of the row.

use crate::audit::audit;
use crate::caller::Caller;
use crate::calls::{internal_users, visible_call};
use crate::error::ApiError;
use crate::state::AppState;
use axum::http::StatusCode;
use callrec_store::{NewReview, ReviewChange, ReviewFilter, Scope, ScorecardRemoval, StoreError};
use callrec_types::rules::FieldError;
use callrec_types::scorecards::{
    check_comment, score, summarize, Review, ReviewInput, ReviewUpdate, ScoreSummary, Scorecard, ScorecardInput,
};
use callrec_types::wire::{ErrorCode, Event};
use callrec_types::{CallId, ReviewId, ScorecardId, UserId};
use chrono::{DateTime, Utc};

/// At most this many of an agent's reviews are listed (`/me/reviews`, newest first).
pub const MAX_LISTED: i64 = 1000;
/// At most this many reviews (the newest) go into one summary.
pub const MAX_SUMMARIZED: i64 = 10_000;

fn card_not_found(e: StoreError) -> ApiError {
    match e {
        StoreError::NotFound => ApiError::not_found("scorecard"),
        other => other.into(),
    }
}

fn review_not_found(e: StoreError) -> ApiError {
    match e {
        StoreError::NotFound => ApiError::not_found("review"),
        other => other.into(),
    }
}

fn summary(card: &Scorecard) -> String {
    format!(
        "{:?} version {}, {} criteria",
        card.name,
        card.version,
        card.criteria.len()
    )
}

pub async fn get_scorecard(state: &AppState, id: ScorecardId) -> Result<Scorecard, ApiError> {
    state.store.get_scorecard(id).await.map_err(card_not_found)
}

pub async fn create_scorecard(state: &AppState, c: &Caller, input: &ScorecardInput) -> Result<Scorecard, ApiError> {
    input.validate().map_err(ApiError::invalid_fields)?;
    let card = state.store.create_scorecard(input, state.clock.now()).await?;
    let target = format!("scorecard {}", card.id);
    audit(state, Some(c), "", "scorecard_create", target, summary(&card)).await;
    Ok(card)
}

/// A new version: reviews already filled keep the criteria they were filled against.
pub async fn update_scorecard(
    state: &AppState,
    c: &Caller,
    id: ScorecardId,
    input: &ScorecardInput,
) -> Result<Scorecard, ApiError> {
    input.validate().map_err(ApiError::invalid_fields)?;
    let card = state
        .store
        .update_scorecard(id, input, state.clock.now())
        .await
        .map_err(card_not_found)?;
    audit(
        state,
        Some(c),
        "",
        "scorecard_update",
        format!("scorecard {id}"),
        summary(&card),
    )
    .await;
    Ok(card)
}

/// Deletes a scorecard no review uses; archives one that reviews use.
pub async fn delete_scorecard(state: &AppState, c: &Caller, id: ScorecardId) -> Result<ScorecardRemoval, ApiError> {
    let removal = state.store.delete_scorecard(id).await.map_err(card_not_found)?;
    let detail = match removal {
        ScorecardRemoval::Deleted => "deleted",
        ScorecardRemoval::Archived => "archived: reviews use it",
    };
    audit(
        state,
        Some(c),
        "",
        "scorecard_delete",
        format!("scorecard {id}"),
        detail.into(),
    )
    .await;
    Ok(removal)
}

/// Whether `c` may read `review` (module doc).
pub fn may_read(c: &Caller, review: &Review) -> bool {
    review.reviewer_id == c.id()
        || match &c.scope {
            Scope::All => true,
            Scope::Users(users) => users.contains(&review.agent_id),
        }
}

fn agent_error(message: &str) -> ApiError {
    ApiError::invalid_fields(vec![FieldError::new("agent_id", message)])
}

/// Files a review of `input.agent_id` on call `call_id` by `c` (a supervisor or an admin; the
/// route checks the level first).
pub async fn create_review(
    state: &AppState,
    c: &Caller,
    call_id: CallId,
    input: &ReviewInput,
) -> Result<Review, ApiError> {
    let (call, _) = visible_call(state, c, call_id).await?;
    if input.agent_id == c.id() {
        return Err(agent_error("nobody reviews their own calls"));
    }
    if !internal_users(&call).contains(&input.agent_id) {
        return Err(agent_error("the agent did not take part in this call"));
    }
    if let Scope::Users(users) = &c.scope {
        if !users.contains(&input.agent_id) {
            return Err(agent_error("the agent is not a member of a team you supervise"));
        }
    }
    let card = match state.store.get_scorecard(input.scorecard_id).await {
        Ok(card) if !card.archived => card,
        Ok(_) => {
            return Err(ApiError::invalid_fields(vec![FieldError::new(
                "scorecard_id",
                "the scorecard is archived; it takes no new reviews",
            )]))
        }
        Err(StoreError::NotFound) => {
            return Err(ApiError::invalid_fields(vec![FieldError::new(
                "scorecard_id",
                "no such scorecard",
            )]))
        }
        Err(e) => return Err(e.into()),
    };
    let score = score(&card.criteria, &input.answers).map_err(ApiError::invalid_fields)?;
    let comment = check_comment(input.comment.as_deref()).map_err(ApiError::invalid_fields)?;
    let review = state
        .store
        .create_review(&NewReview {
            call_id,
            call_started_at: call.started_at,
            agent_id: input.agent_id,
            reviewer_id: c.id(),
            scorecard: card,
            answers: input.answers.clone(),
            comment,
            score,
            at: state.clock.now(),
        })
        .await?;
    audit(
        state,
        Some(c),
        "",
        "review_create",
        format!("review {}", review.id),
        review_detail(&review),
    )
    .await;
    announce(state, review.call_id).await;
    Ok(review)
}

/// Tells the push streams that may see the call that its journal row (its score) changed.
async fn announce(state: &AppState, call_id: CallId) {
    match state.store.get_call(call_id).await {
        Ok((call, _)) => {
            let users = internal_users(&call);
            state.publish(Event::Journal { call_id }, users, None).await;
        }
        Err(e) => tracing::warn!(call = %call_id, error = %e, "could not announce a review's change of the journal"),
    }
}

fn review_detail(r: &Review) -> String {
    format!(
        "call {}, agent {}, scorecard {} version {}, score {}",
        r.call_id, r.agent_id, r.scorecard_id, r.scorecard_version, r.score
    )
}

/// A review `c` may read; any other is "not found".
pub async fn visible_review(state: &AppState, c: &Caller, id: ReviewId) -> Result<Review, ApiError> {
    let review = state.store.get_review(id).await.map_err(review_not_found)?;
    if may_read(c, &review) {
        Ok(review)
    } else {
        Err(ApiError::not_found("review"))
    }
}

/// A review `c` may change: theirs, or any for an admin (403 for others who may read it).
async fn own_review(state: &AppState, c: &Caller, id: ReviewId) -> Result<Review, ApiError> {
    let review = visible_review(state, c, id).await?;
    if review.reviewer_id != c.id() && !c.is_admin() {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::NotPermitted,
            "only the review's author or an admin changes it",
        ));
    }
    Ok(review)
}

/// The call's reviews that `c` may read, oldest first.
pub async fn list_call_reviews(state: &AppState, c: &Caller, call_id: CallId) -> Result<Vec<Review>, ApiError> {
    visible_call(state, c, call_id).await?;
    let mut reviews = state.store.list_call_reviews(call_id).await?;
    reviews.retain(|r| may_read(c, r));
    Ok(reviews)
}

/// New answers (scored against the review's own criteria) and comment.
pub async fn update_review(
    state: &AppState,
    c: &Caller,
    id: ReviewId,
    update: &ReviewUpdate,
) -> Result<Review, ApiError> {
    let old = own_review(state, c, id).await?;
    let score = score(&old.criteria, &update.answers).map_err(ApiError::invalid_fields)?;
    let comment = check_comment(update.comment.as_deref()).map_err(ApiError::invalid_fields)?;
    let change = ReviewChange {
        answers: update.answers.clone(),
        comment,
        score,
        at: state.clock.now(),
    };
    let review = state.store.update_review(id, &change).await.map_err(review_not_found)?;
    audit(
        state,
        Some(c),
        "",
        "review_update",
        format!("review {id}"),
        review_detail(&review),
    )
    .await;
    announce(state, review.call_id).await;
    Ok(review)
}

pub async fn delete_review(state: &AppState, c: &Caller, id: ReviewId) -> Result<(), ApiError> {
    own_review(state, c, id).await?;
    let review = state.store.delete_review(id).await.map_err(review_not_found)?;
    audit(
        state,
        Some(c),
        "",
        "review_delete",
        format!("review {id}"),
        review_detail(&review),
    )
    .await;
    announce(state, review.call_id).await;
    Ok(())
}

/// The asking user's own reviews (the agent's training), newest call first.
pub async fn list_my_reviews(state: &AppState, c: &Caller) -> Result<Vec<Review>, ApiError> {
    let filter = ReviewFilter {
        agent_id: c.id(),
        from: None,
        to: None,
        scorecard_id: None,
        limit: MAX_LISTED,
    };
    Ok(state.store.list_agent_reviews(&filter).await?)
}

/// The summary of an agent in `c`'s scope (a supervisor's team member, the asking user
/// themselves, anyone for an admin); anyone else is "not found".
pub async fn agent_scores(
    state: &AppState,
    c: &Caller,
    agent_id: UserId,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    scorecard_id: Option<ScorecardId>,
) -> Result<ScoreSummary, ApiError> {
    let in_scope = match &c.scope {
        Scope::All => true,
        Scope::Users(users) => users.contains(&agent_id),
    };
    if !in_scope {
        return Err(ApiError::not_found("agent"));
    }
    state.store.get_user(agent_id).await.map_err(|e| match e {
        StoreError::NotFound => ApiError::not_found("agent"),
        other => other.into(),
    })?;
    let filter = ReviewFilter {
        agent_id,
        from,
        to,
        scorecard_id,
        limit: MAX_SUMMARIZED,
    };
    let reviews = state.store.list_agent_reviews(&filter).await?;
    Ok(summarize(agent_id, from, to, scorecard_id, &reviews))
}
