//! End-to-end: encryption at rest (issue #12.1), with the real server, real uploads, real
//! SIPREC calls from callrec-sim, a real SMTP server, real bash scripts and a real S3 server.
//!
//! - With a key nothing stored (spool, data directory, bucket) holds the plaintext — no
//!   `RIFF`, no caller number — while whole reads, Range reads across chunk boundaries, the
//!   PCM16 conversion, the journal API and both dispatch attachments are byte-exact.
//! - SIGKILL mid-recording: the sealed file is repaired at restart and plays.
//! - Rekey: every recording plays with the new key; the old key, or none, refuses to start.
//! - A flipped byte in a stored chunk is refused with `recording_altered`, never played.

use crate::object_storage::{bucket, object, sha256, uploads, use_s3};
use crate::post_call::{self, call, ingest, run_now, use_smtp, Sink, Srv, World};
use callrec_client::{AudioFormat, Client};
use callrec_media::g711::Law;
use callrec_media::wav::{wav_header, Codec, WavInfo};
use callrec_server::clock::ManualClock;
use callrec_server::config::Config;
use callrec_server::sealed::{self, MasterKey};
use callrec_server::Server;
use callrec_sim::{Sim, Transport};
use callrec_testkit::s3;
use callrec_tests::directory::{self, add_rule, rule};
use callrec_tests::{files_under, wav, TestServer};
use callrec_types::rules::{Dispatch, RuleDirection, RuleMode, RuleOrigin};
use callrec_types::RecordingId;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

const CALLER: &str = "+4930999000";

/// A new master key written to `dir/name` (as `callrec-server gen-key` does).
fn key_file(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    MasterKey::generate().write_new(&path).expect("the key file is written");
    path
}

