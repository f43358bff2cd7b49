//! Canonical WAV headers with a fixed length, so callers can compute byte offsets.
//!
//! - PCM16: `RIFF` + 16-byte `fmt ` (`WAVEFORMAT` + bits) + `data` = [`PCM16_HEADER_LEN`]
//!   (44) bytes.
//! - G.711: `RIFF` + 18-byte `fmt ` (`WAVEFORMATEX` with `cbSize = 0`) + `fact` (sample count
//!   per channel) + `data` = [`G711_HEADER_LEN`] (58) bytes. Non-PCM formats carry `cbSize`
//!   and a `fact` chunk per the RIFF specification's WAVE rules.
//!
//! Layout of the G.711 header (offsets in bytes):
//!
//! ```text
//!  0 "RIFF"  4 riff size  8 "WAVE"
//! 12 "fmt "  16 18  20 tag  22 channels  24 rate  28 byte rate  32 block align  34 bits  36 cbSize=0
//! 38 "fact"  42 4   46 samples per channel
//! 50 "data"  54 data size
//! 58 audio…
//! ```

use super::Codec;

/// Length of the header [`wav_header`] writes for [`Codec::Pcm16`].
pub const PCM16_HEADER_LEN: usize = 44;
/// Length of the header [`wav_header`] writes for [`Codec::Ulaw`] and [`Codec::Alaw`].
pub const G711_HEADER_LEN: usize = 58;

/// File offset of the RIFF chunk size field.
pub const RIFF_SIZE_OFFSET: u64 = 4;

/// Length of the header [`wav_header`] writes for `codec`: where the audio starts.
pub const fn header_len(codec: Codec) -> usize {
    match codec {
        Codec::Pcm16 => PCM16_HEADER_LEN,
        Codec::Ulaw | Codec::Alaw => G711_HEADER_LEN,
    }
}

/// File offset of the `data` chunk size field in a header from [`wav_header`].
pub const fn data_size_offset(codec: Codec) -> u64 {
    header_len(codec) as u64 - 4
}

/// File offset of the `fact` chunk's sample count in a header from [`wav_header`], if any.
pub const fn fact_count_offset(codec: Codec) -> Option<u64> {
    match codec {
        Codec::Pcm16 => None,
        Codec::Ulaw | Codec::Alaw => Some(46),
    }
}

/// The largest data length a RIFF file of this codec can describe (the RIFF size is a u32).
pub const fn max_data_len(codec: Codec) -> u32 {
    // riff size = header_len - 8 + data_len + pad byte, all within u32.
    u32::MAX - (header_len(codec) as u32 - 8) - 1
}

/// The RIFF size field for `data_len` audio bytes (including the pad byte an odd data chunk
/// needs), saturating at `u32::MAX`.
pub fn riff_size(codec: Codec, data_len: u32) -> u32 {
    (header_len(codec) as u32 - 8)
        .saturating_add(data_len)
        .saturating_add(data_len & 1)
}

