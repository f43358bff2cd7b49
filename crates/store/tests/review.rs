//! Issue #15 in the store, told once per backend (SQLite, a real PostgreSQL server): the peaks
//! cache (one row per bucket count, at most a few kept per recording), comments (ordered by
//! position, edited, deleted, named after their author as the directory has them now, kept
//! with the stored name once the author is gone), shares (live until expiry or revocation, the
//! first revocation kept) — and all of it deleted with its recording, as retention deletes it.

use callrec_store::{NewCommentRecord, NewShareRecord, NewUserRecord, Store, UserUpdate, PEAKS_KEPT};
use callrec_types::directory::Level;
use callrec_types::review::{ChannelPeaks, NewComment, Peaks};
use callrec_types::{CallId, RecordingId, UserId};
use chrono::{DateTime, Duration, TimeZone, Utc};

#[macro_use]
mod backend;
use backend::{recorded_call, Kind};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 8, 0, 0).single().expect("valid time")
}

async fn user(s: &dyn Store, name: &str, display: &str) -> UserId {
    s.create_user(&NewUserRecord {
        username: name.into(),
        display_name: display.into(),
        password_hash: "h".into(),
        level: Level::Agent,
        extensions: vec![],
    })
    .await
    .expect("user")
    .id
}

fn peaks(rec: RecordingId, buckets: u32) -> Peaks {
    let ch = |k: i16| ChannelPeaks {
        min: (0..buckets as i16).map(|i| -i * k).collect(),
        max: (0..buckets as i16).map(|i| i * k).collect(),
    };
    Peaks {
        recording_id: rec,
        buckets,
        frames: 80_000,
        sample_rate: 8000,
        channels: vec![ch(1), ch(3)],
    }
}

async fn peaks_are_cached_per_bucket_count_a_few_at_a_time(kind: Kind) {
    let s = backend::open(kind).await;
    let alice = user(&*s, "alice", "Alice").await;
    let (_, rec) = recorded_call(&*s, alice, "p1", t0()).await;
    assert_eq!(s.get_peaks(rec, 8).await.expect("get"), None, "nothing cached yet");
    s.put_peaks(8, &peaks(rec, 8), t0()).await.expect("put");
    assert_eq!(
        s.get_peaks(rec, 8).await.expect("get"),
        Some(peaks(rec, 8)),
        "the peaks come back as stored"
    );
    s.put_peaks(8, &peaks(rec, 8), t0())
        .await
        .expect("a second store of the same is no error");
    // Asked for more buckets than frames: stored under the count asked for.
    s.put_peaks(20_000, &peaks(rec, 5), t0()).await.expect("put");
    assert_eq!(
        s.get_peaks(rec, 20_000).await.expect("get"),
        Some(peaks(rec, 5)),
        "peaks for more buckets than frames are kept under the count asked for"
    );
    for (i, n) in (100..100 + PEAKS_KEPT as u32).enumerate() {
        s.put_peaks(n, &peaks(rec, 3), t0() + Duration::seconds(i as i64 + 1))
            .await
            .expect("put");
    }
    assert_eq!(
        s.get_peaks(rec, 8).await.expect("get"),
        None,
        "the oldest counts are dropped"
    );
    assert_eq!(
        s.get_peaks(rec, 20_000).await.expect("get"),
        None,
        "the over-large count was one of the oldest"
    );
    for n in 100..100 + PEAKS_KEPT as u32 {
        assert!(
            s.get_peaks(rec, n).await.expect("get").is_some(),
            "the newest {PEAKS_KEPT} stay ({n})"
        );
    }
    s.put_peaks(7, &peaks(RecordingId(999_999), 7), t0())
        .await
        .expect("peaks of a recording deleted meanwhile are not cached, without an error");
    assert_eq!(
        s.get_peaks(RecordingId(999_999), 7).await.expect("get"),
        None,
        "nothing is cached for a recording that does not exist"
    );
}

fn record(
    rec: RecordingId,
    author: UserId,
    name: &str,
    at_ms: i64,
    to_ms: Option<i64>,
    text: &str,
) -> NewCommentRecord {
    NewCommentRecord {
        recording_id: rec,
        author_id: author,
        author_name: name.into(),
        at_ms,
        to_ms,
        text: text.into(),
        created_at: t0(),
    }
}

