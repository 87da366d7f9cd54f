//! Every listing across pages, in the order the trait promises, with its filters; history
//! events forward and backward from a cursor.

use super::super::super::{ExecutionFilter, Page, PageRequest};
use super::*;

/// Follows `next` from the first page to the last, `limit` rows at a time, and returns the
/// pages' rows in order; checks that only the last page has no `next`.
fn every_page<T>(limit: usize, mut read: impl FnMut(&PageRequest) -> Result<Page<T>, StoreError>) -> Vec<Vec<T>> {
    let mut pages = Vec::new();
    let mut request = PageRequest { after: None, limit };
    loop {
        let page = read(&request).expect("a page");
        let next = page.next.clone();
        pages.push(page.items);
        match next {
            Some(key) => request.after = Some(key),
            None => return pages,
        }
    }
}

fn sizes<T>(pages: &[Vec<T>]) -> Vec<usize> {
    pages.iter().map(Vec::len).collect()
}

#[test]
fn state_machines_by_name() {
    let (_dir, store) = open();
    let names = ["delta", "alpha", "echo", "charlie", "bravo"];
    commit(&store, names.iter().map(|name| Write::CreateStateMachine(state_machine(name))).collect()).unwrap();
    let pages = every_page(2, |page| store.list_state_machines(page));
    assert_eq!(sizes(&pages), [2, 2, 1]);
    let listed: Vec<String> = pages.into_iter().flatten().map(|machine| machine.name).collect();
    assert_eq!(listed, ["alpha", "bravo", "charlie", "delta", "echo"]);
}

#[test]
fn versions_newest_first_per_state_machine() {
    let (_dir, store) = open();
    let mut unit = vec![Write::CreateStateMachine(state_machine("V")), Write::CreateStateMachine(state_machine("W"))];
    unit.extend((1..=5).map(|n| Write::CreateVersion(version("V", n))));
    unit.push(Write::CreateVersion(version("W", 9)));
    commit(&store, unit).unwrap();
    let pages = every_page(2, |page| store.list_versions(&machine_arn("V"), page));
    assert_eq!(sizes(&pages), [2, 2, 1]);
    let numbers: Vec<u64> = pages.into_iter().flatten().map(|version| version.version).collect();
    assert_eq!(numbers, [5, 4, 3, 2, 1]);
}

#[test]
fn aliases_by_name_per_state_machine() {
    let (_dir, store) = open();
    let mut unit = vec![Write::CreateStateMachine(state_machine("A")), Write::CreateStateMachine(state_machine("B"))];
    for name in ["prod", "beta", "canary"] {
        unit.push(Write::CreateAlias(alias("A", name, vec![(version("A", 1).arn, 100)])));
    }
    unit.push(Write::CreateAlias(alias("B", "aaa", vec![])));
    commit(&store, unit).unwrap();
    let pages = every_page(1, |page| store.list_aliases(&machine_arn("A"), page));
    assert_eq!(sizes(&pages), [1, 1, 1]);
    let names: Vec<String> = pages.into_iter().flatten().map(|alias| alias.name).collect();
    assert_eq!(names, ["beta", "canary", "prod"]);
}

/// Executions of two state machines: `M` (seven, two of them through version 1 and one through
/// the alias `live`, some ended, one redriven, two children of a Map Run) and `N` (one).
fn executions(store: &Sqlite) -> Vec<ExecutionRecord> {
    let version_arn = version("M", 1).arn;
    let alias_arn = alias("M", "live", vec![]).arn;
    let mut records = Vec::new();
    for n in 0..7 {
        // e3 and e4 start at the same time: the ARN breaks the tie (descending).
        let mut record = execution("M", &format!("e{n}"), [10, 20, 30, 40, 40, 60, 70][n]);
        match n {
            1 | 2 => record.version_arn = Some(version_arn.clone()),
            3 => record.alias_arn = Some(alias_arn.clone()),
            _ => {}
        }
        if n % 2 == 0 {
            record.status = ExecutionStatus::Succeeded;
        }
        if n == 4 {
            record.redrive_count = 1;
        }
        records.push(record);
    }
    let parent = records[0].clone();
    let run = map_run(&parent, "Map", 11);
    for child in &mut records[5..7] {
        child.map_run_arn = Some(run.arn.clone());
    }
    records.push(execution("N", "other", 15));
    let mut unit = vec![definition()];
    unit.extend(records.iter().cloned().map(Write::CreateExecution));
    unit.push(Write::PutMapRun(run));
    commit(store, unit).unwrap();
    records
}

fn names_of(pages: Vec<Vec<ExecutionRecord>>) -> Vec<String> {
    pages.into_iter().flatten().map(|execution| execution.name).collect()
}

