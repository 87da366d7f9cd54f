//! The JetStream objects dmap uses, created idempotently by whichever process comes first
//! (coordinator or worker): the batch work queue with its two shared pull consumers (and one
//! per capability token, created by the coordinator of a Map Run that needs it), the outcome
//! stream, and the definition, checkpoint, capability and worker buckets. Names come from
//! [`shared::protocol::nats`].

use std::time::Duration;

use async_nats::jetstream::{self, consumer, kv, stream};
use shared::protocol::nats::capability_consumer as capability_consumer_name;
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
/// A worker's advert expires this long after its last refresh: a dead worker is forgotten.
pub const WORKER_TTL: Duration = Duration::from_secs(30);

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
    /// What each capability token stands for.
    pub capabilities: kv::Store,
    /// Live workers and what they serve.
    pub workers: kv::Store,
}

/// The objects a worker needs.
#[derive(Clone)]
pub struct WorkerSide {
    pub cpu: consumer::PullConsumer,
    pub io: consumer::PullConsumer,
    pub definitions: kv::Store,
    /// Also counts the runs of redelivered batches.
    pub runs: kv::Store,
    /// The batch stream, for the consumers of capability tokens.
    pub batches: stream::Stream,
    pub capabilities: kv::Store,
    pub workers: kv::Store,
    /// The worker's settings, which its capability consumers take (as `cpu` and `io` do).
    pub settings: Settings,
}

async fn streams(js: &jetstream::Context, s: &Settings) -> Result<(stream::Stream, stream::Stream), TopologyError> {
    let subjects = [BATCH_SUBJECT_CPU, BATCH_SUBJECT_IO, BATCH_SUBJECTS_CAPABILITY];
    let mut batches = js
        .get_or_create_stream(stream::Config {
            name: BATCH_STREAM.into(),
            subjects: subjects.iter().map(|s| s.to_string()).collect(),
            retention: stream::RetentionPolicy::WorkQueue,
            storage: stream::StorageType::File,
            duplicate_window: DUPLICATE_WINDOW,
            num_replicas: s.nats_replicas,
            ..Default::default()
        })
        .await
        .map_err(|e| err(BATCH_STREAM, e))?;
    // A stream created by an older dmap lacks the capability subjects: add them (an update
    // that changes nothing else; concurrent updates to the same config are harmless).
    let mut config = batches.cached_info().config.clone();
    let before = config.subjects.len();
    for subject in subjects {
        if !config.subjects.iter().any(|c| c == subject) {
            config.subjects.push(subject.to_string());
        }
    }
    if config.subjects.len() != before {
        js.update_stream(&config).await.map_err(|e| err(BATCH_STREAM, e))?;
        batches = js.get_stream(BATCH_STREAM).await.map_err(|e| err(BATCH_STREAM, e))?;
    }
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
    bucket_with_age(js, name, s, Duration::ZERO).await
}

/// A bucket whose entries expire `max_age` after their last write (zero: never).
async fn bucket_with_age(
    js: &jetstream::Context,
    name: &str,
    s: &Settings,
    max_age: Duration,
) -> Result<kv::Store, TopologyError> {
    if let Ok(store) = js.get_key_value(name).await {
        return Ok(store);
    }
    js.create_key_value(kv::Config {
        bucket: name.into(),
        history: 1,
        max_age,
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
        capabilities: bucket(js, CAPABILITIES_BUCKET, s).await?,
        workers: bucket_with_age(js, WORKERS_BUCKET, s, WORKER_TTL).await?,
    })
}

fn pull_config(name: &str, subject: &str, max_ack_pending: i64, s: &Settings) -> consumer::pull::Config {
    consumer::pull::Config {
        durable_name: Some(name.into()),
        filter_subject: subject.into(),
        ack_policy: consumer::AckPolicy::Explicit,
        ack_wait: s.ack_wait(),
        // A backstop: workers count runs themselves and give up first (consume.rs).
        max_deliver: s.max_deliveries.max(1) * super::consume::BACKSTOP,
        max_ack_pending,
        ..Default::default()
    }
}

/// Creates (or updates to these settings) the shared pull consumer of the children that need
/// what `token` stands for: `dmap-workers-<token>` on exactly its subject. Held like the `io`
/// consumer (its children call out). Workers call this, so that their settings (ack wait,
/// deliveries) apply, as to `cpu` and `io`; a coordinator calls [`ensure_capability_consumer`].
pub async fn capability_consumer(
    batches: &stream::Stream,
    token: &str,
    s: &Settings,
) -> Result<consumer::PullConsumer, TopologyError> {
    let name = capability_consumer_name(token);
    batches
        .create_consumer(pull_config(&name, &capability_subject(token), IO_MAX_ACK_PENDING, s))
        .await
        .map_err(|e| err(&name, e))
}

/// The capability consumer, created with these settings only if it does not exist yet (a
/// coordinator's settings must not undo the workers').
pub async fn ensure_capability_consumer(
    batches: &stream::Stream,
    token: &str,
    s: &Settings,
) -> Result<consumer::PullConsumer, TopologyError> {
    match batches.get_consumer(&capability_consumer_name(token)).await {
        Ok(c) => Ok(c),
        Err(_) => capability_consumer(batches, token, s).await,
    }
}

const IO_MAX_ACK_PENDING: i64 = 100_000;

/// Creates (or updates to these settings) the shared durable pull consumers.
pub async fn worker_side(js: &jetstream::Context, s: &Settings) -> Result<WorkerSide, TopologyError> {
    let (batches, _) = streams(js, s).await?;
    let cpu = batches
        .create_consumer(pull_config(CONSUMER_CPU, BATCH_SUBJECT_CPU, 10_000, s))
        .await
        .map_err(|e| err(CONSUMER_CPU, e))?;
    let io = batches
        .create_consumer(pull_config(CONSUMER_IO, BATCH_SUBJECT_IO, IO_MAX_ACK_PENDING, s))
        .await
        .map_err(|e| err(CONSUMER_IO, e))?;
    Ok(WorkerSide {
        cpu,
        io,
        definitions: bucket(js, DEFINITIONS_BUCKET, s).await?,
        runs: bucket(js, RUNS_BUCKET, s).await?,
        batches,
        capabilities: bucket(js, CAPABILITIES_BUCKET, s).await?,
        workers: bucket_with_age(js, WORKERS_BUCKET, s, WORKER_TTL).await?,
        settings: s.clone(),
    })
}
