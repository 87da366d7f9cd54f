//! The NATS JetStream transport: batches go to the work-queue stream as parcels (a message
//! of one or more children), outcomes come back on the Map Run's own subject of the outcome
//! stream, and the Map Run's checkpoint lives in the runs bucket.
//!
//! Resuming is replaying: the outcome stream *is* the record of finished children. A resumed
//! Map Run reads its subject from the start (`history`), re-reads its items (readers are
//! deterministic, so batch n holds the same items), and hands out only the batches without an
//! outcome; the result files are rewritten from the replayed and the new outcomes, so they list
//! exactly what an uninterrupted run lists. The checkpoint record holds the ownership token,
//! the definition hash, the progress (reader position, counts, files written) and, once the
//! run has ended, its result.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_nats::HeaderMap;
use async_nats::header::NATS_MESSAGE_ID;
use async_nats::jetstream;
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use shared::asl::Failure;
use shared::asl::error_name::RUNTIME;
use shared::asl::eval::json_size;
use shared::protocol::nats::{RUN_HEADER, batch_msg_id, outcome_subject};
use shared::protocol::{Batch, DefinitionRecord, Outcome, VERSION, write_batches};
use tokio::sync::mpsc;
use worker::nats::codec;
use worker::nats::connect::{ConnectionState, NatsArgs};
use worker::nats::topology::{self, CoordinatorSide, Settings};

use super::transport::{Checkpoint, History, RunChannel, RunSpec, StallCause, Transport};

mod capability;
mod follow;
mod nonce;
use follow::follow_outcomes;
use nonce::Nonces;

/// Children per message at most, and bytes of child input per message at most: a parcel
/// amortises the per-message cost of JetStream over many small children.
const PARCEL_CHILDREN: usize = 64;
const PARCEL_BYTES: usize = 1 << 20;
/// How long publishes may go unconfirmed (a NATS outage) before the Map Run gives up; it can
/// then be resumed.
const PUBLISH_GIVE_UP: Duration = Duration::from_secs(300);
/// How often the checkpoint record is rewritten while it changes.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);
/// Results larger than this are not kept in the checkpoint record (its value limit is 1 MiB).
const MAX_STORED_RESULT: usize = 512 << 10;

/// Counters for `/metrics`.
#[derive(Debug, Default)]
pub struct TransportStats {
    pub messages_published: AtomicU64,
    pub publish_retries: AtomicU64,
    pub outcomes_received: AtomicU64,
    pub redelivered_outcomes: AtomicU64,
    /// Outcomes dropped because they answer no batch this Map Run handed out (wrong nonce).
    pub rejected_outcomes: AtomicU64,
    /// Outcomes of another protocol version (counted as FAILED children).
    pub foreign_outcomes: AtomicU64,
}

pub struct NatsTransport {
    js: jetstream::Context,
    side: CoordinatorSide,
    max_payload: usize,
    settings: Settings,
    pub connection: Arc<ConnectionState>,
    pub stats: Arc<TransportStats>,
}

impl std::fmt::Debug for NatsTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NatsTransport")
    }
}

impl NatsTransport {
    pub async fn connect(args: &NatsArgs, settings: &Settings) -> Result<NatsTransport, String> {
        let connection = Arc::new(ConnectionState::default());
        let client = args.connect("dmap", connection.clone()).await.map_err(|e| e.to_string())?;
        let max_payload = client.server_info().max_payload;
        let js = jetstream::new(client);
        let side = topology::coordinator_side(&js, settings).await.map_err(|e| e.to_string())?;
        Ok(NatsTransport { js, side, max_payload, settings: settings.clone(), connection, stats: Arc::default() })
    }
}

/// The checkpoint record of one Map Run (runs bucket, key = Map Run id).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct RunRecord {
    v: u32,
    definition: String,
    owner: String,
    status: String,
    updated: String,
    checkpoint: Checkpoint,
    /// The secret batch nonces derive from (hex): kept here so that a resumed coordinator
    /// accepts the outcomes of batches handed out before.
    #[serde(default)]
    secret: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    result: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<Value>,
}

