//! The installation's evidence signing key (issue #12.2): an Ed25519 key generated at the
//! first start and kept beside the data, `<data_dir>/evidence-signing.key` (the standard base64
//! of the 32-byte secret seed, one line), created with mode 0600 and never logged. Its public
//! half is registered in the database, published at `GET /api/v1/evidence/public-key` and
//! written into every entry it signs.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use callrec_types::evidence::{decode_public_key, EvidenceEntry};
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::EncodePublicKey;
use ed25519_dalek::{Signer as _, SigningKey};
use rand::RngCore;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The key file's name inside the data directory.
pub const KEY_FILE: &str = "evidence-signing.key";

/// Where the key of the data directory `data_dir` lives.
pub fn key_path(data_dir: &Path) -> PathBuf {
    data_dir.join(KEY_FILE)
}

/// Signs evidence entries.
pub struct Signer {
    key: SigningKey,
    public_key: String,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("public_key", &self.public_key)
            .field("key", &"<redacted>")
            .finish()
    }
}

impl Signer {
    /// Reads the key at `path`, or makes a new one there (mode 0600) when there is none.
    pub fn load_or_create(path: &Path) -> io::Result<Signer> {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let seed = B64
                    .decode(text.trim())
                    .ok()
                    .and_then(|b| <[u8; 32]>::try_from(b.as_slice()).ok())
                    .ok_or_else(|| {
                        io::Error::new(
                            io::ErrorKind::InvalidData,
                            format!("{} does not hold a base64 32-byte Ed25519 key", path.display()),
                        )
                    })?;
                Ok(Signer::from_seed(seed))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let mut seed = [0u8; 32];
                rand::rngs::OsRng.fill_bytes(&mut seed);
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir)?;
                }
                let mut opts = std::fs::OpenOptions::new();
                opts.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
                let mut f = opts.open(path)?;
                f.write_all(format!("{}\n", B64.encode(seed)).as_bytes())?;
                f.sync_all()?;
                tracing::info!(path = %path.display(), "generated the evidence signing key");
                Ok(Signer::from_seed(seed))
            }
            Err(e) => Err(e),
        }
    }

    pub fn from_seed(seed: [u8; 32]) -> Signer {
        let key = SigningKey::from_bytes(&seed);
        let public_key = B64.encode(key.verifying_key().as_bytes());
        Signer { key, public_key }
    }

    /// Base64 of the 32-byte public key.
    pub fn public_key(&self) -> &str {
        &self.public_key
    }

    /// Puts this key into `entry` and signs it: `public_key`, `entry_hash`, `signature`.
    pub fn seal(&self, entry: &mut EvidenceEntry) {
        entry.public_key = self.public_key.clone();
        entry.entry_hash = entry.compute_hash();
        entry.signature = B64.encode(self.key.sign(entry.canonical().as_bytes()).to_bytes());
    }
}

/// The key `b64` as an X.509 SubjectPublicKeyInfo PEM (what `openssl pkeyutl -pubin` reads);
/// `None` when it is not an Ed25519 key.
pub fn public_key_pem(b64: &str) -> Option<String> {
    decode_public_key(b64)?.to_public_key_pem(LineEnding::LF).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_made_once_with_mode_0600_and_read_back() {
        let dir = tempfile::tempdir().expect("dir");
        let path = key_path(dir.path());
        let made = Signer::load_or_create(&path).expect("made");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "only the server's user may read the key");
        }
        let again = Signer::load_or_create(&path).expect("read");
        assert_eq!(made.public_key(), again.public_key(), "the same key after a restart");
        assert!(!format!("{made:?}").contains(&std::fs::read_to_string(&path).unwrap().trim().to_string()));
        let pem = public_key_pem(made.public_key()).expect("pem");
        assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"), "{pem}");
        std::fs::write(&path, "not a key").unwrap();
        assert!(
            Signer::load_or_create(&path).is_err(),
            "a damaged key file stops the start"
        );
    }
}
