//! Activity Tasks of running executions, worked by boto3 and AWS CLI workers: GetActivityTask
//! hands out the input and the token, SendTaskSuccess/Failure/Heartbeat end or extend the
//! Task, timeouts and heartbeats end it as AWS's do, and a restart of `dmap serve` neither loses
//! a queued task nor hands out a started one again.
//!
//! Expected histories are AWS's: the event types and members of the API reference's
//! `HistoryEvent`, and the sequences recorded against AWS in localstack's
//! `tests/aws/services/stepfunctions/v2/activities/test_activities.snapshot.json`
//! (ActivityScheduled → ActivityStarted{workerName} → ActivitySucceeded/ActivityFailed, and the
//! `States.Runtime` cause of an activity that does not exist).

use std::time::{Duration, Instant};

use serde_json::Value;

use super::activities::WORKER;
use crate::{COMMON, serve};

/// Runs a snippet after [`COMMON`], the worker client and [`TASKS`].
fn check(s: &testkit::Serve, code: &str) -> String {
    s.python_after(&format!("{COMMON}\n{WORKER}\n{TASKS}"), code)
}

const TASKS: &str = r#"
def activity_machine(name, activity_arn, **task):
    """A machine whose one Task is the activity (with the Task's extra fields)."""
    return machine(name, {"StartAt": "Work", "States": {
        "Work": dict({"Type": "Task", "Resource": activity_arn, "End": True}, **task)}})["stateMachineArn"]

def scheduled(execution_arn, n=1, timeout=30):
    """Waits until the execution's history holds n ActivityScheduled events."""
    deadline = time.monotonic() + timeout
    while sum(e["type"] == "ActivityScheduled" for e in history(execution_arn)) < n:
        if time.monotonic() > deadline:
            raise SystemExit(f"{execution_arn}: no ActivityScheduled after {timeout} s")
        time.sleep(0.05)

def take(activity_arn, worker):
    """One long poll that must return a task."""
    t = poller.get_activity_task(activityArn=activity_arn, workerName=worker)
    assert t.get("taskToken"), f"no task for {worker}: {t}"
    return t

def types(execution_arn):
    return [e["type"] for e in history(execution_arn)]
"#;

/// A boto3 worker loop takes the tasks of three running executions and answers each; every
/// execution ends with its worker's output and AWS's history.
#[test]
fn a_boto3_worker_loop_processes_the_tasks_of_running_executions() {
    let s = serve();
    check(
        &s,
        r#"
act = sfn.create_activity(name="double")["activityArn"]
sm = activity_machine("doubles", act, TimeoutSeconds=60, ResultPath="$.result")
runs = [sfn.start_execution(stateMachineArn=sm, name=f"run-{n}", input=json.dumps({"n": n}))["executionArn"]
        for n in range(3)]

done = 0
while done < 3:
    t = poller.get_activity_task(activityArn=act, workerName="worker-1")
    if not t.get("taskToken"):
        continue
    n = json.loads(t["input"])["n"]
    sfn.send_task_success(taskToken=t["taskToken"], output=json.dumps({"doubled": 2 * n}))
    done += 1

for n, ex in enumerate(runs):
    d = wait_done(ex)
    eq(d["status"], "SUCCEEDED", f"{ex}")
    eq(json.loads(d["output"]), {"n": n, "result": {"doubled": 2 * n}}, f"the output of run-{n}")
    events = history(ex)
    eq([e["type"] for e in events], ["ExecutionStarted", "TaskStateEntered", "ActivityScheduled", "ActivityStarted",
        "ActivitySucceeded", "TaskStateExited", "ExecutionSucceeded"], f"the history of run-{n}")
    sch = events[2]["activityScheduledEventDetails"]
    eq((sch["resource"], json.loads(sch["input"]), sch["timeoutInSeconds"]), (act, {"n": n}, 60),
       "ActivityScheduled's details")
    eq(events[3]["activityStartedEventDetails"], {"workerName": "worker-1"}, "ActivityStarted's worker")
    eq(json.loads(events[4]["activitySucceededEventDetails"]["output"]), {"doubled": 2 * n}, "ActivitySucceeded")
    eq(events[4]["previousEventId"], events[3]["id"], "ActivitySucceeded follows ActivityStarted")

# The token of a closed task is TaskTimedOut, as AWS answers ("expired or already closed").
eq(code(sfn.send_task_success, taskToken=t["taskToken"], output="{}"), "TaskTimedOut", "a second answer")
"#,
    );
}

