//! PCI pause and resume of a live call's running recording (issue #11.1): who may (any
//! internal participant — even of an automatic recording they cannot stop — and an admin,
//! [`Decision::may_pause`](callrec_types::engine::Decision::may_pause)), the pause list kept
//! on the recording's row at every change, the media told to fill the span, the trace, the
//! push to clients, and the optional automatic resume (setting `pause_auto_resume_secs`).
//! The route and the phone's key audit the press; an automatic resume is audited here.

use super::publish::publish_call;
use super::registry::{Active, LiveCall};
use crate::calls;
use crate::error::ApiError;
use crate::error::ToggleError;
use crate::state::AppState;
use callrec_types::calls::{LivePause, LiveRecording, ManualVia};
use callrec_types::directory::Level;
use callrec_types::engine::{TraceKind, TraceLine};
use callrec_types::pause::{self, PauseConflict};
use callrec_types::wire::Event;
use callrec_types::{CallId, RecordingId, UserId};
use chrono::{DateTime, Utc};

/// Milliseconds from the recording's start to `at`.
fn offset_ms(active: &Active, at: DateTime<Utc>) -> i64 {
    (at - active.recording.started_at).num_milliseconds().max(0)
}

/// How `user` is named in the pause list (as a participant of the call, else by the
/// directory's name), whether they take part in the call and whether they are an admin.
async fn who(state: &AppState, lc: &LiveCall, user: UserId) -> Result<(String, bool, bool), ApiError> {
    if let Some(p) = lc.call.participants.iter().find(|p| p.user_id == Some(user)) {
        return Ok((calls::label(p), true, false));
    }
    let u = state.store.get_user(user).await?;
    let name = if u.display_name.trim().is_empty() {
        u.username.clone()
    } else {
        u.display_name.clone()
    };
    Ok((name, false, u.level == Level::Admin))
}

/// Pauses (`pause`) or resumes the running recording of call `id` for `user`.
pub(super) async fn pause_or_resume(
    state: &AppState,
    id: CallId,
    user: UserId,
    pause: bool,
    via: ManualVia,
) -> Result<(LiveRecording, Option<RecordingId>), ToggleError> {
    let settings = crate::settings::load(state).await.map_err(ApiError::from)?;
    let lc = state.live.get(id).ok_or(ToggleError::NotLive)?;
    let mut guard = lc.lock().await;
    let lc = &mut *guard;
    let (by, is_participant, is_admin) = who(state, lc, user).await?;
    let now = state.clock.now();
    if let Err(refusal) = lc.decision.may_pause(is_participant, is_admin) {
        lc.trace.push(TraceLine {
            kind: TraceKind::Refused,
            rule_id: None,
            user_id: Some(user),
            message: format!(
                "{by} pressed {} and was refused: {}",
                if pause { "pause" } else { "resume" },
                refusal.trace_reason()
            ),
            at: Some(now),
        });
        let _ = state.store.update_call(&lc.call, &lc.trace).await;
        return Err(refusal.into());
    }
    let via_word = match via {
        ManualVia::Client => "the client",
        ManualVia::Phone => "the phone's pause key",
        ManualVia::Pbx => "the PBX",
    };
    let media = lc.media.clone();
    let Some(active) = lc.active.as_mut() else {
        return Err(if pause {
            PauseConflict::NotRecording
        } else {
            PauseConflict::NotPaused
        }
        .into());
    };
    let at_ms = offset_ms(active, now);
    let message = if pause {
        pause::begin(&mut active.recording.pauses, at_ms, by.clone(), Some(user))?;
        media.pause(now, settings.pause_fill);
        active.pause_seq += 1;
        let auto_resume_at = (settings.pause_auto_resume_secs > 0)
            .then(|| now + chrono::Duration::seconds(i64::from(settings.pause_auto_resume_secs)));
        active.pause = Some(LivePause {
            by: by.clone(),
            user_id: Some(user),
            since: now,
            auto_resume_at,
        });
        if let Some(at) = auto_resume_at {
            tokio::spawn(auto_resume(state.clone(), id, active.pause_seq, at));
        }
        format!("{by} paused the recording with {via_word}")
    } else {
        pause::end(&mut active.recording.pauses, at_ms)?;
        media.resume(now);
        active.pause = None;
        format!("{by} resumed the recording with {via_word}")
    };
    let rid = active.recording.id;
    lc.trace.push(TraceLine {
        kind: if pause { TraceKind::Paused } else { TraceKind::Resumed },
        rule_id: None,
        user_id: Some(user),
        message,
        at: Some(now),
    });
    save_and_announce(state, lc).await?;
    Ok((lc.recording_state(), Some(rid)))
}

/// Writes the pause list and the trace, then tells the viewers (the recording and the call).
async fn save_and_announce(state: &AppState, lc: &LiveCall) -> Result<(), ApiError> {
    if let Some(active) = &lc.active {
        state
            .store
            .set_recording_pauses(active.recording.id, &active.recording.pauses)
            .await?;
        state
            .publish(
                Event::Recording(active.recording.clone()),
                calls::internal_users(&lc.call),
                None,
            )
            .await;
    }
    state.store.update_call(&lc.call, &lc.trace).await?;
    publish_call(state, lc).await;
    Ok(())
}

/// Resumes pause number `seq` of call `id` at `at` unless it has ended meanwhile.
async fn auto_resume(state: AppState, id: CallId, seq: u64, at: DateTime<Utc>) {
    loop {
        let now = state.clock.now();
        if now >= at {
            break;
        }
        state.clock.wait_until(at, now).await;
    }
    let Some(lc) = state.live.get(id) else { return };
    let mut guard = lc.lock().await;
    let lc = &mut *guard;
    let now = state.clock.now();
    let media = lc.media.clone();
    let Some(active) = lc.active.as_mut() else { return };
    if active.pause_seq != seq || active.pause.is_none() {
        return;
    }
    let at_ms = offset_ms(active, now);
    if pause::end(&mut active.recording.pauses, at_ms).is_err() {
        return;
    }
    media.resume(now);
    let since = active.pause.take().map(|p| p.since).unwrap_or(now);
    let rid = active.recording.id;
    let secs = (now - since).num_seconds();
    lc.trace.push(TraceLine {
        kind: TraceKind::Resumed,
        rule_id: None,
        user_id: None,
        message: format!("the recording resumed by itself after a pause of {secs} s"),
        at: Some(now),
    });
    if let Err(e) = save_and_announce(&state, lc).await {
        tracing::warn!(error = %e, call = %id, "could not save an automatic resume");
    }
    calls::audit(
        &state,
        None,
        "system",
        "record_resume",
        format!("call {id}"),
        format!("recording {rid}, automatically after {secs} s"),
    )
    .await;
}

/// Closes the open pause of a recording that is being stopped (or whose call ended) at
/// `now`, and writes the list before the recording is finished.
pub(super) async fn close_open(state: &AppState, active: &mut Active, now: DateTime<Utc>) {
    if pause::open(&active.recording.pauses).is_none() {
        return;
    }
    let at_ms = offset_ms(active, now);
    let _ = pause::end(&mut active.recording.pauses, at_ms);
    active.pause = None;
    if let Err(e) = state
        .store
        .set_recording_pauses(active.recording.id, &active.recording.pauses)
        .await
    {
        tracing::warn!(error = %e, recording = %active.recording.id, "could not close a recording's pause");
    }
}
