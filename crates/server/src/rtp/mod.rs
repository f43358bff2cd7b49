//! Receiving the RTP of SIPREC sessions (RFC 3550) and writing it into recordings.
//!
//! - [`PortPool`]: even ports (RFC 3550 §11) from `--rtp-ports`, bound on allocation and
//!   reused least-recently-released first, so a late packet of an ended call rarely lands
//!   in a new one.
//! - [`RtpEngine`]: a fixed number of worker threads (one per two cores, one to four), each
//!   draining the sockets of its calls with one epoll set — no thread and no task per call.
//!   See [`worker`] for the loop.
//! - [`fds`]: the open-file limit and free descriptors; a failed `bind` for lack of
//!   descriptors is reported as that, never as a port shortage.
//! - [`RtpCall`]: one call's handle; it is the call's [`CallMedia`], so `live.rs` starts and
//!   stops recording segments on it (automatically at answer, by the red toggle, by the
//!   phone's key). A segment is a stereo G.711 WAV (channel 1 = caller, channel 2 = callee)
//!   whose header is rewritten every second, so a crash loses at most the last second.
//! - [`backlog`]: a segment's audio waiting for the disk, and the gaps a full disk leaves.
//! - [`pause`]: PCI pauses inside a segment, filled with silence or a soft tone; `segment`:
//!   a call's open segment in its worker.
//!
//! By noun: [`PortPool`] and [`RtpError`] in [`ports`], [`RtpCounters`] in [`counters`]; here
//! the engine and the call's handle.

pub mod backlog;
pub mod counters;
pub mod epoll;
pub mod fds;
pub mod pause;
pub mod ports;
mod segment;
pub mod worker;

use std::io;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use crate::sealed::Vault;
use callrec_media::g711::Law;
use callrec_media::jitter::Side;
use callrec_media::wav::{WavFile, WavWriter};
use callrec_types::calls::AudioCodec;
use callrec_types::wire::PauseFill;
use chrono::{DateTime, Utc};

use crate::disk::Disk;
use crate::live::{CallMedia, SegmentFacts};
use crate::metrics::Metrics;
pub use counters::RtpCounters;
use epoll::EventFd;
pub use ports::{PortPool, RtpError};
use worker::{Command, NewCall, Worker};
pub use worker::{NewStream, MAX_STREAMS};

/// The most time a stop may take before the caller gives up waiting for the worker.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);
/// How far a segment time from the server clock may lie from the wall clock before it is
/// taken as "now" (a test's manual clock must not make a file hours long).
const CLOCK_SKEW_LIMIT: Duration = Duration::from_secs(5);

struct WorkerHandle {
    tx: Mutex<mpsc::Sender<Command>>,
    wake: Arc<EventFd>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl WorkerHandle {
    fn send(&self, cmd: Command) -> bool {
        let ok = self
            .tx
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .send(cmd)
            .is_ok();
        self.wake.notify();
        ok
    }
}

/// The RTP workers and the port pool.
pub struct RtpEngine {
    workers: Vec<WorkerHandle>,
    counters: Arc<RtpCounters>,
    ports: Arc<PortPool>,
    epoch: Instant,
    next_id: AtomicU64,
}

impl RtpEngine {
    /// Starts one worker per two cores (one to four) receiving on `ip` in `ports`: the
    /// kernel's UDP work, SIP, the database and the writes need the other cores, and fewer
    /// workers batch more packets per `epoll_wait`.
    pub fn start(metrics: &Metrics, ip: IpAddr, ports: (u16, u16)) -> io::Result<Arc<RtpEngine>> {
        let threads = std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).clamp(1, 4));
        Self::start_with(metrics, ip, ports, threads)
    }

    /// Starts `threads` workers.
    pub fn start_with(metrics: &Metrics, ip: IpAddr, ports: (u16, u16), threads: usize) -> io::Result<Arc<RtpEngine>> {
        fds::raise_limit();
        let counters = Arc::new(RtpCounters::register(metrics));
        let pool = Arc::new(PortPool::new(ip, ports));
        let epoch = Instant::now();
        let mut workers = Vec::new();
        for n in 0..threads.max(1) {
            let (tx, rx) = mpsc::channel();
            let wake = Arc::new(EventFd::new()?);
            let worker = Worker::new(rx, wake.clone(), epoch, pool.clone(), counters.clone())?;
            let thread = std::thread::Builder::new()
                .name(format!("rtp-{n}"))
                .spawn(move || worker.run())?;
            workers.push(WorkerHandle {
                tx: Mutex::new(tx),
                wake,
                thread: Mutex::new(Some(thread)),
            });
        }
        Ok(Arc::new(RtpEngine {
            workers,
            counters,
            ports: pool,
            epoch,
            next_id: AtomicU64::new(1),
        }))
    }

    /// The port pool.
    pub fn ports(&self) -> &PortPool {
        &self.ports
    }

    /// Starts receiving a call's streams. The call's recordings use `law`.
    pub fn open_call(self: &Arc<Self>, streams: Vec<NewStream>, law: Law) -> Result<Arc<RtpCall>, RtpError> {
        if streams.len() > MAX_STREAMS {
            return Err(RtpError::TooManyStreams(streams.len()));
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.counters.calls_opened.fetch_add(1, Ordering::Relaxed);
        let worker = usize::try_from(id).unwrap_or(0) % self.workers.len();
        let activity = Arc::new(AtomicU64::new(
            u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX),
        ));
        self.workers[worker].send(Command::Add(Box::new(NewCall {
            id,
            streams,
            law,
            activity: activity.clone(),
        })));
        Ok(Arc::new(RtpCall {
            engine: self.clone(),
            worker,
            id,
            law,
            activity,
            closed: AtomicBool::new(false),
        }))
    }

    /// Asks every worker to stop (their calls' files are flushed) without waiting.
    pub fn signal_shutdown(&self) {
        for w in &self.workers {
            w.send(Command::Shutdown);
        }
    }

    /// Stops every worker (their calls' files are flushed) and waits for them.
    pub fn shutdown(&self) {
        self.signal_shutdown();
        for w in &self.workers {
            let thread = w
                .thread
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .take();
            if let Some(t) = thread {
                let _ = t.join();
            }
        }
    }
}

