//! The journal query of every store backend — SQLite in a temporary directory and a real
//! PostgreSQL server (`backend`), each test run once against each: newest-first order, keyset paging without duplicates or gaps (equal start
//! times included), every filter, text search by substring (trigram FTS for three characters
//! and more, LIKE below), and the viewer's scope intersected with the `user_id` filter.
//!
//! Besides the targeted cases, a model check pages through a few hundred generated calls
//! with every combination of scope and filters and compares the result with a plain Rust
//! filter over the same calls.

use callrec_store::{JournalCursor, JournalQuery, NewCall, NewRecording, NewUserRecord, Scope, StoreError, UserUpdate};
use callrec_types::calls::{
    AudioCodec, CallDirection, CallSource, CallState, Participant, ParticipantRole, RecordingState, Trigger,
};
use callrec_types::directory::{normalize_address, Level};
use callrec_types::engine::CallOrigin;
use callrec_types::rules::MonMode;
use callrec_types::{CallId, UserId};
use chrono::{DateTime, Duration, TimeZone, Utc};

#[macro_use]
mod backend;
use backend::{Concrete, Kind, TestStore};

/// A call as the test made it: what the model filters on.
#[derive(Debug, Clone)]
struct Made {
    id: CallId,
    started_ms: i64,
    users: Vec<UserId>,
    direction: CallDirection,
    recordings: usize,
    /// Lower-case names, numbers and normalised numbers, as the store indexes them.
    texts: Vec<String>,
}

struct Fixture {
    store: TestStore,
    made: Vec<Made>,
    /// Each user's directory names (display name and username), lower case: the journal's
    /// text also finds the calls of users whose directory name holds it (#17).
    directory: Vec<(UserId, String)>,
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 8, 0, 0).single().expect("valid time")
}

async fn user(store: &TestStore, name: &str, ext: &str) -> UserId {
    store
        .create_user(&NewUserRecord {
            username: name.to_lowercase().replace(' ', "."),
            display_name: name.into(),
            password_hash: "not-a-real-hash".into(),
            level: Level::Agent,
            extensions: vec![ext.into()],
        })
        .await
        .expect("user created")
        .id
}

fn internal(name: &str, ext: &str, id: UserId, role: ParticipantRole) -> Participant {
    Participant {
        name: name.into(),
        number: ext.into(),
        user_id: Some(id),
        role,
        user_name: None,
    }
}

fn external(name: &str, number: &str, role: ParticipantRole) -> Participant {
    Participant {
        name: name.into(),
        number: number.into(),
        user_id: None,
        role,
        user_name: None,
    }
}

fn recording(seq: i64, started_at: DateTime<Utc>, key: &str) -> NewRecording {
    NewRecording {
        call_id: CallId(0),
        seq,
        rel_path: format!("recordings/{key}_{seq:03}.wav"),
        file_name: format!("{key}_{seq:03}.wav"),
        started_at,
        start_offset_ms: 0,
        duration_ms: 1000,
        bytes: 16_058,
        codec: AudioCodec::Pcmu,
        sample_rate: 8000,
        channels: 2,
        sha256: String::new(),
        trigger: Trigger::Force,
        state: RecordingState::Complete,
    }
}

impl Fixture {
    async fn new(kind: Kind) -> Fixture {
        Fixture {
            store: backend::open(kind).await,
            made: Vec::new(),
            directory: Vec::new(),
        }
    }

    /// Creates a user like [`user`] and remembers their directory names for the model.
    async fn user(&mut self, name: &str, ext: &str) -> UserId {
        let id = user(&self.store, name, ext).await;
        self.directory.push((id, name.to_lowercase()));
        self.directory.push((id, name.to_lowercase().replace(' ', ".")));
        id
    }

    /// Adds one call (through `import_calls`, as bulk imports do) with `recordings` recordings.
    async fn call(&mut self, started_at: DateTime<Utc>, participants: Vec<Participant>, recordings: usize) -> CallId {
        let key = format!("k{}", self.made.len());
        let direction = CallDirection::of(&participants);
        let new = NewCall {
            call_key: key.clone(),
            source: CallSource::Ingest,
            sip_call_ids: vec![format!("{key}@pbx")],
            participants: participants.clone(),
            direction,
            origin: CallOrigin::External,
            mon_mode: MonMode::Auto,
            started_at,
            answered_at: Some(started_at),
            ended_at: Some(started_at + Duration::seconds(30)),
            state: CallState::Ended,
            trace: Vec::new(),
            consent: Default::default(),
        };
        let recs = (1..=recordings as i64)
            .map(|s| recording(s, started_at, &key))
            .collect();
        self.store.import_calls(&[(new, recs)]).await.expect("call imported");
        // import_calls returns nothing: the new call is the newest id.
        let id = self
            .store
            .journal(&JournalQuery {
                scope: Scope::All,
                q: None,
                from: Some(started_at),
                to: Some(started_at + Duration::milliseconds(1)),
                direction: None,
                has_recordings: None,
                user_id: None,
                reviewed: None,
                cursor: None,
                limit: 500,
            })
            .await
            .expect("journal answers")
            .0
            .iter()
            .map(|i| i.call.id)
            .max()
            .expect("the imported call is in the journal");
        let mut texts = Vec::new();
        for p in &participants {
            texts.push(p.name.to_lowercase());
            texts.push(p.number.to_lowercase());
            texts.push(normalize_address(&p.number));
        }
        let mut users: Vec<UserId> = participants.iter().filter_map(|p| p.user_id).collect();
        users.sort();
        users.dedup();
        self.made.push(Made {
            id,
            started_ms: started_at.timestamp_millis(),
            users,
            direction,
            recordings,
            texts,
        });
        id
    }

    /// Every page of `q` (the cursor followed to the end), as ids.
    async fn all_pages(&self, q: &JournalQuery) -> Vec<CallId> {
        let mut q = q.clone();
        let mut out = Vec::new();
        for _ in 0..10_000 {
            let (items, next) = self.store.journal(&q).await.expect("journal answers");
            assert!(items.len() as i64 <= q.limit, "a page holds at most `limit` items");
            if next.is_some() {
                assert_eq!(items.len() as i64, q.limit, "only a full page has a next cursor");
            }
            out.extend(items.iter().map(|i| i.call.id));
            match next {
                Some(c) => q.cursor = Some(c),
                None => return out,
            }
        }
        panic!("paging did not end");
    }

    /// What the journal should answer, by plain filtering and sorting.
    fn model(&self, q: &JournalQuery) -> Vec<CallId> {
        let text =
            q.q.as_deref()
                .map(|t| t.trim().to_lowercase())
                .filter(|t| !t.is_empty());
        let mut hits: Vec<&Made> = self
            .made
            .iter()
            .filter(|m| match &q.scope {
                Scope::All => true,
                Scope::Users(list) => m.users.iter().any(|u| list.contains(u)),
            })
            .filter(|m| q.user_id.is_none_or(|u| m.users.contains(&u)))
            .filter(|m| q.from.is_none_or(|f| m.started_ms >= f.timestamp_millis()))
            .filter(|m| q.to.is_none_or(|t| m.started_ms < t.timestamp_millis()))
            .filter(|m| q.direction.is_none_or(|d| m.direction == d))
            .filter(|m| q.has_recordings.is_none_or(|h| (m.recordings > 0) == h))
            .filter(|m| {
                text.as_ref().is_none_or(|t| {
                    m.texts.iter().any(|s| s.contains(t.as_str()))
                        || self
                            .directory
                            .iter()
                            .any(|(u, n)| m.users.contains(u) && n.contains(t.as_str()))
                })
            })
            .collect();
        hits.sort_by_key(|m| std::cmp::Reverse((m.started_ms, m.id)));
        hits.into_iter().map(|m| m.id).collect()
    }
}

