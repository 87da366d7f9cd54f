//! ItemReader, s3:getObject with InputType CSV, over local directories and the S3 server: the
//! AWS-recorded cases, AWS's documented parsing rules, delimiters, compression and errors.

#[path = "support/buckets.rs"]
mod buckets;
#[path = "support/reader.rs"]
mod reader;
#[path = "support/s3.rs"]
mod s3;

use buckets::Buckets;
use reader::{Expect, check};
use serde_json::{Value, json};

fn csv_reader(key: &str, config: Value) -> Value {
    let mut c = json!({"InputType": "CSV"});
    c.as_object_mut().unwrap().extend(config.as_object().unwrap().clone());
    json!({"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": c, "Parameters": {"Bucket": "data", "Key": key}})
}

/// The object bodies the recorded cases read.
const ROWS: &str = "Value1,Value2,Value3\nValue4,Value5,Value6\n,,,\ntrue,1,'HelloWorld'\nNull,None,\n   \n";
const MAX_ROWS: &str = "Col1,Col2\nValue1,Value2\nValue3,Value4\nValue5,Value6\nValue7,Value8\n";

/// Cases recorded on AWS, from `scenarios.test_base_scenarios.<name>` in the LocalStack
/// parity suite (../shared/conformance/localstack/cases): name, body, ReaderConfig, result.
fn recorded() -> Vec<(&'static str, String, Value, Result<Value, &'static str>)> {
    let max = |n: u64| -> Value {
        let all = json!([{"Col1": "Value1", "Col2": "Value2"}, {"Col1": "Value3", "Col2": "Value4"},
            {"Col1": "Value5", "Col2": "Value6"}, {"Col1": "Value7", "Col2": "Value8"}]);
        match n {
            2 => json!([all[0], all[1]]),
            _ => all,
        }
    };
    vec![
        (
            "test_map_item_reader_base_csv_headers_decl",
            ROWS.to_string(),
            json!({"CSVHeaderLocation": "GIVEN", "CSVHeaders": ["H1", "H2", "H3"]}),
            Ok(
                json!([{"H1": "Value1", "H2": "Value2", "H3": "Value3"}, {"H1": "Value4", "H2": "Value5", "H3": "Value6"},
                {"H1": "", "H2": "", "H3": ""}, {"H1": "true", "H2": "1", "H3": "'HelloWorld'"},
                {"H1": "Null", "H2": "None", "H3": ""}, {"H1": "   ", "H2": "", "H3": ""}]),
            ),
        ),
        (
            "test_map_item_reader_base_csv_headers_first_line",
            format!("Col1,Col2,Col3\n{ROWS}"),
            json!({"CSVHeaderLocation": "FIRST_ROW"}),
            Ok(json!([{"Col1": "Value1", "Col2": "Value2", "Col3": "Value3"},
                {"Col1": "Value4", "Col2": "Value5", "Col3": "Value6"}, {"Col1": "", "Col2": "", "Col3": ""},
                {"Col1": "true", "Col2": "1", "Col3": "'HelloWorld'"}, {"Col1": "Null", "Col2": "None", "Col3": ""},
                {"Col1": "   ", "Col2": "", "Col3": ""}])),
        ),
        (
            "test_map_item_reader_csv_headers_decl_duplicate_headers",
            ROWS.to_string(),
            json!({"CSVHeaderLocation": "GIVEN", "CSVHeaders": ["H1", "H1", "H3"]}),
            Err("CSV headers cannot contain duplicates."),
        ),
        (
            "test_map_item_reader_csv_headers_decl_extra_fields",
            ROWS.to_string(),
            json!({"CSVHeaderLocation": "GIVEN", "CSVHeaders": ["H1"]}),
            Ok(json!([{"H1": "Value1"}, {"H1": "Value4"}, {"H1": ""}, {"H1": "true"}, {"H1": "Null"}, {"H1": "   "}])),
        ),
        (
            "test_map_item_reader_csv_headers_first_row_typed_headers",
            "0,True,{}\nValue4,Value5,Value6\n,,,\ntrue,1,'HelloWorld'\nNull,None,\n   \n".to_string(),
            json!({"CSVHeaderLocation": "FIRST_ROW"}),
            Ok(json!([{"0": "Value4", "True": "Value5", "{}": "Value6"}, {"0": "", "True": "", "{}": ""},
                {"0": "true", "True": "1", "{}": "'HelloWorld'"}, {"0": "Null", "True": "None", "{}": ""},
                {"0": "   ", "True": "", "{}": ""}])),
        ),
        ("test_map_item_reader_csv_max_items.0", MAX_ROWS.into(), json!({"MaxItems": 0}), Ok(max(0))),
        ("test_map_item_reader_csv_max_items.2", MAX_ROWS.into(), json!({"MaxItems": 2}), Ok(max(2))),
        ("test_map_item_reader_csv_max_items.100000000", MAX_ROWS.into(), json!({"MaxItems": 100000000}), Ok(max(0))),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_recorded_cases() {
    let b = Buckets::new(&["data"]);
    for (name, body, config, want) in recorded() {
        let key = format!("{name}.csv");
        b.put("data", &key, body);
        let mut config = config;
        if config.get("CSVHeaderLocation").is_none() {
            config["CSVHeaderLocation"] = json!("FIRST_ROW");
        }
        let expect = match &want {
            Ok(items) => Expect::Items(items.clone()),
            Err(cause) => Expect::Cause(cause),
        };
        check(&b, csv_reader(&key, config), expect).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_documented_quoting_and_backslash_rules() {
    let b = Buckets::new(&["data"]);
    // The example of docs.aws.amazon.com/step-functions/latest/dg/example-csv-parse-dist-map.html.
    let body = "abc,123,\"This string contains commas, a double quotation marks (\"\"), and a newline (\n)\",{\"\"MyKey\"\":\"\"MyValue\"\"},\"[1,2,3]\"\n";
    b.put("data", "doc.csv", body);
    let headers = json!({"CSVHeaderLocation": "GIVEN", "CSVHeaders": ["MyLetters", "MyNumbers", "MyString", "MyObject", "MyArray"]});
    let want = json!([{
        "MyLetters": "abc",
        "MyNumbers": "123",
        "MyString": "This string contains commas, a double quotation marks (\"), and a newline (\n)",
        "MyObject": "{\"\"MyKey\"\":\"\"MyValue\"\"}",
        "MyArray": "[1,2,3]"
    }]);
    check(&b, csv_reader("doc.csv", headers), Expect::Items(want)).await;

    let body = "path,size,note\nC:\\\\Program Files\\\\MyApp.exe,6534512,a\\,b\\q \\\"x\\\"\n";
    b.put("data", "escapes.csv", body);
    let want = json!([{"path": "C:\\Program Files\\MyApp.exe", "size": "6534512", "note": "a,bq \"x\""}]);
    check(&b, csv_reader("escapes.csv", json!({"CSVHeaderLocation": "FIRST_ROW"})), Expect::Items(want)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_five_delimiters() {
    let b = Buckets::new(&["data"]);
    for (name, d) in [("COMMA", ','), ("PIPE", '|'), ("SEMICOLON", ';'), ("SPACE", ' '), ("TAB", '\t')] {
        let key = format!("{name}.csv");
        b.put("data", &key, format!("a{d}b\r\n1{d}\"x{d}y\"\r\n"));
        let config = json!({"CSVHeaderLocation": "FIRST_ROW", "CSVDelimiter": name});
        check(&b, csv_reader(&key, config), Expect::Items(json!([{"a": "1", "b": format!("x{d}y")}]))).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compressed_and_empty_files() {
    let b = Buckets::new(&["data"]);
    let text: String =
        std::iter::once("n,sq\n".to_string()).chain((0..1500).map(|i| format!("{i},{}\n", i * i))).collect();
    b.put("data", "x.csv.gz", {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(text.as_bytes()).unwrap();
        gz.finish().unwrap()
    });
    b.put("data", "x.csv.zstd", zstd::encode_all(text.as_bytes(), 3).unwrap());
    let want = Value::Array((0..1500).map(|i| json!({"n": i.to_string(), "sq": (i * i).to_string()})).collect());
    let first_row = json!({"CSVHeaderLocation": "FIRST_ROW"});
    check(&b, csv_reader("x.csv.gz", first_row.clone()), Expect::Items(want.clone())).await;
    check(
        &b,
        csv_reader("x.csv.zstd", json!({"CSVHeaderLocation": "FIRST_ROW", "MaxItems": 1500})),
        Expect::Items(want),
    )
    .await;
    b.put("data", "empty.csv", "");
    check(&b, csv_reader("empty.csv", first_row.clone()), Expect::Items(json!([]))).await;
    b.put("data", "header-only.csv", "a,b\n");
    check(&b, csv_reader("header-only.csv", first_row), Expect::Items(json!([]))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn header_and_row_errors() {
    let b = Buckets::new(&["data"]);
    let first_row = json!({"CSVHeaderLocation": "FIRST_ROW"});
    b.put("data", "dup.csv", "a,b,a\n1,2,3\n");
    check(&b, csv_reader("dup.csv", first_row.clone()), Expect::Cause("CSV headers cannot contain duplicates.")).await;
    b.put("data", "wide.csv", format!("{}\n1\n", "h".repeat(11 * 1024)));
    let cause = "s3://data/wide.csv: the CSV header is larger than 10 KiB.";
    check(&b, csv_reader("wide.csv", first_row.clone()), Expect::Cause(cause)).await;
    b.put("data", "latin1.csv", b"a\nok\n\"multi\nline\"\ncaf\xe9\n");
    let cause = "s3://data/latin1.csv is not UTF-8 text at line 5.";
    check(&b, csv_reader("latin1.csv", first_row.clone()), Expect::Cause(cause)).await;
    check(&b, csv_reader("missing.csv", first_row), Expect::Cause("s3://data/missing.csv does not exist.")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quote_open_at_the_end_fails_naming_its_line() {
    // Probe M8: the open quote swallowed `5,6` into the last item, and reading succeeded.
    let b = Buckets::new(&["data"]);
    let first_row = json!({"CSVHeaderLocation": "FIRST_ROW"});
    b.put("data", "open.csv", "a,b\n1,2\n3,\"abc\n5,6\n");
    let cause = "s3://data/open.csv: the quote opened at line 3 is never closed.";
    check(&b, csv_reader("open.csv", first_row.clone()), Expect::Cause(cause)).await;
    // An escaped quote does not close it; a quote closed on the last line is fine.
    b.put("data", "escaped.csv", "a\n\"x\\\"");
    let cause = "s3://data/escaped.csv: the quote opened at line 2 is never closed.";
    check(&b, csv_reader("escaped.csv", first_row.clone()), Expect::Cause(cause)).await;
    b.put("data", "closed.csv", "a\n\"x\ny\"");
    check(&b, csv_reader("closed.csv", first_row), Expect::Items(json!([{"a": "x\ny"}]))).await;
}
