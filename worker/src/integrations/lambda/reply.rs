//! AWS's shapes for what comes back from a function: the `lambda:invoke` wrapper, and every
//! failure as Step Functions reports it — `Error` = the Lambda `errorType`, `Cause` = the error
//! payload as JSON text — so that Retry and Catch match the same names as on AWS.

use serde_json::{Map, Value, json};
use shared::asl::Failure;
use shared::asl::error_name::DATA_LIMIT_EXCEEDED;

/// Lambda's own cap on a synchronous response. It bounds memory when payload limits are off,
/// and nothing larger could come back from a function on AWS either.
pub const LAMBDA_RESPONSE_LIMIT: usize = 6_291_556;

/// A function's result: JSON when the bytes are JSON, otherwise the text as a JSON string
/// (what `lambda:invoke` puts in `Payload`). No output at all is `null`, as a Python handler
/// returning `None`.
pub fn payload(bytes: &[u8]) -> Value {
    let text = String::from_utf8_lossy(bytes);
    if text.trim().is_empty() {
        return Value::Null;
    }
    serde_json::from_str(&text).unwrap_or_else(|_| Value::String(text.into_owned()))
}

/// The error a function reported (`{"errorType", "errorMessage", "stackTrace"?, ...}`).
/// The cause keeps the Python runtime's key order and adds the request id as it does; without
/// an `errorType` Step Functions cannot name the error and reports `Lambda.Unknown`.
pub fn function_error(error: Value, request_id: &str) -> Failure {
    let Value::Object(mut fields) = error else {
        return unknown_error(&error);
    };
    let Some(error_type) = fields.get("errorType").and_then(Value::as_str).filter(|t| !t.is_empty()) else {
        return unknown_error(&Value::Object(fields));
    };
    let error_type = error_type.to_string();
    let mut cause = Map::new();
    for key in ["errorMessage", "errorType"] {
        if let Some(v) = fields.remove(key) {
            cause.insert(key.into(), v);
        }
    }
    let id = fields.remove("requestId").unwrap_or_else(|| Value::String(request_id.into()));
    cause.insert("requestId".into(), id);
    if let Some(v) = fields.remove("stackTrace") {
        cause.insert("stackTrace".into(), v);
    }
    cause.extend(fields);
    Failure::new(error_type, Value::Object(cause).to_string())
}

fn unknown_error(payload: &Value) -> Failure {
    Failure::new(
        "Lambda.Unknown",
        format!(
            "The cause could not be determined because Lambda did not return an error type. Returned payload: {payload}"
        ),
    )
}

/// An error Lambda itself reports for a call (`Sandbox.Timedout`, `Runtime.ExitError`, ...),
/// in the shape Lambda's runtime interface gives it.
pub fn runtime_error(error_type: &str, request_id: &str, message: &str) -> Failure {
    let cause = json!({"errorMessage": format!("RequestId: {request_id} Error: {message}"), "errorType": error_type});
    Failure::new(error_type, cause.to_string())
}

/// The function ran past its own `timeout_seconds`.
pub fn timed_out(request_id: &str, seconds: u64) -> Failure {
    runtime_error("Sandbox.Timedout", request_id, &format!("Task timed out after {seconds}.00 seconds"))
}

/// The process ended during a call. `status` reads as Lambda's ("exit status 1",
/// "signal: killed"); `detail` is appended when there is more to say (stderr's last lines).
pub fn exited(request_id: &str, status: Option<std::process::ExitStatus>, detail: &str) -> Failure {
    let mut message = format!("Runtime exited with error: {}", describe_status(status));
    if !detail.is_empty() {
        message.push('\n');
        message.push_str(detail);
    }
    runtime_error("Runtime.ExitError", request_id, &message)
}

/// The program could not be started (missing, not executable, bad working directory): Lambda
/// reports an entry point it cannot run this way.
pub fn cannot_start(request_id: &str, function: &str, error: &std::io::Error) -> Failure {
    runtime_error(
        "Runtime.InvalidEntrypoint",
        request_id,
        &format!("cannot start the command of '{function}': {error}"),
    )
}

/// The process broke the JSON Lines protocol. `Lambda.ServiceException` is in the retrier
/// AWS recommends for every Lambda task, so a flaky runtime is retried as on AWS.
pub fn protocol_error(function: &str, problem: &str) -> Failure {
    Failure::new(
        "Lambda.ServiceException",
        format!("dmap: the process of function '{function}' broke the JSON Lines protocol: {problem}"),
    )
}

/// An HTTP function could not be reached, as the AWS SDK reports a failed request.
pub fn unreachable(function: &str, url: &str, error: &str) -> Failure {
    Failure::new(
        "Lambda.SdkClientException",
        format!("Unable to execute HTTP request: {error} (dmap: function '{function}' at {url})"),
    )
}

