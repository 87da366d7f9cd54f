//! The bytes that may wait for the writer: backpressure by size, since a unit may be a few
//! hundred bytes of history or megabytes of inputs and outputs (AWS allows 256 KiB each).
//!
//! A sender takes a unit's weight before queueing it and blocks while the queue is over
//! budget; the writer gives the weight back once the unit's group is written. One unit larger
//! than the whole budget still passes when nothing else waits, so nothing waits forever.
//!
//! It owns the count only; what a unit weighs is [`weight`]'s estimate.

use std::sync::{Condvar, Mutex, PoisonError};

use super::super::Write;

/// Fixed cost per row beside its text (keys, times, numbers, SQLite's own bookkeeping).
const ROW: usize = 128;

/// Bytes queued, shared by the store's handle (which takes) and the writer (which gives).
#[derive(Debug)]
pub struct Budget {
    limit: usize,
    state: Mutex<State>,
    freed: Condvar,
}

#[derive(Debug, Default)]
struct State {
    queued: usize,
    closed: bool,
}

/// The writer has stopped: nothing will be given back.
#[derive(Debug)]
pub struct Closed;

impl Budget {
    pub fn new(limit: usize) -> Budget {
        Budget { limit, state: Mutex::default(), freed: Condvar::new() }
    }

    /// Takes `bytes`, waiting while the queue is over budget.
    pub fn take(&self, bytes: usize) -> Result<(), Closed> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        while !state.closed && state.queued > 0 && state.queued + bytes > self.limit {
            state = self.freed.wait(state).unwrap_or_else(PoisonError::into_inner);
        }
        if state.closed {
            return Err(Closed);
        }
        state.queued += bytes;
        Ok(())
    }

    /// Gives back what written (or refused) units took.
    pub fn give(&self, bytes: usize) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.queued = state.queued.saturating_sub(bytes);
        self.freed.notify_all();
    }

    /// Wakes and refuses every sender from now on.
    pub fn close(&self) {
        self.state.lock().unwrap_or_else(PoisonError::into_inner).closed = true;
        self.freed.notify_all();
    }

    #[cfg(test)]
    pub fn queued(&self) -> usize {
        self.state.lock().unwrap_or_else(PoisonError::into_inner).queued
    }
}

/// About what a unit holds in memory while it waits.
pub fn weight(unit: &[Write]) -> usize {
    unit.iter().map(write_weight).sum()
}

fn write_weight(write: &Write) -> usize {
    let text = |value: &Option<String>| value.as_ref().map_or(0, String::len);
    ROW + match write {
        Write::PutDefinition { hash, text } => hash.len() + text.len(),
        Write::CreateStateMachine(record) | Write::UpdateStateMachine(record) => {
            record.definition.len() + text(&record.description)
        }
        Write::CreateVersion(record) => record.definition.len() + text(&record.description),
        Write::CreateAlias(record) | Write::UpdateAlias(record) => text(&record.description),
        Write::DeleteStateMachine { arn } | Write::DeleteVersion { arn } | Write::DeleteAlias { arn } => arn.len(),
        Write::Tag { tags, .. } => tags.iter().map(|(key, value)| ROW + key.len() + value.len()).sum(),
        Write::Untag { keys, .. } => keys.iter().map(String::len).sum(),
        Write::CreateExecution(record) => {
            record.input.len() + text(&record.output) + text(&record.error) + text(&record.cause)
        }
        Write::UpdateExecution { output, error, cause, .. } => text(output) + text(error) + text(cause),
        Write::AppendEvents(events) => {
            events.iter().map(|event| ROW + event.execution_arn.len() + text(&event.details)).sum()
        }
        Write::PutMapRun(_) => ROW,
        Write::AppendOutcomes { map_run_id, body } => map_run_id.len() + body.len(),
        Write::DropOutcomes { map_run_id } => map_run_id.len(),
        Write::CreateActivity(record) => record.arn.len() + text(&record.encryption_configuration),
        Write::DeleteActivity { arn } => arn.len(),
        Write::Redrive { arn, .. } => arn.len(),
        Write::RedriveChild(record) => {
            record.input.len() + text(&record.output) + text(&record.error) + text(&record.cause)
        }
        Write::PutSecret { name, value } => name.len() + value.len(),
        Write::PutCallbackOutcome { token, execution_arn, outcome } => {
            ROW + token.len() + execution_arn.len() + outcome.len()
        }
        Write::DropCallbackOutcomes { execution_arn } => execution_arn.len(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_sender_over_budget_waits_until_the_writer_gives_back() {
        let budget = Arc::new(Budget::new(100));
        budget.take(80).unwrap();
        let (taken, waiter) = std::sync::mpsc::channel();
        let waiting = {
            let budget = Arc::clone(&budget);
            std::thread::spawn(move || taken.send(budget.take(30).is_ok()))
        };
        // The second sender cannot take its 30 while 80 of 100 are queued (this can only
        // pass wrongly, never fail wrongly, on a slow machine).
        assert!(waiter.recv_timeout(Duration::from_millis(50)).is_err());
        budget.give(80);
        assert!(waiter.recv().unwrap());
        waiting.join().unwrap().unwrap();
        assert_eq!(budget.queued(), 30);
    }

    #[test]
    fn one_unit_larger_than_the_budget_passes_alone() {
        let budget = Budget::new(100);
        budget.take(1_000).unwrap();
        assert_eq!(budget.queued(), 1_000);
    }

    #[test]
    fn closing_releases_waiters_with_an_error() {
        let budget = Arc::new(Budget::new(10));
        budget.take(10).unwrap();
        let waiting = {
            let budget = Arc::clone(&budget);
            std::thread::spawn(move || budget.take(5))
        };
        budget.close();
        assert!(waiting.join().unwrap().is_err());
    }

    #[test]
    fn history_weighs_its_details() {
        let event = |details: &str| crate::serve::store::EventRecord {
            execution_arn: "arn".to_owned(),
            id: 1,
            previous_event_id: 0,
            timestamp: chrono::DateTime::UNIX_EPOCH,
            event_type: "PassStateEntered".to_owned(),
            details: Some(details.to_owned()),
            key: None,
        };
        let small = weight(&[Write::AppendEvents(vec![event("{}")])]);
        let large = weight(&[Write::AppendEvents(vec![event(&"x".repeat(256 * 1024))])]);
        assert!(large >= small + 256 * 1024 - 2);
    }
}
