//! The seeded journal: a deterministic, realistic call centre — agents in teams with
//! supervisors, external callers who call again, business hours and quiet weekends,
//! transfers, holds that split a call into several recordings — written through
//! `Store::import_calls` in batches of one transaction each.
//!
//! Everything is derived from a fixed seed and the call count, so a rerun on a cached database
//! regenerates the same directory and external numbers (the search terms of the benchmark)
//! without reading them back. The database records what it holds in the setting
//! [`SETTING`]; a database without it (an interrupted seeding) is seeded again from scratch.

use anyhow::{bail, Context, Result};
use callrec_server::files::Files;
use callrec_store::{NewCall, NewRecording, NewUserRecord, Store};
use callrec_types::calls::{
    AudioCodec, CallDirection, CallSource, CallState, ManualVia, Participant, ParticipantRole, RecordingState, Trigger,
};
use callrec_types::directory::{Level, TeamInput};
use callrec_types::engine::{CallOrigin, TraceKind, TraceLine};
use callrec_types::rules::MonMode;
use callrec_types::{CallId, RuleId, UserId};
use chrono::{DateTime, Datelike, Duration, TimeZone, Utc, Weekday};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::time::Instant;

/// The password of every seeded user (one argon2 hash, computed once).
pub const PASSWORD: &str = "bench-password-1";
/// The setting that marks a completely seeded database: `calls=<n>;users=<n>;end=<ms>`.
pub const SETTING: &str = "bench.seed";
/// The journal spans this many days, ending at midnight UTC of the day it was seeded.
pub const DAYS: i64 = 365;
const SEED: u64 = 0x00ca_11ec_0002;
/// Stereo G.711 at 8 kHz: 16,000 bytes a second.
const BYTES_PER_MS: i64 = 16;
/// The canonical G.711 WAV header (`callrec_media::wav::G711_HEADER_LEN`).
const HEADER_BYTES: i64 = callrec_media::wav::G711_HEADER_LEN as i64;

const FIRST: &[&str] = &[
    "Anna", "Ben", "Clara", "David", "Elif", "Felix", "Greta", "Hannes", "Ida", "Jonas", "Katrin", "Lukas", "Mia",
    "Noah", "Olga", "Paul", "Quirin", "Rosa", "Stefan", "Tanja", "Ulrich", "Vera", "Wolfgang", "Xenia", "Yusuf", "Zoe",
    "Jürgen", "Sören", "Maria", "Ahmet", "Lena", "Tobias", "Sarah", "Michael", "Julia", "Thomas", "Sophie", "Markus",
    "Laura", "Daniel",
];
const LAST: &[&str] = &[
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Schulz",
    "Hoffmann",
    "Schäfer",
    "Koch",
    "Bauer",
    "Richter",
    "Klein",
    "Wolf",
    "Schröder",
    "Neumann",
    "Schwarz",
    "Zimmermann",
    "Braun",
    "Krüger",
    "Hofmann",
    "Hartmann",
    "Lange",
    "Schmitt",
    "Werner",
    "Krause",
    "Meier",
    "Lehmann",
    "Yilmaz",
    "Kaya",
    "Nowak",
    "Kowalski",
    "Rossi",
    "Novak",
    "Horvat",
    "Jansen",
    "Peters",
    "Vogel",
];
const COMPANY: &[&str] = &[
    "Logistik GmbH",
    "Bau AG",
    "Versicherung",
    "Praxis",
    "Autohaus",
    "Steuerberatung",
    "Immobilien",
    "Stadtwerke",
    "Handels KG",
    "IT Services",
    "Kanzlei",
    "Apotheke",
];
const DE_AREAS: &[&str] = &[
    "30", "40", "89", "221", "69", "711", "211", "351", "341", "511", "911", "421", "621",
];
const DE_MOBILE: &[&str] = &[
    "151", "152", "157", "159", "160", "162", "163", "170", "171", "172", "175", "176", "177", "178", "179",
];
const ABROAD: &[&str] = &["+431", "+4144", "+4420", "+331", "+1212", "+3120", "+4822", "+3906"];

/// One user of the directory.
#[derive(Debug, Clone)]
pub struct Person {
    pub username: String,
    pub name: String,
    /// The extension the PBX reports for them (`2042`).
    pub ext: String,
    pub level: Level,
}

/// One team: indexes into [`Plan::people`].
#[derive(Debug, Clone)]
pub struct TeamPlan {
    pub name: String,
    pub members: Vec<usize>,
    pub supervisors: Vec<usize>,
}

