//! Waveform peaks of a WAV's audio (issue #15.1): the smallest and largest sample of each
//! channel in each of `N` equal runs of frames, computed in one pass over the data as it is
//! read ([`PeakScan::feed`] takes the data in pieces of any size), so a one-hour recording is
//! never held in memory. G.711 is decoded to 16-bit linear first (one table lookup per byte).
//!
//! Bucket `i` of `B` holds frames `ceil(i·F/B)..ceil((i+1)·F/B)` of the `F` frames: every
//! bucket gets `floor(F/B)` or `ceil(F/B)` frames. With fewer frames than buckets asked for,
//! there is one bucket per frame (`B = F`).

use super::{Codec, WavInfo};

/// The peaks of every channel, `min[i] <= max[i]` for each bucket `i`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeakSummary {
    /// Buckets in each channel's vectors.
    pub buckets: u32,
    /// Frames the buckets cover.
    pub frames: u64,
    /// Per channel (channel 1 = caller first): per bucket the minimum and the maximum.
    pub channels: Vec<(Vec<i16>, Vec<i16>)>,
}

/// A pass over a WAV's data, bucket by bucket.
pub struct PeakScan {
    codec: Codec,
    channels: usize,
    frame_bytes: usize,
    frames: u64,
    buckets: u64,
    /// Frames seen so far, and the first frame of the next bucket.
    frame: u64,
    bucket_end: u64,
    /// The minimum and maximum of the current bucket, per channel.
    cur: Vec<(i16, i16)>,
    /// Finished buckets, per channel.
    out: Vec<(Vec<i16>, Vec<i16>)>,
    /// The start of a frame split across two pieces of data.
    carry: Vec<u8>,
    table: [i16; 256],
}

impl PeakScan {
    /// A scan of the data `info` describes, in `wanted` buckets (at least 1; fewer when the
    /// audio has fewer frames).
    pub fn new(info: &WavInfo, wanted: u32) -> PeakScan {
        let channels = usize::from(info.channels.max(1));
        let frames = info.frames();
        let buckets = u64::from(wanted.max(1)).min(frames);
        let mut table = [0i16; 256];
        if let Some(law) = info.codec.law() {
            for (code, t) in table.iter_mut().enumerate() {
                *t = law.decode(code as u8);
            }
        }
        let mut scan = PeakScan {
            codec: info.codec,
            channels,
            frame_bytes: usize::from(info.block_align.max(1)),
            frames,
            buckets,
            frame: 0,
            bucket_end: 0,
            cur: vec![(i16::MAX, i16::MIN); channels],
            out: (0..channels)
                .map(|_| {
                    (
                        Vec::with_capacity(buckets as usize),
                        Vec::with_capacity(buckets as usize),
                    )
                })
                .collect(),
            carry: Vec::new(),
            table,
        };
        scan.bucket_end = scan.start_of(1);
        scan
    }

    /// The first frame of bucket `b`: `ceil(b·F/B)`.
    fn start_of(&self, b: u64) -> u64 {
        if self.buckets == 0 {
            return self.frames;
        }
        let n = u128::from(b) * u128::from(self.frames);
        n.div_ceil(u128::from(self.buckets)) as u64
    }

    /// Feeds the next piece of the data chunk (bytes after the data's end are ignored).
    pub fn feed(&mut self, mut data: &[u8]) {
        if !self.carry.is_empty() {
            let need = (self.frame_bytes - self.carry.len()).min(data.len());
            self.carry.extend_from_slice(&data[..need]);
            data = &data[need..];
            if self.carry.len() < self.frame_bytes {
                return;
            }
            let frame = std::mem::take(&mut self.carry);
            self.frames_in(&frame);
        }
        let whole = data.len() - data.len() % self.frame_bytes;
        self.frames_in(&data[..whole]);
        if self.frame < self.frames {
            self.carry.extend_from_slice(&data[whole..]);
        }
    }

    /// Whole frames, split at bucket ends.
    fn frames_in(&mut self, mut data: &[u8]) {
        while !data.is_empty() && self.frame < self.frames {
            let left = (self.bucket_end - self.frame) as usize;
            let n = left.min(data.len() / self.frame_bytes);
            let (now, rest) = data.split_at(n * self.frame_bytes);
            self.scan(now);
            self.frame += n as u64;
            data = rest;
            if self.frame == self.bucket_end {
                self.close_bucket();
            }
        }
    }

    fn close_bucket(&mut self) {
        for (cur, out) in self.cur.iter_mut().zip(self.out.iter_mut()) {
            out.0.push(cur.0);
            out.1.push(cur.1);
            *cur = (i16::MAX, i16::MIN);
        }
        let next = self.out[0].0.len() as u64 + 1;
        self.bucket_end = self.start_of(next);
    }