/// SendTaskFailure fails the Task with the worker's error and cause (caught like any other),
/// and an activity that does not exist fails the execution with AWS's `States.Runtime` cause.
#[test]
fn worker_failures_are_caught_and_a_missing_activity_is_a_runtime_error() {
    let s = serve();
    check(
        &s,
        r#"
act = sfn.create_activity(name="fragile")["activityArn"]
sm = activity_machine("fails", act)
ex = sfn.start_execution(stateMachineArn=sm, input='{"Value1": "Hello"}')["executionArn"]
t = take(act, "w")
sfn.send_task_failure(taskToken=t["taskToken"], error="Programmatic Error", cause="it broke")
d = wait_done(ex)
eq((d["status"], d["error"], d["cause"]), ("FAILED", "Programmatic Error", "it broke"), "the failed execution")
eq(types(ex), ["ExecutionStarted", "TaskStateEntered", "ActivityScheduled", "ActivityStarted", "ActivityFailed",
               "ExecutionFailed"], "the history of a failed activity (recorded against AWS)")
eq(history(ex)[4]["activityFailedEventDetails"], {"error": "Programmatic Error", "cause": "it broke"},
   "ActivityFailed's details")

caught = machine("catches", {"StartAt": "Work", "States": {
    "Work": {"Type": "Task", "Resource": act, "Catch": [{"ErrorEquals": ["Programmatic Error"], "ResultPath": "$.err",
             "Next": "Handled"}], "End": True},
    "Handled": {"Type": "Pass", "End": True}}})["stateMachineArn"]
ex = sfn.start_execution(stateMachineArn=caught, input="{}")["executionArn"]
t = take(act, "w")
sfn.send_task_failure(taskToken=t["taskToken"], error="Programmatic Error", cause="again")
d = wait_done(ex)
eq((d["status"], json.loads(d["output"])), ("SUCCEEDED", {"err": {"Error": "Programmatic Error", "Cause": "again"}}),
   "a caught activity failure")

gone = sfn.create_activity(name="deleted-before-start")["activityArn"]
sm = activity_machine("missing", gone)
sfn.delete_activity(activityArn=gone)
ex = sfn.start_execution(stateMachineArn=sm, input="{}")["executionArn"]
d = wait_done(ex)
eq((d["status"], d["error"]), ("FAILED", "States.Runtime"), "an activity that does not exist")
eq(d["cause"], f"An error occurred while executing the state 'Work' (entered at the event id #2). "
               f"The activity {gone} does not exist.", "AWS's cause (recorded against AWS)")
"#,
    );
}

