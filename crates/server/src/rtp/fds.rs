//! File descriptors: the open-file limit, how many are still free, and whether an I/O error
//! means the process (EMFILE) or the system (ENFILE) ran out of them.
//!
//! Every recorded call holds two RTP sockets and a WAV file, so running out of descriptors
//! used to look like "no free RTP port" (issue #13, item 5): the port pool took each failed
//! `bind` for a port in use. The pool now tells the two apart with [`exhausted`], and SIP over
//! TCP stops accepting connections while fewer than a reserve are free ([`FreeFds`]), so a
//! flood of connections cannot take the descriptors the calls' RTP ports need.

use std::io;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a count of open descriptors is trusted before it is taken again. Counting reads
/// `/proc/self/fd`, one entry per descriptor: cheap once, not for every connection of a flood.
const RECOUNT_AFTER: Duration = Duration::from_millis(100);

/// Raises the soft open-file limit to the hard one: every call holds two sockets and a file.
pub fn raise_limit() {
    callrec_sim::raise_fd_limit();
}

/// The soft open-file limit; `None` when unlimited.
pub fn limit() -> Option<u64> {
    rustix::process::getrlimit(rustix::process::Resource::Nofile).current
}

/// Descriptors this process has open (the entries of `/proc/self/fd`, less the one reading it).
pub fn open() -> io::Result<u64> {
    let n = std::fs::read_dir("/proc/self/fd")?.count() as u64;
    Ok(n.saturating_sub(1))
}

/// Descriptors that may still be opened before EMFILE; `None` when that cannot be known
/// (no limit, or no `/proc`).
pub fn free() -> Option<u64> {
    let limit = limit()?;
    match open() {
        Ok(n) => Some(limit.saturating_sub(n)),
        // Not even the directory could be opened: nothing is free.
        Err(e) if exhausted(&e) => Some(0),
        Err(_) => None,
    }
}

/// Whether `e` says the process (EMFILE) or the whole system (ENFILE) has no descriptor left.
pub fn exhausted(e: &io::Error) -> bool {
    use rustix::io::Errno;
    matches!(Errno::from_io_error(e), Some(Errno::MFILE | Errno::NFILE))
}

/// A count of free descriptors for the accept loop: taken again every 100 ms (`RECOUNT_AFTER`), and
/// lowered meanwhile by what the caller says it took, so a burst of connections between two
/// counts cannot overrun the reserve by more than the connections it was told about.
pub struct FreeFds {
    count: Mutex<Option<(Instant, Option<u64>)>>,
    source: fn() -> Option<u64>,
}

impl Default for FreeFds {
    fn default() -> Self {
        FreeFds::with_source(free)
    }
}

impl FreeFds {
    /// Counts with `source` instead of the process's real descriptors (tests).
    pub fn with_source(source: fn() -> Option<u64>) -> FreeFds {
        FreeFds {
            count: Mutex::new(None),
            source,
        }
    }

    /// Free descriptors now (`None`: unknown, so no reserve can be kept).
    pub fn get(&self, now: Instant) -> Option<u64> {
        let mut c = self.count.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match *c {
            Some((at, n)) if now.saturating_duration_since(at) < RECOUNT_AFTER => n,
            _ => {
                let n = (self.source)();
                *c = Some((now, n));
                n
            }
        }
    }

    /// `n` descriptors were just opened.
    pub fn took(&self, n: u64) {
        let mut c = self.count.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((_, Some(free))) = c.as_mut() {
            *free = free.saturating_sub(n);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emfile_and_enfile_are_exhaustion_and_a_port_in_use_is_not() {
        assert!(exhausted(&io::Error::from(rustix::io::Errno::MFILE)), "EMFILE");
        assert!(exhausted(&io::Error::from(rustix::io::Errno::NFILE)), "ENFILE");
        assert!(
            !exhausted(&io::Error::from(rustix::io::Errno::ADDRINUSE)),
            "a port in use is not a descriptor shortage"
        );
        assert!(!exhausted(&io::Error::other("x")), "an error without errno");
    }

    #[test]
    fn this_process_has_a_limit_and_free_descriptors_below_it() {
        let limit = limit().expect("Linux has an open-file limit");
        let free = free().expect("/proc/self/fd is readable");
        assert!(free < limit, "some descriptors are open: {free} free of {limit}");
        assert!(open().expect("counted") > 2, "at least stdin, stdout and stderr");
    }

    #[test]
    fn the_cached_count_is_lowered_by_what_was_taken_until_the_next_count() {
        let fds = FreeFds::with_source(|| Some(100));
        let t0 = Instant::now();
        assert_eq!(fds.get(t0), Some(100), "first count");
        fds.took(3);
        assert_eq!(
            fds.get(t0 + Duration::from_millis(10)),
            Some(97),
            "lowered by what was taken"
        );
        assert_eq!(
            fds.get(t0 + RECOUNT_AFTER + Duration::from_millis(1)),
            Some(100),
            "counted again after a while"
        );
    }
}
