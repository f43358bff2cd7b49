//! The rule engine (SPEC §2): a pure function from the facts of a call, the rules and a view
//! of the directory to a decision — is the call recorded automatically, who may record it by
//! hand, which dispatch targets apply — with a trace in plain words that answers "why was / wasn't
//! this recorded?". No I/O, no clock: the caller passes everything in.

use crate::ids::{RoleId, RuleId, TeamId, UserId};
use crate::rules::{Dispatch, MonMode, Rule, RuleDirection, RuleMode, RuleOrigin};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use ts_rs::TS;

#[path = "engine_consent.rs"]
mod consent;
use consent::consent_rules;
pub use consent::{consent_line, ConsentStep};

/// One participant of the call as the engine needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FactParticipant {
    /// The user whose extension/AoR this is; `None` for an external party.
    pub user_id: Option<UserId>,
    pub is_caller: bool,
    /// For the trace: the name or number shown to people.
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallFacts {
    pub participants: Vec<FactParticipant>,
    pub mon_mode: MonMode,
}

/// A team as seen by a role: its members count as role members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamView {
    pub id: TeamId,
    pub name: String,
    pub members: BTreeSet<UserId>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoleView {
    pub name: String,
    pub users: BTreeSet<UserId>,
    pub teams: Vec<TeamView>,
}

/// The part of the directory the engine reads: roles resolved to their users and teams.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DirectoryView {
    pub roles: BTreeMap<RoleId, RoleView>,
}

/// How a user belongs to a role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Via {
    Direct,
    Team { team_id: TeamId, team: String },
}

impl DirectoryView {
    pub fn membership(&self, role: RoleId, user: UserId) -> Option<Via> {
        let r = self.roles.get(&role)?;
        if r.users.contains(&user) {
            return Some(Via::Direct);
        }
        r.teams.iter().find(|t| t.members.contains(&user)).map(|t| Via::Team {
            team_id: t.id,
            team: t.name.clone(),
        })
    }
}

/// Whether a call is internal (every participant is a user) or external.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum CallOrigin {
    Internal,
    External,
}

/// A rule that matched one internal participant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct RuleMatch {
    pub rule_id: RuleId,
    pub user_id: UserId,
    pub mode: RuleMode,
    pub dispatch: Dispatch,
    /// The rule asks for transcripts (issue #16).
    #[serde(default)]
    pub transcribe: bool,
}

/// One line of the decision trace. `message` is plain words for people; the other fields let a
/// program find the rule or user it is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct TraceLine {
    pub kind: TraceKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_id: Option<RuleId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<UserId>,
    pub message: String,
    /// Set for events during the call (button presses); the decision itself has no time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum TraceKind {
    MonMode,
    RuleMatched,
    RuleNotMatched,
    RuleDisabled,
    Decision,
    ManualStart,
    ManualStop,
    Refused,
    /// The recording was paused (PCI, issue #11.1).
    Paused,
    Resumed,
    /// The caller's consent changed (issue #11.2).
    Consent,
}

/// The outcome for one call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Decision {
    pub mon_mode: MonMode,
    pub origin: CallOrigin,
    /// Recorded from answer to hangup (an automatic rule matched, or `force`).
    pub automatic: bool,
    /// Never recorded (`deny`).
    pub denied: bool,
    pub auto_matches: Vec<RuleMatch>,
    pub manual_matches: Vec<RuleMatch>,
    /// Users who may start/stop a manual recording.
    pub manual_allowed: BTreeSet<UserId>,
    pub trace: Vec<TraceLine>,
    /// The automatic recording waits for the caller's consent: every automatic rule that
    /// matched has `require_consent` (one without it records regardless; `force` never waits).
    #[serde(default)]
    pub consent_required: bool,
}

/// Why a user may not start or stop a recording. The messages reach agents (the record
/// toggle's `not_allowed_reason`, the toggle's error), so they are plain words without the
/// PBX's or the rule engine's terms; the decision trace, read by admins, names those.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the phone system does not allow this call to be recorded")]
    Denied,
    #[error("only people taking part in this call can record it")]
    NotParticipant,
    #[error("you are not allowed to record this call")]
    NoManualRule,
    #[error("this call is recorded automatically and cannot be stopped")]
    Automatic,
    /// Pause and resume (issue #11.1): neither a participant nor an admin.
    #[error("only people taking part in this call can pause or resume its recording")]
    NotParticipantToPause,
    #[error("the caller refused to be recorded")]
    ConsentRefused,
}

