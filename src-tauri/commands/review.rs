//! Commands: a recording's waveform peaks, its comments, its shares, and "Shared with me".

use crate::error::AppError;
use crate::review;
use crate::state::AppState;
use callrec_types::review::{Comment, NewComment, NewShare, Peaks, Share, ShareRecipient, SharedItem};
use callrec_types::{CommentId, RecordingId, ShareId};
use tauri::State;

#[tauri::command]
pub async fn recording_peaks(
    state: State<'_, AppState>,
    recording_id: RecordingId,
    buckets: u32,
) -> Result<Peaks, AppError> {
    review::recording_peaks(&state, recording_id, buckets).await
}

#[tauri::command]
pub async fn list_comments(state: State<'_, AppState>, recording_id: RecordingId) -> Result<Vec<Comment>, AppError> {
    review::list_comments(&state, recording_id).await
}

#[tauri::command]
pub async fn create_comment(
    state: State<'_, AppState>,
    recording_id: RecordingId,
    comment: NewComment,
) -> Result<Comment, AppError> {
    review::create_comment(&state, recording_id, comment).await
}

#[tauri::command]
pub async fn update_comment(
    state: State<'_, AppState>,
    comment_id: CommentId,
    comment: NewComment,
) -> Result<Comment, AppError> {
    review::update_comment(&state, comment_id, comment).await
}

#[tauri::command]
pub async fn delete_comment(state: State<'_, AppState>, comment_id: CommentId) -> Result<(), AppError> {
    review::delete_comment(&state, comment_id).await
}

#[tauri::command]
pub async fn share_recipients(state: State<'_, AppState>) -> Result<Vec<ShareRecipient>, AppError> {
    review::share_recipients(&state).await
}

#[tauri::command]
pub async fn create_share(
    state: State<'_, AppState>,
    recording_id: RecordingId,
    share: NewShare,
) -> Result<Share, AppError> {
    review::create_share(&state, recording_id, share).await
}

#[tauri::command]
pub async fn list_shares(state: State<'_, AppState>, recording_id: RecordingId) -> Result<Vec<Share>, AppError> {
    review::list_shares(&state, recording_id).await
}

#[tauri::command]
pub async fn revoke_share(state: State<'_, AppState>, share_id: ShareId) -> Result<Share, AppError> {
    review::revoke_share(&state, share_id).await
}

#[tauri::command]
pub async fn list_shared(state: State<'_, AppState>) -> Result<Vec<SharedItem>, AppError> {
    review::list_shared(&state).await
}
