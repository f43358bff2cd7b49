//! End-to-end: uploads from a PBX that records by itself, through the rules (automatic,
//! manual, force, deny, manual mon mode, not covered), onto disk with their journal JSON, and
//! the journal each user sees — an agent never another agent's call, by list or by id.

use callrec_client::{Client, JournalQuery};
use callrec_tests::directory::{self, add_rule, rule, Cast, PASSWORD};
use callrec_tests::{wav, TestServer, INGEST_TOKEN};
use callrec_types::calls::{CallDirection, DispatchStatus, JournalDocument, Trigger};
use callrec_types::rules::{Dispatch, RuleDirection, RuleMode, RuleOrigin};
use callrec_types::wire::ErrorCode;
use callrec_types::wire::{IngestCall, IngestResponse, IngestTrigger};
use chrono::{DateTime, Duration, TimeZone, Utc};
use sha2::{Digest, Sha256};

fn call(id: &str, at: DateTime<Utc>, caller: (&str, &str), callee: (&str, &str)) -> IngestCall {
    callrec_tests::upload::two_party(id, at, 3, 63, caller, callee)
}

struct World {
    server: TestServer,
    admin: Client,
    cast: Cast,
}

/// Support is recorded automatically on incoming external calls (and mailed to QA); Sales may
/// record by hand.
async fn world() -> World {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let cast = directory::build(&admin).await;
    add_rule(
        &admin,
        rule(
            "Support incoming",
            RuleMode::Automatic,
            cast.support_role,
            RuleDirection::Incoming,
            RuleOrigin::External,
            Dispatch::Email {
                recipients: vec!["qa@example.com".into()],
            },
        ),
    )
    .await;
    add_rule(
        &admin,
        rule(
            "Sales on demand",
            RuleMode::Manual,
            cast.sales_role,
            RuleDirection::Both,
            RuleOrigin::Both,
            Dispatch::Store,
        ),
    )
    .await;
    World { server, admin, cast }
}

async fn upload(c: &Client, call: &IngestCall, audio: Vec<u8>) -> Result<IngestResponse, callrec_client::ClientError> {
    c.ingest_bytes(INGEST_TOKEN, call, audio).await
}

fn t(day: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, day, h, 0, 0)
        .single()
        .expect("valid time")
}

