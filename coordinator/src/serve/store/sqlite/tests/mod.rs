//! Tests of the SQLite store, each on a fresh temporary directory: `writes` (every write,
//! conflicts, order, durability across a reopen, closing), `pages` (every listing, its filters
//! and keys, history events), `concurrency` (group commit under concurrent submitters),
//! `crash` (`kill -9` of a writing process).

mod concurrency;
mod crash;
mod pages;
mod writes;

use chrono::{DateTime, Utc};
use tempfile::TempDir;

use super::super::{
    AliasRecord, EventRecord, ExecutionRecord, ExecutionStatus, MachineType, MapRunCounts, MapRunRecord,
    StateMachineRecord, Store, StoreError, VersionRecord, Write,
};
use super::Sqlite;

const PREFIX: &str = "arn:aws:states:us-east-1:123456789012";
const HASH: &str = "3f5a0c0e8f2b7b0b1d5c3f0e9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b";
const DEFINITION: &str = r#"{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}"#;

fn open() -> (TempDir, Sqlite) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = Sqlite::open(dir.path()).expect("the store opens");
    (dir, store)
}

fn commit(store: &Sqlite, unit: Vec<Write>) -> Result<(), StoreError> {
    futures::executor::block_on(store.commit(unit))
}

/// A time with microseconds, which the store must keep exactly.
fn at(micros: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(1_733_600_000_000_000 + micros).expect("a valid time")
}

fn machine_arn(name: &str) -> String {
    format!("{PREFIX}:stateMachine:{name}")
}

fn state_machine(name: &str) -> StateMachineRecord {
    StateMachineRecord {
        arn: machine_arn(name),
        name: name.to_owned(),
        machine_type: MachineType::Standard,
        definition: DEFINITION.to_owned(),
        role_arn: format!("arn:aws:iam::123456789012:role/{name}"),
        description: None,
        logging_configuration: Some(r#"{"level":"OFF","includeExecutionData":false}"#.to_owned()),
        tracing_configuration: None,
        encryption_configuration: None,
        creation_date: at(1),
        revision_id: "rev-1".to_owned(),
        next_version: 1,
    }
}

fn version(machine: &str, number: u64) -> VersionRecord {
    VersionRecord {
        arn: format!("{}:{number}", machine_arn(machine)),
        state_machine_arn: machine_arn(machine),
        version: number,
        definition: DEFINITION.to_owned(),
        role_arn: "arn:aws:iam::123456789012:role/r".to_owned(),
        description: Some(format!("version {number}")),
        logging_configuration: None,
        tracing_configuration: Some(r#"{"enabled":false}"#.to_owned()),
        encryption_configuration: None,
        revision_id: format!("rev-{number}"),
        creation_date: at(number as i64),
    }
}

fn alias(machine: &str, name: &str, routing: Vec<(String, u32)>) -> AliasRecord {
    AliasRecord {
        arn: format!("{}:{name}", machine_arn(machine)),
        state_machine_arn: machine_arn(machine),
        name: name.to_owned(),
        description: None,
        routing,
        creation_date: at(7),
        update_date: None,
    }
}

/// A running Standard execution of `machine` started at `at(start)`.
fn execution(machine: &str, name: &str, start: i64) -> ExecutionRecord {
    ExecutionRecord {
        arn: format!("{PREFIX}:execution:{machine}:{name}"),
        name: name.to_owned(),
        state_machine_arn: machine_arn(machine),
        version_arn: None,
        alias_arn: None,
        machine_type: MachineType::Standard,
        status: ExecutionStatus::Running,
        input: r#"{"n":1}"#.to_owned(),
        output: None,
        error: None,
        cause: None,
        start_date: at(start),
        stop_date: None,
        definition_hash: HASH.to_owned(),
        role_arn: "arn:aws:iam::123456789012:role/r".to_owned(),
        trace_header: None,
        map_run_arn: None,
        item_count: None,
        redrive_count: 0,
        redrive_date: None,
        mock_test_case: None,
    }
}

fn definition() -> Write {
    Write::PutDefinition { hash: HASH.to_owned(), text: DEFINITION.to_owned() }
}

fn event(execution_arn: &str, id: u64) -> EventRecord {
    EventRecord {
        execution_arn: execution_arn.to_owned(),
        id,
        previous_event_id: id.saturating_sub(1),
        timestamp: at(1_000 + id as i64),
        event_type: if id == 1 { "ExecutionStarted" } else { "PassStateEntered" }.to_owned(),
        details: Some(format!(r#"{{"name":"A","input":"{{}}","inputDetails":{{"truncated":false}},"n":{id}}}"#)),
        key: Some(format!("step-{id}")),
    }
}

fn map_run(execution: &ExecutionRecord, label: &str, start: i64) -> MapRunRecord {
    let machine = execution.state_machine_arn.rsplit(':').next().unwrap_or_default();
    MapRunRecord {
        arn: format!("{PREFIX}:mapRun:{machine}/{label}:{}", execution.name),
        execution_arn: execution.arn.clone(),
        state_machine_arn: format!("{}/{label}", execution.state_machine_arn),
        status: "RUNNING".to_owned(),
        start_date: at(start),
        stop_date: None,
        max_concurrency: 40,
        tolerated_failure_percentage: 12.5,
        tolerated_failure_count: 3,
        item_counts: MapRunCounts {
            pending: 1,
            running: 2,
            succeeded: 3,
            failed: 4,
            timed_out: 5,
            aborted: 6,
            total: 21,
            results_written: 7,
        },
        execution_counts: MapRunCounts {
            pending: 0,
            running: 2,
            succeeded: 3,
            failed: 4,
            timed_out: 5,
            aborted: 6,
            total: 20,
            results_written: 0,
        },
        redrive_count: 0,
        redrive_date: None,
    }
}
