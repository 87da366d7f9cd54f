//! State machines as the start actions read them, kept in memory: StartExecution and
//! StartSyncExecution read a state machine on every call, and the store read was a sixth of
//! the server's work per synchronous Express call. The actions that change a state machine
//! forget it after their commit; a generation counter keeps a read that raced such a change
//! from putting the old record back.
//!
//! It caches nothing else and never answers for a state machine it has not read.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::serve::store::{StateMachineRecord, Store, StoreError};

/// At most this many state machines are kept; past it the cache starts again.
const MAX_ENTRIES: usize = 4096;

#[derive(Debug, Default)]
pub struct MachineCache {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    generation: u64,
    machines: HashMap<String, Arc<StateMachineRecord>>,
}

impl MachineCache {
    /// The state machine `arn`, from memory or from the store.
    pub fn get(&self, store: &dyn Store, arn: &str) -> Result<Option<Arc<StateMachineRecord>>, StoreError> {
        let generation = {
            let inner = self.lock();
            if let Some(m) = inner.machines.get(arn) {
                return Ok(Some(m.clone()));
            }
            inner.generation
        };
        let Some(record) = store.state_machine(arn)? else { return Ok(None) };
        let record = Arc::new(record);
        let mut inner = self.lock();
        // A change committed since the read began may have made it stale: keep it only if none.
        if inner.generation == generation {
            if inner.machines.len() >= MAX_ENTRIES {
                inner.machines.clear();
            }
            inner.machines.insert(arn.to_string(), record.clone());
        }
        Ok(Some(record))
    }

    /// Forgets `arn` (after an update, a delete or a published version).
    pub fn forget(&self, arn: &str) {
        let mut inner = self.lock();
        inner.generation += 1;
        inner.machines.remove(arn);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serve::store::sqlite::Sqlite;
    use crate::serve::store::{MachineType, Write};

    fn record(definition: &str) -> StateMachineRecord {
        StateMachineRecord {
            arn: "arn:aws:states:us-east-1:123456789012:stateMachine:m".into(),
            name: "m".into(),
            machine_type: MachineType::Express,
            definition: definition.into(),
            role_arn: "arn:aws:iam::123456789012:role/r".into(),
            description: None,
            logging_configuration: None,
            tracing_configuration: None,
            encryption_configuration: None,
            creation_date: chrono::Utc::now(),
            revision_id: "1".into(),
            next_version: 1,
        }
    }

    #[tokio::test]
    async fn an_update_is_seen_once_forgotten_and_a_deleted_machine_is_gone() {
        let dir = tempfile::tempdir().unwrap();
        let store = Sqlite::open(dir.path()).unwrap();
        let cache = MachineCache::default();
        let first = record("{\"v\":1}");
        let arn = first.arn.clone();
        assert!(cache.get(&store, &arn).unwrap().is_none(), "nothing is cached for a machine that does not exist");
        store.commit(vec![Write::CreateStateMachine(first)]).await.unwrap();
        assert_eq!(cache.get(&store, &arn).unwrap().unwrap().definition, "{\"v\":1}");
        store.commit(vec![Write::UpdateStateMachine(record("{\"v\":2}"))]).await.unwrap();
        assert_eq!(cache.get(&store, &arn).unwrap().unwrap().definition, "{\"v\":1}", "kept until forgotten");
        cache.forget(&arn);
        assert_eq!(cache.get(&store, &arn).unwrap().unwrap().definition, "{\"v\":2}");
        store.commit(vec![Write::DeleteStateMachine { arn: arn.clone() }]).await.unwrap();
        cache.forget(&arn);
        assert!(cache.get(&store, &arn).unwrap().is_none());
    }
}
