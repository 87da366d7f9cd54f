//! One [`Write`] applied on the writer's connection, inside the savepoint of its unit.
//!
//! It owns the SQL of every write and the one rule that turns a uniqueness violation into a
//! [`Conflict`](ApplyError::Conflict). It must not begin, commit or roll back anything: the
//! writer owns transactions and savepoints.
//!
//! Updates and deletes of rows that do not exist change nothing: the API checks existence
//! first, and an update that races a delete is then the same as the update ordered before it.

use rusqlite::{Connection, ffi, params};

use super::super::{AliasRecord, EventRecord, ExecutionRecord, MapRunRecord, StateMachineRecord, VersionRecord, Write};
use super::rows::{micros, routing_text};

/// Why a write failed. Any failure rolls back its whole unit, and only that unit.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// A row with this key exists (the key is named).
    #[error("{0} already exists")]
    Conflict(String),
    /// History appended to an execution the store does not have.
    #[error("events appended to {0}, which is not in the store")]
    NoExecution(String),
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
}

/// Applies one write.
pub fn apply(conn: &Connection, write: &Write) -> Result<(), ApplyError> {
    match write {
        Write::PutDefinition { hash, text } => {
            conn.prepare_cached("INSERT OR IGNORE INTO definitions (hash, text) VALUES (?1, ?2)")?
                .execute(params![hash, text])?;
        }
        Write::CreateStateMachine(record) => {
            create(&record.arn, || put_state_machine(conn, record))?;
        }
        Write::UpdateStateMachine(record) => {
            update_state_machine(conn, record)?;
        }
        Write::DeleteStateMachine { arn } => {
            // Versions and aliases go with it (ON DELETE CASCADE); executions stay.
            conn.prepare_cached("DELETE FROM state_machines WHERE arn = ?1")?.execute([arn])?;
            conn.prepare_cached("DELETE FROM tags WHERE resource_arn = ?1")?.execute([arn])?;
        }
        Write::CreateVersion(record) => create(&record.arn, || put_version(conn, record))?,
        Write::DeleteVersion { arn } => {
            conn.prepare_cached("DELETE FROM versions WHERE arn = ?1")?.execute([arn])?;
        }
        Write::CreateAlias(record) => create(&record.arn, || put_alias(conn, record))?,
        Write::UpdateAlias(record) => {
            conn.prepare_cached("UPDATE aliases SET description = ?2, routing = ?3, update_date = ?4 WHERE arn = ?1")?
                .execute(params![
                    record.arn,
                    record.description,
                    routing_text(&record.routing),
                    record.update_date.map(micros),
                ])?;
        }
        Write::DeleteAlias { arn } => {
            conn.prepare_cached("DELETE FROM aliases WHERE arn = ?1")?.execute([arn])?;
        }
        Write::Tag { resource_arn, tags } => {
            // An upsert keeps the row id, hence the order in which the key was first added.
            let mut statement = conn.prepare_cached(
                "INSERT INTO tags (resource_arn, key, value) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (resource_arn, key) DO UPDATE SET value = excluded.value",
            )?;
            for (key, value) in tags {
                statement.execute(params![resource_arn, key, value])?;
            }
        }
        Write::Untag { resource_arn, keys } => {
            let mut statement = conn.prepare_cached("DELETE FROM tags WHERE resource_arn = ?1 AND key = ?2")?;
            for key in keys {
                statement.execute(params![resource_arn, key])?;
            }
        }
        Write::CreateExecution(record) => create(&record.arn, || put_execution(conn, record))?,
        Write::UpdateExecution { arn, status, output, error, cause, stop_date } => {
            conn.prepare_cached(
                "UPDATE executions SET status = ?2, output = ?3, error = ?4, cause = ?5, stop_date = ?6 \
                 WHERE arn = ?1",
            )?
            .execute(params![arn, status.as_str(), output, error, cause, stop_date.map(micros)])?;
        }
        Write::AppendEvents(events) => append_events(conn, events)?,
        Write::PutMapRun(record) => {
            put_map_run(conn, record)?;
        }
        Write::AppendOutcomes { map_run_id, body } => {
            conn.prepare_cached("INSERT INTO map_run_outcomes (map_run_id, body) VALUES (?1, ?2)")?
                .execute(rusqlite::params![map_run_id, body])?;
        }
        Write::DropOutcomes { map_run_id } => {
            conn.prepare_cached("DELETE FROM map_run_outcomes WHERE map_run_id = ?1")?.execute([map_run_id])?;
        }
        Write::CreateActivity(record) => create(&record.arn, || super::activities::insert(conn, record))?,
        Write::DeleteActivity { arn } => super::activities::delete(conn, arn)?,
        Write::Redrive { arn, date } => {
            conn.prepare_cached(
                "UPDATE executions SET status = 'RUNNING', output = NULL, error = NULL, cause = NULL, \
                 stop_date = NULL, redrive_count = redrive_count + 1, redrive_date = ?2 WHERE arn = ?1",
            )?
            .execute(params![arn, micros(*date)])?;
        }
        Write::RedriveChild(record) => {
            // A child that succeeded is never run again (its outcome is replayed): only a
            // child that did not succeed is redriven, and one that never started is created.
            let updated = conn
                .prepare_cached(
                    "UPDATE executions SET status = ?2, output = ?3, error = ?4, cause = ?5, stop_date = ?6, \
                     redrive_count = redrive_count + 1, redrive_date = ?7 WHERE arn = ?1 AND status <> 'SUCCEEDED'",
                )?
                .execute(params![
                    record.arn,
                    record.status.as_str(),
                    record.output,
                    record.error,
                    record.cause,
                    record.stop_date.map(micros),
                    record.redrive_date.map(micros),
                ])?;
            if updated == 0 {
                let exists = conn.prepare_cached("SELECT 1 FROM executions WHERE arn = ?1")?.exists([&record.arn])?;
                if !exists {
                    // It never ran before: not redriven.
                    put_execution(conn, &ExecutionRecord { redrive_date: None, ..record.clone() })?;
                }
            }
        }
        Write::PutSecret { name, value } => {
            conn.prepare_cached("INSERT OR IGNORE INTO secrets (name, value) VALUES (?1, ?2)")?
                .execute(rusqlite::params![name, value])?;
        }
        Write::PutCallbackOutcome { token, execution_arn, outcome } => {
            conn.prepare_cached(
                "INSERT OR IGNORE INTO callback_outcomes (token, execution_arn, outcome) VALUES (?1, ?2, ?3)",
            )?
            .execute(rusqlite::params![token, execution_arn, outcome])?;
        }
        Write::DropCallbackOutcomes { execution_arn } => {
            conn.prepare_cached("DELETE FROM callback_outcomes WHERE execution_arn = ?1")?.execute([execution_arn])?;
        }
    }
    Ok(())
}

