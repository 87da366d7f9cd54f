//! `States.Base64Encode` and `States.Base64Decode`.
//!
//! AWS documents "MIME Base64". Encoding uses the standard alphabet with padding and no line
//! breaks (no recorded AWS output shows the 76-column wrapping of Java's MIME encoder, so it
//! is not imitated). Decoding is lenient like a MIME decoder about line breaks and padding.

use base64::Engine as _;
use base64::alphabet;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use serde_json::Value;

use super::{Args, longer_than};
use crate::asl::error_name::Failure;

/// Both functions accept at most this many characters.
const MAX_INPUT: usize = 10_000;

/// Accepts missing padding and non-zero trailing bits, as Java's decoders do.
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// `States.Base64Encode(s)`: the base64 of the string's UTF-8 bytes.
pub(super) fn encode(a: &Args) -> Result<Value, Failure> {
    let s = a.string(0)?;
    check_length(a, &s)?;
    Ok(Value::String(STANDARD.encode(s.as_bytes())))
}

/// `States.Base64Decode(s)`: the decoded bytes as UTF-8 text (invalid sequences become U+FFFD,
/// as Java's `new String(bytes, UTF_8)` does).
pub(super) fn decode(a: &Args) -> Result<Value, Failure> {
    let s = a.string(0)?;
    check_length(a, &s)?;
    let bytes = if s.contains(['\r', '\n', ' ', '\t']) {
        let compact: String = s.chars().filter(|c| !matches!(c, '\r' | '\n' | ' ' | '\t')).collect();
        LENIENT.decode(compact)
    } else {
        LENIENT.decode(s.as_bytes())
    }
    .map_err(|e| a.fail(format_args!("the argument is not valid base64: {e}")))?;
    Ok(Value::String(String::from_utf8_lossy(&bytes).into_owned()))
}

fn check_length(a: &Args, s: &str) -> Result<(), Failure> {
    if longer_than(s, MAX_INPUT) {
        return Err(a.fail(format_args!("the input may have at most {MAX_INPUT} characters")));
    }
    Ok(())
}
