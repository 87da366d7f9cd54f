//! Which function a Task calls, read from its `Resource` and (for `lambda:invoke`) its
//! `FunctionName`, in every form AWS accepts: a name, a partial ARN, a full ARN, each with or
//! without a version or alias. Pure string work; no configuration involved.

use serde_json::Value;
use shared::asl::resource::{self, Pattern, Resource, Service};

/// The optimised integration: `FunctionName` and `Payload` in the input, the result wrapped
/// (the string, for mock files that name it).
pub const LAMBDA_INVOKE: &str = "arn:aws:states:::lambda:invoke";

/// How a Task reaches a function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Style {
    /// `Resource` is the function's ARN: the input is the event, the result is returned as is.
    Arn,
    /// `arn:aws:states:::lambda:invoke`: the event is `Payload`, the result is wrapped.
    Invoke,
}

/// A call's function, as the Task names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target<'a> {
    pub style: Style,
    /// The bare function name (no ARN prefix, no qualifier).
    pub name: &'a str,
    /// What the Task wrote: the ARN, partial ARN or name, qualifier included.
    pub written: &'a str,
}

/// Whether `resource` is a Lambda resource this integration serves (a function ARN or
/// `lambda:invoke`, also `.waitForTaskToken`: the same call, then the host's wait).
pub fn is_lambda_resource(resource: &Resource) -> bool {
    style(resource).is_some()
}

fn style(resource: &Resource) -> Option<Style> {
    match (&resource.target, resource.pattern) {
        (resource::Target::Function { .. }, _) => Some(Style::Arn),
        (
            resource::Target::Optimized { service: Service::Lambda, action },
            Pattern::RequestResponse | Pattern::WaitForTaskToken,
        ) if action == "invoke" => Some(Style::Invoke),
        _ => None,
    }
}

/// The function a call targets; `Err` with a cause when the resource is a Lambda one but the
/// input does not name a function. `Ok(None)` when the resource is not a Lambda resource.
pub fn target<'a>(resource: &'a Resource, input: &'a Value) -> Result<Option<Target<'a>>, String> {
    match (style(resource), &resource.target) {
        (Some(Style::Invoke), _) => {
            let written = match input.get("FunctionName") {
                Some(Value::String(s)) => s.as_str(),
                Some(other) => return Err(format!("The field 'FunctionName' must be a string, not {other}")),
                None => return Err(format!("The field 'FunctionName' is required by {LAMBDA_INVOKE}")),
            };
            let name = bare_name(written).ok_or_else(|| format!("'{written}' is not a valid Lambda FunctionName"))?;
            Ok(Some(Target { style: Style::Invoke, name, written }))
        }
        (Some(Style::Arn), resource::Target::Function { name }) => {
            Ok(Some(Target { style: Style::Arn, name, written: &resource.arn }))
        }
        _ => Ok(None),
    }
}

/// The function name of `arn:<partition>:lambda:<region>:<account>:function:<name>[:<qualifier>]`.
fn function_arn(resource: &str) -> Option<&str> {
    let mut parts = resource.splitn(7, ':');
    let ok = parts.next() == Some("arn")
        && parts.next().is_some_and(|p| !p.is_empty())
        && parts.next() == Some("lambda")
        && parts.next().is_some()
        && parts.next().is_some()
        && parts.next() == Some("function");
    let rest = parts.next().filter(|_| ok)?;
    let (name, qualifier) = split_qualifier(rest);
    (valid_name(name) && qualifier.is_none_or(valid_qualifier)).then_some(name)
}

/// The bare name of a `FunctionName`: `name`, `name:qualifier`, `account:function:name[:q]` or
/// a full function ARN.
pub fn bare_name(written: &str) -> Option<&str> {
    if written.starts_with("arn:") {
        return function_arn(written);
    }
    let rest = match written.split_once(":function:") {
        Some((account, rest)) if account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()) => rest,
        Some(_) => return None,
        None => written,
    };
    let (name, qualifier) = split_qualifier(rest);
    (valid_name(name) && qualifier.is_none_or(valid_qualifier)).then_some(name)
}

