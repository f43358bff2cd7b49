//! End-to-end (issue #13, item 3): the SIPREC recorder on a disk that fills up mid-call.
//!
//! The real server runs in-process with its data directory (recordings, journals, SQLite) on a
//! small tmpfs the test mounts and removes. A real SIPREC call (callrec-sim) is recording when
//! a ballast file fills the disk; a second call placed while the disk is full must be refused
//! with 503 and `Retry-After` and leave no file and no row; the ballast is then removed and the
//! first call goes on. The recording must continue after space returns, its header must match
//! its length, its one gap must be recorded exactly (where the file holds silence) and last
//! about as long as the disk was full beyond the memory bound, its timeline must be the
//! call's, and `/metrics` and the storage report must show what happened.
//!
//! Mounting needs root (this machine and CI have it). Elsewhere the test fails, saying so,
//! unless `CALLREC_SKIP_ROOT_TESTS=1`, when it prints that it skipped.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use callrec_media::g711::Law;
use callrec_media::wav::WavInfo;
use callrec_server::state::Envelope;
use callrec_sim::{Sim, Transport};
use callrec_tests::{metric, test_config, TestServer};
use callrec_types::calls::RecordingState;
use callrec_types::wire::Event;
use callrec_types::CallId;

/// Seconds of audio a call may hold in memory while the disk is full (the config's minimum).
const BUFFER_SECS: u32 = 2;
/// How long the disk stays full: well beyond the memory bound, so audio is lost.
const FULL_FOR: Duration = Duration::from_millis(4500);
/// Stereo G.711 at 8 kHz.
const BYTES_PER_MS: usize = 16;

/// A size-limited tmpfs on a fresh directory, unmounted and removed on drop.
struct Tmpfs {
    dir: Option<tempfile::TempDir>,
}

impl Tmpfs {
    /// Mounts `size` (e.g. `16m`); `None` when it cannot and the caller asked to skip.
    fn mount(size: &str) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().expect("a directory to mount on");
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output();
        let refused = match out {
            Ok(o) if o.status.success() => None,
            Ok(o) => Some(String::from_utf8_lossy(&o.stderr).trim().to_owned()),
            Err(e) => Some(e.to_string()),
        };
        if let Some(why) = refused {
            if std::env::var("CALLREC_SKIP_ROOT_TESTS").is_ok_and(|v| v == "1") {
                eprintln!("skipped: cannot mount a tmpfs ({why}); CALLREC_SKIP_ROOT_TESTS=1");
                return None;
            }
            panic!(
                "this test mounts a small tmpfs to fill the disk and needs root: mount failed ({why}). \
                 Run as root, or set CALLREC_SKIP_ROOT_TESTS=1 to skip it"
            );
        }
        Some(Tmpfs { dir: Some(dir) })
    }

    fn path(&self) -> &Path {
        self.dir.as_ref().expect("mounted").path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        if let Some(dir) = self.dir.take() {
            let ok = Command::new("umount")
                .arg(dir.path())
                .status()
                .is_ok_and(|s| s.success());
            if !ok {
                // Something still holds a file open (a server task being torn down): detach
                // now, the kernel frees it when the last file closes.
                let _ = Command::new("umount").arg("-l").arg(dir.path()).status();
            }
            drop(dir);
        }
    }
}

/// Writes a ballast file until the file system refuses even a byte; returns its size.
fn fill(path: &Path) -> u64 {
    let mut f = std::fs::File::create(path).expect("the ballast file can be created");
    let mut total = 0u64;
    for chunk in [1 << 20, 64 << 10, 4096, 512, 1] {
        let buf = vec![0x55u8; chunk];
        while let Ok(n) = f.write(&buf) {
            if n == 0 {
                break;
            }
            total += n as u64;
        }
    }
    total
}

/// Every WAV file under `dir`.
fn wav_files(dir: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "wav") {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, &mut out);
    out
}

