//! The rule engine against SPEC §2, from the outside: `decide(facts, rules, dir)` and
//! `Decision::may_toggle`.
//!
//! Expectations never come from the engine. They come from `spec_matches` and `SpecOutcome`
//! below, a short transcription of the SPEC's wording ("the call is outgoing for the caller and
//! incoming for the callee; external when any participant is not a known user; a rule matches u
//! when u is a member of its role and the direction for u and the origin are within the
//! rule's"), or from rows written by hand.
//!
//! Layout: the exhaustive table first, then hand-written cases (several rules, order, deleted
//! role, no internal participant, conferences, toggling, trace wording), then properties over
//! random directories, rules and calls.

use callrec_types::engine::{
    decide, CallFacts, CallOrigin, Decision, DirectoryView, FactParticipant, Refusal, RoleView, TeamView, TraceKind,
};
use callrec_types::rules::{Dispatch, MonMode, Rule, RuleDirection, RuleMode, RuleOrigin};
use callrec_types::{RoleId, RuleId, TeamId, UserId};
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet, HashSet};

// ---------------------------------------------------------------------------------------------
// The oracle: SPEC §2 in as few words of Rust as possible.
// ---------------------------------------------------------------------------------------------

/// Does `rule` match participant `p`? Straight from SPEC §2: the rule is enabled, `p` is an
/// internal participant and a member of the rule's role, the call is outgoing for the caller and
/// incoming for everyone else, and it is external as soon as one participant is not a user.
fn spec_matches(
    rule: &Rule,
    p: &FactParticipant,
    facts: &CallFacts,
    is_member: &dyn Fn(RoleId, UserId) -> bool,
) -> bool {
    let Some(u) = p.user_id else { return false };
    let call_is_external = facts.participants.iter().any(|q| q.user_id.is_none());
    let direction_for_u = if p.is_caller {
        RuleDirection::Outgoing
    } else {
        RuleDirection::Incoming
    };
    let direction_ok = rule.direction == RuleDirection::Both || rule.direction == direction_for_u;
    let origin_ok = match rule.origin {
        RuleOrigin::Both => true,
        RuleOrigin::Internal => !call_is_external,
        RuleOrigin::External => call_is_external,
    };
    rule.enabled && is_member(rule.role_id, u) && direction_ok && origin_ok
}

/// What SPEC §2 says the decision must be.
#[derive(Debug, PartialEq)]
struct SpecOutcome {
    automatic: bool,
    denied: bool,
    manual_allowed: BTreeSet<UserId>,
    /// Distinct non-store dispatch targets of an automatic recording.
    auto_targets: HashSet<Dispatch>,
}

fn internal_users(facts: &CallFacts) -> BTreeSet<UserId> {
    facts.participants.iter().filter_map(|p| p.user_id).collect()
}

fn spec_outcome(facts: &CallFacts, rules: &[Rule], is_member: &dyn Fn(RoleId, UserId) -> bool) -> SpecOutcome {
    let matching = |mode: RuleMode| -> Vec<(&Rule, UserId)> {
        let mut out = Vec::new();
        for r in rules.iter().filter(|r| r.mode == mode) {
            for p in &facts.participants {
                if spec_matches(r, p, facts, is_member) {
                    out.push((r, p.user_id.expect("only users match")));
                }
            }
        }
        out
    };
    let auto = matching(RuleMode::Automatic);
    let manual = matching(RuleMode::Manual);
    // "store is always implied": it is never listed as an extra target.
    let auto_targets: HashSet<Dispatch> = auto
        .iter()
        .map(|(r, _)| r.dispatch.clone())
        .filter(|d| *d != Dispatch::Store)
        .collect();
    match facts.mon_mode {
        MonMode::Deny => SpecOutcome {
            automatic: false,
            denied: true,
            manual_allowed: BTreeSet::new(),
            auto_targets: HashSet::new(),
        },
        // Rules are skipped for the decision; the copies of automatic rules that would have
        // matched still go (documented on `Decision::auto_dispatch`).
        MonMode::Force => SpecOutcome {
            automatic: true,
            denied: false,
            manual_allowed: BTreeSet::new(),
            auto_targets,
        },
        MonMode::Manual => SpecOutcome {
            automatic: false,
            denied: false,
            manual_allowed: internal_users(facts),
            auto_targets: HashSet::new(),
        },
        MonMode::Auto => {
            let automatic = !auto.is_empty();
            SpecOutcome {
                automatic,
                denied: false,
                manual_allowed: manual.iter().map(|(_, u)| *u).collect(),
                auto_targets: if automatic { auto_targets } else { HashSet::new() },
            }
        }
    }
}

/// What `may_toggle` must answer, from SPEC §2 and §5: deny first, then "not a participant",
/// then "an automatic recording cannot be stopped by an agent", then the manual permission.
fn spec_toggle(o: &SpecOutcome, user: UserId, is_participant: bool) -> Result<(), Refusal> {
    if o.denied {
        Err(Refusal::Denied)
    } else if !is_participant {
        Err(Refusal::NotParticipant)
    } else if o.automatic {
        Err(Refusal::Automatic)
    } else if o.manual_allowed.contains(&user) {
        Ok(())
    } else {
        Err(Refusal::NoManualRule)
    }
}

fn observed(d: &Decision) -> SpecOutcome {
    SpecOutcome {
        automatic: d.automatic,
        denied: d.denied,
        manual_allowed: d.manual_allowed.clone(),
        auto_targets: d.auto_dispatch().into_iter().map(|(_, t)| t).collect(),
    }
}

// ---------------------------------------------------------------------------------------------
// Fixtures.
// ---------------------------------------------------------------------------------------------

