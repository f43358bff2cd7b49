//! Sharing for training (issue #15.5): a grant with an expiry, revocable, audited.

use super::*;

#[tokio::test]
async fn a_trainee_sees_a_shared_recording_until_it_expires_or_is_revoked_and_every_step_is_audited() {
    let w = world(now_ms(), |_| {}).await;
    support_rule(&w).await;
    let (wav, _, _) = known_wav();
    let (call_id, rec) = upload(&w, "share-1@pbx", wav.clone()).await;
    // A second recording of the same call: a share grants one recording, not the call.
    let (same_call, other) = upload(&w, "share-1@pbx", wav).await;
    assert_eq!(same_call, call_id, "the second upload adds a recording to the call");
    let alice = w.srv.login("alice").await;
    let sam = w.srv.login("sam").await;
    let carol = w.srv.login("carol").await;
    let carol_id = w.cast.carol.id;

    assert_eq!(
        status(carol.get_recording(rec).await, "before"),
        404,
        "carol sees nothing yet"
    );
    assert!(
        carol.list_shared().await.expect("shared").is_empty(),
        "nothing shared with her"
    );
    let until = w.srv.now() + Duration::hours(2);
    let to_carol = NewShare {
        user_id: carol_id,
        expires_at: until,
    };
    for (who, c) in [("alice, an agent", &alice), ("carol, an agent", &carol)] {
        let e = c.create_share(rec, &to_carol).await.expect_err(who);
        assert_eq!(e.status(), Some(403), "{who} may not share");
        let e = c.share_recipients().await.expect_err(who);
        assert_eq!(e.status(), Some(403), "{who} may not list whom to share with");
    }
    // The share dialog's list: every user by name, for a supervisor too (who may not list
    // the directory itself).
    let people = sam.share_recipients().await.expect("sam lists the recipients");
    let carol_entry = people.iter().find(|p| p.id == carol_id).expect("carol is offered");
    assert_eq!(carol_entry.username, "carol");
    assert!(people.iter().any(|p| p.username == "admin"), "{people:?}");
    let names: Vec<String> = people.iter().map(|p| p.display_name.to_lowercase()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "by name");
    let res = alice
        .raw(reqwest::Method::POST, &format!("/api/v1/recordings/{rec}/shares"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("an answer");
    assert_eq!(
        res.status().as_u16(),
        403,
        "an agent is refused before the body is read"
    );
    for (bad, field) in [
        (
            NewShare {
                user_id: carol_id,
                expires_at: w.srv.now(),
            },
            "expires_at",
        ),
        (
            NewShare {
                user_id: carol_id,
                expires_at: w.srv.now() - Duration::hours(1),
            },
            "expires_at",
        ),
        (
            NewShare {
                user_id: carol_id,
                expires_at: w.srv.now() + Duration::days(90) + Duration::seconds(1),
            },
            "expires_at",
        ),
        (
            NewShare {
                user_id: UserId(999_999),
                expires_at: until,
            },
            "user_id",
        ),
    ] {
        let e = sam.create_share(rec, &bad).await.expect_err("refused");
        assert_eq!(
            (e.status(), e.code()),
            (Some(422), Some(ErrorCode::Invalid)),
            "{bad:?} is refused"
        );
        assert!(e.to_string().contains(field), "{bad:?}: the error names {field}: {e}");
    }
    assert!(
        sam.list_shares(rec).await.expect("shares").is_empty(),
        "nothing refused was stored"
    );

    let share = sam.create_share(rec, &to_carol).await.expect("sam shares with carol");
    assert_eq!(
        (
            share.recording_id,
            share.call_id,
            share.user_id,
            share.user_name.as_str()
        ),
        (rec, call_id, carol_id, "Carol"),
        "the share names the recording, its call and the trainee"
    );
    assert_eq!(
        (
            share.granted_by,
            share.granted_by_name.as_str(),
            share.expires_at,
            share.revoked_at
        ),
        (Some(w.cast.sam.id), "Sam", until, None),
        "granted by sam, until the time asked, not revoked"
    );

    // While live: the recording, its audio, peaks and comments, the call with only it.
    let shared = carol.list_shared().await.expect("shared with carol");
    assert_eq!(shared.len(), 1, "one recording is shared with carol");
    assert_eq!(
        (shared[0].share.id, shared[0].recording.id, shared[0].call.id),
        (share.id, rec, call_id),
        "the item is the share, its recording and its call"
    );
    assert_eq!(
        shared[0].call.participants[1].user_name.as_deref(),
        Some("Alice"),
        "the call's participants carry their directory names"
    );
    assert!(
        alice.list_shared().await.expect("alice's").is_empty(),
        "shared with carol only"
    );
    let detail = carol.get_call(call_id).await.expect("carol opens the call");
    assert_eq!(
        detail.recordings.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![rec],
        "the call shows only the shared recording"
    );
    assert!(detail.trace.is_empty(), "and not the decision trace");
    assert_eq!(
        carol.get_recording(rec).await.expect("the recording").id,
        rec,
        "carol reads the shared recording"
    );
    let (code, _, body) = carol
        .audio_bytes(rec, AudioFormat::Original, None)
        .await
        .expect("carol plays it");
    assert_eq!((code, body.is_empty()), (200, false), "the audio is served");
    carol.recording_peaks(rec, Some(8)).await.expect("carol's peaks");
    carol
        .create_comment(rec, &comment(100, None, "what should I have said here?"))
        .await
        .expect("the trainee may ask on the recording");
    assert_eq!(
        carol.list_comments(rec).await.expect("comments").len(),
        1,
        "carol reads the comment she added"
    );
    assert_eq!(
        status(carol.get_recording(other).await, "other"),
        404,
        "the call's other recording is not shared"
    );
    assert_eq!(
        status(carol.call_journal_json(call_id).await, "journal"),
        404,
        "nor the call's journal document"
    );
    assert_eq!(
        status(carol.list_shares(rec).await, "list"),
        403,
        "a trainee does not manage shares"
    );
    assert!(
        carol
            .journal(&Default::default())
            .await
            .expect("journal")
            .items
            .is_empty(),
        "the journal stays carol's own scope: shared recordings are under \"Shared with me\""
    );
    let uses = audit(&w.admin, "share_use").await;
    let mut what: Vec<&str> = uses
        .iter()
        .filter(|e| e.actor == "carol")
        .map(|e| e.detail.split(' ').next().unwrap_or(""))
        .collect();
    what.sort_unstable();
    assert_eq!(
        what,
        vec!["call", "comment", "comments", "peaks", "play", "recording"],
        "each use of the share is audited with what was used"
    );
    assert!(
        uses.iter()
            .all(|e| e.detail.ends_with(&format!("via share {}", share.id))),
        "and which share"
    );

    // Expired by the server's clock: everything is 404 again.
    w.srv.clock.set(until);
    assert_eq!(
        status(carol.get_recording(rec).await, "expired"),
        404,
        "expired: the recording is not found"
    );
    assert_expired(&carol, call_id, rec, "after expiry").await;
    let listed = sam.list_shares(rec).await.expect("shares");
    assert_eq!(
        listed.iter().map(|s| (s.id, s.revoked_at)).collect::<Vec<_>>(),
        vec![(share.id, None)],
        "the supervisor still lists the expired share"
    );

    // A new share, then revoked.
    let again = sam
        .create_share(
            rec,
            &NewShare {
                user_id: carol_id,
                expires_at: w.srv.now() + Duration::days(1),
            },
        )
        .await
        .expect("shared again");
    carol.get_recording(rec).await.expect("live again");
    assert_eq!(
        status(carol.revoke_share(again.id).await, "carol"),
        403,
        "the trainee cannot revoke"
    );
    w.srv.clock.advance(Duration::minutes(5));
    let revoked = sam.revoke_share(again.id).await.expect("sam revokes");
    assert_eq!(
        (revoked.revoked_at, revoked.revoked_by),
        (Some(w.srv.now()), Some(w.cast.sam.id)),
        "revoked now, by sam"
    );
    assert_expired(&carol, call_id, rec, "after revocation").await;
    w.srv.clock.advance(Duration::minutes(5));
    let twice = w
        .admin
        .revoke_share(again.id)
        .await
        .expect("revoking again is no error");
    assert_eq!(twice.revoked_at, revoked.revoked_at, "the first revocation is kept");

    let grants = audit(&w.admin, "share_grant").await;
    assert_eq!(
        grants
            .iter()
            .map(|e| (e.actor.as_str(), e.target.clone()))
            .collect::<Vec<_>>(),
        vec![("sam", format!("recording {rec}")), ("sam", format!("recording {rec}"))],
        "both grants audited"
    );
    assert!(
        grants[1]
            .detail
            .starts_with(&format!("share {} to user {carol_id} until ", share.id)),
        "the first grant names the share, the trainee and the expiry"
    );
    let revokes = audit(&w.admin, "share_revoke").await;
    assert_eq!(revokes.len(), 1, "one revocation audited, the repeat not");
    assert_eq!(
        revokes[0].detail,
        format!("share {} to user {carol_id}", again.id),
        "the revocation names the share and the trainee"
    );
}

/// Every route of the shared recording answers 404 to `trainee`, as for any call they may not
/// see, and nothing is listed as shared.
async fn assert_expired(trainee: &Client, call: CallId, rec: RecordingId, when: &str) {
    assert_eq!(status(trainee.get_call(call).await, when), 404, "{when}: the call");
    assert_eq!(
        status(trainee.get_recording(rec).await, when),
        404,
        "{when}: the recording"
    );
    assert_eq!(
        trainee
            .audio_bytes(rec, AudioFormat::Original, None)
            .await
            .expect(when)
            .0,
        404,
        "{when}: the audio"
    );
    assert_eq!(
        status(trainee.recording_peaks(rec, None).await, when),
        404,
        "{when}: the peaks"
    );
    assert_eq!(
        status(trainee.list_comments(rec).await, when),
        404,
        "{when}: the comments"
    );
    assert!(
        trainee.list_shared().await.expect("shared").is_empty(),
        "{when}: nothing is shared with the trainee"
    );
}
