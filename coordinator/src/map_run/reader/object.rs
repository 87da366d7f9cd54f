//! Opening one object for a sync parser: the GET (with `VersionId`), its errors, and the bytes
//! as a `BufRead` for a blocking thread — decompressed when they start with the gzip or zstd
//! magic bytes, and without a UTF-8 byte order mark.
//!
//! Compression is detected by content, not by the key's extension: AWS documents names like
//! `x.csv.zstd` and `x.jsonl.gz` but not how it decides, and the magic bytes cannot be wrong
//! (no JSON, JSON Lines or CSV text starts with 0x1f 0x8b or 0x28 0xb5 0x2f 0xfd).

use std::io::{self, BufRead, BufReader, Cursor, Read};
use std::sync::Arc;

use futures::TryStreamExt;
use object_store::{GetOptions, GetResultPayload, ObjectMeta, ObjectStore, ObjectStoreExt};
use shared::asl::Failure;
use tokio_util::io::{StreamReader, SyncIoBridge};

use super::failure;
use super::params::ObjectRef;
use crate::storage::Storage;

const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];
const ZSTD_MAGIC: &[u8] = &[0x28, 0xb5, 0x2f, 0xfd];
const UTF8_BOM: &[u8] = &[0xef, 0xbb, 0xbf];
/// Read buffer for objects: large enough that per-call costs vanish, small enough to ignore.
const BUFFER: usize = 256 * 1024;

/// An object's raw bytes, readable on a blocking thread.
pub type RawBytes = Box<dyn Read + Send>;

/// The store holding `obj`'s bucket.
pub fn store(storage: &Storage, obj: &ObjectRef) -> Result<Arc<dyn ObjectStore>, Failure> {
    storage.store(&obj.bucket).map_err(|e| failure::storage(&obj.bucket, &e))
}

/// Starts reading `obj`. A missing object fails here, before any parsing.
pub async fn get(storage: &Storage, obj: &ObjectRef) -> Result<RawBytes, Failure> {
    let store = store(storage, obj)?;
    let options = GetOptions { version: obj.version.clone(), ..GetOptions::default() };
    let result = store.get_opts(&obj.path()?, options).await.map_err(|e| store_error(obj, "Reading", e))?;
    Ok(match result.payload {
        // A local file is read directly, not through the store's chunked stream.
        GetResultPayload::File(file, _) => Box::new(file),
        GetResultPayload::Stream(stream) => {
            let stream = stream.map_err(io::Error::other);
            // Must be built inside the runtime; it is then read on a blocking thread.
            Box::new(SyncIoBridge::new(StreamReader::new(stream)))
        }
    })
}

/// A whole small object (a manifest), decompressed if needed; one larger than `max` bytes
/// fails rather than filling memory.
pub async fn read_small(storage: &Storage, obj: &ObjectRef, max: u64) -> Result<Vec<u8>, Failure> {
    let raw = get(storage, obj).await?;
    let read = tokio::task::spawn_blocking(move || {
        let mut text = Vec::new();
        self::text(raw)?.take(max + 1).read_to_end(&mut text)?;
        Ok::<_, io::Error>(text)
    })
    .await
    .map_err(|e| failure::internal(&e))?;
    let text = read.map_err(|e| failure::io(&obj.uri, "the start", &e))?;
    if text.len() as u64 > max {
        return Err(failure::manifest(&obj.uri, &format!("larger than {} MiB", max >> 20)));
    }
    Ok(text)
}

/// `obj`'s metadata (size, ETag, last modified).
pub async fn head(store: &dyn ObjectStore, obj: &ObjectRef) -> Result<ObjectMeta, Failure> {
    store.head(&obj.path()?).await.map_err(|e| store_error(obj, "Reading", e))
}

pub fn store_error(obj: &ObjectRef, what: &str, e: object_store::Error) -> Failure {
    match e {
        object_store::Error::NotFound { .. } => failure::not_found(&obj.uri),
        other => failure::store(&obj.uri, what, &other),
    }
}

/// The object's text: decompressed if it is gzip (every member) or zstd (every frame), with a
/// leading byte order mark removed. Blocks: call on a blocking thread.
pub fn text(mut raw: RawBytes) -> io::Result<Box<dyn BufRead + Send>> {
    let head = read_head(&mut raw, ZSTD_MAGIC.len())?;
    let compressed = head.starts_with(GZIP_MAGIC) || head.starts_with(ZSTD_MAGIC);
    let zstd = head.starts_with(ZSTD_MAGIC);
    let raw = Cursor::new(head).chain(raw);
    let decoded: Box<dyn Read + Send> = match (compressed, zstd) {
        (false, _) => Box::new(raw),
        (true, false) => Box::new(flate2::bufread::MultiGzDecoder::new(BufReader::with_capacity(BUFFER, raw))),
        (true, true) => Box::new(zstd::stream::read::Decoder::with_buffer(BufReader::with_capacity(BUFFER, raw))?),
    };
    strip_bom(decoded)
}

fn strip_bom(mut r: Box<dyn Read + Send>) -> io::Result<Box<dyn BufRead + Send>> {
    let mut head = read_head(&mut r, UTF8_BOM.len())?;
    if head == UTF8_BOM {
        head.clear();
    }
    Ok(Box::new(BufReader::with_capacity(BUFFER, Cursor::new(head).chain(r))))
}

/// The first `n` bytes (fewer if the input is shorter). A single `read` may return fewer bytes
/// than are coming, from a network stream or a decoder, so this reads until it has them.
fn read_head(r: &mut dyn Read, n: usize) -> io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(n);
    r.take(n as u64).read_to_end(&mut head)?;
    Ok(head)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn decoded(bytes: Vec<u8>) -> String {
        let mut out = String::new();
        text(Box::new(Cursor::new(bytes))).unwrap().read_to_string(&mut out).unwrap();
        out
    }

    #[test]
    fn detects_gzip_and_zstd_by_content_and_strips_a_bom() {
        let plain = "\u{feff}[1,2]".as_bytes().to_vec();
        assert_eq!(decoded(plain.clone()), "[1,2]");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&plain).unwrap();
        let mut two_members = gz.finish().unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b",3").unwrap();
        two_members.extend(gz.finish().unwrap());
        assert_eq!(decoded(two_members), "[1,2],3");
        assert_eq!(decoded(zstd::encode_all(&b"a,b\n"[..], 1).unwrap()), "a,b\n");
        assert_eq!(decoded(b"[".to_vec()), "[");
        assert_eq!(decoded(Vec::new()), "");
    }

    #[test]
    fn corrupt_compressed_data_is_an_io_error() {
        let mut out = String::new();
        let read = text(Box::new(Cursor::new(vec![0x1f, 0x8b, 0, 0, 0]))).and_then(|mut r| r.read_to_string(&mut out));
        assert!(read.is_err());
    }
}
