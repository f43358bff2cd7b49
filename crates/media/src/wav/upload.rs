//! Checking an uploaded WAV file's declared sizes against the bytes received, and making its
//! header tell the truth before it is stored (#13.7).
//!
//! A PBX's file is stored as it came, except for its size fields, which must agree with the
//! file: players believe them (a data size of `0xFFFFFFFF` reads as 74 hours), and the row's
//! duration is computed from them. [`check_upload`] decides:
//!
//! - data size `0` or `0xFFFFFFFF`, the placeholder of a writer that streamed or crashed:
//!   repaired, the audio runs to the end of the file (a half frame at the end is dropped);
//! - a data size larger than the bytes after it: refused ([`WavError::DataTruncated`]);
//! - a data size smaller than the bytes after it, followed by well-formed RIFF chunks up to
//!   the end of the file (`LIST` metadata after the audio is legal RIFF): kept as it is;
//! - followed by anything else: refused ([`WavError::TrailingBytes`]). Header and body
//!   disagree and neither can be believed: the size may be stale (and the bytes audio) or the
//!   bytes junk (and the size right); storing either guess would keep a wrong recording
//!   without a word, while a refusal tells the PBX at once and it still has its file;
//! - the RIFF size and the `fact` sample count are rewritten to match, whatever they said,
//!   and the pad byte of an odd last chunk is written when the file ends without it.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};

use super::header::RIFF_SIZE_OFFSET;
use super::parse::{read_head, MAX_CHUNKS};
use super::{WavError, WavInfo, WavIoError};

/// What [`check_upload`] found and did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadReport {
    /// The audio as the (rewritten) header describes it.
    pub info: WavInfo,
    /// The upload's length as received.
    pub file_len_before: u64,
    /// The length the file must have: the caller truncates to it ([`check_upload_file`]
    /// does). Shorter when a placeholder's half frame is dropped, one longer when a pad byte
    /// was appended.
    pub file_len: u64,
    /// Whether any header field was rewritten or a pad byte appended: the bytes stored are
    /// not the bytes received (their checksum changes).
    pub rewritten: bool,
}

