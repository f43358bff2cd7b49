//! Transcripts (issue #16): the queue of transcription jobs that workers take over the API, and
//! what the server makes of their results. A recording whose rule asks for it (`transcribe`)
//! is queued when it is finished; a worker claims a job under a lease, fetches each channel's
//! audio ([`audio`]: PCI-paused spans cut out, so paused audio never leaves), and posts the
//! lines or a failure with the lease. Only the current lease holder's answer is taken, so a
//! worker presumed dead (its lease ended, the job given to another) changes nothing: a
//! recording gets one transcript. A failure is retried with backoff, up to
//! [`MAX_TRANSCRIPT_ATTEMPTS`]; a job never blocks another (each is claimed on its own).
//!
//! The lines are stored as JSON, sealed like the recordings when encryption at rest is on; the
//! lower-case text goes into the call's search text, so the journal's `q` finds spoken words.

pub mod audio;
pub mod local;
pub mod matched;
pub mod worker;

use crate::auth::new_token;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use callrec_store::{NewTranscript, StoredRecording, StoredTranscript, TranscriptFailure};
use callrec_types::calls::Call;
use callrec_types::transcripts::{
    self as t, ClaimRequest, Transcript, TranscriptLine, TranscriptionJob, TranscriptionResult, MAX_CLAIM_WAIT_SECS,
    MAX_TRANSCRIPT_ATTEMPTS,
};
use callrec_types::wire::ErrorCode;
use callrec_types::*;
use chrono::Duration;

/// The first retry waits this long; each further one twice as long.
const FIRST_BACKOFF_SECS: i64 = 30;

/// Queues the transcription of a finished recording when its rule asks for it; a store error
/// is logged, not raised (the recording is safe either way).
pub async fn queue(state: &AppState, rec: RecordingId, call: CallId, transcribe: bool) {
    if !transcribe {
        return;
    }
    match state.store.queue_transcript(rec, call, state.clock.now()).await {
        Ok(()) => state.transcription.wake.notify_waiters(),
        Err(e) => tracing::error!(recording = %rec, error = %e, "could not queue the transcription"),
    }
}

/// `POST /api/v1/transcription/claim`: the job due first, waiting up to `wait_secs` for one;
/// `None` when none came.
pub async fn claim(state: &AppState, req: &ClaimRequest) -> ApiResult<Option<TranscriptionJob>> {
    if req.worker.is_empty() || req.worker.len() > 128 || req.worker.chars().any(char::is_control) {
        return Err(ApiError::bad_request(
            ErrorCode::Invalid,
            "worker is a name of 1 to 128 printable characters",
        ));
    }
    let deadline =
        tokio::time::Instant::now() + std::time::Duration::from_secs(u64::from(req.wait_secs.min(MAX_CLAIM_WAIT_SECS)));
    loop {
        // Registered before looking, so a job queued in between still wakes this poll.
        let woken = state.transcription.wake.notified();
        if let Some(job) = claim_once(state, &req.worker).await? {
            return Ok(Some(job));
        }
        // Also look again every few seconds: leases end, backoffs pass, other nodes queue.
        let next = (tokio::time::Instant::now() + std::time::Duration::from_secs(2)).min(deadline);
        tokio::select! {
            _ = woken => {}
            _ = tokio::time::sleep_until(next) => {}
            _ = state.stopping.cancelled() => return Ok(None),
        }
        if tokio::time::Instant::now() >= deadline {
            return Ok(None);
        }
    }
}

async fn claim_once(state: &AppState, worker: &str) -> ApiResult<Option<TranscriptionJob>> {
    loop {
        let lease = new_token();
        let lease_ms = i64::from(state.config.transcription_lease_secs) * 1000;
        let Some(claimed) = state
            .store
            .claim_transcript(worker, &lease, state.clock.now(), lease_ms)
            .await?
        else {
            return Ok(None);
        };
        let rec = match state.store.get_recording(claimed.recording_id).await {
            Ok(r) => r,
            // Deleted meanwhile: its job went with it.
            Err(callrec_store::StoreError::NotFound) => continue,
            Err(e) => return Err(e.into()),
        };
        tracing::info!(recording = %rec.recording.id, worker, attempt = claimed.attempt, "transcription job claimed");
        return Ok(Some(TranscriptionJob {
            recording_id: claimed.recording_id,
            lease,
            lease_until: claimed.lease_until,
            channels: rec.recording.channels,
            attempt: claimed.attempt,
        }));
    }
}