/// A canonical header for `data_len` bytes of audio; its length is [`header_len`]`(codec)`.
///
/// When `data_len` is odd the caller must write one zero pad byte after the audio (RIFF
/// chunks are word aligned); even lengths — every stereo or PCM16 file — need none.
/// `channels` and `sample_rate` are written as given; nothing here validates them.
pub fn wav_header(codec: Codec, sample_rate: u32, channels: u16, data_len: u32) -> Vec<u8> {
    let bytes_per_sample = codec.bytes_per_sample();
    let block_align = channels.saturating_mul(bytes_per_sample);
    let byte_rate = sample_rate.saturating_mul(u32::from(block_align));
    let bits = bytes_per_sample * 8;

    let mut h = Vec::with_capacity(header_len(codec));
    h.extend_from_slice(b"RIFF");
    h.extend_from_slice(&riff_size(codec, data_len).to_le_bytes());
    h.extend_from_slice(b"WAVE");
    h.extend_from_slice(b"fmt ");
    let fmt_len: u32 = match codec {
        Codec::Pcm16 => 16,
        Codec::Ulaw | Codec::Alaw => 18,
    };
    h.extend_from_slice(&fmt_len.to_le_bytes());
    h.extend_from_slice(&codec.format_tag().to_le_bytes());
    h.extend_from_slice(&channels.to_le_bytes());
    h.extend_from_slice(&sample_rate.to_le_bytes());
    h.extend_from_slice(&byte_rate.to_le_bytes());
    h.extend_from_slice(&block_align.to_le_bytes());
    h.extend_from_slice(&bits.to_le_bytes());
    if codec != Codec::Pcm16 {
        h.extend_from_slice(&0u16.to_le_bytes()); // cbSize
        h.extend_from_slice(b"fact");
        h.extend_from_slice(&4u32.to_le_bytes());
        let samples = data_len / u32::from(block_align.max(1));
        h.extend_from_slice(&samples.to_le_bytes());
    }
    h.extend_from_slice(b"data");
    h.extend_from_slice(&data_len.to_le_bytes());
    debug_assert_eq!(h.len(), header_len(codec), "header length matches the constant");
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wav::WavInfo;

    #[test]
    fn pcm16_header_is_the_classic_44_bytes() {
        let h = wav_header(Codec::Pcm16, 8000, 2, 32000);
        assert_eq!(h.len(), 44, "PCM16 header length");
        assert_eq!(&h[0..4], b"RIFF", "RIFF id");
        assert_eq!(u32::from_le_bytes([h[4], h[5], h[6], h[7]]), 36 + 32000, "RIFF size");
        assert_eq!(&h[36..40], b"data", "data id at 36");
        assert_eq!(u32::from_le_bytes([h[40], h[41], h[42], h[43]]), 32000, "data size");
        assert_eq!(u32::from_le_bytes([h[28], h[29], h[30], h[31]]), 32000, "byte rate");
    }

    #[test]
    fn g711_header_has_cbsize_and_fact() {
        let h = wav_header(Codec::Alaw, 8000, 2, 16000);
        assert_eq!(h.len(), G711_HEADER_LEN, "G.711 header length");
        assert_eq!(u32::from_le_bytes([h[16], h[17], h[18], h[19]]), 18, "fmt size 18");
        assert_eq!(u16::from_le_bytes([h[20], h[21]]), 6, "A-law tag");
        assert_eq!(u16::from_le_bytes([h[36], h[37]]), 0, "cbSize 0");
        assert_eq!(&h[38..42], b"fact", "fact chunk at 38");
        assert_eq!(u32::from_le_bytes([h[46], h[47], h[48], h[49]]), 8000, "fact samples");
        assert_eq!(&h[50..54], b"data", "data id at 50");
        assert_eq!(u32::from_le_bytes([h[4], h[5], h[6], h[7]]), 50 + 16000, "RIFF size");
    }

    #[test]
    fn written_headers_parse_back() {
        for codec in [Codec::Pcm16, Codec::Ulaw, Codec::Alaw] {
            for (rate, ch) in [(8000, 1), (8000, 2), (16000, 1), (16000, 2)] {
                let block = u32::from(ch * codec.bytes_per_sample());
                let len = 8000 * block;
                let info = WavInfo::parse(&wav_header(codec, rate, ch, len)).expect("our own header parses");
                assert_eq!(info.codec, codec, "codec survives");
                assert_eq!(info.sample_rate, rate, "rate survives");
                assert_eq!(info.channels, ch, "channels survive");
                assert_eq!(info.data_offset, header_len(codec) as u64, "data offset");
                assert_eq!(info.data_len, u64::from(len), "data length");
                assert_eq!(info.duration_ms(), 1000 * 8000 / u64::from(rate), "duration");
                assert_eq!(info.fact_offset, fact_count_offset(codec), "fact offset");
            }
        }
    }

    #[test]
    fn offsets_point_at_the_size_fields() {
        assert_eq!(data_size_offset(Codec::Ulaw), 54, "G.711 data size at 54");
        assert_eq!(data_size_offset(Codec::Pcm16), 40, "PCM16 data size at 40");
        assert_eq!(riff_size(Codec::Ulaw, 3), 50 + 4, "odd data includes the pad byte");
        assert_eq!(riff_size(Codec::Ulaw, u32::MAX), u32::MAX, "saturates");
        assert_eq!(
            riff_size(Codec::Ulaw, max_data_len(Codec::Ulaw)),
            u32::MAX - 1,
            "max data len still fits the RIFF size without saturating"
        );
    }
}
