//! Sharing a recording for training (issue #15.5): a supervisor or an admin who sees the
//! recording by their scope grants it to any user until an absolute time (in the future, at
//! most 90 days ahead), lists its shares and revokes them; the trainee finds the live ones
//! under "Shared with me". Expiry is the server's clock. Grants and revocations are audited
//! (`share_grant`, `share_revoke`); each use by the trainee is audited in [`super::access`].

use super::access::in_scope;
use crate::caller::Caller;
use crate::calls::detail_for;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use callrec_store::{NewShareRecord, StoreError};
use callrec_types::calls::CallDetail;
use callrec_types::directory::Level;
use callrec_types::review::{NewShare, Share, ShareRecipient, SharedItem};
use callrec_types::rules::FieldError;
use callrec_types::*;

/// Sharing is a supervisor's or an admin's: `403` for an agent, whatever the id.
pub fn may_share(c: &Caller) -> ApiResult<()> {
    c.require(Level::Supervisor)
}

/// Grants recording `id` to `new.user_id` until `new.expires_at`.
pub async fn create_share(s: &AppState, c: &Caller, id: RecordingId, new: &NewShare) -> ApiResult<Share> {
    may_share(c)?;
    let rec = in_scope(s, c, id).await?;
    let now = s.clock.now();
    new.validate(now).map_err(ApiError::invalid_fields)?;
    match s.store.get_user(new.user_id).await {
        Ok(_) => {}
        Err(StoreError::NotFound) => {
            return Err(ApiError::invalid_fields(vec![FieldError::new(
                "user_id",
                "no such user",
            )]))
        }
        Err(e) => return Err(e.into()),
    }
    let share = s
        .store
        .create_share(&NewShareRecord {
            recording_id: id,
            call_id: rec.recording.call_id,
            user_id: new.user_id,
            granted_by: c.id(),
            granted_by_name: if c.user.display_name.is_empty() {
                c.user.username.clone()
            } else {
                c.user.display_name.clone()
            },
            granted_at: now,
            expires_at: new.expires_at,
        })
        .await?;
    crate::audit::audit(
        s,
        Some(c),
        "",
        "share_grant",
        format!("recording {id}"),
        format!(
            "share {} to user {} until {}",
            share.id,
            share.user_id,
            share.expires_at.to_rfc3339()
        ),
    )
    .await;
    Ok(share)
}

/// Every share of the recording, live or not, newest first.
pub async fn list_shares(s: &AppState, c: &Caller, id: RecordingId) -> ApiResult<Vec<Share>> {
    may_share(c)?;
    in_scope(s, c, id).await?;
    Ok(s.store.list_shares(id).await?)
}

/// Revokes a share of a recording the caller sees by their scope; a share revoked before
/// keeps its first revocation (and is not audited again).
pub async fn revoke_share(s: &AppState, c: &Caller, id: ShareId) -> ApiResult<Share> {
    may_share(c)?;
    let share = s.store.get_share(id).await.map_err(|e| match e {
        StoreError::NotFound => ApiError::not_found("share"),
        other => other.into(),
    })?;
    in_scope(s, c, share.recording_id).await.map_err(|e| {
        if e.status == axum::http::StatusCode::NOT_FOUND {
            ApiError::not_found("share")
        } else {
            e
        }
    })?;
    if share.revoked_at.is_some() {
        return Ok(share);
    }
    let share = s.store.revoke_share(id, c.id(), s.clock.now()).await?;
    crate::audit::audit(
        s,
        Some(c),
        "",
        "share_revoke",
        format!("recording {}", share.recording_id),
        format!("share {} to user {}", share.id, share.user_id),
    )
    .await;
    Ok(share)
}

/// Whom a recording may be shared with: every user of the directory, by name (the share
/// dialog's list; the caller was checked by [`may_share`]).
pub async fn recipients(s: &AppState) -> ApiResult<Vec<ShareRecipient>> {
    let mut people: Vec<ShareRecipient> = s
        .store
        .list_users()
        .await?
        .into_iter()
        .map(|u| ShareRecipient {
            id: u.id,
            username: u.username,
            display_name: u.display_name,
            level: u.level,
        })
        .collect();
    people.sort_by(|a, b| {
        a.display_name
            .to_lowercase()
            .cmp(&b.display_name.to_lowercase())
            .then(a.id.cmp(&b.id))
    });
    Ok(people)
}

/// "Shared with me": the caller's live shares with their recordings and calls.
pub async fn list_shared(s: &AppState, c: &Caller) -> ApiResult<Vec<SharedItem>> {
    let mut items = Vec::new();
    for share in s.store.list_shared(c.id(), s.clock.now()).await? {
        let mut recording = match s.store.get_recording(share.recording_id).await {
            Ok(r) => r.recording,
            // Deleted since: its shares went with it.
            Err(StoreError::NotFound) => continue,
            Err(e) => return Err(e.into()),
        };
        recording.dispatch.clear();
        let (call, _) = s.store.get_call(share.call_id).await?;
        items.push(SharedItem { share, recording, call });
    }
    crate::names::fill(s, &mut items).await?;
    Ok(items)
}

/// A call the caller may not see by their scope, shown through their live shares of its
/// recordings: its facts and only the shared recordings — no trace, nothing live. "Not found"
/// without a live share. The use is audited.
pub async fn shared_call(s: &AppState, c: &Caller, id: CallId) -> ApiResult<CallDetail> {
    let shares = s.store.live_shares(c.id(), id, s.clock.now()).await?;
    if shares.is_empty() {
        return Err(ApiError::not_found("call"));
    }
    let (call, _) = s.store.get_call(id).await?;
    let mut recordings = s.store.list_recordings(id).await?;
    recordings.retain(|r| shares.iter().any(|sh| sh.recording_id == r.id));
    for r in &mut recordings {
        r.dispatch.clear();
    }
    for share in &shares {
        crate::audit::audit(
            s,
            Some(c),
            "",
            "share_use",
            format!("recording {}", share.recording_id),
            format!("call via share {}", share.id),
        )
        .await;
    }
    let mut detail = detail_for(call, recordings, Vec::new(), None, c);
    crate::names::fill(s, &mut detail).await?;
    Ok(detail)
}

impl crate::names::Named for SharedItem {
    fn names_wanted(&self, users: &mut Vec<UserId>, rules: &mut Vec<RuleId>) {
        self.call.names_wanted(users, rules);
        self.recording.names_wanted(users, rules);
    }
    fn fill_names(&mut self, names: &crate::names::Names) {
        self.call.fill_names(names);
        self.recording.fill_names(names);
    }
}