/// Heartbeats keep a Task alive past its HeartbeatSeconds; without them it times out with
/// `States.Timeout` in ActivityTimedOut, as AWS reports a missed heartbeat, and TimeoutSeconds
/// ends a Task whose worker never answers. Late answers are TaskTimedOut.
#[test]
fn heartbeats_extend_a_task_and_timeouts_end_it() {
    let s = serve();
    check(
        &s,
        r#"
act = sfn.create_activity(name="slow")["activityArn"]
sm = activity_machine("beats", act, HeartbeatSeconds=2, TimeoutSeconds=120)
ex = sfn.start_execution(stateMachineArn=sm, input="{}")["executionArn"]
t = take(act, "w")
# Six seconds of work, a heartbeat every second: three times the heartbeat interval.
for _ in range(6):
    time.sleep(1)
    sfn.send_task_heartbeat(taskToken=t["taskToken"])
eq(sfn.describe_execution(executionArn=ex)["status"], "RUNNING", "a Task that sends heartbeats")
sfn.send_task_success(taskToken=t["taskToken"], output='{"ok": true}')
eq(wait_done(ex)["status"], "SUCCEEDED", "the Task that sent heartbeats")

ex = sfn.start_execution(stateMachineArn=sm, input="{}")["executionArn"]
t = take(act, "w")
d = wait_done(ex)  # no heartbeat: over after 2 s
eq((d["status"], d["error"]), ("FAILED", "States.Timeout"), "a missed heartbeat")
eq(types(ex)[-2:], ["ActivityTimedOut", "ExecutionFailed"], "the end of its history")
eq(history(ex)[-2]["activityTimedOutEventDetails"]["error"], "States.Timeout", "ActivityTimedOut's error")
eq(code(sfn.send_task_heartbeat, taskToken=t["taskToken"]), "TaskTimedOut", "a heartbeat after the timeout")
eq(code(sfn.send_task_success, taskToken=t["taskToken"], output="{}"), "TaskTimedOut", "an answer after the timeout")

sm = machine("times-out-caught", {"StartAt": "Work", "States": {
    "Work": {"Type": "Task", "Resource": act, "TimeoutSeconds": 1,
             "Catch": [{"ErrorEquals": ["States.Timeout"], "ResultPath": "$.timeout", "Next": "After"}], "End": True},
    "After": {"Type": "Pass", "End": True}}})["stateMachineArn"]
ex = sfn.start_execution(stateMachineArn=sm, input="{}")["executionArn"]
# TimeoutSeconds counts from ActivityStarted: the Task waits for a worker however long it takes.
scheduled(ex)
time.sleep(2)
eq(sfn.describe_execution(executionArn=ex)["status"], "RUNNING", "a task no worker took yet")
take(act, "w")
d = wait_done(ex)
eq((d["status"], json.loads(d["output"])["timeout"]["Error"]), ("SUCCEEDED", "States.Timeout"),
   "a caught TimeoutSeconds")
"#,
    );
}

/// Two activity Tasks in the branches of a Parallel are handed out together; the Parallel's
/// output is the branches' outputs in branch order, whichever worker answered first.
#[test]
fn activities_in_a_parallel_run_side_by_side() {
    let s = serve();
    check(
        &s,
        r#"
left = sfn.create_activity(name="left")["activityArn"]
right = sfn.create_activity(name="right")["activityArn"]
# State names are unique in a whole state machine, branches included.
branch = lambda name, act: {"StartAt": name, "States": {name: {"Type": "Task", "Resource": act, "End": True}}}
sm = machine("both", {"StartAt": "Both", "States": {
    "Both": {"Type": "Parallel", "Branches": [branch("Left", left), branch("Right", right)], "End": True}}})["stateMachineArn"]
ex = sfn.start_execution(stateMachineArn=sm, input='{"x": 1}')["executionArn"]
r = take(right, "right-worker")
# A worker without a name: AWS records ActivityStarted with no workerName (recorded against AWS).
l = poller.get_activity_task(activityArn=left)
eq((json.loads(l["input"]), json.loads(r["input"])), ({"x": 1}, {"x": 1}), "each branch's input")
sfn.send_task_success(taskToken=r["taskToken"], output='"from the right"')
sfn.send_task_success(taskToken=l["taskToken"], output='"from the left"')
d = wait_done(ex)
eq((d["status"], json.loads(d["output"])), ("SUCCEEDED", ["from the left", "from the right"]), "the Parallel's output")
workers = sorted(json.dumps(e["activityStartedEventDetails"]) for e in history(ex) if e["type"] == "ActivityStarted")
eq(workers, sorted(['{"workerName": "right-worker"}', '{}']), "one ActivityStarted per branch")
"#,
    );
}

