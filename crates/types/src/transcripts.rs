//! Transcripts (issue #16): a recording's text per channel — so per speaker, since channel 1 is
//! the caller and channel 2 the callee — with the times of each line and, when the engine gives
//! them, of each word; the job that makes it (its status as the API shows it); the worker's
//! wire shapes; and the pure parts: which spans of a recording may be sent to the engine (not
//! the PCI-paused ones), mapping the engine's times back onto the recording's timeline, and the
//! dialogue the lines make when merged by time (`[00:12] Caller: …`).

use crate::calls::{Participant, ParticipantRole};
use crate::ids::{RecordingId, WorkerTokenId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Where a recording's transcription stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum TranscriptStatus {
    /// Waiting for a worker (first try, or a retry after its backoff).
    Queued,
    /// A worker holds the job's lease.
    Running,
    Done,
    /// Given up after [`MAX_TRANSCRIPT_ATTEMPTS`]; `error` says why.
    Failed,
}

impl TranscriptStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TranscriptStatus::Queued => "queued",
            TranscriptStatus::Running => "running",
            TranscriptStatus::Done => "done",
            TranscriptStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<TranscriptStatus> {
        Some(match s {
            "queued" => TranscriptStatus::Queued,
            "running" => TranscriptStatus::Running,
            "done" => TranscriptStatus::Done,
            "failed" => TranscriptStatus::Failed,
            _ => return None,
        })
    }
}

/// Attempts before a job is marked `failed` (a worker's reported failure or an expired lease
/// each count as one).
pub const MAX_TRANSCRIPT_ATTEMPTS: i64 = 5;
/// At most this many lines in one channel's result.
pub const MAX_SEGMENTS: usize = 20_000;
/// At most this many words in one segment.
pub const MAX_WORDS: usize = 2_000;
/// At most this many bytes of text in one segment or word.
pub const MAX_TEXT_BYTES: usize = 4_096;

/// One word with its times (ms from the recording's start).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct TranscriptWord {
    pub start_ms: i64,
    pub end_ms: i64,
    pub text: String,
}

/// One line of one channel: who said it, when (ms from the recording's start) and what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct TranscriptLine {
    /// 0 = the caller's channel, 1 = the callee's.
    pub channel: u8,
    /// "Caller", "Agent (Alice Adams)", … as the dialogue shows it.
    pub speaker: String,
    pub start_ms: i64,
    pub end_ms: i64,
    pub text: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[ts(optional, as = "Option<Vec<TranscriptWord>>")]
    pub words: Vec<TranscriptWord>,
}

/// `GET /api/v1/recordings/{id}/transcript`: the status of the recording's transcription and,
/// once done, its lines in time order (all channels merged).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Transcript {
    pub recording_id: RecordingId,
    pub status: TranscriptStatus,
    pub attempts: i64,
    /// The last failure, while retried or once given up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub error: Option<String>,
    pub queued_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub finished_at: Option<DateTime<Utc>>,
    pub lines: Vec<TranscriptLine>,
}

impl Transcript {
    /// The lines as a dialogue, one per line: `[00:12] Caller: …`.
    pub fn dialogue(&self) -> String {
        dialogue(&self.lines)
    }
}

// --- the worker's wire shapes -------------------------------------------------------------

/// `POST /api/v1/transcription/claim`: the worker's name, for the status and the logs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct ClaimRequest {
    pub worker: String,
    /// How long to wait for a job when none is queued (long poll), at most
    /// [`MAX_CLAIM_WAIT_SECS`]; 0 answers at once.
    #[serde(default)]
    pub wait_secs: u32,
}

/// The longest a claim waits for a job.
pub const MAX_CLAIM_WAIT_SECS: u32 = 30;

/// A job handed to a worker: the recording's channels to fetch (each as 16-bit PCM WAV, with
/// the paused spans cut out) and the lease that must come back with the result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct TranscriptionJob {
    /// The job's id is its recording's.
    pub recording_id: RecordingId,
    /// Proof of holding the job; a result or failure with another lease is refused.
    pub lease: String,
    pub lease_until: DateTime<Utc>,
    /// How many channels the recording has; fetch each from
    /// `GET /api/v1/transcription/jobs/{id}/audio?channel=N&lease=…`.
    pub channels: u16,
    pub attempt: i64,
}

