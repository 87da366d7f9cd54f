//! The access keys `dmap serve` accepts, from the `[serve]` table of the `--config` file:
//!
//! ```toml
//! [[serve.access_keys]]
//! access_key_id = "AKIDDMAPEXAMPLE1"
//! secret_access_key_env = "DMAP_SECRET_1"   # the secret is read from this variable at start
//!
//! [[serve.access_keys]]
//! access_key_id = "AKIDDMAPEXAMPLE2"
//! secret_access_key = "inline secret"       # or written in the file itself
//! ```
//!
//! The file's other tables (`[buckets]`, …) belong to other readers and are ignored here.
//!
//! Owns: reading and checking the keys, and holding the secrets out of `Debug` output. Must not:
//! verify requests or decide whether verification is on.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// Access key ids and their secrets.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessKeys {
    secrets: BTreeMap<String, String>,
}

#[derive(Debug, thiserror::Error)]
pub enum KeysError {
    #[error("cannot read the config '{}': {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("invalid config '{}': {message}", path.display())]
    Parse { path: PathBuf, message: String },
    #[error(
        "access key id '{}' is not usable: use letters, digits, '_', '-' and '.' only (a '/' or ',' would break \
         the Authorization header)",
        .0.escape_debug()
    )]
    InvalidId(String),
    #[error("access key '{0}' is listed twice")]
    Duplicate(String),
    #[error("access key '{0}' needs exactly one of secret_access_key and secret_access_key_env")]
    SecretSource(String),
    #[error("access key '{id}' takes its secret from the environment variable {var}, which is not set or empty")]
    SecretUnset { id: String, var: String },
    #[error("access key '{0}' has an empty secret")]
    EmptySecret(String),
}

#[derive(serde::Deserialize)]
struct File {
    #[serde(default)]
    serve: Section,
}

#[derive(Default, serde::Deserialize)]
struct Section {
    #[serde(default)]
    access_keys: Vec<Entry>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    access_key_id: String,
    secret_access_key: Option<String>,
    secret_access_key_env: Option<String>,
}

impl AccessKeys {
    /// Keys from `(access key id, secret)` pairs.
    pub fn new<I, K, S>(pairs: I) -> Result<AccessKeys, KeysError>
    where
        I: IntoIterator<Item = (K, S)>,
        K: Into<String>,
        S: Into<String>,
    {
        let mut secrets = BTreeMap::new();
        for (id, secret) in pairs {
            let (id, secret) = (id.into(), secret.into());
            let id_ok = !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c));
            if !id_ok {
                return Err(KeysError::InvalidId(id));
            }
            if secret.is_empty() {
                return Err(KeysError::EmptySecret(id));
            }
            if secrets.contains_key(&id) {
                return Err(KeysError::Duplicate(id));
            }
            secrets.insert(id, secret);
        }
        Ok(AccessKeys { secrets })
    }

    /// The keys of the file's `[[serve.access_keys]]`, secrets named by `secret_access_key_env`
    /// read from the process environment. `None` when the file names no key.
    pub fn from_config(path: &Path) -> Result<Option<AccessKeys>, KeysError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| KeysError::Read { path: path.to_path_buf(), source })?;
        AccessKeys::from_toml(&text, path, |var| std::env::var(var).ok())
    }

    /// As [`AccessKeys::from_config`], from the text of the file at `path` and an environment
    /// lookup.
    fn from_toml(
        text: &str,
        path: &Path,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<AccessKeys>, KeysError> {
        let file: File = toml::from_str(text)
            .map_err(|e| KeysError::Parse { path: path.to_path_buf(), message: e.message().to_owned() })?;
        let mut pairs = Vec::with_capacity(file.serve.access_keys.len());
        for entry in file.serve.access_keys {
            let id = entry.access_key_id;
            let secret = match (entry.secret_access_key, entry.secret_access_key_env) {
                (Some(secret), None) => secret,
                (None, Some(var)) => match env(&var) {
                    Some(secret) if !secret.is_empty() => secret,
                    _ => return Err(KeysError::SecretUnset { id, var }),
                },
                _ => return Err(KeysError::SecretSource(id)),
            };
            pairs.push((id, secret));
        }
        if pairs.is_empty() {
            return Ok(None);
        }
        AccessKeys::new(pairs).map(Some)
    }

    /// The secret of `access_key_id`, if it is one of these keys.
    pub(super) fn secret(&self, access_key_id: &str) -> Option<&str> {
        self.secrets.get(access_key_id).map(String::as_str)
    }

    /// How many keys there are.
    pub fn len(&self) -> usize {
        self.secrets.len()
    }

    /// Whether there are none (a [`AccessKeys::new`] of no pairs).
    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }
}

