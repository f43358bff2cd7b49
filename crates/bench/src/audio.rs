//! Audio throughput: a one-hour stereo µ-law WAV (8 kHz, 57.6 MB of audio) is generated,
//! uploaded through `POST /api/v1/ingest` to a server of its own (fresh data directory), then
//! downloaded whole with `format=original` and `format=pcm16` over loopback, counting bytes
//! as they arrive (nothing is written on the client side). With a key file the server stores
//! it encrypted (issue #12.1) and every download decrypts it on the way; the time to the first
//! byte of audio is measured too, and the waveform peaks (1,000 buckets) of the hour: the first
//! request, which decodes the file, and the cached ones after it.

use anyhow::{bail, Context, Result};
use callrec_client::{check, AudioFormat, Client};
use callrec_media::g711::Law;
use callrec_media::wav::{wav_header, Codec};
use callrec_server::config::{Config, Secret};
use callrec_server::Server;
use callrec_types::wire::{IngestCall, IngestParticipant, IngestRole, IngestTrigger};
use callrec_types::RecordingId;
use chrono::{Duration, Utc};
use futures::StreamExt;
use std::io::Write;
use std::path::Path;
use std::time::Instant;

const RATE: u32 = 8000;
const INGEST_TOKEN: &str = "bench-ingest-token-0123456789";
const ADMIN_PASSWORD: &str = "bench-admin-password";

/// Writes a stereo µ-law WAV of `seconds`: a slowly gliding tone on the left, its echo on
/// the right, so the file is not trivially compressible silence.
pub fn write_wav(path: &Path, seconds: u32) -> Result<u64> {
    let frames = seconds as usize * RATE as usize;
    let data_len = u32::try_from(frames * 2).context("the WAV is over 4 GiB")?;
    let file = std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    out.write_all(&wav_header(Codec::Ulaw, RATE, 2, data_len))?;
    let mut buf = Vec::with_capacity(2 * RATE as usize);
    for second in 0..seconds as usize {
        buf.clear();
        let freq = 300.0 + (second % 60) as f64 * 10.0;
        for n in 0..RATE as usize {
            let t = (second * RATE as usize + n) as f64 / RATE as f64;
            let left = (8000.0 * (2.0 * std::f64::consts::PI * freq * t).sin()) as i16;
            let right = (4000.0 * (2.0 * std::f64::consts::PI * freq * (t - 0.05)).sin()) as i16;
            buf.push(Law::Ulaw.encode(left));
            buf.push(Law::Ulaw.encode(right));
        }
        out.write_all(&buf)?;
    }
    out.flush()?;
    Ok(std::fs::metadata(path)?.len())
}

/// One download: bytes received, seconds taken, and seconds to the first body bytes.
async fn download(client: &Client, id: RecordingId, format: AudioFormat) -> Result<(u64, f64, f64)> {
    let began = Instant::now();
    let response = check(client.audio(id, format, None).await?).await?;
    let mut body = response.bytes_stream();
    let mut bytes = 0u64;
    let mut first = None;
    while let Some(chunk) = body.next().await {
        bytes += chunk?.len() as u64;
        first.get_or_insert_with(|| began.elapsed().as_secs_f64());
    }
    Ok((bytes, began.elapsed().as_secs_f64(), first.unwrap_or_default()))
}

/// The throughput figures.
pub struct AudioReport {
    pub wav_bytes: u64,
    pub ingest_mb_s: f64,
    /// (format, bytes per download, MB/s of every run)
    pub downloads: Vec<(AudioFormat, u64, Vec<f64>)>,
    /// Milliseconds from the request to the first audio bytes, every run of `original`.
    pub first_audio_ms: Vec<f64>,
    /// Milliseconds per `GET …/peaks?buckets=1000`: the first (computed), then cached ones.
    pub peaks_ms: Vec<f64>,
}

fn mb_s(bytes: u64, secs: f64) -> f64 {
    bytes as f64 / 1e6 / secs.max(1e-9)
}

