//! The directory bucket's contract, one store operation at a time: what it reads, lists and
//! writes inside its root, and that links, FIFOs and staging names never get through.

use std::os::unix::fs::symlink;

use futures::TryStreamExt;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload, WriteMultipart};

use super::DirectoryBucket;

struct Fixture {
    _dir: tempfile::TempDir,
    bucket: std::path::PathBuf,
    outside: std::path::PathBuf,
    store: DirectoryBucket,
}

/// A bucket with `a.json`, `sub/b.json`, and links to a file and a directory outside it.
fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let (bucket, outside) = (dir.path().join("bucket"), dir.path().join("outside"));
    std::fs::create_dir_all(bucket.join("sub")).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("secret.json"), "OUTSIDE").unwrap();
    std::fs::write(bucket.join("a.json"), "[1]").unwrap();
    std::fs::write(bucket.join("sub/b.json"), "[2]").unwrap();
    symlink(outside.join("secret.json"), bucket.join("link.json")).unwrap();
    symlink(&outside, bucket.join("dirlink")).unwrap();
    let store = DirectoryBucket::open(&bucket).unwrap();
    Fixture { _dir: dir, bucket, outside, store }
}

fn path(key: &str) -> Path {
    Path::parse(key).unwrap()
}

async fn read(store: &DirectoryBucket, key: &str) -> object_store::Result<String> {
    let bytes = store.get(&path(key)).await?.bytes().await?;
    Ok(String::from_utf8(bytes.to_vec()).unwrap())
}

#[tokio::test]
async fn reads_regular_files_beneath_the_root_only() {
    let f = fixture();
    assert_eq!(read(&f.store, "sub/b.json").await.unwrap(), "[2]");
    assert_eq!(f.store.get_range(&path("a.json"), 1..2).await.unwrap().as_ref(), b"1");
    for key in ["link.json", "dirlink/secret.json"] {
        let e = read(&f.store, key).await.unwrap_err();
        assert!(e.to_string().contains("symbolic link"), "{key}: {e}");
    }
    assert!(matches!(read(&f.store, "missing.json").await, Err(object_store::Error::NotFound { .. })));
    assert!(matches!(read(&f.store, "sub").await, Err(object_store::Error::NotFound { .. })));
    assert!(read(&f.store, "x.json#1").await.unwrap_err().to_string().contains("reserved"));
}

#[tokio::test]
async fn a_fifo_is_refused_without_blocking() {
    let f = fixture();
    let status = std::process::Command::new("mkfifo").arg(f.bucket.join("pipe.json")).status().unwrap();
    assert!(status.success());
    // No writer ever opens the FIFO: a blocking open would hang this test forever.
    let e = read(&f.store, "pipe.json").await.unwrap_err();
    assert!(e.to_string().contains("not a regular file"), "{e}");
    let keys: Vec<String> = f.store.list(None).map_ok(|m| m.location.to_string()).try_collect().await.unwrap();
    assert!(!keys.contains(&"pipe.json".to_string()));
}

#[tokio::test]
async fn lists_in_key_order_skipping_links_and_staging_files() {
    let f = fixture();
    std::fs::write(f.bucket.join("a0"), "").unwrap();
    std::fs::write(f.bucket.join("a.json#7"), "partial").unwrap();
    std::fs::create_dir_all(f.bucket.join("a")).unwrap();
    std::fs::write(f.bucket.join("a/z"), "").unwrap();
    let keys: Vec<String> = f.store.list(None).map_ok(|m| m.location.to_string()).try_collect().await.unwrap();
    // S3's byte order: "a.json" < "a/z" < "a0" < "sub/b.json".
    assert_eq!(keys, ["a.json", "a/z", "a0", "sub/b.json"]);
    assert_eq!(f.store.list(Some(&path("dirlink"))).try_collect::<Vec<_>>().await.unwrap().len(), 0);
    let one = f.store.list_with_delimiter(None).await.unwrap();
    let prefixes: Vec<String> = one.common_prefixes.iter().map(|p| p.to_string()).collect();
    let objects: Vec<String> = one.objects.iter().map(|m| m.location.to_string()).collect();
    assert_eq!((prefixes, objects), (vec!["a".to_string(), "sub".to_string()], vec!["a.json".into(), "a0".into()]));
}

