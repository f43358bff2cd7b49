//! The live calls as the window asks for them: the current list (kept by the feed in
//! [`crate::live`]), the red toggle (`POST /api/v1/calls/{id}/recording`) and the caller's
//! consent (`PUT /api/v1/calls/{id}/consent`).

use crate::error::AppResult;
use crate::state::AppState;
use callrec_types::calls::CallDetail;
use callrec_types::calls::ConsentState;
use callrec_types::wire::{ConsentResponse, RecordingAction, RecordingActionResponse};
use callrec_types::CallId;

/// `live_calls`: the current list (the window asks once, then follows events).
pub fn live_calls(state: &AppState) -> AppResult<Vec<CallDetail>> {
    state.client()?;
    Ok(state.feed.calls())
}

/// `set_recording`: the red toggle.
pub async fn set_recording(
    state: &AppState,
    call_id: CallId,
    action: RecordingAction,
) -> AppResult<RecordingActionResponse> {
    let client = state.client()?;
    let response = client
        .set_recording(call_id, action)
        .await
        .map_err(|e| state.check(e.into()))?;
    // The push stream brings the change too; fetching it now makes the button answer at once.
    if let Ok(detail) = client.get_call(call_id).await {
        state.feed.upsert(detail);
    }
    Ok(response)
}

/// `set_consent`: the agent records the caller's (verbal) consent.
pub async fn set_consent(state: &AppState, call_id: CallId, consent: ConsentState) -> AppResult<ConsentResponse> {
    let client = state.client()?;
    let response = client
        .set_consent(call_id, consent)
        .await
        .map_err(|e| state.check(e.into()))?;
    if let Ok(detail) = client.get_call(call_id).await {
        state.feed.upsert(detail);
    }
    Ok(response)
}