fn query(scope: Scope) -> JournalQuery {
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

/// Three agents (Anna 201, Ben 202, Carla 203) and a few calls with external parties.
struct Small {
    f: Fixture,
    anna: UserId,
    ben: UserId,
    carla: UserId,
}

async fn small(kind: Kind) -> Small {
    let mut f = Fixture::new(kind).await;
    let anna = user(&f.store, "Anna Schmidt", "201").await;
    let ben = user(&f.store, "Ben Weber", "202").await;
    let carla = user(&f.store, "Carla Nowak", "203").await;
    let t = t0();
    use ParticipantRole::{Callee, Caller};
    // 0: incoming to Anna from a named caller, recorded
    f.call(
        t,
        vec![
            external("Müller GmbH", "+49 30 1234-5678", Caller),
            internal("Anna Schmidt", "201", anna, Callee),
        ],
        1,
    )
    .await;
    // 1: outgoing from Ben, not recorded
    f.call(
        t + Duration::minutes(5),
        vec![
            internal("Ben Weber", "202", ben, Caller),
            external("", "+4989555000", Callee),
        ],
        0,
    )
    .await;
    // 2: internal Anna → Ben, two recordings
    f.call(
        t + Duration::hours(1),
        vec![
            internal("Anna Schmidt", "201", anna, Caller),
            internal("Ben Weber", "202", ben, Callee),
        ],
        2,
    )
    .await;
    // 3: incoming to Carla, next day
    f.call(
        t + Duration::days(1),
        vec![
            external("100% Sure_Thing", "sip:+4940777@carrier.example", Caller),
            internal("Carla Nowak", "203", carla, Callee),
        ],
        1,
    )
    .await;
    Small { f, anna, ben, carla }
}

fn ids(f: &Fixture, which: &[usize]) -> Vec<CallId> {
    which.iter().map(|&i| f.made[i].id).collect()
}

async fn the_journal_is_newest_first(kind: Kind) {
    let s = small(kind).await;
    let (items, next) = s.f.store.journal(&query(Scope::All)).await.expect("journal answers");
    let got: Vec<CallId> = items.iter().map(|i| i.call.id).collect();
    assert_eq!(got, ids(&s.f, &[3, 2, 1, 0]), "newest call first");
    assert_eq!(next, None, "a short page has no next cursor");
    assert_eq!(items[1].call.recording_count, 2, "the REC count comes with each call");
    assert_eq!(items[1].duration_ms, Some(30_000), "duration from answer to end");
}

async fn paging_with_equal_start_times_has_no_duplicates_or_gaps(kind: Kind) {
    let mut f = Fixture::new(kind).await;
    let anna = user(&f.store, "Anna Schmidt", "201").await;
    let ben = user(&f.store, "Ben Weber", "202").await;
    // 40 calls over only 4 distinct start times: every page boundary falls inside a tie.
    for i in 0..40 {
        let who = if i % 3 == 0 { ben } else { anna };
        f.call(
            t0() + Duration::seconds(i % 4),
            vec![
                external("", &format!("+4930{i:04}"), ParticipantRole::Caller),
                internal("x", "201", who, ParticipantRole::Callee),
            ],
            (i % 2) as usize,
        )
        .await;
    }
    for limit in [1, 3, 7, 10, 40, 41] {
        for scope in [Scope::All, Scope::Users(vec![anna]), Scope::Users(vec![anna, ben])] {
            // Each query shape pages differently: the call index, the per-user walks, the
            // trigram index (a search matching every call), the grams (ten calls) and LIKE.
            for text in [None, Some("+4930"), Some("49300"), Some("+4")] {
                let mut q = query(scope.clone());
                q.limit = limit;
                q.q = text.map(str::to_string);
                let want = f.model(&q);
                assert!(!want.is_empty(), "the model finds calls for {scope:?}, {text:?}");
                assert_eq!(
                    f.all_pages(&q).await,
                    want,
                    "limit {limit}, scope {scope:?}, q {text:?}: every call once, in order"
                );
            }
        }
    }
}

async fn a_changed_participant_is_found_by_the_new_text_only(kind: Kind) {
    let mut f = Fixture::new(kind).await;
    let anna = user(&f.store, "Anna Schmidt", "201").await;
    let id = f
        .call(
            t0(),
            vec![
                external("", "+49301112222", ParticipantRole::Caller),
                internal("Anna Schmidt", "201", anna, ParticipantRole::Callee),
            ],
            0,
        )
        .await;
    let (mut call, trace) = f.store.get_call(id).await.expect("the call exists");
    call.participants[0].name = "Zebra Logistik".into();
    call.participants[0].number = "+49899990000".into();
    f.store.update_call(&call, &trace).await.expect("call updated");
    let search = |text: &str| {
        let mut q = query(Scope::All);
        q.q = Some(text.to_string());
        let f = &f;
        async move { f.all_pages(&q).await }
    };
    assert_eq!(search("zebra").await, vec![id], "the new name is found");
    assert_eq!(search("89999").await, vec![id], "the new number is found");
    assert_eq!(search("1112222").await, Vec::<CallId>::new(), "the old number is gone");
    assert_eq!(
        search("schmidt").await,
        vec![id],
        "the unchanged participant is still found"
    );
    // Anna's own journal tests short texts on her rows of call_users (SQLite: migration 0006;
    // PostgreSQL: 0012), which must follow the change as well. Pages of one call: a page the
    // walk of her rows fills is taken as it is (a page it does not fill is asked of the index).
    let anna_search = |text: &str| {
        let mut q = query(Scope::Users(vec![anna]));
        q.q = Some(text.to_string());
        q.limit = 1;
        let f = &f;
        async move { f.all_pages(&q).await }
    };
    assert_eq!(anna_search("ze").await, vec![id], "the new name, in Anna's scope");
    assert_eq!(
        anna_search("11").await,
        Vec::<CallId>::new(),
        "the old number, in Anna's scope"
    );
    assert_eq!(anna_search("99").await, vec![id], "the new number, in Anna's scope");
}

async fn a_calls_start_time_cannot_change_under_the_journal(kind: Kind) {
    let mut f = Fixture::new(kind).await;
    let anna = user(&f.store, "Anna Schmidt", "201").await;
    let id = f
        .call(t0(), vec![internal("Anna", "201", anna, ParticipantRole::Caller)], 0)
        .await;
    let err = match &f.store.concrete {
        Concrete::Sqlite(s) => sqlx::query("UPDATE calls SET started_at = started_at + 1 WHERE id = ?")
            .bind(id.0)
            .execute(s.pool())
            .await
            .map(|_| ()),
        Concrete::Postgres(s) => sqlx::query("UPDATE calls SET started_at = started_at + 1 WHERE id = $1")
            .bind(id.0)
            .execute(s.pool())
            .await
            .map(|_| ()),
    }
    .expect_err("the journal's keys depend on started_at");
    assert!(err.to_string().contains("never changes"), "{err}");
}

/// Migrations 0003 to 0006 on a database that 0001 already filled: every call gets a key in
/// journal order (ascending = newest first), the search finds what it found before, and each
/// participant's row gets the call's search text. SQLite only: it checks the upgrade path of
/// SQLite's own migrations, which PostgreSQL (one migration of its own) does not have.
#[tokio::test]
async fn the_migration_keys_existing_calls_in_journal_order() {
    use sqlx::{Connection, Row};
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("old.db").display());
    let mut conn = sqlx::SqliteConnection::connect(&url).await.expect("connects");
    sqlx::raw_sql(include_str!("../migrations/sqlite/0001_init.sql"))
        .execute(&mut conn)
        .await
        .expect("0001 applies");
    // Ids out of time order, and three calls in one millisecond.
    let started = |id: i64| [0, 5000, 1000, 5000, 3000, 5000][id as usize];
    for (id, search) in [
        (1, "anna +49301234 "),
        (2, "ben +4989 "),
        (3, "carla +4930555 "),
        (4, "anna "),
        (5, "deniz +4930 "),
    ] {
        sqlx::query(
            "INSERT INTO calls (id, call_key, source, direction, origin, mon_mode, started_at, state,
             participants, sip_call_ids, trace, search) VALUES (?, ?, 'ingest', 'incoming', 'external', 'auto', ?,
             'ended', '[]', '[]', '[]', ?)",
        )
        .bind(id)
        .bind(format!("k{id}"))
        .bind(started(id))
        .bind(search)
        .execute(&mut conn)
        .await
        .expect("old call inserted");
        sqlx::query("INSERT INTO call_users (user_id, started_at, call_id) VALUES (7, ?, ?)")
            .bind(started(id))
            .bind(id)
            .execute(&mut conn)
            .await
            .expect("old participant inserted");
    }
    sqlx::raw_sql(include_str!("../migrations/sqlite/0003_journal_search.sql"))
        .execute(&mut conn)
        .await
        .expect("0003 applies");
    sqlx::raw_sql(include_str!("../migrations/sqlite/0004_journal_keys_ascending.sql"))
        .execute(&mut conn)
        .await
        .expect("0004 applies");
    sqlx::raw_sql(include_str!("../migrations/sqlite/0005_journal_grams.sql"))
        .execute(&mut conn)
        .await
        .expect("0005 applies");
    sqlx::raw_sql(include_str!("../migrations/sqlite/0006_call_users_search.sql"))
        .execute(&mut conn)
        .await
        .expect("0006 applies");
    let copied: Vec<(i64, String)> =
        sqlx::query("SELECT call_id, search FROM call_users WHERE user_id = 7 ORDER BY call_id")
            .fetch_all(&mut conn)
            .await
            .expect("call_users")
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
    assert_eq!(
        copied,
        vec![
            (1, "anna +49301234 ".to_string()),
            (2, "ben +4989 ".to_string()),
            (3, "carla +4930555 ".to_string()),
            (4, "anna ".to_string()),
            (5, "deniz +4930 ".to_string()),
        ],
        "0006 copies each call's search text to its participants' rows"
    );
    let keys: Vec<(i64, i64)> = sqlx::query("SELECT key, call_id FROM journal_keys ORDER BY key")
        .fetch_all(&mut conn)
        .await
        .expect("keys")
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let order: Vec<i64> = keys.iter().map(|k| k.1).collect();
    assert_eq!(
        order,
        vec![5, 3, 1, 4, 2],
        "ascending keys are (started_at, id) descending"
    );
    for (key, id) in &keys {
        assert_eq!(
            !key >> 21,
            started(*id),
            "call {id}: the inverted key starts with its start time"
        );
    }
    let hits: Vec<i64> = sqlx::query(
        "SELECT k.call_id FROM journal_fts JOIN journal_keys k ON k.key = journal_fts.rowid
         WHERE journal_fts MATCH '\"+4930\"' ORDER BY journal_fts.rowid",
    )
    .fetch_all(&mut conn)
    .await
    .expect("search")
    .iter()
    .map(|r| r.get(0))
    .collect();
    assert_eq!(hits, vec![5, 3, 1], "the backfilled index answers newest first");
    let grams: Vec<i64> = sqlx::query(
        "SELECT k.call_id FROM journal_grams JOIN journal_keys k ON k.key = journal_grams.rowid
         WHERE journal_grams MATCH '\"49301\"' ORDER BY journal_grams.rowid",
    )
    .fetch_all(&mut conn)
    .await
    .expect("grams search")
    .iter()
    .map(|r| r.get(0))
    .collect();
    assert_eq!(grams, vec![1], "the backfilled grams: only +49301234 holds 49301");
    // A new call in a busy millisecond takes the next rank.
    sqlx::query(
        "INSERT INTO calls (id, call_key, source, direction, origin, mon_mode, started_at, state,
         participants, sip_call_ids, trace, search) VALUES (6, 'k6', 'ingest', 'incoming', 'external', 'auto', 5000,
         'ended', '[]', '[]', '[]', 'x')",
    )
    .execute(&mut conn)
    .await
    .expect("new call inserted");
    let key: i64 = sqlx::query_scalar("SELECT key FROM journal_keys WHERE call_id = 6")
        .fetch_one(&mut conn)
        .await
        .expect("key");
    assert_eq!(key, !((5000 << 21) + 3), "the fourth call of its millisecond");
    let err = sqlx::query(&format!(
        "INSERT INTO journal_keys (key, call_id) VALUES ({}, 99)",
        !(((5000_i64 + 1) << 21) - 1)
    ))
    .execute(&mut conn)
    .await
    .map(|_| ());
    assert!(err.is_ok(), "the last rank of a millisecond is usable");
    let full = sqlx::query(
        "INSERT INTO calls (id, call_key, source, direction, origin, mon_mode, started_at, state,
         participants, sip_call_ids, trace, search) VALUES (7, 'k7', 'ingest', 'incoming', 'external', 'auto', 5000,
         'ended', '[]', '[]', '[]', 'x')",
    )
    .execute(&mut conn)
    .await
    .expect_err("a full millisecond is refused, not spilled into the next");
    assert!(full.to_string().contains("same millisecond"), "{full}");
}

