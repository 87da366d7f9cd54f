//! Workers serve only what they can run (issue 11, §4): a child that calls a Lambda function
//! reaches only a worker whose functions file serves it, and a Map Run whose functions no live
//! worker serves says so — at start and in its status document — and waits instead of failing
//! its items.

mod support;

use std::time::{Duration, Instant};

use serde_json::json;
use support::dmap::repo;
use support::nats::{Cluster, fixture, item_count, status_doc, wait_for, worker_metric};

const TEST_DEADLINE: Duration = Duration::from_secs(90);
/// Rows of examples/data/orders/orders.csv: one child each.
const ORDERS: usize = 25;

fn functions() -> String {
    repo().join("examples/python/functions.toml").display().to_string()
}

fn examples_bucket() -> String {
    format!("dmap-examples={}", repo().join("examples/data").display())
}

/// Every order is in one SUCCEEDED record, priced by the Python function.
#[track_caller]
fn assert_all_priced(c: &Cluster, id: &str) {
    let r = c.results(id);
    assert!(r.failed.is_empty(), "FAILED records: {:?}", r.failed);
    assert!(r.pending.is_empty(), "PENDING records: {:?}", r.pending);
    assert_eq!(r.succeeded.len(), ORDERS, "one SUCCEEDED record per order");
    for rec in &r.succeeded {
        let output: serde_json::Value =
            serde_json::from_str(rec["Output"].as_str().expect("an Output string")).expect("Output is JSON");
        assert_eq!(output[0]["currency"], "EUR", "priced by examples/python/price.py: {rec}");
    }
}

/// The README's NATS setup: one worker without a functions file, one with the Python example's.
/// Before, batches reached the worker without `price` too, and their children failed with
/// States.Runtime "no integration is configured for the Task resource
/// 'arn:aws:states:::lambda:invoke'" (the run with States.ExceedToleratedFailureThreshold).
#[test]
fn function_children_reach_only_workers_that_serve_their_functions() {
    let deadline = Instant::now() + TEST_DEADLINE;
    let mut c = Cluster::new(&[]);
    let plain = c.start_worker();
    let fs = functions();
    let mut c = c.with_worker_args(&["--functions", &fs]);
    let capable = c.start_worker();
    c.wait_workers_ready(deadline);

    let mut run = c
        .dmap_run(&fixture("prices.asl.json"), "priced", &json!({}))
        .arg("--bucket")
        .arg(examples_bucket())
        .spawn("dmap");
    let exit = run.wait_exit(deadline);
    assert!(exit.success(), "dmap run: {exit}\n{}", c.diagnostic(&[&run]));
    assert_all_priced(&c, "priced");
    assert_eq!(
        worker_metric(&c, plain, "dmap_worker_messages_total", &[]),
        Some(0.0),
        "the worker without a functions file got none of the function children\n{}",
        c.diagnostic(&[])
    );
    assert!(worker_metric(&c, capable, "dmap_worker_messages_total", &[]).is_some_and(|n| n >= 1.0));
}

/// Only a worker that lacks `price`: the run says why it waits, fails nothing, and completes
/// once a worker that serves `price` comes.
#[test]
fn a_map_run_whose_functions_no_worker_serves_waits_and_says_so() {
    let deadline = Instant::now() + TEST_DEADLINE;
    let mut c = Cluster::new(&[]);
    c.start_worker();
    c.wait_workers_ready(deadline);
    let status = c.path("status.json");
    let mut run = c
        .dmap_run(&fixture("prices.asl.json"), "waits", &json!({}))
        .arg("--bucket")
        .arg(examples_bucket())
        .arg("--stall-seconds")
        .arg("1")
        .arg("--map-run-status")
        .arg(&status)
        .spawn("dmap");
    let doc = wait_for(
        "the status document to say that no worker serves `price`",
        deadline,
        || status_doc(&status).filter(|d| d["stalled"]["cause"].is_string()),
        || c.diagnostic(&[&run]),
    );
    assert_eq!(doc["status"], "RUNNING", "{doc}");
    assert!(
        doc["stalled"]["cause"].as_str().is_some_and(|s| s.contains("no live worker serves functions: price")),
        "{doc}"
    );
    assert_eq!(item_count(&doc, "failed"), 0, "no item failed while waiting: {doc}");
    assert!(run.stderr().contains("no live dmap-worker serves functions: price"), "said at start:\n{}", run.tail());

    let fs = functions();
    let mut c = c.with_worker_args(&["--functions", &fs]);
    c.start_worker();
    let exit = run.wait_exit(deadline);
    assert!(exit.success(), "dmap run: {exit}\n{}", c.diagnostic(&[&run]));
    assert_all_priced(&c, "waits");
    let doc = status_doc(&status).expect("the final status document");
    assert_eq!(doc["status"], "SUCCEEDED", "{doc}");
}
