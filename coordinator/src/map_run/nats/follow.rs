//! Following a Map Run's outcome subject: an ordered consumer from the first message,
//! re-created where it left off after an error or a reconnection.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use async_nats::jetstream::{consumer, stream};
use futures::StreamExt;
use shared::asl::error_name::RUNTIME;
use shared::protocol::{Outcome, OutcomeStatus, VERSION};
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
                        let o = if o.v == VERSION { o } else { foreign(o, &stats) };
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

/// An outcome of another protocol version, with its batch's nonce: a worker that could not read
/// the batch answered it (workers never run a batch of another version). Only the envelope is
/// taken; the child counts as FAILED, its cause naming both versions.
fn foreign(o: Outcome, stats: &TransportStats) -> Outcome {
    stats.foreign_outcomes.fetch_add(1, Ordering::Relaxed);
    tracing::warn!(batch = o.batch, version = o.v, "outcome of another protocol version: its child counts as FAILED");
    let cause = format!(
        "the outcome is protocol v{}, this coordinator speaks v{VERSION}: {}",
        o.v,
        o.cause.as_deref().unwrap_or("(no cause given)")
    );
    Outcome {
        status: OutcomeStatus::Failed,
        output: None,
        error: Some(o.error.clone().unwrap_or_else(|| RUNTIME.to_string())),
        cause: Some(cause),
        ..o
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

#[cfg(test)]
mod tests {
    use super::*;

    /// An outcome of another version counts its child as FAILED, whatever it says, with both
    /// versions named; the envelope (batch, attempt, nonce) is kept.
    #[test]
    fn an_outcome_of_another_version_counts_as_failed_naming_both_versions() {
        let stats = TransportStats::default();
        let later = Outcome {
            v: VERSION + 1,
            map_run_id: "run-1".into(),
            batch: 4,
            attempt: 2,
            nonce: "ab".repeat(16),
            status: OutcomeStatus::Succeeded,
            output: Some("{}".into()),
            error: None,
            cause: None,
            start_millis: 1,
            stop_millis: 2,
        };
        let o = foreign(later, &stats);
        assert_eq!((o.status, o.batch, o.attempt, o.output.as_deref()), (OutcomeStatus::Failed, 4, 2, None));
        assert_eq!(o.error.as_deref(), Some(RUNTIME));
        let cause = o.cause.unwrap_or_default();
        assert!(cause.contains(&format!("v{}", VERSION + 1)) && cause.contains(&format!("v{VERSION}")), "{cause}");
        assert_eq!(stats.foreign_outcomes.load(Ordering::Relaxed), 1);
    }
}
