//! Storage: where each S3 bucket named in a definition lives. A bucket is mapped to a local
//! directory (its object keys are paths under it), to a bucket on AWS S3 (`s3://bucket`), or to
//! a bucket on an S3-compatible endpoint (`http(s)://[key:secret@]host:port[/bucket]`, addressed
//! path-style). Mappings come from repeated `--bucket NAME=PATH_OR_URL` options and from a TOML
//! file (`[buckets]` with `name = "path or url"`).
//!
//! **A bucket that is not mapped is read from AWS S3 under its own name** (as if mapped to
//! `s3://NAME`), with credentials and region from the environment, as Step Functions itself
//! would — unless the storage was built with [`Unmapped::Refuse`].
//!
//! Credentials for S3 and endpoints come, in order, from the endpoint URL's user info (for
//! local test servers), the standard `AWS_*` environment variables (read as
//! `AmazonS3Builder::from_env` reads them), the static keys of the shared credentials or config file's
//! profile (`AWS_PROFILE`, default `default`; SSO and `credential_process` are not read), and
//! last object_store's own providers (web identity, container, instance metadata). The region
//! comes from `AWS_REGION`/`AWS_DEFAULT_REGION`, then the profile, then `us-east-1`.
//!
//! This module builds and caches object stores; it reads and writes no objects itself.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use object_store::ObjectStore;
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};

mod beneath;
mod bucket_name;
mod location;
mod sandbox;

pub use location::Location;
pub use sandbox::DirectoryBucket;

const DEFAULT_REGION: &str = "us-east-1";

/// Buckets mapped to locations, and the object stores built for them so far.
pub struct Storage {
    buckets: BTreeMap<String, Location>,
    unmapped: Unmapped,
    env: Vec<(String, String)>,
    stores: Mutex<HashMap<String, Arc<dyn ObjectStore>>>,
}

/// What [`Storage::store`] does with a bucket that no mapping names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unmapped {
    /// Read it from AWS S3 under its own name, as Step Functions would (the default).
    AwsS3,
    /// Refuse it with [`StorageError::NotMapped`] (for runs that must stay local).
    Refuse,
}

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("invalid bucket mapping '{spec}': {reason}")]
    InvalidSpec { spec: String, reason: String },
    #[error("bucket '{0}' is mapped twice")]
    Duplicate(String),
    #[error("cannot read the storage config '{path}': {source}")]
    ConfigRead { path: PathBuf, source: std::io::Error },
    #[error("invalid storage config '{path}': {message}")]
    ConfigParse { path: PathBuf, message: String },
    #[error("bucket '{0}' is not mapped to a directory or endpoint")]
    NotMapped(String),
    #[error("bucket '{bucket}' is mapped to the directory '{}', which cannot be opened: {source}", path.display())]
    Directory { bucket: String, path: PathBuf, source: std::io::Error },
    #[error("the environment variable {var} is not a usable endpoint URL: {reason}")]
    EndpointVariable { var: String, reason: String },
    #[error("'{}' is not a valid S3 bucket name: {rule}", name.escape_debug())]
    InvalidBucketName { name: String, rule: &'static str },
    #[error("cannot connect bucket '{bucket}': {source}")]
    Build { bucket: String, source: object_store::Error },
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default)]
    buckets: BTreeMap<String, String>,
    /// `dmap serve`'s table (access keys, read by `serve::auth`): one file configures both.
    #[serde(default, rename = "serve")]
    _serve: Option<toml::Table>,
}

impl Storage {
    /// No mappings: every bucket is read from AWS S3.
    pub fn new() -> Storage {
        let env = std::env::vars().filter(|(k, _)| k.starts_with("AWS_") || k == "HOME").collect();
        Storage::with_env(env)
    }

    fn with_env(env: Vec<(String, String)>) -> Storage {
        Storage { buckets: BTreeMap::new(), unmapped: Unmapped::AwsS3, env, stores: Mutex::new(HashMap::new()) }
    }

