//! The last moment this server was known alive, kept in `<data_dir>/alive` so that start-up
//! repair can end the calls a crash cut off at the moment the process died rather than at the
//! restart: downtime is not call length (issue #13.2).
//!
//! The file holds one RFC 3339 time, rewritten in place every [`EVERY`] — a 30-byte write, no
//! fsync: after a power cut it may be older than the last audio, which repair also takes into
//! account (a call ends no earlier than the audio it recorded).

use crate::state::AppState;
use chrono::{DateTime, Utc};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How often the time is written; a crash ends calls at most this much too early.
pub const EVERY: Duration = Duration::from_secs(1);

fn path(data_dir: &Path) -> PathBuf {
    data_dir.join("alive")
}

/// The last time written, if any (and if it reads as a time).
pub fn last(data_dir: &Path) -> Option<DateTime<Utc>> {
    let text = std::fs::read_to_string(path(data_dir)).ok()?;
    DateTime::parse_from_rfc3339(text.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Writes the time now.
pub fn write(data_dir: &Path, now: DateTime<Utc>) -> std::io::Result<()> {
    // A fixed-width time, so rewriting in place never leaves a longer old tail behind.
    std::fs::write(path(data_dir), now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
}

/// Writes the time every [`EVERY`] until aborted. A failed write (a full disk) is logged once
/// and retried; it only makes a later repair more conservative.
pub fn start(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut failing = false;
        loop {
            every.tick().await;
            let (dir, now) = (state.config.data_dir.clone(), state.clock.now());
            let result = tokio::task::spawn_blocking(move || write(&dir, now)).await;
            match result {
                Ok(Ok(())) => failing = false,
                Ok(Err(e)) if !failing => {
                    failing = true;
                    tracing::warn!(error = %e, "cannot write the heartbeat file");
                }
                _ => {}
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_time_written_reads_back_to_the_millisecond() {
        let dir = tempfile::tempdir().expect("temp dir");
        assert_eq!(last(dir.path()), None, "no file: no time");
        let t = DateTime::parse_from_rfc3339("2026-12-02T10:11:12.345Z")
            .expect("a time")
            .with_timezone(&Utc);
        write(dir.path(), t).expect("write");
        assert_eq!(last(dir.path()), Some(t), "read back");
        std::fs::write(path(dir.path()), "garbage").expect("write");
        assert_eq!(last(dir.path()), None, "garbage is no time");
    }
}
