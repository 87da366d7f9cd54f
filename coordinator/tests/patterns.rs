//! Issue 15 item 6: every orchestration pattern of `examples/patterns/` runs with its one
//! command, `examples/patterns/run PATTERN`, against `dmap serve` (the script starts the server
//! on a free loopback port, drives it with boto3, plays the outside party, stops it).
//!
//! Expected values are worked out by hand from each pattern's definition, handlers and
//! `example.json` (the derivation is in the comments), never taken from a run. Where a Parallel
//! or a Map makes the order of the history's StateEntered events depend on timing, the states
//! are compared as a multiset, with the first and last fixed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};
use testkit::moto_venv;

/// The repository root (this crate's parent).
fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("repository root").to_path_buf()
}

/// What the runner printed for one execution (`--json`: one object per line).
struct Execution {
    status: String,
    output: Value,
    error: Option<String>,
    cause: Option<String>,
    states: Vec<String>,
}

/// Runs `examples/patterns/run --json PATTERN <this build's dmap>` and returns its executions
/// by name.
fn run(pattern: &str) -> BTreeMap<String, Execution> {
    // boto3 comes from the pinned virtualenv; install it once, under testkit's lock, rather than
    // let several scripts race to create it.
    moto_venv();
    let out = Command::new(repo().join("examples/patterns/run"))
        .arg("--json")
        .arg(pattern)
        .arg(env!("CARGO_BIN_EXE_dmap"))
        .output()
        .expect("examples/patterns/run runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "examples/patterns/run {pattern} failed ({}):\n{stdout}\n{stderr}", out.status);
    let mut executions = BTreeMap::new();
    for line in stdout.lines() {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}\n{stderr}"));
        let text = |key: &str| v.get(key).and_then(Value::as_str).map(str::to_string);
        let states = v["states"].as_array().expect("states").iter().map(|s| s.as_str().expect("a name").to_string());
        executions.insert(
            text("name").expect("name"),
            Execution {
                status: text("status").expect("status"),
                output: v.get("output").cloned().unwrap_or(Value::Null),
                error: text("error"),
                cause: text("cause"),
                states: states.collect(),
            },
        );
    }
    executions
}

fn get<'a>(runs: &'a BTreeMap<String, Execution>, name: &str) -> &'a Execution {
    runs.get(name).unwrap_or_else(|| panic!("no execution {name} among {:?}", runs.keys().collect::<Vec<_>>()))
}

/// A succeeded execution with exactly this output and these states, in this order.
fn succeeded(e: &Execution, output: Value, states: &[&str]) {
    assert_eq!((e.status.as_str(), e.error.as_deref()), ("SUCCEEDED", None), "cause: {:?}", e.cause);
    assert_eq!(e.output, output);
    assert_eq!(e.states, states);
}

/// The states as a multiset (sorted), with the first and the last entered as given.
fn states_as_multiset(e: &Execution, first: &str, last: &str, all: &[&str]) {
    assert_eq!(e.states.first().map(String::as_str), Some(first), "{:?}", e.states);
    assert_eq!(e.states.last().map(String::as_str), Some(last), "{:?}", e.states);
    let mut got: Vec<&str> = e.states.iter().map(String::as_str).collect();
    let mut want = all.to_vec();
    got.sort_unstable();
    want.sort_unstable();
    assert_eq!(got, want);
}

#[test]
fn sequential_runs_each_step_after_the_other() {
    let runs = run("sequential");
    // 2 × 1250 + 1 × 900 = 3400 cents; identifiers derive from the order id and country.
    succeeded(
        get(&runs, "order-1001"),
        json!({"order_id": "1001", "charged_cents": 3400, "reservation": "RES-1001", "payment": "PAY-1001",
               "tracking_number": "TRK-1001-FR"}),
        &["ValidateOrder", "ReserveStock", "ChargePayment", "CreateShipment", "Confirm"],
    );
}

