//! End-to-end: the SIPREC recorder with real SIP and RTP over loopback, driven by
//! `callrec-sim` as a library, checked through the HTTP API and by the content of the WAV
//! files (each channel carries its own participant's tone: caller 440 Hz, callee 1000 Hz).
//!
//! Cases (issue #3): an automatic call, a manual call toggled twice (two files), `force`,
//! `deny` (no file, no audio on disk), hold in the middle (padded to the call's length),
//! loss and reordering (padded, counted), SIP over TCP, CANCEL before the answer, silence
//! timeout, malformed SIP/SDP/XML/RTP (4xx or dropped, counted), and a crash of the server
//! process mid-recording followed by a restart that repairs the file.
//!
//! Issue #13, items 4 and 5 (what the recorder lets in: unacknowledged sessions, the
//! per-source limit, SIP over TCP limits) are in [`admission`].

mod admission;

use callrec_types::wire::ErrorCode;
use std::io::Write;
use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use callrec_client::{AudioFormat, Client};
use callrec_media::g711::Law;
use callrec_media::sdp::Direction;
use callrec_media::wav::{Codec, WavInfo};
use callrec_server::config::Config;
use callrec_server::state::{AppState, Envelope};
use callrec_server::Server;
use callrec_sim::signal::{CALLEE_HZ, CALLER_HZ};
use callrec_sim::{CallReport, Sim, SimCall, SimError, Transport};
use callrec_tests::directory::{self, add_rule, rule, Cast, PASSWORD};
use callrec_tests::wav::zero_crossing_hz;
use callrec_tests::{test_config, ADMIN_PASSWORD};
use callrec_types::calls::{AudioCodec, CallDetail, CallState, Recording, RecordingState, Trigger};
use callrec_types::rules::{Dispatch, RuleDirection, RuleMode, RuleOrigin};
use callrec_types::wire::{Event, RecordingAction};
use callrec_types::CallId;

/// One RTP packet: the tolerance of a recording's length.
pub(crate) const PACKET_MS: i64 = 20;
/// Scheduling slack between the test's clock and the server's on a busy 2-core machine.
pub(crate) const SLACK_MS: i64 = 60;

