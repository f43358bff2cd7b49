//! End-to-end: object storage for audio (issue #10.2) against a real S3 server (SeaweedFS,
//! started by `callrec_testkit::s3`). A recording — SIPREC or uploaded — is written to the
//! local spool, uploaded with its journal JSON under the same key layout when it closes, checked
//! and removed locally; it plays back byte for byte through the API, whole and by Range;
//! retention deletes the object; a dispatch script gets a temporary local copy and an e-mail
//! attaches the object; a store that is down loses nothing: recordings wait in the spool (on
//! the storage report and in `/metrics`) and go up when it returns.

use crate::post_call::{self, call, ingest, run_now, use_smtp, world, Sink, World};
use callrec_client::AudioFormat;
use callrec_media::g711::Law;
use callrec_server::config::{Config, StorageUrl};
use callrec_server::objects::queue::Backlog;
use callrec_server::state::AppState;
use callrec_sim::{Sim, Transport};
use callrec_testkit::s3;
use callrec_tests::directory::{self, add_rule, rule};
use callrec_tests::{wav, TestServer};
use callrec_types::rules::{Dispatch, RuleDirection, RuleMode, RuleOrigin};
use callrec_types::wire::SettingsPatch;
use callrec_types::RecordingId;
use chrono::Duration;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path as Key;
use object_store::{ObjectStore, ObjectStoreExt};
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// Points `c` at `server`'s bucket under `prefix`.
pub(crate) fn use_s3(c: &mut Config, server: &s3::Server, prefix: &str) {
    use_s3_at(c, &server.endpoint, prefix);
}

