//! The CPU references for the integer matmul: the one exact accumulator by plain loops in i64
//! ([`reference_matmul_integer`], ONNX `MatMulInteger`, the specification the CPU backend and the
//! int8 kernels share), and the dequantized output in f64 with a tolerance derived from the f32
//! operations of the kernel's store (`shaders/matmul_q8_store_f32.wgsl`).

use crate::ops::matmul::reference::{OutputPrecision, F32_UNIT_ROUNDOFF};
use crate::ops::Activation;
use crate::tensor::{Q8Activations, Q8Weights};

/// Roundings between the exact `a_scale · w_scale[n] · acc + bias[n]` and the f32 value the
/// kernel passes to the activation, counted as factors `(1 + δ)` with `|δ| ≤ u = 2⁻²⁴`: the scale
/// product (one), `i32 → f32` (two: WGSL may round to either neighbour, an error below one ulp
/// = 2u, which `(1 + δ)²` covers), the product with the accumulator (one) and the bias addition
/// (one). A fused multiply-add only removes roundings.
const STORE_ROUNDINGS: f64 = 5.0;

/// One ONNX `MatMulInteger` product: row-major `a` `[M, K]` and `b` `[K, N]` (i8 or u8 values,
/// widened), with one zero point per row of `a` and one per column of `b`.
#[derive(Clone, Copy, Debug)]
pub struct IntegerProduct<'a> {
    /// `A`, `[M, K]` row-major.
    pub a: &'a [i64],
    /// `B`, `[K, N]` row-major.
    pub b: &'a [i64],
    /// `[M, K, N]`.
    pub dims: [usize; 3],
    /// One zero point per row of `A`.
    pub a_zero_points: &'a [i64],
    /// One zero point per column of `B`.
    pub b_zero_points: &'a [i64],
}

/// The one integer matmul reference (ONNX `MatMulInteger`): `acc[m, n] = Σ_k (a[m, k] −
/// a_zp[m])·(b[k, n] − b_zp[n])`, exact in i64, row-major `[M, N]`. A batched product calls it
/// once per pair of matrices.
///
/// # Panics
/// If a slice is shorter than `dims` says.
pub fn reference_matmul_integer(product: &IntegerProduct) -> Vec<i64> {
    let [m, k, n] = product.dims;
    let mut accumulators = Vec::with_capacity(m * n);
    for row in 0..m {
        let a_row = &product.a[row * k..][..k];
        for col in 0..n {
            let b_zero_point = product.b_zero_points[col];
            let sum = (a_row.iter().enumerate())
                .map(|(i, &a)| {
                    (a - product.a_zero_points[row]) * (product.b[i * n + col] - b_zero_point)
                })
                .sum();
            accumulators.push(sum);
        }
    }
    accumulators
}

/// `acc[b, m, n]` of [`reference_matmul_integer`] for the kernel's layouts: `a` holds `batch · M`
/// rows of `K` with one zero point, `w` holds `N` rows of `K` (B transposed) with one zero point
/// per row. Row-major `[batch, M, N]` with `N = w.rows`.
///
/// # Panics
/// If `a.rows != batch · m`, if `a` and `w` disagree on `K`, or if a result does not fit i32
/// (impossible for `K ≤ 32768`).
pub fn reference_q8_i32(a: &Q8Activations, w: &Q8Weights, batch: usize, m: usize) -> Vec<i32> {
    assert_eq!(a.rows, batch * m, "activation rows must be batch · M");
    assert_eq!(a.cols, w.cols, "activations and weights must share K");
    let (k, n) = (a.cols, w.rows);
    let b: Vec<i64> = (0..k * n)
        .map(|index| i64::from(w.value(index % n, index / n)))
        .collect();
    let b_zero_points: Vec<i64> = w.zero_points.iter().map(|&zero| i64::from(zero)).collect();
    let a_zero_points = vec![i64::from(a.zero_point); m];
    let mut accumulators = Vec::with_capacity(batch * m * n);
    for batch_index in 0..batch {
        let a_values: Vec<i64> = (0..m * k)
            .map(|index| i64::from(a.value(batch_index * m + index / k, index % k)))
            .collect();
        let product = IntegerProduct {
            a: &a_values,
            b: &b,
            dims: [m, k, n],
            a_zero_points: &a_zero_points,
            b_zero_points: &b_zero_points,
        };
        for sum in reference_matmul_integer(&product) {
            let fits = i32::try_from(sum);
            accumulators.push(fits.unwrap_or_else(|_| panic!("{sum} does not fit i32")));
        }
    }
    accumulators
}

