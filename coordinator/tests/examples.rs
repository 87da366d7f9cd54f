//! The bundled examples run with the commands README gives, and produce what their data says
//! they must (expected values are derived here from the example data, not from dmap's output).

mod support;

use serde_json::{Value, json};
use support::dmap::{Run, read_results, repo};

#[test]
fn csv_orders_are_priced_in_batches_and_exported() {
    check_csv_orders("examples/csv-orders.asl.json", "csv-orders/");
}

/// The same Map Run written in JSONata (`Arguments`, `Items`, `Output`, `{% %}`) exports the
/// same records as the JSONPath one.
#[test]
fn csv_orders_in_jsonata_are_priced_as_in_jsonpath() {
    check_csv_orders("examples/csv-orders-jsonata.asl.json", "csv-orders-jsonata/");
}

/// Runs a CSV orders example and checks its ResultWriter export (under `prefix`) against the
/// rows of the bundled CSV: 25 rows in batches of 10, each priced in EUR.
fn check_csv_orders(definition: &str, prefix: &str) {
    let results = tempfile::tempdir().expect("tempdir");
    let run = Run::new(definition)
        .bucket("dmap-examples", &repo().join("examples/data"))
        .bucket("dmap-results", results.path())
        .go();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out: Value = serde_json::from_str(&run.stdout).expect("output is JSON");
    assert_eq!(out["ResultWriterDetails"]["Bucket"], "dmap-results");
    let key = out["ResultWriterDetails"]["Key"].as_str().expect("key");
    assert!(key.starts_with(prefix) && key.ends_with("/manifest.json"), "{key}");

    let files = read_results(results.path(), key);
    assert!(files.failed.is_empty() && files.pending.is_empty());
    // 25 rows in batches of 10: three children.
    assert_eq!(files.succeeded.len(), 3);
    let mut priced = Vec::new();
    for rec in &files.succeeded {
        assert_eq!(rec["Status"], "SUCCEEDED");
        let input: Value = serde_json::from_str(rec["Input"].as_str().expect("Input is a string")).expect("json");
        assert_eq!(input["BatchInput"], json!({"currency": "EUR"}));
        let output: Value = serde_json::from_str(rec["Output"].as_str().expect("Output is a string")).expect("json");
        priced.extend(output.as_array().expect("array").iter().cloned());
    }
    let mut expected: Vec<Value> = order_rows()
        .iter()
        .map(|f| {
            json!({"order_id": f[0], "country": f[4], "quantity": f[3].parse::<i64>().unwrap_or(0),
                   "unit_price": f[2].parse::<i64>().unwrap_or(0), "currency": "EUR"})
        })
        .collect();
    let key_of = |v: &Value| v["order_id"].as_str().unwrap_or("").to_string();
    priced.sort_by_key(key_of);
    expected.sort_by_key(key_of);
    assert_eq!(priced, expected);
}

#[test]
fn a_folder_of_json_files_is_listed_and_flattened() {
    let run = Run::new("examples/folder-events.asl.json").bucket("dmap-examples", &repo().join("examples/data")).go();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out: Value = serde_json::from_str(&run.stdout).expect("output is JSON");
    let mut expected = Vec::new();
    for part in 0..3 {
        let text =
            std::fs::read_to_string(repo().join(format!("examples/data/events/part-{part}.json"))).expect("part");
        let events: Vec<Value> = serde_json::from_str(&text).expect("json");
        for e in events {
            let bucket = if e["kind"] == "purchase" { "revenue" } else { "engagement" };
            expected.push(json!({"id": e["id"], "bucket": bucket}));
        }
    }
    assert_eq!(out, json!({"classified": expected, "count": expected.len()}));
}

#[test]
fn jsonl_payments_fail_within_the_tolerated_threshold() {
    let results = tempfile::tempdir().expect("tempdir");
    let status = results.path().join("status.json");
    let run = Run::new("examples/payments-jsonl.asl.json")
        .bucket("dmap-examples", &repo().join("examples/data"))
        .bucket("dmap-results", results.path())
        .arg("--map-run-status")
        .arg(status.to_str().expect("utf-8 path"))
        .go();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out: Value = serde_json::from_str(&run.stdout).expect("output is JSON");
    let key = out["ResultWriterDetails"]["Key"].as_str().expect("key");
    let files = read_results(results.path(), key);
    let lines = std::fs::read_to_string(repo().join("examples/data/payments.jsonl")).expect("jsonl");
    let bad: Vec<i64> = lines
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| !v["amount"].is_number())
        .filter_map(|v| v["event_id"].as_i64())
        .collect();
    assert_eq!(files.failed.len(), bad.len());
    for rec in &files.failed {
        assert_eq!(rec["Error"], "InvalidAmount");
    }
    assert_eq!(files.succeeded.len() + files.failed.len(), lines.lines().count());
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&status).expect("status file")).expect("json");
    assert_eq!(doc["status"], "SUCCEEDED");
    assert_eq!(doc["itemCounts"]["failed"], json!(bad.len()));
    assert_eq!(doc["itemCounts"]["total"], json!(lines.lines().count()));
}

