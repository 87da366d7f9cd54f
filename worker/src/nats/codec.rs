//! Message bodies on NATS: JSON, zstd-compressed above a few KiB (header
//! `Dmap-Encoding: zstd`). Batch and outcome JSON is repetitive (the same keys in every item)
//! and compresses about tenfold, so the NATS server stores and forwards a tenth of the bytes:
//! measured on the distributed benchmark, the server's CPU time fell more than the
//! compression cost.

use async_nats::HeaderMap;

pub const ENCODING_HEADER: &str = "Dmap-Encoding";
const ZSTD: &str = "zstd";
/// Bodies smaller than this go as plain JSON.
const COMPRESS_FROM: usize = 4 << 10;
const LEVEL: i32 = 1;

/// Sets the encoding header and returns the body to send.
pub fn encode(json: Vec<u8>, headers: &mut HeaderMap) -> Vec<u8> {
    if json.len() < COMPRESS_FROM {
        return json;
    }
    match zstd::bulk::compress(&json, LEVEL) {
        Ok(z) if z.len() < json.len() => {
            headers.insert(ENCODING_HEADER, ZSTD);
            z
        }
        _ => json,
    }
}

/// The JSON of a received body.
pub fn decode<'a>(body: &'a [u8], headers: Option<&HeaderMap>) -> Result<std::borrow::Cow<'a, [u8]>, String> {
    let zstd = headers.and_then(|h| h.get(ENCODING_HEADER)).is_some_and(|v| v.as_str() == ZSTD);
    if !zstd {
        return Ok(std::borrow::Cow::Borrowed(body));
    }
    zstd::stream::decode_all(body).map(std::borrow::Cow::Owned).map_err(|e| format!("cannot decompress a message: {e}"))
}
