//! Message bodies on NATS: JSON, zstd-compressed above a few KiB (header
//! `Dmap-Encoding: zstd`). Batch and outcome JSON is repetitive (the same keys in every item)
//! and compresses about tenfold, so the NATS server stores and forwards a tenth of the bytes:
//! measured on the distributed benchmark, the server's CPU time fell more than the
//! compression cost.

use std::cell::RefCell;

use async_nats::HeaderMap;

pub const ENCODING_HEADER: &str = "Dmap-Encoding";
const ZSTD: &str = "zstd";
/// Bodies smaller than this go as plain JSON.
const COMPRESS_FROM: usize = 4 << 10;
const LEVEL: i32 = 1;
/// A body that claims to decompress to more than this is refused.
const MAX_DECODED: usize = 256 << 20;

thread_local! {
    // Contexts are reused: creating one per message cost about 1.5% of a worker's time.
    static COMPRESSOR: RefCell<Option<zstd::bulk::Compressor<'static>>> = const { RefCell::new(None) };
    static DECOMPRESSOR: RefCell<Option<zstd::bulk::Decompressor<'static>>> = const { RefCell::new(None) };
}

/// Sets the encoding header and returns the body to send.
pub fn encode(json: Vec<u8>, headers: &mut HeaderMap) -> Vec<u8> {
    if json.len() < COMPRESS_FROM {
        return json;
    }
    let compressed = COMPRESSOR.with(|c| {
        let mut c = c.borrow_mut();
        if c.is_none() {
            *c = zstd::bulk::Compressor::new(LEVEL).ok();
        }
        c.as_mut().map_or_else(|| zstd::bulk::compress(&json, LEVEL), |c| c.compress(&json))
    });
    match compressed {
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
    let size = zstd::bulk::Decompressor::upper_bound(body).ok_or("a compressed message without its size")?;
    if size > MAX_DECODED {
        return Err(format!("a compressed message claims {size} bytes, over {MAX_DECODED}"));
    }
    DECOMPRESSOR
        .with(|d| {
            let mut d = d.borrow_mut();
            if d.is_none() {
                *d = Some(zstd::bulk::Decompressor::new()?);
            }
            d.as_mut().map_or_else(|| zstd::bulk::decompress(body, size), |d| d.decompress(body, size))
        })
        .map(std::borrow::Cow::Owned)
        .map_err(|e| format!("cannot decompress a message: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_bodies_go_plain_and_large_ones_round_trip_compressed() {
        let mut h = HeaderMap::new();
        let small = br#"[{"v":1}]"#.to_vec();
        assert_eq!(encode(small.clone(), &mut h), small);
        assert!(h.get(ENCODING_HEADER).is_none());

        let items: Vec<String> = (0..2000).map(|i| format!(r#"{{"id":{i},"name":"item-{i}"}}"#)).collect();
        let large = format!("[{}]", items.join(",")).into_bytes();
        let mut h = HeaderMap::new();
        let body = encode(large.clone(), &mut h);
        assert_eq!(h.get(ENCODING_HEADER).map(|v| v.as_str()), Some("zstd"));
        assert!(body.len() * 4 < large.len(), "repetitive JSON compresses: {} of {}", body.len(), large.len());
        assert_eq!(decode(&body, Some(&h)).expect("decodes").as_ref(), large.as_slice());
        // Without the header the body is taken as it is.
        assert_eq!(decode(&body, None).expect("plain").as_ref(), body.as_slice());
    }

    #[test]
    fn a_corrupt_compressed_body_is_an_error() {
        let mut h = HeaderMap::new();
        h.insert(ENCODING_HEADER, "zstd");
        assert!(decode(b"not zstd at all", Some(&h)).is_err());
    }
}
