//! `/healthz` and `/metrics` of `dmap run`: per Map Run progress (items and child executions
//! by status, in flight), and the NATS transport's counters.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use worker::ops::http::OpsSource;
use worker::ops::metrics::MetricsText;

use crate::map_run::nats::NatsTransport;
use crate::map_run::status::Progress;
use crate::map_run::tracker::Counts;

pub struct Ops {
    progress: Arc<Progress>,
    nats: Option<Arc<NatsTransport>>,
}

impl Ops {
    pub fn new(progress: Arc<Progress>, nats: Option<Arc<NatsTransport>>) -> Self {
        Ops { progress, nats }
    }
}

impl OpsSource for Ops {
    fn health(&self) -> Result<(), String> {
        if let Some(n) = &self.nats
            && !n.connection.connected.load(Ordering::Relaxed)
        {
            return Err("not connected to NATS".into());
        }
        for s in self.progress.snapshots() {
            if let (Some(seconds), "RUNNING") = (s.stalled_seconds, s.status) {
                return Err(format!("Map Run {} stalled: no progress for {seconds} s", s.map_run_arn));
            }
        }
        Ok(())
    }

    fn metrics(&self) -> String {
        let mut m = MetricsText::new();
        for s in self.progress.snapshots() {
            let run = s.map_run_arn.as_str();
            by_status(
                &mut m,
                "dmap_map_run_items",
                "Items of a Map Run by status (DescribeMapRun itemCounts).",
                run,
                &s.items,
            );
            by_status(
                &mut m,
                "dmap_map_run_child_executions",
                "Child executions (batches) of a Map Run by status (DescribeMapRun executionCounts).",
                run,
                &s.executions,
            );
            m.gauge(
                "dmap_map_run_items_read",
                "Items read by a Map Run so far.",
                &[("map_run", run)],
                s.items.total as f64,
            );
            m.gauge(
                "dmap_map_run_results_written",
                "Items whose results a Map Run has written.",
                &[("map_run", run)],
                s.items.results_written as f64,
            );
            m.gauge(
                "dmap_map_run_running",
                "1 while the Map Run is running.",
                &[("map_run", run)],
                if s.status == "RUNNING" { 1.0 } else { 0.0 },
            );
            m.gauge(
                "dmap_map_run_stalled_seconds",
                "Seconds a running Map Run has gone without reading an item or finishing a child, once past \
                 --stall-seconds; 0 otherwise.",
                &[("map_run", run)],
                s.stalled_seconds.unwrap_or(0) as f64,
            );
        }
        if let Some(n) = &self.nats {
            let st = &n.stats;
            let load = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
            m.counter(
                "dmap_batch_messages_published_total",
                "Batch messages published to JetStream.",
                &[],
                load(&st.messages_published),
            );
            m.counter(
                "dmap_batch_publish_retries_total",
                "Batch publishes repeated for want of a confirmation.",
                &[],
                load(&st.publish_retries),
            );
            m.counter(
                "dmap_outcomes_received_total",
                "Child outcomes received from workers.",
                &[],
                load(&st.outcomes_received),
            );
            m.counter(
                "dmap_redelivered_outcomes_total",
                "Child outcomes from a second or later delivery of their batch (a worker died or handed it back).",
                &[],
                load(&st.redelivered_outcomes),
            );
            m.counter(
                "dmap_rejected_outcomes_total",
                "Outcomes dropped because their nonce answers no batch the Map Run handed out (forged or stale).",
                &[],
                load(&st.rejected_outcomes),
            );
            m.counter(
                "dmap_foreign_outcomes_total",
                "Outcomes of another protocol version, whose children count as FAILED.",
                &[],
                load(&st.foreign_outcomes),
            );
            n.connection.write_metrics(&mut m);
        }
        m.finish()
    }
}

/// One gauge per DescribeMapRun status of a count.
fn by_status(m: &mut MetricsText, name: &str, help: &str, run: &str, c: &Counts) {
    for (status, n) in [
        ("succeeded", c.succeeded),
        ("failed", c.failed),
        ("timed_out", c.timed_out),
        ("aborted", c.aborted),
        ("pending", c.pending),
        ("running", c.running),
    ] {
        m.gauge(name, help, &[("map_run", run), ("status", status)], n as f64);
    }
}