/// A response longer than the payload limit: what Step Functions reports for a result over
/// 256 KiB (the engine's own text); over Lambda's 6 MB cap, Lambda's error.
pub fn too_large(state_name: &str, limit: usize, request_id: &str) -> Failure {
    if limit >= LAMBDA_RESPONSE_LIMIT {
        let message = format!("Response payload size exceeded maximum allowed payload size ({limit} bytes).");
        let cause =
            json!({"errorMessage": message, "errorType": "Function.ResponseSizeTooLarge", "requestId": request_id});
        return Failure::new("Function.ResponseSizeTooLarge", cause.to_string());
    }
    Failure::new(
        DATA_LIMIT_EXCEEDED,
        format!(
            "The state/task '{state_name}' returned a result with a size exceeding the maximum number of bytes service limit."
        ),
    )
}

fn describe_status(status: Option<std::process::ExitStatus>) -> String {
    use std::os::unix::process::ExitStatusExt;
    let Some(status) = status else { return "unknown exit status".into() };
    if let Some(code) = status.code() {
        return format!("exit status {code}");
    }
    // Go's names, as Lambda's runtime interface (written in Go) prints them.
    match status.signal() {
        Some(6) => "signal: aborted".into(),
        Some(9) => "signal: killed".into(),
        Some(11) => "signal: segmentation fault".into(),
        Some(15) => "signal: terminated".into(),
        Some(n) => format!("signal: {n}"),
        None => status.to_string(),
    }
}

/// The result of `arn:aws:states:::lambda:invoke`: the function's result in `Payload` with the
/// metadata of Lambda's Invoke response, dated `now` — also what `dmap test`'s mocks return.
pub fn invoke_response(payload: Value, request_id: &str, now: chrono::DateTime<chrono::Utc>) -> Value {
    let date = now.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
    // Measured without serialising: batches make payloads large.
    let length = shared::asl::eval::json_size(&payload, usize::MAX).to_string();
    let digits: String = request_id.chars().filter(char::is_ascii_hexdigit).take(24).collect();
    let trace = format!("Root=1-{:08x}-{digits:0>24};Sampled=0", now.timestamp());
    json!({
        "ExecutedVersion": "$LATEST",
        "Payload": payload,
        "SdkHttpMetadata": {
            "AllHttpHeaders": {
                "X-Amz-Executed-Version": ["$LATEST"],
                "x-amzn-Remapped-Content-Length": ["0"],
                "Connection": ["keep-alive"],
                "x-amzn-RequestId": [request_id],
                "Content-Length": [length],
                "Date": [date],
                "X-Amzn-Trace-Id": [trace],
                "Content-Type": ["application/json"],
            },
            "HttpHeaders": {
                "Connection": "keep-alive",
                "Content-Length": length,
                "Content-Type": "application/json",
                "Date": date,
                "X-Amz-Executed-Version": "$LATEST",
                "x-amzn-Remapped-Content-Length": "0",
                "x-amzn-RequestId": request_id,
                "X-Amzn-Trace-Id": trace,
            },
            "HttpStatusCode": 200,
        },
        "SdkResponseMetadata": { "RequestId": request_id },
        "StatusCode": 200,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads() {
        assert_eq!(payload(b"{\"a\":1}\n"), json!({"a": 1}));
        assert_eq!(payload(b"\"s\""), json!("s"));
        assert_eq!(payload(b"hello world\n"), json!("hello world\n"));
        assert_eq!(payload(b"  \n"), Value::Null);
    }

    #[test]
    fn function_errors_keep_aws_order() {
        let f =
            function_error(json!({"stackTrace": ["x"], "errorType": "Boom", "errorMessage": "m", "extra": 1}), "r1");
        assert_eq!(f.error.as_deref(), Some("Boom"));
        assert_eq!(
            f.cause.as_deref(),
            Some(r#"{"errorMessage":"m","errorType":"Boom","requestId":"r1","stackTrace":["x"],"extra":1}"#)
        );
        let f = function_error(json!({"errorMessage": "m"}), "r1");
        assert_eq!(f.error.as_deref(), Some("Lambda.Unknown"));
        assert!(f.cause.unwrap().ends_with(r#"Returned payload: {"errorMessage":"m"}"#));
    }

    #[test]
    fn runtime_errors() {
        let f = timed_out("r", 3);
        assert_eq!(f.error.as_deref(), Some("Sandbox.Timedout"));
        assert_eq!(
            f.cause.as_deref(),
            Some(
                r#"{"errorMessage":"RequestId: r Error: Task timed out after 3.00 seconds","errorType":"Sandbox.Timedout"}"#
            )
        );
        assert_eq!(too_large("S", 262_144, "r").error.as_deref(), Some(DATA_LIMIT_EXCEEDED));
        assert_eq!(too_large("S", LAMBDA_RESPONSE_LIMIT, "r").error.as_deref(), Some("Function.ResponseSizeTooLarge"));
    }
}
