//! Calls written straight into the store, as the journal benchmark seeds them and as a crash
//! between a row and its evidence entry leaves them: an ended call of a customer with one agent,
//! and a finished recording of it. (`Store::import_calls` takes both.)

use callrec_store::{NewCall, NewRecording};
use callrec_types::calls::{
    AudioCodec, CallDirection, CallSource, CallState, Participant, ParticipantRole, RecordingState, Trigger,
};
use callrec_types::directory::User;
use callrec_types::engine::CallOrigin;
use callrec_types::rules::MonMode;
use callrec_types::CallId;
use chrono::{DateTime, Duration, Utc};

/// An incoming SIPREC call `key` from a customer (`name`, `number`) to `agent` at extension 201,
/// answered after 5 s and ended after 95 s.
pub fn ended_call(key: &str, (name, number): (&str, &str), agent: &User, started: DateTime<Utc>) -> NewCall {
    NewCall {
        call_key: key.to_owned(),
        source: CallSource::Siprec,
        sip_call_ids: vec![format!("{key}@pbx")],
        participants: vec![
            Participant {
                name: name.to_owned(),
                number: number.to_owned(),
                user_id: None,
                role: ParticipantRole::Caller,
                user_name: None,
            },
            Participant {
                name: agent.display_name.clone(),
                number: "201".into(),
                user_id: Some(agent.id),
                role: ParticipantRole::Callee,
                user_name: None,
            },
        ],
        direction: CallDirection::Incoming,
        origin: CallOrigin::External,
        mon_mode: MonMode::Auto,
        started_at: started,
        answered_at: Some(started + Duration::seconds(5)),
        ended_at: Some(started + Duration::seconds(95)),
        state: CallState::Ended,
        trace: vec![],
        consent: Default::default(),
    }
}

/// The finished stereo µ-law recording of `call` (seq 1, from its answer), stored at
/// `rel_path`: `bytes` long, hashing to `sha256`.
pub fn finished_recording(call: &NewCall, rel_path: &str, duration_ms: i64, bytes: i64, sha256: &str) -> NewRecording {
    NewRecording {
        call_id: CallId(1),
        seq: 1,
        rel_path: rel_path.to_owned(),
        file_name: rel_path.rsplit('/').next().unwrap_or(rel_path).to_owned(),
        started_at: call.answered_at.unwrap_or(call.started_at),
        start_offset_ms: 0,
        duration_ms,
        bytes,
        codec: AudioCodec::Pcmu,
        sample_rate: 8000,
        channels: 2,
        sha256: sha256.to_owned(),
        trigger: Trigger::Force,
        state: RecordingState::Complete,
    }
}
