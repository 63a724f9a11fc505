//! A report as text: the Markdown tables `kiln bench` prints (the roofline of each backend, then
//! one row per result) and CSV with one line per result.

use crate::bench::report::{BackendRun, BenchReport, BenchResult};

/// Milliseconds with three decimals.
fn ms(seconds: f64) -> String {
    format!("{:.3}", seconds * 1e3)
}

fn optional(value: Option<f64>, decimals: usize) -> String {
    value.map_or_else(|| "–".into(), |v| format!("{v:.decimals$}"))
}

/// The roofline of each backend as a Markdown table.
pub fn roofline_table(report: &BenchReport) -> String {
    let mut text = String::from(
        "| backend | adapter | driver | bandwidth GB/s | f32 FMA GFLOP/s | clock |\n\
         |---|---|---|---|---|---|\n",
    );
    for run in &report.runs {
        let device = &run.device;
        let (bandwidth, compute, clock) = match &run.roofline {
            Some(roof) => (
                format!("{:.2}", roof.bandwidth_gb_per_s),
                format!("{:.2}", roof.compute_gflop_per_s),
                roof.timing.to_string(),
            ),
            None => ("–".into(), "–".into(), "–".into()),
        };
        text.push_str(&format!(
            "| {} | {} | {} {} | {bandwidth} | {compute} | {clock} |\n",
            device.backend, device.adapter, device.driver, device.driver_info
        ));
    }
    text
}

/// Every result of the report as one Markdown table. The p50/p90/p99 columns come from the
/// `clock` named in each row (GPU timestamps where the adapter has them); `wall p50` is always
/// the wall clock around the synchronised queue.
pub fn results_table(report: &BenchReport) -> String {
    let mut text = String::from(
        "| backend | kernel | shape | batch | precision | variant | clock | p50 ms | p90 ms | \
         p99 ms | spread % | wall p50 ms | GFLOP/s | GB/s | items/s | % roof |\n\
         |---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for run in &report.runs {
        for result in &run.results {
            text.push_str(&result_row(run, result));
        }
    }
    text
}

fn result_row(run: &BackendRun, result: &BenchResult) -> String {
    let latency = &result.latency;
    let primary = latency.primary_summary();
    let throughput = &result.throughput;
    format!(
        "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.1} | {} | {} | {} | {:.1} | {} |\n",
        run.device.backend,
        result.kernel,
        result.shape,
        result.batch,
        result.precision,
        result.variant,
        latency.primary,
        ms(primary.p50),
        ms(primary.p90),
        ms(primary.p99),
        primary.spread * 100.0,
        ms(latency.wall.p50),
        optional(throughput.gflop_per_s, 2),
        optional(throughput.gb_per_s, 2),
        throughput.inferences_per_s,
        optional(result.roofline_percent, 1),
    )
}

/// What `kiln bench kernels|model` prints: a line on the run, the roofline and results tables,
/// and a legend of the columns.
pub fn report_text(report: &BenchReport) -> String {
    format!(
        "kiln bench {}: kiln {} (commit {}) on {}; {} warm-up + {} timed runs per problem\n\n\
         {}\n{}\n\
         clock: gpu = GPU timestamps around the recorded work; wall = host clock around a \
         submitted and waited-for run. spread = (p75 − p25) / p50. % roof = achieved GFLOP/s \
         over min(FMA peak, intensity × bandwidth) measured in this run.\n",
        report.command,
        report.kiln_version,
        report.git_commit,
        report.machine,
        report.settings.warmup,
        report.settings.iterations,
        roofline_table(report),
        results_table(report),
    )
}

/// The CSV header, matching [`to_csv`]'s columns.
pub const CSV_HEADER: &str = "machine,backend,adapter,driver,kernel,shape,batch,precision,variant,\
clock,p50_s,p90_s,p99_s,min_s,max_s,mean_s,stddev_s,spread,wall_p50_s,wall_p90_s,wall_p99_s,\
gpu_p50_s,gpu_p90_s,gpu_p99_s,operations,bytes,gflop_per_s,gb_per_s,items_per_s,roofline_percent,\
roof_gb_per_s,roof_gflop_per_s,kiln_version,git_commit";

/// Quotes a CSV field when it holds a comma, a quote or a line break.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

fn number(value: Option<f64>) -> String {
    value.map_or_else(String::new, |v| v.to_string())
}

/// The report as CSV: [`CSV_HEADER`], then one line per result; absent figures are empty fields.
pub fn to_csv(report: &BenchReport) -> String {
    let mut text = format!("{CSV_HEADER}\n");
    for run in &report.runs {
        let roof = run.roofline.as_ref();
        for result in &run.results {
            let latency = &result.latency;
            let primary = latency.primary_summary();
            let gpu = latency.gpu.as_ref();
            let texts = [
                &report.machine,
                &run.device.backend,
                &run.device.adapter,
                &run.device.driver,
                &result.kernel,
                &result.shape,
                &result.batch.to_string(),
                &result.precision.to_string(),
                &result.variant,
                &latency.primary.to_string(),
            ];
            let numbers = [
                Some(primary.p50),
                Some(primary.p90),
                Some(primary.p99),
                Some(primary.min),
                Some(primary.max),
                Some(primary.mean),
                Some(primary.stddev),
                Some(primary.spread),
                Some(latency.wall.p50),
                Some(latency.wall.p90),
                Some(latency.wall.p99),
                gpu.map(|s| s.p50),
                gpu.map(|s| s.p90),
                gpu.map(|s| s.p99),
                result.operations,
                result.bytes,
                result.throughput.gflop_per_s,
                result.throughput.gb_per_s,
                Some(result.throughput.inferences_per_s),
                result.roofline_percent,
                roof.map(|r| r.bandwidth_gb_per_s),
                roof.map(|r| r.compute_gflop_per_s),
            ];
            let fields: Vec<String> = texts
                .iter()
                .map(|text| csv_field(text))
                .chain(numbers.iter().map(|value| number(*value)))
                .chain([
                    csv_field(&report.kiln_version),
                    csv_field(&report.git_commit),
                ])
                .collect();
            text.push_str(&fields.join(","));
            text.push('\n');
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_with_separators_are_quoted() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }

    #[test]
    fn header_names_every_column_once() {
        let columns: Vec<&str> = CSV_HEADER.split(',').collect();
        let unique: std::collections::HashSet<&&str> = columns.iter().collect();
        assert_eq!(columns.len(), unique.len());
        assert_eq!(columns.len(), 10 + 22 + 2);
    }
}
