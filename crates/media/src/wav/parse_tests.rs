//! Tests of the WAV header parser: one per accepted shape and one per refusal.

use super::*;
use crate::wav::{wav_header, Codec};

/// A RIFF/WAVE file from raw chunks, with a correct RIFF size.
fn riff(chunks: &[(&[u8; 4], Vec<u8>)]) -> Vec<u8> {
    let mut body = b"WAVE".to_vec();
    for (id, data) in chunks {
        body.extend_from_slice(*id);
        body.extend_from_slice(&(data.len() as u32).to_le_bytes());
        body.extend_from_slice(data);
        if data.len() % 2 == 1 {
            body.push(0);
        }
    }
    let mut f = b"RIFF".to_vec();
    f.extend_from_slice(&(body.len() as u32).to_le_bytes());
    f.extend_from_slice(&body);
    f
}

fn fmt16(tag: u16, channels: u16, rate: u32, block_align: u16, bits: u16) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&tag.to_le_bytes());
    v.extend_from_slice(&channels.to_le_bytes());
    v.extend_from_slice(&rate.to_le_bytes());
    v.extend_from_slice(&(rate * u32::from(block_align)).to_le_bytes());
    v.extend_from_slice(&block_align.to_le_bytes());
    v.extend_from_slice(&bits.to_le_bytes());
    v
}

fn extensible(sub: u16, channels: u16, bits: u16) -> Vec<u8> {
    let mut v = fmt16(FORMAT_EXTENSIBLE, channels, 8000, channels * bits / 8, bits);
    v.extend_from_slice(&22u16.to_le_bytes()); // cbSize
    v.extend_from_slice(&bits.to_le_bytes()); // valid bits
    v.extend_from_slice(&3u32.to_le_bytes()); // channel mask
    v.extend_from_slice(&sub.to_le_bytes());
    v.extend_from_slice(&SUBFORMAT_GUID_TAIL);
    v
}

#[test]
fn skips_list_and_odd_sized_chunks_before_fmt_and_data() {
    let f = riff(&[
        (b"LIST", b"INFOISFT\x05\x00\x00\x00Lavf\x00".to_vec()),
        (b"junk", vec![1, 2, 3]), // odd: followed by a pad byte
        (b"fmt ", fmt16(7, 2, 8000, 2, 8)),
        (b"fact", 4000u32.to_le_bytes().to_vec()),
        (b"data", vec![0xFF; 8000]),
    ]);
    let info = WavInfo::parse(&f).expect("valid µ-law stereo");
    assert_eq!(info.codec, Codec::Ulaw, "µ-law");
    assert_eq!(info.channels, 2, "stereo");
    assert_eq!(info.data_len, 8000, "data length");
    assert_eq!(info.data_offset as usize, f.len() - 8000, "data offset");
    assert_eq!(info.duration_ms(), 500, "4000 frames at 8 kHz");
    assert!(info.fact_offset.is_some(), "fact chunk seen");
}

#[test]
fn accepts_extensible_with_g711_and_pcm_subformats() {
    for (sub, codec, bits) in [(7, Codec::Ulaw, 8), (6, Codec::Alaw, 8), (1, Codec::Pcm16, 16)] {
        let f = riff(&[(b"fmt ", extensible(sub, 2, bits)), (b"data", vec![0; 16])]);
        let info = WavInfo::parse(&f).expect("extensible parses");
        assert_eq!(info.codec, codec, "subformat {sub}");
    }
}

#[test]
fn refuses_unknown_extensible_guid_and_subformat() {
    let mut fmt = extensible(7, 1, 8);
    fmt[39] ^= 1;
    let f = riff(&[(b"fmt ", fmt), (b"data", vec![])]);
    assert_eq!(WavInfo::parse(&f), Err(WavError::UnsupportedSubformat), "GUID tail");
    let f = riff(&[(b"fmt ", extensible(3, 1, 8)), (b"data", vec![])]);
    assert_eq!(WavInfo::parse(&f), Err(WavError::UnsupportedFormat(3)), "float");
    let mut short = extensible(7, 1, 8);
    short.truncate(30);
    let f = riff(&[(b"fmt ", short), (b"data", vec![])]);
    assert_eq!(WavInfo::parse(&f), Err(WavError::BadFmtChunk(30)), "short extensible");
}

#[test]
fn refuses_each_bad_field_with_its_own_error() {
    let cases: [(Vec<u8>, WavError); 6] = [
        (fmt16(3, 1, 8000, 4, 32), WavError::UnsupportedFormat(3)),
        (fmt16(1, 1, 44100, 2, 16), WavError::UnsupportedSampleRate(44100)),
        (fmt16(1, 6, 8000, 12, 16), WavError::UnsupportedChannels(6)),
        (fmt16(1, 0, 8000, 0, 16), WavError::UnsupportedChannels(0)),
        (
            fmt16(7, 1, 8000, 2, 16),
            WavError::UnsupportedBitsPerSample {
                codec: Codec::Ulaw,
                bits: 16,
            },
        ),
        (
            fmt16(1, 2, 8000, 2, 16),
            WavError::BadBlockAlign { found: 2, expected: 4 },
        ),
    ];
    for (fmt, want) in cases {
        let f = riff(&[(b"fmt ", fmt), (b"data", vec![0; 4])]);
        assert_eq!(WavInfo::parse(&f), Err(want.clone()), "expected {want}");
    }
}

