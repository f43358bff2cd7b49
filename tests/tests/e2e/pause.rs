//! End-to-end: PCI pause and resume (issue #11.1) with real SIPREC calls from `callrec-sim`
//! (caller 440 Hz, callee 1000 Hz) through the real server and client: an automatic
//! recording paused from ~3 s to ~6 s of a ~10 s call — one file, the call's length, silence
//! and no call audio inside the pause, the tones after it, the pause in the API, the journal
//! JSON, the audit and the push stream, and the agent still cannot stop it; a manual
//! recording paused, resumed by an admin who takes no part in the call, paused again and
//! stopped while paused; and the bad input (unknown action, pause with nothing recording,
//! resume when not paused, pause twice, someone who may not see the call) — each a clear
//! 4xx that changes nothing. The phone's pause key and the automatic resume are in
//! `record_key`; the cross-node pause in `nodes`.

use std::time::{Duration, Instant};

use callrec_client::{Client, EventStream};
use callrec_tests::directory::PASSWORD;
use callrec_types::calls::{LiveRecording, Recording, RecordingPause, Trigger};
use callrec_types::rules::RuleMode;
use callrec_types::wire::{ErrorCode, Event, RecordingAction};
use callrec_types::CallId;
use futures::StreamExt;

use crate::siprec::{audio, cast_with, finished_call, is_sound, within, Audio, Recorder, PACKET_MS, SLACK_MS};

/// Frames per millisecond at 8 kHz.
const FPM: usize = 8;
/// How far from a pause's edges the file is checked: a tick and a packet of slack.
const EDGE_MS: i64 = 80;

async fn until(t: Instant) {
    tokio::time::sleep(t.saturating_duration_since(Instant::now())).await;
}

/// The refusal's status and code.
async fn refused(c: &Client, id: CallId, action: RecordingAction) -> (u16, Option<ErrorCode>) {
    let e = c.set_recording(id, action).await.expect_err("refused");
    (e.status().unwrap_or(0), e.code())
}

/// Both channels of `a` between `from_ms` and `to_ms` hold silence only: no call audio.
fn assert_silent(a: &Audio, from_ms: i64, to_ms: i64, what: &str) {
    let quiet = a.law.decode(a.law.silence()).unsigned_abs();
    let (from, to) = (from_ms as usize * FPM, (to_ms as usize * FPM).min(a.caller.len()));
    assert!(
        to > from + 800,
        "{what}: a span of at least 100 ms to check ({from_ms}..{to_ms} ms)"
    );
    for (ch, samples) in [("caller", &a.caller), ("callee", &a.callee)] {
        let loud = samples[from..to].iter().filter(|s| s.unsigned_abs() > quiet).count();
        assert_eq!(
            loud, 0,
            "{what}: channel {ch} holds only silence from {from_ms} to {to_ms} ms"
        );
    }
}

/// Share of 20 ms blocks of channel 1 between `from_ms` and `to_ms` that carry sound.
fn sound_share(a: &Audio, from_ms: i64, to_ms: i64) -> f64 {
    let (from, to) = (from_ms as usize * FPM, (to_ms as usize * FPM).min(a.caller.len()));
    let blocks: Vec<bool> = a.caller[from..to].chunks(160).map(is_sound).collect();
    blocks.iter().filter(|b| **b).count() as f64 / blocks.len().max(1) as f64
}

