//! Cron schedules: the 5-field expression of the dispatch schedule parsed into a [`Schedule`]
//! (or refused in words an admin understands) and evaluated in the server's local time. A
//! leaf: the configuration, the settings and the scheduler all read schedules through it.

use chrono::{DateTime, Local, TimeZone, Utc};
use croner::parser::{CronParser, Seconds, Year};
use croner::Cron;

/// Why a cron expression is refused, in words for the admin who typed it (the cron parser's
/// own texts, such as "Component error: Number out of bounds", are not shown).
#[derive(Debug, thiserror::Error)]
pub enum ScheduleError {
    #[error("{0}")]
    Malformed(String),
    #[error("the schedule never runs")]
    Never,
}

/// One of the five fields: its name in words, its range, and the names it takes besides
/// numbers (`jan`… for months, `sun`… for days of the week).
struct CronField {
    name: &'static str,
    min: u32,
    max: u32,
    names: &'static [&'static str],
}

const CRON_FIELDS: [CronField; 5] = [
    CronField {
        name: "minute",
        min: 0,
        max: 59,
        names: &[],
    },
    CronField {
        name: "hour",
        min: 0,
        max: 23,
        names: &[],
    },
    CronField {
        name: "day of the month",
        min: 1,
        max: 31,
        names: &[],
    },
    CronField {
        name: "month",
        min: 1,
        max: 12,
        names: &[
            "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
        ],
    },
    CronField {
        name: "day of the week",
        min: 0,
        max: 7,
        names: &["sun", "mon", "tue", "wed", "thu", "fri", "sat"],
    },
];

const CRON_HELP: &str =
    "a schedule is 5 fields: minute, hour, day of the month, month, day of the week (“0 20 * * *” is every day at 20:00)";

impl CronField {
    /// What is wrong with one value (a number or a name) of this field, if anything.
    fn check_value(&self, v: &str) -> Option<String> {
        if let Ok(n) = v.parse::<u64>() {
            return (n < u64::from(self.min) || n > u64::from(self.max))
                .then(|| format!("the {} must be {}–{}", self.name, self.min, self.max));
        }
        let lower = v.to_ascii_lowercase();
        if self.names.iter().any(|n| *n == lower) {
            return None;
        }
        Some(if self.names.is_empty() {
            format!(
                "the {} must be a number {}–{}, not “{v}”",
                self.name, self.min, self.max
            )
        } else {
            format!(
                "“{v}” is not a {} (use {}–{} or {} … {})",
                self.name,
                self.min,
                self.max,
                self.names[0],
                self.names[self.names.len() - 1]
            )
        })
    }

    /// What is wrong with this field's text (a list of `*`, values, ranges, each with an
    /// optional `/step`), if anything. The cron syntax beyond that (`L`, `W`, `#`, `?`) is
    /// left to the parser.
    fn check(&self, text: &str) -> Option<String> {
        if text.contains(['L', 'W', '#', '?']) {
            return None;
        }
        for item in text.split(',') {
            if item.is_empty() {
                return Some(format!("the {} has an empty entry between commas", self.name));
            }
            let (base, step) = match item.split_once('/') {
                Some((b, st)) => (b, Some(st)),
                None => (item, None),
            };
            if let Some(st) = step {
                let span = self.max - self.min + 1;
                match st.parse::<u32>() {
                    Ok(n) if (1..=span).contains(&n) => {}
                    _ => {
                        return Some(format!(
                            "the step after “/” in the {} must be a number 1–{span}",
                            self.name
                        ))
                    }
                }
            }
            if base == "*" {
                continue;
            }
            let values: Vec<&str> = match base.split_once('-') {
                Some((a, b)) => vec![a, b],
                None => vec![base],
            };
            for v in values {
                if v.is_empty() {
                    return Some(format!("the {} has a range with a missing end", self.name));
                }
                if let Some(problem) = self.check_value(v) {
                    return Some(problem);
                }
            }
        }
        None
    }
}

/// The first problem of a 5-field cron expression in plain words, prefixed with the
/// expression; `None` when every field is in range (the parser may still refuse it).
fn cron_problem(text: &str) -> Option<String> {
    let fields: Vec<&str> = text.split_whitespace().collect();
    if fields.len() != 5 {
        return Some(format!(
            "“{text}”: {CRON_HELP}; this has {}",
            match fields.len() {
                1 => "1 field".to_string(),
                n => format!("{n} fields"),
            }
        ));
    }
    fields
        .iter()
        .zip(CRON_FIELDS.iter())
        .find_map(|(f, spec)| spec.check(f))
        .map(|problem| format!("“{text}”: {problem}"))
}

/// A parsed cron schedule, evaluated in the server's local time zone.
#[derive(Debug, Clone)]
pub struct Schedule {
    cron: Cron,
}