/// Points `c` at the test bucket of the S3 server at `endpoint`, under `prefix`.
pub(crate) fn use_s3_at(c: &mut Config, endpoint: &str, prefix: &str) {
    c.storage_url = Some(StorageUrl::S3 {
        bucket: s3::BUCKET.into(),
        prefix: prefix.into(),
    });
    c.aws = [
        ("AWS_ENDPOINT_URL", endpoint),
        ("AWS_ACCESS_KEY_ID", s3::ACCESS_KEY),
        ("AWS_SECRET_ACCESS_KEY", s3::SECRET_KEY),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ALLOW_HTTP", "true"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), callrec_server::config::Secret::new(v)))
    .collect();
}

/// A client of the bucket of its own (not the server's), to see what really is there.
pub(crate) fn bucket(server: &s3::Server) -> Arc<dyn ObjectStore> {
    Arc::new(
        AmazonS3Builder::new()
            .with_endpoint(&server.endpoint)
            .with_bucket_name(s3::BUCKET)
            .with_access_key_id(s3::ACCESS_KEY)
            .with_secret_access_key(s3::SECRET_KEY)
            .with_region("us-east-1")
            .with_allow_http(true)
            .build()
            .expect("an S3 client for the test bucket"),
    )
}

/// The bytes of `prefix/rel` in the bucket, or `None` when there is no such object.
pub(crate) async fn object(store: &Arc<dyn ObjectStore>, prefix: &str, rel: &str) -> Option<Vec<u8>> {
    let key = Key::parse(format!("{prefix}/{rel}")).expect("a valid key");
    match store.get(&key).await {
        Ok(r) => Some(r.bytes().await.expect("the object reads").to_vec()),
        Err(object_store::Error::NotFound { .. }) => None,
        Err(e) => panic!("reading {key}: {e}"),
    }
}

/// Waits (on the uploader's published progress, no sleeps) until `done` holds.
pub(crate) async fn uploads(state: &AppState, what: &str, done: impl FnMut(&Backlog) -> bool) -> Backlog {
    let mut rx = state.uploads.backlog.subscribe();
    let waited = tokio::time::timeout(std::time::Duration::from_secs(90), async {
        rx.wait_for(done).await.map(|b| b.clone())
    })
    .await;
    match waited {
        Ok(Ok(b)) => b,
        _ => panic!(
            "{what}: the uploader got no further than {:?}",
            *state.uploads.backlog.borrow()
        ),
    }
}

pub(crate) fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

async fn support_rule(w: &World, dispatch: Dispatch) {
    add_rule(
        &w.admin,
        rule(
            "Support is recorded",
            RuleMode::Automatic,
            w.cast.support_role,
            RuleDirection::Both,
            RuleOrigin::Both,
            dispatch,
        ),
    )
    .await;
}

async fn rel_paths(w: &World, rec: RecordingId) -> (String, String) {
    let stored = w.srv.state.store.get_recording(rec).await.expect("the row");
    let call = w.admin.get_call(stored.recording.call_id).await.expect("the call").call;
    let journal = format!(
        "recordings/{}/{}.json",
        call.started_at.format("%Y/%m/%d"),
        call.call_key
    );
    (stored.rel_path, journal)
}

#[tokio::test]
async fn an_upload_goes_to_s3_with_its_journal_plays_back_byte_for_byte_and_retention_deletes_it() {
    let s3 = s3::shared();
    let prefix = s3.fresh_prefix();
    let w = world(post_call::local(2026, 6, 1, 12, 0, 0), |c| use_s3(c, s3, &prefix)).await;
    support_rule(&w, Dispatch::Store).await;
    let audio = wav::stereo_ulaw(3.0);
    // Forty days old, so that retention (set to 30 days below) takes it.
    let started = w.srv.now() - Duration::days(40);
    let rec = ingest(&w.srv, &call("s3-1@pbx", started, "+4930999000", "201"), audio)
        .await
        .recording_id;
    uploads(&w.srv.state, "the recording and its journal go up", |b| {
        b.recordings_uploaded >= 1 && b.waiting == 0
    })
    .await;

    let (wav_rel, journal_rel) = rel_paths(&w, rec).await;
    assert!(
        wav_rel.starts_with(&format!("recordings/{}/", started.format("%Y/%m/%d"))) && wav_rel.ends_with("_001.wav"),
        "the same key layout: {wav_rel}"
    );
    let recording = w.admin.get_recording(rec).await.expect("the recording");
    let store = bucket(s3);
    let stored = object(&store, &prefix, &wav_rel)
        .await
        .expect("the WAV is an object in the bucket");
    assert_eq!(
        sha256(&stored),
        recording.sha256,
        "the object is the recording, byte for byte"
    );
    let journal = object(&store, &prefix, &journal_rel)
        .await
        .expect("the journal JSON is an object beside it");
    let doc: serde_json::Value = serde_json::from_slice(&journal).expect("the journal is JSON");
    assert_eq!(
        doc["recordings"][0]["sha256"],
        recording.sha256.as_str(),
        "the journal names the recording"
    );
    assert!(
        !w.dir.path().join(&wav_rel).exists() && !w.dir.path().join(&journal_rel).exists(),
        "no local copy remains once uploaded and checked"
    );

    let (status, headers, body) = w
        .admin
        .audio_bytes(rec, AudioFormat::Original, None)
        .await
        .expect("play");
    assert_eq!(status, 200, "the whole recording from the object store");
    assert_eq!(body.as_ref(), stored.as_slice(), "played back byte for byte");
    assert_eq!(
        headers.get("etag").and_then(|v| v.to_str().ok()),
        Some(format!("\"{}-orig\"", recording.sha256).as_str()),
        "the entity tag is the row's SHA-256, as for a local file"
    );
    let (status, headers, part) = w
        .admin
        .audio_bytes(rec, AudioFormat::Original, Some((1000, Some(20_999))))
        .await
        .expect("a range");
    assert_eq!(status, 206, "a Range is answered from the object with 206");
    assert_eq!(part.as_ref(), &stored[1000..21_000], "the range's bytes");
    assert_eq!(
        headers.get("content-range").and_then(|v| v.to_str().ok()),
        Some(format!("bytes 1000-20999/{}", stored.len()).as_str())
    );
    let (status, _, pcm) = w
        .admin
        .audio_bytes(rec, AudioFormat::Pcm16, Some((0, Some(1023))))
        .await
        .expect("pcm16");
    assert_eq!((status, pcm.len()), (206, 1024), "PCM16 ranges work on objects too");
    let served = w
        .admin
        .call_journal_json(recording.call_id)
        .await
        .expect("the journal is served from the object store");
    assert_eq!(served.recordings[0].id, rec);

    // Retention: past the retention period the object goes with the row.
    w.admin
        .update_settings(&SettingsPatch {
            retention_days: Some(30),
            ..Default::default()
        })
        .await
        .expect("retention set");
    let report = run_now(&w.admin).await;
    assert_eq!(report.deleted_recordings, vec![rec], "retention deletes the recording");
    assert!(
        object(&store, &prefix, &wav_rel).await.is_none(),
        "retention deleted the object in the bucket"
    );
}

#[tokio::test]
async fn a_script_gets_a_temporary_local_copy_and_an_email_attaches_the_object() {
    let s3 = s3::shared();
    let prefix = s3.fresh_prefix();
    let w = world(post_call::local(2026, 6, 1, 12, 0, 0), |c| use_s3(c, s3, &prefix)).await;
    let out = tempfile::tempdir().expect("out dir");
    let o = format!("'{}'", out.path().display());
    support_rule(
        &w,
        Dispatch::Script {
            script: format!(
                "set -e\nprintf '%s\\n' \"$1\" > {o}/path\ncp \"$1\" {o}/audio.wav\ncp \"$2\" {o}/journal.json\n"
            ),
        },
    )
    .await;
    let mail = tempfile::tempdir().expect("mail dir");
    let sink = Sink::start(mail.path(), 0).await;
    use_smtp(&w.admin, sink.port).await;
    add_rule(
        &w.admin,
        rule(
            "Support is mailed",
            RuleMode::Automatic,
            w.cast.support_role,
            RuleDirection::Both,
            RuleOrigin::Both,
            Dispatch::Email {
                recipients: vec!["qa@example.com".into()],
            },
        ),
    )
    .await;
    let rec = ingest(
        &w.srv,
        &call("s3-2@pbx", w.srv.now(), "+4930999000", "201"),
        wav::stereo_ulaw(2.0),
    )
    .await
    .recording_id;
    uploads(&w.srv.state, "uploaded before dispatch", |b| {
        b.recordings_uploaded >= 1 && b.waiting == 0
    })
    .await;
    let (wav_rel, _) = rel_paths(&w, rec).await;
    assert!(!w.dir.path().join(&wav_rel).exists(), "only the object is left");
    let recording = w.admin.get_recording(rec).await.expect("the recording");

    let report = run_now(&w.admin).await;
    assert_eq!((report.sent, report.failed), (2, 0), "script and e-mail: {report:?}");
    let copied = std::fs::read(out.path().join("audio.wav")).expect("the script read $1");
    assert_eq!(sha256(&copied), recording.sha256, "the script's copy is the object");
    let path = std::fs::read_to_string(out.path().join("path")).expect("the script wrote $1");
    assert!(
        !std::path::Path::new(path.trim()).exists(),
        "the temporary copy {} is deleted after the script",
        path.trim()
    );
    let journal: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("journal.json")).expect("$2")).expect("JSON");
    assert_eq!(journal["recordings"][0]["sha256"], recording.sha256.as_str());

    let mails = sink.wait_for(1).await;
    let wav_part = mails[0]
        .attachments
        .iter()
        .find(|p| p.content_type.starts_with("audio/wav"))
        .expect("the WAV is attached");
    assert_eq!(
        sha256(&sink.attachment(wav_part)),
        recording.sha256,
        "the e-mail attaches the object"
    );
}

