//! Faults of a Map Run over NATS JetStream, injected into real processes (nats-server,
//! `dmap-worker`, `dmap run`): a worker killed mid-batch, a worker frozen until its batches
//! went elsewhere (its late outcomes are duplicates), a batch that kills every worker that runs
//! it, a coordinator killed and resumed, nats-server restarted, a worker stopped with SIGTERM.
//! After each, every item is accounted for exactly once in the ResultWriter output.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::nats::{
    Cluster, assert_all_succeeded_once, assert_exactly_once, fixture, ids_in, item_count, multisets, recorded_outcomes,
    status_doc, wait_for, worker_metric, write_functions,
};

/// A fault test that takes longer than this has hung.
const TEST_DEADLINE: Duration = Duration::from_secs(60);
/// Workers redeliver a dead worker's batches after this (`--ack-wait-seconds`). Live batches
/// send progress every third of it; 5 s keeps a loaded CI machine (2 cores, tests in
/// parallel) from redelivering live batches, which would blur what each test counts.
const ACK_WAIT: &str = "5";

fn item(i: u64) -> Value {
    json!({"id": i, "v": i})
}

/// The input of `wait.asl.json` and `record.asl.json`.
fn sizes(batch: u64, concurrency: u64, seconds: u64, tolerated: u64) -> Value {
    json!({"batch": batch, "concurrency": concurrency, "seconds": seconds, "tolerated": tolerated})
}

/// Waits until `worker` is running children.
fn wait_busy(c: &Cluster, worker: usize, deadline: Instant) {
    wait_for(
        "the worker to run children",
        deadline,
        || worker_metric(c, worker, "dmap_worker_in_flight_batches", &[]).filter(|n| *n > 0.0),
        || c.diagnostic(&[]),
    );
}

#[test]
fn a_worker_killed_mid_batch_hands_its_batches_to_another_and_each_item_counts_once() {
    let deadline = Instant::now() + TEST_DEADLINE;
    let mut c = Cluster::new(&["--ack-wait-seconds", ACK_WAIT]);
    let n = 400;
    c.write_items(n, item);
    // The first worker alone takes the first batches, so that killing it loses some.
    let first = c.start_worker();
    c.wait_workers_ready(deadline);
    let mut run = c.dmap_run(&fixture("wait.asl.json"), "killed-worker", &sizes(10, 8, 1, 0)).spawn("dmap");
    wait_busy(&c, first, deadline);
    let second = c.start_worker();
    c.wait_workers_ready(deadline);
    c.workers[first].proc.kill();

    let status = run.wait_exit(deadline);
    assert!(status.success(), "dmap run: {status}\n{}", c.diagnostic(&[&run]));
    assert_all_succeeded_once(&c, "killed-worker", n);
    // The killed worker's batches came to the other one again.
    let redelivered = worker_metric(&c, second, "dmap_worker_redeliveries_total", &[]).expect("metrics");
    assert!(redelivered >= 1.0, "the surviving worker saw no redelivery\n{}", c.diagnostic(&[&run]));
}

#[test]
fn a_stalled_worker_s_late_outcomes_are_dropped_as_duplicates() {
    let deadline = Instant::now() + TEST_DEADLINE;
    let mut c = Cluster::new(&["--ack-wait-seconds", ACK_WAIT]);
    let (n, batch) = (400, 10);
    c.write_items(n, item);
    let first = c.start_worker();
    c.wait_workers_ready(deadline);
    let mut run = c.dmap_run(&fixture("wait.asl.json"), "stalled", &sizes(batch, 8, 1, 0)).spawn("dmap");
    wait_busy(&c, first, deadline);
    let held = worker_metric(&c, first, "dmap_worker_in_flight_batches", &[]).expect("metrics");
    // Frozen, the first worker stops confirming progress: its batches go to the second one.
    c.workers[first].proc.signal("STOP");
    let second = c.start_worker();
    c.wait_worker_ready(second, deadline);
    wait_for(
        "the second worker to finish the frozen worker's batches",
        deadline,
        || worker_metric(&c, second, "dmap_worker_batches_total", &[]).filter(|b| *b >= held),
        || c.diagnostic(&[&run]),
    );
    // Thawed, it finishes them too and publishes outcomes the Map Run already has.
    c.workers[first].proc.signal("CONT");
    let doubled = wait_for(
        "a second outcome of a batch on the Map Run's subject",
        deadline,
        || {
            let mut outcomes = recorded_outcomes(&c.nats.url(), "stalled");
            outcomes.sort_unstable();
            outcomes.windows(2).find(|w| w[0] == w[1]).map(|w| w[0])
        },
        || c.diagnostic(&[&run]),
    );
    assert!(run.running(), "the Map Run had ended before batch {doubled}'s second outcome: nothing was tested");
    let status = run.wait_exit(deadline);
    assert!(status.success(), "dmap run: {status}\n{}", c.diagnostic(&[&run]));
    assert_all_succeeded_once(&c, "stalled", n);
    let r = c.results("stalled");
    assert_eq!(r.succeeded.len() as u64, n / batch, "one record per batch");
}

