//! One channel of a recording as a worker fetches it: 16-bit PCM, mono, at the recording's
//! rate, holding only the spans outside the PCI pauses one after the other
//! ([`callrec_types::transcripts::kept_spans`]) — paused audio never leaves the server. Read
//! through [`PlainAudio`], so sealed files and uploaded objects work as they do for playing.

use crate::audio::{AudioSource, PlainAudio};
use crate::state::AppState;
use callrec_media::g711::Law;
use callrec_media::wav::{wav_header, Codec, WavInfo, MAX_HEADER_LEN};
use callrec_store::StoredRecording;
use std::io;

/// Takes whole frames of interleaved samples and keeps one channel's samples as PCM16.
struct ChannelPick {
    codec: Codec,
    channels: usize,
    channel: usize,
    /// The bytes of a frame cut off at the end of a piece.
    carry: Vec<u8>,
    out: Vec<u8>,
}

impl ChannelPick {
    fn frame_len(&self) -> usize {
        self.channels * usize::from(self.codec.bytes_per_sample())
    }

    fn feed(&mut self, mut piece: &[u8]) {
        let frame = self.frame_len();
        if !self.carry.is_empty() {
            let need = frame - self.carry.len();
            let take = need.min(piece.len());
            self.carry.extend_from_slice(&piece[..take]);
            piece = &piece[take..];
            if self.carry.len() < frame {
                return;
            }
            let whole = std::mem::take(&mut self.carry);
            self.frame(&whole);
        }
        let whole = piece.len() / frame * frame;
        for f in piece[..whole].chunks_exact(frame) {
            self.frame(f);
        }
        self.carry.extend_from_slice(&piece[whole..]);
    }

    fn frame(&mut self, f: &[u8]) {
        let bps = usize::from(self.codec.bytes_per_sample());
        let at = self.channel * bps;
        let sample = match self.codec {
            Codec::Pcm16 => i16::from_le_bytes([f[at], f[at + 1]]),
            Codec::Ulaw => Law::Ulaw.decode(f[at]),
            Codec::Alaw => Law::Alaw.decode(f[at]),
        };
        self.out.extend_from_slice(&sample.to_le_bytes());
    }
}

/// Channel `channel` (from 0) of `rec` as a WAV file in memory (a one-hour 8 kHz channel is
/// ~58 MB); `InvalidInput` when the recording has no such channel.
pub async fn channel_wav(state: &AppState, rec: &StoredRecording, channel: u16) -> io::Result<Vec<u8>> {
    let src = AudioSource {
        path: state.files.abs(&rec.rel_path)?,
        sha256: rec.recording.sha256.clone(),
        file_name: rec.recording.file_name.clone(),
        vault: state.vault.clone(),
    };
    let mut audio = PlainAudio::open(&src, state.objects.clone(), &rec.rel_path).await?;
    let head = audio.head(MAX_HEADER_LEN).await?;
    let info = WavInfo::parse_with_file_len(&head, audio.byte_len().await?)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    if channel >= info.channels {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("the recording has {} channels", info.channels),
        ));
    }
    let mut pick = ChannelPick {
        codec: info.codec,
        channels: usize::from(info.channels),
        channel: usize::from(channel),
        carry: Vec::new(),
        out: Vec::new(),
    };
    let frame = pick.frame_len() as u64;
    let rate = u64::from(info.sample_rate);
    // The pauses as the row has them; the file's own length bounds the spans.
    let mut kept = rec.clone();
    kept.recording.duration_ms = info.duration_ms() as i64;
    for span in super::spans_of(&kept) {
        let at = |ms: i64| (info.data_offset + ms.max(0) as u64 * rate / 1000 * frame).min(info.data_end());
        let (from, to) = (at(span.from_ms), at(span.to_ms));
        if to > from {
            audio.read(from..to, |piece| pick.feed(piece)).await?;
        }
        pick.carry.clear();
    }
    let data_len = u32::try_from(pick.out.len()).map_err(|_| io::Error::other("a channel longer than 4 GiB"))?;
    let mut wav = wav_header(Codec::Pcm16, info.sample_rate, 1, data_len);
    wav.extend_from_slice(&pick.out);
    Ok(wav)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_16_one_channel_is_picked_across_pieces_cut_mid_frame() {
        let mut pick = ChannelPick {
            codec: Codec::Pcm16,
            channels: 2,
            channel: 1,
            carry: Vec::new(),
            out: Vec::new(),
        };
        // Frames (L, R): (1, -1), (2, -2), (3, -3) as little-endian i16.
        let bytes: Vec<u8> = [1i16, -1, 2, -2, 3, -3].iter().flat_map(|s| s.to_le_bytes()).collect();
        pick.feed(&bytes[..3]);
        pick.feed(&bytes[3..7]);
        pick.feed(&bytes[7..]);
        let got: Vec<i16> = pick
            .out
            .chunks_exact(2)
            .map(|c| i16::from_le_bytes([c[0], c[1]]))
            .collect();
        assert_eq!(got, [-1, -2, -3], "the right channel, every frame once");
    }
}
