//! Authentication and authorisation: argon2 password hashes, random bearer tokens stored only
//! as SHA-256 hashes with an expiry, the `Caller` extractor that every user route takes (who is
//! asking and which calls they may see), [`login`] with its throttle, and the bootstrap admin.

pub use crate::caller::Caller;
use crate::error::ApiError;
use crate::state::AppState;
use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use callrec_store::{NewUserRecord, Scope};
use callrec_types::directory::{Level, User};
use callrec_types::wire::ErrorCode;
use callrec_types::wire::{LoginRequest, LoginResponse};
use callrec_types::UserId;
use chrono::Duration;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::sync::atomic::Ordering;

pub const MIN_PASSWORD_LEN: usize = 8;
pub const MAX_PASSWORD_LEN: usize = 1024;

/// Hashes a password with argon2id (default parameters, random salt). CPU-heavy: call from
/// `spawn_blocking`.
pub fn hash_password(password: &str) -> Result<String, ApiError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(ApiError::internal)
}

pub fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// A hash of a password nobody has, verified when the username is unknown so that a wrong
/// username costs as long as a wrong password.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password("callrec-no-such-user").unwrap_or_default())
}

pub async fn hash_password_blocking(password: String) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(ApiError::internal)?
}

pub fn check_password_policy(password: &str) -> Result<(), ApiError> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_LEN {
        return Err(ApiError::invalid_fields(vec![callrec_types::rules::FieldError::new(
            "password",
            format!("at least {MIN_PASSWORD_LEN} characters"),
        )]));
    }
    if password.len() > MAX_PASSWORD_LEN {
        return Err(ApiError::invalid_fields(vec![callrec_types::rules::FieldError::new(
            "password",
            format!("at most {MAX_PASSWORD_LEN} bytes"),
        )]));
    }
    Ok(())
}

/// 32 random bytes, URL-safe base64: the bearer token handed to the client once.
pub fn new_token() -> String {
    let mut b = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// What the database keeps of a token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Constant-time comparison of two secrets by their hashes.
pub fn secret_eq(a: &str, b: &str) -> bool {
    let (x, y) = (Sha256::digest(a.as_bytes()), Sha256::digest(b.as_bytes()));
    x.iter().zip(y.iter()).fold(0u8, |acc, (p, q)| acc | (p ^ q)) == 0
}

pub fn bearer(parts: &Parts) -> Option<&str> {
    let v = parts.headers.get(axum::http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
        .filter(|t| !t.is_empty() && t.len() <= 512)
}

/// Which calls a user may see (SPEC §1): an agent their own, a supervisor also those of the
/// members of the teams they supervise (`supervised`), an admin all.
pub fn scope_of(user: &User, supervised: Vec<UserId>) -> Scope {
    match user.level {
        Level::Admin => Scope::All,
        Level::Agent => Scope::Users(vec![user.id]),
        Level::Supervisor => {
            let mut users = supervised;
            users.push(user.id);
            users.sort();
            users.dedup();
            Scope::Users(users)
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer(parts).ok_or_else(|| ApiError::unauthorized("log in first: no bearer token"))?;
        let hash = token_hash(token);
        let session = state
            .store
            .session_user(&hash, state.clock.now())
            .await?
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    ErrorCode::SessionExpired,
                    "the session has expired or was ended; log in again",
                )
            })?;
        let scope = scope_of(&session.user, session.supervised);
        Ok(Caller {
            user: session.user,
            scope,
            token_hash: hash,
        })
    }
}

/// A caller at the admin level: the extractor of every admin route. It runs before the path id,
/// query and body extractors (axum runs them in order, the body last), so anyone else gets 403
/// before any of those is parsed: a non-admin's malformed body is refused as not permitted, not
/// answered with a 400 or 422 that describes the admin API.
pub struct Admin(pub Caller);

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let caller = Caller::from_request_parts(parts, state).await?;
        caller.require(Level::Admin)?;
        Ok(Admin(caller))
    }
}

