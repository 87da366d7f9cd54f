//! Why a request was refused, as AWS's JSON services answer it: an error code (`__type`), an HTTP
//! status and a message.
//!
//! The codes and texts are those Step Functions and the other AWS JSON 1.0 services on the same
//! front end send: `MissingAuthenticationTokenException`, `IncompleteSignatureException`,
//! `InvalidSignatureException`, `UnrecognizedClientException`, all with HTTP 400 (DynamoDB's
//! error table lists them under 400, and the Step Functions SDK reports "Status Code: 400; Error
//! Code: UnrecognizedClientException"; only REST services behind API Gateway answer 403). Where
//! AWS's text is known it is used word for word, trailing spaces included; the few refusals AWS
//! has no text for (presigned query strings, repeated `Authorization` headers) say what dmap
//! does instead.
//!
//! Owns: the refusal kinds and their wire form. Must not: decide whether a request is refused.

use chrono::{DateTime, Utc};

/// A request that `dmap serve` refuses before it reaches the API.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No `Authorization` header.
    #[error("Request is missing Authentication Token")]
    MissingToken,
    /// The `Authorization` header lacks `Credential`, `Signature` or `SignedHeaders`, or the
    /// request lacks `X-Amz-Date`; the message lists each missing piece, as AWS's does.
    #[error("{}Authorization={header}", missing.iter().map(|m| format!("{m}. ")).collect::<String>())]
    IncompleteHeader { missing: Vec<&'static str>, header: String },
    /// A component of the `Authorization` header that is not `key=value`.
    #[error("'{component}' not a valid key=value pair (missing equal-sign) in Authorization header: '{header}'.")]
    NotKeyValue { component: String, header: String },
    /// The credential is not `keyid/date/region/service/aws4_request`.
    #[error("Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '{0}'")]
    CredentialShape(String),
    /// `X-Amz-Date` is not `YYYYMMDDTHHMMSSZ`.
    #[error("Date must be in ISO-8601 'basic format'. Got '{0}'. See http://en.wikipedia.org/wiki/ISO_8601")]
    DateFormat(String),
    /// `host` is not among the signed headers: the signature would not bind the request to
    /// this server.
    #[error("'Host' must be a 'SignedHeader' in the AWS Authorization.")]
    HostNotSigned,
    /// A signed header is absent from the request.
    #[error("'{0}' is named as a SignedHeader, but it does not exist in the HTTP request.")]
    SignedHeaderAbsent(String),
    /// The signature is in the query string (a presigned request), which dmap does not read.
    #[error(
        "dmap serve reads SigV4 signatures from the Authorization header only; query-string (presigned) \
         authentication is not accepted"
    )]
    PresignedQuery,
    /// More than one `Authorization` header: which one a proxy checked is ambiguous.
    #[error("dmap serve accepts exactly one Authorization header; the request has {0}")]
    RepeatedHeader(usize),
    /// The access key id is not one of the configured keys.
    #[error("The security token included in the request is invalid.")]
    UnknownKey,
    /// An `X-Amz-Security-Token`: dmap's keys are long-term keys, so no session token is valid.
    #[error("The security token included in the request is invalid.")]
    SessionToken,
    /// The credential's terminator is not `aws4_request`.
    #[error("Credential should be scoped with a valid terminator: 'aws4_request', not '{0}'. ")]
    WrongTerminator(String),
    /// The credential's service is not `states`.
    #[error("Credential should be scoped to correct service: 'states'. ")]
    WrongService(String),
    /// The credential's region is not the server's.
    #[error("Credential should be scoped to a valid region, not '{0}'. ")]
    WrongRegion(String),
    /// The credential's date is not the day of `X-Amz-Date`.
    #[error(
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: \
         '{scope}' != '{date}', from '{amz_date}'."
    )]
    ScopeDate { scope: String, date: String, amz_date: String },
    /// `X-Amz-Date` is more than the allowed skew before the server's clock.
    #[error("Signature expired: {} is now earlier than {} ({} - 5 min.)", basic(*signed), basic(*limit), basic(*now))]
    Expired { signed: DateTime<Utc>, limit: DateTime<Utc>, now: DateTime<Utc> },
    /// `X-Amz-Date` is more than the allowed skew after the server's clock.
    #[error("Signature not yet current: {} is still later than {} ({} + 5 min.)", basic(*signed), basic(*limit), basic(*now))]
    NotYetCurrent { signed: DateTime<Utc>, limit: DateTime<Utc>, now: DateTime<Utc> },
    /// `X-Amz-Content-Sha256` is not the SHA-256 of the body that arrived.
    #[error("The provided 'x-amz-content-sha256' header does not match what was computed.")]
    ContentSha256Mismatch,
    /// The signature is not the one the configured secret gives for this request.
    #[error(
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret \
         Access Key and signing method. Consult the service documentation for details."
    )]
    SignatureMismatch,
}

impl AuthError {
    /// AWS's error code, the `__type` of the JSON error body.
    pub fn code(&self) -> &'static str {
        use AuthError::*;
        match self {
            MissingToken => "MissingAuthenticationTokenException",
            IncompleteHeader { .. }
            | NotKeyValue { .. }
            | CredentialShape(_)
            | DateFormat(_)
            | HostNotSigned
            | SignedHeaderAbsent(_)
            | PresignedQuery
            | RepeatedHeader(_) => "IncompleteSignatureException",
            UnknownKey | SessionToken => "UnrecognizedClientException",
            WrongTerminator(_)
            | WrongService(_)
            | WrongRegion(_)
            | ScopeDate { .. }
            | Expired { .. }
            | NotYetCurrent { .. }
            | ContentSha256Mismatch
            | SignatureMismatch => "InvalidSignatureException",
        }
    }

    /// The HTTP status: 400 for every refusal, as AWS's JSON services send them.
    pub fn status(&self) -> u16 {
        400
    }

    /// The `message` of the JSON error body.
    pub fn message(&self) -> String {
        self.to_string()
    }
}

/// `YYYYMMDDTHHMMSSZ`, the form AWS's messages show instants in.
fn basic(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}
