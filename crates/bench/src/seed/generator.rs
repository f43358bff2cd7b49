//! The calls of the seeded journal: start times weighted by hour and weekday, durations
//! drawn from a log-normal, and the [`Generator`] that turns a start time into a call with its
//! participants, trace and recordings (holds and transfers split a call into several).

use super::plan::Plan;
use super::{BYTES_PER_MS, DAYS, HEADER_BYTES};
use callrec_server::files::Files;
use callrec_store::{NewCall, NewRecording};
use callrec_types::calls::*;
use callrec_types::engine::{CallOrigin, TraceKind, TraceLine};
use callrec_types::rules::MonMode;
use callrec_types::{CallId, RuleId, UserId};
use chrono::{DateTime, Datelike, Duration, TimeZone, Utc, Weekday};
use rand::rngs::StdRng;
use rand::Rng;

/// Relative weight of calls in each hour of the day (UTC stands in for local time).
const HOURS: [f64; 24] = [
    0.01, 0.01, 0.01, 0.01, 0.01, 0.02, 0.05, 0.3, 0.8, 1.0, 1.0, 1.0, 0.7, 0.85, 0.95, 0.95, 0.9, 0.6, 0.3, 0.12,
    0.08, 0.05, 0.03, 0.02,
];

fn day_weight(d: Weekday) -> f64 {
    match d {
        Weekday::Sat => 0.25,
        Weekday::Sun => 0.08,
        _ => 1.0,
    }
}

/// Picks from cumulative weights.
fn pick(cumulative: &[f64], rng: &mut StdRng) -> usize {
    let x = rng.gen::<f64>() * cumulative.last().copied().unwrap_or(1.0);
    cumulative.partition_point(|&c| c <= x).min(cumulative.len() - 1)
}

fn cumulative(weights: impl Iterator<Item = f64>) -> Vec<f64> {
    weights
        .scan(0.0, |acc, w| {
            *acc += w;
            Some(*acc)
        })
        .collect()
}

/// Start times (whole seconds, as PBXs report them, so equal times occur) of `n` calls over
/// the span, sorted.
pub(super) fn start_times(n: u64, start: DateTime<Utc>, rng: &mut StdRng) -> Vec<i64> {
    let days = cumulative((0..DAYS).map(|d| day_weight((start + Duration::days(d)).weekday())));
    let hours = cumulative(HOURS.iter().copied());
    let mut times: Vec<i64> = (0..n)
        .map(|_| {
            let day = pick(&days, rng) as i64;
            let hour = pick(&hours, rng) as i64;
            start.timestamp() + day * 86_400 + hour * 3600 + rng.gen_range(0..3600)
        })
        .collect();
    times.sort_unstable();
    times
}

/// Log-normal seconds with the given median, capped at two hours.
fn lognormal_secs(rng: &mut StdRng, median: f64, sigma: f64) -> i64 {
    // Box–Muller: one standard normal from two uniforms.
    let (u1, u2): (f64, f64) = (rng.gen_range(1e-12..1.0), rng.gen());
    let z = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
    ((median * (sigma * z).exp()) as i64).clamp(5, 7200)
}

pub(super) struct Generator<'a> {
    pub(super) plan: &'a Plan,
    pub(super) ids: &'a [UserId],
    pub(super) rng: StdRng,
    pub(super) agents: Vec<usize>,
    pub(super) supervisors: Vec<usize>,
}

