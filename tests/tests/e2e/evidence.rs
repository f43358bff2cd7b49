//! End-to-end: signed, chained evidence (issue #12.2) with the real server, real SIPREC calls
//! from `callrec-sim` and real uploads. Each finished recording gets an entry whose Ed25519
//! signature the test checks itself (ed25519-dalek, against the published key); flipping one
//! byte of a stored file, deleting a recording's row in the database, or deleting its file are
//! each reported — naming the recording — by both verifies (`GET /api/v1/evidence/verify` and
//! the offline check `callrec-server verify` runs); retention and admin deletions verify clean;
//! and the documented Python and `openssl` recipes check an exported call for real.

use crate::post_call::{self, eventually, local, run_now, world};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use callrec_client::Client;
use callrec_server::evidence::sweep;
use callrec_server::evidence::verify;
use callrec_sim::{Sim, Transport};
use callrec_tests::directory::{self, add_rule, rule};
use callrec_tests::{files_under, import, metric, test_config, wav, TestServer, INGEST_TOKEN};
use callrec_types::calls::{CallState, Recording};
use callrec_types::evidence::{EvidenceKind, EvidenceProblemKind, EvidenceReport, RecordingEvidence};
use callrec_types::rules::{Dispatch, RuleDirection, RuleMode, RuleOrigin};
use callrec_types::wire::SettingsPatch;
use callrec_types::{CallId, RecordingId};
use chrono::{Duration, Utc};
use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use std::path::{Path, PathBuf};

/// The recording's signed entry, once it is there (it is appended right after the row is
/// completed).
async fn evidence_of(c: &Client, id: RecordingId) -> RecordingEvidence {
    eventually(20, "the recording's evidence entry is appended", || async {
        c.recording_evidence(id).await.ok()
    })
    .await
}

/// Checks the entry with ed25519-dalek against the published key, independently of the
/// server's and the types' own code: the canonical text is rebuilt here from the fields.
fn assert_signed(ev: &RecordingEvidence, published: &str, rec: &Recording) {
    let e = &ev.entry;
    assert_eq!(e.kind, EvidenceKind::Recorded);
    assert_eq!((e.recording_id, e.call_id), (rec.id, rec.call_id));
    assert_eq!(e.sha256, rec.sha256, "the entry signs the recording's SHA-256");
    assert_eq!((e.bytes, e.duration_ms), (rec.bytes, rec.duration_ms));
    assert_eq!(e.public_key, published, "signed by the published key");
    let canonical = format!(
        "callrec-evidence-v1\nseq={}\nkind=recorded\nrecording_id={}\ncall_id={}\nsha256={}\nduration_ms={}\nbytes={}\nat_ms={}\nprev_hash={}\npublic_key={}\n",
        e.seq,
        e.recording_id,
        e.call_id,
        e.sha256,
        e.duration_ms,
        e.bytes,
        e.at.timestamp_millis(),
        e.prev_hash,
        e.public_key
    );
    assert_eq!(ev.canonical, canonical, "the canonical text is as documented");
    assert_eq!(
        hex::encode(<sha2::Sha256 as sha2::Digest>::digest(canonical.as_bytes())),
        e.entry_hash,
        "the entry hash is the SHA-256 of the canonical text"
    );
    let key = VerifyingKey::from_bytes(&B64.decode(published).expect("base64 key").try_into().expect("32 bytes"))
        .expect("an Ed25519 key");
    let sig = Signature::from_bytes(
        &B64.decode(&e.signature)
            .expect("base64 signature")
            .try_into()
            .expect("64 bytes"),
    );
    key.verify(canonical.as_bytes(), &sig)
        .expect("the signature verifies with the published key");
}

