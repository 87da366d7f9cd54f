//! SIGTERM while a pull request is open: what that request still brings is *run*, not handed
//! back. A real nats-server (testkit), the topology and definition record as the coordinator
//! writes them, and a `Worker` built in-process as `dmap-worker` builds it. Once the worker's
//! CPU pull request is open and empty, the test raises `stop` and then publishes one parcel of
//! three Pass children exactly as the coordinator does. It checks that `Worker::run` returns
//! within 10 s, that the parcel's outcome message went out (three SUCCEEDED children, their
//! outputs equal to their inputs), and that nothing was handed back: the consumer delivered the
//! message once, and pending, ack-pending and redelivered are all 0; the worker's counters agree.
//!
//! Why: a parcel handed back with Nak comes back as a delivery that looks like a run that died
//! with its worker. It is then split into single-child messages and counted against
//! --max-deliveries. A message that reaches a dropped pull request instead waits out AckWait.
//! The old drain code (Nak whatever arrives within 50 ms, then drop the request) fails this
//! test either way, because no outcome is published.
//!
//! Timing: the test subscribes to the subject the worker sends its pull requests on
//! (`$JS.API.CONSUMER.MSG.NEXT.<stream>.<consumer>`). It therefore sees each request as the
//! server receives it and knows when the request expires (PULL_EXPIRY, 2 s, later). It raises
//! `stop` at most 300 ms after seeing the request, and `consumer_info` confirms the request is
//! waiting before that. The parcel is published 20 ms after `stop`: late enough for the pull
//! task to have taken its `stop` branch first, and early enough to fall inside the old code's
//! 50 ms Nak window, its worst case. The parcel must reach the server before the request
//! expires, so the test asserts that its publish was confirmed within 1.5 s of the request
//! being seen.
//!
//! - The correct code can fail only if the machine stalls for more than about 1 s (the
//!   margin), and the failure message then names the stall.
//! - The old code can pass only if its pull task is not scheduled within 20 ms of `stop`. The
//!   message would then reach it first, and `select!` would take it as ordinary work.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use async_nats::HeaderMap;
use async_nats::jetstream::{self, consumer, stream};
use futures::{FutureExt as _, StreamExt as _};
use serde_json::json;
use shared::protocol::nats::{
    BATCH_STREAM, BATCH_SUBJECT_CPU, CONSUMER_CPU, RUN_HEADER, batch_msg_id, outcome_msg_id, outcome_subject,
};
use shared::protocol::{Batch, ChildIdentity, DefinitionRecord, OutcomeStatus, VERSION, read_outcomes, write_batches};
use testkit::NatsServer;
use worker::executor::Executor;
use worker::host::LocalHost;
use worker::nats::codec;
use worker::nats::connect::{ConnectionState, NatsArgs};
use worker::nats::consume::{Limits, Worker};
use worker::nats::topology::{self, Settings};

const RUN: &str = "drain-test-run";
const CHILDREN: u64 = 3;
/// The pull request's lifetime on the server (consume.rs `PULL_EXPIRY`).
const PULL_EXPIRY: Duration = Duration::from_secs(2);

