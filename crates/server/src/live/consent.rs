//! The caller's consent during a live call (issue #11.2): a new consent (from a re-INVITE's
//! `X-Callrec-Consent` or `PUT /api/v1/calls/{id}/consent`) is stored with the call, told in
//! its trace, and acted on as the rule engine says ([`Decision::consent_step`]): `granted`
//! starts an automatic recording that waited for it, `refused` stops a recording it governs
//! — and then, by the `consent_refused` setting, what was recorded of the call is deleted
//! (default) or kept, audited either way.
//!
//! [`Decision::consent_step`]: callrec_types::engine::Decision::consent_step

use super::{publish_call, start_automatic, stop_segment, LiveCall, ToggleError};
use crate::calls;
use crate::error::ApiError;
use crate::state::AppState;
use callrec_types::calls::{CallConsent, LiveRecording, Recording, RecordingState, Trigger};
use callrec_types::engine::{consent_line, ConsentStep, TraceKind, TraceLine};
use callrec_types::wire::ConsentRefused;
use callrec_types::{CallId, RecordingId};

/// Sets the consent of live call `id` and acts on it; answers the recording state after.
pub async fn set_consent(
    state: &AppState,
    id: CallId,
    consent: CallConsent,
) -> Result<(LiveRecording, Option<RecordingId>), ToggleError> {
    let lc = state.live.get(id).ok_or(ToggleError::NotLive)?;
    let mut lc = lc.lock().await;
    lc.call.consent = consent.clone();
    lc.trace.push(consent_line(&consent));
    // Before the answer the consent is only noted: the answer applies it.
    let step = if lc.call.answered_at.is_some() {
        let running = lc
            .active
            .as_ref()
            .map(|a| matches!(a.recording.trigger, Trigger::Manual { .. }));
        let (step, why) = lc.decision.consent_step(&consent, running);
        lc.trace.extend(why);
        step
    } else {
        ConsentStep::Nothing
    };
    match step {
        ConsentStep::Start => start_automatic(state, &mut lc, state.clock.now()).await?,
        ConsentStep::Stop => withdraw(state, &mut lc).await?,
        ConsentStep::Nothing => {}
    }
    state
        .store
        .update_call(&lc.call, &lc.trace)
        .await
        .map_err(ApiError::from)?;
    publish_call(state, &lc).await;
    let rid = lc.active.as_ref().map(|a| a.recording.id);
    Ok((lc.recording_state(), rid))
}

/// The caller refused: the running recording stops, and with `consent_refused = delete`
/// every recording of the call that consent governs (manual ones, and the automatic ones of a
/// rule that waits for consent) is deleted — none of it is dispatched.
async fn withdraw(state: &AppState, lc: &mut LiveCall) -> Result<(), ToggleError> {
    let policy = crate::settings::load(state)
        .await
        .map(|s| s.consent_refused)
        .unwrap_or_else(|e| {
            tracing::error!(error = %e, "cannot read the settings; a refused call's recording is deleted");
            ConsentRefused::Delete
        });
    let delete = policy == ConsentRefused::Delete;
    if let Some(active) = lc.active.as_mut() {
        if delete {
            // Nothing of a recording about to be deleted goes anywhere.
            active.dispatch.clear();
        }
    }
    let stopped = lc.active.as_ref().map(|a| a.recording.id);
    stop_segment(state, lc).await?;
    let now = state.clock.now();
    let target = format!("call {}", lc.call.id);
    if !delete {
        lc.trace.push(note(
            "what was recorded before the refusal is kept (setting consent_refused = keep)".into(),
            now,
        ));
        calls::audit(
            state,
            None,
            "system",
            "consent_refused_keep",
            target,
            format!(
                "the caller refused consent; recording {} stopped and kept (consent_refused = keep)",
                stopped.map_or_else(|| "none".to_string(), |r| r.to_string())
            ),
        )
        .await;
        return Ok(());
    }
    let governed: Vec<Recording> = state
        .store
        .list_recordings(lc.call.id)
        .await
        .map_err(ApiError::from)?
        .into_iter()
        .filter(|r| r.state == RecordingState::Complete && governed_by_consent(lc, r))
        .collect();
    let (mut deleted, mut held) = (Vec::new(), Vec::new());
    for r in &governed {
        match crate::retention::delete_refused(state, r.id).await {
            Ok(()) => deleted.push(r.id.to_string()),
            Err(crate::error::DeleteError::LegalHold) => held.push(r.id.to_string()),
            Err(e) => {
                tracing::error!(error = %e, recording = %r.id, "cannot delete a recording whose caller refused consent");
                held.push(r.id.to_string());
            }
        }
    }
    lc.call.recording_count -= deleted.len() as i64;
    let mut text = format!(
        "what was recorded before the refusal is deleted (setting consent_refused = delete): {} recording(s)",
        deleted.len()
    );
    if !held.is_empty() {
        text.push_str(&format!(
            "; kept because they could not go (legal hold or an error): {}",
            held.join(", ")
        ));
    }
    lc.trace.push(note(text.clone(), now));
    calls::audit(state, None, "system", "consent_refused_delete", target, text).await;
    Ok(())
}

/// Whether consent decides over recording `r` of the call: a manual one, or an automatic one
/// of a rule that waits for consent — never a forced one.
fn governed_by_consent(lc: &LiveCall, r: &Recording) -> bool {
    match r.trigger {
        Trigger::Manual { .. } => true,
        Trigger::Auto { .. } => lc.decision.consent_required,
        Trigger::Force => false,
    }
}

fn note(message: String, at: chrono::DateTime<chrono::Utc>) -> TraceLine {
    TraceLine {
        kind: TraceKind::Decision,
        rule_id: None,
        user_id: None,
        message,
        at: Some(at),
    }
}
