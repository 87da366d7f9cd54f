//! The functions file (`--functions FILE`, TOML): which local implementation serves each Lambda
//! function name, and the raw `[connections.NAME]` and `[http]` tables of the HTTP Task.
//!
//! ```toml
//! [functions.price]
//! command = ["python3", "dmap_runtime.py", "price:handler"]   # a pool of JSON Lines processes
//! timeout_seconds = 30
//! concurrency = 4
//! env = { CURRENCY = "EUR" }
//!
//! [functions.resize]
//! command = ["./resize.sh"]
//! per_invocation = true                                       # one process per call
//!
//! [functions.quote]
//! url = "http://127.0.0.1:8080/quote"                         # POST the event
//! ```
//!
//! This module only reads and checks the file; it starts nothing. Every problem names the file
//! and the key, because a functions file is written by hand. The file may also hold the
//! coordinator's `[buckets]` table, which is left to the coordinator.

use std::collections::BTreeMap;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};

/// Lambda's own maximum run time, the default when a function sets no `timeout_seconds`:
/// nothing that runs on AWS can run longer.
pub const DEFAULT_TIMEOUT_SECONDS: u64 = 900;

/// A parsed and checked functions file.
#[derive(Debug, Clone)]
pub struct FunctionsFile {
    /// The file it was read from (named in errors such as an unknown function).
    pub path: PathBuf,
    /// Functions by name.
    pub functions: BTreeMap<String, Function>,
    /// `[connections.NAME]` tables, unchecked: the HTTP Task turns them into typed config.
    pub connections: BTreeMap<String, toml::Value>,
    /// The `[http]` table, unchecked, for the HTTP Task.
    pub http: Option<toml::Value>,
}

/// One `[functions.NAME]` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Function {
    pub name: String,
    pub implementation: Implementation,
    /// The function's own timeout (Lambda's "Timeout"); expiry is `Sandbox.Timedout`.
    pub timeout_seconds: u64,
    /// The process's environment besides `PATH` and the worker's `AWS_*` variables (ignored
    /// for `url` functions).
    pub env: BTreeMap<String, String>,
    /// Absolute; the file's directory unless `working_dir` says otherwise.
    pub working_dir: PathBuf,
    /// `concurrency` as written: the pool size of `command` functions (default: the number
    /// of cores), at most that many calls in flight for the others (default: no limit for
    /// `url`, the number of cores for `per_invocation`).
    pub concurrency: Option<NonZeroUsize>,
}

/// How a function is served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Implementation {
    /// A program and its arguments, never run through a shell. A program path containing `/`
    /// is resolved against the file's directory; a bare name is looked up on `PATH`.
    Command { command: Vec<String>, per_invocation: bool },
    /// An HTTP endpoint that receives the event as a JSON POST body.
    Url { url: String },
}

impl Function {
    /// How many calls may run at once, `default` when `concurrency` is not set.
    pub fn concurrency_or(&self, default: usize) -> usize {
        self.concurrency.map_or(default, NonZeroUsize::get)
    }
}

/// A functions file that cannot be used. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the functions file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: not valid TOML: {message}", path.display())]
    Syntax { path: PathBuf, message: String },
    /// `key` is the dotted path of the table or value at fault, e.g. `functions.resize`.
    #[error("{}: {key}: {message}", path.display())]
    Invalid { path: PathBuf, key: String, message: String },
}

impl FunctionsFile {
    /// Reads and checks the file at `path`.
    pub fn load(path: &Path) -> Result<FunctionsFile, ConfigError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_path_buf(), source })?;
        FunctionsFile::parse(&text, path)
    }

    /// Checks `text` as if read from `path` (relative paths resolve against its directory).
    pub fn parse(text: &str, path: &Path) -> Result<FunctionsFile, ConfigError> {
        let syntax = |message: String| ConfigError::Syntax { path: path.to_path_buf(), message };
        let root: toml::Table = toml::from_str(text).map_err(|e| syntax(e.message().trim().to_string()))?;
        let base = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let base = std::path::absolute(base).unwrap_or_else(|_| base.to_path_buf());
        let checker = Checker { path, base: &base };

        let mut file = FunctionsFile {
            path: path.to_path_buf(),
            functions: BTreeMap::new(),
            connections: BTreeMap::new(),
            http: None,
        };
        for (key, value) in root {
            match key.as_str() {
                "functions" => {
                    for (name, table) in checker.table("functions", value)? {
                        let function = checker.function(&name, table)?;
                        file.functions.insert(name, function);
                    }
                }
                "connections" => file.connections = checker.table("connections", value)?.into_iter().collect(),
                "http" => file.http = Some(value),
                // The coordinator's storage mappings may share the file.
                "buckets" => {}
                other => {
                    return Err(checker.invalid(other, "unknown table (expected `functions`, `connections` or `http`)"));
                }
            }
        }
        Ok(file)
    }

    /// The function of that exact name.
    pub fn function(&self, name: &str) -> Option<&Function> {
        self.functions.get(name)
    }
}

/// Checks values and turns the first problem into a [`ConfigError`] naming file and key.
struct Checker<'a> {
    path: &'a Path,
    base: &'a Path,
}

