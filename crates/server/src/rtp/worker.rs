//! One RTP worker thread: drains the RTP sockets of its calls with one epoll set, feeds
//! each packet to its call's stereo mixer (media's jitter buffers), and writes a call's
//! recording segment in chunks of about a second.
//!
//! The loop: wait for ready sockets, read one datagram from each (level-triggered epoll),
//! apply queued commands, and every [`TICK`] drain each mixer up to "now − [`DELAY_SAMPLES`]" —
//! into the open segment, or into nothing when the call is not being recorded, so audio
//! outside a recording never reaches the disk. A segment's frames are written and the WAV
//! header brought up to date once [`CHUNK_FRAMES`] have accumulated: one `write` per call
//! per second, never one per packet. When the disk refuses a write the frames wait in the
//! segment's [`Backlog`](super::backlog::Backlog) and are retried every [`RETRY`] (see [`super::backlog`]). While there
//! are calls the loop pauses a millisecond after a small batch, so each `epoll_wait` returns
//! many sockets (the kernel queues the datagrams meanwhile): that is what keeps the cost per
//! packet near one `recv`.
//!
//! Positions are samples (8 kHz) since the engine's epoch: one clock for every call, so a
//! position is computed once per batch.
//!
//! An SRTP stream (issue #18) has its [`SrtpReceiver`]: every datagram is authenticated and
//! decrypted before it is classified; one that fails authentication is counted
//! (`callrec_rtp_srtp_auth_failures_total`) and dropped, so no byte of it reaches the
//! recording. SRTCP on a multiplexed port is ignored like RTCP. A plain stream costs one
//! branch more per packet.

use std::collections::HashMap;
use std::io;
use std::net::UdpSocket;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use crate::sealed::StoredFile;
use callrec_media::g711::Law;
use callrec_media::jitter::{JitterConfig, JitterStats, Outcome, Packet, Side, StereoMixer};
use callrec_media::rtp::{classify, is_rtcp, PacketKind, PayloadMap};
use callrec_media::sdp::MasterKey;
use callrec_media::srtp::{SrtpError, SrtpReceiver};
use callrec_media::wav::WavFile;
use callrec_types::wire::PauseFill;

use super::counters::RtpCounters;
use super::epoll::{Epoll, EventFd, Events, Token};
use super::ports::PortPool;
use super::segment::Segment;
pub use super::segment::{ClosedSegment, RETRY};
use crate::disk::Disk;

/// How often mixers are drained and counters published.
pub const TICK: Duration = Duration::from_millis(50);
/// How far behind real time mixers are drained: the reorder window. Packets later than
/// this are dropped as late (300 ms).
pub const DELAY_SAMPLES: u64 = 2400;
/// Frames of a segment held in memory before they are written (half a second). With the
/// reorder window and a tick this bounds the audio a SIGKILL can lose to ~0.85 s (the target
/// is 1 s, issue #13); one `write` of 8 KB per call twice a second costs nothing measurable.
pub const CHUNK_FRAMES: usize = 4000;
/// The pause after a small batch of events, so the next `epoll_wait` finds many sockets.
const PAUSE: Duration = Duration::from_millis(1);
/// A batch with fewer events than this is followed by [`PAUSE`].
const SMALL_BATCH: usize = 256;
/// Events fetched per `epoll_wait`.
const MAX_EVENTS: usize = 1024;
/// The token of the worker's eventfd.
const WAKE: Token = u64::MAX;
/// Streams per call are indexed in the low bits of a token.
const STREAM_BITS: u32 = 8;
/// The most streams a call may have (SDP m-lines accepted).
pub const MAX_STREAMS: usize = 1 << STREAM_BITS;
/// Samples per second.
const RATE: u64 = 8000;
/// Datagrams read at most per socket when draining at a stop or a hang-up.
const MAX_DRAIN: usize = 4096;

/// A stream to receive.
pub struct NewStream {
    /// The bound, non-blocking socket.
    pub socket: UdpSocket,
    /// Its port (returned to the pool when the call ends).
    pub port: u16,
    /// The payload types negotiated on it.
    pub payload: PayloadMap,
    /// The channel it feeds; `None` = received and counted, not recorded.
    pub side: Option<Side>,
    /// For an SRTP stream, the receiver keyed with the SRC's key.
    pub srtp: Option<Box<SrtpReceiver>>,
}

