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

use std::io::{self, Seek, SeekFrom, Write};

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
        if len % usize::from(block_align) != 0 {
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

/// A [`WavWriter`] driving a `Write + Seek` file.
#[derive(Debug)]
pub struct WavFile<W: Write + Seek> {
    inner: W,
    state: WavWriter,
    /// Where `inner`'s cursor is, to avoid a seek per write.
    pos: u64,
}

impl<W: Write + Seek> WavFile<W> {
    /// Writes the header of an empty recording at offset 0 of `inner`.
    pub fn create(mut inner: W, state: WavWriter) -> Result<Self, WavIoError> {
        let header = state.header();
        inner.seek(SeekFrom::Start(0))?;
        inner.write_all(&header)?;
        let pos = header.len() as u64;
        let mut file = WavFile { inner, state, pos };
        // Sizes for what `state` already holds (0 for a new writer).
        file.write_patches()?;
        Ok(file)
    }

    /// Appends whole interleaved frames (stereo: caller byte, callee byte, …).
    pub fn write_frames(&mut self, frames: &[u8]) -> Result<(), WavIoError> {
        if frames.is_empty() {
            return Ok(());
        }
        let before = self.state.clone();
        let at = self.state.append(frames.len())?;
        let written = self.seek_to(at).and_then(|()| self.inner.write_all(frames));
        match written {
            Ok(()) => {
                self.pos = at + frames.len() as u64;
                Ok(())
            }
            Err(e) => {
                // The file is now in an unknown state past the header's sizes; keep the
                // state at what is known to be there so a retry or a flush stays truthful.
                self.state = before;
                self.pos = u64::MAX;
                Err(e.into())
            }
        }
    }

    /// Writes the audio out, then rewrites the header sizes to cover it.
    pub fn flush(&mut self) -> Result<(), WavIoError> {
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
}
