//! Scorecards and reviews in every store backend (issue #15.4; SQLite in a temporary
//! directory, a real PostgreSQL server: `backend`): scorecards are versioned by edits and
//! archived, not deleted, once reviews use them; a review keeps the criteria it was filled
//! against; one review per (call, agent, scorecard); an agent's reviews by date range and
//! scorecard; and the journal's `reviewed` filter and score column for every scope, with
//! paging and a search.

use callrec_store::{
    JournalQuery, NewCall, NewReview, NewUserRecord, ReviewChange, ReviewFilter, Scope, ScorecardRemoval, StoreError,
};
use callrec_types::calls::{CallDirection, CallSource, CallState, Participant, ParticipantRole};
use callrec_types::directory::Level;
use callrec_types::engine::CallOrigin;
use callrec_types::rules::MonMode;
use callrec_types::scorecards::{score, Answer, Criterion, CriterionKind, Scorecard, ScorecardInput};
use callrec_types::{CallId, ScorecardId, UserId};
use chrono::{DateTime, Duration, TimeZone, Utc};

#[macro_use]
mod backend;
use backend::{Kind, TestStore};

on_every_backend!(
    scorecards_are_versioned_and_archived_once_used,
    reviews_keep_their_criteria_and_are_one_per_call_agent_and_scorecard,
    an_agents_reviews_by_range_and_scorecard,
    the_journal_filters_on_reviews_and_shows_their_average_score,
);

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 8, 0, 0).single().expect("valid time")
}

fn crit(name: &str, kind: CriterionKind, weight: f64) -> Criterion {
    Criterion {
        name: name.into(),
        kind,
        weight,
    }
}

fn support() -> ScorecardInput {
    ScorecardInput {
        name: "Support".into(),
        criteria: vec![
            crit("greeting", CriterionKind::YesNo, 1.0),
            crit("empathy", CriterionKind::Scale1To5, 2.0),
        ],
    }
}

async fn user(store: &TestStore, name: &str, ext: &str) -> UserId {
    store
        .create_user(&NewUserRecord {
            username: name.to_lowercase(),
            display_name: name.into(),
            password_hash: "not-a-real-hash".into(),
            level: Level::Agent,
            extensions: vec![ext.into()],
        })
        .await
        .expect("user created")
        .id
}

/// A call at `t0 + minutes` between the `users` (internal) and an outside number.
async fn call(store: &TestStore, key: &str, minutes: i64, users: &[(UserId, &str)]) -> CallId {
    let mut participants = vec![Participant {
        name: "Outside".into(),
        number: "+4930123".into(),
        user_id: None,
        role: ParticipantRole::Caller,
        user_name: None,
    }];
    for (id, name) in users {
        participants.push(Participant {
            name: (*name).into(),
            number: format!("2{}", id.0),
            user_id: Some(*id),
            role: ParticipantRole::Callee,
            user_name: None,
        });
    }
    let started_at = t0() + Duration::minutes(minutes);
    store
        .create_call(&NewCall {
            call_key: key.into(),
            source: CallSource::Ingest,
            sip_call_ids: vec![format!("{key}@pbx")],
            participants,
            direction: CallDirection::Incoming,
            origin: CallOrigin::External,
            mon_mode: MonMode::Auto,
            started_at,
            answered_at: Some(started_at),
            ended_at: Some(started_at + Duration::seconds(30)),
            state: CallState::Ended,
            trace: Vec::new(),
            consent: Default::default(),
        })
        .await
        .expect("call created")
        .id
}

fn new_review(card: &Scorecard, call: CallId, minutes: i64, agent: UserId, answers: Vec<Answer>) -> NewReview {
    NewReview {
        call_id: call,
        call_started_at: t0() + Duration::minutes(minutes),
        agent_id: agent,
        reviewer_id: UserId(999),
        scorecard: card.clone(),
        score: score(&card.criteria, &answers).expect("answers fit the scorecard"),
        answers,
        comment: Some("good".into()),
        at: t0() + Duration::days(1),
    }
}