const ALICE: UserId = UserId(1);
const BOB: UserId = UserId(2);
const CAROL: UserId = UserId(3);
/// A role and team member who never takes part in the calls below.
const DAVE: UserId = UserId(4);
const SUPPORT: RoleId = RoleId(10);
const SALES: RoleId = RoleId(11);
const NIGHT_SHIFT: TeamId = TeamId(20);

const MON_MODES: [MonMode; 4] = [MonMode::Auto, MonMode::Force, MonMode::Deny, MonMode::Manual];
const DIRECTIONS: [RuleDirection; 3] = [RuleDirection::Incoming, RuleDirection::Outgoing, RuleDirection::Both];
const ORIGINS: [RuleOrigin; 3] = [RuleOrigin::Internal, RuleOrigin::External, RuleOrigin::Both];
const MODES: [RuleMode; 2] = [RuleMode::Automatic, RuleMode::Manual];

fn qa_mail() -> Dispatch {
    Dispatch::Email {
        recipients: vec!["qa@example.com".into()],
    }
}

fn label(u: UserId) -> &'static str {
    match u {
        ALICE => "Alice",
        BOB => "Bob",
        CAROL => "Carol",
        DAVE => "Dave",
        _ => "someone",
    }
}

fn user(u: UserId, is_caller: bool) -> FactParticipant {
    FactParticipant {
        user_id: Some(u),
        is_caller,
        label: label(u).into(),
    }
}

fn external(number: &str, is_caller: bool) -> FactParticipant {
    FactParticipant {
        user_id: None,
        is_caller,
        label: number.into(),
    }
}

fn call(mon_mode: MonMode, participants: Vec<FactParticipant>) -> CallFacts {
    CallFacts { participants, mon_mode }
}

fn rule(id: i64, description: &str, mode: RuleMode, direction: RuleDirection, origin: RuleOrigin) -> Rule {
    Rule {
        id: RuleId(id),
        description: description.into(),
        enabled: true,
        mode,
        role_id: SUPPORT,
        direction,
        origin,
        dispatch: Dispatch::Store,
        position: id,
        require_consent: false,
        transcribe: false,
    }
}

/// Role "Support" with `direct` as direct members and team "Night shift" (members `via_team`);
/// role "Sales" holds everybody but no rule below refers to it. Dave is in both roles and the
/// team, so a member who is not on the call must never make a rule match.
fn directory(direct: &[UserId], via_team: &[UserId]) -> DirectoryView {
    let everybody: BTreeSet<UserId> = [ALICE, BOB, CAROL, DAVE].into();
    let night = TeamView {
        id: NIGHT_SHIFT,
        name: "Night shift".into(),
        members: via_team.iter().copied().chain([DAVE]).collect(),
    };
    let mut roles = BTreeMap::new();
    roles.insert(
        SUPPORT,
        RoleView {
            name: "Support".into(),
            users: direct.iter().copied().chain([DAVE]).collect(),
            teams: vec![night],
        },
    );
    roles.insert(
        SALES,
        RoleView {
            name: "Sales".into(),
            users: everybody,
            teams: vec![],
        },
    );
    DirectoryView { roles }
}

