//! ItemReader, s3:getObject with InputType PARQUET, over local directories and the S3 server:
//! rows as objects with explicit nulls, row groups in order, MaxItems, internal compression.

#[path = "support/buckets.rs"]
mod buckets;
#[path = "support/reader.rs"]
mod reader;
#[path = "support/s3.rs"]
mod s3;

use std::sync::Arc;

use arrow_array::types::Int32Type;
use arrow_array::{ArrayRef, BooleanArray, Date32Array, Float64Array, Int64Array, ListArray, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use buckets::Buckets;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, GzipLevel, ZstdLevel};
use parquet::file::properties::WriterProperties;
use reader::{Expect, check, read_all, resolved, sources};
use serde_json::{Value, json};

const ROWS: usize = 2500;

/// A Parquet file of `ROWS` rows in row groups of 1000.
fn parquet_file(compression: Compression) -> Vec<u8> {
    let n = ROWS as i64;
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from_iter_values(0..n)),
        Arc::new(Float64Array::from_iter_values((0..n).map(|i| i as f64 / 2.0))),
        Arc::new(StringArray::from_iter((0..n).map(|i| (i % 3 != 0).then(|| format!("name {i}"))))),
        Arc::new(BooleanArray::from_iter((0..n).map(|i| Some(i % 2 == 0)))),
        Arc::new(Date32Array::from_iter_values((0..n).map(|i| 19_000 + i as i32))),
        Arc::new(ListArray::from_iter_primitive::<Int32Type, _, _>((0..n).map(|i| Some(vec![Some(i as i32), None])))),
    ];
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("score", DataType::Float64, false),
        Field::new("name", DataType::Utf8, true),
        Field::new("even", DataType::Boolean, true),
        Field::new("day", DataType::Date32, false),
        Field::new("list", columns[5].data_type().clone(), true),
    ]));
    let batch = RecordBatch::try_new(schema.clone(), columns).unwrap();
    let props =
        WriterProperties::builder().set_max_row_group_row_count(Some(1000)).set_compression(compression).build();
    let mut out = Vec::new();
    let mut writer = ArrowWriter::try_new(&mut out, schema, Some(props)).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
    out
}

fn expected_row(i: usize) -> Value {
    let name = if !i.is_multiple_of(3) { json!(format!("name {i}")) } else { Value::Null };
    let day = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap() + chrono::Days::new(19_000 + i as u64);
    json!({"id": i, "score": i as f64 / 2.0, "name": name, "even": i.is_multiple_of(2), "day": day.to_string(), "list": [i, null]})
}

fn parquet_reader(key: &str, extra: Value) -> Value {
    let mut config = json!({"InputType": "PARQUET"});
    config.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    json!({"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": config, "Parameters": {"Bucket": "data", "Key": key}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_of_every_row_group_in_order() {
    let b = Buckets::new(&["data"]);
    let all = Value::Array((0..ROWS).map(expected_row).collect());
    let codecs = [
        ("snappy", Compression::SNAPPY),
        ("gzip", Compression::GZIP(GzipLevel::default())),
        ("zstd", Compression::ZSTD(ZstdLevel::default())),
        ("plain", Compression::UNCOMPRESSED),
    ];
    for (name, codec) in codecs {
        let key = format!("{name}.parquet");
        b.put("data", &key, parquet_file(codec));
        check(&b, parquet_reader(&key, json!({})), Expect::Items(all.clone())).await;
    }
    let first = Value::Array((0..1500).map(expected_row).collect());
    check(&b, parquet_reader("snappy.parquet", json!({"MaxItems": 1500})), Expect::Items(first)).await;

    let reader = resolved(parquet_reader("plain.parquet", json!({"MaxItems": 2})));
    for (kind, storage) in b.storages() {
        let items = read_all(&storage, &reader).await.unwrap();
        assert_eq!(sources(&items), vec!["s3://data/plain.parquet"; 2], "{kind}");
        assert!(items[0].value.get().contains(r#""name":null"#), "{kind}: nulls are explicit");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_that_are_not_parquet() {
    let b = Buckets::new(&["data"]);
    b.put("data", "not.parquet", "a,b\n1,2\n");
    let cause = "s3://data/not.parquet cannot be read as Parquet:";
    check(&b, parquet_reader("not.parquet", json!({})), Expect::CauseStarting(cause)).await;
    let missing = "s3://data/missing.parquet does not exist.";
    check(&b, parquet_reader("missing.parquet", json!({})), Expect::Cause(missing)).await;
    let mut versioned = parquet_reader("not.parquet", json!({}));
    versioned["Parameters"]["VersionId"] = json!("v1");
    let cause = "The ItemReader's Parameters field 'VersionId' is not supported with InputType PARQUET.";
    check(&b, versioned, Expect::Cause(cause)).await;
}

/// One string column `s`, written batch by batch into one row group with `props`.
fn string_file(batches: impl IntoIterator<Item = Vec<String>>, props: WriterProperties) -> Vec<u8> {
    let schema = Arc::new(Schema::new(vec![Field::new("s", DataType::Utf8, false)]));
    let mut out = Vec::new();
    let mut writer = ArrowWriter::try_new(&mut out, schema.clone(), Some(props)).unwrap();
    for rows in batches {
        let column: ArrayRef = Arc::new(StringArray::from(rows));
        writer.write(&RecordBatch::try_new(schema.clone(), vec![column]).unwrap()).unwrap();
    }
    writer.close().unwrap();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_decompression_bomb_is_refused_from_the_footer() {
    // Probe H8: 58 KB of zstd, one row group of 400 rows × 4 MiB, decoded whole (6.7 GB). A
    // row group larger than AWS's 256 MiB is refused before any page is decompressed; the
    // same shape at 65 rows crosses it.
    let b = Buckets::new(&["data"]);
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .set_dictionary_enabled(false)
        .set_max_row_group_row_count(Some(1000))
        .build();
    let row = "x".repeat(4 << 20);
    b.put("data", "bomb.parquet", string_file((0..65).map(|_| vec![row.clone()]), props.clone()));
    let cause = "s3://data/bomb.parquet: row group 0 (rows 0 to 64) holds ";
    check(&b, parquet_reader("bomb.parquet", json!({})), Expect::CauseStarting(cause)).await;
    // Under the limit, rows of 4 MiB are items.
    b.put("data", "fine.parquet", string_file((0..3).map(|_| vec![row.clone()]), props));
    let reader = resolved(parquet_reader("fine.parquet", json!({})));
    for (kind, storage) in b.storages() {
        let items = read_all(&storage, &reader).await.unwrap();
        assert_eq!(items.len(), 3, "{kind}");
        assert_eq!(items[2].value.get().len(), (4 << 20) + r#"{"s":""}"#.len(), "{kind}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_row_over_8_mib_fails_naming_it() {
    // A dictionary page holds one 9 MiB value that every row repeats: small on disk and in the
    // footer, large once decoded. The first row is refused as an item over AWS's 8 MiB.
    let b = Buckets::new(&["data"]);
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .set_dictionary_page_size_limit(64 << 20)
        .build();
    let big = "y".repeat(9 << 20);
    let rows = vec![vec!["small".to_string(), big.clone()], vec![big; 10]];
    b.put("data", "dict.parquet", string_file(rows, props));
    let cause = "s3://data/dict.parquet: row 1 is larger than 8 MiB.";
    check(&b, parquet_reader("dict.parquet", json!({})), Expect::Cause(cause)).await;
}
