//! Parsing and validating a WAV header: where the audio is and how it is encoded.
//!
//! Used on uploads (the PBX's own recordings) and before serving or repairing a recording.
//! The parser reads only a header prefix of the file (at most [`MAX_HEADER_LEN`] bytes),
//! walks at most [`MAX_CHUNKS`] RIFF chunks, skips the ones it does not need (`LIST`, `fact`,
//! `bext`, `JUNK`, …) and stops at the `data` chunk: the audio itself is never read.
//!
//! Chunk layout per the RIFF specification: a 4-byte id, a little-endian u32 size, the body,
//! and a pad byte when the size is odd.

use super::{Codec, FORMAT_EXTENSIBLE};

/// The longest header prefix the parser looks at; callers read this much (or the whole file
/// if shorter) and pass it in. A `data` chunk that starts later is refused.
pub const MAX_HEADER_LEN: usize = 64 * 1024;
/// The most chunks walked before the `data` chunk.
pub const MAX_CHUNKS: usize = 64;

/// Sample rates callrec accepts (narrowband and wideband telephony).
pub const SUPPORTED_RATES: [u32; 2] = [8000, 16000];

/// The tail shared by every `KSDATAFORMAT_SUBTYPE_*` GUID built from a WAVE format tag
/// (`XXXXXXXX-0000-0010-8000-00AA00389B71`, little-endian fields), after the 2-byte tag and
/// its 2 zero bytes.
const SUBFORMAT_GUID_TAIL: [u8; 14] = [
    0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71,
];

/// Why a WAV header was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WavError {
    /// The file does not start with `RIFF` (RIFX, RF64 and other containers included).
    #[error("not a RIFF file")]
    NotRiff,
    /// The RIFF form type is not `WAVE`.
    #[error("RIFF file is not a WAVE file")]
    NotWave,
    /// No `fmt ` chunk before the `data` chunk (or none at all).
    #[error("missing fmt chunk before the data chunk")]
    MissingFmt,
    /// Two `fmt ` chunks.
    #[error("more than one fmt chunk")]
    DuplicateFmt,
    /// The `fmt ` chunk is shorter than its format needs.
    #[error("fmt chunk too short ({0} bytes)")]
    BadFmtChunk(u32),
    /// A format tag (or extensible subformat tag) other than PCM, A-law and µ-law.
    #[error("unsupported WAVE format tag {0:#06x} (PCM 1, A-law 6, µ-law 7 are supported)")]
    UnsupportedFormat(u16),
    /// A WAVE_FORMAT_EXTENSIBLE subformat GUID that is not built from a format tag.
    #[error("unsupported WAVE_FORMAT_EXTENSIBLE subformat GUID")]
    UnsupportedSubformat,
    /// A sample rate other than 8000 or 16000 Hz.
    #[error("unsupported sample rate {0} Hz (8000 and 16000 are supported)")]
    UnsupportedSampleRate(u32),
    /// A channel count other than 1 or 2.
    #[error("unsupported channel count {0} (1 or 2 are supported)")]
    UnsupportedChannels(u16),
    /// Bits per sample other than 16 for PCM or 8 for G.711.
    #[error("unsupported {bits} bits per sample for {codec}")]
    UnsupportedBitsPerSample {
        /// The codec of the file.
        codec: Codec,
        /// The bits per sample it declares.
        bits: u16,
    },
    /// `block_align` is not channels × bytes per sample.
    #[error("block align {found} does not match the format (expected {expected})")]
    BadBlockAlign {
        /// What the file says.
        found: u16,
        /// channels × bytes per sample.
        expected: u16,
    },
    /// The chunks end (per the RIFF size) without a `data` chunk.
    #[error("missing data chunk")]
    MissingData,
    /// The header bytes end before the `data` chunk header.
    #[error("WAV header truncated")]
    Truncated,
    /// The `data` chunk starts beyond [`MAX_HEADER_LEN`] or after [`MAX_CHUNKS`] chunks.
    #[error("WAV header too large (over {MAX_HEADER_LEN} bytes or {MAX_CHUNKS} chunks)")]
    HeaderTooLarge,
    /// The data size is `0xFFFFFFFF` (a streaming or crashed writer) and no file length was
    /// given to compute it: use [`WavInfo::parse_with_file_len`].
    #[error("data chunk length unknown; the file length is needed")]
    UnknownDataLen,
    /// The `data` chunk is followed by bytes that are not RIFF chunks: its declared size
    /// disagrees with the file (see [`check_upload`](super::upload::check_upload())).
    #[error("data chunk declares {declared} bytes but {trailing} more bytes follow it that are not RIFF chunks")]
    TrailingBytes {
        /// The size in the `data` chunk header.
        declared: u32,
        /// Bytes from the end of the data chunk to the end of the file.
        trailing: u64,
    },
    /// The `data` chunk claims more bytes than the file holds.
    #[error("data chunk declares {declared} bytes but the file holds {available}")]
    DataTruncated {
        /// The size in the `data` chunk header.
        declared: u32,
        /// Bytes from the data offset to the end of the file.
        available: u64,
    },
}

