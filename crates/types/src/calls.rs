//! Calls and recordings (SPEC §3): the call with its participants and state, each recording
//! with its trigger and checksum, the dispatch targets queued for it, and the live recording
//! state shown next to the red toggle.

use crate::engine::{CallOrigin, TraceLine};
use crate::ids::{CallId, DispatchId, RecordingId, RuleId, UserId};
use crate::rules::MonMode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum CallState {
    Ringing,
    Active,
    Held,
    Ended,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ParticipantRole {
    Caller,
    Callee,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Participant {
    pub name: String,
    /// Extension, phone number or SIP AoR as the PBX reported it.
    pub number: String,
    /// The user this number belongs to; `None` for an external party.
    pub user_id: Option<UserId>,
    pub role: ParticipantRole,
    /// The directory's name of `user_id` (its display name, or its username when that is
    /// empty), filled by the server from the directory as it is now whenever it sends a call,
    /// so old calls and renamed users show the right name. Never stored: `name` is what the
    /// PBX said, this is who the user is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
}

/// The direction of the call as a whole, used by the journal filter: `incoming` when the caller
/// is external, `outgoing` when an internal caller reaches an external party, `internal` when
/// every participant is a user. (Per-participant direction is the rule engine's business.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum CallDirection {
    Incoming,
    Outgoing,
    Internal,
}

impl CallDirection {
    pub fn as_str(self) -> &'static str {
        match self {
            CallDirection::Incoming => "incoming",
            CallDirection::Outgoing => "outgoing",
            CallDirection::Internal => "internal",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "incoming" => Some(Self::Incoming),
            "outgoing" => Some(Self::Outgoing),
            "internal" => Some(Self::Internal),
            _ => None,
        }
    }
    /// Derives the call's direction from who is internal.
    pub fn of(participants: &[Participant]) -> Self {
        let caller_internal = participants
            .iter()
            .find(|p| p.role == ParticipantRole::Caller)
            .is_some_and(|p| p.user_id.is_some());
        let any_external = participants.iter().any(|p| p.user_id.is_none());
        match (caller_internal, any_external) {
            (false, _) => CallDirection::Incoming,
            (true, true) => CallDirection::Outgoing,
            (true, false) => CallDirection::Internal,
        }
    }
}

/// Where a call came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum CallSource {
    Siprec,
    Ingest,
    Demo,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Call {
    pub id: CallId,
    /// The key of the call's files on disk (`<callkey>_<seq>.wav`, `<callkey>.json`).
    pub call_key: String,
    pub sip_call_ids: Vec<String>,
    pub participants: Vec<Participant>,
    pub direction: CallDirection,
    pub origin: CallOrigin,
    pub mon_mode: MonMode,
    pub source: CallSource,
    pub started_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub state: CallState,
    pub recording_count: i64,
    /// Whether the caller agreed to be recorded, who said so and when (issue #11.2).
    #[serde(default)]
    pub consent: CallConsent,
}

/// The caller's consent to being recorded: `unknown` until someone says, `announced` once
/// the caller was told the call is recorded, then `granted` or `refused`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ConsentState {
    #[default]
    Unknown,
    Announced,
    Granted,
    Refused,
}

impl ConsentState {
    pub fn as_str(self) -> &'static str {
        match self {
            ConsentState::Unknown => "unknown",
            ConsentState::Announced => "announced",
            ConsentState::Granted => "granted",
            ConsentState::Refused => "refused",
        }
    }
    /// Parses a header or ingest value, case-insensitively and trimmed.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "unknown" => Some(Self::Unknown),
            "announced" => Some(Self::Announced),
            "granted" => Some(Self::Granted),
            "refused" => Some(Self::Refused),
            _ => None,
        }
    }
}

/// Where a call's consent came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ConsentVia {
    /// The `X-Callrec-Consent` header of the INVITE or a re-INVITE (an IVR asked).
    Sip,
    /// The `consent` field of an upload.
    Ingest,
    /// `PUT /api/v1/calls/{id}/consent`: an agent or admin recorded it.
    Client,
}

/// A call's consent with who gave it, how and when.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
pub struct CallConsent {
    pub state: ConsentState,
    /// Who said so, in words: the user who recorded it, or what the PBX named; `None` while
    /// nobody has.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    /// The user who recorded it (through the API).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<UserId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<ConsentVia>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<DateTime<Utc>>,
}

