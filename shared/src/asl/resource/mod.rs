//! A Task state's `Resource`, parsed once at load into what it calls and how: a Lambda
//! function, an optimized integration (`arn:aws:states:::SERVICE:ACTION`), an AWS SDK
//! integration (`arn:aws:states:::aws-sdk:SERVICE:ACTION`), the HTTP Task or an activity, each
//! with its integration pattern (`.sync`, `.sync:2`, `.waitForTaskToken`).
//!
//! Validation follows what AWS refuses at CreateStateMachine: an ARN of no known form, a
//! service or action that does not exist, or a pattern the integration does not support. Owns
//! the ARN grammar and the tables ([`optimized`], [`sdk`]); must not decide what this build can
//! run (the coordinator's support check does) nor call anything.

pub mod optimized;
pub mod sdk;

pub use optimized::Service;

use crate::asl::suggest;

use crate::asl::diagnostic::code;

/// A Task's resource: the ARN as written and what it means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    /// The `Resource` string exactly as written.
    pub arn: String,
    pub target: Target,
    pub pattern: Pattern,
}

/// What a Task calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A Lambda function ARN, `arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]`: the
    /// input is the event, the result is the function's.
    Function { name: String },
    /// The HTTP Task, `arn:aws:states:::http:invoke`.
    Http,
    /// An optimized integration.
    Optimized { service: Service, action: String },
    /// An AWS SDK integration; `service` is the catalogue's name (aliases resolved), `action`
    /// the operation in lowerCamel.
    Sdk { service: &'static str, action: String },
    /// An activity, `arn:aws:states:REGION:ACCOUNT:activity:NAME`.
    Activity { name: String },
}

/// How Step Functions waits for a call: AWS's "service integration patterns".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pattern {
    RequestResponse,
    /// `.sync`: run a job and wait for it.
    Sync,
    /// `.sync:2`: as `.sync`, with JSON output (`states:startExecution`).
    Sync2,
    /// `.waitForTaskToken`: wait for a callback.
    WaitForTaskToken,
}

impl Pattern {
    /// The suffix that selects it, for messages.
    pub fn describe(self) -> &'static str {
        match self {
            Pattern::RequestResponse => "request-response (no suffix)",
            Pattern::Sync => ".sync",
            Pattern::Sync2 => ".sync:2",
            Pattern::WaitForTaskToken => ".waitForTaskToken",
        }
    }

    fn from_suffix(suffix: &str) -> Option<Pattern> {
        match suffix {
            "" => Some(Pattern::RequestResponse),
            "sync" => Some(Pattern::Sync),
            "sync:2" => Some(Pattern::Sync2),
            "waitForTaskToken" => Some(Pattern::WaitForTaskToken),
            _ => None,
        }
    }
}

/// Why a `Resource` is refused, each kind with its diagnostic code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResourceError {
    #[error(
        "'{0}' is not a Task resource: expected a Lambda function ARN, an activity ARN or arn:aws:states:::SERVICE:ACTION"
    )]
    Malformed(String),
    #[error("{0}")]
    Unknown(String),
    #[error("'{arn}' does not support {pattern}; it supports {supported}")]
    Pattern { arn: String, pattern: &'static str, supported: String },
    #[error("the AWS SDK integration '{0}' speaks smithy-rpc-v2-cbor, a protocol dmap does not speak yet")]
    Protocol(String),
}

impl ResourceError {
    /// The stable diagnostic code.
    pub fn code(&self) -> &'static str {
        match self {
            ResourceError::Malformed(_) => code::INVALID_RESOURCE,
            ResourceError::Unknown(_) => code::UNKNOWN_INTEGRATION,
            ResourceError::Pattern { .. } => code::UNSUPPORTED_PATTERN,
            ResourceError::Protocol(_) => code::PROTOCOL_NOT_SUPPORTED,
        }
    }
}

/// The partitions whose Step Functions endpoints exist.
const PARTITIONS: &[&str] = &["aws", "aws-cn", "aws-us-gov"];

impl Resource {
    /// Parses and validates a `Resource` string.
    pub fn parse(arn: &str) -> Result<Resource, ResourceError> {
        let (target, pattern) = target(arn)?;
        Ok(Resource { arn: arn.to_string(), target, pattern })
    }

    /// `arn:aws:states:::lambda:invoke` in any pattern.
    pub fn is_lambda_invoke(&self) -> bool {
        matches!(&self.target, Target::Optimized { service: Service::Lambda, action } if action == "invoke")
    }
}

impl std::fmt::Display for Resource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.arn)
    }
}

fn target(arn: &str) -> Result<(Target, Pattern), ResourceError> {
    let malformed = || ResourceError::Malformed(arn.to_string());
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(partition), Some(service), Some(region), Some(account), Some(rest)) =
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(malformed());
    };
    match service {
        // What dmap has always accepted as a function: any partition, region and account.
        "lambda" if !partition.is_empty() => match function_name(rest) {
            Some(name) => Ok((Target::Function { name: name.to_string() }, Pattern::RequestResponse)),
            None => Err(malformed()),
        },
        "states" if PARTITIONS.contains(&partition) => {
            match rest.strip_prefix("activity:") {
                Some(name) if !region.is_empty() && !account.is_empty() && valid_activity_name(name) => {
                    Ok((Target::Activity { name: name.to_string() }, Pattern::WaitForTaskToken))
                }
                Some(_) => Err(malformed()),
                // AWS deploys integrations written with a region and account too
                // (`arn:aws:states:us-east-1:123456789012:aws-sdk:s3:getObject`, from
                // `${AWS::Region}` in published samples); they call the same API.
                None => integration(arn, rest),
            }
        }
        _ => Err(malformed()),
    }
}

