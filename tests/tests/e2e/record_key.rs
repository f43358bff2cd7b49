//! End-to-end: the phone's record key (issue #5, SPEC §5) over real HTTP, both Snom URL forms,
//! against live calls announced in-process with `SilentMedia` (as the SIPREC recorder
//! announces real ones). The key toggles the call's recording on behalf of the phone's user
//! with the client toggle's permission check; every press is audited.

use callrec_client::Client;
use callrec_server::calls::RawParticipant;
use callrec_server::live::{self, NewLiveCall, SilentMedia};
use callrec_tests::directory::{self, add_rule, rule, Cast};
use callrec_tests::TestServer;
use callrec_types::calls::{CallSource, ManualVia, ParticipantRole, RecordingState, Trigger};
use callrec_types::directory::PhoneInput;
use callrec_types::rules::{Dispatch, MonMode, RuleDirection, RuleMode, RuleOrigin};
use callrec_types::CallId;
use std::sync::Arc;

const ALICE_MAC: &str = "00:04:13:AA:BB:01";
const BOB_MAC: &str = "00-04-13-aa-bb-02";
const CAROL_MAC: &str = "000413aabb03";

struct World {
    server: TestServer,
    admin: Client,
    cast: Cast,
}

/// Support (alice 201, bob 202) may record on demand; carol (Sales) has no manual rule.
async fn world() -> World {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let cast = directory::build(&admin).await;
    add_rule(
        &admin,
        rule(
            "Support records on demand",
            RuleMode::Manual,
            cast.support_role,
            RuleDirection::Both,
            RuleOrigin::Both,
            Dispatch::Store,
        ),
    )
    .await;
    for (mac, user) in [
        (ALICE_MAC, cast.alice.id),
        (BOB_MAC, cast.bob.id),
        (CAROL_MAC, cast.carol.id),
    ] {
        admin
            .create_phone(&PhoneInput {
                mac: mac.into(),
                user_id: user,
            })
            .await
            .expect("the phone is registered");
    }
    World { server, admin, cast }
}

async fn open_call(w: &World, sip_id: &str, caller: &str, callee: &str, mode: MonMode) -> CallId {
    let call = NewLiveCall {
        sip_call_id: sip_id.into(),
        participants: vec![
            RawParticipant {
                number: caller.into(),
                name: String::new(),
                role: ParticipantRole::Caller,
            },
            RawParticipant {
                number: callee.into(),
                name: String::new(),
                role: ParticipantRole::Callee,
            },
        ],
        mon_mode: mode,
        source: CallSource::Siprec,
        started_at: w.server.state.clock.now(),
        consent: Default::default(),
    };
    let id = live::open(&w.server.state, call, Arc::new(SilentMedia::default()))
        .await
        .expect("the call opens");
    live::answer(&w.server.state, id).await.expect("the call is answered");
    id
}

#[tokio::test]
async fn the_record_key_toggles_the_call_in_both_url_forms_making_two_recordings() {
    let w = world().await;
    let phone = w.server.client();
    let id = open_call(&w, "key-1@pbx", "201", "+4930999000", MonMode::Auto).await;

    let (status, body) = phone.snom_record(ALICE_MAC, "key-1@pbx").await.expect("answers");
    assert_eq!(
        (status, body.trim()),
        (200, "Recording"),
        "the Snom form starts a recording"
    );
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let (status, body) = phone.pui_record("000413aabb01", "key-1@pbx").await.expect("answers");
    assert_eq!(
        (status, body.trim()),
        (200, "Recording stopped"),
        "the PUI form stops it"
    );
    let (status, _) = phone
        .pui_record("00.04.13.aa.bb.01", "key-1@pbx")
        .await
        .expect("answers");
    assert_eq!(
        status, 200,
        "the PUI form starts a second one (MAC in any accepted shape)"
    );
    let (status, body) = phone
        .snom_record("00:04:13:aa:bb:01", "key-1@pbx")
        .await
        .expect("answers");
    assert_eq!((status, body.trim()), (200, "Recording stopped"));

    let detail = w.admin.get_call(id).await.expect("the call");
    assert_eq!(detail.recordings.len(), 2, "two presses on, two off: two recordings");
    let seqs: Vec<i64> = detail.recordings.iter().map(|r| r.seq).collect();
    assert_eq!(seqs, [1, 2]);
    for r in &detail.recordings {
        assert_eq!(r.state, RecordingState::Complete, "each one is finished");
        assert_eq!(
            r.trigger,
            Trigger::Manual {
                user_id: Some(w.cast.alice.id),
                via: ManualVia::Phone
            },
            "started by alice with the phone's key, exactly like the client's toggle"
        );
    }
    assert!(
        detail.trace.iter().any(|l| l.message.contains("phone's record key")),
        "the decision trace says who pressed what"
    );

    let audit = w.admin.audit(None, Some(50)).await.expect("audit");
    let presses: Vec<_> = audit.items.iter().filter(|e| e.actor == "phone:000413aabb01").collect();
    assert_eq!(presses.len(), 4, "every press is audited under the normalised MAC");
    assert_eq!(
        presses.iter().filter(|e| e.action == "record_start").count(),
        2,
        "two starts"
    );
    assert!(
        presses.iter().all(|e| e.user_id == Some(w.cast.alice.id)),
        "on behalf of alice"
    );
    live::end(&w.server.state, id).await.expect("hang up");
}