/// Every recording and journal file under the data directory (spool and tmp included).
fn stored_files(dir: &Path) -> Vec<PathBuf> {
    let mut all = files_under(dir, "wav");
    all.extend(
        files_under(dir, "json")
            .into_iter()
            .filter(|p| !p.to_string_lossy().contains("/outbox/")),
    );
    all.sort();
    all
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Asserts no stored file holds a WAV header or the caller's number; returns how many were looked at.
fn assert_nothing_plain(files: &[(String, Vec<u8>)]) -> usize {
    for (name, bytes) in files {
        assert!(bytes.starts_with(b"CRSEAL"), "{name} is sealed");
        assert!(!contains(bytes, b"RIFF"), "{name} holds no WAV header");
        assert!(!contains(bytes, CALLER.as_bytes()), "{name} holds no caller number");
        assert!(!contains(bytes, b"4930999000"), "{name} holds no caller digits");
    }
    files.len()
}

fn read_all(paths: &[PathBuf]) -> Vec<(String, Vec<u8>)> {
    paths
        .iter()
        .map(|p| (p.display().to_string(), std::fs::read(p).expect("a stored file")))
        .collect()
}

/// The PCM16 rendition of a stereo µ-law WAV, computed here.
fn pcm16_of(original: &[u8]) -> Vec<u8> {
    let info = WavInfo::parse(original).expect("a WAV");
    let data = &original[info.data_offset as usize..];
    let mut pcm = wav_header(Codec::Pcm16, info.sample_rate, info.channels, 2 * data.len() as u32);
    for b in data {
        pcm.extend_from_slice(&Law::Ulaw.decode(*b).to_le_bytes());
    }
    pcm
}

/// Whole, ranged (chunk 0's end, a chunk boundary, the middle, the tail) and PCM16 reads are
/// the plaintext to the byte.
async fn assert_reads_exact(client: &Client, rec: RecordingId, plain: &[u8]) {
    let (status, _, body) = client
        .audio_bytes(rec, AudioFormat::Original, None)
        .await
        .expect("a whole read");
    assert_eq!(status, 200, "a whole read is served");
    assert!(body.as_ref() == plain, "the whole read is the plaintext WAV");
    let boundary = 64 + 16 * 1024;
    for (from, to) in [
        (0u64, 63u64),
        (60, 70),
        (64, boundary - 1),
        (boundary - 5, boundary + 5),
        (boundary, boundary + 16 * 1024 - 1),
        (30_001, 70_000),
        (plain.len() as u64 - 10, plain.len() as u64 - 1),
    ] {
        let to = to.min(plain.len() as u64 - 1);
        let (status, _, body) = client
            .audio_bytes(rec, AudioFormat::Original, Some((from, Some(to))))
            .await
            .expect("a range read");
        assert_eq!(status, 206, "range {from}-{to} is partial content");
        assert!(
            body.as_ref() == &plain[from as usize..=to as usize],
            "range {from}-{to} is the plaintext's bytes"
        );
    }
    let pcm = pcm16_of(plain);
    let (status, _, body) = client
        .audio_bytes(rec, AudioFormat::Pcm16, None)
        .await
        .expect("a PCM16 read");
    assert_eq!(status, 200, "PCM16 is served");
    assert!(body.as_ref() == pcm.as_slice(), "the PCM16 conversion is exact");
    let to = 90_001.min(pcm.len() - 1);
    let (status, _, body) = client
        .audio_bytes(rec, AudioFormat::Pcm16, Some((40_000, Some(to as u64))))
        .await
        .expect("a PCM16 range");
    assert_eq!(status, 206, "a PCM16 range");
    assert!(body.as_ref() == &pcm[40_000..=to], "the PCM16 range is exact");
}

async fn support_rules(w: &World, script_out: &Path, smtp_port: u16) {
    let o = format!("'{}'", script_out.display());
    for (name, dispatch) in [
        (
            "Support is scripted",
            Dispatch::Script {
                script: format!(
                    "set -e\nprintf '%s\\n' \"$1\" > {o}/path\ncp \"$1\" {o}/audio.wav\ncp \"$2\" {o}/journal.json\n"
                ),
            },
        ),
        (
            "Support is mailed",
            Dispatch::Email {
                recipients: vec!["qa@example.com".into()],
            },
        ),
    ] {
        add_rule(
            &w.admin,
            rule(
                name,
                RuleMode::Automatic,
                w.cast.support_role,
                RuleDirection::Both,
                RuleOrigin::Both,
                dispatch,
            ),
        )
        .await;
    }
    use_smtp(&w.admin, smtp_port).await;
}

/// A post-call world on 2026-06-`day` whose server seals with a new key: the key's
/// directory (keep it alive), the key file, the world.
async fn keyed_world(day: u32) -> (tempfile::TempDir, PathBuf, World) {
    let keys = tempfile::tempdir().expect("key dir");
    let key = key_file(keys.path(), "master.key");
    let w = post_call::world(post_call::local(2026, 6, day, 12, 0, 0), |c| {
        c.encryption_key_file = Some(key.clone());
    })
    .await;
    (keys, key, w)
}

/// The recording's row, asserting its SHA-256 is of the plaintext (not of what is stored).
async fn plaintext_row(w: &World, rec: RecordingId, plain: &[u8]) -> callrec_types::calls::Recording {
    let recording = w.admin.get_recording(rec).await.expect("the recording");
    assert_eq!(recording.sha256, sha256(plain), "the row's SHA-256 is of the plaintext");
    recording
}

/// Support's calls are recorded and stored (no dispatch).
async fn store_rule(w: &World) {
    add_rule(
        &w.admin,
        rule(
            "Support is stored",
            RuleMode::Automatic,
            w.cast.support_role,
            RuleDirection::Both,
            RuleOrigin::Both,
            Dispatch::Store,
        ),
    )
    .await;
}

#[tokio::test]
async fn issue12_with_a_key_nothing_stored_is_plaintext_and_every_read_is_byte_exact() {
    let (_keys, key, w) = keyed_world(1).await;
    let out = tempfile::tempdir().expect("script output");
    let mail = tempfile::tempdir().expect("mail dir");
    let sink = Sink::start(mail.path(), 0).await;
    support_rules(&w, out.path(), sink.port).await;

    // An upload through ingest, 5 s (80 KB: many chunks).
    let plain = wav::stereo_ulaw(5.0);
    let rec = ingest(&w.srv, &call("enc-1@pbx", w.srv.now(), CALLER, "201"), plain.clone())
        .await
        .recording_id;
    let recording = plaintext_row(&w, rec, &plain).await;
    assert_eq!(recording.bytes, plain.len() as i64, "and its size");

    // Dispatch: the script's copy and the e-mail attachment are the plaintext.
    let report = run_now(&w.admin).await;
    assert!(
        report.failed == 0 && report.sent >= 2,
        "script and e-mail sent: {report:?}"
    );
    let copied = std::fs::read(out.path().join("audio.wav")).expect("the script read $1");
    assert_eq!(sha256(&copied), recording.sha256, "the script gets the plaintext");
    let path = std::fs::read_to_string(out.path().join("path")).expect("$1");
    assert!(
        !Path::new(path.trim()).exists(),
        "the decrypted temporary copy {} is deleted after the script",
        path.trim()
    );
    let journal: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("journal.json")).expect("$2")).expect("plain JSON");
    assert_eq!(
        journal["recordings"][0]["sha256"],
        recording.sha256.as_str(),
        "the script's journal"
    );
    let mails = sink.wait_for(1).await;
    let wav_part = mails[0]
        .attachments
        .iter()
        .find(|p| p.content_type.starts_with("audio/wav"))
        .expect("the WAV is attached");
    assert_eq!(
        sha256(&sink.attachment(wav_part)),
        recording.sha256,
        "the e-mail attaches the plaintext"
    );

    // A SIPREC recording from the simulator (a server on the real clock, same key).
    let live_srv = TestServer::start_with(|c| c.encryption_key_file = Some(key.clone())).await;
    let live_admin = live_srv.admin().await;
    let _cast = directory::build(&live_admin).await;
    let sim = Sim::connect(live_srv.sip, Transport::Udp)
        .await
        .expect("the simulator reaches the recorder");
    let live = sim
        .call()
        .caller(&format!("sip:{CALLER}@carrier.example"))
        .callee("sip:201@pbx.example")
        .mon_mode("force")
        .codec(Law::Ulaw)
        .invite()
        .await
        .expect("the recorder answers");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // While it grows, the spool file is sealed already.
    let growing = read_all(&files_under(live_srv.data_dir(), "wav"));
    assert_eq!(growing.len(), 1, "the growing SIPREC file");
    assert_nothing_plain(&growing);
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let sip_call_id = live.call_id().to_owned();
    live.bye().await.expect("the BYE is answered");
    let id = live_srv
        .state
        .store
        .call_by_sip_id(&sip_call_id)
        .await
        .expect("store")
        .expect("the SIPREC call");
    let siprec = post_call::eventually(20, "the SIPREC recording is finished", || async {
        let d = live_admin.get_call(id).await.expect("the call");
        d.recordings.first().filter(|r| !r.sha256.is_empty()).cloned()
    })
    .await;
    let (status, _, body) = live_admin
        .audio_bytes(siprec.id, AudioFormat::Original, None)
        .await
        .expect("the SIPREC recording");
    assert_eq!(status, 200, "the SIPREC recording plays");
    assert_eq!(sha256(&body), siprec.sha256, "its bytes are its row's plaintext");
    assert!(
        body.starts_with(b"RIFF") && siprec.duration_ms >= 2000,
        "a WAV of the call's ~2.5 s"
    );
    assert_reads_exact(&live_admin, siprec.id, &body).await;
    let stored = read_all(&stored_files(live_srv.data_dir()));
    assert!(
        assert_nothing_plain(&stored) >= 2,
        "the SIPREC recording and its journal"
    );
    drop(sim);
    live_srv.stop().await;

    // Reads through the API.
    assert_reads_exact(&w.admin, rec, &plain).await;
    let doc = w
        .admin
        .call_journal_json(recording.call_id)
        .await
        .expect("the journal API reads the sealed journal");
    assert_eq!(doc.recordings[0].sha256, recording.sha256, "the journal API's document");

    // Nothing on disk is plaintext: recordings and journals, sealed.
    let stored = read_all(&stored_files(w.dir.path()));
    assert!(
        assert_nothing_plain(&stored) >= 2,
        "the recording and its journal looked at"
    );
}

