//! The typed form of the functions file's HTTP settings: `[connections.NAME]` tables (what an
//! `Authentication.ConnectionArn` resolves to) and the optional `[http]` table (the allow-list).
//!
//! ```toml
//! [connections.payments]                 # arn:aws:events:REGION:ACCOUNT:connection/payments/UUID
//! api_key = { header = "x-api-key", value_env = "PAYMENTS_API_KEY" }
//!
//! [connections.ledger]
//! basic = { username_env = "LEDGER_USER", password_env = "LEDGER_PASSWORD" }
//!
//! [connections.search]
//! bearer = { token_env = "SEARCH_TOKEN" }   # sends `Authorization: Bearer <token>`
//!
//! [http]
//! allow_hosts = ["127.0.0.1", "api.example.com", "*.internal.example"]
//! ```
//!
//! Each connection holds exactly one of `api_key`, `basic`, `bearer`. The file names environment
//! variables, never secrets: a secret is read when a call needs it, goes straight into a header
//! marked sensitive, and is never stored, logged, put in a failure's cause or shown by `Debug`
//! (this module only ever holds variable names). Without `[http]`, or without `allow_hosts`,
//! any host may be called; with it, only the hosts listed (`*.domain` matches any subdomain of
//! `domain`, not `domain` itself). Hosts are compared as written in `ApiEndpoint`; no DNS
//! lookup is made, so `localhost` does not match `127.0.0.1`.
//!
//! This module must not read the environment at load: variables may be set after the file is
//! read (a worker started before its secrets are mounted), and a secret kept in memory for the
//! process's lifetime is one more place to leak it from.

use std::collections::BTreeMap;
use std::net::IpAddr;

use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderName, HeaderValue};
use shared::asl::error_name::{Failure, RUNTIME};

/// The HTTP Task's configuration: named connections and the optional host allow-list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HttpConfig {
    connections: BTreeMap<String, Connection>,
    allow_hosts: Option<Vec<String>>,
}

/// One `[connections.NAME]` table: how calls through it authenticate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Connection {
    /// `api_key = { header, value_env }`: the header `header` carries the variable's value.
    ApiKey { header: HeaderName, value_env: String },
    /// `basic = { username_env, password_env }`: HTTP Basic authentication.
    Basic { username_env: String, password_env: String },
    /// `bearer = { token_env }`: `Authorization: Bearer <token>`.
    Bearer { token_env: String },
}

impl HttpConfig {
    /// Reads the raw tables of the functions file. Every error names the offending key, as
    /// `connections.NAME.KEY` or `http.KEY`.
    pub fn from_raw(
        connections: &BTreeMap<String, toml::Value>,
        http: Option<&toml::Value>,
    ) -> Result<HttpConfig, String> {
        let mut parsed = BTreeMap::new();
        for (name, raw) in connections {
            let key = format!("connections.{name}");
            check_connection_name(name).map_err(|e| format!("{key}: {e}"))?;
            parsed.insert(name.clone(), Connection::from_raw(&key, raw)?);
        }
        let allow_hosts = match http {
            None => None,
            Some(raw) => allow_hosts_from_raw(raw)?,
        };
        Ok(HttpConfig { connections: parsed, allow_hosts })
    }

    /// The connection of that name, if the file defines it.
    pub fn connection(&self, name: &str) -> Option<&Connection> {
        self.connections.get(name)
    }

    /// The names of every connection the file defines, sorted.
    pub fn connection_names(&self) -> impl Iterator<Item = &str> {
        self.connections.keys().map(String::as_str)
    }

    /// The allow-list, normalised (lowercase, IPv6 without brackets); `None` allows every host.
    pub fn allow_hosts(&self) -> Option<&[String]> {
        self.allow_hosts.as_deref()
    }

    /// Whether a call may go to `host` (as `Url::host_str` gives it).
    pub fn is_host_allowed(&self, host: &str) -> bool {
        let Some(list) = &self.allow_hosts else { return true };
        let host = normalise_host(host);
        list.iter().any(|entry| match entry.strip_prefix("*.") {
            Some(domain) => host.strip_suffix(domain).is_some_and(|rest| rest.len() > 1 && rest.ends_with('.')),
            None => *entry == host,
        })
    }
}