#[tokio::test]
async fn the_record_key_refuses_clearly_and_changes_nothing() {
    let w = world().await;
    let phone = w.server.client();
    let id = open_call(&w, "key-2@pbx", "201", "+4930999000", MonMode::Auto).await;
    let carols = open_call(&w, "key-3@pbx", "203", "+4930999001", MonMode::Auto).await;
    let denied = open_call(&w, "key-4@pbx", "202", "+4930999002", MonMode::Deny).await;

    // Wrong shape of MAC: 400, in both forms.
    for bad in ["00:04:13", "zz0413aabb01", "00:04:13:aa:bb:01:02", ""] {
        let (status, body) = phone.snom_record(bad, "key-2@pbx").await.expect("answers");
        assert_eq!(status, 400, "{bad:?} is not a MAC: {body}");
        assert!(
            body.contains("12 hex digits"),
            "the answer says what a MAC looks like: {body}"
        );
    }
    let (status, _) = phone.pui_record("not-a-mac", "key-2@pbx").await.expect("answers");
    assert_eq!(status, 400);
    let (status, _) = phone.snom_record(ALICE_MAC, "").await.expect("answers");
    assert_eq!(status, 400, "a missing Call-ID is a bad request");

    // A phone nobody registered: 404.
    let (status, body) = phone
        .snom_record("00:04:13:ff:ff:ff", "key-2@pbx")
        .await
        .expect("answers");
    assert_eq!(
        (status, body.trim()),
        (404, "no phone with this MAC address is registered")
    );

    // Bob is not in alice's call; carol is in hers but no rule lets her record: 403.
    let (status, body) = phone.snom_record(BOB_MAC, "key-2@pbx").await.expect("answers");
    assert_eq!(status, 403, "not a participant: {body}");
    let (status, body) = phone.pui_record(CAROL_MAC, "key-3@pbx").await.expect("answers");
    assert_eq!(status, 403, "no manual rule: {body}");
    assert_eq!(
        body.trim(),
        "you are not allowed to record this call",
        "plain words (#17)"
    );

    // MDC_MON_MODE=deny: 409.
    let (status, body) = phone.snom_record(BOB_MAC, "key-4@pbx").await.expect("answers");
    assert_eq!((status, body.trim()), (409, "recording is denied for this call"));

    // No such call, and a call that has ended: 404.
    let (status, _) = phone.snom_record(ALICE_MAC, "nobody@pbx").await.expect("answers");
    assert_eq!(status, 404);
    live::end(&w.server.state, id).await.expect("hang up");
    let (status, body) = phone.pui_record(ALICE_MAC, "key-2@pbx").await.expect("answers");
    assert_eq!(
        (status, body.trim()),
        (404, "no call in progress with this SIP Call-ID")
    );

    for call in [id, carols, denied] {
        let d = w.admin.get_call(call).await.expect("call");
        assert!(d.recordings.is_empty(), "call {call}: a refused press records nothing");
    }
    let audit = w.admin.audit(None, Some(100)).await.expect("audit");
    assert!(
        audit
            .items
            .iter()
            .any(|e| e.action == "record_refused" && e.actor == "phone:000413aabb02"),
        "refusals are audited too"
    );
    live::end(&w.server.state, carols).await.expect("hang up");
    live::end(&w.server.state, denied).await.expect("hang up");
}

