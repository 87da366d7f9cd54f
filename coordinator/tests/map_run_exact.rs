//! Every item is accounted for exactly once: a batched JSONL Map Run exports each item in
//! exactly one SUCCEEDED record, and a run that breaches its threshold still lists every item
//! as succeeded, failed or pending.

mod support;

use std::collections::BTreeSet;
use std::io::Write;

use serde_json::{Value, json};
use support::dmap::{Run, read_results};

fn write_items(dir: &std::path::Path, n: u64, bad_every: Option<u64>) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(dir.join("items.jsonl")).expect("items"));
    for i in 0..n {
        let v = match bad_every {
            Some(k) if i % k == k - 1 => json!("not a number"),
            _ => json!(i),
        };
        writeln!(f, "{}", json!({"id": i, "v": v, "name": format!("item-{i}")})).expect("write");
    }
    f.flush().expect("flush");
}

/// The benchmark's shape: batches of items, each child running a 5-state machine per item.
fn definition(batch: u64, tolerance: Value) -> Value {
    let mut map = json!({
        "Type": "Map",
        "ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
            "ReaderConfig": {"InputType": "JSONL"}, "Parameters": {"Bucket": "data", "Key": "items.jsonl"}},
        "ItemBatcher": {"MaxItemsPerBatch": batch},
        "MaxConcurrency": 8,
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "Each", "States": {"Each": {"Type": "Map", "ItemsPath": "$.Items", "End": true,
                "ItemProcessor": {"StartAt": "Double", "States": {
                    "Double": {"Type": "Pass", "Parameters": {"id.$": "$.id", "double.$": "States.MathAdd($.v, $.v)"}, "Next": "Check"},
                    "Check": {"Type": "Choice", "Choices": [{"Variable": "$.double", "NumericGreaterThanEquals": 0, "Next": "Done"}], "Default": "Done"},
                    "Done": {"Type": "Succeed"}}}}}},
        "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": "results", "Prefix": "out"}},
        "End": true
    });
    if let (Some(m), Some(t)) = (map.as_object_mut(), tolerance.as_object()) {
        m.extend(t.clone());
    }
    json!({"StartAt": "Process", "States": {"Process": map}})
}

fn run(
    n: u64,
    batch: u64,
    bad_every: Option<u64>,
    tolerance: Value,
) -> (support::dmap::Ran, tempfile::TempDir, tempfile::TempDir) {
    let data = tempfile::tempdir().expect("tempdir");
    let results = tempfile::tempdir().expect("tempdir");
    write_items(data.path(), n, bad_every);
    let def = data.path().join("def.json");
    std::fs::write(&def, definition(batch, tolerance).to_string()).expect("def");
    let ran = Run::new(def.to_str().expect("utf-8")).bucket("data", data.path()).bucket("results", results.path()).go();
    (ran, data, results)
}

fn ids_in(records: &[Value], field: &str) -> Vec<u64> {
    let mut ids = Vec::new();
    for r in records {
        let text = r[field].as_str().expect("a JSON string");
        let v: Value = serde_json::from_str(text).expect("json");
        let items = if field == "Input" { v["Items"].clone() } else { v };
        for it in items.as_array().expect("array") {
            ids.push(it["id"].as_u64().expect("id"));
        }
    }
    ids
}

#[test]
fn every_item_is_in_exactly_one_succeeded_record() {
    let n = 20_000;
    let (ran, _data, results) = run(n, 250, None, json!({}));
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let out: Value = serde_json::from_str(&ran.stdout).expect("json");
    let files = read_results(results.path(), out["ResultWriterDetails"]["Key"].as_str().expect("key"));
    assert!(files.failed.is_empty() && files.pending.is_empty());
    assert_eq!(files.succeeded.len() as u64, n / 250);
    let ids = ids_in(&files.succeeded, "Output");
    assert_eq!(ids.len() as u64, n, "items exported");
    let unique: BTreeSet<u64> = ids.iter().copied().collect();
    assert_eq!(unique, (0..n).collect::<BTreeSet<u64>>(), "each item exactly once");
}

#[test]
fn a_breached_threshold_still_accounts_for_every_item() {
    let n = 5_000;
    // One item in 50 is bad (a string where MathAdd needs a number): every batch of 100 fails.
    let (ran, _data, results) = run(n, 100, Some(50), json!({"ToleratedFailureCount": 150}));
    assert_eq!(ran.code, 1, "{}", ran.stderr);
    let out: Value = serde_json::from_str(&ran.stdout).expect("json");
    assert_eq!(out["Error"], "States.ExceedToleratedFailureThreshold");
    assert_eq!(out["Cause"], "The specified tolerated failure threshold was exceeded");
    // The manifest is found by listing: the run failed, so no output names it.
    let manifest = find_manifest(results.path()).expect("a manifest");
    let files = read_results(results.path(), &manifest);
    let mut all: Vec<u64> = Vec::new();
    all.extend(ids_in(&files.succeeded, "Input"));
    all.extend(ids_in(&files.failed, "Input"));
    all.extend(ids_in(&files.pending, "Input"));
    assert_eq!(all.len() as u64, n, "succeeded + failed + pending items");
    let unique: BTreeSet<u64> = all.into_iter().collect();
    assert_eq!(unique.len() as u64, n, "no item twice");
    assert!(!files.failed.is_empty());
}

fn find_manifest(root: &std::path::Path) -> Option<String> {
    let out = root.join("out");
    for e in std::fs::read_dir(&out).ok()? {
        let dir = e.ok()?.path();
        if dir.join("manifest.json").exists() {
            return Some(format!("out/{}/manifest.json", dir.file_name()?.to_string_lossy()));
        }
    }
    None
}

