//! What replay reads from an execution's history when it has been redriven: the history is
//! append-only and holds every attempt ("generation") of the execution, each after an
//! `ExecutionRedriven` event. Pure: events in, the replay map out.
//!
//! A redrive continues the execution from its unsuccessful step (AWS, RedriveExecution:
//! "Step Functions preserves the results and execution history of the successful steps, and
//! doesn't rerun these steps"; for Parallel and inline Map states "only the iterations and
//! branches that failed or aborted" run again). Replay gives that for free once the events of
//! the failing path are left out of the replay map: the engine runs the execution again from
//! its input, finds every successful step by its structural key (see
//! `shared::asl::history::Scope`) and answers it from the record, and runs the rest.
//!
//! **The failing path.** In the top-level scope, the state whose `…StateEntered` has no
//! `…StateExited` after it is where the execution stopped (it failed, was aborted or timed
//! out): that entry and every later event of the scope are left out, so the state is entered
//! again with the input it had, and its retriers count from zero (AWS resets a redriven state's
//! retry attempts). Among the events left out, those that opened nested scopes (a Parallel's
//! branches, an inline Map's iterations, keyed `<opener>/<index>.`) lead into them, and the
//! same rule applies there: branches and iterations that finished keep their events and are
//! answered from them; the unfinished ones run again from their unfinished state. Nested
//! scopes whose opener is kept (a failure caught by a Catch) are not touched: replay must find
//! them as they were.
//!
//! Keys of a later generation are the same as the events they replace, so events are read in
//! id order and a later one replaces an earlier one under the same key; the events left out at
//! a redrive are removed at its `ExecutionRedriven` event, so that a key the new generation has
//! not reached yet (a crash during the redriven run) is not answered from the old one.

use std::collections::{HashMap, HashSet};

use super::journal::Recorded;
use crate::serve::store::EventRecord;

/// What replay needs from a history.
#[derive(Debug, Default)]
pub struct Replay {
    /// The recorded events by key, as the current generation sees them.
    pub recorded: HashMap<String, Recorded>,
    /// The highest event id stored.
    pub last_id: u64,
    /// The latest redrive, if any.
    pub redrive: Option<Redrive>,
}

/// The latest redrive of an execution, as its journal needs it.
#[derive(Debug, Clone, Default)]
pub struct Redrive {
    /// The id of its `ExecutionRedriven` event: the events the redriven run writes follow it.
    pub event_id: u64,
    /// Distributed Maps on the failing paths, by the key of their `MapRunStarted` event: the
    /// Map Run's ARN and how many times it has been redriven (this redrive included). The
    /// journal writes `MapRunRedriven` where the first run wrote `MapRunStarted`.
    pub map_runs: HashMap<String, (String, u64)>,
}

/// Reads an execution's history (any order) into what replay needs.
pub fn replay(mut events: Vec<EventRecord>) -> Replay {
    events.sort_by_key(|e| e.id);
    let mut out = Replay { last_id: events.last().map_or(1, |e| e.id), ..Replay::default() };
    // How many times each Map Run key has been redriven, over all generations.
    let mut map_run_redrives: HashMap<String, (String, u64)> = HashMap::new();
    for e in events {
        if e.event_type == "ExecutionRedriven" {
            let dropped = failing_path(&out.recorded);
            let mut map_runs = HashMap::new();
            for key in &dropped {
                if let Some(r) = out.recorded.remove(key)
                    && matches!(r.kind.as_str(), "MapRunStarted" | "MapRunRedriven")
                {
                    let arn = r
                        .details
                        .as_ref()
                        .and_then(|d| d.get("mapRunArn"))
                        .and_then(|a| a.as_str())
                        .unwrap_or_default()
                        .to_string();
                    let entry = map_run_redrives.entry(key.clone()).or_insert((arn, 0));
                    entry.1 += 1;
                    map_runs.insert(key.clone(), entry.clone());
                }
            }
            out.redrive = Some(Redrive { event_id: e.id, map_runs });
            continue;
        }
        let Some(key) = e.key else { continue };
        let details = e.details.as_deref().and_then(|d| serde_json::from_str(d).ok());
        out.recorded.insert(key, Recorded { id: e.id, at: e.timestamp, kind: e.event_type, details });
    }
    out
}