/// Checks the sizes an uploaded WAV file declares against its length and rewrites the ones
/// that are wrong but repairable (see the module documentation for what is refused). Does
/// not truncate (a generic `Write` cannot): truncate to [`UploadReport::file_len`], or use
/// [`check_upload_file`].
pub fn check_upload<F: Read + Write + Seek>(file: &mut F) -> Result<UploadReport, WavIoError> {
    let (file_len_before, header) = read_head(file)?;
    let mut info = WavInfo::parse_with_file_len(&header, file_len_before)?;
    let declared = info.declared_data_len;

    // Where the data chunk ends (with its pad byte) and everything after it.
    let (data_size, end) = if matches!(declared, 0 | u32::MAX) {
        let data_size = u32::try_from(info.data_len).map_err(|_| WavIoError::TooLarge)?;
        (data_size, info.data_end() + u64::from(data_size & 1))
    } else {
        let chunk_end = info.data_offset + u64::from(declared) + u64::from(declared & 1);
        let end = walk_trailing_chunks(file, chunk_end, file_len_before).ok_or(WavError::TrailingBytes {
            declared,
            trailing: file_len_before.saturating_sub(chunk_end),
        })?;
        (declared, end)
    };
    let riff = u32::try_from(end - 8).map_err(|_| WavIoError::TooLarge)?;

    let align = u64::from(info.block_align.max(1));
    let mut patches = vec![(RIFF_SIZE_OFFSET, riff), (info.data_offset - 4, data_size)];
    if let Some(fact) = info.fact_offset {
        patches.push((fact, (info.data_len / align) as u32));
    }
    let mut rewritten = false;
    for (offset, value) in patches {
        // Every offset is inside the header prefix the parser walked.
        let at = offset as usize;
        let current = header
            .get(at..at + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
        if current != Some(value) {
            file.seek(SeekFrom::Start(offset))?;
            file.write_all(&value.to_le_bytes())?;
            rewritten = true;
        }
    }
    if end > file_len_before {
        // The last chunk is odd and the file ends without its pad byte (RIFF chunks are
        // word aligned); walk_trailing_chunks allows only that one byte.
        file.seek(SeekFrom::Start(file_len_before))?;
        file.write_all(&[0])?;
        rewritten = true;
    }
    file.flush()?;
    info.declared_data_len = data_size;
    Ok(UploadReport {
        info,
        file_len_before,
        file_len: end,
        rewritten: rewritten || end != file_len_before,
    })
}

/// Walks the chunks from `pos` to `file_len`: the end of the file as the chunks lay it out
/// (`file_len`, or one more when the last chunk lacks its pad byte), or `None` when the bytes
/// are not well-formed chunks (or more than [`MAX_CHUNKS`] of them). A chunk id is four
/// printable ASCII characters, not starting with a space (RIFF pads short ids on the right).
fn walk_trailing_chunks<F: Read + Seek>(file: &mut F, mut pos: u64, file_len: u64) -> Option<u64> {
    for _ in 0..=MAX_CHUNKS {
        if pos >= file_len {
            // At the end, or one byte past it: an odd last chunk without its pad byte
            // (every chunk below, and the data chunk the caller starts after, ends there).
            return (pos <= file_len + 1).then_some(pos);
        }
        if pos + 8 > file_len {
            return None;
        }
        let mut head = [0u8; 8];
        file.seek(SeekFrom::Start(pos)).ok()?;
        file.read_exact(&mut head).ok()?;
        let id_ok = head[0] != b' ' && head[..4].iter().all(|b| (0x20..=0x7E).contains(b));
        let size = u64::from(u32::from_le_bytes([head[4], head[5], head[6], head[7]]));
        let next = pos + 8 + size + (size & 1);
        if !id_ok || next > file_len + (size & 1) {
            return None;
        }
        pos = next;
    }
    None
}

/// [`check_upload`] on a file, then truncates it to the checked length and syncs it to disk.
pub fn check_upload_file(file: &mut File) -> Result<UploadReport, WavIoError> {
    let report = check_upload(file)?;
    if report.file_len < report.file_len_before {
        file.set_len(report.file_len)?;
    }
    file.sync_data()?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;
    use crate::wav::{wav_header, Codec, G711_HEADER_LEN, PCM16_HEADER_LEN};

    fn u32_at(b: &[u8], at: usize) -> u32 {
        u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
    }

    /// A G.711 file whose header declares `declared` data bytes and `riff` as the RIFF size,
    /// followed by `audio` bytes.
    fn g711(channels: u16, declared: u32, riff: u32, audio: usize) -> Vec<u8> {
        let mut bytes = wav_header(Codec::Ulaw, 8000, channels, 0);
        bytes[4..8].copy_from_slice(&riff.to_le_bytes());
        bytes[54..58].copy_from_slice(&declared.to_le_bytes());
        bytes.extend(std::iter::repeat_n(0xD5u8, audio));
        bytes
    }

    /// Runs the check and returns the report and the file as it must be stored.
    fn check(bytes: Vec<u8>) -> Result<(UploadReport, Vec<u8>), WavIoError> {
        let mut cur = Cursor::new(bytes);
        let report = check_upload(&mut cur)?;
        let mut bytes = cur.into_inner();
        bytes.truncate(report.file_len as usize);
        Ok((report, bytes))
    }

    fn assert_truthful(bytes: &[u8], what: &str) {
        let info = WavInfo::parse(bytes).unwrap_or_else(|e| panic!("{what}: the stored file parses: {e}"));
        assert_eq!(
            u64::from(u32_at(bytes, 4)),
            bytes.len() as u64 - 8,
            "{what}: RIFF size is the file"
        );
        assert_eq!(
            u64::from(info.declared_data_len),
            info.data_len,
            "{what}: the data size is the whole frames that follow"
        );
    }

    #[test]
    fn issue13_streaming_placeholder_sizes_become_the_real_length() {
        let (report, bytes) = check(g711(1, u32::MAX, u32::MAX, 32_000)).expect("repairable");
        assert!(report.rewritten, "the placeholders were replaced");
        assert_eq!(report.info.data_len, 32_000, "every byte received is audio");
        assert_eq!(report.info.duration_ms(), 4000, "four seconds, not 74 hours");
        assert_eq!(u32_at(&bytes, 54), 32_000, "the data size tells the truth");
        assert_eq!(u32_at(&bytes, 46), 32_000, "the fact sample count too");
        assert_truthful(&bytes, "0xFFFFFFFF");

        let (again, _) = check(bytes).expect("still valid");
        assert!(!again.rewritten, "a truthful file is stored as received");
    }

    #[test]
    fn a_zero_placeholder_drops_a_half_frame_at_the_end() {
        let (report, bytes) = check(g711(2, 0, 0, 16_001)).expect("repairable");
        assert_eq!(report.info.data_len, 16_000, "whole stereo frames only");
        assert_eq!(
            report.file_len,
            G711_HEADER_LEN as u64 + 16_000,
            "the half frame is cut off"
        );
        assert_truthful(&bytes, "zero placeholder");
    }

    #[test]
    fn issue13_a_short_data_size_followed_by_more_bytes_is_refused() {
        let bytes = g711(1, 100, (G711_HEADER_LEN - 8 + 100) as u32, 32_100);
        let err = check(bytes).expect_err("the header and the body disagree");
        assert!(
            matches!(
                err,
                WavIoError::Wav(WavError::TrailingBytes {
                    declared: 100,
                    trailing: 32_000
                })
            ),
            "refused as trailing bytes: {err}"
        );
    }

    #[test]
    fn chunks_after_the_data_chunk_are_kept() {
        let mut bytes = g711(1, 100, 0, 100);
        bytes.extend_from_slice(b"LIST");
        bytes.extend_from_slice(&5u32.to_le_bytes());
        bytes.extend_from_slice(b"INFOx\0");
        bytes[46..50].copy_from_slice(&100u32.to_le_bytes()); // fact: 100 mono samples
        let len = bytes.len();
        bytes[4..8].copy_from_slice(&((len - 8) as u32).to_le_bytes());
        let (report, stored) = check(bytes.clone()).expect("legal RIFF");
        assert!(
            !report.rewritten,
            "a truthful file with metadata after the audio is stored as received"
        );
        assert_eq!(report.info.data_len, 100, "the audio is the data chunk");
        assert_eq!(stored, bytes, "not a byte changed");
    }

    #[test]
    fn a_wrong_riff_size_is_rewritten() {
        let (report, bytes) = check(g711(1, 800, 12, 800)).expect("repairable");
        assert!(report.rewritten, "the RIFF size was wrong");
        assert_eq!(report.info.duration_ms(), 100, "the data size was right");
        assert_truthful(&bytes, "RIFF size");
    }

    #[test]
    fn an_odd_data_chunk_at_the_end_gets_its_pad_byte() {
        let (report, bytes) = check(g711(1, 3, 0, 3)).expect("repairable");
        assert_eq!(report.file_len, G711_HEADER_LEN as u64 + 4, "plus the pad byte");
        assert_eq!(bytes.len(), G711_HEADER_LEN + 4, "pad byte written");
        assert_eq!(
            u32_at(&bytes, 4),
            (G711_HEADER_LEN + 4 - 8) as u32,
            "RIFF size counts it"
        );
    }

    #[test]
    fn a_data_size_beyond_the_file_is_refused() {
        let err = check(g711(1, 1000, 0, 999)).expect_err("truncated");
        assert!(
            matches!(
                err,
                WavIoError::Wav(WavError::DataTruncated {
                    declared: 1000,
                    available: 999
                })
            ),
            "refused as truncated: {err}"
        );
    }

    #[test]
    fn a_pcm16_file_without_a_fact_chunk_is_checked_too() {
        let mut bytes = wav_header(Codec::Pcm16, 16_000, 1, 0);
        bytes[40..44].copy_from_slice(&u32::MAX.to_le_bytes());
        bytes.extend(std::iter::repeat_n(0u8, 3201));
        let (report, bytes) = check(bytes).expect("repairable");
        assert_eq!(report.info.data_len, 3200, "whole 16-bit samples");
        assert_eq!(
            report.file_len,
            PCM16_HEADER_LEN as u64 + 3200,
            "the odd byte is cut off"
        );
        assert_truthful(&bytes, "PCM16");
    }

    #[test]
    fn check_upload_file_truncates_on_disk() {
        let dir = std::env::temp_dir().join(format!("callrec-media-upload-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("upload.wav");
        std::fs::write(&path, g711(2, u32::MAX, u32::MAX, 1601)).expect("write");
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .expect("open");
        let report = check_upload_file(&mut file).expect("check");
        drop(file);
        let bytes = std::fs::read(&path).expect("read back");
        assert_eq!(bytes.len() as u64, report.file_len, "truncated on disk");
        assert_truthful(&bytes, "on disk");
        std::fs::remove_dir_all(&dir).expect("clean up");
    }
}