#[tokio::test]
async fn rules_decide_what_is_stored_and_each_user_sees_only_their_calls() {
    let World { server, admin, cast } = world().await;
    let c = server.client();
    let audio = wav::stereo_ulaw(2.0);

    // 1. External caller → alice (Support): automatic, dispatched by e-mail.
    let a = upload(
        &c,
        &call("c-alice", t(20, 9), ("+4930123456", "Customer A"), ("201", "Alice")),
        audio.clone(),
    )
    .await
    .expect("an automatic rule covers alice's incoming external call");
    // 2. External → carol (Sales) with no manual press: not covered.
    let e = upload(
        &c,
        &call("c-carol-auto", t(20, 10), ("+4930999", "Customer B"), ("203", "Carol")),
        audio.clone(),
    )
    .await
    .expect_err("no automatic rule covers carol");
    assert_eq!(
        (e.status(), e.code()),
        (Some(422), Some(ErrorCode::NotPermittedByRules))
    );
    let trace = e
        .body()
        .and_then(|b| b.trace.clone())
        .expect("the refusal carries the decision trace");
    assert!(
        trace.iter().any(|l| l.message.contains("Support incoming")),
        "the trace names the rules it tried: {trace:?}"
    );
    // 3. Carol pressed record: the manual rule allows it.
    let mut manual = call(
        "c-carol-manual",
        t(20, 11),
        ("+4930999", "Customer B"),
        ("203", "Carol"),
    );
    manual.trigger = IngestTrigger::Manual;
    manual.triggered_by = Some("203".into());
    let m = upload(&c, &manual, audio.clone())
        .await
        .expect("carol may record by hand");
    // 4. deny: never recorded.
    let mut deny = call("c-deny", t(20, 12), ("+4930555", "Refuser"), ("201", "Alice"));
    deny.mon_mode = Some("deny".into());
    let e = upload(&c, &deny, audio.clone()).await.expect_err("deny");
    assert_eq!((e.status(), e.code()), (Some(409), Some(ErrorCode::RecordingDenied)));
    // 5. force: recorded although no automatic rule covers carol.
    let mut force = call("c-force", t(20, 13), ("+4930777", "Forced"), ("203", "Carol"));
    force.mon_mode = Some("force".into());
    let f = upload(&c, &force, audio.clone()).await.expect("force records");
    // 6. manual mon mode: bob (no manual rule) may record by hand.
    let mut mm = call("c-bob-mm", t(20, 14), ("202", "Bob"), ("+4930888", "Supplier"));
    mm.mon_mode = Some("manual".into());
    mm.trigger = IngestTrigger::Manual;
    mm.triggered_by = Some("bob".into());
    let b = upload(&c, &mm, audio.clone())
        .await
        .expect("manual mon mode lets any participant record");
    // 7. A second recording of alice's call joins the same call as seq 002.
    let a2 = upload(
        &c,
        &call("c-alice", t(20, 9), ("+4930123456", "Customer A"), ("201", "Alice")),
        audio.clone(),
    )
    .await
    .expect("second recording");
    assert_eq!(a2.call_id, a.call_id, "the same SIP Call-ID is the same call");

    // Triggers and files as the spec says.
    let rec = admin.get_recording(a.recording_id).await.expect("recording");
    assert!(
        matches!(rec.trigger, Trigger::Auto { rule_id: Some(_), .. }),
        "{:?}",
        rec.trigger
    );
    assert_eq!(
        rec.sha256,
        hex::encode(Sha256::digest(&audio)),
        "the stored file is the upload, byte for byte"
    );
    assert_eq!(
        (rec.bytes as usize, rec.channels, rec.sample_rate, rec.duration_ms),
        (audio.len(), 2, 8000, 2000)
    );
    assert_eq!(rec.dispatch.len(), 1, "the e-mail rule queued one target");
    assert_eq!(rec.dispatch[0].status, DispatchStatus::Pending);
    let key = rec.file_name.trim_end_matches("_001.wav").to_string();
    let day = server.data_dir().join("recordings/2026/11/20");
    assert!(
        day.join(format!("{key}_001.wav")).is_file() && day.join(format!("{key}_002.wav")).is_file(),
        "files at the spec's paths"
    );
    let doc: JournalDocument =
        serde_json::from_slice(&std::fs::read(day.join(format!("{key}.json"))).expect("journal JSON on disk"))
            .expect("valid");
    assert_eq!(doc.recordings.len(), 2, "the journal JSON lists both recordings");
    assert!(
        doc.decision_trace
            .iter()
            .any(|l| l.message.contains("Support incoming")),
        "and the decision trace"
    );
    assert_eq!(
        admin
            .call_journal_json(a.call_id)
            .await
            .expect("journal route")
            .recordings
            .len(),
        2
    );
    assert!(matches!(
        admin.get_recording(f.recording_id).await.expect("force").trigger,
        Trigger::Force
    ));
    let mrec = admin.get_recording(m.recording_id).await.expect("manual");
    assert!(matches!(mrec.trigger, Trigger::Manual { user_id: Some(u), .. } if u == cast.carol.id));
    assert!(
        matches!(admin.get_recording(b.recording_id).await.expect("bob").trigger, Trigger::Manual { user_id: Some(u), .. } if u == cast.bob.id)
    );

    // Who sees what.
    let ids = |page: callrec_types::calls::JournalPage| page.items.iter().map(|i| i.call.id).collect::<Vec<_>>();
    let alice = server.login("alice", PASSWORD).await;
    let bob = server.login("bob", PASSWORD).await;
    let carol = server.login("carol", PASSWORD).await;
    let sam = server.login("sam", PASSWORD).await;
    let all = JournalQuery::default();
    assert_eq!(ids(alice.journal(&all).await.expect("alice")), vec![a.call_id]);
    assert_eq!(ids(bob.journal(&all).await.expect("bob")), vec![b.call_id]);
    assert_eq!(
        ids(carol.journal(&all).await.expect("carol")),
        vec![f.call_id, m.call_id],
        "newest first"
    );
    assert_eq!(
        ids(sam.journal(&all).await.expect("sam")),
        vec![b.call_id, a.call_id],
        "the supervisor sees Support's calls only"
    );
    assert_eq!(
        ids(admin.journal(&all).await.expect("admin")),
        vec![b.call_id, f.call_id, m.call_id, a.call_id]
    );
    // Not by id either: call, recording, audio, journal JSON.
    assert_eq!(
        bob.get_call(a.call_id).await.expect_err("bob → alice's call").status(),
        Some(404)
    );
    assert_eq!(
        bob.get_recording(a.recording_id)
            .await
            .expect_err("bob → alice's recording")
            .status(),
        Some(404)
    );
    let (st, _, _) = bob
        .audio_bytes(a.recording_id, callrec_client::AudioFormat::Original, None)
        .await
        .expect("answer");
    assert_eq!(st, 404, "bob cannot stream alice's recording");
    assert_eq!(
        bob.call_journal_json(a.call_id)
            .await
            .expect_err("journal json")
            .status(),
        Some(404)
    );
    assert_eq!(
        carol.get_recording(a.recording_id).await.expect_err("carol").status(),
        Some(404)
    );
    assert!(sam.get_recording(a.recording_id).await.is_ok(), "the supervisor may");
    assert_eq!(
        sam.get_recording(m.recording_id)
            .await
            .expect_err("not sam's team")
            .status(),
        Some(404)
    );
    // A supervisor filtering on a user outside their teams gets nothing.
    let q = JournalQuery {
        user_id: Some(cast.carol.id),
        ..Default::default()
    };
    assert!(sam.journal(&q).await.expect("sam").items.is_empty());
    let q = JournalQuery {
        user_id: Some(cast.alice.id),
        ..Default::default()
    };
    assert_eq!(ids(sam.journal(&q).await.expect("sam")), vec![a.call_id]);

    // Filters.
    let q = |f: fn(&mut JournalQuery)| {
        let mut j = JournalQuery::default();
        f(&mut j);
        j
    };
    assert_eq!(
        ids(admin.journal(&q(|j| j.q = Some("30123".into()))).await.expect("q")),
        vec![a.call_id],
        "substring of a number"
    );
    assert_eq!(
        ids(admin.journal(&q(|j| j.q = Some("supplier".into()))).await.expect("q")),
        vec![b.call_id],
        "a name, any case"
    );
    assert_eq!(
        ids(admin.journal(&q(|j| j.q = Some("03".into()))).await.expect("q")),
        vec![f.call_id, m.call_id],
        "two characters: carol's 203"
    );
    assert_eq!(
        ids(admin
            .journal(&q(|j| j.direction = Some(CallDirection::Outgoing)))
            .await
            .expect("dir")),
        vec![b.call_id]
    );
    assert_eq!(
        admin
            .journal(&q(|j| j.has_recordings = Some(false)))
            .await
            .expect("has")
            .items
            .len(),
        0,
        "refused uploads leave no call"
    );
    let mut day = JournalQuery {
        from: Some(t(20, 10)),
        to: Some(t(20, 13)),
        ..Default::default()
    };
    assert_eq!(
        ids(admin.journal(&day).await.expect("range")),
        vec![m.call_id],
        "from inclusive, to exclusive"
    );
    day.from = Some(t(21, 0));
    assert!(admin.journal(&day).await.expect("empty range").items.is_empty());
    let rec_count = admin
        .journal(&all)
        .await
        .expect("all")
        .items
        .iter()
        .find(|i| i.call.id == a.call_id)
        .map(|i| i.call.recording_count);
    assert_eq!(rec_count, Some(2), "the REC badge counts both recordings");

    // Keyset paging: pages of one, no duplicates, no gaps.
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = admin
            .journal(&JournalQuery {
                limit: Some(1),
                cursor: cursor.clone(),
                ..Default::default()
            })
            .await
            .expect("page");
        seen.extend(page.items.iter().map(|i| i.call.id));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(seen, vec![b.call_id, f.call_id, m.call_id, a.call_id]);

    // Ingest is audited.
    let audit = admin.audit(None, Some(500)).await.expect("audit");
    assert_eq!(
        audit.items.iter().filter(|e| e.action == "ingest").count(),
        5,
        "one row per stored upload"
    );
}

