//! End-to-end: calls in progress (announced in-process with `SilentMedia`, as the SIPREC
//! recorder announces real ones): the live list and push events each user may see, the red
//! toggle with its permission checks, automatic recordings from answer to hangup, and the
//! repair of a recording cut off by a crash.

use callrec_server::calls::RawParticipant;
use callrec_server::live::{self, NewLiveCall, SilentMedia};
use callrec_server::state::Envelope;
use callrec_tests::directory::{self, add_rule, rule, PASSWORD};
use callrec_tests::TestServer;
use callrec_types::calls::{CallSource, LiveRecording, ParticipantRole, RecordingState, Trigger};
use callrec_types::rules::{Dispatch, MonMode, RuleDirection, RuleMode, RuleOrigin};
use callrec_types::wire::ErrorCode;
use callrec_types::wire::{Event, RecordingAction};
use callrec_types::CallId;
use futures::StreamExt;
use std::sync::Arc;
use std::time::Duration;

async fn open_call(server: &TestServer, id: &str, caller: &str, callee: &str, mode: MonMode) -> CallId {
    let call = NewLiveCall {
        sip_call_id: id.into(),
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
        started_at: server.state.clock.now(),
        consent: Default::default(),
    };
    let id = live::open(&server.state, call, Arc::new(SilentMedia::default()))
        .await
        .expect("open");
    live::answer(&server.state, id).await.expect("answer");
    id
}

async fn next_event(stream: &mut callrec_client::EventStream, want: &str) -> Event {
    loop {
        let e = tokio::time::timeout(Duration::from_secs(5), stream.next())
            .await
            .unwrap_or_else(|_| panic!("no {want} event within 5 s"))
            .expect("the stream is open")
            .expect("a well-formed event");
        if e.name() == want {
            return e;
        }
    }
}

/// Issue #14: a push-stream subscriber that falls behind is told so with a named `lagged`
/// event (it used to be an SSE comment, which clients drop), then gets what the hub kept.
#[tokio::test]
async fn a_subscriber_that_falls_behind_is_sent_a_lagged_event() {
    let server = TestServer::start_with_event_buffer(2).await;
    let admin = server.admin().await;
    let mut events = admin.events().await.expect("admin subscribes");
    // Sent without yielding (the test runtime has one thread): the stream cannot read any of
    // them before the hub has dropped all but the last two.
    for i in 0..10 {
        let envelope = Envelope {
            event: Event::Journal { call_id: CallId(i) },
            users: Vec::new(),
            decision: None,
        };
        server
            .state
            .events
            .send(Arc::new(envelope))
            .expect("the admin's stream is subscribed");
    }
    let mut received = Vec::new();
    for _ in 0..3 {
        let e = tokio::time::timeout(Duration::from_secs(5), events.next())
            .await
            .expect("an event within 5 s")
            .expect("the stream is open")
            .expect("a well-formed event");
        received.push(e);
    }
    assert_eq!(
        received,
        vec![
            Event::Lagged {},
            Event::Journal { call_id: CallId(8) },
            Event::Journal { call_id: CallId(9) },
        ],
        "first the notice that events were missed, then the two the hub kept"
    );
}

