//! The dispatch queue (SPEC §6): every recording's copies to send (e-mail, script, webhook), as
//! rows of the store with status `pending | sent | failed`, attempts, last error and next attempt.
//!
//! Delivery is at least once. Each attempt first *claims* its target in the store (moves its
//! next attempt to the end of a lease), then sends, then records the outcome. A crash before
//! the outcome is recorded leaves the lease, so the target comes due again when the lease
//! ends and is sent once more — with the same idempotency key (the e-mail's `Message-ID` and
//! `X-Callrec-Dispatch-Key`, the script's `CALLREC_DISPATCH_KEY`, the webhook's
//! `X-Callrec-Dispatch-Key`), so a receiver can drop the duplicate. That window — between the receiver accepting and the store recording it —
//! is the only way a copy goes out twice; nothing queued is ever dropped.
//!
//! Failures are retried with exponential backoff (1 min × 2ⁿ, at most 6 h); after
//! [`MAX_ATTEMPTS`] a target is marked `failed` and waits for an admin's retry. A permanent
//! refusal (an SMTP 5xx, a recipient that is not an address) is marked `failed` at once.

//!
//! E-mail and script targets go out on the schedule; webhook targets as soon as they are
//! queued, by [`run_webhooks`] (retries too), from the same queue.

// By noun: what one attempt is given and answers (`attempt`), the senders (`email`,
// `script`, `webhook`); here the queue and its runs.
pub mod attempt;
pub mod email;
pub mod script;
pub mod transcript;
pub mod webhook;

use crate::calls;
pub use crate::error::DispatchError;
use crate::files::Files;
use crate::settings;
use crate::state::AppState;
pub use attempt::{Attempt, MailTranscript, Material};
use callrec_store::{DispatchOutcome, NewDispatch, StoreError};
use callrec_types::calls::{DispatchStatus, DispatchTarget};
use callrec_types::rules::Dispatch;
use callrec_types::{DispatchId, RecordingId};
use chrono::Duration;
use std::collections::HashSet;
use std::ops::ControlFlow;
use std::path::PathBuf;

/// Attempts before a target is marked `failed`.
pub const MAX_ATTEMPTS: i64 = 10;
/// The first retry waits this long; each further one twice as long.
pub const FIRST_BACKOFF_SECS: i64 = 60;
/// No retry waits longer than this.
pub const MAX_BACKOFF_SECS: i64 = 6 * 3600;
/// Targets fetched from the store at a time.
const BATCH: i64 = 50;

/// The wait before the retry that follows attempt number `attempts` (1-based).
pub fn backoff(attempts: i64) -> Duration {
    let exp = (attempts - 1).clamp(0, 30) as u32;
    let secs = FIRST_BACKOFF_SECS.saturating_mul(1i64 << exp);
    Duration::seconds(secs.min(MAX_BACKOFF_SECS))
}

/// How long a claimed target is left alone: longer than any attempt can take (a script is
/// killed at its timeout; an SMTP attempt is bounded by [`email::ATTEMPT_TIMEOUT`], a webhook
/// by [`webhook::TIMEOUT`]).
pub fn lease(state: &AppState) -> Duration {
    let script = i64::from(state.config.script_timeout_secs);
    let mail = email::ATTEMPT_TIMEOUT.as_secs() as i64;
    let hook = webhook::TIMEOUT.as_secs() as i64;
    Duration::seconds(script.max(mail).max(hook) + 60)
}

/// What a run of the queue did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DispatchCounts {
    pub attempted: u64,
    pub sent: u64,
    pub failed: u64,
    pub gave_up: u64,
}

/// Called after each attempt and before its outcome is recorded; `Break` stops the run right
/// there, as a crash would. Production passes [`continue_always`]; the crash tests use it.
pub type AfterAttempt = dyn Fn(&DispatchTarget, &Attempt) -> ControlFlow<()> + Send + Sync;

/// The production [`AfterAttempt`]: never interrupts.
pub fn continue_always(_: &DispatchTarget, _: &Attempt) -> ControlFlow<()> {
    ControlFlow::Continue(())
}

/// Which due targets a run sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    /// Every kind (the scheduled job, "run now").
    All,
    /// Webhooks only (the sender that sends them as soon as they are due).
    Webhooks,
}

