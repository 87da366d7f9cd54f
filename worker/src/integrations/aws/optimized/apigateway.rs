//! API Gateway `invoke` (`connect-api-gateway`): an HTTP call of a deployed API, described by
//! `ApiEndpoint`, `Method`, `Stage`, `Path`, `QueryParameters`, `Headers` (lists of values),
//! `RequestBody` (JSON or text, for PATCH, POST and PUT) and `AuthType` (`NO_AUTH` by default;
//! `IAM_ROLE` and `RESOURCE_POLICY` sign the request for `execute-api`). The result is
//! `ResponseBody` (JSON when it parses, else text), `Headers` (lists), `StatusCode` and
//! `StatusText`; any status but 2XX fails the Task with `ApiGateway.<status>` and the body as
//! Cause.
//!
//! dmap addition: an `ApiEndpoint` that starts with `http://` or `https://` is used as written,
//! so tests and private gateways can be reached; AWS takes a host name only.
//!
//! Owns: the request and the result. Must not: sign (the [`Api`] does).

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Map, Value};
use shared::asl::Failure;

use super::Called;
use super::api::{Api, ApiError, HttpRequest};

/// Header names Step Functions refuses ("Headers" on the page), compared case-insensitively;
/// names starting with `X-Forwarded`, `X-Amz` or `X-Amzn` are refused too.
const FORBIDDEN: &[&str] = &[
    "authorization",
    "connection",
    "content-md5",
    "expect",
    "host",
    "max-forwards",
    "proxy-authenticate",
    "server",
    "te",
    "transfer-encoding",
    "trailer",
    "upgrade",
    "via",
    "www-authenticate",
];

/// RFC 3986 unreserved characters stay; everything else in a query value is escaped.
const QUERY: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

pub async fn invoke(api: &dyn Api, input: &Value) -> Result<Value, Called> {
    let request = request(input).map_err(Called::Invalid)?;
    let sign = match input.get("AuthType").and_then(Value::as_str).unwrap_or("NO_AUTH") {
        "NO_AUTH" => None,
        "IAM_ROLE" | "RESOURCE_POLICY" => Some("execute-api"),
        other => {
            return Err(Called::Invalid(format!("AuthType '{other}' is not NO_AUTH, IAM_ROLE or RESOURCE_POLICY")));
        }
    };
    let response = match api.send(request, sign).await {
        Ok(r) => r,
        Err(ApiError::Transport(message)) => {
            return Err(Called::Refused(Failure::new("ApiGateway.SdkClientException", message)));
        }
        Err(ApiError::InvalidParameters(why)) => return Err(Called::Invalid(why)),
        Err(e) => return Err(Called::Api(e)),
    };
    let text = String::from_utf8_lossy(&response.body).into_owned();
    if !(200..300).contains(&response.status) {
        return Err(Called::Refused(Failure::new(format!("ApiGateway.{}", response.status), text)));
    }
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    let mut headers = Map::new();
    for (name, value) in response.headers {
        if let Value::Array(list) = headers.entry(name).or_insert_with(|| Value::Array(Vec::new())) {
            list.push(Value::String(value));
        }
    }
    let status_text =
        reqwest::StatusCode::from_u16(response.status).ok().and_then(|s| s.canonical_reason()).unwrap_or("");
    Ok(serde_json::json!({
        "ResponseBody": body,
        "Headers": headers,
        "StatusCode": response.status,
        "StatusText": status_text,
    }))
}

/// The HTTP request of an `invoke`.
fn request(input: &Value) -> Result<HttpRequest, String> {
    let text = |name: &str| input.get(name).and_then(Value::as_str);
    let endpoint = text("ApiEndpoint").ok_or_else(|| "ApiEndpoint is required".to_owned())?;
    let method = text("Method").ok_or_else(|| "Method is required".to_owned())?.to_ascii_uppercase();
    if !matches!(method.as_str(), "GET" | "POST" | "PUT" | "DELETE" | "PATCH" | "HEAD" | "OPTIONS") {
        return Err(format!("Method '{method}' is not an HTTP method API Gateway accepts"));
    }
    let mut url = if endpoint.starts_with("http://") || endpoint.starts_with("https://") {
        endpoint.trim_end_matches('/').to_owned()
    } else {
        format!("https://{}", endpoint.trim_end_matches('/'))
    };
    for segment in [text("Stage"), text("Path")].into_iter().flatten() {
        let segment = segment.trim_matches('/');
        if !segment.is_empty() {
            url.push('/');
            url.push_str(segment);
        }
    }
    let mut query = Vec::new();
    for (name, values) in lists(input.get("QueryParameters"), "QueryParameters")? {
        for value in values {
            query.push(format!("{}={}", utf8_percent_encode(&name, QUERY), utf8_percent_encode(&value, QUERY)));
        }
    }
    if !query.is_empty() {
        url.push('?');
        url.push_str(&query.join("&"));
    }
    let mut headers = Vec::new();
    for (name, values) in lists(input.get("Headers"), "Headers")? {
        let lower = name.to_ascii_lowercase();
        if FORBIDDEN.contains(&lower.as_str()) || ["x-forwarded", "x-amz"].iter().any(|p| lower.starts_with(p)) {
            return Err(format!("the header '{name}' cannot be set by a Task"));
        }
        headers.extend(values.into_iter().map(|v| (name.clone(), v)));
    }
    let body = match input.get("RequestBody") {
        None | Some(Value::Null) => Vec::new(),
        Some(_) if !matches!(method.as_str(), "PATCH" | "POST" | "PUT") => {
            return Err(format!("RequestBody is only sent with PATCH, POST and PUT, not {method}"));
        }
        Some(Value::String(s)) => s.clone().into_bytes(),
        Some(json) => {
            let allow_null = input.get("AllowNullValues").and_then(Value::as_bool).unwrap_or(false);
            let json = if allow_null { json.clone() } else { without_nulls(json) };
            if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("content-type")) {
                headers.push(("Content-Type".into(), "application/json".into()));
            }
            json.to_string().into_bytes()
        }
    };
    Ok(HttpRequest { method, url, headers, body })
}

/// `{"name": ["v1", "v2"]}` (a single string is taken as a one-value list).
fn lists(value: Option<&Value>, what: &str) -> Result<Vec<(String, Vec<String>)>, String> {
    let Some(value) = value else { return Ok(Vec::new()) };
    let map = value.as_object().ok_or_else(|| format!("{what} must be an object of lists of strings"))?;
    map.iter()
        .map(|(name, values)| {
            let values = match values {
                Value::String(s) => vec![s.clone()],
                Value::Array(items) => items
                    .iter()
                    .map(|v| v.as_str().map(str::to_owned))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| format!("{what}.{name} must be a list of strings"))?,
                _ => return Err(format!("{what}.{name} must be a list of strings")),
            };
            Ok((name.clone(), values))
        })
        .collect()
}

/// Without `AllowNullValues`, members whose value is null are left out of the body.
fn without_nulls(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k.clone(), without_nulls(v))).collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}
