//! The Java SDK v1 response metadata that AWS leaves in the results of some optimized
//! integrations (`SdkHttpMetadata` with the response's headers and status, and
//! `SdkResponseMetadata` with the request id), as Lambda's page documents and DynamoDB's, SNS's
//! and SQS's results show.
//!
//! Owns: adding those two members. Must not: decide which services get them
//! ([`super::actions::adds_sdk_metadata`] does).

use serde_json::{Map, Value};

use super::api::ApiOutput;

/// Adds `SdkHttpMetadata` and `SdkResponseMetadata` to `result` (an object; anything else is
/// returned as it is), taking the headers and request id out of `answer`.
///
/// Built member by member (not with `json!`, which serialises a `Map` into a new `Value`: a
/// deep copy of every header on every call, measured at ~4 µs of a DynamoDB PutItem's CPU).
pub fn add(mut result: Value, answer: &mut ApiOutput) -> Value {
    let Value::Object(members) = &mut result else { return result };
    let headers = std::mem::take(&mut answer.headers);
    let mut all = Map::new();
    let mut single = Map::new();
    for (name, value) in headers {
        match all.get_mut(&name) {
            Some(Value::Array(list)) => list.push(Value::String(value.clone())),
            _ => {
                all.insert(name.clone(), Value::Array(vec![Value::String(value.clone())]));
            }
        }
        // v1's `HttpHeaders` keeps one value per name: the last one received.
        single.insert(name, Value::String(value));
    }
    let mut http = Map::new();
    http.insert("AllHttpHeaders".into(), Value::Object(all));
    http.insert("HttpHeaders".into(), Value::Object(single));
    http.insert("HttpStatusCode".into(), Value::from(answer.status));
    members.insert("SdkHttpMetadata".into(), Value::Object(http));
    let mut response = Map::new();
    response.insert("RequestId".into(), answer.request_id.take().map_or(Value::Null, Value::String));
    members.insert("SdkResponseMetadata".into(), Value::Object(response));
    result
}
