//! Every write, read back; conflicts; order; durability across a reopen; closing.

use std::sync::Arc;

use tokio::sync::oneshot;

use super::super::budget::Budget;
use super::super::metrics::Stats;
use super::super::schema;
use super::super::writer::{Unit, Writer};
use super::*;

#[test]
fn a_definition_is_kept_once_under_its_hash() {
    let (_dir, store) = open();
    assert_eq!(store.definition(HASH).unwrap(), None);
    commit(&store, vec![definition()]).unwrap();
    // A second put of the same hash is a no-op, not a conflict.
    commit(&store, vec![Write::PutDefinition { hash: HASH.to_owned(), text: "other".to_owned() }]).unwrap();
    assert_eq!(store.definition(HASH).unwrap().as_deref(), Some(DEFINITION));
}

#[test]
fn a_state_machine_is_created_updated_and_deleted_with_its_versions_aliases_and_tags() {
    let (_dir, store) = open();
    let machine = state_machine("Orders");
    commit(&store, vec![Write::CreateStateMachine(machine.clone())]).unwrap();
    assert_eq!(store.state_machine(&machine.arn).unwrap(), Some(machine.clone()));

    let updated = StateMachineRecord {
        definition: r#"{"StartAt":"B","States":{"B":{"Type":"Succeed"}}}"#.to_owned(),
        description: Some("second".to_owned()),
        revision_id: "rev-2".to_owned(),
        next_version: 2,
        ..machine.clone()
    };
    let first = version("Orders", 1);
    let live = alias("Orders", "live", vec![(first.arn.clone(), 100)]);
    commit(
        &store,
        vec![
            Write::UpdateStateMachine(updated.clone()),
            Write::CreateVersion(first.clone()),
            Write::CreateAlias(live.clone()),
            Write::Tag { resource_arn: machine.arn.clone(), tags: vec![("team".into(), "a".into())] },
        ],
    )
    .unwrap();
    assert_eq!(store.state_machine(&machine.arn).unwrap(), Some(updated));
    assert_eq!(store.version(&first.arn).unwrap(), Some(first.clone()));
    assert_eq!(store.alias(&live.arn).unwrap(), Some(live.clone()));

    let moved = AliasRecord {
        description: Some("half".to_owned()),
        routing: vec![(first.arn.clone(), 50), (version("Orders", 2).arn, 50)],
        update_date: Some(at(99)),
        ..live.clone()
    };
    commit(&store, vec![Write::CreateVersion(version("Orders", 2)), Write::UpdateAlias(moved.clone())]).unwrap();
    assert_eq!(store.alias(&live.arn).unwrap(), Some(moved));

    commit(&store, vec![Write::DeleteAlias { arn: live.arn.clone() }, Write::DeleteVersion { arn: first.arn.clone() }])
        .unwrap();
    assert_eq!(store.alias(&live.arn).unwrap(), None);
    assert_eq!(store.version(&first.arn).unwrap(), None);

    commit(&store, vec![Write::DeleteStateMachine { arn: machine.arn.clone() }]).unwrap();
    assert_eq!(store.state_machine(&machine.arn).unwrap(), None);
    assert_eq!(store.version(&version("Orders", 2).arn).unwrap(), None, "versions go with their state machine");
    assert!(store.tags(&machine.arn).unwrap().is_empty(), "tags go with their state machine");
}

#[test]
fn tags_keep_the_order_in_which_keys_were_first_added() {
    let (_dir, store) = open();
    let arn = machine_arn("Tagged");
    let tag = |pairs: &[(&str, &str)]| Write::Tag {
        resource_arn: arn.clone(),
        tags: pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
    };
    commit(&store, vec![tag(&[("z", "1"), ("a", "2")]), tag(&[("m", "3")])]).unwrap();
    commit(&store, vec![tag(&[("z", "changed")]), Write::Untag { resource_arn: arn.clone(), keys: vec!["a".into()] }])
        .unwrap();
    let expected = vec![("z".to_owned(), "changed".to_owned()), ("m".to_owned(), "3".to_owned())];
    assert_eq!(store.tags(&arn).unwrap(), expected);
}