impl Schedule {
    /// Parses a 5-field cron expression (`*/15 * * * *`, `0 20 * * mon-fri`, …) and checks that
    /// it runs at all (`0 0 31 2 *` never does).
    pub fn parse(text: &str) -> Result<Schedule, ScheduleError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(ScheduleError::Malformed(format!("the schedule is empty: {CRON_HELP}")));
        }
        if text.chars().count() > 200 {
            return Err(ScheduleError::Malformed(
                "the schedule is longer than 200 characters".into(),
            ));
        }
        if let Some(problem) = cron_problem(text) {
            return Err(ScheduleError::Malformed(problem));
        }
        let cron = CronParser::builder()
            .seconds(Seconds::Disallowed)
            .year(Year::Disallowed)
            .build()
            .parse(text)
            .map_err(|e| {
                tracing::debug!(error = %e, text, "cron expression refused by the parser");
                ScheduleError::Malformed(format!(
                    "“{text}”: this is not a schedule the server understands; {CRON_HELP}"
                ))
            })?;
        let s = Schedule { cron };
        // A calendar without a year field repeats, so a run after any fixed time means runs
        // after every time.
        let reference = Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0).single().unwrap_or_default();
        if s.next_runs(reference, 3).len() < 3 {
            return Err(ScheduleError::Never);
        }
        Ok(s)
    }

    /// The first scheduled time strictly after `t`.
    pub fn next_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let local = t.with_timezone(&Local);
        self.cron
            .find_next_occurrence(&local, false)
            .ok()
            .map(|d| d.with_timezone(&Utc))
    }

    /// The next `n` scheduled times after `t`, in local time (what the admin UI shows).
    pub fn next_runs(&self, t: DateTime<Utc>, n: usize) -> Vec<DateTime<Local>> {
        let mut out = Vec::with_capacity(n);
        let mut at = t;
        while out.len() < n {
            match self.next_after(at) {
                Some(next) => {
                    out.push(next.with_timezone(&Local));
                    at = next;
                }
                None => break,
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Local
            .with_ymd_and_hms(y, mo, d, h, mi, 0)
            .single()
            .expect("an unambiguous local time")
            .with_timezone(&Utc)
    }

    #[test]
    fn the_default_runs_daily_at_eight_pm_local_time() {
        let s = Schedule::parse("0 20 * * *").expect("the default parses");
        let runs = s.next_runs(local(2026, 3, 10, 9, 0), 3);
        let hours: Vec<String> = runs.iter().map(|t| t.format("%d %H:%M").to_string()).collect();
        assert_eq!(hours, ["10 20:00", "11 20:00", "12 20:00"], "three evenings at 20:00");
    }

    #[test]
    fn every_fifteen_minutes() {
        let s = Schedule::parse("*/15 * * * *").expect("parses");
        let runs = s.next_runs(local(2026, 3, 10, 9, 7), 3);
        let mins: Vec<String> = runs.iter().map(|t| t.format("%H:%M").to_string()).collect();
        assert_eq!(mins, ["09:15", "09:30", "09:45"]);
    }

    #[test]
    fn malformed_and_impossible_schedules_are_refused_in_words() {
        for bad in [
            "",
            "every evening",
            "0 20 * *",
            "0 25 * * *",
            "*/0 * * * *",
            "0 0 0 20 * * *",
        ] {
            assert!(Schedule::parse(bad).is_err(), "{bad:?} must be refused");
        }
        assert!(
            matches!(Schedule::parse("0 0 31 2 *"), Err(ScheduleError::Never)),
            "February 31st never comes"
        );
    }

    /// #17: the cron parser's "Component error: Number out of bounds" reached the admin.
    #[test]
    fn issue17_bad_schedules_are_explained_in_plain_words() {
        let cases = [
            ("75 * * * *", "“75 * * * *”: the minute must be 0–59"),
            ("0 24 * * *", "“0 24 * * *”: the hour must be 0–23"),
            ("0 20 0 * *", "“0 20 0 * *”: the day of the month must be 1–31"),
            ("0 20 * 13 *", "“0 20 * 13 *”: the month must be 1–12"),
            ("0 20 * * 8", "“0 20 * * 8”: the day of the week must be 0–7"),
            ("0-60 20 * * *", "“0-60 20 * * *”: the minute must be 0–59"),
            ("0,15,99 20 * * *", "“0,15,99 20 * * *”: the minute must be 0–59"),
            (
                "*/0 * * * *",
                "“*/0 * * * *”: the step after “/” in the minute must be a number 1–60",
            ),
            (
                "0 twenty * * *",
                "“0 twenty * * *”: the hour must be a number 0–23, not “twenty”",
            ),
            (
                "0 20 * * fri-sunday",
                "“0 20 * * fri-sunday”: “sunday” is not a day of the week (use 0–7 or sun … sat)",
            ),
            (
                "0 20 * juni *",
                "“0 20 * juni *”: “juni” is not a month (use 1–12 or jan … dec)",
            ),
        ];
        for (bad, want) in cases {
            let got = Schedule::parse(bad).expect_err(bad).to_string();
            assert_eq!(got, want, "the message for {bad:?}");
        }
        for (bad, count) in [
            ("0 20 * *", "this has 4 fields"),
            ("0 0 0 20 * * *", "this has 7 fields"),
        ] {
            let got = Schedule::parse(bad).expect_err(bad).to_string();
            assert!(
                got.starts_with(&format!("“{bad}”: a schedule is 5 fields: minute, hour")) && got.ends_with(count),
                "the wrong number of fields is named: {got}"
            );
        }
        for bad in ["", "every evening", "0 20 * * *x", "0 1-2-3 * * *", "@daily"] {
            let got = Schedule::parse(bad).expect_err(bad).to_string();
            assert!(
                !got.contains("Component")
                    && (got.contains("5 fields") || got.contains(" must be ") || got.contains("is not a")),
                "{bad:?} is explained without the parser's words: {got}"
            );
        }
        // What the fields allow still parses: names, ranges, lists, steps, 7 for Sunday.
        for good in [
            "0 20 * * MON-fri",
            "*/15 8-18 * jan,jul *",
            "0 20 1-7 * 7",
            "0 20 L * *",
            "5,35 */2 * * 1#1",
        ] {
            assert!(Schedule::parse(good).is_ok(), "{good:?} is a valid schedule");
        }
    }
}