async fn scorecards_are_versioned_and_archived_once_used(kind: Kind) {
    let store = backend::open(kind).await;
    let card = store.create_scorecard(&support(), t0()).await.expect("created");
    assert_eq!(
        (card.version, card.archived, card.criteria.len()),
        (1, false, 2),
        "a new scorecard is version 1, live, with its two criteria"
    );
    assert_eq!(
        store.get_scorecard(card.id).await.expect("read"),
        card,
        "it reads back as created"
    );
    let taken = store.create_scorecard(&support(), t0()).await;
    assert!(
        matches!(taken, Err(StoreError::Conflict(_))),
        "a second live scorecard of the same name is a conflict: {taken:?}"
    );

    let mut edit = support();
    edit.criteria.push(crit("solved", CriterionKind::YesNo, 3.0));
    let v2 = store
        .update_scorecard(card.id, &edit, t0() + Duration::hours(1))
        .await
        .expect("edited");
    assert_eq!(
        (v2.version, v2.criteria.len()),
        (2, 3),
        "an edit is version 2 with three criteria"
    );
    assert_eq!(v2.created_at, card.created_at, "an edit keeps the creation time");

    let unused = store
        .create_scorecard(
            &ScorecardInput {
                name: "Sales".into(),
                criteria: vec![crit("closed", CriterionKind::YesNo, 1.0)],
            },
            t0(),
        )
        .await
        .expect("created");
    let names: Vec<String> = store
        .list_scorecards(false)
        .await
        .expect("list")
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(names, ["Sales", "Support"], "scorecards are listed by name");
    assert_eq!(
        store.delete_scorecard(unused.id).await.expect("deleted"),
        ScorecardRemoval::Deleted,
        "a scorecard no review uses is deleted"
    );
    assert!(
        matches!(store.get_scorecard(unused.id).await, Err(StoreError::NotFound)),
        "a deleted scorecard is gone"
    );

    let anna = user(&store, "Anna", "201").await;
    let c = call(&store, "c1", 0, &[(anna, "Anna")]).await;
    store
        .create_review(&new_review(
            &v2,
            c,
            0,
            anna,
            vec![Answer::YesNo(true), Answer::Scale(3), Answer::YesNo(false)],
        ))
        .await
        .expect("review stored");
    assert_eq!(
        store.delete_scorecard(v2.id).await.expect("removed"),
        ScorecardRemoval::Archived,
        "a scorecard a review uses is archived, not deleted"
    );
    let archived = store.get_scorecard(v2.id).await.expect("still readable");
    assert!(archived.archived, "it reads as archived");
    assert!(
        store.list_scorecards(false).await.expect("list").is_empty(),
        "an archived scorecard is not listed"
    );
    assert_eq!(
        store.list_scorecards(true).await.expect("list").len(),
        1,
        "it is listed when archived ones are asked for"
    );
    let edit_archived = store.update_scorecard(v2.id, &support(), t0()).await;
    assert!(
        matches!(edit_archived, Err(StoreError::Conflict(_))),
        "an archived scorecard cannot be edited: {edit_archived:?}"
    );
    store
        .create_scorecard(&support(), t0())
        .await
        .expect("an archived scorecard's name is free again");
    assert!(
        matches!(
            store.delete_scorecard(ScorecardId(9999)).await,
            Err(StoreError::NotFound)
        ),
        "deleting a missing scorecard is not found"
    );
}

