//! GetExecutionHistory through boto3: AWS's event types, ids and previousEventIds for a
//! Pass → Wait → Succeed machine, reverseOrder, includeExecutionData=false and pagination.

use crate::{check, serve};

#[test]
fn history_of_pass_wait_succeed() {
    let s = serve();
    check(
        &s,
        r#"
sm = machine("steps", PASS_WAIT)["stateMachineArn"]
ex = sfn.start_execution(stateMachineArn=sm, name="h1", input='{"x": 1}')["executionArn"]
eq(wait_done(ex)["status"], "SUCCEEDED", "status")
h = history(ex)
eq([e["type"] for e in h], [
    "ExecutionStarted",
    "PassStateEntered", "PassStateExited",
    "WaitStateEntered", "WaitStateExited",
    "SucceedStateEntered", "SucceedStateExited",
    "ExecutionSucceeded"], "event types in order")
eq([e["id"] for e in h], list(range(1, 9)), "ids")
eq([e["previousEventId"] for e in h], list(range(0, 8)), "previousEventIds")
stamps = [e["timestamp"] for e in h]
eq(stamps, sorted(stamps), "timestamps never go back")
# The Wait state waited its Seconds (1) between entering and leaving.
assert (stamps[4] - stamps[3]).total_seconds() >= 0.99, (stamps[3], stamps[4])

started = h[0]["executionStartedEventDetails"]
eq((json.loads(started["input"]), started["roleArn"]), ({"x": 1}, ROLE), "executionStartedEventDetails")
eq(started["inputDetails"], {"truncated": False}, "inputDetails")
entered, exited = h[1]["stateEnteredEventDetails"], h[2]["stateExitedEventDetails"]
eq((entered["name"], json.loads(entered["input"])), ("P", {"x": 1}), "PassStateEntered")
eq((exited["name"], json.loads(exited["output"])), ("P", {"x": 1, "p": {"a": 1}}), "PassStateExited")
eq(h[3]["stateEnteredEventDetails"]["name"], "W", "WaitStateEntered")
eq(h[6]["stateExitedEventDetails"]["name"], "Done", "SucceedStateExited")
eq(json.loads(h[7]["executionSucceededEventDetails"]["output"]), {"x": 1, "p": {"a": 1}}, "ExecutionSucceeded")

rev = history(ex, reverseOrder=True)
eq([e["id"] for e in rev], list(range(8, 0, -1)), "reverseOrder")
eq(rev, list(reversed(h)), "reverseOrder returns the same events")

bare = history(ex, includeExecutionData=False)
eq([e["type"] for e in bare], [e["type"] for e in h], "includeExecutionData=false keeps every event")
for e in bare:
    for k, v in e.items():
        if k.endswith("EventDetails"):
            assert "input" not in v and "output" not in v, (e["type"], v)

paged = pages(sfn.get_execution_history, "events", executionArn=ex, maxResults=3)
paged_at_most(paged, 3, "GetExecutionHistory")
eq([e for p in paged for e in p], h, "the pages hold the history")
"#,
    );
}
