//! Calls in progress: the registry of live calls, their rule decision, and the recording
//! segments started and stopped on them (automatically at answer, by the red toggle, by the
//! phone's record key). Audio itself is written by a `CallMedia` — the SIPREC recorder for real
//! calls, `SilentMedia` for calls announced without audio — so this module owns the *when* and
//! the bookkeeping, never the packets.

mod consent;
mod media;
mod pause;
mod publish;
pub mod registry;

pub use crate::error::ToggleError;
pub use consent::set_consent;
pub use media::{CallMedia, SegmentFacts, SilentMedia};
use publish::publish_call;
use registry::Active;
pub use registry::{LiveCall, LiveCalls};

use crate::calls::{self, AddressBook, RawParticipant};
use crate::error::ApiError;
use crate::files::Files;
use crate::state::AppState;
use callrec_store::{FinishedRecording, NewCall, NewDispatch, NewRecording};
use callrec_types::calls::{
    CallConsent, CallDirection, CallSource, CallState, LiveRecording, ManualVia, Recording, RecordingHold,
    RecordingState, Trigger,
};
use callrec_types::engine::{consent_line, ConsentStep, TraceKind, TraceLine};
use callrec_types::rules::{Dispatch, MonMode};
use callrec_types::wire::{Event, RecordingAction};
use callrec_types::*;
use chrono::{DateTime, Utc};
use std::io;
use std::sync::Arc;

/// A call that has just started.
pub struct NewLiveCall {
    pub sip_call_id: String,
    pub participants: Vec<RawParticipant>,
    pub mon_mode: MonMode,
    pub source: CallSource,
    pub started_at: DateTime<Utc>,
    /// The caller's consent as the call arrived (the INVITE's `X-Callrec-Consent`).
    pub consent: CallConsent,
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> io::Result<T> + Send + 'static) -> io::Result<T> {
    tokio::task::spawn_blocking(f).await.map_err(io::Error::other)?
}

/// Publishes a live call's state again (another node lost what was sent meanwhile).
pub async fn republish(state: &AppState, id: CallId) {
    if let Some(lc) = state.live.get(id) {
        let lc = lc.lock().await;
        publish_call(state, &lc).await;
    }
}

/// Writes a live call's row again from the live state and announces it: another node took
/// this one for dead (its heartbeat lapsed during a database outage) and ended the call in the
/// journal while it went on here.
pub async fn reassert(state: &AppState, id: CallId) {
    if let Some(lc) = state.live.get(id) {
        let lc = lc.lock().await;
        if let Err(e) = state.store.update_call(&lc.call, &lc.trace).await {
            tracing::warn!(error = %e, call = %id, "could not write a live call back");
        }
        publish_call(state, &lc).await;
    }
}

/// Registers a ringing call, decides how it is recorded and announces it.
pub async fn open(state: &AppState, new: NewLiveCall, media: Arc<dyn CallMedia>) -> Result<CallId, ApiError> {
    let book = AddressBook::load(state).await?;
    let participants = book.participants(&new.participants);
    let decision = calls::decide_call(state, &participants, new.mon_mode).await?;
    let mut trace = decision.trace.clone();
    if new.consent != CallConsent::default() {
        trace.push(consent_line(&new.consent));
    }
    let call = state
        .store
        .create_call(&NewCall {
            call_key: Files::new_call_key(new.started_at),
            source: new.source,
            sip_call_ids: vec![new.sip_call_id],
            direction: CallDirection::of(&participants),
            origin: decision.origin,
            participants,
            mon_mode: new.mon_mode,
            started_at: new.started_at,
            answered_at: None,
            ended_at: None,
            state: CallState::Ringing,
            trace: trace.clone(),
            consent: new.consent,
        })
        .await?;
    let id = call.id;
    let lc = LiveCall {
        trace,
        call,
        decision: Arc::new(decision),
        media,
        active: None,
        next_seq: 1,
        heard: Vec::new(),
    };
    // Registered first, then announced: the cluster's publisher writes the live row of a call
    // only while it is registered (a late event never brings back an ended call's row).
    state.calls_opened(id, lc);
    republish(state, id).await;
    Ok(id)
}

