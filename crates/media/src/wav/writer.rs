//! A growing G.711 recording that is a playable WAV after every flush.
//!
//! [`WavWriter`] is the sans-I/O state: it says where each block of frames goes and which
//! header fields to rewrite on a flush ([`HeaderPatch`]). [`WavFile`] runs it over any
//! `Write + Seek` (a `File`, a `BufWriter<File>`, a `Cursor` in tests).
//!
//! Crash safety: audio is appended past the header; a flush then rewrites the RIFF size, the
//! `fact` sample count and the `data` size to cover everything appended so far. A reader
//! therefore always sees a valid file that ends at the last flush. For durability the caller
//! syncs the file (`File::sync_data`) after a flush; if the machine dies between the audio
//! and the header reaching the disk, [`repair`](super::repair()) recomputes the sizes from
//! the file length at start-up.
//!
//! A failed write (a full disk, a quota) never leaves the header and the file disagreeing:
//! the whole frames that did reach the file stay appended, a half frame a short write left
//! behind is cut off again ([`SetLen`]), and the next write continues right after the last
//! whole frame. So after any error the caller may flush, retry the rest, or finish, and the
//! header still describes exactly the bytes on disk.

use std::io::{self, Cursor, Seek, SeekFrom, Write};

use super::header::{
    data_size_offset, fact_count_offset, header_len, max_data_len, riff_size, wav_header, RIFF_SIZE_OFFSET,
};
use super::parse::SUPPORTED_RATES;
use super::{Codec, WavError};
use crate::g711::Law;

/// Why writing or repairing a recording failed.
#[derive(Debug, thiserror::Error)]
pub enum WavIoError {
    /// The underlying file failed.
    #[error("WAV file I/O: {0}")]
    Io(#[from] io::Error),
    /// The file's header is not a WAV header callrec can handle.
    #[error(transparent)]
    Wav(#[from] WavError),
    /// Appended bytes must be whole frames (one byte per channel).
    #[error("{len} bytes is not a whole number of {block_align}-byte frames")]
    PartialFrame {
        /// Bytes offered.
        len: usize,
        /// Bytes per frame.
        block_align: u16,
    },
    /// The recording reached the 4 GiB limit of a RIFF file (about 74 hours of stereo).
    #[error("recording reached the WAV size limit")]
    TooLarge,
}

/// Four bytes to write at a file offset to bring a header field up to date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeaderPatch {
    /// Absolute file offset.
    pub offset: u64,
    /// Little-endian u32 value.
    pub bytes: [u8; 4],
}

/// The state of a growing G.711 WAV: how much audio it holds and how much the header says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WavWriter {
    codec: Codec,
    sample_rate: u32,
    channels: u16,
    data_len: u32,
    flushed_len: u32,
}

impl WavWriter {
    /// A new, empty recording. `sample_rate` must be 8000 or 16000 and `channels` 1 or 2.
    pub fn new(law: Law, sample_rate: u32, channels: u16) -> Result<Self, WavError> {
        if !(1..=2).contains(&channels) {
            return Err(WavError::UnsupportedChannels(channels));
        }
        if !SUPPORTED_RATES.contains(&sample_rate) {
            return Err(WavError::UnsupportedSampleRate(sample_rate));
        }
        Ok(WavWriter {
            codec: law.into(),
            sample_rate,
            channels,
            data_len: 0,
            flushed_len: 0,
        })
    }

    /// A new stereo recording (channel 1 = caller, channel 2 = callee).
    pub fn stereo(law: Law, sample_rate: u32) -> Result<Self, WavError> {
        WavWriter::new(law, sample_rate, 2)
    }

    /// The codec written.
    pub fn codec(&self) -> Codec {
        self.codec
    }

    /// Samples per second per channel.
    pub fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    /// Channel count.
    pub fn channels(&self) -> u16 {
        self.channels
    }

    /// Bytes per frame (one byte per channel).
    pub fn block_align(&self) -> u16 {
        self.channels
    }

    /// Where the audio starts: [`G711_HEADER_LEN`](super::G711_HEADER_LEN).
    pub fn header_len(&self) -> u64 {
        header_len(self.codec) as u64
    }

