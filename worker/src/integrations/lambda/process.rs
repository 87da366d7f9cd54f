//! Starting a function's process and reading from it within bounds.
//!
//! Security rules live here, in one place: the program and its arguments come from the
//! functions file only (item data travels on stdin, never in argv, and no shell is involved);
//! the environment is cleared and holds only the configured variables plus `PATH`; every read
//! is bounded, so a process that writes without end cannot exhaust dmap's memory. A process's
//! stderr is copied to dmap's stderr within a budget (`stderr`), and never parsed. Each process
//! leads a process group of its own ([`Process`]), killed whole.

use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncReadExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use tokio::task::JoinHandle;

use super::group::Group;
use super::stderr;
use crate::integrations::config::Function;

/// How long, after a process exited, what it already wrote is still read (and its stderr's last
/// lines awaited). Its group is killed at exit, so its pipes close at once; only something that
/// left the group (`setsid`) can keep them open, and then the call goes on without it.
pub const EXIT_GRACE: Duration = Duration::from_secs(1);

/// Bytes read from stdout at a time.
const READ_CHUNK: usize = 64 * 1024;

/// A started process with its pipes.
pub struct Spawned {
    pub process: Process,
    pub stdin: ChildStdin,
    pub stdout: BufReader<ChildStdout>,
    /// Copies stderr to dmap's stderr; yields stderr's last lines when the process ends.
    pub stderr: JoinHandle<Vec<String>>,
}

/// Starts `command` (the function's program and arguments) with the function's environment
/// and working directory. `tail` is how many of stderr's last lines to keep.
///
/// The process sees `PATH`, the worker's `AWS_*` variables and the function's `env`, nothing
/// else: on AWS a function sees only its configuration and what Lambda adds, which includes
/// the execution role's credentials and region as `AWS_*` variables. The worker's own are the
/// nearest equivalent (a Secret's keys, or IRSA's `AWS_ROLE_ARN` and
/// `AWS_WEB_IDENTITY_TOKEN_FILE` in a pod), so an SDK in the handler finds them as on Lambda.
pub fn spawn(function: &Function, command: &[String], tail: usize) -> std::io::Result<Spawned> {
    let (program, args) =
        command.split_first().ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "empty command"))?;
    let mut cmd = Command::new(program);
    cmd.args(args).env_clear();
    let inherited =
        std::env::vars_os().filter(|(name, _)| name == "PATH" || name.as_encoded_bytes().starts_with(b"AWS_"));
    cmd.envs(inherited);
    cmd.envs(&function.env)
        .current_dir(&function.working_dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // A process abandoned mid-call (timeout, cancelled Task, protocol error) is killed
        // rather than left to finish work nobody will read; its own group lets everything it
        // started be killed with it (`Process`).
        .kill_on_drop(true)
        .process_group(0);
    let mut child = cmd.spawn()?;
    let group = Group::of(child.id());
    let missing = || std::io::Error::other("a pipe of the child process is missing");
    let stdin = child.stdin.take().ok_or_else(missing)?;
    let stdout = BufReader::new(child.stdout.take().ok_or_else(missing)?);
    let stderr = child.stderr.take().ok_or_else(missing)?;
    let stderr = tokio::spawn(stderr::copy(function.name.clone(), stderr, tail));
    Ok(Spawned { process: Process { group, child }, stdin, stdout, stderr })
}

/// A function process and its process group. Dropping it kills the whole group, and then the
/// process itself is killed and reaped (tokio's `kill_on_drop`): the group goes first, while
/// its leader is not yet reaped and the group's id cannot belong to anyone else.
pub struct Process {
    // Field order is drop order: the group before the child.
    group: Group,
    child: Child,
}

