//! What `kiln run` reports about its outputs: shape, checksum and summary, `.npy` files, and
//! the largest differences from the CPU reference backend.

use std::path::Path;

use kiln::io::npy::write_npy;
use kiln::tensor::HostTensor;
use kiln::Error;

/// Sum, sum of magnitudes, min, max, mean and NaN count of a tensor's elements.
struct Summary {
    sum: f64,
    abs_sum: f64,
    min: f64,
    max: f64,
    mean: f64,
    nans: usize,
}

fn summarize(tensor: &HostTensor) -> Summary {
    let values = tensor.to_f64_vec();
    let finite_or_inf = values.iter().filter(|v| !v.is_nan());
    Summary {
        sum: values.iter().sum(),
        abs_sum: values.iter().map(|v| v.abs()).sum(),
        min: finite_or_inf.clone().copied().fold(f64::INFINITY, f64::min),
        max: finite_or_inf.copied().fold(f64::NEG_INFINITY, f64::max),
        mean: values.iter().sum::<f64>() / values.len().max(1) as f64,
        nans: values.iter().filter(|v| v.is_nan()).count(),
    }
}

pub(super) fn print_output(name: &str, tensor: &HostTensor) {
    let summary = summarize(tensor);
    println!("output {name}: {} {:?}", tensor.dtype(), tensor.shape());
    if tensor.is_empty() {
        println!("    (no elements)");
        return;
    }
    println!(
        "    checksum: sum {:.6e}, sum |x| {:.6e}",
        summary.sum, summary.abs_sum
    );
    println!(
        "    min {:.6e}, max {:.6e}, mean {:.6e}{}",
        summary.min,
        summary.max,
        summary.mean,
        if summary.nans > 0 {
            format!(", {} NaN", summary.nans)
        } else {
            String::new()
        }
    );
}

/// Writes each output to `dir/<name>.npy`, with characters unsafe in file names replaced.
pub(super) fn write_outputs(dir: &Path, outputs: &[(String, HostTensor)]) -> kiln::Result<()> {
    std::fs::create_dir_all(dir).map_err(|error| Error::io(dir, error))?;
    for (name, tensor) in outputs {
        let file_name: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let path = dir.join(format!("{file_name}.npy"));
        write_npy(&path, tensor)?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

/// Largest absolute difference and largest relative difference, each element's difference
/// divided by max(|reference|, 1e-3 × the reference's largest magnitude) so that elements near
/// zero are judged against the output's scale; NaN in one and not the other is counted apart.
pub(super) fn print_comparison(
    outputs: &[(String, HostTensor)],
    reference: &[(String, HostTensor)],
) {
    for ((name, got), (_, expected)) in outputs.iter().zip(reference) {
        if got.shape() != expected.shape() || got.dtype() != expected.dtype() {
            println!(
                "output {name}: {} {:?} here, {} {:?} on the CPU",
                got.dtype(),
                got.shape(),
                expected.dtype(),
                expected.shape()
            );
            continue;
        }
        let (got, expected) = (got.to_f64_vec(), expected.to_f64_vec());
        let scale = expected.iter().fold(0.0f64, |m, v| m.max(v.abs())) * 1e-3;
        let (mut max_abs, mut max_rel, mut nan_mismatches) = (0.0f64, 0.0f64, 0usize);
        for (&g, &e) in got.iter().zip(&expected) {
            if g.is_nan() || e.is_nan() {
                nan_mismatches += usize::from(g.is_nan() != e.is_nan());
                continue;
            }
            let diff = if g == e { 0.0 } else { (g - e).abs() };
            max_abs = max_abs.max(diff);
            max_rel = max_rel.max(diff / e.abs().max(scale).max(f64::MIN_POSITIVE));
        }
        println!(
            "output {name}: max abs error {max_abs:.3e}, max relative error {max_rel:.3e}{}",
            if nan_mismatches > 0 {
                format!(", {nan_mismatches} NaN mismatches")
            } else {
                String::new()
            }
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_ignore_nan_in_min_and_max() {
        let tensor = HostTensor::from_f32(&[3], vec![-2.0, f32::NAN, 4.0]).unwrap();
        let summary = summarize(&tensor);
        assert_eq!((summary.min, summary.max, summary.nans), (-2.0, 4.0, 1));
    }
}