    /// Mappings from `NAME=PATH_OR_URL` strings (the `--bucket` options). Relative paths are
    /// taken from the current directory.
    pub fn from_specs(specs: &[String]) -> Result<Storage, StorageError> {
        let mut storage = Storage::new();
        for spec in specs {
            // The spec may carry credentials in a URL: errors show it redacted.
            let invalid =
                |reason: &str| StorageError::InvalidSpec { spec: location::redact(spec), reason: reason.into() };
            let (name, value) = spec.split_once('=').ok_or_else(|| invalid("expected NAME=PATH_OR_URL"))?;
            let location = Location::parse(name, value, None).map_err(|r| invalid(&r))?;
            storage.insert(name, location)?;
        }
        Ok(storage)
    }

    /// Mappings from a TOML file's `[buckets]` table. Relative paths are taken from the file's
    /// directory, so a config file can sit next to its data.
    pub fn from_config(path: &Path) -> Result<Storage, StorageError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| StorageError::ConfigRead { path: path.to_path_buf(), source })?;
        let parse_error = |message: String| StorageError::ConfigParse { path: path.to_path_buf(), message };
        let file: ConfigFile = toml::from_str(&text).map_err(|e| parse_error(e.message().to_string()))?;
        let base = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let mut storage = Storage::new();
        for (name, value) in &file.buckets {
            let location = Location::parse(name, value, Some(base)).map_err(|r| parse_error(format!("{name}: {r}")))?;
            storage.insert(name, location)?;
        }
        Ok(storage)
    }

    /// Both sets of mappings; `other`'s win where both name a bucket (command-line options
    /// over a config file).
    pub fn merge(mut self, other: Storage) -> Storage {
        self.buckets.extend(other.buckets);
        self.stores = Mutex::new(HashMap::new());
        self
    }

    /// The same mappings with another policy for buckets they do not name.
    pub fn with_unmapped(mut self, unmapped: Unmapped) -> Storage {
        self.unmapped = unmapped;
        self.stores = Mutex::new(HashMap::new());
        self
    }

    /// Maps one bucket in code (tests, embedding). The name must follow S3's rules.
    pub fn insert(&mut self, name: &str, location: Location) -> Result<(), StorageError> {
        check_name(name)?;
        if self.buckets.insert(name.to_string(), location).is_some() {
            return Err(StorageError::Duplicate(name.to_string()));
        }
        Ok(())
    }

    /// Where `bucket` lives. A name that breaks S3's naming rules is refused here, before any
    /// request could carry it (mapped names were checked when they were mapped).
    pub fn location(&self, bucket: &str) -> Result<Location, StorageError> {
        match (self.buckets.get(bucket), self.unmapped) {
            (Some(l), _) => Ok(l.clone()),
            (None, _) if let Err(e) = check_name(bucket) => Err(e),
            (None, Unmapped::AwsS3) => Ok(Location::S3 { bucket: bucket.to_string() }),
            (None, Unmapped::Refuse) => Err(StorageError::NotMapped(bucket.to_string())),
        }
    }

    /// The object store holding `bucket`'s objects (keys are relative to the bucket). Built on
    /// first use and cached; building contacts no server.
    pub fn store(&self, bucket: &str) -> Result<Arc<dyn ObjectStore>, StorageError> {
        if let Some(s) = self.stores.lock().expect("storage cache poisoned").get(bucket) {
            return Ok(s.clone());
        }
        let store = self.build(bucket, self.location(bucket)?)?;
        let mut stores = self.stores.lock().expect("storage cache poisoned");
        Ok(stores.entry(bucket.to_string()).or_insert(store).clone())
    }

    fn build(&self, name: &str, location: Location) -> Result<Arc<dyn ObjectStore>, StorageError> {
        let build_error = |source| StorageError::Build { bucket: name.to_string(), source };
        match location {
            // A bucket is a directory: like creating a bucket, a missing one is made (results
            // usually go to a fresh one); reading from it then reports the missing object.
            Location::Directory(path) => {
                match std::fs::create_dir_all(&path).and_then(|_| DirectoryBucket::open(&path)) {
                    Ok(bucket) => Ok(Arc::new(bucket)),
                    Err(source) => Err(StorageError::Directory { bucket: name.to_string(), path, source }),
                }
            }
            Location::S3 { bucket } => {
                self.check_env_endpoints()?;
                let builder = self.env_builder(true).with_bucket_name(bucket);
                Ok(Arc::new(builder.build().map_err(build_error)?))
            }
            Location::Endpoint { url, bucket, credentials } => {
                // Explicit credentials replace the environment's entirely: a session token from
                // the environment would not belong to them.
                let builder = match credentials {
                    Some((key, secret)) => self
                        .region_builder(AmazonS3Builder::new())
                        .with_access_key_id(key)
                        .with_secret_access_key(secret),
                    None => self.env_builder(false),
                };
                let builder = builder
                    .with_endpoint(url.clone())
                    .with_allow_http(url.starts_with("http://"))
                    .with_virtual_hosted_style_request(false)
                    .with_bucket_name(bucket);
                Ok(Arc::new(builder.build().map_err(build_error)?))
            }
        }
    }

    /// The endpoint variables an `s3://` bucket uses, checked as `--bucket` endpoints are: a
    /// malformed one would otherwise panic inside object_store at the first request.
    fn check_env_endpoints(&self) -> Result<(), StorageError> {
        for (key, value) in &self.env {
            let config = key.to_ascii_lowercase().parse::<AmazonS3ConfigKey>();
            if matches!(config, Ok(AmazonS3ConfigKey::Endpoint | AmazonS3ConfigKey::S3Endpoint)) && !value.is_empty() {
                location::check_endpoint_url(value)
                    .map_err(|reason| StorageError::EndpointVariable { var: key.clone(), reason })?;
            }
        }
        Ok(())
    }

    /// `AmazonS3Builder::from_env` over the captured environment, then the profile's keys when
    /// the environment has none. `keep_endpoint` keeps `AWS_ENDPOINT` and `AWS_ENDPOINT_URL_S3`
    /// for `s3://` buckets; a bucket mapped to an endpoint ignores both (the S3 one would
    /// otherwise take precedence over the mapping inside object_store).
    fn env_builder(&self, keep_endpoint: bool) -> AmazonS3Builder {
        let mut builder = AmazonS3Builder::new();
        for (key, value) in &self.env {
            if let Ok(config) = key.to_ascii_lowercase().parse::<AmazonS3ConfigKey>()
                && (keep_endpoint || !matches!(config, AmazonS3ConfigKey::Endpoint | AmazonS3ConfigKey::S3Endpoint))
            {
                builder = builder.with_config(config, value);
            }
        }
        if self.var("AWS_ACCESS_KEY_ID").is_none() {
            let profile = self.profile();
            if let (Some(key), Some(secret)) = (profile.get("aws_access_key_id"), profile.get("aws_secret_access_key"))
            {
                builder = builder.with_access_key_id(key).with_secret_access_key(secret);
                if let Some(token) = profile.get("aws_session_token") {
                    builder = builder.with_token(token);
                }
            }
        }
        self.region_builder(builder)
    }

    fn region_builder(&self, builder: AmazonS3Builder) -> AmazonS3Builder {
        let region = self.var("AWS_REGION").or_else(|| self.var("AWS_DEFAULT_REGION")).map(str::to_string);
        let region = region.or_else(|| self.profile().remove("region"));
        builder.with_region(region.unwrap_or_else(|| DEFAULT_REGION.to_string()))
    }

    fn var(&self, name: &str) -> Option<&str> {
        self.env.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
    }

    /// The selected profile's keys from the credentials file, then the config file.
    fn profile(&self) -> HashMap<String, String> {
        let name = self.var("AWS_PROFILE").unwrap_or("default");
        let home = self.var("HOME").map(PathBuf::from);
        let file = |var: &str, default: &str| {
            self.var(var).map(PathBuf::from).or_else(|| home.as_ref().map(|h| h.join(".aws").join(default)))
        };
        let mut keys = HashMap::new();
        // The config file names sections `[profile NAME]`, except `[default]`.
        let config_section = match name {
            "default" => "default".to_string(),
            other => format!("profile {other}"),
        };
        for (path, section) in [
            (file("AWS_CONFIG_FILE", "config"), config_section),
            (file("AWS_SHARED_CREDENTIALS_FILE", "credentials"), name.to_string()),
        ] {
            if let Some(text) = path.and_then(|p| std::fs::read_to_string(p).ok()) {
                keys.extend(ini_section(&text, &section));
            }
        }
        keys
    }
}

