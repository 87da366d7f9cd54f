//! TestState's check of a mocked Task result against the output shape of the API operation the
//! Task calls (`mock.fieldValidationMode`): `STRICT` wants every required member present and
//! every present member of the model's type; `PRESENT` only the latter. Members are named as
//! Step Functions names them in results (PascalCase: `ExecutionArn` for StartExecution's
//! `executionArn`), and members the model does not have are accepted.
//!
//! The texts are AWS's, as LocalStack recorded them from AWS in its validated snapshots
//! (`tests/aws/services/stepfunctions/v2/test_state/test_field_validation_mode.snapshot.json`):
//! `Mock result schema validation error: Field 'StatusCode' must be a number`, `… Required
//! field 'ExecutionArn' is missing`, `… is not an expected value`, `… is smaller than the
//! minimum length`, `… is less than the minimum value`, `… exceeds the maximum value`.
//!
//! Owns: the walk over a model shape. Must not: call anything.

use serde_json::Value;
use shared::asl::resource::{Pattern, Resource, Target};

use super::model::{self, Service, Shape, ShapeKind};
use super::optimized::actions::{self, Shape as Optimization};

/// How strictly a mocked result is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Strict,
    Present,
}

/// What the check found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckError {
    /// The result does not fit the model: AWS's message.
    #[error("{0}")]
    Invalid(String),
    /// dmap knows no model to check this resource's result against.
    #[error("{0}")]
    NoModel(String),
}

/// Where the result of a Task comes from: the API operation whose output shape it has, or
/// `None` when no API model describes it (a Lambda function ARN, an activity, an HTTP Task, a
/// callback's answer), which every mode accepts.
fn operation(resource: &Resource) -> Result<Option<(&'static str, String)>, CheckError> {
    let (service, action) = match &resource.target {
        Target::Sdk { service, action } => (*service, action.clone()),
        Target::Optimized { service, action } => {
            let name = service.name();
            match (name, action.as_str()) {
                ("lambda", "invoke") => ("lambda", "invoke".to_string()),
                ("states", "startExecution") => ("sfn", "startExecution".to_string()),
                _ => match actions::find(name, action) {
                    Some(a)
                        if matches!(
                            a.shape,
                            Optimization::Api
                                | Optimization::Stringify(_)
                                | Optimization::PutEvents
                                | Optimization::EchoRequest(_)
                        ) =>
                    {
                        (a.api, a.operation.to_string())
                    }
                    _ => {
                        return Err(CheckError::NoModel(format!(
                            "dmap serve has no API model for the result of {}: set mock.fieldValidationMode to NONE",
                            resource.arn
                        )));
                    }
                },
            }
        }
        Target::Function { .. } | Target::Activity { .. } | Target::Http => return Ok(None),
    };
    match resource.pattern {
        Pattern::RequestResponse => Ok(Some((service, action))),
        // The answer is whatever the callback sends.
        Pattern::WaitForTaskToken => Ok(None),
        Pattern::Sync | Pattern::Sync2 => Err(CheckError::NoModel(format!(
            "dmap serve does not check mocked results of .sync integrations against an API model yet ({}): \
             set mock.fieldValidationMode to NONE",
            resource.arn
        ))),
    }
}

/// Checks `result` against the output of what `resource` calls.
pub fn check(resource: &Resource, result: &Value, mode: Mode) -> Result<(), CheckError> {
    let Some((service, action)) = operation(resource)? else { return Ok(()) };
    let unknown = || CheckError::NoModel(format!("no API model for {service}:{action}"));
    let model = model::service(service).map_err(|_| unknown())?;
    let (_, op) = model.operation(&action).ok_or_else(unknown)?;
    let Some(output) = &op.output else { return Ok(()) };
    let shape = model.shape(&output.shape).map_err(|_| unknown())?;
    Walk { model: &model, mode }.value(result, shape, "")
}

struct Walk<'a> {
    model: &'a Service,
    mode: Mode,
}

