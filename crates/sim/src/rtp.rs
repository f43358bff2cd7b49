//! Sending RTP (RFC 3550) for every stream of every simulated call from a few threads.
//!
//! Each sender thread runs a 20-slot timer wheel with 1 ms slots: a stream lives in one slot
//! and sends one 20 ms G.711 packet each time the wheel passes it, so thousands of streams
//! are paced by one `sleep` per millisecond instead of one timer each. Deadlines are absolute
//! (start + n ms), so a late wake-up sends the overdue slots at once and never drifts. While
//! a stream is paused (hold) its RTP clock keeps running and its sequence number does not,
//! as a real source's would (RFC 3550 §5.1): the recorder sees a timestamp jump, no loss.
//!
//! An SRTP stream protects each packet as it is built (RFC 3711, the key the offer carried),
//! and can flip a payload bit of every n-th protected packet to test the recorder's
//! authentication.

use std::collections::HashMap;
use std::net::UdpSocket;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use callrec_media::srtp::SrtpSender;

use crate::signal::{write_rtp_header, XorShift, RTP_HEADER_LEN, SAMPLES_PER_PACKET};

/// Slots of the wheel: one per millisecond of a 20 ms packet interval.
const SLOTS: u64 = 20;
/// The packet interval in RTP clock ticks (8 kHz).
const TS_STEP: u32 = 160;

/// What one stream sends.
pub struct StreamSpec {
    /// A UDP socket `connect`ed to the recorder's port for this stream.
    pub socket: UdpSocket,
    /// The RTP payload type (0 = PCMU, 8 = PCMA).
    pub payload_type: u8,
    /// The encoded audio, looped (length a multiple of 160).
    pub audio: Arc<[u8]>,
    /// The synchronisation source.
    pub ssrc: u32,
    /// Percentage of packets not sent (simulated loss).
    pub loss_pct: f64,
    /// Percentage of packets sent after their successor (simulated reordering).
    pub reorder_pct: f64,
    /// Seed of the loss/reorder choices.
    pub seed: u64,
    /// SRTP: every packet is protected with this sender.
    pub srtp: Option<SrtpSender>,
    /// With SRTP, flip a payload bit of every n-th packet (0 = never).
    pub tamper_every: u64,
}

/// A packet as it goes on the wire: plain RTP, or protected by SRTP.
enum Wire {
    Plain([u8; RTP_HEADER_LEN + SAMPLES_PER_PACKET]),
    Sealed(Vec<u8>),
}

impl Wire {
    fn bytes(&self) -> &[u8] {
        match self {
            Wire::Plain(p) => p,
            Wire::Sealed(v) => v,
        }
    }
}

/// Counters of one stream, readable while it runs and after it stopped.
#[derive(Debug, Default)]
pub struct StreamCounters {
    /// Datagrams handed to the kernel.
    pub sent: AtomicU64,
    /// Packets skipped on purpose (`loss_pct`).
    pub skipped: AtomicU64,
    /// Packets sent after their successor on purpose (`reorder_pct`).
    pub reordered: AtomicU64,
    /// Send errors (e.g. the recorder's port already closed).
    pub errors: AtomicU64,
    /// SRTP packets sent with a flipped bit on purpose.
    pub tampered: AtomicU64,
}

enum Command {
    Add(u64, Box<StreamSpec>, Arc<StreamCounters>),
    Remove(u64, Option<tokio::sync::oneshot::Sender<()>>),
    Sending(u64, bool),
    Srtp(u64, Box<SrtpSender>),
}

/// The sender threads. Dropping it stops them.
pub struct RtpSender {
    threads: Vec<(mpsc::Sender<Command>, Option<JoinHandle<()>>)>,
    stop: Arc<AtomicBool>,
    next_id: AtomicU64,
    sent: Arc<AtomicU64>,
}

/// One running stream; dropping it stops the stream.
pub struct StreamHandle {
    id: u64,
    tx: mpsc::Sender<Command>,
    counters: Arc<StreamCounters>,
    stopped: bool,
}

impl StreamHandle {
    /// Pauses (`false`, e.g. on hold) or resumes the stream.
    pub fn set_sending(&self, sending: bool) {
        let _ = self.tx.send(Command::Sending(self.id, sending));
    }

    /// Protects the following packets with `sender` (a new key after a re-INVITE).
    pub fn set_srtp(&self, sender: SrtpSender) {
        let _ = self.tx.send(Command::Srtp(self.id, Box::new(sender)));
    }

    /// The stream's counters.
    pub fn counters(&self) -> &Arc<StreamCounters> {
        &self.counters
    }

    /// Stops the stream and waits until its sender thread has sent its last packet, so the
    /// counters are final (a source stops its media before it sends BYE).
    pub async fn stop(mut self) -> Arc<StreamCounters> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.stopped = true;
        if self.tx.send(Command::Remove(self.id, Some(tx))).is_ok() {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(2), rx).await;
        }
        self.counters.clone()
    }
}

