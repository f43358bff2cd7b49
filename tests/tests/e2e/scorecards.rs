//! End-to-end: scorecards and reviews (issue #15.4) with the real server and client. The admin
//! defines a scorecard (bad ones are 422 and store nothing); supervisor sam reviews his team's
//! calls; the agent reads her own reviews and never her teammate's (404); a supervisor of
//! another team sees none of it (404); the journal's `reviewed` filter and score column; the
//! per-agent summary against numbers computed by hand; edits keep old reviews' meaning; every
//! change is audited.

use crate::post_call;
use callrec_client::admin::AuditQuery;
use callrec_client::{Client, JournalQuery, ScoresQuery};
use callrec_tests::directory::{self, add_rule, rule};
use callrec_tests::{wav, TestServer, INGEST_TOKEN};
use callrec_types::directory::{Level, NewUser, TeamInput};
use callrec_types::rules::{Dispatch, RuleDirection, RuleMode, RuleOrigin};
use callrec_types::scorecards::{Answer, Criterion, CriterionKind, ReviewInput, ReviewUpdate, ScorecardInput};
use callrec_types::wire::{ErrorCode, Event};
use callrec_types::{CallId, ScorecardId, UserId};
use chrono::{DateTime, Duration, Utc};
use futures::StreamExt;

async fn upload(srv: &TestServer, sip_call_id: &str, at: DateTime<Utc>, caller: &str, callee: &str) -> CallId {
    srv.client()
        .ingest_bytes(
            INGEST_TOKEN,
            &post_call::call(sip_call_id, at, caller, callee),
            wav::stereo_ulaw(0.5),
        )
        .await
        .expect("the upload is accepted")
        .call_id
}

fn crit(name: &str, kind: CriterionKind, weight: f64) -> Criterion {
    Criterion {
        name: name.into(),
        kind,
        weight,
    }
}

/// greeting (yes/no, 1), empathy (1–5, 2), solved (yes/no, 3).
fn support_card() -> ScorecardInput {
    ScorecardInput {
        name: "Support call".into(),
        criteria: vec![
            crit("greeting", CriterionKind::YesNo, 1.0),
            crit("empathy", CriterionKind::Scale1To5, 2.0),
            crit("solved", CriterionKind::YesNo, 3.0),
        ],
    }
}

fn review(card: ScorecardId, agent: UserId, answers: Vec<Answer>) -> ReviewInput {
    ReviewInput {
        scorecard_id: card,
        agent_id: agent,
        answers,
        comment: Some("listen to the greeting again".into()),
    }
}

fn yes(b: bool) -> Answer {
    Answer::YesNo(b)
}

fn scale(v: i64) -> Answer {
    Answer::Scale(v)
}

/// The status and error code of a refused request.
fn refused<T: std::fmt::Debug>(r: Result<T, callrec_client::ClientError>) -> (Option<u16>, Option<ErrorCode>) {
    let e = r.expect_err("the request is refused");
    (e.status(), e.code())
}

/// (call, score) of every journal item `c` sees with `reviewed`.
async fn journal(c: &Client, reviewed: Option<bool>) -> Vec<(CallId, Option<f64>)> {
    c.journal(&JournalQuery {
        reviewed,
        ..JournalQuery::default()
    })
    .await
    .expect("the journal answers")
    .items
    .iter()
    .map(|i| (i.call.id, i.score))
    .collect()
}

