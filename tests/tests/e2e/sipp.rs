//! Interoperability: sipp (Debian `sip-tester`) as the SIPREC client, with its own scenario
//! `tests/sipp/siprec_uac.xml`: INVITE with multipart SDP + rs-metadata, ACK, RTP on both
//! streams, BYE; the resulting WAV is checked by content.
//!
//! sipp streams RTP only to the first `m=audio` of the answer (the caller's 440 Hz tone from
//! a headerless µ-law file). The scenario captures the second port with `<ereg>` and writes
//! it to a FIFO; this test reads it and sends the callee's 1000 Hz stream there.
//!
//! Skipped with a message when `sipp` is not installed (`apt-get install sip-tester`), unless
//! `CALLREC_REQUIRE_SIPP=1`, as CI sets, makes a missing sipp a failure.

use std::io::Read;
use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use callrec_client::{AudioFormat, Client};
use callrec_media::g711::Law;
use callrec_media::wav::WavInfo;
use callrec_server::Server;
use callrec_sim::rtp::{RtpSender, StreamSpec};
use callrec_sim::signal::{tone, CALLEE_HZ, CALLER_HZ};
use callrec_tests::wav::zero_crossing_hz;
use callrec_tests::{test_config, ADMIN_PASSWORD};
use callrec_types::calls::{CallState, RecordingState, Trigger};

/// How long sipp holds the call.
const CALL_MS: u64 = 4000;

fn sipp_available() -> bool {
    let found = Command::new("sipp")
        .arg("-v")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !found && std::env::var_os("CALLREC_REQUIRE_SIPP").is_some() {
        panic!("sipp is required (CALLREC_REQUIRE_SIPP is set): apt-get install sip-tester");
    }
    found
}

fn scenario() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sipp/siprec_uac.xml")
}

/// A base port for sipp's media: it binds `mp` and `mp + 2` (RTP) and their RTCP ports.
fn free_media_port() -> u16 {
    let seed = u32::from(std::process::id() as u16);
    for n in 0..200u32 {
        let port = (40_000 + ((seed * 7 + n * 4) % 20_000) as u16) & !1;
        let free = (0..4).all(|k| UdpSocket::bind(("127.0.0.1", port + k)).is_ok());
        if free {
            return port;
        }
    }
    panic!("no free media port for sipp");
}

/// Power of `samples` at `hz` (Goertzel), normalised per sample.
fn power_at(samples: &[i16], hz: u32) -> f64 {
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

/// The channel carries `want` Hz and not `other` (checked by content).
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

#[tokio::test]
async fn sipp_as_the_siprec_client_is_recorded_with_a_channel_per_participant() {
    if !sipp_available() {
        eprintln!("sipp not installed: skipping the interop test (apt-get install sip-tester)");
        return;
    }
    let data = tempfile::tempdir().expect("data dir");
    let server = Server::bind(test_config(data.path())).await.expect("the server binds");
    let (http, sip) = (server.http_addr, server.sip_addr);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(server.run(async move {
        let _ = stopped.await;
    }));

    // sipp's working directory: the caller's tone and the FIFO for the second port.
    let work = tempfile::tempdir().expect("work dir");
    let caller: Vec<u8> = tone(Law::Ulaw, CALLER_HZ).to_vec();
    std::fs::write(work.path().join("caller.ulaw"), caller).expect("write the caller's audio");
    let fifo = work.path().join("port2.fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo runs");
    assert!(made.success(), "the FIFO is created");

    let mut sipp = Command::new("sipp")
        .arg(sip.to_string())
        .arg("-sf")
        .arg(scenario())
        .args(["-m", "1", "-l", "1", "-i", "127.0.0.1", "-p", "0"])
        .args(["-mp", &free_media_port().to_string()])
        .args(["-d", &CALL_MS.to_string()])
        .args(["-timeout", "30s", "-timeout_error", "-nostdin", "-trace_err"])
        .current_dir(work.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sipp starts");

    // Blocks until the scenario writes the answer's second port after the ACK.
    let port2: u16 = tokio::task::spawn_blocking(move || {
        let mut text = String::new();
        std::fs::File::open(&fifo)
            .and_then(|mut f| f.read_to_string(&mut text))
            .expect("the scenario writes the second port");
        text.trim().parse().expect("a port number")
    })
    .await
    .expect("task");
    let sender = RtpSender::start(1).expect("an RTP sender");
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind");
    socket
        .connect(SocketAddr::new(sip.ip(), port2))
        .expect("connect to the second stream's port");
    socket.set_nonblocking(true).expect("non-blocking");
    let stream = sender.add(StreamSpec {
        socket,
        payload_type: 0,
        audio: tone(Law::Ulaw, CALLEE_HZ),
        ssrc: 0x5151_0002,
        loss_pct: 0.0,
        reorder_pct: 0.0,
        seed: 2,
        srtp: None,
        tamper_every: 0,
    });

    let status = tokio::task::spawn_blocking(move || {
        let status = sipp.wait().expect("sipp runs to the end");
        let mut err = String::new();
        if let Some(mut e) = sipp.stderr.take() {
            let _ = e.read_to_string(&mut err);
        }
        (status, err)
    })
    .await
    .expect("task");
    drop(stream);
    assert!(status.0.success(), "sipp's call succeeded: {}", status.1);

    let mut admin = Client::new(&format!("http://{http}")).expect("url");
    admin.login("admin", ADMIN_PASSWORD).await.expect("admin logs in");
    let journal = admin.journal(&Default::default()).await.expect("journal");
    assert_eq!(journal.items.len(), 1, "one call in the journal");
    let detail = admin.get_call(journal.items[0].call.id).await.expect("the call");
    assert_eq!(detail.call.state, CallState::Ended, "ended by sipp's BYE");
    assert_eq!(
        detail.call.participants[0].number, "sip:+4930123456@carrier.example",
        "caller from the metadata"
    );
    assert_eq!(detail.recordings.len(), 1, "recorded (X-MDC-MON-MODE: force)");
    let rec = &detail.recordings[0];
    assert_eq!(rec.state, RecordingState::Complete, "finalised");
    assert!(matches!(rec.trigger, Trigger::Force), "forced");
    let expected = i64::try_from(CALL_MS).expect("ms");
    assert!(
        (rec.duration_ms - expected).abs() <= 300,
        "the recording lasts the call: {} ms for a {expected} ms pause",
        rec.duration_ms
    );

    let (code, _, body) = admin
        .audio_bytes(rec.id, AudioFormat::Original, None)
        .await
        .expect("download");
    assert_eq!(code, 200, "the WAV downloads");
    let info = WavInfo::parse_with_file_len(&body, body.len() as u64).expect("a valid WAV");
    let start = usize::try_from(info.data_offset).expect("offset");
    let data = &body[start..];
    let ch1: Vec<i16> = data.iter().step_by(2).map(|&b| Law::Ulaw.decode(b)).collect();
    let ch2: Vec<i16> = data.iter().skip(1).step_by(2).map(|&b| Law::Ulaw.decode(b)).collect();
    assert_tone(&ch1, CALLER_HZ, CALLEE_HZ, "channel 1 carries sipp's caller stream");
    assert_tone(&ch2, CALLEE_HZ, CALLER_HZ, "channel 2 carries the callee stream");
    let _ = stop.send(());
    let _ = tokio::time::timeout(Duration::from_secs(10), task).await;
}
