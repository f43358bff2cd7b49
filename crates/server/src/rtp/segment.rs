//! One call's open recording segment inside an RTP worker: its file, the frames drained
//! this tick, the [`Backlog`] waiting for the disk, its PCI [`Pauses`], and how a write that
//! fails is retried.

use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::sealed::StoredFile;
use callrec_media::g711::Law;
use callrec_media::wav::WavFile;
use callrec_types::calls::RecordingGap;

use super::backlog::Backlog;
use super::pause::Pauses;
use crate::disk::Disk;

/// How often a segment whose write failed tries again: the retry is how a worker notices
/// that space has returned.
pub const RETRY: Duration = Duration::from_millis(500);
/// A segment's file once closed: its header matches its length.
pub struct ClosedSegment {
    /// The file.
    pub file: Box<WavFile<StoredFile>>,
    /// Spans lost to a full disk.
    pub gaps: Vec<RecordingGap>,
    /// Milliseconds of audio received from each side (caller, callee) while the segment was
    /// open: zero for a side that sent no RTP at all (the missing-recording alarm).
    pub heard_ms: [i64; 2],
}

pub(super) struct Segment {
    /// The call's engine id, for logs.
    pub(super) call: u64,
    pub(super) file: Box<WavFile<StoredFile>>,
    /// Frames drained from the mixer this tick (a reused buffer).
    pub(super) incoming: Vec<u8>,
    /// Frames not written yet, and the gaps.
    pub(super) backlog: Backlog,
    pub(super) disk: Arc<Disk>,
    /// Set while the last write failed: when to try again.
    pub(super) retry_at: Option<Instant>,
    /// The backlog's size as last added to the `buffered` gauge.
    pub(super) reported_held: usize,
    /// PCI pauses not drained yet.
    pub(super) pauses: Pauses,
    /// Samples received per side (caller, callee) while open, paused or not.
    pub(super) heard: [u64; 2],
}

impl Segment {
    /// A segment of call `call` into `file`; `incoming` frames are drained per tick at most.
    pub(super) fn new(call: u64, file: Box<WavFile<StoredFile>>, disk: Arc<Disk>, incoming: usize) -> Segment {
        let law = file.state().codec().law().unwrap_or(Law::Ulaw);
        Segment {
            call,
            file,
            // One tick of frames, or a stop's drain of the delay window.
            incoming: Vec::with_capacity(2 * incoming),
            backlog: Backlog::new(law, disk.buffer_bytes),
            disk,
            retry_at: None,
            reported_held: 0,
            pauses: Pauses::new(law),
            heard: [0, 0],
        }
    }

    /// Moves the frames of `incoming` into the backlog (dropped beyond its limit).
    pub(super) fn take_incoming(&mut self) {
        let dropped = self.backlog.push(&self.incoming);
        self.incoming.clear();
        self.disk.dropped(dropped);
    }

    /// Writes the backlog; on a failure the disk is marked full and a retry scheduled.
    pub(super) fn write(&mut self, now: Instant) {
        let call = self.call;
        match self.backlog.write_to(&mut self.file) {
            Ok(()) => {
                if self.retry_at.take().is_some() {
                    self.disk.waiting(-1);
                    tracing::info!(call, "the disk took the recording's held audio");
                }
                self.disk.write_succeeded();
            }
            Err(e) => {
                if self.retry_at.is_none() {
                    self.disk.waiting(1);
                    tracing::warn!(call, error = %e, "cannot write a recording; holding its audio in memory");
                }
                self.retry_at = Some(now + RETRY);
                self.disk.write_failed(&e);
            }
        }
        self.report_held();
    }

    pub(super) fn report_held(&mut self) {
        let held = self.backlog.held();
        if held != self.reported_held {
            self.disk.buffered(held as i64 - self.reported_held as i64);
            self.reported_held = held;
        }
    }

    /// One last try to write everything, then the gaps; the file's header matches its
    /// length even when the try fails.
    pub(super) fn close(mut self) -> io::Result<ClosedSegment> {
        self.take_incoming();
        self.write(Instant::now());
        if self.retry_at.take().is_some() {
            self.disk.waiting(-1);
        }
        self.disk.buffered(-(self.reported_held as i64));
        let (gaps, lost) = self.backlog.close(&self.file);
        self.disk.dropped(lost);
        self.file.flush().map_err(io::Error::other)?;
        let heard_ms = self.heard.map(|samples| i64::try_from(samples / 8).unwrap_or(i64::MAX));
        Ok(ClosedSegment {
            file: self.file,
            gaps,
            heard_ms,
        })
    }
}
