//! `command` functions with `per_invocation = true`: one process per call, for the simplest
//! scripts. The event is written to stdin (then closed), stdout is the result, exit status 0 is
//! success. A non-zero exit fails the call with `Runtime.ExitError` quoting the last stderr
//! lines — unless stdout holds an error object (`{"errorType": ..., "errorMessage": ...}`),
//! which is then the function's own error, as from a JSON Lines runtime.
//!
//! The result counts when the process exits: what it wrote until then is the result, and
//! whatever it left running in its process group is killed, so a background job that still
//! holds stdout neither delays the call nor outlives it (a Lambda environment is frozen when
//! its handler returns).

use serde_json::Value;
use shared::asl::Failure;
use tokio::io::AsyncWriteExt;
use tokio::sync::Semaphore;
use tokio::time::{Instant, timeout, timeout_at};

use super::process::{self, EXIT_GRACE, LineError, Spawned};
use super::{Call, reply};
use crate::integrations::config::Function;

/// Lines of stderr quoted when the process fails.
const STDERR_TAIL: usize = 10;

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
        let Spawned { mut process, stdin, mut stdout, stderr } =
            process::spawn(&self.function, &self.command, STDERR_TAIL)
                .map_err(|e| reply::cannot_start(&call.request_id, &self.function.name, &e))?;
        call.deadlines.start();
        let limit = call.limit;
        let mut output = Vec::new();
        let run = async {
            // A script that does not read its input closes the pipe early: not an error. The
            // call does not wait for the write either: a background job may hold stdin unread.
            let write = async move {
                let mut stdin = stdin;
                let _ = stdin.write_all(&event).await;
            };
            tokio::pin!(write);
            let mut written = false;
            // Written and read at once: a script may answer before reading all of its input.
            loop {
                let step = tokio::select! {
                    () = &mut write, if !written => Step::Written,
                    read = process::read_into(&mut stdout, &mut output, limit) => Step::Eof(read),
                    status = process.wait() => Step::Exited(status),
                };
                match step {
                    Step::Written => written = true,
                    Step::Eof(read) => {
                        read?;
                        return process.wait().await.map_err(LineError::Io);
                    }
                    Step::Exited(status) => {
                        // What it wrote before exiting is in the pipe; once its group is
                        // killed, nothing else holds stdout and the read ends at once.
                        process.kill_group();
                        if let Ok(read) = timeout(EXIT_GRACE, process::read_into(&mut stdout, &mut output, limit)).await
                        {
                            read?;
                        }
                        return status.map_err(LineError::Io);
                    }
                }
            }
        };
        // On expiry this returns, dropping `process`, which kills its group.
        let status = match timeout_at(call.deadlines.next(), run).await {
            Err(_) => return Err(call.deadlines.failure(&call.request_id)),
            Ok(Err(LineError::TooLong)) => return Err(reply::too_large(call.state_name, call.limit, &call.request_id)),
            Ok(Err(LineError::Io(e))) => return Err(reply::exited(&call.request_id, None, &e.to_string())),
            Ok(Ok(status)) => status,
        };
        // Nothing the call started outlives it (a job that closed its pipes is still running).
        process.kill_group();
        if status.success() {
            // The copy of its stderr ends with the call: with the group killed the pipe closes
            // at once, and what the function wrote last is not lost when dmap exits next.
            let _ = timeout_at(call.deadlines.next().min(Instant::now() + EXIT_GRACE), stderr).await;
            return Ok(reply::payload(&output));
        }
        let reported = reply::payload(&output);
        if reported.get("errorType").is_some_and(Value::is_string) {
            return Err(reply::function_error(reported, &call.request_id));
        }
        let grace = call.deadlines.next().min(Instant::now() + EXIT_GRACE);
        let tail = match timeout_at(grace, stderr).await {
            Ok(Ok(lines)) => lines.join("\n"),
            _ => String::new(),
        };
        Err(reply::exited(&call.request_id, Some(status), &tail))
    }
}

/// What happened first while the call ran.
enum Step {
    Written,
    Eof(Result<(), LineError>),
    Exited(std::io::Result<std::process::ExitStatus>),
}
