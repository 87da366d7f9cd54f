//! An HTTP response as the HTTP Task's result, read with a bound so that a huge or endless body
//! cannot exhaust memory.
//!
//! The result is `{"Headers", "ResponseBody", "StatusCode", "StatusText"}` (keys in that
//! alphabetical order): header names in lowercase (as HTTP/2 and the `http` crate carry them),
//! each with the array of its values in the order received; `ResponseBody` parsed when the
//! `Content-Type` is JSON (`application/json`, `…+json`) and the body parses, else the body as
//! text (invalid UTF-8 replaced); `StatusText` the standard reason phrase of the code.
//!
//! A non-2xx status fails with `States.Http.StatusCode.<code>` and the result document, as
//! JSON, for cause; its body is cut at [`ERROR_BODY_BYTES`] (or the response limit, if lower),
//! because AWS caps a cause at 32,768 characters (half is left for headers and escaping) and a
//! large error page must stay a catchable status failure rather than become
//! `States.DataLimitExceeded`. A 2xx body over the limit fails with
//! `States.DataLimitExceeded` (the same name the engine gives an oversized task result),
//! found from `Content-Length` before reading when the server sends one.

use reqwest::Response;
use reqwest::header::{CONTENT_TYPE, HeaderMap};
use serde_json::{Map, Value};
use shared::asl::error_name::{DATA_LIMIT_EXCEEDED, Failure};

use super::{RESPONSE_CEILING_BYTES, SOCKET};

/// How much of a non-2xx response's body its failure's cause keeps.
pub const ERROR_BODY_BYTES: usize = 16 * 1024;

/// Reads `response` into the task's result, or the failure its status or size calls for.
/// `limit` bounds a 2xx body (`None`: no bound; the integration always gives one); `url` names the call in causes; `head` says the
/// request was a HEAD, whose `Content-Length` describes a body that does not come.
pub(super) async fn read(
    mut response: Response,
    limit: Option<usize>,
    url: &str,
    head: bool,
) -> Result<Value, Failure> {
    let status = response.status();
    let success = status.is_success();
    let too_large = |limit: usize| {
        let ceiling = if limit == RESPONSE_CEILING_BYTES { " (dmap's ceiling under --no-payload-limits)" } else { "" };
        Failure::new(DATA_LIMIT_EXCEEDED, format!("the response body from {url} is larger than {limit} bytes{ceiling}"))
    };
    let bound = if success { limit } else { Some(limit.map_or(ERROR_BODY_BYTES, |l| l.min(ERROR_BODY_BYTES))) };
    if let (true, false, Some(limit), Some(length)) = (success, head, limit, response.content_length())
        && length > limit as u64
    {
        return Err(too_large(limit));
    }
    let mut body = Vec::new();
    let mut cut = false;
    while let Some(chunk) = response.chunk().await.map_err(|e| socket(url, "reading the response body from", &e))? {
        body.extend_from_slice(&chunk);
        if let Some(bound) = bound.filter(|b| body.len() > *b) {
            if success {
                return Err(too_large(bound));
            }
            body.truncate(bound);
            cut = true;
            break;
        }
    }
    let result = document(status.as_u16(), status.canonical_reason().unwrap_or(""), response.headers(), body, cut);
    if success {
        return Ok(result);
    }
    Err(Failure::new(format!("States.Http.StatusCode.{}", status.as_u16()), result.to_string()))
}

/// A failure to reach the server or to read its answer: `States.Http.Socket`, with the chain
/// of causes under reqwest's own message (which only repeats the URL). None of them names a
/// header, so no secret can show.
pub(super) fn socket(url: &str, doing: &str, error: &reqwest::Error) -> Failure {
    let mut cause = format!("{doing} {url} failed");
    let mut source = std::error::Error::source(error);
    if source.is_none() {
        cause.push_str(&format!(": {error}"));
    }
    while let Some(inner) = source {
        cause.push_str(&format!(": {inner}"));
        source = inner.source();
    }
    Failure::new(SOCKET, cause)
}

fn document(status: u16, text: &str, headers: &HeaderMap, body: Vec<u8>, cut: bool) -> Value {
    let mut names = Map::new();
    for (name, value) in headers {
        let value = Value::String(String::from_utf8_lossy(value.as_bytes()).into_owned());
        match names.entry(name.as_str()).or_insert_with(|| Value::Array(Vec::new())) {
            Value::Array(values) => values.push(value),
            _ => unreachable!("every header entry is an array"),
        }
    }
    let is_json = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| {
        let media = v.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        media == "application/json" || media.ends_with("+json")
    });
    let parsed = if is_json && !cut { serde_json::from_slice(&body).ok() } else { None };
    let body = parsed.unwrap_or_else(|| match String::from_utf8(body) {
        Ok(text) => Value::String(text),
        Err(e) => Value::String(String::from_utf8_lossy(e.as_bytes()).into_owned()),
    });
    let mut result = Map::new();
    result.insert("Headers".to_owned(), Value::Object(names));
    result.insert("ResponseBody".to_owned(), body);
    result.insert("StatusCode".to_owned(), Value::from(status));
    result.insert("StatusText".to_owned(), Value::String(text.to_owned()));
    Value::Object(result)
}
