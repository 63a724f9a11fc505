//! Plans on the GPU's other precisions against the CPU backend: an f16 Conv → Relu → MaxPool, an
//! f16 batched MatMul, and an int8 QLinearConv.

use half::f16;
use kiln::check::{compare, SeededRng};
use kiln::device::Gpu;
use kiln::graph::{AutoPad, Graph, Op};
use kiln::ops::elementwise::UnaryOp;
use kiln::ops::{Activation, PointwiseActivation};
use kiln::runtime::{Backend, Plan};
use kiln::tensor::{DType, HostTensor, TensorData};

use super::builder::{conv, max_pool, random_input, Builder};
use super::{run_both, UNIT_ROUNDOFF};
use crate::common::gpu;

fn halves(tensor: &HostTensor) -> HostTensor {
    let values = tensor
        .to_f64_vec()
        .iter()
        .map(|&v| f16::from_f64(v))
        .collect();
    HostTensor::new(tensor.shape(), TensorData::F16(values)).unwrap()
}

fn as_f32(tensor: &HostTensor) -> Vec<f32> {
    tensor.to_f64_vec().iter().map(|&v| v as f32).collect()
}

#[test]
fn f16_conv_relu_pool_matches_the_cpu_backend() {
    let Some(gpu) = gpu() else { return };
    const K: usize = 4 * 9;
    let mut b = Builder::new(21);
    b.input("x", DType::F16, &[1, 4, 8, 8])
        .weight("w", &[6, 4, 3, 3], 1.0 / (K as f32).sqrt())
        .weight("bias", &[6], 0.1);
    for name in ["w", "bias"] {
        let widened = b.graph.initializers[name].clone();
        b.constant(name, halves(&widened));
    }
    let relu = Op::Unary(UnaryOp::Activation(PointwiseActivation::Relu));
    b.node(
        "conv",
        conv(3, 1, 1, AutoPad::NotSet),
        &["x", "w", "bias"],
        &["c"],
    )
    .node("relu", relu, &["c"], &["r"])
    .node("pool", max_pool(2), &["r"], &["y"])
    .output("y");
    let inputs = vec![("x".to_string(), halves(&random_input(22, &[1, 4, 8, 8])))];
    let (got, want) = run_both(gpu, &b.graph, &inputs);
    assert_eq!(got[0].1.dtype(), DType::F16);
    let want_values = as_f32(&want[0].1);
    // The GPU accumulates in f32 ((K + 2)·u·Σ|terms|, Σ|terms| ≤ K·max|x|·max|w| ≤ √K) and may
    // store either f16 neighbour (one f16 ulp, 2⁻¹⁰ relative, or 2⁻²⁴ below f16's normals); the
    // CPU rounds to the nearest f16 (half an ulp). Relu and the max keep values non-negative and
    // carry the bound of the largest element of each window: 1.5·2⁻¹⁰ rounded up to 2⁻⁹.
    let accumulation = 2.0 * (K as f32 + 2.0) * UNIT_ROUNDOFF * (K as f32).sqrt();
    let tolerance: Vec<f32> = want_values
        .iter()
        .map(|&v| v.abs() / 512.0 + accumulation + 2.0 * UNIT_ROUNDOFF)
        .collect();
    compare("f16 conv", &as_f32(&got[0].1), &want_values, &tolerance).assert_passed();
}

/// QLinearConv (3×3, pad 1, per-channel weight scales, i32 bias) on an int8 [1, 4, 6, 6] input.
fn qlinear_conv_graph() -> (Graph, HostTensor) {
    let mut rng = SeededRng::new(31);
    let int8 = |rng: &mut SeededRng, shape: &[usize], low: i32, high: i32| {
        let values = rng.int_vec(shape.iter().product(), low, high);
        HostTensor::new(
            shape,
            TensorData::I8(values.iter().map(|&v| v as i8).collect()),
        )
        .unwrap()
    };
    let scalar = |value: f32| HostTensor::from_f32(&[], vec![value]).unwrap();
    let zero_point = |value: i8| HostTensor::new(&[], TensorData::I8(vec![value])).unwrap();
    let mut b = Builder::new(32);
    b.input("x", DType::I8, &[1, 4, 6, 6])
        .constant("x_scale", scalar(0.02))
        .constant("x_zero", zero_point(3))
        .constant("w", int8(&mut rng, &[8, 4, 3, 3], -127, 127))
        .uniform("w_scale", &[8], 0.005, 0.02)
        .constant(
            "w_zero",
            HostTensor::new(&[8], TensorData::I8(vec![0; 8])).unwrap(),
        )
        .constant("y_scale", scalar(0.2))
        .constant("y_zero", zero_point(-5));
    let bias = rng.int_vec(8, -1000, 1000);
    b.constant(
        "bias",
        HostTensor::new(&[8], TensorData::I32(bias)).unwrap(),
    );
    let Op::Conv(attrs) = conv(3, 1, 1, AutoPad::NotSet) else {
        unreachable!("conv() builds a Conv")
    };
    let inputs = [
        "x", "x_scale", "x_zero", "w", "w_scale", "w_zero", "y_scale", "y_zero", "bias",
    ];
    b.node("qconv", Op::QLinearConv(attrs), &inputs, &["y"])
        .output("y");
    let x = int8(&mut rng, &[1, 4, 6, 6], -128, 127);
    (b.graph, x)
}

