//! Whether the signed-in user is being recorded right now (issue #15.6): the one rule behind
//! the desktop notification, the window title and the tray icon. It is decided from the live
//! calls the app already follows (`live.rs`): a call of mine (a participant is me) whose
//! recording runs is "recording", one whose recording is paused is "paused"; any other call,
//! or a call of someone else a supervisor sees, does not count.
//!
//! [`Watch`] keeps the last state and says what changed, so a notification is shown once per
//! change: started, paused, resumed, stopped. Signing in or out (or another user signing in)
//! is no change to announce: the title and the tray simply show the state found.

use callrec_types::calls::{CallDetail, LiveRecording};
use callrec_types::UserId;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The app's name, the window title when nothing is recorded.
pub const APP_NAME: &str = "callrec";

/// Whether a call of the signed-in user is being recorded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum OnAir {
    #[default]
    NotRecording,
    Recording,
    /// Recorded, but the recording is paused just now.
    Paused,
}

/// A change worth a notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum OnAirChange {
    Started,
    Paused,
    Resumed,
    Stopped,
}

impl OnAir {
    /// The state for user `me` among the live `calls`: recording wins over paused (one call
    /// of mine recorded is enough), paused over not recording.
    pub fn of(me: UserId, calls: &[CallDetail]) -> OnAir {
        calls
            .iter()
            .filter(|d| d.call.participants.iter().any(|p| p.user_id == Some(me)))
            .map(|d| match &d.recording {
                LiveRecording::NotRecording => OnAir::NotRecording,
                r if r.paused().is_some() => OnAir::Paused,
                _ => OnAir::Recording,
            })
            .max_by_key(|s| match s {
                OnAir::NotRecording => 0,
                OnAir::Paused => 1,
                OnAir::Recording => 2,
            })
            .unwrap_or_default()
    }

    /// The window title: the state first, so it shows in a task bar too.
    pub fn title(self) -> String {
        match self {
            OnAir::NotRecording => APP_NAME.to_string(),
            OnAir::Recording => format!("● Recording — {APP_NAME}"),
            OnAir::Paused => format!("Ⅱ Recording paused — {APP_NAME}"),
        }
    }

    /// What the tray says (its tooltip and the first line of its menu).
    pub fn label(self) -> &'static str {
        match self {
            OnAir::NotRecording => "Your call is not being recorded",
            OnAir::Recording => "Your call is being recorded",
            OnAir::Paused => "The recording of your call is paused",
        }
    }
}

impl OnAirChange {
    /// The change from `before` to `after`, if there is one to announce.
    pub fn between(before: OnAir, after: OnAir) -> Option<OnAirChange> {
        match (before, after) {
            (OnAir::NotRecording, OnAir::Recording) => Some(OnAirChange::Started),
            (OnAir::Recording, OnAir::Paused) | (OnAir::NotRecording, OnAir::Paused) => Some(OnAirChange::Paused),
            (OnAir::Paused, OnAir::Recording) => Some(OnAirChange::Resumed),
            (OnAir::Recording | OnAir::Paused, OnAir::NotRecording) => Some(OnAirChange::Stopped),
            _ => None,
        }
    }

    /// The notification: a title and a sentence.
    pub fn message(self) -> (&'static str, &'static str) {
        match self {
            OnAirChange::Started => ("Recording started", "Your call is now being recorded."),
            OnAirChange::Paused => ("Recording paused", "The recording of your call is paused."),
            OnAirChange::Resumed => ("Recording resumed", "Your call is being recorded again."),
            OnAirChange::Stopped => ("Recording stopped", "Your call is no longer being recorded."),
        }
    }
}

/// The last state seen for the signed-in user.
#[derive(Debug, Default)]
pub struct Watch {
    me: Option<UserId>,
    state: OnAir,
}

