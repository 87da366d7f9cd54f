//! Message bodies on NATS: JSON, zstd-compressed above a few KiB (header
//! `Dmap-Encoding: zstd`). Batch and outcome JSON is repetitive (the same keys in every item)
//! and compresses about tenfold, so the NATS server stores and forwards a tenth of the bytes:
//! measured on the distributed benchmark, the server's CPU time fell more than the
//! compression cost.

use std::cell::RefCell;

use async_nats::HeaderMap;
use zstd::stream::raw::{Decoder, InBuffer, Operation, OutBuffer};

pub const ENCODING_HEADER: &str = "Dmap-Encoding";
const ZSTD: &str = "zstd";
/// Bodies smaller than this go as plain JSON.
const COMPRESS_FROM: usize = 4 << 10;
const LEVEL: i32 = 1;
/// The most a message may decode to. What a message legitimately carries is far less: a
/// parcel holds at most 64 children and closes once past 1 MiB of input (a child's input is at
/// most 256 KiB), about 1.3 MiB with its heads; an outcome message answers one parcel, at most
/// 64 outputs of 256 KiB with their causes, under 20 MiB. The rest is room for
/// `--no-payload-limits`, under which a message decoding to more is refused too. Bodies are
/// decoded as a stream into a buffer that grows with the output, so a frame that declares (or
/// hides) a huge size costs at most this much before it is refused.
pub const MAX_DECODED: usize = 64 << 20;

thread_local! {
    // Contexts are reused: creating one per message cost about 1.5% of a worker's time.
    static COMPRESSOR: RefCell<Option<zstd::bulk::Compressor<'static>>> = const { RefCell::new(None) };
    static DECOMPRESSOR: RefCell<Option<Decoder<'static>>> = const { RefCell::new(None) };
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
    decompress(body, MAX_DECODED).map(std::borrow::Cow::Owned)
}

/// Decodes `body` (one or more zstd frames), refusing it once it passes `limit` bytes.
fn decompress(body: &[u8], limit: usize) -> Result<Vec<u8>, String> {
    let failed = |e: std::io::Error| format!("cannot decompress a message: {e}");
    DECOMPRESSOR.with(|d| {
        let mut d = d.borrow_mut();
        if d.is_none() {
            *d = Some(Decoder::new().map_err(failed)?);
        }
        let Some(decoder) = d.as_mut() else { unreachable!("set above") };
        // A message refused half-way leaves the context inside its frame.
        decoder.reinit().map_err(failed)?;
        let mut out: Vec<u8> = Vec::with_capacity(body.len().saturating_mul(8).clamp(4096, limit + 1));
        let mut input = InBuffer::around(body);
        loop {
            if out.len() == out.capacity() {
                out.reserve_exact(out.len().max(4096).min(limit + 1 - out.len()));
            }
            let before = (input.pos(), out.len());
            let pos = out.len();
            let hint = decoder.run(&mut input, &mut OutBuffer::around_pos(&mut out, pos)).map_err(failed)?;
            if out.len() > limit {
                return Err(format!(
                    "a compressed message decodes to more than {limit} bytes, more than a message carries"
                ));
            }
            let consumed = input.pos() == body.len();
            if consumed && hint == 0 {
                return Ok(out);
            }
            if consumed && before == (input.pos(), out.len()) && out.len() < out.capacity() {
                return Err("cannot decompress a message: it ends inside a frame".to_string());
            }
        }
    })
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
        let whole = zstd::bulk::compress(&[b'a'; 10_000], 1).unwrap();
        let Err(cut) = decode(&whole[..whole.len() - 3], Some(&h)) else { panic!("a cut frame was accepted") };
        assert!(cut.contains("ends inside a frame"), "{cut}");
    }

    #[test]
    fn a_message_decoding_past_the_limit_is_refused() {
        // Probe L1: 8 KB messages that decode to 250 MB were accepted (the cap was 256 MB).
        let mut h = HeaderMap::new();
        h.insert(ENCODING_HEADER, "zstd");
        let bomb = zstd::bulk::compress(&vec![b'0'; 250_000_000], 1).unwrap();
        assert!(bomb.len() < 16 << 10, "{} bytes", bomb.len());
        // Matched rather than unwrapped: a failure must not print 250 MB.
        let Err(refused) = decode(&bomb, Some(&h)) else { panic!("a message decoding to 250 MB was accepted") };
        assert!(refused.contains(&format!("more than {MAX_DECODED} bytes")), "{refused}");
        let just_over = zstd::bulk::compress(&vec![b'0'; MAX_DECODED + 1], 1).unwrap();
        assert!(decode(&just_over, Some(&h)).is_err());
        // Exactly at the limit, and in frames that do not declare their size, it decodes; the
        // context is reusable after a refusal.
        let at = zstd::bulk::compress(&vec![b'1'; MAX_DECODED], 1).unwrap();
        assert_eq!(decode(&at, Some(&h)).unwrap().len(), MAX_DECODED);
        let streamed = zstd::stream::encode_all(&[b'2'; 100_000][..], 1).unwrap();
        assert_eq!(decode(&streamed, Some(&h)).unwrap().as_ref(), &[b'2'; 100_000][..]);
        let two_frames = [zstd::bulk::compress(b"[1,", 1).unwrap(), zstd::bulk::compress(b"2]", 1).unwrap()].concat();
        assert_eq!(decode(&two_frames, Some(&h)).unwrap().as_ref(), b"[1,2]");
    }
}