#[test]
fn qlinear_conv_matches_the_cpu_backend_within_one_step() {
    let Some(gpu) = gpu() else { return };
    let (graph, x) = qlinear_conv_graph();
    let (got, want) = run_both(gpu, &graph, &[("x".to_string(), x)]);
    assert_eq!(got[0].1.dtype(), DType::I8);
    // The integer accumulators are exact on both; the requantizing product acc·multiplier is
    // rounded in f32 on the GPU and in f64 on the CPU, which can move a value that lies within
    // one f32 rounding of a .5 boundary to the neighbouring step: at most one step apart.
    let want_values = as_f32(&want[0].1);
    let tolerance = vec![1.0; want_values.len()];
    compare("QLinearConv", &as_f32(&got[0].1), &want_values, &tolerance).assert_passed();
}

#[test]
fn a_plan_uploads_the_qlinear_conv_weight_once() {
    if gpu().is_none() {
        return;
    }
    // A device of its own, so that no other test's buffers move the pool's counters.
    let device = Gpu::from_env().unwrap();
    let (graph, x) = qlinear_conv_graph();
    let inputs = [("x".to_string(), x)];
    let shapes = [("x".to_string(), vec![1, 4, 6, 6])];
    let mut plan = Plan::new(&graph, &shapes, Backend::Gpu(&device)).unwrap();
    let requests = |device: &Gpu| {
        let stats = device.pool_stats();
        stats.allocations + stats.reuses
    };
    let before = requests(&device);
    plan.run(&inputs).unwrap();
    // A run asks the pool for three buffers: the input, the launcher's requantizing multipliers
    // (made per launch from the activation scales) and the output. The weight's data and row
    // sums were uploaded by Plan::new; uploading them per run would add their buffers here.
    assert_eq!(requests(&device) - before, 3);
}

#[test]
fn f16_matmul_matches_the_cpu_backend() {
    let Some(gpu) = gpu() else { return };
    const K: usize = 8;
    let mut b = Builder::new(23);
    b.input("a", DType::F16, &[2, 3, K])
        .weight("w", &[K, 5], 1.0);
    let widened = b.graph.initializers["w"].clone();
    b.constant("w", halves(&widened))
        .node(
            "mm",
            Op::MatMul {
                activation: Activation::Identity,
            },
            &["a", "w"],
            &["y"],
        )
        .output("y");
    let inputs = vec![("a".to_string(), halves(&random_input(24, &[2, 3, K])))];
    let (got, want) = run_both(gpu, &b.graph, &inputs);
    assert_eq!(
        (got[0].1.dtype(), got[0].1.shape()),
        (DType::F16, &[2, 3, 5][..])
    );
    let want_values = as_f32(&want[0].1);
    // As for the f16 conv: f32 accumulation with Σ|aᵢbᵢ| ≤ K, then one f16 ulp on the GPU and half
    // of one on the CPU, 1.5·2⁻¹⁰ relative, rounded up to 2⁻⁹.
    let accumulation = 2.0 * (K as f32 + 2.0) * UNIT_ROUNDOFF * K as f32;
    let tolerance: Vec<f32> = want_values
        .iter()
        .map(|&v| v.abs() / 512.0 + accumulation + 2.0 * UNIT_ROUNDOFF)
        .collect();
    compare("f16 matmul", &as_f32(&got[0].1), &want_values, &tolerance).assert_passed();
}