/// The recording of a job the worker holds with `lease` (its current lease, even past its end
/// while nobody took the job over: a slow worker's work is not thrown away); else `409`.
pub async fn held(state: &AppState, id: RecordingId, lease: &str) -> ApiResult<StoredRecording> {
    if !state.store.transcript_lease_held(id, lease).await? {
        return Err(lease_lost());
    }
    Ok(state.store.get_recording(id).await?)
}

fn lease_lost() -> ApiError {
    ApiError::new(
        axum::http::StatusCode::CONFLICT,
        ErrorCode::Conflict,
        "this worker does not hold the job (its lease ended and another worker took it, or it is finished)",
    )
}

/// `POST /api/v1/transcription/jobs/{id}/result`: stores the lines if the worker still holds
/// the job; returns the call, whose journal JSON is then written again with the transcript.
pub async fn accept(state: &AppState, id: RecordingId, result: &TranscriptionResult) -> ApiResult<CallId> {
    let rec = held(state, id, &result.lease).await?;
    let (mut call, _) = state.store.get_call(rec.recording.call_id).await?;
    crate::names::fill(state, &mut call).await?;
    let spans = spans_of(&rec);
    let lines = t::lines_of(
        &result.channels,
        rec.recording.channels,
        &spans,
        &t::speakers(&call.participants),
    )
    .map_err(|e| ApiError::unprocessable(ErrorCode::Invalid, e.to_string()))?;
    let json = serde_json::to_vec(&lines).map_err(ApiError::internal)?;
    let sealed = state.vault.seal_bytes(&json);
    let stored = state
        .store
        .put_transcript(&NewTranscript {
            recording_id: id,
            lease: &result.lease,
            lines: &sealed,
            search: &t::search_text(&lines),
            at: state.clock.now(),
        })
        .await?;
    if !stored {
        return Err(lease_lost());
    }
    tracing::info!(recording = %id, lines = lines.len(), "transcript stored");
    Ok(call.id)
}

/// `POST /api/v1/transcription/jobs/{id}/failure`: queued again after a backoff, or failed
/// for good after [`MAX_TRANSCRIPT_ATTEMPTS`].
pub async fn fail(state: &AppState, id: RecordingId, lease: &str, error: &str) -> ApiResult<()> {
    let now = state.clock.now();
    let job = state.store.get_transcript(id).await?.ok_or_else(lease_lost)?;
    let retry_at = (job.attempts < MAX_TRANSCRIPT_ATTEMPTS).then(|| {
        let exp = (job.attempts - 1).clamp(0, 10) as u32;
        now + Duration::seconds(FIRST_BACKOFF_SECS.saturating_mul(1i64 << exp))
    });
    let error: String = error.chars().filter(|c| !c.is_control()).take(1000).collect();
    let done = state
        .store
        .fail_transcript(&TranscriptFailure {
            recording_id: id,
            lease,
            error: &error,
            retry_at,
            at: now,
        })
        .await?;
    if !done {
        return Err(lease_lost());
    }
    tracing::warn!(recording = %id, attempts = job.attempts, error, "transcription failed");
    Ok(())
}

/// The spans of the recording that may be sent (outside its PCI pauses).
pub fn spans_of(rec: &StoredRecording) -> Vec<t::KeptSpan> {
    let pauses: Vec<(i64, Option<i64>)> = rec.recording.pauses.iter().map(|p| (p.from_ms, p.to_ms)).collect();
    t::kept_spans(rec.recording.duration_ms, &pauses)
}

/// The transcript as the API shows it: the lines opened (unsealed) and parsed.
pub fn view(state: &AppState, stored: &StoredTranscript) -> ApiResult<Transcript> {
    let lines: Vec<TranscriptLine> = match &stored.lines {
        Some(bytes) => {
            let plain = state.vault.open_bytes(bytes).map_err(ApiError::internal)?;
            serde_json::from_slice(&plain).map_err(ApiError::internal)?
        }
        None => Vec::new(),
    };
    Ok(Transcript {
        recording_id: stored.recording_id,
        status: stored.status,
        attempts: stored.attempts,
        error: stored.error.clone(),
        queued_at: stored.queued_at,
        finished_at: stored.finished_at,
        lines,
    })
}

/// The transcripts of a call's recordings, for its journal JSON and its e-mail.
pub async fn of_call(state: &AppState, call: &Call) -> Vec<Transcript> {
    match state.store.call_transcripts(call.id).await {
        Ok(list) => list
            .iter()
            .filter_map(|s| match view(state, s) {
                Ok(v) => Some(v),
                Err(e) => {
                    tracing::warn!(recording = %s.recording_id, error = ?e, "cannot open a transcript");
                    None
                }
            })
            .collect(),
        Err(e) => {
            tracing::warn!(call = %call.id, error = %e, "cannot read the call's transcripts");
            Vec::new()
        }
    }
}
