//! Calls: the live ones, one call with its recordings and trace, the record toggle, the
//! caller's consent, the per-call journal document, and the journal list.

use crate::auth::Caller;
use crate::calls::{self, detail_for, visible_call};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiQuery, Id};
use crate::names;
use crate::state::AppState;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use callrec_store::{JournalCursor, JournalQuery};
use callrec_types::calls::{CallConsent, CallDetail, CallDirection, ConsentVia, JournalPage, ManualVia};
use callrec_types::wire::ErrorCode;
use callrec_types::wire::{
    ConsentRequest, ConsentResponse, RecordingAction, RecordingActionRequest, RecordingActionResponse,
};
use callrec_types::*;
use chrono::{DateTime, Utc};
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/calls/live", get(live_calls))
        .route("/api/v1/calls/{id}", get(get_call))
        .route("/api/v1/calls/{id}/recording", post(set_recording))
        .route("/api/v1/calls/{id}/consent", put(set_consent))
        .route("/api/v1/calls/{id}/journal.json", get(call_journal_json))
        .route("/api/v1/journal", get(journal))
}

async fn live_calls(State(s): State<AppState>, c: Caller) -> ApiResult<Json<Vec<CallDetail>>> {
    let mut out = Vec::new();
    for id in s.live.ids() {
        if let Some((call, trace, decision, rec)) = s.live.snapshot(id).await {
            if calls::visible(&c.scope, &calls::internal_users(&call)) {
                let recordings = s.store.list_recordings(id).await?;
                out.push(detail_for(call, recordings, trace, Some((&decision, rec)), &c));
            }
        }
    }
    // Several nodes: the calls the others hold.
    for (call, trace, decision, rec) in crate::cluster::remote_live(&s).await {
        if calls::visible(&c.scope, &calls::internal_users(&call)) {
            let recordings = s.store.list_recordings(call.id).await?;
            out.push(detail_for(call, recordings, trace, Some((&decision, rec)), &c));
        }
    }
    out.sort_by_key(|d| std::cmp::Reverse(d.call.started_at));
    names::fill(&s, &mut out).await?;
    Ok(Json(out))
}

async fn get_call(State(s): State<AppState>, c: Caller, Id(id): Id<CallId>) -> ApiResult<Json<CallDetail>> {
    let (call, trace) = match visible_call(&s, &c, id).await {
        // Not in the caller's scope: perhaps shared with them (issue #15.5).
        Err(e) if e.status == axum::http::StatusCode::NOT_FOUND => {
            return Ok(Json(crate::review::shares::shared_call(&s, &c, id).await?))
        }
        other => other?,
    };
    let recordings = s.store.list_recordings(id).await?;
    let mut detail = match crate::cluster::live_snapshot(&s, id).await {
        Some((call, trace, decision, rec)) => detail_for(call, recordings, trace, Some((&decision, rec)), &c),
        None => detail_for(call, recordings, trace, None, &c),
    };
    names::fill(&s, &mut detail).await?;
    Ok(Json(detail))
}

async fn set_recording(
    State(s): State<AppState>,
    c: Caller,
    Id(id): Id<CallId>,
    ApiJson(req): ApiJson<RecordingActionRequest>,
) -> ApiResult<Json<RecordingActionResponse>> {
    visible_call(&s, &c, id).await?;
    let (state, recording_id) = crate::cluster::toggle(&s, id, c.id(), Some(req.action), ManualVia::Client).await?;
    let detail = match (req.action, recording_id) {
        (RecordingAction::Pause | RecordingAction::Resume, Some(r)) => format!("via client, recording {r}"),
        _ => "via client".into(),
    };
    calls::audit(
        &s,
        Some(&c),
        "",
        &format!("record_{}", req.action.as_str()),
        format!("call {id}"),
        detail,
    )
    .await;
    Ok(Json(RecordingActionResponse { state, recording_id }))
}

/// `PUT /api/v1/calls/{id}/consent`: an internal participant (the agent who heard it) or an
/// admin records the caller's consent; it reaches the node holding the call, which starts or
/// stops the recording as the rules say. Audited.
async fn set_consent(
    State(s): State<AppState>,
    c: Caller,
    Id(id): Id<CallId>,
    ApiJson(req): ApiJson<ConsentRequest>,
) -> ApiResult<Json<ConsentResponse>> {
    let (call, _) = visible_call(&s, &c, id).await?;
    let participant = call.participants.iter().any(|p| p.user_id == Some(c.id()));
    if !participant && !c.is_admin() {
        return Err(ApiError::new(
            axum::http::StatusCode::FORBIDDEN,
            ErrorCode::NotPermitted,
            "only people taking part in this call, or an admin, can record the caller's consent",
        ));
    }
    // Who heard it, by their directory name (the PBX's name of an extension may be a line's).
    let by = if c.user.display_name.is_empty() {
        c.user.username.clone()
    } else {
        c.user.display_name.clone()
    };
    let consent = CallConsent {
        state: req.consent,
        by: Some(by),
        user_id: Some(c.id()),
        via: Some(ConsentVia::Client),
        at: Some(s.clock.now()),
    };
    let (state, recording_id) = crate::cluster::set_consent(&s, id, consent.clone()).await?;
    calls::audit(
        &s,
        Some(&c),
        "",
        "consent",
        format!("call {id}"),
        format!("consent {} via client", req.consent.as_str()),
    )
    .await;
    Ok(Json(ConsentResponse {
        consent,
        state,
        recording_id,
    }))
}

