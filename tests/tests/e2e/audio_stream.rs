//! End-to-end: streaming a recording — whole, by several ranges, HEAD, ETag/If-None-Match,
//! If-Range, 416 — in the original format and converted to PCM16 on the fly (checked sample by
//! sample against the G.711 decode), download names, and the play/download audit rows.

use callrec_client::{AudioFormat, Client};
use callrec_media::g711::Law;
use callrec_tests::directory::{self, PASSWORD};
use callrec_tests::{wav, TestServer, INGEST_TOKEN};
use callrec_types::wire::IngestCall;
use callrec_types::RecordingId;
use chrono::{Duration, Utc};
use reqwest::Method;

async fn setup(law: Law) -> (TestServer, Client, RecordingId, Vec<u8>) {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    directory::build(&admin).await;
    let at = Utc::now() - Duration::minutes(5);
    let call = IngestCall {
        mon_mode: Some("force".into()),
        ..callrec_tests::upload::two_party("audio-1", at, 0, 3, ("+4930111", "Customer"), ("201", "Alice"))
    };
    let audio = wav::stereo_g711(law, 3.0, 440.0, 1000.0);
    let r = server
        .client()
        .ingest_bytes(INGEST_TOKEN, &call, audio.clone())
        .await
        .expect("upload");
    (server, admin, r.recording_id, audio)
}

async fn get(
    c: &Client,
    id: RecordingId,
    query: &str,
    headers: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let mut req = c.raw(Method::GET, &format!("/api/v1/recordings/{id}/audio{query}"));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = req.send().await.expect("answer");
    let (status, h) = (res.status().as_u16(), res.headers().clone());
    (status, h, res.bytes().await.expect("body").to_vec())
}

#[tokio::test]
async fn original_audio_streams_whole_and_by_ranges() {
    let (server, admin, id, audio) = setup(Law::Ulaw).await;
    let len = audio.len();
    let (st, h, body) = get(&admin, id, "", &[]).await;
    assert_eq!(st, 200);
    assert_eq!(body, audio, "the whole file is the upload");
    assert_eq!(h["content-type"], "audio/wav");
    assert_eq!(h["accept-ranges"], "bytes");
    let etag = h["etag"].to_str().expect("etag").to_string();

    // Several seeks, as a player makes them.
    for (range, from, to) in [
        ("bytes=0-99", 0, 100),
        ("bytes=1000-1999", 1000, 2000),
        (&format!("bytes={}-", len - 10) as &str, len - 10, len),
        ("bytes=-500", len - 500, len),
        (&format!("bytes=100-{}", len + 1000) as &str, 100, len),
    ] {
        let (st, h, body) = get(&admin, id, "", &[("range", range)]).await;
        assert_eq!(st, 206, "{range}");
        assert_eq!(body, &audio[from..to], "bytes of {range}");
        assert_eq!(
            h["content-range"].to_str().expect("cr"),
            format!("bytes {from}-{}/{len}", to - 1)
        );
    }
    let (st, h, _) = get(&admin, id, "", &[("range", &format!("bytes={}-", len + 5))]).await;
    assert_eq!(st, 416, "past the end");
    assert_eq!(h["content-range"].to_str().expect("cr"), format!("bytes */{len}"));
    let (st, _, body) = get(&admin, id, "", &[("range", "bytes=oops")]).await;
    assert_eq!((st, body.len()), (200, len), "a malformed Range is ignored");

    // Caching validators.
    let (st, _, body) = get(&admin, id, "", &[("if-none-match", &etag)]).await;
    assert_eq!((st, body.len()), (304, 0));
    let (st, _, body) = get(&admin, id, "", &[("range", "bytes=0-9"), ("if-range", &etag)]).await;
    assert_eq!(
        (st, body.len()),
        (206, 10),
        "If-Range with the current ETag honours the range"
    );
    let (st, _, body) = get(&admin, id, "", &[("range", "bytes=0-9"), ("if-range", "\"stale\"")]).await;
    assert_eq!((st, body.len()), (200, len), "a stale If-Range gets the whole file");

    let (st, h) = admin.audio_head(id, AudioFormat::Original).await.expect("head");
    assert_eq!(
        (st, h["content-length"].to_str().expect("len")),
        (200, len.to_string().as_str())
    );

    let (st, h, _) = get(&admin, id, "?download=1", &[]).await;
    assert_eq!(st, 200);
    let cd = h["content-disposition"].to_str().expect("cd");
    assert!(cd.starts_with("attachment;") && cd.contains("_001.wav"), "{cd}");

    // The download helper checks what arrives against the server's SHA-256, and is audited
    // as one download, not as a play (the desktop downloads through it).
    let count = |items: &[callrec_types::wire::AuditEntry], action: &str| {
        items
            .iter()
            .filter(|e| e.action == action && e.target == format!("recording {id}"))
            .count()
    };
    let before = admin.audit(None, Some(500)).await.expect("audit").items;
    let dir = tempfile::tempdir().expect("tmp");
    let report = admin
        .download_to(id, AudioFormat::Original, &dir.path().join("a.wav"), |_, _| {})
        .await
        .expect("download");
    let meta = admin.get_recording(id).await.expect("meta");
    assert_eq!(report.sha256_hex, meta.sha256);
    assert_eq!(std::fs::read(dir.path().join("a.wav")).expect("file"), audio);

    let after = admin.audit(None, Some(500)).await.expect("audit").items;
    assert_eq!(
        (count(&after, "download"), count(&after, "play")),
        (count(&before, "download") + 1, count(&before, "play")),
        "download_to is audited as one download and no play"
    );
    let audit = admin.audit(None, Some(500)).await.expect("audit");
    let plays = audit
        .items
        .iter()
        .filter(|e| e.action == "play" && e.target == format!("recording {id}"))
        .count();
    let downloads = audit.items.iter().filter(|e| e.action == "download").count();
    assert!(plays >= 1 && downloads >= 1, "plays {plays}, downloads {downloads}");
    assert!(plays < 12, "seeks are not each a play: {plays}");

    let bob = server.login("bob", PASSWORD).await;
    let (st, _, _) = get(&bob, id, "", &[("range", "bytes=0-99")]).await;
    assert_eq!(st, 404, "another agent's recording is not there for bob");
}

