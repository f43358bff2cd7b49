//! The seeded journal: a deterministic, realistic call centre — agents in teams with
//! supervisors, external callers who call again, business hours and quiet weekends,
//! transfers, holds that split a call into several recordings — written through
//! `Store::import_calls` in batches of one transaction each.
//!
//! Everything is derived from a fixed seed and the call count, so a rerun on a cached database
//! regenerates the same directory and external numbers (the search terms of the benchmark)
//! without reading them back. The database records what it holds in the setting
//! [`SETTING`]; a database without it (an interrupted seeding) is seeded again from scratch.

mod generator;
mod plan;

pub use plan::Plan;

use anyhow::{bail, Context, Result};
use callrec_store::{NewCall, NewRecording, NewUserRecord, Store};
use callrec_types::directory::TeamInput;
use callrec_types::UserId;
use chrono::{DateTime, Duration, TimeZone, Utc};
use generator::{start_times, Generator};
use rand::rngs::StdRng;
use rand::SeedableRng;
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
    use callrec_types::directory::Level;
    use chrono::{Datelike, Weekday};

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