/// `SERVICE:ACTION[.PATTERN]` or `aws-sdk:SERVICE:ACTION[.PATTERN]`.
fn integration(arn: &str, rest: &str) -> Result<(Target, Pattern), ResourceError> {
    let (sdk, rest) = match rest.strip_prefix("aws-sdk:") {
        Some(r) => (true, r),
        None => (false, rest),
    };
    let Some((service, action)) = rest.split_once(':') else {
        return Err(ResourceError::Malformed(arn.to_string()));
    };
    let (action, pattern) = match action.split_once('.') {
        Some((a, suffix)) => (a, suffix),
        None => (action, ""),
    };
    let pattern = Pattern::from_suffix(pattern).ok_or_else(|| {
        ResourceError::Unknown(format!(
            "'{arn}': '.{pattern}' is not an integration pattern (use .sync, .sync:2 or .waitForTaskToken)"
        ))
    })?;
    if service.is_empty() || action.is_empty() {
        return Err(ResourceError::Malformed(arn.to_string()));
    }
    if sdk {
        return sdk_target(arn, service, action, pattern);
    }
    if service == "http" && action == "invoke" {
        return check_pattern(arn, pattern, optimized::Patterns::REQUEST_RESPONSE).map(|p| (Target::Http, p));
    }
    let Some(svc) = Service::from_name(service) else {
        let near = suggest::nearest(service, Service::names().chain(["http"]));
        return Err(ResourceError::Unknown(format!(
            "'{arn}': '{service}' is not a service with an optimized integration{}; for any other API use arn:aws:states:::aws-sdk:SERVICE:ACTION",
            suggest::hint(near)
        )));
    };
    let Some(patterns) = svc.action(action) else {
        let near = suggest::nearest(action, svc.actions().map(|(a, _)| a));
        return Err(ResourceError::Unknown(format!(
            "'{arn}': the optimized integration for {service} has no action '{action}'{}",
            suggest::hint(near)
        )));
    };
    let pattern = check_pattern(arn, pattern, patterns)?;
    Ok((Target::Optimized { service: svc, action: action.to_string() }, pattern))
}

fn sdk_target(arn: &str, service: &str, action: &str, pattern: Pattern) -> Result<(Target, Pattern), ResourceError> {
    let Some(svc) = sdk::service(service) else {
        let near = suggest::nearest(service, sdk::names());
        return Err(ResourceError::Unknown(format!(
            "'{arn}': '{service}' is not an AWS SDK service{}",
            suggest::hint(near)
        )));
    };
    if !svc.has_action(action) {
        let near = suggest::nearest(action, svc.actions());
        return Err(ResourceError::Unknown(format!(
            "'{arn}': the AWS SDK service {service} has no action '{action}' (actions are the API's operations in lowerCamel){}",
            suggest::hint(near)
        )));
    }
    if sdk::is_unsupported(svc, action) {
        return Err(ResourceError::Unknown(format!(
            "'{arn}': AWS lists {service}:{action} among the API actions its AWS SDK integrations do not support"
        )));
    }
    // AWS: "Run a Job (.sync): Not supported" for AWS SDK integrations.
    let pattern = check_pattern(arn, pattern, optimized::Patterns::SDK)?;
    if svc.protocol == sdk::Protocol::RpcV2Cbor {
        return Err(ResourceError::Protocol(arn.to_string()));
    }
    Ok((Target::Sdk { service: svc.name, action: action.to_string() }, pattern))
}

fn check_pattern(arn: &str, pattern: Pattern, supported: optimized::Patterns) -> Result<Pattern, ResourceError> {
    if supported.contains(pattern) {
        Ok(pattern)
    } else {
        Err(ResourceError::Pattern {
            arn: arn.to_string(),
            pattern: pattern.describe(),
            supported: supported.describe(),
        })
    }
}

/// The function name of `function:NAME[:QUALIFIER]`.
fn function_name(rest: &str) -> Option<&str> {
    let rest = rest.strip_prefix("function:")?;
    let (name, qualifier) = match rest.split_once(':') {
        Some((n, q)) => (n, Some(q)),
        None => (rest, None),
    };
    let word = |s: &str, max: usize| {
        (1..=max).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    (word(name, 64) && qualifier.is_none_or(|q| q == "$LATEST" || word(q, 128))).then_some(name)
}

/// An activity name: 1–80 characters, none of AWS's forbidden ones.
fn valid_activity_name(name: &str) -> bool {
    (1..=80).contains(&name.chars().count())
        && name.chars().all(|c| !c.is_whitespace() && !c.is_control() && !"<>{}[]?*\"#%\\^|~`$&,;:/".contains(c))
}

#[cfg(test)]
mod tests;
