//! The store's input records of quality review and training (issue #15): a comment and a share
//! as the server hands them in, with what the server decided (author, times).

use callrec_types::*;
use chrono::{DateTime, Utc};

/// How many bucket counts of one recording's peaks the cache keeps; storing another drops the
/// oldest, so a client asking for every count from 1 to 10,000 cannot fill the database.
pub const PEAKS_KEPT: i64 = 4;

/// A comment to store, checked by the server ([`callrec_types::review::NewComment::validate`]).
#[derive(Debug, Clone)]
pub struct NewCommentRecord {
    pub recording_id: RecordingId,
    pub author_id: UserId,
    /// The author's name now, shown should the author be deleted.
    pub author_name: String,
    pub at_ms: i64,
    pub to_ms: Option<i64>,
    pub text: String,
    pub created_at: DateTime<Utc>,
}

/// A share to store, checked by the server ([`callrec_types::review::NewShare::validate`]).
#[derive(Debug, Clone)]
pub struct NewShareRecord {
    pub recording_id: RecordingId,
    pub call_id: CallId,
    pub user_id: UserId,
    pub granted_by: UserId,
    pub granted_by_name: String,
    pub granted_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}