/// One call's RTP: its recording segments, its channel mapping, its silence.
pub struct RtpCall {
    engine: Arc<RtpEngine>,
    worker: usize,
    id: u64,
    law: Law,
    activity: Arc<AtomicU64>,
    closed: AtomicBool,
}

impl RtpCall {
    fn send(&self, cmd: Command) -> bool {
        self.engine.workers[self.worker].send(cmd)
    }

    /// New SRTP keys for the streams a re-INVITE re-keyed (`None`: back to plain RTP).
    pub fn set_srtp_keys(&self, keys: Vec<(usize, Option<callrec_media::sdp::MasterKey>)>) {
        if !keys.is_empty() {
            self.send(Command::Keys { id: self.id, keys });
        }
    }

    /// Which channel each stream feeds (after a metadata update).
    pub fn set_sides(&self, sides: Vec<Option<Side>>) {
        self.send(Command::Sides { id: self.id, sides });
    }

    /// How long since the last RTP datagram (or since the call was opened).
    pub fn idle_for(&self) -> Duration {
        let last = Duration::from_millis(self.activity.load(Ordering::Relaxed));
        self.engine.epoch.elapsed().saturating_sub(last)
    }

    /// Stops receiving: sockets closed, ports back in the pool. Idempotent.
    pub fn close(&self) {
        if !self.closed.swap(true, Ordering::Relaxed) {
            self.send(Command::Remove { id: self.id });
        }
    }

    /// `at` from the server clock as an instant, within [`CLOCK_SKEW_LIMIT`] of now.
    fn instant_of(at: DateTime<Utc>) -> Instant {
        let now = Instant::now();
        let ahead = at - Utc::now();
        match ahead.to_std() {
            Ok(d) if d <= CLOCK_SKEW_LIMIT => now + d,
            Ok(_) => now,
            Err(_) => match (-ahead).to_std() {
                Ok(d) if d <= CLOCK_SKEW_LIMIT => now.checked_sub(d).unwrap_or(now),
                _ => now,
            },
        }
    }
}

impl Drop for RtpCall {
    fn drop(&mut self) {
        self.close();
    }
}

impl CallMedia for RtpCall {
    fn codec(&self) -> AudioCodec {
        match self.law {
            Law::Ulaw => AudioCodec::Pcmu,
            Law::Alaw => AudioCodec::Pcma,
        }
    }

    fn start_segment(&self, path: PathBuf, vault: &Vault, at: DateTime<Utc>, disk: Arc<Disk>) -> io::Result<()> {
        // Truncate rather than create_new: the server builds the path, and a file already
        // there is this segment's own from an attempt whose bookkeeping failed and is retried.
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(true)
            .read(true)
            .write(true)
            .open(&path)?;
        let file = match vault.create(file) {
            Ok(f) => f,
            Err(e) => {
                let _ = std::fs::remove_file(&path);
                return Err(e);
            }
        };
        let writer = WavWriter::stereo(self.law, 8000).map_err(io::Error::other)?;
        let wav = match WavFile::create(file, writer) {
            Ok(wav) => wav,
            Err(e) => {
                // No room for even the header: no file may stay behind without its row.
                let _ = std::fs::remove_file(&path);
                disk.write_failed(&e);
                return Err(io::Error::other(e));
            }
        };
        let sent = self.send(Command::Start {
            id: self.id,
            file: Box::new(wav),
            at: Self::instant_of(at),
            disk,
        });
        if sent {
            Ok(())
        } else {
            Err(io::Error::other("the RTP worker has stopped"))
        }
    }

    fn pause(&self, at: DateTime<Utc>, fill: PauseFill) {
        self.send(Command::Pause {
            id: self.id,
            at: Self::instant_of(at),
            fill,
        });
    }

    fn resume(&self, at: DateTime<Utc>) {
        self.send(Command::Resume {
            id: self.id,
            at: Self::instant_of(at),
        });
    }

    fn stop_segment(&self, at: DateTime<Utc>) -> io::Result<SegmentFacts> {
        let (reply, answer) = mpsc::sync_channel(1);
        self.send(Command::Stop {
            id: self.id,
            at: Self::instant_of(at),
            reply,
        });
        let closed = answer
            .recv_timeout(STOP_TIMEOUT)
            .map_err(|_| io::Error::other("the RTP worker did not close the segment"))??;
        let duration_ms = i64::try_from(closed.file.state().duration_ms()).unwrap_or(i64::MAX);
        let file = closed.file.finish().map_err(io::Error::other)?;
        file.get_ref().sync_all()?;
        Ok(SegmentFacts {
            duration_ms,
            codec: self.codec(),
            sample_rate: 8000,
            channels: 2,
            gaps: closed.gaps,
            heard_ms: Some(closed.heard_ms),
        })
    }
}
