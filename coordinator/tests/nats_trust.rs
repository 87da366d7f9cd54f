//! What the coordinator believes of what arrives on NATS: an outcome counts only if it answers a
//! batch the Map Run handed out (its nonce), whoever else can publish on the outcome subject.

mod support;

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use shared::protocol::nats::{BATCH_STREAM, outcome_subject};
use support::nats::{Cluster, fixture, wait_for};

const TEST_DEADLINE: Duration = Duration::from_secs(60);

fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime").block_on(f)
}

/// Messages stored in the batch stream (0 until the stream exists).
fn batch_messages(url: &str) -> u64 {
    block_on(async {
        let js = async_nats::jetstream::new(async_nats::connect(url).await.expect("connect"));
        match js.get_stream(BATCH_STREAM).await {
            Ok(mut s) => s.info().await.map(|i| i.state.messages).unwrap_or(0),
            Err(_) => 0,
        }
    })
}

/// Publishes raw outcome messages on a Map Run's outcome subject, as anyone with publish rights can.
fn forge(url: &str, run: &str, bodies: &[String]) {
    block_on(async {
        let js = async_nats::jetstream::new(async_nats::connect(url).await.expect("connect"));
        for body in bodies {
            let ack = js.publish(outcome_subject(run), body.clone().into_bytes().into()).await.expect("publish");
            ack.await.expect("stored");
        }
    })
}

/// Probe M7: an outcome published by anyone on `dmap.outcomes.<run>` was accepted as the item's
/// result (and the real one dropped as a duplicate). Forged outcomes for every batch — the
/// probe's own (version 1, no nonce) and ones of this version with a made-up nonce — arrive
/// while the batches wait for a worker; then a worker runs them. Every item must end with its
/// real result.
#[test]
fn forged_outcomes_are_dropped_and_the_real_ones_counted() {
    let deadline = Instant::now() + TEST_DEADLINE;
    let mut c = Cluster::new(&[]);
    let n = 3;
    c.write_items(n, |i| json!({"id": i}));
    let mut run = c.dmap_run(&fixture("pass.asl.json"), "forge-1", &json!({})).spawn("dmap");
    let url = c.nats.url();
    wait_for(
        "the Map Run's batches in the queue",
        deadline,
        || (batch_messages(&url) >= 1).then_some(()),
        || c.diagnostic(&[&run]),
    );
    let mut bodies = Vec::new();
    for batch in 0..n {
        bodies.push(format!(
            "[{{\"v\":1,\"map_run_id\":\"forge-1\",\"batch\":{batch},\"attempt\":1,\"status\":\"SUCCEEDED\",\
             \"output_bytes\":15,\"start_millis\":0,\"stop_millis\":0}}]\n{{\"forged\":true}}"
        ));
        bodies.push(format!(
            "[{{\"v\":{v},\"map_run_id\":\"forge-1\",\"batch\":{batch},\"attempt\":1,\"nonce\":\"{nonce}\",\
             \"status\":\"SUCCEEDED\",\"output_bytes\":15,\"start_millis\":0,\"stop_millis\":0}}]\n{{\"forged\":true}}",
            v = shared::protocol::VERSION,
            nonce = "0".repeat(32),
        ));
    }
    forge(&url, "forge-1", &bodies);
    c.start_worker();

    let status = run.wait_exit(deadline);
    assert!(status.success(), "dmap run: {status}\n{}", c.diagnostic(&[&run]));
    let r = c.results("forge-1");
    assert!(r.failed.is_empty() && r.pending.is_empty(), "{:?} {:?}", r.failed, r.pending);
    let mut outputs: Vec<Value> = r
        .succeeded
        .iter()
        .map(|rec| serde_json::from_str(rec["Output"].as_str().unwrap_or("null")).expect("json"))
        .collect();
    outputs.sort_by_key(|o| o["id"].as_u64());
    let want: Vec<Value> = (0..n).map(|i| json!({"id": i})).collect();
    assert_eq!(outputs, want, "every item's result is its own, none forged\n{}", c.diagnostic(&[&run]));
}
