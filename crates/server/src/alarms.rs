//! Missing-recording alarms (issue #11.3): when a call the rules (or `force`) said to record
//! ends with no audio, one side silent throughout, or a recording far shorter than the call
//! (judged by [`callrec_types::alarms::missing_recording`]), an alarm is stored — one per call,
//! the store refuses a second whoever raises it (a restart's repair, another node) — counted
//! in `callrec_recordings_missing_total`, pushed to admins' clients, and mailed to the
//! `alarm_recipients` of the settings when SMTP is set up. The alarm is stored before the mail
//! is tried, so a mail that fails (logged) never loses it. Admins acknowledge alarms; each
//! acknowledgement is audited and pushed.

use crate::audit::audit;
use crate::caller::Caller;
use crate::dispatch::email;
use crate::error::ApiError;
use crate::settings;
use crate::state::AppState;
use callrec_store::NewAlarm;
use callrec_types::alarms::{missing_recording, Alarm, SegmentAudio};
use callrec_types::calls::{Call, Trigger};
use callrec_types::wire::Event;
use callrec_types::AlarmId;
use std::sync::atomic::Ordering;

/// Judges a call that was to be recorded automatically from answer to hang-up, now ended, by
/// what its segments hold; raises its alarm if it deserves one.
pub async fn check(state: &AppState, call: &Call, segments: &[SegmentAudio]) -> Option<Alarm> {
    let expected_ms = match (call.answered_at, call.ended_at) {
        (Some(a), Some(e)) => (e - a).num_milliseconds().max(0),
        _ => 0, // never answered: nothing was to be recorded
    };
    let (kind, message) = missing_recording(expected_ms, segments)?;
    let recorded_ms = segments.iter().map(|s| s.duration_ms.max(0)).sum();
    let new = NewAlarm {
        call_id: call.id,
        kind,
        message,
        expected_ms,
        recorded_ms,
        raised_at: state.clock.now(),
    };
    let alarm = match state.store.raise_alarm(&new).await {
        Ok(Some(a)) => a,
        Ok(None) => return None, // the call has its alarm already
        Err(e) => {
            tracing::error!(call = %call.id, error = %e, message = %new.message, "could not store a missing-recording alarm");
            return None;
        }
    };
    state.recordings_missing.fetch_add(1, Ordering::Relaxed);
    tracing::warn!(call = %call.id, alarm = %alarm.id, kind = alarm.kind.as_str(), "{}", alarm.message);
    // To admins only: no participant list, so only the `All` scope sees it.
    state.publish(Event::Alarm(alarm.clone()), Vec::new(), None).await;
    let (state2, alarm2, call2) = (state.clone(), alarm.clone(), call.clone());
    tokio::spawn(async move { mail(&state2, &alarm2, &call2).await });
    Some(alarm)
}

/// Judges a call whose recordings a crash cut off (start-up repair): its automatic recordings
/// against its span. What each segment heard is not known after a crash, so only "far too
/// short" (and "none at all") can be told.
pub async fn check_repaired(state: &AppState, call: &Call) {
    let recordings = match state.store.list_recordings(call.id).await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(call = %call.id, error = %e, "cannot check a repaired call for missing audio");
            return;
        }
    };
    let automatic: Vec<SegmentAudio> = recordings
        .iter()
        .filter(|r| matches!(r.trigger, Trigger::Auto { .. } | Trigger::Force))
        .map(|r| SegmentAudio {
            duration_ms: r.duration_ms,
            heard_ms: None,
        })
        .collect();
    if !automatic.is_empty() {
        check(state, call, &automatic).await;
    }
}

async fn mail(state: &AppState, alarm: &Alarm, call: &Call) {
    let s = match settings::load(state).await {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(alarm = %alarm.id, error = %e, "cannot read the settings to mail an alarm");
            return;
        }
    };
    if s.smtp.host.is_empty() || s.alarm_recipients.is_empty() {
        return;
    }
    let who: Vec<String> = call.participants.iter().map(crate::label::label).collect();
    let text = format!(
        "callrec raised a missing-recording alarm.\n\n\
         Call:      {} ({})\n\
         Between:   {}\n\
         Started:   {}\n\
         Problem:   {}\n\
         Expected:  {} ms recorded, got {} ms\n\n\
         Acknowledge it on the admin screens (alarm {}).\n",
        call.id,
        call.call_key,
        who.join(", "),
        call.started_at.to_rfc3339(),
        alarm.message,
        alarm.expected_ms,
        alarm.recorded_ms,
        alarm.id,
    );
    let subject = format!("callrec: call {} was not recorded properly", call.id);
    match email::send_text(&s.smtp, &s.alarm_recipients, &subject, text).await {
        Ok(()) => tracing::info!(alarm = %alarm.id, "alarm mailed"),
        Err(e) => tracing::error!(alarm = %alarm.id, error = %e, "could not mail an alarm; it stays listed"),
    }
}

/// An admin acknowledges an alarm: stored (the first acknowledgement is kept), audited, pushed.
pub async fn acknowledge(state: &AppState, caller: &Caller, id: AlarmId) -> Result<Alarm, ApiError> {
    let alarm = state.store.ack_alarm(id, caller.user.id, state.clock.now()).await?;
    audit(
        state,
        Some(caller),
        "",
        "alarm_ack",
        format!("alarm {id}"),
        format!("call {}: {}", alarm.call_id, alarm.message),
    )
    .await;
    state.publish(Event::Alarm(alarm.clone()), Vec::new(), None).await;
    Ok(alarm)
}
