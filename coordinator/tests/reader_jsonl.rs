//! ItemReader, s3:getObject with InputType JSONL, over local directories and the S3 server.

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

fn jsonl_reader(key: &str, max_items: Option<u64>) -> Value {
    let mut config = json!({"InputType": "JSONL"});
    if let Some(n) = max_items {
        config["MaxItems"] = json!(n);
    }
    json!({"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": config, "Parameters": {"Bucket": "data", "Key": key}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_value_per_line_blank_lines_skipped() {
    let b = Buckets::new(&["data"]);
    b.put("data", "items.jsonl", "{\"a\": 1}\r\n\n   \n[1, 2]\n\"text\"\n  null  \n42");
    let want = json!([{"a": 1}, [1, 2], "text", null, 42]);
    check(&b, jsonl_reader("items.jsonl", None), Expect::Items(want)).await;
    check(&b, jsonl_reader("items.jsonl", Some(2)), Expect::Items(json!([{"a": 1}, [1, 2]]))).await;
    b.put("data", "empty.jsonl", "");
    check(&b, jsonl_reader("empty.jsonl", None), Expect::Items(json!([]))).await;

    let reader = resolved(jsonl_reader("items.jsonl", None));
    for (kind, storage) in b.storages() {
        let items = read_all(&storage, &reader).await.unwrap();
        assert_eq!(items[0].value.get(), r#"{"a": 1}"#, "{kind}: items stay as written");
        assert_eq!(sources(&items), vec!["s3://data/items.jsonl"; 5], "{kind}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compressed_lines() {
    let b = Buckets::new(&["data"]);
    let text: String = (0..2000).map(|i| format!("{{\"i\":{i}}}\n")).collect();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(text.as_bytes()).unwrap();
    b.put("data", "x.jsonl.gz", gz.finish().unwrap());
    b.put("data", "x.jsonl.zstd", zstd::encode_all(text.as_bytes(), 3).unwrap());
    let want = Value::Array((0..2000).map(|i| json!({"i": i})).collect());
    check(&b, jsonl_reader("x.jsonl.gz", None), Expect::Items(want.clone())).await;
    check(&b, jsonl_reader("x.jsonl.zstd", None), Expect::Items(want)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_line_fails_with_its_number() {
    let b = Buckets::new(&["data"]);
    b.put("data", "bad.jsonl", "1\n\n{\"a\": }\n3\n");
    let cause = "s3://data/bad.jsonl is not valid JSON Lines at line 3, column 7: expected value";
    check(&b, jsonl_reader("bad.jsonl", None), Expect::Cause(cause)).await;
    b.put("data", "two.jsonl", "1\n2 3\n");
    let cause = "s3://data/two.jsonl is not valid JSON Lines at line 2, column 3: trailing characters";
    check(&b, jsonl_reader("two.jsonl", None), Expect::Cause(cause)).await;
    // MaxItems stops reading before the bad line is reached.
    check(&b, jsonl_reader("bad.jsonl", Some(1)), Expect::Items(json!([1]))).await;
    b.put("data", "latin1.jsonl", b"\"caf\xe9\"\n");
    let cause = "s3://data/latin1.jsonl is not valid JSON Lines at line 1, column 5:";
    check(&b, jsonl_reader("latin1.jsonl", None), Expect::CauseStarting(cause)).await;
    // Probe L6: the file's line and serde's column, not serde's "line 1" as well.
    b.put("data", "ff.jsonl", b"{}\n{\"a\":\"\xff\"}\n");
    let cause = "s3://data/ff.jsonl is not valid JSON Lines at line 2, column 7: invalid unicode code point";
    check(&b, jsonl_reader("ff.jsonl", None), Expect::Cause(cause)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_line_over_8_mib_fails() {
    let b = Buckets::new(&["data"]);
    let long = format!("1\n\"{}\"\n", "x".repeat(8 * 1024 * 1024));
    b.put("data", "long.jsonl", long);
    let cause = "s3://data/long.jsonl: the item at line 2 is larger than 8 MiB.";
    check(&b, jsonl_reader("long.jsonl", None), Expect::Cause(cause)).await;
    check(&b, jsonl_reader("missing.jsonl", None), Expect::Cause("s3://data/missing.jsonl does not exist.")).await;
}
