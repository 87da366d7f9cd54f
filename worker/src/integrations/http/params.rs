//! The HTTP Task's `Parameters`: checked and turned into a [`Call`] (URL with its query, method,
//! headers, body bytes, connection name), or refused with a message naming the field.
//!
//! Decisions where AWS does not say: `ApiEndpoint` may be `http` (local services) and must not
//! carry credentials (`user:pass@`; they belong in a connection); `Method` is one of AWS's seven,
//! uppercase; `Headers` values are strings, numbers or booleans (an array sends the header once
//! per item), and the headers AWS refuses (plus `Content-Length`, which framing owns) are
//! refused; a `QueryParameters` array repeats its key; a string `RequestBody` is sent as is
//! (`text/plain` unless `Content-Type` says otherwise), any other JSON as JSON
//! (`application/json`), `null` as no body; a `URL_ENCODED` body is an object (encoded as
//! [`super::form`] says) or an already encoded string, sent as
//! `application/x-www-form-urlencoded` whatever `Content-Type` the definition set.

use reqwest::Method;
use reqwest::Url;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use serde_json::{Map, Value};

use super::form::{self, ArrayFormat};

/// Every field an HTTP Task's `Parameters` may hold.
const FIELDS: &[&str] =
    &["ApiEndpoint", "Method", "Authentication", "Headers", "QueryParameters", "RequestBody", "Transform"];

const METHODS: &[&str] = &["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"];

/// Headers an HTTP Task may not set (AWS's list), compared in lowercase; and prefixes.
const REFUSED_HEADERS: &[&str] = &[
    "a-im",
    "accept-charset",
    "accept-datetime",
    "accept-encoding",
    "authorization",
    "cache-control",
    "connection",
    "content-encoding",
    "content-length",
    "content-md5",
    "date",
    "expect",
    "forwarded",
    "from",
    "host",
    "http2-settings",
    "if-match",
    "if-modified-since",
    "if-none-match",
    "if-range",
    "if-unmodified-since",
    "max-forwards",
    "origin",
    "pragma",
    "proxy-authorization",
    "referer",
    "server",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "via",
    "warning",
];
const REFUSED_HEADER_PREFIXES: &[&str] = &["x-forwarded-", "x-amz-", "x-amzn-"];

/// One HTTP call, ready to send (authentication is added by the caller).
#[derive(Debug)]
pub(super) struct Call {
    pub url: Url,
    pub method: Method,
    pub headers: HeaderMap,
    pub body: Option<Vec<u8>>,
    /// The connection's name, from `Authentication.ConnectionArn`.
    pub connection: Option<String>,
}

/// Turns the evaluated parameters into a call.
pub(super) fn parse(input: &Value) -> Result<Call, String> {
    let object = input.as_object().ok_or("the parameters must be a JSON object")?;
    if let Some(unknown) = object.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(unknown_field(unknown));
    }
    let mut url = endpoint(object.get("ApiEndpoint").ok_or("ApiEndpoint: required")?)?;
    let method = method(object.get("Method").ok_or("Method: required")?)?;
    let connection = match object.get("Authentication") {
        Some(auth) => Some(authentication(auth)?),
        None => None,
    };
    let mut headers = HeaderMap::new();
    if let Some(raw) = object.get("Headers") {
        for (name, value) in raw.as_object().ok_or("Headers: expected an object")? {
            let name = header_name(name)?;
            for value in header_values(name.as_str(), value)? {
                headers.append(name.clone(), value);
            }
        }
    }
    if let Some(raw) = object.get("QueryParameters") {
        let query = form::encode_query(raw.as_object().ok_or("QueryParameters: expected an object")?)?;
        append_query(&mut url, &query);
    }
    let transform = match object.get("Transform") {
        Some(raw) => transform(raw)?,
        None => Transform::default(),
    };
    let body = match object.get("RequestBody") {
        None | Some(Value::Null) => None,
        Some(raw) => Some(body(raw, transform, &mut headers)?),
    };
    Ok(Call { url, method, headers, body, connection })
}

