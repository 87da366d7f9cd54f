//! Rows ↔ records: the column lists each read selects, the functions that turn a row into a
//! record, and the time and enum conversions both directions share.
//!
//! It owns the mapping only; which rows are read, and in what order, is `reads`'s business.

use chrono::{DateTime, Utc};
use rusqlite::Row;
use rusqlite::types::{FromSqlError, Type};

use super::super::{
    AliasRecord, EventRecord, ExecutionRecord, ExecutionStatus, MachineType, MapRunCounts, MapRunRecord,
    StateMachineRecord, VersionRecord,
};

/// Microseconds since the epoch: what the store keeps of a time.
pub fn micros(time: DateTime<Utc>) -> i64 {
    time.timestamp_micros()
}

fn time(row: &Row<'_>, index: usize) -> rusqlite::Result<DateTime<Utc>> {
    let value: i64 = row.get(index)?;
    DateTime::from_timestamp_micros(value).ok_or_else(|| invalid(index, Type::Integer, "time out of range"))
}

fn optional_time(row: &Row<'_>, index: usize) -> rusqlite::Result<Option<DateTime<Utc>>> {
    match row.get::<_, Option<i64>>(index)? {
        None => Ok(None),
        Some(value) => DateTime::from_timestamp_micros(value)
            .map(Some)
            .ok_or_else(|| invalid(index, Type::Integer, "time out of range")),
    }
}

fn machine_type(row: &Row<'_>, index: usize) -> rusqlite::Result<MachineType> {
    let text: String = row.get(index)?;
    MachineType::parse(&text).ok_or_else(|| invalid(index, Type::Text, "unknown state machine type"))
}

fn invalid(index: usize, kind: Type, what: &'static str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(index, kind, Box::new(FromSqlError::Other(what.into())))
}

pub const STATE_MACHINE_COLUMNS: &str = "arn, name, type, definition, role_arn, description, \
    logging_configuration, tracing_configuration, encryption_configuration, creation_date, \
    revision_id, next_version";

pub fn state_machine(row: &Row<'_>) -> rusqlite::Result<StateMachineRecord> {
    Ok(StateMachineRecord {
        arn: row.get(0)?,
        name: row.get(1)?,
        machine_type: machine_type(row, 2)?,
        definition: row.get(3)?,
        role_arn: row.get(4)?,
        description: row.get(5)?,
        logging_configuration: row.get(6)?,
        tracing_configuration: row.get(7)?,
        encryption_configuration: row.get(8)?,
        creation_date: time(row, 9)?,
        revision_id: row.get(10)?,
        next_version: row.get(11)?,
    })
}

pub const VERSION_COLUMNS: &str = "arn, state_machine_arn, version, definition, role_arn, \
    description, logging_configuration, tracing_configuration, encryption_configuration, \
    revision_id, creation_date";

pub fn version(row: &Row<'_>) -> rusqlite::Result<VersionRecord> {
    Ok(VersionRecord {
        arn: row.get(0)?,
        state_machine_arn: row.get(1)?,
        version: row.get(2)?,
        definition: row.get(3)?,
        role_arn: row.get(4)?,
        description: row.get(5)?,
        logging_configuration: row.get(6)?,
        tracing_configuration: row.get(7)?,
        encryption_configuration: row.get(8)?,
        revision_id: row.get(9)?,
        creation_date: time(row, 10)?,
    })
}

pub const ALIAS_COLUMNS: &str = "arn, state_machine_arn, name, description, routing, creation_date, update_date";

/// An alias's routing, kept as a JSON array of `[version ARN, weight]` pairs.
pub fn routing_text(routing: &[(String, u32)]) -> String {
    // Strings and integers always serialize: the fallback is never taken.
    serde_json::to_string(routing).unwrap_or_else(|_| "[]".to_owned())
}

