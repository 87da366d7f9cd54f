//! Operating both binaries over NATS: `/healthz` and `/metrics` (`--listen`) with the
//! documented families and values that match the run, `--log-format json` writing one JSON
//! object per stderr line, and a clear, quick refusal when nothing listens at `--nats URL`.

mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::dmap::repo;
use support::nats::{
    Cluster, Proc, assert_exactly_once, fixture, free_addr, free_port, http_get, ids_in, metric_sum, samples, wait_for,
    worker_binary,
};

/// Every non-empty line of `text` is a JSON object with a level and a message.
fn assert_json_lines(text: &str, who: &str) {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(!lines.is_empty(), "{who} logged nothing");
    for line in lines {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{who}: not JSON ({e}): {line}"));
        assert!(v.is_object() && v["level"].is_string() && v.get("message").is_some(), "{who}: {line}");
    }
}

/// Each family is declared with its type and help text.
fn assert_families(metrics: &str, families: &[(&str, &str)]) {
    for (name, kind) in families {
        assert!(metrics.contains(&format!("# TYPE {name} {kind}\n")), "no {kind} {name}:\n{metrics}");
        assert!(metrics.contains(&format!("# HELP {name} ")), "no help for {name}:\n{metrics}");
    }
}

#[test]
fn healthz_metrics_and_json_logs_of_both_binaries() {
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut c = Cluster::new(&["--ack-wait-seconds", "2", "--log-format", "json"]);
    let (n, batch) = (300, 10);
    c.write_items(n, |i| json!({"id": i, "v": i}));
    c.start_worker();
    c.start_worker();
    // /healthz answers 200 once a worker is connected.
    c.wait_workers_ready(deadline);
    for w in &c.workers {
        let m = w.metrics().expect("worker /metrics");
        assert_families(
            &m,
            &[
                ("dmap_worker_batches_total", "counter"),
                ("dmap_worker_items_total", "counter"),
                ("dmap_worker_messages_total", "counter"),
                ("dmap_worker_in_flight_batches", "gauge"),
                ("dmap_worker_redeliveries_total", "counter"),
                ("dmap_nats_connected", "gauge"),
            ],
        );
        assert_eq!(metric_sum(&m, "dmap_nats_connected", &[]), 1.0);
        assert_eq!(samples(&m, "dmap_worker_batches_total").len(), 3, "one sample per outcome:\n{m}");
    }

    let listen = free_addr();
    let input = json!({"batch": batch, "concurrency": 5, "seconds": 1, "tolerated": 0});
    let mut run = c
        .dmap_run(&fixture("wait.asl.json"), "observed", &input)
        .arg("--listen")
        .arg(&listen)
        .arg("--log-format")
        .arg("json")
        .spawn("dmap");
    // The coordinator serves while `dmap run` runs: its items by status, labelled by Map Run.
    let (health, metrics) = wait_for(
        "the coordinator's metrics to show succeeded items",
        deadline,
        || {
            let health = http_get(&listen, "/healthz")?;
            let (status, metrics) = http_get(&listen, "/metrics")?;
            let succeeded = samples(&metrics, "dmap_map_run_items")
                .into_iter()
                .find(|(l, _)| {
                    l.get("status").is_some_and(|s| s == "succeeded")
                        && l.get("map_run").is_some_and(|r| r.ends_with(":observed"))
                })?
                .1;
            (status == 200 && succeeded > 0.0).then_some((health, metrics))
        },
        || c.diagnostic(&[&run]),
    );
    assert_eq!(health.0, 200, "coordinator /healthz: {}", health.1);
    assert_families(
        &metrics,
        &[
            ("dmap_map_run_items", "gauge"),
            ("dmap_map_run_child_executions", "gauge"),
            ("dmap_map_run_running", "gauge"),
            ("dmap_batch_messages_published_total", "counter"),
            ("dmap_outcomes_received_total", "counter"),
            ("dmap_nats_connected", "gauge"),
        ],
    );
    let items = |status: &str| metric_sum(&metrics, "dmap_map_run_items", &[("status", status)]);
    assert!(items("succeeded") <= n as f64 && items("failed") == 0.0, "{metrics}");
    assert_eq!(metric_sum(&metrics, "dmap_map_run_running", &[]), 1.0, "{metrics}");
    assert_eq!(metric_sum(&metrics, "dmap_nats_connected", &[]), 1.0, "{metrics}");
    assert!(metric_sum(&metrics, "dmap_batch_messages_published_total", &[]) >= 1.0, "{metrics}");
    assert!(metric_sum(&metrics, "dmap_outcomes_received_total", &[]) >= 1.0, "{metrics}");

    let status = run.wait_exit(deadline);
    assert!(status.success(), "dmap run: {status}\n{}", c.diagnostic(&[&run]));
    let r = c.results("observed");
    assert_exactly_once(&ids_in(&r.succeeded, "Output"), 0..n, "items");

    // After the run, the workers' counters add up to the run: no fault, so no child twice.
    let total = |name: &str, labels: &[(&str, &str)]| -> f64 {
        c.workers.iter().map(|w| metric_sum(&w.metrics().expect("worker /metrics"), name, labels)).sum()
    };
    assert_eq!(total("dmap_worker_batches_total", &[("outcome", "succeeded")]), (n / batch) as f64);
    assert_eq!(total("dmap_worker_items_total", &[("outcome", "succeeded")]), n as f64);
    assert_eq!(total("dmap_worker_batches_total", &[("outcome", "failed")]), 0.0);
    assert_eq!(total("dmap_worker_in_flight_batches", &[]), 0.0);
    assert!(total("dmap_worker_messages_total", &[]) >= 1.0);

    assert_json_lines(&run.stderr(), "dmap run --log-format json");
    for w in &c.workers {
        assert_json_lines(&w.proc.stderr(), "dmap-worker --log-format json");
    }
}

/// A URL where nothing listens.
fn dead_url() -> String {
    format!("nats://127.0.0.1:{}", free_port())
}

/// Runs `cmd` to its end and checks it failed, naming `url`.
fn refused(cmd: Command, url: &str, name: &str) {
    let logs = tempfile::tempdir().expect("logs");
    let mut p = Proc::spawn(name, cmd, logs.path());
    let status = p.wait_exit(Instant::now() + Duration::from_secs(30));
    assert!(!status.success(), "{name} succeeded without NATS\n{}", p.tail());
    let stderr = p.stderr();
    assert!(stderr.contains(url) && stderr.contains("cannot connect to NATS"), "{name}: {stderr}");
}

#[test]
fn dmap_run_refuses_a_nats_url_where_nothing_listens() {
    let url = dead_url();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dmap"));
    cmd.current_dir(repo())
        .args(["run", "--quiet", "--input-json", r#"{"batch": 1, "concurrency": 1, "seconds": 0, "tolerated": 0}"#])
        .arg(fixture("wait.asl.json"))
        .args(["--bucket", "data=/nonexistent", "--bucket", "results=/nonexistent", "--nats", &url]);
    refused(cmd, &url, "dmap");
}

#[test]
fn dmap_worker_refuses_a_nats_url_where_nothing_listens() {
    let url = dead_url();
    let mut cmd = Command::new(worker_binary());
    cmd.current_dir(repo()).args(["--nats", &url]);
    refused(cmd, &url, "dmap-worker");
}
