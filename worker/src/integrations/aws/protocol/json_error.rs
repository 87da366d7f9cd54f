//! Errors as both JSON protocols send them: the code in the `x-amzn-ErrorType` header or the
//! body's `__type` (or `code`), without the namespace (`com.amazonaws.dynamodb.v20120810#`) or
//! the trailing `:http://…` some services add; the message in `message` or `Message`.
//!
//! Owns: reading an error response. Must not: name the error the Step Functions way.

use serde_json::Value;

use super::{Response, ServiceError};

/// The service's error from a non-2xx response.
pub fn read(response: &Response<'_>) -> ServiceError {
    let body: Option<Value> = serde_json::from_slice(response.body).ok();
    let field = |names: &[&str]| -> Option<String> {
        let body = body.as_ref()?;
        names.iter().find_map(|n| body.get(*n).and_then(Value::as_str)).map(str::to_owned)
    };
    let code = header(response, "x-amzn-errortype")
        .map(str::to_owned)
        .or_else(|| field(&["__type", "code", "Code"]))
        .map(|c| clean_code(&c).to_owned())
        .unwrap_or_default();
    ServiceError {
        status: response.status,
        code,
        message: field(&["message", "Message", "errorMessage"]).unwrap_or_default(),
        request_id: request_id(response),
    }
}

/// The request id the response names, in any of the headers AWS uses for it.
pub fn request_id(response: &Response<'_>) -> Option<String> {
    ["x-amzn-requestid", "x-amz-request-id", "x-amzn-request-id"]
        .iter()
        .find_map(|h| header(response, h))
        .map(str::to_owned)
}

fn header<'a>(response: &'a Response<'_>, name: &str) -> Option<&'a str> {
    response.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
}

/// `ns#Code:extra` → `Code`.
fn clean_code(code: &str) -> &str {
    let code = code.split(':').next().unwrap_or(code);
    code.rsplit('#').next().unwrap_or(code).trim()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_with(headers: &[(&str, &str)], body: &str) -> ServiceError {
        let headers: Vec<(String, String)> = headers.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
        read(&Response { status: 400, headers: &headers, body: body.as_bytes() })
    }

    #[test]
    fn the_code_loses_its_namespace_and_suffix_wherever_it_comes_from() {
        let e = read_with(
            &[("x-amzn-requestid", "R1")],
            r#"{"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException","message":"The conditional request failed"}"#,
        );
        assert_eq!(
            (e.code.as_str(), e.message.as_str(), e.request_id.as_deref()),
            ("ConditionalCheckFailedException", "The conditional request failed", Some("R1"))
        );
        let e = read_with(
            &[("x-amzn-errortype", "ResourceNotFoundException:http://internal.amazon.com/coral/com.amazon.x/")],
            r#"{"Message":"Function not found"}"#,
        );
        assert_eq!(
            (e.code.as_str(), e.message.as_str(), e.request_id),
            ("ResourceNotFoundException", "Function not found", None)
        );
        let e = read_with(&[], r#"{"code":"ValidationException"}"#);
        assert_eq!((e.code.as_str(), e.message.as_str()), ("ValidationException", ""));
        assert_eq!(read_with(&[], "<html>bad gateway</html>").code, "");
    }
}
