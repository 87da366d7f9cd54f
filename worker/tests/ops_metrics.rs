//! The Prometheus text format written by `ops::metrics`: each case states the exact text by
//! hand, and `check` also parses the text back as a scraper would, holding it to the format's
//! rules (HELP and TYPE once per family, before its samples; a family's samples contiguous;
//! label values unescaped to what was written).

use worker::ops::metrics::{CONTENT_TYPE, MetricsText};

/// One sample as a scraper reads it: name, labels (unescaped), value text.
#[derive(Debug, PartialEq)]
struct Sample {
    name: String,
    labels: Vec<(String, String)>,
    value: String,
}

/// A family as read back: name, HELP (unescaped), TYPE, samples.
#[derive(Debug, PartialEq)]
struct Family {
    name: String,
    help: String,
    kind: String,
    samples: Vec<Sample>,
}

/// Builds the text with `build`, compares it with `expected`, and returns it parsed.
fn check(build: impl FnOnce(&mut MetricsText), expected: &str) -> Vec<Family> {
    let mut m = MetricsText::new();
    build(&mut m);
    let text = m.finish();
    assert_eq!(text, expected, "\n--- got ---\n{text}--- expected ---\n{expected}");
    parse(&text)
}

/// A strict reader of the format, enough for counters and gauges.
fn parse(text: &str) -> Vec<Family> {
    assert!(text.is_empty() || text.ends_with('\n'), "the text ends with a line feed: {text:?}");
    let mut families: Vec<Family> = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').expect("HELP name text");
            assert!(families.iter().all(|f| f.name != name), "second HELP for {name}");
            families.push(Family {
                name: name.into(),
                help: unescape(help, false),
                kind: String::new(),
                samples: vec![],
            });
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("TYPE name kind");
            let f = families.last_mut().expect("TYPE after HELP");
            assert_eq!(f.name, name, "TYPE right after its family's HELP");
            assert!(f.kind.is_empty() && f.samples.is_empty(), "one TYPE, before the samples of {name}");
            assert!(kind == "counter" || kind == "gauge", "{kind}");
            f.kind = kind.into();
        } else {
            assert!(!line.starts_with('#'), "unexpected comment {line:?}");
            let sample = parse_sample(line);
            let f = families.last_mut().expect("a sample after its family's HELP and TYPE");
            assert_eq!(f.name, sample.name, "sample {line:?} outside its family (samples must be contiguous)");
            assert!(!f.kind.is_empty(), "TYPE before samples");
            f.samples.push(sample);
        }
    }
    families
}

fn parse_sample(line: &str) -> Sample {
    let name_end = line.find(['{', ' ']).expect("name then labels or value");
    let name = line[..name_end].to_string();
    let mut labels = Vec::new();
    let mut rest = &line[name_end..];
    if let Some(mut r) = rest.strip_prefix('{') {
        loop {
            let (label, after) = r.split_once("=\"").expect("label=\"value\"");
            // The value ends at the first double quote that is not escaped.
            let mut end = None;
            let mut escaped = false;
            for (i, c) in after.char_indices() {
                match (escaped, c) {
                    (false, '\\') => escaped = true,
                    (false, '"') => {
                        end = Some(i);
                        break;
                    }
                    _ => escaped = false,
                }
            }
            let end = end.expect("closing quote");
            labels.push((label.to_string(), unescape(&after[..end], true)));
            r = &after[end + 1..];
            if let Some(more) = r.strip_prefix(',') {
                r = more;
            } else {
                rest = r.strip_prefix('}').expect("closing brace");
                break;
            }
        }
    }
    let value = rest.strip_prefix(' ').expect("one space before the value");
    assert!(!value.contains(' '), "no timestamp or extra fields: {line:?}");
    Sample { name, labels, value: value.to_string() }
}

