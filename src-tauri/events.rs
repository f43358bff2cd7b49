//! What the Rust side tells the window without being asked: the live calls, the state of the
//! push stream, journal changes, an expired session, the player's position and download
//! progress. One Tauri event name carries them all, tagged by `kind`; `ui/src/api/` is the
//! only place that listens.

use crate::download::DownloadProgress;
use crate::local_server::LocalServerStatus;
use crate::on_air::{OnAir, OnAirChange};
use crate::player::PlayerStatus;
use callrec_types::alarms::Alarm;
use callrec_types::calls::{CallDetail, Recording};
use callrec_types::CallId;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use ts_rs::TS;

/// The Tauri event name.
pub const EVENT: &str = "callrec://event";

/// The state of the server's push stream as the window shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum FeedState {
    Connecting,
    Connected,
    /// Lost; the app retries by itself.
    Reconnecting,
    Stopped,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum UiEvent {
    /// The user's live calls changed (the whole list, newest first).
    LiveCalls {
        calls: Vec<CallDetail>,
    },
    Feed {
        state: FeedState,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
    },
    /// A journal row appeared or changed.
    JournalChanged {
        call_id: CallId,
    },
    /// The push stream missed events: journal rows may have changed without a `journal_changed`.
    JournalStale,
    /// Whether a call of the signed-in user is being recorded changed (issue #15.6): the
    /// window's title, the tray and a notification (`change`, absent on sign-in or sign-out).
    OnAir {
        state: OnAir,
        title: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        change: Option<OnAirChange>,
    },
    /// A recording started, stopped or was finished.
    RecordingChanged {
        recording: Recording,
    },
    /// A missing-recording alarm was raised or acknowledged (admins only receive these).
    AlarmChanged {
        alarm: Alarm,
    },
    /// The server in use stopped answering and the app moved to another node of the same
    /// installation, keeping the session.
    ServerChanged {
        from: String,
        to: String,
    },
    /// The session ended: back to the login form.
    SessionExpired {
        message: String,
    },
    Player {
        status: PlayerStatus,
    },
    Download {
        progress: DownloadProgress,
    },
    LocalServer {
        status: LocalServerStatus,
    },
}

/// Sends a [`UiEvent`] to the window (in tests: to a vector).
pub type Notifier = Arc<dyn Fn(UiEvent) + Send + Sync>;

/// A notifier that drops everything.
pub fn silent() -> Notifier {
    Arc::new(|_| {})
}
