use super::*;
use crate::report::tests::{PEER, fabricated};

fn labels(f: &Figure) -> Vec<String> {
    f.series.iter().map(|s| s.label(&f.series, f.x)).collect()
}

#[test]
fn ratios_row_per_ratio_and_cannot_rows() {
    let rows = ratios(&fabricated()).unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0].stats, Some((100.0, 99.0, 101.0)));
    assert_eq!(rows[2].stats, None);
    assert_eq!(rows[2].cannot, format!("cannot: {PEER}: no dmap-worker equivalent"));
}

#[test]
fn workers_sweep_with_embedded_reference() {
    let f = workers(&fabricated()).unwrap();
    assert_eq!(labels(&f), ["dmap distributed, batch 1000"]);
    let xs: Vec<f64> = f.series[0].points.iter().map(|p| p.0).collect();
    assert_eq!(xs, [1.0, 2.0, 4.0]);
    assert_eq!(f.references, [("dmap embedded, batch 1000: 400,000 items/s".to_string(), 400e3)]);
}

#[test]
fn batch_sweeps_distributed_and_embedded() {
    let f = batch(&fabricated()).unwrap();
    assert_eq!(labels(&f), ["dmap distributed, workers 2", "dmap embedded"]);
    assert!(f.series.iter().all(|s| s.points.len() == 4));
}

#[test]
fn memory_notes_what_a_system_cannot_do() {
    let f = memory(&fabricated()).unwrap();
    assert_eq!(labels(&f), ["dmap".to_string(), format!("{PEER} (cannot: 10M items)")]);
}

/// Systems named after their x value, as `bench all` names them, join one series.
#[test]
fn systems_named_after_x_join_their_siblings() {
    let mut r = fabricated();
    for m in &mut r.measurements {
        if m.scenario == DISTRIBUTED.0 && m.params.get("batch") == Some(&1000.0) {
            m.system = format!("dmap (NATS, {} workers)", m.params["workers"]);
        }
    }
    let f = workers(&r).unwrap();
    assert_eq!(labels(&f), ["dmap (NATS) distributed, batch 1000"]);
    assert_eq!(without_x("dmap (NATS, 1 worker)", "workers", 1.0), "dmap (NATS)");
    assert_eq!(without_x("dmap (embedded)", "workers", 2.0), "dmap (embedded)");
}

#[test]
fn plots_without_data_are_skipped() {
    let mut r = fabricated();
    r.measurements.retain(|m| m.scenario == "engine-5-state");
    r.ratios.clear();
    assert!(ratios(&r).is_none() && workers(&r).is_none() && batch(&r).is_none() && memory(&r).is_none());
}

#[test]
fn axis_ticks_and_labels() {
    assert_eq!(one_two_five(0.5, 300.0), [0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0]);
    assert_eq!(compact(1e6), "1M");
    assert_eq!(compact(523_456.0), "523k");
    assert_eq!(compact(12_345.0), "12.3k");
    assert_eq!(compact(1000.0), "1000");
    assert_eq!(compact(2.5), "2.50");
    assert_eq!(without_unit("Map Run over NATS (items/s)"), "Map Run over NATS");
}
