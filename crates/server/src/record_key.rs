//! The phone's record and pause keys (SPEC §5, issue #11.1): a Snom action URL names the
//! phone by MAC and the call by SIP Call-ID; the phone's user toggles that call's recording
//! exactly as the client's red toggle does ([`crate::cluster::toggle`] with
//! `ManualVia::Phone`), or pauses and resumes it as the client's Pause button does, with the
//! same permission checks, on whichever node holds the call.
//! Every press is audited as `phone:<mac>`, refusals included.

use crate::live::ToggleError;
use crate::state::AppState;
use axum::http::StatusCode;
use callrec_store::{NewAudit, StoreError};
use callrec_types::calls::{LiveRecording, ManualVia};
use callrec_types::directory::normalize_mac;
use callrec_types::engine::Refusal;
use callrec_types::pause::PauseConflict;
use callrec_types::wire::RecordingAction;
use callrec_types::{CallId, UserId};

/// The longest SIP Call-ID accepted.
pub const MAX_CALL_ID: usize = 256;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("the MAC address must be 12 hex digits (separators : - . allowed)")]
    BadMac,
    #[error("the SIP Call-ID is missing or longer than 256 characters")]
    BadCallId,
    #[error("no phone with this MAC address is registered")]
    UnknownPhone,
    #[error("no call in progress with this SIP Call-ID")]
    NoCall,
    #[error("recording is denied for this call")]
    Denied,
    #[error("{0}")]
    NotPermitted(Refusal),
    #[error("{0}")]
    Conflict(PauseConflict),
    #[error("the server failed: {0}")]
    Internal(String),
}

impl KeyError {
    pub fn status(&self) -> StatusCode {
        match self {
            KeyError::BadMac | KeyError::BadCallId => StatusCode::BAD_REQUEST,
            KeyError::UnknownPhone | KeyError::NoCall => StatusCode::NOT_FOUND,
            KeyError::Denied | KeyError::Conflict(_) => StatusCode::CONFLICT,
            KeyError::NotPermitted(_) => StatusCode::FORBIDDEN,
            KeyError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<StoreError> for KeyError {
    fn from(e: StoreError) -> Self {
        KeyError::Internal(e.to_string())
    }
}

/// Which key was pressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// Starts or stops a manual recording.
    Record,
    /// Pauses or resumes the running recording (PCI).
    Pause,
}

/// What the press did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pressed {
    pub call_id: CallId,
    pub user_id: UserId,
    pub state: LiveRecording,
}

impl Pressed {
    /// The short line a phone can show.
    pub fn text(&self) -> &'static str {
        match &self.state {
            LiveRecording::NotRecording => "Recording stopped",
            s if s.paused().is_some() => "Recording paused",
            _ => "Recording",
        }
    }
}

async fn audit(state: &AppState, mac: &str, user: Option<UserId>, action: &str, target: String, detail: String) {
    let entry = NewAudit {
        at: state.clock.now(),
        user_id: user,
        actor: format!("phone:{mac}"),
        action: action.to_string(),
        target,
        detail,
    };
    if let Err(e) = state.store.append_audit(&entry).await {
        tracing::error!(error = %e, action, "could not write the audit log");
    }
}

/// Handles one press of the record key.
pub async fn press(state: &AppState, raw_mac: &str, sip_call_id: &str) -> Result<Pressed, KeyError> {
    press_key(state, Key::Record, raw_mac, sip_call_id).await
}

/// Handles one press of `key`.
pub async fn press_key(state: &AppState, key: Key, raw_mac: &str, sip_call_id: &str) -> Result<Pressed, KeyError> {
    let mac = normalize_mac(raw_mac).ok_or(KeyError::BadMac)?;
    let sip_call_id = sip_call_id.trim();
    if sip_call_id.is_empty() || sip_call_id.len() > MAX_CALL_ID || sip_call_id.chars().any(char::is_control) {
        return Err(KeyError::BadCallId);
    }
    let phone = state.store.phone_by_mac(&mac).await?.ok_or(KeyError::UnknownPhone)?;
    let user = phone.user_id;
    let Some(call_id) = state.store.call_by_sip_id(sip_call_id).await? else {
        audit(
            state,
            &mac,
            Some(user),
            "record_refused",
            format!("sip call {}", sip_call_id.chars().take(64).collect::<String>()),
            KeyError::NoCall.to_string(),
        )
        .await;
        return Err(KeyError::NoCall);
    };
    // The pause key toggles too: resume when the recording is paused, else pause.
    let action = match key {
        Key::Record => None,
        Key::Pause => Some(
            match crate::cluster::live_snapshot(state, call_id)
                .await
                .and_then(|(_, _, _, rec)| rec.paused().cloned())
            {
                Some(_) => RecordingAction::Resume,
                None => RecordingAction::Pause,
            },
        ),
    };
    match crate::cluster::toggle(state, call_id, user, action, ManualVia::Phone).await {
        Ok((rec, recording_id)) => {
            let (action, detail) = match (action, &rec, recording_id) {
                (Some(a), _, r) => (
                    format!("record_{}", a.as_str()),
                    format!("via phone, recording {}", r.map(|r| r.to_string()).unwrap_or_default()),
                ),
                (None, LiveRecording::NotRecording, _) => ("record_stop".into(), "via phone".to_string()),
                (None, LiveRecording::RecordingManual { by, .. }, Some(r)) => {
                    ("record_start".into(), format!("via phone, recording {r} by {by}"))
                }
                (None, _, _) => ("record_start".into(), "via phone".to_string()),
            };
            let action = action.as_str();
            audit(state, &mac, Some(user), action, format!("call {call_id}"), detail).await;
            Ok(Pressed {
                call_id,
                user_id: user,
                state: rec,
            })
        }
        Err(e) => {
            let err = match e {
                ToggleError::NotLive => KeyError::NoCall,
                ToggleError::Refused(Refusal::Denied) => KeyError::Denied,
                ToggleError::Refused(r) => KeyError::NotPermitted(r),
                ToggleError::Pause(c) => KeyError::Conflict(c),
                ToggleError::Api(a) => KeyError::Internal(a.body.message),
            };
            audit(
                state,
                &mac,
                Some(user),
                if key == Key::Pause {
                    "pause_refused"
                } else {
                    "record_refused"
                },
                format!("call {call_id}"),
                err.to_string(),
            )
            .await;
            Err(err)
        }
    }
}

/// How a refusal reads in the phone's text answer.
pub fn refusal_text(e: &KeyError) -> String {
    match e {
        KeyError::Internal(_) => "Server error".to_string(),
        other => other.to_string(),
    }
}
