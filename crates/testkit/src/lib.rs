//! The real servers that callrec's tests talk to, started by the tests themselves in temporary
//! directories and stopped however the test process ends — never mocks, never a service that
//! must already be running.
//!
//! - [`postgres`]: one throw-away PostgreSQL server per test process, a fresh database per
//!   test.
//! - [`kamailio`]: Kamailio from the repository's `deploy/kamailio` configuration in front of
//!   callrec nodes, one per caller.
//! - [`s3`]: a real S3 server (SeaweedFS `weed mini`), one per test process or one of a
//!   test's own that it stops and starts again.
//!
//! Each server runs under a small watcher shell whose standard input is a pipe from the test
//! process ([`watch`]): when the process exits, the pipe closes and the watcher stops the
//! server and removes its directory.

pub mod kamailio;
pub mod postgres;
pub mod s3;
pub mod watch;

/// Whether this process runs as root (CI does): servers that refuse root run as their user.
pub fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

/// A free TCP port on 127.0.0.1 (bound and released; the server binds it next).
pub fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("a free port: {e}"))
}
