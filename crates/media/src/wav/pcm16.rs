//! Serving a G.711 WAV as a 16-bit PCM WAV, on the fly, with exact byte ranges.
//!
//! The PCM16 file has a [`PCM16_HEADER_LEN`]-byte header followed by twice as many data
//! bytes as the G.711 source: each G.711 byte becomes one little-endian i16. Output data
//! byte `N` therefore comes from source data byte `N / 2` (its low byte when `N` is even, its
//! high byte when odd), so any HTTP `Range` maps to a small contiguous source range and the
//! conversion needs no state and no allocation.
//!
//! Serving `output[a..b)` in chunks:
//!
//! ```
//! # use callrec_media::wav::{wav_header, Codec, Pcm16Transcoder, WavInfo};
//! # let mut file = wav_header(Codec::Ulaw, 8000, 2, 8);
//! # file.extend_from_slice(&[0xFF, 0x80, 0x00, 0x7F, 1, 2, 3, 4]);
//! let info = WavInfo::parse_with_file_len(&file, file.len() as u64).unwrap();
//! let t = Pcm16Transcoder::new(&info).unwrap();
//! let (a, b) = (41, t.output_len()); // e.g. from "Range: bytes=41-"
//! let mut body = Vec::new();
//! let mut buf = [0u8; 5]; // a real server uses ~64 KiB
//! let mut pos = a;
//! while pos < b {
//!     let n = buf.len().min((b - pos) as usize);
//!     let src = t.source_range(pos..pos + n as u64); // absolute offsets in the G.711 file
//!     let src = &file[src.start as usize..src.end as usize]; // read these from disk
//!     let written = t.fill(pos, src, &mut buf[..n]);
//!     body.extend_from_slice(&buf[..written]);
//!     pos += written as u64;
//! }
//! assert_eq!(body.len() as u64, b - a);
//! ```

use std::ops::Range;

use super::header::{max_data_len, wav_header, PCM16_HEADER_LEN};
use super::{Codec, WavInfo};
use crate::g711::Law;

/// Why a file cannot be transcoded to PCM16.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TranscodeError {
    /// The source is not G.711 (a PCM16 source is served as it is).
    #[error("source is {0}, not G.711")]
    NotG711(Codec),
    /// Twice the source data would not fit a RIFF file.
    #[error("source data of {0} bytes is too large for a PCM16 WAV")]
    TooLarge(u64),
}

/// The layout of the PCM16 rendition of one G.711 WAV, and the byte mapping between them.
#[derive(Debug, Clone)]
pub struct Pcm16Transcoder {
    law: Law,
    source_data_offset: u64,
    source_data_len: u64,
    header: [u8; PCM16_HEADER_LEN],
}

impl Pcm16Transcoder {
    /// Plans the PCM16 rendition of the G.711 file `info` describes.
    pub fn new(info: &WavInfo) -> Result<Self, TranscodeError> {
        let law = info.codec.law().ok_or(TranscodeError::NotG711(info.codec))?;
        let data_len = info
            .data_len
            .checked_mul(2)
            .and_then(|d| u32::try_from(d).ok())
            .filter(|d| *d <= max_data_len(Codec::Pcm16))
            .ok_or(TranscodeError::TooLarge(info.data_len))?;
        let mut header = [0u8; PCM16_HEADER_LEN];
        header.copy_from_slice(&wav_header(Codec::Pcm16, info.sample_rate, info.channels, data_len));
        Ok(Pcm16Transcoder {
            law,
            source_data_offset: info.data_offset,
            source_data_len: info.data_len,
            header,
        })
    }

    /// The PCM16 header (the first [`PCM16_HEADER_LEN`] bytes of the output).
    pub fn header(&self) -> &[u8] {
        &self.header
    }

    /// Length of the output header.
    pub fn header_len(&self) -> u64 {
        PCM16_HEADER_LEN as u64
    }

    /// Length of the output data: twice the source data.
    pub fn data_len(&self) -> u64 {
        self.source_data_len * 2
    }