#[test]
fn an_execution_is_created_ended_and_keeps_its_history_and_map_runs() {
    let (_dir, store) = open();
    let mut record = execution("Orders", "e1", 5);
    record.version_arn = Some(version("Orders", 3).arn);
    record.trace_header = Some("Root=1-abc".to_owned());
    record.item_count = Some(12);
    record.redrive_count = 2;
    record.redrive_date = Some(at(8));
    commit(&store, vec![definition(), Write::CreateExecution(record.clone())]).unwrap();
    assert_eq!(store.execution(&record.arn).unwrap(), Some(record.clone()));

    let events: Vec<EventRecord> = (1..=3).map(|id| event(&record.arn, id)).collect();
    let run = map_run(&record, "Map", 9);
    commit(&store, vec![Write::AppendEvents(events.clone()), Write::PutMapRun(run.clone())]).unwrap();
    assert_eq!(store.events(&record.arn, None, false, 100).unwrap(), events);
    assert_eq!(store.map_run(&run.arn).unwrap(), Some(run.clone()));

    let finished = MapRunRecord { status: "SUCCEEDED".to_owned(), stop_date: Some(at(20)), max_concurrency: 7, ..run };
    commit(
        &store,
        vec![
            Write::PutMapRun(finished.clone()),
            Write::UpdateExecution {
                arn: record.arn.clone(),
                status: ExecutionStatus::Failed,
                output: None,
                error: Some("States.TaskFailed".to_owned()),
                cause: Some("boom".to_owned()),
                stop_date: Some(at(21)),
            },
        ],
    )
    .unwrap();
    assert_eq!(store.map_run(&finished.arn).unwrap(), Some(finished));
    let ended = store.execution(&record.arn).unwrap().unwrap();
    assert_eq!(ended.status, ExecutionStatus::Failed);
    assert_eq!(ended.error.as_deref(), Some("States.TaskFailed"));
    assert_eq!(ended.cause.as_deref(), Some("boom"));
    assert_eq!(ended.stop_date, Some(at(21)));
    assert_eq!(ended.input, record.input);
}

#[test]
fn creating_what_exists_is_a_conflict_naming_it() {
    let (_dir, store) = open();
    let machine = state_machine("Twice");
    commit(&store, vec![Write::CreateStateMachine(machine.clone())]).unwrap();
    let again = commit(&store, vec![Write::CreateStateMachine(machine.clone())]);
    assert!(matches!(again, Err(StoreError::Conflict(key)) if key == machine.arn));

    commit(&store, vec![Write::CreateVersion(version("Twice", 1))]).unwrap();
    // Another ARN with a number the state machine has used is a conflict too.
    let renumbered = VersionRecord { arn: format!("{}:other", machine.arn), ..version("Twice", 1) };
    assert!(matches!(commit(&store, vec![Write::CreateVersion(renumbered)]), Err(StoreError::Conflict(_))));

    let record = execution("Twice", "e", 1);
    commit(&store, vec![definition(), Write::CreateExecution(record.clone())]).unwrap();
    let twice = commit(&store, vec![Write::CreateExecution(record.clone())]);
    assert!(matches!(twice, Err(StoreError::Conflict(key)) if key == record.arn));

    commit(&store, vec![Write::AppendEvents(vec![event(&record.arn, 1)])]).unwrap();
    let replayed = commit(&store, vec![Write::AppendEvents(vec![event(&record.arn, 2), event(&record.arn, 1)])]);
    assert!(matches!(replayed, Err(StoreError::Conflict(_))));
    // The unit failed whole: event 2, written before the conflict in it, is gone too.
    assert_eq!(store.events(&record.arn, None, false, 10).unwrap().len(), 1);
}