/// A forced SIPREC call from alice (201), about `secs` long; returns once it ended with its
/// recordings finished.
async fn siprec_call(srv: &TestServer, admin: &Client, secs: f64) -> CallId {
    let sim = Sim::connect(srv.sip, Transport::Udp)
        .await
        .expect("the simulator reaches the recorder");
    let call = sim
        .call()
        .caller("sip:201@pbx.example")
        .callee("sip:+4930999@carrier.example")
        .mon_mode("force")
        .invite()
        .await
        .expect("the recorder answers");
    let id = srv
        .state
        .store
        .call_by_sip_id(call.call_id())
        .await
        .expect("the store answers")
        .expect("the call is stored");
    tokio::time::sleep(std::time::Duration::from_secs_f64(secs)).await; // the call's length
    call.bye().await.expect("the BYE is answered");
    eventually(20, "the call ends with its recording finished", || async {
        let d = admin.get_call(id).await.ok()?;
        (d.call.state == CallState::Ended
            && !d.recordings.is_empty()
            && d.recordings.iter().all(|r| !r.sha256.is_empty()))
        .then_some(())
    })
    .await;
    id
}

/// An upload for alice's extension (201), recorded by the Support rule.
async fn upload(c: &Client, sip_call_id: &str, secs: f64) -> (CallId, RecordingId) {
    let at = Utc::now() - Duration::hours(1);
    let r = c
        .ingest_bytes(
            INGEST_TOKEN,
            &post_call::call(sip_call_id, at, "+4930999000", "201"),
            wav::stereo_ulaw(secs),
        )
        .await
        .expect("the upload is accepted");
    (r.call_id, r.recording_id)
}

