//! ItemReader, s3:getObject over manifests, on local directories and the S3 server: S3
//! Inventory (InputType MANIFEST and ManifestType S3_INVENTORY) and Athena UNLOAD data
//! (ManifestType ATHENA_DATA with CSV, JSONL and PARQUET data files).

#[path = "support/buckets.rs"]
mod buckets;
#[path = "support/reader.rs"]
mod reader;
#[path = "support/s3.rs"]
mod s3;

use std::io::Write;
use std::sync::Arc;

use buckets::Buckets;
use reader::{Expect, check, read_all, resolved, sources};
use serde_json::{Value, json};

fn gzip(text: &str) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(text.as_bytes()).unwrap();
    gz.finish().unwrap()
}

fn get_reader(bucket: &str, key: &str, config: Value) -> Value {
    json!({"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": config, "Parameters": {"Bucket": bucket, "Key": key}})
}

/// An inventory report as S3 writes it: manifest in the destination bucket, gzip CSV data
/// files without header, every field quoted.
fn put_inventory(b: &Buckets, format: &str) {
    let manifest = json!({
        "sourceBucket": "photos",
        "destinationBucket": "arn:aws:s3:::inventory",
        "version": "2016-11-30",
        "creationTimestamp": "1668556800000",
        "fileFormat": format,
        "fileSchema": "Bucket, Key, Size, LastModifiedDate",
        "files": [
            {"key": "photos/daily/data/a.csv.gz", "size": 100, "MD5checksum": "x"},
            {"key": "photos/daily/data/b.csv.gz", "size": 100, "MD5checksum": "y"}
        ]
    });
    b.put("inventory", "photos/daily/2022-11-16T00-00Z/manifest.json", manifest.to_string());
    b.put("inventory", "photos/daily/data/a.csv.gz", gzip("\"photos\",\"2022/a.jpg\",\"3399671\",\"2022-11-16T00:29:32.000Z\"\n\"photos\",\"2022/b%20c.jpg\",\"12\",\"2022-11-16T00:29:33.000Z\"\n"));
    b.put(
        "inventory",
        "photos/daily/data/b.csv.gz",
        gzip("\"photos\",\"2023/d.jpg\",\"5\",\"2023-01-01T00:00:00.000Z\"\n"),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_inventory_rows_keyed_by_the_file_schema() {
    let b = Buckets::new(&["inventory"]);
    put_inventory(&b, "CSV");
    let key = "photos/daily/2022-11-16T00-00Z/manifest.json";
    let want = json!([
        {"Bucket": "photos", "Key": "2022/a.jpg", "Size": "3399671", "LastModifiedDate": "2022-11-16T00:29:32.000Z"},
        {"Bucket": "photos", "Key": "2022/b%20c.jpg", "Size": "12", "LastModifiedDate": "2022-11-16T00:29:33.000Z"},
        {"Bucket": "photos", "Key": "2023/d.jpg", "Size": "5", "LastModifiedDate": "2023-01-01T00:00:00.000Z"}
    ]);
    check(&b, get_reader("inventory", key, json!({"InputType": "MANIFEST"})), Expect::Items(want.clone())).await;
    let modern = json!({"ManifestType": "S3_INVENTORY", "MaxItems": 2});
    check(&b, get_reader("inventory", key, modern), Expect::Items(json!([want[0], want[1]]))).await;

    let reader = resolved(get_reader("inventory", key, json!({"ManifestType": "S3_INVENTORY"})));
    for (kind, storage) in b.storages() {
        let items = read_all(&storage, &reader).await.unwrap();
        let a = "s3://inventory/photos/daily/data/a.csv.gz";
        assert_eq!(sources(&items), [a, a, "s3://inventory/photos/daily/data/b.csv.gz"], "{kind}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_inventory_errors() {
    let b = Buckets::new(&["inventory"]);
    put_inventory(&b, "ORC");
    let key = "photos/daily/2022-11-16T00-00Z/manifest.json";
    let cause = "Manifest s3://inventory/photos/daily/2022-11-16T00-00Z/manifest.json: fileFormat is ORC, but only CSV inventories can be read";
    check(&b, get_reader("inventory", key, json!({"ManifestType": "S3_INVENTORY"})), Expect::Cause(cause)).await;
    b.put("inventory", "not-a-manifest.json", "[1]");
    let cause = "Manifest s3://inventory/not-a-manifest.json: not an S3 inventory manifest:";
    let reader = get_reader("inventory", "not-a-manifest.json", json!({"InputType": "MANIFEST"}));
    check(&b, reader, Expect::CauseStarting(cause)).await;
    put_inventory(&b, "CSV");
    std::fs::remove_file(b.server().root().join("inventory/photos/daily/data/b.csv.gz")).unwrap();
    let (_, s3) = b.storages().pop().unwrap();
    let reader = resolved(get_reader("inventory", key, json!({"ManifestType": "S3_INVENTORY"})));
    let cause = reader::cause(read_all(&s3, &reader).await);
    assert_eq!(cause, "s3://inventory/photos/daily/data/b.csv.gz does not exist.");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn athena_manifests_list_data_files_in_other_buckets() {
    let b = Buckets::new(&["athena", "results"]);
    b.put("results", "q1/part-0.gz", gzip("1,alpha\n2,beta\n"));
    b.put("results", "q1/part-1", "3,\"gamma, delta\"\n");
    b.put("athena", "q1-manifest.csv", "s3://results/q1/part-0.gz\n\ns3://results/q1/part-1\n");
    let csv = json!({"ManifestType": "ATHENA_DATA", "InputType": "CSV", "CSVHeaderLocation": "GIVEN", "CSVHeaders": ["id", "name"]});
    let want = json!([{"id": "1", "name": "alpha"}, {"id": "2", "name": "beta"}, {"id": "3", "name": "gamma, delta"}]);
    check(&b, get_reader("athena", "q1-manifest.csv", csv.clone()), Expect::Items(want)).await;

    let reader = resolved(get_reader("athena", "q1-manifest.csv", csv));
    for (kind, storage) in b.storages() {
        let items = read_all(&storage, &reader).await.unwrap();
        let want = ["s3://results/q1/part-0.gz", "s3://results/q1/part-0.gz", "s3://results/q1/part-1"];
        assert_eq!(sources(&items), want, "{kind}");
    }

    b.put("results", "q2/0.jsonl", "{\"a\": 1}\n{\"a\": 2}\n");
    b.put("results", "q2/1.jsonl", "{\"a\": 3}\n");
    b.put("athena", "q2-manifest.csv", "s3://results/q2/0.jsonl\ns3://results/q2/1.jsonl\n");
    let jsonl = json!({"ManifestType": "ATHENA_DATA", "InputType": "JSONL", "MaxItems": 2});
    check(&b, get_reader("athena", "q2-manifest.csv", jsonl), Expect::Items(json!([{"a": 1}, {"a": 2}]))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn athena_parquet_data_and_errors() {
    let b = Buckets::new(&["athena", "results"]);
    let schema =
        Arc::new(arrow_schema::Schema::new(vec![arrow_schema::Field::new("n", arrow_schema::DataType::Int32, false)]));
    let column: arrow_array::ArrayRef = Arc::new(arrow_array::Int32Array::from(vec![7, 8]));
    let batch = arrow_array::RecordBatch::try_new(schema.clone(), vec![column]).unwrap();
    let mut file = Vec::new();
    let mut writer = parquet::arrow::ArrowWriter::try_new(&mut file, schema, None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
    b.put("results", "q3/0.parquet", file);
    b.put("athena", "q3-manifest.csv", "s3://results/q3/0.parquet\n");
    let parquet = json!({"ManifestType": "ATHENA_DATA", "InputType": "PARQUET"});
    check(&b, get_reader("athena", "q3-manifest.csv", parquet.clone()), Expect::Items(json!([{"n": 7}, {"n": 8}])))
        .await;

    b.put("athena", "bad-manifest.csv", "s3://results/q3/0.parquet\nresults/q3/0.parquet\n");
    let cause = "Manifest s3://athena/bad-manifest.csv: line 2 is not an S3 URI: results/q3/0.parquet";
    check(&b, get_reader("athena", "bad-manifest.csv", parquet.clone()), Expect::Cause(cause)).await;
    b.put("athena", "gone-manifest.csv", "s3://results/q3/gone.parquet\n");
    let cause = "s3://results/q3/gone.parquet does not exist.";
    check(&b, get_reader("athena", "gone-manifest.csv", parquet.clone()), Expect::Cause(cause)).await;
    check(&b, get_reader("athena", "none.csv", parquet), Expect::Cause("s3://athena/none.csv does not exist.")).await;
}
