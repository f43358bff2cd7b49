//! Quality review and training in the window (issue #15): a recording's waveform peaks, its
//! timestamped comments, its shares with a trainee, and "Shared with me". Each function takes
//! the logged-in client from the state and lets an expired session send the window back to the
//! login form; the rules (who may comment, share, see) are the server's.

use crate::error::AppResult;
use crate::state::AppState;
use callrec_types::review::{
    Comment, NewComment, NewShare, Peaks, Share, ShareRecipient, SharedItem, MAX_PEAK_BUCKETS, MIN_PEAK_BUCKETS,
};
use callrec_types::{CommentId, RecordingId, ShareId};

/// `recording_peaks`: min/max per bucket per channel; `buckets` (the waveform's width in
/// pixels) is kept within what the server answers.
pub async fn recording_peaks(state: &AppState, recording_id: RecordingId, buckets: u32) -> AppResult<Peaks> {
    let client = state.client()?;
    let buckets = buckets.clamp(MIN_PEAK_BUCKETS, MAX_PEAK_BUCKETS);
    client
        .recording_peaks(recording_id, Some(buckets))
        .await
        .map_err(|e| state.check(e.into()))
}

/// `list_comments`: the recording's comments, by position.
pub async fn list_comments(state: &AppState, recording_id: RecordingId) -> AppResult<Vec<Comment>> {
    let client = state.client()?;
    client
        .list_comments(recording_id)
        .await
        .map_err(|e| state.check(e.into()))
}

/// `create_comment`: a comment at a position or on a span (`422` names the field).
pub async fn create_comment(state: &AppState, recording_id: RecordingId, comment: NewComment) -> AppResult<Comment> {
    let client = state.client()?;
    client
        .create_comment(recording_id, &comment)
        .await
        .map_err(|e| state.check(e.into()))
}

/// `update_comment`: replaces the comment's content (its author only).
pub async fn update_comment(state: &AppState, comment_id: CommentId, comment: NewComment) -> AppResult<Comment> {
    let client = state.client()?;
    client
        .update_comment(comment_id, &comment)
        .await
        .map_err(|e| state.check(e.into()))
}

/// `delete_comment`: its author, or an admin.
pub async fn delete_comment(state: &AppState, comment_id: CommentId) -> AppResult<()> {
    let client = state.client()?;
    client
        .delete_comment(comment_id)
        .await
        .map_err(|e| state.check(e.into()))
}

/// `share_recipients`: whom the share dialog offers (supervisor, admin).
pub async fn share_recipients(state: &AppState) -> AppResult<Vec<ShareRecipient>> {
    let client = state.client()?;
    client.share_recipients().await.map_err(|e| state.check(e.into()))
}

/// `create_share`: grants the recording to a user until `expires_at` (supervisor, admin).
pub async fn create_share(state: &AppState, recording_id: RecordingId, share: NewShare) -> AppResult<Share> {
    let client = state.client()?;
    client
        .create_share(recording_id, &share)
        .await
        .map_err(|e| state.check(e.into()))
}

/// `list_shares`: every share of the recording (live, expired, revoked), newest first.
pub async fn list_shares(state: &AppState, recording_id: RecordingId) -> AppResult<Vec<Share>> {
    let client = state.client()?;
    client
        .list_shares(recording_id)
        .await
        .map_err(|e| state.check(e.into()))
}

/// `revoke_share`: the share as revoked.
pub async fn revoke_share(state: &AppState, share_id: ShareId) -> AppResult<Share> {
    let client = state.client()?;
    client.revoke_share(share_id).await.map_err(|e| state.check(e.into()))
}

/// `list_shared`: "Shared with me", the live shares of the signed-in user.
pub async fn list_shared(state: &AppState) -> AppResult<Vec<SharedItem>> {
    let client = state.client()?;
    client.list_shared().await.map_err(|e| state.check(e.into()))
}
