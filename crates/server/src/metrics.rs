//! Prometheus counters, kept as atomics and rendered as text at `/metrics`.

use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

/// Missing-recording alarms raised by this node (issue #11.3, [`crate::alarms`]).
pub const RECORDINGS_MISSING: &str = "callrec_recordings_missing_total";

#[derive(Default)]
pub struct Metrics {
    pub http_requests: [AtomicU64; 5],
    pub calls_total: AtomicU64,
    pub calls_live: AtomicI64,
    pub recordings_total: AtomicU64,
    pub bytes_stored: AtomicI64,
    pub ingest_rejected: AtomicU64,
    pub logins_failed: AtomicU64,
    /// Counters owned by other parts (SIP, RTP, dispatch) register here by name.
    pub extra: std::sync::Mutex<Vec<(&'static str, &'static str, std::sync::Arc<AtomicU64>)>>,
    /// Gauges owned by other parts (the disk-full condition) register here by name.
    pub gauges: std::sync::Mutex<Vec<(&'static str, &'static str, std::sync::Arc<AtomicI64>)>>,
}

impl Metrics {
    pub fn count_status(&self, status: u16) {
        let class = (status / 100).clamp(1, 5) as usize - 1;
        self.http_requests[class].fetch_add(1, Ordering::Relaxed);
    }

    /// Registers a counter owned elsewhere (name, help) and returns it.
    pub fn counter(&self, name: &'static str, help: &'static str) -> std::sync::Arc<AtomicU64> {
        let c = std::sync::Arc::new(AtomicU64::new(0));
        self.extra.lock().expect("metrics lock").push((name, help, c.clone()));
        c
    }

    /// Registers a gauge owned elsewhere (name, help) and returns it.
    pub fn gauge(&self, name: &'static str, help: &'static str) -> std::sync::Arc<AtomicI64> {
        let g = std::sync::Arc::new(AtomicI64::new(0));
        self.gauges.lock().expect("metrics lock").push((name, help, g.clone()));
        g
    }

    /// The value of a counter or gauge registered by name (`None` until it is registered).
    pub fn value(&self, name: &str) -> Option<i64> {
        let counter = self
            .extra
            .lock()
            .expect("metrics lock")
            .iter()
            .find(|c| c.0 == name)
            .map(|c| c.2.load(Ordering::Relaxed) as i64);
        counter.or_else(|| {
            self.gauges
                .lock()
                .expect("metrics lock")
                .iter()
                .find(|g| g.0 == name)
                .map(|g| g.2.load(Ordering::Relaxed))
        })
    }

    pub fn render(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "# HELP callrec_http_requests_total HTTP requests answered, by status class."
        );
        let _ = writeln!(s, "# TYPE callrec_http_requests_total counter");
        for (i, c) in self.http_requests.iter().enumerate() {
            let _ = writeln!(
                s,
                "callrec_http_requests_total{{class=\"{}xx\"}} {}",
                i + 1,
                c.load(Ordering::Relaxed)
            );
        }
        let rows: [(&str, &str, &str, i64); 6] = [
            (
                "callrec_calls_total",
                "counter",
                "Calls created.",
                self.calls_total.load(Ordering::Relaxed) as i64,
            ),
            (
                "callrec_calls_live",
                "gauge",
                "Calls in progress.",
                self.calls_live.load(Ordering::Relaxed),
            ),
            (
                "callrec_recordings_total",
                "counter",
                "Recordings stored.",
                self.recordings_total.load(Ordering::Relaxed) as i64,
            ),
            (
                "callrec_bytes_stored",
                "gauge",
                "Bytes of recordings on disk.",
                self.bytes_stored.load(Ordering::Relaxed),
            ),
            (
                "callrec_ingest_rejected_total",
                "counter",
                "Uploads refused.",
                self.ingest_rejected.load(Ordering::Relaxed) as i64,
            ),
            (
                "callrec_logins_failed_total",
                "counter",
                "Failed logins.",
                self.logins_failed.load(Ordering::Relaxed) as i64,
            ),
        ];
        for (name, kind, help, v) in rows {
            let _ = writeln!(s, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}");
        }
        for (name, help, c) in self.extra.lock().expect("metrics lock").iter() {
            let _ = writeln!(
                s,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
                c.load(Ordering::Relaxed)
            );
        }
        for (name, help, g) in self.gauges.lock().expect("metrics lock").iter() {
            let _ = writeln!(
                s,
                "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {}",
                g.load(Ordering::Relaxed)
            );
        }
        s
    }
}