#[test]
fn a_failing_unit_fails_alone_inside_its_group() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("group.sqlite3");
    let conn = schema::open_writer(&path).unwrap();
    let stats = Arc::new(Stats::default());
    let budget = Arc::new(Budget::new(1 << 20));
    let writer = Writer::new(conn, &path, Arc::clone(&stats), Arc::clone(&budget));
    let unit = |writes: Vec<Write>| {
        let (done, waiter) = oneshot::channel();
        budget.take(100).unwrap();
        (Unit { writes, done: Some(done), weight: 100 }, waiter)
    };
    let a = state_machine("A");
    let (first, first_done) = unit(vec![Write::CreateStateMachine(a.clone())]);
    let (clash, clash_done) = unit(vec![Write::CreateStateMachine(state_machine("B")), Write::CreateStateMachine(a)]);
    let (unknown, unknown_done) = unit(vec![Write::AppendEvents(vec![event("arn:nowhere", 1)])]);
    let (last, last_done) = unit(vec![Write::CreateStateMachine(state_machine("C"))]);
    writer.write(&mut vec![first, clash, unknown, last]);

    assert_eq!(stats.groups(), 1, "one transaction for the four units");
    assert_eq!(budget.queued(), 0, "the group's bytes are given back");
    assert!(futures::executor::block_on(first_done).unwrap().is_ok());
    assert!(matches!(futures::executor::block_on(clash_done).unwrap(), Err(StoreError::Conflict(_))));
    assert!(matches!(futures::executor::block_on(unknown_done).unwrap(), Err(StoreError::Database { .. })));
    assert!(futures::executor::block_on(last_done).unwrap().is_ok());
    drop(writer);

    let reader = schema::open_reader(&path).unwrap();
    let names: Vec<String> = reader
        .prepare("SELECT name FROM state_machines ORDER BY name")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(names, ["A", "C"], "B was rolled back with the conflicting unit");
}

#[test]
fn units_apply_in_submission_order() {
    let (_dir, store) = open();
    let arn = machine_arn("Ordered");
    for n in 0..500 {
        store.submit(vec![Write::Tag { resource_arn: arn.clone(), tags: vec![("k".into(), format!("v{n}"))] }]);
    }
    commit(&store, vec![Write::Tag { resource_arn: arn.clone(), tags: vec![("last".into(), "x".into())] }]).unwrap();
    assert_eq!(
        store.tags(&arn).unwrap(),
        vec![("k".to_owned(), "v499".to_owned()), ("last".to_owned(), "x".to_owned())]
    );
}

#[test]
fn a_committed_unit_is_visible_to_reads_when_its_future_resolves() {
    let (_dir, store) = open();
    commit(&store, vec![definition()]).unwrap();
    for n in 0..200 {
        let record = execution("Seen", &format!("e{n}"), n);
        commit(&store, vec![Write::CreateExecution(record.clone())]).unwrap();
        assert_eq!(store.execution(&record.arn).unwrap(), Some(record));
    }
}

#[test]
fn everything_submitted_survives_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let record = execution("Durable", "e", 1);
    {
        let store = Sqlite::open(dir.path()).unwrap();
        store.submit(vec![definition(), Write::CreateExecution(record.clone())]);
        for id in 1..=50 {
            store.submit(vec![Write::AppendEvents(vec![event(&record.arn, id)])]);
        }
        // Dropped without waiting: dropping commits what was queued.
    }
    let store = Sqlite::open(dir.path()).unwrap();
    assert_eq!(store.execution(&record.arn).unwrap(), Some(record.clone()));
    let ids: Vec<u64> = store.events(&record.arn, None, false, 100).unwrap().iter().map(|e| e.id).collect();
    assert_eq!(ids, (1..=50).collect::<Vec<_>>());
}

#[test]
fn a_closed_store_refuses_writes_and_still_reads() {
    let (_dir, store) = open();
    commit(&store, vec![Write::CreateStateMachine(state_machine("Before"))]).unwrap();
    store.close();
    assert!(matches!(commit(&store, vec![definition()]), Err(StoreError::Closed)));
    assert!(store.state_machine(&machine_arn("Before")).unwrap().is_some());
}

