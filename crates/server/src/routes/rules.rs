//! Admin CRUD of recording rules, validated field by field; every change audited. A webhook's
//! secret is write-only: the store keeps it apart and every answer (and audit row) carries
//! the mask.

use crate::auth::Admin;
use crate::calls::audit;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Id};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use callrec_store::StoreError;
use callrec_types::rules::{FieldError, Rule, RuleEnabledInput, RuleInput, RuleMoveInput};
use callrec_types::*;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/rules", get(list_rules).post(create_rule))
        .route("/api/v1/rules/{id}", get(get_rule).put(update_rule).delete(delete_rule))
        .route("/api/v1/rules/{id}/enabled", put(set_rule_enabled))
        .route("/api/v1/rules/{id}/move", post(move_rule))
}

fn validate(r: &RuleInput) -> ApiResult<()> {
    r.validate().map_err(ApiError::invalid_fields)
}

/// A webhook's secret sent back masked keeps the stored one — so there must be one.
fn no_secret_to_keep() -> ApiError {
    ApiError::invalid_fields(vec![FieldError::new(
        "dispatch.secret",
        "a webhook needs a secret to sign its requests with",
    )])
}

/// A rule naming a role that does not exist is a field error on `role_id`.
fn role_error(e: StoreError) -> ApiError {
    match e {
        StoreError::Invalid(m) => ApiError::invalid_fields(vec![FieldError::new("role_id", m)]),
        other => other.into(),
    }
}

fn summary(r: &Rule) -> String {
    serde_json::to_string(r).unwrap_or_default()
}

async fn list_rules(State(s): State<AppState>, _: Admin) -> ApiResult<Json<Vec<Rule>>> {
    Ok(Json(s.store.list_rules().await?))
}

async fn get_rule(State(s): State<AppState>, _: Admin, Id(id): Id<RuleId>) -> ApiResult<Json<Rule>> {
    Ok(Json(s.store.get_rule(id).await?))
}

async fn create_rule(
    State(s): State<AppState>,
    Admin(c): Admin,
    ApiJson(r): ApiJson<RuleInput>,
) -> ApiResult<(StatusCode, Json<Rule>)> {
    validate(&r)?;
    if r.dispatch.keeps_secret() {
        return Err(no_secret_to_keep());
    }
    let rule = s.store.create_rule(&r).await.map_err(role_error)?;
    audit(
        &s,
        Some(&c),
        "",
        "rule_create",
        format!("rule {}", rule.id),
        summary(&rule),
    )
    .await;
    Ok((StatusCode::CREATED, Json(rule)))
}

async fn update_rule(
    State(s): State<AppState>,
    Admin(c): Admin,
    Id(id): Id<RuleId>,
    ApiJson(r): ApiJson<RuleInput>,
) -> ApiResult<Json<Rule>> {
    validate(&r)?;
    if r.dispatch.keeps_secret() && !s.store.rule_has_secret(id).await? {
        return Err(no_secret_to_keep());
    }
    let rule = s.store.update_rule(id, &r).await.map_err(role_error)?;
    audit(&s, Some(&c), "", "rule_update", format!("rule {id}"), summary(&rule)).await;
    Ok(Json(rule))
}

async fn delete_rule(State(s): State<AppState>, Admin(c): Admin, Id(id): Id<RuleId>) -> ApiResult<StatusCode> {
    let old = s.store.get_rule(id).await?;
    s.store.delete_rule(id).await?;
    audit(&s, Some(&c), "", "rule_delete", format!("rule {id}"), summary(&old)).await;
    Ok(StatusCode::NO_CONTENT)
}

/// Switches one rule on or off in one statement (no read-modify-write of the whole rule).
async fn set_rule_enabled(
    State(s): State<AppState>,
    Admin(c): Admin,
    Id(id): Id<RuleId>,
    ApiJson(r): ApiJson<RuleEnabledInput>,
) -> ApiResult<Json<Rule>> {
    let rule = s.store.set_rule_enabled(id, r.enabled).await?;
    audit(&s, Some(&c), "", "rule_update", format!("rule {id}"), summary(&rule)).await;
    Ok(Json(rule))
}

/// Moves a rule one place up or down in one store transaction; answers the whole list in its
/// new order.
async fn move_rule(
    State(s): State<AppState>,
    Admin(c): Admin,
    Id(id): Id<RuleId>,
    ApiJson(m): ApiJson<RuleMoveInput>,
) -> ApiResult<Json<Vec<Rule>>> {
    let rules = s.store.move_rule(id, m.to).await?;
    let order: Vec<String> = rules.iter().map(|r| r.id.to_string()).collect();
    let to = serde_json::to_string(&m.to).unwrap_or_default();
    audit(
        &s,
        Some(&c),
        "",
        "rule_move",
        format!("rule {id}"),
        format!("{} → order {}", to.trim_matches('"'), order.join(", ")),
    )
    .await;
    Ok(Json(rules))
}