#[tokio::test]
async fn a_store_that_is_down_loses_nothing_and_gets_the_backlog_when_it_returns() {
    let port = callrec_testkit::free_port().expect("a free port");
    let endpoint = format!("http://127.0.0.1:{port}");
    let prefix = "outage";
    let w = world(post_call::local(2026, 6, 1, 12, 0, 0), |c| {
        use_s3_at(c, &endpoint, prefix)
    })
    .await;
    support_rule(&w, Dispatch::Store).await;
    let rec = ingest(
        &w.srv,
        &call("s3-3@pbx", w.srv.now(), "+4930999000", "201"),
        wav::stereo_ulaw(2.0),
    )
    .await
    .recording_id;
    uploads(&w.srv.state, "the upload fails while the store is down", |b| {
        b.failures >= 1 && b.waiting == 2
    })
    .await;
    let (wav_rel, journal_rel) = rel_paths(&w, rec).await;
    assert!(w.dir.path().join(&wav_rel).exists(), "the recording waits in the spool");
    let report = w.admin.storage().await.expect("the storage report");
    assert_eq!(
        report.spool_backlog,
        Some(2),
        "the WAV and the journal wait: {report:?}"
    );
    assert!(report.spool_backlog_bytes.unwrap_or(0) > 0, "their bytes are shown");
    assert!(report.upload_failures.unwrap_or(0) >= 1, "failures are counted");
    assert!(report.last_upload_error.is_some(), "the reason is shown");
    assert_eq!(report.bucket_bytes, None, "the bucket cannot be measured while down");
    let metrics = w.admin.metrics().await.expect("metrics");
    assert!(
        metrics.contains("callrec_spool_backlog 2"),
        "the backlog is a gauge:\n{metrics}"
    );
    assert!(
        !metrics.contains("callrec_object_upload_failures_total 0"),
        "failures are counted in /metrics"
    );
    let recording = w.admin.get_recording(rec).await.expect("the recording");
    let (status, _, body) = w
        .admin
        .audio_bytes(rec, AudioFormat::Original, None)
        .await
        .expect("play");
    assert_eq!(
        (status, sha256(&body)),
        (200, recording.sha256.clone()),
        "it plays from the spool meanwhile"
    );

    // The store comes (back) on the same address: the uploader's next retry sends everything.
    let server = s3::start_on(port).expect("the S3 server starts on the address the recorder uses");
    uploads(&w.srv.state, "the backlog goes up once the store is back", |b| {
        b.recordings_uploaded >= 1 && b.waiting == 0
    })
    .await;
    let store = bucket(&server);
    let stored = object(&store, prefix, &wav_rel)
        .await
        .expect("uploaded after the outage");
    assert_eq!(sha256(&stored), recording.sha256, "nothing lost, byte for byte");
    assert!(!w.dir.path().join(&wav_rel).exists(), "the spool is empty again");
    let report = w.admin.storage().await.expect("the storage report");
    assert_eq!(
        (report.spool_backlog, report.last_upload_error.clone()),
        (Some(0), None),
        "{report:?}"
    );
    let journal = object(&store, prefix, &journal_rel)
        .await
        .expect("the journal went up too");
    assert_eq!(
        report.bucket_bytes,
        Some(recording.bytes as u64 + journal.len() as u64),
        "the bucket's use: the WAV and its journal"
    );
    server.stop();
}