fn runtime(message: impl Into<String>) -> Failure {
    Failure::new(RUNTIME, message.into())
}

impl Transport for NatsTransport {
    fn open(&self, spec: RunSpec) -> BoxFuture<'_, Result<Box<dyn RunChannel>, Failure>> {
        Box::pin(async move {
            let id = spec.map_run_id.clone();
            let record = DefinitionRecord {
                v: VERSION,
                definition: (*spec.definition).clone(),
                max_payload_bytes: spec.child.max_payload_bytes,
            };
            let text = serde_json::to_vec(&record).unwrap_or_default();
            self.side
                .definitions
                .put(&spec.definition_hash, text.into())
                .await
                .map_err(|e| runtime(format!("cannot store the child definition in NATS: {e}")))?;

            // Take ownership of the run (or start it).
            let owner = uuid::Uuid::new_v4().to_string();
            let entry = self
                .side
                .runs
                .entry(&id)
                .await
                .map_err(|e| runtime(format!("cannot read Map Run {id}'s checkpoint: {e}")))?;
            let previous: Option<(RunRecord, u64)> = match entry {
                Some(e) if !e.value.is_empty() => {
                    let r: RunRecord = serde_json::from_slice(&e.value)
                        .map_err(|err| runtime(format!("Map Run {id}'s checkpoint is unreadable: {err}")))?;
                    Some((r, e.revision))
                }
                _ => None,
            };
            let mut ended = None;
            let mut record = RunRecord {
                v: VERSION,
                definition: spec.definition_hash.clone(),
                owner: owner.clone(),
                status: "RUNNING".into(),
                updated: now(),
                checkpoint: Checkpoint::default(),
                secret: Nonces::fresh_secret(),
                result: None,
                error: None,
            };
            let revision = match &previous {
                Some((r, rev)) => {
                    if r.definition != spec.definition_hash {
                        return Err(runtime(format!(
                            "Map Run {id} was started with a different ItemProcessor (definition {}, now {}): it \
                             cannot be resumed with this definition",
                            r.definition, spec.definition_hash
                        )));
                    }
                    if r.status != "RUNNING" {
                        ended = Some(match (&r.result, &r.error) {
                            (Some(v), _) => Ok(v.clone()),
                            (None, Some(e)) => Err(Failure::new(
                                e["Error"].as_str().unwrap_or(RUNTIME),
                                e["Cause"].as_str().unwrap_or_default(),
                            )),
                            (None, None) => Err(runtime(format!(
                                "Map Run {id} had already ended ({}); its result was too large to keep",
                                r.status
                            ))),
                        });
                    }
                    record.checkpoint = r.checkpoint.clone();
                    if Nonces::new(&r.secret, &id).is_some() {
                        record.secret = r.secret.clone();
                    }
                    tracing::info!(map_run = %id, batches_done = r.checkpoint.next_batch, "resuming Map Run");
                    self.side
                        .runs
                        .update(&id, serde_json::to_vec(&record).unwrap_or_default().into(), *rev)
                        .await
                        .map_err(|e| runtime(format!("cannot take over Map Run {id}: {e}")))?
                }
                None => {
                    tracing::info!(map_run = %id, "Map Run started; if interrupted, continue it with --resume {id}");
                    self.side
                        .runs
                        .create(&id, serde_json::to_vec(&record).unwrap_or_default().into())
                        .await
                        .map_err(|e| runtime(format!("cannot record Map Run {id} in NATS: {e}")))?
                }
            };

            let subject = outcome_subject(&id);
            // Outcomes up to this sequence were received before the interruption.
            let history_until = if previous.is_some() {
                match self.side.outcomes.get_last_raw_message_by_subject(&subject).await {
                    Ok(m) => m.sequence,
                    Err(_) => 0,
                }
            } else {
                0
            };
            let nonces = Nonces::new(&record.secret, &id).ok_or_else(|| runtime("the Map Run's secret is not hex"))?;
            let shared = Arc::new(Mutex::new(Shared {
                record,
                revision,
                dirty: false,
                fatal: None,
                done: false,
                key: id.clone(),
            }));
            let (tx, rx) = mpsc::unbounded_channel();
            let reader = tokio::spawn(follow_outcomes(
                self.side.outcomes.clone(),
                subject.clone(),
                tx,
                nonces.clone(),
                self.stats.clone(),
                self.connection.clone(),
            ));
            let keeper = tokio::spawn(keep_checkpoint(self.side.runs.clone(), shared.clone()));
            let needs = worker::integrations::needs(&spec.child.machine);
            let route = match capability::route(&self.side, &self.settings, needs, spec.child.pure).await {
                Ok(r) => r,
                Err(f) => {
                    reader.abort();
                    keeper.abort();
                    return Err(f);
                }
            };
            let mut tasks = vec![reader, keeper];
            tasks.extend(route.watcher);
            Ok(Box::new(NatsChannel {
                js: self.js.clone(),
                side: self.side.clone(),
                map_run_id: id,
                nonces,
                subject: route.subject.into(),
                cause: route.cause,
                parcel: Vec::new(),
                parcel_bytes: 0,
                max_payload: self.max_payload,
                local: VecDeque::new(),
                rx,
                history_until,
                ended,
                shared,
                stats: self.stats.clone(),
                tasks,
            }) as Box<dyn RunChannel>)
        })
    }
}

