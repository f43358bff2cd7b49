//! A recording's waveform peaks (issue #15.1): min/max per bucket per channel, computed in one
//! streaming pass over its plaintext ([`callrec_media::wav::PeakScan`] over
//! [`PlainAudio`], so sealed files and uploaded objects read the way the audio route reads
//! them) and cached per (recording, bucket count) once the recording is complete. A recording
//! still being written is computed every time: it grows.

use crate::audio::{AudioSource, PlainAudio};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use callrec_media::wav::{PeakScan, WavInfo, MAX_HEADER_LEN};
use callrec_store::StoredRecording;
use callrec_types::calls::RecordingState;
use callrec_types::review::{ChannelPeaks, Peaks, DEFAULT_PEAK_BUCKETS, MAX_PEAK_BUCKETS, MIN_PEAK_BUCKETS};
use callrec_types::wire::ErrorCode;
use std::io;

/// The `buckets` of a peaks request: absent or empty is [`DEFAULT_PEAK_BUCKETS`]; anything but
/// an integer from [`MIN_PEAK_BUCKETS`] to [`MAX_PEAK_BUCKETS`] is `400 bad_query`.
pub fn buckets(raw: Option<&str>) -> ApiResult<u32> {
    match raw.filter(|b| !b.is_empty()) {
        None => Ok(DEFAULT_PEAK_BUCKETS),
        Some(b) => b
            .parse::<u32>()
            .ok()
            .filter(|n| (MIN_PEAK_BUCKETS..=MAX_PEAK_BUCKETS).contains(n))
            .ok_or_else(|| {
                ApiError::bad_request(
                    ErrorCode::BadQuery,
                    format!("buckets is an integer from {MIN_PEAK_BUCKETS} to {MAX_PEAK_BUCKETS}"),
                )
            }),
    }
}

/// The peaks of `rec` in `buckets` buckets: from the cache, else computed (and cached when the
/// recording is complete).
pub async fn recording_peaks(s: &AppState, rec: &StoredRecording, buckets: u32) -> ApiResult<Peaks> {
    let id = rec.recording.id;
    let complete = rec.recording.state == RecordingState::Complete;
    if complete {
        if let Some(p) = s.store.get_peaks(id, buckets).await? {
            return Ok(p);
        }
    }
    let peaks = compute(s, rec, buckets)
        .await
        .map_err(|e| crate::audio::read_error(id, e))?;
    if complete {
        // A cache that cannot be written costs the next request a computation, nothing more.
        if let Err(e) = s.store.put_peaks(buckets, &peaks, s.clock.now()).await {
            tracing::warn!(recording = %id, error = %e, "could not cache the peaks");
        }
    }
    Ok(peaks)
}

async fn compute(s: &AppState, rec: &StoredRecording, buckets: u32) -> io::Result<Peaks> {
    let src = AudioSource {
        path: s.files.abs(&rec.rel_path)?,
        sha256: rec.recording.sha256.clone(),
        file_name: rec.recording.file_name.clone(),
        vault: s.vault.clone(),
    };
    let mut audio = PlainAudio::open(&src, s.objects.clone(), &rec.rel_path).await?;
    let head = audio.head(MAX_HEADER_LEN).await?;
    let info = WavInfo::parse_with_file_len(&head, audio.byte_len().await?)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    let mut scan = PeakScan::new(&info, buckets);
    audio
        .read(info.data_offset..info.data_end(), |piece| scan.feed(piece))
        .await?;
    let summary = scan.finish();
    Ok(Peaks {
        recording_id: rec.recording.id,
        buckets: summary.buckets,
        frames: summary.frames,
        sample_rate: info.sample_rate,
        channels: summary
            .channels
            .into_iter()
            .map(|(min, max)| ChannelPeaks { min, max })
            .collect(),
    })
}
