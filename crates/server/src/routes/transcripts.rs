//! Transcripts (issue #16): a recording's transcript for those who may play it, the workers'
//! queue API (claim, fetch a channel, post the result or a failure) behind a worker token, and
//! the admin's worker tokens. What happens is `crate::transcripts`'.

use crate::auth::{bearer, new_token, secret_eq, token_hash, Admin, Caller};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiQuery, Id};
use crate::state::AppState;
use crate::transcripts;
use axum::extract::{DefaultBodyLimit, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use callrec_types::transcripts::{
    ClaimRequest, Transcript, TranscriptionFailure, TranscriptionResult, WorkerToken, WorkerTokenInput,
};
use callrec_types::wire::ErrorCode;
use callrec_types::*;
use serde::Deserialize;

/// A result of a long call with its words' times runs to megabytes.
const RESULT_BODY_LIMIT: usize = 32 * 1024 * 1024;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/recordings/{id}/transcript", get(get_transcript))
        .route("/api/v1/transcription/claim", post(claim))
        .route("/api/v1/transcription/jobs/{id}/audio", get(job_audio))
        .route(
            "/api/v1/transcription/jobs/{id}/result",
            post(job_result).layer(DefaultBodyLimit::max(RESULT_BODY_LIMIT)),
        )
        .route("/api/v1/transcription/jobs/{id}/failure", post(job_failure))
        .route("/api/v1/transcription/tokens", get(list_tokens).post(create_token))
        .route("/api/v1/transcription/tokens/{id}", delete(delete_token))
}

/// A transcription worker: the bearer token is this node's own worker's or one an admin
/// created. Checked before the path, query and body are looked at.
struct Worker;

impl FromRequestParts<AppState> for Worker {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer(parts).ok_or_else(|| ApiError::unauthorized("a worker token is needed"))?;
        let hash = token_hash(token);
        if secret_eq(&hash, state.transcription.local_hash()) || state.store.worker_token_exists(&hash).await? {
            Ok(Worker)
        } else {
            Err(ApiError::unauthorized("not a worker token"))
        }
    }
}

/// `GET /api/v1/recordings/{id}/transcript`: as playing the audio — the recording's viewers,
/// audited; `404` when the recording is not transcribed.
async fn get_transcript(State(s): State<AppState>, c: Caller, Id(id): Id<RecordingId>) -> ApiResult<Json<Transcript>> {
    let (_, access) = crate::review::access::viewable(&s, &c, id).await?;
    crate::review::access::audit_use(&s, &c, &access, id, "transcript").await;
    crate::calls::audit(&s, Some(&c), "", "transcript", format!("recording {id}"), String::new()).await;
    let stored = s.store.get_transcript(id).await?.ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            ErrorCode::NotTranscribed,
            "the recording is not transcribed (no recording rule asks for it)",
        )
    })?;
    Ok(Json(transcripts::view(&s, &stored)?))
}

async fn claim(State(s): State<AppState>, _: Worker, ApiJson(req): ApiJson<ClaimRequest>) -> ApiResult<Response> {
    Ok(match transcripts::claim(&s, &req).await? {
        Some(job) => Json(job).into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
    })
}

#[derive(Deserialize)]
struct AudioParams {
    channel: u16,
    lease: String,
}

async fn job_audio(
    State(s): State<AppState>,
    _: Worker,
    Id(id): Id<RecordingId>,
    ApiQuery(p): ApiQuery<AudioParams>,
) -> ApiResult<Response> {
    let rec = transcripts::held(&s, id, &p.lease).await?;
    if p.channel >= rec.recording.channels {
        return Err(ApiError::bad_request(
            ErrorCode::BadQuery,
            format!("channel is from 0 to {}", rec.recording.channels.saturating_sub(1)),
        ));
    }
    let wav = transcripts::audio::channel_wav(&s, &rec, p.channel)
        .await
        .map_err(|e| crate::audio::read_error(id, e))?;
    Ok(([(header::CONTENT_TYPE, "audio/wav")], wav).into_response())
}

async fn job_result(
    State(s): State<AppState>,
    _: Worker,
    Id(id): Id<RecordingId>,
    ApiJson(result): ApiJson<TranscriptionResult>,
) -> ApiResult<StatusCode> {
    let call = transcripts::accept(&s, id, &result).await?;
    // The journal JSON carries the transcript: written again now it exists.
    if let Err(e) = crate::calls::write_journal(&s, call).await {
        tracing::warn!(call = %call, error = ?e, "could not rewrite the journal JSON with the transcript");
    }
    Ok(StatusCode::NO_CONTENT)
}

async fn job_failure(
    State(s): State<AppState>,
    _: Worker,
    Id(id): Id<RecordingId>,
    ApiJson(f): ApiJson<TranscriptionFailure>,
) -> ApiResult<StatusCode> {
    transcripts::fail(&s, id, &f.lease, &f.error).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_tokens(State(s): State<AppState>, _: Admin) -> ApiResult<Json<Vec<WorkerToken>>> {
    Ok(Json(s.store.list_worker_tokens().await?))
}

/// Creates a worker token; the answer is the only place the token ever shows.
async fn create_token(
    State(s): State<AppState>,
    Admin(c): Admin,
    ApiJson(input): ApiJson<WorkerTokenInput>,
) -> ApiResult<(StatusCode, Json<WorkerToken>)> {
    let name = input.name.trim();
    if name.is_empty() || name.len() > 128 || name.chars().any(char::is_control) {
        return Err(ApiError::bad_request(
            ErrorCode::Invalid,
            "name is 1 to 128 printable characters",
        ));
    }
    let token = new_token();
    let mut made = s
        .store
        .create_worker_token(name, &token_hash(&token), s.clock.now())
        .await?;
    crate::calls::audit(
        &s,
        Some(&c),
        "",
        "worker_token_created",
        format!("worker token {}", made.id),
        made.name.clone(),
    )
    .await;
    made.token = Some(token);
    Ok((StatusCode::CREATED, Json(made)))
}

async fn delete_token(State(s): State<AppState>, Admin(c): Admin, Id(id): Id<WorkerTokenId>) -> ApiResult<StatusCode> {
    s.store.delete_worker_token(id).await?;
    crate::calls::audit(
        &s,
        Some(&c),
        "",
        "worker_token_deleted",
        format!("worker token {id}"),
        String::new(),
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}