    /// Length of the whole output file (what `Content-Length` / the `Range` total says).
    pub fn output_len(&self) -> u64 {
        self.header_len() + self.data_len()
    }

    /// The absolute source file offsets whose bytes [`fill`](Self::fill) needs to produce
    /// `output` (clamped to the output length). Empty when `output` covers only the header.
    pub fn source_range(&self, output: Range<u64>) -> Range<u64> {
        let h = self.header_len();
        let start = output.start.max(h).min(self.output_len()) - h;
        let end = output.end.max(h).min(self.output_len()) - h;
        if start >= end {
            return self.source_data_offset..self.source_data_offset;
        }
        self.source_data_offset + start / 2..self.source_data_offset + end.div_ceil(2)
    }

    /// Writes the output bytes starting at `output_offset` into `out` and returns how many
    /// were written: `out.len()` unless the output ends first or `source` is shorter than
    /// [`source_range`](Self::source_range) asked for.
    ///
    /// `source` must be the bytes of `source_range(output_offset..output_offset + out.len())`.
    pub fn fill(&self, output_offset: u64, source: &[u8], out: &mut [u8]) -> usize {
        let total = self.output_len();
        if output_offset >= total {
            return 0;
        }
        let want = out
            .len()
            .min(usize::try_from(total - output_offset).unwrap_or(usize::MAX));
        let out = &mut out[..want];
        let mut written = 0;
        let h = self.header_len();
        if output_offset < h {
            // output_offset < 44, so the casts are exact.
            let from = output_offset as usize;
            let n = (PCM16_HEADER_LEN - from).min(out.len());
            out[..n].copy_from_slice(&self.header[from..from + n]);
            written = n;
        }
        let Some(data_start) = (output_offset + written as u64).checked_sub(h) else {
            return written; // `out` ended inside the header
        };
        written + g711_to_pcm16_range(self.law, source, data_start, &mut out[written..])
    }
}

