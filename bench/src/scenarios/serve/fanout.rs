//! `bench serve --only fanout`: a fan-out of N (10,000) nested `.sync:2` executions from one
//! Map, against the same children run in process.
//!
//! - **nested**: a Distributed Map over `$.items` (`{"n": i}` for i in 0..N, in the execution's
//!   input) whose ItemProcessor is one Task, `arn:aws:states:::states:startExecution.sync:2` of
//!   the [`CHILD`] machine: each item is a Map Run child execution that starts a child execution
//!   of its own on the same server and waits for it, and keeps its output (`.sync:2` gives it as
//!   JSON: `$.Output`, <https://docs.aws.amazon.com/step-functions/latest/dg/connect-stepfunctions.html>);
//! - **in process**: the same Distributed Map whose ItemProcessor is [`CHILD`]'s states
//!   themselves: the same work without the nested executions.
//!
//! A Distributed Map because an inline Map of 10,000 iterations would pass AWS's 25,000-event
//! history quota (each iteration writes at least 7 events); both Map Runs are STANDARD, as a
//! `.sync` Task requires (Express workflows do not support `.sync`). Time to finish = the parent's
//! `stopDate − startDate` (DescribeExecution, the server's clock); the bench's clock (StartExecution
//! sent → DescribeExecution seen SUCCEEDED, polled every 50 ms) is reported beside it.
//!
//! Each run checks its work: the parent SUCCEEDED with `[{"v": 1}, …, {"v": N}]` (each item's
//! `n + 1`, in item order, as a Map outputs its results), and for the nested run ListExecutions of
//! the child machine lists exactly N executions, all SUCCEEDED (no child started twice), a sample
//! of which is checked by DescribeExecution.

use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use bytes::Bytes;
use serde_json::{Value, json};

use super::client::Conn;
use super::standard;

/// The child machine: one Pass state. `States.MathAdd` gives `v = n + 1`.
pub const CHILD: &str = r#"{
  "Comment": "bench serve: the nested child",
  "StartAt": "Work",
  "States": {"Work": {"Type": "Pass", "Parameters": {"v.$": "States.MathAdd($.n, 1)"}, "End": true}}
}"#;

/// The parent whose items each start a child through `startExecution.sync:2`.
pub fn nested_parent(child_arn: &str, concurrency: u64) -> String {
    let processor = json!({
        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
        "StartAt": "Call",
        "States": {"Call": {
            "Type": "Task",
            "Resource": "arn:aws:states:::states:startExecution.sync:2",
            "Parameters": {
                "StateMachineArn": child_arn,
                // AWS's convention for linking a child to the execution that started it
                // (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-nested-workflows.html).
                "Input": {"n.$": "$.n", "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$": "$$.Execution.Id"}
            },
            "ResultSelector": {"v.$": "$.Output.v"},
            "End": true
        }}
    });
    parent(processor, concurrency)
}

/// The parent whose items run the child's states directly.
pub fn in_process_parent(concurrency: u64) -> String {
    let child: Value = serde_json::from_str(CHILD).expect("CHILD is JSON");
    let processor = json!({
        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
        "StartAt": child["StartAt"],
        "States": child["States"]
    });
    parent(processor, concurrency)
}

fn parent(processor: Value, concurrency: u64) -> String {
    json!({
        "Comment": "bench serve: fan-out",
        "StartAt": "Fan",
        "States": {"Fan": {
            "Type": "Map",
            "ItemsPath": "$.items",
            "ItemSelector": {"n.$": "$$.Map.Item.Value"},
            "MaxConcurrency": concurrency,
            "ItemProcessor": processor,
            "End": true
        }}
    })
    .to_string()
}

/// The parent's input: `{"items": [0, 1, …, n-1]}`.
pub fn input(n: u64) -> String {
    json!({"items": (0..n).collect::<Vec<u64>>()}).to_string()
}

/// What the parent must output.
pub fn expected_output(n: u64) -> Value {
    Value::Array((0..n).map(|i| json!({"v": i + 1})).collect())
}

/// One fan-out, timed.
#[derive(Debug, Clone, Copy)]
pub struct Finished {
    /// stopDate − startDate (s), the server's clock.
    pub server_seconds: f64,
    /// StartExecution sent → SUCCEEDED seen (s), the bench's clock.
    pub bench_seconds: f64,
}

