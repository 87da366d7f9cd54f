//! Exports against `InMemory` and a directory bucket: file names, contents, rollover, manifest,
//! and failures. `check` exports records and compares the whole store with the expected files.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::storage::DirectoryBucket;
use futures::TryStreamExt;
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use serde_json::{Value, json};
use shared::asl::error_name::RESULT_WRITER_FAILED;
use shared::asl::model::{OutputType, WriterTransformation};

use super::{child, none, returning};
use crate::map_run::record::{ChildRecord, ChildStatus};
use crate::map_run::writer::{ResultWriter, WriterOptions};

const ARN: &str = "arn:aws:states:us-east-1:1:mapRun:sm/Map:run-1";

/// Export to `s3://results/jobs/run-1/` with AWS's defaults (NONE, JSON, 5 GB files).
fn options() -> WriterOptions {
    WriterOptions {
        bucket: "results".to_owned(),
        prefix: "jobs".to_owned(),
        map_run_id: "run-1".to_owned(),
        map_run_arn: ARN.to_owned(),
        output_type: OutputType::Json,
        transformation: WriterTransformation::None,
        rollover_bytes: WriterOptions::DEFAULT_ROLLOVER_BYTES,
    }
}

fn shaped(output_type: OutputType, transformation: WriterTransformation) -> WriterOptions {
    WriterOptions { output_type, transformation, ..options() }
}

fn memory() -> Arc<dyn ObjectStore> {
    Arc::new(InMemory::new())
}

/// Exports `records` and checks that the store then holds exactly `files` (names under `dir`,
/// in manifest order, with their text) and a `manifest.json` listing them, and that the state
/// result points at that manifest. `part_bytes` shrinks upload parts to exercise multipart.
async fn check(
    store: Arc<dyn ObjectStore>,
    opts: WriterOptions,
    part_bytes: Option<usize>,
    records: &[ChildRecord],
    dir: &str,
    files: &[(&str, &str)],
) {
    let mut writer = ResultWriter::create(store.clone(), opts).await.unwrap();
    if let Some(part_bytes) = part_bytes {
        writer = writer.with_part_bytes(part_bytes);
    }
    for record in records {
        writer.write(record).await.unwrap();
    }
    let result = writer.finish().await.unwrap();

    let manifest_key = format!("{dir}manifest.json");
    let mut stored = read_all(&store).await;
    let manifest = stored.remove(&manifest_key).expect("manifest.json is written");
    let expected: BTreeMap<String, String> =
        files.iter().map(|(name, text)| (format!("{dir}{name}"), (*text).to_owned())).collect();
    assert_eq!(stored, expected);

    let listed = |kind: &str| -> Value {
        files
            .iter()
            .filter(|(name, _)| name.starts_with(&format!("{kind}_")))
            .map(|(name, text)| json!({"Key": format!("{dir}{name}"), "Size": text.len()}))
            .collect()
    };
    let expected_manifest = json!({
        "DestinationBucket": "results",
        "MapRunArn": ARN,
        "ResultFiles": {"FAILED": listed("FAILED"), "PENDING": listed("PENDING"), "SUCCEEDED": listed("SUCCEEDED")},
    });
    // Compared as text so that the field order is checked too.
    assert_eq!(manifest, expected_manifest.to_string());
    assert_eq!(result, json!({"MapRunArn": ARN, "ResultWriterDetails": {"Bucket": "results", "Key": manifest_key}}));
}

async fn read_all(store: &Arc<dyn ObjectStore>) -> BTreeMap<String, String> {
    let mut all = BTreeMap::new();
    for meta in store.list(None).try_collect::<Vec<_>>().await.unwrap() {
        let bytes = store.get(&meta.location).await.unwrap().bytes().await.unwrap();
        all.insert(meta.location.to_string(), String::from_utf8(bytes.to_vec()).unwrap());
    }
    all
}

/// Every status with its defaults: NONE records as JSON arrays, timed-out and aborted children
/// with the failed ones.
#[tokio::test]
async fn none_records_go_to_the_file_of_their_status() {
    use ChildStatus::*;
    let records = [child(1, Succeeded), child(2, Failed), child(3, TimedOut), child(4, Aborted), child(5, Pending)];
    let failed = format!("[{},{},{}]", none::FAILED_2, none::TIMED_OUT_3, none::ABORTED_4);
    let pending = format!("[{}]", none::PENDING_5);
    let succeeded = format!("[{}]", none::SUCCEEDED_1);
    let files = [("FAILED_0.json", &*failed), ("PENDING_0.json", &*pending), ("SUCCEEDED_0.json", &*succeeded)];
    check(memory(), options(), None, &records, "jobs/run-1/", &files).await;
}