impl Drop for StreamHandle {
    fn drop(&mut self) {
        if !self.stopped {
            let _ = self.tx.send(Command::Remove(self.id, None));
        }
    }
}

impl RtpSender {
    /// Starts `threads` sender threads (at least one).
    pub fn start(threads: usize) -> std::io::Result<RtpSender> {
        RtpSender::start_counting(threads, Arc::default())
    }

    /// Starts `threads` sender threads that add every datagram they send to `sent`, so a
    /// load test can read the rate it actually offers while it runs.
    pub fn start_counting(threads: usize, sent: Arc<AtomicU64>) -> std::io::Result<RtpSender> {
        let stop = Arc::new(AtomicBool::new(false));
        let mut list = Vec::new();
        for n in 0..threads.max(1) {
            let (tx, rx) = mpsc::channel();
            let stop = stop.clone();
            let wheel = Wheel::new(sent.clone());
            let handle = std::thread::Builder::new()
                .name(format!("sim-rtp-{n}"))
                .spawn(move || wheel.run(&rx, &stop))?;
            list.push((tx, Some(handle)));
        }
        Ok(RtpSender {
            threads: list,
            stop,
            next_id: AtomicU64::new(1),
            sent,
        })
    }

    /// Datagrams sent so far by every stream, ended ones included.
    pub fn packets_sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    /// Starts sending a stream; it runs until the handle is dropped.
    pub fn add(&self, spec: StreamSpec) -> StreamHandle {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        // Both streams of a call get consecutive ids; spreading by id/2 keeps a call's
        // streams on one thread and spreads calls over threads.
        let thread = usize::try_from(id / 2).unwrap_or(0) % self.threads.len();
        let tx = self.threads[thread].0.clone();
        let counters = Arc::new(StreamCounters::default());
        let _ = tx.send(Command::Add(id, Box::new(spec), counters.clone()));
        StreamHandle {
            id,
            tx,
            counters,
            stopped: false,
        }
    }
}

impl Drop for RtpSender {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for (tx, handle) in &mut self.threads {
            // Wakes a thread blocked on an empty wheel.
            let _ = tx.send(Command::Remove(0, None));
            if let Some(h) = handle.take() {
                let _ = h.join();
            }
        }
    }
}

struct TxStream {
    spec: StreamSpec,
    counters: Arc<StreamCounters>,
    rng: XorShift,
    seq: u16,
    ts: u32,
    phase: usize,
    sending: bool,
    marker: bool,
    held: Option<Wire>,
    /// SRTP packets protected so far (for `tamper_every`).
    sealed: u64,
}

impl TxStream {
    fn new(spec: StreamSpec, counters: Arc<StreamCounters>) -> TxStream {
        let mut rng = XorShift::new(spec.seed);
        // Random initial sequence number and timestamp (RFC 3550 §5.1).
        #[allow(clippy::cast_possible_truncation)]
        let (seq, ts) = (rng.next_u64() as u16, rng.next_u64() as u32);
        TxStream {
            spec,
            counters,
            rng,
            seq,
            ts,
            phase: 0,
            sending: true,
            marker: true,
            held: None,
            sealed: 0,
        }
    }

    /// The packet as sent: protected (and maybe tampered with) when the stream is SRTP.
    fn seal(&mut self, packet: [u8; RTP_HEADER_LEN + SAMPLES_PER_PACKET]) -> Option<Wire> {
        let Some(srtp) = self.spec.srtp.as_mut() else {
            return Some(Wire::Plain(packet));
        };
        let mut sealed = srtp.protect(&packet).ok()?.to_vec();
        self.sealed += 1;
        if self.spec.tamper_every > 0 && self.sealed.is_multiple_of(self.spec.tamper_every) {
            sealed[RTP_HEADER_LEN + 7] ^= 0x10;
            self.counters.tampered.fetch_add(1, Ordering::Relaxed);
        }
        Some(Wire::Sealed(sealed))
    }

