//! The upload of a finished call as a PBX sends it, for the tests that ingest one.

use callrec_types::wire::{IngestCall, IngestParticipant, IngestRole, IngestTrigger};
use chrono::{DateTime, Duration, Utc};

/// A two-party call `id`: `caller` (number, name) calls `callee` (number, name) at `at`, answered
/// `answered_after_s` and ended `ended_after_s` seconds after the start; no mon mode, an
/// automatic trigger, no consent word (set fields afterwards for anything else).
pub fn two_party(
    id: &str,
    at: DateTime<Utc>,
    answered_after_s: i64,
    ended_after_s: i64,
    caller: (&str, &str),
    callee: (&str, &str),
) -> IngestCall {
    let party = |(number, name): (&str, &str), role| IngestParticipant {
        number: number.into(),
        name: name.into(),
        role,
    };
    IngestCall {
        sip_call_id: id.into(),
        started_at: at,
        answered_at: Some(at + Duration::seconds(answered_after_s)),
        ended_at: Some(at + Duration::seconds(ended_after_s)),
        participants: vec![party(caller, IngestRole::Caller), party(callee, IngestRole::Callee)],
        mon_mode: None,
        trigger: IngestTrigger::Auto,
        triggered_by: None,
        recording_started_at: None,
        consent: None,
    }
}
