//! The case file format (see `shared/conformance/localstack/README.md`, which is the
//! contract): one execution of one definition with its input, mocks, S3 objects and expected
//! result. This module owns reading and checking a file; it does not run anything.
//!
//! Unknown fields are rejected so that a misspelt `ignore_path` or `cause_wildcard` fails the
//! case instead of silently checking less than its author meant.

use std::collections::BTreeMap;
use std::path::Path;

use serde::de::IgnoredAny;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use super::ignore::IgnorePath;

/// Why a file could not be read as a case.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read the file: {0}")]
    Read(#[from] std::io::Error),
    #[error("not a valid case: {0}")]
    Format(#[from] serde_json::Error),
    #[error("not a valid case: {0}")]
    Invalid(String),
}

/// One case, as written in its file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// Defaults to the file name without `.json`.
    #[serde(default)]
    pub name: Option<String>,
    pub definition: Value,
    /// The execution input; a missing input is `{}`, as for `StartExecution`.
    #[serde(default = "empty_object")]
    pub input: Value,
    pub expected: Expected,
    #[serde(default)]
    pub tasks: Vec<TaskMock>,
    /// Object bodies keyed by `<bucket>/<key>`.
    #[serde(default)]
    pub s3_objects: BTreeMap<String, String>,
    #[serde(default)]
    pub s3_buckets: Vec<String>,
    #[serde(default)]
    pub ignore_paths: Vec<String>,
    /// An AWS Step Functions Local mock configuration (`MockConfigFile.json`): a path relative
    /// to the case file, or the configuration itself. Its test case `mock_test_case` answers
    /// the Task states it names; the others are served by `tasks`.
    #[serde(default)]
    pub mock_config: Option<Value>,
    /// `TestCase` or `StateMachine#TestCase` in `mock_config`.
    #[serde(default)]
    pub mock_test_case: Option<String>,
    /// `STANDARD` or `EXPRESS`: checked, but both types run alike here (an Express
    /// execution differs only in its ARN, which cases ignore).
    #[serde(default, rename = "state_machine_type")]
    _state_machine_type: MachineType,
    /// Provenance and labels: kept for people and tools, not read by the runner.
    #[serde(default, rename = "source")]
    _source: IgnoredAny,
    #[serde(default, rename = "tags")]
    _tags: Vec<String>,
}

