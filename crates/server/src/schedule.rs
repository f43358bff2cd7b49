//! The scheduled job (SPEC §6): at the times of the cron schedule in the settings (local time,
//! default daily at 20:00) it sends the dispatch queue and then runs retention. Time comes
//! from the injected [`Clock`](crate::clock::Clock), so tests move it; the scheduler sleeps on
//! the clock until the next scheduled time (a test's clock wakes it when moved; a change of
//! settings wakes it too) and runs the job once when a scheduled time has passed since it
//! last looked (once, however many times were missed). After each look it publishes the time
//! it looked at (`AppState::scheduler_checked`), which tests wait on instead of sleeping.
//!
//! The time of the last run is kept in the store, so a server that was down at 20:00 runs the
//! job once when it comes back. [`run_job`] is also what `POST /api/v1/dispatch/run` calls.

pub use crate::cron::{Schedule, ScheduleError};
use crate::dispatch::{self, DispatchCounts};
use crate::retention;
use crate::settings;
use crate::state::AppState;
use callrec_store::DispatchFilter;
use callrec_types::calls::DispatchStatus;
use callrec_types::wire::RunReport;
use chrono::{DateTime, Utc};
use std::time::Duration;

/// The store key of the last run's time (RFC 3339).
pub const LAST_RUN_KEY: &str = "scheduler.last_run";

/// Sends the due dispatch queue, then runs retention. Errors of single targets or recordings
/// are recorded and counted, never fatal; an error of the store ends the run early and is
/// logged.
pub async fn run_job(state: &AppState) -> RunReport {
    // Several nodes: one runs the job at a time; a node asked to run it while another does
    // waits and then runs it after, finding sent what the other sent (each dispatch is also
    // claimed with a lease, so nothing is sent twice even without the lock).
    let _one_node = match &state.cluster {
        Some(c) => match c.pg.lock(crate::cluster::SCHEDULE_LOCK).await {
            Ok(lock) => Some(lock),
            Err(e) => {
                tracing::error!(error = %e, "cannot take the cluster's job lock; the job waits");
                let now = state.clock.now();
                return RunReport {
                    started_at: now,
                    finished_at: now,
                    attempted: 0,
                    sent: 0,
                    failed: 0,
                    gave_up: 0,
                    pending: 0,
                    deleted_recordings: Vec::new(),
                    retention_errors: 0,
                };
            }
        },
        None => None,
    };
    let started_at = state.clock.now();
    let counts = match dispatch::run_due(state).await {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "the dispatch run stopped early");
            DispatchCounts::default()
        }
    };
    let (deleted, retention_errors) = match retention::run(state, state.clock.now()).await {
        Ok(r) => (r.deleted, r.errors),
        Err(e) => {
            tracing::error!(error = %e, "the retention run stopped early");
            (Vec::new(), 1)
        }
    };
    let pending = state
        .store
        .list_dispatch(&DispatchFilter {
            status: Some(DispatchStatus::Pending),
            recording_id: None,
            limit: Some(10_000),
        })
        .await
        .map(|v| v.len() as u64)
        .unwrap_or(0);
    let report = RunReport {
        started_at,
        finished_at: state.clock.now(),
        attempted: counts.attempted,
        sent: counts.sent,
        failed: counts.failed,
        gave_up: counts.gave_up,
        pending,
        deleted_recordings: deleted,
        retention_errors,
    };
    tracing::info!(
        attempted = report.attempted,
        sent = report.sent,
        failed = report.failed,
        pending = report.pending,
        deleted = report.deleted_recordings.len(),
        "dispatch and retention ran"
    );
    report
}

/// The running scheduler; dropping it stops it.
pub struct Scheduler(tokio::task::JoinHandle<()>);

impl Drop for Scheduler {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Starts the scheduler on the current runtime.
pub fn start(state: AppState) -> Scheduler {
    Scheduler(tokio::spawn(scheduler_loop(state)))
}

async fn last_run(state: &AppState) -> Option<DateTime<Utc>> {
    let text = state.store.get_setting(LAST_RUN_KEY).await.ok()??;
    DateTime::parse_from_rfc3339(&text).ok().map(|t| t.with_timezone(&Utc))
}

/// How long the scheduler waits before reading settings again that could not be read.
const SETTINGS_RETRY: Duration = Duration::from_secs(5);

async fn scheduler_loop(state: AppState) {
    // The window (last, now] is checked for a scheduled time on every pass; between passes
    // the scheduler sleeps on the clock until the next scheduled time, or until it is told to
    // run now, the settings change, or (a test's manual clock) the time is moved.
    let now = state.clock.now();
    let mut last = last_run(&state).await.map_or(now, |t| t.min(now));
    let mut cached: Option<(u64, Schedule)> = None;
    loop {
        let now = state.clock.now();
        // The settings are read again only after they changed (or failed to load).
        let epoch = state.settings_epoch.load(std::sync::atomic::Ordering::Acquire);
        if cached.as_ref().is_none_or(|(e, _)| *e != epoch) {
            let parsed = match settings::load(&state).await {
                Ok(s) => Schedule::parse(&s.dispatch_schedule).map_err(|e| e.to_string()),
                Err(e) => Err(format!("cannot read the settings: {e}")),
            };
            match parsed {
                Ok(s) => cached = Some((epoch, s)),
                Err(e) => {
                    tracing::error!(error = %e, "the dispatch schedule is unusable; the schedule waits");
                    cached = None;
                }
            }
        }
        let mut next = None;
        if let Some((_, schedule)) = &cached {
            if now < last {
                // The clock went back: start the window again from here.
                last = now;
            }
            if schedule.next_after(last).is_some_and(|due| due <= now) {
                run_job(&state).await;
                if let Err(e) = state.store.put_setting(LAST_RUN_KEY, &now.to_rfc3339()).await {
                    tracing::error!(error = %e, "cannot record the time of the scheduled run");
                }
            }
            last = now;
            next = schedule.next_after(now);
        }
        state.scheduler_checked.send_replace(Some(now));
        let due = async {
            match (next, &cached) {
                (Some(at), _) => state.clock.wait_until(at, now).await,
                (None, None) => tokio::time::sleep(SETTINGS_RETRY).await,
                // A schedule without a next time: a change of settings wakes it (or a test
                // moving its clock, so that it is told the time was looked at).
                (None, Some(_)) => state.clock.wait_until(DateTime::<Utc>::MAX_UTC, now).await,
            }
        };
        tokio::select! {
            _ = state.run_now.notified() => {
                run_job(&state).await;
            }
            _ = state.settings_changed.notified() => {}
            _ = due => {}
        }
    }
}
