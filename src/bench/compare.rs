//! `kiln bench compare`: several reports (from other machines, backends or commits) merged into one
//! table. Each backend run of each report is a column; rows are the problems (kernel, shape,
//! precision, batch) found in any of them; each cell is that column's p50 and its ratio against the
//! chosen baseline column (baseline time / this time, so above 1 is faster than the baseline).

use std::collections::BTreeMap;

use crate::bench::measure::TimingSource;
use crate::bench::report::{BenchReport, Precision};
use crate::error::{Error, Result};

/// One column: a backend run of one report.
#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    /// `machine/backend/adapter`, with `#2`, `#3`, ... added where two columns would share it.
    pub label: String,
    /// The report's machine label.
    pub machine: String,
    /// The backend.
    pub backend: String,
    /// The adapter name.
    pub adapter: String,
    /// The report's git commit.
    pub git_commit: String,
}

/// What identifies a row.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct RowKey {
    /// `matmul`, `conv2d`, `model`.
    pub kernel: String,
    /// The problem.
    pub shape: String,
    /// The precision.
    pub precision: Precision,
    /// The batch.
    pub batch: usize,
}

/// One cell: a column's p50 for a row, and which clock gave it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Cell {
    /// Median seconds per run.
    pub seconds: f64,
    /// The clock.
    pub clock: TimingSource,
}

/// The merged table.
#[derive(Clone, Debug, PartialEq)]
pub struct Comparison {
    /// The columns, in the order the reports and their runs were given.
    pub columns: Vec<Column>,
    /// The index of the baseline column.
    pub baseline: usize,
    /// Each row's key and one cell per column (`None` where that column lacks the row).
    pub rows: Vec<(RowKey, Vec<Option<Cell>>)>,
}

/// Which column is the baseline: `choice` is a column index or a case-insensitive substring of a
/// label (the first match wins); `None` takes column 0.
fn pick_baseline(columns: &[Column], choice: Option<&str>) -> Result<usize> {
    let Some(choice) = choice.map(str::trim) else {
        return Ok(0);
    };
    let found = match choice.parse::<usize>() {
        Ok(index) => (index < columns.len()).then_some(index),
        Err(_) => columns.iter().position(|column| {
            column
                .label
                .to_ascii_lowercase()
                .contains(&choice.to_ascii_lowercase())
        }),
    };
    found.ok_or_else(|| {
        let labels: Vec<String> = columns
            .iter()
            .enumerate()
            .map(|(index, column)| format!("{index}: {}", column.label))
            .collect();
        Error::InvalidArgument {
            op: "--baseline",
            detail: format!(
                "'{choice}' matches no column; columns are {}",
                labels.join(", ")
            ),
        }
    })
}

/// Merges `reports` into one table with the baseline column chosen by `baseline` (an index or a
/// label substring). No runs at all is an [`Error::InvalidArgument`].
pub fn compare(reports: &[BenchReport], baseline: Option<&str>) -> Result<Comparison> {
    let mut columns: Vec<Column> = Vec::new();
    let mut cells: BTreeMap<RowKey, BTreeMap<usize, Cell>> = BTreeMap::new();
    for report in reports {
        for run in &report.runs {
            let base = format!(
                "{}/{}/{}",
                report.machine, run.device.backend, run.device.adapter
            );
            let repeats = columns
                .iter()
                .filter(|c| c.label == base || c.label.starts_with(&format!("{base} #")))
                .count();
            let label = match repeats {
                0 => base,
                n => format!("{base} #{}", n + 1),
            };
            let index = columns.len();
            columns.push(Column {
                label,
                machine: report.machine.clone(),
                backend: run.device.backend.clone(),
                adapter: run.device.adapter.clone(),
                git_commit: report.git_commit.clone(),
            });
            for result in &run.results {
                let key = RowKey {
                    kernel: result.kernel.clone(),
                    shape: result.shape.clone(),
                    precision: result.precision,
                    batch: result.batch,
                };
                let cell = Cell {
                    seconds: result.latency.primary_summary().p50,
                    clock: result.latency.primary,
                };
                cells.entry(key).or_default().insert(index, cell);
            }
        }
    }
    if columns.is_empty() {
        return Err(Error::InvalidArgument {
            op: "bench compare",
            detail: "the reports hold no runs".into(),
        });
    }
    let baseline = pick_baseline(&columns, baseline)?;
    let rows = cells
        .into_iter()
        .map(|(key, by_column)| {
            let row = (0..columns.len())
                .map(|c| by_column.get(&c).copied())
                .collect();
            (key, row)
        })
        .collect();
    Ok(Comparison {
        columns,
        baseline,
        rows,
    })
}

impl Comparison {
    /// The ratio baseline time / column time for each cell of `row` (`None` where either is
    /// missing).
    pub fn ratios(&self, row: &[Option<Cell>]) -> Vec<Option<f64>> {
        let base = row[self.baseline];
        row.iter()
            .map(|cell| match (base, cell) {
                (Some(base), Some(cell)) if cell.seconds > 0.0 => Some(base.seconds / cell.seconds),
                _ => None,
            })
            .collect()
    }

    /// The table as Markdown: a legend of the columns, then one row per problem with each
    /// column's p50 in ms (`†` marks wall-clock figures) and its ratio against the baseline.
    pub fn markdown(&self) -> String {
        let mut text = String::from("columns (p50 ms; × = baseline time / this time, above 1 is faster; † wall clock, else GPU timestamps):\n");
        for (index, column) in self.columns.iter().enumerate() {
            let mark = if index == self.baseline {
                " (baseline)"
            } else {
                ""
            };
            text.push_str(&format!(
                "- [{index}] {}{mark}, commit {}\n",
                column.label, column.git_commit
            ));
        }
        text.push_str("\n| kernel | shape | precision | batch |");
        let mut rule = String::from("|---|---|---|---|");
        for index in 0..self.columns.len() {
            text.push_str(&format!(" [{index}] |"));
            rule.push_str("---|");
        }
        text.push('\n');
        text.push_str(&rule);
        text.push('\n');
        for (key, row) in &self.rows {
            text.push_str(&format!(
                "| {} | {} | {} | {} |",
                key.kernel, key.shape, key.precision, key.batch
            ));
            for (cell, ratio) in row.iter().zip(self.ratios(row)) {
                let entry = match (cell, ratio) {
                    (Some(cell), ratio) => {
                        let clock = if cell.clock == TimingSource::WallClock {
                            "†"
                        } else {
                            ""
                        };
                        let ratio = ratio.map_or(String::new(), |r| format!(" ({r:.2}×)"));
                        format!("{:.3}{clock}{ratio}", cell.seconds * 1e3)
                    }
                    (None, _) => "–".into(),
                };
                text.push_str(&format!(" {entry} |"));
            }
            text.push('\n');
        }
        text
    }
}
