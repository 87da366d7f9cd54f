//! The worker's cache of child definitions: a Map Run's child state machine, fetched by content
//! hash from the definitions bucket, checked against that hash (the record's SHA-256 must be its
//! key: a record written by anyone else under that key is refused), parsed and compiled once per
//! worker. It must not decide
//! anything about the batch that asked (an absent definition or an error goes back to the ack
//! table in `consume`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_nats::jetstream::kv;
use futures::FutureExt;
use futures::future::{BoxFuture, Shared};
use serde_json::Value;
use shared::protocol::DefinitionRecord;

use crate::executor::Child;

/// A fetch of a child definition, awaited by every message that needs it meanwhile.
type Loading = Shared<BoxFuture<'static, Result<Lookup, String>>>;

/// What a definition hash leads to.
#[derive(Clone)]
pub enum Lookup {
    /// The compiled child.
    Ready(Arc<Child>),
    /// No child can run under this hash; the cause names why (absent, or not what the hash says).
    Refused(String),
}

/// An entry of the cache.
enum Cached {
    Ready(Arc<Child>),
    Loading(Loading),
}

pub struct Definitions {
    bucket: kv::Store,
    cache: Mutex<HashMap<String, Cached>>,
}

impl Definitions {
    pub fn new(bucket: kv::Store) -> Definitions {
        Definitions { bucket, cache: Mutex::new(HashMap::new()) }
    }

    /// The compiled child of a definition hash, from the cache or the definitions bucket. Misses
    /// for the same hash share one fetch: the first starts it, the others await its result. A
    /// compiled child is kept; an absent definition or an error is not (the next message for
    /// that hash looks again).
    pub async fn child(&self, hash: &str) -> Result<Lookup, String> {
        let loading = {
            let mut map = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            match map.get(hash) {
                Some(Cached::Ready(c)) => return Ok(Lookup::Ready(c.clone())),
                Some(Cached::Loading(l)) => l.clone(),
                None => {
                    let l = load(self.bucket.clone(), hash.to_string()).boxed().shared();
                    map.insert(hash.to_string(), Cached::Loading(l.clone()));
                    l
                }
            }
        };
        let result = loading.clone().await;
        let mut map = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        // The first to get here settles the entry (unless a later fetch has replaced it).
        if let Some(Cached::Loading(l)) = map.get(hash)
            && l.ptr_eq(&loading)
        {
            match &result {
                Ok(Lookup::Ready(c)) => {
                    map.insert(hash.to_string(), Cached::Ready(c.clone()));
                }
                _ => {
                    map.remove(hash);
                }
            }
        }
        result
    }
}

/// Fetches a child definition from the definitions bucket, checks it against its hash and
/// compiles it; refused when the bucket does not hold it or holds something else under the key.
async fn load(definitions: kv::Store, hash: String) -> Result<Lookup, String> {
    let Some(bytes) = definitions.get(&hash).await.map_err(|e| e.to_string())? else {
        return Ok(Lookup::Refused(format!(
            "the child definition {hash} is not in the NATS bucket {}: its Map Run's coordinator is gone",
            shared::protocol::nats::DEFINITIONS_BUCKET
        )));
    };
    let actual = DefinitionRecord::hash_of(&bytes);
    if actual != hash {
        return Ok(Lookup::Refused(format!(
            "the child definition under key {hash} of the NATS bucket {} has the SHA-256 {actual}: it is not the \
             definition the Map Run asked for, and is not run",
            shared::protocol::nats::DEFINITIONS_BUCKET
        )));
    }
    let record: DefinitionRecord =
        serde_json::from_slice(&bytes).map_err(|e| format!("definition {hash} is unreadable: {e}"))?;
    let mut definition = record.definition;
    let mut express = false;
    if let Value::Object(m) = &mut definition {
        // Compiled as a machine of its own, the processor loses its ProcessorConfig; what it
        // said about the execution type decides the history limit (Express keeps none).
        express = m
            .remove("ProcessorConfig")
            .is_some_and(|pc| pc.get("ExecutionType").and_then(Value::as_str) == Some("EXPRESS"));
    }
    let machine = match shared::asl::parse::parse_value(&definition) {
        Ok((mut m, _)) => {
            m.express = express;
            m
        }
        Err(diags) => {
            let text: Vec<String> = diags.iter().map(|d| d.to_string()).collect();
            return Err(format!("definition {hash} does not validate: {}", text.join("; ")));
        }
    };
    Ok(Lookup::Ready(Arc::new(Child::new(Arc::new(machine), record.max_payload_bytes))))
}