async fn call_journal_json(State(s): State<AppState>, c: Caller, Id(id): Id<CallId>) -> ApiResult<impl IntoResponse> {
    let (call, _) = visible_call(&s, &c, id).await?;
    let bytes = match calls::read_journal(&s, call.started_at, &call.call_key).await {
        Ok(b) => b,
        // Not written yet (a live call): build it now.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            serde_json::to_vec_pretty(&calls::write_journal(&s, id).await?).map_err(ApiError::internal)?
        }
        Err(e) => return Err(e.into()),
    };
    Ok(([(header::CONTENT_TYPE, "application/json")], bytes))
}

#[derive(Deserialize)]
struct JournalParams {
    q: Option<String>,
    from: Option<String>,
    to: Option<String>,
    direction: Option<String>,
    has_recordings: Option<String>,
    user_id: Option<String>,
    reviewed: Option<String>,
    cursor: Option<String>,
    limit: Option<String>,
}

pub(super) fn time(field: &str, v: Option<String>) -> ApiResult<Option<DateTime<Utc>>> {
    v.filter(|s| !s.is_empty())
        .map(|s| {
            DateTime::parse_from_rfc3339(&s)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| {
                    ApiError::bad_request(
                        ErrorCode::BadQuery,
                        format!("{field} must be an RFC 3339 time like 2026-11-26T08:00:00Z"),
                    )
                })
        })
        .transpose()
}

async fn journal(
    State(s): State<AppState>,
    c: Caller,
    ApiQuery(p): ApiQuery<JournalParams>,
) -> ApiResult<Json<JournalPage>> {
    let bad = |m: &str| ApiError::bad_request(ErrorCode::BadQuery, m.to_string());
    let q = p.q.filter(|q| !q.trim().is_empty());
    if q.as_ref().is_some_and(|q| q.len() > 100) {
        return Err(bad("q is at most 100 characters"));
    }
    // The same answer for every role: the store would refuse it too, but as 422 (#13.6).
    if let Some(problem) = q.as_deref().and_then(JournalQuery::text_problem) {
        return Err(bad(problem));
    }
    let direction = match p.direction.as_deref().filter(|d| !d.is_empty()) {
        None => None,
        Some(d) => Some(CallDirection::parse(d).ok_or_else(|| bad("direction is incoming, outgoing or internal"))?),
    };
    let flag = |name: &str, v: Option<&str>| match v.filter(|d| !d.is_empty()) {
        None => Ok(None),
        Some("true" | "1") => Ok(Some(true)),
        Some("false" | "0") => Ok(Some(false)),
        Some(_) => Err(bad(&format!("{name} is true or false"))),
    };
    let has_recordings = flag("has_recordings", p.has_recordings.as_deref())?;
    let reviewed = flag("reviewed", p.reviewed.as_deref())?;
    let user_id = match p.user_id.as_deref().filter(|d| !d.is_empty()) {
        None => None,
        Some(u) => Some(
            u.parse::<UserId>()
                .map_err(|_| bad("user_id must be a positive integer"))?,
        ),
    };
    let cursor = match p.cursor.as_deref().filter(|d| !d.is_empty()) {
        None => None,
        Some(cur) => Some(JournalCursor::decode(cur).ok_or_else(|| bad("cursor is not one this server handed out"))?),
    };
    let limit = match p.limit.as_deref().filter(|d| !d.is_empty()) {
        None => 50,
        Some(l) => l
            .parse::<i64>()
            .ok()
            .filter(|l| (1..=500).contains(l))
            .ok_or_else(|| bad("limit is 1 to 500"))?,
    };
    let query = JournalQuery {
        scope: c.scope.clone(),
        q,
        from: time("from", p.from)?,
        to: time("to", p.to)?,
        direction,
        has_recordings,
        user_id,
        reviewed,
        cursor,
        limit,
    };
    let (mut items, next) = s.store.journal(&query).await?;
    names::fill(&s, &mut items).await?;
    if let Some(q) = &query.q {
        crate::transcripts::matched::explain(&s, &mut items, q).await;
    }
    Ok(Json(JournalPage {
        items,
        next_cursor: next.map(|c| c.encode()),
    }))
}
