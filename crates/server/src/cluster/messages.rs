//! What travels between nodes over `NOTIFY` (JSON), and the live state of a call as the
//! `live_calls` row holds it.

use crate::envelope::Envelope;
use callrec_types::calls::{Call, CallConsent, CallDetail, LiveRecording, ManualVia};
use callrec_types::engine::Decision;
use callrec_types::wire::{ErrorBody, Event, RecordingAction};
use callrec_types::{CallId, RecordingId, UserId};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// A toggle's (or a consent's) outcome: the recording state, or the error's HTTP status and
/// body.
pub type ToggleReply = Result<(LiveRecording, Option<RecordingId>), (u16, ErrorBody)>;

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Message {
    /// An event published on node `from`, for the push streams of the others.
    Event {
        from: String,
        event: Box<Event>,
        users: Vec<UserId>,
        decision: Option<Box<Decision>>,
    },
    /// Node `from` (re)connected: the others publish their live calls again.
    Republish {
        from: String,
    },
    /// Toggle recording on a call the receiving node holds; answer to `from`.
    Toggle {
        from: String,
        request: u64,
        call_id: CallId,
        user: UserId,
        action: Option<RecordingAction>,
        via: ManualVia,
    },
    /// Set the caller's consent on a call the receiving node holds; answer to `from`.
    Consent {
        from: String,
        request: u64,
        call_id: CallId,
        consent: CallConsent,
    },
    Reply {
        request: u64,
        result: ToggleReply,
    },
}

impl Message {
    pub fn event(from: &str, env: &Envelope) -> Message {
        Message::Event {
            from: from.to_owned(),
            event: Box::new(env.event.clone()),
            users: env.users.clone(),
            decision: env.decision.as_deref().cloned().map(Box::new),
        }
    }
}

/// The live state of a call in `live_calls`: what its `call` event carried.
#[derive(Debug, Serialize, Deserialize)]
pub struct LiveDoc {
    pub detail: CallDetail,
    pub decision: Decision,
}

impl LiveDoc {
    pub fn parse(
        doc: &str,
    ) -> Option<(
        Call,
        Vec<callrec_types::engine::TraceLine>,
        Arc<Decision>,
        LiveRecording,
    )> {
        let d: LiveDoc = serde_json::from_str(doc)
            .inspect_err(|e| tracing::warn!(error = %e, "unreadable live call row"))
            .ok()?;
        Some((d.detail.call, d.detail.trace, Arc::new(d.decision), d.detail.recording))
    }
}
