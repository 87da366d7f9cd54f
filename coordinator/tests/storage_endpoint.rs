//! Storage against a real S3-protocol server: an endpoint mapping signs its requests with the
//! URL's credentials, path-style, and wrong credentials are refused by the server.

#[path = "support/s3.rs"]
mod s3;

use coordinator::storage::Storage;
use object_store::ObjectStoreExt;
use object_store::path::Path;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoint_buckets_read_and_write() {
    let server = s3::S3Server::start();
    server.put("data", "in/a.txt", "hello");
    let storage = Storage::from_specs(&[server.bucket_spec("data")]).unwrap();
    let store = storage.store("data").unwrap();
    let body = store.get(&Path::parse("in/a.txt").unwrap()).await.unwrap().bytes().await.unwrap();
    assert_eq!(&body[..], b"hello");
    store.put(&Path::parse("out/b.txt").unwrap(), "written".into()).await.unwrap();
    assert_eq!(std::fs::read_to_string(server.root().join("data/out/b.txt")).unwrap(), "written");

    // Another name for the same server bucket: `NAME=http://…/BUCKET`.
    let alias = format!("{}/data", server.bucket_spec("alias"));
    let storage = Storage::from_specs(&[alias]).unwrap();
    let meta = storage.store("alias").unwrap().head(&Path::parse("in/a.txt").unwrap()).await.unwrap();
    assert_eq!(meta.size, 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_credentials_are_refused_by_the_server() {
    let server = s3::S3Server::start();
    server.put("data", "a.txt", "hello");
    let spec = format!("data=http://{}:wrong@{}", s3::ACCESS_KEY, server.endpoint().trim_start_matches("http://"));
    let storage = Storage::from_specs(&[spec]).unwrap();
    let err = storage.store("data").unwrap().get(&Path::parse("a.txt").unwrap()).await.unwrap_err();
    assert!(!matches!(err, object_store::Error::NotFound { .. }), "{err}");
}
