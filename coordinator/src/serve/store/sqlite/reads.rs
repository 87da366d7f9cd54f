//! The store's reads on a read connection: lookups by ARN, the listings with keyset
//! pagination, recovery's running executions, and history events.
//!
//! It must not write. Each read is one statement, hence one consistent snapshot of what was
//! committed when it started.

use rusqlite::{Connection, OptionalExtension, ToSql};

use super::super::{
    AliasRecord, EventRecord, ExecutionFilter, ExecutionRecord, MapRunRecord, Page, PageRequest, StateMachineRecord,
    VersionRecord,
};
use super::page::{Key, limit};
use super::rows::{
    self, ALIAS_COLUMNS, EVENT_COLUMNS, EXECUTION_COLUMNS, MAP_RUN_COLUMNS, STATE_MACHINE_COLUMNS, VERSION_COLUMNS,
};

/// A read's failure: SQLite's, or a page key that is not one this store handed out.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    #[error("{0}")]
    PageKey(String),
}

pub fn definition(conn: &Connection, hash: &str) -> rusqlite::Result<Option<String>> {
    conn.prepare_cached("SELECT text FROM definitions WHERE hash = ?1")?.query_row([hash], |row| row.get(0)).optional()
}

pub fn state_machine(conn: &Connection, arn: &str) -> rusqlite::Result<Option<StateMachineRecord>> {
    let sql = format!("SELECT {STATE_MACHINE_COLUMNS} FROM state_machines WHERE arn = ?1");
    conn.prepare_cached(&sql)?.query_row([arn], rows::state_machine).optional()
}

/// By name, then ARN; key `[name, arn]`.
pub fn list_state_machines(conn: &Connection, page: &PageRequest) -> Result<Page<StateMachineRecord>, ReadError> {
    let limit = limit(page);
    let rows = match Key::<(String, String)>::parse(page)? {
        None => {
            let sql = format!("SELECT {STATE_MACHINE_COLUMNS} FROM state_machines ORDER BY name, arn LIMIT ?1");
            collect(conn, &sql, &[&(limit + 1)], rows::state_machine)?
        }
        Some((name, arn)) => {
            let sql = format!(
                "SELECT {STATE_MACHINE_COLUMNS} FROM state_machines WHERE (name, arn) > (?1, ?2) \
                 ORDER BY name, arn LIMIT ?3"
            );
            collect(conn, &sql, &[&name, &arn, &(limit + 1)], rows::state_machine)?
        }
    };
    Ok(Key::page(rows, limit, |record| (record.name.clone(), record.arn.clone())))
}

pub fn version(conn: &Connection, arn: &str) -> rusqlite::Result<Option<VersionRecord>> {
    let sql = format!("SELECT {VERSION_COLUMNS} FROM versions WHERE arn = ?1");
    conn.prepare_cached(&sql)?.query_row([arn], rows::version).optional()
}

/// Newest (highest number) first; key `[version]`.
pub fn list_versions(
    conn: &Connection,
    state_machine_arn: &str,
    page: &PageRequest,
) -> Result<Page<VersionRecord>, ReadError> {
    let limit = limit(page);
    let before = Key::<(i64,)>::parse(page)?.map_or(i64::MAX, |(version,)| version);
    let sql = format!(
        "SELECT {VERSION_COLUMNS} FROM versions WHERE state_machine_arn = ?1 AND version < ?2 \
         ORDER BY version DESC LIMIT ?3"
    );
    let rows = collect(conn, &sql, &[&state_machine_arn, &before, &(limit + 1)], rows::version)?;
    Ok(Key::page(rows, limit, |record| (record.version as i64,)))
}

pub fn alias(conn: &Connection, arn: &str) -> rusqlite::Result<Option<AliasRecord>> {
    let sql = format!("SELECT {ALIAS_COLUMNS} FROM aliases WHERE arn = ?1");
    conn.prepare_cached(&sql)?.query_row([arn], rows::alias).optional()
}

/// By name (unique per state machine); key `[name]`.
pub fn list_aliases(
    conn: &Connection,
    state_machine_arn: &str,
    page: &PageRequest,
) -> Result<Page<AliasRecord>, ReadError> {
    let limit = limit(page);
    let after = Key::<(String,)>::parse(page)?.map_or(String::new(), |(name,)| name);
    let sql = format!(
        "SELECT {ALIAS_COLUMNS} FROM aliases WHERE state_machine_arn = ?1 AND name > ?2 \
         ORDER BY name LIMIT ?3"
    );
    let rows = collect(conn, &sql, &[&state_machine_arn, &after, &(limit + 1)], rows::alias)?;
    Ok(Key::page(rows, limit, |record| (record.name.clone(),)))
}

/// In the order the keys were first added.
pub fn tags(conn: &Connection, resource_arn: &str) -> rusqlite::Result<Vec<(String, String)>> {
    collect(conn, "SELECT key, value FROM tags WHERE resource_arn = ?1 ORDER BY rowid", &[&resource_arn], |row| {
        Ok((row.get(0)?, row.get(1)?))
    })
}

