//! Commands: the evidence check of a played recording, and who listened to my calls.

use crate::error::AppError;
use crate::state::AppState;
use crate::{evidence, listens};
use callrec_types::evidence::{EvidenceCheck, ListensPage};
use callrec_types::RecordingId;
use tauri::State;

#[tauri::command]
pub async fn check_recording_evidence(
    state: State<'_, AppState>,
    recording_id: RecordingId,
    sha256: String,
) -> Result<EvidenceCheck, AppError> {
    evidence::check_recording_evidence(&state, recording_id, &sha256).await
}

#[tauri::command]
pub async fn list_listens(state: State<'_, AppState>, cursor: Option<String>) -> Result<ListensPage, AppError> {
    listens::list_listens(&state, cursor).await
}