/// Runs an insert, naming `key` when it breaks a uniqueness rule.
fn create(key: &str, insert: impl FnOnce() -> rusqlite::Result<usize>) -> Result<(), ApplyError> {
    match insert() {
        Ok(_) => Ok(()),
        Err(error) if is_unique_violation(&error) => Err(ApplyError::Conflict(key.to_owned())),
        Err(error) => Err(error.into()),
    }
}

/// A primary key or UNIQUE constraint; foreign keys and NOT NULL are other failures (a caller's
/// mistake, not something that exists already).
fn is_unique_violation(error: &rusqlite::Error) -> bool {
    matches!(
        error,
        rusqlite::Error::SqliteFailure(failure, _)
            if failure.extended_code == ffi::SQLITE_CONSTRAINT_PRIMARYKEY
                || failure.extended_code == ffi::SQLITE_CONSTRAINT_UNIQUE
    )
}

fn put_state_machine(conn: &Connection, record: &StateMachineRecord) -> rusqlite::Result<usize> {
    conn.prepare_cached(
        "INSERT INTO state_machines (arn, name, type, definition, role_arn, description, \
         logging_configuration, tracing_configuration, encryption_configuration, creation_date, \
         revision_id, next_version) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?
    .execute(params![
        record.arn,
        record.name,
        record.machine_type.as_str(),
        record.definition,
        record.role_arn,
        record.description,
        record.logging_configuration,
        record.tracing_configuration,
        record.encryption_configuration,
        micros(record.creation_date),
        record.revision_id,
        record.next_version,
    ])
}

fn update_state_machine(conn: &Connection, record: &StateMachineRecord) -> rusqlite::Result<usize> {
    conn.prepare_cached(
        "UPDATE state_machines SET name = ?2, type = ?3, definition = ?4, role_arn = ?5, \
         description = ?6, logging_configuration = ?7, tracing_configuration = ?8, \
         encryption_configuration = ?9, creation_date = ?10, revision_id = ?11, next_version = ?12 \
         WHERE arn = ?1",
    )?
    .execute(params![
        record.arn,
        record.name,
        record.machine_type.as_str(),
        record.definition,
        record.role_arn,
        record.description,
        record.logging_configuration,
        record.tracing_configuration,
        record.encryption_configuration,
        micros(record.creation_date),
        record.revision_id,
        record.next_version,
    ])
}

fn put_version(conn: &Connection, record: &VersionRecord) -> rusqlite::Result<usize> {
    conn.prepare_cached(
        "INSERT INTO versions (arn, state_machine_arn, version, definition, role_arn, description, \
         logging_configuration, tracing_configuration, encryption_configuration, revision_id, \
         creation_date) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?
    .execute(params![
        record.arn,
        record.state_machine_arn,
        record.version,
        record.definition,
        record.role_arn,
        record.description,
        record.logging_configuration,
        record.tracing_configuration,
        record.encryption_configuration,
        record.revision_id,
        micros(record.creation_date),
    ])
}

fn put_alias(conn: &Connection, record: &AliasRecord) -> rusqlite::Result<usize> {
    conn.prepare_cached(
        "INSERT INTO aliases (arn, state_machine_arn, name, description, routing, creation_date, \
         update_date) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        record.arn,
        record.state_machine_arn,
        record.name,
        record.description,
        routing_text(&record.routing),
        micros(record.creation_date),
        record.update_date.map(micros),
    ])
}

fn put_execution(conn: &Connection, record: &ExecutionRecord) -> rusqlite::Result<usize> {
    conn.prepare_cached(
        "INSERT INTO executions (arn, name, state_machine_arn, version_arn, alias_arn, type, status, \
         input, output, error, cause, start_date, stop_date, definition_hash, role_arn, trace_header, \
         map_run_arn, item_count, redrive_count, redrive_date, mock_test_case) VALUES (?1, ?2, ?3, ?4, \
         ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21)",
    )?
    .execute(params![
        record.arn,
        record.name,
        record.state_machine_arn,
        record.version_arn,
        record.alias_arn,
        record.machine_type.as_str(),
        record.status.as_str(),
        record.input,
        record.output,
        record.error,
        record.cause,
        micros(record.start_date),
        record.stop_date.map(micros),
        record.definition_hash,
        record.role_arn,
        record.trace_header,
        record.map_run_arn,
        record.item_count,
        record.redrive_count,
        record.redrive_date.map(micros),
        record.mock_test_case,
    ])
}

fn append_events(conn: &Connection, events: &[EventRecord]) -> Result<(), ApplyError> {
    let mut find = conn.prepare_cached("SELECT id FROM executions WHERE arn = ?1")?;
    let mut insert = conn.prepare_cached(
        "INSERT INTO events (execution, id, previous_event_id, timestamp, type, details, key) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    // A unit's events are almost always one execution's: look its row id up once.
    let mut current: Option<(&str, i64)> = None;
    for event in events {
        let execution = match current {
            Some((arn, id)) if arn == event.execution_arn => id,
            _ => {
                let id = find.query_row([&event.execution_arn], |row| row.get::<_, i64>(0)).map_err(
                    |error| match error {
                        rusqlite::Error::QueryReturnedNoRows => ApplyError::NoExecution(event.execution_arn.clone()),
                        error => error.into(),
                    },
                )?;
                current = Some((&event.execution_arn, id));
                id
            }
        };
        let inserted = insert.execute(params![
            execution,
            event.id,
            event.previous_event_id,
            micros(event.timestamp),
            event.event_type,
            event.details,
            event.key,
        ]);
        if let Err(error) = inserted {
            return Err(if is_unique_violation(&error) {
                ApplyError::Conflict(format!("event {} of {}", event.id, event.execution_arn))
            } else {
                error.into()
            });
        }
    }
    Ok(())
}

fn put_map_run(conn: &Connection, record: &MapRunRecord) -> rusqlite::Result<usize> {
    let items = &record.item_counts;
    let executions = &record.execution_counts;
    conn.prepare_cached(
        "INSERT OR REPLACE INTO map_runs (arn, execution_arn, state_machine_arn, status, start_date, \
         stop_date, max_concurrency, tolerated_failure_percentage, tolerated_failure_count, \
         items_pending, items_running, items_succeeded, items_failed, items_timed_out, \
         items_aborted, items_total, items_results_written, executions_pending, executions_running, \
         executions_succeeded, executions_failed, executions_timed_out, executions_aborted, \
         executions_total, executions_results_written, redrive_count, redrive_date) VALUES (?1, ?2, ?3, \
         ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, \
         ?24, ?25, ?26, ?27)",
    )?
    .execute(params![
        record.arn,
        record.execution_arn,
        record.state_machine_arn,
        record.status,
        micros(record.start_date),
        record.stop_date.map(micros),
        record.max_concurrency,
        record.tolerated_failure_percentage,
        record.tolerated_failure_count,
        items.pending,
        items.running,
        items.succeeded,
        items.failed,
        items.timed_out,
        items.aborted,
        items.total,
        items.results_written,
        executions.pending,
        executions.running,
        executions.succeeded,
        executions.failed,
        executions.timed_out,
        executions.aborted,
        executions.total,
        executions.results_written,
        record.redrive_count,
        record.redrive_date.map(micros),
    ])
}
