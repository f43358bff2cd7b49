//! Shapes that exist only on the wire: sessions, errors, ingest, settings, storage, audit and
//! the server-sent events.

use crate::calls::{CallConsent, CallDetail, ConsentState, LiveRecording, Recording};
use crate::directory::User;
use crate::engine::TraceLine;
use crate::ids::{AuditId, CallId, RecordingId, UserId};
use crate::rules::{FieldError, MonMode};
use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// `ErrorBody.code`: what went wrong, for a program to branch on (the message is for people).
/// The strings on the wire are the variant names in snake_case.
///
/// A code this build does not know (from a newer server) decodes as [`ErrorCode::Unknown`]; a
/// client then goes by the HTTP status, as it does for an error body that is not JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
// In TypeScript `ServerErrorCode`: the window's own `ErrorCode` is the desktop's (AppError).
#[ts(rename = "ServerErrorCode")]
pub enum ErrorCode {
    AlreadyPaused,
    AlreadySent,
    BadCredentials,
    BadId,
    BadQuery,
    Busy,
    CallNotLive,
    Conflict,
    DiskFull,
    FileMissing,
    Forbidden,
    Internal,
    Invalid,
    InvalidCall,
    InvalidWav,
    LegalHold,
    MalformedJson,
    MalformedUpload,
    /// The node that holds the call's media did not answer in time (several nodes on one
    /// database): the action may not have happened; the call's state says.
    NodeUnavailable,
    NotFound,
    /// Pause or resume of a recording that is not paused.
    NotPaused,
    NotPermitted,
    NotPermittedByRules,
    /// Pause of a call on which nothing is being recorded.
    NotRecording,
    /// `404` for the transcript of a recording that is not transcribed (no rule asked for it);
    /// a recording the caller may not see is `not_found`, as everywhere.
    NotTranscribed,
    /// The recording's stored file fails its integrity check (an encrypted chunk altered,
    /// reordered or cut off, issue #12.1): it is not served.
    RecordingAltered,
    RecordingDenied,
    RecordingInProgress,
    SessionExpired,
    SmtpFailed,
    TimeInFuture,
    TooLarge,
    TooManyAttempts,
    Unauthorized,
    /// Any other code (a newer server's), or no error body at all.
    #[serde(other)]
    Unknown,
}