#[tokio::test]
async fn pcm16_is_converted_sample_by_sample_with_exact_ranges() {
    for law in [Law::Ulaw, Law::Alaw] {
        let (_server, admin, id, audio) = setup(law).await;
        let g711 = &audio[callrec_media::wav::G711_HEADER_LEN..];
        let (st, h, pcm) = get(&admin, id, "?format=pcm16", &[]).await;
        assert_eq!(st, 200);
        let hl = callrec_media::wav::PCM16_HEADER_LEN;
        assert_eq!(
            pcm.len(),
            hl + 2 * g711.len(),
            "{law:?}: PCM16 is twice the G.711 data plus a 44-byte header"
        );
        assert_eq!(h["content-length"].to_str().expect("len"), pcm.len().to_string());
        let info = callrec_media::wav::WavInfo::parse(&pcm[..hl]).expect("a valid PCM16 WAV header");
        assert_eq!((info.channels, info.sample_rate), (2, 8000));
        for (i, b) in g711.iter().enumerate() {
            let s = i16::from_le_bytes([pcm[hl + 2 * i], pcm[hl + 2 * i + 1]]);
            assert_eq!(s, law.decode(*b), "{law:?} sample {i}");
        }
        // Channels keep their own signal: left 440 Hz, right 1000 Hz.
        let samples: Vec<i16> = pcm[hl..].chunks(2).map(|c| i16::from_le_bytes([c[0], c[1]])).collect();
        let left: Vec<i16> = samples.iter().step_by(2).copied().collect();
        let right: Vec<i16> = samples.iter().skip(1).step_by(2).copied().collect();
        assert!((wav::zero_crossing_hz(&left, 8000) - 440.0).abs() < 15.0);
        assert!((wav::zero_crossing_hz(&right, 8000) - 1000.0).abs() < 15.0);
        // Odd ranges across the header/data boundary and mid-sample.
        for (a, b) in [
            (0usize, 10usize),
            (40, 51),
            (45, 46),
            (1001, 4003),
            (pcm.len() - 3, pcm.len() - 1),
        ] {
            let (st, _, part) = get(&admin, id, "?format=pcm16", &[("range", &format!("bytes={a}-{b}"))]).await;
            assert_eq!(st, 206);
            assert_eq!(part, &pcm[a..=b], "{law:?} pcm16 bytes {a}-{b}");
        }
        let (st, h, _) = get(&admin, id, "?format=pcm16&download=1", &[]).await;
        assert_eq!(st, 200);
        assert!(h["content-disposition"].to_str().expect("cd").contains("_pcm16.wav"));
        let (st, _, _) = get(&admin, id, "?format=mp3", &[]).await;
        assert_eq!(st, 400, "an unknown format is a 400");
    }
}
