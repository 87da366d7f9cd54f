use serde_json::{Value, json};

use super::{EmptyEnv, Path};

fn check(path: &str, input: Value, expected: Result<Value, &str>) {
    let p = Path::parse(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let got = p.select(&input, &EmptyEnv::default()).map_err(|e| e.message());
    assert_eq!(got, expected.map_err(|s| s.to_string()), "path {path}");
}

#[test]
fn definite_paths() {
    let doc = json!({"a": {"b": [10, 20, 30]}, "x y": 1, "delivery-partner": "p"});
    check("$", doc.clone(), Ok(doc.clone()));
    check("$.a.b[1]", doc.clone(), Ok(json!(20)));
    check("$.a.b[-1]", doc.clone(), Ok(json!(30)));
    check("$['x y']", doc.clone(), Ok(json!(1)));
    check("$.a.['b'][0]", doc.clone(), Ok(json!(10)));
    check("$.delivery-partner", doc.clone(), Ok(json!("p")));
    check("$.nope", doc.clone(), Err("No results for path: $['nope']"));
    check("$.no.such.path", doc.clone(), Err("Missing property in path $['no']"));
    check("$.a.b[7]", doc, Err("No results for path: $['a']['b'][7]"));
}

#[test]
fn indefinite_paths_yield_arrays() {
    let doc = json!({"items": [{"v": 1, "s": 0}, {"v": 2, "s": 1}, {"v": 3, "s": 0}]});
    check("$.items[*].v", doc.clone(), Ok(json!([1, 2, 3])));
    check("$.items[1:].v", doc.clone(), Ok(json!([2, 3])));
    check("$.items[:1].v", doc.clone(), Ok(json!([1])));
    check("$.items[0,2].v", doc.clone(), Ok(json!([1, 3])));
    check("$..v", doc.clone(), Ok(json!([1, 2, 3])));
    check("$.items[?(@.s == 0)].v", doc.clone(), Ok(json!([1, 3])));
    check("$.items[?(@.v > 1 && @.s != 1)].v", doc.clone(), Ok(json!([3])));
    check("$.missing[*].v", doc, Ok(json!([])));
    check("$[*]", json!({}), Ok(json!([])));
}

#[test]
fn reference_paths_reject_indefinite_steps() {
    assert!(Path::parse_reference("$.a.b[0]").is_ok());
    assert!(Path::parse_reference("$.a[*]").is_err());
    assert!(Path::parse_reference("$.a[-1]").is_err());
    assert!(Path::parse("a.b").is_err());
    assert!(Path::parse("$.a[").is_err());
}

#[test]
fn write_creates_parents() {
    let p = Path::parse_reference("$.a.b").expect("path");
    assert_eq!(p.write(json!({"x": 1}), json!(2)), Ok(json!({"x": 1, "a": {"b": 2}})));
    assert_eq!(p.write(json!({"a": {"c": 3}}), json!(2)), Ok(json!({"a": {"c": 3, "b": 2}})));
    assert!(p.write(json!("str"), json!(2)).is_err());
    let root = Path::parse_reference("$").expect("path");
    assert_eq!(root.write(json!({"x": 1}), json!(2)), Ok(json!(2)));
}

/// `check_write` answers exactly as `write` does, error text included, without writing.
#[test]
fn check_write_agrees_with_write() {
    let inputs = [
        json!({}),
        json!({"a": 1}),
        json!({"a": null}),
        json!({"a": {"b": [1, {"c": 2}]}}),
        json!({"a": [null, 5]}),
        json!([1, 2]),
        json!("s"),
        json!(null),
    ];
    let paths =
        ["$.a", "$.a.b", "$.a.b[1].c", "$.a.b[0].c", "$.a.b[9]", "$.a[0].x", "$.a[1]", "$.x.y.z", "$[0]", "$.a[0]"];
    for input in &inputs {
        for text in paths {
            let p = Path::parse_reference(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            let written = p.write(input.clone(), json!("v")).map(|_| ());
            assert_eq!(p.check_write(input), written, "{text} into {input}");
        }
    }
}

/// `$` inside a filter reads the document the path is evaluated against (Jayway's root).
#[test]
fn filters_read_the_root() {
    let doc = json!({"wanted": 2, "items": [{"id": 1, "v": "a"}, {"id": 2, "v": "b"}, {"id": 2, "v": "c"}]});
    check("$.items[?(@.id == $.wanted)].v", doc.clone(), Ok(json!(["b", "c"])));
    check("$.items[?($.wanted > @.id)].v", doc.clone(), Ok(json!(["a"])));
    // A root path that selects nothing compares as nothing.
    check("$.items[?(@.id == $.nope)].v", doc.clone(), Ok(json!([])));
    check("$..[?(@.id == $.wanted)].v", doc, Ok(json!(["b", "c"])));
    assert!(Path::parse("$.items[?(@.id == $$.Execution.Id)]").is_err());
    assert!(Path::parse("$.items[?(@.id == $.a[*])]").is_err());
}

/// Jayway reads an unquoted word as a number and cannot compile the filter: the path loads
/// (AWS deploys such definitions) and fails whenever it is evaluated, never matching as a string.
#[test]
fn unquoted_words_fail_when_evaluated() {
    let doc = json!({"a": [{"Name": "Receipt", "n": 2}, {"Name": "Other", "n": 3}]});
    for text in
        ["$.a[?(@.Name==Receipt)]", "$.a[?(@.n == 2 && @.Name == Receipt)]", "$.a[?(@.Name==/eggs/cooked/like)]"]
    {
        let p = Path::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        let got = p.select(&doc, &EmptyEnv::default()).map_err(|e| e.message());
        assert!(got.as_ref().is_err_and(|m| m.contains("cannot be compiled")), "{text}: {got:?}");
        assert!(!p.is_present(&doc, &EmptyEnv::default()), "{text}");
    }
    check("$.a[?(@.Name=='Receipt')].n", doc.clone(), Ok(json!([2])));
    check("$.a[?(@.n==3)].Name", doc.clone(), Ok(json!(["Other"])));
    check("$.a[?(@.n==-3 || @.Name==null)].Name", doc, Ok(json!([])));
}
