//! The player's tick or cross (issue #12.3): what the player streamed of a recording, its
//! SHA-256, judged against the recording's signed evidence entry and the installation's keys
//! (`callrec_types::evidence::judge`, which checks the entry's hash and signature itself).

use crate::error::AppResult;
use crate::state::AppState;
use callrec_types::evidence::{judge, EvidenceCheck};
use callrec_types::RecordingId;

/// `check_recording_evidence`: `sha256` is the player's digest of the whole original file.
pub async fn check_recording_evidence(
    state: &AppState,
    recording_id: RecordingId,
    sha256: &str,
) -> AppResult<EvidenceCheck> {
    let client = state.client()?;
    let entry = match client.recording_evidence(recording_id).await {
        Ok(ev) => Some(ev.entry),
        // Not signed (yet): said as such, not as an error.
        Err(e) if e.status() == Some(404) => None,
        Err(e) => return Err(state.check(e.into())),
    };
    let keys = client
        .evidence_public_key()
        .await
        .map_err(|e| state.check(e.into()))?
        .keys;
    Ok(judge(entry.as_ref(), &keys, sha256))
}
