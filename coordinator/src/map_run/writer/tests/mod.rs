//! Tests of the ResultWriter: `export.rs` against real stores (in memory and on disk),
//! `shape.rs` for state results built in memory. The fixtures below are shared.

mod export;
mod shape;

use chrono::{DateTime, Utc};

use crate::map_run::record::{ChildRecord, ChildStatus};

/// Child `c<n>` of the Map Run `sm/Map`, with the fields a child of that status has: an output
/// `{"n":<n>,"ok":true}` when it succeeded, an error and cause when it failed, an error only when
/// it timed out, neither when aborted, no dates when it never started.
pub(super) fn child(n: u32, status: ChildStatus) -> ChildRecord {
    let name = format!("c{n}");
    let (error, cause) = match status {
        ChildStatus::Failed => (Some("States.TaskFailed"), Some("boom")),
        ChildStatus::TimedOut => (Some("States.Timeout"), None),
        _ => (None, None),
    };
    let started = status != ChildStatus::Pending;
    ChildRecord {
        status,
        execution_arn: format!("arn:aws:states:us-east-1:1:execution:sm/Map:{name}"),
        name,
        state_machine_arn: "arn:aws:states:us-east-1:1:stateMachine:sm/Map".to_owned(),
        input: format!(r#"{{"n":{n}}}"#).into(),
        output: (status == ChildStatus::Succeeded).then(|| format!(r#"{{"n":{n},"ok":true}}"#)),
        error: error.map(str::to_owned),
        cause: cause.map(str::to_owned),
        start_date: started.then(|| at("2025-02-04T01:49:49.001Z")),
        stop_date: started.then(|| at("2025-02-04T01:49:50.099Z")),
        item_count: 1,
    }
}

/// A succeeded child whose output is the JSON text `output`.
pub(super) fn returning(n: u32, output: &str) -> ChildRecord {
    ChildRecord { output: Some(output.to_owned()), ..child(n, ChildStatus::Succeeded) }
}

fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339).unwrap().with_timezone(&Utc)
}

/// The NONE records of the fixtures above, written out by hand in AWS's field order.
pub(super) mod none {
    pub const SUCCEEDED_1: &str = concat!(
        r#"{"ExecutionArn":"arn:aws:states:us-east-1:1:execution:sm/Map:c1","#,
        r#""Input":"{\"n\":1}","InputDetails":{"Included":true},"Name":"c1","#,
        r#""Output":"{\"n\":1,\"ok\":true}","OutputDetails":{"Included":true},"#,
        r#""RedriveCount":0,"RedriveStatus":"NOT_REDRIVABLE","#,
        r#""RedriveStatusReason":"Execution is SUCCEEDED and cannot be redriven","#,
        r#""StartDate":"2025-02-04T01:49:49.001Z","#,
        r#""StateMachineArn":"arn:aws:states:us-east-1:1:stateMachine:sm/Map","#,
        r#""Status":"SUCCEEDED","StopDate":"2025-02-04T01:49:50.099Z"}"#,
    );
    pub const FAILED_2: &str = concat!(
        r#"{"Cause":"boom","Error":"States.TaskFailed","#,
        r#""ExecutionArn":"arn:aws:states:us-east-1:1:execution:sm/Map:c2","#,
        r#""Input":"{\"n\":2}","InputDetails":{"Included":true},"Name":"c2","#,
        r#""RedriveCount":0,"RedriveStatus":"REDRIVABLE_BY_MAP_RUN","#,
        r#""StartDate":"2025-02-04T01:49:49.001Z","#,
        r#""StateMachineArn":"arn:aws:states:us-east-1:1:stateMachine:sm/Map","#,
        r#""Status":"FAILED","StopDate":"2025-02-04T01:49:50.099Z"}"#,
    );
    pub const TIMED_OUT_3: &str = concat!(
        r#"{"Error":"States.Timeout","#,
        r#""ExecutionArn":"arn:aws:states:us-east-1:1:execution:sm/Map:c3","#,
        r#""Input":"{\"n\":3}","InputDetails":{"Included":true},"Name":"c3","#,
        r#""RedriveCount":0,"RedriveStatus":"REDRIVABLE_BY_MAP_RUN","#,
        r#""StartDate":"2025-02-04T01:49:49.001Z","#,
        r#""StateMachineArn":"arn:aws:states:us-east-1:1:stateMachine:sm/Map","#,
        r#""Status":"TIMED_OUT","StopDate":"2025-02-04T01:49:50.099Z"}"#,
    );
    pub const ABORTED_4: &str = concat!(
        r#"{"ExecutionArn":"arn:aws:states:us-east-1:1:execution:sm/Map:c4","#,
        r#""Input":"{\"n\":4}","InputDetails":{"Included":true},"Name":"c4","#,
        r#""RedriveCount":0,"RedriveStatus":"REDRIVABLE_BY_MAP_RUN","#,
        r#""StartDate":"2025-02-04T01:49:49.001Z","#,
        r#""StateMachineArn":"arn:aws:states:us-east-1:1:stateMachine:sm/Map","#,
        r#""Status":"ABORTED","StopDate":"2025-02-04T01:49:50.099Z"}"#,
    );
    pub const PENDING_5: &str = concat!(
        r#"{"ExecutionArn":"arn:aws:states:us-east-1:1:execution:sm/Map:c5","#,
        r#""Input":"{\"n\":5}","InputDetails":{"Included":true},"Name":"c5","#,
        r#""StateMachineArn":"arn:aws:states:us-east-1:1:stateMachine:sm/Map","#,
        r#""Status":"PENDING"}"#,
    );
}