#[tokio::test]
async fn a_siprec_recording_goes_to_s3_and_plays_back_whole_and_by_range() {
    let s3 = s3::shared();
    let prefix = s3.fresh_prefix();
    let server = TestServer::start_with(|c| use_s3(c, s3, &prefix)).await;
    let admin = server.admin().await;
    let _cast = directory::build(&admin).await;
    let sim = Sim::connect(server.sip, Transport::Udp)
        .await
        .expect("the simulator reaches the recorder");
    let call = sim
        .call()
        .caller("sip:202@pbx.example")
        .callee("sip:+4930999@carrier.example")
        .mon_mode("force")
        .codec(Law::Ulaw)
        .invite()
        .await
        .expect("the recorder answers");
    let id = server
        .state
        .store
        .call_by_sip_id(call.call_id())
        .await
        .expect("the store answers")
        .expect("the call");
    // Some audio, then the hang-up; the upload is what is waited for.
    tokio::time::sleep(std::time::Duration::from_millis(1000)).await;
    call.bye().await.expect("the BYE is answered 200");
    uploads(&server.state, "the SIPREC recording goes up", |b| {
        b.recordings_uploaded >= 1 && b.journals_uploaded >= 1 && b.waiting == 0
    })
    .await;
    let detail = admin.get_call(id).await.expect("the call");
    let rec = &detail.recordings[0];
    let stored = server.state.store.get_recording(rec.id).await.expect("the row");
    assert!(
        !server.data_dir().join(&stored.rel_path).exists(),
        "no local copy remains"
    );
    let objects = object(&bucket(s3), &prefix, &stored.rel_path)
        .await
        .expect("the WAV is in the bucket");
    assert_eq!(sha256(&objects), rec.sha256, "the object matches the row");
    let (status, _, body) = admin
        .audio_bytes(rec.id, AudioFormat::Original, None)
        .await
        .expect("play");
    assert_eq!((status, body.as_ref()), (200, objects.as_slice()), "byte for byte");
    let (status, _, tail) = admin
        .audio_bytes(rec.id, AudioFormat::Original, Some((44, None)))
        .await
        .expect("a range to the end");
    assert_eq!((status, tail.as_ref()), (206, &objects[44..]), "an open range");
    server.stop().await;
}

