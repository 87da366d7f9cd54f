//! `url` functions: the event is POSTed as a JSON body; a 2xx body is the result.
//!
//! The call carries the Lambda Runtime API's context headers (`Lambda-Runtime-Aws-Request-Id`,
//! `Lambda-Runtime-Deadline-Ms`, `Lambda-Runtime-Invoked-Function-Arn`). A function reports
//! its own error as Lambda's Invoke API does — the header `X-Amz-Function-Error` with the error
//! object as body — or with a non-2xx status and an error object (`errorType`, ...) as body.
//! Any other non-2xx answer is `Lambda.Unknown` with the status and body in the cause. The body
//! is read in chunks and abandoned as soon as it passes the payload limit.

use serde_json::Value;
use shared::asl::Failure;
use tokio::sync::Semaphore;
use tokio::time::timeout_at;

use super::{Call, reply};
use crate::integrations::config::Function;

/// Most bytes of a failed answer's body quoted in the cause.
const QUOTED_BODY: usize = 4096;

pub struct Url {
    function: Function,
    url: String,
    client: Result<reqwest::Client, String>,
    permits: Option<Semaphore>,
}

impl Url {
    pub fn new(function: Function, url: String, client: Result<reqwest::Client, String>) -> Url {
        let permits = function.concurrency.map(|n| Semaphore::new(n.get()));
        Url { function, url, client, permits }
    }

    pub fn function(&self) -> &Function {
        &self.function
    }

    pub async fn call(&self, call: &mut Call<'_>) -> Result<Value, Failure> {
        let _permit = match &self.permits {
            Some(permits) => Some(permits.acquire().await.map_err(|_| self.unreachable("the function was shut down"))?),
            None => None,
        };
        let client = self.client.as_ref().map_err(|e| self.unreachable(e))?;
        let body = serde_json::to_vec(call.event).map_err(|e| self.unreachable(&e.to_string()))?;
        call.deadlines.start();
        let request = client
            .post(&self.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("Lambda-Runtime-Aws-Request-Id", &call.request_id)
            .header("Lambda-Runtime-Deadline-Ms", call.deadlines.deadline_epoch_ms().to_string())
            .header("Lambda-Runtime-Invoked-Function-Arn", &call.invoked_arn)
            .body(body);
        let (limit, state, request_id) = (call.limit, call.state_name, call.request_id.as_str());
        let exchange = async {
            let mut response = request.send().await.map_err(|e| self.unreachable(&chain(&e)))?;
            let status = response.status();
            let function_error = response.headers().contains_key("x-amz-function-error");
            if response.content_length().is_some_and(|n| n > limit as u64) {
                return Err(reply::too_large(state, limit, request_id));
            }
            let mut bytes = Vec::new();
            while let Some(chunk) = response.chunk().await.map_err(|e| self.unreachable(&chain(&e)))? {
                if bytes.len() + chunk.len() > limit {
                    return Err(reply::too_large(state, limit, request_id));
                }
                bytes.extend_from_slice(&chunk);
            }
            Ok((status, function_error, bytes))
        };
        // On expiry the request is dropped, which closes the connection.
        let (status, function_error, bytes) = match timeout_at(call.deadlines.next(), exchange).await {
            Err(_) => return Err(call.deadlines.failure(&call.request_id)),
            Ok(answer) => answer?,
        };
        let payload = reply::payload(&bytes);
        if function_error || (!status.is_success() && payload.get("errorType").is_some_and(Value::is_string)) {
            return Err(reply::function_error(payload, &call.request_id));
        }
        if !status.is_success() {
            let quoted = String::from_utf8_lossy(&bytes[..bytes.len().min(QUOTED_BODY)]).into_owned();
            return Err(Failure::new(
                "Lambda.Unknown",
                format!(
                    "dmap: function '{}' at {} answered HTTP {status}. Returned payload: {quoted}",
                    self.function.name, self.url
                ),
            ));
        }
        Ok(payload)
    }

    fn unreachable(&self, error: &str) -> Failure {
        reply::unreachable(&self.function.name, &self.url, error)
    }
}

/// An error with its sources: reqwest's own text ("error sending request") says little.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        text.push_str(": ");
        text.push_str(&e.to_string());
        source = e.source();
    }
    text
}