#[tokio::test]
async fn the_red_toggle_records_segments_and_only_the_right_people_see_the_call() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let cast = directory::build(&admin).await;
    add_rule(
        &admin,
        rule(
            "Sales on demand",
            RuleMode::Manual,
            cast.sales_role,
            RuleDirection::Both,
            RuleOrigin::Both,
            Dispatch::Store,
        ),
    )
    .await;

    let carol = server.login("carol", PASSWORD).await;
    let alice = server.login("alice", PASSWORD).await;
    let mut carol_events = carol.events().await.expect("carol subscribes");
    let mut alice_events = alice.events().await.expect("alice subscribes");

    let id = open_call(&server, "live-1", "+4930111", "203", MonMode::Auto).await;
    let Event::Call(seen) = next_event(&mut carol_events, "call").await else {
        unreachable!()
    };
    assert_eq!(seen.call.id, id);
    assert!(
        seen.can_toggle,
        "carol's manual rule lets her record: {:?}",
        seen.not_allowed_reason
    );

    let live = carol.live_calls().await.expect("live");
    assert_eq!(live.len(), 1);
    assert_eq!(live[0].recording, LiveRecording::NotRecording);
    assert!(
        alice.live_calls().await.expect("alice live").is_empty(),
        "alice does not see carol's call"
    );
    assert_eq!(alice.get_call(id).await.expect_err("not alice's").status(), Some(404));
    let e = alice
        .set_recording(id, RecordingAction::Start)
        .await
        .expect_err("alice cannot toggle carol's call");
    assert_eq!(e.status(), Some(404));

    // Start, stop, start, stop: two files, 001 and 002.
    let r = carol.set_recording(id, RecordingAction::Start).await.expect("start");
    assert!(
        matches!(r.state, LiveRecording::RecordingManual { user_id: Some(u), .. } if u == cast.carol.id),
        "{:?}",
        r.state
    );
    let again = carol
        .set_recording(id, RecordingAction::Start)
        .await
        .expect("start again is harmless");
    assert_eq!(again.recording_id, r.recording_id);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        carol
            .set_recording(id, RecordingAction::Stop)
            .await
            .expect("stop")
            .state,
        LiveRecording::NotRecording
    );
    carol.set_recording(id, RecordingAction::Start).await.expect("start 2");
    carol.set_recording(id, RecordingAction::Stop).await.expect("stop 2");
    live::end(&server.state, id).await.expect("hang up");
    let Event::CallEnded { call_id } = next_event(&mut carol_events, "call_ended").await else {
        unreachable!()
    };
    assert_eq!(call_id, id);

    let detail = carol.get_call(id).await.expect("the ended call");
    assert_eq!(detail.recordings.len(), 2);
    assert_eq!(detail.recordings.iter().map(|r| r.seq).collect::<Vec<_>>(), vec![1, 2]);
    assert!(detail
        .recordings
        .iter()
        .all(|r| r.state == RecordingState::Complete && r.sha256.len() == 64));
    assert!(
        detail.recordings[0].file_name.ends_with("_001.wav") && detail.recordings[1].file_name.ends_with("_002.wav")
    );
    assert!(
        detail.recordings[0].duration_ms >= 250,
        "the first segment lasted ~300 ms: {}",
        detail.recordings[0].duration_ms
    );
    assert!(
        detail.trace.iter().any(|l| l.message.contains("started a recording")),
        "who pressed record is traced"
    );
    assert!(!detail.can_toggle, "an ended call has no toggle");
    let (st, _, body) = carol
        .audio_bytes(detail.recordings[0].id, callrec_client::AudioFormat::Original, None)
        .await
        .expect("audio");
    assert_eq!(st, 200);
    assert!(
        callrec_media::wav::WavInfo::parse(&body[..58]).is_ok(),
        "a playable WAV"
    );

    // alice saw none of it.
    let quiet = tokio::time::timeout(Duration::from_millis(300), alice_events.next()).await;
    assert!(quiet.is_err(), "alice received an event about carol's call: {quiet:?}");
}

