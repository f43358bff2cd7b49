//! Where recordings and journals live on disk. Every path is built here from server-side facts
//! (the call's start date, its key, the sequence number); no path ever comes from a client.
//! Journal documents are replaced atomically (write to a temporary file, fsync, rename).

use callrec_types::calls::JournalDocument;
use chrono::{DateTime, Datelike, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::io;
use std::path::{Path, PathBuf};
use tokio::io::AsyncReadExt;

#[derive(Debug, Clone)]
pub struct Files {
    root: PathBuf,
}

impl Files {
    pub fn new(root: PathBuf) -> Self {
        Files { root }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where uploads are spooled before they are validated (same file system as the
    /// recordings, so the final move is a rename).
    pub fn tmp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }

    /// A fresh call key: `YYYYMMDD-HHMMSS-<8 hex>`, unique and not guessable.
    pub fn new_call_key(started_at: DateTime<Utc>) -> String {
        let mut b = [0u8; 4];
        rand::rngs::OsRng.fill_bytes(&mut b);
        format!("{}-{}", started_at.format("%Y%m%d-%H%M%S"), hex::encode(b))
    }

    fn day_dir(started_at: DateTime<Utc>) -> String {
        format!(
            "recordings/{:04}/{:02}/{:02}",
            started_at.year(),
            started_at.month(),
            started_at.day()
        )
    }

    pub fn recording_file_name(call_key: &str, seq: i64) -> String {
        format!("{call_key}_{seq:03}.wav")
    }

    /// `recordings/YYYY/MM/DD/<callkey>_<seq>.wav`, relative to the data directory.
    pub fn recording_rel_path(call_started_at: DateTime<Utc>, call_key: &str, seq: i64) -> String {
        format!(
            "{}/{}",
            Self::day_dir(call_started_at),
            Self::recording_file_name(call_key, seq)
        )
    }

    /// `recordings/YYYY/MM/DD/<callkey>.json`.
    pub fn journal_rel_path(call_started_at: DateTime<Utc>, call_key: &str) -> String {
        format!("{}/{call_key}.json", Self::day_dir(call_started_at))
    }

    /// The absolute path of a stored relative path. Refuses anything that is not a plain
    /// relative path below the root (defence in depth: stored paths are ours).
    pub fn abs(&self, rel: &str) -> io::Result<PathBuf> {
        let p = Path::new(rel);
        if p.is_absolute() || p.components().any(|c| !matches!(c, std::path::Component::Normal(_))) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "stored path escapes the data directory",
            ));
        }
        Ok(self.root.join(p))
    }

    /// Writes the journal document, sealed when `vault` has a key (issue #12.1).
    pub async fn write_journal(&self, doc: &JournalDocument, vault: &crate::sealed::Vault) -> io::Result<PathBuf> {
        let rel = Self::journal_rel_path(doc.call.started_at, &doc.call.call_key);
        let path = self.abs(&rel)?;
        let bytes = serde_json::to_vec_pretty(doc).map_err(io::Error::other)?;
        write_atomic(&path, &vault.seal_bytes(&bytes)).await?;
        Ok(path)
    }

    /// The journal's bytes as stored (sealed or not); `calls::read_journal` gives the plaintext.
    pub async fn read_journal(&self, started_at: DateTime<Utc>, call_key: &str) -> io::Result<Vec<u8>> {
        tokio::fs::read(self.abs(&Self::journal_rel_path(started_at, call_key))?).await
    }
}

/// Writes `bytes` to `path` so that readers see the old or the new file, never half of one.
pub async fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no parent"))?;
    tokio::fs::create_dir_all(dir).await?;
    let mut rnd = [0u8; 6];
    rand::rngs::OsRng.fill_bytes(&mut rnd);
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("f"),
        hex::encode(rnd)
    ));
    let data = bytes.to_vec();
    let tmp2 = tmp.clone();
    tokio::task::spawn_blocking(move || -> io::Result<()> {
        use std::io::Write;
        let mut f = std::fs::File::create(&tmp2)?;
        f.write_all(&data)?;
        f.sync_all()
    })
    .await
    .map_err(io::Error::other)??;
    tokio::fs::rename(&tmp, path).await
}

/// SHA-256 (hex) and length of a file, streamed.
/// The codec a WAV header names, as a recording's metadata says it.
pub fn audio_codec(codec: callrec_media::wav::Codec) -> callrec_types::calls::AudioCodec {
    use callrec_media::wav::Codec;
    use callrec_types::calls::AudioCodec;
    match codec {
        Codec::Ulaw => AudioCodec::Pcmu,
        Codec::Alaw => AudioCodec::Pcma,
        Codec::Pcm16 => AudioCodec::Pcm16,
    }
}

pub async fn sha256_file(path: &Path) -> io::Result<(String, u64)> {
    let mut f = tokio::fs::File::open(path).await?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut n = 0u64;
    loop {
        let k = f.read(&mut buf).await?;
        if k == 0 {
            break;
        }
        h.update(&buf[..k]);
        n += k as u64;
    }
    Ok((hex::encode(h.finalize()), n))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn paths_follow_the_spec_layout() {
        let t = Utc.with_ymd_and_hms(2026, 3, 7, 9, 5, 1).single().expect("valid date");
        assert_eq!(Files::recording_rel_path(t, "k", 2), "recordings/2026/03/07/k_002.wav");
        assert_eq!(Files::journal_rel_path(t, "k"), "recordings/2026/03/07/k.json");
        assert!(Files::new_call_key(t).starts_with("20260307-090501-"));
    }

    #[test]
    fn stored_paths_cannot_escape() {
        let f = Files::new(PathBuf::from("/data"));
        assert!(f.abs("recordings/a.wav").is_ok());
        for bad in ["../etc/passwd", "/etc/passwd", "recordings/../../x", "./a"] {
            assert!(f.abs(bad).is_err(), "{bad}");
        }
    }
}
