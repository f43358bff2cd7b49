//! Quality review and training (issue #15): a recording's waveform peaks, its timestamped
//! comments, its shares with a trainee, and the asking user's "Shared with me".

use crate::calls::set_query;
use crate::{Client, Result};
use callrec_types::review::{Comment, NewComment, NewShare, Peaks, Share, ShareRecipient, SharedItem};
use callrec_types::{CommentId, RecordingId, ShareId};
use reqwest::Method;

impl Client {
    /// `GET /api/v1/recordings/{id}/peaks?buckets=N`: min/max per bucket per channel; the
    /// server's default bucket count when `buckets` is `None`.
    pub async fn recording_peaks(&self, id: RecordingId, buckets: Option<u32>) -> Result<Peaks> {
        let mut url = self.url(&format!("/api/v1/recordings/{id}/peaks"));
        if let Some(n) = buckets {
            set_query(&mut url, &[("buckets", n.to_string())]);
        }
        self.send_json(self.limited(self.request(Method::GET, url))).await
    }

    /// `GET /api/v1/recordings/{id}/comments`, by position.
    pub async fn list_comments(&self, id: RecordingId) -> Result<Vec<Comment>> {
        self.get_json(&format!("/api/v1/recordings/{id}/comments")).await
    }

    /// `POST /api/v1/recordings/{id}/comments` `{at_ms, to_ms?, text}`.
    pub async fn create_comment(&self, id: RecordingId, comment: &NewComment) -> Result<Comment> {
        self.send_body(Method::POST, &format!("/api/v1/recordings/{id}/comments"), comment)
            .await
    }

    /// `PATCH /api/v1/comments/{id}` with the comment's content whole (its author only).
    pub async fn update_comment(&self, id: CommentId, comment: &NewComment) -> Result<Comment> {
        self.send_body(Method::PATCH, &format!("/api/v1/comments/{id}"), comment)
            .await
    }

    /// `DELETE /api/v1/comments/{id}` (its author, or an admin).
    pub async fn delete_comment(&self, id: CommentId) -> Result<()> {
        self.delete_path(&format!("/api/v1/comments/{id}")).await
    }

    /// `POST /api/v1/recordings/{id}/shares` `{user_id, expires_at}` (supervisor, admin).
    pub async fn create_share(&self, id: RecordingId, share: &NewShare) -> Result<Share> {
        self.send_body(Method::POST, &format!("/api/v1/recordings/{id}/shares"), share)
            .await
    }

    /// `GET /api/v1/recordings/{id}/shares`: every share of the recording, newest first.
    pub async fn list_shares(&self, id: RecordingId) -> Result<Vec<Share>> {
        self.get_json(&format!("/api/v1/recordings/{id}/shares")).await
    }

    /// `DELETE /api/v1/shares/{id}`: revokes the share; answers it as revoked.
    pub async fn revoke_share(&self, id: ShareId) -> Result<Share> {
        self.send_json(self.limited(self.request(Method::DELETE, self.url(&format!("/api/v1/shares/{id}")))))
            .await
    }

    /// `GET /api/v1/me/shared`: the recordings shared with the asking user, live now.
    pub async fn list_shared(&self) -> Result<Vec<SharedItem>> {
        self.get_json("/api/v1/me/shared").await
    }

    /// `GET /api/v1/share-recipients`: the users a recording may be shared with, by name
    /// (supervisor, admin).
    pub async fn share_recipients(&self) -> Result<Vec<ShareRecipient>> {
        self.get_json("/api/v1/share-recipients").await
    }
}
