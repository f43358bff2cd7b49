//! The caller's consent in every store backend (issue #11.2; SQLite in a temporary directory,
//! a real PostgreSQL server: `backend`): a call keeps its consent with who, how and when
//! through create, update, the journal and a restart-free re-read; a rule keeps
//! `require_consent` through create and update, and an existing rule reads as not requiring it.

use callrec_store::{JournalQuery, NewCall, Scope};
use callrec_types::calls::{
    CallConsent, CallDirection, CallSource, CallState, ConsentState, ConsentVia, Participant, ParticipantRole,
};
use callrec_types::directory::RoleInput;
use callrec_types::engine::CallOrigin;
use callrec_types::rules::{Dispatch, MonMode, RuleDirection, RuleInput, RuleMode, RuleOrigin};
use callrec_types::UserId;
use chrono::{TimeZone, Utc};

#[macro_use]
mod backend;
use backend::Kind;

fn call(key: &str, consent: CallConsent) -> NewCall {
    NewCall {
        call_key: key.into(),
        source: CallSource::Siprec,
        sip_call_ids: vec![format!("{key}@pbx")],
        participants: vec![Participant {
            name: "Outside".into(),
            number: "+4930123".into(),
            user_id: None,
            role: ParticipantRole::Caller,
            user_name: None,
        }],
        direction: CallDirection::Incoming,
        origin: CallOrigin::External,
        mon_mode: MonMode::Auto,
        started_at: Utc.with_ymd_and_hms(2026, 3, 2, 10, 0, 0).unwrap(),
        answered_at: None,
        ended_at: None,
        state: CallState::Active,
        trace: Vec::new(),
        consent,
    }
}

async fn a_call_keeps_its_consent_with_who_how_and_when(kind: Kind) {
    let s = backend::open(kind).await;
    let plain = s
        .create_call(&call("plain", CallConsent::default()))
        .await
        .expect("call");
    assert_eq!(plain.consent, CallConsent::default(), "no consent reads as unknown");
    let by_header = CallConsent {
        state: ConsentState::Announced,
        by: Some("IVR".into()),
        user_id: None,
        via: Some(ConsentVia::Sip),
        at: Some(Utc.with_ymd_and_hms(2026, 3, 2, 10, 0, 1).unwrap()),
    };
    let mut c = s.create_call(&call("ivr", by_header.clone())).await.expect("call");
    assert_eq!(c.consent, by_header, "the INVITE's consent is stored with the call");
    let granted = CallConsent {
        state: ConsentState::Granted,
        by: Some("Anna".into()),
        user_id: Some(UserId(7)),
        via: Some(ConsentVia::Client),
        at: Some(Utc.with_ymd_and_hms(2026, 3, 2, 10, 2, 11).unwrap()),
    };
    c.consent = granted.clone();
    s.update_call(&c, &[]).await.expect("update");
    assert_eq!(
        s.get_call(c.id).await.expect("get").0.consent,
        granted,
        "an update changes it"
    );
    let (page, _) = s
        .journal(&JournalQuery {
            scope: Scope::All,
            q: None,
            from: None,
            to: None,
            direction: None,
            has_recordings: None,
            user_id: None,
            reviewed: None,
            cursor: None,
            limit: 10,
        })
        .await
        .expect("journal");
    let row = page.iter().find(|i| i.call.id == c.id).expect("in the journal");
    assert_eq!(row.call.consent, granted, "the journal row carries the consent");
    let other = page.iter().find(|i| i.call.id == plain.id).expect("in the journal");
    assert_eq!(other.call.consent.state, ConsentState::Unknown);
}

async fn a_rule_keeps_require_consent(kind: Kind) {
    let s = backend::open(kind).await;
    let role = s
        .create_role(&RoleInput {
            name: "support".into(),
            users: vec![],
            teams: vec![],
        })
        .await
        .expect("role");
    let mut input = RuleInput {
        description: "record support once the caller agrees".into(),
        enabled: true,
        mode: RuleMode::Automatic,
        role_id: role.id,
        direction: RuleDirection::Both,
        origin: RuleOrigin::External,
        dispatch: Dispatch::Store,
        position: None,
        require_consent: true,
        transcribe: false,
    };
    let r = s.create_rule(&input).await.expect("rule");
    assert!(r.require_consent, "created with it");
    assert!(s.get_rule(r.id).await.expect("get").require_consent);
    input.require_consent = false;
    let r = s.update_rule(r.id, &input).await.expect("update");
    assert!(!r.require_consent, "an update clears it");
    input.require_consent = true;
    s.update_rule(r.id, &input).await.expect("update");
    let listed = s.list_rules().await.expect("list");
    assert!(
        listed.iter().any(|x| x.id == r.id && x.require_consent),
        "listed with it"
    );
    let toggled = s.set_rule_enabled(r.id, false).await.expect("switch off");
    assert!(toggled.require_consent, "switching a rule off keeps require_consent");
}

on_every_backend!(
    a_call_keeps_its_consent_with_who_how_and_when,
    a_rule_keeps_require_consent
);
