//! A small safe wrapper over Linux `epoll(7)` and `eventfd(2)`: what an RTP worker needs to
//! wait on thousands of UDP sockets at once from one thread.
//!
//! Level-triggered on purpose: a worker reads one datagram per readiness event and leaves
//! the rest for the next round, so it never spends a `recv` that only says `EAGAIN` (at
//! 50 packets per second per socket there is almost always exactly one waiting).

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// One readiness event: the token given at registration.
pub type Token = u64;

fn check(rc: libc::c_int) -> io::Result<libc::c_int> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc)
    }
}

/// An epoll instance.
pub struct Epoll {
    fd: OwnedFd,
}

impl Epoll {
    /// A new epoll instance (close-on-exec).
    pub fn new() -> io::Result<Epoll> {
        // SAFETY: epoll_create1 takes no pointers; a non-negative result is a new fd we own.
        let fd = check(unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) })?;
        // SAFETY: `fd` was just returned by the kernel and is owned by nobody else.
        Ok(Epoll {
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
        })
    }

    /// Watches `fd` for input, reporting `token`.
    pub fn add(&self, fd: RawFd, token: Token) -> io::Result<()> {
        let mut ev = libc::epoll_event {
            events: libc::EPOLLIN as u32,
            u64: token,
        };
        // SAFETY: `ev` is a valid epoll_event for the duration of the call.
        check(unsafe { libc::epoll_ctl(self.fd.as_raw_fd(), libc::EPOLL_CTL_ADD, fd, &mut ev) })?;
        Ok(())
    }

    /// Stops watching `fd`.
    pub fn delete(&self, fd: RawFd) -> io::Result<()> {
        let mut ev = libc::epoll_event { events: 0, u64: 0 };
        // SAFETY: as in `add`; the event is ignored by EPOLL_CTL_DEL but must be non-null on
        // old kernels.
        check(unsafe { libc::epoll_ctl(self.fd.as_raw_fd(), libc::EPOLL_CTL_DEL, fd, &mut ev) })?;
        Ok(())
    }

    /// Waits up to `timeout_ms` (−1 = forever) and fills `out` with the ready tokens.
    pub fn wait(&self, events: &mut [libc::epoll_event], out: &mut Vec<Token>, timeout_ms: i32) -> io::Result<()> {
        out.clear();
        let max = libc::c_int::try_from(events.len()).unwrap_or(libc::c_int::MAX);
        // SAFETY: the kernel writes at most `max` entries into `events`, which holds that many.
        let n = unsafe { libc::epoll_wait(self.fd.as_raw_fd(), events.as_mut_ptr(), max, timeout_ms) };
        if n < 0 {
            let e = io::Error::last_os_error();
            return if e.kind() == io::ErrorKind::Interrupted {
                Ok(())
            } else {
                Err(e)
            };
        }
        let n = usize::try_from(n).unwrap_or(0).min(events.len());
        // `epoll_event` is packed on x86-64: the field is copied out, never borrowed.
        out.extend(events[..n].iter().map(|e| e.u64));
        Ok(())
    }
}

/// An `eventfd` used to wake a worker blocked in [`Epoll::wait`].
pub struct EventFd {
    fd: OwnedFd,
}

impl EventFd {
    /// A non-blocking eventfd.
    pub fn new() -> io::Result<EventFd> {
        // SAFETY: no pointers; a non-negative result is a new fd we own.
        let fd = check(unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) })?;
        // SAFETY: `fd` was just returned by the kernel and is owned by nobody else.
        Ok(EventFd {
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
        })
    }

    /// The fd to register with [`Epoll::add`].
    pub fn raw(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// Makes the eventfd readable (wakes the waiter).
    pub fn notify(&self) {
        let one: u64 = 1;
        // SAFETY: writes 8 bytes from a valid u64. A full counter (EAGAIN) is still readable,
        // which is all a wake-up needs, so the result is ignored.
        let _ = unsafe { libc::write(self.fd.as_raw_fd(), std::ptr::addr_of!(one).cast(), 8) };
    }

    /// Resets the eventfd after a wake-up.
    pub fn drain(&self) {
        let mut v: u64 = 0;
        // SAFETY: reads at most 8 bytes into a valid u64; EAGAIN (already drained) is fine.
        let _ = unsafe { libc::read(self.fd.as_raw_fd(), std::ptr::addr_of_mut!(v).cast(), 8) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_the_token_of_a_ready_socket_and_of_a_wake_up() {
        let ep = Epoll::new().expect("epoll");
        let wake = EventFd::new().expect("eventfd");
        ep.add(wake.raw(), 99).expect("add eventfd");
        let rx = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
        ep.add(rx.as_raw_fd(), 7).expect("add socket");
        let tx = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
        tx.send_to(b"x", rx.local_addr().expect("addr")).expect("send");
        let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; 8];
        let mut out = Vec::new();
        ep.wait(&mut events, &mut out, 1000).expect("wait");
        assert_eq!(out, vec![7], "the socket with a datagram is ready");
        wake.notify();
        ep.wait(&mut events, &mut out, 1000).expect("wait");
        out.sort_unstable();
        assert_eq!(
            out,
            vec![7, 99],
            "level-triggered: the unread socket is still ready; the wake-up too"
        );
        wake.drain();
        ep.delete(rx.as_raw_fd()).expect("delete");
        ep.wait(&mut events, &mut out, 0).expect("wait");
        assert!(out.is_empty(), "nothing ready after draining and deleting: {out:?}");
    }
}