async fn a_cursor_inside_a_tie_continues_with_the_lower_ids(kind: Kind) {
    let mut f = Fixture::new(kind).await;
    let anna = user(&f.store, "Anna Schmidt", "201").await;
    for _ in 0..3 {
        f.call(t0(), vec![internal("Anna", "201", anna, ParticipantRole::Caller)], 0)
            .await;
    }
    let middle = f.made[1].id;
    for scope in [Scope::All, Scope::Users(vec![anna])] {
        let mut q = query(scope);
        q.cursor = Some(JournalCursor {
            started_at_ms: t0().timestamp_millis(),
            id: middle.0,
        });
        let (items, _) = f.store.journal(&q).await.expect("journal answers");
        assert_eq!(
            items.iter().map(|i| i.call.id).collect::<Vec<_>>(),
            vec![f.made[0].id],
            "only the call with the same time and a lower id follows"
        );
    }
}

async fn every_filter_narrows_the_journal(kind: Kind) {
    let s = small(kind).await;
    let f = &s.f;
    let run = |q: JournalQuery| async move { f.all_pages(&q).await };

    let mut q = query(Scope::All);
    q.from = Some(t0() + Duration::minutes(5));
    assert_eq!(run(q.clone()).await, ids(f, &[3, 2, 1]), "from is inclusive");
    q.to = Some(t0() + Duration::hours(1));
    assert_eq!(run(q).await, ids(f, &[1]), "to is exclusive");

    for (d, want) in [
        (CallDirection::Incoming, vec![3, 0]),
        (CallDirection::Outgoing, vec![1]),
        (CallDirection::Internal, vec![2]),
    ] {
        let mut q = query(Scope::All);
        q.direction = Some(d);
        assert_eq!(run(q).await, ids(f, &want), "direction {d:?}");
    }

    let mut q = query(Scope::All);
    q.has_recordings = Some(true);
    assert_eq!(run(q.clone()).await, ids(f, &[3, 2, 0]), "with recordings");
    q.has_recordings = Some(false);
    assert_eq!(run(q).await, ids(f, &[1]), "without recordings");

    let mut q = query(Scope::All);
    q.user_id = Some(s.ben);
    assert_eq!(run(q).await, ids(f, &[2, 1]), "one user's calls");
}

