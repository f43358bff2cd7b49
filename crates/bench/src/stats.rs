//! Latency samples and their summary (p50, p99, max), and the plain-text table the benchmark
//! prints (Markdown, so it pastes into `docs/benchmarks.md` as it is).

use std::time::Duration;

/// The summary of one case at one concurrency.
#[derive(Debug, Clone)]
pub struct Summary {
    pub p50: Duration,
    pub p99: Duration,
    pub max: Duration,
    /// Requests per second over the whole run (all clients together).
    pub throughput: f64,
    /// CPU time of the server's threads per request (filled in by the caller).
    pub server_cpu_ms: f64,
    /// CPU time of the clients per request (filled in by the caller).
    pub client_cpu_ms: f64,
}

/// Nearest-rank percentile (`p` in 0..=100) of sorted samples.
fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

impl Summary {
    pub fn of(mut samples: Vec<Duration>, wall: Duration) -> Summary {
        samples.sort_unstable();
        Summary {
            p50: percentile(&samples, 50.0),
            p99: percentile(&samples, 99.0),
            max: samples.last().copied().unwrap_or_default(),
            throughput: samples.len() as f64 / wall.as_secs_f64().max(1e-9),
            server_cpu_ms: 0.0,
            client_cpu_ms: 0.0,
        }
    }
}

/// Milliseconds with two decimals.
pub fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

/// One row of the journal table: a case, its summaries at 1 and 8 (or whatever) clients.
pub struct Row {
    pub case: String,
    pub by_clients: Vec<(usize, Summary)>,
}

/// The journal table in Markdown, with the targets checked (p99 ≤ 5 ms at 1 client, ≤ 20 ms at
/// more).
pub fn journal_table(rows: &[Row]) -> String {
    let clients: Vec<usize> = rows
        .first()
        .map(|r| r.by_clients.iter().map(|(c, _)| *c).collect())
        .unwrap_or_default();
    let mut out = String::from("| case |");
    for c in &clients {
        out.push_str(&format!(
            " {c}× p50 ms | {c}× p99 ms | {c}× max ms | {c}× req/s | {c}× server CPU ms/req |"
        ));
    }
    out.push_str(" targets |\n|---|");
    for _ in &clients {
        out.push_str("---:|---:|---:|---:|---:|");
    }
    out.push_str("---|\n");
    for row in rows {
        out.push_str(&format!("| {} |", row.case));
        let mut met = true;
        for (c, s) in &row.by_clients {
            out.push_str(&format!(
                " {} | {} | {} | {:.0} | {:.2} |",
                ms(s.p50),
                ms(s.p99),
                ms(s.max),
                s.throughput,
                s.server_cpu_ms
            ));
            met &= s.p99 <= target(*c);
        }
        out.push_str(if met { " met |\n" } else { " **missed** |\n" });
    }
    out
}

/// The p99 target of the issue: 5 ms for one client, 20 ms for several.
pub fn target(clients: usize) -> Duration {
    if clients <= 1 {
        Duration::from_millis(5)
    } else {
        Duration::from_millis(20)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let samples: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        let s = Summary::of(samples, Duration::from_secs(1));
        assert_eq!(s.p50, Duration::from_millis(50), "the 50th of 100 samples");
        assert_eq!(s.p99, Duration::from_millis(99), "the 99th of 100 samples");
        assert_eq!(s.max, Duration::from_millis(100));
    }

    #[test]
    fn one_sample_is_every_percentile() {
        let s = Summary::of(vec![Duration::from_millis(3)], Duration::from_secs(1));
        assert_eq!(
            (s.p50, s.p99, s.max),
            (
                Duration::from_millis(3),
                Duration::from_millis(3),
                Duration::from_millis(3)
            )
        );
    }
}
