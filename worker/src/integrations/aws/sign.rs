//! AWS Signature Version 4 for a request before it is sent: the canonical request, the string
//! to sign, and the `Authorization`, `X-Amz-Date` (and `X-Amz-Security-Token`,
//! `X-Amz-Content-Sha256` for S3) headers.
//!
//! Written here over `hmac` + `sha2` rather than with `aws-sigv4`: measured on this machine, one
//! DynamoDB PutItem signature costs ~7 µs with `aws-sigv4` 1.6.6 and ~1.3 µs here (the derived
//! key cached per access key, date, region and service), and the budget is 30 µs per call.
//! Checked against AWS's documented example and signatures made by `aws-sigv4`.
//!
//! Owns: signing. Must not: choose credentials, regions or endpoints.

use std::borrow::Cow;
use std::sync::Mutex;

use chrono::{DateTime, Datelike, Timelike, Utc};
use hmac::{Hmac, KeyInit, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use sha2::{Digest, Sha256};

use super::credentials::Credentials;

/// What a path segment keeps when encoded a second time (every service but S3).
const PATH: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~').remove(b'/');

/// Who signs, for which scope, when.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    pub credentials: &'a Credentials,
    pub region: &'a str,
    /// The model's `signingName` (`dynamodb`, `s3`, `execute-api`).
    pub service: &'a str,
    pub now: DateTime<Utc>,
}

/// Signs requests, keeping the derived signing key of the current day.
#[derive(Debug, Default)]
pub struct Signer {
    /// The derived key of each scope, kept as an HMAC already keyed with it: its inner and
    /// outer key blocks are hashed once, not on every request (2 of a PutItem's ~12 SHA-256
    /// blocks).
    keys: Mutex<Vec<(KeyId, Hmac<Sha256>)>>,
}

/// What a derived signing key is for.
#[derive(Debug)]
struct KeyId {
    access_key_id: String,
    date: String,
    region: String,
    service: String,
}

impl Signer {
    /// Adds the signature headers to `headers` (lower-case names; `host` must be among them).
    ///
    /// The canonical request and the string to sign are fed to SHA-256 and HMAC piece by piece
    /// rather than built as strings: this runs on every call.
    pub fn sign(
        &self,
        method: &str,
        path_and_query: &str,
        headers: &mut Vec<(String, String)>,
        body: &[u8],
        scope: Scope<'_>,
    ) {
        let (credentials, now) = (scope.credentials, scope.now);
        let amz_date = amz_date(now);
        let amz_date = std::str::from_utf8(&amz_date).unwrap_or_default();
        let date = &amz_date[..8];
        let payload_hash = hex(&Sha256::digest(body));
        let payload_hash = std::str::from_utf8(&payload_hash).unwrap_or_default();
        let s3 = scope.service.starts_with("s3");
        headers.push(("x-amz-date".into(), amz_date.to_owned()));
        if let Some(token) = &credentials.session_token {
            headers.push(("x-amz-security-token".into(), token.clone()));
        }
        if s3 {
            headers.push(("x-amz-content-sha256".into(), payload_hash.to_owned()));
        }
        let (path, query) = path_and_query.split_once('?').unwrap_or((path_and_query, ""));
        let mut creq = Sha256::new();
        creq.update(method);
        creq.update("\n");
        if s3 {
            creq.update(path);
        } else {
            for piece in utf8_percent_encode(path, PATH) {
                creq.update(piece);
            }
        }
        creq.update("\n");
        let mut pairs: Vec<(&str, &str)> =
            query.split('&').filter(|p| !p.is_empty()).map(|p| p.split_once('=').unwrap_or((p, ""))).collect();
        pairs.sort_unstable();
        for (i, (k, v)) in pairs.iter().enumerate() {
            if i > 0 {
                creq.update("&");
            }
            creq.update(k);
            creq.update("=");
            creq.update(v);
        }
        creq.update("\n");
        let mut canonical: Vec<(&str, Cow<'_, str>)> = headers.iter().map(|(n, v)| (n.as_str(), trimmed(v))).collect();
        canonical.sort_unstable_by(|a, b| a.0.cmp(b.0));
        let mut signed = String::with_capacity(64);
        for (name, value) in &canonical {
            creq.update(name);
            creq.update(":");
            creq.update(value.as_bytes());
            creq.update("\n");
            if !signed.is_empty() {
                signed.push(';');
            }
            signed.push_str(name);
        }
        creq.update("\n");
        creq.update(&signed);
        creq.update("\n");
        creq.update(payload_hash);
        let creq_hash = hex(&creq.finalize());
        let mut mac = self.keyed(credentials, date, scope);
        for piece in ["AWS4-HMAC-SHA256\n", amz_date, "\n", date, "/", scope.region, "/", scope.service] {
            mac.update(piece.as_bytes());
        }
        mac.update(b"/aws4_request\n");
        mac.update(&creq_hash);
        let signature = hex(&mac.finalize().into_bytes());
        let mut authorization = String::with_capacity(256);
        for piece in [
            "AWS4-HMAC-SHA256 Credential=",
            &credentials.access_key_id,
            "/",
            date,
            "/",
            scope.region,
            "/",
            scope.service,
            "/aws4_request, SignedHeaders=",
            &signed,
            ", Signature=",
            std::str::from_utf8(&signature).unwrap_or_default(),
        ] {
            authorization.push_str(piece);
        }
        headers.push(("authorization".into(), authorization));
    }

    /// An HMAC keyed with the signing key of `scope` on `date`.
    fn keyed(&self, credentials: &Credentials, date: &str, scope: Scope<'_>) -> Hmac<Sha256> {
        let same = |(id, _): &&(KeyId, Hmac<Sha256>)| {
            id.access_key_id == credentials.access_key_id
                && id.date == date
                && id.region == scope.region
                && id.service == scope.service
        };
        let mut keys = self.keys.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, k)) = keys.iter().find(same) {
            return k.clone();
        }
        let k = [date.as_bytes(), scope.region.as_bytes(), scope.service.as_bytes(), b"aws4_request"]
            .iter()
            .fold(None::<[u8; 32]>, |key, part| match key {
                None => Some(hmac(format!("AWS4{}", credentials.secret_access_key).as_bytes(), part)),
                Some(k) => Some(hmac(&k, part)),
            })
            .unwrap_or_default();
        // Keys of other days are stale; a handful of (key, region, service) per day is usual.
        keys.retain(|(id, _)| id.date == date);
        if keys.len() > 64 {
            keys.clear();
        }
        let id = KeyId {
            access_key_id: credentials.access_key_id.clone(),
            date: date.to_owned(),
            region: scope.region.to_owned(),
            service: scope.service.to_owned(),
        };
        let k = <Hmac<Sha256> as KeyInit>::new_from_slice(&k).expect("HMAC takes a key of any length");
        keys.push((id, k.clone()));
        k
    }
}

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// 32 bytes (a SHA-256 digest) as 64 lower-case hex digits.
fn hex(bytes: &[u8]) -> [u8; 64] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = [b'0'; 64];
    for (i, b) in bytes.iter().take(32).enumerate() {
        s[2 * i] = DIGITS[usize::from(b >> 4)];
        s[2 * i + 1] = DIGITS[usize::from(b & 15)];
    }
    s
}

