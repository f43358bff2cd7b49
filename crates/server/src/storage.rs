//! The disk forecast (SPEC §6, `GET /api/v1/storage`): bytes used by recordings, bytes free on
//! the data directory's file system, the average bytes recorded per day over the last 30 days,
//! and how many days that leaves until the disk is full — and whether it is full right now
//! ([`crate::disk`]). With object storage it also says what waits in the spool for upload and
//! what the bucket holds (issue #10.2).

use crate::disk::DiskCondition;
pub use crate::error::StorageError;
use crate::state::AppState;
use callrec_store::StorageTotals;
use callrec_types::wire::StorageReport;
use chrono::{DateTime, Duration, Utc};
use std::path::Path;

/// The window the daily rate is averaged over.
pub const RATE_WINDOW_DAYS: i64 = 30;

/// Bytes available to an unprivileged writer on the file system holding `path`.
pub fn free_bytes(path: &Path) -> std::io::Result<u64> {
    let st = rustix::fs::statvfs(path)?;
    Ok(st.f_bavail.saturating_mul(st.f_frsize))
}

/// The report from the store's totals, the free space and the disk-full condition; pure, so
/// the arithmetic is tested.
pub fn forecast(totals: &StorageTotals, bytes_free: u64, disk: DiskCondition, now: DateTime<Utc>) -> StorageReport {
    // Average over the full window, or over the time since the first recording in it when the
    // history is shorter (a new installation), but never over less than a day.
    let window_start = now - Duration::days(RATE_WINDOW_DAYS);
    let since = totals.oldest_since.map_or(window_start, |t| t.max(window_start));
    let days = ((now - since).num_seconds() as f64 / 86_400.0).max(1.0);
    let bytes_since = totals.bytes_since.max(0) as f64;
    let per_day = bytes_since / days;
    StorageReport {
        bytes_used: totals.bytes.max(0) as u64,
        bytes_free,
        bytes_per_day: per_day.round() as u64,
        days_until_full: (per_day >= 1.0).then(|| bytes_free as f64 / per_day),
        recordings: totals.recordings.max(0) as u64,
        disk_full: disk.full,
        calls_waiting: disk.calls_waiting,
        audio_lost_ms: disk.audio_lost_ms,
        write_errors: disk.write_errors,
        object_store: None,
        spool_backlog: None,
        spool_backlog_bytes: None,
        bucket_bytes: None,
        upload_failures: None,
        last_upload_error: None,
    }
}

pub async fn report(state: &AppState) -> Result<StorageReport, StorageError> {
    let now = state.clock.now();
    let totals = state
        .store
        .storage_totals(now - Duration::days(RATE_WINDOW_DAYS))
        .await?;
    let root = state.files.root().to_path_buf();
    let free = tokio::task::spawn_blocking(move || free_bytes(&root))
        .await
        .map_err(|e| StorageError::Statvfs(std::io::Error::other(e)))?
        .map_err(StorageError::Statvfs)?;
    let mut report = forecast(&totals, free, state.disk.condition(), now);
    if let Some(objects) = &state.objects {
        let backlog = state.uploads.backlog.borrow().clone();
        report.object_store = Some(objects.url().to_owned());
        report.spool_backlog = Some(backlog.waiting);
        report.spool_backlog_bytes = Some(backlog.bytes);
        report.upload_failures = Some(backlog.failures);
        report.last_upload_error = backlog.last_error;
        // A store that is down must not hold up the report: its use is then unknown.
        report.bucket_bytes = match tokio::time::timeout(BUCKET_LIST_TIMEOUT, objects.bytes_used()).await {
            Ok(Ok(n)) => Some(n),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "cannot list the object store for the storage report");
                None
            }
            Err(_) => None,
        };
    }
    Ok(report)
}

/// How long the storage report waits for the object store's listing.
const BUCKET_LIST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn fine() -> DiskCondition {
        DiskCondition {
            full: false,
            calls_waiting: 0,
            audio_lost_ms: 0,
            write_errors: 0,
        }
    }

    #[test]
    fn issue_13_the_report_says_the_disk_is_full() {
        let full = DiskCondition {
            full: true,
            calls_waiting: 3,
            audio_lost_ms: 12_500,
            write_errors: 40,
        };
        let r = forecast(&StorageTotals::default(), 0, full, now());
        assert!(r.disk_full, "full");
        assert_eq!(r.calls_waiting, 3, "calls waiting to write");
        assert_eq!(r.audio_lost_ms, 12_500, "audio lost");
        assert_eq!(r.write_errors, 40, "write errors");
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 6, 30, 12, 0, 0).single().expect("valid")
    }

    #[test]
    fn nothing_recorded_means_the_disk_never_fills() {
        let r = forecast(&StorageTotals::default(), 1_000_000, fine(), now());
        assert_eq!(r.bytes_per_day, 0);
        assert_eq!(r.days_until_full, None, "no rate, no forecast");
    }

    #[test]
    fn thirty_days_of_history_average_over_thirty_days() {
        let totals = StorageTotals {
            bytes: 9_000,
            recordings: 10,
            bytes_since: 3_000,
            oldest_since: Some(now() - Duration::days(29)),
        };
        let r = forecast(&totals, 10_000, fine(), now());
        assert_eq!(r.bytes_per_day, 103, "3000 bytes over 29 days");
        let days = r.days_until_full.expect("a rate gives a forecast");
        assert!((days - 96.67).abs() < 0.1, "10000 free at ~103/day: {days}");
    }

    #[test]
    fn a_new_installation_averages_over_at_least_one_day() {
        let totals = StorageTotals {
            bytes: 500,
            recordings: 1,
            bytes_since: 500,
            oldest_since: Some(now() - Duration::hours(2)),
        };
        let r = forecast(&totals, 5_000, fine(), now());
        assert_eq!(r.bytes_per_day, 500, "two hours of history count as one day");
        assert_eq!(r.days_until_full, Some(10.0));
    }

    #[test]
    fn the_data_directory_has_free_space() {
        let dir = tempfile::tempdir().expect("temp dir");
        assert!(free_bytes(dir.path()).expect("statvfs works") > 0);
    }
}
