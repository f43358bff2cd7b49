//! Scorecards and reviews (issue #15.4): an admin defines a [`Scorecard`] — named criteria,
//! each yes/no or a 1–5 scale, with a weight; a supervisor fills one for a call and an agent
//! who took part in it (a [`Review`]); the agent reads their own reviews; a supervisor reads a
//! [`ScoreSummary`] per agent.
//!
//! The rules are pure functions here: [`ScorecardInput::validate`], [`score`] (the weighted
//! percentage a review is stored with) and [`summarize`]. A review keeps a copy of the
//! criteria it was filled against, so editing a scorecard later never changes what an old
//! review's answers mean.

use crate::ids::{CallId, ReviewId, ScorecardId, UserId};
use crate::rules::FieldError;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use ts_rs::TS;

/// At most this many criteria on one scorecard.
pub const MAX_CRITERIA: usize = 50;
/// A scorecard's or a criterion's name, in characters.
pub const MAX_NAME: usize = 200;
/// A weight is above 0 and at most this.
pub const MAX_WEIGHT: f64 = 1000.0;
/// A review's comment, in characters.
pub const MAX_COMMENT: usize = 4000;

/// How a criterion is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
pub enum CriterionKind {
    /// `true` or `false`; counts 100 % or 0 % of its weight.
    #[serde(rename = "yes_no")]
    YesNo,
    /// An integer 1 to 5; 1 counts 0 %, 5 counts 100 % of its weight, linearly between.
    #[serde(rename = "scale_1_5")]
    Scale1To5,
}

impl CriterionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CriterionKind::YesNo => "yes_no",
            CriterionKind::Scale1To5 => "scale_1_5",
        }
    }
}

/// One named criterion of a scorecard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Criterion {
    pub name: String,
    pub kind: CriterionKind,
    /// Above 0; the criterion's share of the score is its weight over the sum of weights.
    pub weight: f64,
}

/// `POST /api/v1/scorecards` and `PUT /api/v1/scorecards/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ScorecardInput {
    pub name: String,
    pub criteria: Vec<Criterion>,
}

impl ScorecardInput {
    /// A name (1–200 characters), 1 to [`MAX_CRITERIA`] criteria, each with a name of its own
    /// (1–200 characters, unique on the scorecard) and a weight above 0 and at most
    /// [`MAX_WEIGHT`].
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        if let Some(problem) = name_problem(&self.name) {
            errors.push(FieldError::new("name", problem));
        }
        if self.criteria.is_empty() || self.criteria.len() > MAX_CRITERIA {
            errors.push(FieldError::new(
                "criteria",
                format!("a scorecard has 1 to {MAX_CRITERIA} criteria"),
            ));
        }
        for (i, c) in self.criteria.iter().enumerate().take(MAX_CRITERIA) {
            if let Some(problem) = name_problem(&c.name) {
                errors.push(FieldError::new(&format!("criteria[{i}].name"), problem));
            } else if self.criteria[..i].iter().any(|o| o.name.trim() == c.name.trim()) {
                errors.push(FieldError::new(
                    &format!("criteria[{i}].name"),
                    format!("{:?} is named twice", c.name.trim()),
                ));
            }
            if !(c.weight.is_finite() && c.weight > 0.0 && c.weight <= MAX_WEIGHT) {
                errors.push(FieldError::new(
                    &format!("criteria[{i}].weight"),
                    format!("a weight is above 0 and at most {MAX_WEIGHT}"),
                ));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

fn name_problem(name: &str) -> Option<String> {
    let n = name.trim().chars().count();
    if n == 0 {
        Some("must not be empty".into())
    } else if n > MAX_NAME {
        Some(format!("at most {MAX_NAME} characters"))
    } else if name.chars().any(char::is_control) {
        Some("must not contain control characters".into())
    } else {
        None
    }
}

/// A scorecard as stored. `version` starts at 1 and grows with every edit; reviews name the
/// version they were filled against and keep its criteria.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Scorecard {
    pub id: ScorecardId,
    pub name: String,
    pub criteria: Vec<Criterion>,
    pub version: i64,
    /// Archived scorecards (deleted while reviews use them) are kept for those reviews but
    /// take no new ones and are not listed.
    pub archived: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One criterion's answer: `true`/`false` for yes/no, an integer 1–5 for a scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(untagged)]
pub enum Answer {
    YesNo(bool),
    Scale(i64),
}

impl Answer {
    /// The answer as a number for averages: yes 1, no 0, a scale its value.
    pub fn value(self) -> f64 {
        match self {
            Answer::YesNo(true) => 1.0,
            Answer::YesNo(false) => 0.0,
            Answer::Scale(v) => v as f64,
        }
    }
}

/// `POST /api/v1/calls/{id}/reviews`: `answers[i]` answers `criteria[i]` of the scorecard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ReviewInput {
    pub scorecard_id: ScorecardId,
    pub agent_id: UserId,
    pub answers: Vec<Answer>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub comment: Option<String>,
}

/// `PUT /api/v1/reviews/{id}`: new answers (against the review's own criteria) and comment;
/// the call, the agent and the scorecard stay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ReviewUpdate {
    pub answers: Vec<Answer>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub comment: Option<String>,
}

/// A filled scorecard: one per (call, agent, scorecard).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Review {
    pub id: ReviewId,
    pub call_id: CallId,
    /// When the call started (the summary's date range is over this).
    pub call_started_at: DateTime<Utc>,
    pub agent_id: UserId,
    pub reviewer_id: UserId,
    pub scorecard_id: ScorecardId,
    pub scorecard_name: String,
    pub scorecard_version: i64,
    /// The scorecard's criteria when the review was filled.
    pub criteria: Vec<Criterion>,
    pub answers: Vec<Answer>,
    pub comment: Option<String>,
    /// The weighted percentage, 0–100 ([`score`]).
    pub score: f64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The directory's names of the agent and the reviewer (display name, or username), filled
    /// by the server whenever it sends a review, like a participant's `user_name`; never stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub agent_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub reviewer_name: Option<String>,
}

