//! End-to-end: quality review and training (issue #15) with the real server and a clock the
//! test moves. Waveform peaks are exactly the min/max of a WAV whose samples the test chose,
//! computed once and then served from the cache (also with the file gone), for plain, sealed
//! and object-stored recordings, and 404 for whoever may not see the recording; comments stay
//! inside the recording, are edited only by their author and deleted by the author or an
//! admin, every change audited; a supervisor shares one recording with a trainee, who sees
//! that recording (and nothing else of the call) until the share expires or is revoked, after
//! which every route answers 404 as for any call they may not see — grant, revoke and each use
//! audited.

use crate::object_storage::{uploads, use_s3};
use crate::post_call::{call, ingest, world, World};
use callrec_client::admin::AuditQuery;
use callrec_client::{AudioFormat, Client, ClientError};
use callrec_media::g711::Law;
use callrec_media::wav::{wav_header, Codec};
use callrec_server::sealed::MasterKey;
use callrec_testkit::s3;
use callrec_tests::directory::{add_rule, rule};
use callrec_types::review::{NewComment, NewShare, Peaks};
use callrec_types::rules::{Dispatch, RuleDirection, RuleMode, RuleOrigin};
use callrec_types::wire::{AuditEntry, ErrorCode};
use callrec_types::{CallId, RecordingId, UserId};
use chrono::{DateTime, Duration, Utc};

/// Now, to the millisecond the store keeps.
fn now_ms() -> DateTime<Utc> {
    DateTime::from_timestamp_millis(Utc::now().timestamp_millis()).expect("a valid time")
}

/// Frames of the known recording: two seconds at 8 kHz.
const FRAMES: usize = 16_000;

/// A stereo µ-law WAV whose samples the test chose — louder in every eighth of it, the callee
/// an inverted, halved copy — and the decoded samples of each channel.
fn known_wav() -> (Vec<u8>, Vec<i16>, Vec<i16>) {
    let (mut data, mut left, mut right) = (Vec::new(), Vec::new(), Vec::new());
    for f in 0..FRAMES {
        let amp = 1_000 + (f / 2_000) as i32 * 3_000;
        let l = ((f * 37 % 201) as i32 - 100) * amp / 100;
        let r = -l / 2 + (f % 3) as i32;
        for (v, out) in [(l, &mut left), (r, &mut right)] {
            let code = Law::Ulaw.encode(v as i16);
            data.push(code);
            out.push(Law::Ulaw.decode(code));
        }
    }
    let mut wav = wav_header(Codec::Ulaw, 8000, 2, data.len() as u32);
    wav.extend_from_slice(&data);
    (wav, left, right)
}

/// The peaks computed independently: frame `f` of `F` falls in bucket `floor(f·B/F)`.
fn expected(left: &[i16], right: &[i16], buckets: usize) -> Vec<(Vec<i16>, Vec<i16>)> {
    [left, right]
        .iter()
        .map(|ch| {
            let mut min = vec![i16::MAX; buckets];
            let mut max = vec![i16::MIN; buckets];
            for (f, v) in ch.iter().enumerate() {
                let b = f * buckets / ch.len();
                min[b] = min[b].min(*v);
                max[b] = max[b].max(*v);
            }
            (min, max)
        })
        .collect()
}

fn as_pairs(p: &Peaks) -> Vec<(Vec<i16>, Vec<i16>)> {
    p.channels.iter().map(|c| (c.min.clone(), c.max.clone())).collect()
}

async fn support_rule(w: &World) {
    add_rule(
        &w.admin,
        rule(
            "Support, stored",
            RuleMode::Automatic,
            w.cast.support_role,
            RuleDirection::Both,
            RuleOrigin::Both,
            Dispatch::Store,
        ),
    )
    .await;
}

/// Uploads `wav` as a call between an outside caller and alice (201), an hour ago.
async fn upload(w: &World, sip_call_id: &str, wav: Vec<u8>) -> (CallId, RecordingId) {
    let r = ingest(
        &w.srv,
        &call(sip_call_id, w.srv.now() - Duration::hours(1), "+4930999000", "201"),
        wav,
    )
    .await;
    (r.call_id, r.recording_id)
}