/// A call to receive.
pub struct NewCall {
    /// Engine-wide call id.
    pub id: u64,
    /// Its streams (at most [`MAX_STREAMS`]).
    pub streams: Vec<NewStream>,
    /// The law of the recording.
    pub law: Law,
    /// Milliseconds since the epoch of the last packet, for the session's silence timeout.
    pub activity: Arc<AtomicU64>,
}

/// What the rest of the server asks of a worker.
pub enum Command {
    /// Start receiving a call.
    Add(Box<NewCall>),
    /// From position `at` on, record into `file`.
    Start {
        /// Call id.
        id: u64,
        /// The new segment's file, header written.
        file: Box<WavFile<StoredFile>>,
        /// Where the segment starts on the engine clock.
        at: Instant,
        /// Where write failures are reported, and how much audio the segment may hold.
        disk: Arc<Disk>,
    },
    /// Pad and write the segment up to `at` and hand the file back.
    Stop {
        /// Call id.
        id: u64,
        /// Where the segment ends.
        at: Instant,
        /// The file, its audio written and header flushed, with the gaps a full disk left
        /// (or why not).
        reply: mpsc::SyncSender<io::Result<ClosedSegment>>,
    },
    /// PCI pause: from position `at` on the segment gets `fill` instead of the call's audio.
    Pause {
        /// Call id.
        id: u64,
        /// Where the pause starts.
        at: Instant,
        /// Silence or the soft tone.
        fill: PauseFill,
    },
    /// The open pause ends at `at`.
    Resume {
        /// Call id.
        id: u64,
        /// Where the pause ends.
        at: Instant,
    },
    /// New SRTP keys for some streams (a re-INVITE's): `(stream index, key)`; `None` turns a
    /// stream back to plain RTP.
    Keys {
        /// Call id.
        id: u64,
        /// The streams whose key changed.
        keys: Vec<(usize, Option<MasterKey>)>,
    },
    /// Change which channel each stream feeds (metadata update).
    Sides {
        /// Call id.
        id: u64,
        /// Per stream, in the order given at `Add`.
        sides: Vec<Option<Side>>,
    },
    /// Stop receiving a call; its sockets close and its ports return to the pool.
    Remove {
        /// Call id.
        id: u64,
    },
    /// End the thread.
    Shutdown,
}

struct Stream {
    socket: UdpSocket,
    port: u16,
    payload: PayloadMap,
    side: Option<Side>,
    srtp: Option<Box<SrtpReceiver>>,
}

struct Call {
    streams: Vec<Stream>,
    mixer: StereoMixer,
    segment: Option<Segment>,
    activity: Arc<AtomicU64>,
    last_packet_ms: u64,
}

/// Per-worker counters, added to the shared atomics every tick.
#[derive(Default)]
struct Local {
    packets: u64,
    malformed: u64,
    unexpected: u64,
    late: u64,
    duplicates: u64,
    overflow: u64,
    srtp_auth_failures: u64,
}

pub struct Worker {
    epoll: Epoll,
    wake: Arc<EventFd>,
    rx: mpsc::Receiver<Command>,
    calls: Vec<Option<Call>>,
    free: Vec<usize>,
    index: HashMap<u64, usize>,
    epoch: Instant,
    ports: Arc<PortPool>,
    counters: Arc<RtpCounters>,
    local: Local,
    jitter: JitterConfig,
}

/// Samples from `epoch` to `t` (0 before the epoch).
pub fn position(epoch: Instant, t: Instant) -> u64 {
    let d = t.saturating_duration_since(epoch);
    // 8 samples per millisecond; u64 nanoseconds last 584 years.
    let nanos = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
    nanos / (1_000_000_000 / RATE)
}

fn ms_since(epoch: Instant, t: Instant) -> u64 {
    u64::try_from(t.saturating_duration_since(epoch).as_millis()).unwrap_or(u64::MAX)
}

fn token(slot: usize, stream: usize) -> Token {
    ((slot as u64) << STREAM_BITS) | stream as u64
}

