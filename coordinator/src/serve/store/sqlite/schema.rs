//! The SQLite schema of the store, its version, and how every connection is opened (WAL,
//! `synchronous=FULL`, foreign keys).
//!
//! It owns the table and index definitions and nothing else: no reads, no writes of records.
//!
//! Times are integers: microseconds since the Unix epoch (exact round trips of what the engine
//! records; AWS reports milliseconds). Execution ARNs are long and repeated in every history
//! event, so events refer to their execution by the execution's integer row id.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension};

/// The schema this build writes. A database with a newer version is refused (a newer build
/// wrote it, and this one could lose what it does not know about).
pub const VERSION: i64 = 2;

/// Prepared statements each connection keeps: the writer uses about 25 (every write, the
/// transaction and savepoint statements), a reader one per listing and filter combination;
/// rusqlite's default of 16 would make the writer prepare some statements again every group.
const STATEMENT_CACHE: usize = 128;

/// How long a connection waits for a lock held by another one (the writer's checkpoint, or a
/// second process opening the same directory) before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Version 1. Indexes serve each listing in its order without a sort:
/// executions newest first by state machine, version, alias, Map Run and status; events by
/// (execution, id); Map Runs newest first by execution; versions newest first and aliases by
/// name per state machine; state machines by name.
const SCHEMA_V1: &str = "
CREATE TABLE definitions (
    hash TEXT PRIMARY KEY,
    text TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE state_machines (
    arn TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    type TEXT NOT NULL,
    definition TEXT NOT NULL,
    role_arn TEXT NOT NULL,
    description TEXT,
    logging_configuration TEXT,
    tracing_configuration TEXT,
    encryption_configuration TEXT,
    creation_date INTEGER NOT NULL,
    revision_id TEXT NOT NULL,
    next_version INTEGER NOT NULL
);
CREATE INDEX state_machines_by_name ON state_machines (name, arn);

CREATE TABLE versions (
    arn TEXT PRIMARY KEY,
    state_machine_arn TEXT NOT NULL REFERENCES state_machines (arn) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    definition TEXT NOT NULL,
    role_arn TEXT NOT NULL,
    description TEXT,
    logging_configuration TEXT,
    tracing_configuration TEXT,
    encryption_configuration TEXT,
    revision_id TEXT NOT NULL,
    creation_date INTEGER NOT NULL,
    UNIQUE (state_machine_arn, version)
);

CREATE TABLE aliases (
    arn TEXT PRIMARY KEY,
    state_machine_arn TEXT NOT NULL REFERENCES state_machines (arn) ON DELETE CASCADE,
    name TEXT NOT NULL,
    description TEXT,
    routing TEXT NOT NULL,
    creation_date INTEGER NOT NULL,
    update_date INTEGER,
    UNIQUE (state_machine_arn, name)
);

-- The row id keeps the order in which a key was first added: an upsert keeps it.
CREATE TABLE tags (
    resource_arn TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    UNIQUE (resource_arn, key)
);

CREATE TABLE executions (
    id INTEGER PRIMARY KEY,
    arn TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    state_machine_arn TEXT NOT NULL,
    version_arn TEXT,
    alias_arn TEXT,
    type TEXT NOT NULL,
    status TEXT NOT NULL,
    input TEXT NOT NULL,
    output TEXT,
    error TEXT,
    cause TEXT,
    start_date INTEGER NOT NULL,
    stop_date INTEGER,
    -- Recovery after a crash needs the definition an execution runs: it must be stored first.
    definition_hash TEXT NOT NULL REFERENCES definitions (hash),
    role_arn TEXT NOT NULL,
    trace_header TEXT,
    map_run_arn TEXT,
    item_count INTEGER,
    redrive_count INTEGER NOT NULL,
    redrive_date INTEGER,
    mock_test_case TEXT
);
CREATE INDEX executions_by_machine ON executions (state_machine_arn, start_date, arn);
CREATE INDEX executions_by_machine_status
    ON executions (state_machine_arn, status, start_date, arn);
CREATE INDEX executions_by_version ON executions (version_arn, start_date, arn)
    WHERE version_arn IS NOT NULL;
CREATE INDEX executions_by_alias ON executions (alias_arn, start_date, arn)
    WHERE alias_arn IS NOT NULL;
CREATE INDEX executions_by_map_run ON executions (map_run_arn, start_date, arn)
    WHERE map_run_arn IS NOT NULL;
CREATE INDEX executions_by_status ON executions (status, start_date, arn);

CREATE TABLE events (
    execution INTEGER NOT NULL REFERENCES executions (id),
    id INTEGER NOT NULL,
    previous_event_id INTEGER NOT NULL,
    timestamp INTEGER NOT NULL,
    type TEXT NOT NULL,
    details TEXT,
    key TEXT,
    PRIMARY KEY (execution, id)
) WITHOUT ROWID;

CREATE TABLE map_runs (
    arn TEXT PRIMARY KEY,
    execution_arn TEXT NOT NULL REFERENCES executions (arn),
    state_machine_arn TEXT NOT NULL,
    status TEXT NOT NULL,
    start_date INTEGER NOT NULL,
    stop_date INTEGER,
    max_concurrency INTEGER NOT NULL,
    tolerated_failure_percentage REAL NOT NULL,
    tolerated_failure_count INTEGER NOT NULL,
    items_pending INTEGER NOT NULL,
    items_running INTEGER NOT NULL,
    items_succeeded INTEGER NOT NULL,
    items_failed INTEGER NOT NULL,
    items_timed_out INTEGER NOT NULL,
    items_aborted INTEGER NOT NULL,
    items_total INTEGER NOT NULL,
    items_results_written INTEGER NOT NULL,
    executions_pending INTEGER NOT NULL,
    executions_running INTEGER NOT NULL,
    executions_succeeded INTEGER NOT NULL,
    executions_failed INTEGER NOT NULL,
    executions_timed_out INTEGER NOT NULL,
    executions_aborted INTEGER NOT NULL,
    executions_total INTEGER NOT NULL,
    executions_results_written INTEGER NOT NULL,
    redrive_count INTEGER NOT NULL
);
CREATE INDEX map_runs_by_execution ON map_runs (execution_arn, start_date, arn);

-- Outcomes of a Map Run's children run in this process (the wire form of `Outcome`s), by
-- Map Run id: what a restarted server replays instead of running them again.
CREATE TABLE map_run_outcomes (
    map_run_id TEXT NOT NULL,
    seq INTEGER PRIMARY KEY,
    body BLOB NOT NULL
);
CREATE INDEX map_run_outcomes_by_run ON map_run_outcomes (map_run_id, seq);
";

/// What each version after the first changes, in order: a database of an older version gets
/// the changes it lacks when it is opened.
const UPGRADES: &[(i64, &str)] = &[
    // Version 2: DescribeMapRun's `redriveDate` (RedriveExecution redrives Map Runs).
    (2, "ALTER TABLE map_runs ADD COLUMN redrive_date INTEGER;"),
];

/// The callbacks' tables (`crate::callbacks`): created in databases of version 1 that predate
/// them too, as they only add.
const CALLBACK_TABLES: &str = "
-- Server secrets by name: the task tokens' MAC key (`callbacks`), made once and kept, so a
-- restarted server makes and accepts the same tokens.
CREATE TABLE IF NOT EXISTS secrets (
    name TEXT PRIMARY KEY,
    value BLOB NOT NULL
);
-- Callbacks accepted (SendTaskSuccess/SendTaskFailure) and not yet taken by an execution that
-- ended: what a restarted server's wait finds. Dropped when the execution ends.
CREATE TABLE IF NOT EXISTS callback_outcomes (
    token TEXT PRIMARY KEY,
    execution_arn TEXT NOT NULL,
    outcome TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS callback_outcomes_by_execution ON callback_outcomes (execution_arn);
";

/// Why the schema cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    #[error(
        "the database has schema version {found}, newer than this build's {VERSION}: \
         it was written by a newer dmap; run that one, or start with another --data directory"
    )]
    Newer { found: i64 },
    #[error("journal_mode is {0}, not wal (the file system may not support WAL's shared memory)")]
    NotWal(String),
}