fn split_qualifier(rest: &str) -> (&str, Option<&str>) {
    match rest.split_once(':') {
        Some((name, qualifier)) => (name, Some(qualifier)),
        None => (rest, None),
    }
}

fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// `$LATEST`, a version number or an alias name.
fn valid_qualifier(q: &str) -> bool {
    q == "$LATEST"
        || ((1..=128).contains(&q.len()) && q.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
}

/// The function ARN a call reports in the Lambda context: the ARN as written, or one built
/// from the execution's region and account (AWS's documented placeholders without one).
pub fn invoked_arn(written: &str, name: &str, execution_arn: &str) -> String {
    if written.starts_with("arn:") {
        return written.to_string();
    }
    let mut parts = execution_arn.split(':');
    let (region, account) = match (parts.next(), parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some("arn"), Some(_), Some("states"), Some(r), Some(a)) if !r.is_empty() && !a.is_empty() => (r, a),
        _ => ("us-east-1", "123456789012"),
    };
    match written.split_once(":function:") {
        Some((account, rest)) => format!("arn:aws:lambda:{region}:{account}:function:{rest}"),
        None => {
            let qualifier = written.strip_prefix(name).unwrap_or("");
            format!("arn:aws:lambda:{region}:{account}:function:{name}{qualifier}")
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn function_names_in_every_form() {
        for (written, name) in [
            ("f", Some("f")),
            ("f:live", Some("f")),
            ("f:$LATEST", Some("f")),
            ("123456789012:function:f", Some("f")),
            ("123456789012:function:f:7", Some("f")),
            ("arn:aws:lambda:us-east-1:123456789012:function:f", Some("f")),
            ("arn:aws-cn:lambda:cn-north-1:123456789012:function:my-fn_2:prod", Some("my-fn_2")),
            ("arn:aws:lambda:us-east-1:123456789012:layer:f", None),
            ("12:function:f", None),
            ("f:a:b", None),
            ("", None),
        ] {
            assert_eq!(bare_name(written), name, "{written}");
        }
    }

    fn parsed(arn: &str) -> Resource {
        Resource::parse(arn).expect("a valid resource")
    }

    #[test]
    fn resources() {
        let arn = parsed("arn:aws:lambda:us-east-1:111111111111:function:f:7");
        let invoke = parsed(LAMBDA_INVOKE);
        assert!(is_lambda_resource(&arn));
        assert!(is_lambda_resource(&invoke));
        // The callback pattern invokes the function the same way (AWS lists `.waitForTaskToken`
        // for Lambda's Invoke), then the host waits.
        assert!(is_lambda_resource(&parsed("arn:aws:states:::lambda:invoke.waitForTaskToken")));
        assert!(!is_lambda_resource(&parsed("arn:aws:states:::http:invoke")));
        let t = target(&arn, &Value::Null).unwrap().unwrap();
        assert_eq!(
            (t.style, t.name, t.written),
            (Style::Arn, "f", "arn:aws:lambda:us-east-1:111111111111:function:f:7")
        );
        let input = json!({"FunctionName": "111111111111:function:g:live", "Payload": {}});
        let t = target(&invoke, &input).unwrap().unwrap();
        assert_eq!((t.style, t.name), (Style::Invoke, "g"));
        assert!(target(&invoke, &json!({"Payload": 1})).is_err());
        assert!(target(&invoke, &json!({"FunctionName": 3})).is_err());
        assert_eq!(target(&parsed("arn:aws:states:::sqs:sendMessage"), &Value::Null), Ok(None));
    }

    #[test]
    fn invoked_arns() {
        let exec = "arn:aws:states:eu-west-1:222222222222:execution:m:e";
        assert_eq!(invoked_arn("f:live", "f", exec), "arn:aws:lambda:eu-west-1:222222222222:function:f:live");
        assert_eq!(
            invoked_arn("333333333333:function:f", "f", exec),
            "arn:aws:lambda:eu-west-1:333333333333:function:f"
        );
        assert_eq!(invoked_arn("f", "f", ""), "arn:aws:lambda:us-east-1:123456789012:function:f");
    }
}