/// `YYYYMMDDTHHMMSSZ`, written without chrono's formatter (it is on every call).
fn amz_date(now: DateTime<Utc>) -> [u8; 16] {
    let mut s = [0u8; 16];
    let year = now.year().clamp(0, 9999) as u32;
    let fields = [year / 100, year % 100, now.month(), now.day(), now.hour(), now.minute(), now.second()];
    let mut at = 0;
    for (i, n) in fields.into_iter().enumerate() {
        if i == 4 {
            s[at] = b'T';
            at += 1;
        }
        s[at] = b'0' + (n / 10 % 10) as u8;
        s[at + 1] = b'0' + (n % 10) as u8;
        at += 2;
    }
    s[15] = b'Z';
    s
}

/// A header value as SigV4 canonicalises it: trimmed, inner runs of spaces as one.
fn trimmed(value: &str) -> Cow<'_, str> {
    let t = value.trim();
    if t.contains("  ") || t.contains(['\t', '\n']) {
        Cow::Owned(t.split_whitespace().collect::<Vec<_>>().join(" "))
    } else {
        Cow::Borrowed(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signed(
        service: &str,
        method: &str,
        pq: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        token: Option<&str>,
    ) -> String {
        let creds = Credentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
            session_token: token.map(str::to_owned),
            expires: None,
        };
        let mut headers = headers.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
        let now = DateTime::parse_from_rfc3339("2015-08-30T12:36:00Z").unwrap().with_timezone(&Utc);
        let scope = Scope { credentials: &creds, region: "us-east-1", service, now };
        Signer::default().sign(method, pq, &mut headers, body, scope);
        headers.into_iter().find(|(n, _)| n == "authorization").unwrap().1
    }

    #[test]
    fn aws_documented_example_signs_to_the_documented_signature() {
        // "Create a signed AWS API request", IAM ListUsers, 2015-08-30T12:36:00Z.
        let auth = signed(
            "iam",
            "GET",
            "/?Action=ListUsers&Version=2010-05-08",
            &[("host", "iam.amazonaws.com"), ("content-type", "application/x-www-form-urlencoded; charset=utf-8")],
            b"",
            None,
        );
        assert_eq!(
            auth,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, \
             SignedHeaders=content-type;host;x-amz-date, \
             Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
        );
    }

    #[test]
    fn session_tokens_and_encoded_paths_sign_as_aws_sigv4_signs_them() {
        // Expected signatures made by aws-sigv4 1.6.6 for the same requests and instant.
        let auth = signed(
            "dynamodb",
            "POST",
            "/",
            &[
                ("host", "127.0.0.1:8000"),
                ("content-type", "application/x-amz-json-1.0"),
                ("x-amz-target", "DynamoDB_20120810.PutItem"),
            ],
            br#"{"TableName":"t"}"#,
            Some("SESSIONTOKEN"),
        );
        assert!(
            auth.contains("SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target,"),
            "{auth}"
        );
        assert!(auth.ends_with("Signature=ed33dc44ee41ca24a2e1d74a1e58c2a20e36e8ebdd010bc570f73f238a87f328"), "{auth}");
        let auth = signed(
            "lambda",
            "GET",
            "/2015-03-31/functions/my%20fn?Qualifier=v1&A=b%2Fc",
            &[("host", "lambda.us-east-1.amazonaws.com")],
            b"",
            None,
        );
        assert!(auth.ends_with("Signature=0105600d1d5427360bb72aacbf8face6ed9b4109f5a6c27d37e7013b71b81783"), "{auth}");
    }
}
