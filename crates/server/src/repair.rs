//! Start-up repair (SPEC §3): recordings still marked in progress were cut off by a crash.
//! Their WAV headers are fixed so the file plays up to the last flushed second, the row is
//! completed with the real size and checksum, and their calls are closed and journaled.

use crate::calls;
use crate::live;
use crate::state::AppState;
use callrec_media::wav::{repair_file, WavInfo, MAX_HEADER_LEN};
use callrec_types::calls::CallState;
use std::io::Read;

pub async fn at_startup(state: &AppState) -> anyhow::Result<()> {
    let unfinished = state.store.unfinished_recordings().await?;
    for rec in unfinished {
        let path = state.files.abs(&rec.rel_path)?;
        let p = path.clone();
        let (codec, sample_rate, channels) = (rec.recording.codec, rec.recording.sample_rate, rec.recording.channels);
        let fixed = tokio::task::spawn_blocking(move || -> anyhow::Result<live::SegmentFacts> {
            let mut f = std::fs::OpenOptions::new().read(true).write(true).open(&p)?;
            repair_file(&mut f)?;
            let len = f.metadata()?.len();
            let mut head = vec![0u8; MAX_HEADER_LEN.min(len as usize)];
            let mut g = std::fs::File::open(&p)?;
            g.read_exact(&mut head)?;
            // The repaired header says what the file holds; without one, the row keeps what
            // the recorder said when the segment started.
            Ok(match WavInfo::parse_with_file_len(&head, len) {
                Ok(info) => live::SegmentFacts {
                    duration_ms: info.duration_ms() as i64,
                    codec: crate::files::audio_codec(info.codec),
                    sample_rate: info.sample_rate,
                    channels: info.channels,
                    gaps: Vec::new(),
                },
                Err(_) => live::SegmentFacts {
                    duration_ms: 0,
                    codec,
                    sample_rate,
                    channels,
                    gaps: Vec::new(),
                },
            })
        })
        .await?;
        match fixed {
            Ok(facts) => {
                live::finish(state, &rec.recording, &rec.rel_path, &facts, Vec::new())
                    .await
                    .map_err(|e| anyhow::anyhow!(e.body.message))?;
                tracing::warn!(recording = %rec.recording.id, duration_ms = facts.duration_ms, "repaired a recording cut off by a crash");
            }
            Err(e) => {
                tracing::error!(recording = %rec.recording.id, error = %e, "could not repair a recording cut off by a crash")
            }
        }
        let (mut call, trace) = state.store.get_call(rec.recording.call_id).await?;
        if call.state != CallState::Ended {
            call.state = CallState::Ended;
            call.ended_at = Some(state.clock.now());
            state.store.update_call(&call, &trace).await?;
        }
        if let Err(e) = calls::write_journal(state, call.id).await {
            tracing::error!(call = %call.id, error = %e.body.message, "could not rewrite the journal");
        }
    }
    Ok(())
}
