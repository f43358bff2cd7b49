//! What the server does about a full disk: refuses uploads meanwhile and, while the condition
//! holds, probes the data directory until it takes data again (see [`crate::disk`]).

use super::{PROBE_BYTES, PROBE_EVERY, PROBE_MIN_FREE};
use crate::error::ApiError;
use crate::state::AppState;
use axum::http::StatusCode;
use callrec_types::wire::ErrorCode;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::Ordering;

impl AppState {
    /// True — and counted — when a new recording must be refused because the disk is full.
    pub fn refuse_while_disk_full(&self) -> bool {
        let full = self.disk.is_full();
        if full {
            self.disk.refused.fetch_add(1, Ordering::Relaxed);
        }
        full
    }
}

/// The answer to an upload while the disk is full: 507 Insufficient Storage.
pub fn refuse_upload(state: &AppState) -> Result<(), ApiError> {
    if state.refuse_while_disk_full() {
        return Err(ApiError::new(
            StatusCode::INSUFFICIENT_STORAGE,
            ErrorCode::DiskFull,
            "the recorder's disk is full; upload again once space is freed",
        ));
    }
    Ok(())
}

/// Probes a full disk every second until it takes data again. Dropped, it stops.
pub fn watch(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(PROBE_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            if !state.disk.is_full() {
                continue;
            }
            let root = state.files.root().to_path_buf();
            if let Ok(Ok(())) = tokio::task::spawn_blocking(move || probe(&root)).await {
                state.disk.write_succeeded();
            }
        }
    })
}

/// Whether the file system holding `root` takes data: enough free space by statvfs, and a
/// [`PROBE_BYTES`] file can be written and removed.
fn probe(root: &Path) -> std::io::Result<()> {
    let free = crate::storage::free_bytes(root)?;
    if free < PROBE_MIN_FREE {
        return Err(std::io::Error::other(format!("only {free} bytes free")));
    }
    let path = root.join(".callrec-space-probe");
    let written = std::fs::File::create(&path).and_then(|mut f| {
        f.write_all(&[0u8; PROBE_BYTES])?;
        f.sync_data()
    });
    let _ = std::fs::remove_file(&path);
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_13_the_probe_passes_on_a_disk_with_room() {
        let dir = tempfile::tempdir().expect("temp dir");
        probe(dir.path()).expect("a temp dir has room for 64 KiB");
        assert!(
            !dir.path().join(".callrec-space-probe").exists(),
            "the probe leaves no file behind"
        );
    }
}
