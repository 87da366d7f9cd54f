//! Definitions as CreateStateMachine and UpdateStateMachine accept them: valid ASL (the shared
//! parser's diagnostics) that this build can run (the [`Support`] check), and their content
//! hash, under which the store keeps each text once.
//!
//! A definition naming a Task resource this server cannot serve is refused at once with
//! `InvalidDefinition`, rather than stored and failed at every StartExecution: someone
//! deploying a state machine would rather know when they deploy it.

use sha2::{Digest, Sha256};
use shared::asl::{Diagnostic, Severity, StateMachine};

use super::error::ApiError;
use super::{Ctx, Support};
use crate::serve::store::MachineType;

/// The shared parser's diagnostics (errors and warnings) for `text`, and the machine when it
/// parsed.
pub fn diagnostics(text: &str) -> (Option<StateMachine>, Vec<Diagnostic>) {
    match shared::asl::parse_definition(text) {
        Ok((machine, warnings)) => (Some(machine), warnings),
        Err(errors) => (None, errors),
    }
}

/// Every diagnostic of `text` for a state machine of `machine_type`: the parser's, the
/// Express rules, and what this server cannot run.
pub fn all_diagnostics(ctx: &Ctx, text: &str, machine_type: MachineType) -> Vec<Diagnostic> {
    let (machine, mut found) = diagnostics(text);
    if let Some(machine) = &machine {
        found.extend(super::express::violations(machine, machine_type == MachineType::Express));
        if let Some(support) = &ctx.support {
            found.extend(support.unsupported(machine));
        }
    }
    found
}

/// Ok when `text` is a definition this server can run as a `machine_type` state machine;
/// otherwise `InvalidDefinition` listing every error as AWS does:
/// `Invalid State Machine Definition: 'CODE: message at /pointer, …'`.
pub fn check(ctx: &Ctx, text: &str, machine_type: MachineType) -> Result<(), ApiError> {
    let errors: Vec<Diagnostic> =
        all_diagnostics(ctx, text, machine_type).into_iter().filter(|d| d.severity == Severity::Error).collect();
    if errors.is_empty() { Ok(()) } else { Err(invalid(&errors)) }
}

pub fn invalid(errors: &[Diagnostic]) -> ApiError {
    let items: Vec<String> = errors
        .iter()
        .map(|d| {
            let at = if d.location.is_empty() { "/" } else { &d.location };
            format!("{}: {} at {at}", d.code, d.message)
        })
        .collect();
    ApiError::invalid_definition(items.join(", "))
}

/// SHA-256 of the text, in hex: the definitions table's key.
pub fn hash(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// A [`Support`] that accepts everything (tests, and servers that check nothing ahead).
#[derive(Debug)]
pub struct AcceptAll;

impl Support for AcceptAll {
    fn unsupported(&self, _: &StateMachine) -> Vec<Diagnostic> {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_listed_as_aws_words_them() {
        let e = invalid(&[
            Diagnostic {
                severity: Severity::Error,
                code: "MISSING_TRANSITION_TARGET",
                message: "Missing 'Next' target: B".into(),
                location: "/States/A/Next".into(),
            },
            Diagnostic {
                severity: Severity::Error,
                code: "SCHEMA_VALIDATION_FAILED",
                message: "The field 'StartAt' is required".into(),
                location: String::new(),
            },
        ]);
        assert_eq!(e.code, "InvalidDefinition");
        // The shape of AWS's answer (quoted in localstack/localstack#12487).
        assert_eq!(
            e.message,
            "Invalid State Machine Definition: 'MISSING_TRANSITION_TARGET: Missing 'Next' target: B at /States/A/Next, \
             SCHEMA_VALIDATION_FAILED: The field 'StartAt' is required at /'"
        );
    }

    #[test]
    fn hashes_are_sha256_hex() {
        // SHA-256("abc"), FIPS 180-2 appendix B.1.
        assert_eq!(hash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
