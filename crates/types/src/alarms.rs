//! Missing-recording alarms (issue #11.3): a call the rules (or `force`) said to record that
//! ended with no audio, one side silent throughout, or a recording far shorter than the span it
//! should cover. The judgement is [`missing_recording`], a pure function of what was expected
//! and what the segments hold; the server raises, stores and announces the [`Alarm`].

use crate::ids::{AlarmId, CallId, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// What is wrong with the call's recording.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum AlarmKind {
    /// No recording was made at all.
    NoRecording,
    /// Recordings exist but no audio (no RTP) arrived from either side.
    NoAudio,
    /// One side sent no audio for the whole call.
    OneSideSilent,
    /// The recordings cover far less than the call (a segment cut by a crash, a lost stream).
    TooShort,
}

impl AlarmKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AlarmKind::NoRecording => "no_recording",
            AlarmKind::NoAudio => "no_audio",
            AlarmKind::OneSideSilent => "one_side_silent",
            AlarmKind::TooShort => "too_short",
        }
    }
    pub fn parse(s: &str) -> Option<AlarmKind> {
        [
            AlarmKind::NoRecording,
            AlarmKind::NoAudio,
            AlarmKind::OneSideSilent,
            AlarmKind::TooShort,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// One alarm: at most one per call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Alarm {
    pub id: AlarmId,
    pub call_id: CallId,
    pub kind: AlarmKind,
    /// In plain words: "no audio was received (no RTP) during the 10 s the call was recorded".
    pub message: String,
    /// Milliseconds the recording should cover (answer to hang-up).
    pub expected_ms: i64,
    /// Milliseconds the recordings cover.
    pub recorded_ms: i64,
    pub raised_at: DateTime<Utc>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub acknowledged_by: Option<UserId>,
}

/// `GET /api/v1/alarms?unacknowledged=true&limit=N`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct AlarmQuery {
    #[serde(default)]
    pub unacknowledged: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
}

/// What one recording segment of the call holds, as far as the recorder knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentAudio {
    pub duration_ms: i64,
    /// Milliseconds of audio received per side (caller, callee); `None` when unknown (a call
    /// announced without audio, a segment repaired after a crash).
    pub heard_ms: Option<[i64; 2]>,
}

/// A recording covering less than this share of the call is "far shorter" …
pub const MIN_SHARE: f64 = 0.5;
/// … when at least this much is missing (a short call's set-up time is not an alarm).
pub const MIN_MISSING_MS: i64 = 3_000;

/// The alarm a call deserves, if any: `expected_ms` is the span the recording should cover
/// (answer to hang-up of a call recorded automatically), `segments` what was recorded.
pub fn missing_recording(expected_ms: i64, segments: &[SegmentAudio]) -> Option<(AlarmKind, String)> {
    let expected_ms = expected_ms.max(0);
    let recorded_ms: i64 = segments.iter().map(|s| s.duration_ms.max(0)).sum();
    let secs = |ms: i64| format!("{:.0} s", ms as f64 / 1000.0);
    if segments.is_empty() {
        return (expected_ms > 0).then(|| {
            (
                AlarmKind::NoRecording,
                format!(
                    "the call should have been recorded for {} and no recording was made",
                    secs(expected_ms)
                ),
            )
        });
    }
    let known: Vec<[i64; 2]> = segments.iter().filter_map(|s| s.heard_ms).collect();
    // Only when every segment says what it heard: an unknown one may hold the audio.
    if known.len() == segments.len() && recorded_ms > 0 {
        let heard = known.iter().fold([0i64; 2], |acc, h| [acc[0] + h[0], acc[1] + h[1]]);
        match heard {
            [0, 0] => {
                return Some((
                    AlarmKind::NoAudio,
                    format!(
                        "no audio was received (no RTP) during the {} the call was recorded",
                        secs(recorded_ms)
                    ),
                ))
            }
            [0, _] | [_, 0] => {
                let side = if heard[0] == 0 { "caller" } else { "callee" };
                return Some((
                    AlarmKind::OneSideSilent,
                    format!(
                        "the {side} sent no audio during the {} the call was recorded",
                        secs(recorded_ms)
                    ),
                ));
            }
            _ => {}
        }
    }
    let missing = expected_ms - recorded_ms;
    if missing >= MIN_MISSING_MS && (recorded_ms as f64) < expected_ms as f64 * MIN_SHARE {
        return Some((
            AlarmKind::TooShort,
            format!(
                "the recording covers {} of the {} call",
                secs(recorded_ms),
                secs(expected_ms)
            ),
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(duration_ms: i64, heard: Option<[i64; 2]>) -> SegmentAudio {
        SegmentAudio {
            duration_ms,
            heard_ms: heard,
        }
    }

    #[test]
    fn a_full_recording_with_audio_on_both_sides_is_no_alarm() {
        assert_eq!(missing_recording(10_000, &[seg(9_950, Some([9_900, 9_800]))]), None);
        assert_eq!(
            missing_recording(10_000, &[seg(10_000, None)]),
            None,
            "unknown audio is no alarm"
        );
    }

    #[test]
    fn no_rtp_at_all_is_no_audio() {
        let (kind, message) = missing_recording(10_000, &[seg(10_000, Some([0, 0]))]).expect("an alarm");
        assert_eq!(kind, AlarmKind::NoAudio);
        assert!(message.contains("no RTP"), "{message}");
    }

    #[test]
    fn one_side_silent_throughout_names_the_side() {
        let (kind, message) =
            missing_recording(10_000, &[seg(5_000, Some([4_000, 0])), seg(5_000, Some([4_000, 0]))]).expect("an alarm");
        assert_eq!(kind, AlarmKind::OneSideSilent);
        assert!(message.contains("callee"), "{message}");
        assert_eq!(
            missing_recording(10_000, &[seg(5_000, Some([4_000, 0])), seg(5_000, Some([0, 3_000]))]),
            None,
            "each side was heard at some point"
        );
    }

    #[test]
    fn a_recording_far_shorter_than_the_call_is_too_short_but_set_up_time_is_not() {
        let (kind, message) = missing_recording(60_000, &[seg(12_000, None)]).expect("an alarm");
        assert_eq!(kind, AlarmKind::TooShort);
        assert_eq!(message, "the recording covers 12 s of the 60 s call");
        assert_eq!(
            missing_recording(4_000, &[seg(1_500, None)]),
            None,
            "2.5 s missing is set-up"
        );
        assert_eq!(missing_recording(60_000, &[seg(31_000, None)]), None, "more than half");
    }

    #[test]
    fn nothing_recorded_of_an_answered_call_is_no_recording() {
        assert_eq!(
            missing_recording(10_000, &[]).map(|a| a.0),
            Some(AlarmKind::NoRecording)
        );
        assert_eq!(
            missing_recording(0, &[]),
            None,
            "a call never answered had nothing to record"
        );
    }

    #[test]
    fn kinds_are_their_wire_words() {
        for k in [
            AlarmKind::NoRecording,
            AlarmKind::NoAudio,
            AlarmKind::OneSideSilent,
            AlarmKind::TooShort,
        ] {
            assert_eq!(serde_json::to_value(k).expect("json"), k.as_str());
            assert_eq!(AlarmKind::parse(k.as_str()), Some(k));
        }
    }
}
