//! Scorecards and reviews (issue #15.4): the admin's scorecards, reviews of a call, one
//! review, the asking user's own reviews and an agent's score summary.

use crate::calls::set_query;
use crate::{Client, Result};
use callrec_types::scorecards::{Review, ReviewInput, ReviewUpdate, ScoreSummary, Scorecard, ScorecardInput};
use callrec_types::{CallId, ReviewId, ScorecardId, UserId};
use chrono::{DateTime, SecondsFormat, Utc};
use reqwest::Method;

/// The filters of `GET /api/v1/agents/{id}/scores`; unset fields are left out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScoresQuery {
    /// Calls that started at or after this time.
    pub from: Option<DateTime<Utc>>,
    /// Calls that started before this time.
    pub to: Option<DateTime<Utc>>,
    pub scorecard_id: Option<ScorecardId>,
}

impl ScoresQuery {
    /// The query pairs in a fixed order, times as RFC 3339 (UTC, `Z`).
    pub fn to_pairs(&self) -> Vec<(&'static str, String)> {
        let time = |t: &DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::AutoSi, true);
        let mut pairs = Vec::new();
        if let Some(from) = &self.from {
            pairs.push(("from", time(from)));
        }
        if let Some(to) = &self.to {
            pairs.push(("to", time(to)));
        }
        if let Some(s) = self.scorecard_id {
            pairs.push(("scorecard_id", s.to_string()));
        }
        pairs
    }
}

impl Client {
    /// `GET /api/v1/scorecards[?archived=true]` (supervisors and admins): by name.
    pub async fn list_scorecards(&self, archived: bool) -> Result<Vec<Scorecard>> {
        let mut url = self.url("/api/v1/scorecards");
        if archived {
            set_query(&mut url, &[("archived", "true".to_string())]);
        }
        self.send_json(self.limited(self.request(Method::GET, url))).await
    }

    /// `POST /api/v1/scorecards` (admins).
    pub async fn create_scorecard(&self, input: &ScorecardInput) -> Result<Scorecard> {
        self.send_body(Method::POST, "/api/v1/scorecards", input).await
    }

    /// `GET /api/v1/scorecards/{id}` (supervisors and admins), archived ones too.
    pub async fn get_scorecard(&self, id: ScorecardId) -> Result<Scorecard> {
        self.get_json(&format!("/api/v1/scorecards/{id}")).await
    }

    /// `PUT /api/v1/scorecards/{id}` (admins): a new version; reviews keep theirs.
    pub async fn update_scorecard(&self, id: ScorecardId, input: &ScorecardInput) -> Result<Scorecard> {
        self.send_body(Method::PUT, &format!("/api/v1/scorecards/{id}"), input)
            .await
    }

    /// `DELETE /api/v1/scorecards/{id}` (admins): deleted, or archived when reviews use it.
    pub async fn delete_scorecard(&self, id: ScorecardId) -> Result<()> {
        self.delete_path(&format!("/api/v1/scorecards/{id}")).await
    }

    /// `POST /api/v1/calls/{id}/reviews` (supervisors and admins).
    pub async fn create_review(&self, call: CallId, input: &ReviewInput) -> Result<Review> {
        self.send_body(Method::POST, &format!("/api/v1/calls/{call}/reviews"), input)
            .await
    }

    /// `GET /api/v1/calls/{id}/reviews`: the call's reviews the asking user may read.
    pub async fn list_call_reviews(&self, call: CallId) -> Result<Vec<Review>> {
        self.get_json(&format!("/api/v1/calls/{call}/reviews")).await
    }

    /// `GET /api/v1/reviews/{id}`.
    pub async fn get_review(&self, id: ReviewId) -> Result<Review> {
        self.get_json(&format!("/api/v1/reviews/{id}")).await
    }

    /// `PUT /api/v1/reviews/{id}` (its author or an admin).
    pub async fn update_review(&self, id: ReviewId, update: &ReviewUpdate) -> Result<Review> {
        self.send_body(Method::PUT, &format!("/api/v1/reviews/{id}"), update)
            .await
    }

    /// `DELETE /api/v1/reviews/{id}` (its author or an admin).
    pub async fn delete_review(&self, id: ReviewId) -> Result<()> {
        self.delete_path(&format!("/api/v1/reviews/{id}")).await
    }

    /// `GET /api/v1/me/reviews`: the asking user's own reviews, newest call first.
    pub async fn list_my_reviews(&self) -> Result<Vec<Review>> {
        self.get_json("/api/v1/me/reviews").await
    }

    /// `GET /api/v1/agents/{id}/scores?from&to&scorecard_id`: the agent's average score and
    /// per-criterion averages.
    pub async fn agent_scores(&self, agent: UserId, query: &ScoresQuery) -> Result<ScoreSummary> {
        let mut url = self.url(&format!("/api/v1/agents/{agent}/scores"));
        set_query(&mut url, &query.to_pairs());
        self.send_json(self.limited(self.request(Method::GET, url))).await
    }
}