/// How a manual recording was started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ManualVia {
    Client,
    Phone,
    Pbx,
}

impl Participant {
    /// Removes what the server fills in when it sends a participant (`user_name`), so that
    /// only the PBX's facts are stored.
    pub fn without_directory_name(&self) -> Participant {
        Participant {
            user_name: None,
            ..self.clone()
        }
    }
}

/// What caused a recording.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Trigger {
    Auto {
        #[serde(default)]
        rule_id: Option<RuleId>,
        /// The rule's description as it is now, filled by the server whenever it sends a
        /// recording; `None` when the rule was deleted. Never stored.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rule_name: Option<String>,
    },
    Force,
    Manual {
        #[serde(default)]
        user_id: Option<UserId>,
        via: ManualVia,
    },
}

impl Trigger {
    /// The trigger as it is stored: without the names the server fills in when it sends it.
    pub fn without_names(&self) -> Trigger {
        match self {
            Trigger::Auto { rule_id, .. } => Trigger::Auto {
                rule_id: *rule_id,
                rule_name: None,
            },
            other => other.clone(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum AudioCodec {
    Pcmu,
    Pcma,
    Pcm16,
}

impl AudioCodec {
    pub fn as_str(self) -> &'static str {
        match self {
            AudioCodec::Pcmu => "pcmu",
            AudioCodec::Pcma => "pcma",
            AudioCodec::Pcm16 => "pcm16",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pcmu" => Some(Self::Pcmu),
            "pcma" => Some(Self::Pcma),
            "pcm16" => Some(Self::Pcm16),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum RecordingState {
    /// Still being written (a live call).
    Recording,
    Complete,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Recording {
    pub id: RecordingId,
    pub call_id: CallId,
    pub seq: i64,
    /// `<callkey>_<seq>.wav`, the name it is downloaded as.
    pub file_name: String,
    pub started_at: DateTime<Utc>,
    /// Milliseconds from the call's answer (or start) to this recording's start.
    pub start_offset_ms: i64,
    pub duration_ms: i64,
    pub bytes: i64,
    pub codec: AudioCodec,
    pub sample_rate: u32,
    pub channels: u16,
    /// Hex SHA-256 of the stored file; empty while recording.
    pub sha256: String,
    pub trigger: Trigger,
    pub state: RecordingState,
    pub legal_hold: bool,
    #[serde(default)]
    pub dispatch: Vec<DispatchTarget>,
    /// Spans of the call whose audio was lost (the disk refused it for longer than the
    /// recorder could hold it in memory), in order. The file holds silence there, so its
    /// timeline stays the call's; a span at the very end may be missing from the file when
    /// the call ended before the disk recovered.
    #[serde(default)]
    pub gaps: Vec<RecordingGap>,
    /// The PCI pauses of the recording, in order (issue #11.1): the file holds silence (or a
    /// soft tone) there, never the call's audio. The last one is open (`to_ms` null) while
    /// the recording is paused.
    #[serde(default)]
    pub pauses: Vec<RecordingPause>,
    /// The spans the call was on hold while this recording ran, in order (the PBX's
    /// re-INVITE made every stream inactive; the file holds silence there). The last one is
    /// open (`to_ms` null) while the call is held.
    #[serde(default)]
    pub holds: Vec<RecordingHold>,
}

/// A span of a recording during which the call was on hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct RecordingHold {
    /// Milliseconds from the recording's start to the hold.
    pub from_ms: i64,
    /// Milliseconds from the recording's start to the call's resumption; `None` while held.
    pub to_ms: Option<i64>,
}

impl RecordingHold {
    /// Opens a hold at `at_ms` (from the recording's start) unless one is open; `true` when
    /// the list changed.
    pub fn begin(holds: &mut Vec<RecordingHold>, at_ms: i64) -> bool {
        if holds.last().is_some_and(|h| h.to_ms.is_none()) {
            return false;
        }
        let from_ms = at_ms.max(holds.last().and_then(|h| h.to_ms).unwrap_or(0));
        holds.push(RecordingHold { from_ms, to_ms: None });
        true
    }

    /// Closes the open hold at `at_ms` (the call resumed, or the recording ended); `true`
    /// when the list changed.
    pub fn end(holds: &mut [RecordingHold], at_ms: i64) -> bool {
        match holds.last_mut() {
            Some(h) if h.to_ms.is_none() => {
                h.to_ms = Some(at_ms.max(h.from_ms));
                true
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod hold_tests {
    use super::RecordingHold;

    #[test]
    fn a_hold_opens_once_closes_once_and_never_goes_back_in_time() {
        let mut holds = Vec::new();
        assert!(RecordingHold::begin(&mut holds, 1_500));
        assert!(!RecordingHold::begin(&mut holds, 1_800), "already held");
        assert!(RecordingHold::end(&mut holds, 3_200));
        assert!(!RecordingHold::end(&mut holds, 3_300), "not held");
        assert!(RecordingHold::begin(&mut holds, 3_000), "a late clock");
        assert!(RecordingHold::end(&mut holds, 2_000));
        assert_eq!(
            holds,
            [
                RecordingHold {
                    from_ms: 1_500,
                    to_ms: Some(3_200)
                },
                RecordingHold {
                    from_ms: 3_200,
                    to_ms: Some(3_200)
                }
            ]
        );
    }
}

/// A span of a recording during which it was paused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct RecordingPause {
    /// Milliseconds from the recording's start to the pause.
    pub from_ms: i64,
    /// Milliseconds from the recording's start to the resume; `None` while still paused.
    pub to_ms: Option<i64>,
    /// Who paused it, as people read it ("Alice (201)", an admin's name).
    pub by: String,
    /// The user who paused it.
    pub user_id: Option<UserId>,
}

/// A span of a recording whose audio was lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct RecordingGap {
    /// Milliseconds from the recording's start to the first lost audio.
    pub offset_ms: i64,
    /// Milliseconds of audio lost.
    pub duration_ms: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum DispatchStatus {
    Pending,
    Sent,
    Failed,
}

impl DispatchStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DispatchStatus::Pending => "pending",
            DispatchStatus::Sent => "sent",
            DispatchStatus::Failed => "failed",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(Self::Pending),
            "sent" => Some(Self::Sent),
            "failed" => Some(Self::Failed),
            _ => None,
        }
    }
}

/// One copy of one recording to send (e-mail or script), with its bookkeeping.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct DispatchTarget {
    pub id: DispatchId,
    pub recording_id: RecordingId,
    pub rule_id: Option<RuleId>,
    pub target: crate::rules::Dispatch,
    pub status: DispatchStatus,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub sent_at: Option<DateTime<Utc>>,
    /// Extra facts of the last attempt (script output, "attachment too large", …).
    pub detail: Option<String>,
    /// The call of the recording, so a queue names the call rather than a recording id;
    /// filled by the dispatch queue route (`GET /api/v1/dispatch`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call: Option<DispatchCall>,
}

/// The call a dispatch target's recording belongs to, as the dispatch queue shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct DispatchCall {
    pub id: CallId,
    pub started_at: DateTime<Utc>,
    /// With `user_name` filled from the directory.
    pub participants: Vec<Participant>,
    /// The recording's sequence number within the call (`<callkey>_<seq>.wav`).
    pub recording_seq: u32,
}

/// The body of a webhook dispatch (`{"kind": "webhook"}`): POSTed as JSON as soon as a
/// recording is finished, signed with `X-Callrec-Signature: sha256=<hex HMAC-SHA256 of the
/// body with the rule's secret>` and keyed with `X-Callrec-Dispatch-Key` (the same key as
/// `idempotency_key`, stable across retries, so a receiver can drop a duplicate).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct WebhookPayload {
    /// Always `recording.finished`.
    pub event: String,
    pub idempotency_key: String,
    /// 1 for the first attempt, 2 for the first retry, …
    pub attempt: i64,
    /// The call, participants with their directory names.
    pub call: Call,
    pub recording: WebhookRecording,
    /// Where the audio is fetched (with an authorised session): `/api/v1/recordings/{id}/audio`.
    pub download_path: String,
}

/// The recording a webhook names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct WebhookRecording {
    pub id: RecordingId,
    pub seq: i64,
    pub file_name: String,
    pub started_at: DateTime<Utc>,
    pub duration_ms: i64,
    pub bytes: i64,
    pub codec: AudioCodec,
    /// Hex SHA-256 of the stored file.
    pub sha256: String,
    pub trigger: Trigger,
}

/// The event name a webhook carries.
pub const WEBHOOK_EVENT: &str = "recording.finished";

impl WebhookPayload {
    pub fn new(call: Call, recording: &Recording, key: String, attempt: i64) -> WebhookPayload {
        WebhookPayload {
            event: WEBHOOK_EVENT.to_string(),
            idempotency_key: key,
            attempt,
            call,
            download_path: format!("/api/v1/recordings/{}/audio", recording.id),
            recording: WebhookRecording {
                id: recording.id,
                seq: recording.seq,
                file_name: recording.file_name.clone(),
                started_at: recording.started_at,
                duration_ms: recording.duration_ms,
                bytes: recording.bytes,
                codec: recording.codec,
                sha256: recording.sha256.clone(),
                trigger: recording.trigger.clone(),
            },
        }
    }
}

/// The recording state next to the red toggle, as seen by one user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LiveRecording {
    /// An automatic (rule or force) recording is running (or paused).
    RecordingAuto {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        paused: Option<LivePause>,
    },
    /// A manual recording is running (or paused), started by `by` (display name).
    RecordingManual {
        by: String,
        user_id: Option<UserId>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        paused: Option<LivePause>,
    },
    NotRecording,
}

impl LiveRecording {
    /// The open pause of the running recording, if it is paused.
    pub fn paused(&self) -> Option<&LivePause> {
        match self {
            LiveRecording::RecordingAuto { paused } | LiveRecording::RecordingManual { paused, .. } => paused.as_ref(),
            LiveRecording::NotRecording => None,
        }
    }
}

/// A running recording's pause as the live call shows it: who paused it and since when, so
/// a client can run its own timer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct LivePause {
    /// Who paused it (display name).
    pub by: String,
    pub user_id: Option<UserId>,
    pub since: DateTime<Utc>,
    /// When the server resumes it by itself (setting `pause_auto_resume_secs`), if it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub auto_resume_at: Option<DateTime<Utc>>,
}

