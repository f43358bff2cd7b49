//! Issue #12 in the store, told once per backend (SQLite, a real PostgreSQL server): the
//! evidence chain — entries linked by hash in order, one `recorded` entry per recording,
//! appends from many tasks (and, on PostgreSQL, from two stores on one database, as two nodes
//! are) serialised without a gap or a fork, the database refusing to change or delete an entry —
//! and "who listened to my calls", read from the audit log and scoped to the user's calls.

use callrec_store::{NewAudit, NewEvidence, NewUserRecord, PgStore, Store};
use callrec_types::directory::Level;
use callrec_types::evidence::{EvidenceEntry, EvidenceKind, ListenAction, GENESIS_HASH};
use callrec_types::{CallId, RecordingId, UserId};
use chrono::{DateTime, Duration, TimeZone, Utc};
use std::sync::Arc;

#[macro_use]
mod backend;
use backend::{recorded_call, Concrete, Kind, TestStore};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 8, 0, 0).single().expect("valid time")
}

/// A stand-in seal: the store only needs the hash to chain on (signing is the server's).
fn seal(e: &mut EvidenceEntry) {
    e.public_key = "test-key".into();
    e.entry_hash = e.compute_hash();
    e.signature = "test-signature".into();
}

fn new_evidence(kind: EvidenceKind, rec: RecordingId, call: CallId, at: DateTime<Utc>) -> NewEvidence {
    NewEvidence {
        kind,
        recording_id: rec,
        call_id: call,
        sha256: "ab".repeat(32),
        duration_ms: 10_000,
        bytes: 160_044,
        at,
    }
}

async fn user(s: &dyn Store, name: &str, ext: &str) -> UserId {
    s.create_user(&NewUserRecord {
        username: name.into(),
        display_name: String::new(),
        password_hash: "h".into(),
        level: Level::Agent,
        extensions: vec![ext.into()],
    })
    .await
    .expect("user")
    .id
}

/// Every entry follows the one before it: seq 1, 2, 3 … and `prev_hash` the previous hash.
fn assert_linked(chain: &[EvidenceEntry]) {
    let mut prev = GENESIS_HASH.to_string();
    for (i, e) in chain.iter().enumerate() {
        assert_eq!(e.seq, i as i64 + 1, "no gap in the chain at {i}");
        assert_eq!(e.prev_hash, prev, "entry {} names its predecessor's hash", e.seq);
        assert_eq!(e.entry_hash, e.compute_hash(), "entry {} hashes its fields", e.seq);
        prev = e.entry_hash.clone();
    }
}

async fn the_chain_links_entries_and_keeps_one_recorded_entry_per_recording(kind: Kind) {
    let s = backend::open(kind).await;
    let t = t0();
    let anna = user(&*s, "anna", "201").await;
    let (call_a, rec_a) = recorded_call(&*s, anna, "a", t).await;
    let (call_b, rec_b) = recorded_call(&*s, anna, "b", t).await;
    assert_eq!(
        s.recordings_without_evidence(RecordingId(0), 10)
            .await
            .expect("without")
            .iter()
            .map(|r| r.recording.id)
            .collect::<Vec<_>>(),
        vec![rec_a, rec_b],
        "both finished recordings still lack their entry"
    );
    let first = s
        .append_evidence(&new_evidence(EvidenceKind::Recorded, rec_a, call_a, t), &seal)
        .await
        .expect("append");
    assert_eq!((first.seq, first.prev_hash.as_str()), (1, GENESIS_HASH));
    let again = s
        .append_evidence(
            &new_evidence(EvidenceKind::Recorded, rec_a, call_a, t + Duration::seconds(5)),
            &seal,
        )
        .await
        .expect("append again");
    assert_eq!(
        again, first,
        "a second `recorded` entry for a recording is the first one"
    );
    s.append_evidence(&new_evidence(EvidenceKind::Recorded, rec_b, call_b, t), &seal)
        .await
        .expect("append b");
    s.delete_recording(rec_b).await.expect("deleted");
    s.append_evidence(
        &new_evidence(EvidenceKind::DeletedByAdmin, rec_b, call_b, t + Duration::seconds(9)),
        &seal,
    )
    .await
    .expect("append deletion");
    let chain = s.list_evidence(0, 100).await.expect("chain");
    assert_eq!(
        chain
            .iter()
            .map(|e| (e.seq, e.kind, e.recording_id))
            .collect::<Vec<_>>(),
        vec![
            (1, EvidenceKind::Recorded, rec_a),
            (2, EvidenceKind::Recorded, rec_b),
            (3, EvidenceKind::DeletedByAdmin, rec_b)
        ]
    );
    assert_linked(&chain);
    assert_eq!(
        chain[2].at,
        t + Duration::seconds(9),
        "times round-trip to the millisecond"
    );
    assert_eq!(s.list_evidence(1, 1).await.expect("page").len(), 1, "pages by seq");
    assert_eq!(
        s.recording_evidence(rec_b)
            .await
            .expect("of b")
            .iter()
            .map(|e| e.seq)
            .collect::<Vec<_>>(),
        vec![2, 3]
    );
    assert_eq!(s.call_evidence(call_a).await.expect("of call a"), vec![first]);
    assert!(s
        .recordings_without_evidence(RecordingId(0), 10)
        .await
        .expect("without")
        .is_empty());

    s.register_evidence_key("key-1", "node-a", t).await.expect("key");
    s.register_evidence_key("key-1", "node-a", t)
        .await
        .expect("same key again is no error");
    s.register_evidence_key("key-2", "node-b", t + Duration::seconds(1))
        .await
        .expect("key 2");
    assert_eq!(s.evidence_keys().await.expect("keys"), vec!["key-1", "key-2"]);
}

