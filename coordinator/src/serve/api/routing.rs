//! An alias's `routingConfiguration`: one or two versions of one state machine, with weights
//! (0 to 100) that sum to 100. What breaks those rules is a `ValidationException` with
//! reason `INVALID_ROUTING_CONFIGURATION`, as AWS answers; a version that does not exist is
//! `ResourceNotFound`.

use serde_json::{Value, json};

use super::Ctx;
use super::arn::{Arn, Resource};
use super::error::{ApiError, reason};
use super::request::{Request, check_length, check_range, wrong_type};

/// The `routingConfiguration` member of `r`: `(version ARN, weight)` pairs, unchecked beyond
/// types and constraints (see [`check`]).
pub fn read(r: &mut Request) -> Result<Option<Vec<(String, u32)>>, ApiError> {
    const KEY: &str = "routingConfiguration";
    let Some(items) = r.list(KEY)? else { return Ok(None) };
    let mut violations = Vec::new();
    if items.is_empty() || items.len() > 2 {
        violations.push(format!(
            "Value '{}' at '{KEY}' failed to satisfy constraint: Member must have length {}",
            Value::Array(items.clone()),
            if items.is_empty() { "greater than or equal to 1" } else { "less than or equal to 2" }
        ));
    }
    let mut routes = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let at = format!("{KEY}.{}.member", i + 1);
        let Value::Object(m) = item else { return Err(wrong_type(KEY, "a list of structures", item)) };
        let version = match m.get("stateMachineVersionArn") {
            None | Some(Value::Null) => {
                violations.push(format!(
                    "Value null at '{at}.stateMachineVersionArn' failed to satisfy constraint: Member must not be null"
                ));
                String::new()
            }
            Some(Value::String(s)) => {
                check_length(&mut violations, &format!("{at}.stateMachineVersionArn"), s, 1, 256, false);
                s.clone()
            }
            Some(other) => return Err(wrong_type(&format!("{at}.stateMachineVersionArn"), "a string", other)),
        };
        let weight = match m.get("weight") {
            None | Some(Value::Null) => {
                violations
                    .push(format!("Value null at '{at}.weight' failed to satisfy constraint: Member must not be null"));
                0
            }
            Some(Value::Number(n)) if n.is_i64() => {
                let w = n.as_i64().unwrap_or(0);
                check_range(&mut violations, &format!("{at}.weight"), w as f64, 0.0, 100.0);
                w.clamp(0, 100) as u32
            }
            Some(other) => return Err(wrong_type(&format!("{at}.weight"), "an integer", other)),
        };
        routes.push((version, weight));
    }
    violations.into_iter().for_each(|v| r.violation(v));
    Ok(Some(routes))
}

/// Checks the semantic rules and returns the unqualified state machine ARN the versions
/// belong to.
pub fn check(ctx: &Ctx, routes: &[(String, u32)]) -> Result<String, ApiError> {
    let invalid = |m: String| ApiError::validation(m, Some(reason::ROUTING));
    let mut machine: Option<String> = None;
    for (version, _) in routes {
        let arn = Arn::parse(version)?;
        if !matches!(arn.resource, Resource::Version { .. }) {
            return Err(invalid(format!("Routing configuration must contain state machine version ARNs: '{version}'")));
        }
        let of = arn.state_machine().unwrap_or_default();
        match &machine {
            Some(m) if *m != of => {
                return Err(invalid("Routing configuration must contain versions of the same state machine".into()));
            }
            _ => machine = Some(of),
        }
        if ctx.store.version(version)?.is_none() {
            return Err(ApiError::not_found("State Machine Version", version));
        }
    }
    if routes.len() == 2 && routes[0].0 == routes[1].0 {
        return Err(invalid("Routing configuration must contain distinct state machine versions".into()));
    }
    let total: u32 = routes.iter().map(|(_, w)| w).sum();
    if total != 100 {
        return Err(invalid(format!("Sum of routing configuration weights must be equal to 100, but was {total}")));
    }
    machine.ok_or_else(|| invalid("Routing configuration must contain at least one version".into()))
}

pub fn to_json(routes: &[(String, u32)]) -> Value {
    Value::Array(routes.iter().map(|(v, w)| json!({"stateMachineVersionArn": v, "weight": w})).collect())
}
