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

/// Probe H10's second half: the worker's slots were all stuck retrying outcome publishes, and
/// `/healthz` still said ok. With the outcome stream gone (a transient error: a coordinator
/// creates it again), a batch's outcome cannot be confirmed; once that has lasted longer than
/// the ack wait, the worker's `/healthz` is 503, and it is healthy again once the stream is back.
#[test]
fn a_worker_whose_outcome_publishes_are_stuck_is_unhealthy() {
    use shared::protocol::nats::{BATCH_SUBJECT_CPU, OUTCOME_STREAM};
    use shared::protocol::{Batch, ChildIdentity, DefinitionRecord, VERSION, write_batches};

    let deadline = Instant::now() + TEST_DEADLINE;
    let mut c = Cluster::new(&["--ack-wait-seconds", "1"]);
    let w = c.start_worker();
    c.wait_workers_ready(deadline);
    let url = c.nats.url();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    let js = rt.block_on(async { async_nats::jetstream::new(async_nats::connect(&url).await.expect("connect")) });
    let outcomes_config = rt.block_on(async {
        let mut s = js.get_stream(OUTCOME_STREAM).await.expect("the outcome stream");
        let config = s.info().await.expect("its info").config.clone();
        js.delete_stream(OUTCOME_STREAM).await.expect("delete the outcome stream");
        config
    });
    rt.block_on(async {
        let record = DefinitionRecord {
            v: VERSION,
            definition: json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}),
            max_payload_bytes: None,
        };
        let hash = record.content_hash();
        let kv = js.get_key_value(shared::protocol::nats::DEFINITIONS_BUCKET).await.expect("definitions");
        kv.put(&hash, serde_json::to_vec(&record).expect("record").into()).await.expect("store");
        let batch = Batch {
            v: VERSION,
            map_run_id: "stuck".into(),
            batch: 0,
            attempt: 1,
            definition: hash,
            first_item: 0,
            item_count: 1,
            child: ChildIdentity {
                name: "00000000-0000-4000-8000-000000000000".into(),
                state_machine_name: "p/M".into(),
                region: "us-east-1".into(),
                account: "123456789012".into(),
                role_arn: "arn:aws:iam::123456789012:role/x".into(),
            },
            nonce: "cd".repeat(16),
            input: "{}".into(),
        };
        let mut body = Vec::new();
        write_batches(&[batch], &mut body);
        js.publish(BATCH_SUBJECT_CPU, body.into()).await.expect("publish").await.expect("stored");
    });
    let listen = c.workers[w].listen.clone();
    let body = wait_for(
        "the worker's /healthz to say it is stuck",
        deadline,
        || http_get(&listen, "/healthz").filter(|(s, _)| *s == 503).map(|(_, b)| b),
        || c.diagnostic(&[]),
    );
    assert!(body.contains("publish"), "{body}");
    rt.block_on(async { js.create_stream(outcomes_config).await.expect("the outcome stream again") });
    wait_for(
        "the worker's /healthz to recover",
        deadline,
        || http_get(&listen, "/healthz").filter(|(s, _)| *s == 200),
        || c.diagnostic(&[]),
    );
}
