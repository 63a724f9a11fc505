//! The reductions' CPU reference: plain loops in f64 over every input element, with the derived
//! error bound of the f32 kernel.

use crate::ops::elementwise::{ElementwiseReference, ULP, UNIT_ROUNDOFF};
use crate::ops::reduce::{ReducePlan, Reduction};

/// A sum of n terms in f32, in any order, is within (n - 1)·u/(1 - (n - 1)·u)·Σ|xᵢ| of the exact
/// sum (Higham, *Accuracy and Stability of Numerical Algorithms*, §4.2); (n + 2)·u·Σ|xᵢ| bounds it
/// for every n the kernel accepts. Mean divides by n (2.5 ULP); Max and ArgMax are exact.
fn bound(kind: Reduction, count: usize, magnitude: f64, y: f64) -> f64 {
    let sum_error = (count as f64 + 2.0) * UNIT_ROUNDOFF * magnitude;
    match kind {
        Reduction::Sum => sum_error,
        Reduction::Mean => sum_error / count as f64 + 2.5 * ULP * y.abs(),
        Reduction::Max | Reduction::ArgMax { .. } => 0.0,
    }
}

/// The reduction `kind` of `x` over `plan`'s axes: output values (ArgMax: indices as f64) and
/// bounds. NaN is the largest value for Max and ArgMax; an empty reduction gives 0 (Sum),
/// NaN (Mean) or -inf (Max).
pub(crate) fn reference_reduce(
    kind: Reduction,
    x: &[f32],
    plan: &ReducePlan,
) -> ElementwiseReference {
    let outputs: usize = plan.output_shape.iter().product();
    let reduced_count = plan.reduced_count;
    let mut sums = vec![0.0f64; outputs];
    let mut magnitudes = vec![0.0f64; outputs];
    let mut best: Vec<Option<(f64, usize)>> = vec![None; outputs];
    let shape = &plan.input_shape;
    for (flat, &value) in x.iter().enumerate() {
        // Split the flat index into coordinates, then into (output index, index along the
        // reduced axes), both row-major.
        let mut rest = flat;
        let (mut out, mut out_scale, mut along, mut along_scale) = (0, 1, 0, 1);
        for axis in (0..shape.len()).rev() {
            let coordinate = rest % shape[axis];
            rest /= shape[axis];
            if plan.reduced_axes.contains(&axis) {
                along += coordinate * along_scale;
                along_scale *= shape[axis];
            } else {
                out += coordinate * out_scale;
                out_scale *= shape[axis];
            }
        }
        let value = f64::from(value);
        sums[out] += value;
        magnitudes[out] += value.abs();
        let replace = match best[out] {
            None => true,
            Some((held, held_index)) => {
                let greater = (value.is_nan() && !held.is_nan()) || value > held;
                let tie = (value.is_nan() && held.is_nan()) || value == held;
                let last = matches!(
                    kind,
                    Reduction::ArgMax {
                        select_last_index: true
                    }
                );
                greater || (tie && last && along > held_index)
            }
        };
        if replace {
            best[out] = Some((value, along));
        }
    }
    let mut reference = ElementwiseReference {
        shape: plan.output_shape.clone(),
        output: Vec::with_capacity(outputs),
        error_bound: Vec::with_capacity(outputs),
    };
    for out in 0..outputs {
        let y = match kind {
            Reduction::Sum => sums[out],
            Reduction::Mean => sums[out] / reduced_count as f64,
            Reduction::Max => best[out].map_or(f64::NEG_INFINITY, |(value, _)| value),
            Reduction::ArgMax { .. } => best[out].map_or(0.0, |(_, index)| index as f64),
        };
        reference.output.push(y);
        let finite = y.is_finite() && magnitudes[out].is_finite();
        reference.error_bound.push(if finite {
            bound(kind, reduced_count, magnitudes[out], y)
        } else {
            0.0
        });
    }
    reference
}