async fn reviews_keep_their_criteria_and_are_one_per_call_agent_and_scorecard(kind: Kind) {
    let store = backend::open(kind).await;
    let card = store.create_scorecard(&support(), t0()).await.expect("created");
    let anna = user(&store, "Anna", "201").await;
    let ben = user(&store, "Ben", "202").await;
    let c = call(&store, "c1", 0, &[(anna, "Anna"), (ben, "Ben")]).await;
    let first = store
        .create_review(&new_review(
            &card,
            c,
            0,
            anna,
            vec![Answer::YesNo(true), Answer::Scale(4)],
        ))
        .await
        .expect("stored");
    // greeting yes (1 × 1) + empathy 4 (2 × 0.75) = 2.5 of 3.
    assert_eq!(first.score, 83.33, "the score is stored as given");
    assert_eq!(
        (
            first.scorecard_version,
            first.scorecard_name.as_str(),
            first.criteria.clone()
        ),
        (1, "Support", card.criteria.clone()),
        "the review keeps the scorecard's name, version and criteria"
    );
    assert_eq!(first.comment.as_deref(), Some("good"), "and its comment");
    let again = store
        .create_review(&new_review(
            &card,
            c,
            0,
            anna,
            vec![Answer::YesNo(false), Answer::Scale(1)],
        ))
        .await;
    assert!(
        matches!(again, Err(StoreError::Conflict(_))),
        "a second review of the same agent, call and scorecard is a conflict: {again:?}"
    );

    let edit = ScorecardInput {
        name: "Support".into(),
        criteria: vec![crit("solved", CriterionKind::YesNo, 1.0)],
    };
    let v2 = store.update_scorecard(card.id, &edit, t0()).await.expect("edited");
    let read = store.get_review(first.id).await.expect("read");
    assert_eq!(
        (read.scorecard_version, read.criteria.clone()),
        (1, card.criteria.clone()),
        "editing the scorecard does not change an old review's criteria"
    );
    let second = store
        .create_review(&new_review(&v2, c, 0, ben, vec![Answer::YesNo(true)]))
        .await
        .expect("Ben's review on version 2");
    assert_eq!(second.scorecard_version, 2, "a new review is filled against version 2");

    let listed: Vec<_> = store
        .list_call_reviews(c)
        .await
        .expect("list")
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(listed, [first.id, second.id], "the call's reviews, oldest first");

    let changed = store
        .update_review(
            first.id,
            &ReviewChange {
                answers: vec![Answer::YesNo(false), Answer::Scale(5)],
                comment: None,
                score: 66.67,
                at: t0() + Duration::days(2),
            },
        )
        .await
        .expect("updated");
    assert_eq!(
        (changed.answers.clone(), changed.score, changed.comment.clone()),
        (vec![Answer::YesNo(false), Answer::Scale(5)], 66.67, None),
        "an update replaces answers, score and comment"
    );
    assert_eq!(
        (changed.created_at, changed.updated_at),
        (first.created_at, t0() + Duration::days(2)),
        "an update keeps the creation time and sets the update time"
    );
    let deleted = store.delete_review(first.id).await.expect("deleted");
    assert_eq!(deleted.id, first.id, "delete returns the deleted review");
    assert!(
        matches!(store.get_review(first.id).await, Err(StoreError::NotFound)),
        "a deleted review is gone"
    );
    assert!(
        matches!(store.delete_review(first.id).await, Err(StoreError::NotFound)),
        "deleting it twice is not found"
    );
}