#[test]
fn executions_newest_first_with_each_filter() {
    let (_dir, store) = open();
    executions(&store);
    let list = |filter: ExecutionFilter| names_of(every_page(2, |page| store.list_executions(&filter, page)));
    let machine = |arn: String| ExecutionFilter { state_machine_arn: Some(arn), ..Default::default() };

    assert_eq!(list(machine(machine_arn("M"))), ["e6", "e5", "e4", "e3", "e2", "e1", "e0"]);
    assert_eq!(list(machine(machine_arn("N"))), ["other"]);
    assert_eq!(list(machine(version("M", 1).arn)), ["e2", "e1"]);
    assert_eq!(list(machine(alias("M", "live", vec![]).arn)), ["e3"]);
    let succeeded = ExecutionFilter { status: Some(ExecutionStatus::Succeeded), ..machine(machine_arn("M")) };
    assert_eq!(list(succeeded), ["e6", "e4", "e2", "e0"]);
    let running = ExecutionFilter { status: Some(ExecutionStatus::Running), ..machine(machine_arn("M")) };
    assert_eq!(list(running), ["e5", "e3", "e1"]);
    let redriven = ExecutionFilter { redriven: Some(true), ..machine(machine_arn("M")) };
    assert_eq!(list(redriven), ["e4"]);
    let never = ExecutionFilter { redriven: Some(false), ..machine(machine_arn("M")) };
    assert_eq!(list(never), ["e6", "e5", "e3", "e2", "e1", "e0"]);
    let parent = execution("M", "e0", 0);
    let children = ExecutionFilter { map_run_arn: Some(map_run(&parent, "Map", 11).arn), ..Default::default() };
    assert_eq!(list(children), ["e6", "e5"]);
}

#[test]
fn a_page_key_continues_after_its_row_even_when_rows_are_added() {
    let (_dir, store) = open();
    executions(&store);
    let filter = ExecutionFilter { state_machine_arn: Some(machine_arn("M")), ..Default::default() };
    let first = store.list_executions(&filter, &PageRequest { after: None, limit: 3 }).unwrap();
    // A newer execution arrives between two pages: it is before the key, so not listed again.
    commit(&store, vec![Write::CreateExecution(execution("M", "late", 99))]).unwrap();
    let second = store.list_executions(&filter, &PageRequest { after: first.next, limit: 3 }).unwrap();
    let names: Vec<&str> = second.items.iter().map(|execution| execution.name.as_str()).collect();
    assert_eq!(names, ["e3", "e2", "e1"]);
}

#[test]
fn a_key_that_is_not_one_is_refused() {
    let (_dir, store) = open();
    let page = PageRequest { after: Some("garbage".to_owned()), limit: 10 };
    let filter = ExecutionFilter::default();
    assert!(matches!(store.list_executions(&filter, &page), Err(StoreError::InvalidPageKey(_))));
    assert!(matches!(store.list_versions(&machine_arn("M"), &page), Err(StoreError::InvalidPageKey(_))));
}

#[test]
fn running_executions_are_the_ones_to_resume_oldest_first() {
    let (_dir, store) = open();
    executions(&store);
    let running: Vec<String> = store.running_executions().unwrap().into_iter().map(|e| e.name).collect();
    assert_eq!(running, ["other", "e1", "e3", "e5"]);
}

#[test]
fn map_runs_newest_first_per_execution() {
    let (_dir, store) = open();
    let parent = execution("P", "p", 1);
    let other = execution("P", "q", 1);
    let mut unit = vec![definition(), Write::CreateExecution(parent.clone()), Write::CreateExecution(other.clone())];
    for (label, start) in [("first", 10), ("third", 30), ("second", 20)] {
        unit.push(Write::PutMapRun(map_run(&parent, label, start)));
    }
    unit.push(Write::PutMapRun(map_run(&other, "elsewhere", 40)));
    commit(&store, unit).unwrap();
    let pages = every_page(2, |page| store.list_map_runs(&parent.arn, page));
    assert_eq!(sizes(&pages), [2, 1]);
    let labels: Vec<String> =
        pages.into_iter().flatten().map(|run| run.state_machine_arn.rsplit('/').next().unwrap().to_owned()).collect();
    assert_eq!(labels, ["third", "second", "first"]);
}

#[test]
fn events_forward_and_backward_from_an_exclusive_cursor() {
    let (_dir, store) = open();
    let record = execution("H", "h", 1);
    let neighbour = execution("H", "n", 2);
    commit(
        &store,
        vec![
            definition(),
            Write::CreateExecution(record.clone()),
            Write::CreateExecution(neighbour.clone()),
            Write::AppendEvents((1..=10).map(|id| event(&record.arn, id)).collect()),
            Write::AppendEvents((1..=3).map(|id| event(&neighbour.arn, id)).collect()),
        ],
    )
    .unwrap();
    let ids = |from, reverse, limit| -> Vec<u64> {
        store.events(&record.arn, from, reverse, limit).unwrap().iter().map(|event| event.id).collect()
    };
    assert_eq!(ids(None, false, 4), [1, 2, 3, 4]);
    assert_eq!(ids(Some(4), false, 4), [5, 6, 7, 8]);
    assert_eq!(ids(Some(8), false, 4), [9, 10]);
    assert_eq!(ids(Some(10), false, 4), Vec::<u64>::new());
    assert_eq!(ids(None, true, 4), [10, 9, 8, 7]);
    assert_eq!(ids(Some(7), true, 4), [6, 5, 4, 3]);
    assert_eq!(ids(Some(3), true, 4), [2, 1]);
    assert_eq!(ids(Some(u64::MAX), true, 1), [10]);
    assert!(store.events(&format!("{PREFIX}:execution:H:none"), None, false, 10).unwrap().is_empty());
    let first = &store.events(&record.arn, None, false, 1).unwrap()[0];
    assert_eq!(first, &event(&record.arn, 1), "an event round-trips whole, its time to the microsecond");
}