/// The HTTP status of a failed call; panics on success.
fn status<T: std::fmt::Debug>(r: Result<T, ClientError>, what: &str) -> u16 {
    r.expect_err(what)
        .status()
        .unwrap_or_else(|| panic!("{what}: an HTTP error"))
}

async fn audit(admin: &Client, action: &str) -> Vec<AuditEntry> {
    admin
        .audit_filtered(&AuditQuery {
            action: Some(action.into()),
            limit: Some(1000),
            ..Default::default()
        })
        .await
        .expect("the audit log")
        .items
}

#[tokio::test]
async fn peaks_are_the_exact_min_max_of_the_file_cached_once_and_hidden_from_other_agents() {
    let w = world(now_ms(), |_| {}).await;
    support_rule(&w).await;
    let (wav, left, right) = known_wav();
    let (_, rec) = upload(&w, "peaks-1@pbx", wav).await;
    let alice = w.srv.login("alice").await;
    let sam = w.srv.login("sam").await;
    let bob = w.srv.login("bob").await;
    let carol = w.srv.login("carol").await;

    assert!(
        w.srv.state.store.get_peaks(rec, 8).await.expect("store").is_none(),
        "nothing is cached before the first request"
    );
    let p = alice.recording_peaks(rec, Some(8)).await.expect("alice's peaks");
    assert_eq!(
        (p.recording_id, p.buckets, p.frames, p.sample_rate, p.channels.len()),
        (rec, 8, FRAMES as u64, 8000, 2),
        "8 buckets of the 16,000 frames, two channels"
    );
    assert_eq!(
        as_pairs(&p),
        expected(&left, &right, 8),
        "each bucket's min/max is exactly that of the decoded samples, caller then callee"
    );
    assert_eq!(
        w.srv.state.store.get_peaks(rec, 8).await.expect("store"),
        Some(p.clone()),
        "the first request cached what it answered"
    );
    let odd = sam.recording_peaks(rec, Some(7)).await.expect("the supervisor's peaks");
    assert_eq!(
        as_pairs(&odd),
        expected(&left, &right, 7),
        "buckets that do not divide the frames evenly"
    );
    let default = sam.recording_peaks(rec, None).await.expect("default buckets");
    assert_eq!(default.buckets, 1000, "1000 buckets when none are asked for");
    assert_eq!(
        as_pairs(&default),
        expected(&left, &right, 1000),
        "the default 1000 buckets are exact too"
    );
    let most = sam.recording_peaks(rec, Some(10_000)).await.expect("the most buckets");
    assert_eq!(
        as_pairs(&most),
        expected(&left, &right, 10_000),
        "10,000 buckets, the most allowed, are exact too"
    );

    // Served from the cache: with the file gone, the cached count still answers, a new one
    // cannot be computed.
    let stored = w.srv.state.store.get_recording(rec).await.expect("the row");
    std::fs::remove_file(w.dir.path().join(&stored.rel_path)).expect("the file is removed");
    assert_eq!(
        alice.recording_peaks(rec, Some(8)).await.expect("cached"),
        p,
        "the cached peaks are served without reading the file"
    );
    let gone = alice.recording_peaks(rec, Some(9)).await.expect_err("not cached");
    assert_eq!(
        (gone.status(), gone.code()),
        (Some(410), Some(ErrorCode::FileMissing)),
        "a count never asked for needs the file, which is missing"
    );

    for (who, c) in [
        ("bob, another agent of the team", &bob),
        ("carol, of another team", &carol),
    ] {
        let e = c.recording_peaks(rec, Some(8)).await.expect_err(who);
        assert_eq!(
            (e.status(), e.code()),
            (Some(404), Some(ErrorCode::NotFound)),
            "{who} may not see the recording: 404 as for its audio"
        );
        assert_eq!(
            c.audio_bytes(rec, AudioFormat::Original, None).await.expect(who).0,
            404,
            "{who}: the audio answers the same"
        );
    }
    for bad in ["0", "10001", "-1", "many", "1.5"] {
        let res = alice
            .raw(
                reqwest::Method::GET,
                &format!("/api/v1/recordings/{rec}/peaks?buckets={bad}"),
            )
            .send()
            .await
            .expect("an answer");
        assert_eq!(res.status().as_u16(), 400, "buckets={bad} is out of range");
        let body: serde_json::Value = res.json().await.expect("JSON");
        assert_eq!(body["code"], "bad_query", "buckets={bad}: {body}");
    }
    let e = bob
        .raw(
            reqwest::Method::GET,
            &format!("/api/v1/recordings/{rec}/peaks?buckets=0"),
        )
        .send()
        .await
        .expect("an answer");
    assert_eq!(
        e.status().as_u16(),
        404,
        "who may see it is checked before the query: bob's bad query is still a 404"
    );
}

