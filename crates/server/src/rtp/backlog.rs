//! A recording segment's audio on its way to the disk, and what a full disk costs it
//! (issue #13).
//!
//! Frames drained from the call's mixer are queued here and written about once a second.
//! When the disk refuses a write, the frames stay queued and are retried; the queue holds at
//! most `limit` bytes of audio. Audio beyond that is dropped: the queue then holds a run of
//! *silence* of the dropped length instead, which is written in its place when the disk takes
//! data again, so the file's timeline stays the call's. Every dropped span is kept as a gap
//! (offset and length in frames of the segment) for the recording's row and journal.
//!
//! Once dropping starts it goes on until the whole queue is written: accepting a few frames
//! whenever a little memory frees up would cut one outage into many small gaps.
//!
//! When the segment closes with audio still queued (the call ended before the disk
//! recovered), everything from the last frame in the file to the end of the timeline is one
//! final gap: it is not in the file.

use std::collections::VecDeque;
use std::io::{Seek, Write};

use callrec_media::g711::Law;
use callrec_media::wav::{SetLen, WavFile, WavIoError};
use callrec_types::calls::RecordingGap;

/// Bytes per stereo G.711 frame.
const FRAME: usize = 2;
/// Frames per millisecond at 8 kHz.
const FRAMES_PER_MS: u64 = 8;
/// Silence is written from a buffer of this many frames (one second).
const SILENCE_FRAMES: usize = 8000;
/// One second of stereo silence per law, shared by every segment: a buffer of its own cost
/// each call 16 KB (a third of its memory) for a gap that rarely happens.
static ULAW_SILENCE: [u8; SILENCE_FRAMES * FRAME] = [Law::Ulaw.silence(); SILENCE_FRAMES * FRAME];
static ALAW_SILENCE: [u8; SILENCE_FRAMES * FRAME] = [Law::Alaw.silence(); SILENCE_FRAMES * FRAME];

fn silence(law: Law) -> &'static [u8] {
    match law {
        Law::Ulaw => &ULAW_SILENCE,
        Law::Alaw => &ALAW_SILENCE,
    }
}

/// A span of the segment, in frames from its start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start: u64,
    pub frames: u64,
}

impl Span {
    fn end(&self) -> u64 {
        self.start + self.frames
    }

    /// The span in milliseconds: where it starts (rounded down) and how long it is (rounded
    /// to the nearest millisecond).
    pub fn to_gap(self) -> RecordingGap {
        let ms = |frames: u64| i64::try_from(frames).unwrap_or(i64::MAX);
        RecordingGap {
            offset_ms: ms(self.start / FRAMES_PER_MS),
            duration_ms: ms((self.frames + FRAMES_PER_MS / 2) / FRAMES_PER_MS),
        }
    }
}

enum Run {
    /// Interleaved frames.
    Audio(Vec<u8>),
    /// Frames of silence standing in for dropped audio.
    Silence(u64),
}

/// The queue of one segment.
pub struct Backlog {
    runs: VecDeque<Run>,
    /// Audio bytes in `runs`.
    held: usize,
    limit: usize,
    /// A gap is open: new audio is dropped until the queue is written.
    dropping: bool,
    /// Frames of the segment's timeline so far: written, queued and dropped.
    timeline: u64,
    gaps: Vec<Span>,
    silence: &'static [u8],
}

impl Backlog {
    /// An empty queue for a `law` recording that may hold `limit` bytes of audio.
    pub fn new(law: Law, limit: usize) -> Backlog {
        Backlog {
            runs: VecDeque::new(),
            held: 0,
            limit,
            dropping: false,
            timeline: 0,
            gaps: Vec::new(),
            silence: silence(law),
        }
    }

    /// Bytes of audio held.
    pub fn held(&self) -> usize {
        self.held
    }

    /// Whether anything (audio or silence) waits to be written.
    pub fn is_empty(&self) -> bool {
        self.runs.is_empty()
    }

