//! The disk-full condition (issue #13): whether recordings can be written right now, what a
//! full disk has cost so far, and the refusals given meanwhile.
//!
//! "Full" is set by any recording write the disk refuses — ENOSPC, EDQUOT or another error:
//! the recorder cannot tell a lasting error from a passing one, so it holds the audio and
//! retries in every case — and cleared by the next write that succeeds: an RTP worker's retry
//! of a call's held audio (see [`crate::rtp::backlog`]), or the [`watch`] probe, which runs
//! while the flag is set so that the condition also ends when no call is writing (statvfs
//! shows room *and* a small test file can be written: the write sees quotas statvfs cannot).
//!
//! While full, new SIPREC calls are refused with 503 and `Retry-After` and uploads with 507:
//! answering a call the recorder cannot write would leave a call without its recording.

mod watch;

use crate::metrics::Metrics;
use callrec_media::sip::Message;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
pub use watch::{refuse_upload, watch};

/// The `Retry-After` of a SIP 503 while the disk is full: long enough not to hammer a
/// recorder that has no room, short enough that calls come back soon after space does.
pub const RETRY_AFTER_SECS: u32 = 10;
/// How often [`watch`] probes a full disk.
const PROBE_EVERY: Duration = Duration::from_secs(1);
/// The free space statvfs must show before the probe writes its test file.
const PROBE_MIN_FREE: u64 = 1024 * 1024;
/// The probe's test file: about four seconds of one call's audio.
const PROBE_BYTES: usize = 64 * 1024;
/// Bytes of one second of a SIPREC recording (stereo G.711 at 8 kHz).
pub const BYTES_PER_SEC: usize = 16_000;

/// The condition and its counters, shared by the RTP workers, SIP, ingest and the routes.
pub struct Disk {
    /// Bytes of audio each recording may hold in memory while the disk refuses writes.
    pub buffer_bytes: usize,
    full: Arc<AtomicI64>,
    write_errors: Arc<AtomicU64>,
    calls_waiting: Arc<AtomicI64>,
    buffered_bytes: Arc<AtomicI64>,
    dropped_bytes: Arc<AtomicU64>,
    dropped_ms: Arc<AtomicU64>,
    refused: Arc<AtomicU64>,
}

/// What the storage screen shows of the condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiskCondition {
    pub full: bool,
    pub calls_waiting: u64,
    pub audio_lost_ms: u64,
    pub write_errors: u64,
}

impl Disk {
    /// Registers the counters; each recording may hold `buffer_secs` of audio.
    pub fn new(metrics: &Metrics, buffer_secs: u32) -> Disk {
        Disk {
            buffer_bytes: usize::try_from(buffer_secs)
                .unwrap_or(usize::MAX)
                .saturating_mul(BYTES_PER_SEC),
            full: metrics.gauge(
                "callrec_storage_full",
                "1 while the disk refuses recording writes (new calls are refused), else 0.",
            ),
            write_errors: metrics.counter(
                "callrec_storage_write_errors_total",
                "Recording writes the disk refused (ENOSPC, EDQUOT, other errors), retries included.",
            ),
            calls_waiting: metrics.gauge(
                "callrec_storage_calls_waiting",
                "Recordings holding audio in memory until the disk accepts it.",
            ),
            buffered_bytes: metrics.gauge(
                "callrec_storage_buffered_bytes",
                "Bytes of audio held in memory until the disk accepts it.",
            ),
            dropped_bytes: metrics.counter(
                "callrec_storage_dropped_bytes_total",
                "Bytes of audio dropped because the disk refused them for too long (recorded as gaps).",
            ),
            dropped_ms: metrics.counter(
                "callrec_storage_dropped_ms_total",
                "Milliseconds of audio dropped because the disk refused them for too long (recorded as gaps).",
            ),
            refused: metrics.counter(
                "callrec_storage_refused_total",
                "SIPREC calls (503) and uploads (507) refused because the disk was full.",
            ),
        }
    }