#[tokio::test]
async fn issue12_an_upload_is_sealed_on_the_spool_while_it_arrives() {
    let (_keys, _key, w) = keyed_world(1).await;
    store_rule(&w).await;
    // 3 s of audio sent in two halves; the second waits until the test has looked at the spool.
    let plain = wav::stereo_ulaw(3.0);
    let half = plain.len() / 2;
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(2);
    let body = reqwest::Body::wrap_stream(futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    }));
    let up = {
        let (url, c) = (w.srv.url.clone(), call("enc-up@pbx", w.srv.now(), CALLER, "201"));
        tokio::spawn(async move {
            Client::new(&url)
                .expect("a valid URL")
                .ingest(callrec_tests::INGEST_TOKEN, &c, body)
                .await
        })
    };
    tx.send(Ok(plain[..half].to_vec())).await.expect("the first half goes");
    let tmp = w.dir.path().join("tmp");
    let mut spooled = Vec::new();
    for _ in 0..100 {
        spooled = std::fs::read_dir(&tmp)
            .map(|d| d.flatten().map(|e| e.path()).collect::<Vec<_>>())
            .unwrap_or_default();
        let big = spooled
            .iter()
            .any(|p| std::fs::metadata(p).is_ok_and(|m| m.len() as usize >= half / 2));
        if big {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(spooled.len(), 1, "one spool file for the upload in flight: {spooled:?}");
    let bytes = std::fs::read(&spooled[0]).expect("the spool file");
    assert!(
        bytes.starts_with(b"CRSEAL"),
        "the spool file is sealed while the upload arrives"
    );
    assert!(!contains(&bytes, b"RIFF"), "no WAV header on the spool");
    assert!(
        !contains(&bytes, &plain[1000..1064]),
        "no audio of the first half on the spool"
    );
    tx.send(Ok(plain[half..].to_vec())).await.expect("the second half goes");
    drop(tx);
    let rec = up
        .await
        .expect("the upload task")
        .expect("the upload is accepted")
        .recording_id;
    plaintext_row(&w, rec, &plain).await;
    assert_reads_exact(&w.admin, rec, &plain).await;
    assert!(
        std::fs::read_dir(&tmp).map(|d| d.count()).unwrap_or(0) == 0,
        "the spool file is gone once the recording is stored"
    );
    assert_nothing_plain(&read_all(&stored_files(w.dir.path())));
}

#[tokio::test]
async fn issue12_a_flipped_byte_in_a_stored_chunk_is_refused_not_played() {
    let (_keys, key, w) = keyed_world(2).await;
    store_rule(&w).await;
    let plain = wav::stereo_ulaw(4.0);
    let rec = ingest(&w.srv, &call("enc-2@pbx", w.srv.now(), CALLER, "201"), plain.clone())
        .await
        .recording_id;
    // The evidence of a sealed recording is of its plaintext: both verifies find it intact.
    let mut offline_config = callrec_tests::test_config(w.dir.path());
    offline_config.encryption_key_file = Some(key.clone());
    let clean = w.admin.verify_evidence().await.expect("verify");
    assert!(
        clean.ok && clean.checked == 1,
        "the sealed recording verifies: {clean:?}"
    );
    let offline = callrec_server::evidence::verify::offline(&offline_config)
        .await
        .expect("the offline verify runs");
    assert_eq!(offline, clean, "the offline check agrees");
    let stored = w.srv.state.store.get_recording(rec).await.expect("the row");
    let path = w.dir.path().join(&stored.rel_path);
    let mut bytes = std::fs::read(&path).expect("the sealed file");
    // Inside chunk 2's ciphertext (header 96, chunk 0 = 104 bytes, chunk 1 = 16424 bytes).
    let at = 96 + 104 + 16_424 + 24 + 1000;
    bytes[at] ^= 0x20;
    std::fs::write(&path, &bytes).expect("tampered");
    let online = w.admin.verify_evidence().await.expect("verify");
    let named: Vec<_> = online.problems.iter().map(|p| (p.recording_id, p.problem)).collect();
    assert_eq!(
        named,
        vec![(rec, callrec_types::evidence::EvidenceProblemKind::Altered)],
        "the flipped byte of a sealed file is reported, naming the recording"
    );
    let offline = callrec_server::evidence::verify::offline(&offline_config)
        .await
        .expect("the offline verify runs");
    assert_eq!(offline.problems, online.problems, "the offline check finds the same");

    fn altered(what: &str, r: callrec_client::Result<(u16, Vec<u8>)>) {
        match r {
            Ok((status, body)) => {
                assert_eq!(status, 500, "{what}: refused with a server error, not played");
                let e: serde_json::Value = serde_json::from_slice(&body).expect("an error body {code, message}");
                assert_eq!(e["code"], "recording_altered", "{what}: says it is altered: {e}");
                assert!(
                    e["message"].as_str().is_some_and(|m| !m.is_empty()),
                    "{what}: a message"
                );
            }
            Err(callrec_client::ClientError::Api { status, code, .. }) => {
                assert_eq!(status, 500, "{what}: refused with a server error");
                assert_eq!(code.as_str(), "recording_altered", "{what}: says it is altered");
            }
            Err(e) => panic!("{what}: unexpected {e}"),
        }
    }
    altered(
        "a whole read",
        w.admin
            .audio_bytes(rec, AudioFormat::Original, None)
            .await
            .map(|(s, _, b)| (s, b.to_vec())),
    );
    altered(
        "a range over the chunk",
        w.admin
            .audio_bytes(
                rec,
                AudioFormat::Original,
                Some((64 + 16_384 + 100, Some(64 + 16_384 + 2000))),
            )
            .await
            .map(|(s, _, b)| (s, b.to_vec())),
    );
    altered(
        "a PCM16 read",
        w.admin
            .audio_bytes(rec, AudioFormat::Pcm16, None)
            .await
            .map(|(s, _, b)| (s, b.to_vec())),
    );
    // The response is refused even where it starts before the altered chunk: the server
    // authenticates the first MiB it would send before answering.
    // Cut at a chunk boundary: the last chunk is missing, detected.
    let cut = 96 + 104 + 16_424 * 2;
    std::fs::write(&path, &bytes[..cut]).expect("truncated");
    altered(
        "a truncated file",
        w.admin
            .audio_bytes(rec, AudioFormat::Original, Some((0, Some(10))))
            .await
            .map(|(s, _, b)| (s, b.to_vec())),
    );
}

/// Set (to `<data dir>\n<key file>`) in the child process of the crash test.
const CHILD_ENV: &str = "CALLREC_ENCRYPTION_CHILD";

/// Not a test on its own: with [`CHILD_ENV`] set it runs a server with a key until killed.
#[test]
fn encryption_crash_child_server() {
    let Ok(v) = std::env::var(CHILD_ENV) else { return };
    let (dir, key) = v.split_once('\n').expect("dir and key");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async move {
        let mut cfg = callrec_tests::test_config(Path::new(dir));
        cfg.encryption_key_file = Some(PathBuf::from(key));
        let server = TestServer::start_with_config(cfg).await;
        use std::io::Write;
        let mut out = std::io::stdout();
        writeln!(out, "READY {}", server.sip).expect("stdout");
        out.flush().expect("stdout");
        std::future::pending::<()>().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue12_sigkill_mid_recording_with_encryption_is_repaired_at_restart_and_plays() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().expect("data dir");
    let keys = tempfile::tempdir().expect("key dir");
    let key = key_file(keys.path(), "master.key");
    let exe = std::env::current_exe().expect("the test binary");
    let mut child = std::process::Command::new(exe)
        .args([
            "--exact",
            "encryption::encryption_crash_child_server",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, format!("{}\n{}", dir.path().display(), key.display()))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("the server process starts");
    let mut lines = std::io::BufReader::new(child.stdout.take().expect("stdout")).lines();
    let sip: std::net::SocketAddr = loop {
        let line = lines.next().expect("the child reports READY").expect("stdout readable");
        if let Some((_, rest)) = line.split_once("READY ") {
            break rest.trim().parse().expect("an address");
        }
    };
    let sim = Sim::connect(sip, Transport::Udp).await.expect("sim");
    let live = sim
        .call()
        .caller(&format!("sip:{CALLER}@carrier.example"))
        .callee("sip:201@pbx.example")
        .mon_mode("force")
        .invite()
        .await
        .expect("the recorder answers");
    tokio::time::sleep(Duration::from_millis(3000)).await;
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    drop(live);
    drop(sim);
    let cut = read_all(&files_under(dir.path(), "wav"));
    assert_eq!(cut.len(), 1, "the recording cut off by the crash");
    assert_nothing_plain(&cut);

    let mut cfg = callrec_tests::test_config(dir.path());
    cfg.encryption_key_file = Some(key.clone());
    let server = TestServer::start_with_config(cfg).await;
    let admin = server.admin().await;
    let page = admin.journal(&Default::default()).await.expect("the journal");
    let call_id = page.items[0].call.id;
    let detail = admin.get_call(call_id).await.expect("the call");
    let rec = &detail.recordings[0];
    assert!(!rec.sha256.is_empty(), "the recording is repaired and finished");
    assert!(
        rec.duration_ms >= 1500,
        "it keeps the audio flushed before the crash: {} ms",
        rec.duration_ms
    );
    let (status, _, body) = admin
        .audio_bytes(rec.id, AudioFormat::Original, None)
        .await
        .expect("it plays");
    assert_eq!(status, 200, "the repaired recording plays");
    assert_eq!(sha256(&body), rec.sha256, "the row's SHA-256 is of what plays");
    let info = WavInfo::parse(&body).expect("a valid WAV");
    assert_eq!(
        info.data_len as usize,
        body.len() - info.data_offset as usize,
        "its header covers its audio"
    );
    assert_nothing_plain(&read_all(&stored_files(dir.path())));
    server.stop().await;
}

/// Starts a server on `dir` with `key`, or says why it refused (the one line `callrec-server`
/// prints).
async fn start_or_refusal(dir: &Path, key: Option<&Path>) -> Result<Srv, String> {
    let mut cfg: Config = callrec_tests::test_config(dir);
    cfg.encryption_key_file = key.map(Path::to_path_buf);
    match Server::bind(cfg).await {
        Err(e) => Err(format!("{e:#}")),
        Ok(s) => {
            drop(s);
            let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
            Ok(Srv::start(dir, clock, |c| c.encryption_key_file = key.map(Path::to_path_buf)).await)
        }
    }
}

#[tokio::test]
async fn issue12_rekey_keeps_every_recording_playable_with_the_new_key_and_no_key_or_the_old_one_refuses_to_start() {
    let keys = tempfile::tempdir().expect("key dir");
    let old = key_file(keys.path(), "old.key");
    let new = key_file(keys.path(), "new.key");
    let w = post_call::world(post_call::local(2026, 6, 3, 12, 0, 0), |c| {
        c.encryption_key_file = Some(old.clone());
    })
    .await;
    store_rule(&w).await;
    let mut plains = Vec::new();
    for (i, secs) in [(1, 2.5), (2, 3.5)] {
        let plain = wav::stereo_ulaw(secs);
        let rec = ingest(
            &w.srv,
            &call(&format!("rekey-{i}@pbx"), w.srv.now(), CALLER, "201"),
            plain.clone(),
        )
        .await
        .recording_id;
        plains.push((rec, plain));
    }
    let dir = w.dir;
    w.srv.crash().await;
    let before: Vec<_> = read_all(&stored_files(dir.path()));

    let no_key = start_or_refusal(dir.path(), None).await.err().expect("no key: refused");
    assert!(
        no_key.contains("encrypted") && !no_key.contains('\n'),
        "one line saying the data is encrypted: {no_key}"
    );
    let wrong = start_or_refusal(dir.path(), Some(&new))
        .await
        .err()
        .expect("another key: refused");
    assert!(
        wrong.contains("not the key") && !wrong.contains('\n'),
        "one line naming the key mismatch: {wrong}"
    );

    let mut cfg = callrec_tests::test_config(dir.path());
    cfg.encryption_key_file = Some(old.clone());
    let new_key = Arc::new(MasterKey::load(&new).expect("the new key"));
    let done = sealed::convert::rekey(&cfg, new_key).await.expect("rekey");
    assert_eq!(done.changed as usize, before.len(), "every file re-wrapped: {done:?}");
    let after = read_all(&stored_files(dir.path()));
    for ((name, b), (_, a)) in before.iter().zip(&after) {
        assert_eq!(
            a[96..],
            b[96..],
            "{name}: only the header changed, the audio is not rewritten"
        );
        assert_ne!(a[..96], b[..96], "{name}: the header changed");
    }

    let old_refused = start_or_refusal(dir.path(), Some(&old))
        .await
        .err()
        .expect("old key: refused");
    assert!(old_refused.contains("not the key"), "{old_refused}");
    let srv = start_or_refusal(dir.path(), Some(&new))
        .await
        .expect("the new key starts");
    let admin = srv.admin().await;
    for (rec, plain) in &plains {
        assert_reads_exact(&admin, *rec, plain).await;
    }
    let _ = directory::PASSWORD;
}

#[tokio::test]
async fn issue12_with_s3_the_bucket_holds_only_sealed_objects_that_play_back_exactly_and_rekey_there() {
    let s3 = s3::shared();
    let prefix = s3.fresh_prefix();
    let keys = tempfile::tempdir().expect("key dir");
    let key = key_file(keys.path(), "master.key");
    let w = post_call::world(post_call::local(2026, 6, 4, 12, 0, 0), |c| {
        use_s3(c, s3, &prefix);
        c.encryption_key_file = Some(key.clone());
    })
    .await;
    let out = tempfile::tempdir().expect("script output");
    let mail = tempfile::tempdir().expect("mail dir");
    let sink = Sink::start(mail.path(), 0).await;
    support_rules(&w, out.path(), sink.port).await;
    let plain = wav::stereo_ulaw(5.0);
    let rec = ingest(&w.srv, &call("enc-s3@pbx", w.srv.now(), CALLER, "201"), plain.clone())
        .await
        .recording_id;
    uploads(&w.srv.state, "the sealed recording and journal go up", |b| {
        b.recordings_uploaded >= 1 && b.journals_uploaded >= 1 && b.waiting == 0
    })
    .await;
    let stored = w.srv.state.store.get_recording(rec).await.expect("the row");
    assert!(!w.dir.path().join(&stored.rel_path).exists(), "only the object is left");
    let b = bucket(s3);
    let wav_object = object(&b, &prefix, &stored.rel_path).await.expect("the WAV object");
    let call = w.admin.get_call(stored.recording.call_id).await.expect("the call").call;
    let journal_rel = format!(
        "recordings/{}/{}.json",
        call.started_at.format("%Y/%m/%d"),
        call.call_key
    );
    let journal_object = object(&b, &prefix, &journal_rel).await.expect("the journal object");
    assert_nothing_plain(&[
        ("the WAV object".into(), wav_object.clone()),
        ("the journal object".into(), journal_object),
    ]);
    assert_ne!(
        sha256(&wav_object),
        stored.recording.sha256,
        "the bucket holds the sealed bytes"
    );
    assert_reads_exact(&w.admin, rec, &plain).await;

    let report = run_now(&w.admin).await;
    assert!(report.failed == 0 && report.sent >= 2, "script and e-mail: {report:?}");
    let copied = std::fs::read(out.path().join("audio.wav")).expect("the script read $1");
    assert_eq!(
        sha256(&copied),
        stored.recording.sha256,
        "the script's copy of the object is plaintext"
    );
    let mails = sink.wait_for(1).await;
    let part = mails[0]
        .attachments
        .iter()
        .find(|p| p.content_type.starts_with("audio/wav"))
        .expect("attached");
    assert_eq!(
        sha256(&sink.attachment(part)),
        stored.recording.sha256,
        "the e-mail's plaintext"
    );

    // Rekey the bucket too.
    let dir = w.dir;
    w.srv.crash().await;
    let new = key_file(keys.path(), "new.key");
    let mut cfg = callrec_tests::test_config(dir.path());
    use_s3(&mut cfg, s3, &prefix);
    cfg.encryption_key_file = Some(key.clone());
    let done = sealed::convert::rekey(&cfg, Arc::new(MasterKey::load(&new).expect("key")))
        .await
        .expect("rekey");
    assert!(done.changed >= 2, "the objects were re-wrapped: {done:?}");
    let rewrapped = object(&b, &prefix, &stored.rel_path).await.expect("still there");
    assert_eq!(
        rewrapped[96..],
        wav_object[96..],
        "the object's audio chunks are unchanged"
    );
    let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
    let srv = Srv::start(dir.path(), clock, |c| {
        use_s3(c, s3, &prefix);
        c.encryption_key_file = Some(new.clone());
    })
    .await;
    assert_reads_exact(&srv.admin().await, rec, &plain).await;
}