#[test]
fn a_database_of_a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    drop(Sqlite::open(dir.path()).unwrap());
    let conn = rusqlite::Connection::open(dir.path().join(super::super::FILE_NAME)).unwrap();
    conn.execute("INSERT INTO schema_version (version) VALUES (?1)", [schema::VERSION + 1]).unwrap();
    drop(conn);
    let Err(StoreError::Database { source, .. }) = Sqlite::open(dir.path()) else {
        panic!("a newer schema must be refused");
    };
    let newer = source.downcast_ref::<schema::SchemaError>();
    assert!(matches!(newer, Some(schema::SchemaError::Newer { found }) if *found == schema::VERSION + 1));
}

#[test]
fn the_data_directory_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let nested = dir.path().join("a").join("b");
    let store = Sqlite::open(&nested).unwrap();
    assert!(store.path().starts_with(&nested));
    assert!(store.path().exists());
}

/// RedriveExecution's writes: the execution runs again with one more redrive; its Map Runs'
/// outcomes are kept while it may be redriven and listed for dropping once its window closed;
/// a redriven Map Run's children are redriven when they had not succeeded, created when new.
#[test]
fn redrive_writes_and_outcome_logs_past_their_window() {
    let (_dir, store) = open();
    let (old, recent, running) =
        (execution("Orders", "old", 1), execution("Orders", "recent", 2), execution("Orders", "running", 3));
    let mut unit = vec![definition()];
    for e in [&old, &recent, &running] {
        unit.push(Write::CreateExecution(e.clone()));
        unit.push(Write::PutMapRun(map_run(e, "Map", 4)));
        unit.push(Write::AppendOutcomes { map_run_id: e.name.clone(), body: vec![1, 2, 3] });
    }
    commit(&store, unit).unwrap();
    let failed = |e: &ExecutionRecord, stop: i64| Write::UpdateExecution {
        arn: e.arn.clone(),
        status: ExecutionStatus::Failed,
        output: None,
        error: Some("E".into()),
        cause: None,
        stop_date: Some(at(stop)),
    };
    commit(&store, vec![failed(&old, 10), failed(&recent, 100)]).unwrap();
    assert_eq!(store.expired_outcomes(at(50)).unwrap(), ["old"]);

    commit(&store, vec![Write::Redrive { arn: old.arn.clone(), date: at(60) }]).unwrap();
    let r = store.execution(&old.arn).unwrap().unwrap();
    assert_eq!((r.status, r.redrive_count, r.redrive_date), (ExecutionStatus::Running, 1, Some(at(60))));
    assert_eq!((r.stop_date, r.error), (None, None));
    assert!(store.expired_outcomes(at(50)).unwrap().is_empty(), "running again: its outcomes are needed");

    let child = |name: &str, status: ExecutionStatus| ExecutionRecord {
        status,
        map_run_arn: Some(map_run(&old, "Map", 4).arn),
        stop_date: Some(at(70)),
        ..execution("Orders", name, 65)
    };
    commit(
        &store,
        vec![
            Write::CreateExecution(child("ok", ExecutionStatus::Succeeded)),
            Write::CreateExecution(child("bad", ExecutionStatus::Failed)),
        ],
    )
    .unwrap();
    let again = |name: &str| {
        Write::RedriveChild(ExecutionRecord { redrive_date: Some(at(80)), ..child(name, ExecutionStatus::Succeeded) })
    };
    commit(&store, vec![again("ok"), again("bad"), again("new")]).unwrap();
    let get = |name: &str| store.execution(&format!("{PREFIX}:execution:Orders:{name}")).unwrap().unwrap();
    assert_eq!((get("ok").redrive_count, get("ok").redrive_date), (0, None), "a child that had succeeded");
    assert_eq!((get("bad").status, get("bad").redrive_count), (ExecutionStatus::Succeeded, 1), "a redriven child");
    assert_eq!(get("bad").redrive_date, Some(at(80)));
    assert_eq!((get("new").redrive_count, get("new").redrive_date), (0, None), "a child that never ran");
}