    /// Queues whole frames drained from the mixer; returns the frames dropped for lack of
    /// memory.
    pub fn push(&mut self, frames: &[u8]) -> u64 {
        debug_assert_eq!(frames.len() % FRAME, 0, "the mixer drains whole frames");
        let n = (frames.len() / FRAME) as u64;
        if n == 0 {
            return 0;
        }
        let keep = if self.dropping {
            0
        } else {
            let room = self.limit.saturating_sub(self.held);
            frames.len().min(room - room % FRAME)
        };
        if keep > 0 {
            if let Some(Run::Audio(last)) = self.runs.back_mut() {
                last.extend_from_slice(&frames[..keep]);
            } else {
                self.runs.push_back(Run::Audio(frames[..keep].to_vec()));
            }
            self.held += keep;
        }
        let dropped = n - (keep / FRAME) as u64;
        if dropped > 0 {
            let start = self.timeline + (keep / FRAME) as u64;
            match (self.runs.back_mut(), self.gaps.last_mut()) {
                (Some(Run::Silence(s)), Some(gap)) if self.dropping && gap.end() == start => {
                    *s += dropped;
                    gap.frames += dropped;
                }
                _ => {
                    self.runs.push_back(Run::Silence(dropped));
                    self.gaps.push(Span { start, frames: dropped });
                }
            }
            self.dropping = true;
        }
        self.timeline += n;
        dropped
    }

    /// Writes everything queued, in order, then brings the header up to date. On an error
    /// what reached the file leaves the queue and the rest waits for the next try; the file
    /// still ends at its last whole frame and the header says so.
    pub fn write_to<W: Write + Seek + SetLen>(&mut self, file: &mut WavFile<W>) -> Result<(), WavIoError> {
        let written = self.write_runs(file);
        // The header follows whatever reached the file, even after a failure (patching it
        // takes no new space).
        let flushed = file.flush();
        written?;
        flushed
    }

    fn write_runs<W: Write + Seek + SetLen>(&mut self, file: &mut WavFile<W>) -> Result<(), WavIoError> {
        while let Some(run) = self.runs.front_mut() {
            match run {
                Run::Audio(bytes) => {
                    let before = file.state().data_len();
                    let result = file.write_frames(bytes);
                    let done = usize::try_from(file.state().data_len() - before).unwrap_or(usize::MAX);
                    self.held -= done;
                    if let Err(e) = result {
                        bytes.drain(..done);
                        return Err(e);
                    }
                }
                Run::Silence(frames) => {
                    while *frames > 0 {
                        let n = usize::try_from(*frames).unwrap_or(usize::MAX).min(SILENCE_FRAMES);
                        let before = file.state().data_len();
                        let result = file.write_frames(&self.silence[..n * FRAME]);
                        *frames -= (file.state().data_len() - before) / FRAME as u64;
                        result?;
                    }
                }
            }
            self.runs.pop_front();
        }
        // Everything is on disk: the open gap (if any) ends here.
        self.dropping = false;
        Ok(())
    }

    /// The segment's gaps once it is closed, `file` holding what could be written. Also
    /// returns the frames of queued audio that never reached the file (dropped now).
    pub fn close<W: Write + Seek>(self, file: &WavFile<W>) -> (Vec<RecordingGap>, u64) {
        let mut gaps = self.gaps;
        let mut lost_now = 0;
        if !self.runs.is_empty() {
            let in_file = file.state().data_len() / FRAME as u64;
            lost_now = (self.held / FRAME) as u64;
            // Whatever the file lacks up to the end of the timeline is one gap.
            gaps.retain(|g| g.start < in_file);
            if let Some(last) = gaps.last_mut() {
                last.frames = last.frames.min(in_file - last.start);
            }
            match gaps.last_mut() {
                Some(last) if last.end() == in_file => last.frames += self.timeline - in_file,
                _ => gaps.push(Span {
                    start: in_file,
                    frames: self.timeline - in_file,
                }),
            }
        }
        (gaps.into_iter().map(Span::to_gap).collect(), lost_now)
    }
}

#[cfg(test)]
mod tests {
    use std::io::{self, Cursor, SeekFrom};

    use callrec_media::wav::{WavInfo, WavWriter};

    use super::*;

    /// A file on a disk that holds `cap` bytes in all (ENOSPC past it), as in media's tests.
    struct SmallDisk {
        file: Cursor<Vec<u8>>,
        cap: usize,
    }

    impl Write for SmallDisk {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let at = usize::try_from(self.file.position()).expect("small");
            let room = self.cap.saturating_sub(at);
            if room == 0 && !buf.is_empty() {
                return Err(io::Error::from_raw_os_error(28));
            }
            self.file.write(&buf[..buf.len().min(room)])
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Seek for SmallDisk {
        fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
            self.file.seek(to)
        }
    }

    impl SetLen for SmallDisk {
        fn set_len(&mut self, len: u64) -> io::Result<()> {
            self.file.set_len(len)
        }
    }

