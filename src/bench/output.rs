//! A run's files: `report.json`, `report.csv`, and the `latency` and `roofline` charts (SVG and
//! PNG) in one folder, created when missing.

use std::path::{Path, PathBuf};

use crate::bench::chart::{latency_chart, roofline_chart};
use crate::bench::compare::compare;
use crate::bench::format::to_csv;
use crate::bench::report::BenchReport;
use crate::error::{Error, Result};

fn create_folder(out: &Path) -> Result<()> {
    std::fs::create_dir_all(out).map_err(|error| Error::io(out, error))
}

/// Writes the latency chart of `reports` merged (columns as `kiln bench compare` makes them, the
/// baseline chosen by `baseline`) and their roofline chart into `out`; returns the files written.
/// The latency chart is left out when there are no results, the roofline chart when nothing has
/// a roofline or an arithmetic intensity.
pub fn write_charts(
    reports: &[BenchReport],
    baseline: Option<&str>,
    out: &Path,
) -> Result<Vec<PathBuf>> {
    create_folder(out)?;
    let comparison = compare(reports, baseline)?;
    let mut written = Vec::new();
    if !comparison.rows.is_empty() {
        written.extend(latency_chart(&comparison, &out.join("latency"))?);
    }
    written.extend(roofline_chart(reports, &out.join("roofline"))?);
    Ok(written)
}

/// Writes `report.json`, `report.csv` and the charts of `report` into `out`; returns the files
/// written.
pub fn write_report_files(report: &BenchReport, out: &Path) -> Result<Vec<PathBuf>> {
    create_folder(out)?;
    let json = out.join("report.json");
    report.write_json(&json)?;
    let csv = out.join("report.csv");
    std::fs::write(&csv, to_csv(report)).map_err(|error| Error::io(&csv, error))?;
    let mut written = vec![json, csv];
    written.extend(write_charts(std::slice::from_ref(report), None, out)?);
    Ok(written)
}