impl Checker<'_> {
    fn invalid(&self, key: &str, message: impl Into<String>) -> ConfigError {
        ConfigError::Invalid { path: self.path.to_path_buf(), key: key.to_string(), message: message.into() }
    }

    fn table(&self, key: &str, value: toml::Value) -> Result<toml::Table, ConfigError> {
        match value {
            toml::Value::Table(t) => Ok(t),
            _ => Err(self.invalid(key, "must be a table")),
        }
    }

    fn function(&self, name: &str, value: toml::Value) -> Result<Function, ConfigError> {
        let key = format!("functions.{name}");
        if !valid_function_name(name) {
            return Err(self.invalid(&key, "a function name is 1 to 64 letters, digits, `-` or `_` (as on Lambda)"));
        }
        let table = self.table(&key, value)?;
        let invalid = |message: &str| self.invalid(&key, message);
        let (mut command, mut url, mut per_invocation) = (None, None, None);
        let mut function = Function {
            name: name.to_string(),
            implementation: Implementation::Url { url: String::new() },
            timeout_seconds: DEFAULT_TIMEOUT_SECONDS,
            env: BTreeMap::new(),
            working_dir: self.base.to_path_buf(),
            concurrency: None,
        };
        for (field, value) in table {
            match field.as_str() {
                "command" => command = Some(self.command(&value).ok_or_else(|| invalid(COMMAND_SHAPE))?),
                "per_invocation" => {
                    per_invocation = Some(value.as_bool().ok_or_else(|| invalid("`per_invocation` must be a boolean"))?)
                }
                "url" => url = Some(self.url(&value).map_err(|m| invalid(&m))?),
                "timeout_seconds" => {
                    function.timeout_seconds = positive(&value)
                        .ok_or_else(|| invalid("`timeout_seconds` must be a positive integer"))?
                        .get() as u64
                }
                "concurrency" => {
                    function.concurrency =
                        Some(positive(&value).ok_or_else(|| invalid("`concurrency` must be a positive integer"))?)
                }
                "env" => function.env = env(&value).map_err(|m| invalid(&m))?,
                "working_dir" => {
                    let dir = value.as_str().ok_or_else(|| invalid("`working_dir` must be a string"))?;
                    function.working_dir = self.resolve(dir);
                }
                other => {
                    return Err(invalid(&format!(
                        "unknown key `{other}` (expected command, per_invocation, url, timeout_seconds, env, \
                         working_dir, concurrency)"
                    )));
                }
            }
        }
        function.implementation = match (command, url) {
            (Some(command), None) => {
                Implementation::Command { command, per_invocation: per_invocation.unwrap_or(false) }
            }
            (None, Some(url)) if per_invocation.is_none() => Implementation::Url { url },
            (None, Some(_)) => return Err(invalid("`per_invocation` applies to `command` functions only")),
            (Some(_), Some(_)) => return Err(invalid("give either `command` or `url`, not both")),
            (None, None) => return Err(invalid("needs `command` (a program and its arguments) or `url`")),
        };
        Ok(function)
    }

    /// The program and its arguments; a program path with a `/` is taken from the file's
    /// directory so that the file works from any current directory.
    fn command(&self, value: &toml::Value) -> Option<Vec<String>> {
        let items = value.as_array()?;
        let mut command: Vec<String> = items.iter().map(|v| v.as_str().map(str::to_string)).collect::<Option<_>>()?;
        let program = command.first_mut().filter(|p| !p.is_empty())?;
        if program.contains('/') {
            *program = self.resolve(program).to_string_lossy().into_owned();
        }
        Some(command)
    }

    /// `path` taken from the file's directory, without `.` components (`..` is kept: it
    /// means something else after a symbolic link).
    fn resolve(&self, path: &str) -> PathBuf {
        self.base.join(path).components().filter(|c| !matches!(c, std::path::Component::CurDir)).collect()
    }

    fn url(&self, value: &toml::Value) -> Result<String, String> {
        let text = value.as_str().ok_or("`url` must be a string")?;
        let parsed = reqwest::Url::parse(text).map_err(|e| format!("`url` is not a valid URL ({e})"))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(format!("`url` must be an http:// or https:// URL, not {}://", parsed.scheme()));
        }
        Ok(text.to_string())
    }
}

const COMMAND_SHAPE: &str = "`command` must be a non-empty array of strings";

/// Lambda's rule for function names, so that a name never collides with ARN syntax.
fn valid_function_name(name: &str) -> bool {
    (1..=64).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn positive(value: &toml::Value) -> Option<NonZeroUsize> {
    value.as_integer().and_then(|n| usize::try_from(n).ok()).and_then(NonZeroUsize::new)
}

/// The `env` table. Numbers and booleans are accepted as their text, since that is what an
/// environment variable holds anyway.
fn env(value: &toml::Value) -> Result<BTreeMap<String, String>, String> {
    let table = value.as_table().ok_or("`env` must be a table of NAME = \"value\"")?;
    let mut env = BTreeMap::new();
    for (name, value) in table {
        if name.is_empty() || name.contains('=') || name.contains('\0') {
            return Err(format!("`env`: `{name}` is not a valid variable name"));
        }
        let text = match value {
            toml::Value::String(s) => s.clone(),
            toml::Value::Integer(n) => n.to_string(),
            toml::Value::Float(x) => x.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            _ => return Err(format!("`env.{name}` must be a string, a number or a boolean")),
        };
        if text.contains('\0') {
            return Err(format!("`env.{name}` must not contain a NUL character"));
        }
        env.insert(name.clone(), text);
    }
    Ok(env)
}