    /// The header for the audio appended so far; written at offset 0 when the file is
    /// created (then with a data length of 0).
    pub fn header(&self) -> Vec<u8> {
        wav_header(self.codec, self.sample_rate, self.channels, self.data_len)
    }

    /// Audio bytes appended so far.
    pub fn data_len(&self) -> u64 {
        u64::from(self.data_len)
    }

    /// Audio bytes the header covers (as of the last [`flush`](Self::flush)).
    pub fn flushed_len(&self) -> u64 {
        u64::from(self.flushed_len)
    }

    /// The file offset the next frames go to.
    pub fn next_offset(&self) -> u64 {
        self.header_len() + self.data_len()
    }

    /// Length of the file once everything appended is written.
    pub fn file_len(&self) -> u64 {
        self.next_offset()
    }

    /// Duration of the audio appended so far, in milliseconds (rounded down).
    pub fn duration_ms(&self) -> u64 {
        self.data_len() / u64::from(self.block_align()) * 1000 / u64::from(self.sample_rate)
    }

    /// Records that `len` bytes of interleaved frames are appended, and returns the file
    /// offset the caller writes them at. Fails without changing state on a partial frame or
    /// at the size limit.
    pub fn append(&mut self, len: usize) -> Result<u64, WavIoError> {
        let block_align = self.block_align();
        if !len.is_multiple_of(usize::from(block_align)) {
            return Err(WavIoError::PartialFrame { len, block_align });
        }
        let at = self.next_offset();
        let new_len = u32::try_from(len)
            .ok()
            .and_then(|l| self.data_len.checked_add(l))
            .filter(|l| *l <= max_data_len(self.codec))
            .ok_or(WavIoError::TooLarge)?;
        self.data_len = new_len;
        Ok(at)
    }

    /// Marks everything appended as covered by the header and returns the header fields to
    /// rewrite: RIFF size, `fact` sample count, `data` size. Write them only after the audio.
    pub fn flush(&mut self) -> [HeaderPatch; 3] {
        self.flushed_len = self.data_len;
        let samples = self.data_len / u32::from(self.block_align());
        let fact = fact_count_offset(self.codec).unwrap_or(RIFF_SIZE_OFFSET);
        [
            HeaderPatch {
                offset: RIFF_SIZE_OFFSET,
                bytes: riff_size(self.codec, self.data_len).to_le_bytes(),
            },
            HeaderPatch {
                offset: fact,
                bytes: samples.to_le_bytes(),
            },
            HeaderPatch {
                offset: data_size_offset(self.codec),
                bytes: self.data_len.to_le_bytes(),
            },
        ]
    }
}

/// A file whose length can be cut back: how a write that stopped in the middle of a frame
/// is undone, so the file never ends in half a frame.
pub trait SetLen {
    /// Truncates (or extends) the file to `len` bytes.
    fn set_len(&mut self, len: u64) -> io::Result<()>;
}

impl SetLen for std::fs::File {
    fn set_len(&mut self, len: u64) -> io::Result<()> {
        std::fs::File::set_len(self, len)
    }
}

impl SetLen for Cursor<Vec<u8>> {
    fn set_len(&mut self, len: u64) -> io::Result<()> {
        let len = usize::try_from(len).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "length"))?;
        self.get_mut().resize(len, 0);
        Ok(())
    }
}

/// A [`WavWriter`] driving a `Write + Seek` file.
#[derive(Debug)]
pub struct WavFile<W: Write + Seek> {
    inner: W,
    state: WavWriter,
    /// Where `inner`'s cursor is, to avoid a seek per write.
    pos: u64,
    /// A failed write may have left bytes past the last whole frame that could not be cut
    /// off yet; the next flush tries again, so the header and the length agree.
    ragged_tail: bool,
}

impl<W: Write + Seek> WavFile<W> {
    /// Writes the header of an empty recording at offset 0 of `inner`.
    pub fn create(mut inner: W, state: WavWriter) -> Result<Self, WavIoError> {
        let header = state.header();
        inner.seek(SeekFrom::Start(0))?;
        inner.write_all(&header)?;
        let pos = header.len() as u64;
        let mut file = WavFile {
            inner,
            state,
            pos,
            ragged_tail: false,
        };
        // Sizes for what `state` already holds (0 for a new writer).
        file.write_patches()?;
        Ok(file)
    }

