//! The JetStream objects dmap uses, created idempotently by whichever process comes first
//! (coordinator or worker): the batch work queue with its two shared pull consumers, the
//! outcome stream, and the definition and checkpoint buckets. Names come from
//! [`shared::protocol::nats`].

use std::time::Duration;

use async_nats::jetstream::{self, consumer, kv, stream};
use shared::protocol::nats::*;

/// Settings of the streams and consumers, from the command line of either binary.
#[derive(Debug, Clone, clap::Args)]
pub struct Settings {
    /// Seconds a worker may hold a batch without acknowledging it before NATS redelivers it
    /// (workers send in-progress acks while a batch runs, so only a dead worker's batches wait this long).
    #[arg(long, default_value_t = 30, env = "DMAP_ACK_WAIT_SECONDS", value_name = "SECONDS")]
    pub ack_wait_seconds: u64,
    /// Runs of a batch (deliveries that started it; each ended with its worker's death) before its
    /// children are FAILED (States.Runtime) instead of run again.
    #[arg(long, default_value_t = 5, env = "DMAP_MAX_DELIVERIES", value_name = "N")]
    pub max_deliveries: i64,
    /// Stream replicas (1 for a single server; 3 on a three-node cluster).
    #[arg(long, default_value_t = 1, env = "DMAP_NATS_REPLICAS", value_name = "N")]
    pub nats_replicas: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings { ack_wait_seconds: 30, max_deliveries: 5, nats_replicas: 1 }
    }
}

impl Settings {
    pub fn ack_wait(&self) -> Duration {
        Duration::from_secs(self.ack_wait_seconds.max(1))
    }
}

/// A publish of the same message id within this window is dropped by the server: a coordinator
/// or worker retrying after a lost acknowledgement never duplicates work.
const DUPLICATE_WINDOW: Duration = Duration::from_secs(600);
/// Outcomes of an abandoned Map Run are kept this long for `--resume`.
const OUTCOME_MAX_AGE: Duration = Duration::from_secs(7 * 24 * 3600);

#[derive(Debug, thiserror::Error)]
#[error("NATS JetStream: cannot set up {what}: {message}")]
pub struct TopologyError {
    pub what: String,
    pub message: String,
}

fn err(what: &str, e: impl std::fmt::Display) -> TopologyError {
    TopologyError { what: what.to_string(), message: e.to_string() }
}

/// The objects a coordinator needs.
#[derive(Clone)]
pub struct CoordinatorSide {
    pub batches: stream::Stream,
    pub outcomes: stream::Stream,
    pub definitions: kv::Store,
    pub runs: kv::Store,
}

/// The objects a worker needs.
#[derive(Clone)]
pub struct WorkerSide {
    pub cpu: consumer::PullConsumer,
    pub io: consumer::PullConsumer,
    pub definitions: kv::Store,
    /// Also counts the runs of redelivered batches.
    pub runs: kv::Store,
}

async fn streams(js: &jetstream::Context, s: &Settings) -> Result<(stream::Stream, stream::Stream), TopologyError> {
    let batches = js
        .get_or_create_stream(stream::Config {
            name: BATCH_STREAM.into(),
            subjects: vec![BATCH_SUBJECT_CPU.into(), BATCH_SUBJECT_IO.into()],
            retention: stream::RetentionPolicy::WorkQueue,
            storage: stream::StorageType::File,
            duplicate_window: DUPLICATE_WINDOW,
            num_replicas: s.nats_replicas,
            ..Default::default()
        })
        .await
        .map_err(|e| err(BATCH_STREAM, e))?;
    let outcomes = js
        .get_or_create_stream(stream::Config {
            name: OUTCOME_STREAM.into(),
            subjects: vec![OUTCOME_SUBJECTS.into()],
            retention: stream::RetentionPolicy::Limits,
            storage: stream::StorageType::File,
            duplicate_window: DUPLICATE_WINDOW,
            max_age: OUTCOME_MAX_AGE,
            num_replicas: s.nats_replicas,
            ..Default::default()
        })
        .await
        .map_err(|e| err(OUTCOME_STREAM, e))?;
    Ok((batches, outcomes))
}

async fn bucket(js: &jetstream::Context, name: &str, s: &Settings) -> Result<kv::Store, TopologyError> {
    if let Ok(store) = js.get_key_value(name).await {
        return Ok(store);
    }
    js.create_key_value(kv::Config {
        bucket: name.into(),
        history: 1,
        storage: stream::StorageType::File,
        num_replicas: s.nats_replicas,
        ..Default::default()
    })
    .await
    .map_err(|e| err(name, e))
}

pub async fn coordinator_side(js: &jetstream::Context, s: &Settings) -> Result<CoordinatorSide, TopologyError> {
    let (batches, outcomes) = streams(js, s).await?;
    Ok(CoordinatorSide {
        batches,
        outcomes,
        definitions: bucket(js, DEFINITIONS_BUCKET, s).await?,
        runs: bucket(js, RUNS_BUCKET, s).await?,
    })
}

/// Creates (or updates to these settings) the shared durable pull consumers.
pub async fn worker_side(js: &jetstream::Context, s: &Settings) -> Result<WorkerSide, TopologyError> {
    let (batches, _) = streams(js, s).await?;
    let consumer = |name: &str, subject: &str, max_ack_pending: i64| consumer::pull::Config {
        durable_name: Some(name.into()),
        filter_subject: subject.into(),
        ack_policy: consumer::AckPolicy::Explicit,
        ack_wait: s.ack_wait(),
        // A backstop: workers count runs themselves and give up first (consume.rs).
        max_deliver: s.max_deliveries.max(1) * super::consume::BACKSTOP,
        max_ack_pending,
        ..Default::default()
    };
    let cpu = batches
        .create_consumer(consumer(CONSUMER_CPU, BATCH_SUBJECT_CPU, 10_000))
        .await
        .map_err(|e| err(CONSUMER_CPU, e))?;
    let io = batches
        .create_consumer(consumer(CONSUMER_IO, BATCH_SUBJECT_IO, 100_000))
        .await
        .map_err(|e| err(CONSUMER_IO, e))?;
    Ok(WorkerSide {
        cpu,
        io,
        definitions: bucket(js, DEFINITIONS_BUCKET, s).await?,
        runs: bucket(js, RUNS_BUCKET, s).await?,
    })
}