#[tokio::test]
async fn input_and_output_are_embedded_as_json_strings() {
    let record = ChildRecord {
        input: r#"{"s":"a\"b\nc","u":"é"}"#.into(),
        output: Some(r#"["x\\y",null]"#.to_owned()),
        ..child(1, ChildStatus::Succeeded)
    };
    let expected = concat!(
        r#"[{"ExecutionArn":"arn:aws:states:us-east-1:1:execution:sm/Map:c1","#,
        r#""Input":"{\"s\":\"a\\\"b\\nc\",\"u\":\"é\"}","InputDetails":{"Included":true},"Name":"c1","#,
        r#""Output":"[\"x\\\\y\",null]","OutputDetails":{"Included":true},"#,
        r#""RedriveCount":0,"RedriveStatus":"NOT_REDRIVABLE","#,
        r#""RedriveStatusReason":"Execution is SUCCEEDED and cannot be redriven","#,
        r#""StartDate":"2025-02-04T01:49:49.001Z","#,
        r#""StateMachineArn":"arn:aws:states:us-east-1:1:stateMachine:sm/Map","#,
        r#""Status":"SUCCEEDED","StopDate":"2025-02-04T01:49:50.099Z"}]"#,
    );
    check(memory(), options(), None, &[record], "jobs/run-1/", &[("SUCCEEDED_0.json", expected)]).await;
}

#[tokio::test]
async fn jsonl_writes_one_record_per_line() {
    let records = [child(1, ChildStatus::Succeeded), child(2, ChildStatus::Failed), returning(3, "[1,2]")];
    let opts = shaped(OutputType::Jsonl, WriterTransformation::Compact);
    let failed = format!("{}\n", none::FAILED_2);
    let files = [("FAILED_0.json", &*failed), ("SUCCEEDED_0.json", "{\"n\":1,\"ok\":true}\n[1,2]\n")];
    check(memory(), opts, None, &records, "jobs/run-1/", &files).await;

    let opts = shaped(OutputType::Jsonl, WriterTransformation::None);
    let succeeded = format!("{}\n", none::SUCCEEDED_1);
    let records = [child(1, ChildStatus::Succeeded), child(2, ChildStatus::Failed)];
    let files = [("FAILED_0.json", &*failed), ("SUCCEEDED_0.json", &*succeeded)];
    check(memory(), opts, None, &records, "jobs/run-1/", &files).await;
}

#[tokio::test]
async fn compact_writes_outputs_and_keeps_failures_as_records() {
    use ChildStatus::*;
    let records = [child(1, Succeeded), child(2, Failed), returning(3, "[1,2]"), child(5, Pending)];
    let failed = format!("[{}]", none::FAILED_2);
    let pending = format!("[{}]", none::PENDING_5);
    let files = [
        ("FAILED_0.json", &*failed),
        ("PENDING_0.json", &*pending),
        ("SUCCEEDED_0.json", r#"[{"n":1,"ok":true},[1,2]]"#),
    ];
    check(memory(), shaped(OutputType::Json, WriterTransformation::Compact), None, &records, "jobs/run-1/", &files)
        .await;
}

#[tokio::test]
async fn flatten_opens_array_outputs_one_level() {
    let records = [
        returning(1, "[1,[2,3]]"),
        returning(2, "[]"),
        child(3, ChildStatus::TimedOut),
        returning(4, r#"{"a":[4]}"#),
        returning(5, r#""x""#),
    ];
    let failed = format!("[{}]", none::TIMED_OUT_3);
    let files = [("FAILED_0.json", &*failed), ("SUCCEEDED_0.json", r#"[1,[2,3],{"a":[4]},"x"]"#)];
    check(memory(), shaped(OutputType::Json, WriterTransformation::Flatten), None, &records, "jobs/run-1/", &files)
        .await;

    let failed = format!("{}\n", none::TIMED_OUT_3);
    let files = [("FAILED_0.json", &*failed), ("SUCCEEDED_0.json", "1\n[2,3]\n{\"a\":[4]}\n\"x\"\n")];
    check(memory(), shaped(OutputType::Jsonl, WriterTransformation::Flatten), None, &records, "jobs/run-1/", &files)
        .await;
}

/// A file takes entries while it stays within the rollover size, closing bytes included; an
/// entry too big for any file gets a file of its own.
#[tokio::test]
async fn files_roll_over_before_exceeding_the_size() {
    let records =
        [returning(1, "1"), returning(2, "22"), returning(3, "333"), returning(4, "4444"), returning(5, "1234567890")];
    let opts = WriterOptions { rollover_bytes: 6, ..shaped(OutputType::Json, WriterTransformation::Compact) };
    let files = [
        ("SUCCEEDED_0.json", "[1,22]"),
        ("SUCCEEDED_1.json", "[333]"),
        ("SUCCEEDED_2.json", "[4444]"),
        ("SUCCEEDED_3.json", "[1234567890]"),
    ];
    check(memory(), opts, None, &records, "jobs/run-1/", &files).await;

    let opts = WriterOptions { rollover_bytes: 6, ..shaped(OutputType::Jsonl, WriterTransformation::Compact) };
    let files = [
        ("SUCCEEDED_0.json", "1\n22\n"),
        ("SUCCEEDED_1.json", "333\n"),
        ("SUCCEEDED_2.json", "4444\n"),
        ("SUCCEEDED_3.json", "1234567890\n"),
    ];
    check(memory(), opts, None, &records, "jobs/run-1/", &files).await;
}

#[tokio::test]
async fn the_directory_is_prefix_slash_map_run_id() {
    let compact = shaped(OutputType::Json, WriterTransformation::Compact);
    let records = [returning(1, "1")];
    for (prefix, dir) in [("", "run-1/"), ("jobs", "jobs/run-1/"), ("jobs/", "jobs/run-1/"), ("a/b", "a/b/run-1/")] {
        let opts = WriterOptions { prefix: prefix.to_owned(), ..compact.clone() };
        check(memory(), opts, None, &records, dir, &[("SUCCEEDED_0.json", "[1]")]).await;
    }
}

#[tokio::test]
async fn a_run_without_children_writes_only_the_manifest() {
    check(memory(), options(), None, &[], "jobs/run-1/", &[]).await;
}

/// Parts of 16 bytes make every file a many-part upload, on both stores.
#[tokio::test]
async fn files_stream_in_parts() {
    let records: Vec<ChildRecord> = (0..200).map(|n| returning(n, &format!(r#"{{"i":{n}}}"#))).collect();
    let body: Vec<String> = (0..200).map(|n| format!(r#"{{"i":{n}}}"#)).collect();
    let expected = format!("[{}]", body.join(","));
    let dir = tempfile::tempdir().unwrap();
    let disk: Arc<dyn ObjectStore> = Arc::new(DirectoryBucket::open(dir.path()).unwrap());
    for store in [memory(), disk] {
        let opts = shaped(OutputType::Json, WriterTransformation::Compact);
        check(store, opts, Some(16), &records, "jobs/run-1/", &[("SUCCEEDED_0.json", &expected)]).await;
    }
}

/// Runs an export onto a disk store on which `blocked` (a key) is a directory, so that
/// completing the object at that key fails.
async fn export_with_blocked_key(blocked: &str) -> (tempfile::TempDir, Arc<dyn ObjectStore>, shared::asl::Failure) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join(blocked)).unwrap();
    let store: Arc<dyn ObjectStore> = Arc::new(DirectoryBucket::open(dir.path()).unwrap());
    let mut writer = ResultWriter::create(store.clone(), options()).await.unwrap();
    for record in [child(1, ChildStatus::Succeeded), child(2, ChildStatus::Failed)] {
        writer.write(&record).await.unwrap();
    }
    let failure = writer.finish().await.unwrap_err();
    (dir, store, failure)
}

#[tokio::test]
async fn the_manifest_is_written_after_every_file() {
    // When the manifest cannot be written, every file is already complete.
    let (_dir, store, failure) = export_with_blocked_key("jobs/run-1/manifest.json").await;
    assert_eq!(failure.error_name(), RESULT_WRITER_FAILED);
    assert!(failure.cause.unwrap().contains("jobs/run-1/manifest.json"));
    let stored = read_all(&store).await;
    assert_eq!(stored["jobs/run-1/SUCCEEDED_0.json"], format!("[{}]", none::SUCCEEDED_1));
    assert_eq!(stored["jobs/run-1/FAILED_0.json"], format!("[{}]", none::FAILED_2));

    // When a file cannot be completed, no manifest is written.
    let (_dir, store, failure) = export_with_blocked_key("jobs/run-1/SUCCEEDED_0.json").await;
    assert_eq!(failure.error_name(), RESULT_WRITER_FAILED);
    assert!(failure.cause.unwrap().contains("jobs/run-1/SUCCEEDED_0.json"));
    assert!(store.head(&Path::from("jobs/run-1/manifest.json")).await.is_err());
}

#[tokio::test]
async fn a_failing_store_is_result_writer_failed() {
    // `jobs` is a file, so no object can be created under `jobs/`.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("jobs"), b"").unwrap();
    let store: Arc<dyn ObjectStore> = Arc::new(DirectoryBucket::open(dir.path()).unwrap());
    let mut writer = ResultWriter::create(store, options()).await.unwrap();
    let failure = writer.write(&child(1, ChildStatus::Succeeded)).await.unwrap_err();
    assert_eq!(failure.error_name(), RESULT_WRITER_FAILED);
    assert!(failure.cause.unwrap().contains("s3://results/jobs/run-1/SUCCEEDED_0.json"));
}