impl Default for Storage {
    fn default() -> Self {
        Storage::new()
    }
}

/// Secrets stay out of logs.
impl fmt::Debug for Storage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Storage").field("buckets", &self.buckets).field("unmapped", &self.unmapped).finish()
    }
}

/// S3's naming rules for `name`.
pub fn check_name(name: &str) -> Result<(), StorageError> {
    bucket_name::check(name).map_err(|rule| StorageError::InvalidBucketName { name: name.to_string(), rule })
}

/// The `key = value` lines of one `[section]` of an INI file, keys lower-cased.
fn ini_section(text: &str, section: &str) -> Vec<(String, String)> {
    let mut inside = false;
    let mut out = Vec::new();
    for line in text.lines().map(str::trim) {
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            inside = name.trim() == section;
        } else if inside && let Some((k, v)) = line.split_once('=') {
            out.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use object_store::ObjectStoreExt;

    fn specs(s: &[&str]) -> Result<Storage, StorageError> {
        Storage::from_specs(&s.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn specs_map_directories_s3_and_endpoints() {
        let s = specs(&[
            "local=data/in",
            "real=s3://other-bucket",
            "minio=http://127.0.0.1:9000",
            "aliased=https://KEY:se%2Bc/ret@s3.example.com:443/theirs/",
        ])
        .unwrap();
        assert_eq!(s.location("local").unwrap(), Location::Directory("data/in".into()));
        assert_eq!(s.location("real").unwrap(), Location::S3 { bucket: "other-bucket".into() });
        let minio =
            Location::Endpoint { url: "http://127.0.0.1:9000".into(), bucket: "minio".into(), credentials: None };
        assert_eq!(s.location("minio").unwrap(), minio);
        let creds = Some(("KEY".to_string(), "se+c/ret".to_string()));
        let aliased = Location::Endpoint {
            url: "https://s3.example.com:443".into(),
            bucket: "theirs".into(),
            credentials: creds,
        };
        assert_eq!(s.location("aliased").unwrap(), aliased);
        assert!(!format!("{s:?}").contains("se+c"), "Debug must not show secrets");
    }

    #[test]
    fn bad_specs_are_refused() {
        for bad in [
            "noequals",
            "=dir",
            "a/b=dir",
            "xyz=",
            "xyz=s3://",
            "xyz=s3://bkt/prefix",
            "xyz=http://",
            "xyz=http://h/b/p",
        ] {
            assert!(matches!(specs(&[bad]), Err(StorageError::InvalidSpec { .. })), "{bad}");
        }
        assert!(matches!(specs(&["abc=x", "abc=y"]), Err(StorageError::Duplicate(b)) if b == "abc"));
    }

    #[test]
    fn spec_errors_never_show_credentials() {
        // M10: the secret was echoed in the error, and a mistyped scheme became a directory.
        for bad in [
            "bkt=http://AK:SECRETV@host:1/a/b",
            "bkt=htp://AKIDSECRETKEYID:SUPERSECRETVALUE123@127.0.0.1:1/bkt",
            "bkt=http://AK:SECRETV@127.0.0.1:99999/bkt",
            "bkt=https://AK:SECRETV@host:1/bkt?x=1",
        ] {
            let e = specs(&[bad]).expect_err(bad);
            let (shown, debug) = (e.to_string(), format!("{e:?}"));
            assert!(matches!(e, StorageError::InvalidSpec { .. }), "{bad}");
            for text in [shown, debug] {
                assert!(!text.contains("SECRET") && text.contains("***@"), "{bad}: {text}");
            }
        }
    }

    #[test]
    fn bucket_names_follow_s3_rules_before_any_request() {
        // L3: such names were passed to the real-S3 path, which contacted instance metadata.
        let s = Storage::new();
        for bad in ["../outside", "b/../x", "/tmp/outside", "b\u{0}", "b", "Upper"] {
            assert!(matches!(s.location(bad), Err(StorageError::InvalidBucketName { .. })), "{bad}");
            assert!(matches!(s.store(bad), Err(StorageError::InvalidBucketName { .. })), "{bad}");
        }
        assert!(matches!(specs(&["b=dir"]), Err(StorageError::InvalidSpec { .. })));
        let mut s = Storage::new();
        assert!(matches!(
            s.insert("a_b", Location::Directory("d".into())),
            Err(StorageError::InvalidBucketName { .. })
        ));
    }

    #[test]
    fn malformed_endpoint_variables_fail_the_bucket_not_the_process() {
        for (var, url) in [("AWS_ENDPOINT", "http://127.0.0.1:99999"), ("AWS_ENDPOINT_URL_S3", "http://K:S@[::1")] {
            let s = Storage::with_env(vec![(var.to_string(), url.to_string())]);
            let e = s.store("some-bucket").unwrap_err();
            assert!(matches!(&e, StorageError::EndpointVariable { var: v, .. } if v == var), "{e}");
            assert!(!e.to_string().contains("K:S"), "{e}");
        }
        let s = Storage::with_env(vec![("AWS_ENDPOINT".into(), "https://s3.example.com:8443/".into())]);
        assert!(s.store("some-bucket").is_ok());
    }

    #[test]
    fn unmapped_buckets_go_to_aws_s3_unless_refused() {
        let s = Storage::new();
        assert_eq!(s.location("anything").unwrap(), Location::S3 { bucket: "anything".into() });
        assert!(s.store("anything").is_ok(), "building an S3 store contacts nothing");
        let s = s.with_unmapped(Unmapped::Refuse);
        assert!(matches!(s.location("anything"), Err(StorageError::NotMapped(_))));
        assert!(matches!(s.store("anything"), Err(StorageError::NotMapped(_))));
    }

    #[test]
    fn config_file_paths_are_relative_to_the_file_and_specs_override_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dmap.toml");
        std::fs::write(&path, "[buckets]\ninput = \"data\"\noutput = \"s3://results\"\n").unwrap();
        let s = Storage::from_config(&path).unwrap();
        assert_eq!(s.location("input").unwrap(), Location::Directory(dir.path().join("data")));
        let s = s.merge(specs(&["output=/tmp/out"]).unwrap());
        assert_eq!(s.location("output").unwrap(), Location::Directory("/tmp/out".into()));
        assert_eq!(s.location("input").unwrap(), Location::Directory(dir.path().join("data")));

        std::fs::write(&path, "[buckets]\ninput = \"data\"\n[[serve.access_keys]]\naccess_key_id = \"A\"\n").unwrap();
        assert!(Storage::from_config(&path).is_ok(), "the [serve] table is dmap serve's, not an error");
        std::fs::write(&path, "[bucket]\ninput = \"data\"\n").unwrap();
        assert!(matches!(Storage::from_config(&path), Err(StorageError::ConfigParse { .. })));
        std::fs::write(&path, "[buckets]\ninput = 3\n").unwrap();
        assert!(matches!(Storage::from_config(&path), Err(StorageError::ConfigParse { .. })));
        let missing = dir.path().join("missing.toml");
        assert!(matches!(Storage::from_config(&missing), Err(StorageError::ConfigRead { .. })));
    }

    #[tokio::test]
    async fn directory_stores_are_built_once_and_read_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("b/k")).unwrap();
        std::fs::write(dir.path().join("b/k/x.json"), "[1]").unwrap();
        // A bucket directory is created when missing; one that cannot be (under a file) fails.
        std::fs::write(dir.path().join("file"), "").unwrap();
        let blocked = dir.path().join("file/sub");
        let s = specs(&[
            &format!("bkt={}", dir.path().join("b").display()),
            &format!("gone={}", blocked.display()),
            &format!("fresh={}", dir.path().join("fresh").display()),
        ])
        .unwrap();
        assert!(s.store("fresh").is_ok() && dir.path().join("fresh").is_dir());
        let store = s.store("bkt").unwrap();
        assert!(Arc::ptr_eq(&store, &s.store("bkt").unwrap()));
        let path = object_store::path::Path::parse("k/x.json").unwrap();
        assert_eq!(&store.get(&path).await.unwrap().bytes().await.unwrap()[..], b"[1]");
        assert!(matches!(s.store("gone"), Err(StorageError::Directory { .. })));
    }

    #[test]
    fn credentials_and_region_come_from_env_then_profile() {
        let home = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(home.path().join(".aws")).unwrap();
        let creds = "[default]\naws_access_key_id = DEF\naws_secret_access_key = defsecret\n\
                     [work]\naws_access_key_id = WORK\naws_secret_access_key = worksecret\naws_session_token = tok\n";
        std::fs::write(home.path().join(".aws/credentials"), creds).unwrap();
        std::fs::write(home.path().join(".aws/config"), "[profile work]\nregion = eu-west-3\n").unwrap();
        let home_var = ("HOME".to_string(), home.path().display().to_string());
        let get = |b: &AmazonS3Builder, k: AmazonS3ConfigKey| b.get_config_value(&k);

        let s = Storage::with_env(vec![home_var.clone()]);
        let b = s.env_builder(true);
        assert_eq!(get(&b, AmazonS3ConfigKey::AccessKeyId).as_deref(), Some("DEF"));
        assert_eq!(get(&b, AmazonS3ConfigKey::Region).as_deref(), Some(DEFAULT_REGION));

        let s = Storage::with_env(vec![home_var.clone(), ("AWS_PROFILE".into(), "work".into())]);
        let b = s.env_builder(true);
        assert_eq!(get(&b, AmazonS3ConfigKey::AccessKeyId).as_deref(), Some("WORK"));
        assert_eq!(get(&b, AmazonS3ConfigKey::Token).as_deref(), Some("tok"));
        assert_eq!(get(&b, AmazonS3ConfigKey::Region).as_deref(), Some("eu-west-3"));

        let env = vec![
            home_var,
            ("AWS_ACCESS_KEY_ID".into(), "ENV".into()),
            ("AWS_SECRET_ACCESS_KEY".into(), "envsecret".into()),
            ("AWS_REGION".into(), "ap-south-1".into()),
            ("AWS_ENDPOINT".into(), "http://elsewhere:1".into()),
        ];
        let s = Storage::with_env(env);
        let b = s.env_builder(false);
        assert_eq!(get(&b, AmazonS3ConfigKey::AccessKeyId).as_deref(), Some("ENV"));
        assert_eq!(get(&b, AmazonS3ConfigKey::Region).as_deref(), Some("ap-south-1"));
        assert_eq!(get(&b, AmazonS3ConfigKey::Endpoint), None, "an endpoint mapping sets its own URL");
    }
}