impl Worker {
    pub fn new(
        rx: mpsc::Receiver<Command>,
        wake: Arc<EventFd>,
        epoch: Instant,
        ports: Arc<PortPool>,
        counters: Arc<RtpCounters>,
    ) -> io::Result<Worker> {
        let epoll = Epoll::new()?;
        epoll.add(&wake, WAKE)?;
        Ok(Worker {
            epoll,
            wake,
            rx,
            calls: Vec::new(),
            free: Vec::new(),
            index: HashMap::new(),
            epoch,
            ports,
            counters,
            local: Local::default(),
            jitter: JitterConfig::default(),
        })
    }

    /// Runs until [`Command::Shutdown`] or until every sender is gone.
    pub fn run(mut self) {
        let mut events = Events::with_capacity(MAX_EVENTS);
        let mut ready: Vec<Token> = Vec::with_capacity(MAX_EVENTS);
        let mut buf = [0u8; 2048];
        let mut next_tick = Instant::now() + TICK;
        loop {
            let timeout = if self.index.is_empty() {
                -1
            } else {
                let left = next_tick.saturating_duration_since(Instant::now());
                i32::try_from(left.as_millis()).unwrap_or(50)
            };
            if let Err(e) = self.epoll.wait(&mut events, &mut ready, timeout) {
                tracing::error!(error = %e, "RTP worker: epoll_wait failed");
                std::thread::sleep(TICK);
            }
            let now = Instant::now();
            let now_pos = position(self.epoch, now);
            let now_ms = ms_since(self.epoch, now);
            let mut woken = false;
            for &t in &ready {
                if t == WAKE {
                    woken = true;
                    continue;
                }
                self.receive(t, &mut buf, now_pos, now_ms);
            }
            if woken {
                self.wake.drain();
            }
            loop {
                match self.rx.try_recv() {
                    Ok(Command::Shutdown) | Err(mpsc::TryRecvError::Disconnected) => {
                        self.shutdown();
                        return;
                    }
                    Ok(cmd) => self.apply(cmd),
                    Err(mpsc::TryRecvError::Empty) => break,
                }
            }
            if now >= next_tick {
                self.tick(now);
                next_tick = now + TICK;
            }
            if !self.index.is_empty() && ready.len() < SMALL_BATCH {
                std::thread::sleep(PAUSE);
            }
        }
    }

    fn receive(&mut self, t: Token, buf: &mut [u8], now_pos: u64, now_ms: u64) {
        let slot = usize::try_from(t >> STREAM_BITS).unwrap_or(usize::MAX);
        let si = usize::try_from(t & ((1 << STREAM_BITS) - 1)).unwrap_or(0);
        let Some(call) = self.calls.get_mut(slot).and_then(Option::as_mut) else {
            return;
        };
        recv_one(call, si, buf, now_pos, now_ms, &mut self.local);
    }

    fn apply(&mut self, cmd: Command) {
        match cmd {
            Command::Add(new) => self.add(*new),
            Command::Start { id, file, at, disk } => {
                let start = position(self.epoch, at);
                let Some(call) = self.call_mut(id) else { return };
                if let Some(old) = call.segment.take() {
                    // Never expected (live.rs stops before it starts); keep the old file valid.
                    let _ = old.close();
                }
                // Audio before the segment is not recorded.
                if start > call.mixer.position() {
                    call.mixer.discard_to(start);
                }
                call.segment = Some(Segment::new(id, file, disk, DELAY_SAMPLES as usize + 800));
            }
            Command::Stop { id, at, reply } => {
                let end = position(self.epoch, at);
                let epoch = self.epoch;
                let slot = self.index.get(&id).copied();
                let call = slot.and_then(|s| self.calls.get_mut(s)).and_then(Option::as_mut);
                let result = match call {
                    None => Err(io::Error::other("the call is not receiving RTP")),
                    Some(call) => match call.segment.take() {
                        Some(mut seg) => {
                            drain_sockets(call, epoch, &mut self.local);
                            seg.pauses.drain(&mut call.mixer, end, &mut seg.incoming);
                            seg.close()
                        }
                        None => Err(io::Error::other("no segment is open")),
                    },
                };
                let _ = reply.send(result);
            }
            Command::Pause { id, at, fill } => {
                let at = position(self.epoch, at);
                if let Some(call) = self.call_mut(id) {
                    let drained = call.mixer.position();
                    if let Some(seg) = &mut call.segment {
                        seg.pauses.begin(at, drained, fill);
                    }
                }
            }
            Command::Resume { id, at } => {
                let at = position(self.epoch, at);
                if let Some(seg) = self.call_mut(id).and_then(|c| c.segment.as_mut()) {
                    seg.pauses.end(at);
                }
            }
            Command::Sides { id, sides } => {
                if let Some(call) = self.call_mut(id) {
                    for (s, side) in call.streams.iter_mut().zip(sides) {
                        s.side = side;
                    }
                }
            }
            Command::Keys { id, keys } => {
                if let Some(call) = self.call_mut(id) {
                    for (i, key) in keys {
                        let Some(stream) = call.streams.get_mut(i) else {
                            continue;
                        };
                        stream.srtp = match (key, stream.srtp.take()) {
                            (None, _) => None,
                            (Some(k), Some(mut rx)) => {
                                if rx.rekey(&k).is_err() {
                                    tracing::error!(stream = i, "RTP worker: cannot set up a new SRTP key");
                                }
                                Some(rx)
                            }
                            (Some(k), None) => SrtpReceiver::new(&k).ok().map(Box::new),
                        };
                    }
                }
            }
            Command::Remove { id } => self.remove(id),
            Command::Shutdown => {}
        }
    }