impl Connection {
    fn from_raw(key: &str, raw: &toml::Value) -> Result<Connection, String> {
        let table = raw.as_table().ok_or_else(|| format!("{key}: expected a table"))?;
        let mut found = None;
        for (field, value) in table {
            let sub = format!("{key}.{field}");
            let connection = match field.as_str() {
                "api_key" => {
                    let t = subtable(&sub, value, &["header", "value_env"])?;
                    let header = string_field(&sub, t, "header")?;
                    let header = HeaderName::from_bytes(header.as_bytes())
                        .map_err(|_| format!("{sub}.header: '{header}' is not a valid header name"))?;
                    Connection::ApiKey { header, value_env: env_field(&sub, t, "value_env")? }
                }
                "basic" => {
                    let t = subtable(&sub, value, &["username_env", "password_env"])?;
                    Connection::Basic {
                        username_env: env_field(&sub, t, "username_env")?,
                        password_env: env_field(&sub, t, "password_env")?,
                    }
                }
                "bearer" => {
                    let t = subtable(&sub, value, &["token_env"])?;
                    Connection::Bearer { token_env: env_field(&sub, t, "token_env")? }
                }
                "oauth" => return Err(format!("{sub}: OAuth client-credentials connections are not supported yet")),
                _ => return Err(format!("{sub}: unknown key (a connection holds one of api_key, basic, bearer)")),
            };
            if found.replace(connection).is_some() {
                return Err(format!("{key}: holds more than one of api_key, basic, bearer"));
            }
        }
        found.ok_or_else(|| format!("{key}: needs one of api_key, basic, bearer"))
    }

    /// Adds this connection's credentials to `headers`, reading the secrets from the environment
    /// now. They replace any header of the same name from the definition, as a connection's
    /// parameters take precedence on AWS. `name` is the connection's name, for failures.
    pub(super) fn authorize(&self, name: &str, headers: &mut HeaderMap) -> Result<(), Failure> {
        let (header, value) = match self {
            Connection::ApiKey { header, value_env } => (header.clone(), secret(name, value_env)?),
            Connection::Basic { username_env, password_env } => {
                let credentials = format!("{}:{}", secret(name, username_env)?, secret(name, password_env)?);
                (AUTHORIZATION, format!("Basic {}", base64_encode(credentials.as_bytes())))
            }
            Connection::Bearer { token_env } => (AUTHORIZATION, format!("Bearer {}", secret(name, token_env)?)),
        };
        // The cause names the variable only: the value itself must not reach a failure.
        let mut value = HeaderValue::from_str(&value).map_err(|_| {
            Failure::new(RUNTIME, format!("the connection '{name}' yields a secret that is not a valid header value"))
        })?;
        value.set_sensitive(true);
        headers.insert(header, value);
        Ok(())
    }
}

/// Reads one secret from the environment; the failure names the variable, never a value. An
/// empty value is refused like an unset one: it is almost always a Secret key that was not
/// filled in, and sending an empty credential would only turn it into a 401 later.
fn secret(connection: &str, variable: &str) -> Result<String, Failure> {
    let problem = match std::env::var(variable) {
        Ok(value) if !value.is_empty() => return Ok(value),
        Ok(_) => "which is empty",
        Err(std::env::VarError::NotPresent) => "which is not set",
        Err(std::env::VarError::NotUnicode(_)) => "which is not valid Unicode",
    };
    Err(Failure::new(
        RUNTIME,
        format!("the connection '{connection}' reads a secret from the environment variable '{variable}', {problem}"),
    ))
}

/// Standard base64 with padding, for HTTP Basic credentials: a dozen lines instead of a crate.
fn base64_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// EventBridge's rule for connection names, so that a name always survives inside an ARN.
fn check_connection_name(name: &str) -> Result<(), String> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
    if valid { Ok(()) } else { Err("a connection name is 1 to 64 of A-Z, a-z, 0-9, '.', '-', '_'".to_owned()) }
}