#[tokio::test]
async fn bad_uploads_are_refused_and_leave_nothing_behind() {
    let server = TestServer::start_with(|c| c.max_upload_bytes = 64 * 1024).await;
    let admin = server.admin().await;
    let cast = directory::build(&admin).await;
    let _ = cast;
    let mut force = call("c-bad", t(20, 9), ("+4930123456", "Customer"), ("201", "Alice"));
    force.mon_mode = Some("force".into());
    let c = server.client();
    let good = wav::stereo_ulaw(1.0);

    let mut truncated = good.clone();
    truncated.truncate(2000);
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        ("truncated WAV", truncated, 422, "invalid_wav"),
        (
            "not a WAV",
            b"this is not audio at all, just text".repeat(10),
            422,
            "invalid_wav",
        ),
        ("empty", Vec::new(), 422, "invalid_wav"),
        ("a WAV over the size limit", wav::stereo_ulaw(5.0), 413, "too_large"),
        (
            "PCM16 at 44.1 kHz",
            wav::mono_pcm16(0.1, 44_100, 440.0),
            422,
            "invalid_wav",
        ),
    ];
    for (what, bytes, status, code) in cases {
        let e = c.ingest_bytes(INGEST_TOKEN, &force, bytes).await.expect_err(what);
        assert_eq!(
            (e.status(), e.code().map(ErrorCode::as_str)),
            (Some(status), Some(code)),
            "{what}"
        );
    }
    let e = c
        .ingest_bytes("wrong-token", &force, good.clone())
        .await
        .expect_err("bad token");
    assert_eq!(e.status(), Some(401));
    let mut bad_mode = force.clone();
    bad_mode.mon_mode = Some("sometimes".into());
    assert_eq!(
        c.ingest_bytes(INGEST_TOKEN, &bad_mode, good.clone())
            .await
            .expect_err("mon mode")
            .code(),
        Some(ErrorCode::InvalidCall)
    );
    let mut no_parts = force.clone();
    no_parts.participants.clear();
    assert_eq!(
        c.ingest_bytes(INGEST_TOKEN, &no_parts, good.clone())
            .await
            .expect_err("no participants")
            .code(),
        Some(ErrorCode::InvalidCall)
    );
    // Malformed call JSON, and a form without the audio part.
    let form = reqwest::multipart::Form::new().text("call", "{oops").part(
        "audio",
        reqwest::multipart::Part::bytes(good.clone()).file_name("a.wav"),
    );
    let res = server
        .client()
        .raw(reqwest::Method::POST, "/api/v1/ingest")
        .bearer_auth(INGEST_TOKEN)
        .multipart(form)
        .send()
        .await
        .expect("answer");
    assert_eq!(res.status().as_u16(), 400);
    let form = reqwest::multipart::Form::new().text("call", serde_json::to_string(&force).expect("json"));
    let res = server
        .client()
        .raw(reqwest::Method::POST, "/api/v1/ingest")
        .bearer_auth(INGEST_TOKEN)
        .multipart(form)
        .send()
        .await
        .expect("answer");
    assert_eq!(res.status().as_u16(), 400);
    let res = server
        .client()
        .raw(reqwest::Method::POST, "/api/v1/ingest")
        .bearer_auth(INGEST_TOKEN)
        .body("x")
        .send()
        .await
        .expect("answer");
    assert!(res.status().is_client_error(), "not multipart at all: {}", res.status());

    assert!(
        admin
            .journal(&JournalQuery::default())
            .await
            .expect("journal")
            .items
            .is_empty(),
        "no call was created"
    );
    let spool: Vec<_> = std::fs::read_dir(server.data_dir().join("tmp"))
        .map(|d| d.collect())
        .unwrap_or_default();
    assert!(spool.is_empty(), "no spooled upload is left behind: {spool:?}");
    assert!(
        !server.data_dir().join("recordings").exists(),
        "no recording file was written"
    );
    // And a good one still works.
    assert!(c.ingest_bytes(INGEST_TOKEN, &force, good).await.is_ok());
}

