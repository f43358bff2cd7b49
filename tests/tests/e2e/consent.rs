//! End-to-end: the caller's consent (issue #11.2) with real SIPREC calls from `callrec-sim`
//! against the real server, checked through the decision trace, the recordings, the files and
//! the audit log: consent granted or refused by the `X-Callrec-Consent` header (INVITE and
//! re-INVITE) and by `PUT /api/v1/calls/{id}/consent`, with and without `require_consent`;
//! a refusal deletes (default) or keeps (setting `consent_refused`) what was recorded; bad
//! header and API values are refused with nothing changed; the ingest field `consent`.

use std::time::Duration;

use callrec_client::Client;
use callrec_sim::{Sim, SimCall, SimError, Transport};
use callrec_tests::directory::{self, add_rule, rule, Cast, PASSWORD};
use callrec_tests::{wav, TestServer, INGEST_TOKEN};
use callrec_types::calls::{CallDetail, ConsentState, ConsentVia, LiveRecording, RecordingState};
use callrec_types::rules::{Dispatch, RuleDirection, RuleMode, RuleOrigin};
use callrec_types::wire::{ConsentRefused, ErrorCode, Event, IngestCall, SettingsPatch};
use callrec_types::CallId;

use crate::post_call::eventually;

/// A server with the standard cast and one rule for Support: automatic (`require_consent`
/// as given) or manual.
async fn recorder(mode: RuleMode, require_consent: bool) -> (TestServer, Client, Cast) {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let cast = directory::build(&admin).await;
    let mut r = rule(
        "record support",
        mode,
        cast.support_role,
        RuleDirection::Both,
        RuleOrigin::Both,
        Dispatch::Store,
    );
    r.require_consent = require_consent;
    add_rule(&admin, r).await;
    (server, admin, cast)
}

async fn sim(server: &TestServer) -> Sim {
    Sim::connect(server.sip, Transport::Udp)
        .await
        .expect("the simulator reaches the recorder")
}

/// An outside caller reaching alice (201), with `consent` on the INVITE if given.
async fn place(sim: &Sim, consent: Option<&str>) -> Result<SimCall, SimError> {
    let mut b = sim
        .call()
        .caller("sip:+4930111222@carrier.example")
        .callee("sip:201@pbx.example");
    if let Some(c) = consent {
        b = b.consent(c);
    }
    b.invite().await
}

async fn call_id(server: &TestServer, call: &SimCall) -> CallId {
    eventually(5, "the call is registered", || async {
        server.state.store.call_by_sip_id(call.call_id()).await.ok().flatten()
    })
    .await
}

/// Waits until the live call's recording state satisfies `ok`.
async fn live_until(client: &Client, id: CallId, what: &str, ok: impl Fn(&CallDetail) -> bool) -> CallDetail {
    eventually(10, what, || async { client.get_call(id).await.ok().filter(|d| ok(d)) }).await
}