/// The recorded result of the execution.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expected {
    pub status: ExpectedStatus,
    /// `Some(Value::Null)` when the file says `"output": null`, `None` when it has no `output`
    /// (then the output is not checked).
    #[serde(default, deserialize_with = "present")]
    pub output: Option<Value>,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub cause: Option<String>,
    /// The cause when it was itself a JSON document: compared as JSON.
    #[serde(default, deserialize_with = "present")]
    pub cause_json: Option<Value>,
    /// Substrings of `cause` that stand for any text.
    #[serde(default)]
    pub cause_wildcards: Vec<String>,
    /// Substrings of `error` that stand for any text.
    #[serde(default)]
    pub error_wildcards: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ExpectedStatus {
    Succeeded,
    Failed,
    TimedOut,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MachineType {
    #[default]
    Standard,
    Express,
}

/// A stand-in for the integration a Task state calls.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskMock {
    /// The Task state the mock was recorded for; used to choose between mocks of one resource.
    #[serde(default)]
    pub state: Option<String>,
    /// The Task's `Resource`.
    pub resource: String,
    /// Inferred from `resource` when absent.
    #[serde(default)]
    pub integration: Option<Integration>,
    /// For `lambda:invoke`: the function name or ARN the request's `FunctionName` must name,
    /// or `*` for any.
    #[serde(default)]
    pub function: Option<String>,
    pub behaviour: Behaviour,
    /// The result of a `constant` mock.
    #[serde(default)]
    pub returns: Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Integration {
    /// `Resource` is the function (or any integration's) ARN: the result is the return value.
    #[serde(rename = "lambda-arn")]
    Direct,
    /// `arn:aws:states:::lambda:invoke`: the event is `Payload`, the result is wrapped as the
    /// Lambda `Invoke` response.
    #[serde(rename = "lambda:invoke")]
    LambdaInvoke,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Behaviour {
    /// Returns the event it was given.
    Identity,
    /// Returns `returns`.
    Constant,
}

pub const LAMBDA_INVOKE: &str = "arn:aws:states:::lambda:invoke";

impl TaskMock {
    pub fn integration(&self) -> Integration {
        match self.integration {
            Some(i) => i,
            None if self.resource == LAMBDA_INVOKE => Integration::LambdaInvoke,
            None => Integration::Direct,
        }
    }
}

/// A case checked for consistency, with its ignore paths compiled.
#[derive(Debug)]
pub struct Loaded {
    pub name: String,
    /// The directory of the case file: `mock_config` paths are relative to it.
    pub dir: std::path::PathBuf,
    pub case: Case,
    pub ignore: Vec<IgnorePath>,
}

/// Reads and checks one case file.
pub fn load(path: &Path) -> Result<Loaded, LoadError> {
    let text = std::fs::read_to_string(path)?;
    let case: Case = serde_json::from_str(&text)?;
    let name = case.name.clone().unwrap_or_else(|| default_name(path));
    let ignore = check(&case)?;
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    Ok(Loaded { name, dir, case, ignore })
}

/// The name a case goes by when its file has none (or cannot be read).
pub fn default_name(path: &Path) -> String {
    path.file_stem().map_or_else(|| path.display().to_string(), |s| s.to_string_lossy().into_owned())
}

/// What serde cannot say: fields that only make sense together, paths that must compile.
fn check(case: &Case) -> Result<Vec<IgnorePath>, LoadError> {
    let e = &case.expected;
    let invalid = |m: String| Err(LoadError::Invalid(m));
    if e.status == ExpectedStatus::Succeeded && (e.error.is_some() || e.cause.is_some() || e.cause_json.is_some()) {
        return invalid("expected.status SUCCEEDED cannot have an error or cause".into());
    }
    if e.status != ExpectedStatus::Succeeded && e.output.is_some() {
        return invalid("expected.output is only allowed with status SUCCEEDED".into());
    }
    if e.cause.is_some() && e.cause_json.is_some() {
        return invalid("expected.cause and expected.cause_json are exclusive".into());
    }
    if let Some(w) = e.cause_wildcards.iter().chain(&e.error_wildcards).find(|w| w.is_empty()) {
        return invalid(format!("a wildcard must not be empty, got {w:?}"));
    }
    for key in case.s3_objects.keys() {
        if let Err(m) = super::s3::split_object_key(key) {
            return invalid(format!("s3_objects key {key:?}: {m}"));
        }
    }
    for m in &case.tasks {
        if m.behaviour == Behaviour::Identity && !m.returns.is_null() {
            return invalid(format!("task mock for {:?}: `returns` is only for behaviour \"constant\"", m.resource));
        }
    }
    match (&case.mock_config, &case.mock_test_case) {
        (Some(Value::String(_) | Value::Object(_)), Some(_)) | (None, None) => {}
        (Some(Value::String(_) | Value::Object(_)), None) => {
            return invalid("mock_config needs mock_test_case: the test case to run".into());
        }
        (Some(_), _) => {
            return invalid("mock_config is a file path (a string) or a mock configuration (an object)".into());
        }
        (None, Some(_)) => return invalid("mock_test_case needs mock_config: the file that holds it".into()),
    }
    case.ignore_paths
        .iter()
        .map(|p| IgnorePath::parse(p).map_err(|m| LoadError::Invalid(format!("ignore path {p:?}: {m}"))))
        .collect()
}

fn empty_object() -> Value {
    Value::Object(serde_json::Map::new())
}

/// Deserializes a field that may be JSON `null` and must still count as present.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<IgnorePath>, LoadError> {
        let case: Case = serde_json::from_str(text)?;
        check(&case)
    }

    #[test]
    fn minimal_case_defaults() {
        let case: Case =
            serde_json::from_str(r#"{"definition": {}, "expected": {"status": "SUCCEEDED", "output": null}}"#).unwrap();
        assert_eq!(case.input, serde_json::json!({}));
        assert_eq!(case.expected.output, Some(Value::Null));
        assert_eq!(case._state_machine_type, MachineType::Standard);
    }

    #[test]
    fn rejects_misspelt_and_inconsistent_fields() {
        let bad = [
            r#"{"definition": {}, "expected": {"status": "SUCCEEDED"}, "ignore_path": []}"#,
            r#"{"definition": {}, "expected": {"status": "DONE"}}"#,
            r#"{"definition": {}, "expected": {"status": "SUCCEEDED", "error": "X"}}"#,
            r#"{"definition": {}, "expected": {"status": "FAILED", "cause": "a", "cause_json": {}}}"#,
            r#"{"definition": {}, "expected": {"status": "SUCCEEDED"}, "ignore_paths": ["output"]}"#,
            r#"{"definition": {}, "expected": {"status": "SUCCEEDED"}, "s3_objects": {"nokey": ""}}"#,
            r#"{"definition": {}, "expected": {"status": "SUCCEEDED"}, "mock_config": "m.json"}"#,
            r#"{"definition": {}, "expected": {"status": "SUCCEEDED"}, "mock_test_case": "T"}"#,
            r#"{"definition": {}, "expected": {"status": "SUCCEEDED"}, "mock_config": 1, "mock_test_case": "T"}"#,
        ];
        for text in bad {
            assert!(parse(text).is_err(), "{text}");
        }
    }

    #[test]
    fn integration_is_inferred_from_the_resource() {
        let m: TaskMock =
            serde_json::from_str(r#"{"resource": "arn:aws:states:::lambda:invoke", "behaviour": "identity"}"#).unwrap();
        assert_eq!(m.integration(), Integration::LambdaInvoke);
        let m: TaskMock =
            serde_json::from_str(r#"{"resource": "arn:aws:lambda:us-east-1:1:function:f", "behaviour": "identity"}"#)
                .unwrap();
        assert_eq!(m.integration(), Integration::Direct);
    }
}
