//! RedriveExecution: an execution that failed, was aborted or timed out runs again from its
//! unsuccessful step, with the same ARN, definition and input, within AWS's rules.
//!
//! AWS's rules (API reference, RedriveExecution; Developer Guide, "Redriving executions"):
//! the execution is not SUCCEEDED (nor RUNNING); its redrivable period of 14 days from its
//! end has not passed; it has not been open for more than a year; its history holds fewer than
//! 24,999 events (room for `ExecutionRedriven` and one more). A redrive appends
//! `ExecutionRedriven {redriveCount}`, sets the execution RUNNING with `redriveCount` one more
//! and `redriveDate`, and resets the state machine's `TimeoutSeconds`. A `clientToken` makes
//! it idempotent: the last 10 tokens that redrove an execution answer the same `redriveDate`
//! for 15 minutes.
//!
//! How it runs: the history is replayed as after a restart, without the events of the failing
//! path (`generations`): successful steps are answered from the history, the rest runs again.
//! A Distributed Map on the failing path is redriven under the same Map Run ARN: its recorded
//! outcomes (`outcome_log`) are cut down to the successful children before it runs again, so
//! only its failed and pending items run.

use chrono::{DateTime, Duration, Utc};
use shared::protocol::{OutcomeStatus, read_outcomes, write_outcomes};

use super::generations::Redrive;
use super::{Engine, EngineError};
use crate::serve::store::{EventRecord, ExecutionRecord, ExecutionStatus, MachineType, Write};

/// AWS: an execution can be redriven for 14 days after it stopped.
pub const REDRIVABLE_DAYS: i64 = 14;
/// AWS: an execution is open for at most one year.
const MAX_OPEN_DAYS: i64 = 365;
/// AWS: the history must hold fewer than 24,999 events.
const MAX_EVENTS: u64 = 24_999;
/// Outcome logs past the redrive window are looked for at most this often.
const SWEEP_SECONDS: i64 = 3600;
/// AWS: idempotent answers for the last 10 client tokens of an execution...
const TOKENS_KEPT: usize = 10;
/// ...each for 15 minutes after its first use.
const TOKEN_MINUTES: i64 = 15;

/// Client tokens that redrove executions: (execution ARN, token) → (first used, redrive date).
pub(super) type Tokens =
    std::sync::Mutex<std::collections::HashMap<String, Vec<(String, DateTime<Utc>, DateTime<Utc>)>>>;