#[test]
fn a_broken_line_fails_the_run_and_keeps_what_was_read() {
    let data = tempfile::tempdir().expect("tempdir");
    let results = tempfile::tempdir().expect("tempdir");
    let mut text = String::new();
    for i in 0..3000u64 {
        if i == 2500 {
            text.push_str("{\"id\": 2500, \"v\": \n");
        } else {
            text.push_str(&format!("{}\n", json!({"id": i, "v": i})));
        }
    }
    std::fs::write(data.path().join("items.jsonl"), text).expect("items");
    let def = data.path().join("def.json");
    std::fs::write(&def, definition(100, json!({})).to_string()).expect("def");
    let ran = Run::new(def.to_str().expect("utf-8")).bucket("data", data.path()).bucket("results", results.path()).go();
    assert_eq!(ran.code, 1, "{}", ran.stderr);
    let out: Value = serde_json::from_str(&ran.stdout).expect("json");
    assert_eq!(out["Error"], "States.ItemReaderFailed");
    let cause = out["Cause"].as_str().expect("cause");
    assert!(
        cause.contains("s3://data/items.jsonl") && cause.contains("2501"),
        "cause names the object and line: {cause}"
    );
    let manifest = find_manifest(results.path()).expect("the results are still written");
    let files = read_results(results.path(), &manifest);
    let mut all: Vec<u64> = Vec::new();
    all.extend(ids_in(&files.succeeded, "Input"));
    all.extend(ids_in(&files.failed, "Input"));
    all.extend(ids_in(&files.pending, "Input"));
    let unique: BTreeSet<u64> = all.iter().copied().collect();
    assert_eq!(unique.len(), all.len(), "no item twice");
    assert!(unique.iter().all(|&i| i < 2500), "only items before the broken line were read");
}

#[test]
fn an_item_over_256_kib_fails_alone() {
    let data = tempfile::tempdir().expect("tempdir");
    let results = tempfile::tempdir().expect("tempdir");
    let big = "x".repeat(300 * 1024);
    let text = format!(
        "{}\n{}\n{}\n",
        json!({"id": 0, "v": 0}),
        json!({"id": 1, "v": 1, "pad": big}),
        json!({"id": 2, "v": 2})
    );
    std::fs::write(data.path().join("items.jsonl"), text).expect("items");
    // Exported: in memory, the failed child's record (which carries its input) would itself
    // make the Map's result too big.
    let def = json!({"StartAt": "M", "States": {"M": {"Type": "Map", "ToleratedFailureCount": 1,
        "ItemReader": {"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": {"InputType": "JSONL"},
            "Parameters": {"Bucket": "data", "Key": "items.jsonl"}},
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {"id.$": "$.id"}, "End": true}}},
        "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": "results", "Prefix": "out"}},
        "End": true}}});
    let path = data.path().join("def.json");
    std::fs::write(&path, def.to_string()).expect("def");
    let ran =
        Run::new(path.to_str().expect("utf-8")).bucket("data", data.path()).bucket("results", results.path()).go();
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let out: Value = serde_json::from_str(&ran.stdout).expect("json");
    let files = read_results(results.path(), out["ResultWriterDetails"]["Key"].as_str().expect("key"));
    let mut ok: Vec<Value> = files
        .succeeded
        .iter()
        .map(|r| serde_json::from_str(r["Output"].as_str().unwrap_or("")).unwrap_or_default())
        .collect();
    ok.sort_by_key(|v| v["id"].as_u64());
    assert_eq!(ok, vec![json!({"id": 0}), json!({"id": 2})]);
    assert_eq!(files.failed.len(), 1);
    assert_eq!(files.failed[0]["Error"], "States.DataLimitExceeded");
}

#[test]
fn an_in_memory_result_stops_the_run_once_it_passes_256_kib() {
    // Probe M1: without a ResultWriter every item ran and the in-memory result grew whole (to
    // 10 GB at 10M items) before the run failed. The result is certain to pass 256 KiB after
    // about 131,000 outputs of `0`: the run must stop there, not run all 300,000 items.
    let data = tempfile::tempdir().expect("tempdir");
    std::fs::write(data.path().join("items.jsonl"), "0\n".repeat(300_000)).expect("items");
    let def = json!({"StartAt": "M", "States": {"M": {"Type": "Map",
        "ItemReader": {"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": {"InputType": "JSONL"},
            "Parameters": {"Bucket": "data", "Key": "items.jsonl"}},
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}},
        "End": true}}});
    let path = data.path().join("def.json");
    std::fs::write(&path, def.to_string()).expect("def");
    let status = data.path().join("status.json");
    let ran = Run::new(path.to_str().expect("utf-8"))
        .bucket("data", data.path())
        .arg("--map-run-status")
        .arg(status.to_str().expect("utf-8"))
        .go();
    assert_eq!(ran.code, 1, "{}", ran.stderr);
    let out: Value = serde_json::from_str(&ran.stdout).expect("json");
    assert_eq!(out["Error"], "States.DataLimitExceeded");
    assert_eq!(
        out["Cause"],
        "The state/task 'M' returned a result with a size exceeding the maximum number of bytes service limit."
    );
    let doc: Value = serde_json::from_slice(&std::fs::read(&status).expect("status")).expect("status json");
    let counts = &doc["itemCounts"];
    let n = |k: &str| counts[k].as_u64().unwrap_or_else(|| panic!("{k} in {counts}"));
    assert!(n("succeeded") < 150_000, "the run stopped once the result was too large: {counts}");
    assert_eq!(n("running"), 0, "{counts}");
    assert_eq!(n("total"), n("succeeded") + n("failed") + n("aborted") + n("timedOut") + n("pending"), "{counts}");
    assert_eq!(doc["status"], "FAILED");
}
