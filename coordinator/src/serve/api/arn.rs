//! ARNs as Step Functions forms them, and the name rules of the resources they name.
//!
//! ```text
//! arn:aws:states:<region>:<account>:stateMachine:<name>               a state machine
//! arn:aws:states:<region>:<account>:stateMachine:<name>:<n>           its version n
//! arn:aws:states:<region>:<account>:stateMachine:<name>:<alias>       its alias
//! arn:aws:states:<region>:<account>:stateMachine:<name>/<label>       a Map Run's children
//! arn:aws:states:<region>:<account>:execution:<machine>:<name>        a Standard execution
//! arn:aws:states:<region>:<account>:express:<machine>:<name>:<uuid>   an Express execution
//! arn:aws:states:<region>:<account>:mapRun:<machine>/<label>:<uuid>   a Map Run
//! ```
//!
//! A version's suffix is all digits; an alias name must contain a letter, `_`, `-` or `.`
//! (botocore's `CharacterRestrictedName`), so the two cannot be confused. This module only
//! parses and formats: whether the resource exists is the store's business.

use std::fmt;

use super::error::ApiError;

/// Where this server's resources live: the region and account in every ARN it forms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub region: String,
    pub account: String,
}

impl Scope {
    pub fn new(region: impl Into<String>) -> Self {
        // dmap serves one account; this is the one AWS's documentation uses in examples.
        Scope { region: region.into(), account: "123456789012".into() }
    }
    fn prefix(&self) -> String {
        format!("arn:aws:states:{}:{}", self.region, self.account)
    }
    pub fn state_machine(&self, name: &str) -> String {
        format!("{}:stateMachine:{name}", self.prefix())
    }
    pub fn execution(&self, machine: &str, name: &str) -> String {
        format!("{}:execution:{machine}:{name}", self.prefix())
    }
    pub fn activity(&self, name: &str) -> String {
        format!("{}:activity:{name}", self.prefix())
    }
    pub fn express_execution(&self, machine: &str, name: &str, id: &str) -> String {
        format!("{}:express:{machine}:{name}:{id}", self.prefix())
    }
}

/// What an ARN names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource {
    StateMachine {
        name: String,
    },
    Version {
        name: String,
        version: u64,
    },
    Alias {
        name: String,
        alias: String,
    },
    /// A Map Run's children (`<name>/<label>`).
    Labelled {
        name: String,
        label: String,
    },
    /// `machine` may be labelled (`<name>/<label>`) for a Map Run's child.
    Execution {
        machine: String,
        name: String,
    },
    Express {
        machine: String,
        name: String,
        id: String,
    },
    MapRun {
        machine: String,
        id: String,
    },
    Activity {
        name: String,
    },
}

/// A parsed ARN: the prefix it was written with (partition, region and account kept as given)
/// and what it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arn {
    /// `arn:<partition>:states:<region>:<account>`.
    prefix: String,
    pub resource: Resource,
}

