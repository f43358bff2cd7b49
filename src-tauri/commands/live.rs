//! Commands: the live calls, the red record toggle and the caller's consent.

use crate::calls;
use crate::error::AppError;
use crate::state::AppState;
use callrec_types::calls::CallDetail;
use callrec_types::calls::ConsentState;
use callrec_types::wire::{ConsentResponse, RecordingAction, RecordingActionResponse};
use callrec_types::CallId;
use tauri::State;

#[tauri::command]
pub fn live_calls(state: State<'_, AppState>) -> Result<Vec<CallDetail>, AppError> {
    calls::live_calls(&state)
}

#[tauri::command]
pub async fn set_recording(
    state: State<'_, AppState>,
    call_id: CallId,
    action: RecordingAction,
) -> Result<RecordingActionResponse, AppError> {
    calls::set_recording(&state, call_id, action).await
}

#[tauri::command]
pub async fn set_consent(
    state: State<'_, AppState>,
    call_id: CallId,
    consent: ConsentState,
) -> Result<ConsentResponse, AppError> {
    calls::set_consent(&state, call_id, consent).await
}
