//! `object-bench`: upload throughput to the object store (issue #10.2). It starts a real S3
//! server (SeaweedFS `weed mini`, via `callrec_testkit::s3`; `CALLREC_WEED` or `weed` on PATH),
//! writes `--files` recordings of `--megabytes` each into a spool directory, and uploads them
//! with the server's own object-store code (`callrec_server::objects::Objects`), `--parallel`
//! at a time: first the upload alone (PUT, multipart above 8 MiB), then the uploader's full
//! cycle (upload + read back for the SHA-256 check). It prints MB/s and objects/s for both.
//!
//! ```text
//! cargo build --release -p callrec-bench --bin object-bench
//! target/release/object-bench --files 200 --megabytes 1 --parallel 4
//! target/release/object-bench --files 8 --megabytes 58 --parallel 2
//! ```
//! Figures: README ("Object storage").

use anyhow::{Context, Result};
use callrec_server::config::{Config, Secret, StorageUrl};
use callrec_server::objects::Objects;
use clap::Parser;
use futures::StreamExt;
use std::path::PathBuf;
use std::time::Instant;

#[derive(Debug, Parser)]
#[command(about = "Upload throughput to a real S3 server (SeaweedFS), with the server's object-store code")]
struct Args {
    /// Recordings to upload per phase.
    #[arg(long, default_value_t = 200)]
    files: usize,
    /// Size of each, in MB (1 MB ≈ one minute of stereo G.711: 960 KB).
    #[arg(long, default_value_t = 1.0)]
    megabytes: f64,
    /// Uploads in flight at once.
    #[arg(long, default_value_t = 4)]
    parallel: usize,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let port = callrec_testkit::free_port().map_err(anyhow::Error::msg)?;
    let s3 = callrec_testkit::s3::start_on(port).map_err(anyhow::Error::msg)?;
    let spool = tempfile::tempdir().context("spool dir")?;
    let size = (args.megabytes * 1_000_000.0) as usize;
    let files: Vec<PathBuf> = (0..args.files)
        .map(|i| {
            let p = spool.path().join(format!("{i:05}.wav"));
            let data: Vec<u8> = (0..size).map(|k| ((k * 31 + i * 7) % 251) as u8).collect();
            std::fs::write(&p, data).map(|_| p)
        })
        .collect::<std::io::Result<_>>()
        .context("writing the spool")?;
    let mut config = Config::for_data_dir(spool.path().to_path_buf());
    config.storage_url = Some(StorageUrl::S3 {
        bucket: callrec_testkit::s3::BUCKET.into(),
        prefix: "bench".into(),
    });
    config.aws = s3.aws_env().into_iter().map(|(k, v)| (k, Secret::new(v))).collect();
    let objects = Objects::from_config(&config)?.context("an object store")?;
    println!(
        "object-bench: {} files × {:.1} MB, {} in flight, SeaweedFS on 127.0.0.1:{port}",
        args.files, args.megabytes, args.parallel
    );
    for (phase, verify) in [("upload", false), ("upload + read-back check", true)] {
        let started = Instant::now();
        let results: Vec<Result<u64>> = futures::stream::iter(files.iter().enumerate())
            .map(|(i, path)| {
                let objects = objects.clone();
                async move {
                    let rel = format!(
                        "recordings/2026/06/01/{phase_key}-{i:05}.wav",
                        phase_key = u8::from(verify)
                    );
                    let (sha, n) = objects.put_file(&rel, path).await?;
                    if verify {
                        let (stored, _) = objects.sha256(&rel).await?;
                        anyhow::ensure!(stored == sha, "{rel}: stored {stored}, sent {sha}");
                    }
                    Ok(n)
                }
            })
            .buffer_unordered(args.parallel.max(1))
            .collect()
            .await;
        let secs = started.elapsed().as_secs_f64();
        let bytes: u64 = results.into_iter().collect::<Result<Vec<u64>>>()?.iter().sum();
        println!(
            "{phase:>26}: {:>8.1} MB/s  {:>8.1} objects/s  ({} objects, {:.1} MB in {:.2} s)",
            bytes as f64 / 1e6 / secs,
            args.files as f64 / secs,
            args.files,
            bytes as f64 / 1e6,
            secs
        );
    }
    s3.stop();
    Ok(())
}