#[tokio::test]
async fn peaks_of_sealed_and_object_stored_recordings_are_read_as_the_audio_is() {
    let keys = tempfile::tempdir().expect("a dir for the key");
    let key = keys.path().join("master.key");
    MasterKey::generate().write_new(&key).expect("the key file");
    let w = world(now_ms(), |c| c.encryption_key_file = Some(key.clone())).await;
    support_rule(&w).await;
    let (wav, left, right) = known_wav();
    let (_, rec) = upload(&w, "sealed-1@pbx", wav.clone()).await;
    let stored = w.srv.state.store.get_recording(rec).await.expect("the row");
    let on_disk = std::fs::read(w.dir.path().join(&stored.rel_path)).expect("the file");
    assert!(on_disk != wav, "the file is stored sealed");
    let p = w
        .admin
        .recording_peaks(rec, Some(16))
        .await
        .expect("peaks of a sealed file");
    assert_eq!(as_pairs(&p), expected(&left, &right, 16), "the plaintext's peaks");

    let s3 = s3::shared();
    let prefix = s3.fresh_prefix();
    let w = world(now_ms(), |c| use_s3(c, s3, &prefix)).await;
    support_rule(&w).await;
    let (_, rec) = upload(&w, "s3-peaks@pbx", wav).await;
    uploads(&w.srv.state, "the recording goes up", |b| {
        b.recordings_uploaded >= 1 && b.waiting == 0
    })
    .await;
    let stored = w.srv.state.store.get_recording(rec).await.expect("the row");
    assert!(
        !w.dir.path().join(&stored.rel_path).exists(),
        "no local copy once uploaded"
    );
    let p = w
        .admin
        .recording_peaks(rec, Some(16))
        .await
        .expect("peaks of an object");
    assert_eq!(as_pairs(&p), expected(&left, &right, 16), "read from the object store");
}

fn comment(at_ms: i64, to_ms: Option<i64>, text: &str) -> NewComment {
    NewComment {
        at_ms,
        to_ms,
        text: text.into(),
    }
}

