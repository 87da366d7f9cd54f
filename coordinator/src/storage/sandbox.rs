//! A directory bucket: an [`ObjectStore`] over a local directory that reads, lists and writes
//! nothing outside it. Every access starts from the root directory's descriptor and resolves
//! beneath it without following links ([`beneath`]), so a symbolic link anywhere in a key's
//! path — placed before the run or swapped in during it — is refused, not followed.
//!
//! - Reads open only regular files (`/proc` files behind a link, FIFOs, devices and sockets
//!   are refused; a FIFO cannot block the open).
//! - Listings skip links and everything that is not a regular file or a directory, and come in
//!   S3's key order (UTF-8 byte order).
//! - Writes go to a staging file `<name>#<n>` created beneath the root and renamed into place
//!   relative to the parent directory's descriptor: an object appears whole or not at all, a
//!   link at its name is replaced rather than followed, and `PutMode::Create` fails when the
//!   name exists. Staging names are hidden from listings and refused as keys.
//! - ETags are a hash of size and modification time: stable while the file is unchanged, and
//!   they reveal no inode number.
//!
//! Updates conditional on an ETag (`PutMode::Update`) and object attributes are not
//! implemented.

use std::fmt;
use std::io::{self, Write};
use std::os::fd::OwnedFd;
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::stream::BoxStream;
use futures::{FutureExt, StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{
    CopyMode, CopyOptions, Error, GetOptions, GetResult, GetResultPayload, ListResult, MultipartUpload, ObjectMeta,
    ObjectStore, PutMode, PutMultipartOptions, PutOptions, PutPayload, PutResult, Result, UploadPart,
};
use rustix::fs::{FileType, Stat};

use super::beneath;

const STORE: &str = "directory bucket";
/// S3's limit on the length of a key.
const MAX_KEY_BYTES: usize = 1024;
/// Deletes running at once for `delete_stream`.
const DELETES_IN_FLIGHT: usize = 10;

/// A bucket mapped to a local directory.
pub struct DirectoryBucket {
    root: Arc<OwnedFd>,
    dir: std::path::PathBuf,
}

impl DirectoryBucket {
    /// Opens `dir` as a bucket root; it must exist and be a directory.
    pub fn open(dir: &std::path::Path) -> io::Result<DirectoryBucket> {
        Ok(DirectoryBucket { root: Arc::new(beneath::open_root(dir)?), dir: dir.to_path_buf() })
    }
}

impl fmt::Display for DirectoryBucket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DirectoryBucket({})", self.dir.display())
    }
}

impl fmt::Debug for DirectoryBucket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Runs blocking file-system work off the async threads (inline when there is no runtime).
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => runtime.spawn_blocking(work).await?,
        Err(_) => work(),
    }
}

/// An OS error on `location`, as the object_store error a caller can match on.
fn io_error(location: &Path, e: io::Error) -> Error {
    let path = location.to_string();
    match e.kind() {
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory => Error::NotFound { path, source: e.into() },
        io::ErrorKind::AlreadyExists => Error::AlreadyExists { path, source: e.into() },
        _ => Error::Generic { store: STORE, source: format!("{path}: {e}").into() },
    }
}

fn refused(location: &Path, why: &str) -> Error {
    Error::Generic { store: STORE, source: format!("'{location}': {why}").into() }
}

/// The parent directories and file name of an object's key.
fn split(location: &Path) -> Result<(Vec<&str>, &str)> {
    let parts: Vec<&str> = location.as_ref().split('/').filter(|p| !p.is_empty()).collect();
    let Some((name, dirs)) = parts.split_last() else {
        return Err(refused(location, "an object key cannot be empty"));
    };
    if is_staging(name) {
        return Err(refused(location, "a key ending in '#' and digits is reserved for uploads in progress"));
    }
    Ok((dirs.to_vec(), name))
}

