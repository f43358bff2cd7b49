//! The login throttle: failed logins counted per username, and how long the next attempt must
//! wait. Pure bookkeeping with the time passed in; [`crate::auth::login`] consults it.

use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;
use std::sync::Mutex;

/// Slows down repeated failed logins per username: after `FREE_FAILURES` failures within the
/// window, each further attempt must wait an exponentially growing time (capped), answered 429
/// with `Retry-After`. A success clears the count.
pub struct LoginThrottle {
    entries: Mutex<HashMap<String, Failures>>,
}

#[derive(Clone, Copy)]
struct Failures {
    count: u32,
    last: DateTime<Utc>,
    blocked_until: DateTime<Utc>,
}

const FREE_FAILURES: u32 = 5;
const WINDOW_MINUTES: i64 = 15;
const MAX_BLOCK_SECONDS: i64 = 15 * 60;
const MAX_TRACKED: usize = 100_000;

impl Default for LoginThrottle {
    fn default() -> Self {
        LoginThrottle {
            entries: Mutex::new(HashMap::new()),
        }
    }
}

impl LoginThrottle {
    /// `Err(seconds to wait)` while the username is blocked.
    pub fn check(&self, username: &str, now: DateTime<Utc>) -> Result<(), i64> {
        let map = self.entries.lock().expect("throttle lock");
        match map.get(&username.to_lowercase()) {
            Some(f) if f.blocked_until > now => Err((f.blocked_until - now).num_seconds().max(1)),
            _ => Ok(()),
        }
    }

    pub fn failure(&self, username: &str, now: DateTime<Utc>) {
        let mut map = self.entries.lock().expect("throttle lock");
        if map.len() >= MAX_TRACKED {
            map.retain(|_, f| now - f.last < Duration::minutes(WINDOW_MINUTES));
        }
        let f = map.entry(username.to_lowercase()).or_insert(Failures {
            count: 0,
            last: now,
            blocked_until: now,
        });
        if now - f.last > Duration::minutes(WINDOW_MINUTES) {
            f.count = 0;
        }
        f.count += 1;
        f.last = now;
        if f.count >= FREE_FAILURES {
            let secs = (1i64 << (f.count - FREE_FAILURES).min(20)).min(MAX_BLOCK_SECONDS);
            f.blocked_until = now + Duration::seconds(secs);
        }
    }

    pub fn success(&self, username: &str) {
        self.entries
            .lock()
            .expect("throttle lock")
            .remove(&username.to_lowercase());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttle_blocks_after_five_failures_and_grows() {
        let t = LoginThrottle::default();
        let now = Utc::now();
        for _ in 0..4 {
            t.failure("Alice", now);
        }
        assert!(t.check("alice", now).is_ok(), "four failures are free");
        t.failure("alice", now);
        assert_eq!(t.check("alice", now), Err(1));
        t.failure("alice", now);
        assert_eq!(t.check("ALICE", now), Err(2), "the wait doubles");
        assert!(t.check("alice", now + Duration::seconds(3)).is_ok(), "and ends");
        t.success("alice");
        assert!(t.check("alice", now).is_ok());
    }
}