    const HEADER: usize = 58;
    /// One 20 ms packet's worth of stereo frames.
    const TICK: usize = 160 * FRAME;

    fn file(cap: usize) -> WavFile<SmallDisk> {
        let state = WavWriter::stereo(Law::Ulaw, 8000).expect("valid");
        WavFile::create(
            SmallDisk {
                file: Cursor::new(Vec::new()),
                cap,
            },
            state,
        )
        .expect("header fits")
    }

    fn audio(byte: u8) -> Vec<u8> {
        vec![byte; TICK]
    }

    fn bytes(f: WavFile<SmallDisk>) -> Vec<u8> {
        f.finish().expect("finish").file.into_inner()
    }

    #[test]
    fn issue_13_audio_waits_in_memory_and_is_written_when_space_returns() {
        let mut f = file(HEADER + 3 * TICK + 1);
        let mut q = Backlog::new(Law::Ulaw, 100 * TICK);
        for i in 0..10 {
            assert_eq!(q.push(&audio(i)), 0, "nothing dropped within the limit");
        }
        q.write_to(&mut f).expect_err("the disk is full after three ticks");
        assert_eq!(q.held(), 7 * TICK, "what did not fit stays in memory");
        f.get_mut().cap = usize::MAX;
        q.write_to(&mut f).expect("space returned");
        assert!(q.is_empty(), "all written");
        let (gaps, lost) = q.close(&f);
        assert!(gaps.is_empty(), "nothing was lost: {gaps:?}");
        assert_eq!(lost, 0, "nothing lost at close");
        let b = bytes(f);
        let info = WavInfo::parse_with_file_len(&b, b.len() as u64).expect("valid");
        assert_eq!(info.data_len as usize, 10 * TICK, "every tick once");
        for i in 0..10u8 {
            assert_eq!(b[HEADER + usize::from(i) * TICK], i, "tick {i} in its place");
        }
    }

    #[test]
    fn issue_13_audio_beyond_the_limit_becomes_silence_and_an_exact_gap() {
        let mut f = file(HEADER);
        let mut q = Backlog::new(Law::Ulaw, 4 * TICK);
        for i in 0..4 {
            q.push(&audio(1 + i));
        }
        q.write_to(&mut f).expect_err("no room at all");
        let mut dropped = 0;
        for _ in 0..6 {
            dropped += q.push(&audio(9));
        }
        assert_eq!(dropped, 6 * 160, "six ticks beyond the limit dropped");
        f.get_mut().cap = usize::MAX;
        q.write_to(&mut f).expect("space returned");
        q.push(&audio(5)); // recording goes on after the gap
        q.write_to(&mut f).expect("written");
        let (gaps, lost) = q.close(&f);
        assert_eq!(lost, 0, "nothing more lost at close");
        assert_eq!(
            gaps,
            [RecordingGap {
                offset_ms: 80,
                duration_ms: 120
            }],
            "one gap after the 80 ms held in memory, as long as the 120 ms dropped"
        );
        let b = bytes(f);
        assert_eq!(
            b.len(),
            HEADER + 11 * TICK,
            "the timeline is whole: 4 held + 6 silent + 1"
        );
        let silence = Law::Ulaw.silence();
        assert!(
            b[HEADER + 4 * TICK..HEADER + 10 * TICK].iter().all(|x| *x == silence),
            "the gap is silence"
        );
        assert_eq!(b[HEADER + 10 * TICK], 5, "audio after the gap follows it");
    }

    #[test]
    fn issue_13_a_call_ending_while_full_ends_in_a_gap_to_the_end_of_its_timeline() {
        let mut f = file(HEADER + 2 * TICK);
        let mut q = Backlog::new(Law::Ulaw, 3 * TICK);
        for i in 0..8 {
            q.push(&audio(i));
        }
        q.write_to(&mut f).expect_err("full after two ticks");
        let (gaps, lost) = q.close(&f);
        assert_eq!(lost, 160, "the tick held in memory is lost at close");
        assert_eq!(
            gaps,
            [RecordingGap {
                offset_ms: 40,
                duration_ms: 120
            }],
            "from the last frame in the file to the end of the timeline"
        );
        let b = bytes(f);
        let info = WavInfo::parse_with_file_len(&b, b.len() as u64).expect("valid");
        assert_eq!(
            info.data_offset + info.data_len,
            b.len() as u64,
            "header matches the file"
        );
    }
}