/// What a valid WAV header says about the audio.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WavInfo {
    /// The encoding of the samples.
    pub codec: Codec,
    /// Samples per second per channel (8000 or 16000).
    pub sample_rate: u32,
    /// 1 (mono) or 2 (stereo, channel 1 = caller, channel 2 = callee).
    pub channels: u16,
    /// Bits per sample of one channel (16 for PCM, 8 for G.711).
    pub bits_per_sample: u16,
    /// Bytes per frame (all channels of one sample instant).
    pub block_align: u16,
    /// File offset of the first audio byte.
    pub data_offset: u64,
    /// Usable audio bytes from `data_offset`, a whole number of frames.
    pub data_len: u64,
    /// The size field of the `data` chunk exactly as written (may be 0 or `0xFFFFFFFF`).
    pub declared_data_len: u32,
    /// File offset of the `fact` chunk's sample-count field, when the file has one.
    pub fact_offset: Option<u64>,
}

impl WavInfo {
    /// Parses a header prefix (the first [`MAX_HEADER_LEN`] bytes of the file, or all of it).
    ///
    /// The data length is taken from the `data` chunk, rounded down to whole frames; a size
    /// of `0xFFFFFFFF` is refused with [`WavError::UnknownDataLen`].
    pub fn parse(header_bytes: &[u8]) -> Result<WavInfo, WavError> {
        let mut info = parse_raw(header_bytes)?;
        if info.declared_data_len == u32::MAX {
            return Err(WavError::UnknownDataLen);
        }
        info.data_len = whole_frames(u64::from(info.declared_data_len), info.block_align);
        Ok(info)
    }

    /// Parses a header prefix of a file of `file_len` bytes.
    ///
    /// A data size of 0 or `0xFFFFFFFF` — what a writer that crashed or streamed leaves —
    /// is replaced by the bytes actually present after the data offset. A larger declared
    /// size than the file holds is [`WavError::DataTruncated`]. Either way the length is
    /// rounded down to whole frames, dropping a half-written last frame.
    pub fn parse_with_file_len(header_bytes: &[u8], file_len: u64) -> Result<WavInfo, WavError> {
        let mut info = parse_raw(header_bytes)?;
        let available = file_len.checked_sub(info.data_offset).ok_or(WavError::Truncated)?;
        let declared = info.declared_data_len;
        let len = match declared {
            0 | u32::MAX => available,
            d if u64::from(d) > available => return Err(WavError::DataTruncated { declared: d, available }),
            d => u64::from(d),
        };
        info.data_len = whole_frames(len, info.block_align);
        Ok(info)
    }

    /// Parses a header prefix of a file of `file_len` bytes, ignoring the declared data size:
    /// the audio runs to the end of the file (whole frames). Only for our own recordings,
    /// which have no chunk after `data`; used by [`repair`](super::repair()).
    pub(crate) fn parse_to_file_end(header_bytes: &[u8], file_len: u64) -> Result<WavInfo, WavError> {
        let mut info = parse_raw(header_bytes)?;
        let available = file_len.checked_sub(info.data_offset).ok_or(WavError::Truncated)?;
        info.data_len = whole_frames(available, info.block_align);
        Ok(info)
    }

    /// Number of frames (sample instants) in the data.
    pub fn frames(&self) -> u64 {
        self.data_len / u64::from(self.block_align.max(1))
    }

    /// Duration of the audio in milliseconds, rounded down.
    pub fn duration_ms(&self) -> u64 {
        self.frames() * 1000 / u64::from(self.sample_rate.max(1))
    }

    /// File offset just past the last usable audio byte.
    pub fn data_end(&self) -> u64 {
        self.data_offset + self.data_len
    }
}

