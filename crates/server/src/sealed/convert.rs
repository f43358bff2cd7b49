//! `callrec-server rekey` and `callrec-server encrypt-existing` (issue #12.1), run with the
//! server stopped, over every recording and journal under `<data_dir>/recordings` (and, with
//! object storage, every object of the bucket: see `objects::convert`).
//!
//! Rekey rewrites only each file's 96-byte header (the data key wrapped by the new master
//! key, in place, then fsync); the audio is not touched. A file already under the new key is
//! skipped, so an interrupted rekey is finished by running it again. Encrypt-existing seals
//! every plaintext file into a new file beside it, fsyncs it and renames it over the old one,
//! so a crash leaves either the old or the new file.

use std::io::{self, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use std::sync::Arc;

use anyhow::Context;
use bytes::Bytes;
use futures::TryStreamExt;

use super::file::StoredFile;
use super::format::{is_sealed, Header, HEADER_LEN};
use super::key::MasterKey;
use crate::config::Config;
use crate::objects::Objects;

/// What a conversion did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Converted {
    /// Files changed (re-wrapped, or sealed).
    pub changed: u64,
    /// Files already in the wanted state.
    pub unchanged: u64,
}

/// Every `.wav` and `.json` file under `<data_dir>/recordings`, sorted.
pub fn stored_files(data_dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut dirs = vec![data_dir.join("recordings")];
    while let Some(d) = dirs.pop() {
        let rd = match std::fs::read_dir(&d) {
            Ok(rd) => rd,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        for e in rd {
            let e = e?;
            let p = e.path();
            let name = e.file_name();
            let name = name.to_string_lossy();
            if e.file_type()?.is_dir() {
                dirs.push(p);
            } else if !name.starts_with('.') && (name.ends_with(".wav") || name.ends_with(".json")) {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// The header of `bytes` (a file's first bytes) under `new` instead of `old`; `None` when it is
/// plaintext or already under `new`.
pub fn rewrap_header(head: &[u8], old: &MasterKey, new: &MasterKey) -> io::Result<Option<[u8; HEADER_LEN as usize]>> {
    if !is_sealed(head) {
        return Ok(None);
    }
    let h = Header::parse(head).map_err(io::Error::other)?;
    if h.key_id == new.id() {
        return Ok(None);
    }
    Ok(Some(h.rewrap(old, new).map_err(io::Error::other)?.encode()))
}

/// Re-wraps the data key of every sealed file under `data_dir` from `old` to `new`.
pub fn rekey_dir(data_dir: &Path, old: &MasterKey, new: &MasterKey) -> io::Result<Converted> {
    let mut done = Converted::default();
    for p in stored_files(data_dir)? {
        let f = std::fs::OpenOptions::new().read(true).write(true).open(&p)?;
        let mut head = [0u8; HEADER_LEN as usize];
        let n = f.read_at(&mut head, 0)?;
        match rewrap_header(&head[..n], old, new).map_err(|e| io::Error::other(format!("{}: {e}", p.display())))? {
            Some(h) => {
                f.write_all_at(&h, 0)?;
                f.sync_data()?;
                done.changed += 1;
            }
            None => done.unchanged += 1,
        }
    }
    Ok(done)
}

/// Seals every plaintext file under `data_dir` with `key`.
pub fn encrypt_dir(data_dir: &Path, key: &MasterKey) -> io::Result<Converted> {
    let mut done = Converted::default();
    for p in stored_files(data_dir)? {
        if encrypt_file(&p, key)? {
            done.changed += 1;
        } else {
            done.unchanged += 1;
        }
    }
    Ok(done)
}

/// Seals one plaintext file in place (new file, fsync, rename); false when it was sealed.
pub fn encrypt_file(path: &Path, key: &MasterKey) -> io::Result<bool> {
    let mut src = std::fs::File::open(path)?;
    let mut magic = [0u8; 6];
    let n = src.read_at(&mut magic, 0)?;
    if is_sealed(&magic[..n]) {
        return Ok(false);
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.sealing.tmp"));
    let out = std::fs::OpenOptions::new()
        .create(true)
        .truncate(true)
        .read(true)
        .write(true)
        .open(&tmp)?;
    let mut sealed = StoredFile::create(out, Some(key))?;
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let k = src.read(&mut buf)?;
        if k == 0 {
            break;
        }
        sealed.write_all(&buf[..k])?;
    }
    sealed.flush()?;
    sealed.get_ref().sync_all()?;
    std::fs::rename(&tmp, path)?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(true)
}

/// `callrec-server rekey`: every sealed file of the data directory and every sealed object of
/// the configured object store re-wrapped from the configured key to `new`; then the data
/// directory's key check names `new`, so the server starts only with it.
pub async fn rekey(config: &Config, new: Arc<MasterKey>) -> anyhow::Result<Converted> {
    let old = configured_key(config)?;
    let dir = config.data_dir.clone();
    let (o, n) = (Arc::clone(&old), Arc::clone(&new));
    let mut done = tokio::task::spawn_blocking(move || rekey_dir(&dir, &o, &n)).await??;
    if let Some(objects) = Objects::from_config(config)? {
        for rel in objects.list_recordings().await? {
            let head: Vec<Bytes> = objects.get_range(&rel, 0..HEADER_LEN).await?.try_collect().await?;
            let head = head.concat();
            match rewrap_header(&head, &old, &new).with_context(|| rel.clone())? {
                Some(h) => {
                    replace_object(config, &objects, &rel, move |path| {
                        let f = std::fs::OpenOptions::new().write(true).open(path)?;
                        f.write_all_at(&h, 0)?;
                        f.sync_all()
                    })
                    .await?;
                    done.changed += 1;
                }
                None => done.unchanged += 1,
            }
        }
    }
    super::check::write(&config.data_dir, &new)?;
    Ok(done)
}

/// `callrec-server encrypt-existing`: every plaintext file of the data directory and every
/// plaintext object of the configured object store sealed with the configured key.
pub async fn encrypt_existing(config: &Config) -> anyhow::Result<Converted> {
    let key = configured_key(config)?;
    super::check::at_startup(
        &config.data_dir,
        &super::Vault {
            key: Some(Arc::clone(&key)),
        },
    )?;
    let (dir, k) = (config.data_dir.clone(), Arc::clone(&key));
    let mut done = tokio::task::spawn_blocking(move || encrypt_dir(&dir, &k)).await??;
    if let Some(objects) = Objects::from_config(config)? {
        for rel in objects.list_recordings().await? {
            let head: Vec<Bytes> = objects.get_range(&rel, 0..6).await?.try_collect().await?;
            if is_sealed(&head.concat()) {
                done.unchanged += 1;
                continue;
            }
            let k = Arc::clone(&key);
            replace_object(config, &objects, &rel, move |path| encrypt_file(path, &k).map(|_| ())).await?;
            done.changed += 1;
        }
    }
    Ok(done)
}

fn configured_key(config: &Config) -> anyhow::Result<Arc<MasterKey>> {
    let path = config
        .encryption_key_file
        .as_deref()
        .context("no encryption_key_file is configured (set it, or CALLREC_ENCRYPTION_KEY_FILE)")?;
    Ok(Arc::new(MasterKey::load(path)?))
}

/// Fetches object `rel` to a temporary file, lets `change` rewrite it, and uploads it again
/// (an object cannot be changed in place).
async fn replace_object(
    config: &Config,
    objects: &Objects,
    rel: &str,
    change: impl FnOnce(&Path) -> io::Result<()> + Send + 'static,
) -> anyhow::Result<()> {
    let dir = config.data_dir.join("tmp");
    tokio::fs::create_dir_all(&dir).await?;
    let tmp = dir.join(format!("convert-{}.tmp", hex::encode(rand::random::<[u8; 8]>())));
    let result = async {
        objects.copy_to_file(rel, &tmp).await?;
        let t = tmp.clone();
        tokio::task::spawn_blocking(move || change(&t)).await??;
        objects.put_file(rel, &tmp).await?;
        anyhow::Ok(())
    }
    .await
    .with_context(|| format!("object {rel}"));
    let _ = tokio::fs::remove_file(&tmp).await;
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sealed::format::open_bytes;

    #[test]
    fn encrypt_then_rekey_keeps_the_plaintext_and_moves_the_key() {
        let dir = tempfile::tempdir().expect("dir");
        let day = dir.path().join("recordings/2026/01/02");
        std::fs::create_dir_all(&day).expect("mkdir");
        let wav: Vec<u8> = (0..70_000u32).map(|i| i as u8).collect();
        std::fs::write(day.join("k_001.wav"), &wav).expect("write");
        std::fs::write(day.join("k.json"), b"{\"caller\":\"+4930123\"}").expect("write");
        let (old, new) = (MasterKey::from_bytes([1; 32]), MasterKey::from_bytes([2; 32]));
        assert_eq!(
            encrypt_dir(dir.path(), &old).expect("encrypt").changed,
            2,
            "both sealed"
        );
        assert_eq!(encrypt_dir(dir.path(), &old).expect("again").unchanged, 2, "idempotent");
        let stored = std::fs::read(day.join("k_001.wav")).expect("read");
        assert_eq!(open_bytes(&old, &stored).expect("opens"), wav, "same plaintext");
        let body_before = stored[96..].to_vec();
        assert_eq!(
            rekey_dir(dir.path(), &old, &new).expect("rekey").changed,
            2,
            "both re-wrapped"
        );
        let stored = std::fs::read(day.join("k_001.wav")).expect("read");
        assert_eq!(stored[96..], body_before[..], "audio chunks untouched");
        assert_eq!(open_bytes(&new, &stored).expect("new key"), wav, "new key opens");
        assert!(open_bytes(&old, &stored).is_err(), "old key does not");
        assert_eq!(
            rekey_dir(dir.path(), &old, &new).expect("again").unchanged,
            2,
            "rerun skips"
        );
        let json = std::fs::read(day.join("k.json")).expect("read");
        assert!(!json.windows(7).any(|w| w == b"4930123"), "no caller number on disk");
    }
}
