//! What SNS `publish`, SQS `sendMessage` and EventBridge `putEvents` change around their API:
//! a message given as JSON is sent as its JSON text (the pages' examples pass objects to
//! `Message`, `MessageBody` and `Detail`, which the APIs take as strings), and `putEvents`
//! appends the execution's and state machine's ARNs to each entry's `Resources` and fails the
//! Task with `EventBridge.FailedEntry` when an entry failed ("If the response from PutEvents
//! contains a non-zero FailedEntryCount then the Task state fails with the error
//! EventBridge.FailedEntry").
//!
//! Owns: those request and result changes. Must not: call anything.

use serde_json::Value;
use shared::asl::Failure;

/// Replaces a non-string `member` of `input` by its compact JSON text.
pub fn stringify(mut input: Value, member: &str) -> Value {
    if let Some(value) = input.get_mut(member) {
        stringify_value(value);
    }
    input
}

fn stringify_value(value: &mut Value) {
    if !value.is_string() {
        *value = Value::String(value.to_string());
    }
}

/// The `putEvents` request Step Functions sends for `input`.
pub fn put_events_request(mut input: Value, execution_arn: &str) -> Value {
    let arns: Vec<Value> =
        std::iter::once(execution_arn.to_owned()).chain(state_machine_arn(execution_arn)).map(Value::String).collect();
    if let Some(Value::Array(entries)) = input.get_mut("Entries") {
        for entry in entries.iter_mut().filter_map(Value::as_object_mut) {
            if let Some(detail) = entry.get_mut("Detail") {
                stringify_value(detail);
            }
            let resources = entry.entry("Resources").or_insert_with(|| Value::Array(Vec::new()));
            if let Value::Array(list) = resources {
                list.extend(arns.iter().cloned());
            }
        }
    }
    input
}

/// The Task's result for a `putEvents` answer, or `EventBridge.FailedEntry` with the answer's
/// entries (each failed one carries its `ErrorCode` and `ErrorMessage`) as the Cause.
pub fn put_events_result(output: Value) -> Result<Value, Failure> {
    let failed = output.get("FailedEntryCount").and_then(Value::as_u64).unwrap_or(0);
    if failed == 0 {
        return Ok(output);
    }
    let entries = output.get("Entries").cloned().unwrap_or(Value::Array(Vec::new()));
    Err(Failure::new("EventBridge.FailedEntry", entries.to_string()))
}

/// `arn:aws:states:R:A:execution:SM:NAME` → `arn:aws:states:R:A:stateMachine:SM`.
fn state_machine_arn(execution_arn: &str) -> Option<String> {
    let parts: Vec<&str> = execution_arn.split(':').collect();
    match parts.as_slice() {
        [arn, partition, service, region, account, "execution" | "express", machine, ..] => {
            Some(format!("{arn}:{partition}:{service}:{region}:{account}:stateMachine:{machine}"))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const EXECUTION: &str = "arn:aws:states:us-east-1:123456789012:execution:Orders:run-1";

    #[test]
    fn a_json_message_is_sent_as_its_text_and_a_string_as_it_is() {
        let sent = stringify(json!({"TopicArn": "t", "Message": {"a": 1, "b": [true]}}), "Message");
        assert_eq!(sent, json!({"TopicArn": "t", "Message": "{\"a\":1,\"b\":[true]}"}));
        let sent = stringify(json!({"QueueUrl": "q", "MessageBody": "plain"}), "MessageBody");
        assert_eq!(sent, json!({"QueueUrl": "q", "MessageBody": "plain"}));
    }

    #[test]
    fn put_events_stringifies_detail_and_appends_both_arns() {
        let input = json!({"Entries": [
            {"Detail": {"Message": "MyMessage"}, "DetailType": "MyDetailType", "Source": "my.source"},
            {"Detail": "{}", "Resources": ["arn:aws:s3:::b"], "Source": "my.source", "DetailType": "x"}
        ]});
        let sent = put_events_request(input, EXECUTION);
        let machine = "arn:aws:states:us-east-1:123456789012:stateMachine:Orders";
        assert_eq!(
            sent,
            json!({"Entries": [
                {"Detail": "{\"Message\":\"MyMessage\"}", "DetailType": "MyDetailType", "Source": "my.source",
                 "Resources": [EXECUTION, machine]},
                {"Detail": "{}", "Resources": ["arn:aws:s3:::b", EXECUTION, machine], "Source": "my.source", "DetailType": "x"}
            ]})
        );
    }

    #[test]
    fn a_failed_entry_fails_the_task_with_the_entries_as_cause() {
        let answer = json!({"FailedEntryCount": 1, "Entries": [
            {"EventId": "e1"}, {"ErrorCode": "InternalFailure", "ErrorMessage": "boom"}
        ]});
        let failure = put_events_result(answer).unwrap_err();
        assert_eq!(failure.error.as_deref(), Some("EventBridge.FailedEntry"));
        let cause: Value = serde_json::from_str(failure.cause.as_deref().unwrap()).unwrap();
        assert_eq!(cause, json!([{"EventId": "e1"}, {"ErrorCode": "InternalFailure", "ErrorMessage": "boom"}]));
        let ok = json!({"FailedEntryCount": 0, "Entries": [{"EventId": "e1"}]});
        assert_eq!(put_events_result(ok.clone()), Ok(ok));
    }
}
