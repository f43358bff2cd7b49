//! Admin maintenance: settings (with the schedule preview and an SMTP test), the dispatch
//! queue (list, run now, retry one), legal hold and deletion of recordings, and the storage
//! forecast. Handlers check the caller, call `settings`, `schedule`, `dispatch`, `retention`
//! or `storage`, audit what changed, and shape the answer.

use crate::auth::Admin;
use crate::calls::audit;
use crate::dispatch::{self, email};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiQuery, Id};
use crate::names;
use crate::retention;
use crate::schedule::{self, Schedule};
use crate::settings;
use crate::state::AppState;
use crate::storage;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use callrec_store::DispatchFilter;
use callrec_types::calls::{DispatchStatus, DispatchTarget, Recording};
use callrec_types::rules::{is_plausible_email, FieldError};
use callrec_types::wire::ErrorCode;
use callrec_types::wire::{
    HoldRequest, RunReport, SchedulePreview, Settings, SettingsPatch, SmtpTestRequest, SmtpTestResult, StorageReport,
};
use callrec_types::*;
use chrono::DateTime;
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/settings", get(get_settings).put(put_settings))
        .route("/api/v1/settings/schedule/preview", get(schedule_preview))
        .route("/api/v1/settings/smtp/test", post(smtp_test))
        .route("/api/v1/dispatch", get(list_dispatch))
        .route("/api/v1/dispatch/run", post(run_dispatch))
        .route("/api/v1/dispatch/{id}/retry", post(retry_dispatch))
        .route("/api/v1/recordings/{id}/hold", put(hold_recording))
        .route("/api/v1/recordings/{id}", axum::routing::delete(delete_recording))
        .route("/api/v1/storage", get(storage_report))
}

async fn get_settings(State(s): State<AppState>, _: Admin) -> ApiResult<Json<Settings>> {
    Ok(Json(settings::redacted(settings::load(&s).await?)))
}

async fn put_settings(
    State(s): State<AppState>,
    Admin(c): Admin,
    ApiJson(patch): ApiJson<SettingsPatch>,
) -> ApiResult<Json<Settings>> {
    let (next, changes) = settings::update(&s, &patch).await?;
    if !changes.is_empty() {
        audit(
            &s,
            Some(&c),
            "",
            "settings_update",
            "settings".into(),
            changes.join("; "),
        )
        .await;
    }
    Ok(Json(settings::redacted(next)))
}

#[derive(Deserialize)]
struct PreviewParams {
    cron: Option<String>,
}

async fn schedule_preview(
    State(s): State<AppState>,
    _: Admin,
    ApiQuery(p): ApiQuery<PreviewParams>,
) -> ApiResult<Json<SchedulePreview>> {
    let cron = match p.cron {
        Some(cron) => cron.trim().to_string(),
        None => settings::load(&s).await?.dispatch_schedule,
    };
    let sched = Schedule::parse(&cron)
        .map_err(|e| ApiError::invalid_fields(vec![FieldError::new("dispatch_schedule", e.to_string())]))?;
    Ok(Json(SchedulePreview {
        next: sched
            .next_runs(s.clock.now(), 3)
            .iter()
            .map(DateTime::fixed_offset)
            .collect(),
        cron,
    }))
}

async fn smtp_test(
    State(s): State<AppState>,
    Admin(c): Admin,
    ApiJson(req): ApiJson<SmtpTestRequest>,
) -> ApiResult<Json<SmtpTestResult>> {
    if !is_plausible_email(req.to.trim()) {
        return Err(ApiError::invalid_fields(vec![FieldError::new(
            "to",
            format!("not an e-mail address: {:?}", req.to),
        )]));
    }
    let smtp = settings::load(&s).await?.smtp;
    let result = email::send_test(&smtp, req.to.trim()).await;
    audit(
        &s,
        Some(&c),
        "",
        "smtp_test",
        format!("mail to {}", req.to.trim()),
        match &result {
            Ok(()) => "sent".to_string(),
            Err(e) => e.to_string(),
        },
    )
    .await;
    match result {
        Ok(()) => Ok(Json(SmtpTestResult {
            sent: true,
            to: req.to.trim().to_string(),
        })),
        Err(email::EmailError::NotConfigured) => Err(ApiError::invalid_fields(vec![FieldError::new(
            "smtp.host",
            email::EmailError::NotConfigured.to_string(),
        )])),
        Err(e) => Err(ApiError::new(
            StatusCode::BAD_GATEWAY,
            ErrorCode::SmtpFailed,
            e.to_string(),
        )),
    }
}

