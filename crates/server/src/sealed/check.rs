//! The data directory's key check (issue #12.1): `encryption.check`, a small sealed file
//! written the first time the server starts with a key. A server whose data is sealed and
//! that has no key, or another key, refuses to start with one line naming both key ids,
//! instead of recording into files nobody can open together.

use std::io;
use std::path::{Path, PathBuf};

use super::format::{self, Header, SealedError, HEADER_LEN};
use super::key::{KeyId, MasterKey};
use super::Vault;

const FILE: &str = "encryption.check";
const CONTENT: &[u8] = b"callrec encryption key check";

/// Why the server must not start with this key and data directory.
#[derive(Debug, thiserror::Error)]
pub enum KeyCheckError {
    /// Sealed data, no key.
    #[error(
        "the data directory {dir} holds encrypted recordings (master key {data}) but no encryption_key_file is set"
    )]
    NoKey {
        /// The data directory.
        dir: String,
        /// The key the data needs.
        data: KeyId,
    },
    /// Sealed data, another key.
    #[error(
        "the encryption key (id {configured}) is not the key the data directory {dir} was encrypted with (id {data})"
    )]
    WrongKey {
        /// The data directory.
        dir: String,
        /// The key the data needs.
        data: KeyId,
        /// The key configured.
        configured: KeyId,
    },
    /// The check file is damaged or unreadable.
    #[error("the key check file {path} cannot be used: {reason}")]
    Damaged {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
}

/// The key check file of `data_dir`.
pub fn path(data_dir: &Path) -> PathBuf {
    data_dir.join(FILE)
}

/// Checks the configured key against the data directory; the first start with a key writes
/// the check file.
pub fn at_startup(data_dir: &Path, vault: &Vault) -> Result<(), KeyCheckError> {
    let p = path(data_dir);
    let dir = data_dir.display().to_string();
    let damaged = |reason: String| KeyCheckError::Damaged {
        path: p.display().to_string(),
        reason,
    };
    match std::fs::read(&p) {
        Ok(bytes) => {
            let header =
                Header::parse(&bytes[..bytes.len().min(HEADER_LEN as usize)]).map_err(|e| damaged(e.to_string()))?;
            let Some(key) = vault.key() else {
                return Err(KeyCheckError::NoKey {
                    dir,
                    data: header.key_id,
                });
            };
            match format::open_bytes(key, &bytes) {
                Ok(plain) if plain == CONTENT => Ok(()),
                Ok(_) => Err(damaged("unexpected content".into())),
                Err(SealedError::WrongKey { file, configured }) => Err(KeyCheckError::WrongKey {
                    dir,
                    data: file,
                    configured,
                }),
                Err(e) => Err(damaged(e.to_string())),
            }
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => match vault.key() {
            Some(key) => write(data_dir, key).map_err(|e| damaged(e.to_string())),
            None => Ok(()),
        },
        Err(e) => Err(damaged(e.to_string())),
    }
}

/// (Re)writes the check file for `key` (first start, and the end of a rekey): new file, fsync, rename.
pub fn write(data_dir: &Path, key: &MasterKey) -> io::Result<()> {
    use std::io::Write;
    std::fs::create_dir_all(data_dir)?;
    let tmp = data_dir.join(format!(".{FILE}.tmp"));
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(&format::seal_bytes(key, CONTENT))?;
    f.sync_all()?;
    std::fs::rename(&tmp, path(data_dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_key_and_wrong_key_are_refused_once_data_is_sealed() {
        let dir = tempfile::tempdir().expect("dir");
        let plain = Vault::new(None);
        at_startup(dir.path(), &plain).expect("no key, no sealed data: fine");
        assert!(!path(dir.path()).exists(), "nothing written without a key");
        let k = Vault::new(Some(MasterKey::from_bytes([1; 32])));
        at_startup(dir.path(), &k).expect("first start with a key");
        at_startup(dir.path(), &k).expect("same key again");
        let e = at_startup(dir.path(), &plain).expect_err("no key");
        assert!(matches!(e, KeyCheckError::NoKey { .. }), "{e}");
        let other = Vault::new(Some(MasterKey::from_bytes([2; 32])));
        let e = at_startup(dir.path(), &other).expect_err("wrong key");
        assert!(matches!(e, KeyCheckError::WrongKey { .. }), "{e}");
        assert!(!e.to_string().contains('\n'), "one line: {e}");
    }
}
