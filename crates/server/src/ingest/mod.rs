//! Uploads (SPEC §4.2): a PBX that records by itself uploads the WAV with the call's facts
//! (the HTTP side, `POST /api/v1/ingest`, is `routes/ingest.rs`). The audio is streamed to a
//! spool file (never whole in memory) while it is hashed ([`SpoolWriter`], in `spool`), its
//! WAV header checked against the bytes received (and its sizes made to tell the truth), the
//! rules applied, and only then moved into place ([`accept`]). Every refusal is
//! `{code, message}`; spool files a crash left behind are removed at start-up.

use crate::auth::{bearer, secret_eq};
use crate::calls::{self, AddressBook, RawParticipant};
use crate::error::{ApiError, ApiResult};
use crate::files::Files;
use crate::state::AppState;
use axum::http::request::Parts;
use axum::http::StatusCode;
use callrec_media::wav::WavInfo;
use callrec_store::{NewCall, NewDispatch, NewRecording};
use callrec_types::calls::{
    CallConsent, CallDirection, CallSource, CallState, ConsentState, ConsentVia, ManualVia, ParticipantRole,
    RecordingState, Trigger,
};
use callrec_types::engine::{consent_line, Refusal};
use callrec_types::wire::ErrorCode;
use callrec_types::wire::{Event, IngestCall, IngestResponse, IngestRole, IngestTrigger};
use chrono::{DateTime, TimeDelta, Utc};
use std::sync::atomic::Ordering;

mod spool;

use spool::Spool;
pub use spool::{remove_leftover_uploads, SpoolWriter, SpooledAudio};

/// The largest `call` part accepted.
pub const MAX_CALL_JSON: usize = 64 * 1024;
const MAX_PARTICIPANTS: usize = 32;
/// How far in the future a call's times may be: the PBX's clock may run ahead of ours, but
/// not by more than this (a year 9999 start is a bug, and would sort above every real call).
pub const FUTURE_TOLERANCE: TimeDelta = TimeDelta::days(1);
/// The ingest token, checked before anything of the body is read.
pub fn check_token(state: &AppState, parts: &Parts) -> ApiResult<()> {
    let Some(expected) = &state.config.ingest_token else {
        return Err(ApiError::forbidden(
            "uploads are disabled: no ingest token is configured (CALLREC_INGEST_TOKEN)",
        ));
    };
    match bearer(parts) {
        Some(t) if secret_eq(t, expected.expose()) => Ok(()),
        _ => Err(ApiError::unauthorized("a valid ingest token is required")),
    }
}

/// Refuses call times more than [`FUTURE_TOLERANCE`] after `now` (400 `time_in_future`).
fn check_not_future(c: &IngestCall, now: DateTime<Utc>) -> ApiResult<()> {
    let latest = now + FUTURE_TOLERANCE;
    let times = [
        ("started_at", Some(c.started_at)),
        ("answered_at", c.answered_at),
        ("ended_at", c.ended_at),
        ("recording_started_at", c.recording_started_at),
    ];
    for (field, at) in times {
        if let Some(at) = at.filter(|at| *at > latest) {
            return Err(ApiError::bad_request(
                ErrorCode::TimeInFuture,
                format!(
                    "{field} {} is more than {} hours ahead of the server's clock",
                    at.to_rfc3339(),
                    FUTURE_TOLERANCE.num_hours()
                ),
            ));
        }
    }
    Ok(())
}

fn validate_call(c: &IngestCall) -> ApiResult<()> {
    let bad = |m: String| ApiError::unprocessable(ErrorCode::InvalidCall, m);
    if c.sip_call_id.trim().is_empty() || c.sip_call_id.len() > 256 {
        return Err(bad("sip_call_id must be 1 to 256 characters".into()));
    }
    if c.participants.is_empty() || c.participants.len() > MAX_PARTICIPANTS {
        return Err(bad(format!("a call has 1 to {MAX_PARTICIPANTS} participants")));
    }
    for p in &c.participants {
        if p.number.trim().is_empty() || p.number.len() > 256 || p.name.len() > 256 {
            return Err(bad(
                "each participant needs a number (at most 256 characters) and a name of at most 256".into(),
            ));
        }
    }
    if let (Some(a), Some(e)) = (c.answered_at.or(Some(c.started_at)), c.ended_at) {
        if e < a {
            return Err(bad("ended_at is before the call was answered".into()));
        }
    }
    if c.mon_mode().is_none() {
        return Err(bad(format!(
            "mon_mode must be auto, force, deny or manual, not {:?}",
            c.mon_mode.as_deref().unwrap_or("")
        )));
    }
    if c.consent().is_none() {
        return Err(bad(format!(
            "consent must be unknown, announced, granted or refused, not {:?}",
            c.consent.as_deref().unwrap_or("").chars().take(40).collect::<String>()
        )));
    }
    Ok(())
}

