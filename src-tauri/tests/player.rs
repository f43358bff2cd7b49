//! The player pipeline against a real server: HTTP Range → symphonia → rodio (ALSA null
//! device). Decoded samples equal the file's, a seek lands within 20 ms of its target, and
//! playback starts long before the download would have finished. One party only silences the
//! other in what reaches the output, and the volume scales it.

use crate::support::{self, TestServer};
use callrec_client::AudioFormat;
use callrec_desktop::player::decode::Decoder;
use callrec_desktop::player::range::RangeSource;
use callrec_desktop::player::{OnStatus, PlaybackState, Player, PlayerStatus};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn collecting() -> (OnStatus, Arc<Mutex<Vec<PlayerStatus>>>) {
    let statuses = Arc::new(Mutex::new(Vec::new()));
    let sink = statuses.clone();
    (Arc::new(move |s| sink.lock().expect("statuses lock").push(s)), statuses)
}

#[test]
fn decoded_samples_equal_the_file_and_seeks_land_on_the_frame() {
    let server = TestServer::start();
    let wav = support::ulaw_wav(60);
    let expected = support::expand_ulaw(&wav);
    let (_, recording) = server.ingest(wav.clone());
    let alice = server.client("alice");
    // The source blocks its (decoder) thread on the async client through a runtime handle.
    let rt = tokio::runtime::Runtime::new().expect("a runtime for the client");
    let source = RangeSource::open(alice.clone(), recording, AudioFormat::Original, rt.handle().clone())
        .expect("the audio opens");
    assert_eq!(source.len(), wav.len() as u64, "the length comes from Content-Range");
    let stats = source.stats();
    let mut decoder = Decoder::open(source).expect("the WAV header decodes");
    assert_eq!(decoder.info().frames, Some(60 * 8000));
    let first = decoder.next_pcm().expect("decodes").expect("a first packet");
    assert_eq!(first.start, 0);
    let fetched = stats.fetched.load(Ordering::Relaxed);
    assert!(
        fetched < wav.len() as u64 / 4,
        "the first packet is decoded after {fetched} of {} bytes: playback starts before the download ends",
        wav.len()
    );
    let mut decoded = first.samples;
    while let Some(pcm) = decoder.next_pcm().expect("decodes") {
        assert_eq!(pcm.start as usize, decoded.len() / 2, "packets follow each other");
        decoded.extend(pcm.samples);
    }
    assert_eq!(decoded.len(), expected.len(), "every frame is decoded");
    assert!(
        decoded == expected,
        "the decoded samples equal the G.711 expansion of the file"
    );

    // The server's own PCM16 rendition agrees, sample for sample.
    let (status, _, pcm16) = server
        .block_on(alice.audio_bytes(recording, AudioFormat::Pcm16, None))
        .expect("the pcm16 rendition downloads");
    assert_eq!(status, 200);
    let data = pcm16.windows(4).position(|w| w == b"data").expect("a data chunk") + 8;
    let server_samples: Vec<i16> = pcm16[data..]
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect();
    assert!(
        server_samples == decoded,
        "the decoder and the server's transcoder agree"
    );

    // Seeks, backwards and forwards, land exactly on the frame.
    let requests_before = stats.requests.load(Ordering::Relaxed);
    for target_ms in [30_000u64, 1_234, 59_990, 45_678, 0] {
        let frame = target_ms * 8;
        decoder.seek(frame).expect("seeks");
        let pcm = decoder.next_pcm().expect("decodes").expect("audio after the seek");
        let landed_ms = pcm.start as f64 / 8.0;
        assert!(
            (landed_ms - target_ms as f64).abs() <= 20.0,
            "a seek to {target_ms} ms landed at {landed_ms} ms"
        );
        let at = pcm.start as usize * 2;
        assert_eq!(
            &pcm.samples[..64],
            &expected[at..at + 64],
            "the audio after a seek is the file's"
        );
    }
    assert!(
        stats.requests.load(Ordering::Relaxed) > requests_before,
        "far seeks open new range requests"
    );
}

#[test]
fn the_player_plays_seeks_and_ends_through_the_audio_output() {
    support::null_audio();
    let server = TestServer::start();
    let (_, recording) = server.ingest(support::ulaw_wav(120));
    let alice = server.client("alice");
    let rt = tokio::runtime::Runtime::new().expect("a runtime for the player");
    rt.block_on(play_seek_and_end(alice, recording));
}

