//! The same buckets in two kinds of storage: local directories and the in-process S3 server.
//! Tests write objects once and check that both give the same result.
//!
//! Include it with `#[path = "support/s3.rs"] mod s3;` and
//! `#[path = "support/buckets.rs"] mod buckets;`.

#![allow(dead_code)]

use std::sync::Arc;

use coordinator::storage::{Location, Storage, Unmapped};

use super::s3::S3Server;

pub struct Buckets {
    local: tempfile::TempDir,
    server: S3Server,
    names: Vec<String>,
}

impl Buckets {
    pub fn new(names: &[&str]) -> Buckets {
        let local = tempfile::Builder::new().prefix("dmap-buckets-").tempdir().expect("local bucket root");
        let server = S3Server::start();
        for name in names {
            std::fs::create_dir_all(local.path().join(name)).expect("local bucket");
            server.create_bucket(name);
        }
        Buckets { local, server, names: names.iter().map(|s| s.to_string()).collect() }
    }

    /// Writes an object into both kinds of storage.
    pub fn put(&self, bucket: &str, key: &str, body: impl AsRef<[u8]>) {
        let path = self.local.path().join(bucket).join(key);
        std::fs::create_dir_all(path.parent().expect("a key has a parent")).expect("local key directories");
        std::fs::write(path, body.as_ref()).expect("local object");
        self.server.put(bucket, key, body);
    }

    /// Storage over local directories, then storage over the S3 server, each named. Unmapped
    /// buckets are refused, so no test ever reaches AWS.
    pub fn storages(&self) -> Vec<(&'static str, Arc<Storage>)> {
        let mut local = Storage::new().with_unmapped(Unmapped::Refuse);
        for name in &self.names {
            local.insert(name, Location::Directory(self.local.path().join(name))).expect("local mapping");
        }
        let specs: Vec<String> = self.names.iter().map(|n| self.server.bucket_spec(n)).collect();
        let s3 = Storage::from_specs(&specs).expect("S3 mappings").with_unmapped(Unmapped::Refuse);
        vec![("directory", Arc::new(local)), ("s3", Arc::new(s3))]
    }

    pub fn server(&self) -> &S3Server {
        &self.server
    }
}
