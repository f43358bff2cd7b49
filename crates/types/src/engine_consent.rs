//! The rule engine and the caller's consent (issue #11.2): whether the automatic recording
//! waits for consent, what a change of consent does to a running (or waiting) recording, and
//! the trace lines that tell it. A part of [`crate::engine`], split out by noun.

use super::{Decision, Refusal, RuleMatch, TraceKind, TraceLine};
use crate::calls::{CallConsent, ConsentState, ConsentVia};
use crate::ids::UserId;
use crate::rules::Rule;

/// What a change of consent (or the answer) does to a call's recording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsentStep {
    /// Start the automatic recording now.
    Start,
    /// Stop the running recording now: the caller refused.
    Stop,
    /// Nothing changes.
    Nothing,
}

impl Decision {
    /// [`Decision::may_toggle`] with the call's consent: once the caller has refused, nobody
    /// starts a recording by hand either.
    pub fn may_record(&self, user: UserId, is_participant: bool, consent: ConsentState) -> Result<(), Refusal> {
        if consent == ConsentState::Refused && !self.denied && is_participant {
            return Err(Refusal::ConsentRefused);
        }
        self.may_toggle(user, is_participant)
    }

    /// Whether the automatic recording runs under `consent`.
    pub fn records_automatically(&self, consent: ConsentState) -> bool {
        self.automatic && (!self.consent_required || consent == ConsentState::Granted)
    }

    /// Whether a running recording (`manual` or automatic) stops at `consent`: a refusal stops
    /// a manual recording and an automatic one that waits for consent — never a forced one,
    /// nor one of a rule without `require_consent` (that rule records regardless).
    pub fn consent_stops(&self, manual: bool, consent: ConsentState) -> bool {
        consent == ConsentState::Refused && (manual || self.consent_required)
    }

    /// What `consent` does to an answered call whose recording is `running` (`Some(manual)`)
    /// or not, with the trace line that explains it.
    pub fn consent_step(&self, consent: &CallConsent, running: Option<bool>) -> (ConsentStep, Option<TraceLine>) {
        let when = consent.at.map(clock_time).unwrap_or_default();
        let at = consent.at;
        let explain = |message: String| {
            Some(TraceLine {
                kind: TraceKind::Decision,
                rule_id: None,
                user_id: None,
                message,
                at,
            })
        };
        match running {
            Some(manual) if self.consent_stops(manual, consent.state) => (
                ConsentStep::Stop,
                explain(format!("recording stopped: the caller refused consent{when}")),
            ),
            Some(_) => (ConsentStep::Nothing, None),
            None if self.denied || !self.automatic => (ConsentStep::Nothing, None),
            None if !self.consent_required => (ConsentStep::Start, None),
            None => match consent.state {
                ConsentState::Granted => (
                    ConsentStep::Start,
                    explain(format!("recording started: consent granted{when}")),
                ),
                ConsentState::Refused => (
                    ConsentStep::Nothing,
                    explain(format!(
                        "not recorded: the rule requires consent, the caller refused{when}"
                    )),
                ),
                other => (
                    ConsentStep::Nothing,
                    explain(format!(
                        "waiting for consent: the rule records only once the caller grants it (consent is {})",
                        other.as_str()
                    )),
                ),
            },
        }
    }
}

/// The matched automatic rules that require consent, each once, in rule order.
pub(super) fn consent_rules<'a>(matches: &[RuleMatch], rules: &'a [Rule]) -> Vec<&'a Rule> {
    let mut out: Vec<&Rule> = Vec::new();
    for m in matches {
        if let Some(r) = rules.iter().find(|r| r.id == m.rule_id && r.require_consent) {
            if !out.iter().any(|o| o.id == r.id) {
                out.push(r);
            }
        }
    }
    out
}

/// " at 10:02:11 UTC": the moment of a consent change as the trace tells it (the line's `at`
/// has the full time).
fn clock_time(at: chrono::DateTime<chrono::Utc>) -> String {
    format!(" at {}", at.format("%H:%M:%S UTC"))
}

/// The trace line recording a change of consent: what, by whom, how and when.
pub fn consent_line(consent: &CallConsent) -> TraceLine {
    let by = consent.by.as_deref().filter(|b| !b.is_empty());
    let via = match consent.via {
        Some(ConsentVia::Sip) => " (X-Callrec-Consent header)",
        Some(ConsentVia::Ingest) => " (upload)",
        Some(ConsentVia::Client) => " (through the client)",
        None => "",
    };
    let who = by.map(|b| format!(" by {b}")).unwrap_or_default();
    TraceLine {
        kind: TraceKind::Consent,
        rule_id: None,
        user_id: consent.user_id,
        message: format!(
            "consent {}{who}{via}{}",
            consent.state.as_str(),
            consent.at.map(clock_time).unwrap_or_default()
        ),
        at: consent.at,
    }
}
