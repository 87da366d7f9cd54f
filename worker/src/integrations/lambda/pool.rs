//! `command` functions: a pool of long-lived processes speaking JSON Lines.
//!
//! Request, one line on stdin: `{"id": n, "event": ..., "context": {...}}`. Responses, one line
//! each on stdout: `{"id": n, "result": ...}`, `{"id": n, "error": {"errorType", "errorMessage",
//! ...}}`, or any number of `{"id": n, "heartbeat": true}` before either.
//!
//! A process serves one call at a time, as a Lambda execution environment does, so the pool
//! size (`concurrency`) is also the number of calls in flight. Processes start on demand and
//! are reused; one that crashes, times out, breaks the protocol or is abandoned by a cancelled
//! call is dropped — which kills it — and the next call starts a fresh one in its place.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::Value;
use shared::asl::Failure;
use tokio::io::{AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout};
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;
use tokio::time::timeout_at;

use super::process::{self, LineError, Spawned};
use super::{Call, reply};
use crate::integrations::config::Function;

/// Lines of a crashed process's stderr quoted in the failure.
const STDERR_TAIL: usize = 5;

/// Largest line buffer an idle process keeps.
const KEPT_BUFFER: usize = 64 * 1024;

pub struct Pool {
    function: Function,
    command: Vec<String>,
    permits: Semaphore,
    idle: Mutex<Vec<Worker>>,
    next_id: AtomicU64,
}

/// One live process.
struct Worker {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    stderr: JoinHandle<Vec<String>>,
    line: Vec<u8>,
}

/// What the process answered to one request.
enum Answer {
    Result(Value),
    Error(Value),
}

impl Pool {
    pub fn new(function: Function, command: Vec<String>, size: usize) -> Pool {
        Pool {
            function,
            command,
            permits: Semaphore::new(size.max(1)),
            idle: Mutex::new(Vec::new()),
            next_id: AtomicU64::new(1),
        }
    }

    pub fn function(&self) -> &Function {
        &self.function
    }

    pub async fn call(&self, call: &mut Call<'_>) -> Result<Value, Failure> {
        // Waiting for a free process uses none of the call's time (see `deadline`).
        let _permit =
            self.permits.acquire().await.map_err(|_| reply::protocol_error(&self.function.name, "shut down"))?;
        let mut worker = match self.take_idle() {
            Some(w) => w,
            None => self.spawn().map_err(|e| reply::cannot_start(&call.request_id, &self.function.name, &e))?,
        };
        call.deadlines.start();
        match self.exchange(&mut worker, call).await {
            Ok(answer) => {
                // An idle process should not keep a large response's buffer.
                if worker.line.capacity() > KEPT_BUFFER {
                    worker.line = Vec::new();
                }
                self.idle.lock().unwrap_or_else(|e| e.into_inner()).push(worker);
                match answer {
                    Answer::Result(v) => Ok(v),
                    Answer::Error(e) => Err(reply::function_error(e, &call.request_id)),
                }
            }
            Err(Broken::Exited) => Err(self.exited(worker, call).await),
            // Dropping the worker kills the process; the next call starts another.
            Err(Broken::Failed(failure)) => Err(failure),
        }
    }

    fn spawn(&self) -> std::io::Result<Worker> {
        let Spawned { child, stdin, stdout, stderr } = process::spawn(&self.function, &self.command, STDERR_TAIL)?;
        Ok(Worker { child, stdin, stdout, stderr, line: Vec::new() })
    }

