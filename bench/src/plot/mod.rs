//! PNG plots of a `Report`, 1200×700, drawn with plotters' bitmap backend:
//!
//! - `ratios`: the median pairwise ratio of every headline pair, with min–max whiskers, log scale;
//! - `workers`: distributed Map Run throughput against workers, the embedded run as a reference;
//! - `batch`: Map Run throughput against batch size, distributed and embedded;
//! - `memory`: peak RSS against items, per system.
//!
//! Choosing what to draw (`Figure`s, pure data) is separate from drawing it. A plot whose data is
//! absent is skipped, not drawn empty. Text uses DejaVu Sans embedded in the binary through
//! plotters' `ab_glyph` feature, so no system font library (fontconfig, freetype) is needed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use anyhow::anyhow;
use plotters::coord::Shift;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::report::{Measurement, Report, number, stats};

/// Width and height of every plot, in pixels.
pub const SIZE: (u32, u32) = (1200, 700);

/// DejaVu Sans 2.37; licence in bench/assets/DejaVuSans-LICENSE.txt.
const FONT: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");
const SANS: &str = "sans-serif";
const COLORS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];
const GREY: RGBColor = RGBColor(90, 90, 90);

/// Scenarios whose measurements are Map Run throughput, with what kind of run each holds ("" when
/// the system's name says it). The ids of the benchmark issue, and `batch`, a sweep of both kinds.
const DISTRIBUTED: (&str, &str) = ("maprun-distributed", "distributed");
const EMBEDDED: (&str, &str) = ("maprun-embedded", "embedded");
const BATCH_SWEEP: (&str, &str) = ("batch", "");

/// Draws every plot that has data as `<dir>/<stem>-<name>.png`; returns the paths written.
pub fn write_all(report: &Report, dir: &Path, stem: &str) -> anyhow::Result<Vec<PathBuf>> {
    register_font()?;
    let subtitle = format!("{} · {} · {}", short_machine(&report.machine), report.host, report.date);
    let mut written = Vec::new();
    if let Some(rows) = ratios(report) {
        let path = dir.join(format!("{stem}-ratios.png"));
        draw_ratios(&path, &subtitle, &rows)?;
        written.push(path);
    }
    for (name, figure) in [("workers", workers(report)), ("batch", batch(report)), ("memory", memory(report))] {
        if let Some(figure) = figure {
            let path = dir.join(format!("{stem}-{name}.png"));
            draw_xy(&path, &subtitle, &figure)?;
            written.push(path);
        }
    }
    Ok(written)
}

fn register_font() -> anyhow::Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| plotters::style::register_font(SANS, FontStyle::Normal, FONT).is_ok());
    if ok { Ok(()) } else { Err(anyhow!("the embedded DejaVu Sans is not a usable font")) }
}

/// The CPU model without trademark noise, then cores, memory and OS.
fn short_machine(machine: &str) -> String {
    let mut s = machine.to_string();
    for noise in ["(R)", "(TM)", "(tm)", " CPU", " Processor"] {
        s = s.replace(noise, "");
    }
    clip(&s.split_whitespace().collect::<Vec<_>>().join(" "), 100)
}

/// One row of the ratios plot.
#[derive(Debug, Clone, PartialEq)]
struct RatioRow {
    scenario: String,
    numerator: String,
    denominator: String,
    /// Median, min and max; `None` when one system cannot run the scenario.
    stats: Option<(f64, f64, f64)>,
    cannot: String,
}

fn ratios(report: &Report) -> Option<Vec<RatioRow>> {
    let rows: Vec<RatioRow> = report
        .ratios
        .iter()
        .map(|r| RatioRow {
            // The unit in a title's closing parenthesis says nothing about a ratio.
            scenario: without_unit(&report.title(&r.scenario)),
            numerator: r.numerator.clone(),
            denominator: r.denominator.clone(),
            stats: r.samples.iter().all(|x| x.is_finite() && *x > 0.0).then(|| stats(&r.samples)).filter(|s| s.0 > 0.0),
            cannot: report.cannot(r).unwrap_or_else(|| "no pairs".into()),
        })
        .collect();
    rows.iter().any(|r| r.stats.is_some()).then_some(rows)
}