/// Undoes `\\`, `\n` and (in label values) `\"`.
fn unescape(s: &str, label_value: bool) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            assert!(c != '\n' && !(label_value && c == '"'), "unescaped {c:?} in {s:?}");
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('\\') => out.push('\\'),
            Some('n') => out.push('\n'),
            Some('"') if label_value => out.push('"'),
            other => panic!("bad escape \\{other:?} in {s:?}"),
        }
    }
    out
}

fn sample(name: &str, labels: &[(&str, &str)], value: &str) -> Sample {
    Sample {
        name: name.into(),
        labels: labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        value: value.into(),
    }
}

#[test]
fn the_content_type_is_text_format_0_0_4() {
    assert_eq!(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
}

#[test]
fn nothing_written_is_an_empty_text() {
    assert!(check(|_| {}, "").is_empty());
}

#[test]
fn a_counter_without_labels() {
    let families = check(
        |m| m.counter("dmap_batches_total", "Batches executed.", &[], 42),
        "# HELP dmap_batches_total Batches executed.\n\
         # TYPE dmap_batches_total counter\n\
         dmap_batches_total 42\n",
    );
    assert_eq!(
        families,
        vec![Family {
            name: "dmap_batches_total".into(),
            help: "Batches executed.".into(),
            kind: "counter".into(),
            samples: vec![sample("dmap_batches_total", &[], "42")],
        }]
    );
}

#[test]
fn interleaved_families_are_grouped_with_help_and_type_once() {
    let families = check(
        |m| {
            m.counter("dmap_outcomes_total", "Outcomes by kind.", &[("outcome", "succeeded")], 10);
            m.gauge("dmap_in_flight", "Batches being executed.", &[], 3.0);
            m.counter("dmap_outcomes_total", "Outcomes by kind.", &[("outcome", "failed")], 2);
            m.gauge("dmap_in_flight_limit", "Concurrency limit.", &[], 8.0);
            m.counter("dmap_outcomes_total", "Outcomes by kind.", &[("outcome", "timed_out")], 0);
        },
        "# HELP dmap_outcomes_total Outcomes by kind.\n\
         # TYPE dmap_outcomes_total counter\n\
         dmap_outcomes_total{outcome=\"succeeded\"} 10\n\
         dmap_outcomes_total{outcome=\"failed\"} 2\n\
         dmap_outcomes_total{outcome=\"timed_out\"} 0\n\
         # HELP dmap_in_flight Batches being executed.\n\
         # TYPE dmap_in_flight gauge\n\
         dmap_in_flight 3\n\
         # HELP dmap_in_flight_limit Concurrency limit.\n\
         # TYPE dmap_in_flight_limit gauge\n\
         dmap_in_flight_limit 8\n",
    );
    let names: Vec<(&str, &str, usize)> =
        families.iter().map(|f| (f.name.as_str(), f.kind.as_str(), f.samples.len())).collect();
    assert_eq!(
        names,
        [("dmap_outcomes_total", "counter", 3), ("dmap_in_flight", "gauge", 1), ("dmap_in_flight_limit", "gauge", 1)]
    );
    assert_eq!(families[0].samples[1], sample("dmap_outcomes_total", &[("outcome", "failed")], "2"));
}

#[test]
fn several_labels_keep_their_order() {
    let families = check(
        |m| m.gauge("dmap_queue_depth", "Messages waiting.", &[("stream", "batches"), ("consumer", "w-1")], 12.0),
        "# HELP dmap_queue_depth Messages waiting.\n\
         # TYPE dmap_queue_depth gauge\n\
         dmap_queue_depth{stream=\"batches\",consumer=\"w-1\"} 12\n",
    );
    assert_eq!(families[0].samples, [sample("dmap_queue_depth", &[("stream", "batches"), ("consumer", "w-1")], "12")]);
}

#[test]
fn label_values_escape_backslash_quote_and_newline() {
    let nasty = "C:\\dir \"q\"\nnext";
    let families = check(
        |m| m.counter("dmap_errors_total", "Errors.", &[("error", nasty), ("plain", "a{b}=c,d")], 1),
        "# HELP dmap_errors_total Errors.\n\
         # TYPE dmap_errors_total counter\n\
         dmap_errors_total{error=\"C:\\\\dir \\\"q\\\"\\nnext\",plain=\"a{b}=c,d\"} 1\n",
    );
    assert_eq!(families[0].samples, [sample("dmap_errors_total", &[("error", nasty), ("plain", "a{b}=c,d")], "1")]);
}

#[test]
fn help_escapes_backslash_and_newline_but_not_quotes() {
    let families = check(
        |m| m.gauge("dmap_up", "Line one\nsays \"hi\" \\ bye", &[], 1.0),
        "# HELP dmap_up Line one\\nsays \"hi\" \\\\ bye\n\
         # TYPE dmap_up gauge\n\
         dmap_up 1\n",
    );
    assert_eq!(families[0].help, "Line one\nsays \"hi\" \\ bye");
}

#[test]
fn gauge_values_integers_fractions_and_special_values() {
    let families = check(
        |m| {
            for (case, v) in [
                ("zero", 0.0),
                ("int", 7.0),
                ("million", 1_000_000.0),
                ("negative", -2.0),
                ("half", 0.5),
                ("fraction", -1.25),
                ("nan", f64::NAN),
                ("inf", f64::INFINITY),
                ("neg_inf", f64::NEG_INFINITY),
            ] {
                m.gauge("dmap_value", "A value.", &[("case", case)], v);
            }
        },
        "# HELP dmap_value A value.\n\
         # TYPE dmap_value gauge\n\
         dmap_value{case=\"zero\"} 0\n\
         dmap_value{case=\"int\"} 7\n\
         dmap_value{case=\"million\"} 1000000\n\
         dmap_value{case=\"negative\"} -2\n\
         dmap_value{case=\"half\"} 0.5\n\
         dmap_value{case=\"fraction\"} -1.25\n\
         dmap_value{case=\"nan\"} NaN\n\
         dmap_value{case=\"inf\"} +Inf\n\
         dmap_value{case=\"neg_inf\"} -Inf\n",
    );
    assert_eq!(families.len(), 1);
    assert_eq!(families[0].samples.len(), 9);
}

#[test]
fn counters_print_the_whole_u64_range() {
    check(
        |m| {
            m.counter("dmap_bytes_total", "Bytes.", &[("side", "in")], 0);
            m.counter("dmap_bytes_total", "Bytes.", &[("side", "out")], u64::MAX);
        },
        "# HELP dmap_bytes_total Bytes.\n\
         # TYPE dmap_bytes_total counter\n\
         dmap_bytes_total{side=\"in\"} 0\n\
         dmap_bytes_total{side=\"out\"} 18446744073709551615\n",
    );
}

#[test]
fn the_first_help_text_of_a_family_wins() {
    check(
        |m| {
            m.counter("dmap_a_total", "First.", &[("k", "1")], 1);
            m.counter("dmap_a_total", "Second.", &[("k", "2")], 2);
        },
        "# HELP dmap_a_total First.\n\
         # TYPE dmap_a_total counter\n\
         dmap_a_total{k=\"1\"} 1\n\
         dmap_a_total{k=\"2\"} 2\n",
    );
}

#[test]
#[cfg(debug_assertions)]
#[should_panic(expected = "invalid Prometheus metric name")]
fn an_invalid_metric_name_is_a_bug() {
    MetricsText::new().counter("dmap-batches", "Dashes are not allowed.", &[], 1);
}

#[test]
#[cfg(debug_assertions)]
#[should_panic(expected = "invalid Prometheus label name")]
fn an_invalid_label_name_is_a_bug() {
    MetricsText::new().counter("dmap_batches_total", "Batches.", &[("map run", "x")], 1);
}
