//! Bedrock `invokeModel` (`connect-bedrock`): the API's request with three differences. `Body`
//! may be JSON (sent as its text); `Input: {"S3Uri"}` reads the body from S3 instead ("You can
//! specify Body or Input, but not both"; without `ContentType` the object's content type is
//! used); `Output: {"S3Uri"}` writes the model's answer to S3 and "the API response body is
//! replaced with a reference to the Amazon S3 location": dmap puts `{"S3Uri": …}` in `Body`
//! (AWS does not print the reference's shape). The result's `Body` is JSON when the model
//! answered JSON, else its text.
//!
//! Owns: those differences. Must not: know S3 beyond GetObject and PutObject.

use base64::Engine;
use serde_json::{Map, Value, json};

use super::Called;
use super::api::Api;

pub async fn invoke(api: &dyn Api, operation: &str, input: Value) -> Result<Value, Called> {
    let Value::Object(mut params) = input else {
        return Err(refused("the parameters of bedrock:invokeModel must be an object".into()));
    };
    let source = params.remove("Input");
    let target = params.remove("Output");
    match (params.remove("Body"), source) {
        (Some(_), Some(_)) => return Err(refused("specify Body or Input, not both".into())),
        (Some(body), None) => {
            params.insert("Body".into(), Value::String(text_of(body)));
        }
        (None, Some(source)) => {
            let (bucket, key) = s3_location(&source)?;
            let object = api.call("s3", "GetObject", &json!({"Bucket": bucket, "Key": key})).await?.output;
            params.insert("Body".into(), object.get("Body").cloned().unwrap_or(Value::String(String::new())));
            if !params.contains_key("ContentType")
                && let Some(content_type) = object.get("ContentType")
            {
                params.insert("ContentType".into(), content_type.clone());
            }
        }
        (None, None) => return Err(refused("bedrock:invokeModel needs Body or Input".into())),
    }
    let mut answer = match api.call("bedrockruntime", operation, &Value::Object(params)).await?.output {
        Value::Object(map) => map,
        other => Map::from_iter([("Body".to_owned(), other)]),
    };
    let body = answer.remove("Body").map(raw_text).unwrap_or_default();
    let body = match target {
        Some(target) => {
            let (bucket, key) = s3_location(&target)?;
            let mut put = json!({"Bucket": bucket, "Key": key, "Body": body});
            if let Some(content_type) = answer.get("ContentType") {
                put["ContentType"] = content_type.clone();
            }
            api.call("s3", "PutObject", &put).await?;
            json!({"S3Uri": target.get("S3Uri").cloned().unwrap_or(Value::Null)})
        }
        None => serde_json::from_str(&body).unwrap_or(Value::String(body)),
    };
    answer.insert("Body".into(), body);
    Ok(Value::Object(answer))
}

fn refused(message: String) -> Called {
    Called::Invalid(message)
}

/// A body given as JSON is sent as its text.
fn text_of(body: Value) -> String {
    match body {
        Value::String(s) => s,
        other => other.to_string(),
    }
}

/// The answer's payload as text: the client gives it as text, or as base64 when it was not
/// UTF-8 (then it is decoded if that yields UTF-8).
fn raw_text(body: Value) -> String {
    let text = text_of(body);
    if serde_json::from_str::<Value>(&text).is_ok() {
        return text;
    }
    base64::engine::general_purpose::STANDARD
        .decode(text.as_bytes())
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .unwrap_or(text)
}

/// `{"S3Uri": "s3://bucket/key"}` → (bucket, key).
fn s3_location(value: &Value) -> Result<(String, String), Called> {
    let uri = value.get("S3Uri").and_then(Value::as_str).unwrap_or_default();
    uri.strip_prefix("s3://")
        .and_then(|rest| rest.split_once('/'))
        .filter(|(bucket, key)| !bucket.is_empty() && !key.is_empty())
        .map(|(bucket, key)| (bucket.to_owned(), key.to_owned()))
        .ok_or_else(|| refused(format!("'{uri}' is not an S3 URI of the form s3://bucket/key")))
}