impl Arn {
    /// Parses any Step Functions ARN; `InvalidArn` names what is wrong.
    pub fn parse(text: &str) -> Result<Arn, ApiError> {
        let parts: Vec<&str> = text.splitn(6, ':').collect();
        let [arn, partition, service, region, account, rest] = parts[..] else {
            return Err(ApiError::invalid_arn(format!("Invalid ARN prefix: {text}")));
        };
        let partition_ok = matches!(partition, "aws" | "aws-cn" | "aws-us-gov" | "aws-iso" | "aws-iso-b");
        let account_ok = account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit());
        if arn != "arn" || !partition_ok || service != "states" || region.is_empty() || !account_ok {
            return Err(ApiError::invalid_arn(format!("Invalid ARN prefix: {text}")));
        }
        let resource = resource(rest).ok_or_else(|| ApiError::invalid_arn(format!("Invalid ARN resource: {text}")))?;
        Ok(Arn { prefix: format!("{arn}:{partition}:{service}:{region}:{account}"), resource })
    }

    /// The kind's word in AWS's "Resource type not valid in this context" message.
    pub fn kind(&self) -> &'static str {
        match self.resource {
            Resource::StateMachine { .. } | Resource::Labelled { .. } => "stateMachine",
            Resource::Version { .. } => "stateMachineVersion",
            Resource::Alias { .. } => "stateMachineAlias",
            Resource::Execution { .. } => "execution",
            Resource::Express { .. } => "express",
            Resource::MapRun { .. } => "mapRun",
            Resource::Activity { .. } => "activity",
        }
    }

    /// `InvalidArn` for an ARN of a kind the action does not take.
    pub fn wrong_kind(&self) -> ApiError {
        ApiError::invalid_arn(format!("Resource type not valid in this context: {}", self.kind()))
    }

    /// The unqualified state machine ARN of a state machine, version or alias ARN (a labelled
    /// ARN keeps its label).
    pub fn state_machine(&self) -> Option<String> {
        match &self.resource {
            Resource::StateMachine { name } | Resource::Version { name, .. } | Resource::Alias { name, .. } => {
                Some(format!("{}:stateMachine:{name}", self.prefix))
            }
            Resource::Labelled { name, label } => Some(format!("{}:stateMachine:{name}/{label}", self.prefix)),
            _ => None,
        }
    }
}

impl fmt::Display for Arn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:", self.prefix)?;
        match &self.resource {
            Resource::StateMachine { name } => write!(f, "stateMachine:{name}"),
            Resource::Version { name, version } => write!(f, "stateMachine:{name}:{version}"),
            Resource::Alias { name, alias } => write!(f, "stateMachine:{name}:{alias}"),
            Resource::Labelled { name, label } => write!(f, "stateMachine:{name}/{label}"),
            Resource::Execution { machine, name } => write!(f, "execution:{machine}:{name}"),
            Resource::Express { machine, name, id } => write!(f, "express:{machine}:{name}:{id}"),
            Resource::MapRun { machine, id } => write!(f, "mapRun:{machine}:{id}"),
            Resource::Activity { name } => write!(f, "activity:{name}"),
        }
    }
}

fn resource(rest: &str) -> Option<Resource> {
    let (kind, tail) = rest.split_once(':')?;
    let parts: Vec<&str> = tail.split(':').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return None;
    }
    let s = |p: &str| p.to_string();
    Some(match (kind, &parts[..]) {
        ("stateMachine", [name]) => match name.split_once('/') {
            Some((name, label)) if !name.is_empty() && !label.is_empty() => {
                Resource::Labelled { name: s(name), label: s(label) }
            }
            Some(_) => return None,
            None => Resource::StateMachine { name: s(name) },
        },
        ("stateMachine", [name, qualifier]) if qualifier.bytes().all(|b| b.is_ascii_digit()) => {
            Resource::Version { name: s(name), version: qualifier.parse().ok()? }
        }
        ("stateMachine", [name, alias]) => Resource::Alias { name: s(name), alias: s(alias) },
        ("execution", [machine, name]) => Resource::Execution { machine: s(machine), name: s(name) },
        ("express", [machine, name, id]) => Resource::Express { machine: s(machine), name: s(name), id: s(id) },
        ("mapRun", [machine, id]) if machine.contains('/') => Resource::MapRun { machine: s(machine), id: s(id) },
        ("activity", [name]) => Resource::Activity { name: s(name) },
        _ => return None,
    })
}

/// AWS's rule for state machine and execution names (CreateStateMachine, StartExecution): 1
/// to 80 characters, none of them white space, a bracket, a wildcard, one of
/// `" # % \ ^ | ~ ` $ & , ; : /`, or a control or non-character code point.
pub fn valid_name(name: &str) -> bool {
    let n = name.chars().count();
    (1..=80).contains(&n) && name.chars().all(allowed)
}

