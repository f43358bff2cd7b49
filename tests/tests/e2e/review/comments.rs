//! Timestamped comments (issue #15.3): inside the recording, changed only by their author.

use super::*;

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