async fn text_search_finds_substrings_of_numbers_and_names(kind: Kind) {
    let s = small(kind).await;
    let f = &s.f;
    let search = |text: &str| {
        let mut q = query(Scope::All);
        q.q = Some(text.to_string());
        async move { f.all_pages(&q).await }
    };
    // Three characters and more: the trigram index.
    assert_eq!(search("1234-56").await, ids(f, &[0]), "a number as the PBX wrote it");
    assert_eq!(
        search("12345678").await,
        ids(f, &[0]),
        "a number without its separators"
    );
    assert_eq!(search("555").await, ids(f, &[1]), "digits from the middle of a number");
    assert_eq!(search("MÜLLER").await, ids(f, &[0]), "names, case-insensitive");
    assert_eq!(search("schmi").await, ids(f, &[2, 0]), "a user's name");
    assert_eq!(search("202").await, ids(f, &[2, 1]), "an extension");
    assert_eq!(
        search("  weber ").await,
        ids(f, &[2, 1]),
        "surrounding blanks are ignored"
    );
    assert_eq!(search("nobody").await, Vec::<CallId>::new(), "no match, no calls");
    assert_eq!(
        search("a\"b").await,
        Vec::<CallId>::new(),
        "a quote is searched for, not parsed"
    );
    assert_eq!(
        search("e OR w").await,
        Vec::<CallId>::new(),
        "FTS syntax is searched for literally"
    );
    // One or two characters: LIKE over the same text.
    assert_eq!(search("77").await, ids(f, &[3]), "two digits");
    assert_eq!(search("ü").await, ids(f, &[0]), "one character");
    assert_eq!(search("%").await, ids(f, &[3]), "% is a literal, not a wildcard");
    assert_eq!(search("_t").await, ids(f, &[3]), "_ is a literal, not a wildcard");
    assert_eq!(search("  ").await, ids(f, &[3, 2, 1, 0]), "a blank search is no search");
}

/// Every query shape a text can take: the admin's walk, a narrow scope with and without a
/// filter on the call row, and a wide scope (eight users and more).
fn every_query_shape(s: &Small, text: &str) -> Vec<(String, JournalQuery)> {
    let narrow = Scope::Users(vec![s.anna]);
    let mut wide = vec![s.anna, s.ben, s.carla];
    wide.extend((1000..1006).map(UserId));
    let mut shapes = Vec::new();
    for (name, scope) in [("admin", Scope::All), ("narrow", narrow), ("wide", Scope::Users(wide))] {
        for direction in [None, Some(CallDirection::Incoming)] {
            let mut q = query(scope.clone());
            q.q = Some(text.to_string());
            q.direction = direction;
            shapes.push((format!("{name} scope, direction {direction:?}"), q));
        }
    }
    shapes
}

async fn issue13_control_characters_in_search_are_refused_for_every_scope(kind: Kind) {
    let s = small(kind).await;
    for text in [
        "abc\0",
        "\0",
        "müller\0gmbh",
        "ann\u{1}a",
        "we\tber",
        "ben\u{7f}",
        "x\u{85}yz",
    ] {
        for (shape, q) in every_query_shape(&s, text) {
            match s.f.store.journal(&q).await {
                Err(StoreError::Invalid(m)) => assert!(
                    m.contains("control characters"),
                    "the refusal of {text:?} ({shape}) says why: {m}"
                ),
                other => panic!("a search for {text:?} ({shape}) must be refused as invalid, not {other:?}"),
            }
        }
    }
}

async fn issue13_fts_syntax_in_search_is_searched_for_literally_in_every_scope(kind: Kind) {
    let s = small(kind).await;
    let f = &s.f;
    let texts = [
        "\"",
        "\"\"",
        "\"müller\"",
        "*",
        "müll*",
        "NEAR(müller anna)",
        "müller AND anna",
        "anna NOT ben",
        "müller OR ben",
        "(müller)",
        "^müller",
        "-müller",
        "müller:",
        "{müller}",
        "'",
        "\\",
        "[a-z]",
        "a+b",
        "📞 anna",
        "e\u{301}",
        "müller gmbh\"",
        "\"\"\"\"\"\"",
        "****",
        "müller*gmbh",
        "NEAR",
        "AND",
    ];
    for text in texts {
        for (shape, q) in every_query_shape(&s, text) {
            let (items, _) = f
                .store
                .journal(&q)
                .await
                .unwrap_or_else(|e| panic!("a search for {text:?} ({shape}) answers, not {e}"));
            assert!(
                items.is_empty(),
                "no call holds {text:?} literally, so none is found ({shape}): {items:?}"
            );
        }
    }
    // And the same characters are found where a call holds them.
    for (text, want) in [("100% sure_", vec![3]), ("+49 30", vec![0]), ("gmbh", vec![0])] {
        let mut q = query(Scope::All);
        q.q = Some(text.to_string());
        assert_eq!(f.all_pages(&q).await, ids(f, &want), "{text:?} is found literally");
    }
}

async fn long_words_are_found_by_their_grams_only_where_they_are_one_substring(kind: Kind) {
    let mut f = Fixture::new(kind).await;
    let anna = user(&f.store, "Anna Schmidt", "201").await;
    use ParticipantRole::{Callee, Caller};
    // Both halves of 1234567890, in two numbers: grams match, the substring does not.
    let apart = f
        .call(
            t0(),
            vec![
                external("", "+4912345000", Caller),
                external("", "+4967890111", Callee),
                internal("Anna", "201", anna, Callee),
            ],
            0,
        )
        .await;
    let whole = f
        .call(
            t0() + Duration::minutes(1),
            vec![
                external("Straße Süd", "+49 1234567890", Caller),
                internal("Anna", "201", anna, Callee),
            ],
            0,
        )
        .await;
    let search = |text: &str| {
        let mut q = query(Scope::All);
        q.q = Some(text.to_string());
        let f = &f;
        async move { f.all_pages(&q).await }
    };
    assert_eq!(
        search("1234567890").await,
        vec![whole],
        "only the call holding the whole number"
    );
    assert_eq!(
        search("4912345").await,
        vec![whole, apart],
        "as written in one, normalised in the other"
    );
    assert_eq!(
        search("+49 12345").await,
        vec![whole],
        "a number as written, blank included"
    );
    assert_eq!(
        search("+4967890").await,
        vec![apart],
        "the plus sign takes part in the match"
    );
    assert_eq!(
        search("0+4967890").await,
        Vec::<CallId>::new(),
        "the grams match, the text around them does not"
    );
    assert_eq!(search("straße").await, vec![whole], "a word with ß");
    assert_eq!(search("ße sü").await, vec![whole], "across two words (trigrams)");
    assert_eq!(
        search("12345").await,
        vec![whole, apart],
        "five digits, both calls, newest first"
    );
}

