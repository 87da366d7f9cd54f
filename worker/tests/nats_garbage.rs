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