fn whole_frames(len: u64, block_align: u16) -> u64 {
    let align = u64::from(block_align.max(1));
    len - len % align
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// The validated `fmt ` chunk.
struct Fmt {
    codec: Codec,
    sample_rate: u32,
    channels: u16,
    bits_per_sample: u16,
    block_align: u16,
}

/// Walks the chunks up to `data`; `data_len` is left 0 for the caller's length policy.
fn parse_raw(input: &[u8]) -> Result<WavInfo, WavError> {
    let cut = input.len() > MAX_HEADER_LEN;
    let bytes = &input[..input.len().min(MAX_HEADER_LEN)];
    // The error for "the bytes ran out": the caller's prefix was short, or ours was capped.
    let ran_out = if cut {
        WavError::HeaderTooLarge
    } else {
        WavError::Truncated
    };
    if bytes.len() < 4 {
        return Err(if b"RIFF".starts_with(bytes) {
            WavError::Truncated
        } else {
            WavError::NotRiff
        });
    }
    if &bytes[0..4] != b"RIFF" {
        return Err(WavError::NotRiff);
    }
    if bytes.len() < 12 {
        return Err(WavError::Truncated);
    }
    if &bytes[8..12] != b"WAVE" {
        return Err(WavError::NotWave);
    }
    let riff_size = u32_at(bytes, 4);
    // A RIFF size of 0 or 0xFFFFFFFF is a placeholder, not an end we can trust.
    let riff_end = match riff_size {
        0 | u32::MAX => None,
        s => Some(8 + u64::from(s)),
    };

    let len = bytes.len() as u64;
    let mut pos: u64 = 12;
    let mut fmt: Option<Fmt> = None;
    let mut fact_offset = None;
    for _ in 0..MAX_CHUNKS {
        if pos + 8 > len {
            let ended = riff_end.is_some_and(|end| pos + 8 > end);
            return Err(match (ended, fmt.is_some()) {
                (true, false) => WavError::MissingFmt,
                (true, true) => WavError::MissingData,
                (false, _) => ran_out,
            });
        }
        // In bounds: pos + 8 <= len, and len fits in usize.
        let at = pos as usize;
        let id = &bytes[at..at + 4];
        let size = u32_at(bytes, at + 4);
        let body = pos + 8;
        match id {
            b"data" => {
                let fmt = fmt.ok_or(WavError::MissingFmt)?;
                return Ok(WavInfo {
                    codec: fmt.codec,
                    sample_rate: fmt.sample_rate,
                    channels: fmt.channels,
                    bits_per_sample: fmt.bits_per_sample,
                    block_align: fmt.block_align,
                    data_offset: body,
                    data_len: 0,
                    declared_data_len: size,
                    fact_offset,
                });
            }
            b"fmt " => {
                if fmt.is_some() {
                    return Err(WavError::DuplicateFmt);
                }
                if body + u64::from(size) > len {
                    return Err(ran_out);
                }
                let start = body as usize;
                fmt = Some(parse_fmt(&bytes[start..start + size as usize])?);
            }
            b"fact" if size >= 4 => fact_offset = Some(body),
            _ => {}
        }
        pos = body + u64::from(size) + u64::from(size & 1);
    }
    Err(WavError::HeaderTooLarge)
}

/// Parses a `fmt ` chunk body: `WAVEFORMATEX` (16 or 18+ bytes) or `WAVEFORMATEXTENSIBLE`
/// (40 bytes, `cbSize` ≥ 22, subformat GUID at offset 24).
fn parse_fmt(b: &[u8]) -> Result<Fmt, WavError> {
    let size = b.len() as u32;
    if b.len() < 16 {
        return Err(WavError::BadFmtChunk(size));
    }
    let tag = u16_at(b, 0);
    let channels = u16_at(b, 2);
    let sample_rate = u32_at(b, 4);
    // Bytes 8..12 hold the average byte rate; writers get it wrong often enough that it is
    // not checked: block_align and the rate define the stream.
    let block_align = u16_at(b, 12);
    let bits_per_sample = u16_at(b, 14);

    let codec = if tag == FORMAT_EXTENSIBLE {
        if b.len() < 40 || u16_at(b, 16) < 22 {
            return Err(WavError::BadFmtChunk(size));
        }
        let guid = &b[24..40];
        if guid[2..] != SUBFORMAT_GUID_TAIL {
            return Err(WavError::UnsupportedSubformat);
        }
        let sub = u16_at(guid, 0);
        Codec::from_format_tag(sub).ok_or(WavError::UnsupportedFormat(sub))?
    } else {
        Codec::from_format_tag(tag).ok_or(WavError::UnsupportedFormat(tag))?
    };
    if !(1..=2).contains(&channels) {
        return Err(WavError::UnsupportedChannels(channels));
    }
    if !SUPPORTED_RATES.contains(&sample_rate) {
        return Err(WavError::UnsupportedSampleRate(sample_rate));
    }
    if bits_per_sample != codec.bytes_per_sample() * 8 {
        return Err(WavError::UnsupportedBitsPerSample {
            codec,
            bits: bits_per_sample,
        });
    }
    let expected = channels * codec.bytes_per_sample();
    if block_align != expected {
        return Err(WavError::BadBlockAlign {
            found: block_align,
            expected,
        });
    }
    Ok(Fmt {
        codec,
        sample_rate,
        channels,
        bits_per_sample,
        block_align,
    })
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;

/// A file's length and its first [`MAX_HEADER_LEN`] bytes (fewer when it is shorter), for
/// the checks that rewrite a header in place (`repair`, `check_upload`).
pub(super) fn read_head<F: std::io::Read + std::io::Seek>(file: &mut F) -> std::io::Result<(u64, Vec<u8>)> {
    use std::io::{Read, SeekFrom};
    let len = file.seek(SeekFrom::End(0))?;
    file.seek(SeekFrom::Start(0))?;
    let mut head = Vec::with_capacity(MAX_HEADER_LEN.min(4096));
    Read::by_ref(file).take(MAX_HEADER_LEN as u64).read_to_end(&mut head)?;
    Ok((len, head))
}
