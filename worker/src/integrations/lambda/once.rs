//! `command` functions with `per_invocation = true`: one process per call, for the simplest
//! scripts. The event is written to stdin (then closed), stdout is the result, exit status 0 is
//! success. A non-zero exit fails the call with `Runtime.ExitError` quoting the last stderr
//! lines — unless stdout holds an error object (`{"errorType": ..., "errorMessage": ...}`),
//! which is then the function's own error, as from a JSON Lines runtime.

use std::time::Duration;

use serde_json::Value;
use shared::asl::Failure;
use tokio::io::AsyncWriteExt;
use tokio::sync::Semaphore;
use tokio::time::{Instant, timeout_at};

use super::process::{self, LineError, Spawned};
use super::{Call, reply};
use crate::integrations::config::Function;

/// Lines of stderr quoted when the process fails.
const STDERR_TAIL: usize = 10;

/// How long to wait for stderr's last lines after the process exited. A grandchild that
/// inherited stderr may keep it open; the failure is reported without them then.
const STDERR_GRACE: Duration = Duration::from_secs(1);

pub struct Once {
    function: Function,
    command: Vec<String>,
    permits: Semaphore,
}

impl Once {
    pub fn new(function: Function, command: Vec<String>, concurrency: usize) -> Once {
        Once { function, command, permits: Semaphore::new(concurrency.max(1)) }
    }

    pub fn function(&self) -> &Function {
        &self.function
    }

    pub async fn call(&self, call: &mut Call<'_>) -> Result<Value, Failure> {
        let _permit =
            self.permits.acquire().await.map_err(|_| reply::protocol_error(&self.function.name, "shut down"))?;
        let event =
            serde_json::to_vec(call.event).map_err(|e| reply::protocol_error(&self.function.name, &e.to_string()))?;
        let Spawned { mut child, mut stdin, stdout, stderr } =
            process::spawn(&self.function, &self.command, STDERR_TAIL)
                .map_err(|e| reply::cannot_start(&call.request_id, &self.function.name, &e))?;
        call.deadlines.start();
        let limit = call.limit;
        let run = async {
            let write = async {
                // A script that does not read its input closes the pipe early: not an error.
                let _ = stdin.write_all(&event).await;
                drop(stdin);
            };
            // Written and read at once: a script may answer before reading all of its input.
            let ((), output) = tokio::join!(write, process::read_to_end(stdout, limit));
            let output = output?;
            let status = child.wait().await.map_err(LineError::Io)?;
            Ok::<_, LineError>((output, status))
        };
        // On expiry this returns, dropping `child`, which kills the process.
        let (output, status) = match timeout_at(call.deadlines.next(), run).await {
            Err(_) => return Err(call.deadlines.failure(&call.request_id)),
            Ok(Err(LineError::TooLong)) => return Err(reply::too_large(call.state_name, call.limit, &call.request_id)),
            Ok(Err(LineError::Io(e))) => return Err(reply::exited(&call.request_id, None, &e.to_string())),
            Ok(Ok(done)) => done,
        };
        if status.success() {
            return Ok(reply::payload(&output));
        }
        let reported = reply::payload(&output);
        if reported.get("errorType").is_some_and(Value::is_string) {
            return Err(reply::function_error(reported, &call.request_id));
        }
        let grace = call.deadlines.next().min(Instant::now() + STDERR_GRACE);
        let tail = match timeout_at(grace, stderr).await {
            Ok(Ok(lines)) => lines.join("\n"),
            _ => String::new(),
        };
        Err(reply::exited(&call.request_id, Some(status), &tail))
    }
}