/// The real server in-process on 127.0.0.1:0 (HTTP and SIP), with a fresh data directory.
/// (The shared `TestServer` does not expose the SIP address yet.)
pub(crate) struct Recorder {
    pub(crate) url: String,
    pub(crate) sip: SocketAddr,
    /// The SIP over TLS address, when the configuration sets `sips`.
    pub(crate) sips: Option<SocketAddr>,
    pub(crate) state: AppState,
    dir: Option<tempfile::TempDir>,
    data_dir: PathBuf,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl Recorder {
    pub(crate) async fn start() -> Recorder {
        Self::start_with(|_| {}).await
    }

    pub(crate) async fn start_with(tweak: impl FnOnce(&mut Config)) -> Recorder {
        let dir = tempfile::tempdir().expect("a temp dir for the data");
        let mut cfg = test_config(dir.path());
        tweak(&mut cfg);
        Self::start_in(Some(dir), cfg).await
    }

    async fn start_on(data_dir: &Path) -> Recorder {
        Self::start_in(None, test_config(data_dir)).await
    }

    async fn start_in(dir: Option<tempfile::TempDir>, cfg: Config) -> Recorder {
        let data_dir = cfg.data_dir.clone();
        let server = Server::bind(cfg).await.expect("the server binds HTTP and SIP");
        let (url, sip, sips, state) = (
            format!("http://{}", server.http_addr),
            server.sip_addr,
            server.sips_addr,
            server.state().clone(),
        );
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(server.run(async move {
            let _ = rx.await;
        }));
        Recorder {
            url,
            sip,
            sips,
            state,
            dir,
            data_dir,
            shutdown: Some(tx),
            task: Some(task),
        }
    }

    pub(crate) async fn login(&self, user: &str, password: &str) -> Client {
        let mut c = Client::new(&self.url).expect("the server URL is valid");
        c.login(user, password)
            .await
            .unwrap_or_else(|e| panic!("login as {user} must work: {e}"));
        c
    }

    pub(crate) async fn admin(&self) -> Client {
        self.login("admin", ADMIN_PASSWORD).await
    }

    pub(crate) async fn sim(&self) -> Sim {
        Sim::connect(self.sip, Transport::Udp)
            .await
            .expect("the simulator reaches the recorder")
    }

    pub(crate) async fn call_id(&self, sip_call_id: &str) -> CallId {
        self.state
            .store
            .call_by_sip_id(sip_call_id)
            .await
            .expect("the store answers")
            .unwrap_or_else(|| panic!("a call for SIP Call-ID {sip_call_id}"))
    }

    pub(crate) async fn metric(&self, name: &str) -> u64 {
        let text = self.state.metrics.render();
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
            .unwrap_or_else(|| panic!("metric {name} is exported"))
    }

    /// Waits (bounded, 10 s) until the RTP worker has closed every call it opened: only then
    /// are the per-packet counters final, since the worker drains and counts a call's last
    /// packets when it closes its ports, which may come just after `CallEnded`.
    pub(crate) async fn rtp_settled(&self) {
        for _ in 0..100 {
            let opened = self.metric("callrec_rtp_calls_opened_total").await;
            if self.metric("callrec_rtp_calls_closed_total").await >= opened {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the RTP worker closed every call within 10 s");
    }

    /// Every WAV file under the data directory.
    pub(crate) fn wav_files(&self) -> Vec<PathBuf> {
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
        walk(&self.data_dir, &mut out);
        out
    }

    /// Hangs up and waits until the recorder has finalised the call (its `call_ended`
    /// event): the 200 to the BYE goes out before the files and the journal are closed.
    pub(crate) async fn hang_up(&self, call: SimCall, id: CallId) -> CallReport {
        let mut events = self.state.events.subscribe();
        let report = call.bye().await.expect("the BYE is answered 200");
        wait_ended(&mut events, Some(id)).await;
        report
    }

    pub(crate) async fn stop(mut self) -> Option<tempfile::TempDir> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(10), t).await;
        }
        self.dir.take()
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}

/// Waits for the `call_ended` event of `id` (or of any call).
pub(crate) async fn wait_ended(
    events: &mut tokio::sync::broadcast::Receiver<std::sync::Arc<Envelope>>,
    id: Option<CallId>,
) {
    let wait = async {
        loop {
            match events.recv().await {
                Ok(e) => {
                    if let Event::CallEnded { call_id } = e.event {
                        if id.is_none_or(|id| id == call_id) {
                            return;
                        }
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

/// A decoded stereo recording.
pub(crate) struct Audio {
    pub(crate) law: Law,
    pub(crate) caller: Vec<i16>,
    pub(crate) callee: Vec<i16>,
}

impl Audio {
    pub(crate) fn parse(bytes: &[u8]) -> Audio {
        let info = WavInfo::parse_with_file_len(bytes, bytes.len() as u64).expect("a valid WAV");
        assert_eq!(info.channels, 2, "stereo");
        assert_eq!(info.sample_rate, 8000, "8 kHz");
        let law = match info.codec {
            Codec::Ulaw => Law::Ulaw,
            Codec::Alaw => Law::Alaw,
            other => panic!("G.711 as received, not {other:?}"),
        };
        let start = usize::try_from(info.data_offset).expect("offset");
        let end = start + usize::try_from(info.data_len).expect("length");
        let data = &bytes[start..end];
        Audio {
            law,
            caller: data.iter().step_by(2).map(|&b| law.decode(b)).collect(),
            callee: data.iter().skip(1).step_by(2).map(|&b| law.decode(b)).collect(),
        }
    }

    pub(crate) fn duration_ms(&self) -> i64 {
        i64::try_from(self.caller.len()).expect("frames") / 8
    }

    pub(crate) fn assert_channels(&self, what: &str) {
        assert_tone(
            &self.caller,
            CALLER_HZ,
            CALLEE_HZ,
            &format!("{what}: channel 1 (caller)"),
        );
        assert_tone(
            &self.callee,
            CALLEE_HZ,
            CALLER_HZ,
            &format!("{what}: channel 2 (callee)"),
        );
    }

    /// Per 20 ms block of channel 1: sound (true) or silence.
    pub(crate) fn caller_blocks(&self) -> Vec<bool> {
        self.caller.chunks(160).map(is_sound).collect()
    }
}

/// Power of `samples` at `hz` (Goertzel), normalised per sample.
pub(crate) fn power_at(samples: &[i16], hz: u32) -> f64 {
    let coeff = 2.0 * (2.0 * std::f64::consts::PI * f64::from(hz) / 8000.0).cos();
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    for &x in samples {
        let s0 = f64::from(x) + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    let n = samples.len().max(1) as f64;
    (s1 * s1 + s2 * s2 - coeff * s1 * s2) / (n * n)
}

/// The channel carries `want` Hz (its participant's tone) and not `other` (the other's):
/// checked by content, robust to gaps of silence.
fn assert_tone(samples: &[i16], want: u32, other: u32, what: &str) {
    let (p_want, p_other) = (power_at(samples, want), power_at(samples, other));
    let estimate = zero_crossing_hz(samples, 8000);
    assert!(
        p_want > 1000.0,
        "{what}: carries the {want} Hz tone (power {p_want:.0}, ~{estimate:.0} Hz by zero crossings)"
    );
    assert!(
        p_want > 20.0 * p_other,
        "{what}: the {want} Hz tone dominates the {other} Hz one ({p_want:.0} vs {p_other:.0})"
    );
}

pub(crate) fn is_sound(block: &[i16]) -> bool {
    let mean = block.iter().map(|s| i64::from(s.unsigned_abs())).sum::<i64>() / block.len().max(1) as i64;
    mean > 1000
}

pub(crate) async fn audio(client: &Client, rec: &Recording) -> Audio {
    let (status, _, body) = client
        .audio_bytes(rec.id, AudioFormat::Original, None)
        .await
        .expect("the audio request is answered");
    assert_eq!(status, 200, "the recording downloads");
    Audio::parse(&body)
}

pub(crate) async fn finished_call(client: &Client, id: CallId) -> CallDetail {
    let detail = client.get_call(id).await.expect("the call is visible");
    assert_eq!(detail.call.state, CallState::Ended, "the call ended with the BYE");
    for r in &detail.recordings {
        assert_eq!(r.state, RecordingState::Complete, "recording {} is finalised", r.seq);
    }
    detail
}

pub(crate) fn within(actual: i64, expected: i64, tolerance: i64, what: &str) {
    assert!(
        (actual - expected).abs() <= tolerance,
        "{what}: {actual} ms, expected {expected} ms ± {tolerance} ms"
    );
}

pub(crate) async fn cast_with(recorder: &Recorder, rules: &[(RuleMode, bool)]) -> (Client, Cast) {
    let admin = recorder.admin().await;
    let cast = directory::build(&admin).await;
    for (mode, support) in rules {
        let role = if *support { cast.support_role } else { cast.sales_role };
        add_rule(
            &admin,
            rule(
                "test rule",
                *mode,
                role,
                RuleDirection::Both,
                RuleOrigin::Both,
                Dispatch::Store,
            ),
        )
        .await;
    }
    (admin, cast)
}

#[tokio::test]
async fn automatic_call_is_recorded_from_answer_to_bye_with_a_channel_per_participant() {
    let recorder = Recorder::start().await;
    let (admin, _cast) = cast_with(&recorder, &[(RuleMode::Automatic, true)]).await;
    let sim = recorder.sim().await;
    // The metadata puts the caller on the second m-line: channels must follow it.
    let call = sim
        .call()
        .caller("sip:+4930111222@carrier.example")
        .callee("sip:201@pbx.example")
        .caller_on_second_stream()
        .invite()
        .await
        .expect("the recorder answers");
    let answered = Instant::now();
    assert_eq!(
        call.answered_directions(),
        [Direction::RecvOnly, Direction::RecvOnly],
        "both streams answered recvonly"
    );
    let id = recorder.call_id(call.call_id()).await;
    let alice = recorder.login("alice", PASSWORD).await;
    let live = alice.live_calls().await.expect("alice lists her live calls");
    assert!(live.iter().any(|c| c.call.id == id), "alice sees the call live");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let elapsed = answered.elapsed();
    let report = recorder.hang_up(call, id).await;
    assert!(report.caller_packets >= 100, "the caller's stream was sent");

    let detail = finished_call(&alice, id).await;
    assert_eq!(detail.recordings.len(), 1, "one automatic recording");
    let rec = &detail.recordings[0];
    assert!(matches!(rec.trigger, Trigger::Auto { .. }), "triggered by the rule");
    assert_eq!(rec.channels, 2, "stereo");
    let expected = i64::try_from(elapsed.as_millis()).expect("ms");
    within(
        rec.duration_ms,
        expected,
        PACKET_MS + SLACK_MS,
        "the recording spans answer to BYE",
    );
    let a = audio(&admin, rec).await;
    assert_eq!(
        a.duration_ms(),
        rec.duration_ms,
        "the file holds what the metadata says"
    );
    a.assert_channels("automatic call");
    let journal = alice.call_journal_json(id).await.expect("the journal JSON exists");
    assert_eq!(journal.recordings.len(), 1, "the journal lists the recording");
    recorder.rtp_settled().await;
    assert_eq!(
        recorder.metric("callrec_rtp_lost_total").await,
        0,
        "nothing lost on loopback"
    );
    recorder.stop().await;
}

#[tokio::test]
async fn manual_call_toggled_twice_over_http_makes_two_files() {
    let recorder = Recorder::start().await;
    let (admin, _cast) = cast_with(&recorder, &[(RuleMode::Manual, false)]).await;
    let sim = recorder.sim().await;
    let call = sim
        .call()
        .caller("sip:+4930555@carrier.example")
        .callee("sip:203@pbx.example")
        .invite()
        .await
        .expect("the recorder answers");
    let id = recorder.call_id(call.call_id()).await;
    let carol = recorder.login("carol", PASSWORD).await;
    for _ in 0..2 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        carol
            .set_recording(id, RecordingAction::Start)
            .await
            .expect("carol may start recording");
        tokio::time::sleep(Duration::from_millis(1200)).await;
        carol
            .set_recording(id, RecordingAction::Stop)
            .await
            .expect("carol may stop recording");
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    recorder.hang_up(call, id).await;

    let detail = finished_call(&carol, id).await;
    assert_eq!(detail.recordings.len(), 2, "two segments");
    let names: Vec<&str> = detail.recordings.iter().map(|r| r.file_name.as_str()).collect();
    assert!(names[0].ends_with("_001.wav"), "first file is _001: {names:?}");
    assert!(names[1].ends_with("_002.wav"), "second file is _002: {names:?}");
    for rec in &detail.recordings {
        assert!(matches!(rec.trigger, Trigger::Manual { .. }), "manual trigger");
        within(rec.duration_ms, 1200, 250, "each segment lasts from start to stop");
        audio(&admin, rec).await.assert_channels("manual segment");
    }
    assert_eq!(recorder.wav_files().len(), 2, "only the two segments reached the disk");
    recorder.stop().await;
}

#[tokio::test]
async fn force_mode_records_without_any_rule() {
    let recorder = Recorder::start().await;
    let (admin, _cast) = cast_with(&recorder, &[]).await;
    let sim = recorder.sim().await;
    let call = sim
        .call()
        .caller("sip:202@pbx.example")
        .callee("sip:+4930999@carrier.example")
        .mon_mode("force")
        .codec(Law::Alaw)
        .invite()
        .await
        .expect("the recorder answers");
    let id = recorder.call_id(call.call_id()).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let live = admin.get_call(id).await.expect("the live call is visible");
    assert_eq!(
        live.recordings.first().map(|r| r.codec),
        Some(AudioCodec::Pcma),
        "while recording, the row already names A-law"
    );
    recorder.hang_up(call, id).await;
    let detail = finished_call(&admin, id).await;
    assert_eq!(detail.recordings.len(), 1, "force records from answer to hangup");
    assert!(
        matches!(detail.recordings[0].trigger, Trigger::Force),
        "trigger is force"
    );
    assert_eq!(
        detail.recordings[0].codec,
        AudioCodec::Pcma,
        "the recording's metadata names the codec of its file"
    );
    let a = audio(&admin, &detail.recordings[0]).await;
    assert_eq!(a.law, Law::Alaw, "stored as received: A-law");
    a.assert_channels("forced call");
    recorder.stop().await;
}

#[tokio::test]
async fn deny_mode_answers_inactive_and_no_audio_reaches_the_disk() {
    let recorder = Recorder::start().await;
    let (_admin, _cast) = cast_with(&recorder, &[(RuleMode::Automatic, true), (RuleMode::Manual, true)]).await;
    let sim = recorder.sim().await;
    // A misbehaving source that sends anyway: the recorder must still write nothing.
    let call = sim
        .call()
        .caller("sip:+4930777@carrier.example")
        .callee("sip:201@pbx.example")
        .mon_mode("deny")
        .send_when_inactive()
        .invite()
        .await
        .expect("a denied call is still accepted, so it shows live");
    assert_eq!(
        call.answered_directions(),
        [Direction::Inactive, Direction::Inactive],
        "deny answers every stream a=inactive"
    );
    let id = recorder.call_id(call.call_id()).await;
    let alice = recorder.login("alice", PASSWORD).await;
    let refused = alice
        .set_recording(id, RecordingAction::Start)
        .await
        .expect_err("nobody may record a denied call");
    assert_eq!(refused.code(), Some(ErrorCode::RecordingDenied), "409 recording_denied");
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let report = recorder.hang_up(call, id).await;
    assert!(report.caller_packets > 0, "the source did send RTP");
    let detail = finished_call(&alice, id).await;
    assert!(detail.recordings.is_empty(), "no recording");
    assert!(recorder.wav_files().is_empty(), "no audio file on disk");
    assert!(
        recorder.metric("callrec_rtp_packets_total").await > 0,
        "the packets arrived and were discarded"
    );
    recorder.stop().await;
}

#[tokio::test]
async fn hold_in_the_middle_is_padded_with_silence_to_the_call_length() {
    let recorder = Recorder::start().await;
    let (admin, _cast) = cast_with(&recorder, &[]).await;
    let sim = recorder.sim().await;
    let mut call = sim
        .call()
        .mon_mode("force")
        .invite()
        .await
        .expect("the recorder answers");
    let answered = Instant::now();
    let id = recorder.call_id(call.call_id()).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let hold_at = i64::try_from(answered.elapsed().as_millis()).expect("ms");
    call.hold().await.expect("hold re-INVITE answered");
    let held = admin.get_call(id).await.expect("call");
    assert_eq!(held.call.state, CallState::Held, "the live call shows held");
    let open = &held.recordings[0].holds;
    assert!(
        open.len() == 1 && open[0].to_ms.is_none(),
        "the running recording has an open hold: {open:?}"
    );
    tokio::time::sleep(Duration::from_millis(2000)).await;
    let resume_at = i64::try_from(answered.elapsed().as_millis()).expect("ms");
    call.resume().await.expect("resume re-INVITE answered");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let elapsed = i64::try_from(answered.elapsed().as_millis()).expect("ms");
    recorder.hang_up(call, id).await;

    let detail = finished_call(&admin, id).await;
    assert_eq!(detail.recordings.len(), 1, "one file across the hold");
    // Issue #15.1: the hold is kept on the recording for the waveform's markers.
    let holds = &detail.recordings[0].holds;
    assert_eq!(holds.len(), 1, "one hold: {holds:?}");
    within(holds[0].from_ms, hold_at, 400, "the hold's start");
    within(
        holds[0].to_ms.expect("closed by the resume"),
        resume_at,
        400,
        "the hold's end",
    );
    let a = audio(&admin, &detail.recordings[0]).await;
    within(
        a.duration_ms(),
        elapsed,
        PACKET_MS + SLACK_MS,
        "file duration = call duration",
    );
    let blocks = a.caller_blocks();
    let silent_in_middle = blocks[90..160].iter().filter(|s| !**s).count();
    assert!(
        silent_in_middle >= 65,
        "the held 1.8–3.2 s stretch is silence ({silent_in_middle} of 70 blocks silent)"
    );
    let sound_before = blocks[10..70].iter().filter(|s| **s).count();
    let sound_after = blocks[blocks.len() - 60..blocks.len() - 10]
        .iter()
        .filter(|s| **s)
        .count();
    assert!(
        sound_before >= 55,
        "sound before the hold ({sound_before} of 60 blocks)"
    );
    assert!(sound_after >= 45, "sound after the hold ({sound_after} of 50 blocks)");
    a.assert_channels("held call");
    recorder.stop().await;
}

#[tokio::test]
async fn loss_and_reordering_are_padded_and_counted() {
    let recorder = Recorder::start().await;
    let (admin, _cast) = cast_with(&recorder, &[]).await;
    let sim = recorder.sim().await;
    let call = sim
        .call()
        .mon_mode("force")
        .loss(5.0)
        .reorder(5.0)
        .invite()
        .await
        .expect("the recorder answers");
    let answered = Instant::now();
    let id = recorder.call_id(call.call_id()).await;
    tokio::time::sleep(Duration::from_millis(3000)).await;
    let elapsed = i64::try_from(answered.elapsed().as_millis()).expect("ms");
    let report = recorder.hang_up(call, id).await;
    assert!(report.skipped > 0, "the simulator dropped packets on purpose");
    assert!(report.reordered > 0, "the simulator reordered packets on purpose");

    let detail = finished_call(&admin, id).await;
    let a = audio(&admin, &detail.recordings[0]).await;
    within(
        a.duration_ms(),
        elapsed,
        PACKET_MS + SLACK_MS,
        "gaps are padded: full length",
    );
    a.assert_channels("lossy call");
    recorder.rtp_settled().await;
    let lost = recorder.metric("callrec_rtp_lost_total").await;
    assert!(
        lost + 2 >= report.skipped && lost <= report.skipped + 2,
        "lost packets counted: {lost} counted, {} skipped",
        report.skipped
    );
    assert!(
        recorder.metric("callrec_rtp_reordered_total").await > 0,
        "reordered packets counted"
    );
    assert_eq!(
        recorder.metric("callrec_rtp_late_total").await,
        0,
        "none too late to use"
    );
    recorder.stop().await;
}

#[tokio::test]
async fn a_call_over_sip_tcp_is_recorded() {
    let recorder = Recorder::start().await;
    let (admin, _cast) = cast_with(&recorder, &[]).await;
    let sim = Sim::connect(recorder.sip, Transport::Tcp)
        .await
        .expect("a TCP connection to the recorder");
    let call = sim
        .call()
        .mon_mode("force")
        .invite()
        .await
        .expect("the recorder answers over TCP");
    let id = recorder.call_id(call.call_id()).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    recorder.hang_up(call, id).await;
    let detail = finished_call(&admin, id).await;
    assert_eq!(detail.recordings.len(), 1, "recorded");
    audio(&admin, &detail.recordings[0]).await.assert_channels("TCP call");
    recorder.stop().await;
}

#[tokio::test]
async fn cancel_before_the_answer_ends_the_call_unrecorded() {
    let recorder = Recorder::start().await;
    let (admin, _cast) = cast_with(&recorder, &[]).await;
    let sim = recorder.sim().await;
    let mut events = recorder.state.events.subscribe();
    let builder = sim.call().mon_mode("force");
    let code = builder
        .invite_and_cancel()
        .await
        .expect("INVITE and CANCEL are answered");
    assert_eq!(code, 487, "the INVITE is answered 487 Request Terminated");
    wait_ended(&mut events, None).await;
    let journal = admin
        .journal(&Default::default())
        .await
        .expect("the journal is readable");
    assert_eq!(journal.items.len(), 1, "the cancelled call is in the journal");
    let detail = finished_call(&admin, journal.items[0].call.id).await;
    assert!(detail.call.answered_at.is_none(), "never answered");
    assert!(detail.recordings.is_empty(), "never recorded");
    assert!(recorder.wav_files().is_empty(), "no file");
    recorder.stop().await;
}

#[tokio::test]
async fn a_silent_session_is_closed_and_finalised() {
    let recorder = Recorder::start_with(|c| c.sip_session_timeout_secs = 2).await;
    let (admin, _cast) = cast_with(&recorder, &[]).await;
    let sim = recorder.sim().await;
    let mut call = sim
        .call()
        .mon_mode("force")
        .invite()
        .await
        .expect("the recorder answers");
    let id = recorder.call_id(call.call_id()).await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let mut events = recorder.state.events.subscribe();
    call.set_sending(false);
    let report = call
        .wait_for_bye(Duration::from_secs(10))
        .await
        .expect("the recorder hangs up a silent session");
    assert!(report.ended_by_server, "the BYE came from the recorder");
    wait_ended(&mut events, Some(id)).await;
    let detail = finished_call(&admin, id).await;
    assert_eq!(detail.recordings.len(), 1, "the recording was finalised");
    assert_eq!(
        recorder.metric("callrec_sip_session_timeouts_total").await,
        1,
        "the timeout is counted"
    );
    recorder.stop().await;
}

/// Sends `raw` to the recorder over UDP and returns the status of the answer, if any.
fn udp_exchange(sip: SocketAddr, raw: &[u8]) -> Option<u16> {
    let sock = UdpSocket::bind("127.0.0.1:0").expect("bind");
    sock.set_read_timeout(Some(Duration::from_millis(1500)))
        .expect("timeout");
    sock.send_to(raw, sip).expect("send");
    let mut buf = [0u8; 4096];
    loop {
        let n = sock.recv(&mut buf).ok()?;
        let text = String::from_utf8_lossy(&buf[..n]);
        let code: u16 = text.split_whitespace().nth(1)?.parse().ok()?;
        if code >= 200 {
            return Some(code);
        }
    }
}

fn request(method: &str, call_id: &str, extra: &str) -> Vec<u8> {
    format!(
        "{method} sip:srs@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK{call_id}\r\n\
         From: <sip:t@x>;tag=a\r\nTo: <sip:srs@x>\r\nCall-ID: {call_id}\r\nCSeq: 1 {method}\r\n{extra}\r\n"
    )
    .into_bytes()
}

#[tokio::test]
async fn malformed_sip_sdp_xml_and_rtp_are_refused_and_counted() {
    let recorder = Recorder::start().await;
    let (admin, _cast) = cast_with(&recorder, &[]).await;
    let sip = recorder.sip;

    let garbage = tokio::task::spawn_blocking(move || udp_exchange(sip, b"\x16\x03\x01 not SIP at all\r\n\r\n"));
    assert_eq!(garbage.await.expect("task"), None, "garbage gets no answer");
    let bad_length = request("OPTIONS", "bad-length", "Content-Length: many\r\n");
    let answer = tokio::task::spawn_blocking(move || udp_exchange(sip, &bad_length));
    assert_eq!(answer.await.expect("task"), Some(400), "a malformed request gets 400");
    let no_cseq = b"OPTIONS sip:srs@x SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKnc\r\n\
        From: <sip:t@x>;tag=a\r\nTo: <sip:srs@x>\r\nCall-ID: nc\r\n\r\n";
    let answer = tokio::task::spawn_blocking(move || udp_exchange(sip, no_cseq));
    assert_eq!(
        answer.await.expect("task"),
        Some(400),
        "a request without CSeq gets 400"
    );
    assert_eq!(
        recorder.metric("callrec_sip_malformed_total").await,
        3,
        "three malformed messages counted"
    );

    let options = request("OPTIONS", "ping", "");
    let answer = tokio::task::spawn_blocking(move || udp_exchange(sip, &options));
    assert_eq!(answer.await.expect("task"), Some(200), "OPTIONS is answered 200");
    let bye = request("BYE", "nobody", "");
    let answer = tokio::task::spawn_blocking(move || udp_exchange(sip, &bye));
    assert_eq!(answer.await.expect("task"), Some(481), "BYE for no dialog gets 481");

    let sim = recorder.sim().await;
    let bad_mode = sim.call().mon_mode("sometimes").invite().await;
    assert!(
        matches!(bad_mode, Err(SimError::Rejected(400))),
        "bad X-MDC-MON-MODE: 400"
    );
    let bad_sdp = sim
        .call()
        .body("application/sdp", b"v=0\r\nthis is not SDP\r\n".to_vec())
        .invite()
        .await;
    assert!(matches!(bad_sdp, Err(SimError::Rejected(400))), "malformed SDP: 400");
    let sdp = "v=0\r\no=x 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";
    let xml = "<recording xmlns=\"urn:ietf:params:xml:ns:recording:1\"><participant>";
    let body = format!(
        "--b\r\nContent-Type: application/sdp\r\n\r\n{sdp}\r\n--b\r\n\
         Content-Type: application/rs-metadata+xml\r\n\r\n{xml}\r\n--b--\r\n"
    );
    let bad_xml = sim
        .call()
        .body("multipart/mixed;boundary=b", body.into_bytes())
        .invite()
        .await;
    assert!(
        matches!(bad_xml, Err(SimError::Rejected(400))),
        "malformed metadata: 400"
    );
    let g722 = sim
        .call()
        .body("application/sdp", sdp.replace("RTP/AVP 0", "RTP/AVP 9").into_bytes())
        .invite()
        .await;
    assert!(matches!(g722, Err(SimError::Rejected(488))), "no G.711: 488");
    assert_eq!(recorder.metric("callrec_sip_bad_sdp_total").await, 1, "bad SDP counted");
    assert_eq!(
        recorder.metric("callrec_sip_bad_metadata_total").await,
        1,
        "bad XML counted"
    );

    // Malformed RTP on a live call's port is dropped and counted; the call records on.
    let call = sim
        .call()
        .mon_mode("force")
        .invite()
        .await
        .expect("the recorder answers");
    let port = call.answer().expect("an answer").media[0].port;
    let junk = UdpSocket::bind("127.0.0.1:0").expect("bind");
    for _ in 0..10 {
        junk.send_to(b"\x40junk", ("127.0.0.1", port)).expect("send junk");
    }
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let id = recorder.call_id(call.call_id()).await;
    recorder.hang_up(call, id).await;
    assert_eq!(
        recorder.metric("callrec_rtp_malformed_total").await,
        10,
        "ten junk datagrams counted"
    );
    let detail = finished_call(&admin, id).await;
    audio(&admin, &detail.recordings[0])
        .await
        .assert_channels("call with junk");
    recorder.stop().await;
}

/// The environment variable that turns this test binary into a server process for the
/// crash test (it holds the data directory).
const CHILD_ENV: &str = "CALLREC_SIPREC_CHILD_DATA_DIR";

/// Not a test on its own: with [`CHILD_ENV`] set it runs the server until killed.
#[test]
fn crash_child_server() {
    let Some(dir) = std::env::var_os(CHILD_ENV) else { return };
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async move {
        let recorder = Recorder::start_on(Path::new(&dir)).await;
        // Straight to fd 1: the test harness captures `println!` even in a child.
        let mut out = std::io::stdout();
        writeln!(out, "READY {} {}", recorder.url, recorder.sip).expect("stdout");
        out.flush().expect("stdout");
        std::future::pending::<()>().await;
    });
}

#[tokio::test]
async fn a_crash_mid_recording_is_repaired_at_restart() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().expect("data dir");
    let exe = std::env::current_exe().expect("the test binary");
    let mut child = std::process::Command::new(exe)
        .args([
            "--exact",
            "siprec::crash_child_server",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("the server process starts");
    let stdout = child.stdout.take().expect("stdout");
    let ready = tokio::task::spawn_blocking(move || {
        let mut lines = std::io::BufReader::new(stdout).lines();
        // The harness prints "test siprec::crash_child_server ... " before it on the same line.
        lines.find_map(|l| l.ok()?.split_once("READY ").map(|(_, rest)| rest.to_owned()))
    })
    .await
    .expect("task")
    .expect("the child server reports READY");
    let sip: SocketAddr = ready
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("the SIP address");

    let sim = Sim::connect(sip, Transport::Udp).await.expect("sim");
    let call = sim
        .call()
        .mon_mode("force")
        .codec(Law::Alaw)
        .invite()
        .await
        .expect("the recorder answers");
    let sip_call_id = call.call_id().to_owned();
    tokio::time::sleep(Duration::from_millis(3400)).await;
    child.kill().expect("SIGKILL the server mid-recording");
    let _ = child.wait();
    drop(call);

    let recorder = Recorder::start_on(dir.path()).await;
    let id = recorder.call_id(&sip_call_id).await;
    let admin = recorder.admin().await;
    let detail = finished_call(&admin, id).await;
    assert_eq!(detail.recordings.len(), 1, "the cut-off recording is kept");
    let rec = &detail.recordings[0];
    assert!(
        (1900..=3400).contains(&rec.duration_ms),
        "the file plays up to the last flushed second: {} ms of 3.4 s",
        rec.duration_ms
    );
    let a = audio(&admin, rec).await;
    assert_eq!(
        a.duration_ms(),
        rec.duration_ms,
        "the header was repaired to the audio on disk"
    );
    assert_eq!(a.law, Law::Alaw, "the repaired file is still A-law");
    assert_eq!(rec.codec, AudioCodec::Pcma, "and its row says so");
    a.assert_channels("repaired recording");
    recorder.stop().await;
}

#[tokio::test]
async fn demo_mode_seeds_a_directory_and_keeps_simulated_calls_going() {
    let recorder = Recorder::start_with(|c| c.demo = true).await;
    let mut events = recorder.state.events.subscribe();
    // The first demo call (a customer calling alice, recorded automatically) starts at once.
    let recording = async {
        loop {
            if let Ok(e) = events.recv().await {
                if let Event::Recording(r) = &e.event {
                    return r.call_id;
                }
            }
        }
    };
    let call = tokio::time::timeout(Duration::from_secs(20), recording)
        .await
        .expect("a demo call is being recorded within seconds");
    let alice = recorder.login("alice", callrec_server::demo::DEMO_PASSWORD).await;
    let live = alice.live_calls().await.expect("alice lists live calls");
    assert!(
        live.iter().any(|c| c.call.id == call),
        "alice sees the recorded demo call live"
    );
    let admin = recorder.admin().await;
    let users = admin.list_users().await.expect("users");
    for name in ["alice", "bob", "carol", "sam"] {
        assert!(users.iter().any(|u| u.username == name), "demo user {name} exists");
    }
    assert_eq!(
        admin.list_rules().await.expect("rules").len(),
        2,
        "an automatic and a manual rule"
    );
    recorder.stop().await;
}

/// Reads SIP responses from `sock` until `deadline`; returns their status codes in order.
fn statuses_until(sock: &UdpSocket, deadline: Instant) -> Vec<u16> {
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        sock.set_read_timeout(Some(left.max(Duration::from_millis(1))))
            .expect("timeout");
        let Ok(n) = sock.recv(&mut buf) else { break };
        let text = String::from_utf8_lossy(&buf[..n]);
        if let Some(code) = text.split_whitespace().nth(1).and_then(|c| c.parse().ok()) {
            out.push(code);
        }
    }
    out
}

#[tokio::test]
async fn a_retransmitted_invite_is_absorbed_and_the_200_repeats_until_the_ack() {
    use callrec_sim::offer::{metadata, multipart, sdp, OfferSpec, Party, MULTIPART_TYPE};
    let recorder = Recorder::start().await;
    let sip = recorder.sip;
    let caller = Party {
        aor: "sip:+4930123@carrier.example".into(),
        name: "Caller".into(),
    };
    let callee = Party {
        aor: "sip:201@pbx.example".into(),
        name: "Callee".into(),
    };
    let spec = OfferSpec {
        ip: "127.0.0.1".parse().expect("ip"),
        ports: [49170, 49172],
        law: Law::Ulaw,
        session_id: 1,
        version: 1,
        direction: Direction::SendOnly,
        caller_stream: 0,
        caller: &caller,
        callee: &callee,
        recording_id: "retx",
        crypto: [None, None],
    };
    let body = multipart(&sdp(&spec), &metadata(&spec));
    let sock = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let me = sock.local_addr().expect("addr");
    let head = |method: &str, cseq: &str, to_tag: &str| {
        format!(
            "{method} sip:srs@{sip} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bKretx{method}\r\n\
             From: <sip:src@{me}>;tag=src1\r\nTo: <sip:srs@{sip}>{to_tag}\r\nCall-ID: retx-1\r\n\
             CSeq: {cseq}\r\nContact: <sip:src@{me}>\r\nMax-Forwards: 70\r\n"
        )
    };
    let mut invite = head("INVITE", "1 INVITE", "").into_bytes();
    invite.extend_from_slice(
        format!(
            "Content-Type: {MULTIPART_TYPE}\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    );
    invite.extend_from_slice(&body);
    let (sock, codes) = tokio::task::spawn_blocking(move || {
        sock.send_to(&invite, sip).expect("send INVITE");
        sock.send_to(&invite, sip).expect("send the same INVITE again");
        // No ACK: the 200 must come again after T1 (0.5 s) and 2·T1.
        let codes = statuses_until(&sock, Instant::now() + Duration::from_millis(1800));
        (sock, codes)
    })
    .await
    .expect("task");
    let oks = codes.iter().filter(|c| **c == 200).count();
    assert!(oks >= 3, "the 200 OK is retransmitted until the ACK: {codes:?}");
    assert_eq!(
        recorder.metric("callrec_sip_sessions_total").await,
        1,
        "the retransmitted INVITE made no second session"
    );
    let ack = head("ACK", "1 ACK", ";tag=x") + "Content-Length: 0\r\n\r\n";
    let bye = head("BYE", "2 BYE", ";tag=x") + "Content-Length: 0\r\n\r\n";
    let after_ack = tokio::task::spawn_blocking(move || {
        sock.send_to(ack.as_bytes(), sip).expect("send ACK");
        let quiet = statuses_until(&sock, Instant::now() + Duration::from_millis(1200));
        sock.send_to(bye.as_bytes(), sip).expect("send BYE");
        let bye_answer = statuses_until(&sock, Instant::now() + Duration::from_millis(1000));
        (quiet, bye_answer)
    })
    .await
    .expect("task");
    assert!(
        after_ack.0.iter().all(|c| *c != 200),
        "no 200 after the ACK: {:?}",
        after_ack.0
    );
    assert_eq!(after_ack.1.first(), Some(&200), "the BYE is answered 200");
    recorder.stop().await;
}
