//! The workload of `bench serve`: one 3-state machine (Pass with Parameters → Choice →
//! Succeed), started as a Standard execution (`StartExecution`, unique names) or run as a
//! synchronous Express one (`StartSyncExecution`), with the answers each must get.
//!
//! The expected output comes from the Amazon States Language, not from dmap: the Pass state's
//! `Parameters` make `{"n": <input n>, "tag": "bench"}`, the Choice passes its input on
//! unchanged, and Succeed ends with it.

use bytes::Bytes;
use serde_json::{Value, json};

use super::load::Workload;

/// The machine, literally as a user writes it.
pub const DEFINITION: &str = r#"{
  "Comment": "bench serve: three states",
  "StartAt": "Shape",
  "States": {
    "Shape": {"Type": "Pass", "Parameters": {"n.$": "$.n", "tag": "bench"}, "Next": "Route"},
    "Route": {
      "Type": "Choice",
      "Choices": [{"Variable": "$.n", "NumericGreaterThanEquals": 0, "Next": "Done"}],
      "Default": "Done"
    },
    "Done": {"Type": "Succeed"}
  }
}"#;

/// States an execution enters (AWS bills and throttles state transitions).
pub const STATES: f64 = 3.0;

/// The role every state machine names (the server checks its form, not its permissions).
pub const ROLE: &str = "arn:aws:iam::123456789012:role/bench-serve";

/// The input of request `seq`: `{"n": seq}` as the JSON text the API carries.
pub fn input(seq: u64) -> String {
    format!("{{\"n\":{seq}}}")
}

/// What an execution of [`input`]`(seq)` must output.
pub fn expected_output(seq: u64) -> Value {
    json!({"n": seq, "tag": "bench"})
}

/// The execution name of request `seq` on connection `conn`, unique within a state machine.
pub fn name(prefix: &str, conn: usize, seq: u64) -> String {
    format!("{prefix}-{conn}-{seq}")
}

/// The `seq` a [`name`] was made from.
pub fn seq_of(name: &str) -> Option<u64> {
    name.rsplit('-').next()?.parse().ok()
}

/// `StartExecution` of a Standard machine with unique names: the answer must carry the new
/// execution's ARN and its start date.
pub struct Start {
    pub state_machine_arn: String,
    pub prefix: String,
}

impl Workload for Start {
    fn action(&self) -> &'static str {
        "StartExecution"
    }

    fn body(&self, conn: usize, seq: u64) -> Bytes {
        let body = json!({
            "stateMachineArn": self.state_machine_arn,
            "name": name(&self.prefix, conn, seq),
            "input": input(seq),
        });
        Bytes::from(body.to_string())
    }

    fn check(&self, _conn: usize, _seq: u64, answer: &Value) -> Result<(), String> {
        let arn = answer["executionArn"].as_str().unwrap_or_default();
        if arn.starts_with("arn:aws:states:") && answer["startDate"].is_number() {
            Ok(())
        } else {
            Err(format!("StartExecution answered {answer} (no executionArn or startDate)"))
        }
    }
}

/// `StartSyncExecution` of an Express machine: every answer must be SUCCEEDED with the output
/// the input implies.
pub struct StartSync {
    pub state_machine_arn: String,
}

impl Workload for StartSync {
    fn action(&self) -> &'static str {
        "StartSyncExecution"
    }

    fn body(&self, _conn: usize, seq: u64) -> Bytes {
        Bytes::from(json!({"stateMachineArn": self.state_machine_arn, "input": input(seq)}).to_string())
    }

    fn check(&self, _conn: usize, seq: u64, answer: &Value) -> Result<(), String> {
        let status = answer["status"].as_str().unwrap_or_default();
        let output = answer["output"].as_str().and_then(|o| serde_json::from_str::<Value>(o).ok());
        if status == "SUCCEEDED" && output == Some(expected_output(seq)) {
            Ok(())
        } else {
            Err(format!("StartSyncExecution of {} answered {answer}", input(seq)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_definition_is_the_three_state_machine() {
        let def: Value = serde_json::from_str(DEFINITION).unwrap();
        assert_eq!(def["States"].as_object().unwrap().len() as f64, STATES);
        assert_eq!(def["StartAt"], "Shape");
    }

    #[test]
    fn names_are_unique_per_connection_and_give_back_their_seq() {
        assert_eq!(name("r0", 3, 41), "r0-3-41");
        assert_ne!(name("r0", 1, 23), name("r0", 12, 3));
        assert_eq!(seq_of(&name("warm-r1", 63, 99_999)), Some(99_999));
        assert_eq!(seq_of("no-number-x"), None);
    }

    #[test]
    fn sync_answers_must_succeed_with_the_expected_output() {
        let w = StartSync { state_machine_arn: "arn".into() };
        let ok = json!({"status": "SUCCEEDED", "output": "{\"tag\":\"bench\",\"n\":5}"});
        assert!(w.check(0, 5, &ok).is_ok());
        assert!(w.check(0, 6, &ok).is_err());
        let failed = json!({"status": "FAILED", "error": "States.Runtime"});
        assert!(w.check(0, 5, &failed).is_err());
        let body: Value = serde_json::from_slice(&w.body(0, 5)).unwrap();
        assert_eq!(body["input"], "{\"n\":5}");
    }
}
