//! The results of one `bench` invocation: every measurement with its runs, the ratios between
//! systems formed pair by pair, and the machine they ran on; written as JSON (the record), Markdown
//! (for people) and PNG plots (`plot`). It measures nothing and starts nothing: scenarios fill it.
//!
//! Ratios are the headline because absolute numbers depend on the machine while a ratio measured
//! in the same run, run i against run i, mostly does not: a slow moment of a shared machine hits
//! both sides of a pair.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::{machine, plot};

/// One configuration of one system in one scenario, with every timed run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Measurement {
    /// Stable id, e.g. "engine-5-state", "maprun-distributed", "memory", "startup".
    pub scenario: String,
    /// Human title of the scenario.
    pub title: String,
    /// "dmap", or the peer's name and version.
    pub system: String,
    /// Exactly what ran (N, batch size, workers, ...).
    pub detail: String,
    /// "items/s", "executions/s", "s", "MiB".
    pub unit: String,
    pub higher_is_better: bool,
    /// One per run, in run order: ratios pair runs by index.
    pub samples: Vec<f64>,
    /// Numeric parameters the plots place the measurement by, e.g. {"workers": 2, "batch": 1000}.
    #[serde(default)]
    pub params: BTreeMap<String, f64>,
    /// Why this system cannot do this scenario; `samples` is then empty.
    #[serde(default)]
    pub unsupported: Option<String>,
}

impl Measurement {
    /// Median, min and max of the runs; `None` without runs.
    pub fn stats(&self) -> Option<(f64, f64, f64)> {
        (!self.samples.is_empty()).then(|| stats(&self.samples))
    }
}

/// `numerator ÷ denominator` for one scenario, run by run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Ratio {
    pub scenario: String,
    pub numerator: String,
    pub denominator: String,
    /// Numerator run i ÷ denominator run i, inverted for lower-is-better units so that above 1
    /// always means the numerator is better. Empty when either system cannot do the scenario.
    pub samples: Vec<f64>,
    pub note: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    /// UTC, YYYY-MM-DD.
    pub date: String,
    pub host: String,
    /// `machine::describe()`.
    pub machine: String,
    /// The command line that produced the report.
    pub command: String,
    pub measurements: Vec<Measurement>,
    pub ratios: Vec<Ratio>,
    /// (component, version), e.g. ("nats-server", "2.12.1").
    pub versions: Vec<(String, String)>,
}

impl Report {
    pub fn new(command: &str) -> Self {
        Report {
            date: chrono::Utc::now().format("%Y-%m-%d").to_string(),
            host: hostname(),
            machine: machine::describe(),
            command: command.to_string(),
            measurements: Vec::new(),
            ratios: Vec::new(),
            versions: Vec::new(),
        }
    }

    pub fn add(&mut self, m: Measurement) {
        self.measurements.push(m);
    }

    /// Adds the pairwise ratio of two measurements of one scenario (by system names; the first
    /// measurement added for each), if both have samples. When either system cannot do the
    /// scenario the ratio is still added, without samples, so that the headline table says so.
    /// Anything else that prevents a ratio (a missing measurement, different units) is reported
    /// on stderr and adds nothing: a benchmark run is not worth failing over its summary.
    pub fn ratio(&mut self, scenario: &str, numerator: &str, denominator: &str, note: &str) {
        let find = |system: &str| self.measurements.iter().find(|m| m.scenario == scenario && m.system == system);
        let (Some(n), Some(d)) = (find(numerator), find(denominator)) else {
            eprintln!("warning: no ratio for {scenario}: no measurement of {numerator} or of {denominator}");
            return;
        };
        let samples = if n.unsupported.is_some() || d.unsupported.is_some() {
            Vec::new()
        } else if n.samples.is_empty() || d.samples.is_empty() {
            eprintln!("warning: no ratio for {scenario}: {numerator} or {denominator} has no runs");
            return;
        } else if n.unit != d.unit || n.higher_is_better != d.higher_is_better {
            eprintln!("warning: no ratio for {scenario}: {} and {} are not comparable", n.unit, d.unit);
            return;
        } else {
            pairwise(n, d)
        };
        self.ratios.push(Ratio {
            scenario: scenario.to_string(),
            numerator: numerator.to_string(),
            denominator: denominator.to_string(),
            samples,
            note: note.to_string(),
        });
    }

