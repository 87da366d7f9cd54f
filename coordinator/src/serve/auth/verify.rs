//! SigV4 verification of one request: its `Authorization` header, scope, date, signed headers,
//! payload hash and signature, against the configured access keys.
//!
//! The signature is recomputed by the worker's signer (`worker::integrations::aws::sign`, the
//! one SigV4 implementation in dmap, checked against AWS's documented example and `aws-sigv4`):
//! it is given the request's signed headers, its body and its `X-Amz-Date` as the signing
//! instant, and must come to the signature the client sent. The two are compared in constant
//! time.
//!
//! Rules, as AWS applies them: the credential must be scoped to `states`, to the server's
//! region and to the day of `X-Amz-Date`; `X-Amz-Date` must be within 5 minutes of the server's
//! clock (AWS: "a request must reach AWS within five minutes of the time stamp in the request");
//! `host` must be signed, so a signature made for another server is worthless here; headers that
//! are not signed may be added or changed by proxies and are ignored. dmap's keys are long-term
//! keys, so a request with a session token is refused as AWS refuses an unknown token.
//!
//! Owns: the decision for one request. Must not: read bodies, choose whether to verify
//! ([`super::Policy`]), or write responses.

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use worker::integrations::aws::credentials::Credentials;
use worker::integrations::aws::sign::{Scope, Signer};

use super::error::AuthError;
use super::header::{self, Authorization};
use super::keys::AccessKeys;

/// The signing name of Step Functions (botocore's `signingName`).
pub const SERVICE: &str = "states";

/// How far `X-Amz-Date` may be from the server's clock, either way.
const SKEW: Duration = Duration::minutes(5);

/// Verifies requests against a set of access keys for one region.
pub struct Verifier {
    keys: AccessKeys,
    region: String,
    /// Caches the derived signing key per key, day, region and service.
    signer: Signer,
}

impl std::fmt::Debug for Verifier {
    /// Without the signer: its cache holds derived signing keys, which must not reach logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier").field("keys", &self.keys).field("region", &self.region).finish()
    }
}

/// What the headers alone established: everything but the payload and the signature.
struct Head<'a> {
    auth: Authorization<'a>,
    amz_date: DateTime<Utc>,
    secret: &'a str,
}

impl Verifier {
    /// A verifier of requests signed for `region` with one of `keys`.
    pub fn new(keys: AccessKeys, region: &str) -> Verifier {
        Verifier { keys, region: region.to_owned(), signer: Signer::default() }
    }