/// Opens the connection that writes, creating the database and its schema when new, and
/// checks the schema version.
pub fn open_writer(path: &Path) -> Result<Connection, SchemaError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(SchemaError::NotWal(mode));
    }
    // synchronous FULL: every commit syncs the log, so what a waiter was told is durable
    // survives a power loss too; group commit pays one sync for a whole group.
    // temp_store MEMORY: the savepoints' sub-journals (units retried one by one) stay in memory.
    // cache_size: 16 MiB of pages for the writer (a group touches every index it writes).
    // journal_size_limit: the log is truncated back to 64 MiB after a checkpoint, so that a
    // burst does not leave a log of its size on disk.
    conn.execute_batch(
        "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY; \
         PRAGMA cache_size = -16384; PRAGMA journal_size_limit = 67108864;",
    )?;
    migrate(&conn)?;
    Ok(conn)
}

/// Opens a connection that only reads. WAL lets it read the last committed state while the
/// writer writes.
pub fn open_reader(path: &Path) -> Result<Connection, rusqlite::Error> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(conn)
}

/// Creates the schema in a new database; refuses one newer than [`VERSION`].
fn migrate(conn: &Connection) -> Result<(), SchemaError> {
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let result = (|| {
        conn.execute_batch("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")?;
        let found: Option<i64> =
            conn.query_row("SELECT max(version) FROM schema_version", [], |row| row.get(0)).optional()?.flatten();
        match found {
            Some(found) if found > VERSION => Err(SchemaError::Newer { found }),
            found => {
                if found.is_none() {
                    conn.execute_batch(SCHEMA_V1)?;
                }
                let from = found.unwrap_or(1);
                for (version, sql) in UPGRADES {
                    if *version > from {
                        conn.execute_batch(sql)?;
                    }
                }
                if found != Some(VERSION) {
                    conn.execute("INSERT INTO schema_version (version) VALUES (?1)", [VERSION])?;
                }
                Ok(())
            }
        }?;
        // Tables added to version 1 later, created where missing (additive: older builds
        // ignore them).
        conn.execute_batch(super::activities::SCHEMA)?;
        conn.execute_batch(CALLBACK_TABLES)?;
        Ok(())
    })();
    match result {
        Ok(()) => {
            conn.execute_batch("COMMIT")?;
            Ok(())
        }
        Err(error) => {
            conn.execute_batch("ROLLBACK")?;
            Err(error)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SQLite's documentation: `PRAGMA synchronous` reads 2 for FULL; `foreign_keys` 1 when on.
    #[test]
    fn the_writer_logs_ahead_and_syncs_every_commit() {
        let dir = tempfile::tempdir().unwrap();
        let conn = open_writer(&dir.path().join("pragmas.sqlite3")).unwrap();
        let pragma = |name: &str| -> String {
            conn.query_row(&format!("PRAGMA {name}"), [], |row| row.get::<_, rusqlite::types::Value>(0))
                .map(|value| match value {
                    rusqlite::types::Value::Integer(n) => n.to_string(),
                    rusqlite::types::Value::Text(text) => text,
                    other => format!("{other:?}"),
                })
                .unwrap()
        };
        assert_eq!(pragma("journal_mode"), "wal");
        assert_eq!(pragma("synchronous"), "2");
        assert_eq!(pragma("foreign_keys"), "1");
        let version: i64 = conn.query_row("SELECT max(version) FROM schema_version", [], |row| row.get(0)).unwrap();
        assert_eq!(version, VERSION);
    }

    /// A database written by a build of version 1 gains what later versions add when it is
    /// opened, and keeps its rows.
    #[test]
    fn an_older_database_is_upgraded_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.sqlite3");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(SCHEMA_V1).unwrap();
            conn.execute_batch(
                "CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version VALUES (1); \
                 INSERT INTO definitions (hash, text) VALUES ('h', '{}');",
            )
            .unwrap();
        }
        let conn = open_writer(&path).unwrap();
        let version: i64 = conn.query_row("SELECT max(version) FROM schema_version", [], |row| row.get(0)).unwrap();
        assert_eq!(version, VERSION);
        let columns: Vec<String> = conn
            .prepare("SELECT name FROM pragma_table_info('map_runs')")
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(columns.iter().any(|c| c == "redrive_date"), "{columns:?}");
        let kept: i64 = conn.query_row("SELECT count(*) FROM definitions", [], |row| row.get(0)).unwrap();
        assert_eq!(kept, 1);
        drop(conn);
        // Opening it again changes nothing.
        open_writer(&path).unwrap();
    }
}
