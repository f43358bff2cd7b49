//! Signed, chained evidence (issue #12.2): every finished recording and every deletion becomes
//! an entry of an append-only chain in the database, hashed over the previous entry and signed
//! with the installation's Ed25519 key ([`key`]). The entry's fields and their canonical bytes
//! are `callrec_types::evidence`; the checks of the whole chain are [`verify`].
//!
//! Appending never holds up or loses a recording: the entry of a finished recording is
//! appended right after its row is completed, and if that fails (the database is away, the
//! process dies in between) the recording is only logged; the sweep ([`run_sweeps`], at start,
//! every minute and woken by a failure) signs every finished recording still without an entry —
//! after checking, through the playback read path, that its audio still hashes to its row. A
//! deletion's entry is appended before the file and the row go: when it cannot be, the
//! deletion is refused (and retried by the next retention run), so the chain never shows a
//! recording missing that the product removed.

pub mod key;
pub mod verify;

use crate::state::AppState;
use callrec_store::{NewEvidence, StoreError};
use callrec_types::calls::{Recording, RecordingState};
use callrec_types::evidence::{EvidenceEntry, EvidenceKind};
use callrec_types::RecordingId;
use std::time::Duration;

/// How often the sweep looks for finished recordings without an entry.
const SWEEP_EVERY: Duration = Duration::from_secs(60);
/// Recordings the sweep reads at a time.
const SWEEP_BATCH: i64 = 100;

/// Appends `new`, signed with this node's key, at the head of the chain.
pub async fn append(state: &AppState, new: &NewEvidence) -> Result<EvidenceEntry, StoreError> {
    let signer = state.evidence.clone();
    state
        .store
        .append_evidence(new, &move |e: &mut EvidenceEntry| signer.seal(e))
        .await
}

fn entry_of(rec: &Recording, kind: EvidenceKind, at: chrono::DateTime<chrono::Utc>) -> NewEvidence {
    NewEvidence {
        kind,
        recording_id: rec.id,
        call_id: rec.call_id,
        sha256: rec.sha256.clone(),
        duration_ms: rec.duration_ms,
        bytes: rec.bytes,
        at,
    }
}

/// The `recorded` entry of a recording just finished (its row's SHA-256, computed from the
/// file as it was closed). A failure is logged and left to the sweep: the recording is kept.
pub async fn recorded(state: &AppState, rec: &Recording) {
    if rec.state != RecordingState::Complete {
        return;
    }
    let new = entry_of(rec, EvidenceKind::Recorded, state.clock.now());
    if let Err(e) = append(state, &new).await {
        tracing::error!(recording = %rec.id, error = %e, "could not append the recording's evidence entry; the sweep retries it");
        state.evidence_retry.notify_one();
    }
}

/// The entry of a deletion, appended before the file and row go; an error stops the deletion.
pub async fn deleted(state: &AppState, rec: &Recording, kind: EvidenceKind) -> Result<EvidenceEntry, StoreError> {
    append(state, &entry_of(rec, kind, state.clock.now())).await
}

/// Signs every finished recording that has no entry yet and whose audio, read as playback
/// reads it, still hashes to its row; returns how many were signed. One whose file is not here
/// (another node's spool, not uploaded yet) waits; one whose audio differs from its row is
/// left for `verify` to report.
pub async fn sweep(state: &AppState) -> Result<usize, StoreError> {
    let mut after = RecordingId(0);
    let mut signed = 0;
    loop {
        let batch = state.store.recordings_without_evidence(after, SWEEP_BATCH).await?;
        let Some(last) = batch.last() else { break };
        after = last.recording.id;
        for rec in &batch {
            let Ok(abs) = state.files.abs(&rec.rel_path) else {
                continue;
            };
            match crate::audio::stored_sha256(&abs, state.objects.as_ref(), &rec.rel_path, &state.vault).await {
                Ok((sha, _)) if sha == rec.recording.sha256 => {
                    append(
                        state,
                        &entry_of(&rec.recording, EvidenceKind::Recorded, state.clock.now()),
                    )
                    .await?;
                    signed += 1;
                }
                Ok((sha, _)) => tracing::warn!(
                    recording = %rec.recording.id,
                    file = %sha,
                    row = %rec.recording.sha256,
                    "a finished recording without evidence no longer matches its row; not signed"
                ),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    tracing::warn!(recording = %rec.recording.id, error = %e, "cannot read a recording to sign it")
                }
            }
        }
        if (batch.len() as i64) < SWEEP_BATCH {
            break;
        }
    }
    if signed > 0 {
        tracing::info!(signed, "signed finished recordings that had no evidence entry");
    }
    Ok(signed)
}

/// Sweeps at start, every minute and whenever an append failed, until the server stops.
pub async fn run_sweeps(state: AppState) {
    loop {
        if let Err(e) = sweep(&state).await {
            tracing::warn!(error = %e, "the evidence sweep failed; trying again later");
        }
        tokio::select! {
            _ = tokio::time::sleep(SWEEP_EVERY) => {}
            _ = state.evidence_retry.notified() => {
                // A failed append: give the database a moment before trying again.
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            _ = state.stopping.cancelled() => return,
        }
    }
}