async fn comments_are_kept_in_order_edited_and_named_after_their_author(kind: Kind) {
    let s = backend::open(kind).await;
    let alice = user(&*s, "alice", "Alice").await;
    let sam = user(&*s, "sam", "").await;
    let (_, rec) = recorded_call(&*s, alice, "c1", t0()).await;
    let late = s
        .create_comment(&record(rec, alice, "Alice", 9_000, None, "late"))
        .await
        .expect("comment");
    let early = s
        .create_comment(&record(rec, sam, "sam", 1_000, Some(2_000), "early span"))
        .await
        .expect("comment");
    assert_eq!(
        (
            late.author_id,
            late.author_name.as_str(),
            late.at_ms,
            late.to_ms,
            late.created_at,
            late.edited_at
        ),
        (Some(alice), "Alice", 9_000, None, t0(), None),
        "the comment as created: its author, position and time, never edited"
    );
    assert_eq!(early.author_name, "sam", "the username when the display name is empty");
    let listed = s.list_comments(rec).await.expect("list");
    assert_eq!(
        listed.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![early.id, late.id],
        "by position"
    );
    let at = t0() + Duration::minutes(3);
    let edited = s
        .update_comment(
            late.id,
            &NewComment {
                at_ms: 500,
                to_ms: Some(600),
                text: "moved".into(),
            },
            at,
        )
        .await
        .expect("edit");
    assert_eq!(
        (
            edited.at_ms,
            edited.to_ms,
            edited.text.as_str(),
            edited.edited_at,
            edited.created_at
        ),
        (500, Some(600), "moved", Some(at), t0()),
        "edited in place, creation time kept"
    );
    s.update_user(
        alice,
        &UserUpdate {
            display_name: Some("Alice Smith".into()),
            ..Default::default()
        },
    )
    .await
    .expect("rename");
    assert_eq!(
        s.get_comment(late.id).await.expect("get").author_name,
        "Alice Smith",
        "the author's name as the directory has it now"
    );
    s.delete_user(sam).await.expect("sam leaves");
    let orphan = s.get_comment(early.id).await.expect("kept");
    assert_eq!(
        (orphan.author_id, orphan.author_name.as_str()),
        (None, "sam"),
        "a deleted author's comment stays, with the name stored with it"
    );
    let gone = s.delete_comment(early.id).await.expect("delete");
    assert_eq!(gone.id, early.id, "the deleted comment is returned");
    assert!(
        matches!(s.get_comment(early.id).await, Err(callrec_store::StoreError::NotFound)),
        "a deleted comment is not found"
    );
    assert!(
        matches!(
            s.delete_comment(early.id).await,
            Err(callrec_store::StoreError::NotFound)
        ),
        "deleting it again is not found"
    );
    assert!(
        matches!(
            s.update_comment(
                early.id,
                &NewComment {
                    at_ms: 0,
                    to_ms: None,
                    text: "x".into()
                },
                at
            )
            .await,
            Err(callrec_store::StoreError::NotFound)
        ),
        "editing a deleted comment is not found"
    );
}

fn share(rec: RecordingId, call: CallId, to: UserId, by: UserId, expires_at: DateTime<Utc>) -> NewShareRecord {
    NewShareRecord {
        recording_id: rec,
        call_id: call,
        user_id: to,
        granted_by: by,
        granted_by_name: "Sam".into(),
        granted_at: t0(),
        expires_at,
    }
}