    fn call_mut(&mut self, id: u64) -> Option<&mut Call> {
        let slot = *self.index.get(&id)?;
        self.calls.get_mut(slot)?.as_mut()
    }

    fn add(&mut self, new: NewCall) {
        let slot = match self.free.pop() {
            Some(s) => s,
            None => {
                self.calls.push(None);
                self.calls.len() - 1
            }
        };
        let now_pos = position(self.epoch, Instant::now());
        let mut streams = Vec::with_capacity(new.streams.len());
        for (i, s) in new.streams.into_iter().take(MAX_STREAMS).enumerate() {
            if let Err(e) = self.epoll.add(&s.socket, token(slot, i)) {
                tracing::error!(error = %e, port = s.port, "RTP worker: cannot watch a socket");
            }
            streams.push(Stream {
                socket: s.socket,
                port: s.port,
                payload: s.payload,
                side: s.side,
                srtp: s.srtp,
            });
        }
        self.calls[slot] = Some(Call {
            streams,
            mixer: StereoMixer::new(new.law, now_pos, self.jitter),
            segment: None,
            activity: new.activity,
            last_packet_ms: ms_since(self.epoch, Instant::now()),
        });
        self.index.insert(new.id, slot);
    }

    fn remove(&mut self, id: u64) {
        let Some(slot) = self.index.remove(&id) else { return };
        let Some(mut call) = self.calls.get_mut(slot).and_then(Option::take) else {
            return;
        };
        self.free.push(slot);
        // Packets sent before the hang-up but not read yet are counted (and discarded).
        drain_sockets(&mut call, self.epoch, &mut self.local);
        if let Some(seg) = call.segment.take() {
            // The session ended without stopping the segment: keep what was received.
            let _ = seg.close();
        }
        for s in &call.streams {
            let _ = self.epoll.delete(&s.socket);
        }
        let stats = [
            call.mixer.side(Side::Caller).stats(),
            call.mixer.side(Side::Callee).stats(),
        ];
        self.counters.add_call(&stats);
        let ports: Vec<u16> = call.streams.iter().map(|s| s.port).collect();
        drop(call); // closes the sockets before their ports are handed out again
        self.ports.release(&ports);
        // The loop may sleep without ticks once no call is left: publish now.
        self.publish_counters();
        self.counters.calls_closed.fetch_add(1, Ordering::Relaxed);
    }

    fn tick(&mut self, now: Instant) {
        let until = position(self.epoch, now).saturating_sub(DELAY_SAMPLES);
        for call in self.calls.iter_mut().flatten() {
            call.activity.store(call.last_packet_ms, Ordering::Relaxed);
            if until <= call.mixer.position() {
                continue;
            }
            match &mut call.segment {
                None => call.mixer.discard_to(until),
                Some(seg) => {
                    seg.pauses.drain(&mut call.mixer, until, &mut seg.incoming);
                    seg.take_incoming();
                    let due = match seg.retry_at {
                        Some(at) => now >= at,
                        None => seg.backlog.held() >= 2 * CHUNK_FRAMES,
                    };
                    if due {
                        seg.write(now);
                    } else {
                        seg.report_held();
                    }
                }
            }
        }
        self.publish_counters();
    }

