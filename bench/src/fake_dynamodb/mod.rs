//! `bench fake-dynamodb`: a minimal, fast stand-in for DynamoDB's awsJson1.0 protocol, for the
//! `integrations` scenario. moto answers about a thousand PutItem calls per second (it is
//! Python), so it, not the client, would be what a 100,000-call benchmark measures.
//!
//! It owns the protocol handling ([`handle`]: `X-Amz-Target` and body in, status and JSON out)
//! and the tables' tallies; the HTTP server is in [`server`]. It keeps no items, only, per
//! table, how many PutItem calls arrived and an order-free digest of their items ([`digest`]),
//! so memory stays flat at any N and the bench can check that exactly the expected items
//! arrived. A PutItem creates its table on first use (DynamoDB answers ResourceNotFound: the
//! bench has no CreateTable step to time). Signatures are accepted and never verified.
//!
//! Operations: `PutItem` (validated as DynamoDB does the parts a client can get wrong: the
//! table name, the item, each attribute value's one type key) answering `{}`; `DescribeTable`
//! answering the table's `ItemCount` (the calls counted); anything else `400
//! UnknownOperationException`. `GET /_bench/tables` lists every table's count and digest.
//!
//! It must not model anything else of DynamoDB: conditions, capacity, the item store.

pub mod server;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use serde_json::{Map, Value, json};

/// The prefix of every DynamoDB operation's `X-Amz-Target` (API version 2012-08-10).
const TARGET_PREFIX: &str = "DynamoDB_20120810.";
/// The attribute value type keys of DynamoDB's `AttributeValue` union.
const TYPES: [&str; 10] = ["S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL"];

/// What the server sends back: a status and a JSON body (`application/x-amz-json-1.0`).
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
}

impl Reply {
    fn ok(body: Value) -> Reply {
        Reply { status: 200, body }
    }

    /// A DynamoDB error: `__type` is the error's shape id, as the service sends it.
    fn error(status: u16, kind: &str, message: &str) -> Reply {
        Reply { status, body: json!({"__type": kind, "message": message}) }
    }
}

/// One table's tally.
#[derive(Debug, Default)]
struct Table {
    count: AtomicU64,
    digest: AtomicU64,
}

/// Every table's tally, shared by the server's connections.
#[derive(Debug, Default)]
pub struct Tables {
    tables: RwLock<HashMap<String, Arc<Table>>>,
}

impl Tables {
    fn table(&self, name: &str) -> Arc<Table> {
        if let Some(t) = self.tables.read().unwrap_or_else(|p| p.into_inner()).get(name) {
            return t.clone();
        }
        self.tables.write().unwrap_or_else(|p| p.into_inner()).entry(name.to_string()).or_default().clone()
    }

    fn existing(&self, name: &str) -> Option<Arc<Table>> {
        self.tables.read().unwrap_or_else(|p| p.into_inner()).get(name).cloned()
    }

    /// `{"TABLE": {"count": N, "digest": "16 hex digits"}, …}`.
    pub fn summary(&self) -> Value {
        let tables = self.tables.read().unwrap_or_else(|p| p.into_inner());
        let mut out = Map::new();
        for (name, t) in tables.iter() {
            let (count, digest) = (t.count.load(Ordering::Relaxed), t.digest.load(Ordering::Relaxed));
            out.insert(name.clone(), json!({"count": count, "digest": format!("{digest:016x}")}));
        }
        Value::Object(out)
    }
}

/// Answers one awsJson1.0 request: `target` is the `X-Amz-Target` header, `body` the request body.
pub fn handle(tables: &Tables, target: Option<&str>, body: &[u8]) -> Reply {
    let op = target.and_then(|t| t.strip_prefix(TARGET_PREFIX));
    match op {
        Some("PutItem") => put_item(tables, body),
        Some("DescribeTable") => describe_table(tables, body),
        _ => Reply::error(
            400,
            "com.amazon.coral.service#UnknownOperationException",
            &format!("this endpoint answers PutItem and DescribeTable, not {}", target.unwrap_or("(no X-Amz-Target)")),
        ),
    }
}