    /// The reason one side of a ratio cannot run, as "cannot: <system>: <reason>".
    pub fn cannot(&self, r: &Ratio) -> Option<String> {
        [&r.numerator, &r.denominator].into_iter().find_map(|system| {
            let m = self.measurements.iter().find(|m| m.scenario == r.scenario && &m.system == system)?;
            m.unsupported.as_ref().map(|why| format!("cannot: {system}: {why}"))
        })
    }

    /// The human title of a scenario (its id when no measurement has one).
    pub fn title(&self, scenario: &str) -> String {
        self.measurements
            .iter()
            .find(|m| m.scenario == scenario && !m.title.is_empty())
            .map_or_else(|| scenario.to_string(), |m| m.title.clone())
    }

    /// The headline ratios, then every measurement, then the machine and versions.
    pub fn markdown(&self) -> String {
        let mut s = format!("# dmap benchmarks, {} on {}\n\n", self.date, self.host);
        if !self.ratios.is_empty() {
            s.push_str("## dmap ÷ peer\n\n");
            s.push_str(
                "Each ratio is formed pair by pair in the same run (run i of one system ÷ run i of the \
                 other, inverted for lower-is-better units such as seconds and MiB, so that above 1× the \
                 first system is better); median, min and max over the pairs.\n\n",
            );
            s.push_str("| Scenario | Ratio | Median | Min | Max | Pairs | Note |\n|---|---|---:|---:|---:|---:|---|\n");
            for r in &self.ratios {
                let (median, min, max) = match self.cannot(r) {
                    Some(why) if r.samples.is_empty() => (why, "—".into(), "—".into()),
                    _ if r.samples.is_empty() => ("no pairs".into(), "—".into(), "—".into()),
                    _ => {
                        let (med, min, max) = stats(&r.samples);
                        (format!("**{}**", times(med)), times(min), times(max))
                    }
                };
                let _ = writeln!(
                    s,
                    "| {} | {} ÷ {} | {} | {} | {} | {} | {} |",
                    cell(&self.title(&r.scenario)),
                    cell(&r.numerator),
                    cell(&r.denominator),
                    cell(&median),
                    min,
                    max,
                    r.samples.len(),
                    cell(&r.note)
                );
            }
            s.push('\n');
        }
        s.push_str("## Measurements\n\n");
        s.push_str("| Scenario | System | What ran | Median | Min | Max | Unit | Runs |\n");
        s.push_str("|---|---|---|---:|---:|---:|---|---:|\n");
        for m in &self.measurements {
            let unit = if m.higher_is_better { m.unit.clone() } else { format!("{}, lower is better", m.unit) };
            let (median, min, max) = match (&m.unsupported, m.stats()) {
                (Some(why), _) => (format!("cannot: {why}"), "—".into(), "—".into()),
                (None, None) => ("no runs".into(), "—".into(), "—".into()),
                (None, Some((med, min, max))) => (number(med), number(min), number(max)),
            };
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} | {} | {} |",
                cell(&m.title),
                cell(&m.system),
                cell(&m.detail),
                cell(&median),
                min,
                max,
                cell(&unit),
                m.samples.len()
            );
        }
        let _ = write!(
            s,
            "\n## Machine\n\n{}; host `{}`, {} (UTC).\n\nCommand: `{}`\n",
            self.machine, self.host, self.date, self.command
        );
        if !self.versions.is_empty() {
            s.push_str("\n| Component | Version |\n|---|---|\n");
            for (name, version) in &self.versions {
                let _ = writeln!(s, "| {} | {} |", cell(name), cell(version));
            }
        }
        s
    }

    /// Writes `<dir>/<date>-<host>.json`, `<date>-<host>.md`, and the plots `<date>-<host>-*.png`;
    /// returns the paths. JSON and Markdown are written before the plots, so that a plot that
    /// fails to draw loses no numbers.
    pub fn write(&self, dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
        self.write_named(dir, "")
    }

    /// [`Report::write`] with `-<name>` after the stem (`<date>-<host>-<name>.json`), for a single
    /// scenario's report beside `bench all`'s.
    pub fn write_named(&self, dir: &Path, name: &str) -> anyhow::Result<Vec<PathBuf>> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let mut stem = format!("{}-{}", self.date, file_safe(&self.host));
        if !name.is_empty() {
            stem = format!("{stem}-{}", file_safe(name));
        }
        let json = dir.join(format!("{stem}.json"));
        std::fs::write(&json, serde_json::to_string_pretty(self)? + "\n")
            .with_context(|| format!("writing {}", json.display()))?;
        let md = dir.join(format!("{stem}.md"));
        std::fs::write(&md, self.markdown()).with_context(|| format!("writing {}", md.display()))?;
        let pngs = plot::write_all(self, dir, &stem)?;
        if !pngs.is_empty() {
            // The plots are known only once drawn (each is skipped without its data).
            let mut text = self.markdown();
            text.push_str("\n## Plots\n\n");
            for p in &pngs {
                let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                let _ = writeln!(text, "![{name}]({name})\n");
            }
            std::fs::write(&md, text).with_context(|| format!("writing {}", md.display()))?;
        }
        Ok([json, md].into_iter().chain(pngs).collect())
    }
}

