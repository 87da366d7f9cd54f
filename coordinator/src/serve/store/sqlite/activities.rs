//! Activities in SQLite: their table, its writes and its reads, in one file.
//!
//! The table joined version 1 of the schema after it shipped, so it is created where missing
//! ([`SCHEMA`] runs at every open); a database without it is simply one with no activities.
//! It must not know about the queue of activity tasks: that lives in memory
//! (`serve::activities`), and the journal of each execution is what makes it durable.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::super::{ActivityRecord, Page, PageRequest};
use super::page::{Key, limit};
use super::reads::ReadError;
use super::rows::micros;

/// The table, and its index by name (ListActivities' order).
pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS activities (
    arn TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    creation_date INTEGER NOT NULL,
    encryption_configuration TEXT
);
CREATE INDEX IF NOT EXISTS activities_by_name ON activities (name, arn);
";

const COLUMNS: &str = "arn, name, creation_date, encryption_configuration";

pub fn insert(conn: &Connection, record: &ActivityRecord) -> rusqlite::Result<usize> {
    conn.prepare_cached(
        "INSERT INTO activities (arn, name, creation_date, encryption_configuration) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![record.arn, record.name, micros(record.creation_date), record.encryption_configuration])
}

/// Deletes the activity and its tags; nothing when it does not exist.
pub fn delete(conn: &Connection, arn: &str) -> rusqlite::Result<()> {
    conn.prepare_cached("DELETE FROM activities WHERE arn = ?1")?.execute([arn])?;
    conn.prepare_cached("DELETE FROM tags WHERE resource_arn = ?1")?.execute([arn])?;
    Ok(())
}

pub fn get(conn: &Connection, arn: &str) -> rusqlite::Result<Option<ActivityRecord>> {
    let sql = format!("SELECT {COLUMNS} FROM activities WHERE arn = ?1");
    conn.prepare_cached(&sql)?.query_row([arn], row).optional()
}

/// By name, then ARN; key `[name, arn]`.
pub fn list(conn: &Connection, page: &PageRequest) -> Result<Page<ActivityRecord>, ReadError> {
    let limit = limit(page);
    let (name, arn) = Key::<(String, String)>::parse(page)?.unwrap_or_default();
    let sql = format!("SELECT {COLUMNS} FROM activities WHERE (name, arn) > (?1, ?2) ORDER BY name, arn LIMIT ?3");
    let mut statement = conn.prepare_cached(&sql)?;
    let rows = statement.query_map(params![name, arn, limit + 1], row)?.collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(Key::page(rows, limit, |record| (record.name.clone(), record.arn.clone())))
}

pub fn count(conn: &Connection) -> rusqlite::Result<u64> {
    conn.prepare_cached("SELECT count(*) FROM activities")?.query_row([], |r| r.get::<_, i64>(0)).map(|n| n as u64)
}

fn row(r: &Row<'_>) -> rusqlite::Result<ActivityRecord> {
    let micros: i64 = r.get(2)?;
    let creation_date = chrono::DateTime::from_timestamp_micros(micros).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            2,
            rusqlite::types::Type::Integer,
            Box::new(rusqlite::types::FromSqlError::Other("time out of range".into())),
        )
    })?;
    Ok(ActivityRecord { arn: r.get(0)?, name: r.get(1)?, creation_date, encryption_configuration: r.get(3)? })
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::super::Sqlite;
    use super::*;
    use crate::serve::store::{Store, Write};

    fn record(name: &str) -> ActivityRecord {
        ActivityRecord {
            arn: format!("arn:aws:states:us-east-1:123456789012:activity:{name}"),
            name: name.into(),
            creation_date: Utc.timestamp_micros(1_733_600_000_123_456).unwrap(),
            encryption_configuration: None,
        }
    }

    #[tokio::test]
    async fn activities_round_trip_list_by_name_in_pages_and_leave_with_their_tags() {
        let dir = tempfile::tempdir().unwrap();
        let store = Sqlite::open(dir.path()).unwrap();
        for name in ["c", "a", "b"] {
            store.commit(vec![Write::CreateActivity(record(name))]).await.unwrap();
        }
        let again = store.commit(vec![Write::CreateActivity(record("a"))]).await;
        assert!(matches!(again, Err(crate::serve::store::StoreError::Conflict(_))));
        assert_eq!(store.activity(&record("b").arn).unwrap(), Some(record("b")));
        assert_eq!(store.activity_count().unwrap(), 3);

        let first = store.list_activities(&PageRequest { after: None, limit: 2 }).unwrap();
        let names: Vec<&str> = first.items.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        let rest = store.list_activities(&PageRequest { after: first.next, limit: 2 }).unwrap();
        assert_eq!(rest.items.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(), ["c"]);
        assert_eq!(rest.next, None);

        let arn = record("a").arn;
        store
            .commit(vec![Write::Tag { resource_arn: arn.clone(), tags: vec![("k".into(), "v".into())] }])
            .await
            .unwrap();
        store.commit(vec![Write::DeleteActivity { arn: arn.clone() }]).await.unwrap();
        assert_eq!(store.activity(&arn).unwrap(), None);
        assert!(store.tags(&arn).unwrap().is_empty());
        drop(store);
        // The table is there again on reopening, with what was committed.
        let store = Sqlite::open(dir.path()).unwrap();
        assert_eq!(store.activity_count().unwrap(), 2);
    }
}
