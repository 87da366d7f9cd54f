//! Batch nonces: what ties an outcome to a batch this Map Run handed out. Each batch message
//! carries 128 bits derived from a secret of the Map Run (SHA-256 of a key — itself SHA-256 of
//! the secret and the Map Run id, computed once — and the batch index: one SHA-256 block per
//! batch), and its outcome must echo them; an outcome without the right nonce is
//! dropped. The secret lives only in the checkpoint record (as trusted as the streams), so a
//! resumed coordinator derives the same nonces and accepts the outcomes of batches its
//! predecessor handed out; nothing per batch is stored, and a check is one hash.

use sha2::{Digest, Sha256};

/// The secret of one Map Run.
#[derive(Clone)]
pub(super) struct Nonces {
    /// SHA-256 of the secret and the Map Run id.
    key: [u8; 32],
    map_run_id: String,
}

impl Nonces {
    /// A fresh secret, in hex (as the checkpoint record keeps it).
    pub(super) fn fresh_secret() -> String {
        hex::encode(rand::random::<[u8; 32]>())
    }

    /// The nonces of a Map Run whose secret is `secret_hex`; `None` if it is not 64 hex digits.
    pub(super) fn new(secret_hex: &str, map_run_id: &str) -> Option<Nonces> {
        let secret: [u8; 32] = hex::decode(secret_hex).ok()?.try_into().ok()?;
        let key = Sha256::new().chain_update(secret).chain_update(map_run_id.as_bytes()).finalize();
        Some(Nonces { key: key.into(), map_run_id: map_run_id.to_string() })
    }

    /// The nonce of batch `batch`: 32 lower-case hex digits.
    pub(super) fn of(&self, batch: u64) -> String {
        let digest = Sha256::new().chain_update(self.key).chain_update(batch.to_be_bytes()).finalize();
        hex::encode(&digest[..16])
    }

    /// Whether `nonce` is the nonce of batch `batch`.
    pub(super) fn matches(&self, batch: u64, nonce: &str) -> bool {
        nonce.len() == 32 && self.of(batch) == nonce
    }
}

impl std::fmt::Debug for Nonces {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The secret is never printed.
        f.debug_struct("Nonces").field("map_run_id", &self.map_run_id).finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_are_per_batch_per_run_and_per_secret_and_survive_a_restart() {
        let secret = Nonces::fresh_secret();
        let a = Nonces::new(&secret, "run-1").expect("a secret");
        let again = Nonces::new(&secret, "run-1").expect("the same secret, read back");
        assert!(shared::protocol::check_nonce(&a.of(0)).is_ok());
        assert_eq!(a.of(7), again.of(7), "a resumed coordinator derives the same nonce");
        assert!(again.matches(7, &a.of(7)));
        assert_ne!(a.of(7), a.of(8));
        assert_ne!(a.of(7), Nonces::new(&secret, "run-2").expect("secret").of(7));
        assert_ne!(a.of(7), Nonces::new(&Nonces::fresh_secret(), "run-1").expect("secret").of(7));
        assert!(!a.matches(7, ""));
        assert!(Nonces::new("not hex", "run-1").is_none());
        assert!(Nonces::new(&"ab".repeat(16), "run-1").is_none(), "128 bits are too few for a secret");
    }
}
