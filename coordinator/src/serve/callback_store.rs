//! The store as the callbacks' [`Durable`]: the task tokens' key, made once and kept in the
//! store so that a restarted server makes (and accepts) the same tokens, and the callbacks
//! accepted and not yet taken by their execution.

use std::sync::Arc;

use futures::future::BoxFuture;

use super::store::{ExecutionStatus, Store, Write};
use crate::callbacks::{Codec, Durable, Outcome};

/// The name of the tokens' key among the store's secrets.
const TOKEN_KEY: &str = "task-token-key";

/// The server's token codec: its key from the store, made (at random) on first start.
pub async fn codec(store: &dyn Store) -> Result<Codec, String> {
    let read = |store: &dyn Store| -> Result<Option<[u8; 32]>, String> {
        match store.secret(TOKEN_KEY).map_err(|e| e.to_string())? {
            Some(v) => v.try_into().map(Some).map_err(|_| "the stored task-token key is not 32 bytes".to_string()),
            None => Ok(None),
        }
    };
    if let Some(key) = read(store)? {
        return Ok(Codec::new(key));
    }
    let fresh: [u8; 32] = rand::random();
    store
        .commit(vec![Write::PutSecret { name: TOKEN_KEY.into(), value: fresh.to_vec() }])
        .await
        .map_err(|e| e.to_string())?;
    // The first key written stays (another writer may have been first).
    read(store)?.map(Codec::new).ok_or_else(|| "the task-token key was not kept".into())
}

/// Accepted callbacks in the store.
pub struct StoreCallbacks {
    pub store: Arc<dyn Store>,
}

impl Durable for StoreCallbacks {
    fn save<'a>(
        &'a self,
        token: &'a str,
        execution_arn: &'a str,
        outcome: &'a Outcome,
    ) -> BoxFuture<'a, Result<(), String>> {
        let write = Write::PutCallbackOutcome {
            token: token.to_string(),
            execution_arn: execution_arn.to_string(),
            outcome: outcome.to_json(),
        };
        let commit = self.store.commit(vec![write]);
        Box::pin(async move { commit.await.map_err(|e| e.to_string()) })
    }

    fn load<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Result<Option<Outcome>, String>> {
        let found = self.store.callback_outcome(token).map_err(|e| e.to_string());
        Box::pin(async move {
            match found? {
                Some(text) => {
                    Outcome::from_json(&text).map(Some).ok_or_else(|| format!("a stored callback is not valid: {text}"))
                }
                None => Ok(None),
            }
        })
    }

    fn running<'a>(&'a self, execution_arn: &'a str) -> BoxFuture<'a, Result<Option<bool>, String>> {
        let found = self.store.execution(execution_arn).map_err(|e| e.to_string());
        Box::pin(async move { Ok(found?.map(|e| e.status == ExecutionStatus::Running)) })
    }

    fn forget(&self, execution_arn: &str) {
        self.store.submit(vec![Write::DropCallbackOutcomes { execution_arn: execution_arn.to_string() }]);
    }
}
