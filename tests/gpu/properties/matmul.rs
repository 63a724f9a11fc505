//! Matmul properties: f32 on random (batch, M, N, K) with shared or per-batch and transposed B,
//! bias and activation, within the K-derived tolerance; int8 W8A8 i32 accumulators exact, on both
//! dot-product paths, with saturating values and zero points mixed in.

use proptest::prelude::*;

use kiln::check::{compare, compare_exact, SeededRng};
use kiln::ops::matmul::f32::matmul_f32;
use kiln::ops::matmul::int8::{
    matmul_q8_i32, reference_q8_i32, Dot4Path, GpuQ8Activations, GpuQ8Weights,
};
use kiln::ops::matmul::reference::OutputPrecision;
use kiln::ops::matmul::{reference_matmul, MatmulOptions};
use kiln::ops::Activation;
use kiln::tensor::{GpuTensor, Q8Activations, Q8Weights};

use super::{check, dim, ok, passed};
use crate::common::{gpu, random_values, Case};

/// A matmul problem: dims up to 3×70×70×80 (K may be 0), B layout flags.
fn cases() -> impl Strategy<Value = Case> {
    (
        1usize..=3,
        dim(70),
        dim(70),
        0usize..=80,
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(batch, m, n, k, b_batched, b_transposed)| Case {
            b_batched: b_batched && batch > 1,
            b_transposed,
            ..Case::new(batch, m, n, k)
        })
}

#[test]
fn f32_matches_reference_on_random_shapes() {
    let Some(gpu) = gpu() else { return };
    let strategy = (cases(), any::<bool>(), any::<bool>(), any::<u64>());
    check("matmul f32", strategy, |(case, with_bias, relu, seed)| {
        let mut rng = SeededRng::new(seed);
        let a = random_values(&mut rng, case.batch * case.m * case.k);
        let b = random_values(&mut rng, case.b_len());
        let bias = rng.uniform_vec(case.n, -2.0, 2.0);
        let activation = if relu {
            Activation::Relu
        } else {
            Activation::Identity
        };
        let options = MatmulOptions {
            b_transposed: case.b_transposed,
            activation,
        };
        let a_gpu = ok("upload a", GpuTensor::upload(gpu, &case.a_shape(), &a))?;
        let b_gpu = ok("upload b", GpuTensor::upload(gpu, &case.b_shape(), &b))?;
        let bias_gpu = ok("upload bias", GpuTensor::upload(gpu, &[case.n], &bias))?;
        let bias_arg = with_bias.then_some(&bias_gpu);
        let c = ok(
            "matmul",
            matmul_f32(gpu, &a_gpu, &b_gpu, bias_arg, &options),
        )?;
        let got = ok("read", c.read::<f32>(gpu))?;
        let bias_ref = with_bias.then_some(&bias[..]);
        let reference = reference_matmul(&a, &b, &case.dims(), bias_ref, activation);
        let label = format!("f32 {case:?} {activation:?} bias={with_bias}");
        let tolerances = reference.tolerances(OutputPrecision::F32);
        passed(compare(&label, &got, &reference.values(), &tolerances))
    });
}

/// Int8 values: a quarter of them -128 or 127, the rest uniform.
fn saturating_i8(rng: &mut SeededRng, count: usize) -> Vec<i8> {
    (0..count)
        .map(|_| match rng.next_u64() % 8 {
            0 => -128,
            1 => 127,
            _ => rng.int_in(-128, 127) as i8,
        })
        .collect()
}

#[test]
fn int8_i32_accumulators_are_exact_on_random_shapes() {
    let Some(gpu) = gpu() else { return };
    let strategy = (1usize..=2, dim(40), dim(40), 1usize..=150, any::<u64>());
    check("matmul int8", strategy, |(batch, m, n, k, seed)| {
        let mut rng = SeededRng::new(seed);
        let a_values = saturating_i8(&mut rng, batch * m * k);
        let a_zero_point = saturating_i8(&mut rng, 1)[0];
        let a = ok(
            "activations",
            Q8Activations::from_parts(batch * m, k, &a_values, 0.01, a_zero_point),
        )?;
        let w_values = saturating_i8(&mut rng, n * k);
        let w_zero_points = saturating_i8(&mut rng, n);
        let w = ok(
            "weights",
            Q8Weights::from_parts(n, k, &w_values, vec![0.01; n], w_zero_points),
        )?;
        let a_gpu = ok("upload a", GpuQ8Activations::upload(gpu, &a, batch, m))?;
        let w_gpu = ok("upload w", GpuQ8Weights::upload(gpu, &w))?;
        let want = reference_q8_i32(&a, &w, batch, m);
        for path in [Dot4Path::Builtin, Dot4Path::Unpacked] {
            let c = ok("matmul", matmul_q8_i32(gpu, &a_gpu, &w_gpu, path))?;
            let got = ok("read", c.read::<i32>(gpu))?;
            let label =
                format!("int8 i32 {path:?} batch {batch} m {m} n {n} k {k} a_zp {a_zero_point}");
            passed(compare_exact(&label, &got, &want))?;
        }
        Ok(())
    });
}
