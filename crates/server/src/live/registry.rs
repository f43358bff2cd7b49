//! The registry of live calls: each call in progress with its rule decision, the segment being
//! recorded and the media writing it. A leaf that the application state holds; what happens to
//! a call (open, answer, toggle, end) is in [`crate::live`].

use super::media::CallMedia;
use crate::label::label;
use callrec_types::calls::{Call, LivePause, LiveRecording, Recording, Trigger};
use callrec_types::engine::{Decision, TraceLine};
use callrec_types::rules::Dispatch;
use callrec_types::{CallId, RuleId, UserId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

pub(super) struct Active {
    pub(super) recording: Recording,
    pub(super) rel_path: String,
    pub(super) by: Option<UserId>,
    pub(super) dispatch: Vec<(Option<RuleId>, Dispatch)>,
    /// The open PCI pause as the live call shows it (the list is `recording.pauses`).
    pub(super) pause: Option<LivePause>,
    /// Counts pauses, so an automatic resume ends only the pause it was set for.
    pub(super) pause_seq: u64,
}

pub struct LiveCall {
    pub call: Call,
    pub trace: Vec<TraceLine>,
    pub decision: Arc<Decision>,
    pub(super) media: Arc<dyn CallMedia>,
    pub(super) active: Option<Active>,
    pub(super) next_seq: i64,
    /// What each closed segment held, for the missing-recording alarm at the end.
    pub(super) heard: Vec<callrec_types::alarms::SegmentAudio>,
}

impl LiveCall {
    pub fn recording_state(&self) -> LiveRecording {
        match &self.active {
            None => LiveRecording::NotRecording,
            Some(a) => match &a.recording.trigger {
                Trigger::Manual { user_id, .. } => LiveRecording::RecordingManual {
                    by: user_id
                        .and_then(|u| self.call.participants.iter().find(|p| p.user_id == Some(u)))
                        .map(label)
                        .unwrap_or_else(|| "the PBX".to_string()),
                    user_id: *user_id,
                    paused: a.pause.clone(),
                },
                _ => LiveRecording::RecordingAuto {
                    paused: a.pause.clone(),
                },
            },
        }
    }
}

#[derive(Default)]
pub struct LiveCalls {
    pub(super) calls: Mutex<HashMap<CallId, Arc<tokio::sync::Mutex<LiveCall>>>>,
}

impl LiveCalls {
    pub(super) fn get(&self, id: CallId) -> Option<Arc<tokio::sync::Mutex<LiveCall>>> {
        self.calls.lock().expect("live lock").get(&id).cloned()
    }

    /// Whether `id` is live on this node (never waits for the call's own lock).
    pub fn contains(&self, id: CallId) -> bool {
        self.calls.lock().expect("live lock").contains_key(&id)
    }

    pub fn ids(&self) -> Vec<CallId> {
        self.calls.lock().expect("live lock").keys().copied().collect()
    }

    pub fn len(&self) -> usize {
        self.calls.lock().expect("live lock").len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The live calls among `ids` with their decision and recording state.
    pub async fn snapshot(&self, id: CallId) -> Option<(Call, Vec<TraceLine>, Arc<Decision>, LiveRecording)> {
        let lc = self.get(id)?;
        let lc = lc.lock().await;
        Some((
            lc.call.clone(),
            lc.trace.clone(),
            lc.decision.clone(),
            lc.recording_state(),
        ))
    }
}
