//! `examples/python`: its functions file loads, its definition names only configured
//! functions, and the child state machine of its Map Run prices a batch of CSV rows through
//! the real Python runtime (the Map Run itself is the coordinator's, checked there).

mod lambda_support;

use lambda_support::*;
use serde_json::{Value, json};
use shared::asl::eval::Status;
use worker::integrations::config::FunctionsFile;
use worker::integrations::lambda::Lambda;

fn example() -> (Lambda, Value) {
    require_python();
    let dir = python_dir();
    let file = FunctionsFile::load(&dir.join("functions.toml")).unwrap_or_else(|e| panic!("{e}"));
    let text = std::fs::read_to_string(dir.join("csv-prices.asl.json")).unwrap();
    (Lambda::new(&file), serde_json::from_str(&text).unwrap())
}

/// The CSV's rows as the CSV ItemReader gives them: objects of strings.
fn rows() -> Vec<Value> {
    let csv = std::fs::read_to_string(python_dir().join("../data/orders/orders.csv")).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    lines
        .map(|l| Value::Object(header.iter().zip(l.split(',')).map(|(k, v)| (k.to_string(), json!(v))).collect()))
        .collect()
}

#[tokio::test]
async fn the_example_definition_calls_only_configured_functions() {
    let (lambda, definition) = example();
    let task = &definition["States"]["PriceOrders"]["ItemProcessor"]["States"]["Price"];
    let resource = &resource(task["Resource"].as_str().unwrap());
    assert_eq!(lambda.describe_missing(resource, &task["Parameters"]), None);
    assert_eq!(lambda.resolves(resource, &task["Parameters"]), Some("price"));
}

#[tokio::test]
async fn the_child_machine_prices_a_batch_of_csv_rows() {
    let (lambda, definition) = example();
    let mut child = definition["States"]["PriceOrders"]["ItemProcessor"].clone();
    child.as_object_mut().unwrap().remove("ProcessorConfig");
    let batch: Vec<Value> = rows().into_iter().take(10).collect();
    let outcome = run(lambda, child, json!({"Items": batch})).await;
    assert_eq!(outcome.status, Status::Succeeded, "{outcome:?}");
    let expected: Vec<Value> = batch
        .iter()
        .map(|row| {
            let price: f64 = row["price"].as_str().unwrap().parse().unwrap();
            let quantity: f64 = row["quantity"].as_str().unwrap().parse().unwrap();
            json!({"order_id": row["order_id"], "total": price * quantity, "currency": "EUR"})
        })
        .collect();
    assert_eq!(outcome.output.unwrap(), Value::Array(expected));
}