    /// Adds the worker's local counts to the shared counters.
    fn publish_counters(&mut self) {
        let l = std::mem::take(&mut self.local);
        let c = &self.counters;
        c.packets.fetch_add(l.packets, Ordering::Relaxed);
        c.malformed.fetch_add(l.malformed, Ordering::Relaxed);
        c.unexpected.fetch_add(l.unexpected, Ordering::Relaxed);
        c.late.fetch_add(l.late, Ordering::Relaxed);
        c.duplicates.fetch_add(l.duplicates, Ordering::Relaxed);
        c.overflow.fetch_add(l.overflow, Ordering::Relaxed);
        c.srtp_auth_failures.fetch_add(l.srtp_auth_failures, Ordering::Relaxed);
    }

    fn shutdown(&mut self) {
        let ids: Vec<u64> = self.index.keys().copied().collect();
        for id in ids {
            self.remove(id);
        }
    }
}

/// Reads one datagram of stream `si` into the call's mixer; false when none was waiting.
fn recv_one(call: &mut Call, si: usize, buf: &mut [u8], now_pos: u64, now_ms: u64, local: &mut Local) -> bool {
    let Some(stream) = call.streams.get_mut(si) else {
        return false;
    };
    let n = match stream.socket.recv(buf) {
        Ok(n) => n,
        Err(_) => return false,
    };
    local.packets += 1;
    call.last_packet_ms = now_ms;
    let decrypted;
    let datagram: &[u8] = match stream.srtp.as_mut() {
        None => &buf[..n],
        // SRTCP (RFC 3711 §3.4) on a multiplexed port: the recorder has no use for RTCP.
        Some(_) if is_rtcp(&buf[..n]) => return true,
        Some(rx) => match rx.unprotect(&buf[..n]) {
            Ok(plain) => {
                decrypted = plain;
                &decrypted
            }
            Err(SrtpError::Auth | SrtpError::Key) => {
                local.srtp_auth_failures += 1;
                return true;
            }
            Err(SrtpError::Replay) => {
                local.duplicates += 1;
                return true;
            }
            Err(SrtpError::Malformed) => {
                local.malformed += 1;
                return true;
            }
        },
    };
    match classify(datagram, &stream.payload) {
        Err(_) => local.malformed += 1,
        Ok(PacketKind::Rtcp) => {}
        Ok(PacketKind::Audio { packet, law }) => {
            if let Some(side) = stream.side {
                match call.mixer.push(side, Packet::from_rtp(&packet, law), now_pos) {
                    Outcome::Late => local.late += 1,
                    Outcome::Duplicate => local.duplicates += 1,
                    Outcome::Overflow => local.overflow += 1,
                    Outcome::Accepted | Outcome::Reordered | Outcome::Resync => {
                        if let Some(seg) = call.segment.as_mut() {
                            let i = usize::from(side == Side::Callee);
                            seg.heard[i] += packet.payload.len() as u64; // G.711: a sample per byte
                        }
                    }
                }
            }
        }
        Ok(PacketKind::TelephoneEvent(p) | PacketKind::ComfortNoise(p)) => {
            if let Some(side) = stream.side {
                call.mixer.mark_received(side, p.header.sequence, p.header.ssrc);
            }
        }
        Ok(PacketKind::Other(_)) => local.unexpected += 1,
    }
    true
}

/// Reads everything queued on the call's sockets (bounded), so a stop or a hang-up sees every
/// packet sent before it even when the worker is behind.
fn drain_sockets(call: &mut Call, epoch: Instant, local: &mut Local) {
    let mut buf = [0u8; 2048];
    let now = Instant::now();
    let (now_pos, now_ms) = (position(epoch, now), ms_since(epoch, now));
    for si in 0..call.streams.len() {
        for _ in 0..MAX_DRAIN {
            if !recv_one(call, si, &mut buf, now_pos, now_ms, local) {
                break;
            }
        }
    }
}

impl RtpCounters {
    fn add_call(&self, stats: &[JitterStats; 2]) {
        for s in stats {
            self.lost.fetch_add(s.lost, Ordering::Relaxed);
            self.reordered.fetch_add(s.reordered, Ordering::Relaxed);
            self.resyncs.fetch_add(s.resyncs, Ordering::Relaxed);
        }
    }
}
