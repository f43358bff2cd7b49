//! CPU time spent by the server's threads, read from `/proc/self/task/*/stat`, so the report
//! can state what a request costs independently of how busy the shared machine was.
//!
//! The server runs in this process on a runtime whose threads are named `server`; its SQLite
//! work runs on sqlx's `sqlx-sqlite-worker-*` threads. Everything else is the clients.

/// Linux's `USER_HZ`: `/proc` reports CPU time in these ticks.
const TICKS_PER_SECOND: f64 = 100.0;

/// CPU seconds of (server threads, all threads) so far; zeros where `/proc` is unavailable.
pub fn seconds() -> (f64, f64) {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return (0.0, 0.0);
    };
    let (mut server, mut all) = (0u64, 0u64);
    for task in tasks.flatten() {
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else {
            continue;
        };
        // `pid (comm) state ...`: comm may hold spaces, so split at the last parenthesis.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let comm = &stat[open + 1..close];
        let fields: Vec<&str> = stat[close + 1..].split_whitespace().collect();
        // After comm: state is field 3 of stat(5), utime 14 and stime 15.
        let ticks: u64 = [11, 12]
            .iter()
            .filter_map(|&i| fields.get(i)?.parse::<u64>().ok())
            .sum();
        all += ticks;
        if comm.starts_with("server") || comm.starts_with("sqlx-sqlite") {
            server += ticks;
        }
    }
    (server as f64 / TICKS_PER_SECOND, all as f64 / TICKS_PER_SECOND)
}

#[cfg(test)]
mod tests {
    #[test]
    fn cpu_time_grows_with_work() {
        let (_, before) = super::seconds();
        let mut x = 0u64;
        let start = std::time::Instant::now();
        while start.elapsed().as_millis() < 300 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
        }
        std::hint::black_box(x);
        let (_, after) = super::seconds();
        assert!(
            after - before >= 0.1,
            "300 ms of spinning shows as CPU time: {before} → {after}"
        );
    }
}
