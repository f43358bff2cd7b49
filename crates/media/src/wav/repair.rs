//! Repairing a recording left behind by a crash.
//!
//! A recording written by [`WavFile`](super::WavFile) is valid up to its last flush, but
//! after a crash the file may hold more audio than the header says (appended, not yet
//! flushed), or less (the header reached the disk, the audio did not), and may end in half a
//! frame. [`repair`] recomputes the sizes from the file length: the audio is every whole
//! frame after the header. Run it at start-up on every recording still marked in progress.
//!
//! This assumes nothing follows the `data` chunk, which is true of callrec's own files; a
//! foreign file with trailing chunks (`LIST` after `data`) must not be "repaired".

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};

use super::header::RIFF_SIZE_OFFSET;
use super::parse::read_head;
use super::{WavInfo, WavIoError};

/// What [`repair`] found and did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepairReport {
    /// The file as it is after the repair (`data_len` = whole frames present).
    pub info: WavInfo,
    /// The `data` size the header held before.
    pub declared_data_len_before: u32,
    /// The file length before.
    pub file_len_before: u64,
    /// The length the file must have after the repair: the caller truncates to it
    /// ([`repair_file`] does). Shorter than before when a half frame is dropped.
    pub file_len: u64,
    /// Bytes past the last whole frame (dropped by the truncation).
    pub dropped_bytes: u64,
    /// Whether any header field was rewritten.
    pub header_rewritten: bool,
}

/// Rewrites the RIFF size, `data` size and `fact` sample count of a recording to cover every
/// whole frame in the file. Writes only when a field is wrong. Does not truncate (a generic
/// `Write` cannot): truncate to [`RepairReport::file_len`], or use [`repair_file`].
pub fn repair<F: Read + Write + Seek>(file: &mut F) -> Result<RepairReport, WavIoError> {
    let (file_len_before, header) = read_head(file)?;
    let mut info = WavInfo::parse_to_file_end(&header, file_len_before)?;

    // Keep the RIFF size (data_offset - 8 + data + pad) within a u32, in whole frames.
    let align = u64::from(info.block_align.max(1));
    let room = u64::from(u32::MAX) - (info.data_offset - 8) - 1;
    if info.data_len > room {
        info.data_len = room - room % align;
    }
    let data_len = u32::try_from(info.data_len).map_err(|_| WavIoError::TooLarge)?;
    let pad = u64::from(data_len & 1);
    let riff = u32::try_from(info.data_offset - 8 + info.data_len + pad).map_err(|_| WavIoError::TooLarge)?;

    let mut patches = vec![(RIFF_SIZE_OFFSET, riff), (info.data_offset - 4, data_len)];
    if let Some(fact) = info.fact_offset {
        patches.push((fact, (info.data_len / align) as u32));
    }
    let mut header_rewritten = false;
    for (offset, value) in patches {
        // Every offset is inside the header prefix the parser walked.
        let at = offset as usize;
        let current = header
            .get(at..at + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
        if current != Some(value) {
            file.seek(SeekFrom::Start(offset))?;
            file.write_all(&value.to_le_bytes())?;
            header_rewritten = true;
        }
    }
    let data_end = info.data_end();
    if pad == 1 && file_len_before <= data_end {
        // RIFF chunks are word aligned: an odd data chunk is followed by a pad byte.
        file.seek(SeekFrom::Start(data_end))?;
        file.write_all(&[0])?;
    }
    file.flush()?;
    info.declared_data_len = data_len;
    let file_len = data_end + pad;
    Ok(RepairReport {
        declared_data_len_before: header
            .get(info.data_offset as usize - 4..info.data_offset as usize)
            .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]])),
        file_len_before,
        file_len,
        dropped_bytes: file_len_before.saturating_sub(file_len),
        header_rewritten,
        info,
    })
}

