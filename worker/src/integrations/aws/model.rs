//! AWS's service models, embedded: every service and operation of botocore's data files,
//! trimmed to what a client needs and compressed per service (`models.bin`, written by
//! `scripts/refresh-aws-models`). A service's model is decompressed and parsed the first time a
//! call names it, then kept for the life of the process.
//!
//! Owns: the model types and the lookup by Step Functions' service name (`dynamodb`, `s3`,
//! `secretsmanager`). Must not: know any protocol; the `protocol` modules read these types.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::sync::{Arc, Mutex, OnceLock};

use serde::Deserialize;
use serde::de::{Deserializer, MapAccess, Visitor};

static MODELS: &[u8] = include_bytes!("models.bin");

/// One service: its protocol metadata, operations and shapes.
#[derive(Debug, Deserialize)]
pub struct Service {
    /// Step Functions' name for it (`aws-sdk:<name>:…`).
    pub name: String,
    /// botocore's folder name (`dynamodb`, `elbv2`).
    pub botocore: String,
    pub service_id: String,
    /// The prefix of its errors' names in Step Functions (`DynamoDb`, `S3`, `Sfn`).
    pub error_prefix: String,
    pub protocol: Protocol,
    pub api_version: Option<String>,
    pub json_version: Option<String>,
    pub target_prefix: Option<String>,
    pub endpoint_prefix: String,
    pub signing_name: String,
    pub xml_namespace: Option<XmlNamespace>,
    /// For services with one endpoint for every region (IAM, STS's global form, CloudFront):
    /// its host name and the region it signs with.
    pub global: Option<GlobalEndpoint>,
    pub operations: HashMap<String, Operation>,
    pub shapes: HashMap<String, Shape>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Protocol {
    /// awsJson 1.0 and 1.1 (`X-Amz-Target`, JSON body); `json_version` says which.
    #[serde(rename = "json")]
    Json,
    #[serde(rename = "rest-json")]
    RestJson,
    /// awsQuery: form-encoded request, XML response.
    #[serde(rename = "query")]
    Query,
    #[serde(rename = "rest-xml")]
    RestXml,
    /// EC2's variant of query.
    #[serde(rename = "ec2")]
    Ec2,
    /// Smithy RPC v2 CBOR, for the few services that speak nothing else. Not spoken by dmap.
    #[serde(rename = "smithy-rpc-v2-cbor")]
    RpcV2Cbor,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum XmlNamespace {
    Uri(String),
    /// With a prefix: `xmlns:xsi="…"` (S3's `Grantee`).
    Full {
        uri: String,
        prefix: Option<String>,
    },
}

#[derive(Debug, Deserialize)]
pub struct GlobalEndpoint {
    pub hostname: String,
    pub region: String,
}

#[derive(Debug, Deserialize)]
pub struct Operation {
    pub http: Http,
    pub input: Option<OperationShape>,
    pub output: Option<OperationShape>,
    /// A prefix for the host (`{AccountId}.` for S3 Control), with members in braces.
    pub host_prefix: Option<String>,
    /// The request must carry a `Content-MD5` (S3's DeleteObjects, PutBucketLifecycle…).
    #[serde(default)]
    pub checksum_required: bool,
}

#[derive(Debug, Default, Deserialize)]
pub struct Http {
    #[serde(default = "post")]
    pub method: String,
    #[serde(rename = "requestUri", default = "slash")]
    pub request_uri: String,
    #[serde(rename = "responseCode")]
    pub response_code: Option<u16>,
}

fn post() -> String {
    "POST".into()
}

fn slash() -> String {
    "/".into()
}

#[derive(Debug, Deserialize)]
pub struct OperationShape {
    pub shape: String,
    /// awsQuery: the element wrapping the result (`PublishResult`).
    #[serde(rename = "resultWrapper")]
    pub result_wrapper: Option<String>,
    /// rest-xml: the root element of the request body.
    #[serde(rename = "locationName")]
    pub location_name: Option<String>,
    #[serde(rename = "xmlNamespace")]
    pub xml_namespace: Option<XmlNamespace>,
}

/// A shape: a type with its wire names.
#[derive(Debug, Deserialize)]
pub struct Shape {
    #[serde(rename = "type")]
    pub kind: ShapeKind,
    /// Structure members in the model's order.
    #[serde(default)]
    pub members: Members,
    /// List element.
    pub member: Option<Member>,
    /// Map key and value.
    pub key: Option<Member>,
    pub value: Option<Member>,
    #[serde(default)]
    pub flattened: bool,
    #[serde(rename = "locationName")]
    pub location_name: Option<String>,
    #[serde(rename = "xmlNamespace")]
    pub xml_namespace: Option<XmlNamespace>,
    #[serde(rename = "timestampFormat")]
    pub timestamp_format: Option<String>,
    /// The member that is the HTTP body (rest protocols).
    pub payload: Option<String>,
    #[serde(default)]
    pub streaming: bool,
    #[serde(default)]
    pub eventstream: bool,
    #[serde(default)]
    pub exception: bool,
    /// An error shape's wire code and status, when they differ from its name.
    pub error: Option<ErrorTrait>,
    #[serde(default)]
    pub union: bool,
    #[serde(default)]
    pub document: bool,
    /// A structure's required members (TestState checks mocked results against them).
    #[serde(default)]
    pub required: Vec<String>,
    /// A string's allowed values.
    #[serde(rename = "enum")]
    pub enum_values: Option<Vec<String>>,
    /// A number's range, or a string's, blob's or list's length.
    pub min: Option<f64>,
    pub max: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ShapeKind {
    Structure,
    List,
    Map,
    String,
    Integer,
    Long,
    Short,
    Byte,
    Float,
    Double,
    Boolean,
    Timestamp,
    Blob,
    #[serde(rename = "bigdecimal")]
    BigDecimal,
    #[serde(rename = "biginteger")]
    BigInteger,
}

#[derive(Debug, Deserialize)]
pub struct ErrorTrait {
    pub code: Option<String>,
    #[serde(rename = "httpStatusCode")]
    pub http_status_code: Option<u16>,
    #[serde(rename = "senderFault", default)]
    pub sender_fault: bool,
}

/// A reference to a shape, with how it is bound to the wire.
#[derive(Debug, Deserialize)]
pub struct Member {
    pub shape: String,
    /// `uri`, `querystring`, `header`, `headers`, `statusCode` (rest protocols); absent: body.
    pub location: Option<String>,
    #[serde(rename = "locationName")]
    pub location_name: Option<String>,
    #[serde(rename = "xmlNamespace")]
    pub xml_namespace: Option<XmlNamespace>,
    #[serde(rename = "xmlAttribute", default)]
    pub xml_attribute: bool,
    #[serde(default)]
    pub flattened: bool,
    /// ec2: the name in the query string.
    #[serde(rename = "queryName")]
    pub query_name: Option<String>,
    /// A header holding JSON, base64-encoded (rest-json).
    #[serde(default)]
    pub jsonvalue: bool,
    /// Filled with a fresh UUID when the caller leaves it out.
    #[serde(rename = "idempotencyToken", default)]
    pub idempotency_token: bool,
    #[serde(rename = "hostLabel", default)]
    pub host_label: bool,
    #[serde(rename = "timestampFormat")]
    pub timestamp_format: Option<String>,
    /// The member is a stream (S3's `Body`): its bytes are the whole HTTP body.
    #[serde(default)]
    pub streaming: bool,
}

/// Structure members in the model's order: walked in order when serialising, looked up by name
/// when reading a response.
#[derive(Debug, Default)]
pub struct Members(pub Vec<(String, Member)>);

impl Members {
    pub fn get(&self, name: &str) -> Option<&Member> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, m)| m)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &Member)> {
        self.0.iter().map(|(n, m)| (n.as_str(), m))
    }
}