fn without_unit(title: &str) -> String {
    match title.rfind(" (") {
        Some(i) if title.ends_with(')') => title[..i].to_string(),
        _ => title.to_string(),
    }
}

/// An x–y plot: series of medians with min–max bars, and horizontal reference lines.
#[derive(Debug, Clone, PartialEq)]
struct Figure {
    title: String,
    /// The parameter along x.
    x: &'static str,
    x_desc: String,
    y_desc: String,
    x_log: bool,
    series: Vec<Series>,
    references: Vec<(String, f64)>,
}

#[derive(Debug, Clone, PartialEq)]
struct Series {
    /// The system and kind of run, e.g. "dmap distributed" or "dmap (NATS)".
    name: String,
    /// Parameters other than x and `items`, the same for every point.
    others: BTreeMap<String, f64>,
    /// (x, median, min, max), by x.
    points: Vec<(f64, f64, f64, f64)>,
    /// Where along x the system cannot run.
    cannot: Vec<f64>,
}

impl Series {
    /// The name, the parameters that tell it from the other series (all of them when alone), and
    /// where along x it cannot run.
    fn label(&self, all: &[Series], x: &str) -> String {
        let shown: BTreeMap<String, f64> = if all.len() <= 1 {
            self.others.clone()
        } else {
            let varies = |k: &String| all.iter().any(|s| s.others.get(k) != self.others.get(k));
            self.others.iter().filter(|(k, _)| varies(k)).map(|(k, v)| (k.clone(), *v)).collect()
        };
        let mut label = self.name.clone();
        if !shown.is_empty() {
            label = format!("{label}, {}", describe(&shown, &[]));
        }
        if !self.cannot.is_empty() {
            let at: Vec<String> = self.cannot.iter().map(|&v| format!("{} {x}", compact(v))).collect();
            label = format!("{label} (cannot: {})", at.join(", "));
        }
        label
    }
}