fn allowed(c: char) -> bool {
    !(c.is_whitespace()
        || "<>{}[]?*\"#%\\^|~`$&,;:/".contains(c)
        || matches!(c, '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '\u{fffe}' | '\u{ffff}'))
}

/// botocore's `CharacterRestrictedName` (alias names): 1 to 80 of `[a-zA-Z0-9_.-]`, at least
/// one of them not a digit.
pub fn valid_alias_name(name: &str) -> bool {
    (1..=80).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        && !name.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SM: &str = "arn:aws:states:us-east-1:123456789012:stateMachine:HelloWorld";

    #[test]
    fn every_kind_round_trips() {
        // Forms from the Step Functions API reference's examples.
        for text in [
            SM,
            "arn:aws:states:us-east-1:123456789012:stateMachine:HelloWorld:1",
            "arn:aws:states:us-east-1:123456789012:stateMachine:HelloWorld:PROD",
            "arn:aws:states:us-east-1:123456789012:stateMachine:HelloWorld/Distributed",
            "arn:aws:states:us-east-1:123456789012:execution:HelloWorld:run-1",
            "arn:aws:states:us-east-1:123456789012:execution:HelloWorld/Distributed:0b2a5b39-1b34-3d28-9a4f-0f1c8f7a0b12",
            "arn:aws:states:us-east-1:123456789012:express:HelloWorld:run-1:7f6c2b43-45b4-4d0e-9d55-1e9f2b1b6f0a",
            "arn:aws:states:us-east-1:123456789012:mapRun:HelloWorld/Distributed:5d8d7b24-9cf1-3c8f-8bfc-3d4c9e9f1a11",
            "arn:aws:states:us-east-1:123456789012:activity:review",
        ] {
            let arn = Arn::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(arn.to_string(), text);
        }
    }

    #[test]
    fn versions_and_aliases_are_told_apart_and_name_their_machine() {
        let v = Arn::parse(&format!("{SM}:7")).expect("a version");
        assert_eq!(v.resource, Resource::Version { name: "HelloWorld".into(), version: 7 });
        assert_eq!(v.state_machine().as_deref(), Some(SM));
        let a = Arn::parse(&format!("{SM}:v7")).expect("an alias");
        assert_eq!(a.resource, Resource::Alias { name: "HelloWorld".into(), alias: "v7".into() });
        assert_eq!(a.state_machine().as_deref(), Some(SM));
    }

    #[test]
    fn malformed_arns_are_invalid_arn() {
        for text in [
            "",
            "HelloWorld",
            "arn:aws:lambda:us-east-1:123456789012:function:f",
            "arn:aws:states:us-east-1:1234:stateMachine:m",
            "arn:aws:states:us-east-1:123456789012:stateMachine:",
            "arn:aws:states:us-east-1:123456789012:table:m",
            "arn:aws:states:us-east-1:123456789012:execution:m",
            "arn:aws:states:us-east-1:123456789012:mapRun:m:1",
        ] {
            assert_eq!(Arn::parse(text).map_err(|e| e.code), Err("InvalidArn"), "{text:?}");
        }
        let e = Arn::parse(SM).expect("valid").wrong_kind();
        assert_eq!(e.message, "Invalid Arn: 'Resource type not valid in this context: stateMachine'");
    }

    #[test]
    fn names_follow_the_api_reference() {
        assert!(valid_name("HelloWorld-1_a.b"));
        assert!(valid_name(&"a".repeat(80)));
        assert!(!valid_name(&"a".repeat(81)));
        assert!(!valid_name(""));
        for bad in [
            "a b",
            "a<b",
            "a{b",
            "a[b",
            "a?b",
            "a*b",
            "a\"b",
            "a#b",
            "a%b",
            "a\\b",
            "a^b",
            "a|b",
            "a~b",
            "a`b",
            "a$b",
            "a&b",
            "a,b",
            "a;b",
            "a:b",
            "a/b",
            "a\u{1}b",
            "a\u{85}b",
            "a\u{ffff}b",
        ] {
            assert!(!valid_name(bad), "{bad:?}");
        }
        assert!(valid_alias_name("PROD"));
        assert!(valid_alias_name("v1.2-beta_3"));
        assert!(!valid_alias_name("123"));
        assert!(!valid_alias_name("a b"));
    }
}