pub fn execution(conn: &Connection, arn: &str) -> rusqlite::Result<Option<ExecutionRecord>> {
    let sql = format!("SELECT {EXECUTION_COLUMNS} FROM executions WHERE arn = ?1");
    conn.prepare_cached(&sql)?.query_row([arn], rows::execution).optional()
}

/// Newest first (start date, then ARN, both descending); key `[start micros, arn]`. AWS
/// requires a state machine or a Map Run, and each reads an index; a filter with neither (nor
/// a status) reads the whole table and sorts it.
pub fn list_executions(
    conn: &Connection,
    filter: &ExecutionFilter,
    page: &PageRequest,
) -> Result<Page<ExecutionRecord>, ReadError> {
    let limit = limit(page);
    let key = Key::<(i64, String)>::parse(page)?;
    let (sql, values) = executions_query(filter, key, limit + 1);
    let values: Vec<&dyn ToSql> = values.iter().map(|value| value.as_ref()).collect();
    let rows = collect(conn, &sql, &values, rows::execution)?;
    Ok(Key::page(rows, limit, |record| (rows::micros(record.start_date), record.arn.clone())))
}

/// ListExecutions' statement for `filter`, continuing after `key`, and its values. The
/// conditions are equalities on an index's leading columns followed by the key's range on
/// `(start_date, arn)`, so each combination AWS allows reads an index in order, without a sort
/// (pinned by a test of the query plans).
fn executions_query(filter: &ExecutionFilter, key: Option<(i64, String)>, rows: i64) -> (String, Vec<Box<dyn ToSql>>) {
    let mut conditions = Vec::new();
    let mut values: Vec<Box<dyn ToSql>> = Vec::new();
    if let Some(arn) = &filter.state_machine_arn {
        conditions.push(match qualifier(arn) {
            None => "state_machine_arn = ?",
            Some(Qualifier::Version) => "version_arn = ?",
            Some(Qualifier::Alias) => "alias_arn = ?",
        });
        values.push(Box::new(arn.clone()));
    }
    if let Some(arn) = &filter.map_run_arn {
        conditions.push("map_run_arn = ?");
        values.push(Box::new(arn.clone()));
    }
    if let Some(status) = filter.status {
        conditions.push("status = ?");
        values.push(Box::new(status.as_str()));
    }
    match filter.redriven {
        Some(true) => conditions.push("redrive_count > 0"),
        Some(false) => conditions.push("redrive_count = 0"),
        None => {}
    }
    if let Some((start, arn)) = key {
        conditions.push("(start_date, arn) < (?, ?)");
        values.push(Box::new(start));
        values.push(Box::new(arn));
    }
    values.push(Box::new(rows));
    let filter = if conditions.is_empty() { String::new() } else { format!("WHERE {}", conditions.join(" AND ")) };
    let sql = format!("SELECT {EXECUTION_COLUMNS} FROM executions {filter} ORDER BY start_date DESC, arn DESC LIMIT ?");
    (sql, values)
}

enum Qualifier {
    Version,
    Alias,
}

/// A state machine ARN has 7 fields (`arn:aws:states:<region>:<account>:stateMachine:<name>`);
/// a version's or an alias's has an eighth: a number for a version, a name for an alias (AWS
/// requires an alias name to hold a character other than a digit).
fn qualifier(arn: &str) -> Option<Qualifier> {
    let fields: Vec<&str> = arn.split(':').collect();
    if fields.len() != 8 {
        return None;
    }
    let last = fields[7];
    Some(if !last.is_empty() && last.bytes().all(|byte| byte.is_ascii_digit()) {
        Qualifier::Version
    } else {
        Qualifier::Alias
    })
}

/// Oldest first: the order in which a restarted server resumes them.
pub fn running_executions(conn: &Connection) -> rusqlite::Result<Vec<ExecutionRecord>> {
    let sql = format!("SELECT {EXECUTION_COLUMNS} FROM executions WHERE status = 'RUNNING' ORDER BY start_date, arn");
    collect(conn, &sql, &[], rows::execution)
}

/// Ascending with ids above `from`, or descending with ids below it when `reverse`.
pub fn events(
    conn: &Connection,
    execution_arn: &str,
    from: Option<u64>,
    reverse: bool,
    limit: usize,
) -> rusqlite::Result<Vec<EventRecord>> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    // Ids are at most i64::MAX in SQLite: a cursor beyond it is past every event.
    let from = from.map(|id| i64::try_from(id).unwrap_or(i64::MAX));
    let (sql, cursor) = if reverse {
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE execution = \
             (SELECT id FROM executions WHERE arn = ?1) AND id < ?2 ORDER BY id DESC LIMIT ?3"
        );
        (sql, from.unwrap_or(i64::MAX))
    } else {
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE execution = \
             (SELECT id FROM executions WHERE arn = ?1) AND id > ?2 ORDER BY id LIMIT ?3"
        );
        (sql, from.unwrap_or(-1))
    };
    collect(conn, &sql, &[&execution_arn, &cursor, &limit], |row| rows::event(execution_arn, row))
}

