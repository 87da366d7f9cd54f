//! The registry on its own, on a paused tokio clock: callbacks before and during the wait,
//! heartbeats, timeouts, AWS's errors, and a durable store found again by a new registry.

use std::collections::HashMap;
use std::sync::Mutex;

use serde_json::json;

use super::*;

const ARN: &str = "arn:aws:states:us-east-1:123456789012:execution:m:e";

fn wait(token: &str, heartbeat: Option<u64>, timeout: i64) -> CallbackWait {
    CallbackWait {
        execution_arn: ARN.into(),
        state_name: "Wait".into(),
        token: token.into(),
        heartbeat_seconds: heartbeat,
        deadline: Utc::now() + chrono::Duration::seconds(timeout),
        activity: false,
    }
}

/// Lets the spawned wait run up to its first await.
async fn settle() {
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
}

#[tokio::test(start_paused = true)]
async fn success_and_failure_complete_the_wait_and_a_second_callback_is_too_late() {
    let cb = Callbacks::ephemeral();
    let token = cb.token(ARN, 3, 0);
    let waiting = tokio::spawn({
        let (cb, w) = (cb.clone(), wait(&token, None, 300));
        async move { cb.wait(w).await }
    });
    settle().await;
    cb.send_success(&token, r#"{"ok": 1}"#).await.expect("accepted");
    assert_eq!(waiting.await.unwrap(), Ok(json!({"ok": 1})));
    // "the task associated with the token has already been closed"
    let late = cb.send_success(&token, "{}").await.unwrap_err();
    assert_eq!(late.code(), "TaskTimedOut");
    assert_eq!(cb.send_heartbeat(&token).await.unwrap_err().code(), "TaskTimedOut");

    let token = cb.token(ARN, 9, 1);
    let waiting = tokio::spawn({
        let (cb, w) = (cb.clone(), wait(&token, None, 300));
        async move { cb.wait(w).await }
    });
    settle().await;
    cb.send_failure(&token, Some("Oops".into()), None).await.expect("accepted");
    assert_eq!(waiting.await.unwrap(), Err(Failure { error: Some("Oops".into()), cause: None }));
    assert_eq!(cb.pending(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_callback_during_the_call_is_kept_for_the_wait() {
    let cb = Callbacks::ephemeral();
    let token = cb.token(ARN, 3, 0);
    cb.arm(&token);
    cb.send_success(&token, "\"early\"").await.expect("accepted while the call runs");
    assert_eq!(cb.wait(wait(&token, Some(1), 5)).await, Ok(json!("early")));
}

#[tokio::test(start_paused = true)]
async fn a_missed_heartbeat_and_the_deadline_fail_with_states_timeout() {
    let cb = Callbacks::ephemeral();
    // Heartbeats every 5 s keep a 10 s heartbeat alive past 10 s; the 30 s deadline still ends it.
    let token = cb.token(ARN, 3, 0);
    let waiting = tokio::spawn({
        let (cb, w) = (cb.clone(), wait(&token, Some(10), 30));
        async move { cb.wait(w).await }
    });
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_secs(5)).await;
        cb.send_heartbeat(&token).await.expect("the wait is pending");
    }
    assert!(!waiting.is_finished(), "20 s with a heartbeat every 5 s");
    assert_eq!(waiting.await.unwrap(), Err(Failure::named("States.Timeout")));
    assert_eq!(cb.send_success(&token, "1").await.unwrap_err().code(), "TaskTimedOut");

    // No heartbeat at all: the wait ends at HeartbeatSeconds, well before the deadline.
    let token = cb.token(ARN, 4, 0);
    let start = tokio::time::Instant::now();
    assert_eq!(cb.wait(wait(&token, Some(10), 3600)).await, Err(Failure::named("States.Timeout")));
    assert_eq!(start.elapsed(), Duration::from_secs(10));
}

#[tokio::test(start_paused = true)]
async fn aws_errors_for_bad_tokens_and_outputs() {
    let cb = Callbacks::ephemeral();
    for bad in ["", "nope", &Callbacks::ephemeral().token(ARN, 1, 0)] {
        assert_eq!(cb.send_success(bad, "{}").await.unwrap_err().code(), "InvalidToken", "{bad}");
        assert_eq!(cb.send_failure(bad, None, None).await.unwrap_err().code(), "InvalidToken");
        assert_eq!(cb.send_heartbeat(bad).await.unwrap_err().code(), "InvalidToken");
    }
    let token = cb.token(ARN, 1, 0);
    // A token of this host that no wait holds (and no store says otherwise).
    assert_eq!(cb.send_success(&token, "{}").await.unwrap_err().code(), "TaskDoesNotExist");
    cb.arm(&token);
    assert_eq!(cb.send_success(&token, "{not json").await.unwrap_err().code(), "InvalidOutput");
    // The wait is still pending after a refused output.
    cb.send_success(&token, "2").await.expect("accepted");
    assert_eq!(cb.wait(wait(&token, None, 5)).await, Ok(json!(2)));
}

#[tokio::test(start_paused = true)]
async fn a_stopped_execution_closes_its_tokens() {
    let cb = Callbacks::ephemeral();
    let token = cb.token(ARN, 3, 0);
    let waiting = tokio::spawn({
        let (cb, w) = (cb.clone(), wait(&token, None, 300));
        async move { cb.wait(w).await }
    });
    settle().await;
    waiting.abort();
    let _ = waiting.await;
    cb.execution_ended(ARN);
    assert_eq!(cb.pending(), 0);
    assert_eq!(cb.send_success(&token, "1").await.unwrap_err().code(), "TaskTimedOut");
}

/// A store in memory, shared by two registries as a restarted server's store is.
#[derive(Default)]
struct MemoryStore {
    outcomes: Mutex<HashMap<String, (String, String)>>,
    running: Mutex<HashMap<String, bool>>,
}

impl Durable for MemoryStore {
    fn save<'a>(
        &'a self,
        token: &'a str,
        execution_arn: &'a str,
        outcome: &'a Outcome,
    ) -> BoxFuture<'a, Result<(), String>> {
        self.outcomes.lock().unwrap().insert(token.into(), (execution_arn.into(), outcome.to_json()));
        Box::pin(async { Ok(()) })
    }
    fn load<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Result<Option<Outcome>, String>> {
        let found = self.outcomes.lock().unwrap().get(token).and_then(|(_, o)| Outcome::from_json(o));
        Box::pin(async move { Ok(found) })
    }
    fn running<'a>(&'a self, execution_arn: &'a str) -> BoxFuture<'a, Result<Option<bool>, String>> {
        let found = self.running.lock().unwrap().get(execution_arn).copied();
        Box::pin(async move { Ok(found) })
    }
    fn forget(&self, execution_arn: &str) {
        self.outcomes.lock().unwrap().retain(|_, (arn, _)| arn != execution_arn);
    }
}

