//! Task tokens: what `$$.Task.Token` and `GetActivityTask` hand out, and what `SendTask*` bring
//! back. A token names its attempt — `(execution_arn, entered_id, attempt)`, the same after a
//! restart — and carries an HMAC-SHA256 of it under the host's secret, so a token cannot be
//! guessed or forged, and one token of an execution cannot be turned into another's.
//!
//! Format: base64url (unpadded) of `1 | entered_id (u64 BE) | attempt (u64 BE) | mac (16 bytes)
//! | execution_arn (UTF-8)`. AWS's tokens are opaque strings of at most 2048 characters
//! (SendTaskSuccess: "Length Constraints: Minimum length of 1. Maximum length of 2048",
//! https://docs.aws.amazon.com/step-functions/latest/apireference/API_SendTaskSuccess.html);
//! an execution ARN of a Map Run child is under 400 characters, so a token stays far below.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

const VERSION: u8 = 1;
const MAC_BYTES: usize = 16;
const HEAD: usize = 1 + 8 + 8 + MAC_BYTES;
/// AWS's largest `taskToken`.
pub const MAX_TOKEN_CHARS: usize = 2048;

/// The attempt a valid token names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub execution_arn: String,
    pub entered_id: u64,
    pub attempt: u64,
}

/// Makes and checks tokens under one secret.
#[derive(Clone)]
pub struct Codec {
    key: [u8; 32],
}

impl std::fmt::Debug for Codec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Codec(..)")
    }
}

impl Codec {
    pub fn new(key: [u8; 32]) -> Codec {
        Codec { key }
    }

    /// A codec with a fresh random secret (tokens live as long as the process).
    pub fn random() -> Codec {
        Codec::new(rand::random())
    }

    pub fn encode(&self, execution_arn: &str, entered_id: u64, attempt: u64) -> String {
        let mut bytes = Vec::with_capacity(HEAD + execution_arn.len());
        bytes.push(VERSION);
        bytes.extend_from_slice(&entered_id.to_be_bytes());
        bytes.extend_from_slice(&attempt.to_be_bytes());
        bytes.extend_from_slice(&self.mac(execution_arn, entered_id, attempt));
        bytes.extend_from_slice(execution_arn.as_bytes());
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// The attempt `token` names, or `None` when it is not a token of this secret.
    pub fn decode(&self, token: &str) -> Option<Attempt> {
        if token.len() > MAX_TOKEN_CHARS {
            return None;
        }
        let bytes = URL_SAFE_NO_PAD.decode(token).ok()?;
        if bytes.len() <= HEAD || bytes[0] != VERSION {
            return None;
        }
        let entered_id = u64::from_be_bytes(bytes[1..9].try_into().ok()?);
        let attempt = u64::from_be_bytes(bytes[9..17].try_into().ok()?);
        let execution_arn = std::str::from_utf8(&bytes[HEAD..]).ok()?;
        let expected = self.mac(execution_arn, entered_id, attempt);
        match bool::from(expected.ct_eq(&bytes[17..HEAD])) {
            true => Some(Attempt { execution_arn: execution_arn.to_string(), entered_id, attempt }),
            false => None,
        }
    }

    fn mac(&self, execution_arn: &str, entered_id: u64, attempt: u64) -> [u8; MAC_BYTES] {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(&entered_id.to_be_bytes());
        mac.update(&attempt.to_be_bytes());
        mac.update(execution_arn.as_bytes());
        let full = mac.finalize().into_bytes();
        let mut out = [0u8; MAC_BYTES];
        out.copy_from_slice(&full[..MAC_BYTES]);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str = "arn:aws:states:us-east-1:123456789012:execution:m:e";

    #[test]
    fn a_token_names_its_attempt_and_is_the_same_when_made_again() {
        let codec = Codec::new([7; 32]);
        let token = codec.encode(ARN, 5, 2);
        assert_eq!(token, Codec::new([7; 32]).encode(ARN, 5, 2));
        assert_eq!(codec.decode(&token), Some(Attempt { execution_arn: ARN.into(), entered_id: 5, attempt: 2 }));
        assert!(token.len() <= MAX_TOKEN_CHARS);
    }

    #[test]
    fn another_secret_a_changed_byte_or_garbage_is_not_a_token() {
        let codec = Codec::new([7; 32]);
        let token = codec.encode(ARN, 5, 2);
        assert_eq!(Codec::new([8; 32]).decode(&token), None);
        // The same attempt of another execution: the ARN is under the MAC.
        let mut bytes = URL_SAFE_NO_PAD.decode(&token).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert_eq!(codec.decode(&URL_SAFE_NO_PAD.encode(&bytes)), None);
        // Another attempt of the same state.
        let mut bytes = URL_SAFE_NO_PAD.decode(&token).unwrap();
        bytes[16] ^= 1;
        assert_eq!(codec.decode(&URL_SAFE_NO_PAD.encode(&bytes)), None);
        for junk in ["", "x", "not base64 !", &"A".repeat(3000)] {
            assert_eq!(codec.decode(junk), None, "{junk}");
        }
    }
}
