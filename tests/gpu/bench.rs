//! The benchmark harness on tiny problems: it must run, produce one row per (weight, M), positive
//! finite times, and a table with one speedup per sparse form. Speed itself is never asserted.

use kiln::bench::sparse::{format_table, run, SparseBenchConfig};
use kiln::tensor::bsr::BlockShape;
use kiln::Error;

use crate::common::gpu;

#[test]
fn sparse_bench_reports_every_weight_and_row_count() {
    let Some(gpu) = gpu() else { return };
    let config = SparseBenchConfig {
        weights: vec![(40, 72), (17, 33)],
        rows: vec![1, 5],
        sparsities: vec![0.5, 0.9],
        block: BlockShape::B8x8,
        min_seconds: 0.0,
    };
    let mut progress_lines = 0;
    let rows = run(gpu, &config, |_| progress_lines += 1).unwrap();
    assert_eq!(rows.len(), 4);
    assert_eq!(progress_lines, 4);
    for row in &rows {
        assert_eq!(row.bsr_seconds.len(), 2);
        let times = [row.dense_seconds, row.two_four_seconds]
            .into_iter()
            .chain(row.bsr_seconds.iter().copied());
        assert!(
            times.into_iter().all(|t| t.is_finite() && t > 0.0),
            "{row:?}"
        );
    }
    let table = format_table(&config, &rows);
    assert_eq!(table.lines().count(), 2 + rows.len(), "{table}");
    assert!(
        table.contains("| 17×33 | 5 |") && table.contains("BSR 8x8 90%"),
        "{table}"
    );
}

#[test]
fn sparse_bench_rejects_bad_configurations() {
    let Some(gpu) = gpu() else { return };
    let bad = [
        SparseBenchConfig {
            sparsities: vec![1.5],
            ..SparseBenchConfig::default()
        },
        SparseBenchConfig {
            rows: vec![],
            ..SparseBenchConfig::default()
        },
        SparseBenchConfig {
            weights: vec![(0, 4)],
            ..SparseBenchConfig::default()
        },
    ];
    for config in bad {
        assert!(matches!(
            run(gpu, &config, |_| ()),
            Err(Error::InvalidArgument { .. })
        ));
    }
}