/// Checks the call's facts (422 `invalid_call`, 400 `time_in_future`), applies the rules and,
/// if they keep it, moves the audio into place and files the call: 201 with its ids.
pub async fn accept(state: &AppState, call: IngestCall, audio: SpooledAudio) -> ApiResult<IngestResponse> {
    validate_call(&call)?;
    check_not_future(&call, state.clock.now())?;
    let SpooledAudio {
        mut spool,
        info,
        sha256,
        bytes,
    } = audio;
    store_upload(state, call, &mut spool, info, sha256, bytes).await
}

async fn store_upload(
    state: &AppState,
    c: IngestCall,
    spool: &mut Spool,
    info: WavInfo,
    sha256: String,
    bytes: u64,
) -> ApiResult<IngestResponse> {
    let raw: Vec<RawParticipant> = c
        .participants
        .iter()
        .map(|p| RawParticipant {
            number: p.number.clone(),
            name: p.name.clone(),
            role: match p.role {
                IngestRole::Caller => ParticipantRole::Caller,
                IngestRole::Callee => ParticipantRole::Callee,
            },
        })
        .collect();
    let book = AddressBook::load(state).await?;
    let participants = book.participants(&raw);
    let mon_mode = c.mon_mode().expect("validated above");
    let decision = calls::decide_call(state, &participants, mon_mode).await?;
    let consent = CallConsent {
        state: c.consent().expect("validated above"),
        via: c.consent.is_some().then_some(ConsentVia::Ingest),
        ..CallConsent::default()
    };
    let mut trace = decision.trace.clone();
    if consent != CallConsent::default() {
        trace.push(consent_line(&consent));
    }
    // A refused caller's recording is not stored unless the call is recorded regardless of
    // consent (forced, or a rule without require_consent); a rule that waits for consent keeps
    // only a call whose caller granted it (issue #11.2).
    let (_, why) = decision.consent_step(&consent, None);
    trace.extend(why);
    let manual_upload = c.trigger == IngestTrigger::Manual;
    let keep = if decision.automatic && decision.records_automatically(consent.state) {
        true
    } else if decision.automatic && !manual_upload {
        false
    } else {
        consent.state != ConsentState::Refused
    };
    if !keep && !decision.denied {
        let message = if consent.state == ConsentState::Refused {
            "the caller refused to be recorded".to_string()
        } else {
            format!(
                "the rule records this call only once the caller has granted consent (consent is {})",
                consent.state.as_str()
            )
        };
        return Err(ApiError::unprocessable(ErrorCode::NotPermittedByRules, message).with_trace(trace));
    }

    // Who pressed record, for a manual upload: an extension, AoR or username.
    let presser = match (&c.trigger, c.triggered_by.as_deref()) {
        (IngestTrigger::Manual, Some(who)) => match book.resolve(who) {
            Some(u) => Some(u),
            None => state.store.user_credentials(who).await?.map(|(u, _)| u.id),
        },
        _ => None,
    };
    let (trigger, dispatch) = if decision.denied {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            ErrorCode::RecordingDenied,
            Refusal::Denied.to_string(),
        )
        .with_trace(decision.trace));
    } else if decision.automatic {
        let t = match (mon_mode, &c.trigger, presser) {
            (_, IngestTrigger::Manual, Some(u)) => Trigger::Manual {
                user_id: Some(u),
                via: ManualVia::Pbx,
            },
            (callrec_types::rules::MonMode::Force, _, _) => Trigger::Force,
            _ => Trigger::Auto {
                rule_id: decision.auto_matches.first().map(|m| m.rule_id),
                rule_name: None,
            },
        };
        (t, decision.auto_dispatch())
    } else {
        match (&c.trigger, presser) {
            (IngestTrigger::Manual, Some(u)) => {
                let is_participant = participants.iter().any(|p| p.user_id == Some(u));
                if let Err(r) = decision.may_record(u, is_participant, consent.state) {
                    return Err(ApiError::unprocessable(
                        ErrorCode::NotPermittedByRules,
                        format!("the rules do not allow this recording: {r}"),
                    )
                    .with_trace(decision.trace));
                }
                (
                    Trigger::Manual {
                        user_id: Some(u),
                        via: ManualVia::Pbx,
                    },
                    decision.manual_dispatch(u),
                )
            }
            (IngestTrigger::Manual, None) if c.triggered_by.is_some() => {
                return Err(ApiError::unprocessable(
                    ErrorCode::NotPermittedByRules,
                    "triggered_by does not name a known user",
                )
                .with_trace(decision.trace));
            }
            _ => {
                return Err(ApiError::unprocessable(
                    ErrorCode::NotPermittedByRules,
                    "no rule records this call automatically",
                )
                .with_trace(decision.trace));
            }
        }
    };
    let transcribe = decision.transcribes(&trigger);

    // One call per SIP Call-ID: a second upload of the same call adds a recording to it.
    let existing = match state.store.call_by_sip_id(&c.sip_call_id).await? {
        Some(id) => Some(state.store.get_call(id).await?).filter(|(call, _)| call.source == CallSource::Ingest),
        None => None,
    };
    let call = match existing {
        // A later upload that names the consent brings the call's up to date (the PBX
        // learnt it after the first part, e.g. from an IVR); recordings already stored stay.
        Some((mut call, mut call_trace)) if c.consent.is_some() && call.consent.state != consent.state => {
            call.consent = consent.clone();
            call_trace.push(consent_line(&consent));
            state.store.update_call(&call, &call_trace).await?;
            call
        }
        Some((call, _)) => call,
        None => {
            state
                .store
                .create_call(&NewCall {
                    call_key: Files::new_call_key(c.started_at),
                    source: CallSource::Ingest,
                    sip_call_ids: vec![c.sip_call_id.clone()],
                    direction: CallDirection::of(&participants),
                    origin: decision.origin,
                    participants: participants.clone(),
                    mon_mode,
                    started_at: c.started_at,
                    answered_at: c.answered_at,
                    ended_at: c.ended_at,
                    state: CallState::Ended,
                    trace: trace.clone(),
                    consent: consent.clone(),
                })
                .await?
        }
    };
    state
        .metrics
        .calls_total
        .fetch_add(u64::from(call.recording_count == 0), Ordering::Relaxed);
    let seq = state
        .store
        .list_recordings(call.id)
        .await?
        .iter()
        .map(|r| r.seq)
        .max()
        .unwrap_or(0)
        + 1;
    let rel_path = Files::recording_rel_path(call.started_at, &call.call_key, seq);
    let abs = state.files.abs(&rel_path)?;
    if let Some(dir) = abs.parent() {
        tokio::fs::create_dir_all(dir).await?;
    }
    // With an object store: a note naming the file before it enters the spool, so that a
    // crash before its row is written leaves nothing that is never uploaded or never removed.
    crate::objects::upload::queue(
        state,
        crate::objects::queue::Note::Ingest {
            rel_path: rel_path.clone(),
        },
    )
    .await?;
    tokio::fs::rename(&spool.path, &abs).await?;
    spool.keep = true;
    let rec_start = c.recording_started_at.or(c.answered_at).unwrap_or(c.started_at);
    let codec = crate::files::audio_codec(info.codec);
    let new_rec = NewRecording {
        call_id: call.id,
        seq,
        rel_path,
        file_name: Files::recording_file_name(&call.call_key, seq),
        started_at: rec_start,
        start_offset_ms: (rec_start - c.answered_at.unwrap_or(c.started_at))
            .num_milliseconds()
            .max(0),
        duration_ms: info.duration_ms() as i64,
        bytes: bytes as i64,
        codec,
        sample_rate: info.sample_rate,
        channels: info.channels,
        sha256,
        trigger,
        state: RecordingState::Complete,
    };
    let rec = match state.store.create_recording(&new_rec).await {
        Ok(r) => r,
        Err(e) => {
            // The row failed: take the file back out so nothing is stored without a row.
            let _ = tokio::fs::remove_file(&abs).await;
            crate::objects::upload::unqueue(state, &new_rec.rel_path).await;
            return Err(e.into());
        }
    };
    crate::objects::upload::queue(
        state,
        crate::objects::queue::Note::Recording {
            rel_path: new_rec.rel_path.clone(),
            recording_id: rec.id,
        },
    )
    .await?;
    let targets: Vec<NewDispatch> = dispatch
        .into_iter()
        .map(|(r, target)| NewDispatch {
            rule_id: Some(r),
            target,
        })
        .collect();
    crate::dispatch::queue(state, rec.id, &targets).await?;
    crate::transcripts::queue(state, rec.id, call.id, transcribe).await;
    // Signed before the journal is written, so the journal carries the entry.
    crate::evidence::recorded(state, &rec).await;
    state.metrics.recordings_total.fetch_add(1, Ordering::Relaxed);
    state.metrics.bytes_stored.fetch_add(bytes as i64, Ordering::Relaxed);
    calls::write_journal(state, call.id).await?;
    calls::audit(
        state,
        None,
        "ingest",
        "ingest",
        format!("recording {}", rec.id),
        format!("call {} seq {seq}, {bytes} bytes", call.id),
    )
    .await;
    let users = calls::internal_users(&call);
    state.publish(Event::Recording(rec.clone()), users.clone(), None).await;
    state.publish(Event::Journal { call_id: call.id }, users, None).await;
    Ok(IngestResponse {
        call_id: call.id,
        recording_id: rec.id,
    })
}