#[derive(Deserialize)]
struct DispatchParams {
    status: Option<String>,
    recording_id: Option<String>,
    limit: Option<String>,
}

async fn list_dispatch(
    State(s): State<AppState>,
    _: Admin,
    ApiQuery(p): ApiQuery<DispatchParams>,
) -> ApiResult<Json<Vec<DispatchTarget>>> {
    let bad = |m: &str| ApiError::bad_request(ErrorCode::BadQuery, m.to_string());
    let status = match p.status.as_deref().filter(|v| !v.is_empty()) {
        None => None,
        Some(v) => Some(DispatchStatus::parse(v).ok_or_else(|| bad("status is pending, sent or failed"))?),
    };
    let recording_id = match p.recording_id.as_deref().filter(|v| !v.is_empty()) {
        None => None,
        Some(v) => Some(
            v.parse::<RecordingId>()
                .map_err(|_| bad("recording_id must be a positive integer"))?,
        ),
    };
    let limit = match p.limit.as_deref().filter(|v| !v.is_empty()) {
        None => None,
        Some(v) => Some(
            v.parse::<i64>()
                .ok()
                .filter(|l| (1..=10_000).contains(l))
                .ok_or_else(|| bad("limit is 1 to 10000"))?,
        ),
    };
    let mut queue = s
        .store
        .list_dispatch(&DispatchFilter {
            status,
            recording_id,
            limit,
        })
        .await?;
    names::fill(&s, &mut queue).await?;
    Ok(Json(queue))
}

/// Runs the job now. Targets waiting for their backoff are sent too: an admin who presses
/// "run now" after fixing the SMTP server wants the queue out now.
async fn run_dispatch(State(s): State<AppState>, Admin(c): Admin) -> ApiResult<Json<RunReport>> {
    s.store.expedite_dispatch(s.clock.now()).await?;
    let report = schedule::run_job(&s).await;
    audit(
        &s,
        Some(&c),
        "",
        "dispatch_run",
        "dispatch".into(),
        format!(
            "sent {}, failed {}, pending {}, deleted {} recording(s)",
            report.sent,
            report.failed,
            report.pending,
            report.deleted_recordings.len()
        ),
    )
    .await;
    Ok(Json(report))
}

async fn retry_dispatch(
    State(s): State<AppState>,
    Admin(c): Admin,
    Id(id): Id<DispatchId>,
) -> ApiResult<Json<DispatchTarget>> {
    let target = dispatch::retry(&s, id).await?;
    audit(
        &s,
        Some(&c),
        "",
        "dispatch_retry",
        format!("dispatch {id}"),
        format!(
            "recording {}: {}{}",
            target.recording_id,
            target.status.as_str(),
            target
                .last_error
                .as_deref()
                .map(|e| format!(" ({e})"))
                .unwrap_or_default()
        ),
    )
    .await;
    Ok(Json(target))
}

async fn hold_recording(
    State(s): State<AppState>,
    Admin(c): Admin,
    Id(id): Id<RecordingId>,
    ApiJson(req): ApiJson<HoldRequest>,
) -> ApiResult<Json<Recording>> {
    let mut rec = s.store.set_legal_hold(id, req.legal_hold).await.map_err(|e| match e {
        callrec_store::StoreError::NotFound => ApiError::not_found("recording"),
        other => other.into(),
    })?;
    audit(
        &s,
        Some(&c),
        "",
        if req.legal_hold {
            "recording_hold"
        } else {
            "recording_release"
        },
        format!("recording {id}"),
        format!("legal hold {}", if req.legal_hold { "set" } else { "released" }),
    )
    .await;
    names::fill(&s, &mut rec).await?;
    Ok(Json(rec))
}

async fn delete_recording(
    State(s): State<AppState>,
    Admin(c): Admin,
    Id(id): Id<RecordingId>,
) -> ApiResult<StatusCode> {
    retention::delete(&s, id, &c).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn storage_report(State(s): State<AppState>, _: Admin) -> ApiResult<Json<StorageReport>> {
    Ok(Json(storage::report(&s).await?))
}