/// Set (to the data directory) in the child process of the crash test; the S3 endpoint and
/// prefix come in [`CHILD_S3`] and [`CHILD_PREFIX`].
const CHILD_DIR: &str = "CALLREC_OBJECTS_CHILD_DATA_DIR";
const CHILD_S3: &str = "CALLREC_OBJECTS_CHILD_S3";
const CHILD_PREFIX: &str = "CALLREC_OBJECTS_CHILD_PREFIX";

/// Not a test on its own: with [`CHILD_DIR`] set it runs a server with object storage until
/// it is killed.
#[test]
fn objects_crash_child_server() {
    let (Some(dir), Ok(endpoint), Ok(prefix)) = (
        std::env::var_os(CHILD_DIR),
        std::env::var(CHILD_S3),
        std::env::var(CHILD_PREFIX),
    ) else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async move {
        let mut cfg = callrec_tests::test_config(std::path::Path::new(&dir));
        use_s3_at(&mut cfg, &endpoint, &prefix);
        let server = TestServer::start_with_config(cfg).await;
        use std::io::Write;
        // Straight to fd 1: the test harness captures `println!` even in a child.
        let mut out = std::io::stdout();
        writeln!(out, "READY {}", server.sip).expect("stdout");
        out.flush().expect("stdout");
        std::future::pending::<()>().await;
    });
}

