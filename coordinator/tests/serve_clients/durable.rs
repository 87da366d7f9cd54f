//! `kill -9` of `dmap serve` while an execution waits: after a restart on the same port and
//! data, the execution finishes with its result and a history that holds each event once.
//! (Issue 14's full crash test, with a Map Run over NATS workers, is the engine's.)

use crate::{check, serve};

#[test]
fn a_waiting_execution_survives_kill_9() {
    let mut s = serve();
    check(
        &s,
        r#"
W = {"StartAt": "P", "States": {
    "P": {"Type": "Pass", "Result": "kept", "ResultPath": "$.p", "Next": "W"},
    "W": {"Type": "Wait", "Seconds": 3, "Next": "Done"},
    "Done": {"Type": "Succeed"}}}
sm = machine("durable", W)["stateMachineArn"]
ex = sfn.start_execution(stateMachineArn=sm, name="d1", input='{"x": 1}')["executionArn"]
deadline = time.monotonic() + 30
while "WaitStateEntered" not in [e["type"] for e in history(ex)]:
    assert time.monotonic() < deadline, "the execution did not reach its Wait within 30 s"
    time.sleep(0.05)
eq(sfn.describe_execution(executionArn=ex)["status"], "RUNNING", "before the kill")
"#,
    );
    s.kill9();
    s.restart();
    check(
        &s,
        r#"
ex = f"{ARN}:execution:durable:d1"
d = wait_done(ex)
eq((d["status"], json.loads(d["output"])), ("SUCCEEDED", {"x": 1, "p": "kept"}), "after the restart")
h = history(ex)
eq([e["type"] for e in h], [
    "ExecutionStarted", "PassStateEntered", "PassStateExited", "WaitStateEntered", "WaitStateExited",
    "SucceedStateEntered", "SucceedStateExited", "ExecutionSucceeded"], "each event once, in order")
eq([e["id"] for e in h], list(range(1, 9)), "ids without gaps")
eq([e["previousEventId"] for e in h], list(range(0, 8)), "previousEventIds")
# The Wait kept its deadline: it left no sooner than 3 s after it was entered.
assert (h[4]["timestamp"] - h[3]["timestamp"]).total_seconds() >= 2.99, (h[3]["timestamp"], h[4]["timestamp"])
"#,
    );
    // A graceful stop (SIGTERM) and start keep the finished execution as it was.
    s.restart();
    check(
        &s,
        r#"
d = sfn.describe_execution(executionArn=f"{ARN}:execution:durable:d1")
eq((d["status"], json.loads(d["output"])), ("SUCCEEDED", {"x": 1, "p": "kept"}), "after a graceful restart")
eq(len(history(f"{ARN}:execution:durable:d1")), 8, "the same history")
"#,
    );
}