/// Runs the parent `arn` once as execution `name` over `n` items and checks its output.
pub async fn run_parent(conn: &mut Conn, arn: &str, name: &str, n: u64, timeout: Duration) -> anyhow::Result<Finished> {
    let sent = Instant::now();
    let body = json!({"stateMachineArn": arn, "name": name, "input": input(n)});
    let started = conn.call("StartExecution", Bytes::from(body.to_string())).await?;
    let exec = started["executionArn"].as_str().with_context(|| format!("StartExecution answered {started}"))?;
    let until = sent + timeout;
    let d = loop {
        let d = conn.call("DescribeExecution", Bytes::from(json!({"executionArn": exec}).to_string())).await?;
        if d["status"] != "RUNNING" {
            break d;
        }
        ensure!(Instant::now() < until, "{exec} still RUNNING after {timeout:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let bench_seconds = sent.elapsed().as_secs_f64();
    ensure!(d["status"] == "SUCCEEDED", "{exec}: {}", without_output(&d));
    let output: Value =
        serde_json::from_str(d["output"].as_str().context("no output")?).context("the output is not JSON")?;
    ensure!(
        output == expected_output(n),
        "{exec}: the output is not [{{\"v\": 1}}, …, {{\"v\": {n}}}]: {} items, first {}",
        output.as_array().map_or(0, Vec::len),
        output.get(0).unwrap_or(&Value::Null)
    );
    let server_seconds = d["stopDate"].as_f64().context("stopDate")? - d["startDate"].as_f64().context("startDate")?;
    Ok(Finished { server_seconds, bench_seconds })
}

/// The nested run's children: exactly `n`, all SUCCEEDED; `sample` of them (spread evenly)
/// with an input naming one `n` and the output `{"v": n + 1}`.
pub async fn check_children(conn: &mut Conn, child_arn: &str, n: u64, sample: u64) -> anyhow::Result<()> {
    let every = (n / sample.max(1)).max(1);
    let tally = standard::tally(conn, child_arn, every).await?;
    ensure!(
        tally.total() == n && tally.succeeded() == n,
        "{n} items, each starting one child; ListExecutions of the child machine lists {:?}",
        tally.by_status
    );
    for (arn, _) in &tally.sample {
        let d = conn.call("DescribeExecution", Bytes::from(json!({"executionArn": arn}).to_string())).await?;
        let parse = |k: &str| d[k].as_str().and_then(|t| serde_json::from_str::<Value>(t).ok()).unwrap_or_default();
        let (input, output) = (parse("input"), parse("output"));
        let i = input["n"].as_u64().with_context(|| format!("{arn}: input {input}"))?;
        ensure!(output == json!({"v": i + 1}), "{arn}: input {input}, output {output}");
        ensure!(
            input["AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID"].is_string(),
            "{arn}: the input does not name the execution that started it: {input}"
        );
    }
    Ok(())
}

fn without_output(d: &Value) -> Value {
    let mut d = d.clone();
    if let Some(o) = d.as_object_mut() {
        o.remove("input");
        o.remove("output");
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_parents_are_distributed_maps_over_the_same_items() {
        let nested: Value = serde_json::from_str(&nested_parent("arn:child", 100)).unwrap();
        let local: Value = serde_json::from_str(&in_process_parent(100)).unwrap();
        for p in [&nested, &local] {
            assert_eq!(p["States"]["Fan"]["ItemProcessor"]["ProcessorConfig"]["Mode"], "DISTRIBUTED");
            assert_eq!(p["States"]["Fan"]["MaxConcurrency"], 100);
        }
        let call = &nested["States"]["Fan"]["ItemProcessor"]["States"]["Call"];
        assert_eq!(call["Resource"], "arn:aws:states:::states:startExecution.sync:2");
        let child: Value = serde_json::from_str(CHILD).unwrap();
        assert_eq!(local["States"]["Fan"]["ItemProcessor"]["States"], child["States"]);
    }

    #[test]
    fn the_input_fits_aws_256_kib_and_the_output_follows_the_items() {
        // 10,000 items: both the input and the output stay under AWS's 256 KiB payload quota.
        assert!(input(10_000).len() < 256 * 1024);
        assert!(expected_output(10_000).to_string().len() < 256 * 1024);
        assert_eq!(expected_output(3), json!([{"v": 1}, {"v": 2}, {"v": 3}]));
    }
}
