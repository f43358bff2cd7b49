//! Signed, chained evidence (issue #12.2): every finished recording and every deletion becomes
//! an entry of an append-only chain in the database, hashed over the previous entry and signed
//! with the installation's Ed25519 key ([`key`]). The entry's fields and their canonical bytes
//! are `callrec_types::evidence`; the checks of the whole chain are [`verify`].
//!
//! Appending never holds up or loses a recording: the entry of a finished recording is
//! appended right after its row is completed, and if that fails (the database is away, the
//! process dies in between) the recording is only logged; the sweep ([`sweep`]: at start,
//! every minute over what is new, every hour over everything, and woken by a failure) signs
//! every finished recording still without an entry — after checking, through the playback
//! read path, that its audio still hashes to its row. A deletion's entry is appended before
//! the file and the row go: when it cannot be, the deletion is refused (and retried by the next
//! retention run), so the chain never shows a recording missing that the product removed.

pub mod key;
pub mod sweep;
pub mod verify;

pub use sweep::run_sweeps;

use crate::state::AppState;
use callrec_store::{NewEvidence, StoreError};
use callrec_types::calls::{Recording, RecordingState};
use callrec_types::evidence::{EvidenceEntry, EvidenceKind};

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
