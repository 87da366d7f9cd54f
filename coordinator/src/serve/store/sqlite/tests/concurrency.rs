//! Group commit under load: concurrent submitters, every unit present, far fewer
//! transactions than units.

use std::time::Instant;

use super::*;

const THREADS: usize = 8;
const UNITS: u64 = 1_000;
const EVENTS_PER_UNIT: u64 = 10;

#[test]
fn eight_submitters_share_transactions_and_lose_nothing() {
    let (_dir, store) = open();
    commit(&store, vec![definition()]).unwrap();
    let records: Vec<ExecutionRecord> =
        (0..THREADS).map(|thread| execution("Load", &format!("t{thread}"), thread as i64)).collect();
    commit(&store, records.iter().cloned().map(Write::CreateExecution).collect()).unwrap();
    let groups_before = store.groups_committed();
    let started = Instant::now();
    std::thread::scope(|scope| {
        for record in &records {
            let store = &store;
            scope.spawn(move || {
                for unit in 0..UNITS {
                    let first = unit * EVENTS_PER_UNIT + 1;
                    let events = (first..first + EVENTS_PER_UNIT).map(|id| event(&record.arn, id)).collect();
                    let writes = vec![Write::AppendEvents(events)];
                    // The engine's pattern: history is submitted; the end is waited for.
                    if unit + 1 < UNITS {
                        store.submit(writes);
                    } else {
                        commit(store, writes).unwrap();
                    }
                }
            });
        }
    });
    let elapsed = started.elapsed();
    let units = THREADS as u64 * UNITS;
    let groups = store.groups_committed() - groups_before;
    eprintln!(
        "{units} units ({} events) from {THREADS} threads in {elapsed:?}: {:.0} units/s, {:.0} events/s, \
         {groups} groups",
        units * EVENTS_PER_UNIT,
        units as f64 / elapsed.as_secs_f64(),
        (units * EVENTS_PER_UNIT) as f64 / elapsed.as_secs_f64(),
    );
    for record in &records {
        let ids: Vec<u64> = store.events(&record.arn, None, false, 100_000).unwrap().iter().map(|e| e.id).collect();
        assert_eq!(ids, (1..=UNITS * EVENTS_PER_UNIT).collect::<Vec<_>>(), "{}", record.arn);
    }
    assert!(groups * 10 < units, "{groups} transactions for {units} units: group commit did not group");
    let latency = store.commit_latency();
    assert!(latency.count >= groups);
    assert!(latency.sum_seconds > 0.0);
}
