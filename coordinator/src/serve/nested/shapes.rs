//! What a `states:startExecution` Task returns, in AWS's shapes: the StartExecution answer
//! (request-response and `.waitForTaskToken`), the child's DescribeExecution-like document
//! (`.sync`: `Input` and `Output` as JSON text; `.sync:2`: as JSON), and the cause of a Task
//! whose child did not succeed.
//!
//! The shapes are AWS's as recorded on AWS by LocalStack's snapshot tests
//! (`tests/aws/services/stepfunctions/v2/callback/test_callback.snapshot.json`:
//! `test_start_execution_sync`, `…_sync2`, `…_sync_delegate_failure`, `…_delegate_timeout`;
//! `v2/services/test_sfn_task_service.snapshot.json`: `test_start_execution`): PascalCase
//! members in alphabetical order, `InputDetails`/`OutputDetails` as `{"Included": true}`, and a
//! failed child as `States.TaskFailed` whose Cause is that document without `Output`.
//! Timestamps are ISO-8601 in UTC with milliseconds, as a nested execution's `StartDate` reads
//! in an output recorded on AWS (and as dmap writes every timestamp in a state).
//!
//! Owns: building those values. Must not: start or wait for anything.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value, json};
use shared::asl::Failure;
use shared::asl::error_name::TASK_FAILED;

use crate::serve::store::ExecutionRecord;

/// A timestamp as Step Functions writes one into a state.
pub fn timestamp(t: DateTime<Utc>) -> Value {
    Value::String(t.to_rfc3339_opts(SecondsFormat::Millis, true))
}

/// StartExecution's answer as the optimized integration returns it: `ExecutionArn`,
/// `StartDate`, and the Java SDK v1 response metadata AWS leaves in (`SdkHttpMetadata`,
/// `SdkResponseMetadata`), as for its other optimized integrations.
pub fn started(record: &ExecutionRecord, request_id: &str, now: DateTime<Utc>) -> Value {
    let body = json!({"executionArn": record.arn, "startDate": record.start_date.timestamp_millis() as f64 / 1000.0});
    let length = body.to_string().len().to_string();
    let date = now.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
    let headers = [
        ("x-amzn-RequestId", request_id.to_string()),
        ("Content-Length", length),
        ("Date", date),
        ("Content-Type", "application/x-amz-json-1.0".to_string()),
    ];
    let all: Map<String, Value> = headers.iter().map(|(k, v)| (k.to_string(), json!([v]))).collect();
    let single: Map<String, Value> = headers.iter().map(|(k, v)| (k.to_string(), json!(v))).collect();
    json!({
        "ExecutionArn": record.arn,
        "SdkHttpMetadata": {"AllHttpHeaders": all, "HttpHeaders": single, "HttpStatusCode": 200},
        "SdkResponseMetadata": {"RequestId": request_id},
        "StartDate": timestamp(record.start_date),
    })
}

/// The child's document: what `.sync` (`json_data: false`) and `.sync:2` return when it
/// succeeded, and (without `Output`) the Cause when it did not.
pub fn described(record: &ExecutionRecord, json_data: bool) -> Value {
    let data = |text: &str| match json_data {
        true => serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string())),
        false => Value::String(text.to_string()),
    };
    // Alphabetical, as AWS's document lists its members.
    let mut m = Map::new();
    if let Some(c) = &record.cause {
        m.insert("Cause".into(), json!(c));
    }
    if let Some(e) = &record.error {
        m.insert("Error".into(), json!(e));
    }
    m.insert("ExecutionArn".into(), json!(record.arn));
    m.insert("Input".into(), data(&record.input));
    m.insert("InputDetails".into(), json!({"Included": true}));
    m.insert("Name".into(), json!(record.name));
    if let Some(o) = &record.output {
        m.insert("Output".into(), data(o));
        m.insert("OutputDetails".into(), json!({"Included": true}));
    }
    m.insert("StartDate".into(), timestamp(record.start_date));
    if let Some(a) = &record.alias_arn {
        m.insert("StateMachineAliasArn".into(), json!(a));
    }
    m.insert("StateMachineArn".into(), json!(record.state_machine_arn));
    if let Some(v) = &record.version_arn {
        m.insert("StateMachineVersionArn".into(), json!(v));
    }
    m.insert("Status".into(), json!(record.status.as_str()));
    if let Some(s) = record.stop_date {
        m.insert("StopDate".into(), timestamp(s));
    }
    if let Some(t) = &record.trace_header {
        m.insert("TraceHeader".into(), json!(t));
    }
    Value::Object(m)
}

/// A child that failed, timed out or was aborted: the parent's Task fails with
/// `States.TaskFailed`, its Cause the child's document as JSON text.
pub fn child_failed(record: &ExecutionRecord, json_data: bool) -> Failure {
    Failure::new(TASK_FAILED, described(record, json_data).to_string())
}

