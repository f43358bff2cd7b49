//! Timestamped comments on a recording (issue #15.3): a position or a span inside it, visible
//! to whoever may see the recording (a trainee by a live share included, who may comment
//! too); only the author edits a comment, the author or an admin deletes it. Every add, edit
//! and delete is audited (`comment_add`, `comment_edit`, `comment_delete`).

use super::access::{audit_use, viewable};
use crate::caller::Caller;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use callrec_store::NewCommentRecord;
use callrec_types::review::{Comment, NewComment};
use callrec_types::wire::ErrorCode;
use callrec_types::*;

/// The recording's comments, by position.
pub async fn list_comments(s: &AppState, c: &Caller, id: RecordingId) -> ApiResult<Vec<Comment>> {
    let (_, access) = viewable(s, c, id).await?;
    audit_use(s, c, &access, id, "comments").await;
    Ok(s.store.list_comments(id).await?)
}

/// Adds the caller's comment; `422 invalid` (naming the field) for a position or span outside
/// the recording or a blank or too long text, with nothing stored.
pub async fn create_comment(s: &AppState, c: &Caller, id: RecordingId, new: &NewComment) -> ApiResult<Comment> {
    let (rec, access) = viewable(s, c, id).await?;
    new.validate(rec.recording.duration_ms)
        .map_err(ApiError::invalid_fields)?;
    audit_use(s, c, &access, id, "comment").await;
    let comment = s
        .store
        .create_comment(&NewCommentRecord {
            recording_id: id,
            author_id: c.id(),
            author_name: display_name(c),
            at_ms: new.at_ms,
            to_ms: new.to_ms,
            text: new.text.clone(),
            created_at: s.clock.now(),
        })
        .await?;
    audit(s, c, "comment_add", &comment).await;
    Ok(comment)
}

/// Replaces the caller's own comment; someone else's is `403 not_permitted`, one on a
/// recording the caller may not see `404`.
pub async fn update_comment(s: &AppState, c: &Caller, id: CommentId, new: &NewComment) -> ApiResult<Comment> {
    let old = visible_comment(s, c, id).await?;
    if old.author_id != Some(c.id()) {
        return Err(not_permitted("only its author can change a comment"));
    }
    let rec = s.store.get_recording(old.recording_id).await?;
    new.validate(rec.recording.duration_ms)
        .map_err(ApiError::invalid_fields)?;
    let comment = s.store.update_comment(id, new, s.clock.now()).await?;
    audit(s, c, "comment_edit", &comment).await;
    Ok(comment)
}

/// Deletes the caller's own comment, or any as an admin.
pub async fn delete_comment(s: &AppState, c: &Caller, id: CommentId) -> ApiResult<()> {
    let old = visible_comment(s, c, id).await?;
    if old.author_id != Some(c.id()) && !c.is_admin() {
        return Err(not_permitted("only its author or an admin can delete a comment"));
    }
    let gone = s.store.delete_comment(id).await?;
    audit(s, c, "comment_delete", &gone).await;
    Ok(())
}

/// A comment on a recording the caller may see; "not found" otherwise, as for the recording.
async fn visible_comment(s: &AppState, c: &Caller, id: CommentId) -> ApiResult<Comment> {
    let comment = s.store.get_comment(id).await.map_err(|e| match e {
        callrec_store::StoreError::NotFound => ApiError::not_found("comment"),
        other => other.into(),
    })?;
    viewable(s, c, comment.recording_id).await.map_err(|e| {
        if e.status == axum::http::StatusCode::NOT_FOUND {
            ApiError::not_found("comment")
        } else {
            e
        }
    })?;
    Ok(comment)
}

fn not_permitted(message: &str) -> ApiError {
    ApiError::new(axum::http::StatusCode::FORBIDDEN, ErrorCode::NotPermitted, message)
}

fn display_name(c: &Caller) -> String {
    if c.user.display_name.is_empty() {
        c.user.username.clone()
    } else {
        c.user.display_name.clone()
    }
}

async fn audit(s: &AppState, c: &Caller, action: &str, comment: &Comment) {
    let span = match comment.to_ms {
        Some(to) => format!("{}-{} ms", comment.at_ms, to),
        None => format!("at {} ms", comment.at_ms),
    };
    crate::audit::audit(
        s,
        Some(c),
        "",
        action,
        format!("recording {}", comment.recording_id),
        format!("comment {} {span}", comment.id),
    )
    .await;
}
