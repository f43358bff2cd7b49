//! The master key (issue #12.1): read from `encryption_key_file` (base64 of 32 bytes), written
//! by `callrec-server gen-key`, and its public id. The key never reaches a log: `Debug`
//! prints only its id, and its bytes are wiped when it is dropped.

use std::fmt;
use std::io::{self, Write};
use std::path::Path;

use base64::Engine;
use chacha20poly1305::aead::KeyInit;
use chacha20poly1305::{Key, XChaCha20Poly1305};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// The first 8 bytes of SHA-256("callrec master key id" ‖ key): names a key in file headers
/// and error messages without revealing it.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyId([u8; 8]);

impl KeyId {
    /// From the 8 bytes stored in a header.
    pub fn from_bytes(b: [u8; 8]) -> KeyId {
        KeyId(b)
    }

    /// The 8 bytes.
    pub fn as_bytes(&self) -> &[u8; 8] {
        &self.0
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({self})")
    }
}

/// A 32-byte master key. It wraps each file's data key; it never encrypts audio itself.
pub struct MasterKey {
    bytes: [u8; 32],
    id: KeyId,
}

impl Drop for MasterKey {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.bytes);
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MasterKey(id {}, <redacted>)", self.id)
    }
}

/// Why a key file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    /// The file cannot be read.
    #[error("cannot read the encryption key file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: io::Error,
    },
    /// The file does not hold base64 of exactly 32 bytes.
    #[error(
        "the encryption key file {path} must hold the base64 of 32 bytes (make one with `callrec-server gen-key`)"
    )]
    Malformed {
        /// The file.
        path: String,
    },
}

impl MasterKey {
    /// A key from its bytes (tests, the key file).
    pub fn from_bytes(bytes: [u8; 32]) -> MasterKey {
        let mut h = Sha256::new();
        h.update(b"callrec master key id");
        h.update(bytes);
        let digest = h.finalize();
        let mut id = [0u8; 8];
        id.copy_from_slice(&digest[..8]);
        MasterKey { bytes, id: KeyId(id) }
    }

    /// A fresh random key.
    pub fn generate() -> MasterKey {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        MasterKey::from_bytes(bytes)
    }

    /// Reads a key file: base64 (standard alphabet) of 32 bytes, surrounding white space ignored.
    pub fn load(path: &Path) -> Result<MasterKey, KeyFileError> {
        let shown = path.display().to_string();
        let mut text = std::fs::read_to_string(path).map_err(|source| KeyFileError::Read {
            path: shown.clone(),
            source,
        })?;
        let decoded = base64::engine::general_purpose::STANDARD.decode(text.trim());
        zeroize::Zeroize::zeroize(&mut text);
        let mut decoded = decoded.map_err(|_| KeyFileError::Malformed { path: shown.clone() })?;
        let result = <[u8; 32]>::try_from(decoded.as_slice())
            .map(MasterKey::from_bytes)
            .map_err(|_| KeyFileError::Malformed { path: shown });
        zeroize::Zeroize::zeroize(&mut decoded);
        result
    }

    /// Writes the key as base64 to a new file with mode 0600; an existing file is never
    /// overwritten (a lost key is lost audio).
    pub fn write_new(&self, path: &Path) -> io::Result<()> {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut f = options.open(path)?;
        let mut text = base64::engine::general_purpose::STANDARD.encode(self.bytes);
        text.push('\n');
        let written = f.write_all(text.as_bytes()).and_then(|()| f.sync_all());
        zeroize::Zeroize::zeroize(&mut text);
        written
    }

    /// The key's public id.
    pub fn id(&self) -> KeyId {
        self.id
    }

    pub(super) fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(Key::from_slice(&self.bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gen_key_writes_a_private_file_once_and_it_loads_back() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("master.key");
        let k = MasterKey::generate();
        k.write_new(&path).expect("written");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "only the owner reads the key");
        }
        assert_eq!(MasterKey::load(&path).expect("loads").id(), k.id(), "same key back");
        let again = MasterKey::generate().write_new(&path);
        assert_eq!(
            again.map_err(|e| e.kind()),
            Err(io::ErrorKind::AlreadyExists),
            "never overwrites"
        );
        std::fs::write(&path, "bm90IDMyIGJ5dGVz\n").expect("write");
        assert!(
            matches!(MasterKey::load(&path), Err(KeyFileError::Malformed { .. })),
            "wrong length"
        );
        let shown = format!("{k:?}");
        assert!(
            shown.contains("redacted") && shown.contains(&k.id().to_string()),
            "{shown}"
        );
    }
}