async fn shares_are_live_until_they_expire_or_are_revoked(kind: Kind) {
    let s = backend::open(kind).await;
    let alice = user(&*s, "alice", "Alice").await;
    let carol = user(&*s, "carol", "Carol").await;
    let sam = user(&*s, "sam", "Sam").await;
    let (call, rec) = recorded_call(&*s, alice, "s1", t0()).await;
    let (_, other) = recorded_call(&*s, alice, "s2", t0()).await;
    let until = t0() + Duration::hours(2);
    let a = s
        .create_share(&share(rec, call, carol, sam, until))
        .await
        .expect("share");
    assert_eq!(
        (
            a.recording_id,
            a.call_id,
            a.user_id,
            a.user_name.as_str(),
            a.granted_by,
            a.granted_by_name.as_str()
        ),
        (rec, call, carol, "Carol", Some(sam), "Sam"),
        "the share names its recording, call, trainee and who granted it"
    );
    assert_eq!(
        (a.granted_at, a.expires_at, a.revoked_at, a.revoked_by),
        (t0(), until, None, None),
        "granted now, until the time given, not revoked"
    );
    assert!(
        matches!(
            s.create_share(&share(rec, call, UserId(999_999), sam, until)).await,
            Err(callrec_store::StoreError::Invalid(_))
        ),
        "a share to a user who does not exist is refused"
    );

    let before = until - Duration::milliseconds(1);
    assert_eq!(
        s.live_shares(carol, call, before)
            .await
            .expect("live")
            .iter()
            .map(|x| x.id)
            .collect::<Vec<_>>(),
        vec![a.id],
        "live until its expiry"
    );
    assert!(
        s.live_shares(carol, call, until).await.expect("live").is_empty(),
        "expired at expires_at"
    );
    assert!(
        s.live_shares(alice, call, before).await.expect("live").is_empty(),
        "shared with carol only"
    );
    assert_eq!(
        s.list_shared(carol, before).await.expect("shared").len(),
        1,
        "carol's list has the live share"
    );
    assert!(
        s.list_shared(carol, until).await.expect("shared").is_empty(),
        "nothing live after expiry"
    );

    let b = s
        .create_share(&share(other, call, carol, sam, until + Duration::days(1)))
        .await
        .expect("another");
    let at = t0() + Duration::minutes(10);
    let revoked = s.revoke_share(b.id, sam, at).await.expect("revoke");
    assert_eq!(
        (revoked.revoked_at, revoked.revoked_by),
        (Some(at), Some(sam)),
        "revoked at the time given, by sam"
    );
    let again = s
        .revoke_share(b.id, alice, at + Duration::minutes(1))
        .await
        .expect("revoke again");
    assert_eq!(
        (again.revoked_at, again.revoked_by),
        (Some(at), Some(sam)),
        "the first revocation is kept"
    );
    assert_eq!(
        s.list_shared(carol, at)
            .await
            .expect("shared")
            .iter()
            .map(|x| x.id)
            .collect::<Vec<_>>(),
        vec![a.id],
        "a revoked share is not live"
    );
    assert_eq!(
        s.list_shares(rec).await.expect("list").len(),
        1,
        "the shares of one recording"
    );
    assert!(
        matches!(
            s.get_share(callrec_types::ShareId(999_999)).await,
            Err(callrec_store::StoreError::NotFound)
        ),
        "an unknown share is not found"
    );
}

async fn review_rows_go_with_their_recording(kind: Kind) {
    let s = backend::open(kind).await;
    let alice = user(&*s, "alice", "Alice").await;
    let carol = user(&*s, "carol", "Carol").await;
    let (call, rec) = recorded_call(&*s, alice, "d1", t0()).await;
    s.put_peaks(8, &peaks(rec, 8), t0()).await.expect("peaks");
    let c = s
        .create_comment(&record(rec, alice, "Alice", 0, None, "hi"))
        .await
        .expect("comment");
    let sh = s
        .create_share(&share(rec, call, carol, alice, t0() + Duration::days(1)))
        .await
        .expect("share");
    // Retention and an admin's delete both delete the row this way.
    s.delete_recording(rec).await.expect("deleted");
    assert_eq!(
        s.get_peaks(rec, 8).await.expect("get"),
        None,
        "the peaks cache went with it"
    );
    assert!(s.list_comments(rec).await.expect("list").is_empty(), "its comments too");
    assert!(
        matches!(s.get_comment(c.id).await, Err(callrec_store::StoreError::NotFound)),
        "the comment itself is gone"
    );
    assert!(
        matches!(s.get_share(sh.id).await, Err(callrec_store::StoreError::NotFound)),
        "and its shares"
    );
    assert!(
        s.list_shared(carol, t0()).await.expect("shared").is_empty(),
        "nothing is shared with carol any more"
    );
}

on_every_backend!(
    peaks_are_cached_per_bucket_count_a_few_at_a_time,
    comments_are_kept_in_order_edited_and_named_after_their_author,
    shares_are_live_until_they_expire_or_are_revoked,
    review_rows_go_with_their_recording,
);
