//! A Distributed Map under `dmap serve`: ListMapRuns, DescribeMapRun and UpdateMapRun on a
//! running Map Run (items from the input), and an ItemReader over a local directory bucket
//! mapped with `--config`.

use crate::{check, serve, serve_with};

/// Six items one at a time (MaxConcurrency 1, a 1 s Wait each), so the Map Run is still
/// running when UpdateMapRun raises its concurrency and tolerated failures.
#[test]
fn map_run_is_listed_described_and_updated() {
    let s = serve();
    check(
        &s,
        r#"
FAN = {"StartAt": "Fan", "States": {"Fan": {
    "Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 1, "End": True,
    "ItemProcessor": {
        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
        "StartAt": "Slow", "States": {
            "Slow": {"Type": "Wait", "Seconds": 1, "Next": "Double"},
            "Double": {"Type": "Pass", "Parameters": {"v.$": "States.MathAdd($.n, $.n)"}, "End": True}}}}}}
sm = machine("fanout", FAN)["stateMachineArn"]
ex = sfn.start_execution(stateMachineArn=sm, input=json.dumps({"items": [{"n": n} for n in range(1, 7)]}))["executionArn"]

deadline = time.monotonic() + 30
while not (runs := sfn.list_map_runs(executionArn=ex)["mapRuns"]):
    assert time.monotonic() < deadline, "no Map Run listed within 30 s"
    time.sleep(0.05)
eq(len(runs), 1, "one Map Run")
mr = runs[0]["mapRunArn"]
assert mr.startswith(f"{ARN}:mapRun:fanout/Fan:"), mr
eq(runs[0]["executionArn"], ex, "the Map Run's execution")

d = sfn.describe_map_run(mapRunArn=mr)
eq((d["executionArn"], d["status"], d["maxConcurrency"]), (ex, "RUNNING", 1), "DescribeMapRun while running")
def described(want, what):
    """DescribeMapRun's (maxConcurrency, toleratedFailureCount, toleratedFailurePercentage) once
    they read `want`: dmap (like AWS) may show an update a moment after UpdateMapRun answers."""
    deadline = time.monotonic() + 10
    while True:
        d = sfn.describe_map_run(mapRunArn=mr)
        got = (d["maxConcurrency"], d["toleratedFailureCount"], d["toleratedFailurePercentage"])
        if got == want or time.monotonic() > deadline:
            return eq(got, want, what)
        time.sleep(0.05)

sfn.update_map_run(mapRunArn=mr, maxConcurrency=6, toleratedFailureCount=2)
described((6, 2, 0.0), "DescribeMapRun after UpdateMapRun")
sfn.update_map_run(mapRunArn=mr, toleratedFailurePercentage=50.0)
described((6, 2, 50.0), "UpdateMapRun changes only what it names")

done = wait_done(ex)
eq(done["status"], "SUCCEEDED", "the execution")
eq(json.loads(done["output"]), [{"v": 2 * n} for n in range(1, 7)], "the Map's output, in item order")
d = sfn.describe_map_run(mapRunArn=mr)
eq(d["status"], "SUCCEEDED", "the finished Map Run")
assert d["stopDate"] >= d["startDate"], d
ic, ec = d["itemCounts"], d["executionCounts"]
eq((ic["total"], ic["succeeded"], ic["failed"], ic["pending"], ic["running"]), (6, 6, 0, 0, 0), "itemCounts")
eq((ec["total"], ec["succeeded"], ec["failed"]), (6, 6, 0), "executionCounts")

e = error_of(sfn.update_map_run, mapRunArn=mr, maxConcurrency=2)
eq(e and e["code"], "ValidationException", "UpdateMapRun on a finished Map Run")
eq(code(sfn.describe_map_run, mapRunArn=f"{ARN}:mapRun:fanout/Fan:00000000-0000-0000-0000-000000000000"),
   "ResourceNotFound", "DescribeMapRun of a missing Map Run")

types = [e["type"] for e in history(ex)]
for t in ("MapStateEntered", "MapRunStarted", "MapRunSucceeded", "MapStateExited"):
    eq(types.count(t), 1, f"{t} events")
eq(types.index("MapRunStarted") < types.index("MapRunSucceeded"), True, "MapRunStarted before MapRunSucceeded")
started = [e for e in history(ex) if e["type"] == "MapRunStarted"][0]
eq(started["mapRunStartedEventDetails"]["mapRunArn"], mr, "mapRunStartedEventDetails")

"#,
    );
}

