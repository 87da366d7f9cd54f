//! `kill -9` of a process that writes loses nothing it was told was committed.
//!
//! The test runs this test binary again as the writing process (the child role, chosen by an
//! environment variable), reads the acknowledgements it prints, kills it with SIGKILL in the
//! middle of its writes, and reopens the store.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use super::*;

/// Set to the data directory in the child.
const CHILD: &str = "DMAP_STORE_CRASH_CHILD";
/// Acknowledgements the parent waits for before the kill.
const ACKNOWLEDGED: usize = 300;

#[test]
fn kill_9_loses_nothing_acknowledged() {
    if let Some(dir) = std::env::var_os(CHILD) {
        write_until_killed(std::path::Path::new(&dir));
    }
    let dir = tempfile::tempdir().unwrap();
    let name = format!("{}::kill_9_loses_nothing_acknowledged", module_path!().split_once("::").unwrap().1);
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", &name, "--nocapture", "--test-threads=1"])
        .env(CHILD, dir.path())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut acknowledged = Vec::new();
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        if let Some(n) = line.unwrap().strip_prefix("acknowledged ") {
            acknowledged.push(n.parse::<u64>().unwrap());
            if acknowledged.len() == ACKNOWLEDGED {
                break;
            }
        }
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert_eq!(acknowledged.len(), ACKNOWLEDGED, "the child stopped before it was killed");

    let store = Sqlite::open(dir.path()).unwrap();
    for n in acknowledged {
        let record = execution("Crash", &format!("e{n}"), n as i64);
        assert_eq!(store.execution(&record.arn).unwrap(), Some(record.clone()), "e{n} was acknowledged");
        let ids: Vec<u64> = store.events(&record.arn, None, false, 10).unwrap().iter().map(|e| e.id).collect();
        assert_eq!(ids, [1, 2, 3], "e{n}'s history was submitted before its acknowledged unit");
    }
}

/// The child: executions whose history is submitted without waiting and whose last unit is
/// waited for, acknowledged on stdout, until the parent kills it.
fn write_until_killed(dir: &std::path::Path) -> ! {
    let store = Sqlite::open(dir).unwrap();
    commit(&store, vec![definition()]).unwrap();
    let mut n = 0u64;
    loop {
        let record = execution("Crash", &format!("e{n}"), n as i64);
        store.submit(vec![Write::CreateExecution(record.clone())]);
        store.submit(vec![Write::AppendEvents(vec![event(&record.arn, 1), event(&record.arn, 2)])]);
        commit(&store, vec![Write::AppendEvents(vec![event(&record.arn, 3)])]).unwrap();
        println!("acknowledged {n}");
        n += 1;
    }
}
