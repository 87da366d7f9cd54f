//! One results file (`SUCCEEDED_0.json`, …) streamed to storage by multipart upload while
//! records arrive. Memory stays bounded by parts, never by the file: entries are encoded straight
//! into the part being filled, and a full part is handed to the upload without a copy.
//!
//! Bound per open file: the part being filled (plus the entry that crossed its end), the
//! remainder the upload keeps below a part, and at most [`PARTS_IN_FLIGHT`] parts uploading.

use std::sync::Arc;

use bytes::Bytes;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, WriteMultipart};
use shared::asl::Failure;

use super::entry::{Entry, Framing};
use super::write_failed;

/// Parts of one file uploading at once. Two keep the network busy while the next part fills,
/// without letting a slow store make memory grow.
pub(super) const PARTS_IN_FLIGHT: usize = 2;

/// A file that has been completed in storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct WrittenFile {
    pub(super) key: String,
    pub(super) size: u64,
}

/// What [`ResultFile::append`] did with an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Appended {
    Yes,
    /// The entry would take the file past the rollover size; nothing was written. Close this
    /// file and append the entry to the next one.
    FileFull,
}

/// A results file being uploaded.
pub(super) struct ResultFile {
    bucket: String,
    key: String,
    framing: Framing,
    upload: WriteMultipart,
    /// Bytes not yet handed to the upload.
    part: Vec<u8>,
    part_bytes: usize,
    /// Bytes of the file so far, handed over or not; the closing bytes are not counted yet.
    size: u64,
    entries: u64,
}

impl ResultFile {
    /// Starts the multipart upload of `key` and writes the opening bytes.
    pub(super) async fn open(
        store: &Arc<dyn ObjectStore>,
        bucket: &str,
        key: String,
        framing: Framing,
        part_bytes: usize,
    ) -> Result<Self, Failure> {
        let path = Path::parse(&key).map_err(|e| write_failed(bucket, &key, e))?;
        let upload = store.put_multipart(&path).await.map_err(|e| write_failed(bucket, &key, e))?;
        let mut part = Vec::with_capacity(part_capacity(part_bytes));
        part.extend_from_slice(framing.open());
        Ok(ResultFile {
            bucket: bucket.to_owned(),
            key,
            framing,
            upload: WriteMultipart::new_with_chunk_size(upload, part_bytes),
            size: part.len() as u64,
            part,
            part_bytes,
            entries: 0,
        })
    }

    /// Appends `entry` unless it would make the file exceed `rollover_bytes` (closing bytes
    /// included). The first entry of a file is always written, however large, since no file can
    /// hold it better.
    pub(super) async fn append(&mut self, entry: Entry<'_>, rollover_bytes: u64) -> Result<Appended, Failure> {
        let mark = self.part.len();
        self.part.extend_from_slice(self.framing.before(self.entries == 0));
        entry.encode(&mut self.part);
        self.part.extend_from_slice(self.framing.after());
        let added = (self.part.len() - mark) as u64;
        let closing = self.framing.close().len() as u64;
        if self.entries > 0 && self.size + added + closing > rollover_bytes {
            // Rollover is rare (every 5 GB by default), so encoding the entry again into the next
            // file is cheaper than measuring every entry before writing it.
            self.part.truncate(mark);
            return Ok(Appended::FileFull);
        }
        self.size += added;
        self.entries += 1;
        if self.part.len() >= self.part_bytes {
            self.hand_over().await?;
        }
        Ok(Appended::Yes)
    }

    /// Writes the closing bytes and completes the upload.
    pub(super) async fn close(mut self) -> Result<WrittenFile, Failure> {
        self.part.extend_from_slice(self.framing.close());
        self.size += self.framing.close().len() as u64;
        let rest = std::mem::take(&mut self.part);
        self.upload.put(Bytes::from(rest));
        let ResultFile { bucket, key, upload, size, .. } = self;
        match upload.finish().await {
            Ok(_) => Ok(WrittenFile { key, size }),
            Err(e) => Err(write_failed(&bucket, &key, e)),
        }
    }

    /// Abandons the upload, asking the store to discard the parts already sent. Best effort:
    /// this runs when the export has already failed or been given up.
    pub(super) async fn abort(self) {
        // An abort that fails leaves an incomplete multipart upload, which S3 lifecycle rules
        // expire; there is nobody left to report it to.
        let _ = self.upload.abort().await;
    }

    /// Passes the filled part to the upload once fewer than [`PARTS_IN_FLIGHT`] are uploading.
    async fn hand_over(&mut self) -> Result<(), Failure> {
        self.upload.wait_for_capacity(PARTS_IN_FLIGHT).await.map_err(|e| write_failed(&self.bucket, &self.key, e))?;
        let full = std::mem::replace(&mut self.part, Vec::with_capacity(part_capacity(self.part_bytes)));
        self.upload.put(Bytes::from(full));
        Ok(())
    }
}

/// Room for a part plus the entry that crosses its end, so that the buffer is not reallocated
/// (copying a whole part) each time a part fills. An eighth of a 5 MiB part holds any COMPACT
/// entry (child data is capped at 256 KiB); a larger NONE record costs one reallocation.
fn part_capacity(part_bytes: usize) -> usize {
    part_bytes + part_bytes / 8
}
