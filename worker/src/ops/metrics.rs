//! The Prometheus text exposition format (version 0.0.4), written by hand: a [`MetricsText`]
//! collects counters and gauges and renders them grouped by family.
//!
//! There is no global registry: whoever serves `/metrics` builds a fresh [`MetricsText`] from
//! the numbers it already keeps (atomics, queue lengths) on every scrape. This module only
//! formats; it must not hold state between scrapes or read anything itself.

use std::fmt::Write as _;

/// The `Content-Type` of a `/metrics` response in this format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Accumulates the exposition text of one scrape.
///
/// Samples of one family may be added by several calls, interleaved with other families; the
/// output still writes each family's `# HELP` and `# TYPE` once, followed by all its samples,
/// because Prometheus rejects a family whose samples are split.
#[derive(Debug, Default)]
pub struct MetricsText {
    families: Vec<Family>,
}

#[derive(Debug)]
struct Family {
    name: String,
    help: String,
    kind: Kind,
    /// Rendered sample lines, each ending in `\n`, in the order they were added.
    samples: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Counter,
    Gauge,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
        }
    }
}

impl MetricsText {
    pub fn new() -> Self {
        Self::default()
    }

    /// Writes `# HELP` and `# TYPE` once per family (first call for that name), then the sample line.
    pub fn counter(&mut self, name: &str, help: &str, labels: &[(&str, &str)], value: u64) {
        self.sample(name, help, Kind::Counter, labels, &value.to_string());
    }

    /// Like [`MetricsText::counter`], for a value that can go down. Integral values print
    /// without a fraction; NaN and infinities as `NaN`, `+Inf` and `-Inf`.
    pub fn gauge(&mut self, name: &str, help: &str, labels: &[(&str, &str)], value: f64) {
        self.sample(name, help, Kind::Gauge, labels, &format_float(value));
    }

    /// The exposition text: families in the order of their first sample.
    pub fn finish(self) -> String {
        let mut out = String::new();
        for f in self.families {
            out.push_str("# HELP ");
            out.push_str(&f.name);
            out.push(' ');
            escape_help(&mut out, &f.help);
            out.push('\n');
            // Writing to a String cannot fail.
            let _ = writeln!(out, "# TYPE {} {}", f.name, f.kind.as_str());
            out.push_str(&f.samples);
        }
        out
    }

    fn sample(&mut self, name: &str, help: &str, kind: Kind, labels: &[(&str, &str)], value: &str) {
        debug_assert!(is_metric_name(name), "invalid Prometheus metric name {name:?}");
        let i = match self.families.iter().position(|f| f.name == name) {
            Some(i) => i,
            None => {
                self.families.push(Family {
                    name: name.to_string(),
                    help: help.to_string(),
                    kind,
                    samples: String::new(),
                });
                self.families.len() - 1
            }
        };
        let family = &mut self.families[i];
        debug_assert_eq!(family.kind, kind, "metric {name:?} written both as a counter and as a gauge");
        let line = &mut family.samples;
        line.push_str(name);
        if !labels.is_empty() {
            line.push('{');
            for (n, (label, value)) in labels.iter().enumerate() {
                debug_assert!(is_label_name(label), "invalid Prometheus label name {label:?} on {name:?}");
                if n > 0 {
                    line.push(',');
                }
                line.push_str(label);
                line.push_str("=\"");
                escape_label_value(line, value);
                line.push('"');
            }
            line.push('}');
        }
        line.push(' ');
        line.push_str(value);
        line.push('\n');
    }
}

/// Label values escape backslash, double quote and line feed.
fn escape_label_value(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// `# HELP` text escapes backslash and line feed (a double quote stays as it is).
fn escape_help(out: &mut String, help: &str) {
    for c in help.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// Go's `ParseFloat` reads what Rust's `Display` writes for finite values (`3`, `0.25`,
/// `-0.0001`, never an exponent); the non-finite values have their own spellings.
fn format_float(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_string()
    } else if v == f64::INFINITY {
        "+Inf".to_string()
    } else if v == f64::NEG_INFINITY {
        "-Inf".to_string()
    } else {
        v.to_string()
    }
}

/// `[a-zA-Z_:][a-zA-Z0-9_:]*`
fn is_metric_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// `[a-zA-Z_][a-zA-Z0-9_]*`, not starting with `__` (reserved for Prometheus itself).
fn is_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with("__")
}
