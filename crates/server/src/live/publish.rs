//! How a live call is announced: its `call` event, built from the live state, to the users
//! who take part (and, with several nodes, to the others with its decision).

use super::registry::LiveCall;
use crate::calls;
use crate::state::AppState;
use callrec_types::calls::CallDetail;
use callrec_types::wire::Event;

pub(super) async fn publish_call(state: &AppState, lc: &LiveCall) {
    let detail = CallDetail {
        call: lc.call.clone(),
        recordings: Vec::new(),
        trace: lc.trace.clone(),
        recording: lc.recording_state(),
        can_toggle: false,
        can_pause: false,
        not_allowed_reason: None,
        consent_required: lc.decision.consent_required,
    };
    state
        .publish(
            Event::Call(detail),
            calls::internal_users(&lc.call),
            Some(lc.decision.clone()),
        )
        .await;
}
