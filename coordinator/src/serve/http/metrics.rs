//! The `/metrics` registry of `dmap serve`: the API's own numbers (requests by action and
//! answer code, latency histograms per action) and whatever other parts register: gauges and
//! counters through [`Metrics::register`] (a closure called on every scrape, reading numbers
//! the part keeps anyway) and histograms through [`Metrics::histogram`] (e.g. the store's
//! commit latency).
//!
//! It renders the Prometheus text format (families via `worker::ops::metrics::MetricsText`,
//! histograms here, since that writer has none). It must not read the store or the engine
//! itself.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use worker::ops::metrics::MetricsText;

use crate::serve::api::Action;

/// Upper bounds of the latency buckets, in seconds: from a cached read (~50 µs) to a slow
/// synchronous Express execution.
pub const LATENCY_BUCKETS: &[f64] =
    &[0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// A cumulative histogram of durations, updated without locks.
#[derive(Debug)]
pub struct Histogram {
    bounds: &'static [f64],
    /// Observations per bucket (not cumulative; rendering sums them), plus one for +Inf.
    counts: Vec<AtomicU64>,
    sum_nanos: AtomicU64,
}

impl Histogram {
    pub fn new(bounds: &'static [f64]) -> Self {
        Histogram {
            bounds,
            counts: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(),
            sum_nanos: AtomicU64::new(0),
        }
    }

    pub fn observe(&self, d: Duration) {
        let secs = d.as_secs_f64();
        let i = self.bounds.iter().position(|b| secs <= *b).unwrap_or(self.bounds.len());
        self.counts[i].fetch_add(1, Ordering::Relaxed);
        self.sum_nanos.fetch_add(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    /// Writes the `_bucket`, `_sum` and `_count` samples with `labels` (already rendered as
    /// `k="v",…`, possibly empty).
    fn render(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        let mut total = 0;
        for (i, c) in self.counts.iter().enumerate() {
            total += c.load(Ordering::Relaxed);
            let le = self.bounds.get(i).map_or("+Inf".to_string(), |b| b.to_string());
            let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"{le}\"}} {total}");
        }
        let sum = self.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9;
        let braces = if labels.is_empty() { String::new() } else { format!("{{{labels}}}") };
        let _ = writeln!(out, "{name}_sum{braces} {sum}");
        let _ = writeln!(out, "{name}_count{braces} {total}");
    }
}

type Source = Box<dyn Fn(&mut MetricsText) + Send + Sync>;

/// A histogram read at scrape time from numbers another part keeps: cumulative
/// `(upper bound, count)` buckets, the count of every observation (`+Inf`) and their sum.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub buckets: Vec<(f64, u64)>,
    pub count: u64,
    pub sum: f64,
}

type SnapshotSource = (String, String, Box<dyn Fn() -> Snapshot + Send + Sync>);

/// The registry. One per server; shared by `Arc`.
pub struct Metrics {
    latency: BTreeMap<&'static str, Histogram>,
    /// Successful requests per action: atomics, so the common case takes no lock.
    answered: BTreeMap<&'static str, AtomicU64>,
    /// Refused requests by action and error code.
    requests: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
    sources: Mutex<Vec<Source>>,
    histograms: Mutex<Vec<(String, String, Arc<Histogram>)>>,
    snapshots: Mutex<Vec<SnapshotSource>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        let latency = Action::ALL.iter().map(|a| (a.name(), Histogram::new(LATENCY_BUCKETS))).collect();
        let answered = Action::ALL.iter().map(|a| (a.name(), AtomicU64::new(0))).collect();
        Metrics {
            latency,
            answered,
            requests: Mutex::new(BTreeMap::new()),
            sources: Mutex::new(Vec::new()),
            histograms: Mutex::new(Vec::new()),
            snapshots: Mutex::new(Vec::new()),
        }
    }
}

impl Metrics {
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts one API request of `action` (`None`: no known action) answered with `code`
    /// (`"OK"` or the error code), and its latency.
    pub fn observe(&self, action: Option<Action>, code: &'static str, elapsed: Duration) {
        let name = action.map_or("Unknown", Action::name);
        if let Some(h) = self.latency.get(name) {
            h.observe(elapsed);
        }
        match self.answered.get(name) {
            Some(n) if code == "OK" => {
                n.fetch_add(1, Ordering::Relaxed);
            }
            _ => *self.requests.lock().unwrap_or_else(|e| e.into_inner()).entry((name, code)).or_insert(0) += 1,
        }
    }