/// [`repair`] on a file, then truncates it to the repaired length and syncs it to disk.
pub fn repair_file(file: &mut File) -> Result<RepairReport, WavIoError> {
    let report = repair(file)?;
    if report.file_len != report.file_len_before {
        file.set_len(report.file_len)?;
    }
    file.sync_data()?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;
    use crate::g711::Law;
    use crate::wav::{wav_header, Codec, WavError, WavFile, WavWriter};

    fn crashed_recording(flushed: usize, unflushed: usize, tail: usize) -> Vec<u8> {
        let state = WavWriter::stereo(Law::Alaw, 8000).expect("valid");
        let mut f = WavFile::create(Cursor::new(Vec::new()), state).expect("create");
        f.write_frames(&vec![7u8; flushed]).expect("write");
        f.flush().expect("flush");
        f.write_frames(&vec![8u8; unflushed]).expect("write");
        let mut bytes = f.get_ref().get_ref().clone();
        bytes.extend(std::iter::repeat_n(9u8, tail)); // half a frame
        bytes
    }

    #[test]
    fn repair_covers_unflushed_frames_and_drops_a_half_frame() {
        let bytes = crashed_recording(1600, 400, 1);
        let mut cur = Cursor::new(bytes);
        let report = repair(&mut cur).expect("repairable");
        assert_eq!(report.declared_data_len_before, 1600, "header said the flushed part");
        assert_eq!(report.info.data_len, 2000, "all whole frames are kept");
        assert_eq!(report.file_len_before, 58 + 2001, "with the half frame");
        assert_eq!(report.file_len, 58 + 2000, "truncate to whole frames");
        assert_eq!(report.dropped_bytes, 1, "one byte of a half frame");
        assert!(report.header_rewritten, "sizes were stale");

        let mut bytes = cur.into_inner();
        bytes.truncate(report.file_len as usize);
        let info = WavInfo::parse(&bytes).expect("valid after repair");
        assert_eq!(info.data_len, 2000, "header now covers everything");
        let fact = u32::from_le_bytes([bytes[46], bytes[47], bytes[48], bytes[49]]);
        assert_eq!(fact, 1000, "fact updated");

        let mut cur = Cursor::new(bytes);
        let again = repair(&mut cur).expect("still fine");
        assert!(!again.header_rewritten, "repair is idempotent");
        assert_eq!(again.dropped_bytes, 0, "nothing more to drop");
    }

    #[test]
    fn repair_fixes_a_header_that_claims_more_than_the_file_holds() {
        let mut bytes = wav_header(Codec::Ulaw, 8000, 2, 1_000_000);
        bytes.extend_from_slice(&[0xFF; 100]);
        let mut cur = Cursor::new(bytes);
        let report = repair(&mut cur).expect("repairable");
        assert_eq!(report.info.data_len, 100, "only what is there");
        let info = WavInfo::parse(cur.get_ref()).expect("valid");
        assert_eq!(info.data_len, 100, "header agrees");
    }

    #[test]
    fn repair_writes_the_pad_byte_of_an_odd_mono_file() {
        let mut bytes = wav_header(Codec::Ulaw, 8000, 1, 0);
        bytes.extend_from_slice(&[0xFF; 3]);
        let mut cur = Cursor::new(bytes);
        let report = repair(&mut cur).expect("repairable");
        assert_eq!(report.info.data_len, 3, "three mono samples");
        assert_eq!(report.file_len, 58 + 4, "plus the pad byte");
        assert_eq!(cur.get_ref().len(), 62, "pad byte written");
    }

    #[test]
    fn a_file_without_a_whole_header_is_refused() {
        let mut bytes = wav_header(Codec::Ulaw, 8000, 2, 0);
        bytes.truncate(30);
        let err = repair(&mut Cursor::new(bytes)).expect_err("no data chunk header");
        assert!(matches!(err, WavIoError::Wav(WavError::Truncated)), "{err}");
    }

    #[test]
    fn repair_file_truncates_on_disk() {
        let dir = std::env::temp_dir().join(format!("callrec-media-repair-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("crashed.wav");
        std::fs::write(&path, crashed_recording(160, 40, 1)).expect("write");
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .expect("open");
        let report = repair_file(&mut file).expect("repair");
        drop(file);
        let bytes = std::fs::read(&path).expect("read back");
        assert_eq!(bytes.len() as u64, report.file_len, "truncated on disk");
        assert_eq!(WavInfo::parse(&bytes).expect("valid").data_len, 200, "all frames");
        std::fs::remove_dir_all(&dir).expect("clean up");
    }
}