fn trace_of(d: &Decision, kind: TraceKind) -> Vec<&str> {
    d.trace
        .iter()
        .filter(|l| l.kind == kind)
        .map(|l| l.message.as_str())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The table: mode × direction × origin × call shape × membership × enabled × MDC_MON_MODE.
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq)]
enum Shape {
    /// Alice calls Bob.
    Internal,
    /// An outside number calls Alice.
    IncomingExternal,
    /// Alice calls an outside number.
    OutgoingExternal,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Member {
    No,
    Direct,
    ViaTeam,
}

const MEMBERS: [Member; 3] = [Member::No, Member::Direct, Member::ViaTeam];

/// One table row: the participants on the call with how each belongs to role Support.
fn shape_participants(shape: Shape, alice: Member, bob: Member) -> Vec<(FactParticipant, Member)> {
    match shape {
        Shape::Internal => vec![(user(ALICE, true), alice), (user(BOB, false), bob)],
        Shape::IncomingExternal => vec![(external("+49 30 1234", true), Member::No), (user(ALICE, false), alice)],
        Shape::OutgoingExternal => vec![(user(ALICE, true), alice), (external("+49 30 1234", false), Member::No)],
    }
}

#[test]
fn every_combination_of_rule_call_membership_and_mon_mode_follows_the_spec() {
    let mut rows = 0usize;
    let mut failures: Vec<String> = Vec::new();
    for shape in [Shape::Internal, Shape::IncomingExternal, Shape::OutgoingExternal] {
        let bob_memberships: &[Member] = if shape == Shape::Internal {
            &MEMBERS
        } else {
            &[Member::No]
        };
        for alice_m in MEMBERS {
            for &bob_m in bob_memberships {
                let with_membership = shape_participants(shape, alice_m, bob_m);
                let members_as = |m: Member| -> Vec<UserId> {
                    with_membership
                        .iter()
                        .filter(|(_, pm)| *pm == m)
                        .filter_map(|(p, _)| p.user_id)
                        .collect()
                };
                let dir = directory(&members_as(Member::Direct), &members_as(Member::ViaTeam));
                // The oracle's membership is the row's own statement, not the directory's lookup.
                let in_support = |role: RoleId, u: UserId| -> bool {
                    role == SUPPORT
                        && (u == DAVE
                            || with_membership
                                .iter()
                                .any(|(p, m)| p.user_id == Some(u) && *m != Member::No))
                };
                let participants: Vec<FactParticipant> = with_membership.iter().map(|(p, _)| p.clone()).collect();
                for mode in MODES {
                    for direction in DIRECTIONS {
                        for origin in ORIGINS {
                            for enabled in [true, false] {
                                for mon in MON_MODES {
                                    rows += 1;
                                    let mut r = rule(7, "table rule", mode, direction, origin);
                                    r.enabled = enabled;
                                    r.dispatch = qa_mail();
                                    let facts = call(mon, participants.clone());
                                    let row = format!(
                                        "{mode:?} rule, {direction:?}, {origin:?}, enabled={enabled}, {shape:?} call, \
                                         Alice {alice_m:?}, Bob {bob_m:?}, MDC_MON_MODE={}",
                                        mon.as_str()
                                    );
                                    check_row(&row, &facts, &r, &dir, &in_support, &mut failures);
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    assert_eq!(
        rows, 2160,
        "the table covers 2×3×3 rules × 15 call/membership shapes × 2 × 4 mon modes"
    );
    assert!(
        failures.is_empty(),
        "{} of {rows} rows disagree with SPEC §2:\n{}",
        failures.len(),
        failures.iter().take(20).cloned().collect::<Vec<_>>().join("\n")
    );
}

fn check_row(
    row: &str,
    facts: &CallFacts,
    r: &Rule,
    dir: &DirectoryView,
    in_support: &dyn Fn(RoleId, UserId) -> bool,
    failures: &mut Vec<String>,
) {
    let rules = std::slice::from_ref(r);
    let d = decide(facts, rules, dir);
    let want = spec_outcome(facts, rules, in_support);
    let got = observed(&d);
    if got != want {
        failures.push(format!("{row}: expected {want:?}, the engine decided {got:?}"));
    }

    let want_origin = if facts.participants.iter().any(|p| p.user_id.is_none()) {
        CallOrigin::External
    } else {
        CallOrigin::Internal
    };
    if d.origin != want_origin {
        failures.push(format!(
            "{row}: the call should be {want_origin:?}, the engine says {:?}",
            d.origin
        ));
    }

    // Toggling: every participant of the call, and Dave who is in the role but not on the call.
    let mut askers: Vec<(UserId, bool)> = facts
        .participants
        .iter()
        .filter_map(|p| p.user_id)
        .map(|u| (u, true))
        .collect();
    askers.push((DAVE, false));
    for (u, on_call) in askers {
        let want_t = spec_toggle(&want, u, on_call);
        let got_t = d.may_toggle(u, on_call);
        if got_t != want_t {
            failures.push(format!(
                "{row}: may_toggle({}) should be {want_t:?}, got {got_t:?}",
                label(u)
            ));
        }
        // A manual recording a participant may make carries the copies of the manual rules
        // that match them (checked under auto, where the rules decide).
        if facts.mon_mode == MonMode::Auto && want_t.is_ok() {
            let matched = facts
                .participants
                .iter()
                .any(|p| p.user_id == Some(u) && r.mode == RuleMode::Manual && spec_matches(r, p, facts, in_support));
            let want_targets = if matched {
                vec![(r.id, r.dispatch.clone())]
            } else {
                vec![]
            };
            if d.manual_dispatch(u) != want_targets {
                failures.push(format!(
                    "{row}: a manual recording by {} should go to {want_targets:?}, got {:?}",
                    label(u),
                    d.manual_dispatch(u)
                ));
            }
        }
    }

    // The trace: always the mon mode first and one decision; under deny the rules are not
    // even read; otherwise the rule is reported as disabled, matched (per person) or not.
    if d.trace.first().map(|l| l.kind) != Some(TraceKind::MonMode) {
        failures.push(format!("{row}: the trace should open with the mon mode"));
    }
    if trace_of(&d, TraceKind::Decision).len() != 1 {
        failures.push(format!("{row}: the trace should hold exactly one decision line"));
    }
    let matched_in_trace: BTreeSet<UserId> = d
        .trace
        .iter()
        .filter(|l| l.kind == TraceKind::RuleMatched)
        .filter_map(|l| l.user_id)
        .collect();
    let matched_by_spec: BTreeSet<UserId> = if facts.mon_mode == MonMode::Deny {
        BTreeSet::new()
    } else {
        facts
            .participants
            .iter()
            .filter(|p| spec_matches(r, p, facts, in_support))
            .filter_map(|p| p.user_id)
            .collect()
    };
    if matched_in_trace != matched_by_spec {
        failures.push(format!(
            "{row}: the trace should say the rule matched {matched_by_spec:?}, it says {matched_in_trace:?}"
        ));
    }
    let (disabled, not_matched) = (
        trace_of(&d, TraceKind::RuleDisabled).len(),
        trace_of(&d, TraceKind::RuleNotMatched).len(),
    );
    let want_lines = match (facts.mon_mode, r.enabled, matched_by_spec.is_empty()) {
        (MonMode::Deny, _, _) => (0, 0),
        (_, false, _) => (1, 0),
        (_, true, true) => (0, 1),
        (_, true, false) => (0, 0),
    };
    if (disabled, not_matched) != want_lines {
        failures.push(format!(
            "{row}: expected (disabled, not matched) trace lines {want_lines:?}, got {:?}",
            (disabled, not_matched)
        ));
    }
}

// ---------------------------------------------------------------------------------------------
// Hand-written cases.
// ---------------------------------------------------------------------------------------------

fn alice_calls_bob(mon: MonMode) -> CallFacts {
    call(mon, vec![user(ALICE, true), user(BOB, false)])
}

fn mail(to: &str) -> Dispatch {
    Dispatch::Email {
        recipients: vec![to.into()],
    }
}

fn script() -> Dispatch {
    Dispatch::Script {
        script: "cp \"$1\" /archive/".into(),
    }
}

#[test]
fn every_matching_automatic_rule_dispatches_once_and_store_is_implied() {
    let dir = directory(&[ALICE, BOB], &[]);
    let both = |id, desc, dispatch| Rule {
        dispatch,
        ..rule(id, desc, RuleMode::Automatic, RuleDirection::Both, RuleOrigin::Both)
    };
    let rules = vec![
        both(1, "mail QA", mail("qa@example.com")),
        both(2, "archive", script()),
        both(3, "mail QA again", mail("qa@example.com")),
        both(4, "just store", Dispatch::Store),
        Rule {
            dispatch: mail("boss@example.com"),
            ..rule(
                5,
                "manual to boss",
                RuleMode::Manual,
                RuleDirection::Both,
                RuleOrigin::Both,
            )
        },
    ];
    let d = decide(&alice_calls_bob(MonMode::Auto), &rules, &dir);
    assert!(
        d.automatic,
        "four automatic rules match, so the call is recorded automatically"
    );
    assert_eq!(
        d.auto_dispatch(),
        vec![(RuleId(1), mail("qa@example.com")), (RuleId(2), script())],
        "each target once (rule 1 matching two people and rule 3 repeating its recipients send one \
         mail), in rule order, store left implied, manual rules' targets not included"
    );
    assert_eq!(
        d.auto_matches.len(),
        8,
        "four automatic rules × two participants are recorded as matches"
    );
}

#[test]
fn a_manual_recording_carries_the_targets_of_the_manual_rules_matching_whoever_starts_it() {
    let dir = directory(&[ALICE, BOB], &[]);
    let manual = |id, desc, direction, dispatch| Rule {
        dispatch,
        ..rule(id, desc, RuleMode::Manual, direction, RuleOrigin::Both)
    };
    let rules = vec![
        manual(1, "callers mail QA", RuleDirection::Outgoing, mail("qa@example.com")),
        manual(2, "everyone mails QA", RuleDirection::Both, mail("qa@example.com")),
        manual(3, "callees archive", RuleDirection::Incoming, script()),
        manual(4, "store only", RuleDirection::Both, Dispatch::Store),
    ];
    let d = decide(&alice_calls_bob(MonMode::Auto), &rules, &dir);
    assert!(
        !d.automatic,
        "only manual rules exist, so nothing is recorded automatically"
    );
    assert_eq!(
        d.manual_allowed,
        [ALICE, BOB].into(),
        "manual rules match both Alice and Bob"
    );
    assert_eq!(
        d.manual_dispatch(ALICE),
        vec![(RuleId(1), mail("qa@example.com"))],
        "Alice (caller) gets rules 1 and 2, which share one target"
    );
    assert_eq!(
        d.manual_dispatch(BOB),
        vec![(RuleId(2), mail("qa@example.com")), (RuleId(3), script())],
        "Bob (callee) gets rules 2 and 3"
    );
    assert_eq!(
        d.manual_dispatch(DAVE),
        vec![],
        "someone not on the call causes no dispatch"
    );
}

#[test]
fn rules_are_read_by_position_not_by_their_order_in_the_slice() {
    let dir = directory(&[ALICE], &[]);
    let auto = |id, desc, position, dispatch| Rule {
        position,
        dispatch,
        ..rule(id, desc, RuleMode::Automatic, RuleDirection::Both, RuleOrigin::Both)
    };
    let rules = vec![
        auto(1, "third", 30, mail("c@example.com")),
        auto(
            9,
            "second (ties on position, lower id first)",
            20,
            mail("b2@example.com"),
        ),
        auto(2, "first", 10, mail("a@example.com")),
        auto(3, "second", 20, mail("b@example.com")),
    ];
    let d = decide(&alice_calls_bob(MonMode::Auto), &rules, &dir);
    let matched: Vec<RuleId> = d
        .trace
        .iter()
        .filter(|l| l.kind == TraceKind::RuleMatched)
        .filter_map(|l| l.rule_id)
        .collect();
    assert_eq!(
        matched,
        [RuleId(2), RuleId(3), RuleId(9), RuleId(1)],
        "the trace lists rules by position, then id"
    );
    let targets: Vec<RuleId> = d.auto_dispatch().into_iter().map(|(id, _)| id).collect();
    assert_eq!(
        targets,
        [RuleId(2), RuleId(3), RuleId(9), RuleId(1)],
        "dispatch follows rule order too"
    );
    let decision = d
        .trace
        .iter()
        .find(|l| l.kind == TraceKind::Decision)
        .expect("one decision line");
    assert_eq!(
        decision.rule_id,
        Some(RuleId(2)),
        "the decision names the first rule by position"
    );
    assert!(
        decision.message.contains("“first”"),
        "the decision line quotes rule “first”: {}",
        decision.message
    );
}

#[test]
fn a_rule_whose_role_was_deleted_matches_nobody_and_the_trace_says_so() {
    let dir = directory(&[ALICE, BOB], &[]);
    let orphan = Rule {
        role_id: RoleId(99),
        ..rule(
            1,
            "record the old hotline",
            RuleMode::Automatic,
            RuleDirection::Both,
            RuleOrigin::Both,
        )
    };
    let d = decide(&alice_calls_bob(MonMode::Auto), &[orphan], &dir);
    assert!(!d.automatic, "a rule without a role matches nobody");
    assert!(d.manual_allowed.is_empty(), "and allows nobody to record");
    let lines = trace_of(&d, TraceKind::RuleNotMatched);
    assert_eq!(lines.len(), 1, "one line explains the rule did not match");
    assert!(
        lines[0].contains("“record the old hotline”") && lines[0].contains("no longer exists"),
        "the line names the rule and says its role no longer exists: {}",
        lines[0]
    );
}

#[test]
fn a_call_without_internal_participant_is_external_and_matches_no_rule() {
    let dir = directory(&[ALICE, BOB, CAROL], &[]);
    let rules = vec![
        rule(
            1,
            "record everything",
            RuleMode::Automatic,
            RuleDirection::Both,
            RuleOrigin::Both,
        ),
        rule(
            2,
            "allow everything",
            RuleMode::Manual,
            RuleDirection::Both,
            RuleOrigin::Both,
        ),
    ];
    let transit = |mon| call(mon, vec![external("+49 30 1", true), external("+49 30 2", false)]);

    let d = decide(&transit(MonMode::Auto), &rules, &dir);
    assert_eq!(
        d.origin,
        CallOrigin::External,
        "no participant is a user, so the call is external"
    );
    assert!(
        !d.automatic && d.manual_allowed.is_empty(),
        "no internal participant, so no rule can match"
    );
    for l in trace_of(&d, TraceKind::RuleNotMatched) {
        assert!(
            l.contains("no internal participant"),
            "each rule says the call has no internal participant: {l}"
        );
    }
    assert!(
        decide(&transit(MonMode::Force), &rules, &dir).automatic,
        "force records even such a call"
    );
    let manual = decide(&transit(MonMode::Manual), &rules, &dir);
    assert!(
        manual.manual_allowed.is_empty(),
        "under manual there is no internal participant to allow"
    );
    assert_eq!(
        manual.may_toggle(ALICE, false),
        Err(Refusal::NotParticipant),
        "Alice is not on this call"
    );
}

#[test]
fn a_conference_is_outgoing_for_the_caller_and_incoming_for_every_other_participant() {
    let dir = directory(&[ALICE, BOB], &[CAROL]);
    let rules = vec![
        rule(
            1,
            "record incoming",
            RuleMode::Automatic,
            RuleDirection::Incoming,
            RuleOrigin::External,
        ),
        rule(
            2,
            "outgoing by hand",
            RuleMode::Manual,
            RuleDirection::Outgoing,
            RuleOrigin::Both,
        ),
    ];
    // Bob calls in the middle of the list: position in the list says nothing, is_caller does.
    let conference = call(
        MonMode::Auto,
        vec![
            user(ALICE, false),
            external("+49 30 1234", false),
            user(BOB, true),
            user(CAROL, false),
        ],
    );
    let d = decide(&conference, &rules, &dir);
    let auto_users: BTreeSet<UserId> = d.auto_matches.iter().map(|m| m.user_id).collect();
    assert_eq!(
        auto_users,
        [ALICE, CAROL].into(),
        "the incoming rule matches every participant but the caller"
    );
    assert_eq!(
        d.manual_allowed,
        [BOB].into(),
        "the outgoing rule matches only the caller Bob"
    );
    assert!(d.automatic, "an automatic rule matched, so the conference is recorded");
    assert_eq!(
        d.origin,
        CallOrigin::External,
        "one outside number makes the conference external"
    );

    let all_internal = call(
        MonMode::Auto,
        vec![user(ALICE, true), user(BOB, false), user(CAROL, false)],
    );
    let d = decide(&all_internal, &rules, &dir);
    assert!(
        !d.automatic,
        "the same conference without an outside party is internal, rule 1 wants external calls"
    );
    assert_eq!(
        d.manual_allowed,
        [ALICE].into(),
        "Alice calls, so only she is covered by the outgoing rule"
    );
}

#[test]
fn may_toggle_answers_with_the_reason_in_the_spec() {
    let dir = directory(&[ALICE], &[]);
    let manual_rule = rule(
        1,
        "support may record",
        RuleMode::Manual,
        RuleDirection::Both,
        RuleOrigin::Both,
    );
    let auto_rule = rule(
        2,
        "support is recorded",
        RuleMode::Automatic,
        RuleDirection::Both,
        RuleOrigin::Both,
    );

    let denied = decide(
        &alice_calls_bob(MonMode::Deny),
        std::slice::from_ref(&manual_rule),
        &dir,
    );
    assert_eq!(
        denied.may_toggle(ALICE, true),
        Err(Refusal::Denied),
        "deny forbids even a matched participant"
    );
    assert_eq!(
        denied.may_toggle(DAVE, false),
        Err(Refusal::Denied),
        "deny is the first answer for anyone"
    );

    let manual = decide(
        &alice_calls_bob(MonMode::Auto),
        std::slice::from_ref(&manual_rule),
        &dir,
    );
    assert_eq!(
        manual.may_toggle(ALICE, true),
        Ok(()),
        "a manual rule matches Alice, so she may record"
    );
    assert_eq!(
        manual.may_toggle(BOB, true),
        Err(Refusal::NoManualRule),
        "Bob is not in the role"
    );
    assert_eq!(
        manual.may_toggle(DAVE, false),
        Err(Refusal::NotParticipant),
        "Dave is in the role but not on the call"
    );

    let automatic = decide(&alice_calls_bob(MonMode::Auto), &[manual_rule, auto_rule], &dir);
    assert_eq!(
        automatic.may_toggle(ALICE, true),
        Err(Refusal::Automatic),
        "an automatic recording cannot be stopped by an agent, even one with a manual rule"
    );
    assert_eq!(
        automatic.may_toggle(BOB, true),
        Err(Refusal::Automatic),
        "nor by the other participant"
    );

    let forced = decide(&alice_calls_bob(MonMode::Force), &[], &dir);
    assert_eq!(
        forced.may_toggle(BOB, true),
        Err(Refusal::Automatic),
        "a forced recording cannot be stopped either"
    );

    let mon_manual = decide(
        &call(MonMode::Manual, vec![user(ALICE, true), external("+1 555", false)]),
        &[],
        &dir,
    );
    assert_eq!(
        mon_manual.may_toggle(ALICE, true),
        Ok(()),
        "under mon mode manual every internal participant may record"
    );
    assert_eq!(
        mon_manual.manual_allowed,
        [ALICE].into(),
        "and only they: the external party has no user to allow"
    );
}

#[test]
fn the_trace_names_rule_participant_role_and_team_in_plain_words() {
    let dir = directory(&[ALICE], &[BOB]);
    let rules = vec![
        rule(
            1,
            "Support inbound QA",
            RuleMode::Automatic,
            RuleDirection::Incoming,
            RuleOrigin::Both,
        ),
        rule(
            2,
            "Support outbound",
            RuleMode::Manual,
            RuleDirection::Outgoing,
            RuleOrigin::Both,
        ),
        rule(
            3,
            "Only external calls",
            RuleMode::Automatic,
            RuleDirection::Both,
            RuleOrigin::External,
        ),
        Rule {
            enabled: false,
            ..rule(
                4,
                "Old campaign",
                RuleMode::Automatic,
                RuleDirection::Both,
                RuleOrigin::Both,
            )
        },
        Rule {
            role_id: SALES,
            ..rule(
                5,
                "Sales inbound",
                RuleMode::Automatic,
                RuleDirection::Incoming,
                RuleOrigin::Both,
            )
        },
    ];
    let d = decide(
        &call(
            MonMode::Auto,
            vec![user(ALICE, true), user(BOB, false), user(CAROL, false)],
        ),
        &rules,
        &dir,
    );
    let matched = trace_of(&d, TraceKind::RuleMatched);

    let bob = matched
        .iter()
        .find(|m| m.contains("Support inbound QA") && m.contains("Bob"))
        .expect("rule 1 matches Bob");
    assert_eq!(
        *bob,
        "rule “Support inbound QA” (automatic) matches Bob: a member of role “Support” through team “Night shift”, \
         the call is incoming for them and internal",
        "a match through a team names the rule, the participant, the role and the team"
    );
    let alice = matched
        .iter()
        .find(|m| m.contains("Support outbound"))
        .expect("rule 2 matches Alice");
    assert!(
        alice.contains("Alice: a member of role “Support”,") && !alice.contains("team"),
        "a direct member is named without a team: {alice}"
    );

    let not_matched = trace_of(&d, TraceKind::RuleNotMatched);
    assert!(
        not_matched.contains(
            &"rule “Only external calls” does not match: the call is internal, the rule wants external calls"
        ),
        "an origin mismatch is said once for the whole call: {not_matched:?}"
    );
    assert_eq!(
        trace_of(&d, TraceKind::RuleDisabled),
        ["rule “Old campaign” is disabled"],
        "a disabled rule is named"
    );

    let decision = trace_of(&d, TraceKind::Decision);
    assert_eq!(
        decision,
        ["recorded automatically because rule “Support inbound QA” matches Bob"],
        "the decision names the rule and whom it matched"
    );
    assert!(
        d.trace
            .iter()
            .all(|l| !l.message.contains("RuleId") && !l.message.contains("Some(")),
        "no debug output"
    );

    // Alice calls Carol: rule 1 wants incoming calls in role Support and matches neither.
    let d = decide(
        &call(MonMode::Auto, vec![user(ALICE, true), user(CAROL, false)]),
        &rules[..1],
        &dir,
    );
    assert_eq!(
        trace_of(&d, TraceKind::RuleNotMatched),
        [
            "rule “Support inbound QA” does not match: the call is outgoing for Alice, the rule wants incoming calls; \
          Carol is not a member of role “Support”"
        ],
        "a rule that matches nobody gives the reason for each participant"
    );
    assert_eq!(
        trace_of(&d, TraceKind::Decision),
        ["not recorded: no enabled rule covers any participant of this call"],
        "and the decision says why nothing is recorded"
    );
}

#[test]
fn the_decision_line_says_who_may_record_by_hand() {
    let dir = directory(&[ALICE], &[]);
    let rules = [rule(
        1,
        "Support may record",
        RuleMode::Manual,
        RuleDirection::Both,
        RuleOrigin::Both,
    )];
    let d = decide(&alice_calls_bob(MonMode::Auto), &rules, &dir);
    assert_eq!(
        trace_of(&d, TraceKind::Decision),
        ["not recorded automatically; Alice may record by hand"]
    );
    let d = decide(&alice_calls_bob(MonMode::Manual), &rules, &dir);
    assert_eq!(
        trace_of(&d, TraceKind::Decision),
        ["not recorded automatically; every internal participant (Alice, Bob) may record by hand"],
        "under mon mode manual the decision names every internal participant"
    );
}

// ---------------------------------------------------------------------------------------------
// Properties over random directories, rules and calls.
// ---------------------------------------------------------------------------------------------

/// A random directory kept as plain data, so the oracle reads membership from here and not
/// through `DirectoryView::membership`.
#[derive(Debug, Clone)]
struct World {
    /// (team, members)
    teams: Vec<(TeamId, BTreeSet<UserId>)>,
    /// Existing roles: (role, direct users, teams). Role ids without an entry were deleted.
    roles: Vec<(RoleId, BTreeSet<UserId>, BTreeSet<TeamId>)>,
}

impl World {
    fn is_member(&self, role: RoleId, u: UserId) -> bool {
        self.roles
            .iter()
            .filter(|(id, _, _)| *id == role)
            .any(|(_, users, teams)| {
                users.contains(&u)
                    || self
                        .teams
                        .iter()
                        .any(|(t, members)| teams.contains(t) && members.contains(&u))
            })
    }

    fn view(&self) -> DirectoryView {
        let roles = self
            .roles
            .iter()
            .map(|(id, users, teams)| {
                let teams = self
                    .teams
                    .iter()
                    .filter(|(t, _)| teams.contains(t))
                    .map(|(t, members)| TeamView {
                        id: *t,
                        name: format!("team {t}"),
                        members: members.clone(),
                    })
                    .collect();
                (
                    *id,
                    RoleView {
                        name: format!("role {id}"),
                        users: users.clone(),
                        teams,
                    },
                )
            })
            .collect();
        DirectoryView { roles }
    }
}

#[derive(Debug, Clone)]
struct Case {
    world: World,
    rules: Vec<Rule>,
    /// The same rules in another order.
    shuffled: Vec<Rule>,
    facts: CallFacts,
}

fn users() -> impl Strategy<Value = BTreeSet<UserId>> {
    prop::collection::btree_set((1i64..=6).prop_map(UserId), 0..4)
}

fn world() -> impl Strategy<Value = World> {
    let teams = prop::collection::vec(users(), 0..4).prop_map(|ts| {
        ts.into_iter()
            .enumerate()
            .map(|(i, m)| (TeamId(i as i64 + 1), m))
            .collect()
    });
    // Roles 1..=4 may each exist or not; rules also refer to role 5, which never exists.
    let role = prop::option::weighted(
        0.8,
        (users(), prop::collection::btree_set((1i64..=4).prop_map(TeamId), 0..3)),
    );
    let roles = prop::collection::vec(role, 4).prop_map(|rs| {
        rs.into_iter()
            .enumerate()
            .filter_map(|(i, r)| r.map(|(users, teams)| (RoleId(i as i64 + 1), users, teams)))
            .collect()
    });
    (teams, roles).prop_map(|(teams, roles)| World { teams, roles })
}

fn dispatch() -> impl Strategy<Value = Dispatch> {
    prop_oneof![
        Just(Dispatch::Store),
        Just(mail("qa@example.com")),
        Just(mail("boss@example.com")),
        Just(script())
    ]
}

fn rules() -> impl Strategy<Value = Vec<Rule>> {
    let one = (
        any::<bool>(),
        prop::sample::select(MODES.to_vec()),
        1i64..=5,
        prop::sample::select(DIRECTIONS.to_vec()),
        prop::sample::select(ORIGINS.to_vec()),
        dispatch(),
        0i64..4,
    );
    prop::collection::vec(one, 0..7).prop_map(|rs| {
        rs.into_iter()
            .enumerate()
            .map(
                |(i, (enabled, mode, role, direction, origin, dispatch, position))| Rule {
                    id: RuleId(i as i64 + 1),
                    description: format!("rule {}", i + 1),
                    enabled,
                    mode,
                    role_id: RoleId(role),
                    direction,
                    origin,
                    dispatch,
                    position,
                    require_consent: false,
                    transcribe: false,
                },
            )
            .collect()
    })
}

fn facts() -> impl Strategy<Value = CallFacts> {
    let party = prop::option::weighted(0.7, (1i64..=6).prop_map(UserId));
    let parties = prop::collection::vec(party, 1..6);
    let mon = prop::sample::select(MON_MODES.to_vec());
    (parties, any::<prop::sample::Index>(), mon).prop_map(|(parties, caller, mon_mode)| {
        let caller = caller.index(parties.len());
        let participants = parties
            .into_iter()
            .enumerate()
            .map(|(i, u)| FactParticipant {
                user_id: u,
                is_caller: i == caller,
                label: match u {
                    Some(u) => format!("user {u}"),
                    None => format!("+49 30 {i}"),
                },
            })
            .collect();
        CallFacts { participants, mon_mode }
    })
}

fn case() -> impl Strategy<Value = Case> {
    (world(), rules(), facts()).prop_flat_map(|(world, rules, facts)| {
        let shuffled = Just(rules.clone()).prop_shuffle();
        (Just(world), Just(rules), shuffled, Just(facts)).prop_map(|(world, rules, shuffled, facts)| Case {
            world,
            rules,
            shuffled,
            facts,
        })
    })
}

impl Case {
    fn decide(&self) -> Decision {
        decide(&self.facts, &self.rules, &self.world.view())
    }
    fn spec(&self) -> SpecOutcome {
        spec_outcome(&self.facts, &self.rules, &|r, u| self.world.is_member(r, u))
    }
    fn with_mon(&self, mon_mode: MonMode) -> Case {
        let mut c = self.clone();
        c.facts.mon_mode = mon_mode;
        c
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn deny_never_records_and_nobody_may_toggle(c in case()) {
        let d = c.with_mon(MonMode::Deny).decide();
        prop_assert!(!d.automatic, "deny is never recorded automatically");
        prop_assert!(d.denied, "deny is marked denied");
        prop_assert!(d.manual_allowed.is_empty(), "deny allows nobody to record by hand");
        prop_assert!(d.auto_dispatch().is_empty(), "deny dispatches nothing");
        for u in (1..=7).map(UserId) {
            for on_call in [true, false] {
                prop_assert_eq!(d.may_toggle(u, on_call), Err(Refusal::Denied), "under deny nobody may toggle");
            }
        }
    }

    #[test]
    fn force_always_records_automatically(c in case()) {
        let d = c.with_mon(MonMode::Force).decide();
        prop_assert!(d.automatic, "force is always recorded automatically");
        prop_assert!(!d.denied, "force is not denied");
        prop_assert!(d.manual_allowed.is_empty(), "a forced recording leaves nothing to toggle");
    }

    #[test]
    fn mon_mode_manual_lets_exactly_the_internal_participants_record(c in case()) {
        let c = c.with_mon(MonMode::Manual);
        let d = c.decide();
        prop_assert!(!d.automatic, "manual is never recorded automatically");
        prop_assert_eq!(&d.manual_allowed, &internal_users(&c.facts), "manual allows exactly the internal participants");
    }

    #[test]
    fn auto_records_iff_an_enabled_automatic_rule_matches_an_internal_participant(c in case()) {
        let c = c.with_mon(MonMode::Auto);
        let (got, want) = (observed(&c.decide()), c.spec());
        prop_assert_eq!(got.automatic, want.automatic, "automatic iff an enabled automatic rule matches someone");
        prop_assert_eq!(got.manual_allowed, want.manual_allowed, "manual permission iff an enabled manual rule matches");
    }

    #[test]
    fn the_decision_and_dispatch_agree_with_the_spec_in_every_mode(c in case()) {
        let d = c.decide();
        prop_assert_eq!(observed(&d), c.spec(), "automatic, denied, manual permission and targets follow SPEC §2");
        let targets: Vec<Dispatch> = d.auto_dispatch().into_iter().map(|(_, t)| t).collect();
        let distinct: HashSet<&Dispatch> = targets.iter().collect();
        prop_assert_eq!(distinct.len(), targets.len(), "each dispatch target is listed once");
        prop_assert!(!targets.contains(&Dispatch::Store), "store is implied, never listed");
        let internal = internal_users(&c.facts);
        for u in (1..=7).map(UserId) {
            prop_assert_eq!(d.may_toggle(u, internal.contains(&u)), spec_toggle(&c.spec(), u, internal.contains(&u)));
        }
    }

    #[test]
    fn disabled_rules_never_influence_the_decision(c in case()) {
        let dir = c.world.view();
        let all = decide(&c.facts, &c.rules, &dir);
        let enabled: Vec<Rule> = c.rules.iter().filter(|r| r.enabled).cloned().collect();
        let only_enabled = decide(&c.facts, &enabled, &dir);
        let without_disabled_lines = |d: &Decision| -> Vec<_> {
            d.trace.iter().filter(|l| l.kind != TraceKind::RuleDisabled).cloned().collect()
        };
        prop_assert_eq!(all.automatic, only_enabled.automatic, "disabled rules do not change automatic");
        prop_assert_eq!(&all.manual_allowed, &only_enabled.manual_allowed, "nor who may record");
        prop_assert_eq!(&all.auto_matches, &only_enabled.auto_matches, "nor the automatic matches");
        prop_assert_eq!(&all.manual_matches, &only_enabled.manual_matches, "nor the manual matches");
        prop_assert_eq!(without_disabled_lines(&all), without_disabled_lines(&only_enabled), "they only add 'disabled' lines");
    }

    #[test]
    fn the_trace_opens_with_the_mon_mode_and_has_one_decision(c in case()) {
        let d = c.decide();
        prop_assert_eq!(d.trace.first().map(|l| l.kind), Some(TraceKind::MonMode), "the first line is the mon mode");
        prop_assert_eq!(d.trace.iter().filter(|l| l.kind == TraceKind::MonMode).count(), 1, "one mon mode line");
        prop_assert_eq!(d.trace.iter().filter(|l| l.kind == TraceKind::Decision).count(), 1, "exactly one decision line");
        prop_assert!(d.trace.iter().all(|l| l.at.is_none() && !l.message.is_empty()), "decision lines have words, no time");
    }

    #[test]
    fn every_matched_line_names_an_enabled_rule_and_a_participant(c in case()) {
        let d = c.decide();
        let internal = internal_users(&c.facts);
        for l in d.trace.iter().filter(|l| l.kind == TraceKind::RuleMatched) {
            let r = c.rules.iter().find(|r| Some(r.id) == l.rule_id);
            prop_assert!(r.is_some_and(|r| r.enabled), "a matched line names an enabled rule: {:?}", l);
            let r = r.expect("checked above");
            prop_assert!(l.message.contains(&format!("“{}”", r.description)), "and quotes its description: {}", l.message);
            prop_assert!(l.user_id.is_some_and(|u| internal.contains(&u)), "and an internal participant: {:?}", l);
        }
    }

    #[test]
    fn the_decision_depends_on_positions_not_on_slice_order(c in case()) {
        let dir = c.world.view();
        prop_assert_eq!(
            decide(&c.facts, &c.rules, &dir),
            decide(&c.facts, &c.shuffled, &dir),
            "shuffling the rules slice changes nothing, trace included"
        );
    }

    #[test]
    fn the_call_is_external_iff_a_participant_is_not_a_user(c in case()) {
        let d = c.decide();
        let external = c.facts.participants.iter().any(|p| p.user_id.is_none());
        prop_assert_eq!(d.origin == CallOrigin::External, external, "external iff some participant is not a user");
    }
}

/// #17: refusals reach agents as `not_allowed_reason` and error messages, so they speak plain
/// words; the trace, read by admins, keeps the engine's terms.
#[test]
fn issue17_refusals_speak_plain_words_to_agents_and_the_trace_keeps_the_terms() {
    let all = [
        Refusal::Denied,
        Refusal::NotParticipant,
        Refusal::NoManualRule,
        Refusal::Automatic,
    ];
    for r in &all {
        let text = r.to_string();
        for jargon in ["MDC_MON_MODE", "deny", "rule", "automatic recording", ";", "("] {
            assert!(!text.contains(jargon), "{r:?} says {text:?}, which has {jargon:?}");
        }
    }
    assert_eq!(
        Refusal::Denied.to_string(),
        "the phone system does not allow this call to be recorded"
    );
    assert_eq!(
        Refusal::Automatic.to_string(),
        "this call is recorded automatically and cannot be stopped"
    );
    assert!(
        Refusal::Denied.trace_reason().contains("MDC_MON_MODE=deny"),
        "the admin's trace still names the PBX's setting"
    );
}