#[test]
fn parallel_checks_run_in_branches_and_a_failed_branch_is_caught() {
    let runs = run("parallel");
    let branches = ["RunChecks", "CreditScore", "VerifyIdentity", "ScreenSanctions"];
    // A-17: debt ratio 100 × 12000 / 72000 = 16 % → score 850 − 3 × 16 = 802 ≥ 650, passport,
    // not listed → approved with a limit of 72000 / 5.
    let a17 = get(&runs, "application-17");
    assert_eq!(a17.status, "SUCCEEDED");
    assert_eq!(a17.output, json!({"application_id": "A-17", "decision": "APPROVED", "limit": 14400, "score": 802}));
    states_as_multiset(a17, "RunChecks", "Decide", &[&branches[..], &["Decide"]].concat());
    // A-18: 100 × 40000 / 50000 = 80 % → 850 − 240 = 610 < 650 → declined.
    let a18 = get(&runs, "application-18");
    assert_eq!(a18.output, json!({"application_id": "A-18", "decision": "DECLINED", "limit": 0, "score": 610}));
    // A-19: the passport has no number, so VerifyIdentity raises DocumentUnreadable; the
    // Parallel fails and its Catch (States.ALL) leads to ManualReview with the error's name.
    // The other branches may or may not have been entered before the failure stopped them.
    let a19 = get(&runs, "application-19");
    assert_eq!(a19.status, "SUCCEEDED");
    assert_eq!(
        a19.output,
        json!({"application_id": "A-19", "decision": "MANUAL_REVIEW", "reason": "DocumentUnreadable"})
    );
    assert_eq!(a19.states.first().map(String::as_str), Some("RunChecks"));
    assert_eq!(a19.states.last().map(String::as_str), Some("ManualReview"));
    assert!(a19.states.iter().any(|s| s == "VerifyIdentity") && !a19.states.iter().any(|s| s == "Decide"));
}

#[test]
fn conditional_sends_each_claim_down_its_path() {
    let runs = run("conditional");
    // C1: 400 ≤ 1000, active, 0 prior claims → AutoApprove pays the amount.
    succeeded(
        get(&runs, "claim-c1"),
        json!({"claim_id": "C1", "payout": 400, "route": "auto-approved", "status": "PAID", "reference": "PAY-C1"}),
        &["Triage", "AutoApprove", "PayClaim"],
    );
    // C2: 3000 matches no rule → assessed: min(3000, cover 2500) − deductible 250.
    succeeded(
        get(&runs, "claim-c2"),
        json!({"claim_id": "C2", "payout": 2250, "route": "assessed", "status": "PAID", "reference": "PAY-C2"}),
        &["Triage", "AssessDamage", "PayClaim"],
    );
    // C3: small, but 4 prior claims fail the Not → assessed: min(800, 5000) − 100.
    succeeded(
        get(&runs, "claim-c3"),
        json!({"claim_id": "C3", "payout": 700, "route": "assessed", "status": "PAID", "reference": "PAY-C3"}),
        &["Triage", "AssessDamage", "PayClaim"],
    );
    // C4: 40000 > 25000 → investigation.
    succeeded(
        get(&runs, "claim-c4"),
        json!({"claim_id": "C4", "status": "UNDER_INVESTIGATION", "case": "INV-C4"}),
        &["Triage", "OpenInvestigation"],
    );
    // C5: lapsed, the first rule → the Fail state's Error and Cause.
    let c5 = get(&runs, "claim-c5");
    assert_eq!(c5.status, "FAILED");
    assert_eq!(c5.error.as_deref(), Some("PolicyLapsed"));
    assert_eq!(c5.cause.as_deref(), Some("The policy was not active on the date of the claim."));
    assert_eq!(c5.states, ["Triage", "PolicyLapsed"]);
}

#[test]
fn looping_fetches_pages_until_there_is_no_cursor() {
    let runs = run("looping");
    // 7 invoices, 3 per page → pages of 3, 3 and 1 (cursors "3", "6", then null).
    // 12000 + 4550 + 99900 + 150 + 30000 + 7525 + 1000 = 155125.
    let turn = ["FetchPage", "Accumulate", "MorePages"];
    let states: Vec<&str> = std::iter::once("Begin")
        .chain(turn.iter().copied().cycle().take(9))
        .chain(std::iter::once("Summary"))
        .collect();
    succeeded(
        get(&runs, "export-acme"),
        json!({"customer": "acme", "pages": 3, "invoices": 7, "amount_cents": 155125}),
        &states,
    );
}

