//! The `Authorization` header of a SigV4 request, taken apart:
//! `AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/aws4_request, SignedHeaders=a;b, Signature=hex`.
//!
//! Owns: the header's syntax and AWS's texts for its malformations. Must not: look at keys,
//! clocks or the rest of the request (the caller says whether `X-Amz-Date` is there, because
//! AWS lists its absence among the header's missing parts).

use super::error::AuthError;

/// The one algorithm SigV4 over HMAC-SHA256 names.
const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// The parts of an `Authorization` header, borrowed from it.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Authorization<'a> {
    pub access_key_id: &'a str,
    /// `YYYYMMDD` of the credential scope.
    pub date: &'a str,
    pub region: &'a str,
    pub service: &'a str,
    /// `aws4_request` in every valid scope.
    pub terminator: &'a str,
    /// As listed (lower-case, `;`-separated, sorted when the client follows SigV4).
    pub signed_headers: Vec<&'a str>,
    pub signature: &'a str,
}

/// Parses `header`. `has_date` says whether the request carries `X-Amz-Date`: AWS reports its
/// absence together with the header's missing parameters, in one message.
pub(super) fn parse(header: &str, has_date: bool) -> Result<Authorization<'_>, AuthError> {
    let rest = header.strip_prefix(ALGORITHM).filter(|r| r.is_empty() || r.starts_with(char::is_whitespace));
    let (mut credential, mut signed, mut signature) = (None, None, None);
    if let Some(rest) = rest {
        // AWS splits on commas and on whitespace: `Credential= AKID/…` makes the key id a
        // component of its own, refused as "not a valid key=value pair".
        for component in rest.split(|c: char| c == ',' || c.is_whitespace()).filter(|c| !c.is_empty()) {
            let Some((key, value)) = component.split_once('=') else {
                return Err(AuthError::NotKeyValue { component: component.to_owned(), header: header.to_owned() });
            };
            match key {
                "Credential" => credential = Some(value),
                "SignedHeaders" => signed = Some(value),
                "Signature" => signature = Some(value),
                // Parameters SigV4 does not define are not part of the signature; ignore them.
                _ => {}
            }
        }
    }
    let missing: Vec<&'static str> = [
        (credential.is_none(), "Authorization header requires 'Credential' parameter"),
        (signature.is_none(), "Authorization header requires 'Signature' parameter"),
        (signed.is_none(), "Authorization header requires 'SignedHeaders' parameter"),
        (!has_date, "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header"),
    ]
    .into_iter()
    .filter_map(|(absent, text)| absent.then_some(text))
    .collect();
    let (Some(credential), Some(signed), Some(signature), true) = (credential, signed, signature, missing.is_empty())
    else {
        return Err(AuthError::IncompleteHeader { missing, header: header.to_owned() });
    };
    let parts: Vec<&str> = credential.split('/').collect();
    let [access_key_id, date, region, service, terminator] = parts[..] else {
        return Err(AuthError::CredentialShape(credential.to_owned()));
    };
    Ok(Authorization {
        access_key_id,
        date,
        region,
        service,
        terminator,
        signed_headers: signed.split(';').filter(|h| !h.is_empty()).collect(),
        signature,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_as_botocore_writes_it_parses_into_its_parts() {
        let h = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261207/us-east-1/states/aws4_request, \
                 SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=5369266b";
        let a = parse(h, true).unwrap();
        assert_eq!(
            a,
            Authorization {
                access_key_id: "AKIDEXAMPLE",
                date: "20261207",
                region: "us-east-1",
                service: "states",
                terminator: "aws4_request",
                signed_headers: vec!["content-type", "host", "x-amz-date", "x-amz-target"],
                signature: "5369266b",
            }
        );
    }

    #[test]
    fn missing_parts_are_listed_together_as_aws_lists_them() {
        // The texts of AWS's answer to a bare token in the Authorization header (an API Gateway
        // IncompleteSignatureException quoted in aws/chalice#828).
        let err = parse("eyJ0eXAi", false).unwrap_err();
        assert_eq!(err.code(), "IncompleteSignatureException");
        assert_eq!(
            err.message(),
            "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' \
             parameter. Authorization header requires 'SignedHeaders' parameter. Authorization header requires \
             existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=eyJ0eXAi"
        );
        // SES's answer to a header with a credential only (brendanhay/amazonka#316).
        let err = parse("AWS4-HMAC-SHA256 Credential=ABCDEF", true).unwrap_err();
        assert_eq!(
            err.message(),
            "Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' \
             parameter. Authorization=AWS4-HMAC-SHA256 Credential=ABCDEF"
        );
    }

    #[test]
    fn a_space_after_an_equal_sign_splits_the_component_as_aws_does() {
        // Cloud9's (AWS JSON 1.1) answer quoted in iann0036/cloud9-sync#10.
        let h = "AWS4-HMAC-SHA256 Credential= key/20181128/eu-central-1/cloud9/aws4_request, \
                 SignedHeaders=host;x-amz-date, Signature=ab";
        let err = parse(h, true).unwrap_err();
        assert_eq!(
            err.message(),
            format!(
                "'key/20181128/eu-central-1/cloud9/aws4_request' not a valid key=value pair (missing equal-sign) in \
                 Authorization header: '{h}'."
            )
        );
    }

    #[test]
    fn a_credential_of_other_than_five_elements_is_incomplete() {
        let err = parse(
            "AWS4-HMAC-SHA256 Credential=AKID/20261207/states/aws4_request, SignedHeaders=host, Signature=ab",
            true,
        )
        .unwrap_err();
        assert_eq!(err, AuthError::CredentialShape("AKID/20261207/states/aws4_request".into()));
        assert_eq!(err.code(), "IncompleteSignatureException");
    }
}