/// `POST /api/v1/session`: checks the password (against a dummy hash when the user does not
/// exist, so timing tells nothing), slowed down by the [`LoginThrottle`](crate::throttle::LoginThrottle), then opens a session
/// of `session_ttl_hours`. Both outcomes are audited.
pub async fn login(state: &AppState, req: LoginRequest) -> Result<LoginResponse, LoginError> {
    let now = state.clock.now();
    if req.username.len() > 128 || req.password.len() > MAX_PASSWORD_LEN {
        return Err(LoginError::Api(ApiError::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::BadCredentials,
            "wrong username or password",
        )));
    }
    if let Err(wait) = state.throttle.check(&req.username, now) {
        return Err(LoginError::Throttled { retry_after_secs: wait });
    }
    let found = state
        .store
        .user_credentials(&req.username)
        .await
        .map_err(ApiError::from)?;
    let (hash, user) = match &found {
        Some((u, h)) => (h.clone(), Some(u.clone())),
        None => (dummy_hash().to_string(), None),
    };
    let password = req.password.clone();
    let ok = tokio::task::spawn_blocking(move || verify_password(&hash, &password))
        .await
        .map_err(ApiError::internal)?;
    let Some(user) = user.filter(|_| ok) else {
        state.throttle.failure(&req.username, now);
        state.metrics.logins_failed.fetch_add(1, Ordering::Relaxed);
        crate::audit::audit(
            state,
            None,
            "anonymous",
            "login_failed",
            format!("user {}", truncate(&req.username)),
            String::new(),
        )
        .await;
        return Err(LoginError::Api(ApiError::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::BadCredentials,
            "wrong username or password",
        )));
    };
    state.throttle.success(&req.username);
    let token = new_token();
    let expires_at = now + Duration::hours(i64::from(state.config.session_ttl_hours));
    state
        .store
        .create_session(&token_hash(&token), user.id, now, expires_at)
        .await
        .map_err(ApiError::from)?;
    let caller = Caller {
        user: user.clone(),
        scope: callrec_store::Scope::Users(vec![]),
        token_hash: String::new(),
    };
    crate::audit::audit(
        state,
        Some(&caller),
        "",
        "login",
        format!("user {}", user.id),
        String::new(),
    )
    .await;
    Ok(LoginResponse {
        token,
        user,
        expires_at,
    })
}

/// A username as the audit log keeps it: no control characters, at most 64 characters.
fn truncate(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).take(64).collect()
}

/// Why [`login`] refused.
#[derive(Debug)]
pub enum LoginError {
    /// Too many failed logins for this username: 429 with `Retry-After`.
    Throttled {
        retry_after_secs: i64,
    },
    Api(ApiError),
}

impl From<ApiError> for LoginError {
    fn from(e: ApiError) -> Self {
        LoginError::Api(e)
    }
}

impl IntoResponse for LoginError {
    fn into_response(self) -> Response {
        match self {
            LoginError::Throttled { retry_after_secs } => {
                let mut r = ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    ErrorCode::TooManyAttempts,
                    format!("too many failed logins; try again in {retry_after_secs} s"),
                )
                .into_response();
                r.headers_mut()
                    .insert("retry-after", HeaderValue::from(retry_after_secs));
                r
            }
            LoginError::Api(e) => e.into_response(),
        }
    }
}

/// Creates user `admin` when the database has no users: with the configured password, or a
/// random one printed once to standard error.
pub async fn bootstrap_admin(state: &AppState) -> anyhow::Result<()> {
    if state.store.count_users().await? > 0 {
        return Ok(());
    }
    let (password, generated) = match &state.config.bootstrap_admin_password {
        Some(p) => (p.expose().to_string(), false),
        None => (new_token()[..20].to_string(), true),
    };
    let hash = hash_password_blocking(password.clone())
        .await
        .map_err(|e| anyhow::anyhow!(e.body.message))?;
    state
        .store
        .create_user(&NewUserRecord {
            username: "admin".into(),
            display_name: "Administrator".into(),
            password_hash: hash,
            level: Level::Admin,
            extensions: vec![],
        })
        .await?;
    if generated {
        // Printed once, on purpose: there is no other way to learn it. Not through tracing, so
        // it does not land in log files.
        eprintln!("callrec: created user \"admin\" with password {password}  (set CALLREC_BOOTSTRAP_ADMIN_PASSWORD to choose it)");
    } else {
        tracing::info!("created user \"admin\" with the password from CALLREC_BOOTSTRAP_ADMIN_PASSWORD");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_with_the_right_password() {
        let h = hash_password("correct horse").expect("hash");
        assert!(h.starts_with("$argon2id$"), "argon2id hash expected, got {h}");
        assert!(verify_password(&h, "correct horse"));
        assert!(!verify_password(&h, "wrong horse"));
        assert!(!verify_password("garbage", "correct horse"));
    }

    #[test]
    fn tokens_are_random_and_stored_hashed() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert!(a.len() >= 43);
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), a);
    }
}