impl Process {
    /// Waits for the process to exit (cancel safe; once it has, returns the same status again).
    pub async fn wait(&mut self) -> std::io::Result<ExitStatus> {
        self.child.wait().await
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Kills everything left in the process's group: what it started and left behind when it
    /// exited (a background job holding its pipes), or the process itself and its children.
    pub fn kill_group(&mut self) {
        self.group.kill();
    }
}

/// Why a bounded read stopped.
#[derive(Debug)]
pub enum LineError {
    /// More than the limit arrived before the end of the line (or of the stream).
    TooLong,
    Io(std::io::Error),
}

/// Reads one line, without its `\n`, into `line`, keeping at most `limit` bytes. `Ok(false)`
/// at the end of the stream with nothing read; a last line without `\n` is a line.
pub async fn read_line<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    line: &mut Vec<u8>,
    limit: usize,
) -> Result<bool, LineError> {
    line.clear();
    loop {
        let available = reader.fill_buf().await.map_err(LineError::Io)?;
        if available.is_empty() {
            return Ok(!line.is_empty());
        }
        let (take, done) = match available.iter().position(|&b| b == b'\n') {
            Some(i) => (i, true),
            None => (available.len(), false),
        };
        if line.len() + take > limit {
            // Keep what fits, for stderr's truncated copy; a caller that fails the call
            // ignores it.
            let room = limit - line.len();
            line.extend_from_slice(&available[..room]);
            reader.consume(room);
            return Err(LineError::TooLong);
        }
        line.extend_from_slice(&available[..take]);
        reader.consume(if done { take + 1 } else { take });
        if done {
            return Ok(true);
        }
    }
}

/// Discards input up to and including the next `\n`; returns how many bytes that was.
pub async fn skip_line<R: AsyncBufRead + Unpin>(reader: &mut R) -> std::io::Result<usize> {
    let mut skipped = 0;
    loop {
        let available = reader.fill_buf().await?;
        if available.is_empty() {
            return Ok(skipped);
        }
        match available.iter().position(|&b| b == b'\n') {
            Some(i) => {
                reader.consume(i + 1);
                return Ok(skipped + i + 1);
            }
            None => {
                let n = available.len();
                reader.consume(n);
                skipped += n;
            }
        }
    }
}

/// Reads a stream to its end into `bytes`, failing as soon as they grow past `limit`.
///
/// Cancel safe: what was read before the future is dropped stays in `bytes`, so a caller can
/// stop waiting for the end (a process that exited while something it started holds the pipe)
/// and keep what arrived.
pub async fn read_into<R: AsyncRead + Unpin>(
    reader: &mut R,
    bytes: &mut Vec<u8>,
    limit: usize,
) -> Result<(), LineError> {
    loop {
        let room = (limit + 1).saturating_sub(bytes.len());
        if room == 0 {
            return Err(LineError::TooLong);
        }
        bytes.reserve(room.min(READ_CHUNK));
        let read = reader.take(room as u64).read_buf(bytes).await.map_err(LineError::Io)?;
        if read == 0 {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn lines(input: &[u8], limit: usize) -> Vec<Result<String, String>> {
        let mut reader = BufReader::with_capacity(4, input);
        let mut out = Vec::new();
        let mut line = Vec::new();
        loop {
            match read_line(&mut reader, &mut line, limit).await {
                Ok(true) => out.push(Ok(String::from_utf8(line.clone()).unwrap())),
                Ok(false) => return out,
                Err(LineError::TooLong) => {
                    out.push(Err(String::from_utf8(line.clone()).unwrap()));
                    skip_line(&mut reader).await.unwrap();
                }
                Err(LineError::Io(e)) => panic!("{e}"),
            }
        }
    }

    #[tokio::test]
    async fn lines_are_bounded() {
        let got = lines(b"ab\ncdefgh\n\nlast", 5).await;
        let want: Vec<Result<String, String>> =
            vec![Ok("ab".into()), Err("cdefg".into()), Ok("".into()), Ok("last".into())];
        assert_eq!(got, want);
        assert_eq!(lines(b"abcde\n", 5).await, vec![Ok("abcde".to_string())]);
    }

    #[tokio::test]
    async fn whole_streams_are_bounded() {
        let mut bytes = Vec::new();
        read_into(&mut &b"abc"[..], &mut bytes, 3).await.unwrap();
        assert_eq!(bytes, b"abc");
        let mut bytes = Vec::new();
        assert!(matches!(read_into(&mut &b"abcd"[..], &mut bytes, 3).await, Err(LineError::TooLong)));
    }
}
