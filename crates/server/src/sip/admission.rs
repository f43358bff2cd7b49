//! What the SIP side lets in before any work is done for it (issue #13, items 4 and 5).
//!
//! - [`Unacknowledged`]: sessions per source IP between their INVITE and our receipt of the
//!   ACK of the 200 OK. A source at its limit gets 503 Service Unavailable with Retry-After:
//!   RFC 3261 §21.5.4 is the answer for "temporarily unable to process the request due to a
//!   temporary overloading", and the Retry-After header (§20.33) tells it when to try again.
//!   486 Busy Here (§21.4.24) and 480 Temporarily Unavailable (§21.4.18) speak of the callee,
//!   a person, which a recording server is not.
//! - [`TcpAdmission`]: SIP over TCP connections: at most a configured number, and none while
//!   fewer file descriptors than the reserve are free (those belong to RTP ports and
//!   recording files). A connection beyond either is closed as soon as accepted, so its
//!   client sees a closed connection at once rather than a hang in the listen backlog.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::rtp::fds::FreeFds;

/// How many seconds a source over its limit is told to wait (Retry-After). Its pending
/// sessions clear with their ACKs, one round trip after our 200 OK, or at the ACK timeout.
pub const RETRY_AFTER_SECS: u32 = 5;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A count map stays valid across a panic: each change is one insert or removal.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Sessions waiting for their ACK, per source IP.
#[derive(Clone)]
pub struct Unacknowledged {
    limit: u32,
    counts: Arc<Mutex<HashMap<IpAddr, u32>>>,
}

/// One session counted against its source until dropped (at the ACK, or when it ends).
pub struct Pending {
    ip: IpAddr,
    counts: Arc<Mutex<HashMap<IpAddr, u32>>>,
}

impl Unacknowledged {
    /// At most `limit` per source.
    pub fn new(limit: u32) -> Unacknowledged {
        Unacknowledged {
            limit,
            counts: Arc::default(),
        }
    }

    /// Counts a new session from `ip`, or `None` when that source is at its limit.
    pub fn admit(&self, ip: IpAddr) -> Option<Pending> {
        let mut counts = lock(&self.counts);
        let n = counts.entry(ip).or_insert(0);
        if *n >= self.limit {
            return None;
        }
        *n += 1;
        Some(Pending {
            ip,
            counts: self.counts.clone(),
        })
    }

    /// Sessions of `ip` waiting for their ACK.
    pub fn of(&self, ip: IpAddr) -> u32 {
        lock(&self.counts).get(&ip).copied().unwrap_or(0)
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        let mut counts = lock(&self.counts);
        if let Some(n) = counts.get_mut(&self.ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                counts.remove(&self.ip);
            }
        }
    }
}

/// Why a TCP connection was closed as soon as it was accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TcpRefusal {
    /// `sip_tcp_max_connections` are open.
    #[error("{0} SIP TCP connections are open (sip_tcp_max_connections)")]
    Limit(usize),
    /// Fewer than `sip_tcp_fd_reserve` descriptors are free.
    #[error(
        "only {free} file descriptors are free, below the {reserve} kept for RTP ports and recordings (sip_tcp_fd_reserve)"
    )]
    FdReserve {
        /// Free descriptors.
        free: u64,
        /// The reserve.
        reserve: u64,
    },
}

/// Open SIP TCP connections and the descriptor reserve.
pub struct TcpAdmission {
    max: usize,
    reserve: u64,
    open: Arc<AtomicUsize>,
    fds: FreeFds,
}

/// One open connection, counted until dropped.
pub struct TcpPermit {
    open: Arc<AtomicUsize>,
}

impl Drop for TcpPermit {
    fn drop(&mut self) {
        self.open.fetch_sub(1, Ordering::Relaxed);
    }
}

impl TcpAdmission {
    /// At most `max` connections, none while fewer than `reserve` descriptors are free.
    pub fn new(max: u32, reserve: u32, fds: FreeFds) -> TcpAdmission {
        TcpAdmission {
            max: usize::try_from(max).unwrap_or(usize::MAX),
            reserve: u64::from(reserve),
            open: Arc::default(),
            fds,
        }
    }

    /// Whether a connection just accepted (its descriptor already open) may stay.
    pub fn admit(&self, now: Instant) -> Result<TcpPermit, TcpRefusal> {
        // The cheap check first: under a flood at the limit, nothing is counted.
        let open = self.open.load(Ordering::Relaxed);
        if open >= self.max {
            return Err(TcpRefusal::Limit(open));
        }
        // The accepted socket is one of the descriptors in use; it is freed if refused.
        if let Some(free) = self.fds.get(now) {
            if free < self.reserve {
                return Err(TcpRefusal::FdReserve {
                    free,
                    reserve: self.reserve,
                });
            }
        }
        self.fds.took(1);
        self.open.fetch_add(1, Ordering::Relaxed);
        Ok(TcpPermit {
            open: self.open.clone(),
        })
    }

    /// Connections open.
    pub fn open(&self) -> usize {
        self.open.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_source_at_its_limit_is_refused_and_admitted_again_once_a_session_is_acknowledged() {
        let u = Unacknowledged::new(2);
        let a: IpAddr = "192.0.2.1".parse().expect("ip");
        let b: IpAddr = "192.0.2.2".parse().expect("ip");
        let first = u.admit(a).expect("first session of a");
        let _second = u.admit(a).expect("second session of a");
        assert!(u.admit(a).is_none(), "a third unacknowledged session of a is refused");
        assert!(u.admit(b).is_some(), "another source is not affected");
        drop(first);
        assert_eq!(u.of(a), 1, "the acknowledged session no longer counts");
        assert!(u.admit(a).is_some(), "a is admitted again");
    }

    #[test]
    fn tcp_connections_beyond_the_limit_or_the_reserve_are_refused() {
        let t = TcpAdmission::new(2, 10, FreeFds::with_source(|| Some(1000)));
        let now = Instant::now();
        let one = t.admit(now).expect("first");
        let _two = t.admit(now).expect("second");
        assert_eq!(
            t.admit(now).err(),
            Some(TcpRefusal::Limit(2)),
            "the third is over the limit"
        );
        drop(one);
        assert!(t.admit(now).is_ok(), "a closed connection makes room");

        let starved = TcpAdmission::new(100, 10, FreeFds::with_source(|| Some(9)));
        assert_eq!(
            starved.admit(now).err(),
            Some(TcpRefusal::FdReserve { free: 9, reserve: 10 }),
            "below the reserve nothing is admitted"
        );
        let unknown = TcpAdmission::new(100, 10, FreeFds::with_source(|| None));
        assert!(
            unknown.admit(now).is_ok(),
            "without a known limit only the count applies"
        );
    }
}
