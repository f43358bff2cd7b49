//! Issue #11 in the store, told once per backend (SQLite, a real PostgreSQL server): a webhook
//! rule's secret kept apart from what is shown, copied to the targets queued for it, and the
//! webhook targets found due on their own (they go out at once, not on the schedule); and the
//! missing-recording alarms, one per call whoever raises it, acknowledged once.

use callrec_store::{DispatchOutcome, NewAlarm, NewCall, NewDispatch, NewUserRecord};
use callrec_types::calls::{CallDirection, CallSource, CallState, DispatchStatus, Participant, ParticipantRole};
use callrec_types::directory::{Level, RoleInput};
use callrec_types::engine::CallOrigin;
use callrec_types::rules::{Dispatch, MonMode, RuleDirection, RuleInput, RuleMode, RuleOrigin, SECRET_MASK};
use callrec_types::UserId;
use chrono::{DateTime, Duration, TimeZone, Utc};

#[macro_use]
mod backend;
use backend::{finished_recording, Kind};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 8, 0, 0).single().expect("valid time")
}

fn hook(secret: &str) -> Dispatch {
    Dispatch::Webhook {
        url: "https://hooks.example.com/in".into(),
        secret: secret.into(),
    }
}

fn rule_input(role: callrec_types::RoleId, dispatch: Dispatch) -> RuleInput {
    RuleInput {
        description: "hook".into(),
        enabled: true,
        mode: RuleMode::Automatic,
        role_id: role,
        direction: RuleDirection::Both,
        origin: RuleOrigin::Both,
        dispatch,
        position: None,
        require_consent: false,
        transcribe: false,
    }
}

fn new_call(user: UserId, t: DateTime<Utc>) -> NewCall {
    NewCall {
        call_key: "hook-call".into(),
        source: CallSource::Ingest,
        sip_call_ids: vec!["hook@pbx".into()],
        participants: vec![Participant {
            name: "Anna".into(),
            number: "201".into(),
            user_id: Some(user),
            role: ParticipantRole::Callee,
            user_name: None,
        }],
        direction: CallDirection::Incoming,
        origin: CallOrigin::External,
        mon_mode: MonMode::Auto,
        consent: Default::default(),
        started_at: t,
        answered_at: Some(t),
        ended_at: Some(t + Duration::seconds(10)),
        state: CallState::Ended,
        trace: Vec::new(),
    }
}

async fn webhook_secrets_stay_apart_and_webhooks_come_due_on_their_own(kind: Kind) {
    let s = backend::open(kind).await;
    let t = t0();
    let anna = s
        .create_user(&NewUserRecord {
            username: "anna".into(),
            display_name: String::new(),
            password_hash: "h".into(),
            level: Level::Agent,
            extensions: vec!["201".into()],
        })
        .await
        .expect("anna");
    let role = s
        .create_role(&RoleInput {
            name: "r".into(),
            users: vec![anna.id],
            teams: vec![],
        })
        .await
        .expect("role");
    let rule = s.create_rule(&rule_input(role.id, hook("first"))).await.expect("rule");
    assert_eq!(
        rule.dispatch,
        hook(SECRET_MASK),
        "the answer carries the mask, never the secret"
    );
    assert_eq!(s.get_rule(rule.id).await.expect("rule").dispatch, hook(SECRET_MASK));
    assert!(s.rule_has_secret(rule.id).await.expect("has secret"));
    // Sent back masked: the secret stays.
    s.update_rule(rule.id, &rule_input(role.id, hook(SECRET_MASK)))
        .await
        .expect("update keeping the secret");
    assert!(s.rule_has_secret(rule.id).await.expect("still has it"));

    let call = s.create_call(&new_call(anna.id, t)).await.expect("call");
    let rec_id = finished_recording(&*s, call.id, "hook", t).await;
    assert_eq!(s.next_webhook_due().await.expect("next"), None, "nothing pending yet");
    let queued = s
        .queue_dispatch(
            rec_id,
            &[
                NewDispatch {
                    rule_id: Some(rule.id),
                    target: rule.dispatch.clone(),
                },
                NewDispatch {
                    rule_id: None,
                    target: Dispatch::Email {
                        recipients: vec!["qa@example.com".into()],
                    },
                },
            ],
            t,
        )
        .await
        .expect("queued");
    let hook_id = queued
        .iter()
        .find(|d| matches!(d.target, Dispatch::Webhook { .. }))
        .expect("the webhook is queued")
        .id;
    assert_eq!(
        s.dispatch_secret(hook_id).await.expect("secret").as_deref(),
        Some("first"),
        "the target carries its rule's secret, kept apart"
    );
    let listed = s.get_dispatch(hook_id).await.expect("get");
    assert_eq!(listed.target, hook(SECRET_MASK), "a listed target shows the mask");
    let due = s.due_webhooks(t, 10).await.expect("due");
    assert_eq!(
        due.iter().map(|d| d.id).collect::<Vec<_>>(),
        vec![hook_id],
        "only the webhook is due at once; the e-mail waits for the schedule"
    );
    assert_eq!(s.next_webhook_due().await.expect("next"), Some(t));

    let lease = t + Duration::minutes(5);
    assert!(s.claim_dispatch(hook_id, t, lease).await.expect("claim"));
    assert!(
        s.due_webhooks(t, 10).await.expect("due").is_empty(),
        "a claimed webhook is not due"
    );
    assert_eq!(
        s.next_webhook_due().await.expect("next"),
        Some(lease),
        "due again when the lease ends"
    );
    s.record_dispatch_attempt(
        hook_id,
        &DispatchOutcome {
            status: DispatchStatus::Pending,
            at: t,
            error: Some("HTTP 500".into()),
            detail: None,
            next_attempt_at: Some(t + Duration::minutes(1)),
        },
    )
    .await
    .expect("attempt");
    assert_eq!(
        s.next_webhook_due().await.expect("next"),
        Some(t + Duration::minutes(1))
    );
    s.record_dispatch_attempt(
        hook_id,
        &DispatchOutcome {
            status: DispatchStatus::Sent,
            at: t,
            error: None,
            detail: Some("HTTP 200".into()),
            next_attempt_at: None,
        },
    )
    .await
    .expect("attempt");
    assert_eq!(
        s.next_webhook_due().await.expect("next"),
        None,
        "a sent webhook is done"
    );

    // Another kind clears the secret; a new secret replaces it.
    s.update_rule(rule.id, &rule_input(role.id, Dispatch::Store))
        .await
        .expect("to store");
    assert!(!s.rule_has_secret(rule.id).await.expect("no secret"));
    s.update_rule(rule.id, &rule_input(role.id, hook("second")))
        .await
        .expect("new secret");
    assert!(s.rule_has_secret(rule.id).await.expect("has the new one"));
}