#[test]
fn a_batch_that_kills_its_workers_fails_after_max_deliveries_and_the_rest_succeeds() {
    let deadline = Instant::now() + TEST_DEADLINE;
    let mut c = Cluster::new(&[]);
    let functions = c.path("functions.toml");
    write_functions(&functions, &c.path("executions.log"));
    c = c.with_worker_args(&[
        "--ack-wait-seconds",
        ACK_WAIT,
        "--max-deliveries",
        "3",
        "--functions",
        functions.to_str().expect("utf-8"),
    ]);
    let (n, poison) = (200, 57);
    c.write_items(n, |i| if i == poison { json!({"id": i, "v": i, "poison": true}) } else { item(i) });
    c.start_worker();
    c.start_worker();
    c.wait_workers_ready(deadline);
    // ToleratedFailureCount counts items: the poison item's batch of 10 may fail.
    let input = json!({"batch": 10, "concurrency": 5, "tolerated": 10});
    let mut run = c.dmap_run(&fixture("poison.asl.json"), "poison", &input).spawn("dmap");
    // The harness replaces every worker the poison kills.
    let mut replaced = 0;
    while run.running() {
        replaced += c.replace_dead();
        assert!(Instant::now() < deadline, "the run did not end\n{}", c.diagnostic(&[&run]));
        std::thread::sleep(Duration::from_millis(50));
    }
    let status = run.wait_exit(deadline);
    assert!(status.success(), "dmap run: {status}\n{}", c.diagnostic(&[&run]));

    let r = c.results("poison");
    assert!(r.pending.is_empty());
    assert_eq!(r.failed.len(), 1, "one child FAILED: {:?}", r.failed);
    let failed = &r.failed[0];
    assert_eq!(ids_in(&r.failed, "Input"), (50..60).collect::<Vec<u64>>(), "the poison item's batch failed");
    assert_eq!(failed["Error"], "States.Runtime");
    let cause = failed["Cause"].as_str().unwrap_or_default();
    assert!(cause.contains("started 3 times"), "the cause names the runs: {cause}");
    assert_exactly_once(&ids_in(&r.succeeded, "Output"), (0..n).filter(|i| !(50..60).contains(i)), "succeeded items");
    // Each run of the poison killed a worker, and each was replaced.
    assert!(replaced >= 2, "workers replaced: {replaced}\n{}", c.diagnostic(&[&run]));
    let exhausted: f64 =
        (0..c.workers.len()).filter_map(|w| worker_metric(&c, w, "dmap_worker_exhausted_total", &[])).sum();
    assert_eq!(exhausted, 1.0, "one batch used up its runs");
}

