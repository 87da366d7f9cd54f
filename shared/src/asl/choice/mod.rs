//! Choice rules (interface placeholder — being implemented).

use serde_json::{Map, Value};

use crate::asl::diagnostic::Diagnostics;
use crate::asl::error_name::Failure;
use crate::asl::path::Env;

#[derive(Debug, Clone, PartialEq)]
pub enum Rule {
    And(Vec<Rule>),
}

impl Rule {
    /// Parses one rule object. `extra` lists keys the caller owns (for a top-level rule:
    /// `Next`, `Assign`; `Comment` is always allowed) and that must not be reported as unknown.
    pub fn parse(_obj: &Map<String, Value>, _ptr: &str, _diags: &mut Diagnostics, _extra: &[&str]) -> Option<Rule> {
        None
    }

    pub fn eval(&self, _input: &Value, _env: &dyn Env) -> Result<bool, Failure> {
        Ok(false)
    }
}
