//! The worker's cache of child definitions: a Map Run's child state machine, fetched by content
//! hash from the definitions bucket, parsed and compiled once per worker. It must not decide
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
type Loading = Shared<BoxFuture<'static, Result<Option<Arc<Child>>, String>>>;

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
    pub async fn child(&self, hash: &str) -> Result<Option<Arc<Child>>, String> {
        let loading = {
            let mut map = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            match map.get(hash) {
                Some(Cached::Ready(c)) => return Ok(Some(c.clone())),
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
                Ok(Some(c)) => {
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

/// Fetches a child definition from the definitions bucket and compiles it; `None` when the
/// bucket does not hold it.
async fn load(definitions: kv::Store, hash: String) -> Result<Option<Arc<Child>>, String> {
    let Some(bytes) = definitions.get(&hash).await.map_err(|e| e.to_string())? else { return Ok(None) };
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
    Ok(Some(Arc::new(Child::new(Arc::new(machine), record.max_payload_bytes))))
}
