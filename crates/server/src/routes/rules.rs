//! Admin CRUD of recording rules, validated field by field; every change audited.

use crate::auth::Admin;
use crate::calls::audit;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Id};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use callrec_store::StoreError;
use callrec_types::rules::{FieldError, Rule, RuleInput};
use callrec_types::*;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/rules", get(list_rules).post(create_rule))
        .route("/api/v1/rules/{id}", get(get_rule).put(update_rule).delete(delete_rule))
}

fn validate(r: &RuleInput) -> ApiResult<()> {
    r.validate().map_err(ApiError::invalid_fields)
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