/// Every `.wav` under the data directory's recordings.
fn stored_wavs(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.join("recordings")];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                todo.push(path);
            } else if path.extension().is_some_and(|e| e == "wav") {
                out.push(path);
            }
        }
    }
    out
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

#[tokio::test]
async fn issue13_nul_in_search_is_a_clear_400_for_every_role_and_fts_syntax_is_literal() {
    let World { server, admin, cast: _ } = world().await;
    upload(
        &server.client(),
        &call(
            "c-search",
            t(20, 9),
            ("+4930123456", "Customer \"A\" *"),
            ("201", "Alice"),
        ),
        wav::stereo_ulaw(0.5),
    )
    .await
    .expect("an automatic rule covers alice's call");
    let alice = server.login("alice", PASSWORD).await;
    let search = |c: &callrec_client::Client, q: &str| {
        let query = JournalQuery {
            q: Some(q.to_string()),
            ..JournalQuery::default()
        };
        let c = c.clone();
        async move { c.journal(&query).await }
    };
    for (who, c) in [("admin", &admin), ("agent", &alice)] {
        for q in ["abc\0", "\0", "ali\u{1}ce", "cus\ttomer", "a\u{7f}b"] {
            let e = search(c, q)
                .await
                .expect_err("a search text with a control character is refused");
            assert_eq!(
                (e.status(), e.code()),
                (Some(400), Some(ErrorCode::BadQuery)),
                "{who} searching {q:?} gets the same clear 400"
            );
            assert!(
                e.body().is_some_and(|b| b.message.contains("control characters")),
                "the message says why: {e}"
            );
        }
        for q in ["cust*", "NEAR(customer alice)", "customer AND alice", "(", "^cu", "x:y"] {
            let page = search(c, q)
                .await
                .unwrap_or_else(|e| panic!("{who} searching {q:?} gets an answer, not {e}"));
            assert!(page.items.is_empty(), "{who}: no call holds {q:?} literally");
        }
        for q in ["\"", "*", "\"a\"", "\"a\" *", "omer \"a"] {
            let page = search(c, q)
                .await
                .unwrap_or_else(|e| panic!("{who} searching {q:?} gets an answer, not {e}"));
            assert_eq!(
                page.items.len(),
                1,
                "{who}: quotes and stars are found where a name holds them ({q:?})"
            );
        }
    }
}