/// Waits until `/metrics` shows `name` = `want`; returns when it saw it.
async fn wait_metric(server: &TestServer, name: &str, want: i64, within: Duration) -> Instant {
    let deadline = Instant::now() + within;
    loop {
        if metric(&server.state.metrics.render(), name) == want {
            return Instant::now();
        }
        assert!(Instant::now() < deadline, "{name} reaches {want} within {within:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn wait_ended(events: &mut tokio::sync::broadcast::Receiver<std::sync::Arc<Envelope>>, id: CallId) {
    let wait = async {
        loop {
            match events.recv().await {
                Ok(e) => {
                    if matches!(e.event, Event::CallEnded { call_id } if call_id == id) {
                        return;
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => panic!("the server stopped"),
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(15), wait)
        .await
        .expect("the call is finalised within 15 s");
}

/// The runs of 20 ms blocks of channel 1 (the caller's tone) that are silent: (start ms, ms).
fn silent_runs(data: &[u8], law: Law) -> Vec<(i64, i64)> {
    let caller: Vec<i16> = data.iter().step_by(2).map(|&b| law.decode(b)).collect();
    let mut runs = Vec::new();
    let mut start = None;
    for (i, block) in caller.chunks(160).enumerate() {
        let mean = block.iter().map(|s| i64::from(s.unsigned_abs())).sum::<i64>() / block.len().max(1) as i64;
        let at = i as i64 * 20;
        match (mean <= 1000, start) {
            (true, None) => start = Some(at),
            (false, Some(s)) => {
                runs.push((s, at - s));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        runs.push((s, caller.len() as i64 / 8 - s));
    }
    runs
}

#[tokio::test]
async fn issue_13_disk_full_mid_call_keeps_recording_after_space_returns_and_refuses_new_calls() {
    let Some(fs) = Tmpfs::mount("24m") else { return };
    let mut cfg = test_config(fs.path());
    cfg.disk_full_buffer_secs = BUFFER_SECS;
    let server = TestServer::start_with_config(cfg).await;
    let admin = server.admin().await;
    let sim = Sim::connect(server.sip, Transport::Udp)
        .await
        .expect("the simulator reaches the recorder");

    // Call A, recorded from its answer (force needs no rules).
    let call = sim
        .call()
        .mon_mode("force")
        .invite()
        .await
        .expect("the recorder answers while the disk has room");
    let answered = Instant::now();
    let id = server
        .state
        .store
        .call_by_sip_id(call.call_id())
        .await
        .expect("the store answers")
        .expect("call A has a row");
    tokio::time::sleep(Duration::from_millis(1500)).await;

    // The disk fills up.
    let ballast = fs.path().join("ballast");
    let b = ballast.clone();
    let filled = tokio::task::spawn_blocking(move || fill(&b)).await.expect("fill");
    let full_at = Instant::now();
    assert!(filled > 1 << 20, "the ballast took the free space ({filled} bytes)");
    wait_metric(&server, "callrec_storage_full", 1, Duration::from_secs(4)).await;

    let report = admin.storage().await.expect("the storage report answers while full");
    assert!(report.disk_full, "the storage report says the disk is full");
    assert_eq!(report.calls_waiting, 1, "call A waits to write");

    // Call B while full: refused honestly.
    let refused = sim
        .call()
        .mon_mode("force")
        .invite_or_refusal()
        .await
        .expect("the recorder answers the INVITE");
    let response = match refused {
        Ok(_) => panic!("a call placed while the disk is full must not be answered"),
        Err(r) => r,
    };
    assert_eq!(response.status(), Some(503), "503 Service Unavailable");
    let retry_after: u32 = response
        .headers
        .get("Retry-After")
        .expect("a Retry-After header")
        .trim()
        .parse()
        .expect("Retry-After is a number of seconds");
    assert!(retry_after > 0, "Retry-After asks for a pause");
    let b_sip_id = response.call_id().expect("Call-ID").to_owned();
    assert_eq!(
        server.state.store.call_by_sip_id(&b_sip_id).await.expect("store"),
        None,
        "the refused call has no row"
    );
    assert_eq!(
        wav_files(fs.path()).len(),
        1,
        "the refused call left no file: only call A's exists"
    );

    // Space returns.
    tokio::time::sleep((full_at + FULL_FOR).saturating_duration_since(Instant::now())).await;
    std::fs::remove_file(&ballast).expect("the ballast is removed");
    let freed_at = Instant::now();
    wait_metric(&server, "callrec_storage_full", 0, Duration::from_secs(3)).await;
    tokio::time::sleep(Duration::from_millis(2000)).await;

    let mut events = server.state.events.subscribe();
    call.bye().await.expect("the BYE is answered 200");
    let call_ms = i64::try_from(answered.elapsed().as_millis()).expect("ms");
    wait_ended(&mut events, id).await;

    // The recording.
    let detail = admin.get_call(id).await.expect("call A is visible");
    assert_eq!(detail.recordings.len(), 1, "one recording");
    let rec = &detail.recordings[0];
    assert_eq!(rec.state, RecordingState::Complete, "finalised");
    let path = wav_files(fs.path()).pop().expect("call A's file");
    let bytes = std::fs::read(&path).expect("the file reads");
    let info = WavInfo::parse(&bytes).expect("the header parses");
    assert_eq!(
        info.data_offset + info.data_len,
        bytes.len() as u64,
        "the data size is exactly the audio on disk"
    );
    let riff = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]);
    assert_eq!(
        u64::from(riff) + 8,
        bytes.len() as u64,
        "the RIFF size matches the file"
    );
    assert_eq!(info.data_len % 2, 0, "whole stereo frames");
    assert!(
        (rec.duration_ms - call_ms).abs() <= 300,
        "the file's timeline is the call's: {} ms recorded, {call_ms} ms call",
        rec.duration_ms
    );
    assert_eq!(rec.bytes, bytes.len() as i64, "the row's size is the file's");

    // The gap: one, where the file holds silence, about as long as the disk was full beyond
    // what memory held.
    assert_eq!(rec.gaps.len(), 1, "one outage, one gap: {:?}", rec.gaps);
    let gap = rec.gaps[0];
    let full_ms = i64::try_from(freed_at.duration_since(full_at).as_millis()).expect("ms");
    let expected = full_ms - i64::from(BUFFER_SECS) * 1000;
    // Earlier: the last write before the fill may have been up to 1.3 s before it (one second
    // of chunking and the 300 ms reorder delay). Later: the retry that notices the space comes
    // within 0.5 s. Either side a little scheduling slack.
    assert!(
        gap.duration_ms >= expected - 300 && gap.duration_ms <= expected + 1900,
        "the gap ({} ms) is about the time the disk was full ({full_ms} ms) minus the {BUFFER_SECS} s held in memory",
        gap.duration_ms
    );
    let start = usize::try_from(info.data_offset).expect("offset");
    let law = Law::Ulaw;
    let runs = silent_runs(&bytes[start..], law);
    let (silent_at, silent_ms) = runs
        .iter()
        .copied()
        .filter(|(at, _)| *at > 200)
        .max_by_key(|(_, ms)| *ms)
        .expect("the gap is silence in the file");
    assert!(
        (silent_at - gap.offset_ms).abs() <= 40 && (silent_ms - gap.duration_ms).abs() <= 40,
        "the gap recorded ({} ms at {} ms) is the silence in the file ({silent_ms} ms at {silent_at} ms)",
        gap.duration_ms,
        gap.offset_ms
    );
    let after_gap_ms = rec.duration_ms - (gap.offset_ms + gap.duration_ms);
    assert!(
        after_gap_ms >= 1500,
        "the recording continued after space returned ({after_gap_ms} ms after the gap)"
    );
    // (The last few hundred ms may be quiet: the simulator stops its streams before the BYE.)
    assert!(
        runs.iter()
            .filter(|(at, ms)| *at > gap.offset_ms + gap.duration_ms + 40 && at + ms < rec.duration_ms - 400)
            .all(|(_, ms)| *ms <= 60),
        "the audio after the gap is the call's tone, not silence: {runs:?}"
    );

    // The journal JSON names the gap.
    let journal = admin.call_journal_json(id).await.expect("the journal JSON exists");
    assert_eq!(journal.recordings[0].gaps, rec.gaps, "the journal lists the gap");

    // /metrics over HTTP, and the storage report.
    let text = reqwest::get(format!("{}/metrics", server.url))
        .await
        .expect("/metrics answers")
        .text()
        .await
        .expect("text");
    assert!(
        metric(&text, "callrec_storage_write_errors_total") >= 1,
        "write errors counted"
    );
    assert_eq!(metric(&text, "callrec_storage_full"), 0, "no longer full");
    assert_eq!(metric(&text, "callrec_storage_calls_waiting"), 0, "nothing waits");
    assert_eq!(
        metric(&text, "callrec_storage_buffered_bytes"),
        0,
        "nothing held in memory"
    );
    assert_eq!(metric(&text, "callrec_storage_refused_total"), 1, "call B was refused");
    let dropped_ms = metric(&text, "callrec_storage_dropped_ms_total");
    assert!(
        (dropped_ms - gap.duration_ms).abs() <= 1,
        "the audio dropped ({dropped_ms} ms) is the gap ({} ms)",
        gap.duration_ms
    );
    let dropped_bytes = metric(&text, "callrec_storage_dropped_bytes_total");
    assert!(
        (dropped_bytes / BYTES_PER_MS as i64 - dropped_ms).abs() <= 1,
        "bytes and ms of dropped audio agree"
    );
    let report = admin.storage().await.expect("the storage report");
    assert!(!report.disk_full, "the storage report says the disk took data again");
    assert_eq!(
        report.audio_lost_ms, dropped_ms as u64,
        "the storage report shows the audio lost"
    );

    server.stop().await;
    drop(fs);
}