/// The weighted percentage (0–100, rounded to hundredths) of `answers` against `criteria`:
/// each criterion counts its weight times 1 (yes, 5), 0 (no, 1) or (v − 1) / 4 for a scale
/// answer v, over the sum of the weights. Every criterion must be answered, in order, with an
/// answer of its kind; anything else is a list of field errors (`answers`, `answers[i]`).
pub fn score(criteria: &[Criterion], answers: &[Answer]) -> Result<f64, Vec<FieldError>> {
    if answers.len() != criteria.len() {
        return Err(vec![FieldError::new(
            "answers",
            format!(
                "the scorecard has {} criteria and {} answers were given: answer each criterion, in order",
                criteria.len(),
                answers.len()
            ),
        )]);
    }
    let mut errors = Vec::new();
    let (mut got, mut total) = (0.0, 0.0);
    for (i, (c, a)) in criteria.iter().zip(answers).enumerate() {
        let share = match (c.kind, *a) {
            (CriterionKind::YesNo, Answer::YesNo(yes)) => f64::from(u8::from(yes)),
            (CriterionKind::Scale1To5, Answer::Scale(v)) if (1..=5).contains(&v) => (v - 1) as f64 / 4.0,
            (CriterionKind::YesNo, _) => {
                errors.push(FieldError::new(
                    &format!("answers[{i}]"),
                    format!("{:?} is answered true or false", c.name),
                ));
                continue;
            }
            (CriterionKind::Scale1To5, _) => {
                errors.push(FieldError::new(
                    &format!("answers[{i}]"),
                    format!("{:?} is answered with an integer from 1 to 5", c.name),
                ));
                continue;
            }
        };
        got += c.weight * share;
        total += c.weight;
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    if total <= 0.0 {
        return Err(vec![FieldError::new("answers", "the scorecard has no weight to score")]);
    }
    Ok((got / total * 10_000.0).round() / 100.0)
}

/// A review's comment: at most [`MAX_COMMENT`] characters; blank is none.
pub fn check_comment(comment: Option<&str>) -> Result<Option<String>, Vec<FieldError>> {
    match comment.map(str::trim).filter(|c| !c.is_empty()) {
        None => Ok(None),
        Some(c) if c.chars().count() > MAX_COMMENT => Err(vec![FieldError::new(
            "comment",
            format!("at most {MAX_COMMENT} characters"),
        )]),
        Some(c) => Ok(Some(c.to_string())),
    }
}

/// One criterion over the reviews of a summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct CriterionSummary {
    pub scorecard_id: ScorecardId,
    pub criterion: String,
    pub kind: CriterionKind,
    /// How many reviews answered it.
    pub count: i64,
    /// The average answer: the share of yes (0–1) for yes/no, the average value (1–5) for a
    /// scale.
    pub average: f64,
}