impl Refusal {
    /// The refusal as the decision trace tells it to admins, in the rule engine's terms
    /// (the `Display` text is for the agent who pressed record).
    pub fn trace_reason(&self) -> &'static str {
        match self {
            Refusal::Denied => "recording is denied for this call (MDC_MON_MODE=deny)",
            Refusal::NotParticipant => "you are not a participant of this call",
            Refusal::NoManualRule => "no recording rule allows you to record this call",
            Refusal::Automatic => "this call is recorded automatically; an automatic recording cannot be stopped",
            Refusal::NotParticipantToPause => {
                "only a participant of the call or an admin may pause or resume its recording"
            }
            Refusal::ConsentRefused => "the caller refused consent to recording",
        }
    }
}

impl Decision {
    /// Can `user` start or stop a manual recording? `is_participant` is the caller's knowledge
    /// of whether the user takes part in the call.
    pub fn may_toggle(&self, user: UserId, is_participant: bool) -> Result<(), Refusal> {
        if self.denied {
            return Err(Refusal::Denied);
        }
        if !is_participant {
            return Err(Refusal::NotParticipant);
        }
        if self.automatic {
            return Err(Refusal::Automatic);
        }
        if self.manual_allowed.contains(&user) {
            Ok(())
        } else {
            Err(Refusal::NoManualRule)
        }
    }

    /// Can `user` pause or resume the call's running recording (PCI, issue #11.1)? Any
    /// internal participant may — even of an automatic recording they cannot stop, and
    /// whatever the manual rules say — and so may an admin.
    pub fn may_pause(&self, is_participant: bool, is_admin: bool) -> Result<(), Refusal> {
        if is_participant || is_admin {
            Ok(())
        } else {
            Err(Refusal::NotParticipantToPause)
        }
    }

    /// The dispatch targets of an automatic recording besides the store (which is always
    /// implied): every matching automatic rule's, in rule order, each target once. With `force`
    /// the automatic rules that would have matched still send their copies. Empty when the call
    /// is not recorded automatically.
    pub fn auto_dispatch(&self) -> Vec<(RuleId, Dispatch)> {
        if !self.automatic {
            return Vec::new();
        }
        dedupe(self.auto_matches.iter())
    }

    /// The dispatch targets of a manual recording started by `user` besides the store: every
    /// enabled manual rule matching `user`, in rule order, each target once.
    pub fn manual_dispatch(&self, user: UserId) -> Vec<(RuleId, Dispatch)> {
        dedupe(self.manual_matches.iter().filter(|m| m.user_id == user))
    }

    /// Whether an automatic recording is transcribed (issue #16): some matching automatic rule
    /// asks for it.
    pub fn auto_transcribe(&self) -> bool {
        self.automatic && self.auto_matches.iter().any(|m| m.transcribe)
    }

    /// Whether a manual recording started by `user` is transcribed: some enabled manual rule
    /// matching `user` asks for it.
    pub fn manual_transcribe(&self, user: UserId) -> bool {
        self.manual_matches.iter().any(|m| m.user_id == user && m.transcribe)
    }

    /// Whether a recording with this trigger is transcribed: [`Decision::auto_transcribe`] for
    /// an automatic or forced one, [`Decision::manual_transcribe`] for one started by a user.
    pub fn transcribes(&self, trigger: &crate::calls::Trigger) -> bool {
        use crate::calls::Trigger;
        match trigger {
            Trigger::Auto { .. } | Trigger::Force => self.auto_transcribe(),
            Trigger::Manual { user_id: Some(u), .. } => self.manual_transcribe(*u),
            Trigger::Manual { user_id: None, .. } => false,
        }
    }
}

/// Each target once, named by the first rule (in rule order) that asked for it: a rule that
/// matches two participants, or two rules with the same e-mail recipients, send one copy.
/// `store` is left out because every recording is stored anyway.
fn dedupe<'a>(it: impl Iterator<Item = &'a RuleMatch>) -> Vec<(RuleId, Dispatch)> {
    let mut out: Vec<(RuleId, Dispatch)> = Vec::new();
    for m in it {
        if m.dispatch != Dispatch::Store && !out.iter().any(|(_, d)| *d == m.dispatch) {
            out.push((m.rule_id, m.dispatch.clone()));
        }
    }
    out
}

fn line(kind: TraceKind, rule_id: Option<RuleId>, user_id: Option<UserId>, message: String) -> TraceLine {
    TraceLine {
        kind,
        rule_id,
        user_id,
        message,
        at: None,
    }
}

