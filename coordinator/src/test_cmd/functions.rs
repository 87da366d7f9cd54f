//! Task mocks as real functions: a case's `tasks` entries for Lambda functions become a
//! functions file of tiny commands (`cat` for identity, printing `returns` for constant), so
//! `dmap test` exercises the same Lambda integration `dmap run --functions` uses — process,
//! JSON on stdin and stdout, AWS's `lambda:invoke` wrapper — rather than a stand-in.
//!
//! A function that cases mock with different behaviours for different states, or a `*`
//! function, stays a mock.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

use shared::asl::resource::{Resource, Target};
use tempfile::TempDir;
use worker::integrations::Integrations;
use worker::integrations::lambda::bare_name;

use super::case::{Behaviour, Integration, TaskMock};

/// The functions file and the integrations built from it, with the functions it serves.
pub struct Functions {
    _dir: TempDir,
    pub integrations: Arc<Integrations>,
    pub names: Vec<String>,
}

/// Builds functions for the Lambda mocks that can be functions; `None` when there are none.
pub fn for_mocks(mocks: &[TaskMock]) -> Result<Option<Functions>, String> {
    let mut by_name: BTreeMap<String, Vec<&TaskMock>> = BTreeMap::new();
    for m in mocks {
        if let Some(name) = function_name(m) {
            by_name.entry(name).or_default().push(m);
        }
    }
    let mut toml = String::new();
    let mut names = Vec::new();
    for (name, ms) in &by_name {
        let first = ms[0];
        if ms.iter().any(|m| m.behaviour != first.behaviour || m.returns != first.returns) {
            continue;
        }
        let _ = writeln!(toml, "[functions.{name}]\nper_invocation = true");
        match first.behaviour {
            Behaviour::Identity => {
                let _ = writeln!(toml, "command = [\"cat\"]");
            }
            Behaviour::Constant => {
                // The constant travels in the environment, never on a command line.
                let returns = serde_json::to_string(&first.returns).map_err(|e| e.to_string())?;
                let _ =
                    writeln!(toml, "command = [\"sh\", \"-c\", \"cat >/dev/null; printf '%s' \\\"$DMAP_RETURNS\\\"\"]");
                let _ = writeln!(toml, "env = {{ DMAP_RETURNS = {} }}", toml_string(&returns));
            }
        }
        names.push(name.clone());
    }
    if names.is_empty() {
        return Ok(None);
    }
    let dir = tempfile::Builder::new().prefix("dmap-test-functions-").tempdir().map_err(|e| e.to_string())?;
    let path = dir.path().join("functions.toml");
    std::fs::write(&path, toml).map_err(|e| e.to_string())?;
    let integrations = Integrations::load(&path, Some(shared::asl::eval::MAX_PAYLOAD_BYTES))?;
    Ok(Some(Functions { _dir: dir, integrations: Arc::new(integrations), names }))
}

/// The function a Lambda mock stands for.
fn function_name(m: &TaskMock) -> Option<String> {
    match m.integration() {
        Integration::Direct => match Resource::parse(&m.resource).map(|r| r.target) {
            Ok(Target::Function { name }) => Some(name),
            _ => None,
        },
        Integration::LambdaInvoke => match m.function.as_deref() {
            None | Some("*") => None,
            Some(f) => bare_name(f).map(str::to_string),
        },
    }
}

/// A TOML basic string. JSON's escaping is not enough: TOML also forbids a raw DEL (U+007F),
/// which JSON leaves as is. Every control character is written as `\uXXXX`.
fn toml_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};
    use shared::asl::eval::TaskRequest;

    use super::*;

    fn mock(v: Value) -> TaskMock {
        serde_json::from_value(v).unwrap_or_else(|e| panic!("mock: {e}"))
    }

    fn request(resource: &str, input: Value) -> TaskRequest {
        TaskRequest {
            state_name: "T".into(),
            resource: Arc::new(Resource::parse(resource).expect("a valid resource")),
            input,
            timeout_seconds: 60,
            heartbeat_seconds: None,
            credentials: None,
            execution_arn: "arn:aws:states:us-east-1:111111111111:execution:sm:x".into(),
            call_id: 2,
            task_token: None,
        }
    }

    #[tokio::test]
    async fn identity_and_constant_mocks_run_as_processes() {
        let mocks = vec![
            mock(json!({"resource": "arn:aws:lambda:us-east-1:111111111111:function:echo", "behaviour": "identity"})),
            mock(json!({"resource": "arn:aws:states:::lambda:invoke", "function": "answer", "behaviour": "constant",
                        "returns": {"answer": 42, "quote": "it's \"so\""}})),
            // A `*` function cannot be named in a functions file: it stays a mock.
            mock(json!({"resource": "arn:aws:states:::lambda:invoke", "function": "*", "behaviour": "identity"})),
        ];
        let f = for_mocks(&mocks).expect("functions").expect("some functions");
        assert_eq!(f.names, vec!["answer".to_string(), "echo".to_string()]);
        let echoed = f
            .integrations
            .invoke(request("arn:aws:lambda:us-east-1:111111111111:function:echo", json!({"k": [1, "x"]})))
            .await;
        assert_eq!(echoed, Ok(json!({"k": [1, "x"]})));
        let wrapped = f
            .integrations
            .invoke(request("arn:aws:states:::lambda:invoke", json!({"FunctionName": "answer", "Payload": {"in": 1}})))
            .await
            .expect("invoke");
        assert_eq!(wrapped["Payload"], json!({"answer": 42, "quote": "it's \"so\""}));
        assert_eq!(wrapped["StatusCode"], json!(200));
    }

    #[test]
    fn toml_strings_escape_every_control_character() {
        // TOML forbids raw U+0000–U+0008, U+000A–U+001F and U+007F in a basic string; JSON
        // escapes all of them but DEL.
        let mut every: String = (0u8..=0x7f).map(char::from).collect();
        every.push_str("\u{80}\u{9f}\u{a0}é€😀\\\"'$(x)");
        for s in every.chars().map(String::from).chain([every.clone()]) {
            let doc = format!("x = {}", toml_string(&s));
            let parsed: toml::Table = doc.parse().unwrap_or_else(|e| panic!("{s:?}: {e}"));
            assert_eq!(parsed["x"].as_str(), Some(s.as_str()), "{s:?}");
        }
    }

    #[tokio::test]
    async fn a_constant_holding_del_is_returned_as_is() {
        // The probe's M9: a `returns` with U+007F made the generated functions file invalid.
        let returns = json!({"x": "a\u{7f}b", "c": "\u{0}\u{1}\u{1f}\u{9f}"});
        let mocks = vec![mock(json!({"resource": "arn:aws:lambda:us-east-1:111111111111:function:del",
                                     "behaviour": "constant", "returns": returns}))];
        let f = for_mocks(&mocks).expect("functions").expect("some functions");
        let got = f.integrations.invoke(request("arn:aws:lambda:us-east-1:111111111111:function:del", json!({}))).await;
        assert_eq!(got, Ok(returns));
    }
}