/// `wav::stereo_ulaw(secs)` with its RIFF and data sizes replaced.
fn lying_wav(secs: f64, riff: u32, data: u32) -> Vec<u8> {
    let mut bytes = wav::stereo_ulaw(secs);
    bytes[4..8].copy_from_slice(&riff.to_le_bytes());
    bytes[54..58].copy_from_slice(&data.to_le_bytes());
    bytes
}

#[tokio::test]
async fn issue13_wav_placeholder_sizes_are_repaired_and_the_stored_header_tells_the_truth() {
    placeholder_sizes_are_repaired(None).await;
}

/// The same repair on an upload sealed as it arrives (issue #12.1): done on its plaintext.
#[tokio::test]
async fn issue12_placeholder_sizes_of_a_sealed_upload_are_repaired_in_its_plaintext() {
    let keys = tempfile::tempdir().expect("key dir");
    let key = keys.path().join("master.key");
    callrec_server::sealed::MasterKey::generate()
        .write_new(&key)
        .expect("the key file");
    placeholder_sizes_are_repaired(Some(key)).await;
}

async fn placeholder_sizes_are_repaired(key: Option<std::path::PathBuf>) {
    let sealed = key.is_some();
    let server = TestServer::start_with(|c| c.encryption_key_file = key).await;
    let admin = server.admin().await;
    directory::build(&admin).await;
    let mut force = call("c-stream", t(20, 9), ("+4930123456", "Customer"), ("201", "Alice"));
    force.mon_mode = Some("force".into());
    let c = server.client();

    let sent = lying_wav(2.0, u32::MAX, u32::MAX);
    let r = upload(&c, &force, sent.clone())
        .await
        .expect("a streaming writer's placeholder sizes are repaired, not refused");
    let rec = admin.get_call(r.call_id).await.expect("the call").recordings[0].clone();
    assert_eq!(rec.duration_ms, 2000, "the row has the real duration, not 74 hours");
    let files = stored_wavs(server.data_dir());
    assert_eq!(files.len(), 1, "one recording stored: {files:?}");
    let on_disk = std::fs::read(&files[0]).expect("the stored file");
    assert_eq!(
        on_disk.starts_with(b"CRSEAL"),
        sealed,
        "sealed exactly when a key is set"
    );
    let stored = server.state.vault.read(&files[0]).await.expect("the stored plaintext");
    assert_eq!(stored.len(), sent.len(), "the audio is stored whole");
    assert_eq!(
        u32_at(&stored, 4) as usize,
        stored.len() - 8,
        "the RIFF size matches the file"
    );
    assert_eq!(
        u32_at(&stored, 54) as usize,
        stored.len() - 58,
        "the data size matches the audio"
    );
    assert_eq!(u32_at(&stored, 46), 16_000, "the fact chunk counts 2 s of samples");
    assert_eq!(&stored[58..], &sent[58..], "the audio bytes are unchanged");
    assert_eq!(
        rec.bytes as usize,
        stored.len(),
        "the row's size is the stored plaintext's"
    );
    assert_eq!(
        rec.sha256,
        hex::encode(Sha256::digest(&stored)),
        "the row's checksum is of the stored plaintext"
    );
}