impl AppState {
    fn calls_opened(&self, id: CallId, lc: LiveCall) {
        self.live
            .calls
            .lock()
            .expect("live lock")
            .insert(id, Arc::new(tokio::sync::Mutex::new(lc)));
        self.metrics
            .calls_total
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.metrics
            .calls_live
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// The call was answered: automatic recordings start now.
pub async fn answer(state: &AppState, id: CallId) -> Result<(), ToggleError> {
    answer_at(state, id, state.clock.now()).await
}

/// The call was answered at `at` (a moment ago: SIPREC confirms an answer when its ACK
/// arrives): automatic recordings start from `at`, as far back as the media still holds.
pub async fn answer_at(state: &AppState, id: CallId, at: DateTime<Utc>) -> Result<(), ToggleError> {
    let lc = state.live.get(id).ok_or(ToggleError::NotLive)?;
    let mut lc = lc.lock().await;
    let first = lc.call.answered_at.is_none();
    if first {
        lc.call.answered_at = Some(at);
    }
    lc.call.state = CallState::Active;
    // The automatic recording starts now — or waits for the caller's consent (#11.2).
    let step = if lc.active.is_none() {
        let (step, why) = lc.decision.consent_step(&lc.call.consent, None);
        if let Some(why) = why.filter(|_| first) {
            lc.trace.push(why);
        }
        step
    } else {
        ConsentStep::Nothing
    };
    state
        .store
        .update_call(&lc.call, &lc.trace)
        .await
        .map_err(ApiError::from)?;
    if step == ConsentStep::Start {
        start_automatic(state, &mut lc, at).await?;
    }
    publish_call(state, &lc).await;
    Ok(())
}

/// Starts the call's automatic recording (a rule's, or forced) from `at`.
async fn start_automatic(state: &AppState, lc: &mut LiveCall, at: DateTime<Utc>) -> Result<(), ToggleError> {
    let trigger = if lc.decision.mon_mode == MonMode::Force {
        Trigger::Force
    } else {
        Trigger::Auto {
            rule_id: lc.decision.auto_matches.first().map(|m| m.rule_id),
            rule_name: None,
        }
    };
    let dispatch = lc.decision.auto_dispatch();
    start_segment_at(
        state,
        lc,
        trigger,
        None,
        dispatch.into_iter().map(|(r, d)| (Some(r), d)).collect(),
        at,
    )
    .await
}

/// Hold (`true`) or resume. The media pads the held time with silence.
pub async fn set_held(state: &AppState, id: CallId, held: bool) -> Result<(), ToggleError> {
    let lc = state.live.get(id).ok_or(ToggleError::NotLive)?;
    let mut lc = lc.lock().await;
    lc.call.state = if held { CallState::Held } else { CallState::Active };
    state
        .store
        .update_call(&lc.call, &lc.trace)
        .await
        .map_err(ApiError::from)?;
    if let Some(active) = lc.active.as_mut() {
        let at_ms = (state.clock.now() - active.recording.started_at)
            .num_milliseconds()
            .max(0);
        let changed = if held {
            RecordingHold::begin(&mut active.recording.holds, at_ms)
        } else {
            RecordingHold::end(&mut active.recording.holds, at_ms)
        };
        if changed {
            save_holds(state, &active.recording).await;
            state
                .publish(
                    Event::Recording(active.recording.clone()),
                    calls::internal_users(&lc.call),
                    None,
                )
                .await;
        }
    }
    publish_call(state, &lc).await;
    Ok(())
}

/// Writes a recording's hold spans (the waveform's markers); a failure costs only markers.
async fn save_holds(state: &AppState, recording: &Recording) {
    if let Err(e) = state.store.set_recording_holds(recording.id, &recording.holds).await {
        tracing::warn!(error = %e, recording = %recording.id, "could not write a recording's holds");
    }
}

/// The red toggle and the phone's record key: start or stop a manual recording for `user`.
pub async fn toggle(
    state: &AppState,
    id: CallId,
    user: UserId,
    action: Option<RecordingAction>,
    via: ManualVia,
) -> Result<(LiveRecording, Option<RecordingId>), ToggleError> {
    if let Some(RecordingAction::Pause | RecordingAction::Resume) = action {
        return pause::pause_or_resume(state, id, user, action == Some(RecordingAction::Pause), via).await;
    }
    let lc = state.live.get(id).ok_or(ToggleError::NotLive)?;
    let mut lc = lc.lock().await;
    let is_participant = lc.call.participants.iter().any(|p| p.user_id == Some(user));
    let now = state.clock.now();
    if let Err(refusal) = lc.decision.may_record(user, is_participant, lc.call.consent.state) {
        let who = lc
            .call
            .participants
            .iter()
            .find(|p| p.user_id == Some(user))
            .map(crate::label::label)
            .unwrap_or_else(|| format!("user {user}"));
        lc.trace.push(TraceLine {
            kind: TraceKind::Refused,
            rule_id: None,
            user_id: Some(user),
            message: format!("{who} pressed record and was refused: {}", refusal.trace_reason()),
            at: Some(now),
        });
        let _ = state.store.update_call(&lc.call, &lc.trace).await;
        return Err(refusal.into());
    }
    let action = action.unwrap_or(if lc.active.is_some() {
        RecordingAction::Stop
    } else {
        RecordingAction::Start
    });
    let who = lc
        .call
        .participants
        .iter()
        .find(|p| p.user_id == Some(user))
        .map(crate::label::label)
        .unwrap_or_default();
    let via_word = match via {
        ManualVia::Client => "the client",
        ManualVia::Phone => "the phone's record key",
        ManualVia::Pbx => "the PBX",
    };
    match (action, lc.active.is_some()) {
        (RecordingAction::Start, false) => {
            lc.trace.push(TraceLine {
                kind: TraceKind::ManualStart,
                rule_id: None,
                user_id: Some(user),
                message: format!("{who} started a recording with {via_word}"),
                at: Some(now),
            });
            let dispatch = lc
                .decision
                .manual_dispatch(user)
                .into_iter()
                .map(|(r, d)| (Some(r), d))
                .collect();
            start_segment(
                state,
                &mut lc,
                Trigger::Manual {
                    user_id: Some(user),
                    via,
                },
                Some(user),
                dispatch,
            )
            .await?;
        }
        (RecordingAction::Stop, true) => {
            lc.trace.push(TraceLine {
                kind: TraceKind::ManualStop,
                rule_id: None,
                user_id: Some(user),
                message: format!("{who} stopped the recording with {via_word}"),
                at: Some(now),
            });
            stop_segment(state, &mut lc).await?;
        }
        // Start while recording / stop while not: nothing to do, the answer says the state.
        // (Pause and resume went to `pause::pause_or_resume` above.)
        _ => {}
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

/// The call ended: close any recording, finalise the journal, tell the viewers.
pub async fn end(state: &AppState, id: CallId) -> Result<(), ToggleError> {
    let Some(lc) = state.live.calls.lock().expect("live lock").remove(&id) else {
        return Err(ToggleError::NotLive);
    };
    state
        .metrics
        .calls_live
        .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    let mut lc = lc.lock().await;
    if lc.active.is_some() {
        stop_segment(state, &mut lc).await?;
    }
    lc.call.ended_at = Some(state.clock.now());
    lc.call.state = CallState::Ended;
    state
        .store
        .update_call(&lc.call, &lc.trace)
        .await
        .map_err(ApiError::from)?;
    calls::write_journal(state, id).await?;
    let users = calls::internal_users(&lc.call);
    state
        .publish(Event::CallEnded { call_id: id }, users.clone(), None)
        .await;
    state.publish(Event::Journal { call_id: id }, users, None).await;
    // To be recorded from answer to hang-up: was it? (issue #11.3)
    if lc.decision.automatic {
        crate::alarms::check(state, &lc.call, &lc.heard).await;
    }
    Ok(())
}

/// The call's session was answered but never established (SIPREC: the recording client did
/// not acknowledge the 200 OK). The call ends unanswered with `why` in its trace. Nothing of
/// it was recorded automatically, and no journal document is written, so it leaves nothing
/// on disk — unless someone started a recording by hand meanwhile, which is kept and
/// finalised like any other.
pub async fn abandon(state: &AppState, id: CallId, why: &str) -> Result<(), ToggleError> {
    let Some(lc) = state.live.calls.lock().expect("live lock").remove(&id) else {
        return Err(ToggleError::NotLive);
    };
    state
        .metrics
        .calls_live
        .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    let mut lc = lc.lock().await;
    let manual = lc.active.is_some();
    if manual {
        stop_segment(state, &mut lc).await?;
    }
    let now = state.clock.now();
    lc.call.ended_at = Some(now);
    lc.call.state = CallState::Ended;
    lc.trace.push(TraceLine {
        kind: TraceKind::Decision,
        rule_id: None,
        user_id: None,
        message: why.to_string(),
        at: Some(now),
    });
    state
        .store
        .update_call(&lc.call, &lc.trace)
        .await
        .map_err(ApiError::from)?;
    if manual {
        calls::write_journal(state, id).await?;
    }
    let users = calls::internal_users(&lc.call);
    state
        .publish(Event::CallEnded { call_id: id }, users.clone(), None)
        .await;
    state.publish(Event::Journal { call_id: id }, users, None).await;
    Ok(())
}

async fn start_segment(
    state: &AppState,
    lc: &mut LiveCall,
    trigger: Trigger,
    by: Option<UserId>,
    dispatch: Vec<(Option<RuleId>, Dispatch)>,
) -> Result<(), ToggleError> {
    let now = state.clock.now();
    start_segment_at(state, lc, trigger, by, dispatch, now).await
}

/// Starts a segment whose audio begins at `now` (the present, or the answer a moment ago).
async fn start_segment_at(
    state: &AppState,
    lc: &mut LiveCall,
    trigger: Trigger,
    by: Option<UserId>,
    dispatch: Vec<(Option<RuleId>, Dispatch)>,
    now: DateTime<Utc>,
) -> Result<(), ToggleError> {
    let seq = lc.next_seq;
    let rel_path = Files::recording_rel_path(lc.call.started_at, &lc.call.call_key, seq);
    let abs = state.files.abs(&rel_path).map_err(ApiError::from)?;
    if let Some(dir) = abs.parent() {
        tokio::fs::create_dir_all(dir).await.map_err(ApiError::from)?;
    }
    let media = lc.media.clone();
    let (p, disk, vault) = (abs.clone(), state.disk.clone(), state.vault.clone());
    blocking(move || media.start_segment(p, &vault, now, disk))
        .await
        .map_err(ApiError::from)?;
    let offset = (now - lc.call.answered_at.unwrap_or(lc.call.started_at))
        .num_milliseconds()
        .max(0);
    let recording = state
        .store
        .create_recording(&NewRecording {
            call_id: lc.call.id,
            seq,
            rel_path: rel_path.clone(),
            file_name: Files::recording_file_name(&lc.call.call_key, seq),
            started_at: now,
            start_offset_ms: offset,
            duration_ms: 0,
            bytes: 0,
            codec: lc.media.codec(),
            sample_rate: 8000,
            channels: 2,
            sha256: String::new(),
            trigger,
            state: RecordingState::Recording,
        })
        .await;
    let mut recording = match recording {
        Ok(r) => r,
        Err(e) => {
            // No file without its row: close the segment and remove what it wrote.
            let media = lc.media.clone();
            let _ = blocking(move || media.stop_segment(now)).await;
            let _ = tokio::fs::remove_file(&abs).await;
            return Err(ApiError::from(e).into());
        }
    };
    // Started during a hold: the recording opens held.
    if lc.call.state == CallState::Held && RecordingHold::begin(&mut recording.holds, 0) {
        save_holds(state, &recording).await;
    }
    lc.next_seq += 1;
    lc.call.recording_count += 1;
    state
        .publish(
            Event::Recording(recording.clone()),
            calls::internal_users(&lc.call),
            None,
        )
        .await;
    lc.active = Some(Active {
        recording,
        rel_path,
        by,
        dispatch,
        pause: None,
        pause_seq: 0,
    });
    Ok(())
}

async fn stop_segment(state: &AppState, lc: &mut LiveCall) -> Result<(), ToggleError> {
    let Some(mut active) = lc.active.take() else {
        return Ok(());
    };
    let now = state.clock.now();
    // A recording stopped (or a call ended) while paused or held: the span ends with it.
    pause::close_open(state, &mut active, now).await;
    let at_ms = (now - active.recording.started_at).num_milliseconds().max(0);
    if RecordingHold::end(&mut active.recording.holds, at_ms) {
        save_holds(state, &active.recording).await;
    }
    let media = lc.media.clone();
    let facts = blocking(move || media.stop_segment(now))
        .await
        .map_err(ApiError::from)?;
    lc.heard.push(callrec_types::alarms::SegmentAudio {
        duration_ms: facts.duration_ms,
        heard_ms: facts.heard_ms,
    });
    let done = finish(state, &active.recording, &active.rel_path, &facts, active.dispatch).await?;
    let _ = active.by;
    let transcribe = lc.decision.transcribes(&done.trigger);
    crate::transcripts::queue(state, done.id, done.call_id, transcribe).await;
    Ok(())
}

/// Checksums a closed segment file, marks the row complete, signs its evidence entry, queues
/// its dispatch targets and announces it. Also used by the crash repair at start-up.
pub async fn finish(
    state: &AppState,
    rec: &Recording,
    rel_path: &str,
    facts: &SegmentFacts,
    dispatch: Vec<(Option<RuleId>, Dispatch)>,
) -> Result<Recording, ApiError> {
    let abs = state.files.abs(rel_path)?;
    // Of the plaintext: what downloads and clients check, sealed or not.
    let (sha256, bytes) = state.vault.sha256(&abs).await?;
    // Queued before the row is complete, so a crash in between leaves a note the uploader
    // holds until the start-up repair completes the row (objects::queue).
    crate::objects::upload::queue(
        state,
        crate::objects::queue::Note::Recording {
            rel_path: rel_path.to_owned(),
            recording_id: rec.id,
        },
    )
    .await?;
    let done = state
        .store
        .finish_recording(
            rec.id,
            &FinishedRecording {
                duration_ms: facts.duration_ms,
                bytes: bytes as i64,
                sha256,
                codec: facts.codec,
                sample_rate: facts.sample_rate,
                channels: facts.channels,
                gaps: facts.gaps.clone(),
            },
        )
        .await?;
    crate::evidence::recorded(state, &done).await;
    let targets: Vec<NewDispatch> = dispatch
        .into_iter()
        .map(|(rule_id, target)| NewDispatch { rule_id, target })
        .collect();
    crate::dispatch::queue(state, rec.id, &targets).await?;
    state
        .metrics
        .recordings_total
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    state
        .metrics
        .bytes_stored
        .fetch_add(bytes as i64, std::sync::atomic::Ordering::Relaxed);
    let done = state.store.get_recording(done.id).await?.recording;
    let (call, _) = state.store.get_call(rec.call_id).await?;
    state
        .publish(Event::Recording(done.clone()), calls::internal_users(&call), None)
        .await;
    Ok(done)
}
