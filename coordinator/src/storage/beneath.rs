//! The file-system calls of a directory bucket, each confined beneath the bucket's root
//! directory descriptor: no symbolic link (nor `/proc` magic link) is followed in any
//! component, and nothing is resolved by path from outside the root.
//!
//! Paths are resolved by the kernel with `openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
//! RESOLVE_NO_MAGICLINKS)`; where `openat2` does not exist (Linux < 5.6, some seccomp
//! sandboxes) the same is done one component at a time with `O_NOFOLLOW`. Either way the check
//! and the use are one system call per component on a descriptor already held, so a link
//! swapped in between a check and a use cannot redirect anything.
//!
//! Callers pass relative paths made of object_store path parts: never empty, `.` or `..`, and
//! without `/` inside a part. This module does blocking I/O: call it on a blocking thread.

use std::fs::File;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use rustix::fs::{AtFlags, FileType, Mode, OFlags, RenameFlags, ResolveFlags, Stat};
use rustix::io::Errno;

/// What every resolution refuses: leaving the root, and links of either kind.
const RESOLVE: ResolveFlags = ResolveFlags::BENEATH.union(ResolveFlags::NO_SYMLINKS).union(ResolveFlags::NO_MAGICLINKS);
const DIR: OFlags = OFlags::DIRECTORY.union(OFlags::RDONLY).union(OFlags::CLOEXEC);
/// Created files and directories get these bits less the umask, as `std::fs` does.
const FILE_MODE: Mode = Mode::from_raw_mode(0o666);
const DIR_MODE: Mode = Mode::from_raw_mode(0o777);

/// A path refused because it goes through a link (or would leave the root).
#[derive(Debug, thiserror::Error)]
#[error("the path goes through a symbolic link, which a directory bucket does not follow")]
pub struct LinkRefused;

/// Is `e` a [`LinkRefused`]?
pub fn is_link_refusal(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|inner| inner.is::<LinkRefused>())
}

const NOT_REGULAR: &str = "not a regular file: a directory bucket reads only regular files";

/// Opens the bucket's root directory. The root itself is the user's choice and may be a link.
pub fn open_root(path: &std::path::Path) -> io::Result<OwnedFd> {
    Ok(rustix::fs::open(path, DIR, Mode::empty())?)
}

/// Opens `rel` (one or more `/`-separated parts) beneath `dir`.
fn open(dir: impl AsFd, rel: &str, flags: OFlags, mode: Mode) -> io::Result<OwnedFd> {
    let mut retries = 0;
    loop {
        match rustix::fs::openat2(dir.as_fd(), rel, flags | OFlags::CLOEXEC, mode, RESOLVE) {
            Err(Errno::NOSYS) => return walk(dir, rel, flags, mode),
            // The kernel asks for a retry when a rename raced the resolution.
            Err(Errno::AGAIN) if retries < 8 => retries += 1,
            other => return other.map_err(refusal),
        }
    }
}

/// The same resolution without `openat2`: each directory is opened from the one before with
/// `O_NOFOLLOW`, which fails on a link. The parts cannot be `..`, so this cannot climb out.
fn walk(dir: impl AsFd, rel: &str, flags: OFlags, mode: Mode) -> io::Result<OwnedFd> {
    let mut parts = rel.split('/');
    let last = parts.next_back().unwrap_or(".");
    let mut held: Option<OwnedFd> = None;
    for part in parts {
        let from = held.as_ref().map_or(dir.as_fd(), |fd| fd.as_fd());
        held = Some(open_dir_nofollow(from, part)?);
    }
    let from = held.as_ref().map_or(dir.as_fd(), |fd| fd.as_fd());
    rustix::fs::openat(from, last, flags | OFlags::CLOEXEC | OFlags::NOFOLLOW, mode).map_err(refusal)
}

/// `ELOOP` (a link met with `NO_SYMLINKS` or `O_NOFOLLOW`) and `EXDEV` (an escape) say so.
fn refusal(e: Errno) -> io::Error {
    match e {
        Errno::LOOP | Errno::XDEV => io::Error::new(io::ErrorKind::PermissionDenied, LinkRefused),
        other => other.into(),
    }
}

/// A regular file beneath `root`, opened for reading, with its status. `O_NONBLOCK` makes
/// opening a FIFO return at once (it is then refused, like every non-regular file); it does not
/// change reads of a regular file. A directory is reported as not found: it is not an object.
pub fn open_file(root: &OwnedFd, rel: &str) -> io::Result<(File, Stat)> {
    let fd = open(root, rel, OFlags::RDONLY | OFlags::NONBLOCK | OFlags::NOCTTY, Mode::empty())?;
    let stat = rustix::fs::fstat(&fd)?;
    match FileType::from_raw_mode(stat.st_mode) {
        FileType::RegularFile => Ok((File::from(fd), stat)),
        FileType::Directory => Err(io::ErrorKind::NotFound.into()),
        _ => Err(io::Error::new(io::ErrorKind::InvalidInput, NOT_REGULAR)),
    }
}

/// A directory beneath `root`; `""` is the root itself.
pub fn open_dir(root: &OwnedFd, rel: &str) -> io::Result<OwnedFd> {
    open(root, if rel.is_empty() { "." } else { rel }, DIR, Mode::empty())
}

