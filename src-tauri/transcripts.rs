//! A recording's transcript in the window (issue #16.5): its status and, once done, its lines
//! with the dialogue the Copy button puts on the clipboard — made here by
//! `callrec_types::transcripts::dialogue`, the one definition of that text, so the window never
//! formats it a second way.

use crate::error::AppResult;
use crate::state::AppState;
use callrec_client::ClientError;
use callrec_types::transcripts::Transcript;
use callrec_types::wire::ErrorCode;
use callrec_types::RecordingId;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// What the transcript pane shows: the transcript as the server answers it and its dialogue
/// (`[00:12] Caller: …`, one line each; empty until it is done).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct TranscriptView {
    pub transcript: Transcript,
    pub dialogue: String,
}

/// `recording_transcript`: the recording's transcript, or `None` when it is not transcribed
/// (no rule asked for it: the server's `404 not_transcribed`). A recording the user may not see
/// (`404 not_found`) stays an error.
pub async fn recording_transcript(state: &AppState, recording_id: RecordingId) -> AppResult<Option<TranscriptView>> {
    let client = state.client()?;
    match client.get_transcript(recording_id).await {
        Ok(transcript) => Ok(Some(TranscriptView {
            dialogue: transcript.dialogue(),
            transcript,
        })),
        Err(ClientError::Api {
            code: ErrorCode::NotTranscribed,
            ..
        }) => Ok(None),
        Err(e) => Err(state.check(e.into())),
    }
}