#[tokio::test]
async fn a_node_killed_mid_call_repairs_its_spool_at_start_up_and_uploads() {
    use std::io::BufRead;
    let s3 = s3::shared();
    let prefix = s3.fresh_prefix();
    let dir = tempfile::tempdir().expect("data dir");
    let mut child = std::process::Command::new(std::env::current_exe().expect("the test binary"))
        .args([
            "--exact",
            "object_storage::objects_crash_child_server",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_DIR, dir.path())
        .env(CHILD_S3, &s3.endpoint)
        .env(CHILD_PREFIX, &prefix)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("the server process starts");
    let stdout = child.stdout.take().expect("stdout");
    let sip: std::net::SocketAddr = tokio::task::spawn_blocking(move || {
        let mut lines = std::io::BufReader::new(stdout).lines();
        lines.find_map(|l| l.ok()?.split_once("READY ").map(|(_, rest)| rest.trim().to_owned()))
    })
    .await
    .expect("task")
    .expect("the child server reports READY")
    .parse()
    .expect("the SIP address");
    let sim = Sim::connect(sip, Transport::Udp).await.expect("sim");
    let call = sim
        .call()
        .mon_mode("force")
        .codec(Law::Ulaw)
        .invite()
        .await
        .expect("the recorder answers");
    let sip_call_id = call.call_id().to_owned();
    // Long enough for the recorder to flush audio to the spool (it buffers about a second).
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    child.kill().expect("SIGKILL the server mid-recording");
    let _ = child.wait();
    drop(call);

    let mut cfg = callrec_tests::test_config(dir.path());
    use_s3(&mut cfg, s3, &prefix);
    let server = TestServer::start_with_config(cfg).await;
    uploads(&server.state, "the repaired recording goes up", |b| {
        b.recordings_uploaded >= 1 && b.waiting == 0
    })
    .await;
    let id = server
        .state
        .store
        .call_by_sip_id(&sip_call_id)
        .await
        .expect("the store answers")
        .expect("the call survived the crash");
    let admin = server.admin().await;
    let detail = admin.get_call(id).await.expect("the call");
    let rec = &detail.recordings[0];
    assert!(rec.duration_ms > 0, "the repaired recording holds audio");
    let stored = server.state.store.get_recording(rec.id).await.expect("the row");
    assert!(!dir.path().join(&stored.rel_path).exists(), "the spool copy is gone");
    let object = object(&bucket(s3), &prefix, &stored.rel_path)
        .await
        .expect("the repaired WAV is in the bucket");
    assert_eq!(sha256(&object), rec.sha256, "the object is the repaired file");
    let (status, _, body) = admin
        .audio_bytes(rec.id, AudioFormat::Original, None)
        .await
        .expect("play");
    assert_eq!(
        (status, body.as_ref()),
        (200, object.as_slice()),
        "it plays from the bucket"
    );
    server.stop().await;
}

#[tokio::test]
async fn an_upload_cut_off_between_its_file_and_its_row_is_resolved_at_the_next_start() {
    use callrec_server::objects::queue::{note_path, Note};
    let s3 = s3::shared();
    let prefix = s3.fresh_prefix();
    let dir = tempfile::tempdir().expect("data dir");
    // First run: the store is unreachable (nothing listens there), so the upload stays in the
    // spool with its note.
    let dead = format!(
        "http://127.0.0.1:{}",
        callrec_testkit::free_port().expect("a free port")
    );
    let mut c = callrec_tests::test_config(dir.path());
    use_s3_at(&mut c, &dead, &prefix);
    let srv = TestServer::start_with_config(c).await;
    let mut facts = call(
        "cut-off@pbx",
        chrono::Utc::now() - Duration::minutes(5),
        "+4930999000",
        "201",
    );
    facts.mon_mode = Some("force".into());
    let rec = callrec_client::Client::new(&srv.url)
        .expect("a valid URL")
        .ingest_bytes(callrec_tests::INGEST_TOKEN, &facts, wav::stereo_ulaw(2.0))
        .await
        .expect("the upload is accepted")
        .recording_id;
    let row = srv.state.store.get_recording(rec).await.expect("the row");
    srv.stop().await;
    // What a crash between moving the file into the spool and writing its row leaves: the
    // note that names the path only. Once with the row written (the crash came after it),
    // once for a file whose row never was.
    let ingest_note = |rel: &str| {
        serde_json::to_vec(&Note::Ingest {
            rel_path: rel.to_owned(),
        })
        .expect("a note")
    };
    std::fs::write(note_path(dir.path(), &row.rel_path), ingest_note(&row.rel_path)).expect("note");
    let orphan = "recordings/2026/01/02/20260102-000000-deadbeef_001.wav";
    std::fs::create_dir_all(dir.path().join("recordings/2026/01/02")).expect("dir");
    std::fs::write(dir.path().join(orphan), wav::stereo_ulaw(1.0)).expect("orphan file");
    std::fs::write(note_path(dir.path(), orphan), ingest_note(orphan)).expect("orphan note");

    // Next start, the store reachable.
    let mut c = callrec_tests::test_config(dir.path());
    use_s3(&mut c, s3, &prefix);
    let srv = TestServer::start_with_config(c).await;
    uploads(&srv.state, "the cut-off upload goes up", |b| {
        b.recordings_uploaded >= 1 && b.waiting == 0
    })
    .await;
    let stored = object(&bucket(s3), &prefix, &row.rel_path)
        .await
        .expect("the recording whose row was written is in the bucket");
    assert_eq!(sha256(&stored), row.recording.sha256, "checked against its row");
    assert!(!dir.path().join(&row.rel_path).exists(), "and gone from the spool");
    assert!(
        !dir.path().join(orphan).exists() && !note_path(dir.path(), orphan).exists(),
        "a file whose row was never written is removed with its note (the upload was never acknowledged)"
    );
    assert!(
        object(&bucket(s3), &prefix, orphan).await.is_none(),
        "and never uploaded"
    );
    srv.stop().await;
}