/// A common text in a narrow scope: enough matches (200 for a small page) that the journal
/// walks the viewer's own calls with LIKE instead of the index; later pages, with fewer matches
/// left, go through the index again. The answer must not change either way.
async fn a_common_text_in_a_narrow_scope_finds_the_viewers_calls_all_the_same(kind: Kind) {
    let mut f = Fixture::new(kind).await;
    let anna = user(&f.store, "Anna Schmidt", "201").await;
    let ben = user(&f.store, "Ben Weber", "202").await;
    use ParticipantRole::{Callee, Caller};
    for i in 0..260i64 {
        // Anna's calls: the two oldest and the newest; the rest are Ben's. A page of two or
        // more is not among the newest 200 matches.
        let who = if matches!(i, 0 | 1 | 259) { anna } else { ben };
        f.call(
            t0() + Duration::seconds(i),
            vec![
                external("", &format!("+493012{i:04}"), Caller),
                internal("x", "20x", who, Callee),
            ],
            0,
        )
        .await;
    }
    for text in ["+4930", "493012", "+493012"] {
        for limit in [1, 2, 3, 50] {
            for scope in [Scope::Users(vec![anna]), Scope::All] {
                let mut q = query(scope.clone());
                q.q = Some(text.to_string());
                q.limit = limit;
                let want = f.model(&q);
                assert_eq!(f.all_pages(&q).await, want, "q {text:?}, limit {limit}, {scope:?}");
            }
        }
    }
    let mut q = query(Scope::Users(vec![anna]));
    q.q = Some("+4930".into());
    assert_eq!(f.all_pages(&q).await.len(), 3, "Anna's three calls");
}

/// A narrow scope with a long history: the journal tests the newest 3,000 of the viewer's own
/// rows with LIKE and turns to the index when the page is not full by then. Texts that are
/// common, rare (only beyond those 3,000 rows, or only among them) and absent must all give
/// the model's answer, with and without a filter on the call row and a time range.
async fn a_narrow_scope_with_a_long_history_finds_rare_and_common_texts(kind: Kind) {
    let mut f = Fixture::new(kind).await;
    let anna = user(&f.store, "Anna Schmidt", "201").await;
    let ben = user(&f.store, "Ben Weber", "202").await;
    use ParticipantRole::{Callee, Caller};
    let n = 3_300i64;
    for i in 0..n {
        // Oldest first: i = 0 is the oldest call. Zora called Anna long ago (beyond the
        // walked rows) and once recently; Ben shares a few calls.
        let name = match i {
            5 | 40 | 3_290 => "Zora Quist",
            _ => "",
        };
        let mut ps = vec![
            external(name, &format!("+4930{:07}", 1_000_000 + i), Caller),
            internal("Anna Schmidt", "201", anna, Callee),
        ];
        if i % 500 == 7 {
            ps.push(internal("Ben Weber", "202", ben, Callee));
        }
        f.call(t0() + Duration::seconds(i), ps, usize::from(i % 3 == 0)).await;
    }
    let late = t0() + Duration::seconds(n - 100);
    for text in [
        "zora",
        "zora quist",
        "+4930",
        "+49301000005",
        "1000040",
        "nobody",
        "weber",
    ] {
        for limit in [1, 50] {
            for (direction, from) in [(None, None), (Some(CallDirection::Incoming), None), (None, Some(late))] {
                let mut q = query(Scope::Users(vec![anna]));
                q.q = Some(text.to_string());
                q.limit = limit;
                q.direction = direction;
                q.from = from;
                let want = f.model(&q);
                let got = if limit == 50 {
                    f.all_pages(&q).await
                } else {
                    // One-call pages through all 3,300 calls would take long in a debug build:
                    // the first few pages.
                    let mut out = Vec::new();
                    let mut q = q.clone();
                    for _ in 0..4 {
                        let (items, next) = f.store.journal(&q).await.expect("journal answers");
                        out.extend(items.iter().map(|i| i.call.id));
                        match next {
                            Some(c) => q.cursor = Some(c),
                            None => break,
                        }
                    }
                    out
                };
                let want: Vec<CallId> = if limit == 50 {
                    want
                } else {
                    want.into_iter().take(4).collect()
                };
                assert_eq!(
                    got, want,
                    "q {text:?}, limit {limit}, direction {direction:?}, from {from:?}"
                );
            }
        }
    }
    let mut q = query(Scope::Users(vec![anna]));
    q.q = Some("zora".into());
    assert_eq!(
        f.all_pages(&q).await.len(),
        3,
        "all three of Zora's calls, the old ones too"
    );
}

async fn the_scope_limits_what_a_viewer_sees_and_intersects_the_user_filter(kind: Kind) {
    let s = small(kind).await;
    let f = &s.f;
    let run = |scope: Scope, user: Option<UserId>| {
        let mut q = query(scope);
        q.user_id = user;
        async move { f.all_pages(&q).await }
    };
    assert_eq!(
        run(Scope::Users(vec![s.anna]), None).await,
        ids(f, &[2, 0]),
        "an agent: own calls"
    );
    assert_eq!(
        run(Scope::Users(vec![s.anna, s.carla]), None).await,
        ids(f, &[3, 2, 0]),
        "a supervisor: own and the team's calls, each once"
    );
    assert_eq!(
        run(Scope::Users(vec![s.anna, s.carla]), Some(s.carla)).await,
        ids(f, &[3]),
        "the user filter within the scope"
    );
    assert_eq!(
        run(Scope::Users(vec![s.anna]), Some(s.carla)).await,
        Vec::<CallId>::new(),
        "a user outside the scope shows nothing"
    );
    assert_eq!(
        run(Scope::Users(vec![s.anna]), Some(s.ben)).await,
        ids(f, &[2]),
        "another user's calls that the viewer may see: the intersection, never more than without the filter"
    );
    assert_eq!(
        run(Scope::Users(vec![]), None).await,
        Vec::<CallId>::new(),
        "an empty scope sees nothing"
    );
    assert_eq!(
        run(Scope::All, Some(s.anna)).await,
        ids(f, &[2, 0]),
        "an admin filtering by user"
    );
}

/// A deterministic generator (SplitMix64), so the model check needs no dependency.
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