/// An external party: a number as the PBX reports it, and a caller name when the network
/// sends one.
#[derive(Debug, Clone)]
pub struct External {
    pub number: String,
    pub name: String,
}

/// The whole seeded world, derived from the seed, the user count and the call count.
pub struct Plan {
    pub people: Vec<Person>,
    pub teams: Vec<TeamPlan>,
    pub externals: Vec<External>,
    pub calls: u64,
    pub users: usize,
}

/// What the database holds according to its [`SETTING`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seeded {
    pub calls: u64,
    pub users: usize,
    /// The end of the journal's span (midnight UTC, exclusive).
    pub end: DateTime<Utc>,
}

impl Seeded {
    fn encode(&self) -> String {
        format!(
            "calls={};users={};end={}",
            self.calls,
            self.users,
            self.end.timestamp_millis()
        )
    }

    fn decode(s: &str) -> Option<Seeded> {
        let mut calls = None;
        let mut users = None;
        let mut end = None;
        for kv in s.split(';') {
            match kv.split_once('=')? {
                ("calls", v) => calls = v.parse().ok(),
                ("users", v) => users = v.parse().ok(),
                ("end", v) => end = Utc.timestamp_millis_opt(v.parse().ok()?).single(),
                _ => {}
            }
        }
        Some(Seeded {
            calls: calls?,
            users: users?,
            end: end?,
        })
    }

    /// The first day of the span.
    pub fn start(&self) -> DateTime<Utc> {
        self.end - Duration::days(DAYS)
    }
}

/// `Jürgen Müller` → `juergen.mueller`.
fn username_of(first: &str, last: &str) -> String {
    let mut s = String::new();
    for ch in format!("{first}.{last}").to_lowercase().chars() {
        match ch {
            'ä' => s.push_str("ae"),
            'ö' => s.push_str("oe"),
            'ü' => s.push_str("ue"),
            'ß' => s.push_str("ss"),
            c => s.push(c),
        }
    }
    s
}

fn digits(rng: &mut StdRng, n: usize) -> String {
    (0..n).map(|_| char::from(b'0' + rng.gen_range(0..10u8))).collect()
}

fn person_name(rng: &mut StdRng) -> (&'static str, &'static str) {
    (FIRST[rng.gen_range(0..FIRST.len())], LAST[rng.gen_range(0..LAST.len())])
}

impl Plan {
    /// The directory and the external numbers for `users` users and `calls` calls.
    ///
    /// Users: one admin, one supervisor per ~14 users, the rest agents; one team per
    /// supervisor plus two more, supervised by the first two supervisors (a supervisor of two
    /// teams is the heavier scope); agents spread round-robin over the teams.
    pub fn new(users: usize, calls: u64) -> Result<Plan> {
        if users < 3 {
            bail!("the benchmark needs at least 3 users (an admin, a supervisor and an agent)");
        }
        let mut rng = StdRng::seed_from_u64(SEED);
        let supervisors = (users / 14).max(1);
        let agents = users - 1 - supervisors;
        let extra_teams = supervisors.min(2);
        let team_count = (supervisors + extra_teams).min(agents.max(1));

        let mut taken = std::collections::HashSet::new();
        let mut people = Vec::with_capacity(users);
        people.push(Person {
            username: "admin".into(),
            name: "Administrator".into(),
            ext: "1000".into(),
            level: Level::Admin,
        });
        for i in 0..supervisors + agents {
            let (first, last) = loop {
                let (f, l) = person_name(&mut rng);
                if taken.insert((f, l)) || taken.len() >= FIRST.len() * LAST.len() {
                    break (f, l);
                }
            };
            let mut username = username_of(first, last);
            if people.iter().any(|p: &Person| p.username == username) {
                username = format!("{username}{i}");
            }
            let (ext, level) = if i < supervisors {
                (format!("{}", 1001 + i), Level::Supervisor)
            } else {
                (format!("{}", 2001 + i - supervisors), Level::Agent)
            };
            people.push(Person {
                username,
                name: format!("{first} {last}"),
                ext,
                level,
            });
        }
        let mut teams: Vec<TeamPlan> = (0..team_count)
            .map(|t| TeamPlan {
                name: format!("Team {:02}", t + 1),
                members: Vec::new(),
                supervisors: vec![1 + t % supervisors],
            })
            .collect();
        for a in 0..agents {
            teams[a % team_count].members.push(1 + supervisors + a);
        }

        // Repeat callers: a pool of about one number per four calls.
        let pool = (calls / 4).clamp(1000, 300_000) as usize;
        let externals = (0..pool)
            .map(|_| {
                let roll: f64 = rng.gen();
                let number = if roll < 0.45 {
                    let area = DE_AREAS[rng.gen_range(0..DE_AREAS.len())];
                    let len = 10 - area.len() + rng.gen_range(0..2);
                    format!("+49{area}{}", digits(&mut rng, len))
                } else if roll < 0.8 {
                    let pre = DE_MOBILE[rng.gen_range(0..DE_MOBILE.len())];
                    let len = 7 + rng.gen_range(0..2);
                    format!("+49{pre}{}", digits(&mut rng, len))
                } else {
                    let pre = ABROAD[rng.gen_range(0..ABROAD.len())];
                    format!("{pre}{}", digits(&mut rng, 8))
                };
                let name = match rng.gen_range(0..10) {
                    0..=2 => {
                        let (f, l) = person_name(&mut rng);
                        format!("{f} {l}")
                    }
                    3 => format!(
                        "{} {}",
                        LAST[rng.gen_range(0..LAST.len())],
                        COMPANY[rng.gen_range(0..COMPANY.len())]
                    ),
                    _ => String::new(),
                };
                External { number, name }
            })
            .collect();
        Ok(Plan {
            people,
            teams,
            externals,
            calls,
            users,
        })
    }

