//! Intrinsic functions (`States.Format(...)` and friends): parsed once at load into a [`Call`]
//! tree, evaluated against the state's data with AWS's quirks.
//! (Interface placeholder — being implemented.)

use serde_json::Value;

use crate::asl::error_name::Failure;
use crate::asl::path::{Env, Path};

#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub name: String,
    pub args: Vec<Arg>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    Literal(Value),
    Path(Path),
    Call(Call),
}

impl Call {
    pub fn parse(text: &str) -> Result<Call, String> {
        Err(format!("intrinsic functions are not implemented yet: {text}"))
    }

    pub fn eval(&self, _input: &Value, _env: &dyn Env) -> Result<Value, Failure> {
        Err(Failure::new(crate::asl::error_name::RUNTIME, "not implemented"))
    }
}