/// One segment as the engine gives it, times in ms of the audio the worker was sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct ResultSegment {
    pub start_ms: i64,
    pub end_ms: i64,
    pub text: String,
    #[serde(default)]
    pub words: Vec<TranscriptWord>,
}

/// One channel's segments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct ChannelResult {
    pub channel: u8,
    pub segments: Vec<ResultSegment>,
}

/// `POST /api/v1/transcription/jobs/{id}/result`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct TranscriptionResult {
    pub lease: String,
    pub channels: Vec<ChannelResult>,
}

/// `POST /api/v1/transcription/jobs/{id}/failure`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct TranscriptionFailure {
    pub lease: String,
    pub error: String,
}

/// `POST /api/v1/transcription/tokens` (admin): a token for a remote worker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct WorkerTokenInput {
    pub name: String,
}

/// A worker token as listed; the token itself is shown once, on creation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct WorkerToken {
    pub id: WorkerTokenId,
    pub name: String,
    pub created_at: DateTime<Utc>,
    /// Only in the answer to its creation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub token: Option<String>,
}

// --- the pure parts -------------------------------------------------------------------------

/// A span of the recording (ms from its start) that is sent to the engine; spans are in order
/// and do not overlap. The audio sent is these spans one after the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeptSpan {
    pub from_ms: i64,
    pub to_ms: i64,
}

/// The spans of a recording of `duration_ms` outside its PCI pauses (`(from_ms, to_ms)`, an
/// open pause running to the end): what may leave the server for transcription.
pub fn kept_spans(duration_ms: i64, pauses: &[(i64, Option<i64>)]) -> Vec<KeptSpan> {
    let mut cuts: Vec<(i64, i64)> = pauses
        .iter()
        .map(|&(f, t)| (f.clamp(0, duration_ms), t.unwrap_or(duration_ms).clamp(0, duration_ms)))
        .filter(|(f, t)| t > f)
        .collect();
    cuts.sort();
    let mut out = Vec::new();
    let mut at = 0;
    for (f, t) in cuts {
        if f > at {
            out.push(KeptSpan { from_ms: at, to_ms: f });
        }
        at = at.max(t);
    }
    if duration_ms > at {
        out.push(KeptSpan {
            from_ms: at,
            to_ms: duration_ms,
        });
    }
    out
}

/// A time of the audio sent (the kept spans one after the other) as a time of the recording.
pub fn to_recording_ms(spans: &[KeptSpan], sent_ms: i64) -> i64 {
    let mut before = 0;
    for s in spans {
        let len = s.to_ms - s.from_ms;
        if sent_ms < before + len {
            return s.from_ms + (sent_ms - before).max(0);
        }
        before += len;
    }
    spans.last().map_or(sent_ms, |s| s.to_ms)
}

/// Why a worker's result is refused (HTTP 422).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResultProblem {
    #[error("channel {0} is not a channel of the recording")]
    NoSuchChannel(u8),
    #[error("channel {0} is given twice")]
    ChannelTwice(u8),
    #[error("more than {MAX_SEGMENTS} segments in a channel, or {MAX_WORDS} words in a segment")]
    TooMany,
    #[error("a text longer than {MAX_TEXT_BYTES} bytes")]
    TextTooLong,
    #[error("a segment or word ends before it starts, or has a negative time")]
    BadTimes,
}

