//! Commands: where to save a recording, the download, cancelling it; legal hold and delete.

use crate::download::{DownloadFormat, DownloadRequest, DownloadResult};
use crate::error::AppError;
use crate::recordings;
use crate::state::AppState;
use callrec_types::calls::Recording;
use callrec_types::RecordingId;
use tauri::{AppHandle, Runtime, State};

#[tauri::command]
pub async fn choose_download_path<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    file_name: String,
    format: DownloadFormat,
) -> Result<Option<String>, AppError> {
    recordings::choose_download_path(&app, &state, &file_name, format).await
}

#[tauri::command]
pub async fn download_recording(
    state: State<'_, AppState>,
    request: DownloadRequest,
) -> Result<DownloadResult, AppError> {
    recordings::download_recording(&state, request).await
}

#[tauri::command]
pub fn cancel_download(state: State<'_, AppState>, download_id: String) -> bool {
    state.downloads.cancel(&download_id)
}

#[tauri::command]
pub async fn hold_recording(
    state: State<'_, AppState>,
    recording_id: RecordingId,
    legal_hold: bool,
) -> Result<Recording, AppError> {
    recordings::hold_recording(&state, recording_id, legal_hold).await
}

#[tauri::command]
pub async fn delete_recording(state: State<'_, AppState>, recording_id: RecordingId) -> Result<(), AppError> {
    recordings::delete_recording(&state, recording_id).await
}