async fn every_combination_of_scope_filters_and_paging_matches_the_model(kind: Kind) {
    let mut f = Fixture::new(kind).await;
    let names = [
        "Anna Schmidt",
        "Ben Weber",
        "Carla Nowak",
        "Deniz Kaya",
        "Emil Braun",
        "Fatma Yilmaz",
    ];
    let mut users = Vec::new();
    for (i, n) in names.iter().enumerate() {
        let ext = format!("{}", 201 + i);
        users.push((f.user(n, &ext).await, n.to_string(), ext));
    }
    let callers = ["Müller GmbH", "", "Jonas Becker", "", "Praxis Dr. Koch"];
    let mut rng = Mix(7);
    for i in 0..240 {
        // Many calls share a start second; some share it exactly.
        let t = t0() + Duration::seconds((rng.below(90) * 60 + (i % 3)) as i64);
        let a = &users[rng.below(users.len() as u64) as usize];
        let b = &users[rng.below(users.len() as u64) as usize];
        let number = format!("+49{}{:07}", [30, 89, 40][rng.below(3) as usize], rng.below(10_000_000));
        let ext_name = callers[rng.below(callers.len() as u64) as usize];
        // Every fourth call the PBX labels its users "Caller" (#17): only the directory
        // knows who they are.
        let pbx = |u: &(UserId, String, String)| (u.0, "Caller".to_string(), u.2.clone());
        let (a, b) = if i % 4 == 0 {
            (pbx(a), pbx(b))
        } else {
            (a.clone(), b.clone())
        };
        let (a, b) = (&a, &b);
        use ParticipantRole::{Callee, Caller};
        let ps = match rng.below(4) {
            0 => vec![external(ext_name, &number, Caller), internal(&a.1, &a.2, a.0, Callee)],
            1 => vec![internal(&a.1, &a.2, a.0, Caller), external(ext_name, &number, Callee)],
            2 => vec![
                external(ext_name, &number, Caller),
                internal(&a.1, &a.2, a.0, Callee),
                internal(&b.1, &b.2, b.0, Callee),
            ],
            _ => vec![internal(&a.1, &a.2, a.0, Caller), internal(&b.1, &b.2, b.0, Callee)],
        };
        f.call(t, ps, rng.below(3) as usize).await;
    }
    let u = |i: usize| users[i].0;
    let scopes = [
        Scope::All,
        Scope::Users(vec![u(0)]),
        Scope::Users(vec![u(1), u(2), u(3)]),
        Scope::Users(users.iter().map(|x| x.0).collect()),
    ];
    let texts = [
        None,
        Some("müller"),
        Some("müller gmbh"),
        Some("202"),
        Some("+4930"),
        Some("+49301"),
        Some("4"),
        Some("er"),
        Some("koch"),
        Some("becker"),
        Some("dr. koch"),
        Some("schmidt"),
        Some("fatma.y"),
        Some("caller"),
    ];
    let mut checked = 0;
    for scope in &scopes {
        for text in texts {
            for variant in 0..7 {
                let mut q = query(scope.clone());
                q.q = text.map(str::to_string);
                q.limit = [7, 25][variant % 2];
                match variant {
                    0 | 1 => {}
                    2 => q.direction = Some(CallDirection::Incoming),
                    3 => q.has_recordings = Some(true),
                    4 => q.has_recordings = Some(false),
                    5 => {
                        q.from = Some(t0() + Duration::minutes(20));
                        q.to = Some(t0() + Duration::minutes(61));
                    }
                    _ => q.user_id = Some(u(2)),
                }
                let want = f.model(&q);
                assert_eq!(
                    f.all_pages(&q).await,
                    want,
                    "scope {scope:?}, q {text:?}, variant {variant}"
                );
                checked += usize::from(!want.is_empty());
            }
        }
    }
    assert!(
        checked > 100,
        "most combinations have hits ({checked}), so the check means something"
    );
}

/// #17: the PBX names its users as it likes ("Caller (201)"); the journal's text also finds
/// every call of a user whose directory name (display name or username) holds it, for calls
/// stored before the name was given too, within the viewer's scope, with exact paging.
async fn issue17_a_directory_name_finds_the_calls_the_pbx_named_otherwise(kind: Kind) {
    let mut f = Fixture::new(kind).await;
    let alice = f.user("Alice Adams", "201").await;
    let bob = f.user("Bob Brown", "202").await;
    use ParticipantRole::{Callee, Caller};
    let t = t0();
    // 0: alice, labelled "Caller" by the PBX.
    let c0 = f
        .call(
            t,
            vec![
                internal("Caller", "201", alice, Caller),
                external("", "+4930111", Callee),
            ],
            1,
        )
        .await;
    // 1: bob with a customer whose PBX name holds "alice" (the text match).
    let c1 = f
        .call(
            t + Duration::minutes(1),
            vec![
                external("Alice Cooper Ltd", "+4930222", Caller),
                internal("Bob", "202", bob, Callee),
            ],
            0,
        )
        .await;
    // 2: bob alone with someone else.
    f.call(
        t + Duration::minutes(2),
        vec![external("Zed", "+4930333", Caller), internal("Bob", "202", bob, Callee)],
        0,
    )
    .await;
    // 3: alice again, labelled by number only.
    let c3 = f
        .call(
            t + Duration::minutes(3),
            vec![internal("", "201", alice, Caller), internal("Bob", "202", bob, Callee)],
            0,
        )
        .await;

    let search = |scope: Scope, text: &str| {
        let mut q = query(scope);
        q.q = Some(text.into());
        q
    };
    for text in ["alice", "ALICE", "ali", "al", "adams", "alice.ad"] {
        let q = search(Scope::All, text);
        assert_eq!(f.all_pages(&q).await, f.model(&q), "the model agrees for {text:?}");
    }
    assert_eq!(
        f.all_pages(&search(Scope::All, "alice")).await,
        vec![c3, c1, c0],
        "an admin finds alice's calls by her directory name and the customer by the PBX's"
    );
    assert_eq!(
        f.all_pages(&search(Scope::All, "adams")).await,
        vec![c3, c0],
        "the directory name alone finds calls whose PBX names say nothing of it"
    );
    let mut one = search(Scope::All, "alice");
    one.limit = 1;
    assert_eq!(
        f.all_pages(&one).await,
        vec![c3, c1, c0],
        "pages of one walk both kinds of match in order without repeats or gaps"
    );
    assert_eq!(
        f.all_pages(&search(Scope::Users(vec![bob]), "adams")).await,
        vec![c3],
        "bob sees only the call of alice's he took part in"
    );
    let mut filtered = search(Scope::All, "adams");
    filtered.has_recordings = Some(true);
    assert_eq!(f.all_pages(&filtered).await, vec![c0], "filters still apply");
    let mut narrowed = search(Scope::Users(vec![alice, bob]), "adams");
    narrowed.user_id = Some(bob);
    assert_eq!(
        f.all_pages(&narrowed).await,
        vec![c3],
        "a user filter intersects with the name's calls"
    );

    // A rename: the new name finds the old calls, the old one no longer does.
    f.store
        .update_user(
            alice,
            &UserUpdate {
                username: Some("zoe".into()),
                display_name: Some("Zoe Adams-Young".into()),
                ..UserUpdate::default()
            },
        )
        .await
        .expect("renamed");
    assert_eq!(
        f.all_pages(&search(Scope::All, "young")).await,
        vec![c3, c0],
        "the new directory name finds the calls stored before it"
    );
    assert_eq!(
        f.all_pages(&search(Scope::All, "alice")).await,
        vec![c1],
        "the old name finds only the PBX's text"
    );
}

/// #17: the names the server shows come from the directory and the rules as they are now;
/// the stored call and recording keep only the PBX's facts.
async fn issue17_directory_and_rule_names_are_looked_up_and_never_stored(kind: Kind) {
    let mut f = Fixture::new(kind).await;
    let alice = f.user("Alice Adams", "201").await;
    let blank = f
        .store
        .create_user(&NewUserRecord {
            username: "nodisplay".into(),
            display_name: "  ".into(),
            password_hash: "not-a-real-hash".into(),
            level: Level::Agent,
            extensions: vec!["209".into()],
        })
        .await
        .expect("user created")
        .id;
    let names = f.store.user_names(&[alice, blank, UserId(9999)]).await.expect("names");
    assert_eq!(names.get(&alice).map(String::as_str), Some("Alice Adams"));
    assert_eq!(
        names.get(&blank).map(String::as_str),
        Some("nodisplay"),
        "a blank display name falls back to the username"
    );
    assert!(!names.contains_key(&UserId(9999)), "an unknown user has no name");

    let mut p = internal("Caller", "201", alice, ParticipantRole::Caller);
    p.user_name = Some("Sent Name".into());
    let id = f
        .call(t0(), vec![p, external("", "+4930111", ParticipantRole::Callee)], 0)
        .await;
    let (call, _) = f.store.get_call(id).await.expect("call");
    assert_eq!(
        call.participants[0].user_name, None,
        "a directory name handed in is not stored as the participant's"
    );
}