/// The keys of the failing path's events (see the module's documentation).
pub fn failing_path(recorded: &HashMap<String, Recorded>) -> HashSet<String> {
    // Events by scope: the key's prefix (up to its last '.', "" at the top level) and its
    // number in the scope.
    let mut scopes: HashMap<&str, Vec<(u64, &str, &str)>> = HashMap::new();
    for (key, r) in recorded {
        let (prefix, n) = split(key);
        if let Some(n) = n {
            scopes.entry(prefix).or_default().push((n, key.as_str(), r.kind.as_str()));
        }
    }
    // Nested scopes by the key of the event that opened them.
    let mut nested: HashMap<&str, Vec<&str>> = HashMap::new();
    for prefix in scopes.keys() {
        if let Some(opener) = opener(prefix) {
            nested.entry(opener).or_default().push(prefix);
        }
    }
    let mut dropped = HashSet::new();
    let mut todo = vec![""];
    while let Some(prefix) = todo.pop() {
        let Some(events) = scopes.get(prefix) else { continue };
        let last_entered = events.iter().filter(|(_, _, kind)| kind.ends_with("StateEntered")).map(|e| e.0).max();
        let Some(entered) = last_entered else { continue };
        let exited = events.iter().any(|(n, _, kind)| *n > entered && kind.ends_with("StateExited"));
        if exited {
            continue;
        }
        for (n, key, _) in events {
            if *n >= entered {
                dropped.insert(key.to_string());
                if let Some(children) = nested.get(key) {
                    todo.extend(children.iter().copied());
                }
            }
        }
    }
    dropped
}

/// `3/1.4` → (`3/1.`, 4); `7` → (``, 7).
fn split(key: &str) -> (&str, Option<u64>) {
    match key.rfind('.') {
        Some(i) => (&key[..=i], key[i + 1..].parse().ok()),
        None => ("", key.parse().ok()),
    }
}

