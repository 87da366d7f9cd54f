//! One pool of `dmap-worker` processes serves every Map Run on the NATS server: two Map Runs
//! from two `dmap run` processes at once both complete, each item exactly once, and the second
//! one progresses while the first is still running.

mod support;

use std::time::{Duration, Instant};

use serde_json::json;
use support::nats::{Cluster, assert_exactly_once, fixture, ids_in, item_count, status_doc, wait_for};

#[test]
fn two_map_runs_from_two_coordinators_share_the_workers() {
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut c = Cluster::new(&["--ack-wait-seconds", "2"]);
    let n = 400;
    c.write_items(n, |i| json!({"id": i, "v": i}));
    c.start_worker();
    c.start_worker();
    c.wait_workers_ready(deadline);
    let definition = fixture("wait.asl.json");
    let (long_status, short_status) = (c.path("long.json"), c.path("short.json"));
    // 40 batches of one second, 4 at a time: about ten seconds.
    let long_input = json!({"batch": 10, "concurrency": 4, "seconds": 1, "tolerated": 0});
    let mut long = c.dmap_run(&definition, "long", &long_input).arg("--map-run-status").arg(&long_status).spawn("long");
    wait_for(
        "the first Map Run to make progress",
        deadline,
        || status_doc(&long_status).filter(|d| item_count(d, "succeeded") > 0),
        || c.diagnostic(&[&long]),
    );
    // The same 40 batches, 20 at a time: about two seconds.
    let short_input = json!({"batch": 10, "concurrency": 20, "seconds": 1, "tolerated": 0});
    let mut short =
        c.dmap_run(&definition, "short", &short_input).arg("--map-run-status").arg(&short_status).spawn("short");
    let long_before = item_count(&status_doc(&long_status).expect("status"), "succeeded");

    // The second Map Run's first results arrive while the first one runs.
    let long_doc = loop {
        if status_doc(&short_status).is_some_and(|d| item_count(&d, "succeeded") > 0) {
            let doc = status_doc(&long_status).expect("status");
            assert!(long.running(), "the first Map Run had ended before the second one got results: {doc}");
            break doc;
        }
        assert!(Instant::now() < deadline, "the second Map Run got no results\n{}", c.diagnostic(&[&long, &short]));
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        long_doc["status"] == "RUNNING" && item_count(&long_doc, "succeeded") < n,
        "the first Map Run had ended before the second one got results: {long_doc}"
    );
    let status = short.wait_exit(deadline);
    assert!(status.success(), "second dmap run: {status}\n{}", c.diagnostic(&[&long, &short]));
    // Meanwhile the first Map Run kept going.
    let long_after = item_count(&status_doc(&long_status).expect("status"), "succeeded");
    assert!(long_after > long_before, "the first Map Run made no progress while the second ran ({long_after})");
    let status = long.wait_exit(deadline);
    assert!(status.success(), "first dmap run: {status}\n{}", c.diagnostic(&[&long, &short]));

    for id in ["long", "short"] {
        let r = c.results(id);
        assert!(r.failed.is_empty() && r.pending.is_empty(), "{id}: {:?} {:?}", r.failed, r.pending);
        assert_exactly_once(&ids_in(&r.succeeded, "Output"), 0..n, id);
    }
}