impl Engine {
    /// RedriveExecution: the redrive date, once the redrive is durable and the execution runs.
    pub async fn redrive(&self, execution_arn: &str, client_token: Option<&str>) -> Result<DateTime<Utc>, EngineError> {
        // One redrive at a time: two requests for the same execution must not both pass the
        // status check (redrives are rare; one lock costs nothing).
        let _one = self.inner.redriving.lock().await;
        // In the store's precision (microseconds), so that the answer is the date it keeps.
        let now = Utc::now();
        let now = DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now);
        if let Some(date) = client_token.and_then(|t| self.token_answer(execution_arn, t, now)) {
            return Ok(date);
        }
        let record = self
            .inner
            .store
            .execution(execution_arn)?
            .ok_or_else(|| EngineError::DoesNotExist(execution_arn.into()))?;
        if let Some(reason) = not_redrivable(&record, now) {
            return Err(EngineError::NotRedrivable(reason));
        }
        if self.inner.store.state_machine(&record.state_machine_arn)?.is_none() {
            // Deleted: AWS keeps a deleted state machine DELETING while it has executions.
            return Err(EngineError::NotRedrivable("State machine is in DELETING status".into()));
        }
        let mut events = self.inner.store.events(execution_arn, None, false, usize::MAX)?;
        let last_id = events.iter().map(|e| e.id).max().unwrap_or(1);
        if last_id >= MAX_EVENTS {
            return Err(EngineError::NotRedrivable("Execution history event limit exceeded".into()));
        }
        let Some(text) = self.inner.store.definition(&record.definition_hash)? else {
            return Err(EngineError::InvalidDefinition(format!(
                "the definition of {execution_arn} is missing from the store"
            )));
        };
        let machine = self.machine(&record.definition_hash, &text, record.machine_type)?;
        let name = record.state_machine_arn.rsplit(':').next().unwrap_or_default().to_string();
        let case = self.mock_case(&name, record.mock_test_case.as_deref(), &machine)?;
        let count = record.redrive_count + 1;
        let redriven = EventRecord {
            execution_arn: execution_arn.to_string(),
            id: last_id + 1,
            previous_event_id: last_id,
            timestamp: now,
            event_type: "ExecutionRedriven".into(),
            details: Some(serde_json::json!({ "redriveCount": count }).to_string()),
            key: None,
        };
        events.push(redriven.clone());
        let replay = super::generations::replay(events);
        let redrive = replay.redrive.clone().unwrap_or_default();
        if !redrive.map_runs.is_empty() && self.inner.remote_map_runs.load(std::sync::atomic::Ordering::Relaxed) {
            return Err(EngineError::NotRedrivable(
                "Execution stopped in a Distributed Map whose Map Run ran on NATS workers: dmap serve redrives \
                 Map Runs run in its own process only (the NATS checkpoint records the run as ended)"
                    .into(),
            ));
        }
        let mut unit =
            vec![Write::AppendEvents(vec![redriven]), Write::Redrive { arn: execution_arn.to_string(), date: now }];
        unit.extend(self.redrive_map_runs(&redrive, now)?);
        self.inner.store.commit(unit).await?;
        if let Some(t) = client_token {
            self.note_token(execution_arn, t, now);
        }
        let record = ExecutionRecord {
            status: ExecutionStatus::Running,
            output: None,
            error: None,
            cause: None,
            stop_date: None,
            redrive_count: count,
            redrive_date: Some(now),
            ..record
        };
        self.launch(record, machine, case, replay);
        Ok(now)
    }

    /// The writes that redrive the Map Runs on the failing path: each one's recorded outcomes
    /// cut down to its successful children (the rest run again), and its record's redrive
    /// count.
    fn redrive_map_runs(&self, redrive: &Redrive, now: DateTime<Utc>) -> Result<Vec<Write>, EngineError> {
        let mut unit = Vec::new();
        for (arn, count) in redrive.map_runs.values() {
            let Some(id) = arn.rsplit(':').next() else { continue };
            let mut kept = Vec::new();
            for body in self.inner.store.outcomes(id)? {
                if let Ok(outcomes) = read_outcomes(&body) {
                    kept.extend(outcomes.into_iter().filter(|o| o.status == OutcomeStatus::Succeeded));
                }
            }
            unit.push(Write::DropOutcomes { map_run_id: id.to_string() });
            if !kept.is_empty() {
                let mut body = Vec::new();
                write_outcomes(&kept, &mut body);
                unit.push(Write::AppendOutcomes { map_run_id: id.to_string(), body });
            }
            if let Some(mut run) = self.inner.store.map_run(arn)? {
                run.redrive_count = *count;
                run.redrive_date = Some(now);
                run.status = "RUNNING".into();
                run.stop_date = None;
                unit.push(Write::PutMapRun(run));
            }
        }
        Ok(unit)
    }

    /// Drops the recorded Map Run outcomes of executions whose redrive window has closed (they
    /// are kept after an unsuccessful end for a redrive). At start-up, and then at most once an
    /// hour as executions end.
    pub(super) fn sweep_outcomes(&self, now: DateTime<Utc>) {
        let last = self.inner.last_sweep.load(std::sync::atomic::Ordering::Relaxed);
        if now.timestamp() - last < SWEEP_SECONDS {
            return;
        }
        self.inner.last_sweep.store(now.timestamp(), std::sync::atomic::Ordering::Relaxed);
        match self.inner.store.expired_outcomes(now - Duration::days(REDRIVABLE_DAYS)) {
            Ok(ids) if !ids.is_empty() => {
                tracing::info!(map_runs = ids.len(), "dropping Map Run outcomes past the redrive window");
                self.inner.store.submit(ids.into_iter().map(|id| Write::DropOutcomes { map_run_id: id }).collect());
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "the Map Run outcomes past the redrive window cannot be listed"),
        }
    }

    /// The redrive date a client token already obtained for this execution, if it is one of
    /// the last 10 and less than 15 minutes old.
    fn token_answer(&self, arn: &str, token: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let tokens = self.inner.redrive_tokens.lock().unwrap_or_else(|e| e.into_inner());
        tokens
            .get(arn)?
            .iter()
            .find(|(t, first, _)| t == token && now - *first < Duration::minutes(TOKEN_MINUTES))
            .map(|(_, _, date)| *date)
    }

    fn note_token(&self, arn: &str, token: &str, now: DateTime<Utc>) {
        let mut tokens = self.inner.redrive_tokens.lock().unwrap_or_else(|e| e.into_inner());
        // Old tokens go first, so that the map does not grow with every execution ever redriven.
        tokens.retain(|_, v| {
            v.retain(|(_, first, _)| now - *first < Duration::minutes(TOKEN_MINUTES));
            !v.is_empty()
        });
        let list = tokens.entry(arn.to_string()).or_default();
        list.push((token.to_string(), now, now));
        if list.len() > TOKENS_KEPT {
            list.remove(0);
        }
    }
}

/// Why `record` cannot be redriven at `now` (AWS's `redriveStatusReason` texts, DescribeExecution
/// in the API reference), or `None` when it can.
pub fn not_redrivable(record: &ExecutionRecord, now: DateTime<Utc>) -> Option<String> {
    match record.status {
        ExecutionStatus::Running | ExecutionStatus::Succeeded | ExecutionStatus::PendingRedrive => {
            return Some(format!("Execution is {} and cannot be redriven", record.status.as_str()));
        }
        ExecutionStatus::Failed | ExecutionStatus::TimedOut | ExecutionStatus::Aborted => {}
    }
    if record.machine_type == MachineType::Express {
        // AWS: RedriveExecution "is not supported by EXPRESS state machines".
        return Some("Execution of an EXPRESS state machine cannot be redriven".into());
    }
    if record.map_run_arn.is_some() {
        // A Map Run's child is redriven with its Map Run, by redriving the parent execution
        // (its redriveStatus is REDRIVABLE_BY_MAP_RUN).
        return Some("Execution was started by a Map Run: redrive its parent execution".into());
    }
    let stopped = record.stop_date.unwrap_or(record.start_date);
    if now - stopped > Duration::days(REDRIVABLE_DAYS) {
        return Some("Execution redrivable period exceeded".into());
    }
    if now - record.start_date > Duration::days(MAX_OPEN_DAYS) {
        return Some("Execution has exceeded the max execution time".into());
    }
    None
}
