//! The journal cases, measured over real HTTP on loopback through `callrec-client`: each
//! request's latency is taken around `Client::journal` (request, server, JSON decode), with
//! 1 and N clients sending back to back.
//!
//! The search terms and days vary from request to request (drawn from the seeded plan), so a
//! case measures the query shape, not one cached answer.

use crate::seed::{Plan, Seeded};
use crate::stats::{Row, Summary};
use anyhow::{Context, Result};
use callrec_client::{Client, JournalQuery};
use chrono::{Datelike, Duration, Weekday};
use std::sync::Arc;
use std::time::Instant;

/// Who sends a case's requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    Admin,
    Supervisor,
    Agent,
}

/// The query shape of a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// The first page, no filter.
    Newest,
    /// `q` = seven digits of an external number.
    SearchExternal,
    /// `q` = an agent's extension (four digits).
    SearchExtension,
    /// `q` = two digits (the LIKE path for terms shorter than a trigram).
    SearchShort,
    /// `q` = a common prefix (`+4930`, `+49151`, …): thousands of matches.
    SearchCommon,
    /// `from`/`to` one weekday.
    Day,
    /// The page after the previous response's `next_cursor`, walking ever deeper.
    NextPage,
}

#[derive(Debug, Clone, Copy)]
pub struct Case {
    pub name: &'static str,
    pub who: Who,
    pub shape: Shape,
}

/// The cases of issue #2 item 15, plus the agent's own journal and a short search.
pub const CASES: &[Case] = &[
    Case {
        name: "newest page (admin)",
        who: Who::Admin,
        shape: Shape::Newest,
    },
    Case {
        name: "search external number, 7 digits (admin)",
        who: Who::Admin,
        shape: Shape::SearchExternal,
    },
    Case {
        name: "search extension, 4 digits (admin)",
        who: Who::Admin,
        shape: Shape::SearchExtension,
    },
    Case {
        name: "search 2 digits (admin, LIKE)",
        who: Who::Admin,
        shape: Shape::SearchShort,
    },
    Case {
        name: "one-day range (admin)",
        who: Who::Admin,
        shape: Shape::Day,
    },
    Case {
        name: "supervisor scope, newest page",
        who: Who::Supervisor,
        shape: Shape::Newest,
    },
    Case {
        name: "supervisor scope, search external number",
        who: Who::Supervisor,
        shape: Shape::SearchExternal,
    },
    Case {
        name: "agent scope, newest page",
        who: Who::Agent,
        shape: Shape::Newest,
    },
    Case {
        name: "agent scope, search external number",
        who: Who::Agent,
        shape: Shape::SearchExternal,
    },
    Case {
        name: "agent scope, search a common prefix",
        who: Who::Agent,
        shape: Shape::SearchCommon,
    },
    Case {
        name: "next page by cursor (admin)",
        who: Who::Admin,
        shape: Shape::NextPage,
    },
    Case {
        name: "next page by cursor (supervisor)",
        who: Who::Supervisor,
        shape: Shape::NextPage,
    },
];

/// Prefixes shared by thousands of the seeded numbers (trigram and gram paths both).
const COMMON: &[&str] = &["+4930", "+4989", "+4940", "+49151", "+49176", "+49171"];

/// Page size of every request (the server's default).
pub const PAGE: u32 = 50;

/// The inputs the requests draw from.
pub struct Terms {
    external: Vec<String>,
    extension: Vec<String>,
    short: Vec<String>,
    /// Weekday midnights within the span.
    days: Vec<chrono::DateTime<chrono::Utc>>,
}

impl Terms {
    pub fn new(plan: &Plan, seeded: &Seeded) -> Terms {
        // The numbers at the front of the pool are the frequent callers; take every 7th of
        // the first 2,800 so that both frequent and rarer numbers are searched.
        let external = plan
            .externals
            .iter()
            .take(2800)
            .step_by(7)
            .map(|e| {
                let d = &e.number[e.number.len().saturating_sub(7)..];
                d.to_string()
            })
            .collect();
        let extension = plan.agents().map(|a| plan.people[a].ext.clone()).collect();
        let short = (10..100).map(|n| n.to_string()).collect();
        let days = (1..crate::seed::DAYS)
            .map(|d| seeded.start() + Duration::days(d))
            .filter(|d| !matches!(d.weekday(), Weekday::Sat | Weekday::Sun))
            .collect();
        Terms {
            external,
            extension,
            short,
            days,
        }
    }

    fn query(&self, shape: Shape, i: usize) -> JournalQuery {
        let mut q = JournalQuery {
            limit: Some(PAGE),
            ..JournalQuery::default()
        };
        // A multiplicative step spreads consecutive requests over the lists.
        let k = i.wrapping_mul(7919);
        match shape {
            Shape::Newest | Shape::NextPage => {}
            Shape::SearchExternal => q.q = Some(self.external[k % self.external.len()].clone()),
            Shape::SearchExtension => q.q = Some(self.extension[k % self.extension.len()].clone()),
            Shape::SearchShort => q.q = Some(self.short[k % self.short.len()].clone()),
            Shape::SearchCommon => q.q = Some(COMMON[k % COMMON.len()].to_string()),
            Shape::Day => {
                let from = self.days[k % self.days.len()];
                q.from = Some(from);
                q.to = Some(from + Duration::days(1));
            }
        }
        q
    }
}

