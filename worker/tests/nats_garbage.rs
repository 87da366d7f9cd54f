//! Messages no coordinator would send, published raw on the batch subjects: the worker must
//! answer or drop each at once, with a logged reason, and go on serving real batches.

mod nats_support;

use std::sync::atomic::Ordering;
use std::time::Duration;

use nats_support::{Rig, batch};
use shared::protocol::OutcomeStatus;
use shared::protocol::nats::BATCH_SUBJECT_CPU;

/// Probe H10: a batch whose Map Run id cannot name a subject (`"evil run"`, `""`, CR/LF) used
/// to make the worker retry publishing its outcome forever without acking, so that a few such
/// messages took every slot. With two CPU slots and five such messages, a real batch published
/// after them must still be answered, and every bad message must be terminated and counted.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn batches_with_ids_that_cannot_name_a_subject_are_terminated_not_retried() {
    let rig = Rig::start(2).await;
    let evil = ["evil run", "", "x\r\nPUB dmap.outcomes.injected 5\r\nhello", "a.b", "tab\there"];
    for (n, id) in evil.iter().enumerate() {
        // Written as the probe wrote it: the head by hand, then the input.
        let head = serde_json::json!([{
            "v": shared::protocol::VERSION, "map_run_id": id, "batch": 0, "attempt": 1, "definition": rig.hash,
            "first_item": 0, "item_count": 1,
            "child": {"name": "c1", "state_machine_name": "nmap/M", "region": "us-east-1",
                      "account": "123456789012", "role_arn": "arn:aws:iam::123456789012:role/x"},
            "input_bytes": 2
        }]);
        let mut body = serde_json::to_vec(&head).expect("head");
        body.extend_from_slice(b"\n{}");
        rig.publish(BATCH_SUBJECT_CPU, &format!("evil-{n}"), body).await;
    }
    rig.publish_batches(BATCH_SUBJECT_CPU, &[batch("good-run", 0, &rig.hash)]).await;

    let outcomes = rig.outcomes("good-run", Duration::from_secs(20)).await;
    let info = rig.cpu_consumer().await;
    let state = format!(
        "consumer: pending {} ack_pending {} redelivered {}; worker: messages {} terminated {} publish_retries {}",
        info.num_pending,
        info.num_ack_pending,
        info.num_redelivered,
        rig.stats.messages.load(Ordering::Relaxed),
        rig.stats.terminated.load(Ordering::Relaxed),
        rig.stats.publish_retries.load(Ordering::Relaxed),
    );
    let outcomes = outcomes.unwrap_or_else(|| panic!("the real batch got no outcome within 20 s; {state}"));
    assert_eq!(outcomes.len(), 1, "{state}");
    assert_eq!(outcomes[0].status, OutcomeStatus::Succeeded, "{state}");
    assert_eq!((info.num_pending, info.num_ack_pending), (0, 0), "every message left the queue; {state}");
    assert_eq!(rig.stats.terminated.load(Ordering::Relaxed), evil.len() as u64, "{state}");
    assert_eq!(rig.stats.publish_retries.load(Ordering::Relaxed), 0, "{state}");
    rig.stop().await;
}

/// Issue 11: a batch of another protocol version was terminated without an outcome, so that a
/// rolling upgrade that changed the version would have hung every run. It is handed back for a
/// worker that reads it, and once no such worker took it within the allowed deliveries its
/// child is answered FAILED, naming both versions. A batch of this version with a field the
/// worker refuses, but a valid Map Run id and nonce, is answered FAILED at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_batch_no_worker_can_read_is_handed_back_then_answered_failed() {
    let rig = Rig::start(2).await;
    let later = shared::protocol::VERSION + 1;
    let head = |v: u32, run: &str, definition: &str| {
        let head = serde_json::json!([{
            "v": v, "map_run_id": run, "batch": 3, "attempt": 1, "definition": definition,
            "first_item": 3, "item_count": 2, "nonce": "ab".repeat(16), "something_new": {"x": 1},
            "child": {"name": "c1", "state_machine_name": "nmap/M", "region": "us-east-1",
                      "account": "123456789012", "role_arn": "arn:aws:iam::123456789012:role/x"},
            "input_bytes": 2
        }]);
        let mut body = serde_json::to_vec(&head).expect("head");
        body.extend_from_slice(b"\n{}");
        body
    };
    rig.publish(BATCH_SUBJECT_CPU, "later-1", head(later, "later-run", &rig.hash)).await;
    rig.publish(BATCH_SUBJECT_CPU, "bad-def-1", head(shared::protocol::VERSION, "bad-def", "../x")).await;

    let bad = rig.outcomes("bad-def", Duration::from_secs(20)).await.expect("an answer for the refused field");
    assert_eq!((bad[0].batch, bad[0].status), (3, OutcomeStatus::Failed), "{bad:?}");
    assert!(bad[0].cause.as_deref().is_some_and(|c| c.contains("definition")), "{bad:?}");
    assert_eq!(bad[0].nonce, "ab".repeat(16), "{bad:?}");

    let got = rig.outcomes("later-run", Duration::from_secs(30)).await;
    let state = format!(
        "handed back {}, terminated {}",
        rig.stats.handed_back.load(Ordering::Relaxed),
        rig.stats.terminated.load(Ordering::Relaxed)
    );
    let got = got.unwrap_or_else(|| panic!("the batch of v{later} was never answered; {state}"));
    assert_eq!(got.len(), 1, "{state}");
    let o = &got[0];
    assert_eq!((o.batch, o.status, o.nonce.as_str()), (3, OutcomeStatus::Failed, "ab".repeat(16).as_str()), "{o:?}");
    let cause = o.cause.as_deref().unwrap_or_default();
    let (ours, theirs) = (format!("v{}", shared::protocol::VERSION), format!("v{later}"));
    assert!(cause.contains(&ours) && cause.contains(&theirs), "the cause names both versions: {cause}");
    let max = worker::nats::topology::Settings::default().max_deliveries as u64;
    assert_eq!(rig.stats.handed_back.load(Ordering::Relaxed), max - 1, "handed back until the last delivery; {state}");
    let info = rig.cpu_consumer().await;
    assert_eq!((info.num_pending, info.num_ack_pending), (0, 0), "{state}");
    rig.stop().await;
}