/// Searches with a word of five characters or more, which PostgreSQL answers through the
/// five-character grams of its migration 0014 (the rarest gram of the text walked newest first,
/// the whole text re-checked) and SQLite through its own (0005): numbers drawn from two
/// digits and names sharing grams, so that most calls holding a gram do not hold the text.
/// Every page, in every scope and with every filter, must be the model's, cursor pages
/// included.
async fn texts_found_by_their_grams_give_the_models_pages_in_every_scope(kind: Kind) {
    let mut f = Fixture::new(kind).await;
    let anna = user(&f.store, "Anna Schmidt", "201").await;
    let ben = user(&f.store, "Ben Weber", "202").await;
    let carla = user(&f.store, "Carla Nowak", "203").await;
    let agents = [
        (anna, "Anna Schmidt", "201"),
        (ben, "Ben Weber", "202"),
        (carla, "Carla Nowak", "203"),
    ];
    let names = ["Kowalski Bau", "Walsker", "Kowalczyk", "", "Bauer Kowal"];
    let mut rng = Mix(11);
    use ParticipantRole::{Callee, Caller};
    for i in 0..160 {
        let t = t0() + Duration::seconds((rng.below(40) * 60 + (i % 2)) as i64);
        let digits: String = (0..9).map(|_| if rng.below(2) == 0 { '1' } else { '2' }).collect();
        let number = format!("+49{digits}");
        let a = agents[rng.below(3) as usize];
        let b = agents[rng.below(3) as usize];
        let name = names[rng.below(names.len() as u64) as usize];
        let ps = match rng.below(3) {
            0 => vec![external(name, &number, Caller), internal(a.1, a.2, a.0, Callee)],
            1 => vec![internal(a.1, a.2, a.0, Caller), external(name, &number, Callee)],
            _ => vec![
                external(name, &number, Caller),
                internal(a.1, a.2, a.0, Callee),
                internal(b.1, b.2, b.0, Callee),
            ],
        };
        f.call(t, ps, rng.below(2) as usize).await;
    }
    let scopes = [
        Scope::All,
        Scope::Users(vec![anna]),
        Scope::Users(vec![anna, ben]),
        Scope::Users(vec![anna, ben, carla]),
    ];
    let texts = [
        "12121",
        "+49121",
        "212211",
        "1221121",
        "491212121",
        "+49111111111",
        "kowal",
        "kowalski",
        "kowalski bau",
        "walsker",
        "bauer kowal",
        "owalsk",
        // Four characters (migration 0016's heads): a call's number holds most of them
        // several times, under several grams of one head.
        "1212",
        "2211",
        "+4912",
        "kowa",
        "walc",
        "ski b",
    ];
    let mut found = 0;
    for scope in &scopes {
        for text in texts {
            for variant in 0..5 {
                let mut q = query(scope.clone());
                q.q = Some(text.to_string());
                q.limit = [1, 3, 7][variant % 3];
                match variant {
                    0 | 1 => {}
                    2 => q.direction = Some(CallDirection::Incoming),
                    3 => {
                        q.from = Some(t0() + Duration::minutes(5));
                        q.to = Some(t0() + Duration::minutes(31));
                        q.has_recordings = Some(true);
                    }
                    _ => q.user_id = Some(ben),
                }
                let want = f.model(&q);
                assert_eq!(
                    f.all_pages(&q).await,
                    want,
                    "scope {scope:?}, q {text:?}, variant {variant}"
                );
                found += usize::from(want.len() > 1);
            }
        }
    }
    assert!(
        found > 80,
        "most searches find several calls ({found}), so paging is tested"
    );
    grams_are_the_texts(&f.store).await;
}

/// A call's grams follow it: a participant renamed or renumbered is found by the new text
/// only, a participant replaced by another user moves the call from one user's scope to the
/// other's, and a deleted call is found no more.
async fn grams_follow_a_calls_changes_and_its_deletion(kind: Kind) {
    let mut f = Fixture::new(kind).await;
    let anna = user(&f.store, "Anna Schmidt", "201").await;
    let ben = user(&f.store, "Ben Weber", "202").await;
    use ParticipantRole::{Callee, Caller};
    let first = f
        .call(
            t0(),
            vec![
                external("Kowalski Bau", "+49301112222", Caller),
                internal("Anna Schmidt", "201", anna, Callee),
            ],
            0,
        )
        .await;
    let second = f
        .call(
            t0() + Duration::minutes(1),
            vec![
                external("Nowakowski", "+49891112222", Caller),
                internal("Ben Weber", "202", ben, Callee),
            ],
            0,
        )
        .await;
    let search = |scope: Scope, text: &str| {
        let mut q = query(scope);
        q.q = Some(text.to_string());
        q.limit = 1;
        let f = &f;
        async move { f.all_pages(&q).await }
    };
    assert_eq!(search(Scope::All, "kowalski").await, vec![first]);
    assert_eq!(search(Scope::All, "1112222").await, vec![second, first]);
    assert_eq!(search(Scope::Users(vec![anna]), "kowalski bau").await, vec![first]);

    let (mut call, trace) = f.store.get_call(first).await.expect("the call exists");
    call.participants[0].name = "Zebra Logistik".into();
    call.participants[0].number = "+49899990000".into();
    call.participants[1] = internal("Ben Weber", "202", ben, Callee);
    f.store.update_call(&call, &trace).await.expect("call updated");
    assert_eq!(
        search(Scope::All, "kowalski").await,
        Vec::<CallId>::new(),
        "the old name is gone"
    );
    assert_eq!(
        search(Scope::All, "1112222").await,
        vec![second],
        "the old number is gone"
    );
    assert_eq!(search(Scope::All, "zebra logistik").await, vec![first], "the new name");
    assert_eq!(search(Scope::All, "9999000").await, vec![first], "the new number");
    assert_eq!(
        search(Scope::Users(vec![anna]), "zebra logistik").await,
        Vec::<CallId>::new(),
        "Anna no longer took part"
    );
    assert_eq!(
        search(Scope::Users(vec![ben]), "zebra logistik").await,
        vec![first],
        "Ben took part instead"
    );
    assert_eq!(
        search(Scope::Users(vec![anna, ben]), "+4989").await,
        vec![second, first],
        "both of Ben's calls hold the new prefix"
    );
    grams_are_the_texts(&f.store).await;

    // No store operation deletes calls today; the database's own delete must keep the grams
    // in step all the same (the call's rows of `call_users` go with it).
    match &f.store.concrete {
        Concrete::Sqlite(s) => {
            sqlx::query("DELETE FROM call_users WHERE call_id = ?")
                .bind(second.0)
                .execute(s.pool())
                .await
                .expect("rows deleted");
            sqlx::query("DELETE FROM calls WHERE id = ?")
                .bind(second.0)
                .execute(s.pool())
                .await
                .expect("call deleted");
        }
        Concrete::Postgres(s) => {
            sqlx::query("DELETE FROM calls WHERE id = $1")
                .bind(second.0)
                .execute(s.pool())
                .await
                .expect("call deleted");
        }
    }
    assert_eq!(search(Scope::All, "nowakowski").await, Vec::<CallId>::new(), "deleted");
    assert_eq!(search(Scope::All, "9999000").await, vec![first], "the other call stays");
    assert_eq!(
        search(Scope::Users(vec![ben]), "1112222").await,
        Vec::<CallId>::new(),
        "deleted, in Ben's scope"
    );
    grams_are_the_texts(&f.store).await;
}

