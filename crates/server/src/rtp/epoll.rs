//! A small safe wrapper over Linux `epoll(7)` and `eventfd(2)`: what an RTP worker needs to
//! wait on thousands of UDP sockets at once from one thread.
//!
//! Level-triggered on purpose: a worker reads one datagram per readiness event and leaves
//! the rest for the next round, so it never spends a `recv` that only says `EAGAIN` (at
//! 50 packets per second per socket there is almost always exactly one waiting).

use rustix::buffer::spare_capacity;
use rustix::event::epoll::{self, CreateFlags, EventData, EventFlags};
use rustix::event::{eventfd, EventfdFlags, Timespec};
use rustix::io::Errno;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

/// One readiness event: the token given at registration.
pub type Token = u64;

/// An epoll instance.
pub struct Epoll {
    fd: OwnedFd,
}

/// Room for the events one [`Epoll::wait`] returns.
pub struct Events(Vec<epoll::Event>);

impl Events {
    /// Room for at most `n` events per wait (at least one).
    pub fn with_capacity(n: usize) -> Events {
        Events(Vec::with_capacity(n.max(1)))
    }
}

impl Epoll {
    /// A new epoll instance (close-on-exec).
    pub fn new() -> io::Result<Epoll> {
        Ok(Epoll {
            fd: epoll::create(CreateFlags::CLOEXEC)?,
        })
    }

    /// Watches `fd` for input, reporting `token`.
    pub fn add(&self, fd: impl AsFd, token: Token) -> io::Result<()> {
        epoll::add(&self.fd, fd, EventData::new_u64(token), EventFlags::IN)?;
        Ok(())
    }

    /// Stops watching `fd`.
    pub fn delete(&self, fd: impl AsFd) -> io::Result<()> {
        epoll::delete(&self.fd, fd)?;
        Ok(())
    }

    /// Waits up to `timeout_ms` (−1 = forever) and fills `out` with the ready tokens.
    pub fn wait(&self, events: &mut Events, out: &mut Vec<Token>, timeout_ms: i32) -> io::Result<()> {
        out.clear();
        events.0.clear();
        let timeout = u64::try_from(timeout_ms).ok().map(|ms| Timespec {
            tv_sec: (ms / 1000) as i64,
            tv_nsec: ((ms % 1000) * 1_000_000) as i64,
        });
        match epoll::wait(&self.fd, spare_capacity(&mut events.0), timeout.as_ref()) {
            Ok(_) => {}
            Err(Errno::INTR) => return Ok(()),
            Err(e) => return Err(e.into()),
        }
        // `epoll::Event` is packed on x86-64: the data is copied out, never borrowed.
        out.extend(events.0.iter().map(|e| {
            let data = e.data;
            data.u64()
        }));
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
        Ok(EventFd {
            fd: eventfd(0, EventfdFlags::NONBLOCK | EventfdFlags::CLOEXEC)?,
        })
    }

    /// Makes the eventfd readable (wakes the waiter).
    pub fn notify(&self) {
        // A full counter (EAGAIN) is still readable, which is all a wake-up needs, so the
        // result is ignored.
        let _ = rustix::io::write(&self.fd, &1u64.to_ne_bytes());
    }

    /// Resets the eventfd after a wake-up.
    pub fn drain(&self) {
        // EAGAIN (already drained) is fine.
        let mut v = [0u8; 8];
        let _ = rustix::io::read(&self.fd, &mut v);
    }
}

/// The fd to register with [`Epoll::add`].
impl AsFd for EventFd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_the_token_of_a_ready_socket_and_of_a_wake_up() {
        let ep = Epoll::new().expect("epoll");
        let wake = EventFd::new().expect("eventfd");
        ep.add(&wake, 99).expect("add eventfd");
        let rx = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
        ep.add(&rx, 7).expect("add socket");
        let tx = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
        tx.send_to(b"x", rx.local_addr().expect("addr")).expect("send");
        let mut events = Events::with_capacity(8);
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
        ep.delete(&rx).expect("delete");
        ep.wait(&mut events, &mut out, 0).expect("wait");
        assert!(out.is_empty(), "nothing ready after draining and deleting: {out:?}");
    }
}