fn subtable<'a>(key: &str, value: &'a toml::Value, allowed: &[&str]) -> Result<&'a toml::Table, String> {
    let table =
        value.as_table().ok_or_else(|| format!("{key}: expected a table such as {{ {} = ... }}", allowed[0]))?;
    for field in table.keys() {
        if !allowed.contains(&field.as_str()) {
            let hint =
                if field.ends_with("_env") { "" } else { "; secrets come from environment variables (`..._env`)" };
            return Err(format!("{key}.{field}: unknown key (expected {}){hint}", allowed.join(", ")));
        }
    }
    Ok(table)
}

fn string_field(key: &str, table: &toml::Table, field: &str) -> Result<String, String> {
    match table.get(field) {
        Some(toml::Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        Some(toml::Value::String(_)) => Err(format!("{key}.{field}: must not be empty")),
        Some(_) => Err(format!("{key}.{field}: expected a string")),
        None => Err(format!("{key}.{field}: missing")),
    }
}

fn env_field(key: &str, table: &toml::Table, field: &str) -> Result<String, String> {
    let name = string_field(key, table, field)?;
    if name.contains(['=', '\0']) {
        return Err(format!("{key}.{field}: '{name}' is not an environment variable name"));
    }
    Ok(name)
}

fn allow_hosts_from_raw(raw: &toml::Value) -> Result<Option<Vec<String>>, String> {
    let table = raw.as_table().ok_or("http: expected a table")?;
    let mut allow_hosts = None;
    for (field, value) in table {
        if field != "allow_hosts" {
            return Err(format!("http.{field}: unknown key (expected allow_hosts)"));
        }
        let entries = value.as_array().ok_or("http.allow_hosts: expected an array of host names")?;
        let mut hosts = Vec::with_capacity(entries.len());
        for (i, entry) in entries.iter().enumerate() {
            let host = entry.as_str().ok_or_else(|| format!("http.allow_hosts[{i}]: expected a string"))?;
            hosts.push(check_allow_entry(host).map_err(|e| format!("http.allow_hosts[{i}]: '{host}' {e}"))?);
        }
        allow_hosts = Some(hosts);
    }
    Ok(allow_hosts)
}

/// Checks one allow-list entry and returns it in the form `is_host_allowed` compares.
fn check_allow_entry(entry: &str) -> Result<String, &'static str> {
    let host = normalise_host(entry);
    let bare = host.strip_prefix("*.").unwrap_or(&host);
    if bare.is_empty() || bare.contains(['/', '*', ' ', '@']) {
        return Err("is not a host name (write the host alone, e.g. api.example.com or *.example.com)");
    }
    if bare.contains(':') && bare.parse::<IpAddr>().is_err() {
        return Err("is not a host name (ports and schemes are not part of an entry)");
    }
    Ok(host)
}

/// Lowercase, without IPv6 brackets, IP addresses in their canonical form.
fn normalise_host(host: &str) -> String {
    let host = host.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase();
    match host.parse::<IpAddr>() {
        Ok(ip) => ip.to_string(),
        Err(_) => host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        let cases =
            [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE=")];
        for (plain, encoded) in cases {
            assert_eq!(base64_encode(plain.as_bytes()), encoded, "{plain}");
        }
    }

    #[test]
    fn wildcard_entries_match_subdomains_only() {
        let raw: toml::Value = toml::from_str(r#"allow_hosts = ["*.example.com", "[::1]", "Api.Test"]"#).unwrap();
        let config = HttpConfig::from_raw(&BTreeMap::new(), Some(&raw)).unwrap();
        assert!(config.is_host_allowed("a.example.com"));
        assert!(config.is_host_allowed("a.b.example.com"));
        assert!(!config.is_host_allowed("example.com"));
        assert!(!config.is_host_allowed("badexample.com"));
        assert!(config.is_host_allowed("[::1]"));
        assert!(config.is_host_allowed("api.test"));
        assert!(!config.is_host_allowed("127.0.0.1"));
    }
}