/// `<name>#<digits>`: a write in progress (the same convention as object_store's local store).
fn is_staging(name: &str) -> bool {
    name.rsplit_once('#').is_some_and(|(_, n)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

fn meta(location: Path, stat: &Stat) -> ObjectMeta {
    let nanos = u32::try_from(stat.st_mtime_nsec).unwrap_or(0);
    ObjectMeta {
        location,
        last_modified: DateTime::<Utc>::from_timestamp(stat.st_mtime, nanos).unwrap_or_default(),
        size: u64::try_from(stat.st_size).unwrap_or(0),
        e_tag: Some(etag(stat)),
        version: None,
    }
}

/// FNV-1a over size and modification time: changes when the file does, and is the same on
/// every run and machine for the same file.
// `Stat`'s field types differ between architectures; the casts keep every bit on each.
#[allow(clippy::unnecessary_cast)]
fn etag(stat: &Stat) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let fields = [stat.st_size as u64, stat.st_mtime as u64, stat.st_mtime_nsec as u64];
    for byte in fields.iter().flat_map(|f| f.to_le_bytes()) {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

/// A file being written under a staging name, removed unless committed.
struct Staged {
    dir: OwnedFd,
    name: String,
    temp: String,
    file: std::fs::File,
    location: Path,
    committed: bool,
}

static STAGING: AtomicU64 = AtomicU64::new(1);

impl Staged {
    fn create(root: &OwnedFd, location: &Path) -> Result<Staged> {
        let (dirs, name) = split(location)?;
        let dir = beneath::make_dirs(root, dirs).map_err(|e| io_error(location, e))?;
        loop {
            let temp = format!("{name}#{}", STAGING.fetch_add(1, Ordering::Relaxed));
            match beneath::create_new(&dir, &temp) {
                Ok(file) => {
                    let (name, location) = (name.to_string(), location.clone());
                    return Ok(Staged { dir, name, temp, file, location, committed: false });
                }
                // Another process's staging file: take the next number.
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(io_error(location, e)),
            }
        }
    }

    /// Gives the file its name; `replace` says what happens when the name is taken.
    fn commit(mut self, replace: bool) -> Result<PutResult> {
        let stat = rustix::fs::fstat(&self.file).map_err(|e| io_error(&self.location, e.into()))?;
        beneath::rename(&self.dir, &self.temp, &self.name, replace).map_err(|e| io_error(&self.location, e))?;
        self.committed = true;
        Ok(PutResult { e_tag: Some(etag(&stat)), version: None, extensions: Default::default() })
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.committed {
            // Best effort: a staging file left behind is hidden from listings.
            let _ = beneath::remove(&self.dir, &self.temp);
        }
    }
}

/// A multipart upload: parts are written at their offsets into one staging file.
struct Upload {
    staged: Arc<Mutex<Option<Staged>>>,
    offset: u64,
}

fn aborted(location: &str) -> Error {
    Error::Generic { store: STORE, source: format!("{location}: the upload was completed or aborted").into() }
}

#[async_trait]
impl MultipartUpload for Upload {
    fn put_part(&mut self, data: PutPayload) -> UploadPart {
        let mut offset = self.offset;
        self.offset += data.content_length() as u64;
        let staged = self.staged.clone();
        blocking(move || {
            let guard = staged.lock().unwrap_or_else(|p| p.into_inner());
            let s = guard.as_ref().ok_or_else(|| aborted("multipart upload"))?;
            for chunk in data.iter() {
                s.file.write_all_at(chunk, offset).map_err(|e| io_error(&s.location, e))?;
                offset += chunk.len() as u64;
            }
            Ok(())
        })
        .boxed()
    }

    async fn complete(&mut self) -> Result<PutResult> {
        let staged = self.staged.clone();
        blocking(move || {
            let taken = staged.lock().unwrap_or_else(|p| p.into_inner()).take();
            taken.ok_or_else(|| aborted("multipart upload"))?.commit(true)
        })
        .await
    }

    async fn abort(&mut self) -> Result<()> {
        let staged = self.staged.clone();
        blocking(move || {
            drop(staged.lock().unwrap_or_else(|p| p.into_inner()).take());
            Ok(())
        })
        .await
    }
}

impl fmt::Debug for Upload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Upload").field("offset", &self.offset).finish_non_exhaustive()
    }
}

#[async_trait]
impl ObjectStore for DirectoryBucket {
    async fn put_opts(&self, location: &Path, payload: PutPayload, opts: PutOptions) -> Result<PutResult> {
        let replace = match opts.mode {
            PutMode::Overwrite => true,
            PutMode::Create => false,
            PutMode::Update(_) => return Err(self.not_implemented("put_opts with PutMode::Update")),
        };
        if !opts.attributes.is_empty() {
            return Err(self.not_implemented("put_opts with attributes"));
        }
        let (root, location) = (self.root.clone(), location.clone());
        blocking(move || {
            let mut staged = Staged::create(&root, &location)?;
            for chunk in payload.iter() {
                staged.file.write_all(chunk).map_err(|e| io_error(&location, e))?;
            }
            staged.commit(replace)
        })
        .await
    }

    async fn put_multipart_opts(&self, location: &Path, opts: PutMultipartOptions) -> Result<Box<dyn MultipartUpload>> {
        if !opts.attributes.is_empty() {
            return Err(self.not_implemented("put_multipart_opts with attributes"));
        }
        let (root, location) = (self.root.clone(), location.clone());
        let staged = blocking(move || Staged::create(&root, &location)).await?;
        Ok(Box::new(Upload { staged: Arc::new(Mutex::new(Some(staged))), offset: 0 }))
    }

    async fn get_opts(&self, location: &Path, options: GetOptions) -> Result<GetResult> {
        let (root, location) = (self.root.clone(), location.clone());
        blocking(move || {
            split(&location)?;
            let (file, stat) = beneath::open_file(&root, location.as_ref()).map_err(|e| io_error(&location, e))?;
            let meta = meta(location.clone(), &stat);
            options.check_preconditions(&meta)?;
            let range = match &options.range {
                Some(r) => r.as_range(meta.size).map_err(|e| refused(&location, &e.to_string()))?,
                None => 0..meta.size,
            };
            // The path in the payload only names the object in object_store's error texts.
            let payload = GetResultPayload::File(file, location.as_ref().into());
            Ok(GetResult { payload, meta, range, attributes: Default::default(), extensions: Default::default() })
        })
        .await
    }

    fn delete_stream(&self, locations: BoxStream<'static, Result<Path>>) -> BoxStream<'static, Result<Path>> {
        let root = self.root.clone();
        locations
            .map(move |location| {
                let root = root.clone();
                blocking(move || {
                    let location = location?;
                    delete(&root, &location)?;
                    Ok(location)
                })
            })
            .buffered(DELETES_IN_FLIGHT)
            .boxed()
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, Result<ObjectMeta>> {
        let (root, prefix) = (self.root.clone(), prefix.cloned().unwrap_or_default());
        futures::stream::once(blocking(move || list_all(&root, &prefix)))
            .map_ok(|all| futures::stream::iter(all.into_iter().map(Ok)))
            .try_flatten()
            .boxed()
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> Result<ListResult> {
        let (root, prefix) = (self.root.clone(), prefix.cloned().unwrap_or_default());
        blocking(move || list_one(&root, &prefix)).await
    }

    async fn copy_opts(&self, from: &Path, to: &Path, options: CopyOptions) -> Result<()> {
        let (root, from, to) = (self.root.clone(), from.clone(), to.clone());
        blocking(move || {
            split(&from)?;
            let (mut source, _) = beneath::open_file(&root, from.as_ref()).map_err(|e| io_error(&from, e))?;
            let mut staged = Staged::create(&root, &to)?;
            io::copy(&mut source, &mut staged.file).map_err(|e| io_error(&to, e))?;
            staged.commit(matches!(options.mode, CopyMode::Overwrite)).map(drop)
        })
        .await
    }
}

impl DirectoryBucket {
    fn not_implemented(&self, operation: &str) -> Error {
        Error::NotImplemented { operation: operation.into(), implementer: self.to_string() }
    }
}

/// Removes one object; a missing one is not an error, as on S3.
fn delete(root: &OwnedFd, location: &Path) -> Result<()> {
    let (dirs, name) = split(location)?;
    let dir = match beneath::open_dir(root, &dirs.join("/")) {
        Ok(dir) => dir,
        Err(e) if matches!(e.kind(), io::ErrorKind::NotFound | io::ErrorKind::NotADirectory) => return Ok(()),
        Err(e) => return Err(io_error(location, e)),
    };
    match beneath::remove(&dir, name) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(io_error(location, e)),
        _ => Ok(()),
    }
}

/// The directory a listing starts from, or `None` when there is nothing to list there (missing,
/// a file, or a link, which is not followed).
fn open_prefix(root: &OwnedFd, prefix: &Path) -> Result<Option<OwnedFd>> {
    match beneath::open_dir(root, prefix.as_ref()) {
        Ok(dir) => Ok(Some(dir)),
        Err(e) if matches!(e.kind(), io::ErrorKind::NotFound | io::ErrorKind::NotADirectory) => Ok(None),
        Err(e) if beneath::is_link_refusal(&e) => Ok(None),
        Err(e) => Err(io_error(prefix, e)),
    }
}

/// A directory's entries that can be objects or prefixes, in key order: every key under a
/// directory `d` starts with `d/`, so sorting directories as `d/` among the file names puts a
/// depth-first walk in S3's key order.
fn sorted_entries(dir: &OwnedFd, at: &Path) -> Result<Vec<(String, FileType)>> {
    let mut out = Vec::new();
    for (name, kind) in beneath::entries(dir).map_err(|e| io_error(at, e))? {
        if !matches!(kind, FileType::RegularFile | FileType::Directory) {
            continue;
        }
        let name = String::from_utf8(name).map_err(|e| {
            let shown = String::from_utf8_lossy(e.as_bytes()).into_owned();
            refused(at, &format!("the file name '{shown}' is not UTF-8, so it cannot be an object key"))
        })?;
        if kind == FileType::RegularFile && is_staging(&name) {
            continue;
        }
        out.push((name, kind));
    }
    let slash = |k: FileType| (k == FileType::Directory).then_some(b'/');
    out.sort_unstable_by(|(a, ka), (b, kb)| a.bytes().chain(slash(*ka)).cmp(b.bytes().chain(slash(*kb))));
    Ok(out)
}

fn child(prefix: &Path, name: &str) -> Result<Path> {
    let key = if prefix.as_ref().is_empty() { name.to_string() } else { format!("{prefix}/{name}") };
    Path::parse(&key).map_err(|e| refused(prefix, &format!("'{key}' cannot be an object key: {e}")))
}

/// The status of the regular file `name`, or `None` if it is no longer one.
fn file_stat(dir: &OwnedFd, name: &str) -> Option<Stat> {
    beneath::stat_entry(dir, name).ok().filter(beneath::is_regular)
}

/// Every object under `prefix`, recursively, in key order.
fn list_all(root: &OwnedFd, prefix: &Path) -> Result<Vec<ObjectMeta>> {
    let mut out = Vec::new();
    if let Some(dir) = open_prefix(root, prefix)? {
        walk(&dir, prefix, &mut out)?;
    }
    Ok(out)
}

fn walk(dir: &OwnedFd, at: &Path, out: &mut Vec<ObjectMeta>) -> Result<()> {
    // S3 keys are at most 1024 bytes: this also bounds the recursion, and the descriptors held
    // open along it, however deep a directory tree someone made.
    if at.as_ref().len() >= MAX_KEY_BYTES {
        return Err(refused(at, "the directory is nested deeper than any S3 key (at most 1024 bytes) can reach"));
    }
    for (name, kind) in sorted_entries(dir, at)? {
        let location = child(at, &name)?;
        if kind == FileType::Directory {
            // A directory replaced by a link since it was listed is refused here, and skipped.
            if let Ok(sub) = beneath::open_child_dir(dir, &name) {
                walk(&sub, &location, out)?;
            }
        } else if let Some(stat) = file_stat(dir, &name) {
            out.push(meta(location, &stat));
        }
    }
    Ok(())
}

/// The objects and sub-directories directly under `prefix`.
fn list_one(root: &OwnedFd, prefix: &Path) -> Result<ListResult> {
    let mut result = ListResult { common_prefixes: Vec::new(), objects: Vec::new(), extensions: Default::default() };
    let Some(dir) = open_prefix(root, prefix)? else { return Ok(result) };
    for (name, kind) in sorted_entries(&dir, prefix)? {
        let location = child(prefix, &name)?;
        if kind == FileType::Directory {
            result.common_prefixes.push(location);
        } else if let Some(stat) = file_stat(&dir, &name) {
            result.objects.push(meta(location, &stat));
        }
    }
    Ok(result)
}

#[cfg(test)]
#[path = "sandbox_tests.rs"]
mod tests;