/// State shared by the channel and its checkpoint keeper.
struct Shared {
    record: RunRecord,
    revision: u64,
    dirty: bool,
    /// Why the Map Run cannot go on (ownership lost, NATS unreachable for too long).
    fatal: Option<String>,
    done: bool,
    key: String,
}

struct NatsChannel {
    js: jetstream::Context,
    side: CoordinatorSide,
    map_run_id: String,
    nonces: Nonces,
    /// The batch subject: `cpu`, `io`, or that of the children's capability token.
    /// (A `Subject` clones without allocating: one clone per parcel.)
    subject: async_nats::Subject,
    cause: Option<StallCause>,
    parcel: Vec<Batch>,
    parcel_bytes: usize,
    max_payload: usize,
    /// Outcomes decided here (a child too large for a NATS message).
    local: VecDeque<Outcome>,
    rx: mpsc::UnboundedReceiver<(u64, Outcome)>,
    history_until: u64,
    ended: Option<Result<Value, Failure>>,
    shared: Arc<Mutex<Shared>>,
    stats: Arc<TransportStats>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for NatsChannel {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl NatsChannel {
    fn parcel_bytes_hint(&self, parcel: &[Batch]) -> usize {
        parcel.iter().map(|b| b.input.len() + 512).sum()
    }

    fn fatal(&self) -> Option<String> {
        self.shared.lock().unwrap_or_else(|e| e.into_inner()).fatal.clone()
    }

    async fn publish_parcel(&mut self) -> Result<(), Failure> {
        if self.parcel.is_empty() {
            return Ok(());
        }
        let parcel = std::mem::take(&mut self.parcel);
        self.parcel_bytes = 0;
        let mut headers = HeaderMap::new();
        let mut json = Vec::with_capacity(self.parcel_bytes_hint(&parcel));
        write_batches(&parcel, &mut json);
        // A worker refuses a message that decodes to more than `MAX_DECODED`, so such a parcel
        // is split like one over the server's max_payload.
        let decoded = json.len();
        let payload = codec::encode(json, &mut headers);
        if payload.len() > self.max_payload.saturating_sub(1024) || decoded > codec::MAX_DECODED {
            if parcel.len() > 1 {
                // Send the children one by one instead.
                for b in parcel {
                    self.parcel.push(b);
                    Box::pin(self.publish_parcel()).await?;
                }
                return Ok(());
            }
            let b = &parcel[0];
            self.local.push_back(Outcome::failed(
                b.map_run_id.clone(),
                b.batch,
                1,
                shared::asl::error_name::DATA_LIMIT_EXCEEDED,
                format!(
                    "the child execution's message is {} bytes ({decoded} decoded), over the NATS server's \
                     max_payload of {} bytes or the {} bytes a message may decode to",
                    payload.len(),
                    self.max_payload,
                    codec::MAX_DECODED
                ),
                chrono::Utc::now().timestamp_millis(),
            ));
            return Ok(());
        }
        headers.insert(NATS_MESSAGE_ID, batch_msg_id(&self.map_run_id, parcel[0].batch, parcel.len()).as_str());
        headers.insert(RUN_HEADER, self.map_run_id.as_str());
        let (js, subject, stats, shared) =
            (self.js.clone(), self.subject.clone(), self.stats.clone(), self.shared.clone());
        let payload = bytes::Bytes::from(payload);
        // Confirmations are awaited off the Map Run's loop; a lost one is published again
        // (the same message id: the server drops the repeat).
        let sent = js.publish_with_headers(subject.clone(), headers.clone(), payload.clone()).await;
        stats.messages_published.fetch_add(1, Ordering::Relaxed);
        tokio::spawn(async move {
            let mut ack = sent.map_err(|e| e.to_string());
            let started = Instant::now();
            let mut delay = Duration::from_millis(100);
            loop {
                let confirmed = match ack {
                    Ok(f) => f.await.map(|_| ()).map_err(|e| e.to_string()),
                    Err(e) => Err(e),
                };
                let Err(e) = confirmed else { return };
                if started.elapsed() > PUBLISH_GIVE_UP {
                    let mut s = shared.lock().unwrap_or_else(|e| e.into_inner());
                    s.fatal = Some(format!(
                        "NATS JetStream did not confirm batch publishes for {} s ({e}); resume the Map Run with --resume {}",
                        PUBLISH_GIVE_UP.as_secs(),
                        s.key
                    ));
                    return;
                }
                stats.publish_retries.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(error = %e, "batch publish not confirmed; publishing again");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(2));
                ack = js
                    .publish_with_headers(subject.clone(), headers.clone(), payload.clone())
                    .await
                    .map_err(|e| e.to_string());
            }
        });
        Ok(())
    }
}

impl RunChannel for NatsChannel {
    fn send(&mut self, mut batch: Batch) -> BoxFuture<'_, Result<(), Failure>> {
        Box::pin(async move {
            batch.nonce = self.nonces.of(batch.batch);
            self.parcel_bytes += batch.input.len();
            self.parcel.push(batch);
            if self.parcel.len() >= PARCEL_CHILDREN || self.parcel_bytes >= PARCEL_BYTES {
                self.publish_parcel().await?;
            }
            Ok(())
        })
    }