/// A StartExecution refused (the API's code and message), named as AWS names the errors of
/// its Step Functions integration: the Java SDK v1 exception, `StepFunctions.<Code>Exception`,
/// with a Cause in that SDK's format.
pub fn refused(code: &str, message: &str, status: u16, request_id: &str) -> Failure {
    let class = if code.ends_with("Exception") { code.to_string() } else { format!("{code}Exception") };
    Failure::new(
        format!("StepFunctions.{class}"),
        format!(
            "{message} (Service: AWSStepFunctions; Status Code: {status}; Error Code: {code}; Request ID: {request_id}; Proxy: null)"
        ),
    )
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::serve::store::{ExecutionStatus, MachineType};

    fn child(status: ExecutionStatus, output: Option<&str>, error: Option<(&str, &str)>) -> ExecutionRecord {
        ExecutionRecord {
            arn: "arn:aws:states:us-east-1:123456789012:execution:Child:TestStartTarget".into(),
            name: "TestStartTarget".into(),
            state_machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:Child".into(),
            version_arn: None,
            alias_arn: None,
            machine_type: MachineType::Standard,
            status,
            input: "{}".into(),
            output: output.map(str::to_string),
            error: error.map(|e| e.0.to_string()),
            cause: error.map(|e| e.1.to_string()),
            start_date: Utc.with_ymd_and_hms(2023, 7, 5, 15, 55, 50).unwrap(),
            stop_date: Some(Utc.with_ymd_and_hms(2023, 7, 5, 15, 55, 51).unwrap()),
            definition_hash: String::new(),
            role_arn: String::new(),
            trace_header: None,
            map_run_arn: None,
            item_count: None,
            redrive_count: 0,
            redrive_date: None,
            mock_test_case: None,
        }
    }

    /// AWS's `.sync` and `.sync:2` documents of a child that succeeded with
    /// `{"Arg1":"argument1"}` from input `{}` (LocalStack's AWS-recorded snapshots
    /// `test_start_execution_sync` and `test_start_execution_sync2`).
    #[test]
    fn sync_gives_text_and_sync2_gives_json() {
        let c = child(ExecutionStatus::Succeeded, Some(r#"{"Arg1":"argument1"}"#), None);
        let text = described(&c, false);
        let keys: Vec<&str> = text.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "ExecutionArn",
                "Input",
                "InputDetails",
                "Name",
                "Output",
                "OutputDetails",
                "StartDate",
                "StateMachineArn",
                "Status",
                "StopDate"
            ]
        );
        assert_eq!(text["Input"], json!("{}"));
        assert_eq!(text["Output"], json!("{\"Arg1\":\"argument1\"}"));
        assert_eq!(text["InputDetails"], json!({"Included": true}));
        assert_eq!(text["Status"], json!("SUCCEEDED"));
        let structured = described(&c, true);
        assert_eq!(structured["Input"], json!({}));
        assert_eq!(structured["Output"], json!({"Arg1": "argument1"}));
        assert_eq!(structured["StartDate"], json!("2023-07-05T15:55:50.000Z"));
    }

    /// AWS's TaskFailed of `test_start_execution_sync_delegate_failure`: error
    /// `States.TaskFailed`, Cause the document with the child's Error and Cause, no Output.
    #[test]
    fn a_failed_child_is_a_task_failed_with_its_document_as_cause() {
        let c = child(
            ExecutionStatus::Failed,
            None,
            Some(("SomeFailure", "This state machines raises a 'SomeFailure' failure.")),
        );
        let f = child_failed(&c, false);
        assert_eq!(f.error.as_deref(), Some("States.TaskFailed"));
        let cause: Value = serde_json::from_str(f.cause.as_deref().unwrap()).unwrap();
        let keys: Vec<&str> = cause.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "Cause",
                "Error",
                "ExecutionArn",
                "Input",
                "InputDetails",
                "Name",
                "StartDate",
                "StateMachineArn",
                "Status",
                "StopDate"
            ]
        );
        assert_eq!(cause["Status"], json!("FAILED"));
        assert_eq!(cause["Error"], json!("SomeFailure"));
    }

    /// LocalStack's provider, validated on AWS, names a refused StartExecution
    /// `StepFunctions.<Code>Exception` with the SDK v1 Cause.
    #[test]
    fn refusals_read_as_the_sdk_v1_exceptions() {
        let f = refused("StateMachineDoesNotExist", "State Machine Does Not Exist: 'x'", 400, "r-1");
        assert_eq!(f.error.as_deref(), Some("StepFunctions.StateMachineDoesNotExistException"));
        assert_eq!(
            f.cause.as_deref(),
            Some(
                "State Machine Does Not Exist: 'x' (Service: AWSStepFunctions; Status Code: 400; Error Code: \
                 StateMachineDoesNotExist; Request ID: r-1; Proxy: null)"
            )
        );
    }

    #[test]
    fn the_start_answer_has_the_arn_date_and_sdk_metadata() {
        let c = child(ExecutionStatus::Running, None, None);
        let v = started(&c, "r-2", Utc.with_ymd_and_hms(2023, 7, 5, 15, 55, 50).unwrap());
        assert_eq!(v["ExecutionArn"], json!(c.arn));
        assert_eq!(v["StartDate"], json!("2023-07-05T15:55:50.000Z"));
        assert_eq!(v["SdkHttpMetadata"]["HttpStatusCode"], json!(200));
        assert_eq!(v["SdkResponseMetadata"]["RequestId"], json!("r-2"));
        assert_eq!(v["SdkHttpMetadata"]["HttpHeaders"]["Date"], json!("Wed, 05 Jul 2023 15:55:50 GMT"));
    }
}
