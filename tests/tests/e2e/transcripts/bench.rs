//! Benchmark: hang-up to transcript of a five-minute call.

use super::*;

/// Benchmark (issue #16; `cargo test --workspace --test e2e -- --ignored
/// bench_issue_16 --nocapture`): the time from a 5-minute call's hang-up (its upload, which
/// finishes the recording) to its transcript being `done`, through the real server and the
/// worker it starts (model load included: the worker starts with the server, before the
/// upload). The call is `scripts/transcribe-bench.py --wav`'s: espeak-ng turns, µ-law 8 kHz.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: minutes of CPU"]
async fn bench_issue_16_hang_up_to_transcript_of_a_five_minute_call() {
    let venv = venv();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the repository");
    let tmp = tempfile::tempdir().expect("a temp dir");
    let (pcm, ulaw) = (tmp.path().join("call16.wav"), tmp.path().join("call.wav"));
    run(Command::new(venv.join("bin/python"))
        .arg(repo.join("scripts/transcribe-bench.py"))
        .args(["--minutes", "5", "--wav"])
        .arg(&pcm));
    run(Command::new("sox")
        .arg(&pcm)
        .args(["-r", "8000", "-e", "u-law", "-b", "8"])
        .arg(&ulaw));
    let worker = worker_command();
    let server = TestServer::start_with(move |c| {
        c.transcription = true;
        c.transcription_command = worker;
    })
    .await;
    let admin = server.admin().await;
    let cast = directory::build(&admin).await;
    transcribing_rule(&admin, &cast, "Support incoming, transcribed", Dispatch::Store).await;
    // Let the worker load its model first, as a running server's worker has.
    tokio::time::sleep(std::time::Duration::from_secs(10)).await;
    let bytes = std::fs::read(&ulaw).expect("the call");
    let start = Instant::now();
    let up = server
        .client()
        .ingest_bytes(INGEST_TOKEN, &ingest_call("bench-5min", 300), bytes)
        .await
        .expect("the upload is stored");
    let t = wait_for(&admin, up.recording_id, 1800, "the 5-minute transcript", |t| {
        matches!(t.status, TranscriptStatus::Done | TranscriptStatus::Failed)
    })
    .await;
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(t.status, TranscriptStatus::Done, "{:?}", t.error);
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "hang-up to transcript of a 5-minute call: {secs:.1} s ({} lines); load average {}",
        t.lines.len(),
        load.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
    );
    server.stop().await;
}
