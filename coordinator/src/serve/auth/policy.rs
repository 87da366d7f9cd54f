//! Whether `dmap serve` verifies signatures, decided once at start from where it listens, the
//! configured access keys and `--open`:
//!
//! | listen on | access keys | `--open` | policy |
//! | --- | --- | --- | --- |
//! | loopback | none | no | no verification (only this machine can connect) |
//! | any | some | no | every request verified |
//! | other | none | no | refuse to start, naming `--open` and `[[serve.access_keys]]` |
//! | other | none | yes | no verification, with a warning in the log |
//! | any | some | yes | refuse to start: the two say opposite things |
//!
//! Owns: that decision and the startup refusal texts. Must not: verify requests itself.

use std::fmt;
use std::net::{IpAddr, SocketAddr};

use super::error::AuthError;
use super::keys::AccessKeys;
use super::verify::Verifier;

/// How requests are authenticated, for the life of the server.
#[derive(Debug)]
pub enum Policy {
    /// Listening on loopback without keys: only local processes can connect.
    Loopback,
    /// `--open`: anyone who can reach the address may call the API.
    Open,
    /// Every request must carry a valid SigV4 signature by one of the keys.
    Verify(Verifier),
}

/// Why `dmap serve` will not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(
        "dmap serve: refusing to serve the API on {listen} without authentication. Add access keys to the file \
         given to --config ([[serve.access_keys]] with access_key_id and secret_access_key or \
         secret_access_key_env) so that every request must be signed with SigV4, listen on 127.0.0.1, or pass \
         --open to let anyone who can reach {listen} use the API"
    )]
    Unauthenticated { listen: SocketAddr },
    #[error(
        "dmap serve: --open serves the API without authentication, but the config file names access keys for \
         it; remove --open to verify requests, or the keys to serve the API openly"
    )]
    OpenWithKeys,
}

impl Policy {
    /// The policy for a server listening on `listen` in `region`. An open non-loopback server
    /// is logged as a warning here, so no caller can forget it.
    pub fn decide(
        listen: SocketAddr,
        keys: Option<AccessKeys>,
        open: bool,
        region: &str,
    ) -> Result<Policy, StartError> {
        let keys = keys.filter(|k| !k.is_empty());
        match (keys, open) {
            (Some(_), true) => Err(StartError::OpenWithKeys),
            (Some(keys), false) => Ok(Policy::Verify(Verifier::new(keys, region))),
            (None, false) if is_loopback(listen.ip()) => Ok(Policy::Loopback),
            (None, false) => Err(StartError::Unauthenticated { listen }),
            (None, true) => {
                if !is_loopback(listen.ip()) {
                    tracing::warn!(
                        %listen,
                        "--open: the Step Functions API on {listen} accepts requests from anyone who can reach it, \
                         without authentication; they can start executions that call your Tasks"
                    );
                }
                Ok(Policy::Open)
            }
        }
    }

    /// Checks a request under this policy (see [`Verifier::verify`]); without verification
    /// every request passes.
    pub fn check<'h>(
        &self,
        method: &str,
        path_and_query: &str,
        headers: impl IntoIterator<Item = (&'h str, &'h [u8])>,
        body: &[u8],
    ) -> Result<(), AuthError> {
        match self {
            Policy::Loopback | Policy::Open => Ok(()),
            Policy::Verify(verifier) => verifier.verify(method, path_and_query, headers, body),
        }
    }

    /// The checks that need no body (see [`Verifier::verify_headers`]), to refuse a request
    /// before reading it.
    pub fn check_headers<'h>(
        &self,
        path_and_query: &str,
        headers: impl IntoIterator<Item = (&'h str, &'h [u8])>,
    ) -> Result<(), AuthError> {
        match self {
            Policy::Loopback | Policy::Open => Ok(()),
            Policy::Verify(verifier) => verifier.verify_headers(path_and_query, headers, chrono::Utc::now()),
        }
    }

    /// Whether requests are verified.
    pub fn verifies(&self) -> bool {
        matches!(self, Policy::Verify(_))
    }
}

impl fmt::Display for Policy {
    /// One phrase for the startup log line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Policy::Loopback => f.write_str("loopback only, requests not authenticated"),
            Policy::Open => f.write_str("open (--open), requests not authenticated"),
            Policy::Verify(v) => write!(f, "SigV4 verified for region {}", v.region()),
        }
    }
}

/// 127.0.0.0/8 and ::1, also as an IPv4-mapped IPv6 address (`::ffff:127.0.0.1`).
fn is_loopback(ip: IpAddr) -> bool {
    ip.to_canonical().is_loopback()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> Option<AccessKeys> {
        Some(AccessKeys::new([("AKIDEXAMPLE", "secret")]).unwrap())
    }

    fn decide(listen: &str, keys: Option<AccessKeys>, open: bool) -> Result<Policy, StartError> {
        Policy::decide(listen.parse().unwrap(), keys, open, "us-east-1")
    }

    #[test]
    fn loopback_without_keys_is_not_verified_on_any_loopback_form() {
        for listen in ["127.0.0.1:8083", "127.1.2.3:8083", "[::1]:8083", "[::ffff:127.0.0.1]:8083"] {
            assert!(matches!(decide(listen, None, false), Ok(Policy::Loopback)), "{listen}");
        }
    }

    #[test]
    fn keys_mean_verification_wherever_the_server_listens() {
        for listen in ["127.0.0.1:8083", "0.0.0.0:8083", "[::]:8083", "10.0.0.5:8083"] {
            let policy = decide(listen, keys(), false).unwrap();
            assert!(policy.verifies(), "{listen}");
        }
    }

    #[test]
    fn another_address_without_keys_needs_open_and_the_refusal_names_both_ways_out() {
        for listen in ["0.0.0.0:8083", "[::]:8083", "192.168.1.2:8083", "[::ffff:10.0.0.1]:8083"] {
            let err = decide(listen, None, false).unwrap_err();
            assert!(matches!(err, StartError::Unauthenticated { .. }), "{listen}");
            let text = err.to_string();
            assert!(text.contains("--open") && text.contains("[[serve.access_keys]]") && text.contains("--config"));
            assert!(matches!(decide(listen, None, true), Ok(Policy::Open)), "{listen}");
        }
        // An empty key set is no key set.
        let none = Some(AccessKeys::new(Vec::<(String, String)>::new()).unwrap());
        assert!(matches!(decide("0.0.0.0:8083", none, false), Err(StartError::Unauthenticated { .. })));
    }

    #[test]
    fn open_with_keys_is_a_contradiction_refused_at_start() {
        assert!(matches!(decide("0.0.0.0:8083", keys(), true), Err(StartError::OpenWithKeys)));
        assert!(matches!(decide("127.0.0.1:8083", keys(), true), Err(StartError::OpenWithKeys)));
    }

    #[test]
    fn unverified_policies_let_unsigned_requests_through_and_verify_refuses_them() {
        let headers = [("host", b"127.0.0.1:8083".as_slice())];
        for policy in [Policy::Loopback, Policy::Open] {
            assert_eq!(policy.check("POST", "/", headers, b"{}"), Ok(()));
            assert_eq!(policy.check_headers("/", headers), Ok(()));
        }
        let policy = decide("0.0.0.0:8083", keys(), false).unwrap();
        let err = policy.check("POST", "/", headers, b"{}").unwrap_err();
        assert_eq!((err.code(), err.status()), ("MissingAuthenticationTokenException", 400));
        assert_eq!(policy.check_headers("/", headers).unwrap_err().code(), "MissingAuthenticationTokenException");
    }
}
