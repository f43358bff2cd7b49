//! The RTP ports: the even ports (RFC 3550 §11) of `--rtp-ports` in a [`PortPool`], bound on
//! allocation, and [`RtpError`], why a call could not have them.

use std::collections::VecDeque;
use std::io;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::Mutex;

use super::fds;

/// Why RTP ports could not be had.
#[derive(Debug, thiserror::Error)]
pub enum RtpError {
    /// Every port of the range is in use.
    #[error("no free RTP port in the configured range")]
    NoPorts,
    /// The process (EMFILE) or the system (ENFILE) has no file descriptor left for a socket:
    /// ports may well be free.
    #[error("out of file descriptors, not of RTP ports ({0}); raise the open-file limit (LimitNOFILE)")]
    OutOfFds(#[source] io::Error),
    /// A port could not be bound for another reason (address not local, permission).
    #[error("cannot bind an RTP port: {0}")]
    Bind(#[source] io::Error),
    /// More streams than a call may have.
    #[error("too many media streams ({0})")]
    TooManyStreams(usize),
}

/// Even ports of the configured range.
pub struct PortPool {
    ip: IpAddr,
    free: Mutex<VecDeque<u16>>,
}

impl PortPool {
    /// Every even port of `low..=high` on `ip`.
    pub fn new(ip: IpAddr, (low, high): (u16, u16)) -> PortPool {
        let first = low + (low % 2);
        let free = (u32::from(first)..=u32::from(high))
            .step_by(2)
            .filter_map(|p| u16::try_from(p).ok())
            .filter(|p| *p != 0)
            .collect();
        PortPool {
            ip,
            free: Mutex::new(free),
        }
    }

    /// Ports not handed out.
    pub fn available(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<u16>> {
        // The queue is valid after any panic: a port is either in it or handed out.
        self.free.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Binds `n` non-blocking UDP sockets on free even ports. A port some other program
    /// holds is skipped (and tried again later). Running out of file descriptors stops at once
    /// with [`RtpError::OutOfFds`]: trying every other port would fail the same way and blame
    /// the range.
    pub fn allocate(&self, n: usize) -> Result<Vec<(u16, UdpSocket)>, RtpError> {
        let mut got = Vec::with_capacity(n);
        let mut busy = Vec::new();
        let mut failure = None;
        let attempts = self.available();
        for _ in 0..attempts {
            if got.len() == n {
                break;
            }
            let Some(port) = self.lock().pop_front() else { break };
            match UdpSocket::bind(SocketAddr::new(self.ip, port)).and_then(|s| s.set_nonblocking(true).map(|()| s)) {
                Ok(s) => got.push((port, s)),
                Err(e) if fds::exhausted(&e) => {
                    busy.push(port);
                    failure = Some(RtpError::OutOfFds(e));
                    break;
                }
                Err(e) => {
                    busy.push(port);
                    if e.kind() != io::ErrorKind::AddrInUse {
                        failure = Some(RtpError::Bind(e));
                    }
                }
            }
        }
        self.release(&busy);
        if got.len() < n {
            let ports: Vec<u16> = got.iter().map(|(p, _)| *p).collect();
            drop(got);
            self.release(&ports);
            return Err(failure.unwrap_or(RtpError::NoPorts));
        }
        Ok(got)
    }

    /// Returns ports to the pool (their sockets must be closed).
    pub fn release(&self, ports: &[u16]) {
        self.lock().extend(ports.iter().copied());
    }
}
