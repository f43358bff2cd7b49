//! Commands: a recording's transcript (issue #16.5).

use crate::error::AppError;
use crate::state::AppState;
use crate::transcripts::{self, TranscriptView};
use callrec_types::RecordingId;
use tauri::State;

#[tauri::command]
pub async fn recording_transcript(
    state: State<'_, AppState>,
    recording_id: RecordingId,
) -> Result<Option<TranscriptView>, AppError> {
    transcripts::recording_transcript(&state, recording_id).await
}