    /// The recording's state.
    pub fn state(&self) -> &WavWriter {
        &self.state
    }

    /// The inner writer (e.g. to `sync_data` a `File`).
    pub fn get_ref(&self) -> &W {
        &self.inner
    }

    /// The inner writer, mutably. Moving its cursor is harmless: every write seeks.
    pub fn get_mut(&mut self) -> &mut W {
        self.pos = u64::MAX;
        &mut self.inner
    }

    fn seek_to(&mut self, at: u64) -> io::Result<()> {
        if self.pos != at {
            self.inner.seek(SeekFrom::Start(at))?;
            self.pos = at;
        }
        Ok(())
    }

    fn write_patches(&mut self) -> Result<(), WavIoError> {
        for patch in self.state.flush() {
            self.seek_to(patch.offset)?;
            self.inner.write_all(&patch.bytes)?;
            self.pos = patch.offset + 4;
        }
        Ok(())
    }
}

impl<W: Write + Seek + SetLen> WavFile<W> {
    /// Appends whole interleaved frames (stereo: caller byte, callee byte, …).
    ///
    /// On an error the frames that did reach the file stay appended — `state().data_len()`
    /// says how far the write got — and a half frame left by a short write is cut off, so
    /// the caller can flush, keep the rest and retry it later, or finish. Refused without
    /// writing anything: a partial frame ([`WavIoError::PartialFrame`]) and the size limit.
    pub fn write_frames(&mut self, frames: &[u8]) -> Result<(), WavIoError> {
        if frames.is_empty() {
            return Ok(());
        }
        // Validate on a copy first, so a refusal changes nothing.
        let at = self.state.clone().append(frames.len())?;
        let mut done = 0;
        let result = self.seek_to(at).and_then(|()| {
            while done < frames.len() {
                match self.inner.write(&frames[done..]) {
                    Ok(0) => return Err(io::Error::from(io::ErrorKind::WriteZero)),
                    Ok(n) => done += n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
            Ok(())
        });
        let block_align = usize::from(self.state.block_align());
        let whole = done - done % block_align;
        self.state
            .append(whole)
            .expect("a prefix of an accepted append is accepted");
        match result {
            Ok(()) => {
                self.pos = at + frames.len() as u64;
                Ok(())
            }
            Err(e) => {
                self.pos = u64::MAX;
                // Whatever the kernel took past the last whole frame (or, when the error
                // came after a write we cannot see, any stray bytes) goes: the file ends
                // exactly where the state says, so the next flush is truthful.
                self.ragged_tail = true;
                let _ = self.cut_tail();
                Err(e.into())
            }
        }
    }

    /// Writes the audio out, then rewrites the header sizes to cover it. When a failed write
    /// may have left bytes past the last whole frame, they are cut off first: the header then
    /// describes exactly what the file holds.
    pub fn flush(&mut self) -> Result<(), WavIoError> {
        self.cut_tail()?;
        self.inner.flush()?;
        self.write_patches()?;
        self.inner.flush()?;
        Ok(())
    }

    /// Flushes and returns the inner writer.
    pub fn finish(mut self) -> Result<W, WavIoError> {
        self.flush()?;
        Ok(self.inner)
    }

    fn cut_tail(&mut self) -> io::Result<()> {
        if self.ragged_tail {
            self.inner.set_len(self.state.file_len())?;
            self.ragged_tail = false;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;
    use crate::wav::WavInfo;

    fn stereo_file() -> WavFile<Cursor<Vec<u8>>> {
        let state = WavWriter::stereo(Law::Ulaw, 8000).expect("valid format");
        WavFile::create(Cursor::new(Vec::new()), state).expect("in-memory create")
    }

    #[test]
    fn new_file_is_a_valid_empty_wav() {
        let f = stereo_file();
        let bytes = f.get_ref().get_ref();
        assert_eq!(bytes.len(), 58, "header only");
        let info = WavInfo::parse(bytes).expect("empty file parses");
        assert_eq!(info.data_len, 0, "no audio yet");
        assert_eq!(info.channels, 2, "stereo");
        assert_eq!(info.codec, Codec::Ulaw, "µ-law");
    }

    #[test]
    fn header_covers_audio_up_to_the_last_flush() {
        let mut f = stereo_file();
        f.write_frames(&[1u8; 16000]).expect("one second");
        f.flush().expect("flush");
        f.write_frames(&[2u8; 800]).expect("50 ms more, unflushed");
        let bytes = f.get_ref().get_ref().clone();
        assert_eq!(bytes.len(), 58 + 16800, "all audio is in the file");
        let info = WavInfo::parse_with_file_len(&bytes, bytes.len() as u64).expect("valid");
        assert_eq!(info.data_len, 16000, "readers see up to the last flush");
        assert_eq!(info.duration_ms(), 1000, "one second");

        let bytes = f.finish().expect("finish").into_inner();
        let info = WavInfo::parse(&bytes).expect("valid");
        assert_eq!(info.data_len, 16800, "finish covers everything");
        let fact = u32::from_le_bytes([bytes[46], bytes[47], bytes[48], bytes[49]]);
        assert_eq!(fact, 8400, "fact holds samples per channel");
        assert_eq!(&bytes[58 + 16000..58 + 16001], &[2], "audio lands after earlier audio");
    }

    #[test]
    fn partial_frames_are_refused_without_changing_state() {
        let mut f = stereo_file();
        let err = f.write_frames(&[0u8; 3]).expect_err("3 bytes is 1.5 stereo frames");
        assert!(
            matches!(err, WavIoError::PartialFrame { len: 3, block_align: 2 }),
            "{err}"
        );
        assert_eq!(f.state().data_len(), 0, "nothing appended");
    }

    #[test]
    fn sans_io_state_reports_offsets_and_patches() {
        let mut w = WavWriter::new(Law::Alaw, 16000, 1).expect("valid");
        assert_eq!(w.append(10).expect("ok"), 58, "first audio right after the header");
        assert_eq!(w.append(6).expect("ok"), 68, "then after the previous block");
        assert_eq!(w.flushed_len(), 0, "nothing flushed yet");
        let patches = w.flush();
        assert_eq!(w.flushed_len(), 16, "flush covers all appended");
        assert_eq!(patches[0].offset, 4, "RIFF size first");
        assert_eq!(u32::from_le_bytes(patches[0].bytes), 50 + 16, "RIFF size value");
        assert_eq!(patches[1].offset, 46, "fact count");
        assert_eq!(u32::from_le_bytes(patches[1].bytes), 16, "mono: samples = bytes");
        assert_eq!(patches[2].offset, 54, "data size last");
        assert_eq!(u32::from_le_bytes(patches[2].bytes), 16, "data size value");
        assert_eq!(w.duration_ms(), 1, "16 samples at 16 kHz");
    }

    #[test]
    fn size_limit_is_enforced() {
        let mut w = WavWriter::stereo(Law::Ulaw, 8000).expect("valid");
        let max = max_data_len(Codec::Ulaw) as usize;
        assert!(w.append(max).is_ok(), "exactly the max fits");
        assert!(
            matches!(w.append(2), Err(WavIoError::TooLarge)),
            "one more frame does not"
        );
    }

    #[test]
    fn bad_formats_are_refused() {
        assert_eq!(
            WavWriter::new(Law::Ulaw, 44100, 2).err(),
            Some(WavError::UnsupportedSampleRate(44100)),
            "44.1 kHz is not telephony"
        );
        assert_eq!(
            WavWriter::new(Law::Ulaw, 8000, 3).err(),
            Some(WavError::UnsupportedChannels(3)),
            "three channels"
        );
    }
    /// A file on a disk with room for `cap` bytes in all: a write past it stores what fits,
    /// then fails with ENOSPC, as a full file system does.
    struct SmallDisk {
        file: Cursor<Vec<u8>>,
        cap: usize,
    }

    impl Write for SmallDisk {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let at = usize::try_from(self.file.position()).expect("small");
            let room = self.cap.saturating_sub(at);
            if room == 0 && !buf.is_empty() {
                return Err(io::Error::from_raw_os_error(28)); // ENOSPC
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

    fn small_disk(cap: usize) -> WavFile<SmallDisk> {
        let state = WavWriter::stereo(Law::Ulaw, 8000).expect("valid format");
        let disk = SmallDisk {
            file: Cursor::new(Vec::new()),
            cap,
        };
        WavFile::create(disk, state).expect("the header fits")
    }

    /// Asserts that the header's sizes describe exactly the bytes of the file.
    fn assert_header_matches_file(bytes: &[u8], what: &str) -> WavInfo {
        let info = WavInfo::parse(bytes).expect("the header parses");
        assert_eq!(
            info.data_offset + info.data_len,
            bytes.len() as u64,
            "{what}: the data size covers every byte after the header and no more"
        );
        let riff = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]);
        assert_eq!(
            u64::from(riff) + 8,
            bytes.len() as u64,
            "{what}: the RIFF size is the file length minus 8"
        );
        assert_eq!(info.data_len % 2, 0, "{what}: whole stereo frames only");
        info
    }

    #[test]
    fn issue_13_short_write_on_a_full_disk_keeps_whole_frames_and_cuts_the_half_frame() {
        // Room for 1001 audio bytes: 500 whole stereo frames and half of the next one.
        let mut f = small_disk(58 + 1001);
        let frames: Vec<u8> = (0..2000u32).map(|i| (i % 251) as u8).collect();
        let err = f.write_frames(&frames).expect_err("the disk is full after 1001 bytes");
        assert!(
            matches!(&err, WavIoError::Io(e) if e.raw_os_error() == Some(28)),
            "the error is the disk's ENOSPC: {err}"
        );
        assert_eq!(
            f.state().data_len(),
            1000,
            "the 500 whole frames that reached the file stay"
        );
        f.flush().expect("the header can be rewritten in place on a full disk");
        let bytes = f.get_ref().file.get_ref().clone();
        assert_eq!(bytes.len(), 58 + 1000, "the half frame was cut off again");
        let info = assert_header_matches_file(&bytes, "after the short write");
        assert_eq!(info.data_len, 1000, "readers see the whole frames");
        assert_eq!(
            &bytes[58..],
            &frames[..1000],
            "the audio kept is the start of what was offered"
        );
    }

    #[test]
    fn issue_13_retry_after_space_returns_continues_after_the_last_whole_frame() {
        let mut f = small_disk(58 + 1001);
        let frames: Vec<u8> = (0..2000u32).map(|i| (i % 251) as u8).collect();
        f.write_frames(&frames).expect_err("the disk is full");
        let done = usize::try_from(f.state().data_len()).expect("small");
        f.get_mut().cap = usize::MAX; // space returns
        f.write_frames(&frames[done..]).expect("the rest fits now");
        let bytes = f.finish().expect("finish").file.into_inner();
        let info = assert_header_matches_file(&bytes, "after the retry");
        assert_eq!(info.data_len, 2000, "every frame is in the file once");
        assert_eq!(&bytes[58..], &frames[..], "in order, with nothing doubled or skipped");
    }

    #[test]
    fn issue_13_a_write_refused_outright_changes_nothing() {
        let mut f = small_disk(58);
        f.write_frames(&[7u8; 320]).expect_err("no room at all");
        assert_eq!(f.state().data_len(), 0, "nothing appended");
        let bytes = f.finish().expect("finish").file.into_inner();
        assert_eq!(bytes.len(), 58, "header only");
        assert_header_matches_file(&bytes, "an empty recording");
    }

    #[test]
    fn issue_13_a_frame_split_over_two_failed_writes_is_written_once_whole() {
        // 3 bytes of room: one whole frame, half of the second.
        let mut f = small_disk(58 + 3);
        f.write_frames(&[1, 2, 3, 4]).expect_err("full after 3 bytes");
        assert_eq!(f.state().data_len(), 2, "one whole frame kept");
        f.get_mut().cap = 58 + 5; // one more byte than needed for the second frame
        f.write_frames(&[3, 4, 5, 6])
            .expect_err("full again in the middle of frame 3");
        assert_eq!(
            f.state().data_len(),
            4,
            "the second frame is complete now, the third was cut"
        );
        let bytes = f.finish().expect("finish").file.into_inner();
        assert_eq!(&bytes[58..], &[1, 2, 3, 4], "whole frames, each once");
        assert_header_matches_file(&bytes, "after two short writes");
    }
}
