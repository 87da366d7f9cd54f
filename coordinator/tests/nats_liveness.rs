//! A Map Run that cannot progress must be seen: with no worker to run its batches, `dmap run`
//! says it is stalled in its status document, `/metrics` and `/healthz`, and keeps waiting;
//! once a worker comes, it completes.

mod support;

use std::time::{Duration, Instant};

use serde_json::json;
use support::nats::{Cluster, fixture, free_addr, http_get, metric_sum, status_doc, wait_for};

const TEST_DEADLINE: Duration = Duration::from_secs(60);

/// Issue 11: the coordinator waited without a deadline and without a word (a rolling upgrade
/// that changed the protocol version would have hung every run unseen).
#[test]
fn a_map_run_without_workers_is_reported_stalled_and_completes_once_one_comes() {
    let deadline = Instant::now() + TEST_DEADLINE;
    let mut c = Cluster::new(&[]);
    let n = 4;
    c.write_items(n, |i| json!({"id": i}));
    let status = c.path("status.json");
    let listen = free_addr();
    let mut run = c
        .dmap_run(&fixture("pass.asl.json"), "stalls", &json!({}))
        .arg("--stall-seconds")
        .arg("1")
        .arg("--map-run-status")
        .arg(&status)
        .arg("--listen")
        .arg(&listen)
        .spawn("dmap");
    let doc = wait_for(
        "the status document to say the Map Run is stalled",
        deadline,
        || status_doc(&status).filter(|d| d["stalled"]["seconds"].as_u64().is_some()),
        || c.diagnostic(&[&run]),
    );
    assert_eq!(doc["status"], "RUNNING", "{doc}");
    assert!(doc["stalled"]["cause"].as_str().is_some_and(|s| s.contains("--stall-seconds")), "{doc}");
    let (code, body) = http_get(&listen, "/healthz").expect("dmap run's /healthz answers");
    assert_eq!(code, 503, "a stalled run is unhealthy: {body}");
    let (_, metrics) = http_get(&listen, "/metrics").expect("dmap run's /metrics answers");
    assert!(metric_sum(&metrics, "dmap_map_run_stalled_seconds", &[]) >= 1.0, "{metrics}");

    c.start_worker();
    let exit = run.wait_exit(deadline);
    assert!(exit.success(), "dmap run: {exit}\n{}", c.diagnostic(&[&run]));
    let r = c.results("stalls");
    assert!(r.failed.is_empty() && r.pending.is_empty(), "{:?} {:?}", r.failed, r.pending);
    assert_eq!(r.succeeded.len() as u64, n, "one SUCCEEDED record per item");
    let doc = status_doc(&status).expect("the final status document");
    assert_eq!(doc["status"], "SUCCEEDED", "{doc}");
    assert!(doc.get("stalled").is_none(), "an ended run is not stalled: {doc}");
}
