//! The audit log: who did what to which call, recording, user or setting, appended through
//! [`audit`] by the routes, the login and the retention job.

use crate::caller::Caller;
use crate::state::AppState;
use callrec_store::NewAudit;

/// Appends to the audit log; a failure to audit is logged, never hidden.
pub async fn audit(
    state: &AppState,
    caller: Option<&Caller>,
    actor: &str,
    action: &str,
    target: String,
    detail: String,
) {
    let entry = NewAudit {
        at: state.clock.now(),
        user_id: caller.map(|c| c.user.id),
        actor: caller
            .map(|c| c.user.username.clone())
            .unwrap_or_else(|| actor.to_string()),
        action: action.to_string(),
        target,
        detail,
    };
    if let Err(e) = state.store.append_audit(&entry).await {
        tracing::error!(error = %e, action, "could not write the audit log");
    }
}
