//! Retention and deletion (SPEC §6): recordings older than `retention_days` are deleted by the
//! scheduled job — except those on legal hold and those with a dispatch still pending (the
//! store's `expired_recordings` leaves them out) — and an admin may delete one at any time.
//!
//! A deletion removes the file (and its object, with object storage) first and the row second, then rewrites the call's journal
//! JSON: a crash in between leaves a row without a file, which the next run removes, never a
//! file without a row. Every deletion is audited (`actor` "system" for retention) and is an
//! entry of the evidence chain, appended first (`crate::evidence`).

use crate::auth::Caller;
use crate::calls;
pub use crate::error::DeleteError;
use crate::settings;
use crate::state::AppState;
use callrec_store::{StoreError, StoredRecording};
use callrec_types::calls::RecordingState;
use callrec_types::evidence::EvidenceKind;
use callrec_types::wire::Event;
use callrec_types::{CallId, RecordingId};
use chrono::{DateTime, Duration, Utc};
use std::collections::BTreeSet;

/// Expired recordings fetched at a time.
const BATCH: i64 = 200;

/// Who deletes, for the audit log.
pub enum Deleter<'a> {
    /// The retention run.
    System,
    Admin(&'a Caller),
    /// The caller refused consent and `consent_refused` is `delete` (issue #11.2).
    Consent,
}

/// What a retention run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RetentionReport {
    pub deleted: Vec<RecordingId>,
    /// Recordings that could not be deleted this time (logged; tried again next run).
    pub errors: u64,
}

/// Removes the file, then the row; rewrites the journal and audits. The caller has checked
/// that the recording may go.
async fn remove(state: &AppState, rec: &StoredRecording, by: Deleter<'_>, why: &str) -> Result<(), DeleteError> {
    // The chain records the deletion before anything goes (issue #12.2): a deletion that
    // cannot be recorded does not happen now (retention tries again on its next run).
    let kind = match by {
        Deleter::System => EvidenceKind::DeletedByRetention,
        Deleter::Admin(_) => EvidenceKind::DeletedByAdmin,
        Deleter::Consent => EvidenceKind::DeletedByConsent,
    };
    crate::evidence::deleted(state, &rec.recording, kind).await?;
    let path = state.files.abs(&rec.rel_path).map_err(|e| DeleteError::File {
        path: rec.rel_path.clone(),
        source: e,
    })?;
    match tokio::fs::remove_file(&path).await {
        Ok(()) => {}
        // Gone already (a crash after the file, before the row): the row goes now.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            return Err(DeleteError::File {
                path: path.display().to_string(),
                source: e,
            })
        }
    }
    // Then the object (issue #10.2), if it was uploaded already; one not there yet is
    // dropped by the uploader when it finds the row gone.
    if let Some(objects) = &state.objects {
        objects.delete(&rec.rel_path).await.map_err(|e| DeleteError::File {
            path: format!("{}/{}", objects.url(), rec.rel_path),
            source: std::io::Error::other(e),
        })?;
    }
    let gone = state.store.delete_recording(rec.recording.id).await?;
    let dropped = gone
        .recording
        .dispatch
        .iter()
        .filter(|t| t.status == callrec_types::calls::DispatchStatus::Pending)
        .count();
    let mut detail = format!(
        "{} ({} bytes, started {}): {why}",
        rec.recording.file_name,
        rec.recording.bytes,
        rec.recording.started_at.to_rfc3339()
    );
    if dropped > 0 {
        detail.push_str(&format!("; {dropped} pending dispatch target(s) dropped with it"));
    }
    let (caller, actor, action) = match by {
        Deleter::System => (None, "system", "recording_expire"),
        Deleter::Admin(c) => (Some(c), "", "recording_delete"),
        Deleter::Consent => (None, "system", "recording_delete_consent"),
    };
    calls::audit(
        state,
        caller,
        actor,
        action,
        format!("recording {}", rec.recording.id),
        detail,
    )
    .await;
    state
        .metrics
        .bytes_stored
        .fetch_sub(rec.recording.bytes, std::sync::atomic::Ordering::Relaxed);
    Ok(())
}