/// Waits on the push stream for a `recording` event of `rec` whose pauses satisfy `ok`.
async fn pushed_recording(stream: &mut EventStream, ok: impl Fn(&Recording) -> bool) -> Recording {
    let wait = async {
        loop {
            let e = stream
                .next()
                .await
                .expect("the push stream stays open")
                .expect("a well-formed event");
            if let Event::Recording(r) = e {
                if ok(&r) {
                    return r;
                }
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(10), wait)
        .await
        .expect("the pause is pushed within 10 s")
}

#[tokio::test]
async fn issue_11_an_automatic_recording_paused_from_3_to_6_s_keeps_the_call_length_and_no_audio_of_the_pause() {
    let recorder = Recorder::start().await;
    let (admin, cast) = cast_with(&recorder, &[(RuleMode::Automatic, true)]).await;
    let sim = recorder.sim().await;
    let call = sim
        .call()
        .caller("sip:+4930111222@carrier.example")
        .callee("sip:201@pbx.example")
        .invite()
        .await
        .expect("the recorder answers");
    let answered = Instant::now();
    let id = recorder.call_id(call.call_id()).await;
    let alice = recorder.login("alice", PASSWORD).await;
    let mut pushes = alice.events().await.expect("alice subscribes to the push stream");

    until(answered + Duration::from_secs(3)).await;
    let paused = alice
        .set_recording(id, RecordingAction::Pause)
        .await
        .expect("alice may pause the automatic recording she cannot stop");
    let live = paused.state.paused().cloned().expect("the answer says paused");
    assert!(
        matches!(paused.state, LiveRecording::RecordingAuto { .. }),
        "still the automatic recording"
    );
    assert_eq!(live.user_id, Some(cast.alice.id), "paused by alice");
    assert!(live.by.contains("201"), "named as the participant she is: {}", live.by);
    assert_eq!(live.auto_resume_at, None, "no automatic resume unless set");
    let pushed = pushed_recording(&mut pushes, |r| r.pauses.len() == 1).await;
    assert_eq!(pushed.pauses[0].to_ms, None, "the push shows the open pause");

    // While paused: the live call says so, a second pause and a stop are refused.
    let detail = alice.get_call(id).await.expect("the live call");
    assert_eq!(
        detail.recording.paused(),
        Some(&live),
        "the live call shows paused by alice since …"
    );
    assert!(detail.can_pause && !detail.can_toggle, "she may pause/resume, not stop");
    assert_eq!(
        refused(&alice, id, RecordingAction::Pause).await,
        (409, Some(ErrorCode::AlreadyPaused)),
        "a pause while paused is a conflict"
    );
    assert_eq!(
        refused(&alice, id, RecordingAction::Stop).await,
        (403, Some(ErrorCode::NotPermitted)),
        "the agent still cannot stop an automatic recording"
    );

    until(answered + Duration::from_secs(6)).await;
    let resumed = alice
        .set_recording(id, RecordingAction::Resume)
        .await
        .expect("alice resumes");
    assert_eq!(
        resumed.state,
        LiveRecording::RecordingAuto { paused: None },
        "recording again"
    );
    assert_eq!(
        refused(&alice, id, RecordingAction::Resume).await,
        (409, Some(ErrorCode::NotPaused)),
        "a resume when not paused is a conflict"
    );

    until(answered + Duration::from_secs(10)).await;
    let elapsed = i64::try_from(answered.elapsed().as_millis()).expect("ms");
    recorder.hang_up(call, id).await;

    let detail = finished_call(&alice, id).await;
    assert_eq!(detail.recordings.len(), 1, "one file");
    let rec = &detail.recordings[0];
    assert!(matches!(rec.trigger, Trigger::Auto { .. }));
    within(
        rec.duration_ms,
        elapsed,
        PACKET_MS + SLACK_MS,
        "the file is the call's length",
    );
    assert_eq!(rec.pauses.len(), 1, "one pause listed: {:?}", rec.pauses);
    let RecordingPause {
        from_ms,
        to_ms,
        user_id,
        ..
    } = rec.pauses[0].clone();
    let to_ms = to_ms.expect("the pause is closed");
    assert_eq!(user_id, Some(cast.alice.id));
    within(from_ms, 3000, 300, "the pause starts at ~3 s");
    within(to_ms, 6000, 300, "and ends at ~6 s");

    let a = audio(&admin, rec).await;
    assert_eq!(a.duration_ms(), rec.duration_ms, "the file holds the whole timeline");
    assert_silent(&a, from_ms + EDGE_MS, to_ms - EDGE_MS, "inside the pause");
    assert!(sound_share(&a, 200, from_ms - EDGE_MS) > 0.9, "audio before the pause");
    assert!(
        sound_share(&a, to_ms + EDGE_MS, rec.duration_ms - 200) > 0.9,
        "audio after it"
    );
    a.assert_channels("the paused call");

    let journal = alice.call_journal_json(id).await.expect("the journal JSON");
    assert_eq!(journal.recordings[0].pauses, rec.pauses, "the journal lists the pause");
    let audit = admin.audit(None, Some(50)).await.expect("the audit log");
    for action in ["record_pause", "record_resume"] {
        assert!(
            audit
                .items
                .iter()
                .any(|e| e.action == action && e.actor == "alice" && e.target == format!("call {id}")),
            "{action} by alice is audited"
        );
    }
    assert!(
        detail.trace.iter().any(|l| l.message.contains("paused the recording")),
        "the trace tells the pause"
    );
    recorder.stop().await;
}

#[tokio::test]
async fn issue_11_a_manual_recording_paused_resumed_by_an_admin_and_stopped_while_paused() {
    let recorder = Recorder::start().await;
    let (admin, cast) = cast_with(&recorder, &[(RuleMode::Manual, false)]).await;
    let sim = recorder.sim().await;
    let call = sim
        .call()
        .caller("sip:+4930555@carrier.example")
        .callee("sip:203@pbx.example")
        .invite()
        .await
        .expect("the recorder answers");
    let id = recorder.call_id(call.call_id()).await;
    let carol = recorder.login("carol", PASSWORD).await;

    // Bad input while nothing is recorded: each a clear 4xx.
    assert_eq!(
        refused(&carol, id, RecordingAction::Pause).await,
        (409, Some(ErrorCode::NotRecording)),
        "nothing to pause"
    );
    assert_eq!(
        refused(&carol, id, RecordingAction::Resume).await,
        (409, Some(ErrorCode::NotPaused)),
        "nothing to resume"
    );
    let raw = reqwest::Client::new()
        .post(format!("{}/api/v1/calls/{}/recording", recorder.url, id))
        .bearer_auth(carol.token().expect("logged in"))
        .json(&serde_json::json!({"action": "rewind"}))
        .send()
        .await
        .expect("answered");
    let status = raw.status().as_u16();
    let body: serde_json::Value = raw.json().await.expect("a JSON error body");
    assert!((400..500).contains(&status), "an unknown action is a 4xx: {status}");
    assert_eq!(body["code"], "malformed_json", "with a code: {body}");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "and a message");
    let bob = recorder.login("bob", PASSWORD).await;
    assert_eq!(
        refused(&bob, id, RecordingAction::Pause).await.0,
        404,
        "someone who cannot see the call cannot pause it"
    );

    carol
        .set_recording(id, RecordingAction::Start)
        .await
        .expect("carol starts recording");
    tokio::time::sleep(Duration::from_millis(1000)).await;
    carol
        .set_recording(id, RecordingAction::Pause)
        .await
        .expect("carol pauses");
    tokio::time::sleep(Duration::from_millis(800)).await;
    let by_admin = admin
        .set_recording(id, RecordingAction::Resume)
        .await
        .expect("an admin who takes no part in the call may resume it");
    assert_eq!(by_admin.state.paused(), None);
    tokio::time::sleep(Duration::from_millis(800)).await;
    let again = carol
        .set_recording(id, RecordingAction::Pause)
        .await
        .expect("carol pauses again");
    assert!(again.state.paused().is_some());
    tokio::time::sleep(Duration::from_millis(800)).await;
    let stopped = carol
        .set_recording(id, RecordingAction::Stop)
        .await
        .expect("carol stops while paused");
    assert_eq!(stopped.state, LiveRecording::NotRecording);
    tokio::time::sleep(Duration::from_millis(300)).await;
    recorder.hang_up(call, id).await;

    let detail = finished_call(&carol, id).await;
    assert_eq!(detail.recordings.len(), 1, "one recording, finished normally");
    let rec = &detail.recordings[0];
    assert_eq!(rec.pauses.len(), 2, "two pauses: {:?}", rec.pauses);
    assert!(
        rec.pauses.iter().all(|p| p.user_id == Some(cast.carol.id)),
        "both by carol"
    );
    let last = &rec.pauses[1];
    let end = last.to_ms.expect("the open pause is closed at the stop");
    within(
        end,
        rec.duration_ms,
        PACKET_MS + SLACK_MS,
        "the last pause runs to the end",
    );
    let a = audio(&admin, rec).await;
    assert_eq!(a.duration_ms(), rec.duration_ms);
    let first = &rec.pauses[0];
    assert_silent(
        &a,
        first.from_ms + EDGE_MS,
        first.to_ms.expect("closed") - EDGE_MS,
        "first pause",
    );
    assert_silent(&a, last.from_ms + EDGE_MS, rec.duration_ms, "the pause it stopped in");
    assert!(
        sound_share(&a, first.to_ms.expect("closed") + EDGE_MS, last.from_ms - EDGE_MS) > 0.9,
        "audio between the pauses"
    );
    let audit = admin.audit(None, Some(50)).await.expect("the audit log");
    assert!(
        audit
            .items
            .iter()
            .any(|e| e.action == "record_resume" && e.actor == "admin"),
        "the admin's resume is audited"
    );
    recorder.stop().await;
}
