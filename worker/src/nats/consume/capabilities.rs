//! Serving by capability: a worker advertises what its functions file serves (the workers
//! bucket, key = a worker id, refreshed every third of [`WORKER_TTL`], so that a dead worker's
//! entry expires), and watches the capabilities bucket; for every token whose needs it covers,
//! it pulls from that token's consumer as from the `io` one (same slots, same ack table). A
//! worker that serves nothing pulls from no such consumer: children that call a function it
//! lacks never reach it. On stop it deletes its advert and stops pulling, as it does the rest.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::kv::{Operation, Watch};
use futures::StreamExt;
use shared::protocol::nats::valid_map_run_id;
use shared::protocol::{Advert, Needs};
use tokio::sync::{Semaphore, watch};

use super::Worker;
use crate::nats::topology::{self, WORKER_TTL};

impl Worker {
    /// Advertises, watches and pulls until `stop`; returns once its pulls have ended.
    pub(super) async fn serve_capabilities(
        self: Arc<Self>,
        slots: Arc<Semaphore>,
        mut stop: watch::Receiver<bool>,
        abandon: watch::Receiver<bool>,
    ) {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let mut pulled: BTreeSet<String> = BTreeSet::new();
        // Tokens this worker covers whose consumer could not be opened yet.
        let mut waiting: BTreeSet<String> = BTreeSet::new();
        let mut pulls = Vec::new();
        let mut watcher: Option<Watch> = None;
        let mut refresh = tokio::time::interval(WORKER_TTL / 3);
        loop {
            tokio::select! {
                _ = refresh.tick() => {
                    self.advertise(&id).await;
                    if watcher.is_none() && !self.serves.is_empty() {
                        match self.side.capabilities.watch_with_history(">").await {
                            Ok(w) => watcher = Some(w),
                            Err(e) => tracing::warn!(error = %e, "cannot watch the capabilities bucket; retrying"),
                        }
                    }
                    for token in std::mem::take(&mut waiting) {
                        self.open(token, &mut pulled, &mut waiting, &mut pulls, &slots, &stop, &abandon).await;
                    }
                }
                entry = next(&mut watcher) => match entry {
                    Some(Ok(e)) if e.operation == Operation::Put => {
                        let token = e.key.clone();
                        let covered = serde_json::from_slice::<Needs>(&e.value)
                            .is_ok_and(|needs| needs.token() == token && self.serves.covers(&needs));
                        if covered && valid_map_run_id(&token) && !pulled.contains(&token) {
                            self.open(token, &mut pulled, &mut waiting, &mut pulls, &slots, &stop, &abandon).await;
                        }
                    }
                    Some(Ok(_)) => {}
                    // Watched again at the next refresh (e.g. after a reconnect).
                    Some(Err(_)) | None => watcher = None,
                },
                _ = stop.changed() => break,
            }
        }
        // Draining: no longer a live worker for anyone's functions.
        let _ = tokio::time::timeout(Duration::from_secs(2), self.side.workers.delete(&id)).await;
        for p in pulls {
            let _ = p.await;
        }
    }

    async fn advertise(&self, id: &str) {
        let advert = Advert { serves: self.serves.clone(), updated: chrono::Utc::now().timestamp_millis() };
        let text = serde_json::to_vec(&advert).unwrap_or_default();
        if let Err(e) = self.side.workers.put(id, text.into()).await {
            tracing::warn!(error = %e, "cannot advertise this worker's functions; retrying");
        }
    }

    /// Starts pulling from a token's consumer (created by the coordinator that needs it;
    /// updated here to this worker's settings).
    #[allow(clippy::too_many_arguments)]
    async fn open(
        self: &Arc<Self>,
        token: String,
        pulled: &mut BTreeSet<String>,
        waiting: &mut BTreeSet<String>,
        pulls: &mut Vec<tokio::task::JoinHandle<()>>,
        slots: &Arc<Semaphore>,
        stop: &watch::Receiver<bool>,
        abandon: &watch::Receiver<bool>,
    ) {
        match topology::capability_consumer(&self.side.batches, &token, &self.side.settings).await {
            Ok(consumer) => {
                tracing::info!(token = %token, "serving the children of capability {token}");
                pulls.push(tokio::spawn(self.clone().pull(consumer, slots.clone(), stop.clone(), abandon.clone())));
                pulled.insert(token);
            }
            Err(e) => {
                tracing::warn!(token = %token, error = %e, "cannot open a capability consumer; retrying");
                waiting.insert(token);
            }
        }
    }
}

/// The next entry of the watch, or never while there is none.
async fn next(
    w: &mut Option<Watch>,
) -> Option<Result<async_nats::jetstream::kv::Entry, async_nats::jetstream::kv::WatcherError>> {
    match w {
        Some(w) => w.next().await,
        None => std::future::pending().await,
    }
}
