//! Quality review and training (issue #15): the wire shapes of a recording's waveform peaks,
//! its timestamped comments and its time-limited shares with a trainee, and the checks of what
//! a client sends ([`NewComment::validate`], [`NewShare::validate`]). Pure: the server stores,
//! authorises and audits.
//!
//! A share grants one **recording** (not its whole call): while it is live the trainee sees
//! that recording — metadata, audio, peaks, comments — and its call's facts with only the
//! shared recordings listed; nothing else of the call.

use crate::calls::{Call, Recording};
use crate::directory::Level;
use crate::ids::{CallId, CommentId, RecordingId, ShareId, UserId};
use crate::rules::FieldError;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The fewest and most buckets a peaks request may ask for.
pub const MIN_PEAK_BUCKETS: u32 = 1;
pub const MAX_PEAK_BUCKETS: u32 = 10_000;
/// Buckets when the request names none.
pub const DEFAULT_PEAK_BUCKETS: u32 = 1_000;

/// The longest comment, in characters.
pub const MAX_COMMENT_CHARS: usize = 2_000;

/// The furthest ahead a share may expire.
pub const MAX_SHARE_DAYS: i64 = 90;

/// One channel's peaks: per bucket the smallest and largest 16-bit linear sample (G.711 is
/// decoded first), `min[i] <= max[i]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ChannelPeaks {
    pub min: Vec<i16>,
    pub max: Vec<i16>,
}

/// `GET /api/v1/recordings/{id}/peaks?buckets=N`: the recording's audio cut into `buckets`
/// equal runs of frames (bucket `i` holds frames `ceil(i·F/N)..ceil((i+1)·F/N)` of `F`), and
/// the min/max of each run per channel. `channels[0]` is the caller, `channels[1]` the callee
/// (the agent, in an incoming call); a mono upload has one. A recording with fewer frames
/// than `N` has one bucket per frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Peaks {
    pub recording_id: RecordingId,
    /// Buckets in each channel's `min` and `max`.
    pub buckets: u32,
    /// Frames (sample instants) in the audio, and their rate: a bucket spans
    /// `frames / buckets / sample_rate` seconds.
    pub frames: u64,
    pub sample_rate: u32,
    pub channels: Vec<ChannelPeaks>,
}

/// A comment pinned on a recording at a position (`to_ms` absent) or on a span.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Comment {
    pub id: CommentId,
    pub recording_id: RecordingId,
    /// Who wrote it (`None` once that user is deleted) and their name: the directory's as it
    /// is now, or as it was when written for a deleted user.
    pub author_id: Option<UserId>,
    pub author_name: String,
    /// Milliseconds from the recording's start.
    pub at_ms: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub to_ms: Option<i64>,
    pub text: String,
    pub created_at: DateTime<Utc>,
    /// When its author last changed it; absent when never.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub edited_at: Option<DateTime<Utc>>,
}

/// The body of `POST /api/v1/recordings/{id}/comments` and of `PATCH /api/v1/comments/{id}`
/// (which sends the comment's content whole).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct NewComment {
    pub at_ms: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub to_ms: Option<i64>,
    pub text: String,
}

impl NewComment {
    /// Checks the comment against a recording of `duration_ms`: the position (and span) inside
    /// it, the text neither blank nor longer than [`MAX_COMMENT_CHARS`], and no control
    /// character but line breaks and tabs.
    pub fn validate(&self, duration_ms: i64) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        if self.at_ms < 0 || self.at_ms > duration_ms {
            errors.push(FieldError::new(
                "at_ms",
                format!("must be within the recording: 0 to {duration_ms}"),
            ));
        }
        if let Some(to) = self.to_ms {
            if to < self.at_ms {
                errors.push(FieldError::new("to_ms", "must not be before at_ms"));
            } else if to > duration_ms {
                errors.push(FieldError::new(
                    "to_ms",
                    format!("must be within the recording: at most {duration_ms}"),
                ));
            }
        }
        if self.text.trim().is_empty() {
            errors.push(FieldError::new("text", "must not be empty"));
        } else if self.text.chars().count() > MAX_COMMENT_CHARS {
            errors.push(FieldError::new(
                "text",
                format!("at most {MAX_COMMENT_CHARS} characters"),
            ));
        } else if self.text.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
            errors.push(FieldError::new(
                "text",
                "must not contain control characters other than line breaks and tabs",
            ));
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

/// A grant of one recording to one user until `expires_at` (issue #15.5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Share {
    pub id: ShareId,
    pub recording_id: RecordingId,
    pub call_id: CallId,
    /// The trainee, and their directory name as it is now.
    pub user_id: UserId,
    pub user_name: String,
    /// Who granted it (`None` once that user is deleted), and their name.
    pub granted_by: Option<UserId>,
    pub granted_by_name: String,
    pub granted_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// Set when revoked; a revoked or expired share grants nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub revoked_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub revoked_by: Option<UserId>,
}