    /// Indexes of the supervisors.
    pub fn supervisors(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.people.len()).filter(|&i| self.people[i].level == Level::Supervisor)
    }

    /// Indexes of the agents.
    pub fn agents(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.people.len()).filter(|&i| self.people[i].level == Level::Agent)
    }

    /// The team of an agent (each agent is in exactly one).
    fn team_of(&self, person: usize) -> Option<&TeamPlan> {
        self.teams.iter().find(|t| t.members.contains(&person))
    }
}

/// Reads the database's seeding mark.
pub async fn seeded(store: &dyn Store) -> Result<Option<Seeded>> {
    Ok(store.get_setting(SETTING).await?.as_deref().and_then(Seeded::decode))
}

/// Creates the directory through the store; returns the user id of every person in plan
/// order.
async fn seed_directory(store: &dyn Store, plan: &Plan) -> Result<Vec<UserId>> {
    let hash = callrec_server::auth::hash_password(PASSWORD).map_err(|e| anyhow::anyhow!(e.body.message))?;
    let mut ids = Vec::with_capacity(plan.people.len());
    for p in &plan.people {
        let user = store
            .create_user(&NewUserRecord {
                username: p.username.clone(),
                display_name: p.name.clone(),
                password_hash: hash.clone(),
                level: p.level,
                extensions: vec![p.ext.clone(), format!("sip:{}@pbx.example.com", p.username)],
            })
            .await
            .with_context(|| format!("creating user {}", p.username))?;
        ids.push(user.id);
    }
    for t in &plan.teams {
        store
            .create_team(&TeamInput {
                name: t.name.clone(),
                members: t.members.iter().map(|&i| ids[i]).collect(),
                supervisors: t.supervisors.iter().map(|&i| ids[i]).collect(),
            })
            .await
            .with_context(|| format!("creating {}", t.name))?;
    }
    Ok(ids)
}

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
fn start_times(n: u64, start: DateTime<Utc>, rng: &mut StdRng) -> Vec<i64> {
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

struct Generator<'a> {
    plan: &'a Plan,
    ids: &'a [UserId],
    rng: StdRng,
    agents: Vec<usize>,
    supervisors: Vec<usize>,
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

    fn call(&mut self, index: u64, started_s: i64) -> (NewCall, Vec<NewRecording>) {
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
        };
        (call, recordings)
    }
}

/// What seeding did.
pub struct SeedReport {
    pub calls: u64,
    pub recordings: u64,
    pub seconds: f64,
}

