//! What writes a live call's audio: the [`CallMedia`] trait the SIPREC recorder implements, the
//! [`SegmentFacts`] it reports, and [`SilentMedia`] for calls announced without audio.

use crate::disk::Disk;
use crate::sealed::{StoredFile, Vault};
use callrec_media::g711::Law;
use callrec_media::wav::{WavFile, WavWriter};
use callrec_types::calls::AudioCodec;
use callrec_types::calls::RecordingGap;
use callrec_types::wire::PauseFill;
use chrono::{DateTime, Utc};
use std::io;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// Facts of a finished segment, from whoever wrote its audio.
#[derive(Debug, Clone)]
pub struct SegmentFacts {
    pub duration_ms: i64,
    pub codec: AudioCodec,
    pub sample_rate: u32,
    pub channels: u16,
    /// Spans lost to a full disk.
    pub gaps: Vec<RecordingGap>,
    /// Milliseconds of audio received from each side (caller, callee); `None` when the media
    /// cannot tell (a call announced without audio, a segment repaired after a crash).
    pub heard_ms: Option<[i64; 2]>,
}

/// Writes a call's audio into segment files. Implemented by the SIPREC recorder; calls are
/// started and stopped from async code through `spawn_blocking`, so implementations may do
/// blocking file I/O.
pub trait CallMedia: Send + Sync + 'static {
    /// From `at` on, the call's audio goes to a new stereo WAV at `path` (absolute); write
    /// failures are reported to `disk`, and the file is sealed when `vault` has a key. On an
    /// error no file is left at `path`.
    fn start_segment(&self, path: PathBuf, vault: &Vault, at: DateTime<Utc>, disk: Arc<Disk>) -> io::Result<()>;
    /// PCI pause (issue #11.1): from `at` on, the open segment gets `fill` instead of the
    /// call's audio, until [`CallMedia::resume`] or the segment's end. Never waits.
    fn pause(&self, at: DateTime<Utc>, fill: PauseFill);
    /// The open pause ends at `at`: the call's audio goes to the segment again.
    fn resume(&self, at: DateTime<Utc>);
    /// Pads up to `at`, flushes, fixes the header and closes the segment.
    fn stop_segment(&self, at: DateTime<Utc>) -> io::Result<SegmentFacts>;
    /// The codec segments are written in (stereo, 8 kHz), for the row of a segment that has
    /// just started; the closed segment's [`SegmentFacts`] are what the row keeps.
    fn codec(&self) -> AudioCodec;
}

/// Media for a call announced without audio (tests, PBX call events): the segment's timeline
/// is filled with silence by the wall clock, so its length is the recording's length.
#[derive(Default)]
pub struct SilentMedia {
    open: Mutex<Option<(WavFile<StoredFile>, DateTime<Utc>)>>,
}

const LAW: Law = Law::Ulaw;

impl CallMedia for SilentMedia {
    fn codec(&self) -> AudioCodec {
        AudioCodec::Pcmu
    }

    fn start_segment(&self, path: PathBuf, vault: &Vault, at: DateTime<Utc>, disk: Arc<Disk>) -> io::Result<()> {
        let file = std::fs::OpenOptions::new()
            .create_new(true)
            .read(true)
            .write(true)
            .open(&path)?;
        let file = vault.create(file).inspect_err(|_| {
            let _ = std::fs::remove_file(&path);
        })?;
        let w = WavWriter::stereo(LAW, 8000).map_err(io::Error::other)?;
        let wav = WavFile::create(file, w).map_err(|e| {
            let _ = std::fs::remove_file(&path);
            disk.write_failed(&e);
            io::Error::other(e)
        })?;
        *self.open.lock().expect("media lock") = Some((wav, at));
        Ok(())
    }

    /// Its segments hold silence throughout: a pause changes nothing in them.
    fn pause(&self, _at: DateTime<Utc>, _fill: PauseFill) {}

    fn resume(&self, _at: DateTime<Utc>) {}

    fn stop_segment(&self, at: DateTime<Utc>) -> io::Result<SegmentFacts> {
        let (mut wav, started) = self
            .open
            .lock()
            .expect("media lock")
            .take()
            .ok_or_else(|| io::Error::other("no open segment"))?;
        let frames = ((at - started).num_milliseconds().max(0) as u64) * 8; // 8 frames per ms at 8 kHz
        let chunk = vec![LAW.silence(); 16_000];
        let mut left = frames * 2;
        while left > 0 {
            let n = left.min(chunk.len() as u64) as usize;
            wav.write_frames(&chunk[..n]).map_err(io::Error::other)?;
            left -= n as u64;
        }
        let duration_ms = wav.state().duration_ms() as i64;
        let f = wav.finish().map_err(io::Error::other)?;
        f.get_ref().sync_all()?;
        Ok(SegmentFacts {
            duration_ms,
            codec: AudioCodec::Pcmu,
            sample_rate: 8000,
            channels: 2,
            gaps: Vec::new(),
            heard_ms: None,
        })
    }
}
