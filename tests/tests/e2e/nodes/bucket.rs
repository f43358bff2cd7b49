//! Several nodes on one PostgreSQL and one S3 bucket, as a scale-out installation runs them: a
//! recording made on one node plays from the other, also after the node died mid-call.

use super::*;

/// Both nodes on one PostgreSQL and one S3 bucket, as a scale-out installation runs them.
fn shared_node(url: &str, node: &'static str, s3: &'static s3::Server, prefix: &str) -> impl FnOnce(&mut Config) {
    let (url, prefix) = (url.to_owned(), prefix.to_owned());
    move |c: &mut Config| {
        c.database_url = Some(DatabaseUrl::new(url));
        c.node_id = Some(node.to_owned());
        crate::object_storage::use_s3(c, s3, &prefix);
    }
}

#[tokio::test]
async fn an_upload_on_node_b_plays_from_node_a_byte_for_byte_and_only_the_bucket_keeps_it() {
    use crate::object_storage::{bucket, object, sha256, uploads};
    let s3 = s3::shared();
    let prefix = s3.fresh_prefix();
    let url = callrec_testkit::postgres::fresh_database().await;
    let a = TestServer::start_with(shared_node(&url, "node-a", s3, &prefix)).await;
    let b = TestServer::start_with(shared_node(&url, "node-b", s3, &prefix)).await;

    let mut facts = call(
        "two-nodes-upload@pbx",
        chrono::Utc::now() - chrono::Duration::minutes(5),
        "+4930999000",
        "201",
    );
    facts.mon_mode = Some("force".into());
    let rec = Client::new(&b.url)
        .expect("a valid URL")
        .ingest_bytes(INGEST_TOKEN, &facts, wav::stereo_ulaw(3.0))
        .await
        .expect("node B takes the upload")
        .recording_id;
    uploads(&b.state, "node B uploads the recording and its journal", |bl| {
        bl.recordings_uploaded >= 1 && bl.journals_uploaded >= 1 && bl.waiting == 0
    })
    .await;

    let admin = a.admin().await;
    let recording = admin.get_recording(rec).await.expect("node A knows the recording");
    let stored = b.state.store.get_recording(rec).await.expect("the row");
    let object_bytes = object(&bucket(s3), &prefix, &stored.rel_path)
        .await
        .expect("the WAV is an object in the bucket");
    assert_eq!(sha256(&object_bytes), recording.sha256, "the object is the recording");
    for (node, dir) in [("A", a.data_dir()), ("B", b.data_dir())] {
        assert!(
            !dir.join(&stored.rel_path).exists(),
            "no lasting local copy on node {node}"
        );
    }
    let (status, _, whole) = admin
        .audio_bytes(rec, AudioFormat::Original, None)
        .await
        .expect("node A plays it");
    assert_eq!(status, 200);
    assert_eq!(
        whole.as_ref(),
        object_bytes.as_slice(),
        "node A plays node B's upload byte for byte"
    );
    let (status, _, part) = admin
        .audio_bytes(rec, AudioFormat::Original, Some((44, Some(8_043))))
        .await
        .expect("node A plays a range");
    assert_eq!(status, 206, "a Range from node A");
    assert_eq!(part.as_ref(), &object_bytes[44..8_044], "the range's bytes");
    let journal = admin
        .call_journal_json(recording.call_id)
        .await
        .expect("node A serves the call's journal JSON from the bucket");
    assert_eq!(journal.recordings[0].id, rec);
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn a_node_killed_mid_call_comes_back_repairs_uploads_and_the_recording_plays_from_the_other_node() {
    use crate::object_storage::{bucket, object, sha256, uploads};
    let s3 = s3::shared();
    let prefix = s3.fresh_prefix();
    let url = callrec_testkit::postgres::fresh_database().await;
    let a = TestServer::start_with(shared_node(&url, "node-a", s3, &prefix)).await;
    let admin = a.admin().await;
    let b_dir = tempfile::tempdir().expect("data dir");
    let spec = format!("{url}|{}|node-b|15|{}|{prefix}", b_dir.path().display(), s3.endpoint);
    let (mut child, sip) = spawn_node_spec(spec).await;

    let sim = Sim::connect(sip, Transport::Udp).await.expect("sim");
    let sip_call = sim.call().mon_mode("force").invite().await.expect("node B answers");
    let id = call_id(&a, sip_call.call_id()).await;
    // Audio reaches node B's spool while the call runs; then node B dies mid-call.
    let spooled = eventually(20, "audio in node B's spool", || async {
        let detail = admin.get_call(id).await.ok()?;
        let rec = detail.recordings.into_iter().next()?;
        let stored = a.state.store.get_recording(rec.id).await.ok()?;
        let len = std::fs::metadata(b_dir.path().join(&stored.rel_path)).ok()?.len();
        (len > 16_000 + 44).then_some(stored)
    })
    .await;
    child.kill().expect("SIGKILL node B");
    let _ = child.wait();
    drop(sip_call);

    // Node B comes back on its data directory: its start-up repair closes the recording and
    // the uploader sends it to the bucket.
    let b = TestServer::start_with_config({
        let mut c = node_config(b_dir.path(), &url, "node-b", 15);
        crate::object_storage::use_s3(&mut c, s3, &prefix);
        c
    })
    .await;
    uploads(&b.state, "node B uploads its repaired recording", |bl| {
        bl.recordings_uploaded >= 1 && bl.waiting == 0
    })
    .await;
    let rec = admin
        .get_recording(spooled.recording.id)
        .await
        .expect("node A sees the repaired recording");
    assert_eq!(rec.state, RecordingState::Complete, "repaired at node B's restart");
    assert!(
        rec.duration_ms >= 1000,
        "the audio before the kill is kept: {} ms",
        rec.duration_ms
    );
    let object_bytes = object(&bucket(s3), &prefix, &spooled.rel_path)
        .await
        .expect("the repaired WAV is an object");
    assert_eq!(sha256(&object_bytes), rec.sha256, "the object is the repaired file");
    assert!(
        !b_dir.path().join(&spooled.rel_path).exists(),
        "node B's spool copy is gone once uploaded"
    );
    let (status, _, whole) = admin
        .audio_bytes(rec.id, AudioFormat::Original, None)
        .await
        .expect("node A plays it");
    assert_eq!(status, 200);
    assert_eq!(whole.as_ref(), object_bytes.as_slice(), "node A plays it byte for byte");
    a.stop().await;
    b.stop().await;
}
