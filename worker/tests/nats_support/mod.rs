//! A nats-server (testkit), the topology and a definition record as the coordinator writes
//! them, and a `Worker` built in-process as `dmap-worker` builds it: what the worker's NATS
//! tests share. Messages are published raw, so a test can send what no coordinator would.

#![allow(dead_code)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::HeaderMap;
use async_nats::jetstream::{self, consumer};
use serde_json::{Value, json};
use shared::protocol::nats::{CONSUMER_CPU, RUN_HEADER, batch_msg_id, outcome_subject};
use shared::protocol::{Batch, ChildIdentity, DefinitionRecord, Outcome, VERSION, read_outcomes, write_batches};
use testkit::NatsServer;
use tokio::sync::watch;
use worker::executor::Executor;
use worker::host::LocalHost;
use worker::nats::codec;
use worker::nats::connect::{ConnectionState, NatsArgs};
use worker::nats::consume::{Limits, Stats, Worker};
use worker::nats::topology::{self, CoordinatorSide, Settings};

pub struct Rig {
    pub server: NatsServer,
    pub js: jetstream::Context,
    pub coordinator: CoordinatorSide,
    /// The hash of a Pass child stored in the definitions bucket.
    pub hash: String,
    pub stats: Arc<Stats>,
    stop: watch::Sender<bool>,
    running: tokio::task::JoinHandle<()>,
}

impl Rig {
    /// A server and a worker holding at most `cpu_messages` CPU messages at once.
    pub async fn start(cpu_messages: usize) -> Rig {
        let server = NatsServer::start();
        let settings = Settings::default();
        let client = async_nats::connect(server.url()).await.expect("connect");
        let js = jetstream::new(client);
        let coordinator = topology::coordinator_side(&js, &settings).await.expect("coordinator topology");
        let hash = store(&coordinator, json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}})).await;

        let args = NatsArgs { nats: Some(server.url()), ..NatsArgs::default() };
        let worker_client =
            args.connect("dmap-worker", Arc::new(ConnectionState::default())).await.expect("worker connects");
        let worker_js = jetstream::new(worker_client);
        let side = topology::worker_side(&worker_js, &settings).await.expect("worker topology");
        let limits = Limits {
            cpu_messages,
            io_messages: 4,
            ack_wait: settings.ack_wait(),
            max_deliveries: settings.max_deliveries,
            drain: Duration::from_secs(5),
            hand_back: Duration::from_millis(200),
        };
        let worker = Worker::new(worker_js, side, Executor::new(Arc::new(LocalHost::default())), limits);
        let stats = worker.stats.clone();
        let (stop, stop_rx) = watch::channel(false);
        let running = tokio::spawn(worker.run(stop_rx));
        Rig { server, js, coordinator, hash, stats, stop, running }
    }

    /// Publishes a raw batch message on `subject` and waits for the server to store it.
    pub async fn publish(&self, subject: &str, msg_id: &str, body: Vec<u8>) {
        let mut headers = HeaderMap::new();
        headers.insert("Nats-Msg-Id", msg_id);
        let ack = self.js.publish_with_headers(subject.to_string(), headers, body.into()).await.expect("publish");
        ack.await.expect("the server stored the message");
    }

    /// Publishes batches as the coordinator does.
    pub async fn publish_batches(&self, subject: &str, batches: &[Batch]) {
        let mut json = Vec::new();
        write_batches(batches, &mut json);
        let mut headers = HeaderMap::new();
        let payload = codec::encode(json, &mut headers);
        let run = &batches[0].map_run_id;
        headers.insert("Nats-Msg-Id", batch_msg_id(run, batches[0].batch, batches.len()).as_str());
        headers.insert(RUN_HEADER, run.as_str());
        let ack = self.js.publish_with_headers(subject.to_string(), headers, payload.into()).await.expect("publish");
        ack.await.expect("the server stored the parcel");
    }

    /// The outcomes of the last outcome message of a Map Run, waiting up to `within` for one.
    pub async fn outcomes(&self, run: &str, within: Duration) -> Option<Vec<Outcome>> {
        let until = Instant::now() + within;
        loop {
            if let Ok(m) = self.coordinator.outcomes.get_last_raw_message_by_subject(&outcome_subject(run)).await {
                let body = codec::decode(&m.payload, Some(&m.headers)).expect("decode the outcome");
                return Some(read_outcomes(&body).expect("read the outcomes"));
            }
            if Instant::now() > until {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn cpu_consumer(&self) -> consumer::Info {
        self.coordinator.batches.consumer_info(CONSUMER_CPU).await.expect("consumer info")
    }

    /// Stops the worker as SIGTERM does and waits for it.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = tokio::time::timeout(Duration::from_secs(15), self.running).await;
    }
}

/// Stores a child definition as the coordinator does; returns its hash.
pub async fn store(coordinator: &CoordinatorSide, definition: Value) -> String {
    let record =
        DefinitionRecord { v: VERSION, definition, max_payload_bytes: Some(shared::asl::eval::MAX_PAYLOAD_BYTES) };
    let hash = record.content_hash();
    let text = serde_json::to_vec(&record).expect("record");
    coordinator.definitions.put(&hash, text.into()).await.expect("store the definition");
    hash
}

/// A one-item batch of a Map Run, as the coordinator builds it.
pub fn batch(run: &str, n: u64, definition: &str) -> Batch {
    Batch {
        v: VERSION,
        map_run_id: run.into(),
        batch: n,
        attempt: 1,
        definition: definition.into(),
        first_item: n,
        item_count: 1,
        child: ChildIdentity {
            name: format!("00000000-0000-4000-8000-{n:012}"),
            state_machine_name: "parent/Map".into(),
            region: "us-east-1".into(),
            account: "123456789012".into(),
            role_arn: "arn:aws:iam::123456789012:role/dmap".into(),
        },
        nonce: format!("{:032x}", 0xdead_beef_u64 + n),
        input: Arc::from(format!(r#"{{"item":{n}}}"#)),
    }
}
