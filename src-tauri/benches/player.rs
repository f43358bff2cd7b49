//! Player benchmark (`cargo bench -p callrec-desktop --bench player`): a one-hour stereo
//! µ-law recording on a loopback server (the real `callrec-server`, in-process), played
//! through the ALSA null device.
//!
//! - start: from the play command to the first sample handed to the audio output, 50 runs
//!   (target p99 ≤ 100 ms);
//! - seek: from the seek command to the first sample of the new position, 50 seeks spread
//!   over the hour (target p99 ≤ 50 ms), each checked to land within 20 ms of its target.

#[path = "../tests/support/mod.rs"]
mod support;

use callrec_desktop::player::{OnStatus, Player, Timing};
use std::sync::Arc;
use std::time::{Duration, Instant};

const RUNS: usize = 50;

fn main() {
    support::null_audio();
    let server = support::TestServer::start();
    let wav = support::ulaw_wav(3600);
    let bytes = wav.len();
    let (_, recording) = server.ingest(wav);
    let alice = server.client("alice");
    println!(
        "recording: 1 h stereo µ-law, {:.1} MB, on {}",
        bytes as f64 / 1e6,
        server.url
    );

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime for the player");
    let notify: OnStatus = Arc::new(|_| {});
    let player = Player::new(notify);
    rt.block_on(async {
        // Warm-up: connections, the audio device, page cache.
        player.play(alice.clone(), recording, 0).await.expect("plays");
        first_sample(&player).await;
        player.stop().await;

        let mut start = Vec::with_capacity(RUNS);
        for _ in 0..RUNS {
            player.play(alice.clone(), recording, 0).await.expect("plays");
            start.push(first_sample(&player).await.latency().expect("measured"));
            player.stop().await;
        }
        report("play → first sample", &mut start);

        player.play(alice.clone(), recording, 0).await.expect("plays");
        first_sample(&player).await;
        let mut seek = Vec::with_capacity(RUNS);
        let mut worst_landing = 0f64;
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..RUNS {
            // A deterministic spread over the hour (xorshift).
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let target_ms = x % 3_590_000;
            player.seek(target_ms).await.expect("seeks");
            let t = first_sample(&player).await;
            seek.push(t.latency().expect("measured"));
            let landed = t.first_frame.expect("a landing frame") as f64 / 8.0;
            worst_landing = worst_landing.max((landed - target_ms as f64).abs());
        }
        player.stop().await;
        report("seek → first sample", &mut seek);
        println!("seek landing: worst {worst_landing:.3} ms from the target (must be ≤ 20 ms)");
        assert!(worst_landing <= 20.0);
    });
}

async fn first_sample(player: &Player) -> Timing {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(t) = player.timing().await {
            if t.first_sample.is_some() {
                return t;
            }
        }
        assert!(Instant::now() < deadline, "no sample reached the output");
        tokio::time::sleep(Duration::from_micros(200)).await;
    }
}

fn report(what: &str, samples: &mut [Duration]) {
    samples.sort();
    let pct = |p: f64| samples[((samples.len() as f64 * p).ceil() as usize).clamp(1, samples.len()) - 1];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{what}: n={} p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms, min {:.2} ms",
        samples.len(),
        ms(pct(0.50)),
        ms(pct(0.99)),
        ms(samples[samples.len() - 1]),
        ms(samples[0]),
    );
}