#[tokio::test]
async fn issue13_wav_with_a_short_data_size_and_trailing_bytes_is_refused_and_nothing_stored() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    directory::build(&admin).await;
    let mut force = call("c-short", t(20, 9), ("+4930123456", "Customer"), ("201", "Alice"));
    force.mon_mode = Some("force".into());
    // Declares 100 bytes of audio (6 ms) in a consistent header; 32,000 more bytes follow.
    let mut lie = lying_wav(2.0, 50 + 100, 100);
    lie.extend(std::iter::repeat_n(0xD5u8, 100));
    let e = upload(&server.client(), &force, lie)
        .await
        .expect_err("the header and the body disagree");
    assert_eq!((e.status(), e.code()), (Some(422), Some(ErrorCode::InvalidWav)), "{e}");
    assert!(
        e.body()
            .is_some_and(|b| b.message.contains("declares 100 bytes") && b.message.contains("32000 more")),
        "the message says what disagrees: {e}"
    );
    assert!(
        stored_wavs(server.data_dir()).is_empty(),
        "no recording file was written"
    );
    assert!(
        admin
            .journal(&JournalQuery::default())
            .await
            .expect("journal")
            .items
            .is_empty(),
        "no call was created"
    );
}

#[tokio::test]
async fn issue13_a_call_in_the_far_future_is_refused_with_400_and_nothing_stored() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    directory::build(&admin).await;
    let c = server.client();
    let far = Utc.with_ymd_and_hms(9999, 1, 1, 0, 0, 0).single().expect("valid time");
    let mut future = call("c-future", far, ("+4930123456", "Customer"), ("201", "Alice"));
    future.mon_mode = Some("force".into());
    let e = upload(&c, &future, wav::stereo_ulaw(0.5))
        .await
        .expect_err("a call in the year 9999 is refused");
    assert_eq!(
        (e.status(), e.code()),
        (Some(400), Some(ErrorCode::TimeInFuture)),
        "{e}"
    );
    assert!(
        e.body().is_some_and(|b| b.message.contains("started_at")),
        "the message names the field: {e}"
    );
    assert!(
        admin
            .journal(&JournalQuery::default())
            .await
            .expect("journal")
            .items
            .is_empty(),
        "no call was created"
    );
    assert!(
        stored_wavs(server.data_dir()).is_empty(),
        "no recording file was written"
    );
    let spool: Vec<_> = std::fs::read_dir(server.data_dir().join("tmp"))
        .map(|d| d.collect())
        .unwrap_or_default();
    assert!(spool.is_empty(), "no spooled upload is left behind: {spool:?}");

    // A PBX clock a little ahead of ours is within the tolerance.
    let mut ahead = call(
        "c-ahead",
        Utc::now() + Duration::hours(2),
        ("+4930123456", "Customer"),
        ("201", "Alice"),
    );
    ahead.mon_mode = Some("force".into());
    upload(&c, &ahead, wav::stereo_ulaw(0.5))
        .await
        .expect("two hours ahead is accepted");
}

#[tokio::test]
async fn issue13_leftover_upload_spool_files_are_removed_at_start_up() {
    let dir = tempfile::tempdir().expect("a temp dir for the data");
    let tmp = dir.path().join("tmp");
    std::fs::create_dir_all(&tmp).expect("tmp dir");
    std::fs::write(tmp.join("upload-x.part"), b"half an upload").expect("a leftover spool file");
    std::fs::write(tmp.join("other.txt"), b"not ours").expect("another file");
    let server = TestServer::start_on(dir.path()).await;
    assert!(
        !tmp.join("upload-x.part").exists(),
        "the spool file a crash left behind is gone once the server is bound"
    );
    assert!(tmp.join("other.txt").exists(), "other files in tmp are left alone");
    drop(server);
}