/// The parcel the coordinator's `NatsChannel::publish_parcel` would send for batches 0..3.
fn parcel(definition: &str) -> (HeaderMap, bytes::Bytes, Vec<String>) {
    let batches: Vec<Batch> = (0..CHILDREN)
        .map(|n| Batch {
            v: VERSION,
            map_run_id: RUN.into(),
            batch: n,
            attempt: 1,
            definition: definition.into(),
            first_item: n,
            item_count: 1,
            child: ChildIdentity {
                name: format!("00000000-0000-4000-8000-00000000000{n}"),
                state_machine_name: "parent/Map".into(),
                region: "us-east-1".into(),
                account: "123456789012".into(),
                role_arn: "arn:aws:iam::123456789012:role/dmap".into(),
            },
            nonce: format!("{n:032x}"),
            input: Arc::from(format!(r#"{{"item":{n},"text":"child {n}"}}"#)),
        })
        .collect();
    let mut json = Vec::new();
    write_batches(&batches, &mut json);
    let mut headers = HeaderMap::new();
    let payload = codec::encode(json, &mut headers);
    headers.insert("Nats-Msg-Id", batch_msg_id(RUN, 0, batches.len()).as_str());
    headers.insert(RUN_HEADER, RUN);
    (headers, payload.into(), batches.iter().map(|b| b.input.to_string()).collect())
}

async fn cpu_consumer(batches: &stream::Stream) -> consumer::Info {
    batches.consumer_info(CONSUMER_CPU).await.expect("consumer info")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_pull_request_open_at_sigterm_is_run_not_handed_back() {
    let started = Instant::now();
    let server = NatsServer::start();
    let settings = Settings::default();

    // The coordinator's side: streams, buckets, the child definition under its content hash.
    let client = async_nats::connect(server.url()).await.expect("connect");
    let js = jetstream::new(client.clone());
    let coordinator = topology::coordinator_side(&js, &settings).await.expect("coordinator topology");
    let record = DefinitionRecord {
        v: VERSION,
        definition: json!({
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "P",
            "States": {"P": {"Type": "Pass", "End": true}}
        }),
        max_payload_bytes: Some(shared::asl::eval::MAX_PAYLOAD_BYTES),
    };
    let hash = record.content_hash();
    let text = serde_json::to_vec(&record).expect("record");
    coordinator.definitions.put(&hash, text.into()).await.expect("store the definition");

    // Watch the worker's CPU pull requests go to the server (before the worker exists).
    let mut requests = client
        .subscribe(format!("$JS.API.CONSUMER.MSG.NEXT.{BATCH_STREAM}.{CONSUMER_CPU}"))
        .await
        .expect("subscribe to pull requests");
    client.flush().await.expect("flush");

    // The worker, as dmap-worker builds it (own connection, worker side of the topology).
    let args = NatsArgs { nats: Some(server.url()), ..NatsArgs::default() };
    let worker_client =
        args.connect("dmap-worker", Arc::new(ConnectionState::default())).await.expect("worker connects");
    let worker_js = jetstream::new(worker_client);
    let side = topology::worker_side(&worker_js, &settings).await.expect("worker topology");
    let limits = Limits {
        cpu_messages: 4,
        io_messages: 16,
        ack_wait: settings.ack_wait(),
        max_deliveries: settings.max_deliveries,
        drain: Duration::from_secs(5),
        hand_back: Duration::from_secs(5),
    };
    let worker = Worker::new(worker_js, side, Executor::new(Arc::new(LocalHost::default())), limits);
    let stats = worker.stats.clone();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    // Any request still buffered in `requests` reached the server after this (its age is at most
    // `since.elapsed()`); one awaited is seen as it arrives.
    let mut since = Instant::now();
    let mut running = tokio::spawn(worker.run(stop_rx));

    // A fresh CPU pull request, confirmed waiting with nothing to deliver.
    let seen = loop {
        let seen = match requests.next().now_or_never() {
            Some(request) => {
                assert!(request.is_some(), "the pull request subscription ended");
                since
            }
            None => {
                let request = tokio::time::timeout(Duration::from_secs(10), requests.next()).await;
                assert!(matches!(request, Ok(Some(_))), "the worker sent no CPU pull request within 10 s");
                Instant::now()
            }
        };
        // The server may register the request a moment after this copy of it arrives.
        let mut registered = false;
        while !registered && seen.elapsed() < Duration::from_millis(200) {
            let info = cpu_consumer(&coordinator.batches).await;
            registered = info.num_waiting >= 1 && info.num_pending == 0;
            if !registered {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
        if registered && seen.elapsed() < Duration::from_millis(300) {
            break seen;
        }
        since = Instant::now();
        while let Some(Some(_)) = requests.next().now_or_never() {}
    };

    // SIGTERM, then the parcel, while the request is still open.
    stop_tx.send(true).expect("the worker listens");
    tokio::time::sleep(Duration::from_millis(20)).await;
    let (headers, payload, inputs) = parcel(&hash);
    let ack = js.publish_with_headers(BATCH_SUBJECT_CPU, headers, payload).await.expect("publish");
    ack.await.expect("the server stored the parcel");
    let published = seen.elapsed();
    assert!(
        published < PULL_EXPIRY - Duration::from_millis(500),
        "the machine stalled: parcel stored {published:?} after the pull request was seen (expiry {PULL_EXPIRY:?}); \
         this run does not test the drain"
    );

    let ran = tokio::time::timeout(Duration::from_secs(10), &mut running).await;
    if ran.is_err() {
        running.abort();
    }
    let info = cpu_consumer(&coordinator.batches).await;
    let load = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
    let state = format!(
        "consumer: delivered {} pending {} ack_pending {} redelivered {}; worker: messages {} returned {} \
         redeliveries {} splits {} exhausted {} batches_succeeded {}",
        info.delivered.consumer_sequence,
        info.num_pending,
        info.num_ack_pending,
        info.num_redelivered,
        load(&stats.messages),
        load(&stats.returned),
        load(&stats.redeliveries),
        load(&stats.splits),
        load(&stats.exhausted),
        load(&stats.batches_succeeded),
    );
    assert!(matches!(ran, Ok(Ok(()))), "Worker::run did not return within 10 s of stop ({state})");

    // The outcome of the parcel went out: the batch was run, not handed back.
    let outcome = coordinator.outcomes.get_last_raw_message_by_subject(&outcome_subject(RUN)).await;
    let outcome = outcome.unwrap_or_else(|e| panic!("no outcome message for the parcel ({e}); {state}"));
    let id = outcome.headers.get("Nats-Msg-Id").map(|v| v.to_string());
    assert_eq!(id.as_deref(), Some(outcome_msg_id(RUN, 0, CHILDREN as usize).as_str()), "{state}");
    let body = codec::decode(&outcome.payload, Some(&outcome.headers)).expect("decode the outcome");
    let outcomes = read_outcomes(&body).expect("read the outcomes");
    assert_eq!(outcomes.len(), CHILDREN as usize, "{state}");
    for (n, o) in outcomes.iter().enumerate() {
        assert_eq!((o.batch, o.attempt, o.status), (n as u64, 1, OutcomeStatus::Succeeded), "{o:?}; {state}");
        assert_eq!(o.output.as_deref(), Some(inputs[n].as_str()), "a Pass child returns its input");
    }

    // Nothing handed back, nothing left unacknowledged, nothing delivered twice.
    assert_eq!(info.delivered.consumer_sequence, 1, "one delivery in all; {state}");
    assert_eq!((info.num_pending, info.num_ack_pending, info.num_redelivered), (0, 0, 0), "{state}");
    assert_eq!(load(&stats.messages), 1, "{state}");
    assert_eq!(load(&stats.returned) + load(&stats.redeliveries) + load(&stats.splits), 0, "{state}");
    assert_eq!(load(&stats.batches_succeeded), CHILDREN, "{state}");
    eprintln!(
        "nats_drain: {state}; parcel stored {:?} after the request, test took {:?}",
        published,
        started.elapsed()
    );
}
