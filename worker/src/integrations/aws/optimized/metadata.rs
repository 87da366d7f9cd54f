//! The Java SDK v1 response metadata that AWS leaves in the results of some optimized
//! integrations (`SdkHttpMetadata` with the response's headers and status, and
//! `SdkResponseMetadata` with the request id), as Lambda's page documents and DynamoDB's, SNS's
//! and SQS's results show.
//!
//! Owns: adding those two members. Must not: decide which services get them
//! ([`super::actions::adds_sdk_metadata`] does).

use serde_json::{Map, Value, json};

use super::api::ApiOutput;

/// Adds `SdkHttpMetadata` and `SdkResponseMetadata` to `result` (an object; anything else is
/// returned as it is).
pub fn add(mut result: Value, answer: &ApiOutput) -> Value {
    let Value::Object(members) = &mut result else { return result };
    let mut all = Map::new();
    let mut single = Map::new();
    for (name, value) in &answer.headers {
        let values = all.entry(name.clone()).or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(list) = values {
            list.push(Value::String(value.clone()));
        }
        // v1's `HttpHeaders` keeps one value per name: the last one received.
        single.insert(name.clone(), Value::String(value.clone()));
    }
    members.insert(
        "SdkHttpMetadata".into(),
        json!({"AllHttpHeaders": all, "HttpHeaders": single, "HttpStatusCode": answer.status}),
    );
    let request_id = answer.request_id.clone().map_or(Value::Null, Value::String);
    members.insert("SdkResponseMetadata".into(), json!({ "RequestId": request_id }));
    result
}