/// The lines of a worker's result, checked, their times mapped onto the recording's timeline
/// through `spans`, each named by its channel's speaker (`speakers[channel]`), in time order.
pub fn lines_of(
    result: &[ChannelResult],
    channels: u16,
    spans: &[KeptSpan],
    speakers: &[String],
) -> Result<Vec<TranscriptLine>, ResultProblem> {
    let mut seen = Vec::new();
    let mut lines = Vec::new();
    for ch in result {
        if u16::from(ch.channel) >= channels {
            return Err(ResultProblem::NoSuchChannel(ch.channel));
        }
        if seen.contains(&ch.channel) {
            return Err(ResultProblem::ChannelTwice(ch.channel));
        }
        seen.push(ch.channel);
        if ch.segments.len() > MAX_SEGMENTS {
            return Err(ResultProblem::TooMany);
        }
        for seg in &ch.segments {
            if seg.words.len() > MAX_WORDS {
                return Err(ResultProblem::TooMany);
            }
            check_span(seg.start_ms, seg.end_ms, &seg.text)?;
            for w in &seg.words {
                check_span(w.start_ms, w.end_ms, &w.text)?;
            }
            let text = seg.text.trim();
            if text.is_empty() {
                continue;
            }
            lines.push(TranscriptLine {
                channel: ch.channel,
                speaker: speakers
                    .get(usize::from(ch.channel))
                    .cloned()
                    .unwrap_or_else(|| format!("Channel {}", ch.channel + 1)),
                start_ms: to_recording_ms(spans, seg.start_ms),
                end_ms: to_recording_ms(spans, seg.end_ms),
                text: text.to_string(),
                words: seg
                    .words
                    .iter()
                    .map(|w| TranscriptWord {
                        start_ms: to_recording_ms(spans, w.start_ms),
                        end_ms: to_recording_ms(spans, w.end_ms),
                        text: w.text.trim().to_string(),
                    })
                    .collect(),
            });
        }
    }
    lines.sort_by_key(|l| (l.start_ms, l.channel, l.end_ms));
    Ok(lines)
}

fn check_span(start: i64, end: i64, text: &str) -> Result<(), ResultProblem> {
    if start < 0 || end < start {
        return Err(ResultProblem::BadTimes);
    }
    if text.len() > MAX_TEXT_BYTES {
        return Err(ResultProblem::TextTooLong);
    }
    Ok(())
}

/// The speaker of each channel: channel 0 is the caller's, channel 1 the callee's (SPEC §3). A
/// user is "Agent (their name)", anyone else "Caller" or "Callee".
pub fn speakers(participants: &[Participant]) -> Vec<String> {
    [ParticipantRole::Caller, ParticipantRole::Callee]
        .iter()
        .map(|role| {
            let word = match role {
                ParticipantRole::Caller => "Caller",
                ParticipantRole::Callee => "Callee",
            };
            match participants.iter().find(|p| p.role == *role) {
                Some(p) if p.user_id.is_some() => {
                    let name = p.user_name.as_deref().filter(|n| !n.is_empty()).unwrap_or(&p.name);
                    if name.is_empty() {
                        "Agent".to_string()
                    } else {
                        format!("Agent ({name})")
                    }
                }
                _ => word.to_string(),
            }
        })
        .collect()
}

/// `[mm:ss]` (or `[h:mm:ss]` from an hour on) of a time in ms.
pub fn clock(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    let (h, m, s) = (s / 3600, (s / 60) % 60, s % 60);
    if h > 0 {
        format!("[{h}:{m:02}:{s:02}]")
    } else {
        format!("[{m:02}:{s:02}]")
    }
}

/// The lines merged by time into one dialogue, one line each: `[00:12] Caller: …`.
pub fn dialogue(lines: &[TranscriptLine]) -> String {
    let mut sorted: Vec<&TranscriptLine> = lines.iter().collect();
    sorted.sort_by_key(|l| (l.start_ms, l.channel));
    let mut out = String::new();
    for l in sorted {
        out.push_str(&format!("{} {}: {}\n", clock(l.start_ms), l.speaker, l.text));
    }
    out
}

/// The lower-case text of the lines, for the journal's search.
pub fn search_text(lines: &[TranscriptLine]) -> String {
    let mut s = String::new();
    for l in lines {
        s.push_str(&l.text.to_lowercase());
        s.push(' ');
    }
    s
}

