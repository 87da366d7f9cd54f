//! The configuration members of CreateStateMachine and UpdateStateMachine
//! (`loggingConfiguration`, `tracingConfiguration`, `encryptionConfiguration`): checked as
//! botocore's model and AWS's documentation say, then kept as compact JSON text that
//! DescribeStateMachine echoes. dmap writes no CloudWatch logs, X-Ray traces or KMS-encrypted
//! data; it keeps what it was given so that clients read back what they set.

use serde_json::{Map, Value};

use super::error::ApiError;
use super::request::{Request, wrong_type};

/// The three configurations as given (compact JSON text), each `None` when absent.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Configs {
    pub logging: Option<String>,
    pub tracing: Option<String>,
    pub encryption: Option<String>,
}

impl Configs {
    /// Reads the three members of `r`.
    pub fn read(r: &mut Request) -> Result<Configs, ApiError> {
        let logging = r.object("loggingConfiguration")?;
        if let Some(l) = &logging {
            logging_rules(r, l)?;
        }
        let tracing = r.object("tracingConfiguration")?;
        if let Some(t) = &tracing
            && let Some(v) = t.get("enabled").filter(|v| !v.is_boolean() && !v.is_null())
        {
            return Err(wrong_type("tracingConfiguration.enabled", "a boolean", v));
        }
        let encryption = r.object("encryptionConfiguration")?;
        if let Some(e) = &encryption {
            encryption_rules(r, e)?;
        }
        let text = |m: Option<Map<String, Value>>| m.map(|m| Value::Object(m).to_string());
        Ok(Configs { logging: text(logging), tracing: text(tracing), encryption: text(encryption) })
    }

    pub fn is_empty(&self) -> bool {
        self.logging.is_none() && self.tracing.is_none() && self.encryption.is_none()
    }
}

fn logging_rules(r: &mut Request, l: &Map<String, Value>) -> Result<(), ApiError> {
    const LEVELS: [&str; 4] = ["ALL", "ERROR", "FATAL", "OFF"];
    let level = match l.get("level") {
        None | Some(Value::Null) => "OFF",
        Some(Value::String(s)) => s,
        Some(other) => return Err(wrong_type("loggingConfiguration.level", "a string", other)),
    };
    if !LEVELS.contains(&level) {
        r.violation(format!(
            "Value '{level}' at 'loggingConfiguration.level' failed to satisfy constraint: Member must satisfy enum \
             value set: [{}]",
            LEVELS.join(", ")
        ));
        return Ok(());
    }
    let destinations = match l.get("destinations") {
        None | Some(Value::Null) => 0,
        Some(Value::Array(d)) => d.len(),
        Some(other) => return Err(wrong_type("loggingConfiguration.destinations", "a list", other)),
    };
    // AWS: a level other than OFF logs somewhere, and only to one log group.
    if (level != "OFF" && destinations != 1) || destinations > 1 {
        return Err(ApiError::invalid_logging("Must specify exactly one Log Destination."));
    }
    Ok(())
}

fn encryption_rules(r: &mut Request, e: &Map<String, Value>) -> Result<(), ApiError> {
    const TYPES: [&str; 2] = ["AWS_OWNED_KEY", "CUSTOMER_MANAGED_KMS_KEY"];
    match e.get("type") {
        None | Some(Value::Null) => r.violation(
            "Value null at 'encryptionConfiguration.type' failed to satisfy constraint: Member must not be null".into(),
        ),
        Some(Value::String(t)) if TYPES.contains(&t.as_str()) => {}
        Some(Value::String(t)) => r.violation(format!(
            "Value '{t}' at 'encryptionConfiguration.type' failed to satisfy constraint: Member must satisfy enum \
             value set: [{}]",
            TYPES.join(", ")
        )),
        Some(other) => return Err(wrong_type("encryptionConfiguration.type", "a string", other)),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(body: &str) -> Result<Configs, ApiError> {
        let mut r = Request::parse(body.as_bytes()).expect("an object");
        let c = Configs::read(&mut r)?;
        r.finish().map(|()| c)
    }

    #[test]
    fn logging_above_off_needs_one_destination() {
        let e = read(r#"{"loggingConfiguration": {"level": "ALL"}}"#).expect_err("no destination");
        assert_eq!(e.code, "InvalidLoggingConfiguration");
        let ok = read(r#"{"loggingConfiguration": {"level": "OFF", "includeExecutionData": false}}"#).expect("off");
        assert_eq!(ok.logging.as_deref(), Some(r#"{"level":"OFF","includeExecutionData":false}"#));
        let e = read(r#"{"loggingConfiguration": {"level": "LOUD"}}"#).expect_err("no such level");
        assert_eq!(e.code, "ValidationException");
    }

    #[test]
    fn encryption_needs_a_type_and_tracing_a_boolean() {
        assert_eq!(read(r#"{"encryptionConfiguration": {}}"#).map_err(|e| e.code), Err("ValidationException"));
        assert_eq!(
            read(r#"{"tracingConfiguration": {"enabled": "yes"}}"#).map_err(|e| e.code),
            Err("SerializationException")
        );
        assert!(read(r#"{"encryptionConfiguration": {"type": "AWS_OWNED_KEY"}}"#).is_ok());
    }
}