/// The children of an in-process Distributed Map take activity Tasks like their parent: one
/// task per item, each handed out once, and the Map's output in item order.
#[test]
fn distributed_map_children_run_activity_tasks() {
    let s = serve();
    check(
        &s,
        r#"
act = sfn.create_activity(name="per-item")["activityArn"]
sm = machine("fan", {"StartAt": "Fan", "States": {"Fan": {
    "Type": "Map", "ItemsPath": "$.items", "End": True,
    "ItemProcessor": {
        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
        "StartAt": "Work", "States": {"Work": {"Type": "Task", "Resource": act, "End": True}}}}}})["stateMachineArn"]
ex = sfn.start_execution(stateMachineArn=sm, input=json.dumps({"items": [{"n": n} for n in range(3)]}))["executionArn"]
seen = []
while len(seen) < 3:
    t = take(act, "map-worker")
    n = json.loads(t["input"])["n"]
    seen.append(n)
    sfn.send_task_success(taskToken=t["taskToken"], output=json.dumps(n * 10))
eq(sorted(seen), [0, 1, 2], "one task per item, each once")
d = wait_done(ex)
eq((d["status"], json.loads(d["output"])), ("SUCCEEDED", [0, 10, 20]), "the Map's output")
"#,
    );
}

/// A stopped execution's queued task is withdrawn: the next worker gets the next execution's
/// task. A worker whose request went away (its client gave up) does not swallow a task.
#[test]
fn stopped_executions_and_vanished_pollers_do_not_swallow_tasks() {
    let s = serve();
    check(
        &s,
        r#"
act = sfn.create_activity(name="queue")["activityArn"]
sm = activity_machine("queued", act)
first = sfn.start_execution(stateMachineArn=sm, name="first", input='{"n": 1}')["executionArn"]
scheduled(first)
sfn.stop_execution(executionArn=first)
eq(wait_done(first)["status"], "ABORTED", "the stopped execution")

# A worker that gives up after one second: its client closes the connection while the
# server still holds the long poll.
impatient = boto3.client("stepfunctions", config=Config(read_timeout=1, retries={"max_attempts": 1}))
try:
    impatient.get_activity_task(activityArn=act, workerName="impatient")
    raise AssertionError("an empty queue answered before the long poll's end")
except botocore.exceptions.ReadTimeoutError:
    pass

second = sfn.start_execution(stateMachineArn=sm, name="second", input='{"n": 2}')["executionArn"]
scheduled(second)
t = take(act, "patient")
eq(json.loads(t["input"]), {"n": 2}, "the task of the execution still running")
sfn.send_task_success(taskToken=t["taskToken"], output="{}")
eq(wait_done(second)["status"], "SUCCEEDED", "the second execution")
started = [e["activityStartedEventDetails"]["workerName"] for e in history(second) if e["type"] == "ActivityStarted"]
eq(started, ["patient"], "the task went to the worker that was still there")
eq("ActivityStarted" in types(first), False, "the stopped execution's task was never handed out")
"#,
    );
}