impl Watch {
    /// The state after the live list `calls` of user `me` (`None`: nobody signed in), with
    /// the change to announce. `None` overall when nothing changed.
    pub fn update(&mut self, me: Option<UserId>, calls: &[CallDetail]) -> Option<(OnAir, Option<OnAirChange>)> {
        let state = me.map_or(OnAir::NotRecording, |me| OnAir::of(me, calls));
        let same_user = me.is_some() && me == self.me;
        let before = std::mem::replace(&mut self.state, state);
        self.me = me;
        if before == state {
            return None;
        }
        Some((
            state,
            if same_user {
                OnAirChange::between(before, state)
            } else {
                None
            },
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use callrec_types::calls::{Call, CallDirection, CallSource, CallState, LivePause, Participant, ParticipantRole};
    use callrec_types::engine::CallOrigin;
    use callrec_types::rules::MonMode;
    use callrec_types::CallId;

    const ALICE: UserId = UserId(1);
    const BOB: UserId = UserId(2);

    fn call(id: i64, user: UserId, recording: LiveRecording) -> CallDetail {
        CallDetail {
            call: Call {
                id: CallId(id),
                call_key: format!("k{id}"),
                sip_call_ids: vec![],
                participants: vec![
                    Participant {
                        name: "Customer".into(),
                        number: "+49301234567".into(),
                        user_id: None,
                        role: ParticipantRole::Caller,
                        user_name: None,
                    },
                    Participant {
                        name: "Agent".into(),
                        number: "201".into(),
                        user_id: Some(user),
                        role: ParticipantRole::Callee,
                        user_name: None,
                    },
                ],
                direction: CallDirection::Incoming,
                origin: CallOrigin::External,
                mon_mode: MonMode::Auto,
                source: CallSource::Siprec,
                started_at: chrono::DateTime::from_timestamp(1_700_000_000, 0).expect("valid time"),
                answered_at: None,
                ended_at: None,
                state: CallState::Active,
                recording_count: 0,
                consent: Default::default(),
            },
            recordings: vec![],
            trace: vec![],
            recording,
            can_toggle: false,
            can_pause: false,
            not_allowed_reason: None,
            consent_required: false,
        }
    }

    fn recording() -> LiveRecording {
        LiveRecording::RecordingAuto { paused: None }
    }

    fn paused() -> LiveRecording {
        LiveRecording::RecordingManual {
            by: "Alice".into(),
            user_id: Some(ALICE),
            paused: Some(LivePause {
                by: "Alice".into(),
                user_id: Some(ALICE),
                since: chrono::DateTime::from_timestamp(1_700_000_100, 0).expect("valid time"),
                auto_resume_at: None,
            }),
        }
    }

    #[test]
    fn only_my_calls_count_and_recording_wins_over_paused() {
        assert_eq!(OnAir::of(ALICE, &[]), OnAir::NotRecording);
        assert_eq!(
            OnAir::of(ALICE, &[call(1, BOB, recording())]),
            OnAir::NotRecording,
            "a call a supervisor sees"
        );
        assert_eq!(
            OnAir::of(ALICE, &[call(1, ALICE, LiveRecording::NotRecording)]),
            OnAir::NotRecording
        );
        assert_eq!(OnAir::of(ALICE, &[call(1, ALICE, paused())]), OnAir::Paused);
        assert_eq!(
            OnAir::of(ALICE, &[call(1, ALICE, paused()), call(2, ALICE, recording())]),
            OnAir::Recording
        );
    }

    #[test]
    fn each_change_is_announced_once() {
        let mut w = Watch::default();
        let me = Some(ALICE);
        assert_eq!(
            w.update(me, &[call(1, ALICE, LiveRecording::NotRecording)]),
            None,
            "signed in, nothing recorded"
        );
        assert_eq!(
            w.update(me, &[call(1, ALICE, recording())]),
            Some((OnAir::Recording, Some(OnAirChange::Started)))
        );
        assert_eq!(
            w.update(me, &[call(1, ALICE, recording())]),
            None,
            "no change, no second notification"
        );
        assert_eq!(
            w.update(me, &[call(1, ALICE, paused())]),
            Some((OnAir::Paused, Some(OnAirChange::Paused)))
        );
        assert_eq!(
            w.update(me, &[call(1, ALICE, recording())]),
            Some((OnAir::Recording, Some(OnAirChange::Resumed)))
        );
        assert_eq!(
            w.update(me, &[]),
            Some((OnAir::NotRecording, Some(OnAirChange::Stopped))),
            "the call ended"
        );
    }

    #[test]
    fn signing_in_or_out_shows_the_state_without_announcing_it() {
        let mut w = Watch::default();
        assert_eq!(
            w.update(Some(ALICE), &[call(1, ALICE, recording())]),
            Some((OnAir::Recording, None)),
            "signed in during a recorded call: the title says so, no 'started'"
        );
        assert_eq!(w.update(None, &[]), Some((OnAir::NotRecording, None)), "signed out");
        assert_eq!(w.update(Some(BOB), &[call(1, ALICE, recording())]), None);
    }

    #[test]
    fn the_title_leads_with_the_state() {
        assert_eq!(OnAir::NotRecording.title(), "callrec");
        assert_eq!(OnAir::Recording.title(), "● Recording — callrec");
        assert!(OnAir::Paused.title().contains("paused"));
        assert_eq!(OnAirChange::Stopped.message().0, "Recording stopped");
    }
}
