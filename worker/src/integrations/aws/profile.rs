//! AWS's shared configuration: the process environment (as a snapshot, so tests can give their
//! own) and the shared `config` and `credentials` files, read once. The profile is
//! `AWS_PROFILE` (else `default`); the files are `AWS_CONFIG_FILE` and
//! `AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/config` and `~/.aws/credentials`. A key in the
//! credentials file wins over the same key in the config file, as in AWS's SDKs.
//!
//! Owns: reading the files (`[default]`, `[profile NAME]`, `[services NAME]` sections; `key =
//! value` lines; indented sub-keys of a `services` entry). Must not: decide what the keys mean.

use std::collections::HashMap;
use std::path::PathBuf;

/// The environment AWS settings are read from.
#[derive(Debug, Clone, Default)]
pub struct Env(HashMap<String, String>);

impl Env {
    pub fn from_process() -> Env {
        Env(std::env::vars().collect())
    }

    pub fn from_pairs<K: Into<String>, V: Into<String>>(pairs: impl IntoIterator<Item = (K, V)>) -> Env {
        Env(pairs.into_iter().map(|(k, v)| (k.into(), v.into())).collect())
    }

    /// A variable's value; an empty one counts as unset.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str).filter(|v| !v.is_empty())
    }
}

/// A section's keys, lower-cased names.
pub type Section = HashMap<String, String>;

/// The shared config and credentials files of one environment.
#[derive(Debug, Clone, Default)]
pub struct Profiles {
    /// Profile name → keys (credentials file merged over config file).
    profiles: HashMap<String, Section>,
    /// `[services NAME]` → service key (`dynamodb`) → its sub-keys.
    services: HashMap<String, HashMap<String, Section>>,
    /// The selected profile.
    pub selected: String,
}

impl Profiles {
    /// Reads the files `env` names. A missing file is no profile; an unreadable one too (AWS's
    /// SDKs do the same), so a bad file shows up as missing credentials, named then.
    pub fn load(env: &Env) -> Profiles {
        let home = env.get("HOME").map(PathBuf::from).unwrap_or_default();
        let config = env.get("AWS_CONFIG_FILE").map(PathBuf::from).unwrap_or_else(|| home.join(".aws/config"));
        let creds =
            env.get("AWS_SHARED_CREDENTIALS_FILE").map(PathBuf::from).unwrap_or_else(|| home.join(".aws/credentials"));
        let mut out = Profiles {
            selected: env.get("AWS_PROFILE").or(env.get("AWS_DEFAULT_PROFILE")).unwrap_or("default").to_owned(),
            ..Profiles::default()
        };
        if let Ok(text) = std::fs::read_to_string(config) {
            out.read(&text, true);
        }
        if let Ok(text) = std::fs::read_to_string(creds) {
            out.read(&text, false);
        }
        out
    }

    /// The keys of the profile `name`, if it exists.
    pub fn profile(&self, name: &str) -> Option<&Section> {
        self.profiles.get(name)
    }

    /// A key of the selected profile.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.profiles.get(&self.selected)?.get(key).map(String::as_str)
    }

    /// The sub-keys for `service` (its lower-cased, `_`-joined serviceId) in the `services`
    /// section the selected profile names.
    pub fn service(&self, service: &str) -> Option<&Section> {
        self.services.get(self.get("services")?)?.get(service)
    }

    fn read(&mut self, text: &str, config_file: bool) {
        enum At {
            Nowhere,
            Profile(String),
            Services(String, Option<String>),
        }
        let mut at = At::Nowhere;
        for raw in text.lines() {
            let line = raw.split([';', '#']).next().unwrap_or("").trim_end();
            if line.trim().is_empty() {
                continue;
            }
            if let Some(header) = line.trim().strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                let header = header.trim();
                at = match header.split_once(char::is_whitespace) {
                    Some(("profile", name)) if config_file => At::Profile(name.trim().to_owned()),
                    Some(("services", name)) if config_file => At::Services(name.trim().to_owned(), None),
                    // `[default]` in both files; any `[name]` in the credentials file.
                    None if !config_file || header == "default" => At::Profile(header.to_owned()),
                    _ => At::Nowhere,
                };
                continue;
            }
            let indented = raw.starts_with(char::is_whitespace);
            let Some((key, value)) = line.split_once('=') else { continue };
            let (key, value) = (key.trim().to_ascii_lowercase(), value.trim().to_owned());
            match &mut at {
                At::Nowhere => {}
                At::Profile(name) => {
                    if !indented {
                        self.profiles.entry(name.clone()).or_default().insert(key, value);
                    }
                }
                At::Services(name, current) => {
                    if !indented {
                        *current = Some(key.clone());
                        self.services.entry(name.clone()).or_default().entry(key).or_default();
                    } else if let Some(service) = current {
                        let entry = self.services.entry(name.clone()).or_default().entry(service.clone()).or_default();
                        entry.insert(key, value);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_sections_and_the_credentials_file_winning() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config");
        let creds = dir.path().join("credentials");
        std::fs::write(
            &config,
            "[default]\nregion = eu-west-1\n\n[profile dev]\nregion = eu-north-1 ; comment\nservices = local\n\
             aws_access_key_id = FROMCONFIG\n\n[services local]\ndynamodb =\n  endpoint_url = http://127.0.0.1:9\n",
        )
        .unwrap();
        std::fs::write(&creds, "[dev]\naws_access_key_id = FROMCREDS\naws_secret_access_key = s\n").unwrap();
        let env = Env::from_pairs([
            ("AWS_CONFIG_FILE", config.to_str().unwrap()),
            ("AWS_SHARED_CREDENTIALS_FILE", creds.to_str().unwrap()),
            ("AWS_PROFILE", "dev"),
        ]);
        let p = Profiles::load(&env);
        assert_eq!(p.get("region"), Some("eu-north-1"));
        assert_eq!(p.get("aws_access_key_id"), Some("FROMCREDS"));
        assert_eq!(
            p.service("dynamodb").and_then(|s| s.get("endpoint_url")).map(String::as_str),
            Some("http://127.0.0.1:9")
        );
        assert_eq!(p.profile("default").and_then(|s| s.get("region")).map(String::as_str), Some("eu-west-1"));
    }
}