#[tokio::test]
async fn issue13_ingest_without_a_multipart_boundary_answers_json() {
    let server = TestServer::start().await;
    let cases: [(&str, Option<&str>); 3] = [
        ("multipart without a boundary", Some("multipart/form-data")),
        ("not multipart", Some("application/json")),
        ("no content type", None),
    ];
    for (what, content_type) in cases {
        let mut req = server
            .client()
            .raw(reqwest::Method::POST, "/api/v1/ingest")
            .bearer_auth(INGEST_TOKEN)
            .body("{}");
        if let Some(ct) = content_type {
            req = req.header(reqwest::header::CONTENT_TYPE, ct);
        }
        let res = req.send().await.expect("answer");
        assert_eq!(res.status().as_u16(), 400, "{what}: a 400");
        let body: serde_json::Value = res
            .json()
            .await
            .unwrap_or_else(|e| panic!("{what}: the answer is a JSON error body, not plain text: {e}"));
        assert_eq!(body["code"], "malformed_upload", "{what}: {body}");
        assert!(
            body["message"]
                .as_str()
                .is_some_and(|m| m.contains("multipart/form-data")),
            "{what}: the message says what is expected: {body}"
        );
    }
    // The token is checked first: without it the format is not discussed.
    let res = server
        .client()
        .raw(reqwest::Method::POST, "/api/v1/ingest")
        .header(reqwest::header::CONTENT_TYPE, "multipart/form-data")
        .body("{}")
        .send()
        .await
        .expect("answer");
    assert_eq!(res.status().as_u16(), 401, "no token, no upload");
}

fn journal_q(q: &str) -> JournalQuery {
    JournalQuery {
        q: Some(q.into()),
        ..JournalQuery::default()
    }
}

