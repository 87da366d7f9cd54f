//! A case's `s3_objects` and `s3_buckets` written to a temporary directory laid out as
//! `<dir>/<bucket>/<key>`: the bucket store an execution's ItemReader and ResultWriter will use
//! once a storage host exists. The directory is deleted when the returned [`TempDir`] drops.
//!
//! Keys are checked so that no object lands outside its bucket's directory.

use std::collections::BTreeMap;
use std::io;

use tempfile::TempDir;

/// Splits `<bucket>/<key>` and checks both parts can be files under the store directory.
pub fn split_object_key(full: &str) -> Result<(&str, &str), &'static str> {
    let (bucket, key) = full.split_once('/').ok_or("must be <bucket>/<key>")?;
    check_bucket(bucket)?;
    if key.is_empty() || key.ends_with('/') {
        return Err("the key must name an object, not a folder");
    }
    if key.split('/').any(|s| s.is_empty() || s == "." || s == "..") || key.contains('\\') {
        return Err("the key must be a relative path without '.', '..', empty segments or '\\'");
    }
    Ok((bucket, key))
}

fn check_bucket(bucket: &str) -> Result<(), &'static str> {
    let valid = !bucket.is_empty()
        && bucket != "."
        && bucket != ".."
        && bucket.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.');
    match valid {
        true => Ok(()),
        false => Err("the bucket name must be lowercase letters, digits, '-' and '.'"),
    }
}

/// Creates a temporary bucket store holding `objects` (keyed `<bucket>/<key>`, body as text)
/// and an empty directory for each of `buckets` that has no object.
pub fn write_objects(objects: &BTreeMap<String, String>, buckets: &[String]) -> io::Result<TempDir> {
    let invalid = |what: &str, m: &str| io::Error::new(io::ErrorKind::InvalidInput, format!("{what}: {m}"));
    let dir = tempfile::Builder::new().prefix("dmap-test-s3-").tempdir()?;
    for bucket in buckets {
        check_bucket(bucket).map_err(|m| invalid(bucket, m))?;
        std::fs::create_dir_all(dir.path().join(bucket))?;
    }
    for (full, body) in objects {
        let (bucket, key) = split_object_key(full).map_err(|m| invalid(full, m))?;
        let path = dir.path().join(bucket).join(key);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, body)?;
    }
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lays_out_bucket_and_key_and_cleans_up() {
        let objects = BTreeMap::from([
            ("bucket-1/file.csv".to_string(), "a,b\n1,2\n".to_string()),
            ("bucket-1/dir/nested.json".to_string(), "[1]".to_string()),
        ]);
        let dir = write_objects(&objects, &["result-bucket".to_string()]).unwrap();
        let root = dir.path().to_path_buf();
        assert_eq!(std::fs::read_to_string(root.join("bucket-1/file.csv")).unwrap(), "a,b\n1,2\n");
        assert_eq!(std::fs::read_to_string(root.join("bucket-1/dir/nested.json")).unwrap(), "[1]");
        assert!(root.join("result-bucket").is_dir());
        drop(dir);
        assert!(!root.exists());
    }

    #[test]
    fn keys_stay_inside_their_bucket() {
        for bad in ["nokey", "b/", "b/../x", "b//x", "b/./x", "b/a/./x", "/x", "../b/x", "B/x"] {
            assert!(split_object_key(bad).is_err(), "{bad}");
        }
        assert_eq!(split_object_key("b/a/c.txt"), Ok(("b", "a/c.txt")));
    }
}