/// Generates the WAV under `work`, starts a server there, ingests and downloads `runs` times
/// per format.
/// `key_file`: store it encrypted with this master key.
pub async fn run(work: &Path, seconds: u32, runs: usize, key_file: Option<&Path>) -> Result<AudioReport> {
    let wav = work.join("one-hour.wav");
    let wav_bytes = if wav.exists() {
        std::fs::metadata(&wav)?.len()
    } else {
        write_wav(&wav, seconds)?
    };
    let data = if key_file.is_some() { "data-encrypted" } else { "data" };
    let mut config = Config::for_data_dir(work.join(data));
    config.encryption_key_file = key_file.map(Path::to_path_buf);
    config.bootstrap_admin_password = Some(Secret::new(ADMIN_PASSWORD));
    config.ingest_token = Some(Secret::new(INGEST_TOKEN));
    config.max_upload_bytes = wav_bytes * 2;
    config.retention_days = 36_600;
    let server = Server::bind(config).await?;
    let base = format!("http://{}", server.http_addr);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(server.run(async move {
        let _ = stopped.await;
    }));

    let mut client = Client::new(&base)?;
    client.login("admin", ADMIN_PASSWORD).await?;
    let started_at = Utc::now() - Duration::seconds(i64::from(seconds) + 60);
    let call = IngestCall {
        sip_call_id: "bench-one-hour@pbx.example.com".into(),
        started_at,
        answered_at: Some(started_at + Duration::seconds(5)),
        ended_at: Some(started_at + Duration::seconds(i64::from(seconds) + 5)),
        participants: vec![
            IngestParticipant {
                number: "+4930123456789".into(),
                name: "Long Caller".into(),
                role: IngestRole::Caller,
            },
            IngestParticipant {
                number: "1000".into(),
                name: "Administrator".into(),
                role: IngestRole::Callee,
            },
        ],
        mon_mode: Some("force".into()),
        trigger: IngestTrigger::Auto,
        triggered_by: None,
        recording_started_at: None,
        consent: None,
    };
    let began = Instant::now();
    let ingested = client
        .ingest_file(INGEST_TOKEN, &call, &wav)
        .await
        .context("ingesting the one-hour WAV (mon_mode force)")?;
    let ingest_mb_s = mb_s(wav_bytes, began.elapsed().as_secs_f64());

    let mut downloads = Vec::new();
    let mut first_audio_ms = Vec::new();
    for format in [AudioFormat::Original, AudioFormat::Pcm16] {
        let mut speeds = Vec::new();
        let mut size = 0;
        for _ in 0..runs.max(1) {
            let (bytes, secs, first) = download(&client, ingested.recording_id, format).await?;
            if format == AudioFormat::Original {
                first_audio_ms.push(first * 1e3);
            }
            if format == AudioFormat::Original && bytes != wav_bytes {
                bail!("downloaded {bytes} bytes of the original, uploaded {wav_bytes}");
            }
            size = bytes;
            speeds.push(mb_s(bytes, secs));
        }
        downloads.push((format, size, speeds));
    }
    // Waveform peaks (issue #15.1): the first request decodes the whole file, the next ones
    // are answered from the cache.
    let mut peaks_ms = Vec::new();
    for _ in 0..=runs.max(1) {
        let began = Instant::now();
        let peaks = client.recording_peaks(ingested.recording_id, Some(1000)).await?;
        peaks_ms.push(began.elapsed().as_secs_f64() * 1e3);
        if peaks.buckets != 1000 || peaks.channels.len() != 2 {
            bail!(
                "peaks of the one-hour WAV: {} buckets, {} channels",
                peaks.buckets,
                peaks.channels.len()
            );
        }
    }
    let _ = stop.send(());
    serving.await.context("the audio server task panicked")??;
    Ok(AudioReport {
        wav_bytes,
        ingest_mb_s,
        downloads,
        first_audio_ms,
        peaks_ms,
    })
}