impl Share {
    /// Whether the share grants its recording at `now`: not revoked and not expired.
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.expires_at > now
    }
}

/// The body of `POST /api/v1/recordings/{id}/shares`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct NewShare {
    pub user_id: UserId,
    pub expires_at: DateTime<Utc>,
}

impl NewShare {
    /// Checks the expiry against the server's `now`: in the future, at most
    /// [`MAX_SHARE_DAYS`] ahead.
    pub fn validate(&self, now: DateTime<Utc>) -> Result<(), Vec<FieldError>> {
        if self.expires_at <= now {
            Err(vec![FieldError::new("expires_at", "must be in the future")])
        } else if self.expires_at > now + Duration::days(MAX_SHARE_DAYS) {
            Err(vec![FieldError::new(
                "expires_at",
                format!("at most {MAX_SHARE_DAYS} days ahead"),
            )])
        } else {
            Ok(())
        }
    }
}

/// One entry of `GET /api/v1/share-recipients`: a user a supervisor or an admin may share a
/// recording with — who they are, nothing of their extensions or teams.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ShareRecipient {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    pub level: Level,
}

/// One entry of `GET /api/v1/me/shared` ("Shared with me"): a live share, its recording and
/// the recording's call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct SharedItem {
    pub share: Share,
    pub recording: Recording,
    pub call: Call,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn comment(at_ms: i64, to_ms: Option<i64>, text: &str) -> NewComment {
        NewComment {
            at_ms,
            to_ms,
            text: text.into(),
        }
    }

    fn fields(r: Result<(), Vec<FieldError>>) -> Vec<String> {
        r.err().unwrap_or_default().into_iter().map(|f| f.field).collect()
    }

    #[test]
    fn a_comment_sits_inside_the_recording_with_some_text() {
        assert_eq!(
            comment(0, None, "hello").validate(5_000),
            Ok(()),
            "a point at the start"
        );
        assert_eq!(comment(1_000, Some(5_000), "a span to the end").validate(5_000), Ok(()));
        assert_eq!(
            comment(5_000, Some(5_000), "an empty span at the end").validate(5_000),
            Ok(())
        );
        assert_eq!(
            fields(comment(-1, None, "x").validate(5_000)),
            ["at_ms"],
            "before the start"
        );
        assert_eq!(
            fields(comment(5_001, None, "x").validate(5_000)),
            ["at_ms"],
            "past the end"
        );
        assert_eq!(
            fields(comment(10, Some(9), "x").validate(5_000)),
            ["to_ms"],
            "a span backwards"
        );
        assert_eq!(
            fields(comment(10, Some(5_001), "x").validate(5_000)),
            ["to_ms"],
            "a span past the end"
        );
        assert_eq!(fields(comment(0, None, " \n ").validate(5_000)), ["text"], "blank text");
        let long = "é".repeat(MAX_COMMENT_CHARS + 1);
        assert_eq!(fields(comment(0, None, &long).validate(5_000)), ["text"], "too long");
        let just = "é".repeat(MAX_COMMENT_CHARS);
        assert_eq!(
            comment(0, None, &just).validate(5_000),
            Ok(()),
            "the limit counts characters"
        );
        assert_eq!(
            fields(comment(0, None, "a\0b").validate(5_000)),
            ["text"],
            "NUL refused"
        );
        assert_eq!(comment(0, None, "line 1\nline 2\tend").validate(5_000), Ok(()));
    }

    #[test]
    fn a_share_expires_in_the_future_and_within_ninety_days() {
        let now = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).single().expect("time");
        let share = |d: Duration| NewShare {
            user_id: UserId(1),
            expires_at: now + d,
        };
        assert_eq!(share(Duration::hours(1)).validate(now), Ok(()));
        assert_eq!(
            share(Duration::days(MAX_SHARE_DAYS)).validate(now),
            Ok(()),
            "exactly 90 days"
        );
        assert_eq!(
            fields(share(Duration::zero()).validate(now)),
            ["expires_at"],
            "now is not the future"
        );
        assert_eq!(fields(share(Duration::seconds(-1)).validate(now)), ["expires_at"]);
        assert_eq!(
            fields(share(Duration::days(MAX_SHARE_DAYS) + Duration::seconds(1)).validate(now)),
            ["expires_at"],
            "a second past 90 days"
        );
    }
}