/// PostgreSQL: the gram tables (migration 0014) hold exactly the grams of the calls' texts
/// and of each participant's copy, as the migration's own function cuts them (SQLite's grams
/// are an FTS5 index, checked by the searches alone).
async fn grams_are_the_texts(store: &TestStore) {
    let Concrete::Postgres(s) = &store.concrete else {
        return;
    };
    for (what, sql) in [
        (
            "journal_grams",
            "SELECT count(*) FROM ((SELECT gram, started_at, call_id FROM journal_grams \
             EXCEPT SELECT g, started_at, id FROM calls, journal_grams_of(search) g) \
             UNION ALL (SELECT g, started_at, id FROM calls, journal_grams_of(search) g \
             EXCEPT SELECT gram, started_at, call_id FROM journal_grams)) d",
        ),
        (
            "journal_user_grams",
            "SELECT count(*) FROM ((SELECT user_id, gram, started_at, call_id FROM journal_user_grams \
             EXCEPT SELECT cu.user_id, g, cu.started_at, cu.call_id FROM call_users cu JOIN calls c ON c.id = cu.call_id, \
             journal_grams_of(c.search) g) \
             UNION ALL (SELECT cu.user_id, g, cu.started_at, cu.call_id FROM call_users cu JOIN calls c ON c.id = cu.call_id, \
             journal_grams_of(c.search) g EXCEPT SELECT user_id, gram, started_at, call_id FROM journal_user_grams)) d",
        ),
    ] {
        let wrong: i64 = sqlx::query_scalar(sql).fetch_one(s.pool()).await.expect("counted");
        assert_eq!(wrong, 0, "{what} differs from the texts' grams in {wrong} rows");
    }
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM journal_grams")
        .fetch_one(s.pool())
        .await
        .expect("counted");
    assert!(rows > 0, "the calls have grams");
}

/// PostgreSQL's migrations 0014 and 0016 fill the gram tables from the calls already stored:
/// a database migrated up to 0012 with calls in it, then up to 0015 (the grams, without the
/// tails of 0016), then to the end, finds them by their grams and heads, in every scope.
#[tokio::test]
async fn postgres_migrations_0014_and_0016_fill_the_grams_of_existing_calls() {
    let url = callrec_testkit::postgres::fresh_database().await;
    let pool = sqlx::PgPool::connect(&url).await.expect("connects");
    // The migrations up to `last`.
    let upto = |last: i64| {
        let mut m = sqlx::migrate!("./migrations/postgres");
        m.migrations = m
            .migrations
            .iter()
            .filter(|m| m.version <= last)
            .cloned()
            .collect::<Vec<_>>()
            .into();
        m
    };
    upto(12).run(&pool).await.expect("0001-0012 apply");
    for (id, started, search, user) in [
        (1i64, 1_000i64, "kowalski bau +49301234567 anna 201", 7i64),
        (2, 2_000, "nowak +49891234567 ben 202", 8),
        (3, 3_000, "kowalski +4940555 ben 202", 8),
    ] {
        sqlx::query(
            "INSERT INTO calls (id, call_key, source, direction, origin, mon_mode, started_at, state,
             participants, sip_call_ids, trace, search) VALUES ($1, $2, 'ingest', 'incoming', 'external', 'auto', $3,
             'ended', '[]', '[]', '[]', $4)",
        )
        .bind(id)
        .bind(format!("k{id}"))
        .bind(started)
        .bind(search)
        .execute(&pool)
        .await
        .expect("old call inserted");
        sqlx::query("INSERT INTO call_users (user_id, started_at, call_id) VALUES ($1, $2, $3)")
            .bind(user)
            .bind(started)
            .bind(id)
            .execute(&pool)
            .await
            .expect("old participant inserted");
    }
    upto(15).run(&pool).await.expect("0013-0015 apply");
    let tails: i64 = sqlx::query_scalar("SELECT count(*) FROM journal_grams WHERE gram LIKE '%$'")
        .fetch_one(&pool)
        .await
        .expect("counted");
    assert_eq!(tails, 0, "0014 cuts no tails");
    pool.close().await;
    let test = backend::postgres(std::sync::Arc::new(
        callrec_store::PgStore::open(&url).await.expect("the rest migrates"),
    ));
    grams_are_the_texts(&test).await;
    let search = |scope: Scope, text: &str| {
        let mut q = query(scope);
        q.q = Some(text.to_string());
        let test = &test;
        async move {
            let (items, _) = test.journal(&q).await.expect("journal answers");
            items.iter().map(|i| i.call.id.0).collect::<Vec<_>>()
        }
    };
    assert_eq!(search(Scope::All, "kowalski").await, vec![3, 1]);
    assert_eq!(search(Scope::All, "1234567").await, vec![2, 1]);
    assert_eq!(search(Scope::Users(vec![UserId(8)]), "kowalski").await, vec![3]);
    assert_eq!(search(Scope::Users(vec![UserId(7)]), "301234567").await, vec![1]);
    assert_eq!(search(Scope::All, "4055").await, vec![3], "four digits inside a number");
    assert_eq!(
        search(Scope::All, "0555").await,
        vec![3],
        "four digits at a number's end"
    );
    assert_eq!(search(Scope::All, "anna").await, vec![1], "a four-letter word");
    assert_eq!(search(Scope::Users(vec![UserId(8)]), "+4989").await, vec![2]);
    assert_eq!(search(Scope::Users(vec![UserId(7)]), "+4989").await, Vec::<i64>::new());
}

on_every_backend!(
    the_journal_is_newest_first,
    paging_with_equal_start_times_has_no_duplicates_or_gaps,
    a_changed_participant_is_found_by_the_new_text_only,
    a_calls_start_time_cannot_change_under_the_journal,
    a_cursor_inside_a_tie_continues_with_the_lower_ids,
    every_filter_narrows_the_journal,
    text_search_finds_substrings_of_numbers_and_names,
    issue13_control_characters_in_search_are_refused_for_every_scope,
    issue13_fts_syntax_in_search_is_searched_for_literally_in_every_scope,
    long_words_are_found_by_their_grams_only_where_they_are_one_substring,
    a_common_text_in_a_narrow_scope_finds_the_viewers_calls_all_the_same,
    a_narrow_scope_with_a_long_history_finds_rare_and_common_texts,
    the_scope_limits_what_a_viewer_sees_and_intersects_the_user_filter,
    every_combination_of_scope_filters_and_paging_matches_the_model,
    issue17_a_directory_name_finds_the_calls_the_pbx_named_otherwise,
    issue17_directory_and_rule_names_are_looked_up_and_never_stored,
    texts_found_by_their_grams_give_the_models_pages_in_every_scope,
    grams_follow_a_calls_changes_and_its_deletion,
);