/// Measurements of `sources` (scenario, kind of run) placed by `params[x]`: one series per
/// system, kind and other parameters (`items` aside, which only sizes the workload). A system
/// named after its x value ("dmap (NATS, 4 workers)") joins the series of its siblings.
fn series(report: &Report, sources: &[(&str, &str)], x: &str) -> Vec<Series> {
    let mut groups: BTreeMap<(usize, bool, String, String), Series> = BTreeMap::new();
    for m in &report.measurements {
        let Some(kind) = sources.iter().position(|(s, _)| *s == m.scenario) else { continue };
        let Some(&at) = m.params.get(x) else { continue };
        let system = without_x(&m.system, x, at);
        let name = if sources[kind].1.is_empty() { system } else { format!("{system} {}", sources[kind].1) };
        let others: BTreeMap<String, f64> =
            m.params.iter().filter(|(k, _)| *k != x && *k != "items").map(|(k, v)| (k.clone(), *v)).collect();
        // dmap first, so that it keeps the first colour in every plot.
        let key = (kind, !m.system.starts_with("dmap"), name.clone(), describe(&others, &[]));
        let s = groups.entry(key).or_insert_with(|| Series { name, others, points: Vec::new(), cannot: Vec::new() });
        match m.stats() {
            Some((med, min, max)) => s.points.push((at, med, min, max)),
            None if m.unsupported.is_some() => s.cannot.push(at),
            None => {}
        }
    }
    let mut out: Vec<Series> = groups.into_values().filter(|s| !s.points.is_empty()).collect();
    for s in &mut out {
        s.points.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    out
}

/// "dmap (NATS, 4 workers)" without "4 workers" for x = workers: "dmap (NATS)".
fn without_x(system: &str, x: &str, at: f64) -> String {
    let stem = x.trim_end_matches('s');
    let values = [compact(at), number(at), format!("{at}")];
    let found = values.iter().flat_map(|v| [format!("{v} {x}"), format!("{v} {stem}")]).find(|p| system.contains(p));
    let Some(pattern) = found else { return system.to_string() };
    let s = system.replacen(&pattern, "", 1).replace(", )", ")").replace("(, ", "(").replace("()", "");
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Parameters other than `except` as "batch 1000, workers 2".
fn describe(params: &BTreeMap<String, f64>, except: &[&str]) -> String {
    let kept = params.iter().filter(|(k, _)| !except.contains(&k.as_str()));
    kept.map(|(k, v)| format!("{k} {}", compact(*v))).collect::<Vec<_>>().join(", ")
}

fn unit_of(report: &Report, scenarios: &[&str]) -> String {
    let m = report.measurements.iter().find(|m| scenarios.contains(&m.scenario.as_str()) && !m.unit.is_empty());
    m.map_or_else(String::new, |m| m.unit.clone())
}

fn workers(report: &Report) -> Option<Figure> {
    let all = series(report, &[DISTRIBUTED], "workers");
    // The sweeps (two worker counts or more), or whatever there is when nothing was swept.
    let swept: Vec<Series> = all.iter().filter(|s| s.points.len() >= 2).cloned().collect();
    let series = if swept.is_empty() { all } else { swept };
    if series.is_empty() {
        return None;
    }
    // The embedded run of the same workload (same parameters but workers) is the reference.
    let embedded: Vec<&Measurement> = report
        .measurements
        .iter()
        .filter(|m| m.scenario == EMBEDDED.0 || (m.scenario == "maprun" && m.system.contains("embedded")))
        .filter(|m| !m.samples.is_empty())
        .collect();
    let others = |m: &Measurement| describe(&m.params, &["workers", "items"]);
    let same: Vec<&Measurement> =
        embedded.iter().copied().filter(|m| series.iter().any(|s| describe(&s.others, &[]) == others(m))).collect();
    let references = if same.is_empty() { embedded } else { same }
        .into_iter()
        .filter_map(|m| {
            let (med, ..) = m.stats()?;
            let name = if m.scenario == EMBEDDED.0 { format!("{} embedded", m.system) } else { m.system.clone() };
            let name = if others(m).is_empty() { name } else { format!("{name}, {}", others(m)) };
            Some((format!("{name}: {} {}", number(med), m.unit), med))
        })
        .collect();
    let unit = unit_of(report, &[DISTRIBUTED.0]);
    Some(Figure {
        title: "Distributed Map Run throughput against workers".into(),
        x: "workers",
        x_desc: "dmap-worker processes".into(),
        y_desc: format!("throughput ({unit}, higher is better)"),
        x_log: false,
        series,
        references,
    })
}

fn batch(report: &Report) -> Option<Figure> {
    let series: Vec<Series> = series(report, &[DISTRIBUTED, EMBEDDED, BATCH_SWEEP], "batch")
        .into_iter()
        .filter(|s| s.points.len() >= 2)
        .collect();
    if series.is_empty() {
        return None;
    }
    let unit = unit_of(report, &[BATCH_SWEEP.0, DISTRIBUTED.0, EMBEDDED.0]);
    Some(Figure {
        title: "Map Run throughput against batch size".into(),
        x: "batch",
        x_desc: "items per batch (ItemBatcher MaxItemsPerBatch, log scale)".into(),
        y_desc: format!("throughput ({unit}, higher is better)"),
        x_log: true,
        series,
        references: Vec::new(),
    })
}

fn memory(report: &Report) -> Option<Figure> {
    let series = series(report, &[("memory", "")], "items");
    if series.is_empty() {
        return None;
    }
    Some(Figure {
        title: "Peak memory against items".into(),
        x: "items",
        x_desc: "items in the Map Run (log scale)".into(),
        y_desc: format!("peak RSS ({}, lower is better)", unit_of(report, &["memory"])),
        x_log: true,
        series,
        references: Vec::new(),
    })
}

/// An axis with ticks exactly at `at` (the measured worker counts, batch sizes, ...), labelled by
/// the chart's formatter. plotters' own `WithKeyPoints` keeps the linear axis's
/// `NoDefaultFormatting`, which would not accept a label formatter.
struct Ticks<R> {
    inner: R,
    at: Vec<f64>,
}

impl<R: Ranged<ValueType = f64>> Ranged for Ticks<R> {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.inner.map(value, limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() { Vec::new() } else { self.at.clone() }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.inner.range()
    }
}

fn ticks<R: Ranged<ValueType = f64>>(inner: impl Into<R>, at: Vec<f64>) -> Ticks<R> {
    Ticks { inner: inner.into(), at }
}

/// 1, 2, 5, 10, 20, ... within `lo..=hi`; decades only when that would crowd the axis.
fn one_two_five(lo: f64, hi: f64) -> Vec<f64> {
    let mut out = Vec::new();
    let mut decade = 10f64.powf(lo.log10().floor());
    while decade <= hi {
        out.extend([1.0, 2.0, 5.0].iter().map(|m| m * decade).filter(|v| (lo..=hi).contains(v)));
        decade *= 10.0;
    }
    if out.len() > 12 {
        out.into_iter().filter(|v| (v.log10().round() - v.log10()).abs() < 1e-9).collect()
    } else {
        out
    }
}

/// 1.23M, 45.6k, 1000, 789, 2, 1.50.
fn compact(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e4 {
        return format!("{x:.0}");
    }
    let (v, suffix) = match x.abs() {
        a if a >= 1e9 => (x / 1e9, "G"),
        a if a >= 1e6 => (x / 1e6, "M"),
        a if a >= 1e4 => (x / 1e3, "k"),
        _ => (x, ""),
    };
    // "1.00M" reads better as "1M".
    let s = if suffix.is_empty() { number(v) } else { trim_zeros(&number(v)) };
    format!("{s}{suffix}")
}

/// "1.00" → "1", "0.500" → "0.5", "50.0" → "50".
fn trim_zeros(s: &str) -> String {
    if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s.to_string() }
}

fn clip(s: &str, max: usize) -> String {
    if s.chars().count() > max { s.chars().take(max - 1).chain(['…']).collect() } else { s.to_string() }
}

type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;

/// The title and, under it in grey, the machine; returns the area below them. The glyphs of the
/// embedded font reach a little above the text box plotters computes, hence the top margin.
fn titled<'a>(root: &Area<'a>, title: &str, subtitle: &str) -> anyhow::Result<Area<'a>> {
    root.fill(&WHITE)?;
    let area = root.margin(12, 0, 0, 0).titled(title, (SANS, 28))?;
    Ok(area.titled(subtitle, (SANS, 17).into_font().color(&GREY))?)
}