    /// Adds a source of counters and gauges, called on every scrape.
    pub fn register(&self, source: impl Fn(&mut MetricsText) + Send + Sync + 'static) {
        self.sources.lock().unwrap_or_else(|e| e.into_inner()).push(Box::new(source));
    }

    /// A new histogram rendered as `name` (seconds), for the caller to observe into.
    pub fn histogram(&self, name: &str, help: &str, bounds: &'static [f64]) -> Arc<Histogram> {
        let h = Arc::new(Histogram::new(bounds));
        self.histograms.lock().unwrap_or_else(|e| e.into_inner()).push((name.into(), help.into(), h.clone()));
        h
    }

    /// A histogram rendered as `name` from `read`, called on every scrape (e.g. the store's
    /// commit latency, which the store's writer keeps).
    pub fn register_histogram(&self, name: &str, help: &str, read: impl Fn() -> Snapshot + Send + Sync + 'static) {
        self.snapshots.lock().unwrap_or_else(|e| e.into_inner()).push((name.into(), help.into(), Box::new(read)));
    }

    /// The exposition text of one scrape.
    pub fn render(&self) -> String {
        let mut text = MetricsText::new();
        let answered =
            self.answered.iter().map(|(a, n)| ((*a, "OK"), n.load(Ordering::Relaxed))).filter(|(_, n)| *n > 0);
        let refused: Vec<_> =
            self.requests.lock().unwrap_or_else(|e| e.into_inner()).iter().map(|(k, n)| (*k, *n)).collect();
        for ((action, code), n) in answered.chain(refused) {
            text.counter(
                "dmap_api_requests_total",
                "API requests by action and answer code (OK or the AWS error code).",
                &[("action", action), ("code", code)],
                n,
            );
        }
        for source in self.sources.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            source(&mut text);
        }
        let mut out = text.finish();
        let name = "dmap_api_request_duration_seconds";
        let _ = writeln!(out, "# HELP {name} API request latency by action, from the body read to the answer.");
        let _ = writeln!(out, "# TYPE {name} histogram");
        for (action, h) in &self.latency {
            h.render(&mut out, name, &format!("action=\"{action}\""));
        }
        for (name, help, h) in self.histograms.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} histogram");
            h.render(&mut out, name, "");
        }
        for (name, help, read) in self.snapshots.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            let s = read();
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} histogram");
            for (bound, n) in &s.buckets {
                let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {n}");
            }
            let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {}", s.count);
            let _ = writeln!(out, "{name}_sum {}", s.sum);
            let _ = writeln!(out, "{name}_count {}", s.count);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_are_cumulative_and_sources_are_scraped() {
        let m = Metrics::new();
        m.observe(Some(Action::ListStateMachines), "OK", Duration::from_micros(300));
        m.observe(Some(Action::ListStateMachines), "InvalidToken", Duration::from_millis(2));
        m.register(|t| t.gauge("dmap_executions", "Executions by status.", &[("status", "RUNNING")], 3.0));
        let commit = m.histogram("dmap_store_commit_seconds", "Store commit latency.", LATENCY_BUCKETS);
        commit.observe(Duration::from_millis(1));
        m.register_histogram("dmap_store_group_seconds", "Group commit latency.", || Snapshot {
            buckets: vec![(0.001, 2), (0.01, 3)],
            count: 4,
            sum: 0.5,
        });
        let text = m.render();
        let has = |line: &str| text.lines().any(|l| l == line);
        assert!(has(r#"dmap_api_requests_total{action="ListStateMachines",code="OK"} 1"#), "{text}");
        assert!(has(r#"dmap_api_request_duration_seconds_bucket{action="ListStateMachines",le="0.0005"} 1"#), "{text}");
        assert!(has(r#"dmap_api_request_duration_seconds_bucket{action="ListStateMachines",le="0.0025"} 2"#), "{text}");
        assert!(has(r#"dmap_api_request_duration_seconds_count{action="ListStateMachines"} 2"#), "{text}");
        assert!(has(r#"dmap_executions{status="RUNNING"} 3"#), "{text}");
        assert!(has(r#"dmap_store_commit_seconds_bucket{le="0.001"} 1"#), "{text}");
        assert!(has("# TYPE dmap_store_commit_seconds histogram"), "{text}");
        assert!(has(r#"dmap_store_group_seconds_bucket{le="0.01"} 3"#), "{text}");
        assert!(has(r#"dmap_store_group_seconds_bucket{le="+Inf"} 4"#), "{text}");
        assert!(has("dmap_store_group_seconds_sum 0.5"), "{text}");
    }
}
