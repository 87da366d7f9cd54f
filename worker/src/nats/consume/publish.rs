//! Publishing from the consume loop: a parcel's outcomes (with their nonces, in messages that
//! fit: `fit`), retried until the server confirms them, and the re-publication of a
//! redelivered parcel as one message per child. What counts as a permanent publish error is
//! `unreadable::permanent`.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use async_nats::HeaderMap;
use async_nats::header::NATS_MESSAGE_ID;
use async_nats::jetstream;
use shared::protocol::nats::{RUN_HEADER, batch_msg_id, outcome_msg_id, outcome_subject};
use shared::protocol::{Batch, Outcome, OutcomeStatus, write_batches, write_outcomes};
use tokio::sync::watch;

use super::unreadable::permanent;
use super::{Abandon, Worker, fit};

impl Worker {
    /// Publishes the outcome message, retrying (same message id: the server drops repeats)
    /// until the server confirms it, e.g. across a NATS restart.
    pub(super) async fn publish_outcomes(
        &self,
        run: &str,
        parcel: &Parcel,
        outcomes: Vec<Outcome>,
        abandon: &watch::Receiver<bool>,
    ) -> Result<(), Abandon> {
        // Every caller builds the outcomes in the parcel's order, one per batch.
        debug_assert_eq!(outcomes.len(), parcel.item_counts.len());
        let mut outcomes = outcomes;
        for (o, nonce) in outcomes.iter_mut().zip(&parcel.nonces) {
            // The coordinator accepts an outcome only with its batch's nonce.
            o.nonce.clone_from(nonce);
        }
        for (o, &n) in outcomes.iter().zip(&parcel.item_counts) {
            let (b, i) = match o.status {
                OutcomeStatus::Succeeded => (&self.stats.batches_succeeded, &self.stats.items_succeeded),
                OutcomeStatus::Failed => (&self.stats.batches_failed, &self.stats.items_failed),
                OutcomeStatus::TimedOut => (&self.stats.batches_timed_out, &self.stats.items_timed_out),
            };
            b.fetch_add(1, Ordering::Relaxed);
            i.fetch_add(n, Ordering::Relaxed);
        }
        // An answer too large for one message (the server's max_payload, or what a receiver
        // decodes) goes as several, each de-duplicated under its own first batch; a single
        // outcome that still does not fit becomes a FAILED one naming the sizes, so that every
        // batch is answered.
        let limit = self.js.client().server_info().max_payload.saturating_sub(1024);
        for (first, count, headers, payload) in fit::messages(outcomes, limit) {
            let mut headers = headers;
            headers.insert(NATS_MESSAGE_ID, outcome_msg_id(run, first, count).as_str());
            self.publish_until_acked(outcome_subject(run), headers, payload, abandon).await?;
        }
        Ok(())
    }

    async fn publish_until_acked(
        &self,
        subject: String,
        headers: HeaderMap,
        payload: bytes::Bytes,
        abandon: &watch::Receiver<bool>,
    ) -> Result<(), Abandon> {
        let mut delay = Duration::from_millis(100);
        let mut stuck = Stuck { started: tokio::time::Instant::now(), counted: None };
        loop {
            let sent = match self.js.publish_with_headers(subject.clone(), headers.clone(), payload.clone()).await {
                Ok(ack) => ack.await.map(|_| ()),
                Err(e) => Err(e),
            };
            match sent {
                Ok(()) => return Ok(()),
                Err(e) if permanent(&e) => {
                    return Err(Abandon::Permanent(format!("the outcome cannot be published on {subject:?}: {e}")));
                }
                Err(e) => {
                    self.stats.publish_retries.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(subject = %subject, error = %e, "publish not confirmed; retrying");
                    let abandoned = *abandon.borrow();
                    if abandoned {
                        return Err(Abandon::Drain);
                    }
                    if stuck.counted.is_none() && stuck.started.elapsed() >= self.limits.ack_wait {
                        self.stats.stuck_publishes.fetch_add(1, Ordering::Relaxed);
                        stuck.counted = Some(&self.stats.stuck_publishes);
                    }
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(2));
                }
            }
        }
    }

    /// Republishes each batch of a parcel as its own message (same subject).
    pub(super) async fn split(&self, msg: &jetstream::Message, batches: Vec<Batch>) -> Result<(), ()> {
        let never = watch::channel(false).1;
        for b in batches {
            let mut headers = HeaderMap::new();
            headers.insert(NATS_MESSAGE_ID, batch_msg_id(&b.map_run_id, b.batch, 1).as_str());
            headers.insert(RUN_HEADER, b.map_run_id.as_str());
            let payload: bytes::Bytes =
                crate::nats::codec::encode(encoded(std::slice::from_ref(&b)), &mut headers).into();
            let subject = msg.subject.to_string();
            tokio::time::timeout(Duration::from_secs(30), self.publish_until_acked(subject, headers, payload, &never))
                .await
                .map_err(|_| ())?
                .map_err(|_| ())?;
        }
        Ok(())
    }
}

/// What publishing a parcel's outcomes needs of its batches, kept while the batches themselves
/// are moved into the executor.
pub(super) struct Parcel {
    /// Index of the parcel's first batch (the outcome message's de-duplication id names it).
    pub(super) first: u64,
    /// Items carried by each batch, in the parcel's order.
    pub(super) item_counts: Vec<u64>,
    /// Each batch's nonce, which its outcome echoes.
    pub(super) nonces: Vec<String>,
}

impl Parcel {
    pub(super) fn of(batches: &[Batch]) -> Parcel {
        Parcel {
            first: batches[0].batch,
            item_counts: batches.iter().map(|b| b.item_count).collect(),
            nonces: batches.iter().map(|b| b.nonce.clone()).collect(),
        }
    }
}

/// Counts a publish as stuck from when it has been unconfirmed for the ack wait until it ends.
struct Stuck<'a> {
    started: tokio::time::Instant,
    counted: Option<&'a AtomicI64>,
}

impl Drop for Stuck<'_> {
    fn drop(&mut self) {
        if let Some(c) = self.counted {
            c.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

pub(super) fn encoded_outcomes(outcomes: &[Outcome]) -> Vec<u8> {
    let mut out = Vec::with_capacity(outcomes.iter().map(|o| o.output.as_ref().map_or(0, String::len) + 256).sum());
    write_outcomes(outcomes, &mut out);
    out
}

pub(super) fn encoded(batches: &[Batch]) -> Vec<u8> {
    let mut out = Vec::new();
    write_batches(batches, &mut out);
    out
}