impl ErrorCode {
    /// The code as it is on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::AlreadyPaused => "already_paused",
            ErrorCode::AlreadySent => "already_sent",
            ErrorCode::BadCredentials => "bad_credentials",
            ErrorCode::BadId => "bad_id",
            ErrorCode::BadQuery => "bad_query",
            ErrorCode::Busy => "busy",
            ErrorCode::CallNotLive => "call_not_live",
            ErrorCode::Conflict => "conflict",
            ErrorCode::DiskFull => "disk_full",
            ErrorCode::FileMissing => "file_missing",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::Internal => "internal",
            ErrorCode::Invalid => "invalid",
            ErrorCode::InvalidCall => "invalid_call",
            ErrorCode::InvalidWav => "invalid_wav",
            ErrorCode::LegalHold => "legal_hold",
            ErrorCode::MalformedJson => "malformed_json",
            ErrorCode::MalformedUpload => "malformed_upload",
            ErrorCode::NodeUnavailable => "node_unavailable",
            ErrorCode::NotFound => "not_found",
            ErrorCode::NotPaused => "not_paused",
            ErrorCode::NotPermitted => "not_permitted",
            ErrorCode::NotPermittedByRules => "not_permitted_by_rules",
            ErrorCode::NotRecording => "not_recording",
            ErrorCode::NotTranscribed => "not_transcribed",
            ErrorCode::RecordingAltered => "recording_altered",
            ErrorCode::RecordingDenied => "recording_denied",
            ErrorCode::RecordingInProgress => "recording_in_progress",
            ErrorCode::SessionExpired => "session_expired",
            ErrorCode::SmtpFailed => "smtp_failed",
            ErrorCode::TimeInFuture => "time_in_future",
            ErrorCode::TooLarge => "too_large",
            ErrorCode::TooManyAttempts => "too_many_attempts",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::Unknown => "unknown",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Every error the API returns: `{code, message}`; `fields` for validation problems and
/// `trace` for a rule decision that refused an upload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ErrorBody {
    pub code: ErrorCode,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields: Option<Vec<FieldError>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<Vec<TraceLine>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct LoginResponse {
    pub token: String,
    pub user: User,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum IngestRole {
    Caller,
    Callee,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct IngestParticipant {
    pub number: String,
    #[serde(default)]
    pub name: String,
    pub role: IngestRole,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum IngestTrigger {
    #[default]
    Auto,
    Manual,
}

/// The `call` part of `POST /api/v1/ingest`.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct IngestCall {
    pub sip_call_id: String,
    pub started_at: DateTime<Utc>,
    #[serde(default)]
    pub answered_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub ended_at: Option<DateTime<Utc>>,
    pub participants: Vec<IngestParticipant>,
    #[serde(default)]
    pub mon_mode: Option<String>,
    #[serde(default)]
    pub trigger: IngestTrigger,
    /// For a manual recording: the extension, AoR or username of who pressed record.
    #[serde(default)]
    pub triggered_by: Option<String>,
    #[serde(default)]
    pub recording_started_at: Option<DateTime<Utc>>,
    /// The caller's consent as the PBX knows it: `unknown`, `announced`, `granted` or
    /// `refused` (issue #11.2); absent is `unknown`.
    #[serde(default)]
    pub consent: Option<String>,
}

impl IngestCall {
    pub fn mon_mode(&self) -> Option<MonMode> {
        MonMode::parse(self.mon_mode.as_deref().unwrap_or(""))
    }
    /// The `consent` field: absent is `unknown`; `None` for a value that is none of the four.
    pub fn consent(&self) -> Option<ConsentState> {
        match self.consent.as_deref() {
            None => Some(ConsentState::Unknown),
            Some(v) => ConsentState::parse(v),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct IngestResponse {
    pub call_id: CallId,
    pub recording_id: RecordingId,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum RecordingAction {
    Start,
    Stop,
    /// PCI pause of the running recording (any participant, an admin; automatic ones too).
    Pause,
    Resume,
}

impl RecordingAction {
    /// The action as it is on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordingAction::Start => "start",
            RecordingAction::Stop => "stop",
            RecordingAction::Pause => "pause",
            RecordingAction::Resume => "resume",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct RecordingActionRequest {
    pub action: RecordingAction,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct RecordingActionResponse {
    pub state: crate::calls::LiveRecording,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recording_id: Option<RecordingId>,
}

/// `PUT /api/v1/calls/{id}/consent`: the agent records the caller's (verbal) consent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct ConsentRequest {
    pub consent: ConsentState,
}

/// The answer of `PUT /api/v1/calls/{id}/consent`: the call's consent now and what it did to
/// the recording.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ConsentResponse {
    pub consent: CallConsent,
    pub state: LiveRecording,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recording_id: Option<RecordingId>,
}

/// The `consent_refused` setting: what becomes of what was recorded before the caller
/// refused consent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ConsentRefused {
    /// Deleted at once (the default).
    #[default]
    Delete,
    /// Kept; the recording simply stops.
    Keep,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum SmtpSecurity {
    #[default]
    None,
    Starttls,
    Tls,
}

#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    #[serde(default)]
    pub username: String,
    /// Write-only: `GET` shows `""` when unset and `"********"` when set.
    #[serde(default)]
    pub password: String,
    pub from: String,
}

impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &if self.password.is_empty() { "" } else { "<redacted>" })
            .field("from", &self.from)
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Settings {
    pub retention_days: u32,
    pub dispatch_schedule: String,
    pub smtp: SmtpSettings,
    /// What a paused recording holds (issue #11.1).
    #[serde(default)]
    pub pause_fill: PauseFill,
    /// A pause longer than this many seconds is resumed by the server; 0 = never.
    #[serde(default)]
    pub pause_auto_resume_secs: u32,
    /// Who is mailed a missing-recording alarm (issue #11.3) when SMTP is set; empty: nobody.
    #[serde(default)]
    pub alarm_recipients: Vec<String>,
    /// What was recorded before a caller refused consent: deleted (default) or kept.
    #[serde(default)]
    pub consent_refused: ConsentRefused,
}

/// What fills a recording's timeline while it is paused: never the call's audio.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum PauseFill {
    #[default]
    Silence,
    /// A soft 400 Hz tone, so a listener hears that something was left out.
    Tone,
}

impl PauseFill {
    pub fn as_str(self) -> &'static str {
        match self {
            PauseFill::Silence => "silence",
            PauseFill::Tone => "tone",
        }
    }
    pub fn parse(s: &str) -> Option<PauseFill> {
        match s {
            "silence" => Some(PauseFill::Silence),
            "tone" => Some(PauseFill::Tone),
            _ => None,
        }
    }
}

/// `PUT /api/v1/settings` may send a subset.
#[derive(Debug, Clone, Default, Serialize, Deserialize, TS)]
pub struct SettingsPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_days: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dispatch_schedule: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smtp: Option<SmtpPatch>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pause_fill: Option<PauseFill>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pause_auto_resume_secs: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alarm_recipients: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent_refused: Option<ConsentRefused>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, TS)]
pub struct SmtpPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security: Option<SmtpSecurity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
}