#[tokio::test]
async fn etags_are_stable_and_show_no_inode() {
    let f = fixture();
    let first = f.store.head(&path("a.json")).await.unwrap();
    let again = f.store.head(&path("a.json")).await.unwrap();
    assert_eq!(first.e_tag, again.e_tag);
    let inode = std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(f.bucket.join("a.json")).unwrap());
    assert!(!first.e_tag.unwrap().contains(&format!("{inode:x}")));
}

#[tokio::test]
async fn writes_never_leave_the_root() {
    let f = fixture();
    let e = f.store.put(&path("dirlink/out/manifest.json"), PutPayload::from("x")).await.unwrap_err();
    assert!(e.to_string().contains("symbolic link"), "{e}");
    assert!(f.store.put_multipart(&path("dirlink/out/SUCCEEDED_0.json")).await.is_err());
    assert_eq!(std::fs::read_dir(&f.outside).unwrap().count(), 1, "only secret.json stays outside");
    // A link at the exact name is replaced, and what it pointed to is untouched.
    f.store.put(&path("link.json"), PutPayload::from("new")).await.unwrap();
    assert_eq!(std::fs::read_to_string(f.outside.join("secret.json")).unwrap(), "OUTSIDE");
    assert_eq!(read(&f.store, "link.json").await.unwrap(), "new");
}

#[tokio::test]
async fn puts_are_atomic_create_is_conditional_and_parents_are_made() {
    let f = fixture();
    let create = PutOptions { mode: PutMode::Create, ..PutOptions::default() };
    f.store.put_opts(&path("new/deep/m.json"), PutPayload::from("one"), create.clone()).await.unwrap();
    let again = f.store.put_opts(&path("new/deep/m.json"), PutPayload::from("two"), create).await;
    assert!(matches!(again, Err(object_store::Error::AlreadyExists { .. })));
    assert_eq!(read(&f.store, "new/deep/m.json").await.unwrap(), "one");
    assert_eq!(std::fs::read_dir(f.bucket.join("new/deep")).unwrap().count(), 1, "no staging file is left");
}

#[tokio::test]
async fn multipart_uploads_appear_whole_on_completion() {
    let f = fixture();
    let upload = f.store.put_multipart(&path("out/r.json")).await.unwrap();
    let mut writer = WriteMultipart::new_with_chunk_size(upload, 4);
    writer.write(b"0123456789");
    assert!(f.store.head(&path("out/r.json")).await.is_err(), "nothing appears before completion");
    writer.finish().await.unwrap();
    assert_eq!(read(&f.store, "out/r.json").await.unwrap(), "0123456789");
    let upload = f.store.put_multipart(&path("out/gone.json")).await.unwrap();
    WriteMultipart::new(upload).abort().await.unwrap();
    let keys: Vec<String> =
        f.store.list(Some(&path("out"))).map_ok(|m| m.location.to_string()).try_collect().await.unwrap();
    assert_eq!(keys, ["out/r.json"]);
    assert_eq!(std::fs::read_dir(f.bucket.join("out")).unwrap().count(), 1, "the aborted staging file is removed");
}

#[tokio::test]
async fn copy_and_delete_stay_inside() {
    let f = fixture();
    f.store.copy(&path("a.json"), &path("c/copy.json")).await.unwrap();
    assert_eq!(read(&f.store, "c/copy.json").await.unwrap(), "[1]");
    assert!(f.store.copy(&path("link.json"), &path("c/stolen.json")).await.is_err());
    f.store.delete(&path("c/copy.json")).await.unwrap();
    f.store.delete(&path("c/missing.json")).await.unwrap();
    assert!(f.store.delete(&path("dirlink/secret.json")).await.is_err());
    assert!(f.outside.join("secret.json").exists());
}

#[tokio::test]
async fn a_tree_deeper_than_any_key_fails_the_listing_instead_of_the_process() {
    let f = fixture();
    // 600 levels of `d/`: 1200 bytes, past S3's 1024-byte keys (made relative, as PATH_MAX allows).
    let deep = ["d"; 600].join("/");
    std::fs::create_dir_all(f.bucket.join(&deep)).unwrap();
    std::fs::write(f.bucket.join(&deep).join("x"), "").unwrap();
    let e = f.store.list(None).try_collect::<Vec<_>>().await.unwrap_err();
    assert!(e.to_string().contains("1024 bytes"), "{e}");
}