    /// Whether the last recording write (or probe) failed.
    pub fn is_full(&self) -> bool {
        self.full.load(Ordering::Relaxed) != 0
    }

    /// A recording write failed: counted, and the disk is full until a write succeeds.
    pub fn write_failed(&self, error: &dyn std::fmt::Display) {
        self.write_errors.fetch_add(1, Ordering::Relaxed);
        if self.full.swap(1, Ordering::Relaxed) == 0 {
            tracing::error!(%error, "the disk refuses recording writes: holding audio in memory, refusing new calls");
        }
    }

    /// A recording write (or the probe) succeeded: the disk takes data again.
    pub fn write_succeeded(&self) {
        if self.full.swap(0, Ordering::Relaxed) != 0 {
            tracing::warn!("the disk accepts recording writes again");
        }
    }

    /// `frames` stereo frames (8 kHz) of audio were dropped.
    pub fn dropped(&self, frames: u64) {
        if frames == 0 {
            return;
        }
        let before = self.dropped_bytes.fetch_add(frames * 2, Ordering::Relaxed) / 2;
        // Milliseconds from the frame total, so rounding never accumulates: 8 frames a ms.
        let ms = (before + frames) / 8 - before / 8;
        self.dropped_ms.fetch_add(ms, Ordering::Relaxed);
    }

    /// A recording started (`+1`) or stopped (`-1`) waiting for the disk.
    pub fn waiting(&self, delta: i64) {
        self.calls_waiting.fetch_add(delta, Ordering::Relaxed);
    }

    /// The audio held in memory grew (or shrank) by `delta` bytes.
    pub fn buffered(&self, delta: i64) {
        self.buffered_bytes.fetch_add(delta, Ordering::Relaxed);
    }

    /// The numbers the storage screen shows.
    pub fn condition(&self) -> DiskCondition {
        DiskCondition {
            full: self.is_full(),
            calls_waiting: u64::try_from(self.calls_waiting.load(Ordering::Relaxed)).unwrap_or(0),
            audio_lost_ms: self.dropped_ms.load(Ordering::Relaxed),
            write_errors: self.write_errors.load(Ordering::Relaxed),
        }
    }
}

/// A 503 to an INVITE while the disk is full, with when to try again (RFC 3261 §21.5.4,
/// §20.33) and why.
pub fn refusal(response: Option<Message>) -> Option<Message> {
    let mut r = response?;
    r.headers.push("Retry-After", &RETRY_AFTER_SECS.to_string());
    r.headers.push("Warning", "399 callrec \"the recorder's disk is full\"");
    Some(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_13_dropped_milliseconds_add_up_without_rounding_drift() {
        let m = Metrics::default();
        let d = Disk::new(&m, 30);
        for _ in 0..1000 {
            d.dropped(3); // 0.375 ms each
        }
        assert_eq!(d.condition().audio_lost_ms, 375, "3000 frames at 8 kHz are 375 ms");
        assert!(
            m.render().contains("callrec_storage_dropped_bytes_total 6000"),
            "two bytes per stereo frame"
        );
    }

    #[test]
    fn issue_13_full_is_set_by_a_failure_and_cleared_by_a_success() {
        let m = Metrics::default();
        let d = Disk::new(&m, 30);
        assert!(!d.is_full(), "a new server's disk is not full");
        d.write_failed(&"No space left on device");
        d.write_failed(&"No space left on device");
        assert!(d.is_full(), "a refused write makes it full");
        let text = m.render();
        assert!(text.contains("callrec_storage_full 1"), "the gauge shows it: {text}");
        assert!(
            text.contains("callrec_storage_write_errors_total 2"),
            "each error counts"
        );
        d.write_succeeded();
        assert!(!d.is_full(), "a successful write ends it");
        assert_eq!(d.buffer_bytes, 30 * 16_000, "30 s of stereo G.711");
    }
}
