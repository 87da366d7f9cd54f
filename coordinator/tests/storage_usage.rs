//! Bucket mappings and bucket names checked before any request, through the real `dmap`
//! binary (probe 2026-12: H6, M10, L2, L3): malformed mappings are bad usage (exit 2) and never
//! echo a secret; names that break S3's rules fail the run clearly without contacting anyone.

mod support;

use serde_json::{Value, json};
use support::dmap::{Ran, Run, distributed_map};

fn definition(dir: &std::path::Path, fields: Value) -> String {
    let file = dir.join("def.json");
    std::fs::write(&file, distributed_map(fields).to_string()).unwrap();
    file.to_string_lossy().into_owned()
}

fn reader(bucket: &str, key: &str) -> Value {
    json!({"ItemReader": {
        "Resource": "arn:aws:states:::s3:getObject",
        "ReaderConfig": {"InputType": "JSON"},
        "Parameters": {"Bucket": bucket, "Key": key}
    }})
}

fn writer(bucket: &str) -> Value {
    json!({
        "ItemsPath": "$.xs",
        "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": bucket, "Prefix": "out"}}
    })
}

/// Runs in `dir` with environment credentials and an endpoint nobody listens on, so that a
/// request, if one were made, could reach neither AWS nor instance metadata.
fn run(dir: &std::path::Path, def: &str) -> Run {
    Run::new(def)
        .current_dir(dir)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_ENDPOINT", "http://127.0.0.1:1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
}

fn bad_usage(ran: &Ran, secret: &str) {
    assert_eq!(ran.code, 2, "stdout: {}\nstderr: {}", ran.stdout, ran.stderr);
    assert!(!ran.stderr.contains(secret) && !ran.stdout.contains(secret), "secret shown: {}", ran.stderr);
    assert!(!ran.stderr.contains("panicked"), "{}", ran.stderr);
    assert!(ran.stderr.contains("invalid bucket mapping"), "{}", ran.stderr);
}

#[test]
fn malformed_endpoint_urls_are_bad_usage_at_start() {
    // H6: each panicked inside object_store at the first request (exit 101).
    let dir = tempfile::tempdir().unwrap();
    let def = definition(dir.path(), reader("bkt", "items.json"));
    for url in [
        "http://AK:SECRETV@127.0.0.1:99999/bkt",
        "http://AK:SECRETV@127.0.0.1:70000/bkt",
        "http://AK:SECRETV@:1/bkt",
        "http://AK:SECRETV@[::1/bkt",
        "http://AK:SECRETV@127.0.0.1:1/bkt?x=1",
        "http://AK:SECRETV@127.0.0.1:1/bkt#top",
    ] {
        let ran = run(dir.path(), &def).arg("--bucket").arg(&format!("bkt={url}")).go();
        bad_usage(&ran, "SECRETV");
    }
}

#[test]
fn mapping_errors_never_echo_credentials() {
    // M10: the secret was printed in "invalid bucket mapping '…'".
    let dir = tempfile::tempdir().unwrap();
    let def = definition(dir.path(), reader("bkt", "items.json"));
    let ran = run(dir.path(), &def).arg("--bucket").arg("bkt=http://AK:SECRETV@host:1/a/b").go();
    bad_usage(&ran, "SECRETV");
    assert!(ran.stderr.contains("***@host:1/a/b"), "{}", ran.stderr);
}

#[test]
fn a_mistyped_scheme_is_bad_usage_and_creates_nothing() {
    // M10: `htp://KEY:SECRET@…` was taken as a relative directory named after the secret.
    let dir = tempfile::tempdir().unwrap();
    let def = definition(dir.path(), writer("bkt"));
    let spec = "bkt=htp://AKIDSECRETKEYID:SUPERSECRETVALUE123@127.0.0.1:1/bkt";
    let ran = run(dir.path(), &def).arg("--bucket").arg(spec).arg("--input-json").arg(r#"{"xs":[1]}"#).go();
    bad_usage(&ran, "SUPERSECRETVALUE123");
    assert!(ran.stderr.contains("not a storage scheme"), "{}", ran.stderr);
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names, ["def.json"], "nothing but the definition in the working directory");
}

#[test]
fn a_mapped_name_must_be_an_s3_bucket_name() {
    let dir = tempfile::tempdir().unwrap();
    let def = definition(dir.path(), reader("bkt", "items.json"));
    for spec in ["b=data", "My_Bucket=data", "a..b=data", "10.0.0.1=data"] {
        let ran = run(dir.path(), &def).arg("--bucket").arg(spec).go();
        assert_eq!(ran.code, 2, "{spec}: {}", ran.stderr);
        assert!(ran.stderr.contains("is not a bucket name"), "{spec}: {}", ran.stderr);
    }
}

/// The failure output of a run that must fail (exit 1).
fn failure(ran: &Ran) -> (String, String) {
    assert_eq!(ran.code, 1, "stdout: {}\nstderr: {}", ran.stdout, ran.stderr);
    let out: Value = serde_json::from_str(&ran.stdout).expect("the failure output is JSON");
    (out["Error"].as_str().unwrap_or("").into(), out["Cause"].as_str().unwrap_or("").into())
}

#[test]
fn names_from_a_definition_are_checked_before_any_request() {
    // L3: unmapped names like these went to the real-S3 path, which asked instance metadata.
    let dir = tempfile::tempdir().unwrap();
    for bucket in ["../outside", "b/../x", "/tmp/outside", "b\u{0}"] {
        let def = definition(dir.path(), reader(bucket, "items.json"));
        let (error, cause) = failure(&run(dir.path(), &def).go());
        assert_eq!(error, "States.ItemReaderFailed", "{bucket:?}");
        assert!(cause.contains("is not a valid S3 bucket name"), "{bucket:?}: {cause}");
        assert!(cause.contains(&bucket.escape_debug().to_string()), "{bucket:?}: {cause}");

        let def = definition(dir.path(), writer(bucket));
        let ran = run(dir.path(), &def).arg("--input-json").arg(r#"{"xs":[1]}"#).go();
        let (error, cause) = failure(&ran);
        assert_eq!(error, "States.ResultWriterFailed", "{bucket:?}");
        assert!(cause.contains("is not a valid S3 bucket name"), "{bucket:?}: {cause}");
    }
}

#[test]
fn an_empty_key_is_named_as_such() {
    // L2: the cause was object_store's "Filenames containing trailing '/#\d+/' …".
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("data")).unwrap();
    let def = definition(dir.path(), reader("bkt", ""));
    let ran = run(dir.path(), &def).bucket("bkt", &dir.path().join("data")).go();
    let (error, cause) = failure(&ran);
    assert_eq!(error, "States.ItemReaderFailed");
    assert_eq!(cause, "The ItemReader's Parameters field 'Key' is empty.");
}