pub fn map_run(conn: &Connection, arn: &str) -> rusqlite::Result<Option<MapRunRecord>> {
    let sql = format!("SELECT {MAP_RUN_COLUMNS} FROM map_runs WHERE arn = ?1");
    conn.prepare_cached(&sql)?.query_row([arn], rows::map_run).optional()
}

/// The outcome bodies recorded for a Map Run, in the order they were recorded.
pub fn outcomes(conn: &Connection, map_run_id: &str) -> rusqlite::Result<Vec<Vec<u8>>> {
    let mut stmt = conn.prepare_cached("SELECT body FROM map_run_outcomes WHERE map_run_id = ?1 ORDER BY seq")?;
    let rows = stmt.query_map([map_run_id], |row| row.get::<_, Vec<u8>>(0))?;
    rows.collect()
}

/// Map Runs with recorded outcomes whose execution ended before `micros` (a sweep: it scans the
/// Map Runs that have outcomes, which only unfinished or unsuccessful executions keep).
pub fn expired_outcomes(conn: &Connection, micros: i64) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT DISTINCT o.map_run_id FROM (SELECT DISTINCT map_run_id FROM map_run_outcomes) o \
         JOIN map_runs m ON m.arn LIKE '%:' || o.map_run_id \
         JOIN executions e ON e.arn = m.execution_arn \
         WHERE e.status <> 'RUNNING' AND e.stop_date IS NOT NULL AND e.stop_date < ?1",
    )?;
    let rows = stmt.query_map([micros], |row| row.get::<_, String>(0))?;
    rows.collect()
}

pub fn secret(conn: &Connection, name: &str) -> rusqlite::Result<Option<Vec<u8>>> {
    conn.prepare_cached("SELECT value FROM secrets WHERE name = ?1")?.query_row([name], |row| row.get(0)).optional()
}

pub fn callback_outcome(conn: &Connection, token: &str) -> rusqlite::Result<Option<String>> {
    conn.prepare_cached("SELECT outcome FROM callback_outcomes WHERE token = ?1")?
        .query_row([token], |row| row.get(0))
        .optional()
}

/// Newest first; key `[start micros, arn]`.
pub fn list_map_runs(
    conn: &Connection,
    execution_arn: &str,
    page: &PageRequest,
) -> Result<Page<MapRunRecord>, ReadError> {
    let limit = limit(page);
    let (start, arn) = Key::<(i64, String)>::parse(page)?.unwrap_or((i64::MAX, String::new()));
    // Without a key, every row is before (i64::MAX, ""): no start date is i64::MAX.
    let sql = format!(
        "SELECT {MAP_RUN_COLUMNS} FROM map_runs WHERE execution_arn = ?1 \
         AND (start_date, arn) < (?2, ?3) ORDER BY start_date DESC, arn DESC LIMIT ?4"
    );
    let rows = collect(conn, &sql, &[&execution_arn, &start, &arn, &(limit + 1)], rows::map_run)?;
    Ok(Key::page(rows, limit, |record| (rows::micros(record.start_date), record.arn.clone())))
}

fn collect<T>(
    conn: &Connection,
    sql: &str,
    values: &[&dyn ToSql],
    map: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<Vec<T>> {
    let mut statement = conn.prepare_cached(sql)?;
    let rows = statement.query_map(values, map)?;
    rows.collect()
}

#[cfg(test)]
mod tests {
    use super::super::schema;
    use super::*;
    use crate::serve::store::ExecutionStatus;

    /// Every filter combination AWS accepts (a state machine, a version, an alias or a Map
    /// Run; with or without a status, a redriven filter and a key) reads an index in order.
    #[test]
    fn every_execution_listing_reads_an_index_without_sorting() {
        let dir = tempfile::tempdir().unwrap();
        let conn = schema::open_writer(&dir.path().join("plans.sqlite3")).unwrap();
        let machine = "arn:aws:states:us-east-1:123456789012:stateMachine:m";
        let scopes = [
            (Some(machine.to_owned()), None),
            (Some(format!("{machine}:3")), None),
            (Some(format!("{machine}:live")), None),
            (None, Some("arn:aws:states:us-east-1:123456789012:mapRun:m/Map:1".to_owned())),
        ];
        for (state_machine_arn, map_run_arn) in scopes {
            for status in [None, Some(ExecutionStatus::Failed)] {
                for redriven in [None, Some(true)] {
                    for key in [None, Some((7, "arn".to_owned()))] {
                        let filter = ExecutionFilter {
                            state_machine_arn: state_machine_arn.clone(),
                            map_run_arn: map_run_arn.clone(),
                            status,
                            redriven,
                        };
                        let (sql, values) = executions_query(&filter, key.clone(), 10);
                        let values: Vec<&dyn ToSql> = values.iter().map(|value| value.as_ref()).collect();
                        let plan: Vec<String> = conn
                            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
                            .unwrap()
                            .query_map(values.as_slice(), |row| row.get(3))
                            .unwrap()
                            .collect::<Result<_, _>>()
                            .unwrap();
                        let ordered = plan.len() == 1 && plan[0].starts_with("SEARCH executions USING INDEX");
                        assert!(ordered, "{filter:?} key {key:?}: {plan:?}");
                    }
                }
            }
        }
    }
}