impl fmt::Debug for AccessKeys {
    /// The key ids only: secrets must not reach logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessKeys").field("ids", &self.secrets.keys().collect::<Vec<_>>()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(var: &str) -> Option<String> {
        (var == "DMAP_TEST_SECRET").then(|| "from-env".to_owned())
    }

    #[test]
    fn keys_come_inline_or_from_the_environment_and_other_tables_are_left_alone() {
        let text = r#"
            [buckets]
            input = "data"

            [[serve.access_keys]]
            access_key_id = "AKIDONE"
            secret_access_key = "inline"

            [[serve.access_keys]]
            access_key_id = "AKIDTWO"
            secret_access_key_env = "DMAP_TEST_SECRET"
        "#;
        let keys = AccessKeys::from_toml(text, Path::new("t.toml"), env).unwrap().unwrap();
        assert_eq!(
            (keys.secret("AKIDONE"), keys.secret("AKIDTWO"), keys.secret("AKIDX")),
            (Some("inline"), Some("from-env"), None)
        );
        let shown = format!("{keys:?}");
        assert!(shown.contains("AKIDONE") && !shown.contains("inline") && !shown.contains("from-env"), "{shown}");
    }

    #[test]
    fn a_file_without_keys_configures_none() {
        assert_eq!(AccessKeys::from_toml("[buckets]\ninput = \"data\"\n", Path::new("t.toml"), env).unwrap(), None);
        assert_eq!(AccessKeys::from_toml("", Path::new("t.toml"), env).unwrap(), None);
    }

    #[test]
    fn unusable_entries_are_refused_with_the_key_they_concern() {
        let one = |body: &str| {
            AccessKeys::from_toml(&format!("[[serve.access_keys]]\n{body}\n"), Path::new("t.toml"), env).unwrap_err()
        };
        assert!(matches!(one("access_key_id = \"A\""), KeysError::SecretSource(id) if id == "A"));
        assert!(matches!(
            one("access_key_id = \"A\"\nsecret_access_key = \"s\"\nsecret_access_key_env = \"DMAP_TEST_SECRET\""),
            KeysError::SecretSource(_)
        ));
        assert!(matches!(
            one("access_key_id = \"A\"\nsecret_access_key_env = \"DMAP_UNSET\""),
            KeysError::SecretUnset { var, .. } if var == "DMAP_UNSET"
        ));
        assert!(matches!(one("access_key_id = \"A/B\"\nsecret_access_key = \"s\""), KeysError::InvalidId(_)));
        assert!(matches!(one("access_key_id = \"A\"\nsecret_access_key = \"\""), KeysError::EmptySecret(_)));
        assert!(matches!(one("access_key_id = \"A\"\nsecret = \"s\""), KeysError::Parse { .. }));
        let twice = "[[serve.access_keys]]\naccess_key_id = \"A\"\nsecret_access_key = \"s\"\n\
                     [[serve.access_keys]]\naccess_key_id = \"A\"\nsecret_access_key = \"t\"\n";
        assert!(
            matches!(AccessKeys::from_toml(twice, Path::new("t.toml"), env), Err(KeysError::Duplicate(id)) if id == "A")
        );
    }

    #[test]
    fn a_missing_file_names_its_path() {
        let err = AccessKeys::from_config(Path::new("/nonexistent/dmap.toml")).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/dmap.toml"), "{err}");
    }
}