    /// Sends this interval's packet (or not: hold, loss, reordering); returns the datagrams
    /// sent.
    fn tick(&mut self) -> u64 {
        if !self.sending {
            // The clock runs on while paused; the sequence number does not.
            self.ts = self.ts.wrapping_add(TS_STEP);
            return 0;
        }
        let mut packet = [0u8; RTP_HEADER_LEN + SAMPLES_PER_PACKET];
        let mut header = [0u8; RTP_HEADER_LEN];
        write_rtp_header(
            &mut header,
            self.spec.payload_type,
            self.marker,
            self.seq,
            self.ts,
            self.spec.ssrc,
        );
        packet[..RTP_HEADER_LEN].copy_from_slice(&header);
        let audio = &self.spec.audio;
        let end = self.phase + SAMPLES_PER_PACKET;
        if end <= audio.len() {
            packet[RTP_HEADER_LEN..].copy_from_slice(&audio[self.phase..end]);
        }
        self.phase = if end >= audio.len() { 0 } else { end };
        self.marker = false;
        self.seq = self.seq.wrapping_add(1);
        self.ts = self.ts.wrapping_add(TS_STEP);

        if self.rng.chance(self.spec.loss_pct) {
            self.counters.skipped.fetch_add(1, Ordering::Relaxed);
            return 0;
        }
        let Some(packet) = self.seal(packet) else {
            self.counters.errors.fetch_add(1, Ordering::Relaxed);
            return 0;
        };
        if let Some(held) = self.held.take() {
            u64::from(self.send(packet.bytes())) + u64::from(self.send(held.bytes()))
        } else if self.rng.chance(self.spec.reorder_pct) {
            self.counters.reordered.fetch_add(1, Ordering::Relaxed);
            self.held = Some(packet);
            0
        } else {
            u64::from(self.send(packet.bytes()))
        }
    }

    /// Sends one datagram; whether the kernel took it.
    fn send(&self, packet: &[u8]) -> bool {
        match self.spec.socket.send(packet) {
            Ok(_) => {
                self.counters.sent.fetch_add(1, Ordering::Relaxed);
                true
            }
            Err(_) => {
                self.counters.errors.fetch_add(1, Ordering::Relaxed);
                false
            }
        }
    }

    /// Pauses or resumes; returns the datagrams sent (a held-back packet goes out first).
    fn set_sending(&mut self, sending: bool) -> u64 {
        if sending && !self.sending {
            self.marker = true; // RFC 3551 §4.1: first packet of a talkspurt
        }
        let mut sent = 0;
        if !sending {
            // A packet held back for reordering goes out before the pause.
            if let Some(held) = self.held.take() {
                sent += u64::from(self.send(held.bytes()));
            }
        }
        self.sending = sending;
        sent
    }
}

struct Wheel {
    streams: HashMap<u64, TxStream>,
    slots: [Vec<u64>; SLOTS as usize],
    /// The sender's total, added to once per slot rather than once per packet.
    sent: Arc<AtomicU64>,
}

impl Wheel {
    fn new(sent: Arc<AtomicU64>) -> Wheel {
        Wheel {
            streams: HashMap::new(),
            slots: Default::default(),
            sent,
        }
    }

    fn apply(&mut self, cmd: Command) {
        match cmd {
            Command::Add(id, spec, counters) => {
                let slot = usize::try_from(id % SLOTS).unwrap_or(0);
                self.slots[slot].push(id);
                self.streams.insert(id, TxStream::new(*spec, counters));
            }
            Command::Remove(id, done) => {
                if let Some(mut s) = self.streams.remove(&id) {
                    let n = s.set_sending(false);
                    self.sent.fetch_add(n, Ordering::Relaxed);
                    let slot = usize::try_from(id % SLOTS).unwrap_or(0);
                    self.slots[slot].retain(|x| *x != id);
                }
                if let Some(done) = done {
                    let _ = done.send(());
                }
            }
            Command::Srtp(id, sender) => {
                if let Some(s) = self.streams.get_mut(&id) {
                    s.spec.srtp = Some(*sender);
                }
            }
            Command::Sending(id, on) => {
                if let Some(s) = self.streams.get_mut(&id) {
                    let n = s.set_sending(on);
                    self.sent.fetch_add(n, Ordering::Relaxed);
                }
            }
        }
    }

    fn run(mut self, rx: &mpsc::Receiver<Command>, stop: &AtomicBool) {
        let mut start = Instant::now();
        let mut tick: u64 = 0;
        loop {
            if stop.load(Ordering::Relaxed) {
                return;
            }
            if self.streams.is_empty() {
                // Idle: block until a stream arrives, then restart the wheel's clock.
                match rx.recv() {
                    Ok(cmd) => self.apply(cmd),
                    Err(_) => return,
                }
                start = Instant::now();
                tick = 0;
                continue;
            }
            while let Ok(cmd) = rx.try_recv() {
                self.apply(cmd);
            }
            let due = start + Duration::from_millis(tick);
            let now = Instant::now();
            if due > now {
                std::thread::sleep(due - now);
            }
            let slot = usize::try_from(tick % SLOTS).unwrap_or(0);
            let mut sent = 0;
            for i in 0..self.slots[slot].len() {
                let id = self.slots[slot][i];
                if let Some(s) = self.streams.get_mut(&id) {
                    sent += s.tick();
                }
            }
            self.sent.fetch_add(sent, Ordering::Relaxed);
            tick += 1;
        }
    }
}