    /// The region credentials must be scoped to.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// Verifies a request as it arrived: `method` as sent (`POST`), `path_and_query` as in the
    /// request line (still percent-encoded), every header (names in any case, values as bytes),
    /// and the whole body.
    pub fn verify<'h>(
        &self,
        method: &str,
        path_and_query: &str,
        headers: impl IntoIterator<Item = (&'h str, &'h [u8])>,
        body: &[u8],
    ) -> Result<(), AuthError> {
        self.verify_at(method, path_and_query, headers, body, Utc::now())
    }

    /// [`Verifier::verify`] with the server's clock reading `now`.
    pub fn verify_at<'h>(
        &self,
        method: &str,
        path_and_query: &str,
        headers: impl IntoIterator<Item = (&'h str, &'h [u8])>,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<(), AuthError> {
        let headers: Vec<(&str, &[u8])> = headers.into_iter().collect();
        let head = self.head(path_and_query, &headers, now)?;
        // The signer hashes the body for the canonical request in any case; this check only
        // names the mismatch when the client stated the hash.
        if let Some(claimed) = values(&headers, "x-amz-content-sha256").next()
            && claimed.trim_ascii() != hex::encode(Sha256::digest(body)).as_bytes()
        {
            return Err(AuthError::ContentSha256Mismatch);
        }
        // The signer adds `x-amz-date` itself (from the instant it is given, which prints back
        // to the same text because the header was parsed strictly); every other signed header
        // goes in with its values joined as SigV4's canonical form joins repeated headers.
        let mut canonical: Vec<(String, String)> = head
            .auth
            .signed_headers
            .iter()
            .filter(|name| !name.eq_ignore_ascii_case("x-amz-date"))
            .map(|name| {
                let joined = values(&headers, name)
                    .map(|v| String::from_utf8_lossy(v.trim_ascii()).into_owned())
                    .collect::<Vec<_>>()
                    .join(",");
                (name.to_ascii_lowercase(), joined)
            })
            .collect();
        let credentials = Credentials {
            access_key_id: head.auth.access_key_id.to_owned(),
            secret_access_key: head.secret.to_owned(),
            session_token: None,
            expires: None,
        };
        let scope = Scope { credentials: &credentials, region: &self.region, service: SERVICE, now: head.amz_date };
        self.signer.sign(method, path_and_query, &mut canonical, body, scope);
        // The signer appends the Authorization header last.
        let expected =
            canonical.last().and_then(|(_, v)| v.rsplit_once("Signature=")).map(|(_, s)| s).unwrap_or_default();
        let provided = head.auth.signature.as_bytes();
        // Lengths are public (64 hex digits); the digits are compared without an early exit.
        // An empty expectation would equal an empty `Signature=`: never accept that.
        if expected.is_empty() || provided.len() != expected.len() || !bool::from(provided.ct_eq(expected.as_bytes())) {
            return Err(AuthError::SignatureMismatch);
        }
        Ok(())
    }

    /// The checks that need no body: an HTTP layer can refuse unsigned, unknown, expired or
    /// wrongly scoped requests before it reads a byte of the body. [`Verifier::verify`] runs
    /// them again.
    pub fn verify_headers<'h>(
        &self,
        path_and_query: &str,
        headers: impl IntoIterator<Item = (&'h str, &'h [u8])>,
        now: DateTime<Utc>,
    ) -> Result<(), AuthError> {
        let headers: Vec<(&str, &[u8])> = headers.into_iter().collect();
        self.head(path_and_query, &headers, now).map(drop)
    }

    fn head<'a>(
        &'a self,
        path_and_query: &str,
        headers: &[(&str, &'a [u8])],
        now: DateTime<Utc>,
    ) -> Result<Head<'a>, AuthError> {
        let mut authorizations = values(headers, "authorization");
        let Some(value) = authorizations.next() else {
            return Err(if presigned(path_and_query) { AuthError::PresignedQuery } else { AuthError::MissingToken });
        };
        let extra = authorizations.count();
        if extra > 0 {
            return Err(AuthError::RepeatedHeader(extra + 1));
        }
        let value = std::str::from_utf8(value).map_err(|_| AuthError::IncompleteHeader {
            missing: Vec::new(),
            header: String::from_utf8_lossy(value).into_owned(),
        })?;
        let amz_date = values(headers, "x-amz-date").next();
        let auth = header::parse(value, amz_date.is_some())?;
        let amz_date = String::from_utf8_lossy(amz_date.unwrap_or_default()).into_owned();
        let signed_at = parse_basic(&amz_date).ok_or_else(|| AuthError::DateFormat(amz_date.clone()))?;
        let secret = self.keys.secret(auth.access_key_id).ok_or(AuthError::UnknownKey)?;
        if auth.terminator != "aws4_request" {
            return Err(AuthError::WrongTerminator(auth.terminator.to_owned()));
        }
        if auth.service != SERVICE {
            return Err(AuthError::WrongService(auth.service.to_owned()));
        }
        if auth.region != self.region {
            return Err(AuthError::WrongRegion(auth.region.to_owned()));
        }
        if auth.date != &amz_date[..8] {
            let date = amz_date[..8].to_owned();
            return Err(AuthError::ScopeDate { scope: auth.date.to_owned(), date, amz_date });
        }
        if signed_at < now - SKEW {
            return Err(AuthError::Expired { signed: signed_at, limit: now - SKEW, now });
        }
        if signed_at > now + SKEW {
            return Err(AuthError::NotYetCurrent { signed: signed_at, limit: now + SKEW, now });
        }
        if !auth.signed_headers.iter().any(|h| h.eq_ignore_ascii_case("host")) {
            return Err(AuthError::HostNotSigned);
        }
        if let Some(absent) = auth.signed_headers.iter().find(|h| values(headers, h).next().is_none()) {
            return Err(AuthError::SignedHeaderAbsent((*absent).to_owned()));
        }
        if values(headers, "x-amz-security-token").next().is_some() {
            return Err(AuthError::SessionToken);
        }
        Ok(Head { auth, amz_date: signed_at, secret })
    }
}

/// The values of the headers named `name`, in arrival order.
fn values<'a, 'n>(headers: &'n [(&str, &'a [u8])], name: &'n str) -> impl Iterator<Item = &'a [u8]> + 'n {
    headers.iter().filter(move |(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| *v)
}

/// Whether the query string carries SigV4's query parameters (a presigned request).
fn presigned(path_and_query: &str) -> bool {
    let query = path_and_query.split_once('?').map_or("", |(_, q)| q);
    query.split('&').any(|pair| {
        let key = pair.split_once('=').map_or(pair, |(k, _)| k);
        key.eq_ignore_ascii_case("X-Amz-Signature") || key.eq_ignore_ascii_case("X-Amz-Credential")
    })
}

/// `YYYYMMDDTHHMMSSZ` exactly (SigV4's "basic format"), nothing looser.
fn parse_basic(text: &str) -> Option<DateTime<Utc>> {
    let digits = |r: std::ops::Range<usize>| text.get(r).is_some_and(|s| s.bytes().all(|b| b.is_ascii_digit()));
    let shaped = text.len() == 16 && digits(0..8) && &text[8..9] == "T" && digits(9..15) && &text[15..] == "Z";
    if !shaped {
        return None;
    }
    NaiveDateTime::parse_from_str(&text[..15], "%Y%m%dT%H%M%S").ok().map(|t| t.and_utc())
}