/// The logged-in clients.
pub struct Clients {
    pub admin: Client,
    pub supervisor: Client,
    pub agent: Client,
}

impl Clients {
    fn of(&self, who: Who) -> &Client {
        match who {
            Who::Admin => &self.admin,
            Who::Supervisor => &self.supervisor,
            Who::Agent => &self.agent,
        }
    }
}

/// What one client saw: latencies and the number of items returned.
struct Run {
    samples: Vec<std::time::Duration>,
    items: usize,
}

async fn one_client(client: Client, terms: Arc<Terms>, case: Case, offset: usize, n: usize) -> Result<Run> {
    let mut run = Run {
        samples: Vec::with_capacity(n),
        items: 0,
    };
    // The paging case starts from its own first page (not measured), at a different depth per
    // client so that concurrent walks do not read the same pages.
    let mut cursor = None;
    if case.shape == Shape::NextPage {
        let mut q = terms.query(Shape::Newest, 0);
        for _ in 0..=(offset % 7) {
            q.cursor = client.journal(&q).await?.next_cursor;
        }
        cursor = q.cursor;
    }
    for i in 0..n {
        let mut q = terms.query(case.shape, offset + i);
        if case.shape == Shape::NextPage {
            q.cursor = cursor.clone();
        }
        let t = Instant::now();
        let page = client
            .journal(&q)
            .await
            .with_context(|| format!("{}: request {i}", case.name))?;
        run.samples.push(t.elapsed());
        run.items += page.items.len();
        if case.shape == Shape::NextPage {
            // At the end of a small journal the walk starts again from the newest page (its
            // first request then carries no cursor; rare, and as cheap as the others).
            cursor = page.next_cursor;
        }
    }
    Ok(run)
}

/// Runs one case with `clients` concurrent clients sending `requests` requests in all.
async fn measure(
    clients: &Clients,
    terms: &Arc<Terms>,
    case: Case,
    n_clients: usize,
    requests: usize,
) -> Result<(Summary, f64)> {
    let per_client = requests.div_ceil(n_clients);
    let (server_cpu, all_cpu) = crate::cpu::seconds();
    let began = Instant::now();
    let tasks: Vec<_> = (0..n_clients)
        .map(|c| {
            let client = clients.of(case.who).clone();
            tokio::spawn(one_client(client, terms.clone(), case, c * 100_003, per_client))
        })
        .collect();
    let mut samples = Vec::with_capacity(requests);
    let mut items = 0;
    for t in tasks {
        let run = t.await.context("a client task panicked")??;
        samples.extend(run.samples);
        items += run.items;
    }
    let wall = began.elapsed();
    let (server_after, all_after) = crate::cpu::seconds();
    let n = samples.len().max(1) as f64;
    let avg_items = items as f64 / n;
    let mut summary = Summary::of(samples, wall);
    summary.server_cpu_ms = (server_after - server_cpu) * 1000.0 / n;
    summary.client_cpu_ms = ((all_after - all_cpu) - (server_after - server_cpu)) * 1000.0 / n;
    Ok((summary, avg_items))
}

/// Every case at every concurrency; returns the table rows and the average page size per
/// case.
pub async fn run(
    clients: &Clients,
    terms: Terms,
    concurrency: &[usize],
    requests: usize,
    only: Option<&str>,
) -> Result<Vec<(Row, f64)>> {
    let terms = Arc::new(terms);
    let mut rows = Vec::new();
    for &case in CASES.iter().filter(|c| only.is_none_or(|o| c.name.contains(o))) {
        let mut row = Row {
            case: case.name.to_string(),
            by_clients: Vec::new(),
        };
        let mut avg_items = 0.0;
        for &c in concurrency {
            // Warm-up at the concurrency measured: the first requests of a shape pay for
            // statement preparation and cold pages, and the first at `c` clients for the
            // database connections a pool opens only when that many requests overlap (on
            // PostgreSQL seven new connections landed in the first case's 8-client p99).
            measure(clients, &terms, case, c, (requests / 10).clamp(10, 100).max(c)).await?;
            let (summary, items) = measure(clients, &terms, case, c, requests).await?;
            eprintln!(
                "  {:<44} {c}×  p50 {:>6} ms  p99 {:>6} ms  max {:>7} ms  {:>5.0} req/s  {:.1} rows/page  \
                 CPU/req server {:.2} ms, clients {:.2} ms",
                case.name,
                crate::stats::ms(summary.p50),
                crate::stats::ms(summary.p99),
                crate::stats::ms(summary.max),
                summary.throughput,
                items,
                summary.server_cpu_ms,
                summary.client_cpu_ms
            );
            avg_items = items;
            row.by_clients.push((c, summary));
        }
        rows.push((row, avg_items));
    }
    Ok(rows)
}