/// Checks a Task's `Parameters` as written in the definition, before any run: the required
/// fields are there (as `Field` or `Field.$`), and every value written literally is valid.
/// Values computed at run time (`Field.$`) are checked when the call is made. Reports every
/// problem, separated by `; `.
pub fn validate_parameters(input: &Value) -> Result<(), String> {
    let object = input.as_object().ok_or("the HTTP Task's Parameters must be a JSON object")?;
    let mut problems = Vec::new();
    for required in ["ApiEndpoint", "Method"] {
        if !object.contains_key(required) && !object.contains_key(&format!("{required}.$")) {
            problems.push(format!("{required}: required"));
        }
    }
    for (key, value) in object {
        let name = key.strip_suffix(".$").unwrap_or(key);
        if !FIELDS.contains(&name) {
            problems.push(unknown_field(name));
            continue;
        }
        if literal(key).is_none() {
            continue;
        }
        let checked = match name {
            "ApiEndpoint" => endpoint(value).map(drop),
            "Method" => method(value).map(drop),
            "Authentication" => check_template(value, "Authentication", &["ConnectionArn"], |_, v| {
                authentication(&Value::Object(Map::from_iter([("ConnectionArn".to_owned(), v.clone())]))).map(drop)
            }),
            "Headers" => check_headers_template(value),
            "QueryParameters" => {
                value.as_object().map(drop).ok_or_else(|| "QueryParameters: expected an object".into())
            }
            "Transform" => {
                check_template(value, "Transform", &["RequestBodyEncoding", "RequestEncodingOptions"], |k, v| {
                    check_transform_member(k, v)
                })
            }
            _ => Ok(()), // RequestBody: any JSON, checked with the Transform at run time.
        };
        problems.extend(checked.err());
    }
    if problems.is_empty() { Ok(()) } else { Err(problems.join("; ")) }
}

/// The name of a literal member, or `None` for `Name.$` (computed at run time).
fn literal(key: &str) -> Option<&str> {
    if key.ends_with(".$") { None } else { Some(key) }
}

fn unknown_field(name: &str) -> String {
    format!("{name}: unknown field (an HTTP Task takes {})", FIELDS.join(", "))
}

/// Checks an object template member by member; only literal members are checked.
fn check_template(
    value: &Value,
    field: &str,
    allowed: &[&str],
    check: impl Fn(&str, &Value) -> Result<(), String>,
) -> Result<(), String> {
    let object = value.as_object().ok_or_else(|| format!("{field}: expected an object"))?;
    for (key, member) in object {
        let name = key.strip_suffix(".$").unwrap_or(key);
        if !allowed.contains(&name) {
            return Err(format!("{field}.{name}: unknown field (expected {})", allowed.join(", ")));
        }
        if literal(key).is_some() {
            check(name, member)?;
        }
    }
    Ok(())
}

fn check_headers_template(value: &Value) -> Result<(), String> {
    let object = value.as_object().ok_or("Headers: expected an object")?;
    for (key, member) in object {
        let name = header_name(key.strip_suffix(".$").unwrap_or(key))?;
        if literal(key).is_some() {
            header_values(name.as_str(), member)?;
        }
    }
    Ok(())
}

fn check_transform_member(name: &str, value: &Value) -> Result<(), String> {
    let mut object = Map::new();
    object.insert(name.to_owned(), value.clone());
    if let Some(Value::Object(options)) = object.get_mut("RequestEncodingOptions") {
        // A computed ArrayFormat is checked at run time.
        options.retain(|k, _| !k.ends_with(".$"));
    }
    transform(&Value::Object(object)).map(drop)
}

fn endpoint(value: &Value) -> Result<Url, String> {
    let text = value.as_str().ok_or("ApiEndpoint: expected a string")?;
    let mut url = Url::parse(text).map_err(|e| format!("ApiEndpoint: '{text}' is not a URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(format!("ApiEndpoint: '{text}' is not an http or https URL with a host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("ApiEndpoint: credentials in the URL are refused; use Authentication.ConnectionArn".to_owned());
    }
    url.set_fragment(None);
    Ok(url)
}

fn method(value: &Value) -> Result<Method, String> {
    match value.as_str() {
        Some(name) if METHODS.contains(&name) => Method::from_bytes(name.as_bytes()).map_err(|e| e.to_string()),
        _ => Err(format!("Method: {value} is not one of {}", METHODS.join(", "))),
    }
}

fn authentication(value: &Value) -> Result<String, String> {
    let object = value.as_object().ok_or("Authentication: expected an object")?;
    if let Some(unknown) = object.keys().find(|k| *k != "ConnectionArn") {
        return Err(format!("Authentication.{unknown}: unknown field (expected ConnectionArn)"));
    }
    let arn = object.get("ConnectionArn").ok_or("Authentication.ConnectionArn: required")?;
    let arn = arn.as_str().ok_or("Authentication.ConnectionArn: expected a string")?;
    connection_name(arn).map(str::to_owned).ok_or_else(|| {
        format!(
            "Authentication.ConnectionArn: '{arn}' is not an EventBridge connection ARN \
             (arn:aws:events:REGION:ACCOUNT:connection/NAME/ID)"
        )
    })
}

/// `arn:PARTITION:events:REGION:ACCOUNT:connection/NAME[/ID]` → `NAME`.
pub(crate) fn connection_name(arn: &str) -> Option<&str> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ["arn", _, "events", _, _, resource] = parts[..] else { return None };
    let name = resource.strip_prefix("connection/")?.split('/').next()?;
    (!name.is_empty()).then_some(name)
}