/// Hangs up and waits until the recorder has finalised the call.
async fn hang_up(server: &TestServer, call: SimCall, id: CallId) {
    let mut events = server.state.events.subscribe();
    call.bye().await.expect("the BYE is answered 200");
    let wait = async {
        loop {
            if let Ok(e) = events.recv().await {
                if matches!(e.event, Event::CallEnded { call_id } if call_id == id) {
                    return;
                }
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(15), wait)
        .await
        .expect("the call is finalised within 15 s");
}

fn trace_has(d: &CallDetail, text: &str) -> bool {
    d.trace.iter().any(|l| l.message.contains(text))
}

fn trace_text(d: &CallDetail) -> String {
    d.trace
        .iter()
        .map(|l| l.message.as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

async fn audit_actions(admin: &Client) -> Vec<(String, String, String)> {
    admin
        .audit(None, Some(500))
        .await
        .expect("the audit log")
        .items
        .into_iter()
        .map(|e| (e.actor, e.action, e.detail))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn consent_granted_on_the_invite_lets_a_rule_that_requires_it_record() {
    let (server, admin, _cast) = recorder(RuleMode::Automatic, true).await;
    let sim = sim(&server).await;
    let call = place(&sim, Some("granted;by=IVR")).await.expect("answered");
    let id = call_id(&server, &call).await;
    let alice = server.login("alice", PASSWORD).await;
    let live = live_until(&alice, id, "the recording runs", |d| {
        d.recording == LiveRecording::RecordingAuto { paused: None }
    })
    .await;
    assert!(live.consent_required, "the rule waits for consent");
    assert_eq!(live.call.consent.state, ConsentState::Granted);
    assert_eq!(live.call.consent.via, Some(ConsentVia::Sip));
    assert_eq!(live.call.consent.by.as_deref(), Some("IVR"));
    tokio::time::sleep(Duration::from_millis(800)).await;
    hang_up(&server, call, id).await;
    let done = admin.get_call(id).await.expect("the call");
    assert_eq!(done.recordings.len(), 1, "recorded once: {}", trace_text(&done));
    assert!(
        trace_has(&done, "consent granted by IVR (X-Callrec-Consent header)"),
        "{}",
        trace_text(&done)
    );
    assert!(
        trace_has(&done, "recording started: consent granted at"),
        "{}",
        trace_text(&done)
    );
    let doc = admin.call_journal_json(id).await.expect("journal JSON");
    assert_eq!(
        doc.call.consent.state,
        ConsentState::Granted,
        "the journal JSON tells the consent"
    );
    let page = admin.journal(&Default::default()).await.expect("journal");
    let item = page.items.iter().find(|i| i.call.id == id).expect("listed");
    assert_eq!(
        item.call.consent.state,
        ConsentState::Granted,
        "the journal row tells it"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rule_that_requires_consent_waits_and_a_re_invite_granting_it_starts_the_recording() {
    let (server, admin, _cast) = recorder(RuleMode::Automatic, true).await;
    let sim = sim(&server).await;
    let mut call = place(&sim, None).await.expect("answered");
    let id = call_id(&server, &call).await;
    let waiting = live_until(&admin, id, "the call waits for consent", |d| {
        trace_has(d, "waiting for consent")
    })
    .await;
    assert_eq!(waiting.recording, LiveRecording::NotRecording, "nothing recorded yet");
    assert!(waiting.consent_required);
    assert!(waiting.recordings.is_empty());
    tokio::time::sleep(Duration::from_millis(500)).await;
    call.consent("granted").await.expect("the re-INVITE is answered 200");
    live_until(&admin, id, "the recording starts", |d| {
        d.recording == LiveRecording::RecordingAuto { paused: None }
    })
    .await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    hang_up(&server, call, id).await;
    let done = admin.get_call(id).await.expect("the call");
    assert_eq!(done.recordings.len(), 1, "{}", trace_text(&done));
    let rec = &done.recordings[0];
    assert!(
        rec.start_offset_ms >= 400,
        "the recording starts when consent came, not at the answer: {} ms",
        rec.start_offset_ms
    );
    assert!(
        rec.duration_ms >= 600,
        "it holds the rest of the call: {} ms",
        rec.duration_ms
    );
    assert!(
        trace_has(&done, "recording started: consent granted at"),
        "{}",
        trace_text(&done)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn consent_refused_by_the_agent_stops_and_deletes_the_recording_by_default_audited() {
    let (server, admin, cast) = recorder(RuleMode::Automatic, true).await;
    let sim = sim(&server).await;
    let call = place(&sim, Some("granted")).await.expect("answered");
    let id = call_id(&server, &call).await;
    let alice = server.login("alice", PASSWORD).await;
    live_until(&alice, id, "the recording runs", |d| {
        d.recording == LiveRecording::RecordingAuto { paused: None }
    })
    .await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    let answer = alice
        .set_consent(id, ConsentState::Refused)
        .await
        .expect("alice takes part: she may record the caller's refusal");
    assert_eq!(
        answer.state,
        LiveRecording::NotRecording,
        "the recording stopped at once"
    );
    assert_eq!(answer.consent.state, ConsentState::Refused);
    assert_eq!(answer.consent.user_id, Some(cast.alice.id));
    let now = admin.get_call(id).await.expect("the call");
    assert!(
        now.recordings.is_empty(),
        "what was recorded is deleted: {:?}",
        now.recordings
    );
    assert!(
        trace_has(&now, "recording stopped: the caller refused consent at"),
        "{}",
        trace_text(&now)
    );
    assert!(trace_has(
        &now,
        "is deleted (setting consent_refused = delete): 1 recording(s)"
    ));
    assert!(
        trace_has(&now, "consent refused by Alice (through the client)"),
        "{}",
        trace_text(&now)
    );
    // A refused call is not recorded again, and nobody may start it by hand.
    let refused = alice
        .set_recording(id, callrec_types::wire::RecordingAction::Start)
        .await
        .expect_err("no recording after a refusal");
    assert_eq!(refused.code(), Some(ErrorCode::NotPermitted));
    hang_up(&server, call, id).await;
    let done = admin.get_call(id).await.expect("the call");
    assert!(done.recordings.is_empty(), "still nothing stored after the hang-up");
    let wavs = callrec_tests::files_under(server.data_dir(), "wav");
    assert!(wavs.is_empty(), "no audio of the call on disk: {wavs:?}");
    let audit = audit_actions(&admin).await;
    assert!(
        audit
            .iter()
            .any(|(actor, action, detail)| actor == "alice" && action == "consent" && detail.contains("refused")),
        "alice's consent is audited: {audit:?}"
    );
    assert!(
        audit
            .iter()
            .any(|(actor, action, _)| actor == "system" && action == "recording_delete_consent"),
        "the deletion is audited: {audit:?}"
    );
    assert!(
        audit.iter().any(|(_, action, _)| action == "consent_refused_delete"),
        "{audit:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn consent_refused_by_a_re_invite_keeps_the_recording_when_the_setting_says_keep() {
    let (server, admin, _cast) = recorder(RuleMode::Automatic, true).await;
    admin
        .update_settings(&SettingsPatch {
            consent_refused: Some(ConsentRefused::Keep),
            ..Default::default()
        })
        .await
        .expect("an admin sets consent_refused = keep");
    let sim = sim(&server).await;
    let mut call = place(&sim, Some("granted")).await.expect("answered");
    let id = call_id(&server, &call).await;
    live_until(&admin, id, "the recording runs", |d| {
        d.recording == LiveRecording::RecordingAuto { paused: None }
    })
    .await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    call.consent("refused").await.expect("the re-INVITE is answered 200");
    let stopped = live_until(&admin, id, "the recording stops", |d| {
        d.recording == LiveRecording::NotRecording
    })
    .await;
    assert_eq!(stopped.call.consent.state, ConsentState::Refused);
    tokio::time::sleep(Duration::from_millis(500)).await;
    hang_up(&server, call, id).await;
    let done = admin.get_call(id).await.expect("the call");
    assert_eq!(done.recordings.len(), 1, "the recording is kept: {}", trace_text(&done));
    let rec = &done.recordings[0];
    assert_eq!(rec.state, RecordingState::Complete);
    assert!(
        (600..2000).contains(&rec.duration_ms),
        "it ends at the refusal, not at the hang-up: {} ms",
        rec.duration_ms
    );
    assert!(
        trace_has(&done, "is kept (setting consent_refused = keep)"),
        "{}",
        trace_text(&done)
    );
    let audit = audit_actions(&admin).await;
    assert!(
        audit.iter().any(|(_, action, _)| action == "consent_refused_keep"),
        "keeping is audited too: {audit:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn consent_refused_on_the_invite_means_not_recorded_and_the_trace_says_why() {
    let (server, admin, _cast) = recorder(RuleMode::Automatic, true).await;
    let sim = sim(&server).await;
    let call = place(&sim, Some("refused")).await.expect("answered");
    let id = call_id(&server, &call).await;
    let live = live_until(&admin, id, "the decision is explained", |d| {
        trace_has(d, "not recorded: the rule requires consent, the caller refused at")
    })
    .await;
    assert_eq!(live.recording, LiveRecording::NotRecording);
    tokio::time::sleep(Duration::from_millis(500)).await;
    hang_up(&server, call, id).await;
    let done = admin.get_call(id).await.expect("the call");
    assert!(done.recordings.is_empty(), "{}", trace_text(&done));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn without_require_consent_a_refusal_does_not_stop_the_automatic_recording() {
    let (server, admin, _cast) = recorder(RuleMode::Automatic, false).await;
    let sim = sim(&server).await;
    let call = place(&sim, Some("refused")).await.expect("answered");
    let id = call_id(&server, &call).await;
    let live = live_until(&admin, id, "the recording runs", |d| {
        d.recording == LiveRecording::RecordingAuto { paused: None }
    })
    .await;
    assert!(!live.consent_required, "this rule records regardless of consent");
    assert_eq!(
        live.call.consent.state,
        ConsentState::Refused,
        "the consent is still told"
    );
    tokio::time::sleep(Duration::from_millis(600)).await;
    hang_up(&server, call, id).await;
    let done = admin.get_call(id).await.expect("the call");
    assert_eq!(done.recordings.len(), 1, "{}", trace_text(&done));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_refusal_stops_a_manual_recording_and_refuses_a_new_one() {
    let (server, admin, _cast) = recorder(RuleMode::Manual, false).await;
    let sim = sim(&server).await;
    let call = place(&sim, None).await.expect("answered");
    let id = call_id(&server, &call).await;
    let alice = server.login("alice", PASSWORD).await;
    live_until(&alice, id, "alice may record", |d| d.can_toggle).await;
    alice
        .set_recording(id, callrec_types::wire::RecordingAction::Start)
        .await
        .expect("alice starts a recording");
    tokio::time::sleep(Duration::from_millis(600)).await;
    let answer = alice.set_consent(id, ConsentState::Refused).await.expect("consent");
    assert_eq!(
        answer.state,
        LiveRecording::NotRecording,
        "the manual recording stopped"
    );
    let now = alice.get_call(id).await.expect("the call");
    assert!(!now.can_toggle);
    assert_eq!(
        now.not_allowed_reason.as_deref(),
        Some("the caller refused to be recorded")
    );
    assert!(now.recordings.is_empty(), "deleted by default: {:?}", now.recordings);
    hang_up(&server, call, id).await;
    assert!(admin.get_call(id).await.expect("the call").recordings.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bad_consent_values_are_refused_with_nothing_changed() {
    let (server, admin, _cast) = recorder(RuleMode::Automatic, true).await;
    let sim = sim(&server).await;
    // On the INVITE: 400, and no call.
    let bad = sim
        .call()
        .caller("sip:+4930111222@carrier.example")
        .callee("sip:201@pbx.example")
        .consent("maybe");
    match bad.invite().await {
        Err(SimError::Rejected(code)) => assert_eq!(code, 400, "a bad consent header is a 400"),
        Err(e) => panic!("expected a 400, got {e}"),
        Ok(c) => panic!("a bad consent header was answered: {}", c.call_id()),
    }
    let page = admin.journal(&Default::default()).await.expect("journal");
    assert!(page.items.is_empty(), "the refused INVITE left no call");
    // On a re-INVITE: 400, and the call's consent and recording unchanged.
    let mut call = place(&sim, Some("granted")).await.expect("answered");
    let id = call_id(&server, &call).await;
    live_until(&admin, id, "the recording runs", |d| {
        d.recording == LiveRecording::RecordingAuto { paused: None }
    })
    .await;
    match call.consent("refused;by=").await {
        Err(SimError::Rejected(code)) => assert_eq!(code, 400),
        other => panic!("expected a 400 for a bad re-INVITE header, got {other:?}"),
    }
    let after = admin.get_call(id).await.expect("the call");
    assert_eq!(after.call.consent.state, ConsentState::Granted, "consent unchanged");
    assert_eq!(
        after.recording,
        LiveRecording::RecordingAuto { paused: None },
        "still recording"
    );
    // Through the API: a value that is none of the four is a 4xx with the allowed ones named.
    let alice = server.login("alice", PASSWORD).await;
    let resp = reqwest::Client::new()
        .put(format!("{}/api/v1/calls/{id}/consent", server.url))
        .bearer_auth(alice.token().expect("logged in"))
        .json(&serde_json::json!({"consent": "maybe"}))
        .send()
        .await
        .expect("the server answers");
    assert!(resp.status().is_client_error(), "{}", resp.status());
    let body: serde_json::Value = resp.json().await.expect("a JSON error");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(message.contains("granted") && message.contains("refused"), "{body}");
    // Someone who does not take part (a supervisor who sees the call) may not.
    let sam = server.login("sam", PASSWORD).await;
    let e = sam
        .set_consent(id, ConsentState::Refused)
        .await
        .expect_err("sam does not take part");
    assert_eq!(e.status(), Some(403));
    assert_eq!(e.code(), Some(ErrorCode::NotPermitted));
    let after = admin.get_call(id).await.expect("the call");
    assert_eq!(after.call.consent.state, ConsentState::Granted, "still unchanged");
    assert_eq!(after.recording, LiveRecording::RecordingAuto { paused: None });
    // An admin may.
    let by_admin = admin.set_consent(id, ConsentState::Announced).await.expect("admin");
    assert_eq!(by_admin.consent.by.as_deref(), Some("Administrator"));
    hang_up(&server, call, id).await;
    let ended = alice
        .set_consent(id, ConsentState::Granted)
        .await
        .expect_err("the call has ended");
    assert_eq!(ended.code(), Some(ErrorCode::CallNotLive));
}

fn upload(id: &str, consent: Option<&str>) -> IngestCall {
    let at = chrono::Utc::now() - chrono::Duration::minutes(5);
    IngestCall {
        consent: consent.map(str::to_owned),
        ..callrec_tests::upload::two_party(id, at, 2, 30, ("+4930111222", "Outside"), ("201", "Alice"))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_ingest_field_consent_decides_with_require_consent() {
    let (server, admin, _cast) = recorder(RuleMode::Automatic, true).await;
    let pbx = server.client();
    let audio = wav::stereo_ulaw(1.0);
    let e = pbx
        .ingest_bytes(INGEST_TOKEN, &upload("bogus@pbx", Some("perhaps")), audio.clone())
        .await
        .expect_err("a bad consent value");
    assert_eq!((e.status(), e.code()), (Some(422), Some(ErrorCode::InvalidCall)));
    assert!(e.to_string().contains("consent must be"), "{e}");
    let e = pbx
        .ingest_bytes(INGEST_TOKEN, &upload("refused@pbx", Some("refused")), audio.clone())
        .await
        .expect_err("a refused caller is not stored");
    assert_eq!(e.code(), Some(ErrorCode::NotPermittedByRules));
    let trace = e.body().and_then(|b| b.trace.clone()).unwrap_or_default();
    assert!(
        trace.iter().any(|l| l
            .message
            .contains("not recorded: the rule requires consent, the caller refused")),
        "{trace:?}"
    );
    let e = pbx
        .ingest_bytes(INGEST_TOKEN, &upload("unknown@pbx", None), audio.clone())
        .await
        .expect_err("the rule waits for consent");
    assert_eq!(e.code(), Some(ErrorCode::NotPermittedByRules));
    let page = admin.journal(&Default::default()).await.expect("journal");
    assert!(page.items.is_empty(), "nothing refused was stored");
    let ok = pbx
        .ingest_bytes(INGEST_TOKEN, &upload("granted@pbx", Some("Granted")), audio)
        .await
        .expect("a granted upload is stored");
    let call = admin.get_call(ok.call_id).await.expect("the call");
    assert_eq!(call.call.consent.state, ConsentState::Granted);
    assert_eq!(call.call.consent.via, Some(ConsentVia::Ingest));
    assert_eq!(call.recordings.len(), 1);
}

#[tokio::test]
async fn a_later_upload_that_names_the_consent_brings_the_call_up_to_date() {
    let (server, admin, _cast) = recorder(RuleMode::Automatic, false).await;
    let pbx = server.client();
    let audio = wav::stereo_ulaw(1.0);
    let first = pbx
        .ingest_bytes(INGEST_TOKEN, &upload("parts@pbx", None), audio.clone())
        .await
        .expect("the first part is stored");
    let call = admin.get_call(first.call_id).await.expect("the call");
    assert_eq!(call.call.consent.state, ConsentState::Unknown, "nothing said yet");
    let second = pbx
        .ingest_bytes(INGEST_TOKEN, &upload("parts@pbx", Some("announced")), audio)
        .await
        .expect("the second part is stored");
    assert_eq!(second.call_id, first.call_id, "one call per SIP Call-ID");
    let call = admin.get_call(first.call_id).await.expect("the call");
    assert_eq!(
        call.call.consent.state,
        ConsentState::Announced,
        "the later part's consent"
    );
    assert_eq!(call.call.consent.via, Some(ConsentVia::Ingest));
    assert_eq!(call.recordings.len(), 2, "both parts kept");
}
