//! `AppError`: every failure that reaches the window crosses as `{code, message}` — a message a
//! person can act on, never a stack trace — and a `code` only where the UI branches on it
//! (back to the login form, the "server unreachable" banner, the audio-device notice, a
//! cancelled download). A form the server refused carries the refused `fields` as well, so the
//! window shows each message at its field.

use callrec_client::ClientError;
use callrec_types::rules::FieldError;
use callrec_types::wire::ErrorCode as ServerCode;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// What the UI does differently per error; everything else is `failed` with a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The server cannot be reached (refused, timed out, name not found): show the banner.
    Unreachable,
    /// The session ended or expired: back to the login form.
    SessionExpired,
    /// Wrong username or password: keep the login form, mark the password.
    BadCredentials,
    /// The server refused the action for this user (rules, visibility).
    NotPermitted,
    /// Input the app refuses before asking anyone (a malformed server address), or a form the
    /// server refused (422, with `fields`).
    Invalid,
    /// There is no audio output to play through.
    NoAudioDevice,
    /// The user cancelled (a download).
    Cancelled,
    /// Anything else; the message says what.
    Failed,
}

/// The error every command returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error, TS)]
#[error("{message}")]
pub struct AppError {
    pub code: ErrorCode,
    pub message: String,
    /// The fields the server refused (code `invalid`), each with its message.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldError>,
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> AppError {
        AppError {
            code,
            message: message.into(),
            fields: Vec::new(),
        }
    }

    pub fn failed(message: impl Into<String>) -> AppError {
        AppError::new(ErrorCode::Failed, message)
    }

    pub fn not_logged_in() -> AppError {
        AppError::new(ErrorCode::SessionExpired, "Please sign in.")
    }

    /// Whether this error means the session is gone (so the UI and the token store forget it).
    pub fn is_session_expired(&self) -> bool {
        self.code == ErrorCode::SessionExpired
    }
}

/// Upper-cases the first letter of a server message so it reads as a sentence.
fn sentence(message: &str) -> String {
    let mut chars = message.trim().chars();
    match chars.next() {
        Some(first) => {
            let mut s: String = first.to_uppercase().collect();
            s.push_str(chars.as_str());
            if !s.ends_with(['.', '!', '?']) {
                s.push('.');
            }
            s
        }
        None => String::new(),
    }
}

impl From<ClientError> for AppError {
    fn from(e: ClientError) -> AppError {
        tracing::debug!(error = %e, "server request failed");
        match &e {
            ClientError::Transport(t) if t.is_timeout() => AppError::new(
                ErrorCode::Unreachable,
                "The server did not answer in time. Check that it is running and not overloaded, then try again.",
            ),
            ClientError::Transport(t) if t.is_connect() || t.is_request() => AppError::new(
                ErrorCode::Unreachable,
                "Cannot reach the server. Check that it is running and that the address is right.",
            ),
            ClientError::Transport(_) => AppError::new(
                ErrorCode::Unreachable,
                "The connection to the server was interrupted. Try again.",
            ),
            ClientError::Api {
                status,
                code,
                message,
                body,
            } => match (*status, *code) {
                (422, _) => AppError {
                    code: ErrorCode::Invalid,
                    message: sentence(message),
                    fields: body.fields.clone().unwrap_or_default(),
                },
                (401, ServerCode::BadCredentials) => {
                    AppError::new(ErrorCode::BadCredentials, "Wrong username or password.")
                }
                (401, _) => AppError::new(
                    ErrorCode::SessionExpired,
                    "Your session has expired or was ended. Please sign in again.",
                ),
                (403, _) | (409, ServerCode::RecordingDenied) => {
                    AppError::new(ErrorCode::NotPermitted, sentence(message))
                }
                (404, _) => AppError::failed("This item no longer exists or you may not see it."),
                (429, _) => AppError::failed(sentence(message)),
                (status, _) if status >= 500 => AppError::failed(format!(
                    "The server had a problem (HTTP {status}). Try again in a moment."
                )),
                _ => AppError::failed(sentence(message)),
            },
            ClientError::Decode { .. } => AppError::failed(
                "The server sent an answer this app does not understand. Is the address a callrec server?",
            ),
            ClientError::InvalidUrl { .. } => AppError::new(
                ErrorCode::Invalid,
                "That is not a server address. Use the form http://host:port.",
            ),
            ClientError::Io { context, source } => {
                AppError::failed(format!("{}: {source}.", sentence(context).trim_end_matches('.')))
            }
            ClientError::Sse(callrec_client::sse::SseError::Silent(secs)) => AppError::new(
                ErrorCode::Unreachable,
                format!("The server stopped answering (nothing for {secs} seconds)."),
            ),
            ClientError::Encode(_) | ClientError::Sse(_) => {
                AppError::failed(format!("Talking to the server failed: {e}."))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_refusals_become_codes_the_ui_branches_on() {
        let e = |status, body: &str| AppError::from(ClientError::from_body(status, body.as_bytes()));
        assert_eq!(
            e(
                401,
                r#"{"code":"bad_credentials","message":"wrong username or password"}"#
            )
            .code,
            ErrorCode::BadCredentials
        );
        assert_eq!(
            e(401, r#"{"code":"session_expired","message":"log in again"}"#).code,
            ErrorCode::SessionExpired
        );
        let refused = e(
            403,
            r#"{"code":"not_permitted","message":"no manual rule lets you record this call"}"#,
        );
        assert_eq!(refused.code, ErrorCode::NotPermitted);
        assert_eq!(
            refused.message, "No manual rule lets you record this call.",
            "the server's reason, as a sentence"
        );
        assert_eq!(
            e(409, r#"{"code":"recording_denied","message":"x"}"#).code,
            ErrorCode::NotPermitted
        );
        let internal = e(
            500,
            r#"{"code":"internal","message":"sqlite: disk I/O error at line 3"}"#,
        );
        assert_eq!(internal.code, ErrorCode::Failed);
        assert!(
            !internal.message.contains("sqlite"),
            "internals never reach the window: {internal:?}"
        );
    }

    #[test]
    fn errors_cross_as_code_and_message() {
        let json =
            serde_json::to_value(AppError::new(ErrorCode::NoAudioDevice, "No audio output.")).expect("serialises");
        assert_eq!(
            json,
            serde_json::json!({"code": "no_audio_device", "message": "No audio output."})
        );
    }

    #[tokio::test]
    async fn a_closed_port_is_unreachable() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        drop(listener);
        let client = callrec_client::Client::new(&format!("http://{addr}")).expect("valid URL");
        let err = AppError::from(client.me().await.expect_err("nothing listens there"));
        assert_eq!(err.code, ErrorCode::Unreachable, "{err:?}");
    }
}