/// AWS: ListExecutions with a `mapRunArn` lists the child workflow executions the Map Run
/// started (Standard children; Express ones are not listed, as for any Express execution).
#[test]
fn map_run_children_are_listed_by_list_executions() {
    let s = serve();
    check(
        &s,
        r#"
FAN = {"StartAt": "Fan", "States": {"Fan": {
    "Type": "Map", "ItemsPath": "$.items", "End": True,
    "ItemProcessor": {
        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
        "StartAt": "Copy", "States": {"Copy": {"Type": "Pass", "End": True}}}}}}
sm = machine("children", FAN)["stateMachineArn"]
ex = sfn.start_execution(stateMachineArn=sm, input=json.dumps({"items": [{"n": n} for n in range(3)]}))["executionArn"]
eq(wait_done(ex)["status"], "SUCCEEDED", "the execution")
mr = sfn.list_map_runs(executionArn=ex)["mapRuns"][0]["mapRunArn"]
children = [e for p in pages(sfn.list_executions, "executions", mapRunArn=mr) for e in p]
eq(len(children), 3, "child executions of the Map Run")
eq({c["status"] for c in children}, {"SUCCEEDED"}, "their status")
eq({c.get("mapRunArn") for c in children}, {mr}, "their mapRunArn")
eq(len({c["executionArn"] for c in children}), 3, "one ARN each")
"#,
    );
}

/// ItemReader (s3:getObject, JSON) over a bucket that `--config`'s `[buckets]` maps to a local
/// directory, as `dmap run --config` does.
#[test]
fn item_reader_over_a_directory_bucket() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let bucket = dir.path().join("bucket");
    std::fs::create_dir_all(&bucket).expect("bucket directory");
    std::fs::write(bucket.join("items.json"), r#"[{"n": 1}, {"n": 2}, {"n": 3}, {"n": 4}]"#).expect("items");
    let config = dir.path().join("dmap.toml");
    std::fs::write(&config, format!("[buckets]\nitems = {:?}\n", bucket.display().to_string())).expect("config");
    let s = serve_with(&["--config", config.to_str().expect("a UTF-8 path")]);
    check(
        &s,
        r#"
READ = {"StartAt": "Read", "States": {"Read": {
    "Type": "Map", "End": True,
    "ItemReader": {"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": {"InputType": "JSON"},
                   "Parameters": {"Bucket": "items", "Key": "items.json"}},
    "ItemProcessor": {
        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
        "StartAt": "Twice", "States": {
            "Twice": {"Type": "Pass", "Parameters": {"v.$": "States.MathAdd($.n, $.n)"}, "End": True}}}}}}
sm = machine("reader", READ)["stateMachineArn"]
ex = sfn.start_execution(stateMachineArn=sm, input="{}")["executionArn"]
d = wait_done(ex)
eq(d["status"], "SUCCEEDED", "the execution")
eq(json.loads(d["output"]), [{"v": 2 * n} for n in range(1, 5)], "one result per item in the object")
runs = sfn.list_map_runs(executionArn=ex)["mapRuns"]
eq(len(runs), 1, "one Map Run")
counts = sfn.describe_map_run(mapRunArn=runs[0]["mapRunArn"])["itemCounts"]
eq((counts["total"], counts["succeeded"]), (4, 4), "itemCounts")
"#,
    );
}
