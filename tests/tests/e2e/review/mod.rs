//! End-to-end: quality review and training (issue #15) with the real server and a clock the
//! test moves. Waveform peaks are exactly the min/max of a WAV whose samples the test chose,
//! computed once and then served from the cache (also with the file gone), for plain, sealed
//! and object-stored recordings, and 404 for whoever may not see the recording; comments stay
//! inside the recording, are edited only by their author and deleted by the author or an
//! admin, every change audited; a supervisor shares one recording with a trainee, who sees
//! that recording (and nothing else of the call) until the share expires or is revoked, after
//! which every route answers 404 as for any call they may not see — grant, revoke and each use
//! audited.
//!
//! One file per part: `peaks.rs`, `comments.rs`, `shares.rs`, `people.rs` (whom a user sees by
//! name); the known recording and the set-up they share are here.

mod comments;
mod peaks;
mod people;
mod shares;

use crate::post_call::{call, ingest, world, World};
use callrec_client::admin::AuditQuery;
use callrec_client::{AudioFormat, Client, ClientError};
use callrec_media::g711::Law;
use callrec_media::wav::{wav_header, Codec};
use callrec_tests::directory::{add_rule, rule};
use callrec_types::review::{NewComment, NewShare, Peaks};
use callrec_types::rules::{Dispatch, RuleDirection, RuleMode, RuleOrigin};
use callrec_types::wire::{AuditEntry, ErrorCode};
use callrec_types::{CallId, RecordingId, UserId};
use chrono::{DateTime, Duration, Utc};

/// Now, to the millisecond the store keeps.
fn now_ms() -> DateTime<Utc> {
    DateTime::from_timestamp_millis(Utc::now().timestamp_millis()).expect("a valid time")
}

/// Frames of the known recording: two seconds at 8 kHz.
const FRAMES: usize = 16_000;

/// A stereo µ-law WAV whose samples the test chose — louder in every eighth of it, the callee
/// an inverted, halved copy — and the decoded samples of each channel.
fn known_wav() -> (Vec<u8>, Vec<i16>, Vec<i16>) {
    let (mut data, mut left, mut right) = (Vec::new(), Vec::new(), Vec::new());
    for f in 0..FRAMES {
        let amp = 1_000 + (f / 2_000) as i32 * 3_000;
        let l = ((f * 37 % 201) as i32 - 100) * amp / 100;
        let r = -l / 2 + (f % 3) as i32;
        for (v, out) in [(l, &mut left), (r, &mut right)] {
            let code = Law::Ulaw.encode(v as i16);
            data.push(code);
            out.push(Law::Ulaw.decode(code));
        }
    }
    let mut wav = wav_header(Codec::Ulaw, 8000, 2, data.len() as u32);
    wav.extend_from_slice(&data);
    (wav, left, right)
}

/// The peaks computed independently: frame `f` of `F` falls in bucket `floor(f·B/F)`.
fn expected(left: &[i16], right: &[i16], buckets: usize) -> Vec<(Vec<i16>, Vec<i16>)> {
    [left, right]
        .iter()
        .map(|ch| {
            let mut min = vec![i16::MAX; buckets];
            let mut max = vec![i16::MIN; buckets];
            for (f, v) in ch.iter().enumerate() {
                let b = f * buckets / ch.len();
                min[b] = min[b].min(*v);
                max[b] = max[b].max(*v);
            }
            (min, max)
        })
        .collect()
}

fn as_pairs(p: &Peaks) -> Vec<(Vec<i16>, Vec<i16>)> {
    p.channels.iter().map(|c| (c.min.clone(), c.max.clone())).collect()
}

async fn support_rule(w: &World) {
    add_rule(
        &w.admin,
        rule(
            "Support, stored",
            RuleMode::Automatic,
            w.cast.support_role,
            RuleDirection::Both,
            RuleOrigin::Both,
            Dispatch::Store,
        ),
    )
    .await;
}

/// Uploads `wav` as a call between an outside caller and alice (201), an hour ago.
async fn upload(w: &World, sip_call_id: &str, wav: Vec<u8>) -> (CallId, RecordingId) {
    let r = ingest(
        &w.srv,
        &call(sip_call_id, w.srv.now() - Duration::hours(1), "+4930999000", "201"),
        wav,
    )
    .await;
    (r.call_id, r.recording_id)
}

/// The HTTP status of a failed call; panics on success.
fn status<T: std::fmt::Debug>(r: Result<T, ClientError>, what: &str) -> u16 {
    r.expect_err(what)
        .status()
        .unwrap_or_else(|| panic!("{what}: an HTTP error"))
}

async fn audit(admin: &Client, action: &str) -> Vec<AuditEntry> {
    admin
        .audit_filtered(&AuditQuery {
            action: Some(action.into()),
            limit: Some(1000),
            ..Default::default()
        })
        .await
        .expect("the audit log")
        .items
}

fn comment(at_ms: i64, to_ms: Option<i64>, text: &str) -> NewComment {
    NewComment {
        at_ms,
        to_ms,
        text: text.into(),
    }
}
