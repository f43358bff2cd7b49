//! Where the session token lives between runs: the OS keyring (Secret Service on Linux,
//! through the `keyring` crate), one entry per server. Without a usable keyring the token is
//! kept in memory only and the window says so — a restart then asks for the password again.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Mutex;
use ts_rs::TS;

/// The keyring service name every entry is filed under.
const SERVICE: &str = "callrec-desktop";

/// Which store holds the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum TokenStorage {
    /// The OS keyring: the session survives a restart.
    Keyring,
    /// No keyring available: the session ends with the app.
    Memory,
}

pub struct TokenStore {
    storage: TokenStorage,
    /// The memory store, and a cache of the keyring's entries so a keyring that breaks after
    /// start-up still keeps this run logged in.
    memory: Mutex<HashMap<String, String>>,
}

impl TokenStore {
    /// Probes the OS keyring once; falls back to memory when it cannot be used.
    pub fn detect() -> TokenStore {
        let storage = match probe() {
            Ok(()) => TokenStorage::Keyring,
            Err(e) => {
                tracing::warn!(error = %e, "no usable OS keyring: the session is kept in memory only");
                TokenStorage::Memory
            }
        };
        TokenStore::with_storage(storage)
    }

    /// A memory-only store (tests, and machines without a keyring).
    pub fn memory() -> TokenStore {
        TokenStore::with_storage(TokenStorage::Memory)
    }

    fn with_storage(storage: TokenStorage) -> TokenStore {
        TokenStore {
            storage,
            memory: Mutex::new(HashMap::new()),
        }
    }

    pub fn storage(&self) -> TokenStorage {
        self.storage
    }

    /// The token saved for `server` (a URL, or `local` for this computer's server).
    pub fn load(&self, server: &str) -> Option<String> {
        if let Some(t) = self.memory.lock().expect("token lock").get(server) {
            return Some(t.clone());
        }
        if self.storage == TokenStorage::Keyring {
            match entry(server).and_then(|e| e.get_password()) {
                Ok(token) => return Some(token),
                Err(keyring::Error::NoEntry) => {}
                Err(e) => tracing::warn!(error = %e, "cannot read the session from the keyring"),
            }
        }
        None
    }

    pub fn save(&self, server: &str, token: &str) {
        self.memory
            .lock()
            .expect("token lock")
            .insert(server.to_string(), token.to_string());
        if self.storage == TokenStorage::Keyring {
            if let Err(e) = entry(server).and_then(|e| e.set_password(token)) {
                tracing::warn!(error = %e, "cannot save the session in the keyring; kept in memory");
            }
        }
    }

    pub fn clear(&self, server: &str) {
        self.memory.lock().expect("token lock").remove(server);
        if self.storage == TokenStorage::Keyring {
            match entry(server).and_then(|e| e.delete_credential()) {
                Ok(()) | Err(keyring::Error::NoEntry) => {}
                Err(e) => tracing::warn!(error = %e, "cannot remove the session from the keyring"),
            }
        }
    }
}

fn entry(server: &str) -> keyring::Result<keyring::Entry> {
    keyring::Entry::new(SERVICE, server)
}

/// Reads a probe entry: "no such entry" proves the keyring answers.
fn probe() -> keyring::Result<()> {
    match entry("probe")?.get_password() {
        Ok(_) | Err(keyring::Error::NoEntry) => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_memory_store_keeps_one_token_per_server_until_cleared() {
        let store = TokenStore::memory();
        assert_eq!(store.storage(), TokenStorage::Memory);
        store.save("http://a", "t1");
        store.save("local", "t2");
        assert_eq!(store.load("http://a").as_deref(), Some("t1"));
        assert_eq!(store.load("local").as_deref(), Some("t2"));
        store.clear("http://a");
        assert_eq!(store.load("http://a"), None, "logout forgets the token");
        assert_eq!(store.load("local").as_deref(), Some("t2"));
    }

    #[test]
    #[ignore = "needs a Secret Service: see docs/desktop.md (dbus-run-session + gnome-keyring-daemon --unlock)"]
    fn the_os_keyring_keeps_the_token_for_the_next_run() {
        let store = TokenStore::detect();
        assert_eq!(store.storage(), TokenStorage::Keyring, "a Secret Service is running");
        store.save("test://keyring", "token-123");
        let next_run = TokenStore::detect();
        assert_eq!(next_run.load("test://keyring").as_deref(), Some("token-123"));
        next_run.clear("test://keyring");
        assert_eq!(TokenStore::detect().load("test://keyring"), None, "logout removes it");
    }
}
