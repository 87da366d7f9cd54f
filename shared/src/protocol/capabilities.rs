//! What a child execution needs of a worker, and what a worker serves: the Lambda function
//! names and HTTP connection names of a functions file. A Map Run whose children need nothing
//! goes to the shared `cpu`/`io` subjects; one that needs functions or connections goes to a
//! subject of its own, named by the [`Needs::token`] of what it needs, and only workers that
//! serve all of it pull from there. Pure data: no NATS here.

use serde::{Deserialize, Serialize};

/// Stands for a name known only at run time (`FunctionName.$`): served by a worker that
/// serves at least one function (or connection).
pub const ANY: &str = "*";

/// Function and connection names, each sorted and without repeats (the canonical form that
/// the token hashes).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Needs {
    #[serde(default)]
    pub functions: Vec<String>,
    #[serde(default)]
    pub connections: Vec<String>,
}

impl Needs {
    /// Canonical form of any lists of names.
    pub fn new(functions: impl IntoIterator<Item = String>, connections: impl IntoIterator<Item = String>) -> Needs {
        let canonical = |names: &mut dyn Iterator<Item = String>| {
            let mut v: Vec<String> = names.collect();
            v.sort();
            v.dedup();
            v
        };
        Needs { functions: canonical(&mut functions.into_iter()), connections: canonical(&mut connections.into_iter()) }
    }

    pub fn is_empty(&self) -> bool {
        self.functions.is_empty() && self.connections.is_empty()
    }

    /// `fn-` and 16 hex digits of SHA-256 of the canonical JSON: a subject token and a consumer
    /// name part. Equal needs, equal tokens, whichever coordinator computes them.
    pub fn token(&self) -> String {
        use sha2::{Digest, Sha256};
        let text = serde_json::to_vec(self).unwrap_or_default();
        format!("fn-{}", &hex::encode(Sha256::digest(&text))[..16])
    }

    /// Whether a worker serving `self` can run every child that needs `needs`.
    pub fn covers(&self, needs: &Needs) -> bool {
        let all = |served: &[String], wanted: &[String]| {
            wanted.iter().all(|w| if w == ANY { !served.is_empty() } else { served.binary_search(w).is_ok() })
        };
        all(&self.functions, &needs.functions) && all(&self.connections, &needs.connections)
    }

    /// `functions: a, b; connections: c`, for messages.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if !self.functions.is_empty() {
            parts.push(format!("functions: {}", self.functions.join(", ")));
        }
        if !self.connections.is_empty() {
            parts.push(format!("connections: {}", self.connections.join(", ")));
        }
        parts.join("; ")
    }
}

/// A worker's entry in the workers bucket: what it serves, and when it last said so.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Advert {
    pub serves: Needs,
    /// Milliseconds since the Unix epoch.
    pub updated: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn needs(f: &[&str], c: &[&str]) -> Needs {
        Needs::new(f.iter().map(|s| s.to_string()), c.iter().map(|s| s.to_string()))
    }

    #[test]
    fn tokens_are_canonical_and_fit_a_subject() {
        let a = needs(&["price", "tax", "price"], &[]);
        assert_eq!(a.functions, ["price", "tax"]);
        assert_eq!(a.token(), needs(&["tax", "price"], &[]).token());
        assert_ne!(a.token(), needs(&["price"], &[]).token());
        assert_ne!(needs(&["x"], &[]).token(), needs(&[], &["x"]).token());
        let t = a.token();
        assert_eq!(t.len(), 19);
        assert!(t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'), "{t}");
    }

    #[test]
    fn a_worker_covers_what_it_serves_and_any_name_only_with_some() {
        let served = needs(&["price", "tax"], &["payments"]);
        assert!(served.covers(&needs(&["price"], &[])));
        assert!(served.covers(&needs(&["price", "tax"], &["payments"])));
        assert!(!served.covers(&needs(&["price", "ship"], &[])));
        assert!(!served.covers(&needs(&[], &["ledger"])));
        assert!(served.covers(&needs(&[ANY], &[ANY])));
        assert!(!needs(&[], &[]).covers(&needs(&[ANY], &[])));
        assert!(needs(&[], &[]).covers(&Needs::default()));
        assert_eq!(needs(&["price"], &["p"]).describe(), "functions: price; connections: p");
    }
}