    fn flush(&mut self) -> BoxFuture<'_, Result<(), Failure>> {
        Box::pin(self.publish_parcel())
    }

    fn recv(&mut self) -> BoxFuture<'_, Result<Outcome, Failure>> {
        Box::pin(async move {
            loop {
                if let Some(o) = self.local.pop_front() {
                    return Ok(o);
                }
                if let Some(f) = self.fatal() {
                    return Err(runtime(f));
                }
                tokio::select! {
                    o = self.rx.recv() => {
                        return o.map(|(_, o)| o).ok_or_else(|| runtime("the NATS outcome reader stopped"));
                    }
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
            }
        })
    }

    fn try_recv(&mut self) -> Option<Outcome> {
        self.local.pop_front().or_else(|| self.rx.try_recv().ok().map(|(_, o)| o))
    }

    fn history(&mut self) -> BoxFuture<'_, Result<History, Failure>> {
        Box::pin(async move {
            let mut h = History { outcomes: Vec::new(), ended: self.ended.take(), checkpoint: None };
            if h.ended.is_some() {
                h.checkpoint = Some(self.shared.lock().unwrap_or_else(|e| e.into_inner()).record.checkpoint.clone());
            }
            if h.ended.is_some() || self.history_until == 0 {
                return Ok(h);
            }
            let mut seq = 0;
            while seq < self.history_until {
                if let Some(f) = self.fatal() {
                    return Err(runtime(f));
                }
                match tokio::time::timeout(Duration::from_secs(1), self.rx.recv()).await {
                    Ok(Some((s, o))) => {
                        seq = s;
                        h.outcomes.push(o);
                    }
                    Ok(None) => return Err(runtime("the NATS outcome reader stopped")),
                    Err(_) => {}
                }
            }
            tracing::info!(map_run = %self.map_run_id, outcomes = h.outcomes.len(), "replayed the outcomes received before the interruption");
            Ok(h)
        })
    }

    fn stall_cause(&self) -> Option<StallCause> {
        self.cause.clone()
    }

    fn note(&mut self, checkpoint: &Checkpoint) {
        let mut s = self.shared.lock().unwrap_or_else(|e| e.into_inner());
        s.record.checkpoint = checkpoint.clone();
        s.dirty = true;
    }

    fn finish<'a>(&'a mut self, result: &'a Result<Value, Failure>) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let (key, mut record, mut revision) = {
                let mut s = self.shared.lock().unwrap_or_else(|e| e.into_inner());
                s.done = true;
                if s.fatal.is_some() {
                    return;
                }
                (s.key.clone(), s.record.clone(), s.revision)
            };
            record.updated = now();
            let mut stored = true;
            match result {
                Ok(v) => {
                    record.status = "SUCCEEDED".into();
                    if json_size(v, MAX_STORED_RESULT + 1) <= MAX_STORED_RESULT {
                        record.result = Some(v.clone());
                    } else {
                        stored = false;
                    }
                }
                Err(f) => {
                    record.status = "FAILED".into();
                    record.error = Some(f.to_error_output());
                }
            }
            let text: bytes::Bytes = serde_json::to_vec(&record).unwrap_or_default().into();
            for _ in 0..30 {
                match self.side.runs.update(&key, text.clone(), revision).await {
                    Ok(_) => break,
                    Err(e) => {
                        // Someone else owns the run now; leave the record to them.
                        if let Ok(Some(entry)) = self.side.runs.entry(&key).await
                            && entry.revision != revision
                        {
                            let r: Option<RunRecord> = serde_json::from_slice(&entry.value).ok();
                            if r.is_some_and(|r| r.owner != record.owner) {
                                return;
                            }
                            revision = entry.revision;
                        }
                        tracing::warn!(error = %e, "cannot record the Map Run's end yet; retrying");
                        tokio::time::sleep(Duration::from_millis(500)).await;
                    }
                }
            }
            if stored {
                // The result is kept; the outcomes are no longer needed.
                if let Err(e) = self.side.outcomes.purge().filter(outcome_subject(&key)).await {
                    tracing::warn!(error = %e, "cannot purge the Map Run's outcomes");
                }
            }
        })
    }
}

