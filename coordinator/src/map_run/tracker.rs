//! The Map Run's ledger, a pure state machine: the single owner of item and execution
//! counts (DescribeMapRun's `itemCounts`/`executionCounts`) and of the tolerated-failure rule.
//!
//! Rule (spec §3.2): failure rate = (failed + timed-out items) / total items; the run fails
//! when a configured threshold is strictly exceeded; with neither configured, any failure
//! fails it. The percentage needs the total, so it is judged once the reader is done (for
//! items from state input, at once).
//!
//! UpdateMapRun may change the thresholds of a running Map Run ([`Tracker::set_tolerance`]):
//! the rule then judges every failure seen so far and every later one by the new thresholds,
//! so lowering a threshold below what has already failed fails the run at once, as AWS does.

use serde::{Deserialize, Serialize};

use super::record::ChildStatus;

/// DescribeMapRun's count shape, for items or for child executions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    pub pending: u64,
    pub running: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub timed_out: u64,
    pub aborted: u64,
    pub total: u64,
    pub results_written: u64,
}

impl Counts {
    fn finish(&mut self, status: ChildStatus, n: u64) {
        match status {
            ChildStatus::Succeeded => self.succeeded += n,
            ChildStatus::Failed => self.failed += n,
            ChildStatus::TimedOut => self.timed_out += n,
            ChildStatus::Aborted => self.aborted += n,
            ChildStatus::Pending => return,
        }
        self.running = self.running.saturating_sub(n);
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Tolerance {
    pub count: Option<u64>,
    pub percentage: Option<f64>,
}

#[derive(Debug, Default)]
pub struct Tracker {
    pub items: Counts,
    pub executions: Counts,
    tolerance: Tolerance,
    reader_done: bool,
}

impl Tracker {
    pub fn new(tolerance: Tolerance) -> Self {
        Tracker { tolerance, ..Default::default() }
    }

    /// Items read (and selected) but not yet started.
    pub fn on_read(&mut self, n: u64) {
        self.items.total += n;
        self.items.pending += n;
    }

    pub fn on_reader_done(&mut self) {
        self.reader_done = true;
    }

    /// Whether every item has been read, so the total is final.
    pub fn reader_done(&self) -> bool {
        self.reader_done
    }

    /// A child carrying `items` items started.
    pub fn on_started(&mut self, items: u64) {
        self.items.pending = self.items.pending.saturating_sub(items);
        self.items.running += items;
        self.executions.total += 1;
        self.executions.running += 1;
    }

    /// A child ended (or was aborted) with `items` items.
    pub fn on_finished(&mut self, status: ChildStatus, items: u64) {
        self.items.finish(status, items);
        self.executions.finish(status, 1);
    }

    /// Items that will never start (the run failed first): they stay pending in the counts, as
    /// AWS reports them, and go to PENDING_n.json.
    pub fn on_pending_child(&mut self) {
        self.executions.total += 1;
        self.executions.pending += 1;
    }

    pub fn on_written(&mut self, status: ChildStatus, items: u64) {
        if status == ChildStatus::Succeeded {
            self.items.results_written += items;
            self.executions.results_written += 1;
        }
    }

    /// The thresholds the run is judged by now.
    pub fn tolerance(&self) -> Tolerance {
        self.tolerance
    }

    /// New thresholds (UpdateMapRun). Nothing is forgotten: [`Tracker::breached`] judges the
    /// failures already counted by them too.
    pub fn set_tolerance(&mut self, tolerance: Tolerance) {
        self.tolerance = tolerance;
    }

    /// Whether the failures so far exceed what the run tolerates.
    pub fn breached(&self) -> bool {
        let failed = self.items.failed + self.items.timed_out;
        let Tolerance { count, percentage } = self.tolerance;
        if count.is_none() && percentage.is_none() {
            return failed > 0;
        }
        let by_count = count.is_some_and(|c| failed > c);
        let by_pct = percentage.is_some_and(|p| {
            let total = self.items.total;
            self.reader_done && total > 0 && (failed as f64) * 100.0 / (total as f64) > p
        });
        by_count || by_pct
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(tolerance: Tolerance, total: u64, failed: u64) -> bool {
        let mut t = Tracker::new(tolerance);
        t.on_read(total);
        t.on_reader_done();
        for _ in 0..total {
            t.on_started(1);
        }
        for i in 0..total {
            t.on_finished(if i < failed { ChildStatus::Failed } else { ChildStatus::Succeeded }, 1);
        }
        t.breached()
    }

    #[test]
    fn thresholds_are_strictly_exceeded() {
        let none = Tolerance::default();
        assert!(!run(none, 10, 0));
        assert!(run(none, 10, 1));
        let count = Tolerance { count: Some(2), percentage: None };
        assert!(!run(count, 10, 2));
        assert!(run(count, 10, 3));
        let pct = Tolerance { count: None, percentage: Some(20.0) };
        assert!(!run(pct, 10, 2));
        assert!(run(pct, 10, 3));
        assert!(!run(Tolerance { count: None, percentage: Some(100.0) }, 10, 10));
        assert!(run(Tolerance { count: None, percentage: Some(0.0) }, 10, 1));
        let either = Tolerance { count: Some(5), percentage: Some(10.0) };
        assert!(run(either, 10, 2));
    }

    /// UpdateMapRun's thresholds apply to the failures already seen: lowering the count below
    /// them breaches at once; raising it forgives them (AWS: "The maximum number of failed
    /// items before the Map Run fails").
    #[test]
    fn updated_thresholds_judge_the_failures_already_seen() {
        let mut t = Tracker::new(Tolerance { count: Some(10), percentage: None });
        t.on_read(20);
        for _ in 0..20 {
            t.on_started(1);
        }
        for _ in 0..3 {
            t.on_finished(ChildStatus::Failed, 1);
        }
        assert!(!t.breached());
        t.set_tolerance(Tolerance { count: Some(2), percentage: None });
        assert!(t.breached());
        t.set_tolerance(Tolerance { count: Some(3), percentage: None });
        assert!(!t.breached());
        t.on_finished(ChildStatus::TimedOut, 1);
        assert!(t.breached(), "a timed-out item is a failure too");
        t.set_tolerance(Tolerance { count: Some(100), percentage: None });
        assert!(!t.breached());
        // A percentage is judged once the total is known: 4 of 20 is 20 %.
        t.set_tolerance(Tolerance { count: Some(100), percentage: Some(15.0) });
        assert!(!t.breached());
        t.on_reader_done();
        assert!(t.breached());
        t.set_tolerance(Tolerance { count: Some(100), percentage: Some(20.0) });
        assert!(!t.breached());
        assert_eq!(t.tolerance(), Tolerance { count: Some(100), percentage: Some(20.0) });
    }

    #[test]
    fn batches_count_items_and_executions_apart() {
        let mut t = Tracker::new(Tolerance { count: Some(100), percentage: None });
        t.on_read(50);
        t.on_started(30);
        t.on_started(20);
        t.on_finished(ChildStatus::Failed, 30);
        t.on_finished(ChildStatus::Succeeded, 20);
        assert_eq!((t.items.failed, t.items.succeeded, t.items.running, t.items.total), (30, 20, 0, 50));
        assert_eq!((t.executions.failed, t.executions.succeeded, t.executions.total), (1, 1, 2));
    }
}
