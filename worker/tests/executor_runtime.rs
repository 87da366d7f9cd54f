//! Children that wait need the async runtime; the rayon pool has none. A child with an
//! ordinary `Retry` (probe H5, `retry_child2.json`) must run on tokio and be retried, and a
//! sleep asked for outside a runtime must fail that child, never panic.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use serde_json::json;
use shared::asl::parse::parse_value;
use shared::protocol::{Batch, ChildIdentity, OutcomeStatus, VERSION};
use worker::executor::{Child, Executor, run_pure};
use worker::host::LocalHost;

/// The probe's child: a Parallel whose branch fails with `X`, retried once after one second.
fn retry_child() -> Arc<shared::asl::StateMachine> {
    let def = json!({"StartAt": "P", "States": {"P": {"Type": "Parallel",
        "Branches": [{"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "X"}}}],
        "Retry": [{"ErrorEquals": ["X"], "IntervalSeconds": 1, "MaxAttempts": 1}], "End": true}}});
    Arc::new(parse_value(&def).unwrap_or_else(|d| panic!("{d:?}")).0)
}

fn batch() -> Batch {
    Batch {
        v: VERSION,
        map_run_id: "run".into(),
        batch: 0,
        attempt: 1,
        definition: "hash".into(),
        first_item: 0,
        item_count: 1,
        child: ChildIdentity {
            name: "00000000-0000-4000-8000-000000000000".into(),
            state_machine_name: "parent/Map".into(),
            region: "us-east-1".into(),
            account: "123456789012".into(),
            role_arn: "arn:aws:iam::123456789012:role/dmap".into(),
        },
        nonce: String::new(),
        input: Arc::from("1"),
    }
}

#[test]
fn a_child_with_retry_is_not_run_as_pure_and_is_retried() {
    let child = Arc::new(Child::new(retry_child(), None));
    assert!(!child.pure, "a child whose Retry can wait was taken for pure");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    let started = std::time::Instant::now();
    let outcome = rt.block_on(Executor::new(Arc::new(LocalHost::default())).run(child, batch()));
    assert_eq!(outcome.status, OutcomeStatus::Failed);
    assert_eq!((outcome.error.as_deref(), outcome.cause.as_deref()), (Some("X"), None));
    // One retry after IntervalSeconds 1 (no jitter): at least a second went by.
    assert!(started.elapsed() >= std::time::Duration::from_secs(1), "not retried: {:?}", started.elapsed());
}

#[test]
fn a_waiting_child_run_without_a_runtime_fails_instead_of_panicking() {
    // Forced onto the runtime-less path, as a wrong classification would put it.
    let child = Child { machine: retry_child(), pure: true, max_payload_bytes: None };
    let outcome = run_pure(&LocalHost::default(), &child, batch());
    assert_eq!(outcome.status, OutcomeStatus::Failed);
    assert_eq!(outcome.error.as_deref(), Some("States.Runtime"), "{:?}", outcome.cause);
}

#[test]
fn local_sleeps_outside_a_runtime_never_panic() {
    use shared::asl::eval::Host;
    let host = LocalHost::default();
    let mut cx = Context::from_waker(Waker::noop());
    let past = chrono::Utc::now() - chrono::Duration::seconds(1);
    assert!(pin!(host.sleep_until(past)).poll(&mut cx).is_ready(), "a deadline already past completes");
    let later = chrono::Utc::now() + chrono::Duration::seconds(60);
    assert!(matches!(pin!(host.sleep_until(later)).poll(&mut cx), Poll::Pending));
}
