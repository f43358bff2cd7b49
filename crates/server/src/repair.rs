//! Start-up repair (SPEC §3): recordings still marked in progress were cut off by a crash.
//! Their WAV headers are fixed so the file plays up to the last flushed second, the row is
//! completed with the real size and checksum. Then *every* call not ended — recorded or not:
//! a `deny` call, a manual call nobody recorded, a call still ringing — is closed and
//! journaled (issue #13.2). A call ends at the last moment the server was known alive
//! ([`heartbeat`]), never before the audio it recorded, and never at the restart: downtime
//! is not call length. A call whose automatic recording ends far short of the call raises a
//! missing-recording alarm ([`crate::alarms`]).

use crate::calls;
use crate::heartbeat;
use crate::live;
use crate::sealed::StoredFile;
use crate::state::AppState;
use callrec_media::wav::{repair, SetLen, WavInfo, MAX_HEADER_LEN};
use callrec_types::calls::CallState;
use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom, Write};

/// Repairs what a crash left; returns the calls it closed (a node sharing the database tells
/// the other nodes once it has joined them).
pub async fn at_startup(state: &AppState) -> anyhow::Result<Vec<callrec_types::CallId>> {
    let alive = heartbeat::last(&state.config.data_dir);
    // Per call, the end of the audio its repaired recordings hold.
    let mut audio_end: HashMap<_, DateTime<Utc>> = HashMap::new();
    let unfinished = state.store.unfinished_recordings().await?;
    for rec in unfinished {
        let path = state.files.abs(&rec.rel_path)?;
        let p = path.clone();
        let (codec, sample_rate, channels) = (rec.recording.codec, rec.recording.sample_rate, rec.recording.channels);
        let vault = state.vault.clone();
        let fixed = tokio::task::spawn_blocking(move || -> anyhow::Result<live::SegmentFacts> {
            let file = std::fs::OpenOptions::new().read(true).write(true).open(&p)?;
            // A sealed file first drops a torn last chunk (issue #12.1), then the WAV repair
            // runs over its plaintext exactly as over a plaintext file.
            let mut f = StoredFile::open(file, vault.key(), true)?;
            let report = repair(&mut f)?;
            if report.file_len != report.file_len_before {
                f.set_len(report.file_len)?;
            }
            f.flush()?;
            f.get_ref().sync_data()?;
            let len = f.plain_len()?;
            let mut head = vec![0u8; MAX_HEADER_LEN.min(len as usize)];
            f.seek(SeekFrom::Start(0))?;
            f.read_exact(&mut head)?;
            // The repaired header says what the file holds; without one, the row keeps what
            // the recorder said when the segment started.
            Ok(match WavInfo::parse_with_file_len(&head, len) {
                Ok(info) => live::SegmentFacts {
                    duration_ms: info.duration_ms() as i64,
                    codec: crate::files::audio_codec(info.codec),
                    sample_rate: info.sample_rate,
                    channels: info.channels,
                    gaps: Vec::new(),
                    heard_ms: None,
                },
                Err(_) => live::SegmentFacts {
                    duration_ms: 0,
                    codec,
                    sample_rate,
                    channels,
                    gaps: Vec::new(),
                    heard_ms: None,
                },
            })
        })
        .await?;
        match fixed {
            Ok(facts) => {
                let end = rec.recording.started_at + Duration::milliseconds(facts.duration_ms);
                let slot = audio_end.entry(rec.recording.call_id).or_insert(end);
                *slot = (*slot).max(end);
                live::finish(state, &rec.recording, &rec.rel_path, &facts, Vec::new())
                    .await
                    .map_err(|e| anyhow::anyhow!(e.body.message))?;
                tracing::warn!(recording = %rec.recording.id, duration_ms = facts.duration_ms, "repaired a recording cut off by a crash");
            }
            Err(e) => {
                tracing::error!(recording = %rec.recording.id, error = %e, "could not repair a recording cut off by a crash")
            }
        }
    }
    let open = state.store.unfinished_calls().await?;
    // A call that had ended while its recording was being finished: its journal names the
    // recording, which has just been completed.
    for id in audio_end.keys().filter(|id| !open.contains(id)) {
        if let Err(e) = calls::write_journal(state, *id).await {
            tracing::error!(call = %id, error = %e.body.message, "could not rewrite the journal");
        }
    }
    for &id in &open {
        let (mut call, trace) = state.store.get_call(id).await?;
        let ended = end_of_cut_off_call(
            call.answered_at.unwrap_or(call.started_at),
            audio_end.get(&id).copied(),
            alive,
            state.clock.now(),
        );
        call.state = CallState::Ended;
        call.ended_at = Some(ended);
        state.store.update_call(&call, &trace).await?;
        tracing::warn!(call = %id, ended_at = %ended, "closed a call cut off by a crash");
        if let Err(e) = calls::write_journal(state, id).await {
            tracing::error!(call = %id, error = %e.body.message, "could not rewrite the journal");
        }
    }
    // Calls whose automatic recording the crash cut off: far too short is an alarm (#11.3).
    let mut cut: Vec<_> = audio_end.keys().copied().collect();
    cut.extend(open.iter().copied());
    cut.sort();
    cut.dedup();
    for id in cut {
        if let Ok((call, _)) = state.store.get_call(id).await {
            crate::alarms::check_repaired(state, &call).await;
        }
    }
    Ok(open)
}

/// When a call the crash cut off ended: the last moment the server was known alive, but not
/// before the audio it recorded nor before it started; without a heartbeat (a data dir from
/// before it existed) the end of its audio, else its start, and only as a last resort now.
fn end_of_cut_off_call(
    began: DateTime<Utc>,
    audio_end: Option<DateTime<Utc>>,
    alive: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> DateTime<Utc> {
    let known = match (alive, audio_end) {
        (Some(a), Some(e)) => a.max(e),
        (Some(a), None) => a,
        (None, Some(e)) => e,
        (None, None) => return now.max(began),
    };
    known.max(began)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).expect("a time").with_timezone(&Utc)
    }

    #[test]
    fn a_cut_off_call_ends_when_the_server_was_last_alive_not_at_the_restart() {
        let (began, alive, now) = (
            t("2026-01-01T10:00:00Z"),
            t("2026-01-01T10:05:00Z"),
            t("2026-01-01T12:00:00Z"),
        );
        assert_eq!(end_of_cut_off_call(began, None, Some(alive), now), alive, "heartbeat");
        let audio = t("2026-01-01T10:05:00.600Z");
        assert_eq!(
            end_of_cut_off_call(began, Some(audio), Some(alive), now),
            audio,
            "never before the audio it recorded"
        );
        assert_eq!(
            end_of_cut_off_call(began, Some(audio), None, now),
            audio,
            "no heartbeat: the audio"
        );
        assert_eq!(
            end_of_cut_off_call(t("2026-01-01T11:00:00Z"), None, Some(alive), now),
            t("2026-01-01T11:00:00Z"),
            "never before it began"
        );
        assert_eq!(end_of_cut_off_call(began, None, None, now), now, "nothing known: now");
    }
}
