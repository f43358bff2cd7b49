//! One attempt to send a recording, as the email and script senders see it: the
//! [`Material`] it is given and the [`Attempt`] it answers.

use callrec_store::StoredRecording;
use callrec_types::calls::Call;
use callrec_types::transcripts::TranscriptStatus;
use std::path::PathBuf;

/// What an attempt needs to know of its recording.
pub struct Material {
    pub recording: StoredRecording,
    pub call: Call,
    /// Absolute paths of the WAV and the call's journal JSON.
    pub wav: PathBuf,
    pub journal: PathBuf,
    pub key: String,
    /// With object storage: the temporary directory holding local copies of the WAV and the
    /// journal fetched from the store for this attempt, removed when the attempt is done.
    pub copies: Option<TempCopies>,
    /// The recording's transcript as it stood when the attempt began (issue #16).
    pub transcript: MailTranscript,
}

/// A recording's transcript as a dispatch carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailTranscript {
    /// The recording's rule does not transcribe.
    NotAsked,
    /// Done: the dialogue, `[00:12] Caller: …` a line.
    Done(String),
    /// Still `queued` or `running` (the e-mail waited as long as it may).
    NotReady(TranscriptStatus),
    /// Given up, with the error.
    Failed(String),
}

/// A directory of local copies that is removed when dropped (after the script ran, after the
/// e-mail was sent, or when the attempt failed).
#[derive(Debug)]
pub struct TempCopies(pub PathBuf);

impl Drop for TempCopies {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir_all(&self.0) {
            tracing::warn!(dir = %self.0.display(), error = %e, "could not remove the dispatch copies");
        }
    }
}

/// The result of one attempt, before it is recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub ok: bool,
    /// Retrying will not help (the target is marked `failed` at once).
    pub permanent: bool,
    pub error: Option<String>,
    /// Script output, "sent without the WAV", … kept on the target.
    pub detail: Option<String>,
}

impl Attempt {
    pub fn sent(detail: Option<String>) -> Self {
        Attempt {
            ok: true,
            permanent: false,
            error: None,
            detail,
        }
    }
    pub fn failed(error: impl Into<String>, detail: Option<String>) -> Self {
        Attempt {
            ok: false,
            permanent: false,
            error: Some(error.into()),
            detail,
        }
    }
    pub fn refused(error: impl Into<String>) -> Self {
        Attempt {
            ok: false,
            permanent: true,
            error: Some(error.into()),
            detail: None,
        }
    }
}