/// Decide how a call is recorded. `rules` may come in any order; they are read by position.
pub fn decide(facts: &CallFacts, rules: &[Rule], dir: &DirectoryView) -> Decision {
    let origin = if facts.participants.iter().any(|p| p.user_id.is_none()) {
        CallOrigin::External
    } else {
        CallOrigin::Internal
    };
    let mut d = Decision {
        mon_mode: facts.mon_mode,
        origin,
        automatic: false,
        denied: false,
        auto_matches: Vec::new(),
        manual_matches: Vec::new(),
        manual_allowed: BTreeSet::new(),
        trace: Vec::new(),
        consent_required: false,
    };
    let internal: Vec<&FactParticipant> = facts.participants.iter().filter(|p| p.user_id.is_some()).collect();
    let label_of = |u: UserId| -> &str {
        internal
            .iter()
            .find(|p| p.user_id == Some(u))
            .map(|p| p.label.as_str())
            .unwrap_or("a participant")
    };

    let mon_text = match facts.mon_mode {
        MonMode::Auto => "MDC_MON_MODE is auto: the recording rules decide",
        MonMode::Force => "MDC_MON_MODE is force: the call is recorded from answer to hangup, whatever the rules say",
        MonMode::Deny => "MDC_MON_MODE is deny: the call is never recorded, not even by hand",
        MonMode::Manual => {
            "MDC_MON_MODE is manual: the rules are skipped and every internal participant may record by hand"
        }
    };
    d.trace.push(line(TraceKind::MonMode, None, None, mon_text.to_string()));

    if facts.mon_mode == MonMode::Deny {
        d.denied = true;
        d.trace.push(line(
            TraceKind::Decision,
            None,
            None,
            "not recorded: denied for this call".into(),
        ));
        return d;
    }

    // Rules are evaluated for every mode but deny: under auto they decide; under force their
    // automatic matches still choose the dispatch targets; under manual they do not decide
    // (`auto_dispatch` is empty), but the trace shows them and `manual_dispatch` still names the
    // copies of the manual rules matching whoever records.
    let mut ordered: Vec<&Rule> = rules.iter().collect();
    ordered.sort_by_key(|r| (r.position, r.id));
    for rule in ordered {
        if !rule.enabled {
            d.trace.push(line(
                TraceKind::RuleDisabled,
                Some(rule.id),
                None,
                format!("rule “{}” is disabled", rule.description),
            ));
            continue;
        }
        let Some(role) = dir.roles.get(&rule.role_id) else {
            // A rule can outlive its role; it then matches nobody, and the trace says why
            // instead of claiming that every participant is "not a member".
            d.trace.push(line(
                TraceKind::RuleNotMatched,
                Some(rule.id),
                None,
                format!(
                    "rule “{}” does not match: its role (id {}) no longer exists",
                    rule.description, rule.role_id
                ),
            ));
            continue;
        };
        let role_name = role.name.as_str();
        let origin_ok = matches!(
            (rule.origin, origin),
            (RuleOrigin::Both, _)
                | (RuleOrigin::Internal, CallOrigin::Internal)
                | (RuleOrigin::External, CallOrigin::External)
        );
        if internal.is_empty() || !origin_ok {
            // The origin is a fact of the whole call: say it once, not once per participant.
            let reason = if internal.is_empty() {
                "the call has no internal participant".to_string()
            } else {
                format!(
                    "the call is {}, the rule wants {}",
                    origin_word(origin),
                    origin_wanted(rule.origin)
                )
            };
            d.trace.push(line(
                TraceKind::RuleNotMatched,
                Some(rule.id),
                None,
                format!("rule “{}” does not match: {}", rule.description, reason),
            ));
            continue;
        }
        let mut matched_any = false;
        let mut why_not: Vec<String> = Vec::new();
        for p in &internal {
            let uid = p.user_id.expect("internal participants have a user");
            let dir_for_u = if p.is_caller {
                RuleDirection::Outgoing
            } else {
                RuleDirection::Incoming
            };
            let Some(via) = dir.membership(rule.role_id, uid) else {
                push_once(
                    &mut why_not,
                    format!("{} is not a member of role “{}”", p.label, role_name),
                );
                continue;
            };
            if !(rule.direction == RuleDirection::Both || rule.direction == dir_for_u) {
                push_once(
                    &mut why_not,
                    format!(
                        "the call is {} for {}, the rule wants {} calls",
                        direction_word(dir_for_u),
                        p.label,
                        direction_word(rule.direction)
                    ),
                );
                continue;
            }
            matched_any = true;
            let via_text = match &via {
                Via::Direct => format!("a member of role “{role_name}”"),
                Via::Team { team, .. } => format!("a member of role “{role_name}” through team “{team}”"),
            };
            d.trace.push(line(
                TraceKind::RuleMatched,
                Some(rule.id),
                Some(uid),
                format!(
                    "rule “{}” ({}) matches {}: {}, the call is {} for them and {}",
                    rule.description,
                    mode_word(rule.mode),
                    p.label,
                    via_text,
                    direction_word(dir_for_u),
                    origin_word(origin)
                ),
            ));
            let m = RuleMatch {
                rule_id: rule.id,
                user_id: uid,
                mode: rule.mode,
                dispatch: rule.dispatch.clone(),
                transcribe: rule.transcribe,
            };
            match rule.mode {
                RuleMode::Automatic => d.auto_matches.push(m),
                RuleMode::Manual => d.manual_matches.push(m),
            }
        }
        if !matched_any {
            d.trace.push(line(
                TraceKind::RuleNotMatched,
                Some(rule.id),
                None,
                format!("rule “{}” does not match: {}", rule.description, why_not.join("; ")),
            ));
        }
    }

    match facts.mon_mode {
        MonMode::Force => {
            d.automatic = true;
            let waiting = consent_rules(&d.auto_matches, rules);
            let text = match waiting.first() {
                Some(r) => format!(
                    "recorded automatically: forced for this call (rule “{}” requires consent, but a forced recording does not wait for it)",
                    r.description
                ),
                None => "recorded automatically: forced for this call".into(),
            };
            d.trace.push(line(TraceKind::Decision, None, None, text));
        }
        MonMode::Manual => {
            d.manual_allowed = internal.iter().filter_map(|p| p.user_id).collect();
            let text = if d.manual_allowed.is_empty() {
                "not recorded automatically; nobody can record by hand (no internal participant)".to_string()
            } else {
                let who: Vec<&str> = d.manual_allowed.iter().map(|u| label_of(*u)).collect();
                format!(
                    "not recorded automatically; every internal participant ({}) may record by hand",
                    who.join(", ")
                )
            };
            d.trace.push(line(TraceKind::Decision, None, None, text));
        }
        MonMode::Auto => {
            d.manual_allowed = d.manual_matches.iter().map(|m| m.user_id).collect();
            if let Some(first) = d.auto_matches.first() {
                d.automatic = true;
                let desc = rules
                    .iter()
                    .find(|r| r.id == first.rule_id)
                    .map(|r| r.description.as_str())
                    .unwrap_or("");
                let waiting = consent_rules(&d.auto_matches, rules);
                let unconditional = d
                    .auto_matches
                    .iter()
                    .find(|m| !waiting.iter().any(|r| r.id == m.rule_id));
                let text = match (unconditional, waiting.first()) {
                    (None, _) => {
                        d.consent_required = true;
                        format!(
                            "recorded automatically once the caller grants consent, because rule “{desc}” matches {} and requires consent",
                            label_of(first.user_id)
                        )
                    }
                    (Some(u), Some(w)) => {
                        let free = rules
                            .iter()
                            .find(|r| r.id == u.rule_id)
                            .map(|r| r.description.as_str())
                            .unwrap_or("");
                        format!(
                            "recorded automatically because rule “{desc}” matches {}; rule “{}” requires consent, but rule “{free}” records regardless of it",
                            label_of(first.user_id),
                            w.description
                        )
                    }
                    (Some(_), None) => format!(
                        "recorded automatically because rule “{desc}” matches {}",
                        label_of(first.user_id)
                    ),
                };
                d.trace.push(line(
                    TraceKind::Decision,
                    Some(first.rule_id),
                    Some(first.user_id),
                    text,
                ));
            } else if d.manual_allowed.is_empty() {
                d.trace.push(line(
                    TraceKind::Decision,
                    None,
                    None,
                    "not recorded: no enabled rule covers any participant of this call".into(),
                ));
            } else {
                let who: Vec<&str> = d.manual_allowed.iter().map(|u| label_of(*u)).collect();
                d.trace.push(line(
                    TraceKind::Decision,
                    None,
                    None,
                    format!("not recorded automatically; {} may record by hand", who.join(", ")),
                ));
            }
        }
        MonMode::Deny => unreachable!("deny returned above"),
    }
    d
}

fn direction_word(d: RuleDirection) -> &'static str {
    match d {
        RuleDirection::Incoming => "incoming",
        RuleDirection::Outgoing => "outgoing",
        RuleDirection::Both => "incoming or outgoing",
    }
}

fn origin_wanted(o: RuleOrigin) -> &'static str {
    match o {
        RuleOrigin::Internal => "internal calls",
        RuleOrigin::External => "external calls",
        RuleOrigin::Both => "any call",
    }
}

fn mode_word(m: RuleMode) -> &'static str {
    match m {
        RuleMode::Automatic => "automatic",
        RuleMode::Manual => "manual",
    }
}

/// Two participants can share a label (the same user on two extensions); one reason is enough.
fn push_once(reasons: &mut Vec<String>, reason: String) {
    if !reasons.contains(&reason) {
        reasons.push(reason);
    }
}

fn origin_word(o: CallOrigin) -> &'static str {
    match o {
        CallOrigin::Internal => "internal",
        CallOrigin::External => "external",
    }
}

#[cfg(test)]
#[path = "engine_consent_tests.rs"]
mod consent_tests;