/// Queues a finished recording's targets; a webhook among them is sent at once.
pub async fn queue(state: &AppState, rec: RecordingId, targets: &[NewDispatch]) -> Result<(), StoreError> {
    if targets.is_empty() {
        return Ok(());
    }
    state.store.queue_dispatch(rec, targets, state.clock.now()).await?;
    if targets.iter().any(|t| t.target.is_immediate()) {
        state.webhooks.notify_one();
    }
    Ok(())
}

/// How long the webhook sender waits before looking again when the store cannot be read.
const WEBHOOK_STORE_RETRY: std::time::Duration = std::time::Duration::from_secs(5);

/// The webhook sender ([`webhook`]'s doc): sends the due webhooks, then sleeps on the clock
/// until the next is due or a recording is finished with one; runs until the task is dropped.
pub async fn run_webhooks(state: AppState) {
    loop {
        if let Err(e) = run_due_of(&state, Due::Webhooks, &continue_always).await {
            tracing::error!(error = %e, "the webhook run stopped early");
        }
        let now = state.clock.now();
        let next: Option<chrono::DateTime<chrono::Utc>> = match state.store.next_webhook_due().await {
            Ok(n) => n,
            Err(e) => {
                tracing::error!(error = %e, "cannot read the webhook queue; trying again shortly");
                Some(now + Duration::from_std(WEBHOOK_STORE_RETRY).unwrap_or_default())
            }
        };
        // A target whose time has come but that another run holds is due at its lease's end,
        // which `next_webhook_due` already says; a time in the past means "look again now".
        let wait = state
            .clock
            .wait_until(next.unwrap_or(chrono::DateTime::<chrono::Utc>::MAX_UTC), now);
        tokio::select! {
            _ = state.webhooks.notified() => {}
            _ = wait => {}
            _ = state.stopping.cancelled() => return,
        }
        if next.is_some_and(|n| n <= now) {
            // Due but not claimable (held by another node's run): do not spin.
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    }
}

/// Sends every due target once.
pub async fn run_due(state: &AppState) -> Result<DispatchCounts, DispatchError> {
    run_due_with(state, &continue_always).await
}

/// [`run_due`] with a seam between sending and bookkeeping (see [`AfterAttempt`]).
pub async fn run_due_with(state: &AppState, after: &AfterAttempt) -> Result<DispatchCounts, DispatchError> {
    run_due_of(state, Due::All, after).await
}

/// Sends every due target of `which` once.
pub async fn run_due_of(state: &AppState, which: Due, after: &AfterAttempt) -> Result<DispatchCounts, DispatchError> {
    let mut counts = DispatchCounts::default();
    // Each target at most once per run, whatever its new due time.
    let mut seen: HashSet<DispatchId> = HashSet::new();
    loop {
        let now = state.clock.now();
        let limit = BATCH + seen.len() as i64;
        let due = match which {
            Due::All => state.store.due_dispatch(now, limit).await?,
            Due::Webhooks => state.store.due_webhooks(now, limit).await?,
        };
        let due: Vec<DispatchTarget> = due.into_iter().filter(|t| !seen.contains(&t.id)).collect();
        if due.is_empty() {
            return Ok(counts);
        }
        for target in due {
            seen.insert(target.id);
            // An e-mail whose transcript is still being made waits for it (bounded) in a task
            // of its own, holding the target with a lease until the wait's end: not an attempt.
            if let Some(until) = transcript::waits_until(state, &target).await {
                if state.store.claim_dispatch(target.id, now, until).await? {
                    tokio::spawn(send_after_transcript(state.clone(), target, until));
                }
                continue;
            }
            if !state.store.claim_dispatch(target.id, now, now + lease(state)).await? {
                continue; // another run took it
            }
            let attempt = attempt(state, &target).await;
            if after(&target, &attempt).is_break() {
                return Ok(counts);
            }
            let recorded = record(state, &target, &attempt).await?;
            counts.attempted += 1;
            match recorded.map(|t| t.status) {
                Some(DispatchStatus::Sent) => counts.sent += 1,
                Some(DispatchStatus::Failed) => {
                    counts.failed += 1;
                    counts.gave_up += 1;
                }
                Some(DispatchStatus::Pending) => counts.failed += 1,
                None => {}
            }
        }
    }
}

/// An admin's retry: the target becomes due now and is tried at once. A sent target is not
/// sent again; one being sent right now is left to that attempt.
pub async fn retry(state: &AppState, id: DispatchId) -> Result<DispatchTarget, DispatchError> {
    let target = state.store.get_dispatch(id).await?;
    if target.status == DispatchStatus::Sent {
        return Err(DispatchError::AlreadySent(id));
    }
    let now = state.clock.now();
    let target = match state.store.retry_dispatch(id, now).await {
        Ok(t) => t,
        Err(StoreError::Conflict(_)) => return Err(DispatchError::Busy(id)),
        Err(e) => return Err(e.into()),
    };
    if !state.store.claim_dispatch(id, now, now + lease(state)).await? {
        return Err(DispatchError::Busy(id));
    }
    let attempt = attempt(state, &target).await;
    match record(state, &target, &attempt).await? {
        Some(t) => Ok(t),
        None => Err(DispatchError::Store(StoreError::NotFound)),
    }
}

/// An e-mail that waited for its transcript ([`transcript`]): the attempt once the wait is
/// over, recorded like any other.
async fn send_after_transcript(state: AppState, target: DispatchTarget, until: chrono::DateTime<chrono::Utc>) {
    if !transcript::wait(&state, target.recording_id, until).await {
        return;
    }
    let attempt = attempt(&state, &target).await;
    if let Err(e) = record(&state, &target, &attempt).await {
        tracing::error!(target = %target.id, error = %e, "cannot record the e-mail's attempt");
    }
}

/// Records an attempt; `None` when the target is gone (its recording was deleted meanwhile).
async fn record(
    state: &AppState,
    target: &DispatchTarget,
    attempt: &Attempt,
) -> Result<Option<DispatchTarget>, DispatchError> {
    let now = state.clock.now();
    let attempts = target.attempts + 1;
    let outcome = if attempt.ok {
        DispatchOutcome {
            status: DispatchStatus::Sent,
            at: now,
            error: None,
            detail: attempt.detail.clone(),
            next_attempt_at: None,
        }
    } else if attempt.permanent || attempts >= MAX_ATTEMPTS {
        DispatchOutcome {
            status: DispatchStatus::Failed,
            at: now,
            error: attempt.error.clone(),
            detail: attempt.detail.clone(),
            next_attempt_at: None,
        }
    } else {
        DispatchOutcome {
            status: DispatchStatus::Pending,
            at: now,
            error: attempt.error.clone(),
            detail: attempt.detail.clone(),
            next_attempt_at: Some(now + backoff(attempts)),
        }
    };
    match state.store.record_dispatch_attempt(target.id, &outcome).await {
        Ok(t) => {
            match t.status {
                DispatchStatus::Sent => tracing::info!(target = %t.id, recording = %t.recording_id, "dispatch sent"),
                DispatchStatus::Pending => tracing::warn!(
                    target = %t.id, recording = %t.recording_id, attempts = t.attempts,
                    error = t.last_error.as_deref().unwrap_or(""), "dispatch failed; will retry"
                ),
                DispatchStatus::Failed => tracing::error!(
                    target = %t.id, recording = %t.recording_id, attempts = t.attempts,
                    error = t.last_error.as_deref().unwrap_or(""), "dispatch failed; no more retries"
                ),
            }
            Ok(Some(t))
        }
        Err(StoreError::NotFound) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

async fn material(state: &AppState, target: &DispatchTarget) -> Result<Material, String> {
    let recording = state
        .store
        .get_recording(target.recording_id)
        .await
        .map_err(|e| format!("cannot load recording {}: {e}", target.recording_id))?;
    let (call, _) = state
        .store
        .get_call(recording.recording.call_id)
        .await
        .map_err(|e| format!("cannot load call {}: {e}", recording.recording.call_id))?;
    let key = state
        .store
        .dispatch_key(target.id)
        .await
        .map_err(|e| format!("cannot load the idempotency key: {e}"))?;
    let journal_rel = Files::journal_rel_path(call.started_at, &call.call_key);
    let journal_local = state.files.abs(&journal_rel).map_err(|e| e.to_string())?;
    let wav_local = state.files.abs(&recording.rel_path).map_err(|e| e.to_string())?;
    let mut copies = None;
    let uploaded = state.objects.is_some() && (!wav_local.exists() || !journal_local.exists());
    let (wav, journal) = match &state.objects {
        // Uploaded already, or stored encrypted (issue #12.1): a plaintext copy of each for
        // this attempt (scripts read files, and the e-mail attaches the plaintext), removed
        // with `copies` when the attempt ends.
        objects if uploaded || state.vault.seals() => {
            let dir = state.files.tmp_dir().join(format!("dispatch-{}", target.id));
            let _ = tokio::fs::remove_dir_all(&dir).await;
            tokio::fs::create_dir_all(&dir)
                .await
                .map_err(|e| format!("cannot make {}: {e}", dir.display()))?;
            let guard = crate::dispatch::attempt::TempCopies(dir.clone());
            let wav = dir.join(&recording.recording.file_name);
            let from = match objects {
                Some(objects) if !wav_local.exists() => {
                    let stored = dir.join(".stored");
                    objects
                        .copy_to_file(&recording.rel_path, &stored)
                        .await
                        .map_err(|e| format!("cannot fetch {} from the object store: {e}", recording.rel_path))?;
                    stored
                }
                _ => wav_local.clone(),
            };
            // Through the one plaintext read path: a damaged sealed file fails the attempt.
            state
                .vault
                .copy_plain(&from, &wav)
                .await
                .map_err(|e| format!("cannot read {}: {e}", recording.rel_path))?;
            if from != wav_local {
                let _ = tokio::fs::remove_file(&from).await;
            }
            let journal_name = journal_local
                .file_name()
                .map(PathBuf::from)
                .unwrap_or_else(|| "journal.json".into());
            let journal = dir.join(journal_name);
            let bytes = match calls::read_journal(state, call.started_at, &call.call_key).await {
                Ok(b) => b,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => serde_json::to_vec_pretty(
                    &calls::write_journal(state, call.id)
                        .await
                        .map_err(|e| format!("cannot write the journal: {}", e.body.message))?,
                )
                .map_err(|e| e.to_string())?,
                Err(e) => return Err(format!("cannot read the journal: {e}")),
            };
            tokio::fs::write(&journal, bytes).await.map_err(|e| e.to_string())?;
            copies = Some(guard);
            (
                std::fs::canonicalize(&wav).map_err(|e| e.to_string())?,
                std::fs::canonicalize(&journal).map_err(|e| e.to_string())?,
            )
        }
        _ => {
            let wav = absolute(state, &recording.rel_path)?;
            if !journal_local.exists() {
                // A call still in progress has no journal yet: write it now, so `$2` exists.
                calls::write_journal(state, call.id)
                    .await
                    .map_err(|e| format!("cannot write the journal: {}", e.body.message))?;
            }
            (wav, absolute(state, &journal_rel)?)
        }
    };
    let (mut recording, mut call) = (recording, call);
    crate::names::fill_or_log(state, &mut recording.recording).await;
    crate::names::fill_or_log(state, &mut call).await;
    let transcript = transcript::of_recording(state, recording.recording.id).await?;
    Ok(Material {
        recording,
        call,
        wav,
        journal,
        key,
        copies,
        transcript,
    })
}

fn absolute(state: &AppState, rel: &str) -> Result<PathBuf, String> {
    let p = state.files.abs(rel).map_err(|e| e.to_string())?;
    std::fs::canonicalize(&p).map_err(|e| format!("{} is missing: {e}", p.display()))
}

/// One attempt of one target; never fails, the outcome says what happened.
pub async fn attempt(state: &AppState, target: &DispatchTarget) -> Attempt {
    // A webhook names the recording; it needs none of the files.
    if let Dispatch::Webhook { url, .. } = &target.target {
        return webhook::attempt(state, target, url).await;
    }
    let m = match material(state, target).await {
        Ok(m) => m,
        Err(e) => return Attempt::failed(e, None),
    };
    match &target.target {
        Dispatch::Store => Attempt::sent(None),
        Dispatch::Email { recipients } => {
            let smtp = match settings::load(state).await {
                Ok(s) => s.smtp,
                Err(e) => return Attempt::failed(format!("cannot read the SMTP settings: {e}"), None),
            };
            email::send_recording(&smtp, recipients, &m).await
        }
        Dispatch::Script { script } => {
            let timeout = std::time::Duration::from_secs(u64::from(state.config.script_timeout_secs));
            script::run_for(state, script, &m, target.attempts + 1, timeout).await
        }
        Dispatch::Webhook { url, .. } => webhook::attempt(state, target, url).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_a_minute_up_to_six_hours() {
        let waits: Vec<i64> = (1..=12).map(|n| backoff(n).num_minutes()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 64, 128, 256, 360, 360, 360]);
    }
}