#[test]
fn a_python_function_prices_csv_batches() {
    let run = Run::new("examples/python/csv-prices.asl.json")
        .arg("--functions")
        .arg("examples/python/functions.toml")
        .bucket("dmap-examples", &repo().join("examples/data"))
        .go();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out: Value = serde_json::from_str(&run.stdout).expect("output is JSON");
    let batches = out.as_array().expect("one result per batch");
    assert_eq!(batches.len(), 3, "25 rows in batches of 10");
    let expected: Vec<Value> = order_rows()
        .iter()
        .map(|f| {
            let total = f[2].parse::<f64>().unwrap_or(0.0) * f[3].parse::<f64>().unwrap_or(0.0);
            json!({"order_id": f[0], "total": total, "currency": "EUR"})
        })
        .collect();
    let got: Vec<Value> = batches.iter().flat_map(|b| b.as_array().cloned().unwrap_or_default()).collect();
    assert_eq!(got, expected);
}

/// As on Lambda, where the execution role's credentials and region are `AWS_*` variables, a
/// handler sees the worker's `AWS_*` variables (in a pod: a Secret's keys, or IRSA's), and no
/// other variable of the worker's environment.
#[test]
fn a_function_sees_the_aws_variables_and_nothing_else_of_the_environment() {
    let dir = tempfile::tempdir().expect("temp dir");
    let runtime = repo().join("examples/python/dmap_runtime.py");
    let functions = dir.path().join("functions.toml");
    std::fs::write(
        &functions,
        format!(
            "[functions.env]\ncommand = [\"python3\", {:?}, \"price:environment\"]\nworking_dir = {:?}\nenv = {{ LEVEL = \"3\" }}\n",
            runtime.to_string_lossy(),
            repo().join("examples/python").to_string_lossy()
        ),
    )
    .expect("functions file");
    let definition = dir.path().join("env.asl.json");
    let task = json!({"StartAt": "Env", "States": {"Env": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "env", "Payload": {}}, "OutputPath": "$.Payload", "End": true}}});
    std::fs::write(&definition, task.to_string()).expect("definition");
    let run = Run::new(&definition.to_string_lossy())
        .arg("--functions")
        .arg(&functions.to_string_lossy())
        .env("AWS_REGION", "eu-test-1")
        .env("AWS_ROLE_ARN", "arn:aws:iam::111122223333:role/handler")
        .env("DMAP_NOT_FOR_HANDLERS", "secret")
        .go();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let env: Value = serde_json::from_str(&run.stdout).expect("output is JSON");
    assert_eq!(env["AWS_REGION"], "eu-test-1");
    assert_eq!(env["AWS_ROLE_ARN"], "arn:aws:iam::111122223333:role/handler");
    assert_eq!(env["LEVEL"], "3");
    assert!(env.get("DMAP_NOT_FOR_HANDLERS").is_none() && env.get("HOME").is_none(), "{env}");
}

#[test]
fn orders_are_scored_by_a_local_http_service() {
    let out = std::process::Command::new(repo().join("examples/http/run"))
        .arg(env!("CARGO_BIN_EXE_dmap"))
        .output()
        .expect("examples/http/run runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let got: Value = serde_json::from_slice(&out.stdout).expect("output is JSON");
    let expected: Vec<Value> = order_rows()
        .iter()
        .map(|f| {
            let score = f[2].parse::<i64>().unwrap_or(0) * f[3].parse::<i64>().unwrap_or(0) % 97;
            json!({"order_id": f[0], "score": score})
        })
        .collect();
    assert_eq!(got, json!(expected));
}

/// The example orders, one vector of fields per CSV row (the header skipped).
fn order_rows() -> Vec<Vec<String>> {
    let csv = std::fs::read_to_string(repo().join("examples/data/orders/orders.csv")).expect("csv");
    csv.lines().skip(1).map(|l| l.split(',').map(str::to_string).collect()).collect()
}

/// `examples/aws/run-local`: every order lands in the DynamoDB table once, and the summary the
/// SNS topic delivered counts them (read back from moto by boto3 in the script).
#[test]
fn orders_are_written_to_dynamodb_and_summarised_on_sns() {
    let out = std::process::Command::new(repo().join("examples/aws/run-local"))
        .arg(env!("CARGO_BIN_EXE_dmap"))
        .output()
        .expect("examples/aws/run-local runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let orders = order_rows().len();
    assert!(stdout.contains(&format!("items in dmap-orders: {orders}\n")), "{stdout}");
    let summary = stdout.lines().find_map(|l| l.strip_prefix("summary published: ")).expect("a summary line");
    let summary: Value = serde_json::from_str(summary).expect("the summary is the JSON message");
    assert_eq!(summary, json!({"table": "dmap-orders", "orders": orders}));
    let printed = &stdout[..stdout.find("items in dmap-orders").unwrap_or(0)];
    let output: Value = serde_json::from_str(printed).expect("dmap's output");
    assert!(output["message_id"].as_str().is_some_and(|id| !id.is_empty()), "{output}");
}
