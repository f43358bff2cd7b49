//! Login, logout and who am I.

use crate::auth::{self, Caller};
use crate::calls::audit;
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use crate::state::AppState;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use callrec_types::directory::User;
use callrec_types::wire::{LoginRequest, LoginResponse};
use chrono::Duration;
use std::sync::atomic::Ordering;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/session", post(login).delete(logout))
        .route("/api/v1/me", get(me))
}

async fn login(State(state): State<AppState>, ApiJson(req): ApiJson<LoginRequest>) -> ApiResult<Response> {
    let now = state.clock.now();
    if req.username.len() > 128 || req.password.len() > auth::MAX_PASSWORD_LEN {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "bad_credentials",
            "wrong username or password",
        ));
    }
    if let Err(wait) = state.throttle.check(&req.username, now) {
        let mut r = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_attempts",
            format!("too many failed logins; try again in {wait} s"),
        )
        .into_response();
        r.headers_mut().insert("retry-after", HeaderValue::from(wait));
        return Ok(r);
    }
    let found = state.store.user_credentials(&req.username).await?;
    let (hash, user) = match &found {
        Some((u, h)) => (h.clone(), Some(u.clone())),
        None => (auth::dummy_hash().to_string(), None),
    };
    let password = req.password.clone();
    let ok = tokio::task::spawn_blocking(move || auth::verify_password(&hash, &password))
        .await
        .map_err(ApiError::internal)?;
    let Some(user) = user.filter(|_| ok) else {
        state.throttle.failure(&req.username, now);
        state.metrics.logins_failed.fetch_add(1, Ordering::Relaxed);
        audit(
            &state,
            None,
            "anonymous",
            "login_failed",
            format!("user {}", truncate(&req.username)),
            String::new(),
        )
        .await;
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "bad_credentials",
            "wrong username or password",
        ));
    };
    state.throttle.success(&req.username);
    let token = auth::new_token();
    let expires_at = now + Duration::hours(i64::from(state.config.session_ttl_hours));
    state
        .store
        .create_session(&auth::token_hash(&token), user.id, now, expires_at)
        .await?;
    let caller = Caller {
        user: user.clone(),
        scope: callrec_store::Scope::Users(vec![]),
        token_hash: String::new(),
    };
    audit(
        &state,
        Some(&caller),
        "",
        "login",
        format!("user {}", user.id),
        String::new(),
    )
    .await;
    Ok(Json(LoginResponse {
        token,
        user,
        expires_at,
    })
    .into_response())
}

fn truncate(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).take(64).collect()
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