pub fn alias(row: &Row<'_>) -> rusqlite::Result<AliasRecord> {
    let routing: String = row.get(4)?;
    let routing = serde_json::from_str(&routing)
        .map_err(|error| rusqlite::Error::FromSqlConversionFailure(4, Type::Text, Box::new(error)))?;
    Ok(AliasRecord {
        arn: row.get(0)?,
        state_machine_arn: row.get(1)?,
        name: row.get(2)?,
        description: row.get(3)?,
        routing,
        creation_date: time(row, 5)?,
        update_date: optional_time(row, 6)?,
    })
}

pub const EXECUTION_COLUMNS: &str = "arn, name, state_machine_arn, version_arn, alias_arn, type, \
    status, input, output, error, cause, start_date, stop_date, definition_hash, role_arn, \
    trace_header, map_run_arn, item_count, redrive_count, redrive_date, mock_test_case";

pub fn execution(row: &Row<'_>) -> rusqlite::Result<ExecutionRecord> {
    let status: String = row.get(6)?;
    let status = ExecutionStatus::parse(&status).ok_or_else(|| invalid(6, Type::Text, "unknown execution status"))?;
    Ok(ExecutionRecord {
        arn: row.get(0)?,
        name: row.get(1)?,
        state_machine_arn: row.get(2)?,
        version_arn: row.get(3)?,
        alias_arn: row.get(4)?,
        machine_type: machine_type(row, 5)?,
        status,
        input: row.get(7)?,
        output: row.get(8)?,
        error: row.get(9)?,
        cause: row.get(10)?,
        start_date: time(row, 11)?,
        stop_date: optional_time(row, 12)?,
        definition_hash: row.get(13)?,
        role_arn: row.get(14)?,
        trace_header: row.get(15)?,
        map_run_arn: row.get(16)?,
        item_count: row.get(17)?,
        redrive_count: row.get(18)?,
        redrive_date: optional_time(row, 19)?,
        mock_test_case: row.get(20)?,
    })
}

/// The execution's ARN is not a column of `events`: the reader knows it.
pub const EVENT_COLUMNS: &str = "id, previous_event_id, timestamp, type, details, key";

pub fn event(execution_arn: &str, row: &Row<'_>) -> rusqlite::Result<EventRecord> {
    Ok(EventRecord {
        execution_arn: execution_arn.to_owned(),
        id: row.get(0)?,
        previous_event_id: row.get(1)?,
        timestamp: time(row, 2)?,
        event_type: row.get(3)?,
        details: row.get(4)?,
        key: row.get(5)?,
    })
}

pub const MAP_RUN_COLUMNS: &str = "arn, execution_arn, state_machine_arn, status, start_date, \
    stop_date, max_concurrency, tolerated_failure_percentage, tolerated_failure_count, \
    items_pending, items_running, items_succeeded, items_failed, items_timed_out, items_aborted, \
    items_total, items_results_written, executions_pending, executions_running, \
    executions_succeeded, executions_failed, executions_timed_out, executions_aborted, \
    executions_total, executions_results_written, redrive_count, redrive_date";

fn counts(row: &Row<'_>, first: usize) -> rusqlite::Result<MapRunCounts> {
    Ok(MapRunCounts {
        pending: row.get(first)?,
        running: row.get(first + 1)?,
        succeeded: row.get(first + 2)?,
        failed: row.get(first + 3)?,
        timed_out: row.get(first + 4)?,
        aborted: row.get(first + 5)?,
        total: row.get(first + 6)?,
        results_written: row.get(first + 7)?,
    })
}

pub fn map_run(row: &Row<'_>) -> rusqlite::Result<MapRunRecord> {
    Ok(MapRunRecord {
        arn: row.get(0)?,
        execution_arn: row.get(1)?,
        state_machine_arn: row.get(2)?,
        status: row.get(3)?,
        start_date: time(row, 4)?,
        stop_date: optional_time(row, 5)?,
        max_concurrency: row.get(6)?,
        tolerated_failure_percentage: row.get(7)?,
        tolerated_failure_count: row.get(8)?,
        item_counts: counts(row, 9)?,
        execution_counts: counts(row, 17)?,
        redrive_count: row.get(25)?,
        redrive_date: optional_time(row, 26)?,
    })
}
