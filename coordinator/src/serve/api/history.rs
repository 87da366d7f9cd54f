//! History events as GetExecutionHistory returns them: the store keeps each event's details
//! as the members of AWS's `<x>EventDetails` object; this module names the member of
//! botocore's `HistoryEvent` shape that carries them for each event type, and drops the
//! execution data (`input`, `output`) when the caller asks for none. Pure: no store access.

use serde_json::{Map, Value};

use super::epoch;
use crate::serve::store::EventRecord;

/// The `HistoryEvent` members that carry details, as botocore's model names them. An event
/// type whose lower-camel-case name plus `EventDetails` is one of these uses it; the
/// `…StateEntered` and `…StateExited` types share two members.
const DETAIL_MEMBERS: &[&str] = &[
    "activityFailedEventDetails",
    "activityScheduleFailedEventDetails",
    "activityScheduledEventDetails",
    "activityStartedEventDetails",
    "activitySucceededEventDetails",
    "activityTimedOutEventDetails",
    "taskFailedEventDetails",
    "taskScheduledEventDetails",
    "taskStartFailedEventDetails",
    "taskStartedEventDetails",
    "taskSubmitFailedEventDetails",
    "taskSubmittedEventDetails",
    "taskSucceededEventDetails",
    "taskTimedOutEventDetails",
    "executionFailedEventDetails",
    "executionStartedEventDetails",
    "executionSucceededEventDetails",
    "executionAbortedEventDetails",
    "executionTimedOutEventDetails",
    "executionRedrivenEventDetails",
    "mapStateStartedEventDetails",
    "mapIterationStartedEventDetails",
    "mapIterationSucceededEventDetails",
    "mapIterationFailedEventDetails",
    "mapIterationAbortedEventDetails",
    "lambdaFunctionFailedEventDetails",
    "lambdaFunctionScheduleFailedEventDetails",
    "lambdaFunctionScheduledEventDetails",
    "lambdaFunctionStartFailedEventDetails",
    "lambdaFunctionSucceededEventDetails",
    "lambdaFunctionTimedOutEventDetails",
    "mapRunStartedEventDetails",
    "mapRunFailedEventDetails",
    "mapRunRedrivenEventDetails",
    "evaluationFailedEventDetails",
];

/// The `HistoryEvent` member that carries the details of events of `event_type`, if any.
pub fn details_member(event_type: &str) -> Option<String> {
    if event_type.ends_with("StateEntered") {
        return Some("stateEnteredEventDetails".into());
    }
    if event_type.ends_with("StateExited") {
        return Some("stateExitedEventDetails".into());
    }
    let mut chars = event_type.chars();
    let first = chars.next()?.to_ascii_lowercase();
    let member = format!("{first}{}EventDetails", chars.as_str());
    DETAIL_MEMBERS.contains(&member.as_str()).then_some(member)
}

/// One event as GetExecutionHistory returns it.
pub fn event(e: &EventRecord, include_data: bool) -> Value {
    let mut m = Map::new();
    m.insert("timestamp".into(), epoch(e.timestamp));
    m.insert("type".into(), Value::from(e.event_type.clone()));
    m.insert("id".into(), Value::from(e.id));
    m.insert("previousEventId".into(), Value::from(e.previous_event_id));
    let details = e.details.as_deref().and_then(|t| serde_json::from_str::<Value>(t).ok());
    if let (Some(member), Some(Value::Object(mut details))) = (details_member(&e.event_type), details) {
        if !include_data {
            details.remove("input");
            details.remove("output");
        }
        m.insert(member, Value::Object(details));
    }
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use serde_json::json;

    use super::*;

    #[test]
    fn types_name_botocores_members() {
        assert_eq!(details_member("TaskStateEntered").as_deref(), Some("stateEnteredEventDetails"));
        assert_eq!(details_member("ChoiceStateExited").as_deref(), Some("stateExitedEventDetails"));
        assert_eq!(details_member("ExecutionStarted").as_deref(), Some("executionStartedEventDetails"));
        assert_eq!(details_member("MapIterationFailed").as_deref(), Some("mapIterationFailedEventDetails"));
        assert_eq!(
            details_member("LambdaFunctionScheduleFailed").as_deref(),
            Some("lambdaFunctionScheduleFailedEventDetails")
        );
        assert_eq!(details_member("MapRunStarted").as_deref(), Some("mapRunStartedEventDetails"));
        // Types without details in botocore's HistoryEvent.
        assert_eq!(details_member("MapStateSucceeded"), None);
        assert_eq!(details_member("ParallelStateStarted"), None);
        assert_eq!(details_member("WaitStateAborted"), None);
    }

    #[test]
    fn without_execution_data_input_and_output_go_and_their_details_stay() {
        let e = EventRecord {
            execution_arn: "arn:aws:states:us-east-1:123456789012:execution:m:e".into(),
            id: 2,
            previous_event_id: 1,
            timestamp: Utc.timestamp_millis_opt(1_700_000_000_250).single().expect("a time"),
            event_type: "PassStateEntered".into(),
            details: Some(r#"{"name":"A","input":"{}","inputDetails":{"truncated":false}}"#.into()),
            key: None,
        };
        assert_eq!(
            event(&e, false),
            json!({"timestamp": 1_700_000_000.25, "type": "PassStateEntered", "id": 2, "previousEventId": 1,
                   "stateEnteredEventDetails": {"name": "A", "inputDetails": {"truncated": false}}})
        );
        assert_eq!(event(&e, true)["stateEnteredEventDetails"]["input"], "{}");
    }
}
