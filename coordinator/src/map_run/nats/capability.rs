//! Routing a Map Run's children by what they need: children that call no function or
//! connection go to the shared `cpu`/`io` subjects; the others to the subject of their needs'
//! token, whose consumer (`dmap-workers-<token>`) this module creates and whose meaning it
//! writes to the capabilities bucket, so that only workers serving all of it pull them. It
//! also watches the workers bucket, and keeps a stall cause current while no live worker
//! serves the needs — the Map Run then waits, and says why, instead of failing its items.
//! Nothing here runs per batch.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_nats::jetstream::kv;
use futures::StreamExt;
use shared::asl::Failure;
use shared::protocol::nats::{BATCH_SUBJECT_CPU, BATCH_SUBJECT_IO, capability_subject};
use shared::protocol::{Advert, Needs};
use worker::nats::topology::{self, CoordinatorSide, Settings};

use super::runtime;
use crate::map_run::transport::StallCause;

/// How often the workers bucket is read again while no live worker serves the needs, and
/// while one does.
const RECHECK_UNSERVED: Duration = Duration::from_secs(2);
const RECHECK_SERVED: Duration = Duration::from_secs(15);

/// Where a Map Run's children go.
pub(super) struct Route {
    pub subject: String,
    /// Set while no live worker serves the children's needs.
    pub cause: Option<StallCause>,
    /// The watcher keeping `cause` current.
    pub watcher: Option<tokio::task::JoinHandle<()>>,
}

pub(super) async fn route(
    side: &CoordinatorSide,
    settings: &Settings,
    needs: Needs,
    pure: bool,
) -> Result<Route, Failure> {
    if needs.is_empty() {
        let subject = if pure { BATCH_SUBJECT_CPU } else { BATCH_SUBJECT_IO };
        return Ok(Route { subject: subject.to_string(), cause: None, watcher: None });
    }
    let token = needs.token();
    topology::ensure_capability_consumer(&side.batches, &token, settings)
        .await
        .map_err(|e| runtime(format!("cannot set up the consumer of {}: {e}", needs.describe())))?;
    // After the consumer: a worker that sees the token can open it.
    let text = serde_json::to_vec(&needs).unwrap_or_default();
    side.capabilities
        .put(&token, text.into())
        .await
        .map_err(|e| runtime(format!("cannot record capability {token} in NATS: {e}")))?;
    tracing::info!(token = %token, needs = %needs.describe(), "children go to workers serving their functions (consumer dmap-workers-{token})");
    let cause: StallCause = Arc::new(Mutex::new(None));
    let served = served(&side.workers, &needs).await;
    if served == Some(false) {
        unserved(&cause, &needs);
    }
    let watcher = tokio::spawn(watch(side.workers.clone(), needs, cause.clone(), served));
    Ok(Route { subject: capability_subject(&token), cause: Some(cause), watcher: Some(watcher) })
}

/// Reads the workers bucket every few seconds and keeps `cause` current.
async fn watch(workers: kv::Store, needs: Needs, cause: StallCause, mut last: Option<bool>) {
    loop {
        tokio::time::sleep(if last == Some(true) { RECHECK_SERVED } else { RECHECK_UNSERVED }).await;
        let now = served(&workers, &needs).await;
        match (last, now) {
            (Some(false) | None, Some(true)) if cause.lock().unwrap_or_else(|e| e.into_inner()).take().is_some() => {
                tracing::info!(needs = %needs.describe(), "a live dmap-worker serves the Map Run's functions now");
            }
            (Some(true) | None, Some(false)) => unserved(&cause, &needs),
            _ => {}
        }
        if now.is_some() {
            last = now;
        }
    }
}

fn unserved(cause: &StallCause, needs: &Needs) {
    let what = needs.describe();
    tracing::warn!("no live dmap-worker serves {what}; the Map Run waits for one");
    *cause.lock().unwrap_or_else(|e| e.into_inner()) =
        Some(format!("no live worker serves {what}: start a dmap-worker whose --functions file serves them"));
}

/// Whether a live worker (an unexpired advert) serves `needs`; `None` when the bucket cannot be read.
async fn served(workers: &kv::Store, needs: &Needs) -> Option<bool> {
    let mut keys = workers.keys().await.ok()?;
    while let Some(key) = keys.next().await {
        let Ok(key) = key else { return None };
        if let Ok(Some(value)) = workers.get(&key).await
            && serde_json::from_slice::<Advert>(&value).is_ok_and(|a| a.serves.covers(needs))
        {
            return Some(true);
        }
    }
    Some(false)
}
