//! What the application state keeps of transcription (issue #16): the queue's wake-up for the
//! workers' long polls, and this node's own worker's token and process id. A leaf: the state
//! holds it, so it depends on nothing of the server's.

use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::sync::atomic::AtomicU32;

/// The queue's wake-up and the local worker.
pub struct Transcription {
    /// Wakes the workers' long polls: a job was queued.
    pub wake: tokio::sync::Notify,
    /// Minted at start-up and never stored: the local worker's credential.
    local_token: String,
    /// Its SHA-256 (hex), as bearer tokens are compared.
    local_hash: String,
    /// The local worker's process id while it runs (0: none).
    pub worker_pid: AtomicU32,
}

impl Default for Transcription {
    fn default() -> Self {
        // As `crate::auth::new_token` and `token_hash` make them (not called: this is a leaf).
        let mut b = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut b);
        let local_token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
        let local_hash = hex::encode(Sha256::digest(local_token.as_bytes()));
        Transcription {
            wake: tokio::sync::Notify::new(),
            local_token,
            local_hash,
            worker_pid: AtomicU32::new(0),
        }
    }
}

impl Transcription {
    /// The token handed to the local worker (in its environment, never on its command line).
    pub fn local_token(&self) -> &str {
        &self.local_token
    }

    /// The SHA-256 (hex) of the local worker's token.
    pub fn local_hash(&self) -> &str {
        &self.local_hash
    }
}