#[tokio::test]
async fn scorecards_are_filled_by_supervisors_read_by_their_agent_and_nobody_else() {
    let srv = TestServer::start().await;
    let admin = srv.admin().await;
    let cast = directory::build(&admin).await;
    for (name, role) in [("Support", cast.support_role), ("Sales", cast.sales_role)] {
        add_rule(
            &admin,
            rule(
                name,
                RuleMode::Automatic,
                role,
                RuleDirection::Both,
                RuleOrigin::Both,
                Dispatch::Store,
            ),
        )
        .await;
    }
    // Sue supervises Sales (carol); sam supervises Support (alice, bob).
    let sue = admin
        .create_user(&NewUser {
            username: "sue".into(),
            display_name: "Sue".into(),
            password: directory::PASSWORD.into(),
            level: Level::Supervisor,
            extensions: vec!["301".into()],
        })
        .await
        .expect("sue created");
    admin
        .update_team(
            cast.sales,
            &TeamInput {
                name: "Sales".into(),
                members: vec![cast.carol.id],
                supervisors: vec![sue.id],
            },
        )
        .await
        .expect("sue supervises Sales");
    let alice = srv.login("alice", directory::PASSWORD).await;
    let bob = srv.login("bob", directory::PASSWORD).await;
    let carol = srv.login("carol", directory::PASSWORD).await;
    let sam = srv.login("sam", directory::PASSWORD).await;
    let sue = srv.login("sue", directory::PASSWORD).await;

    let t0 = Utc::now() - Duration::days(3);
    let a = upload(&srv, "a@pbx", t0, "+4930111", "201").await; // alice
    let b = upload(&srv, "b@pbx", t0 + Duration::hours(1), "+4930222", "202").await; // bob
    let c = upload(&srv, "c@pbx", t0 + Duration::hours(2), "201", "202").await; // alice and bob
    let d = upload(&srv, "d@pbx", t0 + Duration::hours(3), "+4930444", "203").await; // carol

    // --- the admin defines a scorecard; bad ones store nothing -----------------------------
    let bad = [
        ScorecardInput {
            name: "".into(),
            criteria: support_card().criteria,
        },
        ScorecardInput {
            name: "No criteria".into(),
            criteria: vec![],
        },
        ScorecardInput {
            name: "Zero weight".into(),
            criteria: vec![crit("greeting", CriterionKind::YesNo, 0.0)],
        },
        ScorecardInput {
            name: "Too many".into(),
            criteria: (0..51)
                .map(|i| crit(&format!("c{i}"), CriterionKind::YesNo, 1.0))
                .collect(),
        },
    ];
    for input in &bad {
        assert_eq!(
            refused(admin.create_scorecard(input).await),
            (Some(422), Some(ErrorCode::Invalid)),
            "a scorecard {:?} with {} criteria is refused as invalid",
            input.name,
            input.criteria.len()
        );
    }
    assert!(
        admin.list_scorecards(true).await.expect("list").is_empty(),
        "no refused scorecard was stored"
    );
    assert_eq!(
        refused(sam.create_scorecard(&support_card()).await),
        (Some(403), Some(ErrorCode::Forbidden)),
        "a supervisor does not define scorecards"
    );
    let card = admin.create_scorecard(&support_card()).await.expect("created");
    assert_eq!(card.version, 1, "a new scorecard is version 1");
    assert_eq!(
        sam.list_scorecards(false).await.expect("sam lists scorecards"),
        vec![card.clone()],
        "a supervisor reads the scorecards to fill them"
    );
    assert_eq!(
        refused(alice.list_scorecards(false).await),
        (Some(403), Some(ErrorCode::Forbidden)),
        "an agent does not list scorecards"
    );

    // --- sam reviews his team's calls ------------------------------------------------------
    let mut alice_events = alice.events().await.expect("alice's push stream");
    // greeting yes (1 × 1), empathy 4 (2 × 3/4), solved no (3 × 0): 2.5 of 6 = 41.67 %.
    let ra = sam
        .create_review(
            a,
            &review(card.id, cast.alice.id, vec![yes(true), scale(4), yes(false)]),
        )
        .await
        .expect("sam reviews alice's call");
    assert_eq!(ra.score, 41.67, "2.5 of 6 weight is 41.67 %");
    assert_eq!(
        (ra.agent_name.as_deref(), ra.reviewer_name.as_deref()),
        (Some("Alice"), Some("Sam")),
        "a review names its agent and reviewer from the directory"
    );
    let pushed = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        while let Some(event) = alice_events.next().await {
            if matches!(event, Ok(Event::Journal { call_id }) if call_id == a) {
                return true;
            }
        }
        false
    })
    .await;
    assert!(
        matches!(pushed, Ok(true)),
        "alice's journal is told that her call's row (its score) changed"
    );
    drop(alice_events);
    assert_eq!(
        (ra.reviewer_id, ra.agent_id, ra.scorecard_version),
        (cast.sam.id, cast.alice.id, 1),
        "the review names its author, its agent and the scorecard's version"
    );
    // bob: greeting no (0), empathy 5 (2), solved yes (3): 5 of 6. alice: 1 + 1 + 3 = 5 of 6.
    let rcb = sam
        .create_review(c, &review(card.id, cast.bob.id, vec![yes(false), scale(5), yes(true)]))
        .await
        .expect("sam reviews bob on the shared call");
    let rca = sam
        .create_review(c, &review(card.id, cast.alice.id, vec![yes(true), scale(3), yes(true)]))
        .await
        .expect("sam reviews alice on the shared call");
    assert_eq!((rcb.score, rca.score), (83.33, 83.33), "5 of 6 weight each");

    let again = sam
        .create_review(a, &review(card.id, cast.alice.id, vec![yes(true), scale(1), yes(true)]))
        .await;
    assert_eq!(
        refused(again),
        (Some(409), Some(ErrorCode::Conflict)),
        "one review per call, agent and scorecard"
    );
    let cases = [
        (vec![yes(true)], "too few answers"),
        (vec![yes(true), scale(6), yes(true)], "6 is off the scale"),
        (vec![scale(1), scale(3), yes(true)], "a number for a yes/no criterion"),
    ];
    for (answers, why) in cases {
        assert_eq!(
            refused(sam.create_review(b, &review(card.id, cast.bob.id, answers)).await),
            (Some(422), Some(ErrorCode::Invalid)),
            "{why} is refused as invalid"
        );
    }
    assert_eq!(
        refused(
            sam.create_review(b, &review(card.id, cast.alice.id, vec![yes(true), scale(3), yes(true)]))
                .await
        ),
        (Some(422), Some(ErrorCode::Invalid)),
        "alice did not take part in bob's call"
    );
    assert_eq!(
        refused(
            sam.create_review(b, &review(ScorecardId(999), cast.bob.id, vec![yes(true)]))
                .await
        ),
        (Some(422), Some(ErrorCode::Invalid)),
        "a scorecard that does not exist is invalid"
    );
    assert_eq!(
        refused(
            sam.create_review(d, &review(card.id, cast.carol.id, vec![yes(true), scale(3), yes(true)]))
                .await
        ),
        (Some(404), Some(ErrorCode::NotFound)),
        "sam cannot see carol's call: not found"
    );
    assert_eq!(
        refused(
            sue.create_review(a, &review(card.id, cast.alice.id, vec![yes(true), scale(3), yes(true)]))
                .await
        ),
        (Some(404), Some(ErrorCode::NotFound)),
        "a supervisor of another team cannot see alice's call: not found"
    );
    assert_eq!(
        refused(
            bob.create_review(c, &review(card.id, cast.alice.id, vec![yes(true), scale(3), yes(true)]))
                .await
        ),
        (Some(403), Some(ErrorCode::Forbidden)),
        "an agent does not review, not even a call they took part in"
    );
    let body = alice
        .raw(callrec_client::Method::POST, &format!("/api/v1/calls/{a}/reviews"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("the server answers");
    assert_eq!(
        body.status().as_u16(),
        403,
        "an agent is refused before the body is read"
    );

    // --- who reads which review ------------------------------------------------------------
    let mine: Vec<_> = alice
        .list_my_reviews()
        .await
        .expect("alice's reviews")
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(mine, [rca.id, ra.id], "alice reads her two reviews, newest call first");
    assert_eq!(
        alice.get_review(ra.id).await.expect("her review").comment.as_deref(),
        Some("listen to the greeting again"),
        "alice reads her review with its comment"
    );
    assert_eq!(
        refused(alice.get_review(rcb.id).await),
        (Some(404), Some(ErrorCode::NotFound)),
        "alice never reads bob's review, even of a call she took part in"
    );
    let ids = |v: Vec<callrec_types::scorecards::Review>| v.into_iter().map(|r| r.id).collect::<Vec<_>>();
    assert_eq!(
        ids(alice.list_call_reviews(c).await.expect("list")),
        [rca.id],
        "the shared call's reviews, as alice sees them: hers only"
    );
    assert_eq!(
        ids(bob.list_call_reviews(c).await.expect("list")),
        [rcb.id],
        "as bob sees them: his only"
    );
    assert_eq!(
        ids(sam.list_call_reviews(c).await.expect("list")),
        [rcb.id, rca.id],
        "as their supervisor sees them: both"
    );
    assert!(
        carol.list_my_reviews().await.expect("carol's").is_empty(),
        "carol has no reviews"
    );
    assert_eq!(
        refused(carol.list_call_reviews(c).await),
        (Some(404), Some(ErrorCode::NotFound)),
        "carol cannot see the call"
    );
    assert_eq!(
        refused(sue.get_review(ra.id).await),
        (Some(404), Some(ErrorCode::NotFound)),
        "a supervisor of another team never reads alice's review"
    );
    assert_eq!(
        refused(sue.agent_scores(cast.alice.id, &ScoresQuery::default()).await),
        (Some(404), Some(ErrorCode::NotFound)),
        "nor her summary"
    );
    assert_eq!(
        refused(bob.agent_scores(cast.alice.id, &ScoresQuery::default()).await),
        (Some(404), Some(ErrorCode::NotFound)),
        "an agent never reads another agent's summary"
    );

    // --- the journal: reviewed filter and score column -------------------------------------
    assert_eq!(
        journal(&sam, Some(true)).await,
        [(c, Some(83.33)), (a, Some(41.67))],
        "sam's reviewed calls, newest first, each with its reviews' average score"
    );
    assert_eq!(
        journal(&sam, Some(false)).await,
        [(b, None)],
        "sam's unreviewed call, without a score"
    );
    assert_eq!(
        journal(&admin, None).await,
        [(d, None), (c, Some(83.33)), (b, None), (a, Some(41.67))],
        "the admin's journal shows the score column on every call"
    );
    assert!(
        journal(&carol, Some(true)).await.is_empty(),
        "carol has no reviewed call"
    );

    // --- the summary, against numbers computed by hand -------------------------------------
    let all = sam
        .agent_scores(cast.alice.id, &ScoresQuery::default())
        .await
        .expect("alice's summary");
    assert_eq!(all.reviews, 2, "alice has two reviews");
    assert_eq!(all.average_score, Some(62.5), "(41.67 + 83.33) / 2 = 62.5");
    let lines: Vec<(&str, i64, f64)> = all
        .criteria
        .iter()
        .map(|l| (l.criterion.as_str(), l.count, l.average))
        .collect();
    assert_eq!(
        lines,
        [("greeting", 2, 1.0), ("empathy", 2, 3.5), ("solved", 2, 0.5)],
        "greeting yes twice = 1, empathy (3 + 4) / 2 = 3.5, solved once of two = 0.5"
    );
    let first_hour = ScoresQuery {
        from: Some(t0 - Duration::minutes(1)),
        to: Some(t0 + Duration::hours(1)),
        scorecard_id: Some(card.id),
    };
    let early = sam
        .agent_scores(cast.alice.id, &first_hour)
        .await
        .expect("the first hour");
    assert_eq!(
        (early.reviews, early.average_score),
        (1, Some(41.67)),
        "only call a started in the first hour"
    );
    let other = ScoresQuery {
        scorecard_id: Some(ScorecardId(card.id.0 + 1000)),
        ..ScoresQuery::default()
    };
    let none = sam.agent_scores(cast.alice.id, &other).await.expect("another card");
    assert_eq!(
        (none.reviews, none.average_score, none.criteria.len()),
        (0, None, 0),
        "no reviews on another scorecard"
    );
    assert_eq!(
        alice
            .agent_scores(cast.alice.id, &ScoresQuery::default())
            .await
            .expect("her own")
            .average_score,
        Some(62.5),
        "an agent reads her own summary"
    );

    // --- edits keep old reviews' meaning; author or admin only -----------------------------
    let mut v2 = support_card();
    v2.criteria.remove(0);
    let card2 = admin.update_scorecard(card.id, &v2).await.expect("edited");
    assert_eq!(
        (card2.version, card2.criteria.len()),
        (2, 2),
        "version 2 has two criteria"
    );
    let old = alice.get_review(ra.id).await.expect("her review");
    assert_eq!(
        (old.scorecard_version, old.criteria.len(), old.score),
        (1, 3, 41.67),
        "alice's review keeps version 1's three criteria and its score"
    );
    let update = ReviewUpdate {
        answers: vec![yes(false), scale(5), yes(true)],
        comment: None,
    };
    assert_eq!(
        refused(bob.update_review(ra.id, &update).await),
        (Some(404), Some(ErrorCode::NotFound)),
        "bob cannot even see alice's review"
    );
    assert_eq!(
        refused(alice.update_review(ra.id, &update).await),
        (Some(403), Some(ErrorCode::NotPermitted)),
        "the agent reads her review but does not change it"
    );
    let bad_update = ReviewUpdate {
        answers: vec![scale(5), yes(true)],
        comment: None,
    };
    assert_eq!(
        refused(sam.update_review(ra.id, &bad_update).await),
        (Some(422), Some(ErrorCode::Invalid)),
        "an edit is checked against the review's own three criteria, not version 2's two"
    );
    let edited = sam.update_review(ra.id, &update).await.expect("sam edits his review");
    assert_eq!(
        (edited.score, edited.comment.clone(), edited.scorecard_version),
        (83.33, None, 1),
        "the edit rescored against version 1: 5 of 6; the comment is gone"
    );
    assert_eq!(
        journal(&sam, Some(true)).await,
        [(c, Some(83.33)), (a, Some(83.33))],
        "the journal shows the edited score"
    );
    let rb = sam
        .create_review(b, &review(card.id, cast.bob.id, vec![scale(1), yes(true)]))
        .await
        .expect("a review against version 2");
    assert_eq!(
        (rb.scorecard_version, rb.score),
        (2, 60.0),
        "version 2: empathy 1 (0 of 2) + solved yes (3) = 3 of 5"
    );
    admin.delete_review(rb.id).await.expect("an admin deletes any review");
    assert_eq!(
        journal(&sam, Some(false)).await,
        [(b, None)],
        "bob's call is unreviewed again"
    );
    sam.delete_review(rcb.id).await.expect("sam deletes his review");
    assert_eq!(
        refused(bob.get_review(rcb.id).await),
        (Some(404), Some(ErrorCode::NotFound)),
        "a deleted review is not found"
    );

    // --- a used scorecard is archived, not deleted -----------------------------------------
    admin.delete_scorecard(card.id).await.expect("deleted");
    let archived = admin.get_scorecard(card.id).await.expect("still readable by id");
    assert!(archived.archived, "a scorecard reviews use is archived");
    assert!(
        admin.list_scorecards(false).await.expect("list").is_empty(),
        "an archived scorecard is not listed"
    );
    assert_eq!(
        refused(
            sam.create_review(b, &review(card.id, cast.bob.id, vec![scale(1), yes(true)]))
                .await
        ),
        (Some(422), Some(ErrorCode::Invalid)),
        "an archived scorecard takes no new reviews"
    );
    assert_eq!(
        alice.get_review(ra.id).await.expect("still there").scorecard_name,
        "Support call",
        "the archived scorecard's reviews stay"
    );

    // --- audited -----------------------------------------------------------------------------
    for (action, n) in [
        ("scorecard_create", 1),
        ("scorecard_update", 1),
        ("scorecard_delete", 1),
        ("review_create", 4),
        ("review_update", 1),
        ("review_delete", 2),
    ] {
        let page = admin
            .audit_filtered(&AuditQuery {
                action: Some(action.into()),
                ..AuditQuery::default()
            })
            .await
            .expect("audit");
        assert_eq!(page.items.len(), n, "{n} {action} audit rows");
    }
}