/// `text` shortened with "…" until it is at most `px` wide in `style`.
fn fit(area: &Area<'_>, text: &str, style: &TextStyle<'_>, px: u32) -> String {
    let mut s = text.to_string();
    let mut n = s.chars().count();
    while n > 1 && area.estimate_text_size(&s, style).is_ok_and(|(w, _)| w > px) {
        n -= 1;
        s = clip(text, n);
    }
    s
}

fn legend<'a, 'b: 'a, X: Ranged, Y: Ranged>(
    chart: &mut ChartContext<'a, BitMapBackend<'b>, Cartesian2d<X, Y>>,
    at: SeriesLabelPosition,
) -> anyhow::Result<()> {
    chart
        .configure_series_labels()
        .position(at)
        .margin(12)
        .background_style(WHITE.mix(0.92))
        .border_style(GREY)
        .label_font((SANS, 16))
        .draw()?;
    Ok(())
}

/// Rows top to bottom, each labelled on the left with its scenario and, under it, its pair.
fn draw_ratios(path: &Path, subtitle: &str, rows: &[RatioRow]) -> anyhow::Result<()> {
    let root = BitMapBackend::new(path, SIZE).into_drawing_area();
    let area = titled(&root, "dmap ÷ peer, pair by pair in the same run", subtitle)?;
    let drawn: Vec<(f64, f64, f64)> = rows.iter().filter_map(|r| r.stats).collect();
    let lo = drawn.iter().map(|s| s.1).fold(1.0, f64::min) / 1.8;
    let hi = drawn.iter().map(|s| s.2).fold(1.0, f64::max) * 3.0;
    let numerators = rows.iter().fold(Vec::<&str>::new(), |mut v, r| {
        if !v.contains(&r.numerator.as_str()) {
            v.push(&r.numerator);
        }
        v
    });
    let n = rows.len();
    // Room below the last row for the legend (one line per numerator), so that it covers no bar:
    // `extra` rows of the same height as the others.
    let (plot_px, legend_px) = (520.0, numerators.len() as f64 * 22.0 + 20.0);
    let extra = legend_px * n as f64 / (plot_px - legend_px);
    let row_px = plot_px / (n as f64 + extra);
    let label_px = 430;
    let y_of = |i: usize| (n - 1 - i) as f64;
    let mut chart =
        ChartBuilder::on(&area).margin(20).x_label_area_size(55).y_label_area_size(label_px).build_cartesian_2d(
            ticks::<LogCoord<f64>>((lo..hi).log_scale(), one_two_five(lo, hi)),
            ticks::<RangedCoordf64>(-0.5 - extra..n as f64 - 0.5, (0..n).map(|i| i as f64).collect()),
        )?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .x_desc("dmap ÷ peer (×, higher is better); bars: median from 1×, whiskers: min–max")
        .axis_desc_style((SANS, 20))
        .label_style((SANS, 17))
        .x_label_formatter(&|x| format!("{}×", trim_zeros(&number(*x))))
        .y_label_formatter(&|_| String::new())
        .draw()?;
    // Two lines of labels per row.
    let size = ((row_px - 4.0) / 2.1).clamp(11.0, 17.0);
    let (above, below) = ((SANS, size).into_font().color(&BLACK), (SANS, size - 1.0).into_font().color(&GREY));
    let left = chart.backend_coord(&(lo, 0.0)).0 - 10;
    for (i, r) in rows.iter().enumerate() {
        let y = chart.backend_coord(&(lo, y_of(i))).1;
        let pair = format!("{} ÷ {}", r.numerator, r.denominator);
        for (text, style, dy) in [(&r.scenario, &above, -2), (&pair, &below, 2)] {
            let pos = Pos::new(HPos::Right, if dy < 0 { VPos::Bottom } else { VPos::Top });
            root.draw_text(&fit(&root, text, style, label_px - 30), &style.pos(pos), (left, y + dy))?;
        }
    }
    let half = if n > 1 { 0.3 } else { 0.2 };
    for (k, numerator) in numerators.iter().enumerate() {
        let color = COLORS[k % COLORS.len()];
        let bars = rows.iter().enumerate().filter(|(_, r)| r.numerator == *numerator).filter_map(|(i, r)| {
            let (med, ..) = r.stats?;
            Some(Rectangle::new([(1.0, y_of(i) - half), (med, y_of(i) + half)], color.mix(0.85).filled()))
        });
        chart
            .draw_series(bars)?
            .label(format!("{numerator} ÷ peer"))
            .legend(move |(x, y)| Rectangle::new([(x, y - 7), (x + 20, y + 7)], color.mix(0.85).filled()));
    }
    let spans: Vec<(f64, f64, f64)> =
        rows.iter().enumerate().filter_map(|(i, r)| r.stats.map(|s| (y_of(i), s.1, s.2))).collect();
    let style = BLACK.stroke_width(2);
    chart.draw_series(spans.iter().map(|&(y, min, max)| PathElement::new(vec![(min, y), (max, y)], style)))?;
    let cap = |at| EmptyElement::at(at) + PathElement::new(vec![(0, -7), (0, 7)], style);
    chart.draw_series(spans.iter().flat_map(|&(y, min, max)| [cap((min, y)), cap((max, y))]))?;
    chart.draw_series(LineSeries::new([(1.0, -0.5 - extra), (1.0, n as f64 - 0.5)], style))?;
    let texts = rows.iter().enumerate().map(|(i, r)| {
        let (at, text, color) = match r.stats {
            Some((med, _, max)) => (max.max(1.0), format!("{}×", number(med)), BLACK),
            None => (1.0, clip(&r.cannot, 80), GREY),
        };
        EmptyElement::at((at, y_of(i))) + Text::new(text, (12, -9), (SANS, 18).into_font().color(&color))
    });
    chart.draw_series(texts)?;
    legend(&mut chart, SeriesLabelPosition::LowerRight)?;
    root.present()?;
    Ok(())
}

