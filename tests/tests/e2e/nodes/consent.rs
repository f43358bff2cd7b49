//! The caller's consent across nodes (issue #11.2): a call held by node B gets its consent
//! from an agent on node A — carried to node B, which starts the recording that waited for
//! it, and later stops and deletes it at the caller's refusal; node A's push stream shows
//! the consent, and both actions are audited.

use super::{call_id, node, wait_for};
use callrec_sim::{Sim, Transport};
use callrec_tests::directory::{self, add_rule, rule, PASSWORD};
use callrec_types::calls::{ConsentState, LiveRecording};
use callrec_types::rules::{Dispatch, RuleDirection, RuleMode, RuleOrigin};
use callrec_types::wire::Event;
use std::time::Duration;

#[tokio::test]
async fn consent_given_on_node_a_reaches_the_call_held_by_node_b() {
    let url = callrec_testkit::postgres::fresh_database().await;
    let a = node(&url, "node-a").await;
    let b = node(&url, "node-b").await;
    let admin = a.admin().await;
    let cast = directory::build(&admin).await;
    let mut r = rule(
        "support, once the caller agrees",
        RuleMode::Automatic,
        cast.support_role,
        RuleDirection::Both,
        RuleOrigin::Both,
        Dispatch::Store,
    );
    r.require_consent = true;
    add_rule(&admin, r).await;

    let alice_a = a.login("alice", PASSWORD).await;
    let mut events = alice_a.events().await.expect("alice subscribes on node A");
    let sim = Sim::connect(b.sip, Transport::Udp)
        .await
        .expect("the simulator reaches node B");
    let sip_call = sim
        .call()
        .caller("sip:+4930555@carrier.example")
        .callee("sip:201@pbx.example")
        .invite()
        .await
        .expect("node B answers");
    let id = call_id(&b, sip_call.call_id()).await;
    let waiting = crate::post_call::eventually(10, "the call waits for consent on node A", || async {
        alice_a
            .get_call(id)
            .await
            .ok()
            .filter(|d| d.trace.iter().any(|l| l.message.contains("waiting for consent")))
    })
    .await;
    assert_eq!(waiting.recording, LiveRecording::NotRecording);

    let granted = alice_a
        .set_consent(id, ConsentState::Granted)
        .await
        .expect("node A carries alice's consent to node B");
    assert_eq!(
        granted.state,
        LiveRecording::RecordingAuto { paused: None },
        "node B started the recording"
    );
    let rid = granted.recording_id.expect("the recording's id");
    loop {
        let Event::Call(d) = wait_for(&mut events, id, false, 10).await else {
            unreachable!()
        };
        if d.call.consent.state == ConsentState::Granted && matches!(d.recording, LiveRecording::RecordingAuto { .. }) {
            break;
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let refused = alice_a
        .set_consent(id, ConsentState::Refused)
        .await
        .expect("the refusal reaches node B");
    assert_eq!(refused.state, LiveRecording::NotRecording, "node B stopped it at once");
    let gone = b.state.store.get_recording(rid).await;
    assert!(
        gone.is_err(),
        "node B deleted what was recorded (consent_refused = delete)"
    );
    let detail = admin.get_call(id).await.expect("the call on node A");
    assert!(
        detail
            .trace
            .iter()
            .any(|l| l.message.contains("recording stopped: the caller refused consent at")),
        "the trace on node A tells the refusal"
    );
    let audit = admin.audit(None, Some(200)).await.expect("audit").items;
    assert_eq!(
        audit
            .iter()
            .filter(|e| e.actor == "alice" && e.action == "consent")
            .count(),
        2,
        "both of alice's actions are audited"
    );
    assert!(audit.iter().any(|e| e.action == "recording_delete_consent"));
    sip_call.bye().await.expect("node B answers the BYE");
}