#[test]
fn refuses_non_riff_non_wave_and_short_input() {
    assert_eq!(WavInfo::parse(b""), Err(WavError::Truncated), "empty");
    assert_eq!(WavInfo::parse(b"RI"), Err(WavError::Truncated), "partial magic");
    assert_eq!(WavInfo::parse(b"ID3\x04"), Err(WavError::NotRiff), "an MP3");
    assert_eq!(WavInfo::parse(b"RF64\0\0\0\0WAVE"), Err(WavError::NotRiff), "RF64");
    assert_eq!(WavInfo::parse(b"RIFF\0\0\0\0AVI "), Err(WavError::NotWave), "AVI");
    let full = wav_header(Codec::Ulaw, 8000, 1, 0);
    for cut in 4..full.len() {
        assert_eq!(WavInfo::parse(&full[..cut]), Err(WavError::Truncated), "cut at {cut}");
    }
}

#[test]
fn missing_chunks_are_named() {
    let f = riff(&[(b"data", vec![0; 4])]);
    assert_eq!(WavInfo::parse(&f), Err(WavError::MissingFmt), "data before fmt");
    let f = riff(&[(b"LIST", vec![0; 4])]);
    assert_eq!(WavInfo::parse(&f), Err(WavError::MissingFmt), "no fmt at all");
    let f = riff(&[(b"fmt ", fmt16(1, 1, 8000, 2, 16))]);
    assert_eq!(WavInfo::parse(&f), Err(WavError::MissingData), "no data");
    let f = riff(&[(b"fmt ", fmt16(1, 1, 8000, 2, 16)), (b"fmt ", fmt16(1, 1, 8000, 2, 16))]);
    assert_eq!(WavInfo::parse(&f), Err(WavError::DuplicateFmt), "two fmt");
    let f = riff(&[(b"fmt ", vec![1, 0, 1, 0])]);
    assert_eq!(WavInfo::parse(&f), Err(WavError::BadFmtChunk(4)), "short fmt");
}

#[test]
fn bounds_chunk_count_and_header_size() {
    let mut chunks: Vec<(&[u8; 4], Vec<u8>)> = vec![(b"fmt ", fmt16(1, 1, 8000, 2, 16))];
    chunks.extend((0..MAX_CHUNKS).map(|_| (b"JUNK", vec![])));
    chunks.push((b"data", vec![]));
    assert_eq!(
        WavInfo::parse(&riff(&chunks)),
        Err(WavError::HeaderTooLarge),
        "too many chunks"
    );
    let f = riff(&[
        (b"fmt ", fmt16(1, 1, 8000, 2, 16)),
        (b"JUNK", vec![0; MAX_HEADER_LEN]),
        (b"data", vec![0; 4]),
    ]);
    assert_eq!(WavInfo::parse(&f), Err(WavError::HeaderTooLarge), "data beyond 64 KiB");
}

#[test]
fn crashed_writer_sizes_use_the_file_length() {
    for size in [0u32, u32::MAX] {
        let mut f = wav_header(Codec::Alaw, 8000, 2, 0);
        f[54..58].copy_from_slice(&size.to_le_bytes());
        f.extend_from_slice(&[0xD5; 1601]); // 800.5 frames
        let info = WavInfo::parse_with_file_len(&f, f.len() as u64).expect("tolerated");
        assert_eq!(info.data_len, 1600, "size {size:#x}: whole frames to the end");
        assert_eq!(info.declared_data_len, size, "declared kept");
        assert_eq!(info.duration_ms(), 100, "800 frames at 8 kHz");
    }
    let mut f = wav_header(Codec::Alaw, 8000, 2, 0);
    f[54..58].copy_from_slice(&u32::MAX.to_le_bytes());
    assert_eq!(
        WavInfo::parse(&f),
        Err(WavError::UnknownDataLen),
        "needs the file length"
    );
}

#[test]
fn declared_size_beyond_the_file_is_data_truncated() {
    let f = wav_header(Codec::Pcm16, 16000, 1, 1000);
    assert_eq!(
        WavInfo::parse_with_file_len(&f, 44 + 10),
        Err(WavError::DataTruncated {
            declared: 1000,
            available: 10
        }),
        "upload cut short"
    );
    assert_eq!(
        WavInfo::parse_with_file_len(&f, 40),
        Err(WavError::Truncated),
        "file shorter than its header"
    );
    let info = WavInfo::parse_with_file_len(&f, 44 + 2000).expect("trailing chunks are fine");
    assert_eq!(info.data_len, 1000, "declared size wins when the file is longer");
}