#[test]
fn a_killed_coordinator_resumes_without_running_finished_batches_again() {
    let deadline = Instant::now() + TEST_DEADLINE;
    let mut c = Cluster::new(&[]);
    let (functions, log) = (c.path("functions.toml"), c.path("executions.log"));
    write_functions(&functions, &log);
    c = c.with_worker_args(&["--ack-wait-seconds", ACK_WAIT, "--functions", functions.to_str().expect("utf-8")]);
    let (n, batch, concurrency) = (1200, 20, 6);
    c.write_items(n, item);
    c.start_worker();
    c.start_worker();
    c.wait_workers_ready(deadline);
    let (definition, id, input) = (fixture("record.asl.json"), "resumed", sizes(batch, concurrency, 1, 0));

    // The reference: the same Map Run, uninterrupted, on the in-process worker pool.
    let (reference_functions, reference_log) = (c.path("reference.toml"), c.path("reference.log"));
    write_functions(&reference_functions, &reference_log);
    let reference_results = c.path("reference");
    std::fs::create_dir_all(&reference_results).expect("reference bucket");
    let mut reference = c
        .dmap_run(&definition, id, &input)
        .without_nats()
        .results_in(&reference_results)
        .arg("--functions")
        .arg(&reference_functions)
        .spawn("reference");

    let status_file = c.path("status.json");
    let start = || c.dmap_run(&definition, id, &input).arg("--map-run-status").arg(&status_file);
    let mut first = start().spawn("dmap-first");
    wait_for(
        "a quarter of the items to succeed",
        deadline,
        || status_doc(&status_file).filter(|d| item_count(d, "succeeded") >= n / 4),
        || c.diagnostic(&[&first]),
    );
    first.kill();
    // What had finished when the coordinator died: the outcomes recorded in NATS.
    let finished: BTreeSet<u64> = recorded_outcomes(&c.nats.url(), id).into_iter().collect();
    assert!(!finished.is_empty() && (finished.len() as u64) < n / batch, "finished before the kill: {finished:?}");
    std::fs::remove_file(&status_file).expect("the first status file");

    let mut second = start().spawn("dmap-second");
    let status = second.wait_exit(deadline);
    assert!(status.success(), "resumed dmap run: {status}\n{}", c.diagnostic(&[&first, &second]));
    assert_all_succeeded_once(&c, id, n);
    let doc = status_doc(&status_file).expect("the resumed run's status document");
    assert_eq!(doc["status"], "SUCCEEDED");
    assert_eq!((item_count(&doc, "succeeded"), item_count(&doc, "total")), (n, n), "{doc}");

    // Batch b holds items b*batch.. and `record` logs its first item's id once per execution.
    let mut runs: BTreeMap<u64, u32> = BTreeMap::new();
    for line in std::fs::read_to_string(&log).expect("the executions log").lines() {
        *runs.entry(line.parse::<u64>().expect("an item id") / batch).or_default() += 1;
    }
    assert_eq!(runs.keys().copied().collect::<Vec<u64>>(), (0..n / batch).collect::<Vec<u64>>(), "every batch ran");
    for b in &finished {
        assert_eq!(runs[b], 1, "batch {b} had finished before the kill and ran again");
    }
    // Only batches in flight at the kill (at most MaxConcurrency) may have run twice.
    let extra: u32 = runs.values().map(|r| r - 1).sum();
    assert!(extra as u64 <= concurrency, "{extra} extra executions: {runs:?}");

    let status = reference.wait_exit(deadline);
    assert!(status.success(), "reference run: {status}\n{}", reference.tail());
    let reference = support::dmap::read_results(&reference_results, &format!("out/{id}/manifest.json"));
    assert_eq!(
        multisets(&c.results(id)),
        multisets(&reference),
        "the resumed run's results equal an uninterrupted run's"
    );
}

#[test]
fn a_restarted_nats_server_is_survived_by_both_sides() {
    let deadline = Instant::now() + TEST_DEADLINE;
    let mut c = Cluster::new(&["--ack-wait-seconds", ACK_WAIT]);
    let n = 600;
    c.write_items(n, item);
    c.start_worker();
    c.start_worker();
    c.wait_workers_ready(deadline);
    let status_file = c.path("status.json");
    let mut run = c
        .dmap_run(&fixture("wait.asl.json"), "nats-restart", &sizes(10, 10, 1, 0))
        .arg("--map-run-status")
        .arg(&status_file)
        .spawn("dmap");
    wait_for(
        "a sixth of the items to succeed",
        deadline,
        || status_doc(&status_file).filter(|d| item_count(d, "succeeded") >= n / 6),
        || c.diagnostic(&[&run]),
    );
    c.nats.restart();

    let status = run.wait_exit(deadline);
    assert!(status.success(), "dmap run: {status}\n{}", c.diagnostic(&[&run]));
    assert_all_succeeded_once(&c, "nats-restart", n);
    let doc = status_doc(&status_file).expect("status document");
    assert_eq!((item_count(&doc, "succeeded"), item_count(&doc, "total")), (n, n), "{doc}");
    for w in 0..c.workers.len() {
        let lost = worker_metric(&c, w, "dmap_nats_disconnects_total", &[]).expect("metrics");
        assert!(lost >= 1.0, "worker {w} never saw the server go away");
        assert_eq!(worker_metric(&c, w, "dmap_nats_connected", &[]), Some(1.0), "worker {w} reconnected");
    }
}

#[test]
fn a_worker_stopped_with_sigterm_finishes_its_batches_and_exits_0() {
    let deadline = Instant::now() + TEST_DEADLINE;
    let mut c = Cluster::new(&["--ack-wait-seconds", ACK_WAIT, "--drain-seconds", "20"]);
    let n = 400;
    c.write_items(n, item);
    let first = c.start_worker();
    c.wait_workers_ready(deadline);
    let mut run = c.dmap_run(&fixture("wait.asl.json"), "sigterm", &sizes(10, 8, 1, 0)).spawn("dmap");
    wait_busy(&c, first, deadline);
    c.start_worker();
    c.wait_workers_ready(deadline);
    c.workers[first].proc.signal("TERM");

    let stopped = c.workers[first].proc.wait_exit(deadline);
    assert_eq!(stopped.code(), Some(0), "the stopped worker's exit\n{}", c.workers[first].proc.tail());
    let status = run.wait_exit(deadline);
    assert!(status.success(), "dmap run: {status}\n{}", c.diagnostic(&[&run]));
    assert_all_succeeded_once(&c, "sigterm", n);
}