impl Generator<'_> {
    fn user(&self, i: usize, role: ParticipantRole) -> Participant {
        let p = &self.plan.people[i];
        Participant {
            name: p.name.clone(),
            number: p.ext.clone(),
            user_id: Some(self.ids[i]),
            role,
            user_name: None,
        }
    }

    fn external(&mut self, role: ParticipantRole) -> Participant {
        // Skewed towards the front of the pool: some customers call often.
        let u: f64 = self.rng.gen();
        let i = ((u * u) * self.plan.externals.len() as f64) as usize;
        let e = &self.plan.externals[i.min(self.plan.externals.len() - 1)];
        Participant {
            name: e.name.clone(),
            number: e.number.clone(),
            user_id: None,
            role,
            user_name: None,
        }
    }

    /// Who handles a call: an agent nine times in ten, else a supervisor.
    fn handler(&mut self) -> usize {
        if self.rng.gen_range(0..10) == 0 {
            self.supervisors[self.rng.gen_range(0..self.supervisors.len())]
        } else {
            self.agents[self.rng.gen_range(0..self.agents.len())]
        }
    }

    /// A colleague of `who` (same team, or the team's supervisor), sometimes anyone.
    fn colleague(&mut self, who: usize) -> usize {
        let team = self.plan.team_of(who);
        let pick = match team {
            Some(t) if self.rng.gen_range(0..10) < 7 => {
                let pool: Vec<usize> = t
                    .members
                    .iter()
                    .chain(&t.supervisors)
                    .copied()
                    .filter(|&p| p != who)
                    .collect();
                pool.get(self.rng.gen_range(0..pool.len().max(1))).copied()
            }
            _ => None,
        };
        pick.unwrap_or_else(|| loop {
            let p = self.rng.gen_range(1..self.plan.people.len());
            if p != who {
                break p;
            }
        })
    }

    pub(super) fn call(&mut self, index: u64, started_s: i64) -> (NewCall, Vec<NewRecording>) {
        let started_at = Utc
            .timestamp_opt(started_s, 0)
            .single()
            .expect("seeded times are in range");
        let roll = self.rng.gen_range(0..100);
        let handler = self.handler();
        let (participants, internal) = if roll < 55 {
            let mut ps = vec![
                self.external(ParticipantRole::Caller),
                self.user(handler, ParticipantRole::Callee),
            ];
            if self.rng.gen_range(0..100) < 8 {
                let to = self.colleague(handler);
                ps.push(self.user(to, ParticipantRole::Callee));
            }
            (ps, false)
        } else if roll < 85 {
            (
                vec![
                    self.user(handler, ParticipantRole::Caller),
                    self.external(ParticipantRole::Callee),
                ],
                false,
            )
        } else {
            let to = self.colleague(handler);
            (
                vec![
                    self.user(handler, ParticipantRole::Caller),
                    self.user(to, ParticipantRole::Callee),
                ],
                true,
            )
        };
        let answered = self.rng.gen_range(0..100) < if internal { 90 } else { 85 };
        let ring_s = self.rng.gen_range(3..25);
        let talk_s = lognormal_secs(&mut self.rng, if internal { 60.0 } else { 150.0 }, 0.9);
        let answered_at = answered.then(|| started_at + Duration::seconds(ring_s));
        let ended_at = match answered_at {
            Some(a) => a + Duration::seconds(talk_s),
            None => started_at + Duration::seconds(ring_s + self.rng.gen_range(5..30)),
        };
        let mon_mode = match self.rng.gen_range(0..100) {
            0..=87 => MonMode::Auto,
            88..=93 => MonMode::Force,
            94..=96 => MonMode::Manual,
            _ => MonMode::Deny,
        };
        let call_key = format!(
            "{}-{:08x}",
            started_at.format("%Y%m%d-%H%M%S"),
            (index as u32) ^ 0x5eed_cafe
        );
        let trace = vec![TraceLine {
            kind: TraceKind::Decision,
            rule_id: None,
            user_id: None,
            message: match mon_mode {
                MonMode::Auto => "an automatic rule matched: recorded from answer to hangup".into(),
                MonMode::Force => "MDC_MON_MODE is force: recorded from answer to hangup".into(),
                MonMode::Manual => "manual recording by a participant".into(),
                MonMode::Deny => "MDC_MON_MODE is deny: not recorded".into(),
            },
            at: None,
        }];

        // Recordings: none when unanswered or denied; otherwise the talk time split by holds
        // into 1–4 recordings (1.8 on average, 1.5 per call over all calls).
        let mut recordings = Vec::new();
        if let (Some(answered_at), false) = (answered_at, mon_mode == MonMode::Deny) {
            let count = match self.rng.gen_range(0..100) {
                0..=39 => 1,
                40..=84 => 2,
                85..=94 => 3,
                _ => 4,
            };
            let talk_ms = talk_s * 1000;
            let slice = talk_ms / count;
            let manual_by = participants.iter().find_map(|p| p.user_id);
            for seq in 1..=count {
                // Each hold takes a little of its slice; the recording covers the rest.
                let offset = (seq - 1) * slice;
                let gap = if seq > 1 { (slice / 10).min(20_000) } else { 0 };
                let duration_ms = (slice - gap).max(1000);
                let rec_start = answered_at + Duration::milliseconds(offset + gap);
                let trigger = match mon_mode {
                    MonMode::Force => Trigger::Force,
                    MonMode::Manual => Trigger::Manual {
                        user_id: manual_by,
                        via: ManualVia::Client,
                    },
                    _ => Trigger::Auto {
                        rule_id: Some(RuleId(1 + (index % 5) as i64)),
                        rule_name: None,
                    },
                };
                recordings.push(NewRecording {
                    call_id: CallId(0),
                    seq,
                    rel_path: Files::recording_rel_path(started_at, &call_key, seq),
                    file_name: Files::recording_file_name(&call_key, seq),
                    started_at: rec_start,
                    start_offset_ms: offset + gap,
                    duration_ms,
                    bytes: HEADER_BYTES + duration_ms * BYTES_PER_MS,
                    codec: AudioCodec::Pcmu,
                    sample_rate: 8000,
                    channels: 2,
                    // Not a real checksum (there is no file); the same width as one.
                    sha256: format!("{:064x}", index * 8 + seq as u64),
                    trigger,
                    state: RecordingState::Complete,
                });
            }
        }
        let direction = CallDirection::of(&participants);
        let call = NewCall {
            call_key,
            source: CallSource::Siprec,
            sip_call_ids: vec![format!(
                "{:016x}@pbx.example.com",
                index.wrapping_mul(0x9e37_79b9_7f4a_7c15)
            )],
            participants,
            direction,
            origin: if internal {
                CallOrigin::Internal
            } else {
                CallOrigin::External
            },
            mon_mode,
            started_at,
            answered_at,
            ended_at: Some(ended_at),
            state: CallState::Ended,
            trace,
            consent: Default::default(),
        };
        (call, recordings)
    }
}
