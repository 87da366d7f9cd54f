//! Verification of requests signed by botocore, an implementation of SigV4 independent of
//! dmap's: `botocore_sign.py` signs them at test time with the pinned botocore of
//! `scripts/install-moto`, and each test checks one way a request can be right or wrong. The
//! expected codes and messages are AWS's (see `error.rs` for where each comes from).

use std::collections::HashMap;
use std::process::Command;
use std::sync::OnceLock;

use chrono::{DateTime, Duration, NaiveDateTime, Utc};

use super::{AccessKeys, AuthError, Verifier};

/// The key and secret `botocore_sign.py` signs with.
const KEY: &str = "AKIDEXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

const MISMATCH: &str = "The request signature we calculated does not match the signature you provided. Check your \
                        AWS Secret Access Key and signing method. Consult the service documentation for details.";
const INVALID_TOKEN: &str = "The security token included in the request is invalid.";

#[derive(Clone, Debug)]
struct Request {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    /// The instant botocore signed at.
    fn signed_at(&self) -> DateTime<Utc> {
        let date = self.header("x-amz-date").expect("botocore sets X-Amz-Date");
        NaiveDateTime::parse_from_str(date, "%Y%m%dT%H%M%SZ").unwrap().and_utc()
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn with(mut self, name: &str, value: &str) -> Request {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    fn without(mut self, name: &str) -> Request {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self
    }
}

/// botocore's signed requests by case name, made once per test process.
fn signed(case: &str) -> Request {
    static CASES: OnceLock<HashMap<String, Request>> = OnceLock::new();
    let cases = CASES.get_or_init(|| {
        let out = Command::new(testkit::moto_venv().join("bin/python"))
            .arg("-c")
            .arg(include_str!("botocore_sign.py"))
            .output()
            .expect("python from the moto venv");
        assert!(out.status.success(), "botocore_sign.py failed:\n{}", String::from_utf8_lossy(&out.stderr));
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("botocore_sign.py prints JSON");
        let text = |v: &serde_json::Value| v.as_str().expect("a string").to_owned();
        json.as_object()
            .expect("an object of cases")
            .iter()
            .map(|(name, r)| {
                let headers = r["headers"]
                    .as_array()
                    .expect("header pairs")
                    .iter()
                    .map(|pair| (text(&pair[0]), text(&pair[1])))
                    .collect();
                let request = Request {
                    method: text(&r["method"]),
                    path: text(&r["path"]),
                    headers,
                    body: text(&r["body"]).into_bytes(),
                };
                (name.clone(), request)
            })
            .collect()
    });
    cases.get(case).unwrap_or_else(|| panic!("botocore_sign.py has no case {case}")).clone()
}

/// Verifies `r` as a server in us-east-1 with botocore's key would, its clock reading `now`.
fn verify_at(r: &Request, now: DateTime<Utc>) -> Result<(), AuthError> {
    let keys = AccessKeys::new([(KEY, SECRET), ("AKIDOTHER", "other secret")]).unwrap();
    let headers = r.headers.iter().map(|(n, v)| (n.as_str(), v.as_bytes()));
    Verifier::new(keys, "us-east-1").verify_at(&r.method, &r.path, headers, &r.body, now)
}

/// Verifies `r` a second after botocore signed it.
fn verify(r: &Request) -> Result<(), AuthError> {
    verify_at(r, r.signed_at() + Duration::seconds(1))
}

/// The code, status and message of a refusal.
fn refusal(result: Result<(), AuthError>) -> (&'static str, u16, String) {
    let err = result.expect_err("the request should be refused");
    (err.code(), err.status(), err.message())
}

fn basic(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

#[test]
fn requests_signed_by_botocore_verify() {
    for case in ["valid", "empty_body", "encoded_path_and_query", "content_sha256"] {
        assert_eq!(verify(&signed(case)), Ok(()), "{case}");
    }
}

#[test]
fn a_wrong_secret_is_an_invalid_signature() {
    assert_eq!(refusal(verify(&signed("wrong_secret"))), ("InvalidSignatureException", 400, MISMATCH.into()));
}

#[test]
fn an_unknown_key_is_an_unrecognized_client() {
    assert_eq!(refusal(verify(&signed("unknown_key"))), ("UnrecognizedClientException", 400, INVALID_TOKEN.into()));
}

#[test]
fn a_session_token_is_not_one_of_dmaps_keys() {
    assert_eq!(refusal(verify(&signed("session_token"))), ("UnrecognizedClientException", 400, INVALID_TOKEN.into()));
}

#[test]
fn a_tampered_body_breaks_the_signature() {
    let mut r = signed("valid");
    r.body = br#"{"maxResults":1000}"#.to_vec();
    assert_eq!(refusal(verify(&r)), ("InvalidSignatureException", 400, MISMATCH.into()));
    // A body that no longer matches the hash the client claimed is refused for that.
    let mut r = signed("content_sha256");
    r.body.push(b' ');
    assert_eq!(
        refusal(verify(&r)),
        (
            "InvalidSignatureException",
            400,
            "The provided 'x-amz-content-sha256' header does not match what was computed.".into()
        )
    );
}

#[test]
fn a_tampered_signed_header_breaks_the_signature() {
    let r = signed("valid").with("X-Amz-Target", "AWSStepFunctions.DeleteStateMachine");
    assert_eq!(refusal(verify(&r)), ("InvalidSignatureException", 400, MISMATCH.into()));
    let r = signed("valid").with("host", "dmap.example.com:8083");
    assert_eq!(refusal(verify(&r)), ("InvalidSignatureException", 400, MISMATCH.into()));
}

#[test]
fn unsigned_headers_may_be_added_and_names_may_be_in_any_case() {
    let r = signed("valid")
        .with("User-Agent", "Boto3/1.44.18")
        .with("X-Forwarded-For", "10.0.0.1")
        .with("Content-Length", "39");
    assert_eq!(verify(&r), Ok(()));
    let mut lower = signed("valid");
    lower.headers.iter_mut().for_each(|(n, _)| *n = n.to_ascii_lowercase());
    assert_eq!(verify(&lower), Ok(()));
}

#[test]
fn a_date_more_than_five_minutes_off_is_refused_either_way() {
    let r = signed("valid");
    let at = r.signed_at();
    assert_eq!(verify_at(&r, at + Duration::minutes(5)), Ok(()));
    assert_eq!(verify_at(&r, at - Duration::minutes(5)), Ok(()));
    let now = at + Duration::minutes(5) + Duration::seconds(1);
    let expired = format!(
        "Signature expired: {} is now earlier than {} ({} - 5 min.)",
        basic(at),
        basic(now - Duration::minutes(5)),
        basic(now)
    );
    assert_eq!(refusal(verify_at(&r, now)), ("InvalidSignatureException", 400, expired));
    let now = at - Duration::minutes(6);
    let early = format!(
        "Signature not yet current: {} is still later than {} ({} + 5 min.)",
        basic(at),
        basic(now + Duration::minutes(5)),
        basic(now)
    );
    assert_eq!(refusal(verify_at(&r, now)), ("InvalidSignatureException", 400, early));
}

#[test]
fn a_date_of_another_day_than_the_credential_scope_is_refused() {
    let r = signed("valid");
    let next_day = r.signed_at() + Duration::days(1);
    let r = r.with("X-Amz-Date", &basic(next_day));
    let scope = basic(next_day - Duration::days(1))[..8].to_owned();
    let expected = format!(
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{scope}' != \
         '{}', from '{}'.",
        &basic(next_day)[..8],
        basic(next_day)
    );
    assert_eq!(refusal(verify_at(&r, next_day)), ("InvalidSignatureException", 400, expected));
}

#[test]
fn a_request_without_authorization_is_missing_its_token() {
    let r = signed("valid").without("authorization");
    assert_eq!(
        refusal(verify(&r)),
        ("MissingAuthenticationTokenException", 400, "Request is missing Authentication Token".into())
    );
    // A presigned query string is not read: the refusal says so rather than "missing".
    let mut r = r;
    r.path = "/?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20261207&X-Amz-Signature=ab".into();
    assert_eq!(refusal(verify(&r)).0, "IncompleteSignatureException");
}

#[test]
fn a_missing_signed_header_or_date_is_an_incomplete_signature() {
    let r = signed("valid").without("x-amz-target");
    assert_eq!(
        refusal(verify(&r)),
        (
            "IncompleteSignatureException",
            400,
            "'x-amz-target' is named as a SignedHeader, but it does not exist in the HTTP request.".into()
        )
    );
    let r = signed("valid");
    let (auth, at) = (r.header("authorization").unwrap().to_owned(), r.signed_at());
    let r = r.without("x-amz-date");
    assert_eq!(
        refusal(verify_at(&r, at)),
        (
            "IncompleteSignatureException",
            400,
            format!(
                "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. \
                 Authorization={auth}"
            )
        )
    );
}

#[test]
fn host_must_be_signed() {
    let r = signed("valid");
    let auth = r.header("authorization").unwrap().replace("content-type;host;", "content-type;");
    let r = r.with("Authorization", &auth);
    assert_eq!(
        refusal(verify(&r)),
        ("IncompleteSignatureException", 400, "'Host' must be a 'SignedHeader' in the AWS Authorization.".into())
    );
}

#[test]
fn a_credential_for_another_service_or_region_is_refused() {
    assert_eq!(
        refusal(verify(&signed("wrong_service"))),
        ("InvalidSignatureException", 400, "Credential should be scoped to correct service: 'states'. ".into())
    );
    assert_eq!(
        refusal(verify(&signed("wrong_region"))),
        ("InvalidSignatureException", 400, "Credential should be scoped to a valid region, not 'eu-west-1'. ".into())
    );
}

#[test]
fn two_authorization_headers_are_refused() {
    let r = signed("valid");
    let auth = r.header("authorization").unwrap().to_owned();
    let mut r = r;
    r.headers.push(("authorization".into(), auth));
    assert_eq!(refusal(verify(&r)).0, "IncompleteSignatureException");
}

#[test]
fn the_headers_alone_refuse_what_they_can() {
    let keys = AccessKeys::new([(KEY, SECRET)]).unwrap();
    let verifier = Verifier::new(keys, "us-east-1");
    let check = |r: &Request| {
        let headers = r.headers.iter().map(|(n, v)| (n.as_str(), v.as_bytes()));
        verifier.verify_headers(&r.path, headers, r.signed_at())
    };
    assert_eq!(check(&signed("valid")), Ok(()));
    // A wrong secret needs the body to be found out; an unknown key does not.
    assert_eq!(check(&signed("wrong_secret")), Ok(()));
    assert_eq!(check(&signed("unknown_key")).unwrap_err().code(), "UnrecognizedClientException");
}

#[test]
fn debug_output_shows_key_ids_but_no_secret_or_derived_key() {
    let keys = AccessKeys::new([(KEY, SECRET)]).unwrap();
    let policy = super::Policy::decide("0.0.0.0:8083".parse().unwrap(), Some(keys), false, "us-east-1").unwrap();
    let r = signed("valid");
    let headers = r.headers.iter().map(|(n, v)| (n.as_str(), v.as_bytes()));
    // A verification fills the signer's cache of derived keys.
    assert_eq!(policy.check(&r.method, &r.path, headers, &r.body), Ok(()));
    let shown = format!("{policy:?}");
    assert!(shown.contains(KEY), "{shown}");
    assert!(!shown.contains(SECRET) && !shown.contains("signer") && !shown.contains("keys: Mutex"), "{shown}");
}

#[test]
fn an_empty_or_truncated_signature_does_not_match() {
    let r = signed("valid");
    let auth = r.header("authorization").unwrap().to_owned();
    let (head, signature) = auth.rsplit_once("Signature=").unwrap();
    for forged in [String::new(), signature[..32].to_owned(), signature.to_ascii_uppercase()] {
        let r = r.clone().with("Authorization", &format!("{head}Signature={forged}"));
        assert_eq!(refusal(verify(&r)), ("InvalidSignatureException", 400, MISMATCH.into()), "{forged}");
    }
}
