//! Who may see a recording for review: the caller's scope (SPEC §1), or a share to them that is
//! live now (not revoked, not expired by the server's clock). Anything else is "not found",
//! exactly as for a recording outside the scope, so ids reveal nothing. Every use of a share
//! is audited (`share_use`, with what was used).

use crate::caller::Caller;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use callrec_store::{StoreError, StoredRecording};
use callrec_types::review::Share;
use callrec_types::*;

/// How the caller may see a recording.
#[derive(Debug, Clone)]
pub enum Access {
    /// By their scope: their own call, their team's, or any (admin).
    Scope,
    /// Only by this live share.
    Share(Box<Share>),
}

/// The recording and how the caller may see it; "not found" when they may not.
pub async fn viewable(s: &AppState, c: &Caller, id: RecordingId) -> ApiResult<(StoredRecording, Access)> {
    let mut rec = s.store.get_recording(id).await.map_err(|e| match e {
        StoreError::NotFound => ApiError::not_found("recording"),
        other => other.into(),
    })?;
    let call = rec.recording.call_id;
    if s.store.call_visible(call, &c.scope).await? {
        return Ok((rec, Access::Scope));
    }
    let share = s
        .store
        .live_shares(c.id(), call, s.clock.now())
        .await?
        .into_iter()
        .find(|sh| sh.recording_id == id)
        .ok_or_else(|| ApiError::not_found("recording"))?;
    // A trainee sees the recording, not where it was sent.
    rec.recording.dispatch.clear();
    Ok((rec, Access::Share(Box::new(share))))
}

/// The recording when the caller sees it by their scope (sharing and managing shares need
/// that; a share does not pass on); "not found" otherwise.
pub async fn in_scope(s: &AppState, c: &Caller, id: RecordingId) -> ApiResult<StoredRecording> {
    let rec = s.store.get_recording(id).await.map_err(|e| match e {
        StoreError::NotFound => ApiError::not_found("recording"),
        other => other.into(),
    })?;
    if !s.store.call_visible(rec.recording.call_id, &c.scope).await? {
        return Err(ApiError::not_found("recording"));
    }
    Ok(rec)
}

/// Audits a use of a share (`share_use`): `what` the trainee did with the recording (`play`,
/// `download`, `peaks`, `comments`, …). Nothing for access by scope.
pub async fn audit_use(s: &AppState, c: &Caller, access: &Access, id: RecordingId, what: &str) {
    if let Access::Share(share) = access {
        crate::audit::audit(
            s,
            Some(c),
            "",
            "share_use",
            format!("recording {id}"),
            format!("{what} via share {}", share.id),
        )
        .await;
    }
}