/// `y = act(a_scale · w_scale[n] · acc + bias[n])` from the exact accumulator, computed in f64,
/// rounded to f32, and the per-element absolute tolerance a kernel that computes it in f32 must
/// meet, in the same `[batch, M, N]` order.
///
/// The tolerance: with `p = a_scale · w_scale[n] · acc`, the kernel's pre-activation value is
/// within `γ₅ · (|p| + |bias[n]|)` of `p + bias[n]`, where `γ₅ = 5u / (1 − 5u)` bounds the
/// product of the five rounding factors counted in `STORE_ROUNDINGS` (Higham, *Accuracy and
/// Stability of Numerical Algorithms*, Lemma 3.1; the bias's own term carries only the last). That
/// error passes through the activation's bound ([`Activation::error_bound`]), and `u · |y|`
/// ([`OutputPrecision::F32`]) covers rounding this reference's f64 value to f32. The f64
/// evaluation itself (relative error 2⁻⁵³) is negligible beside these. The bound assumes the
/// scales' product stays a normal f32.
///
/// # Panics
/// As [`reference_q8_i32`], or if `bias` has fewer than `N` values.
pub fn reference_q8(
    a: &Q8Activations,
    w: &Q8Weights,
    batch: usize,
    m: usize,
    bias: Option<&[f32]>,
    activation: Activation,
) -> (Vec<f32>, Vec<f32>) {
    let gamma = STORE_ROUNDINGS * F32_UNIT_ROUNDOFF / (1.0 - STORE_ROUNDINGS * F32_UNIT_ROUNDOFF);
    let accumulators = reference_q8_i32(a, w, batch, m);
    let mut values = Vec::with_capacity(accumulators.len());
    let mut tolerances = Vec::with_capacity(accumulators.len());
    for (index, &acc) in accumulators.iter().enumerate() {
        let col = index % w.rows;
        let product = f64::from(a.scale) * f64::from(w.scales[col]) * f64::from(acc);
        let bias_value = bias.map_or(0.0, |bias| f64::from(bias[col]));
        let pre_activation = product + bias_value;
        let output = activation.reference(pre_activation);
        let input_error = gamma * (product.abs() + bias_value.abs());
        let tolerance = activation.error_bound(pre_activation, input_error, output)
            + OutputPrecision::F32.store_error(output);
        values.push(output as f32);
        tolerances.push(tolerance as f32);
    }
    (values, tolerances)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The kernel's expansion of the accumulator, in wrapping i32 as WGSL computes it.
    fn expanded_accumulator(a: &Q8Activations, w: &Q8Weights, row: usize, col: usize) -> i32 {
        let (a_zero_point, w_zero_point) = (i32::from(a.zero_point), i32::from(w.zero_points[col]));
        let (mut products, mut a_sum) = (0i32, 0i32);
        for k in 0..a.cols {
            let (a_value, w_value) = (i32::from(a.value(row, k)), i32::from(w.value(col, k)));
            products = products.wrapping_add(a_value * w_value);
            a_sum = a_sum.wrapping_add(a_value);
        }
        let k_a_zero_point = (a.cols as i32).wrapping_mul(a_zero_point);
        products
            .wrapping_add(k_a_zero_point.wrapping_mul(w_zero_point))
            .wrapping_sub(a_zero_point.wrapping_mul(w.row_sums[col]))
            .wrapping_sub(w_zero_point.wrapping_mul(a_sum))
    }

    #[test]
    fn small_product_by_hand() {
        // a − a_zp = [[1, 2, 3], [-1, 0, 4]]; w − w_zp = [[1, 1, 1], [2, -1, 0]].
        let a = Q8Activations::from_parts(2, 3, &[2, 3, 4, 0, 1, 5], 0.5, 1).unwrap();
        let w =
            Q8Weights::from_parts(2, 3, &[0, 0, 0, 4, 1, 2], vec![1.0, 0.25], vec![-1, 2]).unwrap();
        assert_eq!(reference_q8_i32(&a, &w, 1, 2), vec![6, 0, 3, -2]);
        let (values, _) = reference_q8(&a, &w, 1, 2, Some(&[1.0, 0.0]), Activation::Relu);
        assert_eq!(values, vec![4.0, 0.0, 2.5, 0.0]);
    }

    #[test]
    fn expansion_is_exact_at_the_k_limit() {
        // (a − a_zp)·(w − w_zp) = ±255² at every k: the largest accumulators there are, where the
        // expanded terms overflow i32 and must wrap back.
        let k = 32768;
        let a_values = [vec![127i8; k], [127, -128].repeat(k / 2)].concat();
        let a = Q8Activations::from_parts(2, k, &a_values, 1.0, -128).unwrap();
        let w_values = [vec![-128i8; k], vec![127; k]].concat();
        let w = Q8Weights::from_parts(2, k, &w_values, vec![1.0; 2], vec![127, -128]).unwrap();
        let reference = reference_q8_i32(&a, &w, 1, 2);
        assert_eq!(reference[..2], [-2_130_739_200, 2_130_739_200]);
        for (index, &want) in reference.iter().enumerate() {
            assert_eq!(expanded_accumulator(&a, &w, index / 2, index % 2), want);
        }
    }
}
