//! The evidence chain (issue #12.2) and "who listened to my calls" (issue #12.4): the
//! installation's public key, a recording's signed entry, the admin's verify and the asking
//! user's listens.

use crate::calls::set_query;
use crate::{Client, Result};
use callrec_types::evidence::{EvidencePublicKey, EvidenceReport, ListensPage, RecordingEvidence};
use callrec_types::RecordingId;
use reqwest::Method;

impl Client {
    /// `GET /api/v1/evidence/public-key` (no sign-in needed).
    pub async fn evidence_public_key(&self) -> Result<EvidencePublicKey> {
        self.get_json("/api/v1/evidence/public-key").await
    }

    /// `GET /api/v1/recordings/{id}/evidence`: the recording's signed `recorded` entry.
    pub async fn recording_evidence(&self, id: RecordingId) -> Result<RecordingEvidence> {
        self.get_json(&format!("/api/v1/recordings/{id}/evidence")).await
    }

    /// `GET /api/v1/evidence/verify` (admin): every entry, row and file checked.
    pub async fn verify_evidence(&self) -> Result<EvidenceReport> {
        self.get_json("/api/v1/evidence/verify").await
    }

    /// `GET /api/v1/me/listens?cursor&limit`: plays and downloads of the asking user's calls.
    pub async fn list_listens(&self, cursor: Option<&str>, limit: Option<u32>) -> Result<ListensPage> {
        let mut pairs = Vec::new();
        if let Some(cursor) = cursor {
            pairs.push(("cursor", cursor.to_string()));
        }
        if let Some(limit) = limit {
            pairs.push(("limit", limit.to_string()));
        }
        let mut url = self.url("/api/v1/me/listens");
        set_query(&mut url, &pairs);
        self.send_json(self.limited(self.request(Method::GET, url))).await
    }
}