#[tokio::test]
async fn comments_stay_inside_the_recording_and_only_their_author_changes_them() {
    let w = world(now_ms(), |_| {}).await;
    support_rule(&w).await;
    let (wav, _, _) = known_wav();
    let (_, rec) = upload(&w, "comments-1@pbx", wav).await;
    let alice = w.srv.login("alice").await;
    let sam = w.srv.login("sam").await;
    let bob = w.srv.login("bob").await;

    let mine = alice
        .create_comment(rec, &comment(1_500, None, "the caller asks for a refund"))
        .await
        .expect("alice comments on her call");
    let span = sam
        .create_comment(rec, &comment(200, Some(2_000), "greeting skipped"))
        .await
        .expect("the supervisor comments on a span up to the end");
    assert_eq!(
        (
            mine.author_id,
            mine.author_name.as_str(),
            mine.at_ms,
            mine.to_ms,
            mine.edited_at
        ),
        (Some(w.cast.alice.id), "Alice", 1_500, None, None),
        "the author and their directory name, a position, never edited"
    );
    assert_eq!(mine.created_at, w.srv.now(), "created at the server's time");
    let listed = bob.list_comments(rec).await;
    assert_eq!(
        status(listed, "bob"),
        404,
        "bob may not see the recording, nor its comments"
    );
    assert_eq!(
        status(bob.create_comment(rec, &comment(0, None, "x")).await, "bob"),
        404,
        "nor comment on it"
    );
    let all = alice.list_comments(rec).await.expect("the comments");
    assert_eq!(
        all.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![span.id, mine.id],
        "listed by position: the span at 0.2 s before the point at 1.5 s"
    );

    for (bad, field) in [
        (comment(2_001, None, "past the end"), "at_ms"),
        (comment(-1, None, "before the start"), "at_ms"),
        (comment(1_000, Some(999), "backwards"), "to_ms"),
        (comment(1_000, Some(2_001), "past the end"), "to_ms"),
        (comment(0, None, "   "), "text"),
        (comment(0, None, &"x".repeat(2_001)), "text"),
    ] {
        let e = alice.create_comment(rec, &bad).await.expect_err("refused");
        assert_eq!(
            (e.status(), e.code()),
            (Some(422), Some(ErrorCode::Invalid)),
            "{bad:?} is refused as invalid"
        );
        assert!(e.to_string().contains(field), "{bad:?}: the error names {field}: {e}");
    }
    assert_eq!(
        alice.list_comments(rec).await.expect("comments").len(),
        2,
        "nothing refused was stored"
    );

    let e = sam
        .update_comment(mine.id, &comment(0, None, "rewritten by someone else"))
        .await
        .expect_err("not his");
    assert_eq!(
        (e.status(), e.code()),
        (Some(403), Some(ErrorCode::NotPermitted)),
        "the supervisor may not edit alice's comment"
    );
    assert_eq!(
        status(bob.update_comment(mine.id, &comment(0, None, "x")).await, "bob"),
        404,
        "bob does not even see it"
    );
    w.srv.clock.advance(Duration::seconds(30));
    let edited = alice
        .update_comment(
            mine.id,
            &comment(1_000, Some(1_800), "the caller asks for a refund twice"),
        )
        .await
        .expect("alice edits her own");
    assert_eq!(
        (edited.at_ms, edited.to_ms, edited.text.as_str(), edited.edited_at),
        (
            1_000,
            Some(1_800),
            "the caller asks for a refund twice",
            Some(w.srv.now())
        ),
        "the new position, span and text, and when it was edited"
    );
    assert_eq!(edited.created_at, mine.created_at, "the creation time stays");
    assert_eq!(
        status(
            alice.update_comment(mine.id, &comment(5_000, None, "x")).await,
            "past the end"
        ),
        422,
        "an edit is checked like a new comment"
    );

    assert_eq!(
        status(alice.delete_comment(span.id).await, "alice deletes sam's"),
        403,
        "alice may not delete the supervisor's comment"
    );
    w.admin
        .delete_comment(span.id)
        .await
        .expect("an admin deletes any comment");
    alice.delete_comment(mine.id).await.expect("alice deletes her own");
    assert!(
        alice.list_comments(rec).await.expect("comments").is_empty(),
        "both are gone"
    );
    assert_eq!(
        status(alice.delete_comment(mine.id).await, "again"),
        404,
        "gone is not found"
    );

    let target = format!("recording {rec}");
    let add = audit(&w.admin, "comment_add").await;
    assert_eq!(
        add.iter()
            .map(|e| (e.actor.as_str(), e.target.as_str(), e.detail.clone()))
            .collect::<Vec<_>>(),
        vec![
            ("sam", target.as_str(), format!("comment {} 200-2000 ms", span.id)),
            ("alice", target.as_str(), format!("comment {} at 1500 ms", mine.id)),
        ],
        "each added comment is audited, newest first"
    );
    let edit = audit(&w.admin, "comment_edit").await;
    assert_eq!(edit.len(), 1, "the one edit is audited, the refused ones not");
    assert_eq!(
        edit[0].detail,
        format!("comment {} 1000-1800 ms", mine.id),
        "the edit is audited with the new span"
    );
    let del = audit(&w.admin, "comment_delete").await;
    assert_eq!(
        del.iter().map(|e| e.actor.as_str()).collect::<Vec<_>>(),
        vec!["alice", "admin"],
        "both deletions audited with who did them"
    );
}

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