/// Seeds an empty database: the directory, then `plan.calls` calls in batches of `batch`,
/// each batch one `import_calls` transaction; marks the database as seeded at the end.
pub async fn seed(store: &dyn Store, plan: &Plan, batch: usize, end: DateTime<Utc>) -> Result<SeedReport> {
    if store.count_users().await? > 0 {
        bail!("the database is not empty; remove it (and its -wal/-shm files) to seed again");
    }
    let began = Instant::now();
    let ids = seed_directory(store, plan).await?;
    let mut rng = StdRng::seed_from_u64(SEED ^ plan.calls);
    let start = end - Duration::days(DAYS);
    let times = start_times(plan.calls, start, &mut rng);
    let mut gen = Generator {
        plan,
        ids: &ids,
        rng,
        agents: plan.agents().collect(),
        supervisors: plan.supervisors().collect(),
    };
    let mut recordings = 0u64;
    let mut last_report = Instant::now();
    for (b, chunk) in times.chunks(batch.max(1)).enumerate() {
        let first = (b * batch.max(1)) as u64;
        let rows: Vec<(NewCall, Vec<NewRecording>)> = chunk
            .iter()
            .enumerate()
            .map(|(i, &t)| gen.call(first + i as u64, t))
            .collect();
        recordings += rows.iter().map(|(_, r)| r.len() as u64).sum::<u64>();
        store
            .import_calls(&rows)
            .await
            .with_context(|| format!("importing calls {first}.."))?;
        let done = first + chunk.len() as u64;
        if last_report.elapsed().as_secs() >= 10 || done == plan.calls {
            last_report = Instant::now();
            let secs = began.elapsed().as_secs_f64();
            eprintln!(
                "  seeded {done}/{} calls, {recordings} recordings, {:.0} s ({:.0} calls/s)",
                plan.calls,
                secs,
                done as f64 / secs
            );
        }
    }
    let seconds = began.elapsed().as_secs_f64();
    let mark = Seeded {
        calls: plan.calls,
        users: plan.users,
        end,
    };
    store.put_setting(SETTING, &mark.encode()).await?;
    Ok(SeedReport {
        calls: plan.calls,
        recordings,
        seconds,
    })
}

/// Checks that a cached database holds the plan's directory.
pub async fn check_directory(store: &dyn Store, plan: &Plan) -> Result<()> {
    let teams = store.list_teams().await?;
    let users = store.count_users().await?;
    if teams.len() != plan.teams.len() || users as usize != plan.people.len() {
        bail!(
            "the cached database has {users} users and {} teams, the plan {} and {}; remove it to seed again",
            teams.len(),
            plan.people.len(),
            plan.teams.len()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plan_has_an_admin_supervisors_and_agents_in_teams() {
        let plan = Plan::new(200, 1_000_000).expect("valid plan");
        assert_eq!(plan.people.len(), 200);
        assert_eq!(plan.people[0].level, Level::Admin);
        assert_eq!(plan.supervisors().count(), 14);
        assert_eq!(plan.agents().count(), 185);
        assert_eq!(plan.teams.len(), 16, "one team per supervisor and two more");
        let usernames: std::collections::HashSet<_> = plan.people.iter().map(|p| &p.username).collect();
        assert_eq!(usernames.len(), 200, "usernames are unique");
        for a in plan.agents() {
            assert_eq!(
                plan.teams.iter().filter(|t| t.members.contains(&a)).count(),
                1,
                "every agent is in one team"
            );
        }
    }

    #[test]
    fn the_plan_is_the_same_on_every_run() {
        let a = Plan::new(50, 10_000).expect("valid plan");
        let b = Plan::new(50, 10_000).expect("valid plan");
        assert_eq!(a.externals[17].number, b.externals[17].number);
        assert_eq!(a.people[9].username, b.people[9].username);
    }

    #[test]
    fn the_seed_mark_round_trips() {
        let s = Seeded {
            calls: 1000,
            users: 200,
            end: Utc
                .with_ymd_and_hms(2026, 11, 26, 0, 0, 0)
                .single()
                .expect("valid date"),
        };
        assert_eq!(Seeded::decode(&s.encode()), Some(s));
        assert_eq!(Seeded::decode("calls=1"), None, "an incomplete mark is no mark");
    }

    #[test]
    fn start_times_are_sorted_within_the_span_and_busier_on_weekdays() {
        let mut rng = StdRng::seed_from_u64(1);
        let start = Utc
            .with_ymd_and_hms(2025, 11, 26, 0, 0, 0)
            .single()
            .expect("valid date");
        let t = start_times(20_000, start, &mut rng);
        assert!(t.windows(2).all(|w| w[0] <= w[1]), "sorted");
        assert!(t[0] >= start.timestamp() && *t.last().expect("some") < start.timestamp() + DAYS * 86_400);
        let sundays = t
            .iter()
            .filter(|&&s| Utc.timestamp_opt(s, 0).single().expect("valid").weekday() == Weekday::Sun)
            .count();
        assert!(sundays < 20_000 / 20, "Sundays are quiet: {sundays}");
    }
}