fn validation(message: &str) -> Reply {
    Reply::error(400, "com.amazon.coral.validate#ValidationException", message)
}

/// The request body as a JSON object, or DynamoDB's SerializationException.
fn request(body: &[u8]) -> Result<Map<String, Value>, Reply> {
    match serde_json::from_slice(body) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(Reply::error(400, "com.amazon.coral.service#SerializationException", "the body is not a JSON object")),
    }
}

/// The `TableName` member, checked as DynamoDB checks it (3 to 255 characters).
fn table_name(req: &Map<String, Value>) -> Result<&str, Reply> {
    match req.get("TableName") {
        Some(Value::String(s)) if (3..=255).contains(&s.chars().count()) => Ok(s),
        Some(Value::String(_)) => Err(validation("TableName must be 3 to 255 characters long")),
        _ => Err(validation(
            "1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null",
        )),
    }
}

fn put_item(tables: &Tables, body: &[u8]) -> Reply {
    let req = match request(body) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let name = match table_name(&req) {
        Ok(n) => n,
        Err(e) => return e,
    };
    let Some(Value::Object(item)) = req.get("Item") else {
        return validation(
            "1 validation error detected: Value null at 'item' failed to satisfy constraint: Member must not be null",
        );
    };
    if item.is_empty() {
        return validation("One or more parameter values were invalid: the item has no attributes");
    }
    for (attr, value) in item {
        let one_type = matches!(value, Value::Object(v) if v.len() == 1 && TYPES.contains(&v.keys().next().map_or("", String::as_str)));
        if !one_type {
            return validation(&format!(
                "Supplied AttributeValue of {attr} is empty or has more than one datatype: it must contain exactly one of \
                 the supported datatypes"
            ));
        }
    }
    let t = tables.table(name);
    t.count.fetch_add(1, Ordering::Relaxed);
    let mut h = Fnv::new();
    canonical_object(item, &mut h);
    t.digest.fetch_add(h.0, Ordering::Relaxed);
    Reply::ok(json!({}))
}

fn describe_table(tables: &Tables, body: &[u8]) -> Reply {
    let req = match request(body) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let name = match table_name(&req) {
        Ok(n) => n,
        Err(e) => return e,
    };
    match tables.existing(name) {
        Some(t) => Reply::ok(json!({"Table": {
            "TableName": name,
            "TableStatus": "ACTIVE",
            "ItemCount": t.count.load(Ordering::Relaxed),
        }})),
        None => Reply::error(
            400,
            "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException",
            &format!("Requested resource not found: Table: {name} not found"),
        ),
    }
}

/// A 64-bit FNV-1a hash of `item`'s canonical JSON (object keys sorted at every level, no
/// spaces). Tables add these up (wrapping), so a table's digest is the same whatever order the
/// puts arrived in and whatever order a client wrote an item's attributes in.
pub fn digest(item: &Value) -> u64 {
    let mut h = Fnv::new();
    canonical(item, &mut h);
    h.0
}

/// The digest a table holds after one PutItem of each item: what the bench checks it against.
pub fn digest_of<'a>(items: impl IntoIterator<Item = &'a Value>) -> u64 {
    items.into_iter().fold(0u64, |acc, i| acc.wrapping_add(digest(i)))
}

struct Fnv(u64);

impl Fnv {
    fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

fn canonical(v: &Value, h: &mut Fnv) {
    match v {
        Value::Object(m) => canonical_object(m, h),
        Value::Array(a) => {
            h.write(b"[");
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    h.write(b",");
                }
                canonical(x, h);
            }
            h.write(b"]");
        }
        other => h.write(other.to_string().as_bytes()),
    }
}

fn canonical_object(m: &Map<String, Value>, h: &mut Fnv) {
    let mut keys: Vec<&String> = m.keys().collect();
    keys.sort();
    h.write(b"{");
    for (i, k) in keys.into_iter().enumerate() {
        if i > 0 {
            h.write(b",");
        }
        h.write(serde_json::to_string(k).unwrap_or_default().as_bytes());
        h.write(b":");
        canonical(&m[k.as_str()], h);
    }
    h.write(b"}");
}