/// A call with everything a viewer may know of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct CallDetail {
    #[serde(flatten)]
    pub call: Call,
    pub recordings: Vec<Recording>,
    pub trace: Vec<TraceLine>,
    /// The recording state right now (`not_recording` for ended calls).
    pub recording: LiveRecording,
    /// Whether the viewer may press the record toggle now.
    pub can_toggle: bool,
    /// Whether the viewer may pause or resume the running recording now (issue #11.1: any
    /// participant, an admin — automatic recordings too).
    #[serde(default)]
    pub can_pause: bool,
    /// Why the viewer may not, in plain words, when `can_toggle` is false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_allowed_reason: Option<String>,
    /// The call's automatic recording waits for the caller's consent (the deciding rule has
    /// `require_consent`): with `recording` `not_recording` and consent not refused, the
    /// call is "waiting for consent".
    #[serde(default)]
    pub consent_required: bool,
}

/// The per-call journal document on disk (`<callkey>.json`), the `$2` of a script dispatch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct JournalDocument {
    pub version: u32,
    pub call: Call,
    pub recordings: Vec<Recording>,
    pub decision_trace: Vec<TraceLine>,
    /// The call's entries of the signed evidence chain (issue #12.2), in chain order: with the
    /// installation's public key anyone can check an exported call (`docs/evidence.md`).
    #[serde(default)]
    pub evidence: Vec<crate::evidence::EvidenceEntry>,
    /// The transcripts of the call's recordings (issue #16), each with its status.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    // Not in the window's bindings yet: the desktop's transcript pane reads the transcript
    // route, and adds the type to the bindings when it needs this.
    #[ts(skip)]
    pub transcripts: Vec<crate::transcripts::Transcript>,
}

/// One row of the journal list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct JournalItem {
    #[serde(flatten)]
    pub call: Call,
    pub duration_ms: Option<i64>,
    /// The average score (0–100) of the call's reviews (issue #15.4); absent when nobody
    /// reviewed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub score: Option<f64>,
    /// Why the search `q` matched the call — the field and a snippet (issue #16); absent when
    /// the journal was not searched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub matched: Option<crate::search::SearchMatch>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct JournalPage {
    pub items: Vec<JournalItem>,
    pub next_cursor: Option<String>,
}