/// `GET /api/v1/settings/schedule/preview`: a dispatch schedule and its next run times (in
/// the server's time zone, with its offset).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SchedulePreview {
    pub cron: String,
    pub next: Vec<DateTime<FixedOffset>>,
}

/// The body of `POST /api/v1/settings/smtp/test`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SmtpTestRequest {
    pub to: String,
}

/// The answer of `POST /api/v1/settings/smtp/test` when the message went out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SmtpTestResult {
    pub sent: bool,
    /// The address the test message went to (trimmed).
    pub to: String,
}

/// `POST /api/v1/dispatch/run`: what one run of the dispatch and retention job did.
/// A missing field reads as its default, so a report from an older server still decodes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[serde(default)]
pub struct RunReport {
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    /// Targets tried in this run.
    pub attempted: u64,
    pub sent: u64,
    /// Attempts that failed in this run (each target stays pending for a retry, or is marked
    /// failed when it has used its attempts).
    pub failed: u64,
    /// Of `failed`, targets now marked `failed` (no more automatic retries).
    pub gave_up: u64,
    /// Targets still pending after the run.
    pub pending: u64,
    /// Recordings deleted by retention in this run.
    pub deleted_recordings: Vec<RecordingId>,
    /// Expired recordings retention could not delete (see the log); tried again next run.
    pub retention_errors: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct StorageReport {
    pub bytes_used: u64,
    pub bytes_free: u64,
    pub bytes_per_day: u64,
    /// `None` when nothing is being recorded (the disk never fills).
    pub days_until_full: Option<f64>,
    pub recordings: u64,
    /// The disk refused a recording write and has taken none since: new calls are refused
    /// until it does.
    #[serde(default)]
    pub disk_full: bool,
    /// Calls holding audio in memory until the disk takes it.
    #[serde(default)]
    pub calls_waiting: u64,
    /// Milliseconds of audio lost to a full disk since the server started; each loss is a
    /// gap of its recording.
    #[serde(default)]
    pub audio_lost_ms: u64,
    /// Recording writes the disk refused since the server started (retries included).
    #[serde(default)]
    pub write_errors: u64,
    /// The object store closed recordings are uploaded to (`storage_url`, issue #10.2). This
    /// and the fields below are absent when recordings stay in the data directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub object_store: Option<String>,
    /// Recordings and journals in the local spool waiting for the object store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub spool_backlog: Option<u64>,
    /// Bytes of those files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub spool_backlog_bytes: Option<u64>,
    /// Bytes of recordings in the object store; absent when it could not be listed just now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub bucket_bytes: Option<u64>,
    /// Failed upload attempts since the server started (each is retried with backoff).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub upload_failures: Option<u64>,
    /// Why the last upload attempt failed, while uploads are failing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub last_upload_error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct AuditEntry {
    pub id: AuditId,
    pub at: DateTime<Utc>,
    pub user_id: Option<UserId>,
    /// Who did it: a username, `ingest`, `phone:<mac>` or `system`.
    pub actor: String,
    pub action: String,
    pub target: String,
    pub detail: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct AuditPage {
    pub items: Vec<AuditEntry>,
    pub next_cursor: Option<String>,
}

/// Which rendition of a recording `GET /api/v1/recordings/{id}/audio?format=` serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AudioFormat {
    /// The stored file, byte for byte (G.711 WAV for SIPREC calls).
    #[default]
    Original,
    /// A 16-bit PCM WAV, converted on the fly from G.711 (or the stored file if it is PCM16);
    /// playable anywhere.
    Pcm16,
}

impl AudioFormat {
    /// The query value: `original` or `pcm16`.
    pub fn as_str(self) -> &'static str {
        match self {
            AudioFormat::Original => "original",
            AudioFormat::Pcm16 => "pcm16",
        }
    }
}

