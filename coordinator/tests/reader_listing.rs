//! ItemReader, s3:listObjectsV2 over local directories and the S3 server: the metadata items
//! of Transformation NONE (shape, key order, Prefix, paging) and LOAD_AND_FLATTEN.

#[path = "support/buckets.rs"]
mod buckets;
#[path = "support/reader.rs"]
mod reader;
#[path = "support/s3.rs"]
mod s3;

use buckets::Buckets;
use md5::Digest;
use reader::{Expect, check, read_all, resolved, sources, values};
use serde_json::{Value, json};

fn list_reader(prefix: Option<&str>, config: Value) -> Value {
    let mut params = json!({"Bucket": "data"});
    if let Some(p) = prefix {
        params["Prefix"] = json!(p);
    }
    json!({"Resource": "arn:aws:states:::s3:listObjectsV2", "ReaderConfig": config, "Parameters": params})
}

/// The keys of the listed items.
async fn keys(b: &Buckets, reader: Value) -> Vec<Vec<String>> {
    let reader = resolved(reader);
    let mut out = Vec::new();
    for (kind, storage) in b.storages() {
        let items = read_all(&storage, &reader).await.unwrap_or_else(|f| panic!("{kind}: {f:?}"));
        out.push(values(&items).iter().map(|v| v["Key"].as_str().unwrap().to_string()).collect());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_items_have_aws_shape() {
    let b = Buckets::new(&["data"]);
    let started = chrono::Utc::now().timestamp();
    // Bodies of scenarios.test_base_scenarios.test_map_item_reader_base_list_objects_v2.
    for i in 0..3 {
        b.put("data", &format!("file_{i}.txt"), format!("{i}HelloWorld!"));
    }
    let reader = resolved(list_reader(None, json!({})));
    for (kind, storage) in b.storages() {
        let items = read_all(&storage, &reader).await.unwrap();
        assert_eq!(sources(&items), vec!["s3://data"; 3], "{kind}");
        for (i, item) in values(&items).iter().enumerate() {
            let fields: Vec<&str> = item.as_object().unwrap().keys().map(String::as_str).collect();
            assert_eq!(fields, ["Etag", "Key", "LastModified", "Size", "StorageClass"], "{kind}");
            assert_eq!(item["Key"], json!(format!("file_{i}.txt")), "{kind}");
            assert_eq!(item["Size"], json!(12), "{kind}");
            assert_eq!(item["StorageClass"], json!("STANDARD"), "{kind}");
            let modified = item["LastModified"].as_i64().unwrap();
            assert!((started - 5..=chrono::Utc::now().timestamp() + 5).contains(&modified), "{kind}: {modified}");
            let etag = item["Etag"].as_str().unwrap();
            assert!(etag.len() > 2 && etag.starts_with('"') && etag.ends_with('"'), "{kind}: {etag}");
            if kind == "s3" {
                // S3 ETags of single-part objects are the body's MD5.
                let md5 = hex::encode(md5::Md5::digest(format!("{i}HelloWorld!")));
                assert_eq!(etag, format!("\"{md5}\""), "{kind}");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_in_byte_order_filtered_by_a_string_prefix() {
    let b = Buckets::new(&["data"]);
    for key in ["b/c.txt", "a.txt", "b-c.txt", "B.txt", "b/d/e.txt", "bz.txt", "é.txt"] {
        b.put("data", key, "x");
    }
    let all = ["B.txt", "a.txt", "b-c.txt", "b/c.txt", "b/d/e.txt", "bz.txt", "é.txt"];
    let cases: [(Option<&str>, &[&str]); 6] = [
        (None, &all),
        (Some("b"), &["b-c.txt", "b/c.txt", "b/d/e.txt", "bz.txt"]),
        (Some("b/"), &["b/c.txt", "b/d/e.txt"]),
        (Some("b/d"), &["b/d/e.txt"]),
        (Some("b/c.txt"), &["b/c.txt"]),
        (Some("nothing"), &[]),
    ];
    for (prefix, want) in cases {
        for got in keys(&b, list_reader(prefix, json!({}))).await {
            assert_eq!(got, want, "prefix {prefix:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_is_listed() {
    let b = Buckets::new(&["data"]);
    let want: Vec<String> = (0..1100).map(|i| format!("many/{i:04}.json")).collect();
    for key in &want {
        b.put("data", key, "[]");
    }
    b.put("data", "other.json", "[]");
    for got in keys(&b, list_reader(Some("many/"), json!({}))).await {
        assert_eq!(got, want);
    }
    for got in keys(&b, list_reader(Some("many/"), json!({"MaxItems": 1050}))).await {
        assert_eq!(got, want[..1050]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_and_flatten_reads_each_object_in_listing_order() {
    let b = Buckets::new(&["data"]);
    b.put("data", "logs/2.jsonl", "{\"n\": 3}\n");
    b.put("data", "logs/1.jsonl", "{\"n\": 1}\n{\"n\": 2}\n");
    b.put("data", "logs/3.jsonl.gz", {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(b"{\"n\": 4}\n").unwrap();
        gz.finish().unwrap()
    });
    b.put("data", "logsx/9.jsonl", "{\"n\": 9}\n");
    let flatten = json!({"InputType": "JSONL", "Transformation": "LOAD_AND_FLATTEN"});
    let want = json!([{"n": 1}, {"n": 2}, {"n": 3}, {"n": 4}]);
    check(&b, list_reader(Some("logs/"), flatten.clone()), Expect::Items(want)).await;
    let mut max = flatten.clone();
    max["MaxItems"] = json!(3);
    check(&b, list_reader(Some("logs/"), max), Expect::Items(json!([{"n": 1}, {"n": 2}, {"n": 3}]))).await;

    let reader = resolved(list_reader(Some("logs/"), flatten.clone()));
    for (kind, storage) in b.storages() {
        let items = read_all(&storage, &reader).await.unwrap();
        let want =
            ["s3://data/logs/1.jsonl", "s3://data/logs/1.jsonl", "s3://data/logs/2.jsonl", "s3://data/logs/3.jsonl.gz"];
        assert_eq!(sources(&items), want, "{kind}");
    }

    // Each CSV object has its own header row.
    b.put("data", "csv/a.csv", "x,y\n1,2\n");
    b.put("data", "csv/b.csv", "y,x\n3,4\n");
    let csv = json!({"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW", "Transformation": "LOAD_AND_FLATTEN"});
    check(&b, list_reader(Some("csv/"), csv), Expect::Items(json!([{"x": "1", "y": "2"}, {"y": "3", "x": "4"}]))).await;

    // A bad object fails the whole read, naming it.
    b.put("data", "logs/4.jsonl", "not json\n");
    let cause = "s3://data/logs/4.jsonl is not valid JSON Lines at line 1, column 2:";
    check(&b, list_reader(Some("logs/"), flatten), Expect::CauseStarting(cause)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listing_errors() {
    let b = Buckets::new(&["data"]);
    let empty = list_reader(Some("none/"), json!({}));
    check(&b, empty, Expect::Items(json!([]))).await;
    let unmapped = json!({"Resource": "arn:aws:states:::s3:listObjectsV2", "Parameters": {"Bucket": "elsewhere"}});
    let cause = "Cannot read bucket 'elsewhere': bucket 'elsewhere' is not mapped to a directory or endpoint";
    check(&b, unmapped, Expect::Cause(cause)).await;
    let no_bucket = json!({"Resource": "arn:aws:states:::s3:listObjectsV2", "Parameters": {"Prefix": "x"}});
    check(&b, no_bucket, Expect::Cause("The ItemReader's Parameters field 'Bucket' is missing.")).await;
}
