//! The uploader: works through the upload queue ([`super::queue`]) — upload, read back and
//! check the SHA-256 against the row, remove the local copy, then the note — backing off
//! exponentially while the store fails.

use super::queue::{note_path, Note, DIR, MAX_BACKOFF, RESCAN};
use super::{Objects, ObjectsError};
use crate::files::write_atomic;
use crate::state::AppState;
use callrec_store::StoreError;
use callrec_types::calls::RecordingState;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// Queues `note` (replacing an older note for the same file) and wakes the uploader. Does
/// nothing when there is no object store.
pub async fn queue(state: &AppState, note: Note) -> std::io::Result<()> {
    if state.objects.is_none() {
        return Ok(());
    }
    let bytes = serde_json::to_vec(&note).map_err(std::io::Error::other)?;
    write_atomic(&note_path(&state.config.data_dir, note.rel_path()), &bytes).await?;
    state.uploads.wake.notify_one();
    Ok(())
}

/// Removes the note for `rel_path`, if any (an ingest whose row failed took its file back).
pub async fn unqueue(state: &AppState, rel_path: &str) {
    if state.objects.is_some() {
        let _ = tokio::fs::remove_file(note_path(&state.config.data_dir, rel_path)).await;
    }
}

/// Uploads what the outbox holds until `state.stopping` is cancelled.
pub async fn run(state: AppState) {
    let Some(objects) = state.objects.clone() else { return };
    let mut failures_in_a_row = 0u32;
    loop {
        let ok = pass(&state, &objects).await;
        let wait = if ok {
            failures_in_a_row = 0;
            RESCAN
        } else {
            failures_in_a_row = failures_in_a_row.saturating_add(1);
            Duration::from_secs(1u64 << failures_in_a_row.min(6).saturating_sub(1)).min(MAX_BACKOFF)
        };
        tokio::select! {
            _ = state.stopping.cancelled() => return,
            _ = state.uploads.wake.notified(), if ok => {}
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

/// One pass over the queue; `false` when an upload failed (the caller backs off).
async fn pass(state: &AppState, objects: &Objects) -> bool {
    let dir = state.config.data_dir.join(DIR);
    let mut notes = Vec::new();
    if let Ok(mut rd) = tokio::fs::read_dir(&dir).await {
        while let Ok(Some(e)) = rd.next_entry().await {
            let name = e.file_name();
            let Some(name) = name.to_str() else { continue };
            if name.starts_with('.') || !name.ends_with(".json") {
                continue;
            }
            notes.push(e.path());
        }
    }
    notes.sort();
    let mut ok = true;
    let mut last_error = None;
    for path in &notes {
        if state.stopping.is_cancelled() {
            break;
        }
        let Ok(bytes) = tokio::fs::read(path).await else {
            continue;
        };
        let note: Note = match serde_json::from_slice(&bytes) {
            Ok(n) => n,
            Err(e) => {
                tracing::error!(note = %path.display(), error = %e, "an unreadable upload note; removed");
                let _ = tokio::fs::remove_file(path).await;
                continue;
            }
        };
        match upload(state, objects, &note, path, &bytes).await {
            Ok(Done::Uploaded) => {
                state.uploads.uploaded.fetch_add(1, Ordering::Relaxed);
                state.uploads.backlog.send_modify(|b| match note {
                    Note::Recording { .. } | Note::Ingest { .. } => b.recordings_uploaded += 1,
                    Note::Journal { .. } => b.journals_uploaded += 1,
                });
            }
            Ok(Done::Waiting) => {}
            Err(e) => {
                tracing::warn!(file = note.rel_path(), error = %e, "upload to the object store failed; the file waits in the spool");
                state.uploads.failures.fetch_add(1, Ordering::Relaxed);
                state.uploads.backlog.send_modify(|b| b.failures += 1);
                last_error = Some(e.to_string());
                ok = false;
                // The store is most likely down: back off instead of failing every note.
                break;
            }
        }
    }
    publish_backlog(state, &dir, last_error).await;
    ok
}

/// Counts what is still queued and publishes it (gauges and the watch).
async fn publish_backlog(state: &AppState, dir: &Path, last_error: Option<String>) {
    let (mut waiting, mut bytes) = (0u64, 0u64);
    if let Ok(mut rd) = tokio::fs::read_dir(dir).await {
        while let Ok(Some(e)) = rd.next_entry().await {
            let Ok(b) = tokio::fs::read(e.path()).await else {
                continue;
            };
            let Ok(note) = serde_json::from_slice::<Note>(&b) else {
                continue;
            };
            waiting += 1;
            if let Ok(abs) = state.files.abs(note.rel_path()) {
                bytes += tokio::fs::metadata(abs).await.map_or(0, |m| m.len());
            }
        }
    }
    state.uploads.waiting.store(waiting as i64, Ordering::Relaxed);
    state.uploads.waiting_bytes.store(bytes as i64, Ordering::Relaxed);
    state.uploads.backlog.send_modify(|b| {
        b.waiting = waiting;
        b.bytes = bytes;
        b.last_error = last_error;
    });
}

/// An [`Note::Ingest`] note: an ingest in progress in this process is left alone (it replaces
/// the note itself); one a crash left behind becomes a `Recording` note when the row exists
/// (returned with its bytes), or, when no row was written, the file without a row is removed
/// with the note.
async fn resolve_ingest(
    state: &AppState,
    rel_path: &str,
    note_path: &Path,
    note_bytes: &[u8],
) -> Result<Option<(Note, Vec<u8>)>, ObjectsError> {
    let written = tokio::fs::metadata(note_path).await?.modified()?;
    if written >= state.uploads.started {
        return Ok(None);
    }
    let Some(recording_id) = state
        .store
        .recording_by_path(rel_path)
        .await
        .map_err(std::io::Error::other)?
    else {
        tracing::warn!(
            path = rel_path,
            "an upload cut off before its row was written; its file is removed"
        );
        remove_if_exists(&state.files.abs(rel_path)?).await?;
        remove_note_if_unchanged(note_path, note_bytes).await?;
        return Ok(None);
    };
    let note = Note::Recording {
        rel_path: rel_path.to_owned(),
        recording_id,
    };
    let bytes = serde_json::to_vec(&note).map_err(std::io::Error::other)?;
    write_atomic(note_path, &bytes).await?;
    Ok(Some((note, bytes)))
}

enum Done {
    Uploaded,
    /// Not ready yet (the row is not complete): left queued, no failure.
    Waiting,
}

async fn upload(
    state: &AppState,
    objects: &Objects,
    note: &Note,
    note_path: &Path,
    note_bytes: &[u8],
) -> Result<Done, ObjectsError> {
    let rel = note.rel_path();
    let local = state.files.abs(rel)?;
    match note {
        Note::Ingest { rel_path } => match resolve_ingest(state, rel_path, note_path, note_bytes).await? {
            Some((note, bytes)) => Box::pin(upload(state, objects, &note, note_path, &bytes)).await,
            None => Ok(Done::Waiting),
        },
        Note::Recording { recording_id, .. } => {
            let row = match state.store.get_recording(*recording_id).await {
                Ok(r) => r,
                // Deleted (retention, an admin) before it was uploaded: nothing to keep.
                Err(StoreError::NotFound) => {
                    remove_if_exists(&local).await?;
                    remove_note_if_unchanged(note_path, note_bytes).await?;
                    return Ok(Done::Waiting);
                }
                Err(e) => return Err(std::io::Error::other(e).into()),
            };
            if row.recording.state == RecordingState::Recording {
                return Ok(Done::Waiting);
            }
            let want = row.recording.sha256.to_ascii_lowercase();
            if !tokio::fs::try_exists(&local).await? {
                // Uploaded and removed by an earlier pass that stopped before removing the note.
                let got = plain_sha256_of_object(state, objects, rel).await?;
                if got != want {
                    return Err(ObjectsError::Mismatch {
                        key: rel.to_owned(),
                        want,
                        got,
                    });
                }
                remove_note_if_unchanged(note_path, note_bytes).await?;
                return Ok(Done::Uploaded);
            }
            let (sent, _) = objects.put_file(rel, &local).await?;
            // Deleted (retention, an admin) while it was going up: the delete found no object
            // yet, so the one just written would outlive its row. Take it back out.
            if matches!(
                state.store.get_recording(*recording_id).await,
                Err(StoreError::NotFound)
            ) {
                objects.delete(rel).await?;
                remove_if_exists(&local).await?;
                remove_note_if_unchanged(note_path, note_bytes).await?;
                return Ok(Done::Waiting);
            }
            let (stored, _) = objects.sha256(rel).await?;
            // The object holds exactly the spool's bytes (`sent` was hashed while uploading,
            // `stored` read back), and those bytes are the recording: for a file stored
            // encrypted (issue #12.1) the row's SHA-256 is of the plaintext, so the spool file
            // is decrypted and hashed through the vault (every chunk authenticated).
            if stored != sent {
                return Err(ObjectsError::Mismatch {
                    key: rel.to_owned(),
                    want: sent,
                    got: stored,
                });
            }
            let plain = if sent == want {
                sent
            } else {
                state.vault.sha256(&local).await?.0
            };
            if plain != want {
                return Err(ObjectsError::Mismatch {
                    key: rel.to_owned(),
                    want,
                    got: plain,
                });
            }
            tokio::fs::remove_file(&local).await?;
            remove_note_if_unchanged(note_path, note_bytes).await?;
            Ok(Done::Uploaded)
        }
        Note::Journal { .. } => {
            let Ok(bytes) = tokio::fs::read(&local).await else {
                remove_note_if_unchanged(note_path, note_bytes).await?;
                return Ok(Done::Waiting);
            };
            objects.put_bytes(rel, bytes.clone()).await?;
            // Rewritten while we uploaded: keep it and the note, the next pass sends it.
            if tokio::fs::read(&local).await.ok().as_deref() == Some(&bytes[..]) {
                tokio::fs::remove_file(&local).await?;
                remove_note_if_unchanged(note_path, note_bytes).await?;
            }
            Ok(Done::Uploaded)
        }
    }
}

/// SHA-256 of an object's plaintext: fetched to a temporary file and read through the vault.
async fn plain_sha256_of_object(state: &AppState, objects: &Objects, rel: &str) -> Result<String, ObjectsError> {
    let dir = state.files.tmp_dir();
    tokio::fs::create_dir_all(&dir).await?;
    let tmp = dir.join(format!("check-{}.tmp", hex::encode(rand::random::<[u8; 8]>())));
    let result = async {
        objects.copy_to_file(rel, &tmp).await?;
        Ok::<_, ObjectsError>(state.vault.sha256(&tmp).await?.0)
    }
    .await;
    let _ = tokio::fs::remove_file(&tmp).await;
    result
}

async fn remove_if_exists(path: &Path) -> std::io::Result<()> {
    match tokio::fs::remove_file(path).await {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Removes the note unless it was replaced meanwhile (a newer journal queued again).
async fn remove_note_if_unchanged(path: &Path, was: &[u8]) -> std::io::Result<()> {
    if tokio::fs::read(path).await.ok().as_deref() == Some(was) {
        remove_if_exists(path).await?;
    }
    Ok(())
}
