//! What a worker checks of what it reads from NATS before it runs anything: the child
//! definition must be what its hash says, and every outcome echoes its batch's nonce.

mod nats_support;

use std::time::Duration;

use nats_support::{Rig, batch, store};
use serde_json::json;
use shared::protocol::nats::BATCH_SUBJECT_IO;
use shared::protocol::{DefinitionRecord, OutcomeStatus};

/// Probe M7: workers loaded `dmap-definitions[<key>]` without checking that the content matches
/// the key. A record put under another record's hash must not run: the children FAIL, naming it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_definition_that_does_not_match_its_hash_is_refused_and_outcomes_echo_nonces() {
    let rig = Rig::start(2).await;
    // What the Map Run asked for: a child that fails. What is stored under its hash: a Pass.
    let asked = DefinitionRecord {
        v: shared::protocol::VERSION,
        definition: json!({"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Asked"}}}),
        max_payload_bytes: Some(shared::asl::eval::MAX_PAYLOAD_BYTES),
    };
    let key = asked.content_hash();
    let planted = rig.coordinator.definitions.get(&rig.hash).await.expect("get").expect("the Pass record");
    rig.coordinator.definitions.put(&key, planted).await.expect("plant the Pass under the Fail's hash");
    // A Wait child, so that it goes to the I/O subject like any non-pure child.
    let waiting =
        store(&rig.coordinator, json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 0, "End": true}}}))
            .await;

    rig.publish_batches(BATCH_SUBJECT_IO, &[batch("planted", 0, &key)]).await;
    let outcomes = rig.outcomes("planted", Duration::from_secs(20)).await.expect("an outcome for the planted batch");
    assert_eq!(outcomes.len(), 1);
    let o = &outcomes[0];
    assert_eq!(o.status, OutcomeStatus::Failed, "the planted Pass must not run: {o:?}");
    assert_eq!(o.error.as_deref(), Some("States.Runtime"), "{o:?}");
    let cause = o.cause.as_deref().unwrap_or_default();
    assert!(cause.contains(&key) && cause.contains(&rig.hash), "the cause names both hashes: {cause}");
    assert_eq!(o.nonce, batch("planted", 0, &key).nonce, "the outcome echoes the batch's nonce");

    let sent = [batch("genuine", 0, &waiting), batch("genuine", 1, &waiting)];
    rig.publish_batches(BATCH_SUBJECT_IO, &sent).await;
    let outcomes = rig.outcomes("genuine", Duration::from_secs(20)).await.expect("an outcome for the genuine batch");
    let got: Vec<_> = outcomes.iter().map(|o| (o.status, o.nonce.clone())).collect();
    let want: Vec<_> = sent.iter().map(|b| (OutcomeStatus::Succeeded, b.nonce.clone())).collect();
    assert_eq!(got, want);
    rig.stop().await;
}