/// The AWS CLI as the worker: get-activity-task, send-task-heartbeat, send-task-success; and
/// send-task-failure's answer in the history.
#[test]
fn aws_cli_works_activity_tasks() {
    let s = serve();
    let arn = s.aws(&["create-activity", "--name", "cli-work"])["activityArn"].as_str().expect("an ARN").to_string();
    let definition = serde_json::json!({"StartAt": "Work", "States": {
        "Work": {"Type": "Task", "Resource": arn, "HeartbeatSeconds": 30, "End": true}}})
    .to_string();
    let role = "arn:aws:iam::123456789012:role/service-role/StepFunctions-dmap";
    let sm = s.aws(&["create-state-machine", "--name", "cli-tasks", "--definition", &definition, "--role-arn", role])
        ["stateMachineArn"]
        .as_str()
        .expect("an ARN")
        .to_string();
    for (n, answer) in [(1, "success"), (2, "failure")] {
        let input = format!(r#"{{"n": {n}}}"#);
        let ex = s.aws(&["start-execution", "--state-machine-arn", &sm, "--input", &input])["executionArn"]
            .as_str()
            .expect("an ARN")
            .to_string();
        // The task waits for a worker: /metrics counts it.
        let deadline = Instant::now() + Duration::from_secs(30);
        while !metric(&s, "dmap_activity_tasks_pending 1") {
            assert!(Instant::now() < deadline, "no pending activity task on /metrics after 30 s");
            std::thread::sleep(Duration::from_millis(50));
        }
        let task =
            s.aws(&["get-activity-task", "--activity-arn", &arn, "--worker-name", "cli", "--cli-read-timeout", "70"]);
        assert!(metric(&s, "dmap_activity_tasks_pending 0"), "the task handed out is no longer pending");
        let token = task["taskToken"].as_str().expect("a task token").to_string();
        let given: Value = serde_json::from_str(task["input"].as_str().expect("input")).expect("JSON input");
        assert_eq!(given, serde_json::json!({"n": n}));
        s.aws(&["send-task-heartbeat", "--task-token", &token]);
        match answer {
            "success" => s.aws(&["send-task-success", "--task-token", &token, "--task-output", r#"{"ok": 1}"#]),
            _ => s.aws(&["send-task-failure", "--task-token", &token, "--error", "Bad", "--cause", "from the CLI"]),
        };
        let described = wait_done(&s, &ex);
        match answer {
            "success" => {
                assert_eq!(described["status"], "SUCCEEDED", "{described}");
                assert_eq!(described["output"], r#"{"ok":1}"#, "{described}");
            }
            _ => {
                assert_eq!(described["status"], "FAILED", "{described}");
                assert_eq!(
                    (described["error"].as_str(), described["cause"].as_str()),
                    (Some("Bad"), Some("from the CLI"))
                );
            }
        }
        let err = s.aws_fails(&["send-task-success", "--task-token", &token, "--task-output", "{}"]);
        assert!(err.contains("(TaskTimedOut) when calling the SendTaskSuccess operation"), "{err}");
    }
}

/// Whether `/metrics` has the line `line`.
fn metric(s: &testkit::Serve, line: &str) -> bool {
    testkit::http_get(s.port(), "/metrics").is_some_and(|text| text.lines().any(|l| l == line))
}

fn wait_done(s: &testkit::Serve, ex: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let d = s.aws(&["describe-execution", "--execution-arn", ex]);
        if d["status"] != "RUNNING" {
            return d;
        }
        assert!(Instant::now() < deadline, "{ex} still RUNNING after 60 s");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `kill -9` with one task queued and one handed out: after the restart the queued task is
/// queued again (by the execution's replay) with the same token, the handed-out one is not
/// handed out again, and its worker's answer is still accepted.
#[test]
fn a_restart_requeues_waiting_tasks_and_keeps_handed_out_ones_with_their_tokens() {
    let mut s = serve();
    let before = check(
        &s,
        r#"
act = sfn.create_activity(name="durable")["activityArn"]
sm = activity_machine("durable", act)
out = {}
for name in ("taken", "queued"):
    ex = sfn.start_execution(stateMachineArn=sm, name=name, input=json.dumps({"name": name}))["executionArn"]
    scheduled(ex)
    out[name] = ex
t = take(act, "before-crash")
eq(json.loads(t["input"]), {"name": "taken"}, "the first task")
out["token"] = t["taskToken"]
out["activity"] = act
emit(out)
"#,
    );
    let before: Value = serde_json::from_str(before.lines().last().expect("emitted")).expect("JSON");
    s.kill9();
    s.restart();
    let code = format!(
        r#"
before = json.loads({before:?})
act = before["activity"]
t = take(act, "after-crash")
eq(json.loads(t["input"]), {{"name": "queued"}}, "the queued task, queued again by replay")
sfn.send_task_success(taskToken=t["taskToken"], output='"queued done"')
# The task handed out before the crash is not handed out again: its worker still answers it.
sfn.send_task_success(taskToken=before["token"], output='"taken done"')
for name in ("taken", "queued"):
    d = wait_done(before[name])
    eq((d["status"], json.loads(d["output"])), ("SUCCEEDED", f"{{name}} done"), name)
started = [e["activityStartedEventDetails"]["workerName"] for e in history(before["taken"]) if e["type"] == "ActivityStarted"]
eq(started, ["before-crash"], "one hand-out of the task taken before the crash")
started = [e["activityStartedEventDetails"]["workerName"] for e in history(before["queued"]) if e["type"] == "ActivityStarted"]
eq(started, ["after-crash"], "the queued task handed out once, after the restart")
"#,
        before = before.to_string()
    );
    check(&s, &code);
}