async fn play_seek_and_end(alice: callrec_client::Client, recording: callrec_types::RecordingId) {
    let (notify, events) = collecting();
    let player = Player::new(notify);

    let status = player.play(alice.clone(), recording, 0).await.expect("playback starts");
    assert_eq!(status.duration_ms, 120_000);
    let timing = wait_first_sample(&player).await;
    assert!(
        timing.latency().expect("a first sample") < Duration::from_secs(2),
        "the first sample reaches the output quickly: {:?}",
        timing.latency()
    );

    // Seek: the first sample handed to the output comes from within 20 ms of the target.
    for target_ms in [90_000u64, 15_500, 60_000] {
        player.seek(target_ms).await.expect("seeks");
        let t = wait_first_sample(&player).await;
        let landed_ms = t.first_frame.expect("a landing frame") as f64 / 8.0;
        assert!(
            (landed_ms - target_ms as f64).abs() <= 20.0,
            "a seek to {target_ms} ms played from {landed_ms} ms"
        );
    }

    let paused = player.pause().await.expect("pauses");
    assert_eq!(paused.state, PlaybackState::Paused);
    let slower = player.set_speed(0.5).await.expect("speed");
    assert_eq!(slower.speed, 0.5);
    assert_eq!(
        player.set_speed(9.0).await.expect("speed").speed,
        2.0,
        "speed is capped at 2×"
    );
    player.resume().await.expect("resumes");

    // The null device plays faster than real time: the end comes within seconds.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let s = player.status().await;
        if s.state == PlaybackState::Ended {
            assert_eq!(s.position_ms, 120_000, "ended at the end");
            break;
        }
        assert!(s.state != PlaybackState::Failed, "playback failed: {:?}", s.error);
        assert!(Instant::now() < deadline, "playback did not end: {s:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Play again after the end: from the start.
    player.resume().await.expect("plays again");
    wait_first_sample(&player).await;
    player.stop().await;
    assert_eq!(player.status().await.state, PlaybackState::Idle);
    let seen = events.lock().expect("statuses").len();
    assert!(seen > 3, "the window hears about the player ({seen} statuses)");
}

async fn wait_first_sample(player: &Player) -> callrec_desktop::player::Timing {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(t) = player.timing().await {
            if t.first_sample.is_some() {
                return t;
            }
        }
        assert!(Instant::now() < deadline, "no sample reached the output");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// Power of `samples` at `hz` (Goertzel), sampled at 8 kHz.
fn tone_power(samples: &[f32], hz: f64) -> f64 {
    let k = 2.0 * (2.0 * std::f64::consts::PI * hz / 8000.0).cos();
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    for &x in samples {
        let s0 = f64::from(x) + k * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    (s1 * s1 + s2 * s2 - k * s1 * s2) / samples.len() as f64
}

/// Issue #15.2: the party choice and the volume act on the decoded samples on their way to the
/// audio output. A stereo recording (caller: 440 Hz on channel 1; callee: 1 kHz on channel 2)
/// streams from the server through the real decoder into the source rodio plays; the party is
/// switched and the volume turned while it plays, and what comes out is read frame by frame.
#[test]
fn one_party_only_silences_the_other_in_what_reaches_the_output() {
    use callrec_desktop::player::output::{Feed, StreamSource};
    use callrec_desktop::player::{Channels, Mix, Shared};

    let server = TestServer::start();
    let wav = support::ulaw_wav(4);
    let expected: Vec<f32> = support::expand_ulaw(&wav)
        .iter()
        .map(|&s| f32::from(s) / 32768.0)
        .collect();
    let (_, recording) = server.ingest(wav);
    let alice = server.client("alice");
    let rt = tokio::runtime::Runtime::new().expect("a runtime for the client");
    let source =
        RangeSource::open(alice, recording, AudioFormat::Original, rt.handle().clone()).expect("the audio opens");
    let mut decoder = Decoder::open(source).expect("the WAV header decodes");
    let shared = Arc::new(Shared::new());
    let mix = Arc::new(Mix::default());
    let generation = shared.begin(0, Instant::now());
    let (feed, feed_rx) = std::sync::mpsc::channel();
    while let Some(pcm) = decoder.next_pcm().expect("decodes") {
        let samples = pcm.to_f32();
        feed.send(Feed::Audio {
            generation,
            start: pcm.start,
            samples,
        })
        .expect("the source listens");
    }
    drop(feed);
    let mut output = StreamSource::new(feed_rx, shared, mix.clone(), 2, 8000).expect("a stereo source");

    // One second of output per setting, changed between seconds as the window would.
    let second = |output: &mut StreamSource| -> (Vec<f32>, Vec<f32>) {
        let samples: Vec<f32> = output.by_ref().take(2 * 8000).collect();
        assert_eq!(samples.len(), 2 * 8000, "a whole second comes out");
        (
            samples.iter().step_by(2).copied().collect(),
            samples.iter().skip(1).step_by(2).copied().collect(),
        )
    };
    let channel = |s: usize, ch: usize| -> Vec<f32> {
        expected[s * 16_000..(s + 1) * 16_000]
            .iter()
            .skip(ch)
            .step_by(2)
            .copied()
            .collect()
    };
    let scaled = |v: Vec<f32>, gain: f32| -> Vec<f32> { v.into_iter().map(|x| x * gain).collect() };

    // Both: the recording as it is.
    let (left, right) = second(&mut output);
    assert!(
        left == channel(0, 0) && right == channel(0, 1),
        "both parties, untouched"
    );
    assert!(tone_power(&right, 1000.0) > 1e-3, "the callee's tone is there");

    // Caller only: channel 1 on both ears, nothing of the callee.
    mix.set_channels(Channels::Caller);
    let (left, right) = second(&mut output);
    assert!(
        left == channel(1, 0) && right == channel(1, 0),
        "the caller on both ears"
    );
    let caller_power = tone_power(&left, 440.0);
    for ear in [&left, &right] {
        let callee = tone_power(ear, 1000.0);
        assert!(
            callee < caller_power * 1e-4,
            "no energy of the callee's 1 kHz in the output ({callee} against the caller's {caller_power})"
        );
    }

    // Callee only at half volume: channel 2, halved, on both ears; no caller.
    mix.set_channels(Channels::Callee);
    mix.set_volume(50);
    let (left, right) = second(&mut output);
    let half = scaled(channel(2, 1), 0.5);
    assert!(left == half && right == half, "the callee at half the amplitude");
    assert!(tone_power(&left, 440.0) < tone_power(&left, 1000.0) * 1e-4, "no caller");
    let ratio = (tone_power(&left, 1000.0) / tone_power(&channel(2, 1), 1000.0)).sqrt();
    assert!((ratio - 0.5).abs() < 1e-6, "50 % volume halves the amplitude ({ratio})");

    // Volume 0: silence.
    mix.set_volume(0);
    let (left, right) = second(&mut output);
    assert!(left.iter().chain(&right).all(|&x| x == 0.0), "0 % is silent");
    assert_eq!(output.next(), None, "the end of the recording ends the source");
}

/// The party and the volume change while playing (no restart: the position goes on), are in
/// the status, and hold for the next recording played in the session.
#[test]
fn the_party_and_volume_change_while_playing_and_are_remembered() {
    support::null_audio();
    let server = TestServer::start();
    let (_, first) = server.ingest(support::ulaw_wav(60));
    let (_, second) = server.ingest(support::ulaw_wav(60));
    let alice = server.client("alice");
    let rt = tokio::runtime::Runtime::new().expect("a runtime for the player");
    rt.block_on(async {
        use callrec_desktop::player::Channels;
        let (notify, events) = collecting();
        let player = Player::new(notify);
        let status = player.play(alice.clone(), first, 0).await.expect("plays");
        assert_eq!((status.channels, status.volume), (Channels::Both, 100), "the defaults");
        let timing = wait_first_sample(&player).await;
        let status = player.set_channels(Channels::Caller).await;
        assert_eq!(status.channels, Channels::Caller);
        let status = player.set_volume(140).await;
        assert_eq!(status.volume, 100, "capped at 100 %");
        let status = player.set_volume(30).await;
        assert_eq!((status.channels, status.volume), (Channels::Caller, 30));
        assert_eq!(
            player.timing().await.map(|t| t.generation),
            Some(timing.generation),
            "no restart: the same generation plays on"
        );
        assert!(
            events
                .lock()
                .expect("statuses")
                .iter()
                .any(|s| s.channels == Channels::Caller && s.volume == 30),
            "the window hears the change"
        );
        player.stop().await;
        let idle = player.status().await;
        assert_eq!((idle.channels, idle.volume), (Channels::Caller, 30), "kept when idle");
        let status = player.play(alice, second, 0).await.expect("plays the next");
        assert_eq!(
            (status.channels, status.volume),
            (Channels::Caller, 30),
            "kept for the next recording"
        );
        player.stop().await;
    });
}