/// `GET /api/v1/agents/{id}/scores?from&to&scorecard_id`: the agent's reviews of calls that
/// started in `[from, to)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ScoreSummary {
    pub agent_id: UserId,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub scorecard_id: Option<ScorecardId>,
    /// How many reviews the summary covers.
    pub reviews: i64,
    /// The average of their scores; `None` without reviews.
    pub average_score: Option<f64>,
    /// Per criterion — by scorecard, name and kind, so that a criterion keeps its line across
    /// the scorecard's versions — in the order first met.
    pub criteria: Vec<CriterionSummary>,
}

/// Rounds to hundredths (averages on the wire).
fn hundredths(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// The summary of `reviews` (already limited to the agent, range and scorecard asked for):
/// averages rounded to hundredths.
pub fn summarize(
    agent_id: UserId,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    scorecard_id: Option<ScorecardId>,
    reviews: &[Review],
) -> ScoreSummary {
    let mut lines: Vec<(CriterionSummary, f64)> = Vec::new();
    let mut at: HashMap<(ScorecardId, String, CriterionKind), usize> = HashMap::new();
    for r in reviews {
        for (c, a) in r.criteria.iter().zip(&r.answers) {
            let key = (r.scorecard_id, c.name.clone(), c.kind);
            let i = *at.entry(key).or_insert_with(|| {
                lines.push((
                    CriterionSummary {
                        scorecard_id: r.scorecard_id,
                        criterion: c.name.clone(),
                        kind: c.kind,
                        count: 0,
                        average: 0.0,
                    },
                    0.0,
                ));
                lines.len() - 1
            });
            lines[i].0.count += 1;
            lines[i].1 += a.value();
        }
    }
    let criteria = lines
        .into_iter()
        .map(|(mut line, sum)| {
            line.average = hundredths(sum / line.count as f64);
            line
        })
        .collect();
    let average_score =
        (!reviews.is_empty()).then(|| hundredths(reviews.iter().map(|r| r.score).sum::<f64>() / reviews.len() as f64));
    ScoreSummary {
        agent_id,
        from,
        to,
        scorecard_id,
        reviews: reviews.len() as i64,
        average_score,
        criteria,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crit(name: &str, kind: CriterionKind, weight: f64) -> Criterion {
        Criterion {
            name: name.into(),
            kind,
            weight,
        }
    }

    fn card() -> Vec<Criterion> {
        vec![
            crit("greeting", CriterionKind::YesNo, 1.0),
            crit("empathy", CriterionKind::Scale1To5, 2.0),
            crit("solved", CriterionKind::YesNo, 3.0),
        ]
    }

    #[test]
    fn the_score_is_the_weighted_share_of_the_answers() {
        // greeting yes (1 × 1), empathy 4 (2 × 0.75), solved no (3 × 0): 2.5 of 6.
        let s = score(&card(), &[Answer::YesNo(true), Answer::Scale(4), Answer::YesNo(false)]);
        assert_eq!(s, Ok(41.67), "2.5 of 6 weight is 41.67 %");
        let best = score(&card(), &[Answer::YesNo(true), Answer::Scale(5), Answer::YesNo(true)]);
        assert_eq!(best, Ok(100.0), "every answer at its best scores 100");
        let worst = score(&card(), &[Answer::YesNo(false), Answer::Scale(1), Answer::YesNo(false)]);
        assert_eq!(worst, Ok(0.0), "every answer at its worst scores 0");
    }

    #[test]
    fn every_criterion_must_be_answered_with_its_kind() {
        let short = score(&card(), &[Answer::YesNo(true)]).expect_err("one answer for three criteria");
        assert_eq!(short[0].field, "answers", "a missing answer is an error on the list");
        let wrong = score(&card(), &[Answer::Scale(1), Answer::Scale(6), Answer::YesNo(true)])
            .expect_err("a number for yes/no and 6 on a scale");
        let fields: Vec<&str> = wrong.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["answers[0]", "answers[1]"], "each wrong answer is named");
        let zero = score(&card(), &[Answer::YesNo(true), Answer::Scale(0), Answer::YesNo(true)]);
        assert!(zero.is_err(), "0 is below the scale");
    }

    #[test]
    fn a_scorecard_needs_a_name_criteria_and_positive_weights() {
        let ok = ScorecardInput {
            name: "Support".into(),
            criteria: card(),
        };
        assert_eq!(ok.validate(), Ok(()), "a named scorecard with three criteria is valid");
        let none = ScorecardInput {
            name: " ".into(),
            criteria: vec![],
        };
        let fields: Vec<String> = none
            .validate()
            .expect_err("invalid")
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            ["name", "criteria"],
            "a blank name and no criteria are both named"
        );
        let bad = ScorecardInput {
            name: "x".into(),
            criteria: vec![
                crit("a", CriterionKind::YesNo, 0.0),
                crit("a", CriterionKind::YesNo, f64::NAN),
                crit("", CriterionKind::YesNo, -1.0),
            ],
        };
        let fields: Vec<String> = bad
            .validate()
            .expect_err("invalid")
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            [
                "criteria[0].weight",
                "criteria[1].name",
                "criteria[1].weight",
                "criteria[2].name",
                "criteria[2].weight"
            ],
            "zero, NaN and negative weights, a repeated and an empty name are refused"
        );
        let many = ScorecardInput {
            name: "x".into(),
            criteria: (0..51)
                .map(|i| crit(&format!("c{i}"), CriterionKind::YesNo, 1.0))
                .collect(),
        };
        assert!(many.validate().is_err(), "51 criteria are too many");
    }

    #[test]
    fn answers_are_booleans_and_integers_on_the_wire() {
        let a: Vec<Answer> = serde_json::from_str("[true, 3, false]").expect("answers parse");
        assert_eq!(a, [Answer::YesNo(true), Answer::Scale(3), Answer::YesNo(false)]);
        assert!(
            serde_json::from_str::<Vec<Answer>>("[\"yes\"]").is_err(),
            "a string is no answer"
        );
        assert_eq!(
            serde_json::to_value(CriterionKind::Scale1To5).expect("json"),
            "scale_1_5",
            "the scale's wire word"
        );
    }

    fn review(scorecard: i64, criteria: Vec<Criterion>, answers: Vec<Answer>) -> Review {
        let score = score(&criteria, &answers).expect("valid answers");
        let t = DateTime::<Utc>::default();
        Review {
            id: ReviewId(1),
            call_id: CallId(1),
            call_started_at: t,
            agent_id: UserId(2),
            reviewer_id: UserId(3),
            scorecard_id: ScorecardId(scorecard),
            scorecard_name: "card".into(),
            scorecard_version: 1,
            criteria,
            answers,
            comment: None,
            score,
            created_at: t,
            updated_at: t,
            agent_name: None,
            reviewer_name: None,
        }
    }

    #[test]
    fn the_summary_averages_each_criterion_and_the_score() {
        let reviews = [
            review(
                1,
                card(),
                vec![Answer::YesNo(true), Answer::Scale(4), Answer::YesNo(false)],
            ),
            review(
                1,
                card(),
                vec![Answer::YesNo(false), Answer::Scale(5), Answer::YesNo(true)],
            ),
            review(
                1,
                card(),
                vec![Answer::YesNo(true), Answer::Scale(3), Answer::YesNo(true)],
            ),
        ];
        // Scores: 41.67, (2 + 3) / 6 = 83.33, (1 + 1 + 3) / 6 = 83.33.
        let s = summarize(UserId(2), None, None, Some(ScorecardId(1)), &reviews);
        assert_eq!(s.reviews, 3, "three reviews");
        assert_eq!(s.average_score, Some(69.44), "(41.67 + 83.33 + 83.33) / 3");
        let lines: Vec<(&str, i64, f64)> = s
            .criteria
            .iter()
            .map(|c| (c.criterion.as_str(), c.count, c.average))
            .collect();
        assert_eq!(
            lines,
            [("greeting", 3, 0.67), ("empathy", 3, 4.0), ("solved", 3, 0.67)],
            "two of three yes is 0.67, empathy (4 + 5 + 3) / 3 = 4"
        );
        let empty = summarize(UserId(2), None, None, None, &[]);
        assert_eq!(
            (empty.reviews, empty.average_score, empty.criteria.len()),
            (0, None, 0),
            "no reviews, no averages"
        );
    }

    #[test]
    fn a_criterion_keeps_its_line_across_versions_and_a_new_one_gets_its_own() {
        let v2 = vec![
            crit("solved", CriterionKind::YesNo, 1.0),
            crit("tone", CriterionKind::Scale1To5, 1.0),
        ];
        let reviews = [
            review(
                1,
                card(),
                vec![Answer::YesNo(true), Answer::Scale(2), Answer::YesNo(true)],
            ),
            review(1, v2, vec![Answer::YesNo(false), Answer::Scale(5)]),
        ];
        let s = summarize(UserId(2), None, None, None, &reviews);
        let lines: Vec<(&str, i64)> = s.criteria.iter().map(|c| (c.criterion.as_str(), c.count)).collect();
        assert_eq!(
            lines,
            [("greeting", 1), ("empathy", 1), ("solved", 2), ("tone", 1)],
            "solved is one line over both versions"
        );
    }
}
