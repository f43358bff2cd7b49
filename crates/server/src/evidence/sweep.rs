//! The sweep that signs finished recordings still without an evidence entry (an append that
//! failed, a process that died between completing a row and appending its entry), after
//! checking, through the playback read path, that their audio still hashes to the row.
//!
//! A recording the sweep cannot sign — its audio is not here (another node's spool not
//! uploaded yet, a lost file) or no longer matches its row (left for `verify` to report) —
//! stays without an entry, and walking every such row again each minute cost a busy server
//! real work: with 1.5M rows whose audio was elsewhere, the sweep never stopped and took a
//! share of the CPU the journal needed. So a sweep walks everything only at start, when an
//! append failed, and once an hour (what became readable since); every other minute it reads
//! only the recordings after the last one it looked at. A recording that finishes after the
//! walk passed its id is signed when it finishes, and if that fails the failure wakes a full
//! sweep. `/metrics` counts the sweeps and how many finished recordings were still unsigned.

use super::{append, entry_of};
use crate::state::AppState;
use callrec_store::StoreError;
use callrec_types::evidence::EvidenceKind;
use callrec_types::RecordingId;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// How often the sweep looks for recordings finished since the last one.
const SWEEP_EVERY: Duration = Duration::from_secs(60);
/// How often it walks every recording without an entry again.
const FULL_SWEEP_EVERY: Duration = Duration::from_secs(3600);
/// Recordings the sweep reads at a time.
const SWEEP_BATCH: i64 = 100;

/// Completed sweeps, counted in `/metrics`.
pub const SWEEPS: &str = "callrec_evidence_sweeps_total";
/// Finished recordings without an evidence entry the sweeps could not sign, in `/metrics`.
pub const UNSIGNED: &str = "callrec_recordings_unsigned";

/// What one sweep did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    /// Recordings it signed.
    pub signed: usize,
    /// Recordings without an entry it could not sign.
    pub unsigned: usize,
    /// The last recording it looked at (the `after` it was given when it found none).
    pub last: RecordingId,
}

/// Signs every finished recording after `after` that has no entry yet and whose audio, read as
/// playback reads it, still hashes to its row.
pub async fn sweep(state: &AppState, after: RecordingId) -> Result<Swept, StoreError> {
    let mut swept = Swept {
        signed: 0,
        unsigned: 0,
        last: after,
    };
    loop {
        let batch = state.store.recordings_without_evidence(swept.last, SWEEP_BATCH).await?;
        let Some(last) = batch.last() else { break };
        swept.last = last.recording.id;
        for rec in &batch {
            let Ok(abs) = state.files.abs(&rec.rel_path) else {
                swept.unsigned += 1;
                continue;
            };
            match crate::audio::stored_sha256(&abs, state.objects.as_ref(), &rec.rel_path, &state.vault).await {
                Ok((sha, _)) if sha == rec.recording.sha256 => {
                    append(
                        state,
                        &entry_of(&rec.recording, EvidenceKind::Recorded, state.clock.now()),
                    )
                    .await?;
                    swept.signed += 1;
                    continue;
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
            swept.unsigned += 1;
        }
        if (batch.len() as i64) < SWEEP_BATCH {
            break;
        }
    }
    if swept.signed > 0 {
        tracing::info!(
            signed = swept.signed,
            "signed finished recordings that had no evidence entry"
        );
    }
    Ok(swept)
}

/// Where the next sweep starts: from the first recording (a full sweep) or after the last one
/// looked at.
#[derive(Debug)]
struct Plan {
    /// The last recording a sweep looked at since the last full one; `None`: walk everything.
    examined: Option<RecordingId>,
    last_full: Instant,
    /// Unsigned recordings found since the last full sweep began.
    unsigned: usize,
}

impl Plan {
    fn new(now: Instant) -> Plan {
        Plan {
            examined: None,
            last_full: now,
            unsigned: 0,
        }
    }

    /// The `after` of the next sweep, and whether it is a full one.
    fn next(&self, now: Instant) -> (RecordingId, bool) {
        match self.examined {
            Some(last) if now.duration_since(self.last_full) < FULL_SWEEP_EVERY => (last, false),
            _ => (RecordingId(0), true),
        }
    }

    fn done(&mut self, full: bool, started: Instant, swept: &Swept) {
        if full {
            self.last_full = started;
            self.unsigned = 0;
        }
        self.unsigned += swept.unsigned;
        self.examined = Some(swept.last);
    }

    /// A failed sweep or append: the next sweep walks everything.
    fn start_over(&mut self) {
        self.examined = None;
    }
}

/// Sweeps at start, every minute (what is new) and every hour (everything), and whenever an
/// append failed (everything), until the server stops.
pub async fn run_sweeps(state: AppState) {
    let sweeps = state.metrics.counter(
        SWEEPS,
        "Evidence sweeps completed (signing finished recordings without an entry).",
    );
    let unsigned = state.metrics.gauge(
        UNSIGNED,
        "Finished recordings without an evidence entry at the last sweep: their audio is not here or no longer matches.",
    );
    let mut plan = Plan::new(Instant::now());
    loop {
        let started = Instant::now();
        let (after, full) = plan.next(started);
        match sweep(&state, after).await {
            Ok(swept) => {
                plan.done(full, started, &swept);
                unsigned.store(plan.unsigned as i64, Ordering::Relaxed);
                sweeps.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => {
                tracing::warn!(error = %e, "the evidence sweep failed; trying again later");
                plan.start_over();
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(SWEEP_EVERY) => {}
            _ = state.evidence_retry.notified() => {
                // A failed append: give the database a moment before trying again.
                tokio::time::sleep(Duration::from_secs(1)).await;
                plan.start_over();
            }
            _ = state.stopping.cancelled() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn swept(unsigned: usize, last: i64) -> Swept {
        Swept {
            signed: 0,
            unsigned,
            last: RecordingId(last),
        }
    }

    #[test]
    fn the_first_sweep_walks_everything_then_only_what_is_new_until_the_hour_is_up() {
        let t0 = Instant::now();
        let mut plan = Plan::new(t0);
        assert_eq!(plan.next(t0), (RecordingId(0), true));
        plan.done(true, t0, &swept(3, 500));
        assert_eq!(plan.unsigned, 3);

        let t1 = t0 + SWEEP_EVERY;
        assert_eq!(plan.next(t1), (RecordingId(500), false), "only what came after 500");
        plan.done(false, t1, &swept(1, 520));
        assert_eq!(plan.unsigned, 4, "the new unsigned one adds to the full sweep's");
        assert_eq!(plan.next(t1 + SWEEP_EVERY), (RecordingId(520), false));

        // Nothing new: the next one starts at the same place.
        plan.done(false, t1, &swept(0, 520));
        assert_eq!(plan.next(t1 + SWEEP_EVERY), (RecordingId(520), false));

        let hour = t0 + FULL_SWEEP_EVERY;
        assert_eq!(plan.next(hour), (RecordingId(0), true), "every hour from the start");
        plan.done(true, hour, &swept(2, 530));
        assert_eq!(plan.unsigned, 2, "a full sweep counts afresh");
        assert_eq!(plan.next(hour + SWEEP_EVERY), (RecordingId(530), false));
    }

    #[test]
    fn a_failure_makes_the_next_sweep_a_full_one() {
        let t0 = Instant::now();
        let mut plan = Plan::new(t0);
        plan.done(true, t0, &swept(0, 80));
        plan.start_over();
        assert_eq!(plan.next(t0 + SWEEP_EVERY), (RecordingId(0), true));
    }
}