async fn an_agents_reviews_by_range_and_scorecard(kind: Kind) {
    let store = backend::open(kind).await;
    let card = store.create_scorecard(&support(), t0()).await.expect("created");
    let other = store
        .create_scorecard(
            &ScorecardInput {
                name: "Sales".into(),
                criteria: vec![crit("closed", CriterionKind::YesNo, 1.0)],
            },
            t0(),
        )
        .await
        .expect("created");
    let anna = user(&store, "Anna", "201").await;
    let ben = user(&store, "Ben", "202").await;
    let mut ids = Vec::new();
    for (n, minutes) in [0i64, 60, 120].into_iter().enumerate() {
        let c = call(&store, &format!("c{n}"), minutes, &[(anna, "Anna"), (ben, "Ben")]).await;
        let r = store
            .create_review(&new_review(
                &card,
                c,
                minutes,
                anna,
                vec![Answer::YesNo(true), Answer::Scale(5)],
            ))
            .await
            .expect("stored");
        ids.push(r.id);
        store
            .create_review(&new_review(
                &card,
                c,
                minutes,
                ben,
                vec![Answer::YesNo(true), Answer::Scale(5)],
            ))
            .await
            .expect("Ben's stored");
    }
    let c = call(&store, "sale", 90, &[(anna, "Anna")]).await;
    let sale = store
        .create_review(&new_review(&other, c, 90, anna, vec![Answer::YesNo(false)]))
        .await
        .expect("stored");
    let filter = |from: Option<i64>, to: Option<i64>, scorecard_id: Option<ScorecardId>| ReviewFilter {
        agent_id: anna,
        from: from.map(|m| t0() + Duration::minutes(m)),
        to: to.map(|m| t0() + Duration::minutes(m)),
        scorecard_id,
        limit: 100,
    };
    let got = |v: Vec<callrec_types::scorecards::Review>| v.into_iter().map(|r| r.id).collect::<Vec<_>>();
    assert_eq!(
        got(store.list_agent_reviews(&filter(None, None, None)).await.expect("list")),
        [ids[2], sale.id, ids[1], ids[0]],
        "all of Anna's reviews, newest call first, none of Ben's"
    );
    assert_eq!(
        got(store
            .list_agent_reviews(&filter(Some(60), Some(120), None))
            .await
            .expect("list")),
        [sale.id, ids[1]],
        "calls started in [60 min, 120 min): from is inclusive, to exclusive"
    );
    assert_eq!(
        got(store
            .list_agent_reviews(&filter(None, None, Some(card.id)))
            .await
            .expect("list")),
        [ids[2], ids[1], ids[0]],
        "one scorecard's reviews only"
    );
    let mut one = filter(None, None, None);
    one.limit = 1;
    assert_eq!(
        got(store.list_agent_reviews(&one).await.expect("list")),
        [ids[2]],
        "the limit keeps the newest"
    );
}

fn journal_query(scope: Scope) -> JournalQuery {
    JournalQuery {
        scope,
        q: None,
        from: None,
        to: None,
        direction: None,
        has_recordings: None,
        user_id: None,
        reviewed: None,
        cursor: None,
        limit: 50,
    }
}

/// The page's (call, score) pairs, following cursors to the end.
async fn pages(store: &TestStore, mut q: JournalQuery) -> Vec<(CallId, Option<f64>)> {
    let mut out = Vec::new();
    loop {
        let (items, next) = store.journal(&q).await.expect("journal answers");
        out.extend(items.iter().map(|i| (i.call.id, i.score)));
        match next {
            Some(c) => q.cursor = Some(c),
            None => return out,
        }
    }
}

