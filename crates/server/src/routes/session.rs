//! Login, logout and who am I.

use crate::auth::{self, Caller};
use crate::calls::audit;
use crate::error::ApiResult;
use crate::extract::ApiJson;
use crate::people;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use callrec_types::directory::{Person, User};
use callrec_types::wire::{LoginRequest, LoginResponse};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/session", post(login).delete(logout))
        .route("/api/v1/me", get(me))
        .route("/api/v1/me/team", get(my_team))
}

async fn login(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<LoginRequest>,
) -> Result<Json<LoginResponse>, auth::LoginError> {
    auth::login(&state, req).await.map(Json)
}

async fn logout(State(state): State<AppState>, caller: Caller) -> ApiResult<StatusCode> {
    state.store.delete_session(&caller.token_hash).await?;
    audit(
        &state,
        Some(&caller),
        "",
        "logout",
        format!("user {}", caller.id()),
        String::new(),
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}

async fn me(caller: Caller) -> Json<User> {
    Json(caller.user)
}

/// The people in the caller's scope, the caller included: everybody for an admin, a
/// supervisor's teams' members, an agent alone (Team scores' picker).
async fn my_team(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Vec<Person>>> {
    Ok(Json(people::in_scope(&state, &caller).await?))
}
