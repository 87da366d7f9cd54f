//! What one mapping's value names: a local directory, a bucket on AWS S3 (`s3://bucket`), or a
//! bucket on an S3-compatible endpoint (`http(s)://[key:secret@]host[:port][/bucket]`).
//!
//! Everything that could fail at the first request is checked here, at start: the endpoint's
//! host and port, a query or fragment, bucket names (S3's rules), and a scheme that is not
//! one of the three — which would otherwise be taken as a relative directory and create
//! directories named after whatever followed it (often a secret). Texts shown to users never
//! carry the user info of a URL: see [`redact`].

use std::fmt;
use std::net::Ipv6Addr;
use std::path::{Path, PathBuf};

use super::bucket_name;

/// What a bucket name resolves to.
#[derive(Clone, PartialEq, Eq)]
pub enum Location {
    /// A local directory; a key `a/b.json` is the file `<dir>/a/b.json`.
    Directory(PathBuf),
    /// A bucket on AWS S3.
    S3 { bucket: String },
    /// A bucket on an S3-compatible endpoint, addressed path-style.
    Endpoint { url: String, bucket: String, credentials: Option<(String, String)> },
}

/// Secrets stay out of logs.
impl fmt::Debug for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Directory(p) => write!(f, "Directory({})", p.display()),
            Location::S3 { bucket } => write!(f, "s3://{bucket}"),
            Location::Endpoint { url, bucket, credentials } => {
                let auth = if credentials.is_some() { "<credentials>@" } else { "" };
                write!(f, "{auth}{url}/{bucket}")
            }
        }
    }
}

impl Location {
    /// Parses one mapping's value. `base` resolves relative directories. An error never
    /// repeats the value (it may hold credentials).
    pub fn parse(name: &str, value: &str, base: Option<&Path>) -> Result<Location, String> {
        bucket_name::check(name).map_err(|rule| format!("'{}' is not a bucket name: {rule}", name.escape_debug()))?;
        if let Some(rest) = value.strip_prefix("s3://") {
            let bucket = rest.strip_suffix('/').unwrap_or(rest);
            if bucket.is_empty() || bucket.contains('/') {
                return Err("an S3 URL names a bucket only: s3://BUCKET".into());
            }
            bucket_name::check(bucket).map_err(|rule| format!("the S3 URL's bucket is not a bucket name: {rule}"))?;
            return Ok(Location::S3 { bucket: bucket.to_string() });
        }
        for scheme in ["http://", "https://"] {
            if let Some(rest) = value.strip_prefix(scheme) {
                return parse_endpoint(name, scheme, rest);
            }
        }
        if let Some(scheme) = scheme(value) {
            return Err(format!(
                "'{}://' is not a storage scheme: use s3://, http://, https:// or a directory path",
                scheme.escape_debug()
            ));
        }
        if value.is_empty() {
            return Err("the directory is empty".into());
        }
        let path = PathBuf::from(value);
        Ok(Location::Directory(match base {
            Some(base) if path.is_relative() => base.join(path),
            _ => path,
        }))
    }
}

/// The scheme of a value shaped like a URL (`word://…`, RFC 3986's scheme characters).
fn scheme(value: &str) -> Option<&str> {
    let (scheme, _) = value.split_once("://")?;
    let mut chars = scheme.chars();
    let first = chars.next()?;
    (first.is_ascii_alphabetic() && chars.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))).then_some(scheme)
}

/// `spec` (`NAME=VALUE`, or a value) with the user info of any URL in it replaced by `***`.
pub fn redact(spec: &str) -> String {
    let Some(start) = spec.find("://").map(|i| i + 3) else { return spec.to_string() };
    match spec[start..].rfind('@') {
        Some(at) => format!("{}***{}", &spec[..start], &spec[start + at..]),
        None => spec.to_string(),
    }
}

/// `[key:secret@]host[:port][/bucket]`; the secret may hold an unescaped `/` (AWS secrets
/// often do), so the user info ends at the last `@`.
fn parse_endpoint(name: &str, scheme: &str, rest: &str) -> Result<Location, String> {
    if rest.contains(['?', '#']) {
        return Err(
            "an endpoint URL has no query (?) or fragment (#); percent-encode such characters in a secret".into()
        );
    }
    let (credentials, rest) = match rest.rsplit_once('@') {
        None => (None, rest),
        Some((user, rest)) => {
            let (key, secret) = user.split_once(':').ok_or("user info must be KEY:SECRET")?;
            (Some((percent_decode(key)?, percent_decode(secret)?)), rest)
        }
    };
    let (host, bucket) = rest.split_once('/').unwrap_or((rest, ""));
    let bucket = bucket.strip_suffix('/').unwrap_or(bucket);
    check_authority(host)?;
    if bucket.contains('/') {
        return Err("an endpoint URL may name a bucket, not a prefix".into());
    }
    let bucket = if bucket.is_empty() { name } else { bucket };
    bucket_name::check(bucket).map_err(|rule| format!("the endpoint URL's bucket is not a bucket name: {rule}"))?;
    Ok(Location::Endpoint { url: format!("{scheme}{host}"), bucket: bucket.to_string(), credentials })
}

