//! Recordings: metadata and audio (streamed with Range, original or PCM16), every play and
//! download audited.

use crate::audio::{self, AudioFormat, AudioSource};
use crate::auth::Caller;
use crate::calls;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiQuery, Id};
use crate::names;
use crate::review;
use crate::state::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, Method};
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use callrec_store::StoredRecording;
use callrec_types::calls::Recording;
use callrec_types::wire::ErrorCode;
use callrec_types::*;
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/recordings/{id}", get(get_recording))
        .route("/api/v1/recordings/{id}/audio", get(audio_route).head(audio_route))
}

/// A recording the caller may see — by their scope or by a live share (issue #15.5, the use
/// audited as `what`); otherwise "not found".
pub async fn visible_recording(s: &AppState, c: &Caller, id: RecordingId, what: &str) -> ApiResult<StoredRecording> {
    let (rec, access) = review::access::viewable(s, c, id).await?;
    review::access::audit_use(s, c, &access, id, what).await;
    Ok(rec)
}

async fn get_recording(State(s): State<AppState>, c: Caller, Id(id): Id<RecordingId>) -> ApiResult<Json<Recording>> {
    let mut rec = visible_recording(&s, &c, id, "recording").await?.recording;
    names::fill(&s, &mut rec).await?;
    Ok(Json(rec))
}

#[derive(Deserialize)]
struct AudioParams {
    format: Option<String>,
    download: Option<String>,
}

async fn audio_route(
    State(s): State<AppState>,
    c: Caller,
    Id(id): Id<RecordingId>,
    method: Method,
    headers: HeaderMap,
    ApiQuery(p): ApiQuery<AudioParams>,
) -> ApiResult<Response> {
    let format = match p.format.as_deref() {
        None | Some("") => AudioFormat::Original,
        Some(f) => f
            .parse::<AudioFormat>()
            .map_err(|_| ApiError::bad_request(ErrorCode::BadQuery, "format is original or pcm16"))?,
    };
    let download = matches!(p.download.as_deref(), Some("1" | "true"));
    let (rec, access) = review::access::viewable(&s, &c, id).await?;
    let src = AudioSource {
        path: s.files.abs(&rec.rel_path)?,
        sha256: rec.recording.sha256.clone(),
        file_name: rec.recording.file_name.clone(),
        vault: s.vault.clone(),
    };
    // One audit row per play or download, not per range request: a player that seeks sends
    // many ranges, but only the one from byte 0 (or none) starts a play.
    let from_start = headers
        .get(axum::http::header::RANGE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|r| r.trim_start_matches("bytes=").starts_with("0-"));
    if method == Method::GET && (download || from_start) {
        let action = if download { "download" } else { "play" };
        review::access::audit_use(&s, &c, &access, id, action).await;
        calls::audit(
            &s,
            Some(&c),
            "",
            action,
            format!("recording {id}"),
            format!("format {}", p.format.as_deref().unwrap_or("original")),
        )
        .await;
    }
    // In the spool (not uploaded yet, or no object storage): the file; else the object.
    // The uploader removes the file only after the object is stored and checked, so a file
    // missing here is read from the store.
    let served = match (
        audio::respond(&src, format, download, &method, &headers).await,
        &s.objects,
    ) {
        (Err(e), Some(objects)) if e.kind() == std::io::ErrorKind::NotFound => {
            audio::respond_object(
                objects.clone(),
                &rec.rel_path,
                &src,
                format,
                download,
                &method,
                &headers,
            )
            .await
        }
        (served, _) => served,
    };
    served.map_err(|e| audio::read_error(id, e))
}
