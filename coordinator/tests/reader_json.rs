//! ItemReader, s3:getObject with InputType JSON, over local directories and the S3 server:
//! AWS-recorded cases, ItemsPointer, MaxItems, compression, raw pass-through, and every error.

#[path = "support/buckets.rs"]
mod buckets;
#[path = "support/reader.rs"]
mod reader;
#[path = "support/s3.rs"]
mod s3;

use std::io::Write;

use buckets::Buckets;
use reader::{Expect, check, read_all, resolved, sources};
use serde_json::{Value, json};

fn json_reader(key: &str, extra: Value) -> Value {
    let mut config = json!({"InputType": "JSON"});
    config.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    json!({"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": config, "Parameters": {"Bucket": "data", "Key": key}})
}

/// Bodies of scenarios.test_base_scenarios.test_map_item_reader_base_json*, recorded on AWS.
const RECORDED: &str = r#"[{"verdict": "true", "statement_date": "6/11/2008", "statement_source": "speech"}, {"verdict": "false", "statement_date": "6/7/2022", "statement_source": "television"}, {"verdict": "mostly-true", "statement_date": "5/18/2016", "statement_source": "news"}]"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_recorded_cases() {
    let b = Buckets::new(&["data"]);
    b.put("data", "file.json", RECORDED);
    b.put("data", "nested.json", r#"[["from-bucket-item-0"]]"#);
    b.put("data", "object.json", r#"{"Hello": "world"}"#);
    let all: Value = serde_json::from_str(RECORDED).unwrap();
    // test_map_item_reader_base_json
    check(&b, json_reader("file.json", json!({})), Expect::Items(all.clone())).await;
    // test_map_item_reader_base_json_max_items_jsonata (MaxItems 2)
    let two = json!([all[0], all[1]]);
    check(&b, json_reader("file.json", json!({"MaxItems": 2})), Expect::Items(two)).await;
    // test_map_item_reader_base_json_with_items_path.*
    check(&b, json_reader("nested.json", json!({})), Expect::Items(json!([["from-bucket-item-0"]]))).await;
    // test_map_item_reader_json_no_json_list_object
    let non_iterable = "Attempting to map over non-iterable node.";
    check(&b, json_reader("object.json", json!({})), Expect::Cause(non_iterable)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn items_pass_through_raw_with_their_source() {
    let b = Buckets::new(&["data"]);
    b.put("data", "dir/raw.json", "\u{feff} [ {\"b\": 1,  \"a\": [1.50, 2e3]} ,\"x\",null ]\n");
    let reader = resolved(json_reader("dir/raw.json", json!({})));
    for (kind, storage) in b.storages() {
        let items = read_all(&storage, &reader).await.unwrap();
        let raw: Vec<&str> = items.iter().map(|i| i.value.get()).collect();
        assert_eq!(raw, vec![r#"{"b": 1,  "a": [1.50, 2e3]}"#, r#""x""#, "null"], "{kind}");
        assert_eq!(sources(&items), vec!["s3://data/dir/raw.json"; 3], "{kind}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn items_pointer_selects_a_nested_array() {
    let b = Buckets::new(&["data"]);
    let doc = json!({
        "skip": {"deep": [1, {"featured": "not this"}]},
        "inventory": {"products": {"featured": [{"id": 1}, {"id": 2}], "other": [3]}},
        "a/b": {"c~d": [true]},
        "list": [{"x": [0]}, {"x": [1, 2]}],
        "object": {"k": "v"},
        "scalar": 5
    });
    b.put("data", "doc.json", doc.to_string());
    let read = |pointer: &str| json_reader("doc.json", json!({"ItemsPointer": pointer}));
    check(&b, read("/inventory/products/featured"), Expect::Items(json!([{"id": 1}, {"id": 2}]))).await;
    check(&b, read("/a~1b/c~0d"), Expect::Items(json!([true]))).await;
    check(&b, read("/list/1/x"), Expect::Items(json!([1, 2]))).await;
    let non_iterable = Expect::Cause("Attempting to map over non-iterable node.");
    check(&b, read("/object"), non_iterable).await;
    check(&b, read("/scalar"), Expect::Cause("Attempting to map over non-iterable node.")).await;
    for missing in ["/inventory/none", "/list/2/x", "/list/01/x", "/scalar/x"] {
        let cause = format!("ItemsPointer '{missing}' selects nothing in s3://data/doc.json.");
        check(&b, read(missing), Expect::Cause(&cause)).await;
    }
    // The pointer's target is read before the rest of the document is checked, but the whole
    // document must still be JSON.
    b.put("data", "broken-after.json", r#"{"items": [1, 2], "rest": tru}"#);
    let cause = "s3://data/broken-after.json is not valid JSON at byte offset";
    check(&b, json_reader("broken-after.json", json!({"ItemsPointer": "/items"})), Expect::CauseStarting(cause)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_arrays_stream_in_chunks_and_stop_at_max_items() {
    let b = Buckets::new(&["data"]);
    let items: Vec<Value> = (0..3000).map(|i| json!({"i": i, "pad": "x".repeat(i % 7)})).collect();
    b.put("data", "big.json", Value::Array(items.clone()).to_string());
    check(&b, json_reader("big.json", json!({})), Expect::Items(Value::Array(items.clone()))).await;
    check(&b, json_reader("big.json", json!({"MaxItems": 2500})), Expect::Items(Value::Array(items[..2500].to_vec())))
        .await;
    check(&b, json_reader("big.json", json!({"MaxItems": 0})), Expect::Items(Value::Array(items.clone()))).await;
    // MaxItems stops reading: what follows the last item wanted is never parsed.
    b.put("data", "stops.json", r#"[1, 2, this is never read"#);
    check(&b, json_reader("stops.json", json!({"MaxItems": 2})), Expect::Items(json!([1, 2]))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gzip_and_zstd_are_recognised_by_content() {
    let b = Buckets::new(&["data"]);
    let doc = r#"[{"a": 1}, {"a": 2}]"#;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(doc.as_bytes()).unwrap();
    b.put("data", "items.json.gz", gz.finish().unwrap());
    b.put("data", "no-extension", zstd::encode_all(doc.as_bytes(), 3).unwrap());
    for key in ["items.json.gz", "no-extension"] {
        check(&b, json_reader(key, json!({})), Expect::Items(json!([{"a": 1}, {"a": 2}]))).await;
    }
    b.put("data", "truncated.json.gz", [0x1f, 0x8b, 0x08, 0x00, 0x00]);
    let cause = "Reading s3://data/truncated.json.gz failed at";
    check(&b, json_reader("truncated.json.gz", json!({})), Expect::CauseStarting(cause)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documents_that_are_not_arrays_or_not_json() {
    let b = Buckets::new(&["data"]);
    b.put("data", "empty-array.json", " [ ] ");
    b.put("data", "scalar.json", "42");
    b.put("data", "bad.json", "[1, 2,, 3]");
    b.put("data", "empty.json", "");
    b.put("data", "trailing.json", "[1] [2]");
    b.put("data", "pretty.json", "[\n  1,\n  {\"a\": x}\n]\n");
    check(&b, json_reader("empty-array.json", json!({})), Expect::Items(json!([]))).await;
    check(&b, json_reader("scalar.json", json!({})), Expect::Cause("Attempting to map over non-iterable node.")).await;
    let bad = "s3://data/bad.json is not valid JSON at byte offset 6: expected value at line 1 column 7";
    check(&b, json_reader("bad.json", json!({})), Expect::Cause(bad)).await;
    let empty = "s3://data/empty.json is not valid JSON at byte offset 0: EOF while parsing a value at line 1 column 0";
    check(&b, json_reader("empty.json", json!({})), Expect::Cause(empty)).await;
    let trailing = "s3://data/trailing.json is not valid JSON at byte offset 4: trailing characters at line 1 column 5";
    check(&b, json_reader("trailing.json", json!({})), Expect::Cause(trailing)).await;
    let pretty = "s3://data/pretty.json is not valid JSON at byte offset 15: expected value at line 3 column 9";
    check(&b, json_reader("pretty.json", json!({})), Expect::Cause(pretty)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_objects_and_buckets() {
    let b = Buckets::new(&["data"]);
    check(&b, json_reader("missing.json", json!({})), Expect::Cause("s3://data/missing.json does not exist.")).await;
    let unmapped = json!({"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": {"InputType": "JSON"},
        "Parameters": {"Bucket": "nowhere", "Key": "k.json"}});
    let cause = "Cannot read bucket 'nowhere': bucket 'nowhere' is not mapped to a directory or endpoint";
    check(&b, unmapped, Expect::Cause(cause)).await;
    let no_key = json!({"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": {"InputType": "JSON"},
        "Parameters": {"Bucket": "data"}});
    check(&b, no_key, Expect::Cause("The ItemReader's Parameters field 'Key' is missing.")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bucket_missing_on_the_server_is_reported() {
    let b = Buckets::new(&["data"]);
    let storage =
        std::sync::Arc::new(coordinator::storage::Storage::from_specs(&[b.server().bucket_spec("absent")]).unwrap());
    let reader = resolved(json!({"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": {"InputType": "JSON"},
        "Parameters": {"Bucket": "absent", "Key": "k.json"}}));
    assert_eq!(reader::cause(read_all(&storage, &reader).await), "s3://absent/k.json does not exist.");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_element_over_8_mib_fails_while_it_streams() {
    // Probe H9: `["<1.5 GB string>"]` was buffered whole before the limit applied. An element
    // that never ends shows the difference: the limit must fire before the end of the input.
    let b = Buckets::new(&["data"]);
    let endless = format!("[\"{}", "x".repeat(9 << 20));
    b.put("data", "endless.json", endless.clone());
    let cause = "s3://data/endless.json: item 0 is larger than 8 MiB.";
    check(&b, json_reader("endless.json", json!({})), Expect::Cause(cause)).await;
    b.put(
        "data",
        "nested.json",
        format!("{{\"skip\": \"{}\", \"items\": [1, {{\"a\": {}", "y".repeat(9 << 20), &endless[1..]),
    );
    let cause = "s3://data/nested.json: item 1 is larger than 8 MiB.";
    check(&b, json_reader("nested.json", json!({"ItemsPointer": "/items"})), Expect::Cause(cause)).await;
    // A member name on the way to the items is held while it is compared: it is bounded too.
    b.put("data", "key.json", format!("{{\"{}", "k".repeat(9 << 20)));
    let cause = "s3://data/key.json: a value larger than 8 MiB at byte offset 1.";
    check(&b, json_reader("key.json", json!({"ItemsPointer": "/items"})), Expect::Cause(cause)).await;
    // Exactly at the limit, with whitespace around, is an item.
    let at = format!("[ \"{}\" ,\n 2 ]", "z".repeat((8 << 20) - 2));
    b.put("data", "at.json", at);
    let reader = resolved(json_reader("at.json", json!({})));
    for (kind, storage) in b.storages() {
        let items = read_all(&storage, &reader).await.unwrap();
        assert_eq!(items.iter().map(|i| i.value.get().len()).collect::<Vec<_>>(), vec![8 << 20, 1], "{kind}");
    }
}