#[test]
fn saga_compensates_the_reservations_made_in_reverse_order() {
    let runs = run("saga");
    succeeded(
        get(&runs, "trip-t1"),
        json!({"trip_id": "T1", "status": "BOOKED", "hotel": "HOTEL-T1", "flight": "FLIGHT-T1", "car": "CAR-T1"}),
        &["ReserveHotel", "ReserveFlight", "ReserveCar", "TripBooked"],
    );
    // Reykjavik has no car: ReserveCar raises CarUnavailable (not retried: its Retry names only
    // Lambda's transient errors), its Catch cancels the flight, then the hotel, and the Fail
    // state takes the error from the caught one (ErrorPath) with its fixed Cause.
    let t2 = get(&runs, "trip-t2");
    assert_eq!(t2.status, "FAILED");
    assert_eq!(t2.error.as_deref(), Some("CarUnavailable"));
    assert_eq!(t2.cause.as_deref(), Some("The trip was not booked; every reservation made for it was cancelled."));
    assert_eq!(
        t2.states,
        ["ReserveHotel", "ReserveFlight", "ReserveCar", "CancelFlight", "CancelHotel", "TripNotBooked"]
    );
}

#[test]
fn fan_out_asks_every_supplier_and_fan_in_takes_the_cheapest() {
    let runs = run("fan-out-fan-in");
    // north 89900, south 87500 (5 days), east out of stock, west 87500 (9 days): south wins the
    // tie on lead time; 20 × 87500. Four quotes asked, three available.
    let r1 = get(&runs, "request-r1");
    assert_eq!(r1.status, "SUCCEEDED");
    assert_eq!(
        r1.output,
        json!({"request_id": "R1", "supplier": "south", "total_cents": 1750000, "lead_days": 5, "quotes": 4,
               "available": 3})
    );
    states_as_multiset(
        r1,
        "RequestQuotes",
        "ChooseSupplier",
        &["RequestQuotes", "GetQuote", "GetQuote", "GetQuote", "GetQuote", "NoQuote", "ChooseSupplier"],
    );
}

#[test]
fn data_driven_routing_dispatches_by_the_table_and_dead_letters_the_rest() {
    let runs = run("data-driven-routing");
    // e1 and e5 are order.created, e2 payment.received, e3 customer.updated (fields sorted),
    // e4 invoice.disputed has no route. The Map keeps the events' order.
    let b1 = get(&runs, "batch-1");
    assert_eq!(b1.status, "SUCCEEDED");
    assert_eq!(
        b1.output,
        json!({"results": [
            {"event": "e1", "status": "ORDER_RECORDED", "order_id": "1001"},
            {"event": "e2", "status": "PAYMENT_APPLIED", "order_id": "1001", "amount_cents": 3400},
            {"event": "e3", "status": "CUSTOMER_UPDATED", "fields": ["address", "phone"]},
            {"event": "e4", "status": "DEAD_LETTERED", "reason": "no route for invoice.disputed"},
            {"event": "e5", "status": "ORDER_RECORDED", "order_id": "1002"}
        ], "dead_lettered": 1})
    );
    let mut all = vec!["LoadRoutes", "RouteEvents", "DeadLetter"];
    all.extend(["HasRoute"; 5]);
    all.extend(["Dispatch"; 4]);
    assert_eq!(&b1.states[..2], ["LoadRoutes", "RouteEvents"]);
    let mut got: Vec<&str> = b1.states.iter().map(String::as_str).collect();
    got.sort_unstable();
    all.sort_unstable();
    assert_eq!(got, all);
}

