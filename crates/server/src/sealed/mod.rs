//! Encryption at rest (issue #12.1). With `encryption_key_file` set every new recording — the
//! growing WAV on the spool, the file in the data directory, the object in the bucket — and
//! every journal JSON is stored sealed: envelope encryption (AES-256-GCM chunks, the data key
//! wrapped with XChaCha20-Poly1305), a random data key per file wrapped by the master key, the
//! audio in chunks sealed one by one (`callrec_media::sealed::format` says why the format is
//! ours, what it follows and why these ciphers).
//!
//! **The plaintext read path.** Whatever reads a stored recording or journal goes through
//! [`Vault`]: [`Vault::open`] gives a `Read + Seek` of the plaintext of a local file (sealed or
//! not, told apart by the magic), and [`Vault::read`], [`Vault::sha256`] and
//! [`Vault::copy_plain`] are built on it; HTTP playback reads objects and files with the same
//! chunk opener through `audio::blob`. A chunk that fails authentication is an
//! [`io::ErrorKind::InvalidData`] error carrying a [`SealedError`], never played.
//!
//! The pieces: `key` (the master key, its id, `gen-key`) and `format` (header and chunks),
//! both in `callrec_media::sealed`;
//! `file` (a sealed file read and written as its plaintext), `check` (the data directory's
//! key check at start-up), `convert` (`rekey` and `encrypt-existing`).

pub mod check;
pub mod convert;
pub mod file;
pub use callrec_media::sealed::{format, key};

use std::io::{self, Read};
use std::path::Path;
use std::sync::Arc;

use sha2::{Digest, Sha256};

pub use file::{sealed_error, SealedFile, StoredFile};
pub use format::SealedError;
pub use key::{KeyFileError, KeyId, MasterKey};

/// The configured master key, if any: how everything stored is sealed and opened.
#[derive(Clone, Debug, Default)]
pub struct Vault {
    key: Option<Arc<MasterKey>>,
}

impl Vault {
    /// Sealing with `key`; `None` stores plaintext (and still reads plaintext files).
    pub fn new(key: Option<MasterKey>) -> Vault {
        Vault { key: key.map(Arc::new) }
    }

    /// The key named by `encryption_key_file`, or none.
    pub fn from_key_file(path: Option<&Path>) -> Result<Vault, KeyFileError> {
        Ok(Vault::new(path.map(MasterKey::load).transpose()?))
    }

    /// The master key, if one is configured.
    pub fn key(&self) -> Option<&MasterKey> {
        self.key.as_deref()
    }

    /// The master key, shared (for blocking tasks).
    pub fn key_arc(&self) -> Option<&Arc<MasterKey>> {
        self.key.as_ref()
    }

    /// Whether new files are sealed.
    pub fn seals(&self) -> bool {
        self.key.is_some()
    }

    /// A new file at `file` for writing: sealed when a key is configured.
    pub fn create(&self, file: std::fs::File) -> io::Result<StoredFile> {
        StoredFile::create(file, self.key())
    }

    /// **The plaintext read path** of a local file: opens `path` (read-only) as its plaintext,
    /// sealed or not.
    pub fn open(&self, path: &Path) -> io::Result<StoredFile> {
        StoredFile::open(std::fs::File::open(path)?, self.key(), false)
    }

    /// A document's bytes as stored: sealed when a key is configured.
    pub fn seal_bytes(&self, plain: &[u8]) -> Vec<u8> {
        match self.key() {
            Some(k) => format::seal_bytes(k, plain),
            None => plain.to_vec(),
        }
    }

    /// The plaintext of stored bytes (a journal from a file or an object).
    pub fn open_bytes(&self, stored: &[u8]) -> io::Result<Vec<u8>> {
        if !format::is_sealed(stored) {
            return Ok(stored.to_vec());
        }
        let key = self.key().ok_or_else(|| invalid(SealedError::NoKey))?;
        format::open_bytes(key, stored).map_err(invalid)
    }

    /// The whole plaintext of a local file.
    pub async fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        let stored = tokio::fs::read(path).await?;
        self.open_bytes(&stored)
    }

    /// SHA-256 (hex) and length of a local file's plaintext, every chunk checked.
    pub async fn sha256(&self, path: &Path) -> io::Result<(String, u64)> {
        let (vault, path) = (self.clone(), path.to_owned());
        tokio::task::spawn_blocking(move || {
            let mut f = vault.open(&path)?;
            let mut h = Sha256::new();
            let mut buf = vec![0u8; 256 * 1024];
            let mut n = 0u64;
            loop {
                let k = f.read(&mut buf)?;
                if k == 0 {
                    break;
                }
                h.update(&buf[..k]);
                n += k as u64;
            }
            Ok((hex::encode(h.finalize()), n))
        })
        .await
        .map_err(io::Error::other)?
    }

    /// Writes the plaintext of `from` to a new file `to` (a dispatch script's copy).
    pub async fn copy_plain(&self, from: &Path, to: &Path) -> io::Result<u64> {
        let (vault, from, to) = (self.clone(), from.to_owned(), to.to_owned());
        tokio::task::spawn_blocking(move || {
            let mut src = vault.open(&from)?;
            let mut dst = std::fs::File::create(&to)?;
            io::copy(&mut src, &mut dst)
        })
        .await
        .map_err(io::Error::other)?
    }
}

fn invalid(e: SealedError) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e)
}
