//! Typed ids. Every id is a positive 64-bit integer on the wire (`42`), never a path or a
//! string chosen by a client; parsing from a URL segment rejects anything else.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use ts_rs::TS;

/// The error for an id segment that is not a positive decimal integer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a valid id: expected a positive integer")]
pub struct BadId;

macro_rules! id_type {
    ($($name:ident),*) => {$(
        /// A positive integer id.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }

        impl FromStr for $name {
            type Err = BadId;
            fn from_str(s: &str) -> Result<Self, BadId> {
                if s.is_empty() || s.len() > 19 || !s.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(BadId);
                }
                match s.parse::<i64>() {
                    Ok(v) if v > 0 => Ok($name(v)),
                    _ => Err(BadId),
                }
            }
        }
    )*};
}

id_type!(
    UserId,
    TeamId,
    RoleId,
    PhoneId,
    RuleId,
    CallId,
    RecordingId,
    DispatchId,
    AuditId,
    AlarmId,
    // Quality review (issue #15).
    CommentId,
    ShareId,
    ScorecardId,
    ReviewId,
    // Transcription workers (issue #16).
    WorkerTokenId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_only_positive_decimal_integers() {
        assert_eq!("42".parse::<CallId>(), Ok(CallId(42)));
        for bad in [
            "",
            "0",
            "-1",
            "../etc",
            "1/2",
            "1e3",
            " 1",
            "99999999999999999999",
            "%2e%2e",
        ] {
            assert_eq!(bad.parse::<CallId>(), Err(BadId), "{bad:?} must be refused");
        }
    }
}