#[tokio::test]
async fn issue_11_the_pause_key_pauses_and_resumes_in_both_url_forms_and_resumes_by_itself_when_set() {
    let w = world().await;
    let phone = w.server.client();
    let id = open_call(&w, "pause-1@pbx", "201", "+4930999000", MonMode::Auto).await;

    // Nothing recorded yet: the pause key says so and changes nothing.
    let (status, body) = phone.snom_pause(ALICE_MAC, "pause-1@pbx").await.expect("answers");
    assert_eq!(
        (status, body.trim()),
        (
            409,
            "nothing is being recorded on this call, so there is nothing to pause"
        )
    );
    let (status, _) = phone.snom_record(ALICE_MAC, "pause-1@pbx").await.expect("answers");
    assert_eq!(status, 200, "the record key starts a recording");

    let (status, body) = phone.snom_pause(ALICE_MAC, "pause-1@pbx").await.expect("answers");
    assert_eq!((status, body.trim()), (200, "Recording paused"), "the Snom form pauses");
    let d = w.admin.get_call(id).await.expect("the call");
    let paused = d.recording.paused().expect("the live call is paused");
    assert_eq!(paused.user_id, Some(w.cast.alice.id), "on behalf of the phone's user");
    let (status, body) = phone.snom_pause(BOB_MAC, "pause-1@pbx").await.expect("answers");
    assert_eq!(status, 403, "bob takes no part in the call: {body}");
    let (status, body) = phone.pui_pause("000413aabb01", "pause-1@pbx").await.expect("answers");
    assert_eq!((status, body.trim()), (200, "Recording"), "the PUI form resumes");
    let d = w.admin.get_call(id).await.expect("the call");
    assert_eq!(d.recording.paused(), None, "recording again");
    assert_eq!(d.recordings[0].pauses.len(), 1, "one pause listed");
    assert!(d.recordings[0].pauses[0].to_ms.is_some(), "and closed");

    // An automatic resume after 1 s (setting pause_auto_resume_secs), audited as the system.
    w.admin
        .update_settings(&callrec_types::wire::SettingsPatch {
            pause_auto_resume_secs: Some(1),
            ..Default::default()
        })
        .await
        .expect("an admin sets the automatic resume");
    let (status, _) = phone.pui_pause("000413aabb01", "pause-1@pbx").await.expect("answers");
    assert_eq!(status, 200, "paused again");
    let d = w.admin.get_call(id).await.expect("the call");
    let p = d.recording.paused().expect("paused");
    assert_eq!(
        p.auto_resume_at,
        Some(p.since + chrono::Duration::seconds(1)),
        "the live call says when it resumes by itself"
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let d = loop {
        let d = w.admin.get_call(id).await.expect("the call");
        if d.recording.paused().is_none() {
            break d;
        }
        assert!(std::time::Instant::now() < deadline, "resumed by itself within 10 s");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_eq!(d.recordings[0].pauses.len(), 2);
    assert!(
        d.recordings[0].pauses[1].to_ms.is_some(),
        "the second pause closed by itself"
    );
    assert!(
        d.trace.iter().any(|l| l.message.contains("resumed by itself")),
        "the trace says so"
    );

    let audit = w.admin.audit(None, Some(50)).await.expect("audit");
    let by_phone = |action: &str| {
        audit
            .items
            .iter()
            .filter(|e| e.actor == "phone:000413aabb01" && e.action == action)
            .count()
    };
    assert_eq!(
        (by_phone("record_pause"), by_phone("record_resume")),
        (2, 1),
        "each press audited"
    );
    assert!(
        audit
            .items
            .iter()
            .any(|e| e.actor == "system" && e.action == "record_resume"),
        "the automatic resume is audited"
    );
    assert!(
        audit
            .items
            .iter()
            .any(|e| e.actor == "phone:000413aabb02" && e.action == "pause_refused"),
        "a refused pause key is audited"
    );
    live::end(&w.server.state, id).await.expect("hang up");
}