fn draw_xy(path: &Path, subtitle: &str, f: &Figure) -> anyhow::Result<()> {
    let mut xs: Vec<f64> = f.series.iter().flat_map(|s| s.points.iter().map(|p| p.0)).collect();
    xs.sort_by(f64::total_cmp);
    xs.dedup();
    let (first, last) = (xs[0], xs[xs.len() - 1]);
    if f.x_log {
        let (lo, hi) = (first / 1.6, last * 1.6);
        draw_xy_on(path, subtitle, f, ticks::<LogCoord<f64>>((lo..hi).log_scale(), xs), (lo, hi))
    } else {
        let pad = ((last - first) * 0.08).max(0.5);
        let (lo, hi) = ((first - pad).max(0.0), last + pad);
        draw_xy_on(path, subtitle, f, ticks::<RangedCoordf64>(lo..hi, xs), (lo, hi))
    }
}

fn draw_xy_on<X>(path: &Path, subtitle: &str, f: &Figure, x: X, (lo, hi): (f64, f64)) -> anyhow::Result<()>
where
    X: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    let root = BitMapBackend::new(path, SIZE).into_drawing_area();
    let area = titled(&root, &f.title, subtitle)?;
    let top = f.series.iter().flat_map(|s| s.points.iter().map(|p| p.3)).chain(f.references.iter().map(|r| r.1));
    // Head room above the data for the legend.
    let legend_lines = f.series.len() + f.references.len() + 1;
    let y_max = top.fold(0.0, f64::max) * (1.12 + 0.06 * legend_lines as f64);
    let mut chart = ChartBuilder::on(&area)
        .margin(20)
        .x_label_area_size(55)
        .y_label_area_size(95)
        .build_cartesian_2d(x, 0.0..y_max)?;
    chart
        .configure_mesh()
        .x_desc(f.x_desc.as_str())
        .y_desc(f.y_desc.as_str())
        .axis_desc_style((SANS, 20))
        .label_style((SANS, 17))
        .light_line_style(BLACK.mix(0.04))
        .x_label_formatter(&|x| compact(*x))
        .y_label_formatter(&|y| compact(*y))
        .draw()?;
    for (k, s) in f.series.iter().enumerate() {
        let color = COLORS[k % COLORS.len()];
        chart
            .draw_series(LineSeries::new(s.points.iter().map(|p| (p.0, p.1)), color.stroke_width(3)))?
            .label(s.label(&f.series, f.x))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(3)));
        chart.draw_series(s.points.iter().map(|&(x, med, ..)| Circle::new((x, med), 5, color.filled())))?;
        let style = color.stroke_width(2);
        chart
            .draw_series(s.points.iter().map(|&(x, _, min, max)| PathElement::new(vec![(x, min), (x, max)], style)))?;
        let cap = |at| EmptyElement::at(at) + PathElement::new(vec![(-7, 0), (7, 0)], style);
        chart.draw_series(s.points.iter().flat_map(|&(x, _, min, max)| [cap((x, min)), cap((x, max))]))?;
        // A value label goes above its point unless another series is higher at the same x, so
        // that the labels of close series do not print over each other.
        let higher = |x: f64, med: f64| f.series.iter().flat_map(|o| &o.points).any(|p| p.0 == x && p.1 > med);
        let labels = s.points.iter().map(|&(x, med, ..)| {
            let offset = match (higher(x, med), med < y_max * 0.08) {
                (false, _) => (8, -26),
                // Below would cross the x axis's labels: beside the point instead.
                (true, true) => (10, -8),
                (true, false) => (8, 10),
            };
            EmptyElement::at((x, med)) + Text::new(compact(med), offset, (SANS, 16).into_font().color(&color))
        });
        chart.draw_series(labels)?;
    }
    for (k, (label, y)) in f.references.iter().enumerate() {
        let color = COLORS[(f.series.len() + k) % COLORS.len()];
        chart
            .draw_series(DashedLineSeries::new([(lo, *y), (hi, *y)], 12, 8, color.stroke_width(2)))?
            .label(label.as_str())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
    }
    // A legend line for the whiskers, which every series shares.
    let style = GREY.stroke_width(2);
    chart
        .draw_series(std::iter::empty::<PathElement<(f64, f64)>>())?
        .label("points: median of the runs; bars: min–max")
        .legend(move |(x, y)| PathElement::new(vec![(x + 10, y - 7), (x + 10, y + 7)], style));
    legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod tests;