async fn the_journal_filters_on_reviews_and_shows_their_average_score(kind: Kind) {
    let store = backend::open(kind).await;
    let card = store.create_scorecard(&support(), t0()).await.expect("created");
    let anna = user(&store, "Anna", "201").await;
    let ben = user(&store, "Ben", "202").await;
    let carla = user(&store, "Carla", "203").await;
    // Newest last: c0 Anna, c1 Ben, c2 Anna + Ben, c3 Carla, c4 Anna.
    let c0 = call(&store, "c0", 0, &[(anna, "Anna")]).await;
    let c1 = call(&store, "c1", 1, &[(ben, "Ben")]).await;
    let c2 = call(&store, "c2", 2, &[(anna, "Anna"), (ben, "Ben")]).await;
    let c3 = call(&store, "c3", 3, &[(carla, "Carla")]).await;
    let c4 = call(&store, "c4", 4, &[(anna, "Anna")]).await;
    // c0: one review, 100. c2: Anna 83.33 and Ben 66.67 → 75 on average. c3: 0.
    store
        .create_review(&new_review(
            &card,
            c0,
            0,
            anna,
            vec![Answer::YesNo(true), Answer::Scale(5)],
        ))
        .await
        .expect("stored");
    store
        .create_review(&new_review(
            &card,
            c2,
            2,
            anna,
            vec![Answer::YesNo(true), Answer::Scale(4)],
        ))
        .await
        .expect("stored");
    let ben_c2 = store
        .create_review(&new_review(
            &card,
            c2,
            2,
            ben,
            vec![Answer::YesNo(false), Answer::Scale(5)],
        ))
        .await
        .expect("stored");
    assert_eq!(ben_c2.score, 66.67, "empathy 5 alone is 2 of 3");
    let carla_c3 = store
        .create_review(&new_review(
            &card,
            c3,
            3,
            carla,
            vec![Answer::YesNo(false), Answer::Scale(1)],
        ))
        .await
        .expect("stored");

    let all = journal_query(Scope::All);
    assert_eq!(
        pages(&store, all.clone()).await,
        [
            (c4, None),
            (c3, Some(0.0)),
            (c2, Some(75.0)),
            (c1, None),
            (c0, Some(100.0))
        ],
        "every call, each with the average score of its reviews or none"
    );
    let reviewed = |mut q: JournalQuery, r: bool| {
        q.reviewed = Some(r);
        q.limit = 1;
        q
    };
    assert_eq!(
        pages(&store, reviewed(all.clone(), true)).await,
        [(c3, Some(0.0)), (c2, Some(75.0)), (c0, Some(100.0))],
        "reviewed=true: the reviewed calls, one per page, none twice or lost"
    );
    assert_eq!(
        pages(&store, reviewed(all.clone(), false)).await,
        [(c4, None), (c1, None)],
        "reviewed=false: the others"
    );
    let agent = journal_query(Scope::Users(vec![anna]));
    assert_eq!(
        pages(&store, reviewed(agent.clone(), true)).await,
        [(c2, Some(75.0)), (c0, Some(100.0))],
        "Anna's reviewed calls only"
    );
    assert_eq!(
        pages(&store, reviewed(agent.clone(), false)).await,
        [(c4, None)],
        "Anna's unreviewed call"
    );
    assert_eq!(
        pages(&store, agent.clone()).await,
        [(c4, None), (c2, Some(75.0)), (c0, Some(100.0))],
        "Anna's calls with their scores"
    );
    let team = journal_query(Scope::Users(vec![anna, ben]));
    assert_eq!(
        pages(&store, reviewed(team.clone(), true)).await,
        [(c2, Some(75.0)), (c0, Some(100.0))],
        "a supervisor's scope: a call of two team members is one row"
    );
    let mut bens = reviewed(team.clone(), true);
    bens.user_id = Some(ben);
    assert_eq!(
        pages(&store, bens).await,
        [(c2, Some(75.0))],
        "reviewed and a user filter together"
    );
    let mut search = reviewed(all.clone(), true);
    search.q = Some("carla".into());
    assert_eq!(
        pages(&store, search).await,
        [(c3, Some(0.0))],
        "reviewed and a search together"
    );
    let mut search = reviewed(agent.clone(), true);
    search.q = Some("anna".into());
    assert_eq!(
        pages(&store, search).await,
        [(c2, Some(75.0)), (c0, Some(100.0))],
        "reviewed and a search within a scope"
    );
    let mut short = reviewed(team.clone(), false);
    short.q = Some("an".into());
    assert_eq!(
        pages(&store, short).await,
        [(c4, None)],
        "unreviewed and a short search within a scope (\"an\" is in Anna, not in Ben)"
    );

    // The score follows every change of the call's reviews.
    store
        .update_review(
            ben_c2.id,
            &ReviewChange {
                answers: vec![Answer::YesNo(true), Answer::Scale(4)],
                comment: None,
                score: 83.33,
                at: t0(),
            },
        )
        .await
        .expect("updated");
    store.delete_review(carla_c3.id).await.expect("deleted");
    assert_eq!(
        pages(&store, reviewed(all.clone(), true)).await,
        [(c2, Some(83.33)), (c0, Some(100.0))],
        "an edit moves the call's average (83.33 and 83.33) and a deleted last review makes the call unreviewed"
    );
    assert_eq!(
        pages(&store, all).await.iter().find(|(id, _)| *id == c3),
        Some(&(c3, None)),
        "the call whose only review was deleted has no score"
    );
}