impl<'de> serde::Deserialize<'de> for Members {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Members;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a map of members")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members, A::Error> {
                let mut out = Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some((k, v)) = map.next_entry()? {
                    out.push((k, v));
                }
                Ok(Members(out))
            }
        }
        d.deserialize_map(V)
    }
}

impl XmlNamespace {
    pub fn uri(&self) -> &str {
        match self {
            XmlNamespace::Uri(u) | XmlNamespace::Full { uri: u, .. } => u,
        }
    }

    /// The attribute declaring it: `xmlns` or `xmlns:<prefix>`.
    pub fn attribute(&self) -> String {
        match self {
            XmlNamespace::Full { prefix: Some(p), .. } if !p.is_empty() => format!("xmlns:{p}"),
            _ => "xmlns".to_owned(),
        }
    }
}

impl Service {
    /// The shape named `name`; the models are consistent, so a missing one is a bug in the
    /// embedded data, reported as an error rather than a panic.
    pub fn shape(&self, name: &str) -> Result<&Shape, ModelError> {
        self.shapes.get(name).ok_or_else(|| ModelError::Corrupt(format!("{}: no shape {name}", self.name)))
    }

    /// The operation a Step Functions action names (`getItem` → `GetItem`).
    pub fn operation(&self, action: &str) -> Option<(&str, &Operation)> {
        let mut chars = action.chars();
        let first = chars.next()?;
        let pascal: String = first.to_uppercase().chain(chars).collect();
        self.operations.get_key_value(pascal.as_str()).map(|(k, v)| (k.as_str(), v))
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum ModelError {
    #[error("no AWS service named '{0}' in the embedded models")]
    UnknownService(String),
    #[error("the embedded AWS models are corrupt: {0}")]
    Corrupt(String),
}

struct Index {
    entries: HashMap<String, (usize, usize)>,
    body: &'static [u8],
}

fn index() -> Result<&'static Index, ModelError> {
    static INDEX: OnceLock<Result<Index, ModelError>> = OnceLock::new();
    INDEX
        .get_or_init(|| {
            let corrupt = |what: &str| ModelError::Corrupt(what.to_owned());
            let rest = MODELS.strip_prefix(b"DMAPAWS1\n").ok_or_else(|| corrupt("bad header"))?;
            let nl = rest.iter().position(|&b| b == b'\n').ok_or_else(|| corrupt("no index"))?;
            let raw: BTreeMap<String, (usize, usize)> =
                serde_json::from_slice(&rest[..nl]).map_err(|e| corrupt(&e.to_string()))?;
            Ok(Index { entries: raw.into_iter().collect(), body: &rest[nl + 1..] })
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// The model of the service Step Functions calls `name`, parsed on first use.
pub fn service(name: &str) -> Result<Arc<Service>, ModelError> {
    static LOADED: OnceLock<Mutex<HashMap<String, Arc<Service>>>> = OnceLock::new();
    let loaded = LOADED.get_or_init(Default::default);
    if let Some(s) = loaded.lock().unwrap_or_else(|p| p.into_inner()).get(name) {
        return Ok(s.clone());
    }
    let index = index()?;
    let &(offset, len) = index.entries.get(name).ok_or_else(|| ModelError::UnknownService(name.to_owned()))?;
    let frame = index
        .body
        .get(offset..offset + len)
        .ok_or_else(|| ModelError::Corrupt(format!("{name}: frame out of range")))?;
    let mut json = Vec::new();
    flate2::read::ZlibDecoder::new(frame)
        .read_to_end(&mut json)
        .map_err(|e| ModelError::Corrupt(format!("{name}: {e}")))?;
    let service: Service = serde_json::from_slice(&json).map_err(|e| ModelError::Corrupt(format!("{name}: {e}")))?;
    let service = Arc::new(service);
    loaded.lock().unwrap_or_else(|p| p.into_inner()).insert(name.to_owned(), service.clone());
    Ok(service)
}

/// Every service name in the embedded models.
pub fn service_names() -> Result<impl Iterator<Item = &'static str>, ModelError> {
    Ok(index()?.entries.keys().map(String::as_str))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_model_loads_and_its_references_resolve() {
        let mut count = 0;
        for name in service_names().unwrap() {
            let s = service(name).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(s.name, name);
            for (op, o) in &s.operations {
                for shape in o.input.iter().chain(&o.output) {
                    assert!(s.shapes.contains_key(&shape.shape), "{name}.{op}: {}", shape.shape);
                }
            }
            count += 1;
        }
        assert!(count > 400, "only {count} services");
    }

    #[test]
    fn step_functions_names_find_the_protocol_and_operation() {
        let d = service("dynamodb").unwrap();
        assert_eq!(
            (d.protocol, d.json_version.as_deref(), d.error_prefix.as_str()),
            (Protocol::Json, Some("1.0"), "DynamoDb")
        );
        assert_eq!(d.operation("putItem").map(|(n, _)| n), Some("PutItem"));
        assert!(d.operation("nosuchThing").is_none());
        let s3 = service("s3").unwrap();
        assert_eq!(s3.protocol, Protocol::RestXml);
        assert_eq!(
            s3.operation("listObjectsV2").map(|(n, o)| (n, o.http.method.as_str())),
            Some(("ListObjectsV2", "GET"))
        );
        assert_eq!(service("sns").unwrap().protocol, Protocol::Query);
        assert!(matches!(service("nosuch"), Err(ModelError::UnknownService(_))));
    }
}
