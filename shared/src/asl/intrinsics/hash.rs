//! `States.Hash(data, algorithm)`: a lowercase hex digest of the string's UTF-8 bytes.

use md5::Md5;
use serde_json::Value;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha384, Sha512};

use super::{Args, longer_than};
use crate::asl::error_name::Failure;

/// `data` may have at most this many characters.
const MAX_INPUT: usize = 10_000;

pub(super) fn hash(a: &Args) -> Result<Value, Failure> {
    let data = a.string(0)?;
    let algorithm = a.string(1)?;
    if longer_than(&data, MAX_INPUT) {
        return Err(a.fail(format_args!("the data may have at most {MAX_INPUT} characters")));
    }
    let bytes = data.as_bytes();
    // The names are matched exactly, as AWS lists them.
    let digest = match algorithm.as_ref() {
        "MD5" => hex::encode(Md5::digest(bytes).as_slice()),
        "SHA-1" => hex::encode(Sha1::digest(bytes).as_slice()),
        "SHA-256" => hex::encode(Sha256::digest(bytes).as_slice()),
        "SHA-384" => hex::encode(Sha384::digest(bytes).as_slice()),
        "SHA-512" => hex::encode(Sha512::digest(bytes).as_slice()),
        other => {
            return Err(a.fail(format_args!(
                "unsupported algorithm '{other}'; expected MD5, SHA-1, SHA-256, SHA-384 or SHA-512"
            )));
        }
    };
    Ok(Value::String(digest))
}
