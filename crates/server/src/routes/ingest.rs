//! `POST /api/v1/ingest` (SPEC §4.2): the ingest token first, then the multipart body read
//! part by part — the `call` JSON (at most 64 KiB) and the `audio` streamed into a spool file —
//! and handed to [`crate::ingest::accept`], which owns the rules of an upload.

use crate::error::{ApiError, ApiResult};
use crate::ingest::{accept, check_token, SpoolWriter, SpooledAudio, MAX_CALL_JSON};
use crate::state::AppState;
use axum::extract::multipart::{Field, MultipartError};
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Request, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use callrec_types::wire::ErrorCode;
use callrec_types::wire::{IngestCall, IngestResponse};
use std::sync::atomic::Ordering;

/// The route, with its own body limit: `max_upload_bytes` plus room for the call JSON.
pub fn routes(state: &AppState) -> Router<AppState> {
    let upload_limit = usize::try_from(state.config.max_upload_bytes.saturating_add(1024 * 1024)).unwrap_or(usize::MAX);
    Router::new()
        .route("/api/v1/ingest", post(ingest))
        .layer(DefaultBodyLimit::max(upload_limit))
}

/// The handler takes the whole request so that the token is checked before the body is
/// looked at (a caller without it learns nothing about the upload format), and so that a
/// body that is not `multipart/form-data` with a boundary is refused as `{code, message}`
/// rather than by axum's plain-text rejection (#13.8).
async fn ingest(State(state): State<AppState>, request: Request) -> ApiResult<(StatusCode, Json<IngestResponse>)> {
    let (parts, body) = request.into_parts();
    check_token(&state, &parts)?;
    crate::disk::refuse_upload(&state)?;
    let result = match Multipart::from_request(Request::from_parts(parts, body), &state).await {
        Ok(mut multipart) => receive(&state, &mut multipart).await,
        Err(rejection) => Err(ApiError::from(rejection)),
    };
    if result.is_err() {
        state.metrics.ingest_rejected.fetch_add(1, Ordering::Relaxed);
    }
    result
}

fn bad_multipart(e: MultipartError) -> ApiError {
    ApiError::bad_request(ErrorCode::MalformedUpload, e.body_text())
}

async fn receive(state: &AppState, multipart: &mut Multipart) -> ApiResult<(StatusCode, Json<IngestResponse>)> {
    let mut call: Option<IngestCall> = None;
    let mut audio: Option<SpooledAudio> = None;
    while let Some(mut field) = multipart.next_field().await.map_err(bad_multipart)? {
        match field.name() {
            Some("call") => call = Some(call_part(&mut field).await?),
            Some("audio") => {
                if audio.is_some() {
                    return Err(ApiError::bad_request(
                        ErrorCode::MalformedUpload,
                        "only one audio part is allowed",
                    ));
                }
                audio = Some(audio_part(state, &mut field).await?);
            }
            _ => {
                // Unknown parts are drained and ignored, bounded by the body limit.
                while field.chunk().await.map_err(bad_multipart)?.is_some() {}
            }
        }
    }
    let call =
        call.ok_or_else(|| ApiError::bad_request(ErrorCode::MalformedUpload, "the upload has no `call` part"))?;
    let audio =
        audio.ok_or_else(|| ApiError::bad_request(ErrorCode::MalformedUpload, "the upload has no `audio` part"))?;
    let answer = accept(state, call, audio).await?;
    Ok((StatusCode::CREATED, Json(answer)))
}

/// The `call` part: JSON of at most [`MAX_CALL_JSON`] bytes.
async fn call_part(field: &mut Field<'_>) -> ApiResult<IngestCall> {
    let mut buf = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(bad_multipart)? {
        buf.extend_from_slice(&chunk);
        if buf.len() > MAX_CALL_JSON {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorCode::TooLarge,
                "the call JSON is over 64 KiB",
            ));
        }
    }
    serde_json::from_slice(&buf).map_err(|e| {
        ApiError::bad_request(
            ErrorCode::MalformedJson,
            format!("the call part is not valid call JSON: {e}"),
        )
    })
}

/// The `audio` part, streamed chunk by chunk into the spool.
async fn audio_part(state: &AppState, field: &mut Field<'_>) -> ApiResult<SpooledAudio> {
    let mut spool = SpoolWriter::create(state).await?;
    while let Some(chunk) = field.chunk().await.map_err(|e| {
        ApiError::bad_request(
            ErrorCode::MalformedUpload,
            format!("the audio part was cut off: {}", e.body_text()),
        )
    })? {
        spool.write(&chunk).await?;
    }
    spool.finish().await
}