async fn the_database_refuses_to_change_or_delete_evidence(kind: Kind) {
    let s = backend::open(kind).await;
    let t = t0();
    let anna = user(&*s, "anna", "201").await;
    let (call, rec) = recorded_call(&*s, anna, "a", t).await;
    s.append_evidence(&new_evidence(EvidenceKind::Recorded, rec, call, t), &seal)
        .await
        .expect("append");
    s.register_evidence_key("key-1", "node-a", t).await.expect("key");
    let mut refused = vec![
        "UPDATE evidence SET sha256 = 'cafe'",
        "DELETE FROM evidence",
        "UPDATE evidence_keys SET public_key = 'forged'",
        "DELETE FROM evidence_keys",
    ];
    if kind == Kind::Postgres {
        refused.extend(["TRUNCATE evidence", "TRUNCATE evidence_keys"]);
    }
    for sql in refused {
        let err = write(&s, sql).await.expect_err("the database refuses it");
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
    let chain = s.list_evidence(0, 10).await.expect("chain");
    assert_eq!(chain.len(), 1, "the entry is still there");
    assert_eq!(chain[0].sha256, "ab".repeat(32), "unchanged");
    assert_eq!(s.evidence_keys().await.expect("keys"), vec!["key-1"]);
}

/// Appends `n` entries at once from as many tasks, over `stores` in turn.
async fn append_at_once(stores: &[Arc<dyn Store>], call: CallId, n: i64) {
    let mut tasks = Vec::new();
    for i in 0..n {
        let s = stores[i as usize % stores.len()].clone();
        tasks.push(tokio::spawn(async move {
            s.append_evidence(
                &new_evidence(EvidenceKind::DeletedByRetention, RecordingId(1000 + i), call, t0()),
                &seal,
            )
            .await
            .expect("every append succeeds")
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }
}

async fn appends_at_once_never_fork_the_chain(kind: Kind) {
    let (keep, stores): (Option<TestStore>, Vec<Arc<dyn Store>>) = match kind {
        Kind::Sqlite => {
            let s = backend::open(kind).await;
            let store = s.store.clone();
            (Some(s), vec![store])
        }
        Kind::Postgres => {
            // Two stores on one database: two nodes.
            let url = callrec_testkit::postgres::fresh_database().await;
            let a = PgStore::open(&url).await.expect("node a's store");
            let b = PgStore::open(&url).await.expect("node b's store");
            (None, vec![Arc::new(a), Arc::new(b)])
        }
    };
    let anna = user(&*stores[0], "anna", "201").await;
    let (call, _) = recorded_call(&*stores[0], anna, "a", t0()).await;
    append_at_once(&stores, call, 40).await;
    let chain = stores[0].list_evidence(0, 100).await.expect("chain");
    assert_eq!(chain.len(), 40, "every append is in the chain");
    assert_linked(&chain);
    drop(keep);
}

async fn listens_are_the_plays_and_downloads_of_the_users_own_calls(kind: Kind) {
    let s = backend::open(kind).await;
    let t = t0();
    let anna = user(&*s, "anna", "201").await;
    let bob = user(&*s, "bob", "202").await;
    let sam = user(&*s, "sam", "300").await;
    let (call_a, rec_a) = recorded_call(&*s, anna, "a", t).await;
    let (call_b, rec_b) = recorded_call(&*s, bob, "b", t).await;
    let (call_gone, rec_gone) = recorded_call(&*s, anna, "gone", t).await;
    s.append_evidence(&new_evidence(EvidenceKind::Recorded, rec_gone, call_gone, t), &seal)
        .await
        .expect("evidence of the recording deleted below");
    let audit = |who: UserId, actor: &str, action: &str, target: String, i: i64| NewAudit {
        at: t + Duration::seconds(i),
        user_id: Some(who),
        actor: actor.into(),
        action: action.into(),
        target,
        detail: "format original".into(),
    };
    let rows = [
        audit(sam, "sam", "play", format!("recording {rec_a}"), 1),
        audit(anna, "anna", "download", format!("recording {rec_a}"), 2),
        audit(sam, "sam", "play", format!("recording {rec_b}"), 3),
        audit(sam, "sam", "rule_update", format!("recording {rec_a}"), 4),
        audit(sam, "sam", "play", format!("recording {rec_gone}"), 5),
        audit(sam, "sam", "play", format!("recording {rec_a}0"), 6),
    ];
    let mut ids = Vec::new();
    for r in &rows {
        ids.push(s.append_audit(r).await.expect("audit").id);
    }
    s.delete_recording(rec_gone).await.expect("deleted");

    let anna_sees = s.list_listens(anna, None, 50).await.expect("anna's listens");
    assert_eq!(
        anna_sees
            .iter()
            .map(|l| (l.id, l.actor.as_str(), l.action, l.recording_id, l.call_id))
            .collect::<Vec<_>>(),
        vec![
            (ids[4], "sam", ListenAction::Play, rec_gone, call_gone),
            (ids[1], "anna", ListenAction::Download, rec_a, call_a),
            (ids[0], "sam", ListenAction::Play, rec_a, call_a),
        ],
        "anna sees every play and download of her calls' recordings (a deleted one's too), newest \
         first, and nothing else"
    );
    assert_eq!(anna_sees[2].user_id, Some(sam));
    assert_eq!(anna_sees[2].detail, "format original");
    let bob_sees = s.list_listens(bob, None, 50).await.expect("bob's listens");
    assert_eq!(
        bob_sees.iter().map(|l| (l.id, l.call_id)).collect::<Vec<_>>(),
        vec![(ids[2], call_b)],
        "bob sees only the play of his own call"
    );
    assert!(
        s.list_listens(sam, None, 50).await.expect("sam's").is_empty(),
        "sam took part in no call"
    );
    let page = s.list_listens(anna, Some(ids[4]), 1).await.expect("page 2");
    assert_eq!(
        page.iter().map(|l| l.id).collect::<Vec<_>>(),
        vec![ids[1]],
        "pages by audit id"
    );
}

/// Runs a statement straight on the backend's database, bypassing the store.
async fn write(s: &TestStore, sql: &str) -> Result<(), sqlx::Error> {
    match &s.concrete {
        Concrete::Sqlite(db) => sqlx::query(sql).execute(db.pool()).await.map(|_| ()),
        Concrete::Postgres(db) => sqlx::query(sql).execute(db.pool()).await.map(|_| ()),
    }
}

on_every_backend!(
    the_chain_links_entries_and_keeps_one_recorded_entry_per_recording,
    the_database_refuses_to_change_or_delete_evidence,
    appends_at_once_never_fork_the_chain,
    listens_are_the_plays_and_downloads_of_the_users_own_calls,
);
