//! The engine and the caller's consent (issue #11.2): `require_consent` in the decision, what a
//! change of consent does to the recording, and the words of the trace.

use super::*;
use crate::calls::{CallConsent, ConsentState, ConsentVia};
use chrono::TimeZone;

const ALICE: UserId = UserId(1);
const SUPPORT: RoleId = RoleId(1);

fn rule(id: i64, mode: RuleMode, require_consent: bool) -> Rule {
    Rule {
        id: RuleId(id),
        description: format!("rule {id}"),
        enabled: true,
        mode,
        role_id: SUPPORT,
        direction: RuleDirection::Both,
        origin: RuleOrigin::Both,
        dispatch: Dispatch::Store,
        position: id,
        require_consent,
        transcribe: false,
    }
}

fn decide_for(mon_mode: MonMode, rules: &[Rule]) -> Decision {
    let facts = CallFacts {
        participants: vec![
            FactParticipant {
                user_id: None,
                is_caller: true,
                label: "+4930123".into(),
            },
            FactParticipant {
                user_id: Some(ALICE),
                is_caller: false,
                label: "Alice".into(),
            },
        ],
        mon_mode,
    };
    let dir = DirectoryView {
        roles: BTreeMap::from([(
            SUPPORT,
            RoleView {
                name: "Support".into(),
                users: BTreeSet::from([ALICE]),
                teams: Vec::new(),
            },
        )]),
    };
    decide(&facts, rules, &dir)
}

fn consent(state: ConsentState) -> CallConsent {
    CallConsent {
        state,
        by: Some("Alice".into()),
        user_id: Some(ALICE),
        via: Some(ConsentVia::Client),
        at: Some(chrono::Utc.with_ymd_and_hms(2026, 3, 2, 10, 2, 11).unwrap()),
    }
}

fn decision_line(d: &Decision) -> &str {
    &d.trace
        .iter()
        .find(|l| l.kind == TraceKind::Decision)
        .expect("a decision line")
        .message
}

#[test]
fn an_automatic_rule_with_require_consent_waits_for_granted() {
    let d = decide_for(MonMode::Auto, &[rule(1, RuleMode::Automatic, true)]);
    assert!(d.automatic && d.consent_required, "automatic, once consent is granted");
    assert!(
        decision_line(&d).contains("once the caller grants consent"),
        "the trace says it waits: {}",
        decision_line(&d)
    );
    assert!(!d.records_automatically(ConsentState::Unknown));
    assert!(!d.records_automatically(ConsentState::Announced));
    assert!(!d.records_automatically(ConsentState::Refused));
    assert!(d.records_automatically(ConsentState::Granted));
}

#[test]
fn a_rule_without_require_consent_records_regardless_and_the_trace_says_which() {
    let d = decide_for(
        MonMode::Auto,
        &[rule(1, RuleMode::Automatic, true), rule(2, RuleMode::Automatic, false)],
    );
    assert!(d.automatic && !d.consent_required, "rule 2 records without consent");
    assert!(d.records_automatically(ConsentState::Refused));
    assert!(
        decision_line(&d).contains("rule “rule 1” requires consent, but rule “rule 2” records regardless"),
        "{}",
        decision_line(&d)
    );
    assert!(
        !d.consent_stops(false, ConsentState::Refused),
        "its automatic recording goes on"
    );
}

#[test]
fn a_forced_call_does_not_wait_for_consent() {
    let d = decide_for(MonMode::Force, &[rule(1, RuleMode::Automatic, true)]);
    assert!(d.automatic && !d.consent_required);
    assert!(decision_line(&d).contains("a forced recording does not wait for it"));
    assert!(!d.consent_stops(false, ConsentState::Refused));
    let (step, line) = d.consent_step(&consent(ConsentState::Refused), Some(false));
    assert_eq!((step, line), (ConsentStep::Nothing, None));
}

