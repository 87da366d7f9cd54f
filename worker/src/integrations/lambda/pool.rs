//! `command` functions: a pool of long-lived processes speaking JSON Lines.
//!
//! Request, one line on stdin: `{"id": n, "event": ..., "context": {...}}`. Responses, one line
//! each on stdout: `{"id": n, "result": ...}`, `{"id": n, "error": {"errorType", "errorMessage",
//! ...}}`, or any number of `{"id": n, "heartbeat": true}` before either.
//!
//! A process serves one call at a time, as a Lambda execution environment does, so the pool
//! size (`concurrency`) is also the number of calls in flight. Processes start on demand and
//! are reused; one that crashes, times out, breaks the protocol or is abandoned by a cancelled
//! call is dropped — which kills it and its process group — and the next call starts a fresh
//! one in its place. A process that exits is noticed at once, even when something it started
//! still holds its stdout open.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::Value;
use shared::asl::Failure;
use tokio::io::{AsyncWriteExt, BufReader};
use tokio::process::{ChildStdin, ChildStdout};
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep_until, timeout_at};

use super::process::{self, EXIT_GRACE, LineError, Process, Spawned};
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
    process: Process,
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
        let Spawned { process, stdin, stdout, stderr } = process::spawn(&self.function, &self.command, STDERR_TAIL)?;
        Ok(Worker { process, stdin, stdout, stderr, line: Vec::new() })
    }

    /// An idle process that is still alive (one may have died between calls: dropping it
    /// kills what it left in its group).
    fn take_idle(&self) -> Option<Worker> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        while let Some(mut w) = idle.pop() {
            if w.process.is_running() {
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
        // Set once the process has exited: its group is killed then, and what it wrote before
        // is still read, for a moment (EOF may never come if it left something that escaped
        // its group holding stdout).
        let mut exited: Option<Instant> = None;
        loop {
            let read = {
                let read = process::read_line(&mut worker.stdout, &mut worker.line, limit);
                tokio::pin!(read);
                loop {
                    let deadline = exited.unwrap_or_else(|| call.deadlines.next());
                    tokio::select! {
                        biased;
                        r = &mut read => break Some(r),
                        _ = worker.process.wait(), if exited.is_none() => {
                            worker.process.kill_group();
                            exited = Some(Instant::now() + EXIT_GRACE);
                        }
                        () = sleep_until(deadline) => break None,
                    }
                }
            };
            match read {
                None if exited.is_some() => return Err(Broken::Exited),
                None => return Err(Broken::Failed(call.deadlines.failure(&call.request_id))),
                Some(Err(LineError::TooLong)) => {
                    return Err(Broken::Failed(reply::too_large(call.state_name, call.limit, &call.request_id)));
                }
                Some(Err(LineError::Io(_)) | Ok(false)) => return Err(Broken::Exited),
                Some(Ok(true)) => {}
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
        let status = match timeout_at(call.deadlines.next(), worker.process.wait()).await {
            Ok(status) => status.ok(),
            Err(_) => return call.deadlines.failure(&call.request_id),
        };
        // What it left running would keep stderr open, and keep running.
        worker.process.kill_group();
        let grace = call.deadlines.next().min(Instant::now() + EXIT_GRACE);
        let tail = match timeout_at(grace, &mut worker.stderr).await {
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