#[tokio::test]
async fn permissions_of_the_toggle_follow_rules_and_mon_mode() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let cast = directory::build(&admin).await;
    add_rule(
        &admin,
        rule(
            "Support always",
            RuleMode::Automatic,
            cast.support_role,
            RuleDirection::Both,
            RuleOrigin::Both,
            Dispatch::Store,
        ),
    )
    .await;
    let alice = server.login("alice", PASSWORD).await;
    let carol = server.login("carol", PASSWORD).await;

    // Automatic: recording from answer; the agent cannot stop it.
    let auto = open_call(&server, "auto", "+4930222", "201", MonMode::Auto).await;
    let d = alice.get_call(auto).await.expect("call");
    assert_eq!(d.recording, LiveRecording::RecordingAuto { paused: None });
    assert!(!d.can_toggle);
    // #17: the reason in plain words, and the PBX's nameless participant named by the
    // directory on the live call and in the list of live calls.
    assert_eq!(
        d.not_allowed_reason.as_deref(),
        Some("this call is recorded automatically and cannot be stopped")
    );
    let named = |ps: &[callrec_types::calls::Participant]| {
        ps.iter()
            .find(|p| p.user_id == Some(cast.alice.id))
            .and_then(|p| p.user_name.clone())
    };
    assert_eq!(named(&d.call.participants).as_deref(), Some("Alice"));
    let listed = alice.live_calls().await.expect("live calls");
    let listed = listed.iter().find(|l| l.call.id == auto).expect("listed");
    assert_eq!(named(&listed.call.participants).as_deref(), Some("Alice"));
    assert_eq!(
        listed.recordings[0].trigger,
        Trigger::Auto {
            rule_id: Some(admin.list_rules().await.expect("rules")[0].id),
            rule_name: Some("Support always".into())
        },
        "the running recording names its rule"
    );
    let e = alice
        .set_recording(auto, RecordingAction::Stop)
        .await
        .expect_err("cannot stop");
    assert_eq!((e.status(), e.code()), (Some(403), Some(ErrorCode::NotPermitted)));
    assert_eq!(
        e.body().map(|b| b.message.as_str()),
        Some("this call is recorded automatically and cannot be stopped")
    );
    live::end(&server.state, auto).await.expect("end");
    let d = alice.get_call(auto).await.expect("call");
    assert_eq!(d.recordings.len(), 1);
    assert!(matches!(
        d.recordings[0].trigger,
        Trigger::Auto { rule_id: Some(_), .. }
    ));

    // Carol has no rule: not permitted, with the reason shown.
    let none = open_call(&server, "none", "+4930333", "203", MonMode::Auto).await;
    let d = carol.get_call(none).await.expect("call");
    assert!(!d.can_toggle);
    assert!(
        d.not_allowed_reason
            .as_deref()
            .is_some_and(|r| r == "you are not allowed to record this call"),
        "{:?}",
        d.not_allowed_reason
    );
    assert_eq!(
        carol
            .set_recording(none, RecordingAction::Start)
            .await
            .expect_err("no rule")
            .code(),
        Some(ErrorCode::NotPermitted)
    );

    // deny: 409 recording_denied; manual mode: allowed for every participant.
    let deny = open_call(&server, "deny", "+4930444", "203", MonMode::Deny).await;
    let e = carol
        .set_recording(deny, RecordingAction::Start)
        .await
        .expect_err("deny");
    assert_eq!(e.code(), Some(ErrorCode::RecordingDenied));
    assert_eq!(
        e.body().map(|b| b.message.as_str()),
        Some("the phone system does not allow this call to be recorded"),
        "plain words, not MDC_MON_MODE (#17)"
    );
    let manual = open_call(&server, "manual", "+4930555", "203", MonMode::Manual).await;
    assert!(carol.set_recording(manual, RecordingAction::Start).await.is_ok());
    // force: recorded although carol has no rule.
    let force = open_call(&server, "force", "+4930666", "203", MonMode::Force).await;
    assert_eq!(
        carol.get_call(force).await.expect("call").recording,
        LiveRecording::RecordingAuto { paused: None }
    );
    for id in [none, deny, manual, force] {
        live::end(&server.state, id).await.expect("end");
    }
    let force_rec = &carol.get_call(force).await.expect("call").recordings[0];
    assert!(matches!(force_rec.trigger, Trigger::Force));
    assert!(
        carol.get_call(deny).await.expect("call").recordings.is_empty(),
        "deny stores nothing"
    );
    // A refused press is in the trace.
    let trace = carol.get_call(none).await.expect("call").trace;
    assert!(trace.iter().any(|l| l.message.contains("refused")), "{trace:?}");
}

#[tokio::test]
async fn a_recording_cut_off_by_a_crash_is_repaired_at_start_up() {
    let dir = tempfile::tempdir().expect("tmp");
    let server = TestServer::start_on(dir.path()).await;
    let admin = server.admin().await;
    directory::build(&admin).await;
    let id = open_call(&server, "crash", "+4930777", "201", MonMode::Force).await;
    let rec = admin.get_call(id).await.expect("call").recordings[0].clone();
    assert_eq!(rec.state, RecordingState::Recording);
    // Simulate the crash: the writer vanished after writing some audio whose header was never
    // updated (sizes still say "empty").
    let path = std::fs::read_dir(dir.path().join("recordings")).is_ok();
    assert!(path);
    let file = walk(dir.path())
        .into_iter()
        .find(|p| p.to_string_lossy().ends_with("_001.wav"))
        .expect("segment file");
    let mut bytes = std::fs::read(&file).expect("read");
    bytes.extend(std::iter::repeat_n(0xFFu8, 16_000 * 2 + 1)); // 2 s of stereo silence and half a frame
    std::fs::write(&file, &bytes).expect("write");
    drop(server); // no BYE, no stop: the process is gone

    let server = TestServer::start_on(dir.path()).await;
    let admin = server.admin().await;
    let d = admin.get_call(id).await.expect("call after restart");
    assert_eq!(
        d.call.state,
        callrec_types::calls::CallState::Ended,
        "the call is closed"
    );
    let r = &d.recordings[0];
    assert_eq!(r.state, RecordingState::Complete);
    assert_eq!(r.duration_ms, 2000, "playable up to the last whole frame");
    let (_, _, body) = admin
        .audio_bytes(r.id, callrec_client::AudioFormat::Original, None)
        .await
        .expect("audio");
    let info = callrec_media::wav::WavInfo::parse(&body[..58]).expect("the header is valid again");
    assert_eq!(
        info.data_len as usize + 58,
        body.len(),
        "the header covers exactly the data"
    );
    assert!(std::fs::read(
        walk(dir.path())
            .into_iter()
            .find(|p| p.extension().is_some_and(|e| e == "json"))
            .expect("journal")
    )
    .is_ok());
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}