/// A `?format=` value other than `original` and `pcm16`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown audio format {0:?}: expected original or pcm16")]
pub struct UnknownAudioFormat(pub String);

impl std::str::FromStr for AudioFormat {
    type Err = UnknownAudioFormat;

    fn from_str(s: &str) -> Result<AudioFormat, UnknownAudioFormat> {
        match s {
            "original" => Ok(AudioFormat::Original),
            "pcm16" => Ok(AudioFormat::Pcm16),
            other => Err(UnknownAudioFormat(other.to_owned())),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct HoldRequest {
    pub legal_hold: bool,
}

/// Server-sent events of `GET /api/v1/events`; the SSE event name is the variant name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "event", content = "data", rename_all = "snake_case")]
pub enum Event {
    /// A live call appeared or changed (state, participants, recording state).
    Call(CallDetail),
    CallEnded {
        call_id: CallId,
    },
    /// A recording started, stopped or was finished.
    Recording(Recording),
    /// A missing-recording alarm was raised or acknowledged (admins only).
    Alarm(crate::alarms::Alarm),
    /// The journal gained or changed a row.
    Journal {
        call_id: CallId,
    },
    /// This subscriber fell behind and missed events: what it shows (live calls, journal) may
    /// be stale and should be fetched again. The data is `{}` (hence the empty braces).
    Lagged {},
}

impl Event {
    pub fn name(&self) -> &'static str {
        match self {
            Event::Call(_) => "call",
            Event::CallEnded { .. } => "call_ended",
            Event::Recording(_) => "recording",
            Event::Alarm(_) => "alarm",
            Event::Journal { .. } => "journal",
            Event::Lagged {} => "lagged",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_are_their_snake_case_names_on_the_wire() {
        for (code, text) in [
            (ErrorCode::BadCredentials, "bad_credentials"),
            (ErrorCode::NotPermittedByRules, "not_permitted_by_rules"),
            (ErrorCode::RecordingDenied, "recording_denied"),
            (ErrorCode::TooManyAttempts, "too_many_attempts"),
        ] {
            assert_eq!(serde_json::to_value(code).expect("encodes"), text);
            assert_eq!(code.as_str(), text, "as_str says what serde writes");
            let back: ErrorCode = serde_json::from_value(text.into()).expect("decodes");
            assert_eq!(back, code);
        }
    }

    #[test]
    fn an_error_body_with_a_code_from_a_newer_server_still_decodes() {
        let body: ErrorBody =
            serde_json::from_str(r#"{"code":"quota_exceeded","message":"over quota"}"#).expect("decodes");
        assert_eq!(body.code, ErrorCode::Unknown);
        assert_eq!(body.message, "over quota");
    }
}
