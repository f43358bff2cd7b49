//! Decoding: a recording's WAV (PCM16, G.711 µ-law or A-law) read by symphonia from any
//! seekable byte source into 16-bit interleaved frames, with sample-exact seeking.
//!
//! The WAV reader is built directly instead of through symphonia's probe: the probe looks for
//! trailing metadata at the end of a seekable source, which over HTTP costs two extra
//! round trips before the first sample.

use super::shared::PlayerError;
use symphonia::core::codecs::audio::{AudioDecoder, AudioDecoderOptions};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::{FormatOptions, FormatReader, SeekMode, SeekTo};
use symphonia::core::io::{MediaSource, MediaSourceStream, MediaSourceStreamOptions};
use symphonia::core::units::Timestamp;
use symphonia::default::formats::WavReader;

/// The facts of the stream, known once the header is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamInfo {
    pub sample_rate: u32,
    pub channels: u16,
    /// Frames in the file, when the header says (a finished recording always does).
    pub frames: Option<u64>,
}

impl StreamInfo {
    pub fn duration_ms(&self) -> u64 {
        self.frames.map_or(0, |f| f * 1000 / u64::from(self.sample_rate))
    }

    pub fn frame_at_ms(&self, ms: u64) -> u64 {
        let frame = ms * u64::from(self.sample_rate) / 1000;
        self.frames.map_or(frame, |total| frame.min(total))
    }

    pub fn ms_at_frame(&self, frame: u64) -> u64 {
        frame * 1000 / u64::from(self.sample_rate)
    }
}

/// Decoded audio: interleaved 16-bit samples starting at frame `start`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pcm {
    pub start: u64,
    pub samples: Vec<i16>,
}

impl Pcm {
    /// The samples as the output takes them: f32 in −1..1.
    pub fn to_f32(&self) -> Vec<f32> {
        self.samples.iter().map(|&s| f32::from(s) / 32768.0).collect()
    }
}

pub struct Decoder {
    reader: Box<dyn FormatReader + 'static>,
    decoder: Box<dyn AudioDecoder>,
    track_id: u32,
    info: StreamInfo,
    /// After a seek: frames before this one are decoded but dropped.
    skip_to: u64,
}

impl Decoder {
    /// Reads the header and prepares the decoder; no audio is read yet beyond the header.
    pub fn open(source: impl MediaSource + 'static) -> Result<Decoder, PlayerError> {
        let stream = MediaSourceStream::new(Box::new(source), MediaSourceStreamOptions::default());
        let reader = WavReader::try_new(stream, FormatOptions::default()).map_err(decode_error)?;
        let track = reader
            .tracks()
            .first()
            .ok_or_else(|| PlayerError::Decode("the file holds no audio".into()))?;
        let params = track
            .codec_params
            .as_ref()
            .and_then(|p| p.audio())
            .ok_or_else(|| PlayerError::Decode("the file holds no audio".into()))?;
        let info = StreamInfo {
            sample_rate: params
                .sample_rate
                .filter(|r| *r > 0)
                .ok_or_else(|| PlayerError::Decode("the sample rate is missing".into()))?,
            channels: params
                .channels
                .as_ref()
                .map(|c| c.count() as u16)
                .filter(|c| *c > 0)
                .ok_or_else(|| PlayerError::Decode("the channel layout is missing".into()))?,
            frames: track.num_frames,
        };
        let track_id = track.id;
        let decoder = symphonia::default::get_codecs()
            .make_audio_decoder(params, &AudioDecoderOptions::default())
            .map_err(decode_error)?;
        Ok(Decoder {
            reader: Box::new(reader),
            decoder,
            track_id,
            info,
            skip_to: 0,
        })
    }

    pub fn info(&self) -> StreamInfo {
        self.info
    }

    /// Moves to `frame` exactly: the reader lands on the packet boundary at or before it and
    /// the frames in between are dropped after decoding.
    pub fn seek(&mut self, frame: u64) -> Result<(), PlayerError> {
        let frame = self.info.frames.map_or(frame, |total| frame.min(total));
        let to = SeekTo::Timestamp {
            ts: Timestamp::new(frame as i64),
            track_id: self.track_id,
        };
        match self.reader.seek(SeekMode::Accurate, to) {
            Ok(_) => {}
            // Seeking to the very end: nothing left to play.
            Err(SymError::SeekError(_)) if Some(frame) == self.info.frames => {}
            Err(e) => return Err(decode_error(e)),
        }
        self.decoder.reset();
        self.skip_to = frame;
        Ok(())
    }