fn header_name(name: &str) -> Result<HeaderName, String> {
    let header =
        HeaderName::from_bytes(name.as_bytes()).map_err(|_| format!("Headers.{name}: not a valid header name"))?;
    let lower = header.as_str();
    if REFUSED_HEADERS.contains(&lower) || REFUSED_HEADER_PREFIXES.iter().any(|p| lower.starts_with(p)) {
        return Err(format!("Headers.{name}: an HTTP Task may not set this header"));
    }
    Ok(header)
}

fn header_values(name: &str, value: &Value) -> Result<Vec<HeaderValue>, String> {
    let one = |v: &Value| {
        let text = match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            _ => return Err(format!("Headers.{name}: expected a string, number, boolean, or an array of them")),
        };
        HeaderValue::from_str(&text).map_err(|_| format!("Headers.{name}: the value holds control characters"))
    };
    match value {
        Value::Array(items) => items.iter().map(one).collect(),
        single => one(single).map(|v| vec![v]),
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct Transform {
    url_encoded: bool,
    array_format: ArrayFormat,
}

fn transform(value: &Value) -> Result<Transform, String> {
    let object = value.as_object().ok_or("Transform: expected an object")?;
    let mut transform = Transform::default();
    for (key, member) in object {
        match key.as_str() {
            "RequestBodyEncoding" => {
                transform.url_encoded = match member.as_str() {
                    Some("NONE") => false,
                    Some("URL_ENCODED") => true,
                    _ => return Err(format!("Transform.RequestBodyEncoding: {member} is not NONE or URL_ENCODED")),
                }
            }
            "RequestEncodingOptions" => {
                let options = member.as_object().ok_or("Transform.RequestEncodingOptions: expected an object")?;
                for (option, value) in options {
                    if option != "ArrayFormat" {
                        return Err(format!(
                            "Transform.RequestEncodingOptions.{option}: unknown field (expected ArrayFormat)"
                        ));
                    }
                    transform.array_format = value.as_str().and_then(ArrayFormat::from_name).ok_or_else(|| {
                        format!(
                            "Transform.RequestEncodingOptions.ArrayFormat: {value} is not INDICES, REPEAT, COMMAS or BRACKETS"
                        )
                    })?;
                }
            }
            other => {
                return Err(format!(
                    "Transform.{other}: unknown field (expected RequestBodyEncoding, RequestEncodingOptions)"
                ));
            }
        }
    }
    Ok(transform)
}

fn body(value: &Value, transform: Transform, headers: &mut HeaderMap) -> Result<Vec<u8>, String> {
    if transform.url_encoded {
        let encoded = match value {
            Value::Object(members) => form::encode_body(members, transform.array_format)?,
            Value::String(text) => text.clone(),
            _ => return Err("RequestBody: a URL_ENCODED body must be an object (or an encoded string)".to_owned()),
        };
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/x-www-form-urlencoded"));
        return Ok(encoded.into_bytes());
    }
    let (bytes, default_type) = match value {
        Value::String(text) => (text.clone().into_bytes(), "text/plain; charset=UTF-8"),
        json => (serde_json::to_vec(json).map_err(|e| format!("RequestBody: {e}"))?, "application/json"),
    };
    headers.entry(CONTENT_TYPE).or_insert(HeaderValue::from_static(default_type));
    Ok(bytes)
}

fn append_query(url: &mut Url, encoded: &str) {
    if encoded.is_empty() {
        return;
    }
    let query = match url.query() {
        Some(existing) if !existing.is_empty() => format!("{existing}&{encoded}"),
        _ => encoded.to_owned(),
    };
    url.set_query(Some(&query));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_arns_yield_their_name() {
        let arn = "arn:aws:events:us-east-1:123456789012:connection/payments/0b1c2d3e-4f5a-6b7c-8d9e-0f1a2b3c4d5e";
        assert_eq!(connection_name(arn), Some("payments"));
        assert_eq!(connection_name("arn:aws-cn:events:cn-north-1:1:connection/x"), Some("x"));
        assert_eq!(connection_name("arn:aws:events:us-east-1:1:rule/x"), None);
        assert_eq!(connection_name("arn:aws:events:us-east-1:1:connection//id"), None);
    }
}
