//! Messages a worker cannot run as they are: batches of another protocol version (handed back,
//! then answered), batches with a field the worker refuses (answered if their envelopes say
//! where), and the publish errors that no retry can cure. Part of the ack table of
//! [`super::Worker::handle`]; it must not run children.

use std::sync::atomic::Ordering;
use std::time::Duration;

use async_nats::jetstream::{self, AckKind};
use shared::protocol::nats::RUN_HEADER;
use shared::protocol::{Outcome, VERSION, read_envelopes};
use tokio::sync::watch;

use super::{Abandon, Parcel, Worker};

impl Worker {
    /// A message this worker cannot run: of another protocol version (handed back for a worker
    /// that reads it, up to `max_deliveries`), or with a field it refuses. It is answered —
    /// FAILED children naming the cause — if its envelopes say where; else terminated.
    pub(super) async fn unreadable(
        &self,
        msg: &jetstream::Message,
        body: &[u8],
        delivered: i64,
        error: Option<String>,
        abandon: &watch::Receiver<bool>,
    ) {
        let envelopes = match read_envelopes(body) {
            Ok(e) if !e.is_empty() => e,
            _ => {
                let why = format!("unreadable batch message: {}", error.as_deref().unwrap_or("no batch in it"));
                let run = msg.headers.as_ref().and_then(|h| h.get(RUN_HEADER)).map(|v| v.to_string());
                return self.terminate(msg, &why, run.as_deref()).await;
            }
        };
        let run = envelopes[0].map_run_id.clone();
        let foreign = envelopes.iter().map(|e| e.v).find(|&v| v != VERSION);
        let cause = match (foreign, &error) {
            (Some(v), _) if delivered < self.limits.max_deliveries => {
                // A rolling upgrade: a worker of that version may be up, or coming.
                self.stats.handed_back.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(map_run = %run, version = v, delivered, "batch of another protocol version handed back");
                let _ = msg.ack_with(AckKind::Nak(Some(self.limits.hand_back))).await;
                return;
            }
            (Some(v), _) => format!(
                "the worker speaks protocol v{VERSION}, the batch is v{v}; no worker that reads it took it in \
                 {delivered} deliveries"
            ),
            (None, Some(e)) => format!("the batch message cannot be read: {e}"),
            (None, None) => "the batch message holds no batch".into(),
        };
        if !envelopes.iter().all(|e| e.answerable() && e.map_run_id == run) {
            return self.terminate(msg, &format!("{cause}; it names nowhere to answer"), Some(&run)).await;
        }
        tracing::error!(map_run = %run, cause = %cause, "batch answered without running it");
        let now = chrono::Utc::now().timestamp_millis();
        let outcomes = envelopes
            .iter()
            .map(|e| {
                Outcome::failed(e.map_run_id.clone(), e.batch, delivered.max(1) as u32, "States.Runtime", &cause, now)
            })
            .collect();
        let parcel = Parcel {
            first: envelopes[0].batch,
            item_counts: envelopes.iter().map(|e| e.item_count).collect(),
            nonces: envelopes.into_iter().map(|e| e.nonce).collect(),
        };
        match self.publish_outcomes(&run, &parcel, outcomes, abandon).await {
            Ok(()) => {
                let _ = msg.double_ack_with(AckKind::Term).await;
            }
            Err(Abandon::Permanent(why)) => self.terminate(msg, &why, Some(&run)).await,
            Err(Abandon::Drain) => {
                let _ = msg.ack_with(AckKind::Nak(None)).await;
            }
            Err(Abandon::Retry(_)) => {
                let _ = msg.ack_with(AckKind::Nak(Some(Duration::from_secs(1)))).await;
            }
        }
    }
}

/// Whether a publish error will come back however often the publish is repeated. The server
/// being away or slow (timeouts, no stream while JetStream restarts, too many publishes in
/// flight) passes; a subject the client refuses or a message over the server's limit does not.
pub(super) fn permanent(e: &jetstream::context::PublishError) -> bool {
    use jetstream::context::PublishErrorKind as Kind;
    match e.kind() {
        Kind::MaxPayloadExceeded | Kind::WrongLastMessageId | Kind::WrongLastSequence => true,
        // The client reports a subject it refuses as `Other`, with the subject error as source.
        Kind::Other => std::error::Error::source(e).is_some_and(|s| s.is::<async_nats::subject::SubjectError>()),
        Kind::StreamNotFound | Kind::TimedOut | Kind::BrokenPipe | Kind::MaxAckPending => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jetstream::context::{PublishError, PublishErrorKind as Kind};

    /// A permanent error ends the message (Term); anything else is published again. Probe H10's
    /// worker retried "invalid subject format" forever.
    #[test]
    fn publish_errors_that_repeat_forever_are_permanent() {
        assert!(permanent(&PublishError::with_source(Kind::Other, async_nats::subject::SubjectError::InvalidFormat)));
        assert!(permanent(&PublishError::new(Kind::MaxPayloadExceeded)));
        for kind in [Kind::TimedOut, Kind::StreamNotFound, Kind::BrokenPipe, Kind::MaxAckPending, Kind::Other] {
            assert!(!permanent(&PublishError::new(kind)), "{kind:?}");
        }
    }
}
