//! Outcome messages that fit: an answer too large for one NATS message (the server's
//! `max_payload` as sent, or [`MAX_DECODED`](crate::nats::codec::MAX_DECODED) as decoded) is
//! split into several, and a single outcome that still does not fit is replaced by a FAILED
//! one naming the sizes — so every batch is answered, and none by a message its receiver
//! would refuse.

use async_nats::HeaderMap;
use shared::protocol::Outcome;

/// The outcome messages answering `outcomes`: `(first batch, outcomes, headers, body)`, each
/// body within `limit` bytes as sent and [`crate::nats::codec::MAX_DECODED`] decoded.
pub(super) fn messages(outcomes: Vec<Outcome>, limit: usize) -> Vec<(u64, usize, HeaderMap, bytes::Bytes)> {
    let mut out = Vec::with_capacity(1);
    let mut todo = vec![outcomes];
    while let Some(mut part) = todo.pop() {
        let json = super::publish::encoded_outcomes(&part);
        let decoded = json.len();
        let mut headers = HeaderMap::new();
        let body = crate::nats::codec::encode(json, &mut headers);
        if body.len() <= limit && decoded <= crate::nats::codec::MAX_DECODED {
            out.push((part[0].batch, part.len(), headers, body.into()));
        } else if part.len() > 1 {
            // Halves, the first one handled first.
            let second = part.split_off(part.len() / 2);
            todo.push(second);
            todo.push(part);
        } else {
            let o = part.pop().expect("a part holds at least one outcome");
            let cause = format!(
                "the child execution's outcome message is {} bytes ({decoded} decoded), over the NATS server's \
                 max_payload of {} bytes or the {} bytes a message may decode to",
                body.len(),
                limit + 1024,
                crate::nats::codec::MAX_DECODED
            );
            let mut failed = Outcome::failed(
                o.map_run_id,
                o.batch,
                o.attempt,
                shared::asl::error_name::DATA_LIMIT_EXCEEDED,
                cause,
                o.stop_millis,
            );
            failed.start_millis = o.start_millis;
            failed.nonce = o.nonce;
            todo.push(vec![failed]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use shared::protocol::{OutcomeStatus, VERSION, read_outcomes};

    use super::*;
    use crate::nats::codec;

    fn succeeded(batch: u64, output: String) -> Outcome {
        Outcome {
            v: VERSION,
            map_run_id: "run-1".into(),
            batch,
            attempt: 1,
            nonce: format!("{batch:032x}"),
            status: OutcomeStatus::Succeeded,
            output: Some(output),
            error: None,
            cause: None,
            start_millis: 10,
            stop_millis: 20,
        }
    }

    /// Incompressible JSON text of about `n` bytes (zstd cannot shrink it below `n / 2`).
    fn noise(n: usize, seed: u64) -> String {
        let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let mut s = String::with_capacity(n + 2);
        s.push('"');
        for _ in 0..n {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            s.push(char::from(b'a' + (x % 26) as u8));
        }
        s.push('"');
        s
    }

    fn decoded(headers: &HeaderMap, body: &[u8]) -> Vec<Outcome> {
        read_outcomes(&codec::decode(body, Some(headers)).unwrap()).unwrap()
    }

    #[test]
    fn an_answer_that_fits_is_one_message() {
        let outcomes = vec![succeeded(4, "1".into()), succeeded(5, "2".into())];
        let messages = messages(outcomes.clone(), 1 << 20);
        assert_eq!(messages.len(), 1);
        let (first, count, headers, body) = &messages[0];
        assert_eq!((*first, *count), (4, 2));
        assert_eq!(decoded(headers, body), outcomes);
    }

    #[test]
    fn a_large_answer_is_split_in_order_and_loses_nothing() {
        // Eight outputs of 40 KB of random letters (at least 20 KB each compressed, so 160 KB
        // in all) against a 100 KB message: at least two messages.
        let outcomes: Vec<Outcome> = (0..8).map(|b| succeeded(b, noise(40_000, b))).collect();
        let messages = messages(outcomes.clone(), 100_000);
        assert!(messages.len() >= 2, "{} messages", messages.len());
        let mut seen = Vec::new();
        for (first, count, headers, body) in &messages {
            assert!(body.len() <= 100_000);
            let part = decoded(headers, body);
            assert_eq!((part[0].batch, part.len()), (*first, *count));
            seen.extend(part);
        }
        assert_eq!(seen, outcomes);
    }

    #[test]
    fn an_outcome_too_large_alone_is_answered_failed_with_its_nonce() {
        let outcomes = vec![succeeded(0, "0".into()), succeeded(1, noise(200_000, 9)), succeeded(2, "2".into())];
        let messages = messages(outcomes, 50_000);
        let all: Vec<Outcome> = messages.iter().flat_map(|(_, _, h, b)| decoded(h, b)).collect();
        assert_eq!(all.iter().map(|o| o.batch).collect::<Vec<_>>(), [0, 1, 2]);
        let big = &all[1];
        assert_eq!(big.status, OutcomeStatus::Failed);
        assert_eq!(big.error.as_deref(), Some("States.DataLimitExceeded"));
        assert!(big.cause.as_deref().unwrap().contains("max_payload of 51024 bytes"), "{:?}", big.cause);
        assert_eq!(big.nonce, format!("{:032x}", 1));
        assert_eq!((big.start_millis, big.stop_millis), (10, 20));
        assert_eq!(all[0].output.as_deref(), Some("0"));
        assert_eq!(all[2].output.as_deref(), Some("2"));
    }
}