/// #17 (defects 9 and 10): the PBX labelled alice "Caller"; the journal search finds her call
/// by her directory name, each call names her as the directory does now (renames included),
/// automatic recordings name their rule, and the dispatch queue names the call.
#[tokio::test]
async fn issue17_calls_carry_directory_names_and_are_found_by_them() {
    use callrec_types::directory::UserPatch;
    let World { server, admin, cast } = world().await;
    admin
        .update_user(
            cast.alice.id,
            &UserPatch {
                display_name: Some("Alice Adams".into()),
                ..UserPatch::default()
            },
        )
        .await
        .expect("alice gets her full name");
    let up = upload(
        &server.client(),
        &call("c-17", t(21, 9), ("+4930170017", "Customer"), ("201", "Caller")),
        wav::stereo_ulaw(1.0),
    )
    .await
    .expect("the automatic rule records alice's incoming call");
    let alice = server.login("alice", PASSWORD).await;
    let bob = server.login("bob", PASSWORD).await;

    let user_name_in = |page: &callrec_types::calls::JournalPage| -> Option<Option<String>> {
        page.items.iter().find(|i| i.call.id == up.call_id).map(|i| {
            i.call
                .participants
                .iter()
                .find(|p| p.user_id == Some(cast.alice.id))
                .and_then(|p| p.user_name.clone())
        })
    };
    for (who, c) in [("admin", &admin), ("alice", &alice)] {
        let page = c.journal(&journal_q("alice")).await.expect("journal");
        assert_eq!(
            user_name_in(&page),
            Some(Some("Alice Adams".to_string())),
            "{who} finds the call the PBX labelled “Caller” by “alice”, named as the directory names her"
        );
    }
    let page = admin.journal(&journal_q("Adams")).await.expect("journal");
    assert!(user_name_in(&page).is_some(), "the display name alone finds it too");
    let page = bob.journal(&journal_q("alice")).await.expect("journal");
    assert_eq!(
        user_name_in(&page),
        None,
        "bob was not on the call and still does not see it"
    );

    // The call and its recording as the detail shows them.
    let detail = admin.get_call(up.call_id).await.expect("call");
    let p = detail
        .call
        .participants
        .iter()
        .find(|p| p.user_id == Some(cast.alice.id))
        .expect("alice takes part");
    assert_eq!(
        (p.name.as_str(), p.user_name.as_deref()),
        ("Caller", Some("Alice Adams"))
    );
    assert!(
        detail
            .call
            .participants
            .iter()
            .any(|p| p.user_id.is_none() && p.user_name.is_none()),
        "the external party has no directory name"
    );
    let auto = Trigger::Auto {
        rule_id: admin
            .list_rules()
            .await
            .expect("rules")
            .iter()
            .find(|r| r.description == "Support incoming")
            .map(|r| r.id),
        rule_name: Some("Support incoming".into()),
    };
    assert_eq!(detail.recordings[0].trigger, auto, "the recording names its rule");
    assert_eq!(
        admin.get_recording(up.recording_id).await.expect("recording").trigger,
        auto,
        "so does the recording's own metadata"
    );
    let key = detail.recordings[0].file_name.trim_end_matches("_001.wav").to_string();
    let on_disk: serde_json::Value = serde_json::from_slice(
        &std::fs::read(server.data_dir().join(format!("recordings/2026/11/21/{key}.json")))
            .expect("journal JSON on disk"),
    )
    .expect("valid");
    assert!(
        on_disk.to_string().contains("\"user_name\":\"Alice Adams\""),
        "the journal document on disk names alice as the directory did: {on_disk}"
    );

    // The dispatch queue names the call, not just recording id.
    let queue = admin.list_dispatch().await.expect("queue");
    let item = queue
        .iter()
        .find(|d| d.recording_id == up.recording_id)
        .expect("the e-mail copy is queued");
    let call = item.call.as_ref().expect("the queue item names its call");
    assert_eq!((call.id, call.recording_seq), (up.call_id, 1));
    assert_eq!(call.started_at, t(21, 9));
    assert!(
        call.participants
            .iter()
            .any(|p| p.user_name.as_deref() == Some("Alice Adams")),
        "with the directory's names: {:?}",
        call.participants
    );

    // A rename shows at once, on the calls stored before it.
    admin
        .update_user(
            cast.alice.id,
            &UserPatch {
                display_name: Some("Alice Baker".into()),
                ..UserPatch::default()
            },
        )
        .await
        .expect("renamed");
    let page = admin.journal(&journal_q("baker")).await.expect("journal");
    assert_eq!(
        user_name_in(&page),
        Some(Some("Alice Baker".to_string())),
        "the new name finds the old call and is the name shown"
    );
    let page = admin.journal(&journal_q("adams")).await.expect("journal");
    assert_eq!(user_name_in(&page), None, "the old name no longer finds it");

    // A deleted rule has no name.
    let rule = auto_rule_id(&auto);
    admin.delete_rule(rule).await.expect("rule deleted");
    assert_eq!(
        admin.get_recording(up.recording_id).await.expect("recording").trigger,
        Trigger::Auto {
            rule_id: Some(rule),
            rule_name: None
        }
    );
}

fn auto_rule_id(t: &Trigger) -> callrec_types::RuleId {
    match t {
        Trigger::Auto { rule_id: Some(r), .. } => *r,
        other => panic!("not an automatic rule's trigger: {other:?}"),
    }
}

/// #17 (defect 10): a bad cron expression is refused in plain words, not the cron crate's
/// "Component error: Number out of bounds", when saved and when previewed.
#[tokio::test]
async fn issue17_a_bad_dispatch_schedule_is_explained_in_plain_words() {
    use callrec_types::wire::SettingsPatch;
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let want = "“75 * * * *”: the minute must be 0–59";
    let e = admin
        .update_settings(&SettingsPatch {
            dispatch_schedule: Some("75 * * * *".into()),
            ..SettingsPatch::default()
        })
        .await
        .expect_err("minute 75 does not exist");
    let body = e.body().expect("an API error body");
    assert_eq!(body.code, ErrorCode::Invalid);
    let fields = body.fields.as_ref().expect("the field is named");
    assert_eq!(
        (fields[0].field.as_str(), fields[0].message.as_str()),
        ("dispatch_schedule", want)
    );
    let e = admin
        .schedule_preview(Some("75 * * * *"))
        .await
        .expect_err("the preview refuses it too");
    let body = e.body().expect("an API error body");
    assert_eq!(body.code, ErrorCode::Invalid);
    assert_eq!(body.fields.as_ref().expect("fields")[0].message, want);
    assert!(!body.message.contains("Component"), "{}", body.message);
}