/// Converts G.711 bytes to the PCM16 data bytes starting at output data offset
/// `out_data_start`, where `src[0]` is source byte `out_data_start / 2`.
///
/// Writes `min(out.len(), bytes src can produce)` bytes and returns that count. An odd
/// `out_data_start` starts with the high byte of the first sample; an odd end stops after
/// the low byte of the last one.
pub fn g711_to_pcm16_range(law: Law, src: &[u8], out_data_start: u64, out: &mut [u8]) -> usize {
    let mut o = 0;
    let mut s = 0;
    if out_data_start & 1 == 1 {
        match (out.first_mut(), src.first()) {
            (Some(first), Some(code)) => {
                *first = law.decode(*code).to_le_bytes()[1];
                o = 1;
                s = 1;
            }
            _ => return 0,
        }
    }
    let pairs = ((out.len() - o) / 2).min(src.len() - s);
    for (pair, code) in out[o..o + pairs * 2].chunks_exact_mut(2).zip(&src[s..s + pairs]) {
        pair.copy_from_slice(&law.decode(*code).to_le_bytes());
    }
    o += pairs * 2;
    s += pairs;
    if o < out.len() {
        if let Some(code) = src.get(s) {
            out[o] = law.decode(*code).to_le_bytes()[0];
            o += 1;
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wav::{header_len, WavInfo};

    fn g711_file(codec: Codec, channels: u16, data: &[u8]) -> Vec<u8> {
        let mut f = wav_header(codec, 8000, channels, data.len() as u32);
        f.extend_from_slice(data);
        f
    }

    fn expected_output(law: Law, channels: u16, data: &[u8]) -> Vec<u8> {
        let mut out = wav_header(Codec::Pcm16, 8000, channels, data.len() as u32 * 2);
        for b in data {
            out.extend_from_slice(&law.decode(*b).to_le_bytes());
        }
        out
    }

    fn serve(t: &Pcm16Transcoder, file: &[u8], range: Range<u64>, chunk: usize) -> Vec<u8> {
        let mut body = Vec::new();
        let mut buf = vec![0u8; chunk];
        let mut pos = range.start;
        while pos < range.end {
            let n = chunk.min((range.end - pos) as usize);
            let src = t.source_range(pos..pos + n as u64);
            let src = &file[src.start as usize..src.end as usize];
            let w = t.fill(pos, src, &mut buf[..n]);
            assert!(w > 0, "progress at {pos}");
            body.extend_from_slice(&buf[..w]);
            pos += w as u64;
        }
        body
    }

    #[test]
    fn whole_output_matches_sample_by_sample_decode() {
        let data: Vec<u8> = (0..=255u8).collect();
        let file = g711_file(Codec::Alaw, 2, &data);
        let info = WavInfo::parse(&file).expect("valid source");
        let t = Pcm16Transcoder::new(&info).expect("G.711 source");
        assert_eq!(t.output_len(), 44 + 512, "header plus twice the data");
        let want = expected_output(Law::Alaw, 2, &data);
        assert_eq!(serve(&t, &file, 0..t.output_len(), 4096), want, "whole file");
        let parsed = WavInfo::parse(&want).expect("output is a valid WAV");
        assert_eq!(parsed.codec, Codec::Pcm16, "output is PCM16");
        assert_eq!(parsed.channels, 2, "channels kept");
        assert_eq!(parsed.data_len, 512, "output data length");
    }

    #[test]
    fn every_range_and_chunk_size_matches_the_whole_output() {
        let data: Vec<u8> = (0..37u8).map(|i| i.wrapping_mul(71)).collect();
        let file = g711_file(Codec::Ulaw, 1, &data);
        let info = WavInfo::parse_with_file_len(&file, file.len() as u64).expect("valid");
        let t = Pcm16Transcoder::new(&info).expect("G.711 source");
        let want = expected_output(Law::Ulaw, 1, &data);
        let total = t.output_len();
        assert_eq!(want.len() as u64, total, "expected length");
        for a in 0..total {
            for b in [a + 1, a + 2, a + 3, (a + 47).min(total), total] {
                if b > total || b <= a {
                    continue;
                }
                for chunk in [1, 2, 3, 7, 64] {
                    assert_eq!(
                        serve(&t, &file, a..b, chunk),
                        &want[a as usize..b as usize],
                        "range {a}..{b} in chunks of {chunk}"
                    );
                }
            }
        }
    }

    #[test]
    fn source_range_maps_output_bytes_to_half_offsets() {
        let file = g711_file(Codec::Ulaw, 1, &[0u8; 10]);
        let t = Pcm16Transcoder::new(&WavInfo::parse(&file).expect("valid")).expect("G.711");
        let base = header_len(Codec::Ulaw) as u64;
        assert_eq!(t.source_range(0..44), base..base, "header only needs no source");
        assert_eq!(t.source_range(44..46), base..base + 1, "first sample");
        assert_eq!(t.source_range(45..48), base..base + 2, "odd start and end");
        assert_eq!(t.source_range(60..1000), base + 8..base + 10, "clamped at the end");
        assert_eq!(t.fill(1000, &[], &mut [0u8; 4]), 0, "past the end writes nothing");
    }

    #[test]
    fn pcm16_source_is_refused() {
        let file = wav_header(Codec::Pcm16, 8000, 1, 0);
        let info = WavInfo::parse(&file).expect("valid");
        assert_eq!(
            Pcm16Transcoder::new(&info).err(),
            Some(TranscodeError::NotG711(Codec::Pcm16)),
            "nothing to transcode"
        );
    }

    #[test]
    fn short_source_writes_what_it_can() {
        let mut out = [0u8; 6];
        assert_eq!(
            g711_to_pcm16_range(Law::Ulaw, &[0x80], 1, &mut out),
            1,
            "high byte only"
        );
        assert_eq!(out[0], 32124i16.to_le_bytes()[1], "high byte of 0x80");
        assert_eq!(g711_to_pcm16_range(Law::Ulaw, &[], 0, &mut out), 0, "no source");
        assert_eq!(g711_to_pcm16_range(Law::Ulaw, &[0x80, 0x80], 0, &mut out[..3]), 3);
    }
}
