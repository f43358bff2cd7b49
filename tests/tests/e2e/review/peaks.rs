//! Waveform peaks (issue #15.1): exactly the min/max of the file, computed once and cached.

use super::*;
use crate::object_storage::{uploads, use_s3};
use callrec_server::sealed::MasterKey;
use callrec_testkit::s3;

#[tokio::test]
async fn peaks_are_the_exact_min_max_of_the_file_cached_once_and_hidden_from_other_agents() {
    let w = world(now_ms(), |_| {}).await;
    support_rule(&w).await;
    let (wav, left, right) = known_wav();
    let (_, rec) = upload(&w, "peaks-1@pbx", wav).await;
    let alice = w.srv.login("alice").await;
    let sam = w.srv.login("sam").await;
    let bob = w.srv.login("bob").await;
    let carol = w.srv.login("carol").await;

    assert!(
        w.srv.state.store.get_peaks(rec, 8).await.expect("store").is_none(),
        "nothing is cached before the first request"
    );
    let p = alice.recording_peaks(rec, Some(8)).await.expect("alice's peaks");
    assert_eq!(
        (p.recording_id, p.buckets, p.frames, p.sample_rate, p.channels.len()),
        (rec, 8, FRAMES as u64, 8000, 2),
        "8 buckets of the 16,000 frames, two channels"
    );
    assert_eq!(
        as_pairs(&p),
        expected(&left, &right, 8),
        "each bucket's min/max is exactly that of the decoded samples, caller then callee"
    );
    assert_eq!(
        w.srv.state.store.get_peaks(rec, 8).await.expect("store"),
        Some(p.clone()),
        "the first request cached what it answered"
    );
    let odd = sam.recording_peaks(rec, Some(7)).await.expect("the supervisor's peaks");
    assert_eq!(
        as_pairs(&odd),
        expected(&left, &right, 7),
        "buckets that do not divide the frames evenly"
    );
    let default = sam.recording_peaks(rec, None).await.expect("default buckets");
    assert_eq!(default.buckets, 1000, "1000 buckets when none are asked for");
    assert_eq!(
        as_pairs(&default),
        expected(&left, &right, 1000),
        "the default 1000 buckets are exact too"
    );
    let most = sam.recording_peaks(rec, Some(10_000)).await.expect("the most buckets");
    assert_eq!(
        as_pairs(&most),
        expected(&left, &right, 10_000),
        "10,000 buckets, the most allowed, are exact too"
    );

    // Served from the cache: with the file gone, the cached count still answers, a new one
    // cannot be computed.
    let stored = w.srv.state.store.get_recording(rec).await.expect("the row");
    std::fs::remove_file(w.dir.path().join(&stored.rel_path)).expect("the file is removed");
    assert_eq!(
        alice.recording_peaks(rec, Some(8)).await.expect("cached"),
        p,
        "the cached peaks are served without reading the file"
    );
    let gone = alice.recording_peaks(rec, Some(9)).await.expect_err("not cached");
    assert_eq!(
        (gone.status(), gone.code()),
        (Some(410), Some(ErrorCode::FileMissing)),
        "a count never asked for needs the file, which is missing"
    );

    for (who, c) in [
        ("bob, another agent of the team", &bob),
        ("carol, of another team", &carol),
    ] {
        let e = c.recording_peaks(rec, Some(8)).await.expect_err(who);
        assert_eq!(
            (e.status(), e.code()),
            (Some(404), Some(ErrorCode::NotFound)),
            "{who} may not see the recording: 404 as for its audio"
        );
        assert_eq!(
            c.audio_bytes(rec, AudioFormat::Original, None).await.expect(who).0,
            404,
            "{who}: the audio answers the same"
        );
    }
    for bad in ["0", "10001", "-1", "many", "1.5"] {
        let res = alice
            .raw(
                reqwest::Method::GET,
                &format!("/api/v1/recordings/{rec}/peaks?buckets={bad}"),
            )
            .send()
            .await
            .expect("an answer");
        assert_eq!(res.status().as_u16(), 400, "buckets={bad} is out of range");
        let body: serde_json::Value = res.json().await.expect("JSON");
        assert_eq!(body["code"], "bad_query", "buckets={bad}: {body}");
    }
    let e = bob
        .raw(
            reqwest::Method::GET,
            &format!("/api/v1/recordings/{rec}/peaks?buckets=0"),
        )
        .send()
        .await
        .expect("an answer");
    assert_eq!(
        e.status().as_u16(),
        404,
        "who may see it is checked before the query: bob's bad query is still a 404"
    );
}

#[tokio::test]
async fn peaks_of_sealed_and_object_stored_recordings_are_read_as_the_audio_is() {
    let keys = tempfile::tempdir().expect("a dir for the key");
    let key = keys.path().join("master.key");
    MasterKey::generate().write_new(&key).expect("the key file");
    let w = world(now_ms(), |c| c.encryption_key_file = Some(key.clone())).await;
    support_rule(&w).await;
    let (wav, left, right) = known_wav();
    let (_, rec) = upload(&w, "sealed-1@pbx", wav.clone()).await;
    let stored = w.srv.state.store.get_recording(rec).await.expect("the row");
    let on_disk = std::fs::read(w.dir.path().join(&stored.rel_path)).expect("the file");
    assert!(on_disk != wav, "the file is stored sealed");
    let p = w
        .admin
        .recording_peaks(rec, Some(16))
        .await
        .expect("peaks of a sealed file");
    assert_eq!(as_pairs(&p), expected(&left, &right, 16), "the plaintext's peaks");

    let s3 = s3::shared();
    let prefix = s3.fresh_prefix();
    let w = world(now_ms(), |c| use_s3(c, s3, &prefix)).await;
    support_rule(&w).await;
    let (_, rec) = upload(&w, "s3-peaks@pbx", wav).await;
    uploads(&w.srv.state, "the recording goes up", |b| {
        b.recordings_uploaded >= 1 && b.waiting == 0
    })
    .await;
    let stored = w.srv.state.store.get_recording(rec).await.expect("the row");
    assert!(
        !w.dir.path().join(&stored.rel_path).exists(),
        "no local copy once uploaded"
    );
    let p = w
        .admin
        .recording_peaks(rec, Some(16))
        .await
        .expect("peaks of an object");
    assert_eq!(as_pairs(&p), expected(&left, &right, 16), "read from the object store");
}