fn invalid(message: String) -> CheckError {
    CheckError::Invalid(format!("Mock result schema validation error: {message}"))
}

/// Step Functions' name of a member in results: its first letter upper-cased.
fn sfn_cased(name: &str) -> String {
    let mut c = name.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

impl Walk<'_> {
    fn value(&self, v: &Value, shape: &Shape, field: &str) -> Result<(), CheckError> {
        let must_be = |what: &str| Err(invalid(format!("Field '{field}' must be {what}")));
        if shape.document {
            return Ok(());
        }
        match shape.kind {
            ShapeKind::Structure => {
                let Value::Object(obj) = v else { return must_be("an object") };
                if self.mode == Mode::Strict {
                    for r in &shape.required {
                        let name = sfn_cased(r);
                        if !obj.contains_key(&name) {
                            return Err(invalid(format!("Required field '{name}' is missing")));
                        }
                    }
                }
                for (name, member) in shape.members.iter() {
                    let cased = sfn_cased(name);
                    if let Some(x) = obj.get(&cased) {
                        let s = self.model.shape(&member.shape).map_err(|e| CheckError::NoModel(e.to_string()))?;
                        self.value(x, s, &cased)?;
                    }
                }
                Ok(())
            }
            ShapeKind::List => {
                let Value::Array(items) = v else { return must_be("an array") };
                if let Some(m) = &shape.member {
                    let s = self.model.shape(&m.shape).map_err(|e| CheckError::NoModel(e.to_string()))?;
                    for x in items {
                        self.value(x, s, field)?;
                    }
                }
                Ok(())
            }
            ShapeKind::Map => {
                let Value::Object(obj) = v else { return must_be("an object") };
                if let Some(m) = &shape.value {
                    let s = self.model.shape(&m.shape).map_err(|e| CheckError::NoModel(e.to_string()))?;
                    for x in obj.values() {
                        self.value(x, s, field)?;
                    }
                }
                Ok(())
            }
            ShapeKind::String | ShapeKind::Timestamp => {
                let Some(text) = v.as_str() else { return must_be("a string") };
                if let Some(values) = &shape.enum_values
                    && !values.iter().any(|e| e == text)
                {
                    return Err(invalid(format!("Field '{field}' is not an expected value")));
                }
                self.length(text.chars().count(), shape, field)
            }
            ShapeKind::Blob => {
                let Some(text) = v.as_str() else { return must_be("a string") };
                self.length(text.len(), shape, field)
            }
            ShapeKind::Boolean => {
                if v.is_boolean() {
                    Ok(())
                } else {
                    must_be("a boolean")
                }
            }
            ShapeKind::Integer | ShapeKind::Long | ShapeKind::Short | ShapeKind::Byte | ShapeKind::BigInteger => {
                if !(v.is_i64() || v.is_u64()) {
                    return must_be("a number");
                }
                self.range(v.as_f64().unwrap_or(0.0), shape, field)
            }
            ShapeKind::Float | ShapeKind::Double | ShapeKind::BigDecimal => {
                let Some(n) = v.as_f64() else { return must_be("a number") };
                self.range(n, shape, field)
            }
        }
    }

    fn length(&self, n: usize, shape: &Shape, field: &str) -> Result<(), CheckError> {
        match shape.min {
            Some(min) if (n as f64) < min => {
                Err(invalid(format!("Field '{field}' is smaller than the minimum length")))
            }
            _ => Ok(()),
        }
    }

    fn range(&self, n: f64, shape: &Shape, field: &str) -> Result<(), CheckError> {
        if shape.min.is_some_and(|min| n < min) {
            return Err(invalid(format!("Field '{field}' is less than the minimum value")));
        }
        if shape.max.is_some_and(|max| n > max) {
            return Err(invalid(format!("Field '{field}' exceeds the maximum value")));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn check_on(arn: &str, result: Value, mode: Mode) -> Result<(), CheckError> {
        let resource = Resource::parse(arn).unwrap_or_else(|e| panic!("{arn}: {e:?}"));
        check(&resource, &result, mode)
    }

    fn invalid_text(r: Result<(), CheckError>) -> String {
        match r {
            Err(CheckError::Invalid(m)) => m,
            other => panic!("expected an invalid result, got {other:?}"),
        }
    }

    /// The cases of LocalStack's AWS-recorded `test_field_validation_mode` snapshot.
    #[test]
    fn results_are_checked_as_aws_checks_them() {
        let lambda = "arn:aws:states:::lambda:invoke";
        assert_eq!(check_on(lambda, json!({"random": "json"}), Mode::Strict), Ok(()), "unknown members pass");
        assert_eq!(check_on(lambda, json!({}), Mode::Strict), Ok(()), "Invoke's output requires nothing");
        assert_eq!(
            invalid_text(check_on(lambda, json!({"StatusCode": "200"}), Mode::Strict)),
            "Mock result schema validation error: Field 'StatusCode' must be a number"
        );
        let events = "arn:aws:states:::events:putEvents";
        assert_eq!(
            invalid_text(check_on(events, json!({"Entries": {}}), Mode::Strict)),
            "Mock result schema validation error: Field 'Entries' must be an array"
        );
        assert_eq!(
            invalid_text(check_on(events, json!({"Entries": [{"EventId": "a"}, {"EventId": 1}]}), Mode::Strict)),
            "Mock result schema validation error: Field 'EventId' must be a string"
        );
        let start = "arn:aws:states:::states:startExecution";
        for r in [json!({"StartDate": "2025-01-01T00:00:00Z"}), json!({"executionArn": "x", "startDate": "y"})] {
            assert_eq!(
                invalid_text(check_on(start, r, Mode::Strict)),
                "Mock result schema validation error: Required field 'ExecutionArn' is missing"
            );
        }
        assert_eq!(
            invalid_text(check_on(start, json!({"ExecutionArn": "x", "StartDate": true}), Mode::Strict)),
            "Mock result schema validation error: Field 'StartDate' must be a string"
        );
        // PRESENT does not ask for required members.
        assert_eq!(check_on(start, json!({}), Mode::Present), Ok(()));
        let s3 = "arn:aws:states:::aws-sdk:s3:getObject";
        assert_eq!(
            invalid_text(check_on(s3, json!({"ContentLength": "12"}), Mode::Strict)),
            "Mock result schema validation error: Field 'ContentLength' must be a number"
        );
        assert_eq!(
            invalid_text(check_on(s3, json!({"StorageClass": "NOPE"}), Mode::Strict)),
            "Mock result schema validation error: Field 'StorageClass' is not an expected value"
        );
        let kms = "arn:aws:states:::aws-sdk:kms:encrypt";
        assert_eq!(
            invalid_text(check_on(kms, json!({"CiphertextBlob": 1}), Mode::Strict)),
            "Mock result schema validation error: Field 'CiphertextBlob' must be a string"
        );
        assert_eq!(
            invalid_text(check_on(kms, json!({"CiphertextBlob": ""}), Mode::Strict)),
            "Mock result schema validation error: Field 'CiphertextBlob' is smaller than the minimum length"
        );
        let get_function = "arn:aws:states:::aws-sdk:lambda:getFunction";
        assert_eq!(
            invalid_text(check_on(get_function, json!({"Configuration": {"MemorySize": 1}}), Mode::Strict)),
            "Mock result schema validation error: Field 'MemorySize' is less than the minimum value"
        );
        assert_eq!(
            invalid_text(check_on(get_function, json!({"Configuration": {"MemorySize": 99999999}}), Mode::Strict)),
            "Mock result schema validation error: Field 'MemorySize' exceeds the maximum value"
        );
        // A function ARN's result is the function's own: nothing to check.
        assert_eq!(check_on("arn:aws:lambda:us-east-1:123456789012:function:f", json!(1), Mode::Strict), Ok(()));
    }
}