async fn support_rule(admin: &Client, cast: &directory::Cast) {
    add_rule(
        admin,
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
}

/// The offline check, exactly as `callrec-server verify --data-dir DIR` runs it.
async fn verify_offline(data_dir: &Path) -> EvidenceReport {
    verify::offline(&test_config(data_dir))
        .await
        .expect("the offline verify runs")
}

/// The problems of a report as (recording, kind), sorted.
fn problems(r: &EvidenceReport) -> Vec<(RecordingId, EvidenceProblemKind)> {
    let mut v: Vec<_> = r.problems.iter().map(|p| (p.recording_id, p.problem)).collect();
    v.sort_by_key(|(id, _)| *id);
    v
}

fn stored_file(data_dir: &Path, rec: &Recording) -> PathBuf {
    files_under(&data_dir.join("recordings"), "wav")
        .into_iter()
        .find(|p| p.file_name().is_some_and(|n| n == rec.file_name.as_str()))
        .unwrap_or_else(|| panic!("the file of {} is stored", rec.file_name))
}

#[tokio::test]
async fn every_finished_recording_is_signed_and_a_flipped_byte_a_deleted_row_or_file_is_named_by_both_verifies() {
    let srv = TestServer::start().await;
    let admin = srv.admin().await;
    let cast = directory::build(&admin).await;
    support_rule(&admin, &cast).await;
    let alice = srv.login("alice", directory::PASSWORD).await;
    let carol = srv.login("carol", directory::PASSWORD).await;
    let published = srv
        .client()
        .evidence_public_key()
        .await
        .expect("the public key is published to anyone");
    assert!(published.public_key_pem.starts_with("-----BEGIN PUBLIC KEY-----"));
    assert_eq!(published.keys, vec![published.public_key.clone()], "one node, one key");
    let key_file = srv.data_dir().join("evidence-signing.key");
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file)
            .expect("the key is beside the data")
            .permissions()
            .mode();
        assert_eq!(
            mode & 0o777,
            0o600,
            "the signing key is readable by the server's user only"
        );
    }

    // A real SIPREC call and five uploads, every one signed.
    let sip_call = siprec_call(&srv, &admin, 1.5).await;
    let mut recs: Vec<Recording> = admin.get_call(sip_call).await.expect("the call").recordings;
    for i in 0..5 {
        let (_, id) = upload(&srv.client(), &format!("evidence-{i}@pbx"), 1.0 + i as f64 * 0.25).await;
        recs.push(admin.get_recording(id).await.expect("the upload's recording"));
    }
    for rec in &recs {
        let ev = evidence_of(&alice, rec.id).await;
        assert_signed(&ev, &published.public_key, rec);
    }
    let first = evidence_of(&admin, recs[0].id).await.entry;
    let journal = admin.call_journal_json(sip_call).await.expect("the journal JSON");
    assert_eq!(
        journal.evidence,
        vec![first.clone()],
        "the call's journal JSON carries its signed entry"
    );
    let err = carol
        .recording_evidence(recs[0].id)
        .await
        .expect_err("carol may not see alice's recording");
    assert_eq!(err.status(), Some(404), "answered like a recording that does not exist");
    let err = alice.verify_evidence().await.expect_err("an agent may not verify");
    assert_eq!(err.status(), Some(403));

    let clean = admin.verify_evidence().await.expect("verify");
    assert!(clean.ok, "nothing touched, nothing reported: {:?}", clean.problems);
    assert_eq!((clean.checked, clean.entries), (6, 6));
    assert_eq!(verify_offline(srv.data_dir()).await, clean, "the offline check agrees");

    // Behind the product's back: one byte flipped, one row deleted, one file deleted.
    let (flipped, row_gone, file_gone) = (&recs[1], &recs[2], &recs[3]);
    let path = stored_file(srv.data_dir(), flipped);
    let mut bytes = std::fs::read(&path).expect("read the file");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    std::fs::write(&path, &bytes).expect("tamper with the file");
    let db = sqlx::SqlitePool::connect(&format!("sqlite://{}", srv.data_dir().join("callrec.db").display()))
        .await
        .expect("the database file opens");
    sqlx::query("DELETE FROM recordings WHERE id = ?")
        .bind(row_gone.id.0)
        .execute(&db)
        .await
        .expect("delete the row");
    std::fs::remove_file(stored_file(srv.data_dir(), file_gone)).expect("delete the file");

    let want = vec![
        (flipped.id, EvidenceProblemKind::Altered),
        (row_gone.id, EvidenceProblemKind::MissingRow),
        (file_gone.id, EvidenceProblemKind::MissingFile),
    ];
    let online = admin.verify_evidence().await.expect("verify");
    assert!(!online.ok);
    assert_eq!(
        problems(&online),
        want,
        "exactly the three, each named: {:?}",
        online.problems
    );
    for p in &online.problems {
        assert!(
            p.detail.contains(&format!("recording {}", p.recording_id)),
            "the words name the recording: {}",
            p.detail
        );
    }
    let offline = verify_offline(srv.data_dir()).await;
    assert_eq!(problems(&offline), want, "the offline check finds the same");
    // The player's signal: the streamed bytes no longer hash to the signed entry.
    let (_, _, body) = admin
        .audio_bytes(flipped.id, callrec_client::AudioFormat::Original, None)
        .await
        .expect("the altered file still plays");
    assert_ne!(
        hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&body)),
        evidence_of(&admin, flipped.id).await.entry.sha256
    );
}

#[tokio::test]
async fn retention_and_admin_deletions_are_entries_and_verify_clean() {
    let w = world(local(2026, 6, 1, 12, 0, 0), |_| {}).await;
    support_rule(&w.admin, &w.cast).await;
    w.admin
        .update_settings(&SettingsPatch {
            retention_days: Some(30),
            ..Default::default()
        })
        .await
        .expect("retention 30 days");
    let client = Client::new(&w.srv.url).expect("url");
    let upload_at =
        |id: &str, days_ago: i64| post_call::call(id, w.srv.now() - Duration::days(days_ago), "+4930999000", "201");
    let mut ids = Vec::new();
    for (id, days) in [("old@pbx", 40), ("kept@pbx", 5), ("deleted@pbx", 5)] {
        let r = client
            .ingest_bytes(INGEST_TOKEN, &upload_at(id, days), wav::stereo_ulaw(1.0))
            .await
            .expect("upload");
        evidence_of(&w.admin, r.recording_id).await;
        ids.push(r.recording_id);
    }
    let (old, kept, deleted) = (ids[0], ids[1], ids[2]);
    assert_eq!(
        run_now(&w.admin).await.deleted_recordings,
        vec![old],
        "retention takes the old one"
    );
    w.admin.delete_recording(deleted).await.expect("the admin deletes one");

    let chain = w.srv.state.store.list_evidence(0, 100).await.expect("the chain");
    let kinds: Vec<_> = chain.iter().map(|e| (e.recording_id, e.kind)).collect();
    assert_eq!(
        kinds,
        vec![
            (old, EvidenceKind::Recorded),
            (kept, EvidenceKind::Recorded),
            (deleted, EvidenceKind::Recorded),
            (old, EvidenceKind::DeletedByRetention),
            (deleted, EvidenceKind::DeletedByAdmin),
        ]
    );
    let old_entry = &chain[0];
    assert_eq!(chain[3].sha256, old_entry.sha256, "the deletion names what was deleted");
    let report = w.admin.verify_evidence().await.expect("verify");
    assert!(report.ok, "deletions by the product are clean: {:?}", report.problems);
    assert_eq!((report.checked, report.entries), (1, 5));
    assert_eq!(verify_offline(w.dir.path()).await, report);
}

