//! End-to-end: "who listened to my calls" (issue #12.4) with the real server. The recorded
//! agent sees the supervisor's play and download of her call's recording; another agent's
//! listens never show up for her (nor hers for him); an agent in no call sees nothing; bad
//! paging is a 400 with nothing changed.

use crate::post_call;
use callrec_client::{AudioFormat, Client};
use callrec_tests::directory::{self, add_rule, rule};
use callrec_tests::{wav, TestServer, INGEST_TOKEN};
use callrec_types::evidence::ListenAction;
use callrec_types::rules::{Dispatch, RuleDirection, RuleMode, RuleOrigin};
use callrec_types::{CallId, RecordingId};
use chrono::{Duration, Utc};

async fn upload(srv: &TestServer, sip_call_id: &str, ext: &str) -> (CallId, RecordingId) {
    let r = srv
        .client()
        .ingest_bytes(
            INGEST_TOKEN,
            &post_call::call(sip_call_id, Utc::now() - Duration::hours(1), "+4930999000", ext),
            wav::stereo_ulaw(1.0),
        )
        .await
        .expect("the upload is accepted");
    (r.call_id, r.recording_id)
}

/// A play as the player starts one: the audio from byte 0.
async fn play(c: &Client, id: RecordingId) {
    let (status, _, _) = c
        .audio_bytes(id, AudioFormat::Original, None)
        .await
        .expect("the audio is served");
    assert_eq!(status, 200);
}

#[tokio::test]
async fn the_recorded_agent_sees_the_supervisors_play_and_never_another_agents_listens() {
    let srv = TestServer::start().await;
    let admin = srv.admin().await;
    let cast = directory::build(&admin).await;
    add_rule(
        &admin,
        rule(
            "Support, stored",
            RuleMode::Automatic,
            cast.support_role,
            RuleDirection::Both,
            RuleOrigin::Both,
            Dispatch::Store,
        ),
    )
    .await;
    let alice = srv.login("alice", directory::PASSWORD).await;
    let bob = srv.login("bob", directory::PASSWORD).await;
    let carol = srv.login("carol", directory::PASSWORD).await;
    let sam = srv.login("sam", directory::PASSWORD).await;
    let (alice_call, alice_rec) = upload(&srv, "alice-call@pbx", "201").await;
    let (bob_call, bob_rec) = upload(&srv, "bob-call@pbx", "202").await;
    assert!(
        alice.list_listens(None, None).await.expect("listens").items.is_empty(),
        "nobody listened yet"
    );

    play(&sam, alice_rec).await;
    // A seek is not a new play.
    sam.audio_bytes(alice_rec, AudioFormat::Original, Some((4000, None)))
        .await
        .expect("a seek");
    let dl = tempfile::tempdir().expect("a download dir");
    sam.download_to(alice_rec, AudioFormat::Pcm16, &dl.path().join("a.wav"), |_, _| {})
        .await
        .expect("the supervisor downloads it");
    play(&sam, bob_rec).await;
    play(&bob, bob_rec).await;

    let seen = alice.list_listens(None, None).await.expect("alice's listens");
    assert_eq!(
        seen.items
            .iter()
            .map(|l| (l.actor.as_str(), l.user_id, l.action, l.recording_id, l.call_id))
            .collect::<Vec<_>>(),
        vec![
            ("sam", Some(cast.sam.id), ListenAction::Download, alice_rec, alice_call),
            ("sam", Some(cast.sam.id), ListenAction::Play, alice_rec, alice_call),
        ],
        "alice sees the supervisor's download and play of her call, newest first, and nothing of bob's"
    );
    assert_eq!(seen.items[0].detail, "format pcm16");
    assert!(seen.items[0].at >= seen.items[1].at);

    let bobs = bob.list_listens(None, None).await.expect("bob's listens");
    assert_eq!(
        bobs.items
            .iter()
            .map(|l| (l.actor.as_str(), l.call_id))
            .collect::<Vec<_>>(),
        vec![("bob", bob_call), ("sam", bob_call)],
        "bob sees the listens of his call only, never alice's"
    );
    assert!(
        carol.list_listens(None, None).await.expect("carol's").items.is_empty(),
        "carol took part in neither call"
    );

    let page = alice.list_listens(None, Some(1)).await.expect("page 1");
    assert_eq!(page.items.len(), 1);
    let cursor = page.next_cursor.expect("a next page");
    let next = alice.list_listens(Some(&cursor), Some(1)).await.expect("page 2");
    assert_eq!(
        next.items[0].action,
        ListenAction::Play,
        "the second page holds the older row"
    );
    for (cursor, limit) in [(Some("x"), None), (None, Some(0)), (None, Some(5000))] {
        let err = alice
            .list_listens(cursor, limit)
            .await
            .expect_err("bad paging is refused");
        assert_eq!(err.status(), Some(400), "{cursor:?} {limit:?}");
    }
    let err = srv.client().list_listens(None, None).await.expect_err("not signed in");
    assert_eq!(err.status(), Some(401));
}