/// The directory `parts` beneath `root`, each missing one created (`mkdirat`, relative to its
/// parent's descriptor), none followed if it is a link.
pub fn make_dirs<'a>(root: &OwnedFd, parts: impl IntoIterator<Item = &'a str>) -> io::Result<OwnedFd> {
    let mut dir = open_dir(root, "")?;
    for part in parts {
        dir = match open(&dir, part, DIR, Mode::empty()) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                match rustix::fs::mkdirat(&dir, part, DIR_MODE) {
                    Ok(()) | Err(Errno::EXIST) => {}
                    Err(e) => return Err(e.into()),
                }
                open(&dir, part, DIR, Mode::empty())?
            }
            other => other?,
        };
    }
    Ok(dir)
}

/// Creates a new file `name` in `dir` for writing; fails if anything has that name.
pub fn create_new(dir: &OwnedFd, name: &str) -> io::Result<File> {
    let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    Ok(File::from(rustix::fs::openat(dir, name, flags, FILE_MODE)?))
}

/// Gives `from` the name `to` in `dir`. `replace`: replacing whatever had that name (a link
/// there is replaced, never followed); otherwise failing with `AlreadyExists`.
pub fn rename(dir: &OwnedFd, from: &str, to: &str, replace: bool) -> io::Result<()> {
    if replace {
        return Ok(rustix::fs::renameat(dir, from, dir, to)?);
    }
    match rustix::fs::renameat_with(dir, from, dir, to, RenameFlags::NOREPLACE) {
        // File systems without RENAME_NOREPLACE: a hard link also fails on an existing name.
        Err(Errno::INVAL) => {
            rustix::fs::linkat(dir, from, dir, to, AtFlags::empty())?;
            Ok(rustix::fs::unlinkat(dir, from, AtFlags::empty())?)
        }
        other => Ok(other?),
    }
}

/// Removes the file `name` from `dir` (a link is removed, not followed).
pub fn remove(dir: &OwnedFd, name: &str) -> io::Result<()> {
    Ok(rustix::fs::unlinkat(dir, name, AtFlags::empty())?)
}

/// The status of `name` in `dir`, of a link itself rather than what it names.
pub fn stat_entry(dir: &OwnedFd, name: &str) -> io::Result<Stat> {
    Ok(rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW)?)
}

/// Opens the sub-directory `name` of `dir` for listing, refusing a link.
pub fn open_child_dir(dir: &OwnedFd, name: &str) -> io::Result<OwnedFd> {
    open_dir_nofollow(dir.as_fd(), name)
}

/// `O_DIRECTORY | O_NOFOLLOW` reports a link as "not a directory"; say what it is.
fn open_dir_nofollow(dir: BorrowedFd<'_>, name: &str) -> io::Result<OwnedFd> {
    match rustix::fs::openat(dir, name, DIR | OFlags::NOFOLLOW, Mode::empty()) {
        Err(Errno::NOTDIR)
            if rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW)
                .is_ok_and(|s| FileType::from_raw_mode(s.st_mode) == FileType::Symlink) =>
        {
            Err(refusal(Errno::LOOP))
        }
        other => Ok(other.map_err(refusal)?),
    }
}

/// The names in `dir` with their types (`.` and `..` left out); a type the directory does not
/// record is read with [`stat_entry`].
pub fn entries(dir: &OwnedFd) -> io::Result<Vec<(Vec<u8>, FileType)>> {
    let mut out = Vec::new();
    for entry in rustix::fs::Dir::read_from(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_bytes();
        if name == b"." || name == b".." {
            continue;
        }
        let kind = match entry.file_type() {
            FileType::Unknown => match std::str::from_utf8(name) {
                Ok(n) => FileType::from_raw_mode(stat_entry(dir, n)?.st_mode),
                Err(_) => FileType::Unknown,
            },
            known => known,
        };
        out.push((name.to_vec(), kind));
    }
    Ok(out)
}

/// Is `stat` a regular file?
pub fn is_regular(stat: &Stat) -> bool {
    FileType::from_raw_mode(stat.st_mode) == FileType::RegularFile
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The walk used without `openat2` refuses the same links.
    #[test]
    fn the_fallback_walk_refuses_links_in_any_component() {
        let dir = tempfile::tempdir().unwrap();
        let (bucket, outside) = (dir.path().join("bucket"), dir.path().join("outside"));
        std::fs::create_dir_all(bucket.join("sub")).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(outside.join("s"), "x").unwrap();
        std::fs::write(bucket.join("sub/f"), "y").unwrap();
        std::os::unix::fs::symlink(&outside, bucket.join("sub/link")).unwrap();
        std::os::unix::fs::symlink(outside.join("s"), bucket.join("flink")).unwrap();
        let root = open_root(&bucket).unwrap();
        assert!(walk(&root, "sub/f", OFlags::RDONLY, Mode::empty()).is_ok());
        for rel in ["sub/link/s", "flink", "sub/link"] {
            let e = walk(&root, rel, OFlags::RDONLY, Mode::empty()).unwrap_err();
            assert!(is_link_refusal(&e), "{rel}: {e}");
            let e = open(&root, rel, OFlags::RDONLY, Mode::empty()).unwrap_err();
            assert!(is_link_refusal(&e), "{rel}: {e}");
        }
    }
}