/// Until when an e-mail dispatch of a recording waits for its transcript (issue #16): while the
/// transcript is `queued` or `running`, at most `wait_secs` after it was queued (the recording's
/// end); `None` — send now — when there is no transcript to wait for (not asked for, `done`,
/// `failed`: a failed transcript never holds a dispatch) or the wait is over.
pub fn mail_waits_until(
    transcript: Option<(TranscriptStatus, DateTime<Utc>)>,
    now: DateTime<Utc>,
    wait_secs: u32,
) -> Option<DateTime<Utc>> {
    let (status, queued_at) = transcript?;
    let until = queued_at + chrono::Duration::seconds(i64::from(wait_secs));
    (matches!(status, TranscriptStatus::Queued | TranscriptStatus::Running) && now < until).then_some(until)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(start_ms: i64, end_ms: i64, text: &str) -> ResultSegment {
        ResultSegment {
            start_ms,
            end_ms,
            text: text.into(),
            words: vec![],
        }
    }

    #[test]
    fn issue_16_paused_spans_are_cut_out_and_times_map_back() {
        let spans = kept_spans(10_000, &[(2_000, Some(5_000)), (8_000, None)]);
        assert_eq!(
            spans,
            [
                KeptSpan {
                    from_ms: 0,
                    to_ms: 2_000
                },
                KeptSpan {
                    from_ms: 5_000,
                    to_ms: 8_000
                }
            ],
            "the pause and the open pause at the end are not sent"
        );
        assert_eq!(to_recording_ms(&spans, 1_000), 1_000, "before the pause: unchanged");
        assert_eq!(to_recording_ms(&spans, 2_500), 5_500, "after the pause: shifted by it");
        assert_eq!(to_recording_ms(&spans, 99_000), 8_000, "past the end: the end");
        assert_eq!(
            kept_spans(3_000, &[]),
            [KeptSpan {
                from_ms: 0,
                to_ms: 3_000
            }]
        );
        assert!(kept_spans(3_000, &[(0, None)]).is_empty(), "paused throughout: nothing");
    }

    #[test]
    fn issue_16_lines_merge_by_time_into_a_dialogue_with_speakers() {
        let speakers = vec!["Caller".to_string(), "Agent (Alice Adams)".to_string()];
        let result = [
            ChannelResult {
                channel: 1,
                segments: vec![seg(15_200, 17_000, " How can I help? ")],
            },
            ChannelResult {
                channel: 0,
                segments: vec![seg(12_000, 14_000, "Hello."), seg(18_000, 19_000, "  ")],
            },
        ];
        let spans = kept_spans(60_000, &[]);
        let lines = lines_of(&result, 2, &spans, &speakers).expect("valid");
        assert_eq!(lines.len(), 2, "the blank segment is dropped");
        assert_eq!(
            dialogue(&lines),
            "[00:12] Caller: Hello.\n[00:15] Agent (Alice Adams): How can I help?\n"
        );
        assert_eq!(clock(3_725_000), "[1:02:05]");
    }

    #[test]
    fn issue_16_bad_results_are_refused() {
        let spans = kept_spans(1_000, &[]);
        let sp = vec!["Caller".to_string()];
        let bad =
            |segments, channel| lines_of(&[ChannelResult { channel, segments }], 1, &spans, &sp).expect_err("refused");
        assert_eq!(bad(vec![seg(0, 1, "x")], 1), ResultProblem::NoSuchChannel(1));
        assert_eq!(bad(vec![seg(5, 1, "x")], 0), ResultProblem::BadTimes);
        assert_eq!(bad(vec![seg(0, 1, &"x".repeat(5000))], 0), ResultProblem::TextTooLong);
        let twice = [
            ChannelResult {
                channel: 0,
                segments: vec![],
            },
            ChannelResult {
                channel: 0,
                segments: vec![],
            },
        ];
        assert_eq!(lines_of(&twice, 1, &spans, &sp), Err(ResultProblem::ChannelTwice(0)));
    }

    #[test]
    fn issue_16_an_email_waits_for_a_transcript_in_the_making_only_and_only_so_long() {
        use chrono::TimeZone;
        let queued = Utc.with_ymd_and_hms(2026, 3, 2, 19, 50, 0).single().expect("time");
        let now = queued + chrono::Duration::minutes(10);
        let until = queued + chrono::Duration::seconds(1800);
        for status in [TranscriptStatus::Queued, TranscriptStatus::Running] {
            assert_eq!(
                mail_waits_until(Some((status, queued)), now, 1800),
                Some(until),
                "{status:?} holds it"
            );
            assert_eq!(
                mail_waits_until(Some((status, queued)), until, 1800),
                None,
                "not past the bound"
            );
            assert_eq!(mail_waits_until(Some((status, queued)), now, 0), None, "0 = never wait");
        }
        for status in [TranscriptStatus::Done, TranscriptStatus::Failed] {
            assert_eq!(
                mail_waits_until(Some((status, queued)), now, 1800),
                None,
                "{status:?} never holds it"
            );
        }
        assert_eq!(mail_waits_until(None, now, 1800), None, "a recording not transcribed");
    }
}
