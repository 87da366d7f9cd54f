//! Issue 14 item 10: `dmap serve` driven by real clients — boto3 and the AWS CLI v1 from PyPI
//! (pinned, `scripts/install-aws-clients`) — against a server each test starts on a free
//! loopback port with its own data directory ([`testkit::Serve`]).
//!
//! Expected values come from AWS's API reference and developer guide (ARN forms, idempotency,
//! event types and ids, error codes), never from dmap's code. Each test's boto3 snippet checks
//! with `eq(actual, expected, what)` and fails loudly with the server's log; executions are
//! awaited by polling DescribeExecution against a deadline (`wait_done`), never by sleeping.

mod serve_clients {
    pub mod activities;
    pub mod activity_tasks;
    pub mod callbacks;
    pub mod cli;
    pub mod durable;
    pub mod executions;
    pub mod history;
    pub mod machines;
    pub mod map_runs;
    pub mod nested;
    pub mod redrive;
    pub mod run_listen;
    pub mod test_state;
}

use testkit::Serve;

/// A fresh `dmap serve` for one test.
pub fn serve() -> Serve {
    Serve::start(env!("CARGO_BIN_EXE_dmap"))
}

/// A fresh `dmap serve` with more arguments (`--config FILE`).
pub fn serve_with(extra: &[&str]) -> Serve {
    Serve::start_with(env!("CARGO_BIN_EXE_dmap"), extra)
}

/// Definitions and checks the snippets share. `ARN` is the prefix of every ARN AWS forms for
/// Step Functions in us-east-1 under dmap's account, 123456789012.
pub const COMMON: &str = r#"
ROLE = "arn:aws:iam::123456789012:role/service-role/StepFunctions-dmap"
ARN = "arn:aws:states:us-east-1:123456789012"

def eq(actual, expected, what):
    if actual != expected:
        raise AssertionError(f"{what}: expected {expected!r}, got {actual!r}")

def code(call, **kwargs):
    """The error code a call must fail with."""
    e = error_of(call, **kwargs)
    if e is None:
        raise AssertionError(f"{call.__name__}({kwargs}) succeeded, but should have failed")
    # AWS's reference lists ConflictException with both 409 and 400; every other client error is 400.
    if e["code"] == "ConflictException":
        assert e["status"] in (400, 409), e
    else:
        eq(e["status"], 400, f"HTTP status of {e['code']}")
    return e["code"]

def machine(name, definition, type="STANDARD", **kwargs):
    return sfn.create_state_machine(name=name, definition=json.dumps(definition), roleArn=ROLE, type=type, **kwargs)

def pages(call, key, **kwargs):
    """Every page of a list action, following nextToken: a list of lists."""
    out, token = [], None
    while True:
        page = call(**kwargs, **({"nextToken": token} if token else {}))
        out.append(page[key])
        token = page.get("nextToken")
        if not token:
            return out

def paged_at_most(paged, max_results, what):
    """AWS: maxResults is an upper limit per page, and a nextToken means more to come."""
    assert len(paged) >= 2, f"{what}: one page ({paged}) where maxResults={max_results} must split them"
    assert all(0 < len(p) <= max_results for p in paged), f"{what}: page sizes {[len(p) for p in paged]}"

PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
FAIL = {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Boom", "Cause": "it broke"}}}
WAIT_LONG = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 600, "End": True}}}
PASS_WAIT = {"StartAt": "P", "States": {
    "P": {"Type": "Pass", "Result": {"a": 1}, "ResultPath": "$.p", "Next": "W"},
    "W": {"Type": "Wait", "Seconds": 1, "Next": "Done"},
    "Done": {"Type": "Succeed"}}}
"#;

/// Runs a boto3 snippet after [`COMMON`] against `s`.
pub fn check(s: &Serve, code: &str) -> String {
    s.python_after(COMMON, code)
}
