//! Following a Map Run's outcome subject: an ordered consumer from the first message,
//! re-created where it left off after an error or a reconnection.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use async_nats::jetstream::{consumer, stream};
use futures::StreamExt;
use shared::protocol::Outcome;
use tokio::sync::mpsc;
use worker::nats::codec;
use worker::nats::connect::ConnectionState;

use super::TransportStats;
use super::nonce::Nonces;

/// Follows the Map Run's outcome subject from the first message, re-creating the ordered
/// consumer where it left off after any error, or as soon as the client has reconnected: a
/// restarted server has forgotten the (ephemeral) ordered consumer, and the client would only
/// notice it after missing heartbeats for seconds, while outcomes pile up unread.
pub(super) async fn follow_outcomes(
    stream: stream::Stream,
    subject: String,
    tx: mpsc::UnboundedSender<(u64, Outcome)>,
    nonces: Nonces,
    stats: Arc<TransportStats>,
    connection: Arc<ConnectionState>,
) {
    let mut next = 1u64;
    loop {
        let disconnects = connection.disconnects.load(Ordering::Relaxed);
        let config = consumer::pull::OrderedConfig {
            filter_subject: subject.clone(),
            deliver_policy: if next <= 1 {
                consumer::DeliverPolicy::All
            } else {
                consumer::DeliverPolicy::ByStartSequence { start_sequence: next }
            },
            ..Default::default()
        };
        let messages = match stream.create_consumer(config).await {
            Ok(c) => c.messages().await,
            Err(e) => {
                tracing::warn!(error = %e, "cannot follow the outcomes; retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
        };
        let mut messages = match messages {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(error = %e, "cannot follow the outcomes; retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
        };
        loop {
            let m = tokio::select! {
                m = messages.next() => m,
                _ = reconnected(&connection, disconnects) => {
                    tracing::warn!("reconnected to NATS; following the outcomes again");
                    break;
                }
            };
            let m = match m {
                None => break,
                Some(Ok(m)) => m,
                Some(Err(e)) => {
                    tracing::warn!(error = %e, "outcome stream interrupted; following it again");
                    break;
                }
            };
            let seq = m.info().map(|i| i.stream_sequence).unwrap_or(next);
            if seq < next {
                continue;
            }
            next = seq + 1;
            let body = codec::decode(&m.payload, m.headers.as_ref());
            match body.and_then(|b| shared::protocol::read_outcomes(&b).map_err(|e| e.to_string())) {
                Ok(outcomes) => {
                    for o in outcomes {
                        stats.outcomes_received.fetch_add(1, Ordering::Relaxed);
                        if !nonces.matches(o.batch, &o.nonce) {
                            // Published by someone who never saw the batch: not its result.
                            stats.rejected_outcomes.fetch_add(1, Ordering::Relaxed);
                            tracing::warn!(
                                sequence = seq,
                                batch = o.batch,
                                version = o.v,
                                "outcome rejected: its nonce answers no batch this Map Run handed out"
                            );
                            continue;
                        }
                        if o.attempt > 1 {
                            stats.redelivered_outcomes.fetch_add(1, Ordering::Relaxed);
                        }
                        if tx.send((seq, o)).is_err() {
                            return;
                        }
                    }
                }
                Err(e) => tracing::error!(error = %e, sequence = seq, "unreadable outcome message: skipped"),
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Resolves once the client has lost its connection since `disconnects` was read and is
/// connected again.
async fn reconnected(connection: &ConnectionState, disconnects: u64) {
    while connection.disconnects.load(Ordering::Relaxed) == disconnects || !connection.connected.load(Ordering::Relaxed)
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