async fn after_deletions(state: &AppState, calls_touched: &BTreeSet<CallId>) {
    for &call_id in calls_touched {
        if let Err(e) = calls::write_journal(state, call_id).await {
            tracing::error!(call = %call_id, error = %e.body.message, "could not rewrite the journal after a deletion");
            continue;
        }
        if let Ok((call, _)) = state.store.get_call(call_id).await {
            state
                .publish(Event::Journal { call_id }, calls::internal_users(&call), None)
                .await;
        }
    }
}

/// An admin's `DELETE /api/v1/recordings/{id}`: refused while on legal hold or still being
/// written.
pub async fn delete(state: &AppState, id: RecordingId, caller: &Caller) -> Result<(), DeleteError> {
    let rec = state.store.get_recording(id).await?;
    if rec.recording.legal_hold {
        return Err(DeleteError::LegalHold);
    }
    if rec.recording.state == RecordingState::Recording {
        return Err(DeleteError::InProgress);
    }
    remove(state, &rec, Deleter::Admin(caller), "deleted by an admin").await?;
    after_deletions(state, &BTreeSet::from([rec.recording.call_id])).await;
    Ok(())
}

/// Deletes a finished recording of a call whose caller refused consent (`consent_refused` =
/// `delete`); one on legal hold stays (`LegalHold`). The journal is rewritten and announced.
pub async fn delete_refused(state: &AppState, id: RecordingId) -> Result<(), DeleteError> {
    let rec = state.store.get_recording(id).await?;
    if rec.recording.legal_hold {
        return Err(DeleteError::LegalHold);
    }
    remove(
        state,
        &rec,
        Deleter::Consent,
        "the caller refused consent (consent_refused = delete)",
    )
    .await?;
    after_deletions(state, &BTreeSet::from([rec.recording.call_id])).await;
    Ok(())
}

/// The cut-off: recordings started before it have expired.
pub fn cutoff(now: DateTime<Utc>, retention_days: u32) -> DateTime<Utc> {
    now - Duration::days(i64::from(retention_days))
}

/// Deletes every expired recording (started more than `retention_days` before `now`) that is
/// not on legal hold and has no pending dispatch.
pub async fn run(state: &AppState, now: DateTime<Utc>) -> Result<RetentionReport, StoreError> {
    let days = match settings::load(state).await {
        Ok(s) => s.retention_days,
        Err(e) => {
            // Without the settings we do not know what has expired: delete nothing.
            tracing::error!(error = %e, "cannot read the retention setting; nothing is deleted");
            return Ok(RetentionReport {
                deleted: Vec::new(),
                errors: 1,
            });
        }
    };
    let before = cutoff(now, days);
    let mut report = RetentionReport::default();
    let mut touched = BTreeSet::new();
    let mut failed: BTreeSet<RecordingId> = BTreeSet::new();
    loop {
        let batch = state
            .store
            .expired_recordings(before, BATCH + failed.len() as i64)
            .await?;
        let todo: Vec<StoredRecording> = batch
            .into_iter()
            .filter(|r| !failed.contains(&r.recording.id))
            .collect();
        if todo.is_empty() {
            break;
        }
        for rec in todo {
            let why = format!("older than the retention of {days} days");
            match remove(state, &rec, Deleter::System, &why).await {
                Ok(()) => {
                    report.deleted.push(rec.recording.id);
                    touched.insert(rec.recording.call_id);
                }
                // Deleted meanwhile by someone else: fine.
                Err(DeleteError::NotFound) => {}
                Err(e) => {
                    tracing::error!(recording = %rec.recording.id, error = %e, "retention could not delete a recording");
                    failed.insert(rec.recording.id);
                    report.errors += 1;
                }
            }
        }
    }
    after_deletions(state, &touched).await;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_cutoff_is_retention_days_before_now() {
        let now = Utc.with_ymd_and_hms(2026, 6, 30, 12, 0, 0).single().expect("valid");
        assert_eq!(
            cutoff(now, 90),
            Utc.with_ymd_and_hms(2026, 4, 1, 12, 0, 0).single().expect("valid")
        );
    }
}