/// The key of the event that opened a nested scope: `3/1.4/0.` → `3/1.4`.
fn opener(prefix: &str) -> Option<&str> {
    let slash = prefix.rfind('/')?;
    Some(&prefix[..slash])
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use serde_json::json;

    use super::*;

    fn ev(id: u64, key: Option<&str>, kind: &str, details: Option<serde_json::Value>) -> EventRecord {
        EventRecord {
            execution_arn: "arn:aws:states:us-east-1:123456789012:execution:m:e".into(),
            id,
            previous_event_id: id.saturating_sub(1),
            timestamp: Utc::now(),
            event_type: kind.into(),
            details: details.map(|d| d.to_string()),
            key: key.map(str::to_string),
        }
    }

    /// A Pass, then a Parallel whose branch 1 failed in its second state while branch 0 had
    /// finished: the top level's Parallel and branch 1's failed state run again; the Pass,
    /// branch 0 and branch 1's first state are answered from the record.
    #[test]
    fn the_failing_path_runs_again_and_finished_branches_do_not() {
        let events = vec![
            ev(1, None, "ExecutionStarted", None),
            ev(2, Some("0"), "PassStateEntered", None),
            ev(3, Some("1"), "PassStateExited", None),
            ev(4, Some("2"), "ParallelStateEntered", None),
            ev(5, Some("3"), "ParallelStateStarted", None),
            ev(6, Some("3/0.0"), "PassStateEntered", None),
            ev(7, Some("3/1.0"), "PassStateEntered", None),
            ev(8, Some("3/0.1"), "PassStateExited", None),
            ev(9, Some("3/1.1"), "PassStateExited", None),
            ev(10, Some("3/1.2"), "TaskStateEntered", None),
            ev(11, Some("3/1.3"), "TaskScheduled", None),
            ev(12, Some("3/1.4"), "TaskStarted", None),
            ev(13, Some("3/1.5"), "TaskFailed", Some(json!({"error": "E"}))),
            ev(14, Some("4"), "ParallelStateFailed", None),
            ev(15, None, "ExecutionFailed", Some(json!({"error": "E"}))),
            ev(16, None, "ExecutionRedriven", Some(json!({"redriveCount": 1}))),
        ];
        let r = replay(events);
        let mut kept: Vec<&str> = r.recorded.keys().map(String::as_str).collect();
        kept.sort();
        assert_eq!(kept, ["0", "1", "3/0.0", "3/0.1", "3/1.0", "3/1.1"]);
        assert_eq!(r.last_id, 16);
        assert_eq!(r.redrive.map(|d| d.event_id), Some(16));
    }

    /// A failure caught by a Catch is part of the successful path: the branch that failed
    /// inside a caught Parallel keeps its events (replay must find the same failure again),
    /// and only the top level's unfinished state runs again.
    #[test]
    fn caught_failures_are_kept() {
        let events = vec![
            ev(2, Some("0"), "ParallelStateEntered", None),
            ev(3, Some("1"), "ParallelStateStarted", None),
            ev(4, Some("1/0.0"), "TaskStateEntered", None),
            ev(5, Some("1/0.1"), "TaskFailed", None),
            ev(6, Some("2"), "ParallelStateFailed", None),
            ev(7, Some("3"), "ParallelStateExited", None),
            ev(8, Some("4"), "FailStateEntered", None),
            ev(9, None, "ExecutionFailed", None),
            ev(10, None, "ExecutionRedriven", None),
        ];
        let r = replay(events);
        let mut kept: Vec<&str> = r.recorded.keys().map(String::as_str).collect();
        kept.sort();
        assert_eq!(kept, ["0", "1", "1/0.0", "1/0.1", "2", "3"]);
    }

    /// After a redrive, the new generation's events replace the old ones under their keys,
    /// and a key the new generation has not reached is not answered from the old one; a Map
    /// Run on the failing path counts its redrives.
    #[test]
    fn later_generations_replace_earlier_ones() {
        let arn = "arn:aws:states:us-east-1:123456789012:mapRun:m/Map:1";
        let events = vec![
            ev(2, Some("0"), "MapStateEntered", None),
            ev(3, Some("1"), "MapStateStarted", None),
            ev(4, Some("2"), "MapRunStarted", Some(json!({"mapRunArn": arn}))),
            ev(5, Some("3"), "MapRunFailed", None),
            ev(6, Some("4"), "MapStateFailed", None),
            ev(7, None, "ExecutionFailed", None),
            ev(8, None, "ExecutionRedriven", None),
            ev(9, Some("0"), "MapStateEntered", None),
            ev(10, Some("1"), "MapStateStarted", None),
            ev(11, Some("2"), "MapRunRedriven", Some(json!({"mapRunArn": arn}))),
        ];
        let r = replay(events.clone());
        let ids: HashMap<&str, u64> = r.recorded.iter().map(|(k, v)| (k.as_str(), v.id)).collect();
        assert_eq!(ids, HashMap::from([("0", 9), ("1", 10), ("2", 11)]));
        let d = r.redrive.expect("redriven");
        assert_eq!(d.event_id, 8);
        assert_eq!(d.map_runs.get("2"), Some(&(arn.to_string(), 1)));
        // The second run failed again: a second redrive counts 2.
        let mut more = events;
        more.push(ev(12, Some("3"), "MapRunFailed", None));
        more.push(ev(13, Some("4"), "MapStateFailed", None));
        more.push(ev(14, None, "ExecutionFailed", None));
        more.push(ev(15, None, "ExecutionRedriven", None));
        let d = replay(more).redrive.expect("redriven");
        assert_eq!(d.map_runs.get("2"), Some(&(arn.to_string(), 2)));
    }
}