    /// The next decoded packet; `None` at the end of the file.
    pub fn next_pcm(&mut self) -> Result<Option<Pcm>, PlayerError> {
        loop {
            let packet = match self.reader.next_packet() {
                Ok(Some(p)) => p,
                Ok(None) => return Ok(None),
                Err(SymError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
                Err(e) => return Err(decode_error(e)),
            };
            if packet.track_id != self.track_id {
                continue;
            }
            let start = packet.pts.get().max(0) as u64;
            let buf = match self.decoder.decode(&packet) {
                Ok(buf) => buf,
                // A damaged packet is skipped, as players do; the next one may decode.
                Err(SymError::DecodeError(e)) => {
                    tracing::warn!(error = e, "skipping an undecodable packet");
                    continue;
                }
                Err(e) => return Err(decode_error(e)),
            };
            let channels = usize::from(self.info.channels);
            let mut samples = vec![0i16; buf.samples_interleaved()];
            buf.copy_to_slice_interleaved(&mut samples);
            let frames = (samples.len() / channels) as u64;
            if start + frames <= self.skip_to {
                continue;
            }
            if start < self.skip_to {
                let drop = (self.skip_to - start) as usize * channels;
                samples.drain(..drop);
                return Ok(Some(Pcm {
                    start: self.skip_to,
                    samples,
                }));
            }
            return Ok(Some(Pcm { start, samples }));
        }
    }
}

fn decode_error(e: SymError) -> PlayerError {
    match e {
        SymError::IoError(io) => PlayerError::Stream(io.to_string()),
        other => PlayerError::Decode(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    /// A WAV header for µ-law (format tag 7) stereo 8 kHz, as the server writes.
    fn ulaw_wav(data: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(b"RIFF");
        v.extend_from_slice(&(4 + 26 + 12 + 8 + data.len() as u32).to_le_bytes());
        v.extend_from_slice(b"WAVEfmt ");
        v.extend_from_slice(&18u32.to_le_bytes());
        v.extend_from_slice(&7u16.to_le_bytes()); // µ-law
        v.extend_from_slice(&2u16.to_le_bytes());
        v.extend_from_slice(&8000u32.to_le_bytes());
        v.extend_from_slice(&16000u32.to_le_bytes());
        v.extend_from_slice(&2u16.to_le_bytes());
        v.extend_from_slice(&8u16.to_le_bytes());
        v.extend_from_slice(&0u16.to_le_bytes());
        v.extend_from_slice(b"fact");
        v.extend_from_slice(&4u32.to_le_bytes());
        v.extend_from_slice(&(data.len() as u32 / 2).to_le_bytes());
        v.extend_from_slice(b"data");
        v.extend_from_slice(&(data.len() as u32).to_le_bytes());
        v.extend_from_slice(data);
        v
    }

    /// Reference µ-law expansion (ITU-T G.711), independent of symphonia's.
    fn ulaw(byte: u8) -> i16 {
        let u = !byte;
        let t = ((i32::from(u & 0x0f) << 3) + 0x84) << ((u & 0x70) >> 4);
        (if u & 0x80 != 0 { 0x84 - t } else { t - 0x84 }) as i16
    }

    #[test]
    fn mu_law_decodes_sample_exactly_and_seeks_to_the_frame() {
        let data: Vec<u8> = (0..20_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let wav = ulaw_wav(&data);
        let mut d = Decoder::open(Cursor::new(wav)).expect("a valid µ-law WAV opens");
        assert_eq!(
            d.info(),
            StreamInfo {
                sample_rate: 8000,
                channels: 2,
                frames: Some(10_000)
            }
        );
        let mut all = Vec::new();
        while let Some(pcm) = d.next_pcm().expect("decodes") {
            assert_eq!(pcm.start as usize, all.len() / 2, "packets are contiguous");
            all.extend(pcm.samples);
        }
        let expected: Vec<i16> = data.iter().map(|&b| ulaw(b)).collect();
        assert_eq!(
            all, expected,
            "every decoded sample equals the G.711 expansion of the file"
        );

        for target in [0u64, 1, 1151, 1152, 4321, 9_999] {
            d.seek(target).expect("seeks");
            let pcm = d.next_pcm().expect("decodes").expect("audio after the seek");
            assert_eq!(pcm.start, target, "the first frame after a seek is the target");
            assert_eq!(
                &pcm.samples[..2],
                &expected[target as usize * 2..target as usize * 2 + 2]
            );
        }
        d.seek(10_000).expect("seeking to the end is fine");
        assert_eq!(d.next_pcm().expect("decodes"), None, "nothing after the end");
    }

    #[test]
    fn garbage_is_a_decode_error_not_a_panic() {
        let err = Decoder::open(Cursor::new(b"this is not a wav file at all".to_vec()))
            .err()
            .expect("garbage is refused");
        assert!(
            matches!(err, PlayerError::Decode(_) | PlayerError::Stream(_)),
            "{err:?}"
        );
    }
}