/// The first fenced block of `lang` after the heading that starts with `heading` in
/// docs/evidence.md.
fn doc_block(heading: &str, lang: &str) -> String {
    let doc = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/evidence.md"))
        .expect("docs/evidence.md");
    let section = &doc[doc.find(heading).unwrap_or_else(|| panic!("a section {heading:?}"))..];
    let open = format!("```{lang}\n");
    let start = section.find(&open).expect("a code block") + open.len();
    section[start..start + section[start..].find("\n```").expect("the block ends")].to_string() + "\n"
}

fn run(dir: &Path, program: &str, args: &[&str]) -> (bool, String) {
    let out = std::process::Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("{program} runs: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[tokio::test]
async fn the_documented_python_and_openssl_recipes_check_an_exported_call() {
    let srv = TestServer::start().await;
    let admin = srv.admin().await;
    let cast = directory::build(&admin).await;
    support_rule(&admin, &cast).await;
    let (call, rec_id) = upload(&srv.client(), "recipe@pbx", 1.0).await;
    let ev = evidence_of(&admin, rec_id).await;
    let rec = admin.get_recording(rec_id).await.expect("recording");
    let dir = tempfile::tempdir().expect("a work dir");
    let d = dir.path();
    let pem = srv.client().evidence_public_key().await.expect("key").public_key_pem;
    std::fs::write(d.join("callrec-public.pem"), pem).unwrap();
    let (_, _, wav) = admin
        .audio_bytes(rec_id, callrec_client::AudioFormat::Original, None)
        .await
        .expect("download");
    std::fs::write(d.join(&rec.file_name), &wav).unwrap();
    std::fs::write(d.join("rec.wav"), &wav).unwrap();
    let journal = serde_json::to_vec_pretty(&admin.call_journal_json(call).await.expect("journal")).unwrap();
    std::fs::write(d.join("call.json"), journal).unwrap();
    std::fs::write(d.join("ev.json"), serde_json::to_vec(&ev).unwrap()).unwrap();
    std::fs::write(
        d.join("check_evidence.py"),
        doc_block("### Checking an exported call with Python", "python"),
    )
    .unwrap();
    std::fs::write(
        d.join("recipe.sh"),
        doc_block("### Checking one recording with `openssl`", "bash"),
    )
    .unwrap();

    let (ok, out) = run(
        d,
        "python3",
        &["check_evidence.py", "call.json", "callrec-public.pem", &rec.file_name],
    );
    assert!(ok, "the Python recipe passes on an untouched export:\n{out}");
    assert!(
        out.contains("signature OK") && out.contains("matches its signed entry"),
        "{out}"
    );
    let (ok, out) = run(d, "bash", &["-e", "recipe.sh"]);
    assert!(ok, "the openssl recipe passes:\n{out}");
    assert!(
        out.contains("Signature Verified Successfully") && out.contains("audio matches"),
        "{out}"
    );

    // One byte of the audio changed: both recipes say so.
    let mut bad = wav.to_vec();
    bad[100] ^= 0x01;
    std::fs::write(d.join(&rec.file_name), &bad).unwrap();
    std::fs::write(d.join("rec.wav"), &bad).unwrap();
    let (ok, out) = run(
        d,
        "python3",
        &["check_evidence.py", "call.json", "callrec-public.pem", &rec.file_name],
    );
    assert!(
        !ok && out.contains("ALTERED"),
        "the Python recipe catches the altered audio:\n{out}"
    );
    let (ok, _) = run(d, "bash", &["-e", "recipe.sh"]);
    assert!(!ok, "the openssl recipe fails on the altered audio");
    // An edited entry (another hash written into the JSON): the signature no longer holds.
    let mut forged = ev.clone();
    forged.entry.sha256 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bad));
    forged.canonical = forged.entry.canonical();
    std::fs::write(d.join("ev.json"), serde_json::to_vec(&forged).unwrap()).unwrap();
    let (ok, out) = run(d, "bash", &["-e", "recipe.sh"]);
    assert!(!ok, "a forged entry fails the openssl check:\n{out}");
}

