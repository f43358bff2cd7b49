//! Transcripts (issue #16): a recording's transcript, and the admin's worker tokens. (The
//! workers' own queue API is spoken by the worker, `scripts/transcribe-worker.py`.)

use crate::{Client, Result};
use callrec_types::transcripts::{Transcript, WorkerToken, WorkerTokenInput};
use callrec_types::{RecordingId, WorkerTokenId};
use reqwest::Method;

impl Client {
    /// `GET /api/v1/recordings/{id}/transcript`: the status and, once done, the lines.
    pub async fn get_transcript(&self, id: RecordingId) -> Result<Transcript> {
        self.get_json(&format!("/api/v1/recordings/{id}/transcript")).await
    }

    /// `GET /api/v1/transcription/tokens` (admin).
    pub async fn list_worker_tokens(&self) -> Result<Vec<WorkerToken>> {
        self.get_json("/api/v1/transcription/tokens").await
    }

    /// `POST /api/v1/transcription/tokens` (admin): the answer holds the token, shown once.
    pub async fn create_worker_token(&self, name: &str) -> Result<WorkerToken> {
        self.send_body(
            Method::POST,
            "/api/v1/transcription/tokens",
            &WorkerTokenInput { name: name.into() },
        )
        .await
    }

    /// `DELETE /api/v1/transcription/tokens/{id}` (admin).
    pub async fn delete_worker_token(&self, id: WorkerTokenId) -> Result<()> {
        self.delete_path(&format!("/api/v1/transcription/tokens/{id}")).await
    }
}