async fn an_alarm_is_raised_once_per_call_and_acknowledged_once(kind: Kind) {
    use callrec_types::alarms::AlarmKind;
    let s = backend::open(kind).await;
    let t = t0();
    let anna = s
        .create_user(&NewUserRecord {
            username: "anna".into(),
            display_name: String::new(),
            password_hash: "h".into(),
            level: Level::Agent,
            extensions: vec!["201".into()],
        })
        .await
        .expect("anna");
    let call = s.create_call(&new_call(anna.id, t)).await.expect("call");
    let new = NewAlarm {
        call_id: call.id,
        kind: AlarmKind::NoAudio,
        message: "no audio was received (no RTP) during the 10 s the call was recorded".into(),
        expected_ms: 10_000,
        recorded_ms: 10_000,
        raised_at: t,
    };
    let alarm = s.raise_alarm(&new).await.expect("raise").expect("a new alarm");
    assert_eq!(
        (alarm.call_id, alarm.kind, alarm.acknowledged_at),
        (call.id, AlarmKind::NoAudio, None)
    );
    assert!(
        s.raise_alarm(&new).await.expect("raise again").is_none(),
        "one alarm per call: a second raise is a no-op"
    );
    assert_eq!(s.list_alarms(true, 100).await.expect("open").len(), 1);
    let acked = s
        .ack_alarm(alarm.id, anna.id, t + Duration::minutes(1))
        .await
        .expect("ack");
    assert_eq!(
        (acked.acknowledged_at, acked.acknowledged_by),
        (Some(t + Duration::minutes(1)), Some(anna.id))
    );
    let again = s
        .ack_alarm(alarm.id, UserId(999), t + Duration::minutes(2))
        .await
        .expect("ack again");
    assert_eq!(again, acked, "the first acknowledgement is kept");
    assert!(s.list_alarms(true, 100).await.expect("open").is_empty());
    assert_eq!(s.list_alarms(false, 100).await.expect("all"), vec![acked.clone()]);
    assert_eq!(s.get_alarm(alarm.id).await.expect("get"), acked);
    assert!(matches!(
        s.ack_alarm(callrec_types::AlarmId(999), anna.id, t).await,
        Err(callrec_store::StoreError::NotFound)
    ));
}

on_every_backend!(
    webhook_secrets_stay_apart_and_webhooks_come_due_on_their_own,
    an_alarm_is_raised_once_per_call_and_acknowledged_once,
);