/// A crash between completing a recording's row and appending its entry leaves a finished
/// recording without one. The sweep at the next start signs it once its audio, read as playback
/// reads it, hashes to its row; one whose audio is not there stays unsigned, counted in
/// `/metrics`, and is not signed blindly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_start_up_sweep_signs_a_recording_left_without_an_entry_and_counts_one_without_audio() {
    let srv = TestServer::start().await;
    let admin = srv.admin().await;
    let cast = directory::build(&admin).await;
    let audio = wav::stereo_ulaw(2.0);
    let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&audio));
    let started = Utc::now() - Duration::hours(1);
    let mut calls = Vec::new();
    for (key, with_audio) in [("sweep-heard", true), ("sweep-lost", false)] {
        let call = import::ended_call(key, ("Customer", "+493012345678"), &cast.alice, started);
        let rel = format!("recordings/imported/{key}_001.wav");
        if with_audio {
            let path = srv.state.files.abs(&rel).expect("a path in the data dir");
            std::fs::create_dir_all(path.parent().expect("a folder")).expect("the folder");
            std::fs::write(&path, &audio).expect("the audio");
        }
        let rec = import::finished_recording(&call, &rel, 2000, audio.len() as i64, &sha);
        calls.push((call, vec![rec]));
    }
    srv.state.store.import_calls(&calls).await.expect("the store imports");
    let mut recs = Vec::new();
    for key in ["sweep-heard", "sweep-lost"] {
        let call = srv
            .state
            .store
            .call_by_sip_id(&format!("{key}@pbx"))
            .await
            .expect("the store answers")
            .expect("the imported call");
        recs.extend(srv.state.store.list_recordings(call).await.expect("its recordings"));
    }
    let [heard, lost] = <[Recording; 2]>::try_from(recs).expect("one recording each");
    assert!(
        admin.recording_evidence(heard.id).await.is_err(),
        "imported without an entry"
    );

    let dir = srv.stop().await.expect("the test's data dir");
    let srv = TestServer::start_on(dir.path()).await;
    eventually(30, "the start-up sweep completes", || async {
        // Registered when the sweeps start, a moment after the server.
        let text = srv.state.metrics.render();
        (text.contains(sweep::SWEEPS) && metric(&text, sweep::SWEEPS) >= 1).then_some(())
    })
    .await;
    assert_eq!(
        metric(&srv.state.metrics.render(), sweep::UNSIGNED),
        1,
        "the recording without audio is counted"
    );
    let admin = srv.admin().await;
    let published = srv.client().evidence_public_key().await.expect("the public key");
    assert_signed(&evidence_of(&admin, heard.id).await, &published.public_key, &heard);
    let err = admin.recording_evidence(lost.id).await.expect_err("no audio, no entry");
    assert!(err.to_string().contains("404"), "{err}");
}
