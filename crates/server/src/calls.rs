//! Call facts shared by every way a call reaches us (SIPREC, upload): matching participants to
//! users, running the rule engine, the per-call journal document, what a viewer is shown, and
//! the audit log.

pub use crate::audit::audit;
use crate::caller::Caller;
use crate::error::ApiError;
use crate::files::Files;
pub use crate::label::label;
use crate::state::AppState;
use callrec_store::Scope;
use callrec_types::calls::{
    Call, CallDetail, CallState, JournalDocument, LiveRecording, Participant, ParticipantRole, Recording,
};
use callrec_types::directory::{address_user_part, normalize_address};
use callrec_types::engine::{decide, CallFacts, Decision, FactParticipant, TraceLine};
use callrec_types::rules::MonMode;
use callrec_types::*;
use chrono::{DateTime, Utc};
use std::collections::HashMap;

/// A participant as the PBX reported it.
#[derive(Debug, Clone)]
pub struct RawParticipant {
    pub number: String,
    pub name: String,
    pub role: ParticipantRole,
}

/// Extensions and AoRs of every user, for matching. Built per call: the directory is small and
/// changes rarely, and a fresh read means a new extension works at once.
pub struct AddressBook {
    exact: HashMap<String, UserId>,
    user_part: HashMap<String, Option<UserId>>,
}

impl AddressBook {
    pub async fn load(state: &AppState) -> Result<Self, ApiError> {
        let mut exact = HashMap::new();
        let mut user_part: HashMap<String, Option<UserId>> = HashMap::new();
        for (addr, user) in state.store.list_addresses().await? {
            let up = address_user_part(&addr).to_string();
            // A user part shared by two users (201@a, 201@b) is ambiguous: match neither.
            user_part
                .entry(up)
                .and_modify(|e| {
                    if *e != Some(user) {
                        *e = None
                    }
                })
                .or_insert(Some(user));
            exact.insert(addr, user);
        }
        Ok(AddressBook { exact, user_part })
    }

    /// `sip:201@pbx` matches a user with `sip:201@pbx` or `201`; `201` matches a user with `201`
    /// or (when unambiguous) `sip:201@anything`.
    pub fn resolve(&self, number: &str) -> Option<UserId> {
        let n = normalize_address(number);
        if n.is_empty() {
            return None;
        }
        if let Some(u) = self.exact.get(&n) {
            return Some(*u);
        }
        let up = address_user_part(&n);
        if let Some(u) = self.exact.get(up) {
            return Some(*u);
        }
        self.user_part.get(up).copied().flatten()
    }

    pub fn participants(&self, raw: &[RawParticipant]) -> Vec<Participant> {
        raw.iter()
            .map(|p| Participant {
                name: p.name.clone(),
                number: p.number.clone(),
                user_id: self.resolve(&p.number),
                role: p.role,
                user_name: None,
            })
            .collect()
    }
}

/// Runs the rule engine for a call.
pub async fn decide_call(
    state: &AppState,
    participants: &[Participant],
    mon_mode: MonMode,
) -> Result<Decision, ApiError> {
    let rules = state.store.list_rules().await?;
    let dir = state.store.directory_view().await?;
    let facts = CallFacts {
        participants: participants
            .iter()
            .map(|p| FactParticipant {
                user_id: p.user_id,
                is_caller: p.role == ParticipantRole::Caller,
                label: label(p),
            })
            .collect(),
        mon_mode,
    };
    Ok(decide(&facts, &rules, &dir))
}

pub fn internal_users(call: &Call) -> Vec<UserId> {
    let mut v: Vec<UserId> = call.participants.iter().filter_map(|p| p.user_id).collect();
    v.sort();
    v.dedup();
    v
}

pub fn visible(scope: &Scope, users: &[UserId]) -> bool {
    match scope {
        Scope::All => true,
        Scope::Users(list) => users.iter().any(|u| list.contains(u)),
    }
}

/// Loads a call the caller may see; a call they may not see is "not found", so ids reveal
/// nothing.
pub async fn visible_call(state: &AppState, caller: &Caller, id: CallId) -> Result<(Call, Vec<TraceLine>), ApiError> {
    if !state.store.call_visible(id, &caller.scope).await? {
        return Err(ApiError::not_found("call"));
    }
    Ok(state.store.get_call(id).await?)
}

/// Writes (or rewrites) the call's journal document next to its recordings, with the
/// directory's names as they are at the time of writing.
pub async fn write_journal(state: &AppState, call_id: CallId) -> Result<JournalDocument, ApiError> {
    let (call, trace) = state.store.get_call(call_id).await?;
    let recordings = state.store.list_recordings(call_id).await?;
    let evidence = state.store.call_evidence(call_id).await?;
    let transcripts = crate::transcripts::of_call(state, &call).await;
    let mut doc = JournalDocument {
        version: 1,
        call,
        recordings,
        decision_trace: trace,
        evidence,
        transcripts,
    };
    crate::names::fill_or_log(state, &mut doc).await;
    state.files.write_journal(&doc, &state.vault).await?;
    // An ended call's journal goes to the object store with its recordings; a live call's
    // stays in the spool until the call ends and it is written again.
    if doc.call.state == CallState::Ended {
        crate::objects::upload::queue(
            state,
            crate::objects::queue::Note::Journal {
                rel_path: Files::journal_rel_path(doc.call.started_at, &doc.call.call_key),
            },
        )
        .await?;
    }
    Ok(doc)
}

/// The call's journal document as last written, as plaintext (decrypted when stored sealed):
/// from the spool, else (uploaded) from the object store. `NotFound` when neither has it.
pub async fn read_journal(state: &AppState, started_at: DateTime<Utc>, call_key: &str) -> std::io::Result<Vec<u8>> {
    let stored = read_stored_journal(state, started_at, call_key).await?;
    state.vault.open_bytes(&stored)
}

async fn read_stored_journal(state: &AppState, started_at: DateTime<Utc>, call_key: &str) -> std::io::Result<Vec<u8>> {
    match state.files.read_journal(started_at, call_key).await {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        other => return other,
    }
    let Some(objects) = &state.objects else {
        return Err(std::io::ErrorKind::NotFound.into());
    };
    match objects.get_bytes(&Files::journal_rel_path(started_at, call_key)).await {
        Ok(b) => Ok(b.to_vec()),
        Err(e) if e.is_not_found() => Err(std::io::ErrorKind::NotFound.into()),
        Err(e) => Err(std::io::Error::other(e)),
    }
}

/// What one viewer is shown of a call.
pub fn detail_for(
    call: Call,
    recordings: Vec<Recording>,
    trace: Vec<TraceLine>,
    live: Option<(&Decision, LiveRecording)>,
    viewer: &Caller,
) -> CallDetail {
    let is_participant = call.participants.iter().any(|p| p.user_id == Some(viewer.id()));
    let can_pause = live.as_ref().is_some_and(|(decision, state)| {
        *state != LiveRecording::NotRecording && decision.may_pause(is_participant, viewer.is_admin()).is_ok()
    });
    let consent_required = live.as_ref().is_some_and(|(d, _)| d.consent_required);
    let (recording, can_toggle, reason) = match live {
        None => (
            LiveRecording::NotRecording,
            false,
            Some("the call has ended".to_string()),
        ),
        Some((decision, state)) => match decision.may_record(viewer.id(), is_participant, call.consent.state) {
            Ok(()) => (state, true, None),
            Err(r) => (state, false, Some(r.to_string())),
        },
    };
    CallDetail {
        call,
        recordings,
        trace,
        recording,
        can_toggle,
        can_pause,
        not_allowed_reason: reason,
        consent_required,
    }
}
