//! The evidence chain over HTTP (issue #12.2): the installation's public key (anyone), one
//! recording's signed entry (whoever may see the recording; 404 like its audio otherwise) and
//! the whole check (admins).

use super::recordings::visible_recording;
use crate::auth::{Admin, Caller};
use crate::error::{ApiError, ApiResult};
use crate::evidence::key::public_key_pem;
use crate::evidence::verify;
use crate::extract::Id;
use crate::state::AppState;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use callrec_types::evidence::{EvidenceKind, EvidencePublicKey, EvidenceReport, RecordingEvidence};
use callrec_types::RecordingId;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/evidence/public-key", get(evidence_public_key))
        .route("/api/v1/evidence/verify", get(verify_evidence))
        .route("/api/v1/recordings/{id}/evidence", get(recording_evidence))
}

async fn evidence_public_key(State(s): State<AppState>) -> ApiResult<Json<EvidencePublicKey>> {
    let public_key = s.evidence.public_key().to_owned();
    Ok(Json(EvidencePublicKey {
        public_key_pem: public_key_pem(&public_key).ok_or_else(|| ApiError::internal("the signing key has no PEM"))?,
        public_key,
        keys: s.store.evidence_keys().await?,
    }))
}

async fn recording_evidence(
    State(s): State<AppState>,
    c: Caller,
    Id(id): Id<RecordingId>,
) -> ApiResult<Json<RecordingEvidence>> {
    visible_recording(&s, &c, id, "evidence").await?;
    let entry = s
        .store
        .recording_evidence(id)
        .await?
        .into_iter()
        .find(|e| e.kind == EvidenceKind::Recorded)
        .ok_or_else(|| ApiError::not_found("evidence for this recording (not finished, or not signed yet)"))?;
    Ok(Json(RecordingEvidence {
        canonical: entry.canonical(),
        public_key_pem: public_key_pem(&entry.public_key).unwrap_or_default(),
        entry,
    }))
}

async fn verify_evidence(State(s): State<AppState>, _: Admin) -> ApiResult<Json<EvidenceReport>> {
    Ok(Json(
        verify::run(&*s.store, &s.files, s.objects.as_ref(), &s.vault).await?,
    ))
}