/// Median, min and max; NaN for an empty sample.
pub fn stats(samples: &[f64]) -> (f64, f64, f64) {
    if samples.is_empty() {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    machine::stats(samples.to_vec())
}

fn pairwise(n: &Measurement, d: &Measurement) -> Vec<f64> {
    n.samples.iter().zip(&d.samples).map(|(&a, &b)| if n.higher_is_better { a / b } else { b / a }).collect()
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown-host".into())
}

fn file_safe(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() || "._-".contains(c) { c } else { '-' }).collect()
}

/// A Markdown table cell: no pipes, no line breaks.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// Three significant digits, thousands separated from 1,000 up: 0.0123, 4.56, 78.9, 1,234,567.
pub fn number(x: f64) -> String {
    if !x.is_finite() {
        return "—".into();
    }
    if x.abs() >= 1000.0 {
        let digits = format!("{:.0}", x.abs());
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(c);
        }
        return if x < 0.0 { format!("-{out}") } else { out };
    }
    if x == 0.0 {
        return "0".into();
    }
    let decimals = (2 - x.abs().log10().floor() as i32).clamp(0, 6) as usize;
    format!("{x:.decimals$}")
}

fn times(x: f64) -> String {
    format!("{}×", number(x))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) const PEER: &str = "aws-local-stepfunctions 1.3.0";

    fn m(scenario: &str, system: &str, unit: &str, samples: &[f64], params: &[(&str, f64)]) -> Measurement {
        Measurement {
            scenario: scenario.into(),
            title: format!("Title of {scenario}"),
            system: system.into(),
            detail: format!("{scenario} as run"),
            unit: unit.into(),
            higher_is_better: !matches!(unit, "s" | "MiB"),
            samples: samples.to_vec(),
            params: params.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
            unsupported: None,
        }
    }

    fn cannot(scenario: &str, system: &str, unit: &str, why: &str, params: &[(&str, f64)]) -> Measurement {
        Measurement { unsupported: Some(why.into()), ..m(scenario, system, unit, &[], params) }
    }

    /// A report with hand-written numbers for every scenario the plots draw.
    pub(crate) fn fabricated() -> Report {
        let mut r = Report {
            date: "2026-01-02".into(),
            host: "bench host".into(),
            machine: "Example(R) CPU @ 3.00GHz, 2 cores, 8 GiB, linux x86_64".into(),
            command: "cargo run -p bench --release -- all".into(),
            measurements: Vec::new(),
            ratios: Vec::new(),
            versions: vec![("nats-server".into(), "2.12.1".into())],
        };
        let eps = "executions/s";
        r.add(m("engine-5-state", "dmap", eps, &[1000.0, 1010.0, 990.0, 1005.0, 995.0], &[]));
        r.add(m("engine-5-state", PEER, eps, &[10.0; 5], &[]));
        r.add(m("startup", "dmap", "s", &[0.01, 0.012, 0.011, 0.01, 0.01], &[]));
        r.add(m("startup", PEER, "s", &[0.5; 5], &[]));
        for (w, v) in [(1.0, 300e3), (2.0, 520e3), (4.0, 800e3)] {
            let p = [("workers", w), ("batch", 1000.0), ("items", 1e6)];
            r.add(m("maprun-distributed", "dmap", "items/s", &[v * 0.98, v, v * 1.03, v * 0.99, v * 1.01], &p));
        }
        r.add(cannot("maprun-distributed", PEER, "items/s", "no dmap-worker equivalent", &[]));
        for (batch, v) in [(10.0, 60e3), (100.0, 250e3), (1000.0, 400e3), (10000.0, 430e3)] {
            let p = [("batch", batch), ("items", 1e6)];
            r.add(m("maprun-embedded", "dmap", "items/s", &[v * 0.97, v, v * 1.02, v, v * 1.01], &p));
            // The workers sweep measured batch 1000 with 2 workers already.
            if batch != 1000.0 {
                let p = [("workers", 2.0), ("batch", batch), ("items", 1e6)];
                let d = v * 1.2;
                r.add(m("maprun-distributed", "dmap", "items/s", &[d * 0.97, d, d * 1.02, d, d * 1.01], &p));
            }
        }
        for (items, dmap, peer) in [(1e4, 30.0, 120.0), (1e5, 34.0, 700.0), (1e6, 41.0, 5200.0)] {
            r.add(m("memory", "dmap", "MiB", &[dmap, dmap + 1.0, dmap - 0.5, dmap, dmap], &[("items", items)]));
            r.add(m("memory", PEER, "MiB", &[peer, peer * 1.02, peer, peer * 0.99, peer], &[("items", items)]));
        }
        r.add(m("memory", "dmap", "MiB", &[52.0, 53.0, 52.5, 52.0, 52.0], &[("items", 1e7)]));
        r.add(cannot("memory", PEER, "MiB", "runs out of heap", &[("items", 1e7)]));
        r.ratio("engine-5-state", "dmap", PEER, "");
        r.ratio("startup", "dmap", PEER, "process start to first state");
        r.ratio("maprun-distributed", "dmap", PEER, "");
        r
    }

    #[test]
    fn ratios_pair_runs_and_invert_lower_is_better() {
        let r = fabricated();
        assert_eq!(r.ratios.len(), 3);
        assert_eq!(r.ratios[0].samples, vec![100.0, 101.0, 99.0, 100.5, 99.5]);
        assert_eq!(stats(&r.ratios[0].samples), (100.0, 99.0, 101.0));
        // Seconds: the peer's 0.5 s over dmap's 0.01 s, so that above 1× dmap is better.
        assert!((stats(&r.ratios[1].samples).0 - 50.0).abs() < 1e-9);
        assert!(r.ratios[2].samples.is_empty(), "the peer cannot run it");
    }

    #[test]
    fn ratio_without_comparable_runs_adds_nothing() {
        let mut r = fabricated();
        r.ratio("engine-5-state", "dmap", "nobody", "");
        r.ratio("memory", "dmap", "startup", "");
        r.add(m("mixed", "dmap", "items/s", &[1.0], &[]));
        r.add(m("mixed", PEER, "s", &[1.0], &[]));
        r.ratio("mixed", "dmap", PEER, "");
        assert_eq!(r.ratios.len(), 3);
    }

    #[test]
    fn markdown_leads_with_ratios_and_says_cannot() {
        let md = fabricated().markdown();
        let ratios = md.find("## dmap ÷ peer").expect("ratio section");
        let absolute = md.find("## Measurements").expect("measurement section");
        assert!(ratios < absolute);
        let expect = [
            "| Title of engine-5-state | dmap ÷ aws-local-stepfunctions 1.3.0 | **100×** | 99.0× | 101× | 5 |  |",
            "| Title of startup | dmap ÷ aws-local-stepfunctions 1.3.0 | **50.0×** | 41.7× | 50.0× | 5 | process start to first state |",
            "| Title of maprun-distributed | dmap ÷ aws-local-stepfunctions 1.3.0 | cannot: aws-local-stepfunctions 1.3.0: no dmap-worker equivalent | — | — | 0 |  |",
            "| Title of engine-5-state | dmap | engine-5-state as run | 1,000 | 990 | 1,010 | executions/s | 5 |",
            "| Title of startup | aws-local-stepfunctions 1.3.0 | startup as run | 0.500 | 0.500 | 0.500 | s, lower is better | 5 |",
            "| Title of memory | aws-local-stepfunctions 1.3.0 | memory as run | cannot: runs out of heap | — | — | MiB, lower is better | 0 |",
            "Example(R) CPU @ 3.00GHz, 2 cores, 8 GiB, linux x86_64; host `bench host`, 2026-01-02 (UTC).",
            "| nats-server | 2.12.1 |",
        ];
        for line in expect {
            assert!(md.contains(line), "missing {line:?} in\n{md}");
        }
    }

    #[test]
    fn json_round_trips() {
        let r = fabricated();
        let text = serde_json::to_string_pretty(&r).unwrap();
        let back: Report = serde_json::from_str(&text).unwrap();
        assert_eq!(serde_json::to_string_pretty(&back).unwrap(), text);
        assert_eq!(back.measurements.len(), r.measurements.len());
        assert_eq!(back.ratios[0].samples, r.ratios[0].samples);
    }

    #[test]
    fn numbers_keep_three_significant_digits() {
        let cases = [(0.0123, "0.0123"), (4.567, "4.57"), (78.91, "78.9"), (999.4, "999"), (1234567.0, "1,234,567")];
        for (x, want) in cases {
            assert_eq!(number(x), want);
        }
        assert_eq!(number(f64::NAN), "—");
    }

    /// Width and height from a PNG's IHDR chunk, after checking the signature.
    fn png_size(bytes: &[u8]) -> (u32, u32) {
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(&bytes[12..16], b"IHDR");
        let be = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
        (be(16), be(20))
    }

    #[test]
    fn write_produces_json_markdown_and_plots() {
        let dir = tempfile::tempdir().unwrap();
        let paths = fabricated().write(dir.path()).unwrap();
        let names: Vec<String> = paths.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
        let stem = "2026-01-02-bench-host";
        let want: Vec<String> = ["json", "md"]
            .iter()
            .map(|e| format!("{stem}.{e}"))
            .chain(["ratios", "workers", "batch", "memory"].iter().map(|p| format!("{stem}-{p}.png")))
            .collect();
        assert_eq!(names, want);
        for p in &paths[2..] {
            assert_eq!(png_size(&std::fs::read(p).unwrap()), plot::SIZE, "{}", p.display());
        }
        let json: Report = serde_json::from_slice(&std::fs::read(&paths[0]).unwrap()).unwrap();
        assert_eq!(json.ratios.len(), 3);
        let md = std::fs::read_to_string(&paths[1]).unwrap();
        assert!(md.contains(&format!("![{stem}-ratios.png]({stem}-ratios.png)")));
    }

    #[test]
    fn write_named_puts_the_name_after_the_stem() {
        let dir = tempfile::tempdir().unwrap();
        let mut r = fabricated();
        r.measurements.retain(|m| m.scenario == "startup");
        r.ratios.clear();
        let paths = r.write_named(dir.path(), "distributed").unwrap();
        let names: Vec<_> = paths.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
        assert_eq!(names, ["2026-01-02-bench-host-distributed.json", "2026-01-02-bench-host-distributed.md"]);
    }

    #[test]
    fn write_skips_plots_without_data() {
        let dir = tempfile::tempdir().unwrap();
        let mut r = fabricated();
        r.measurements.retain(|m| m.scenario == "engine-5-state");
        r.ratios.truncate(1);
        let paths = r.write(dir.path()).unwrap();
        let names: Vec<_> = paths.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
        assert_eq!(
            names,
            ["2026-01-02-bench-host.json", "2026-01-02-bench-host.md", "2026-01-02-bench-host-ratios.png"]
        );
    }
}
