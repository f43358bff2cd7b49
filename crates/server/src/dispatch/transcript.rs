//! The transcript in an e-mail dispatch (issue #16): a recording whose rule transcribes is
//! mailed with its dialogue attached (`<callkey>.txt`) once the transcript is done. An e-mail
//! that comes due while the transcript is still `queued` or `running` waits for it, at most
//! `transcription_wait_secs` after the transcript was queued ([`mail_waits_until`]), then goes
//! without it and says so; a failed transcript never holds an e-mail.
//!
//! The wait holds the target with a lease until the wait's end (like an attempt in progress,
//! but not counted as one) and a task polls the transcript's status, sending as soon as it is
//! done. The queue stays in the store: a server stopped during the wait leaves the lease, and
//! when it ends the target is due again and goes with the next run — nothing is lost.

use super::attempt::MailTranscript;
use crate::state::AppState;
use callrec_types::calls::DispatchTarget;
use callrec_types::rules::Dispatch;
use callrec_types::transcripts::{mail_waits_until, TranscriptStatus};
use callrec_types::RecordingId;
use chrono::{DateTime, Utc};

/// How often a waiting e-mail looks at its transcript's status (one row by key).
const POLL: std::time::Duration = std::time::Duration::from_millis(500);

/// The recording's transcript as a dispatch carries it, opened like the transcript route does.
pub async fn of_recording(state: &AppState, rec: RecordingId) -> Result<MailTranscript, String> {
    let stored = state
        .store
        .get_transcript(rec)
        .await
        .map_err(|e| format!("cannot read the transcript of recording {rec}: {e}"))?;
    let Some(stored) = stored else {
        return Ok(MailTranscript::NotAsked);
    };
    Ok(match stored.status {
        TranscriptStatus::Done => {
            let t = crate::transcripts::view(state, &stored)
                .map_err(|e| format!("cannot open the transcript of recording {rec}: {}", e.body.message))?;
            MailTranscript::Done(t.dialogue())
        }
        TranscriptStatus::Failed => MailTranscript::Failed(stored.error.unwrap_or_default()),
        s => MailTranscript::NotReady(s),
    })
}

/// Until when `target` waits for its recording's transcript: e-mails only; `None` to send now
/// (a store error too: the attempt then says what failed).
pub async fn waits_until(state: &AppState, target: &DispatchTarget) -> Option<DateTime<Utc>> {
    if !matches!(target.target, Dispatch::Email { .. }) {
        return None;
    }
    let stored = state.store.get_transcript(target.recording_id).await.ok()??;
    mail_waits_until(
        Some((stored.status, stored.queued_at)),
        state.clock.now(),
        state.config.transcription_wait_secs,
    )
}

/// Waits until the recording's transcript is no longer being made (done, failed, gone) or
/// `until` has come; `false` when the server stops first (the target is then left to its lease:
/// module doc).
pub async fn wait(state: &AppState, rec: RecordingId, until: DateTime<Utc>) -> bool {
    tracing::info!(recording = %rec, %until, "an e-mail waits for the transcript");
    loop {
        if state.clock.now() >= until {
            return true;
        }
        match state.store.get_transcript(rec).await {
            Ok(Some(t)) if matches!(t.status, TranscriptStatus::Queued | TranscriptStatus::Running) => {}
            Ok(_) => return true,
            Err(e) => tracing::warn!(recording = %rec, error = %e, "cannot read the transcript's status"),
        }
        tokio::select! {
            _ = tokio::time::sleep(POLL) => {}
            _ = state.stopping.cancelled() => return false,
        }
    }
}