/// Rewrites the checkpoint record while it changes; notices a takeover (the record's revision
/// moved under it) and stops the Map Run.
async fn keep_checkpoint(runs: jetstream::kv::Store, shared: Arc<Mutex<Shared>>) {
    loop {
        tokio::time::sleep(CHECKPOINT_EVERY).await;
        let (key, text, revision, owner) = {
            let mut s = shared.lock().unwrap_or_else(|e| e.into_inner());
            if s.done || s.fatal.is_some() {
                return;
            }
            if !s.dirty {
                continue;
            }
            s.dirty = false;
            s.record.updated = now();
            (s.key.clone(), serde_json::to_vec(&s.record).unwrap_or_default(), s.revision, s.record.owner.clone())
        };
        match runs.update(&key, text.into(), revision).await {
            Ok(rev) => shared.lock().unwrap_or_else(|e| e.into_inner()).revision = rev,
            Err(e) => {
                let taken = match runs.entry(&key).await {
                    Ok(Some(entry)) => {
                        serde_json::from_slice::<RunRecord>(&entry.value).is_ok_and(|r| r.owner != owner)
                    }
                    _ => false,
                };
                let mut s = shared.lock().unwrap_or_else(|e| e.into_inner());
                if taken {
                    s.fatal = Some(format!("Map Run {key} was resumed by another coordinator; this one stops"));
                    return;
                }
                tracing::warn!(error = %e, "cannot write the checkpoint; retrying");
                s.dirty = true;
            }
        }
    }
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
