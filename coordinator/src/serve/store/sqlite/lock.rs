//! The data directory's lock: one `dmap serve` per `--data` directory.
//!
//! Two writers on one database would each believe their group commits are the only ones, and
//! the second would wait on SQLite's lock and then fail its groups. An exclusive `flock` on
//! `<dir>/dmap.lock`, held while the store is open, makes the second server fail at start
//! instead, with a message that says why. The kernel releases it when the process dies, even
//! by `kill -9`, so a restart after a crash is never refused.
//!
//! It must not touch the database.

use std::fs::File;
use std::path::{Path, PathBuf};

use rustix::fs::{FlockOperation, flock};

/// The lock file's name in the data directory.
pub const FILE_NAME: &str = "dmap.lock";

/// Why the directory could not be locked.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{0} is held by another process: is another dmap serve running with this --data directory?")]
    Held(PathBuf),
}

/// Held while the store is open; dropping it releases the lock.
#[derive(Debug)]
pub struct DirLock {
    _file: File,
}

impl DirLock {
    pub fn acquire(dir: &Path) -> Result<DirLock, LockError> {
        let path = dir.join(FILE_NAME);
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|source| LockError::Io { path: path.clone(), source })?;
        match flock(&file, FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => Ok(DirLock { _file: file }),
            Err(rustix::io::Errno::WOULDBLOCK) => Err(LockError::Held(path)),
            Err(errno) => Err(LockError::Io { path, source: errno.into() }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_until_the_first_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let first = DirLock::acquire(dir.path()).unwrap();
        assert!(matches!(DirLock::acquire(dir.path()), Err(LockError::Held(_))));
        drop(first);
        assert!(DirLock::acquire(dir.path()).is_ok());
    }
}
