//! The seeded call centre's people and numbers: a [`Plan`] of agents in teams with their
//! supervisors and an admin, and the external callers, all derived from the fixed seed.

use super::SEED;
use anyhow::{bail, Result};
use callrec_types::directory::Level;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

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
    pub(super) fn team_of(&self, person: usize) -> Option<&TeamPlan> {
        self.teams.iter().find(|t| t.members.contains(&person))
    }
}