    /// An idle process that is still alive (one may have died between calls).
    fn take_idle(&self) -> Option<Worker> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        while let Some(mut w) = idle.pop() {
            if matches!(w.child.try_wait(), Ok(None)) {
                return Some(w);
            }
        }
        None
    }

    /// Sends the request and reads lines until its result or error.
    async fn exchange(&self, worker: &mut Worker, call: &mut Call<'_>) -> Result<Answer, Broken> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let request = request_line(id, call).map_err(|e| Broken::Failed(self.protocol(&e.to_string())))?;
        let write = async {
            worker.stdin.write_all(&request).await?;
            worker.stdin.flush().await
        };
        match timeout_at(call.deadlines.next(), write).await {
            Err(_) => return Err(Broken::Failed(call.deadlines.failure(&call.request_id))),
            // A closed stdin means the process is gone: its exit status tells why.
            Ok(Err(_)) => return Err(Broken::Exited),
            Ok(Ok(())) => {}
        }
        // Framing (`{"id":n,"result":...}`) on top of the payload limit; the engine measures
        // the result itself exactly.
        let limit = call.limit.saturating_add(1024);
        loop {
            let read = process::read_line(&mut worker.stdout, &mut worker.line, limit);
            match timeout_at(call.deadlines.next(), read).await {
                Err(_) => return Err(Broken::Failed(call.deadlines.failure(&call.request_id))),
                Ok(Err(LineError::TooLong)) => {
                    return Err(Broken::Failed(reply::too_large(call.state_name, call.limit, &call.request_id)));
                }
                Ok(Err(LineError::Io(_)) | Ok(false)) => return Err(Broken::Exited),
                Ok(Ok(true)) => {}
            }
            if worker.line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match self.parse(&worker.line, id)? {
                Some(answer) => return Ok(answer),
                None => call.deadlines.beat(),
            }
        }
    }

    /// One response line: `Some` answer, or `None` for a heartbeat.
    fn parse(&self, line: &[u8], id: u64) -> Result<Option<Answer>, Broken> {
        let shown = || String::from_utf8_lossy(&line[..line.len().min(200)]).into_owned();
        let Ok(Value::Object(mut message)) = serde_json::from_slice::<Value>(line) else {
            return Err(Broken::Failed(self.protocol(&format!("expected a JSON object per line, got: {}", shown()))));
        };
        if message.get("id").and_then(Value::as_u64) != Some(id) {
            return Err(Broken::Failed(
                self.protocol(&format!("expected a response with \"id\": {id}, got: {}", shown())),
            ));
        }
        if let Some(error) = message.remove("error") {
            return Ok(Some(Answer::Error(error)));
        }
        if let Some(result) = message.remove("result") {
            return Ok(Some(Answer::Result(result)));
        }
        if message.get("heartbeat") == Some(&Value::Bool(true)) {
            return Ok(None);
        }
        Err(Broken::Failed(
            self.protocol(&format!("expected \"result\", \"error\" or \"heartbeat\", got: {}", shown())),
        ))
    }

    fn protocol(&self, problem: &str) -> Failure {
        reply::protocol_error(&self.function.name, problem)
    }

    /// The failure for a process that ended during a call, with its exit status and the last
    /// lines it wrote to stderr.
    async fn exited(&self, mut worker: Worker, call: &Call<'_>) -> Failure {
        // Closing stdout (or stdin) without exiting is treated as a crash once the call's
        // time is up: the worker is dropped, which kills it.
        let status = match timeout_at(call.deadlines.next(), worker.child.wait()).await {
            Ok(status) => status.ok(),
            Err(_) => return call.deadlines.failure(&call.request_id),
        };
        let tail = match timeout_at(call.deadlines.next(), &mut worker.stderr).await {
            Ok(Ok(lines)) => lines.join("\n"),
            _ => String::new(),
        };
        reply::exited(&call.request_id, status, &tail)
    }
}

/// Why a worker cannot be reused.
enum Broken {
    /// Its pipes closed: the process ended.
    Exited,
    Failed(Failure),
}

/// `{"id":n,"event":...,"context":{...}}\n`, written without copying the event.
fn request_line(id: u64, call: &Call<'_>) -> serde_json::Result<Vec<u8>> {
    let mut line = format!("{{\"id\":{id},\"event\":").into_bytes();
    serde_json::to_writer(&mut line, call.event)?;
    line.extend_from_slice(b",\"context\":");
    serde_json::to_writer(&mut line, &call.context())?;
    line.extend_from_slice(b"}\n");
    Ok(line)
}