/// examples/patterns/README.md's "By hand, with the AWS CLI": the saga's failing trip, typed as
/// a shell user would, ends FAILED with the caught error after its compensations.
#[test]
fn the_saga_runs_by_hand_with_the_aws_cli() {
    let dir = repo().join("examples/patterns/saga");
    let functions = dir.join("functions.toml");
    let s = testkit::Serve::start_with(env!("CARGO_BIN_EXE_dmap"), &["--functions", &functions.to_string_lossy()]);
    let definition = format!("file://{}", dir.join("book-trip.asl.json").display());
    let role = "arn:aws:iam::123456789012:role/dmap";
    s.aws(&["create-state-machine", "--name", "book-trip", "--role-arn", role, "--definition", &definition]);
    let input = r#"{"trip_id": "T2", "origin": "Paris", "destination": "Reykjavik", "nights": 5, "car_class": "suv"}"#;
    let machine = "arn:aws:states:us-east-1:123456789012:stateMachine:book-trip";
    s.aws(&["start-execution", "--name", "trip-t2", "--state-machine-arn", machine, "--input", input]);
    let execution = "arn:aws:states:us-east-1:123456789012:execution:book-trip:trip-t2";
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let described = loop {
        let d = s.aws(&["describe-execution", "--execution-arn", execution]);
        if d["status"] != "RUNNING" || std::time::Instant::now() > deadline {
            break d;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    assert_eq!(described["status"], "FAILED", "{described}\n{}", s.log());
    assert_eq!(described["error"], "CarUnavailable");
    let names = s.aws(&[
        "get-execution-history",
        "--execution-arn",
        execution,
        "--query",
        "events[?stateEnteredEventDetails].stateEnteredEventDetails.name",
    ]);
    assert_eq!(
        names,
        json!(["ReserveHotel", "ReserveFlight", "ReserveCar", "CancelFlight", "CancelHotel", "TripNotBooked"])
    );
}

#[test]
fn human_approval_waits_for_the_managers_answer() {
    let runs = run("human-approval");
    // E1: every item has a receipt → SendTaskSuccess {"approver": manager, …} → reimbursed
    // 8900 + 14150 cents.
    succeeded(
        get(&runs, "report-e1"),
        json!({"report_id": "E1", "status": "REIMBURSED", "paid_to": "carol@example.com", "amount_cents": 23050,
               "approved_by": "dave@example.com"}),
        &["RequestApproval", "Reimburse"],
    );
    // E2: the taxi has no receipt → SendTaskFailure(ExpenseRejected, "no receipt for: taxi"),
    // caught; the Catch's ResultPath puts {Error, Cause} at $.rejection.
    succeeded(
        get(&runs, "report-e2"),
        json!({"report_id": "E2", "status": "RETURNED", "to": "erin@example.com", "reason": "no receipt for: taxi"}),
        &["RequestApproval", "ReturnToEmployee"],
    );
}

/// examples/patterns/human-approval/README.md: the manager answers with the AWS CLI — the token
/// read from the TaskScheduled event's parameters, then `send-task-success`.
#[test]
fn the_approval_is_given_by_hand_with_the_aws_cli() {
    let dir = repo().join("examples/patterns/human-approval");
    let functions = dir.join("functions.toml");
    let s = testkit::Serve::start_with(env!("CARGO_BIN_EXE_dmap"), &["--functions", &functions.to_string_lossy()]);
    let definition = format!("file://{}", dir.join("expense-approval.asl.json").display());
    let role = "arn:aws:iam::123456789012:role/dmap";
    s.aws(&["create-state-machine", "--name", "expense-approval", "--role-arn", role, "--definition", &definition]);
    let input = json!({"report_id": "E9", "employee": "frank@example.com", "manager": "dave@example.com",
                       "items": [{"what": "train", "amount_cents": 4200, "receipt": "r-9.pdf"}]})
    .to_string();
    let machine = "arn:aws:states:us-east-1:123456789012:stateMachine:expense-approval";
    s.aws(&["start-execution", "--name", "report-e9", "--state-machine-arn", machine, "--input", &input]);
    let execution = "arn:aws:states:us-east-1:123456789012:execution:expense-approval:report-e9";
    // The request is sent (TaskSubmitted) before the execution waits; poll the history for it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let parameters = loop {
        let history = s.aws(&["get-execution-history", "--execution-arn", execution]);
        let events = history["events"].as_array().cloned().unwrap_or_default();
        if events.iter().any(|e| e["type"] == "TaskSubmitted") {
            let scheduled = events.iter().find(|e| e["type"] == "TaskScheduled").expect("TaskScheduled");
            break scheduled["taskScheduledEventDetails"]["parameters"].as_str().expect("parameters").to_string();
        }
        assert!(std::time::Instant::now() < deadline, "no TaskSubmitted in {history}\n{}", s.log());
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    let parameters: Value = serde_json::from_str(&parameters).expect("parameters are JSON");
    let token = parameters["Payload"]["token"].as_str().expect("the token in the Payload");
    s.aws(&["send-task-success", "--task-token", token, "--task-output", r#"{"approver": "dave@example.com"}"#]);
    let described = loop {
        let d = s.aws(&["describe-execution", "--execution-arn", execution]);
        if d["status"] != "RUNNING" || std::time::Instant::now() > deadline {
            break d;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    assert_eq!(described["status"], "SUCCEEDED", "{described}\n{}", s.log());
    let output: Value = serde_json::from_str(described["output"].as_str().expect("output")).expect("JSON");
    assert_eq!(
        output,
        json!({"report_id": "E9", "status": "REIMBURSED", "paid_to": "frank@example.com", "amount_cents": 4200,
               "approved_by": "dave@example.com"})
    );
}

#[test]
fn master_worker_hands_chunks_to_activity_workers_and_merges_their_counts() {
    let runs = run("master-worker");
    // The four chunks, lower-cased, split into words:
    //   the quick brown fox jumps over the lazy dog      9
    //   the dog barks the fox runs away                  7
    //   a quick brown dog jumps and the fox doesn't      9
    //   the end                                          2   → 27 words
    // "the" 2+2+1+1 = 6, "dog" 1+1+1 = 3, "fox" 1+1+1 = 3 (ties in alphabetical order), then
    // quick, brown, jumps with 2; 15 distinct words (the, quick, brown, fox, jumps, over, lazy,
    // dog, barks, runs, away, a, and, doesn't, end).
    let job = get(&runs, "job-wc1");
    assert_eq!(job.status, "SUCCEEDED", "{:?} {:?}", job.error, job.cause);
    assert_eq!(
        job.output,
        json!({"job_id": "wc1", "chunks": 4, "words": 27, "distinct": 15, "top": [
            {"word": "the", "count": 6}, {"word": "dog", "count": 3}, {"word": "fox", "count": 3}]})
    );
    states_as_multiset(
        job,
        "CountChunks",
        "MergeCounts",
        &["CountChunks", "CountWords", "CountWords", "CountWords", "CountWords", "MergeCounts"],
    );
}

#[test]
fn nested_workflows_run_the_payment_as_a_child_and_use_its_output() {
    let runs = run("nested-workflows");
    // 1001: 2 × 1250 = 2500; the child, named payment-1001 by States.Format, authorizes and
    // captures; .sync:2 gives its output as JSON in Output, and its ARN is
    // arn:aws:states:REGION:ACCOUNT:execution:MACHINE:NAME.
    succeeded(
        get(&runs, "order-1001"),
        json!({"order_id": "1001", "status": "CONFIRMED", "payment_id": "PAY-1001", "captured_cents": 2500,
               "payment_execution": "arn:aws:states:us-east-1:123456789012:execution:payment:payment-1001"}),
        &["PriceCart", "TakePayment", "Confirm"],
    );
    succeeded(
        get(&runs, "payment-1001"),
        json!({"payment_id": "PAY-1001", "authorization": "AUTH-1001", "captured_cents": 2500}),
        &["Authorize", "Capture"],
    );
    // 1002: the test card is declined, so the child fails with the handler's error type; the
    // parent's Task fails with States.TaskFailed, which its Catch turns into PaymentDeclined.
    let child = get(&runs, "payment-1002");
    assert_eq!((child.status.as_str(), child.error.as_deref()), ("FAILED", Some("CardDeclined")));
    assert_eq!(child.states, ["Authorize"]);
    succeeded(
        get(&runs, "order-1002"),
        json!({"order_id": "1002", "status": "PAYMENT_DECLINED"}),
        &["PriceCart", "TakePayment", "PaymentDeclined"],
    );
}
