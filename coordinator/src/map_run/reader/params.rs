//! The ItemReader's evaluated `Parameters` (`Bucket`, `Key`, `Prefix`, `VersionId`), and the
//! name of one object as readers pass it around. `ExpectedBucketOwner` is accepted and not
//! checked: local storage has no accounts.

use std::sync::Arc;

use object_store::path::Path;
use serde_json::Value;
use shared::asl::Failure;

use super::failure;

pub struct Params {
    pub bucket: String,
    pub key: Option<String>,
    pub prefix: String,
    pub version: Option<String>,
}

impl Params {
    pub fn parse(v: &Value) -> Result<Params, Failure> {
        let text = |name: &str| match v.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(failure::parameter(name, "must be a string")),
        };
        let bucket = text("Bucket")?.ok_or_else(|| failure::parameter("Bucket", "is missing"))?;
        if bucket.is_empty() {
            return Err(failure::parameter("Bucket", "is empty"));
        }
        Ok(Params {
            bucket,
            key: text("Key")?,
            prefix: text("Prefix")?.unwrap_or_default(),
            version: text("VersionId")?,
        })
    }

    /// The object a getObject reader reads.
    pub fn object(&self) -> Result<ObjectRef, Failure> {
        let key = self.key.as_deref().ok_or_else(|| failure::parameter("Key", "is missing"))?;
        if key.is_empty() {
            // Not a key any store can hold; said here rather than in a store's internal terms.
            return Err(failure::parameter("Key", "is empty"));
        }
        let mut object = ObjectRef::new(&self.bucket, key);
        object.version = self.version.clone();
        Ok(object)
    }
}

/// One object: where it is, and its `s3://bucket/key` name for `$$.Map.Item.Source` and causes.
#[derive(Debug, Clone)]
pub struct ObjectRef {
    pub bucket: String,
    pub key: String,
    pub version: Option<String>,
    pub uri: Arc<str>,
}

impl ObjectRef {
    pub fn new(bucket: &str, key: &str) -> ObjectRef {
        ObjectRef { bucket: bucket.into(), key: key.into(), version: None, uri: format!("s3://{bucket}/{key}").into() }
    }

    /// Parses `s3://bucket/key`.
    pub fn from_uri(uri: &str) -> Option<ObjectRef> {
        let (bucket, key) = uri.strip_prefix("s3://")?.split_once('/')?;
        (!bucket.is_empty() && !key.is_empty()).then(|| ObjectRef::new(bucket, key))
    }

    /// The key as an object_store path. `Path::parse` keeps the key's characters as they are
    /// (`Path::from` would percent-encode some), so the store is asked for the same key S3
    /// would be.
    pub fn path(&self) -> Result<Path, Failure> {
        Path::parse(&self.key).map_err(|e| failure::unsupported_key(&self.uri, &e))
    }

    pub fn source(&self) -> Option<Arc<str>> {
        Some(self.uri.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_bucket_key_prefix_and_version() {
        let p = Params::parse(&json!({"Bucket": "b", "Key": "a/k.csv", "VersionId": "v1", "ExpectedBucketOwner": "1"}))
            .unwrap();
        let o = p.object().unwrap();
        assert_eq!((&*o.uri, o.version.as_deref()), ("s3://b/a/k.csv", Some("v1")));
        assert_eq!(Params::parse(&json!({"Bucket": "b", "Prefix": "p/"})).unwrap().prefix, "p/");
        for bad in [json!({}), json!({"Bucket": 1}), json!({"Bucket": ""})] {
            assert!(Params::parse(&bad).is_err(), "{bad}");
        }
        assert!(Params::parse(&json!({"Bucket": "b"})).unwrap().object().is_err());
        let empty = Params::parse(&json!({"Bucket": "b", "Key": ""})).unwrap().object().unwrap_err();
        assert_eq!(empty.cause.as_deref(), Some("The ItemReader's Parameters field 'Key' is empty."));
    }

    #[test]
    fn parses_s3_uris() {
        let o = ObjectRef::from_uri("s3://bucket/dir/file.csv").unwrap();
        assert_eq!((o.bucket.as_str(), o.key.as_str()), ("bucket", "dir/file.csv"));
        for bad in ["s3://bucket", "s3://bucket/", "s3:///k", "https://b/k"] {
            assert!(ObjectRef::from_uri(bad).is_none(), "{bad}");
        }
    }
}