#[test]
fn consent_steps_explain_themselves_with_the_time() {
    let d = decide_for(MonMode::Auto, &[rule(1, RuleMode::Automatic, true)]);
    let (step, line) = d.consent_step(&consent(ConsentState::Unknown), None);
    assert_eq!(step, ConsentStep::Nothing);
    assert_eq!(
        line.expect("explained").message,
        "waiting for consent: the rule records only once the caller grants it (consent is unknown)"
    );
    let (step, line) = d.consent_step(&consent(ConsentState::Granted), None);
    assert_eq!(step, ConsentStep::Start);
    assert_eq!(
        line.expect("explained").message,
        "recording started: consent granted at 10:02:11 UTC"
    );
    let (step, line) = d.consent_step(&consent(ConsentState::Refused), None);
    assert_eq!(step, ConsentStep::Nothing);
    assert_eq!(
        line.expect("explained").message,
        "not recorded: the rule requires consent, the caller refused at 10:02:11 UTC"
    );
    let (step, line) = d.consent_step(&consent(ConsentState::Refused), Some(false));
    assert_eq!(step, ConsentStep::Stop, "a refusal stops the waiting rule's recording");
    assert_eq!(
        line.expect("explained").message,
        "recording stopped: the caller refused consent at 10:02:11 UTC"
    );
    let (step, _) = d.consent_step(&consent(ConsentState::Granted), Some(false));
    assert_eq!(
        step,
        ConsentStep::Nothing,
        "granted again while recording changes nothing"
    );
}

#[test]
fn a_refusal_stops_a_manual_recording_and_refuses_new_ones() {
    let d = decide_for(MonMode::Auto, &[rule(1, RuleMode::Manual, false)]);
    assert!(!d.automatic && !d.consent_required);
    assert!(d.consent_stops(true, ConsentState::Refused));
    assert!(!d.consent_stops(true, ConsentState::Announced));
    let (step, _) = d.consent_step(&consent(ConsentState::Refused), Some(true));
    assert_eq!(step, ConsentStep::Stop);
    let (step, line) = d.consent_step(&consent(ConsentState::Granted), None);
    assert_eq!((step, line), (ConsentStep::Nothing, None), "nothing automatic to start");
    assert_eq!(d.may_record(ALICE, true, ConsentState::Granted), Ok(()));
    assert_eq!(
        d.may_record(ALICE, true, ConsentState::Refused),
        Err(Refusal::ConsentRefused)
    );
    assert_eq!(
        d.may_record(ALICE, false, ConsentState::Refused),
        Err(Refusal::NotParticipant),
        "a stranger is told they are not a participant, not about the caller"
    );
    assert_eq!(
        Refusal::ConsentRefused.to_string(),
        "the caller refused to be recorded",
        "plain words for the agent"
    );
}

#[test]
fn denied_stays_denied_whatever_the_consent() {
    let d = decide_for(MonMode::Deny, &[rule(1, RuleMode::Automatic, true)]);
    assert!(!d.consent_required);
    assert_eq!(d.may_record(ALICE, true, ConsentState::Refused), Err(Refusal::Denied));
    let (step, line) = d.consent_step(&consent(ConsentState::Granted), None);
    assert_eq!((step, line), (ConsentStep::Nothing, None));
}

#[test]
fn the_consent_line_says_what_who_how_and_when() {
    let line = consent_line(&consent(ConsentState::Granted));
    assert_eq!(line.kind, TraceKind::Consent);
    assert_eq!(line.user_id, Some(ALICE));
    assert_eq!(
        line.message,
        "consent granted by Alice (through the client) at 10:02:11 UTC"
    );
    let sip = consent_line(&CallConsent {
        state: ConsentState::Refused,
        by: None,
        user_id: None,
        via: Some(ConsentVia::Sip),
        at: None,
    });
    assert_eq!(sip.message, "consent refused (X-Callrec-Consent header)");
}

#[test]
fn a_call_from_an_older_server_reads_as_consent_unknown() {
    let d: Decision = serde_json::from_value(serde_json::json!({
        "mon_mode": "auto", "origin": "external", "automatic": true, "denied": false,
        "auto_matches": [], "manual_matches": [], "manual_allowed": [], "trace": []
    }))
    .expect("an older decision decodes");
    assert!(!d.consent_required);
}