/// An endpoint URL from the environment (`AWS_ENDPOINT`, …): `http(s)://host[:port][/path]`, with
/// the same host and port rules as a mapping's; the error never repeats the URL.
pub fn check_endpoint_url(url: &str) -> Result<(), String> {
    let rest = url.strip_prefix("http://").or_else(|| url.strip_prefix("https://"));
    let rest = rest.ok_or("it does not start with http:// or https://")?;
    if rest.contains(['?', '#', '@']) {
        return Err("it has user info, a query or a fragment".into());
    }
    check_authority(rest.split_once('/').map_or(rest, |(authority, _)| authority))
}

/// `host[:port]`: a DNS name or IPv4 address, or an IPv6 address in brackets; a port from 1 to
/// 65535. Stricter than URL parsers, which is what keeps object_store's from panicking later.
fn check_authority(authority: &str) -> Result<(), String> {
    let (host, port) = if let Some(inner) = authority.strip_prefix('[') {
        let (ip, after) = inner.split_once(']').ok_or("the endpoint URL's IPv6 host lacks its closing ']'")?;
        ip.parse::<Ipv6Addr>().map_err(|_| "the endpoint URL's IPv6 host is not an IPv6 address")?;
        match after {
            "" => (ip, None),
            _ => (ip, Some(after.strip_prefix(':').ok_or("the endpoint URL has text after its IPv6 host")?)),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err("the endpoint URL has no host".into());
    }
    if !authority.starts_with('[') && !host.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b)) {
        return Err("the endpoint URL's host has characters a host name cannot have".into());
    }
    if let Some(port) = port {
        let valid = port.bytes().all(|b| b.is_ascii_digit()) && port.parse::<u16>().is_ok_and(|p| p > 0);
        if !valid {
            return Err("the endpoint URL's port is not a number from 1 to 65535".into());
        }
    }
    Ok(())
}

fn percent_decode(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok());
            out.push(hex.ok_or("invalid percent-encoding in user info")?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "user info is not UTF-8".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(value: &str) -> Result<Location, String> {
        Location::parse("bkt", value, None)
    }

    #[test]
    fn malformed_endpoints_are_refused_at_parse() {
        // H6: each of these panicked inside object_store at the first request.
        for bad in [
            "http://AK:SECRETV@127.0.0.1:99999/bkt",
            "http://AK:SECRETV@127.0.0.1:70000/bkt",
            "http://AK:SECRETV@:1/bkt",
            "http://AK:SECRETV@[::1/bkt",
            "http://AK:SECRETV@127.0.0.1:0/bkt",
            "http://AK:SECRETV@127.0.0.1:/bkt",
            "http://AK:SECRETV@127.0.0.1:1x/bkt",
            "http://AK:SECRETV@[::1]x/bkt",
            "http://AK:SECRETV@[zz::1]:1/bkt",
            "http://AK:SECRETV@ho st:1/bkt",
            "http://AK:SECRETV@host:1/bkt?x=1",
            "http://AK:SECRETV@host:1/bkt#frag",
            "http://AK:SECRETV@host:1/a/b",
            "http://AK:SECRETV@host:1/Bad_Bucket",
        ] {
            let reason = parse(bad).expect_err(bad);
            assert!(!reason.contains("SECRETV"), "{bad}: {reason}");
        }
        let ok = parse("http://AK:S@[::1]:9000/bkt").unwrap();
        assert_eq!(
            ok,
            Location::Endpoint {
                url: "http://[::1]:9000".into(),
                bucket: "bkt".into(),
                credentials: Some(("AK".into(), "S".into()))
            }
        );
        assert!(parse("https://s3.example.com").is_ok());
    }

    #[test]
    fn unknown_schemes_are_refused_not_taken_as_directories() {
        for bad in ["htp://AKID:SUPERSECRET@127.0.0.1:1/bkt", "file:///tmp/x", "S3://bkt", "ftp://h/b"] {
            let reason = parse(bad).expect_err(bad);
            assert!(!reason.contains("SUPERSECRET") && reason.contains("not a storage scheme"), "{bad}: {reason}");
        }
        assert_eq!(parse("data/in").unwrap(), Location::Directory("data/in".into()));
        assert_eq!(parse("./x://y").unwrap(), Location::Directory("./x://y".into()));
    }

    #[test]
    fn names_follow_s3_rules() {
        assert!(Location::parse("b", "dir", None).unwrap_err().contains("3 to 63"));
        assert!(Location::parse("Data", "dir", None).is_err());
        assert!(parse("s3://Not_Valid").is_err());
    }

    #[test]
    fn redaction_hides_user_info() {
        assert_eq!(redact("b=http://AK:SE/CR@ET@host:1/a/b"), "b=http://***@host:1/a/b");
        assert_eq!(redact("b=htp://K:S@h"), "b=htp://***@h");
        assert_eq!(redact("b=./dir"), "b=./dir");
        assert_eq!(redact("b=http://host:1"), "b=http://host:1");
    }
}