#[tokio::test(start_paused = true)]
async fn a_restarted_registry_takes_callbacks_for_replaying_executions_and_finds_them_in_its_wait() {
    let store = Arc::new(MemoryStore::default());
    store.running.lock().unwrap().insert(ARN.into(), true);
    let before = Callbacks::new(Codec::new([1; 32]), Some(store.clone()));
    let token = before.token(ARN, 3, 0);
    before.arm(&token);
    // Accepted and stored, then the server dies before the wait sees it.
    before.send_success(&token, r#"{"v": 1}"#).await.expect("accepted");
    drop(before);

    let after = Callbacks::new(Codec::new([1; 32]), Some(store.clone()));
    assert_eq!(after.token(ARN, 3, 0), token, "the same secret makes the same token");
    assert_eq!(after.wait(wait(&token, None, 5)).await, Ok(json!({"v": 1})));

    // A callback that comes while the execution replays (no wait yet) is kept too.
    let token = after.token(ARN, 7, 0);
    after.send_failure(&token, Some("E".into()), Some("c".into())).await.expect("accepted during replay");
    assert_eq!(after.wait(wait(&token, None, 5)).await, Err(Failure::new("E", "c")));

    // Ended and unknown executions.
    after.execution_ended(ARN);
    assert!(store.outcomes.lock().unwrap().is_empty(), "the ended execution's outcomes are dropped");
    store.running.lock().unwrap().insert(ARN.into(), false);
    let token = after.token(ARN, 9, 0);
    assert_eq!(after.send_success(&token, "1").await.unwrap_err().code(), "TaskTimedOut");
    let other = after.token("arn:aws:states:us-east-1:123456789012:execution:m:gone", 2, 0);
    assert_eq!(after.send_heartbeat(&other).await.unwrap_err().code(), "TaskDoesNotExist");
}