    /// Folds whole frames into the current bucket's minimum and maximum.
    fn scan(&mut self, frames: &[u8]) {
        let table = &self.table;
        match (self.codec, self.channels) {
            (Codec::Pcm16, _) => {
                for frame in frames.chunks_exact(self.frame_bytes) {
                    for (c, s) in frame.chunks_exact(2).enumerate() {
                        let v = i16::from_le_bytes([s[0], s[1]]);
                        let m = &mut self.cur[c];
                        m.0 = m.0.min(v);
                        m.1 = m.1.max(v);
                    }
                }
            }
            (_, 2) => {
                let (mut l, mut r) = (self.cur[0], self.cur[1]);
                for f in frames.chunks_exact(2) {
                    let (a, b) = (table[usize::from(f[0])], table[usize::from(f[1])]);
                    l = (l.0.min(a), l.1.max(a));
                    r = (r.0.min(b), r.1.max(b));
                }
                (self.cur[0], self.cur[1]) = (l, r);
            }
            _ => {
                for frame in frames.chunks_exact(self.frame_bytes) {
                    for (c, b) in frame.iter().enumerate() {
                        let v = table[usize::from(*b)];
                        let m = &mut self.cur[c];
                        m.0 = m.0.min(v);
                        m.1 = m.1.max(v);
                    }
                }
            }
        }
    }

    /// The peaks. Data that ended early (a file shorter than its header says) leaves the
    /// buckets it reached, the last one partly filled.
    pub fn finish(mut self) -> PeakSummary {
        let filled = self.out[0].0.len() as u64;
        if filled < self.buckets && self.frame > self.start_of(filled) {
            self.close_bucket();
        }
        PeakSummary {
            buckets: self.out[0].0.len() as u32,
            frames: self.frames,
            channels: self.out,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::g711::Law;
    use crate::wav::wav_header;

    fn info(codec: Codec, channels: u16, data: &[u8]) -> WavInfo {
        let mut file = wav_header(codec, 8000, channels, data.len() as u32);
        file.extend_from_slice(data);
        WavInfo::parse(&file).expect("a valid header")
    }

    /// The peaks computed the slow way: every frame's bucket by the formula.
    fn reference(samples: &[Vec<i16>], buckets: u64) -> Vec<(Vec<i16>, Vec<i16>)> {
        let frames = samples[0].len() as u64;
        let b = buckets.min(frames);
        samples
            .iter()
            .map(|ch| {
                let mut min = vec![i16::MAX; b as usize];
                let mut max = vec![i16::MIN; b as usize];
                for (f, v) in ch.iter().enumerate() {
                    // The bucket i with ceil(i·F/B) <= f < ceil((i+1)·F/B) is floor(f·B/F).
                    let i = (f as u64 * b / frames) as usize;
                    min[i] = min[i].min(*v);
                    max[i] = max[i].max(*v);
                }
                (min, max)
            })
            .collect()
    }

    #[test]
    fn pcm16_stereo_peaks_match_every_frame_whatever_the_piece_size() {
        let frames = 1_003;
        let left: Vec<i16> = (0..frames).map(|i| ((i * 37) % 2001 - 1000) as i16).collect();
        let right: Vec<i16> = (0..frames).map(|i| ((i * 91) % 30001 - 15000) as i16).collect();
        let mut data = Vec::new();
        for (l, r) in left.iter().zip(&right) {
            data.extend_from_slice(&l.to_le_bytes());
            data.extend_from_slice(&r.to_le_bytes());
        }
        let info = info(Codec::Pcm16, 2, &data);
        for buckets in [1u32, 7, 100, 1_003, 5_000] {
            let want = reference(&[left.clone(), right.clone()], u64::from(buckets));
            for piece in [1usize, 3, 4, 333, data.len()] {
                let mut scan = PeakScan::new(&info, buckets);
                for p in data.chunks(piece) {
                    scan.feed(p);
                }
                let got = scan.finish();
                assert_eq!(got.buckets as usize, want[0].0.len(), "{buckets} buckets asked");
                assert_eq!(got.channels, want, "{buckets} buckets fed in pieces of {piece} bytes");
            }
        }
    }

    #[test]
    fn g711_is_decoded_before_its_peaks_are_taken() {
        for law in [Law::Ulaw, Law::Alaw] {
            let codes: Vec<u8> = (0..=255u8).cycle().take(2 * 900).collect();
            let info = info(law.into(), 2, &codes);
            let left: Vec<i16> = codes.iter().step_by(2).map(|c| law.decode(*c)).collect();
            let right: Vec<i16> = codes.iter().skip(1).step_by(2).map(|c| law.decode(*c)).collect();
            let mut scan = PeakScan::new(&info, 10);
            for p in codes.chunks(77) {
                scan.feed(p);
            }
            assert_eq!(scan.finish().channels, reference(&[left, right], 10), "{law:?}");
        }
        let codes: Vec<u8> = (0..=255u8).collect();
        let info = info(Codec::Ulaw, 1, &codes);
        let mono: Vec<i16> = codes.iter().map(|c| Law::Ulaw.decode(*c)).collect();
        let mut scan = PeakScan::new(&info, 3);
        scan.feed(&codes);
        assert_eq!(scan.finish().channels, reference(&[mono], 3), "mono µ-law");
    }

    #[test]
    fn no_audio_is_no_buckets_and_short_data_keeps_what_it_reached() {
        let empty = info(Codec::Ulaw, 2, &[]);
        let got = PeakScan::new(&empty, 100).finish();
        assert_eq!((got.buckets, got.frames), (0, 0), "an empty recording has no buckets");
        assert!(got.channels.iter().all(|(a, b)| a.is_empty() && b.is_empty()));

        let data = vec![0xFFu8; 2 * 100];
        let info = info(Codec::Ulaw, 2, &data);
        let mut scan = PeakScan::new(&info, 10);
        scan.feed(&data[..2 * 25]);
        let got = scan.finish();
        assert_eq!(
            got.buckets, 3,
            "25 of 100 frames reach two whole buckets and a third begun"
        );
    }
}
