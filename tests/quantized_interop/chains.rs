//! Helper-built QDQ conv chains: the lowered graph's integers are the same bytes on the CPU and
//! the GPU, and within a derived bound of the unlowered float path.

use kiln::check::SeededRng;
use kiln::device::Gpu;
use kiln::graph::{AutoPad, ConvAttrs, Dim, Graph, Node, Op, PoolAttrs, ValueInfo};
use kiln::ops::elementwise::UnaryOp;
use kiln::ops::PointwiseActivation;
use kiln::runtime::Backend;
use kiln::tensor::{DType, HostTensor, TensorData};

use crate::common::{plan_ops, run_lowered, run_unlowered};

/// A helper-built chain `x → Q → DQ → conv1 (3×3, bias, per-channel weight scales) → Relu → Q →
/// DQ → MaxPool 3×3 → Q → DQ → conv2 (3×3 stride 2, no bias, one weight scale) → Q`, with
/// outputs conv1's and conv2's quantized values `q1` and `y_q`: 3 → 5 → 7 channels on a 2×3×9×7 input, so conv1 has 63
/// output pixels (not whole words of four) and conv2 20 (whole words). Every activation is
/// quantized to `dtype` with `zero_point`; conv1's output step is `step`, conv2's `2·step`.
pub(crate) struct Chain {
    pub(crate) graph: Graph,
    /// conv2's weight, `[7, 5, 3, 3]`, and its one scale.
    w2: Vec<i8>,
    w2_scale: f32,
    step: f32,
}

pub(crate) fn conv_chain(dtype: DType, zero_point: i32, step: f32, seed: u64) -> Chain {
    let mut rng = SeededRng::new(seed);
    let (s0, w2_scale) = (1.0 / 64.0, 0.004);
    let w1: Vec<i8> = (rng.int_vec(135, -128, 127).into_iter())
        .map(|v| v as i8)
        .collect();
    let w1_scales = rng.uniform_vec(5, 0.002, 0.01);
    let b1 = rng.int_vec(5, -2000, 2000);
    let w2: Vec<i8> = (rng.int_vec(315, -127, 127).into_iter())
        .map(|v| v as i8)
        .collect();
    let zero = match dtype {
        DType::I8 => TensorData::I8(vec![zero_point as i8]),
        _ => TensorData::U8(vec![zero_point as u8]),
    };
    let tensor = |shape: &[usize], data| HostTensor::new(shape, data).unwrap();
    let scalar = |value: f32| tensor(&[], TensorData::F32(vec![value]));
    let b1_scales = w1_scales.iter().map(|s| s0 * s).collect();
    let initializers = [
        ("s0", scalar(s0)),
        ("s1", scalar(step)),
        ("s2", scalar(2.0 * step)),
        ("z", tensor(&[], zero)),
        ("w1", tensor(&[5, 3, 3, 3], TensorData::I8(w1))),
        ("w1_s", tensor(&[5], TensorData::F32(w1_scales))),
        ("b1", tensor(&[5], TensorData::I32(b1))),
        ("b1_s", tensor(&[5], TensorData::F32(b1_scales))),
        ("w2", tensor(&[7, 5, 3, 3], TensorData::I8(w2.clone()))),
        ("w2_s", scalar(w2_scale)),
    ];
    let graph = Graph {
        inputs: vec![ValueInfo {
            name: "x".into(),
            dtype: Some(DType::F32),
            shape: Some([2, 3, 9, 7].map(Dim::Fixed).to_vec()),
        }],
        outputs: ["q1", "y_q"].map(output).to_vec(),
        nodes: chain_nodes(),
        initializers: (initializers.into_iter())
            .map(|(name, t)| (name.to_string(), t))
            .collect(),
        ..Graph::default()
    };
    Chain {
        graph,
        w2,
        w2_scale,
        step,
    }
}

fn output(name: &str) -> ValueInfo {
    ValueInfo {
        name: name.into(),
        dtype: None,
        shape: None,
    }
}

fn chain_nodes() -> Vec<Node> {
    let node = |name: &str, op: Op, inputs: &[&str], output: &str| Node {
        name: name.into(),
        op,
        inputs: inputs.iter().map(|input| Some(input.to_string())).collect(),
        outputs: vec![output.into()],
    };
    let quantize = || Op::QuantizeLinear {
        axis: 1,
        saturate: true,
    };
    let dequantize = |axis| Op::DequantizeLinear { axis };
    let conv = |stride: usize| {
        Op::Conv(ConvAttrs {
            kernel_shape: vec![3, 3],
            strides: vec![stride; 2],
            pads: vec![1; 4],
            dilations: vec![1, 1],
            ..ConvAttrs::default()
        })
    };
    let relu = Op::Unary(UnaryOp::Activation(PointwiseActivation::Relu));
    // 3×3, stride 1, pad 1: the shape stays; 63 outputs per plane, not whole words of four.
    let max_pool = Op::MaxPool(PoolAttrs {
        kernel_shape: vec![3, 3],
        strides: vec![1, 1],
        pads: vec![1; 4],
        dilations: vec![1, 1],
        ceil_mode: false,
        count_include_pad: false,
        auto_pad: AutoPad::NotSet,
    });
    vec![
        node("q0", quantize(), &["x", "s0", "z"], "x_q"),
        node("dq0", dequantize(1), &["x_q", "s0", "z"], "x_f"),
        node("dq_w1", dequantize(0), &["w1", "w1_s"], "w1_f"),
        node("dq_b1", dequantize(0), &["b1", "b1_s"], "b1_f"),
        node("conv1", conv(1), &["x_f", "w1_f", "b1_f"], "c1"),
        node("relu1", relu, &["c1"], "r1"),
        node("q1", quantize(), &["r1", "s1", "z"], "q1"),
        node("dq1", dequantize(1), &["q1", "s1", "z"], "d1"),
        node("pool", max_pool, &["d1"], "p"),
        node("q_pool", quantize(), &["p", "s1", "z"], "p_q"),
        node("dq_pool", dequantize(1), &["p_q", "s1", "z"], "p_f"),
        node("dq_w2", dequantize(0), &["w2", "w2_s"], "w2_f"),
        node("conv2", conv(2), &["p_f", "w2_f"], "c2"),
        node("q2", quantize(), &["c2", "s2", "z"], "y_q"),
    ]
}

/// The bounds, in steps, on |lowered − unlowered| for `q1` and `y_q`. Both paths approximate the
/// same real value `acc · x_scale · w_scale / y_scale` of conv1 within a few f32 roundings (the
/// float path's DQ products and partial sums, the integer path's one product), so they round it
/// to integers at most one apart: 1 step for q1. The MaxPool takes maxima of q1 exactly in both
/// paths, so its output too is within 1 step. conv2 reads it, so its value may differ by
/// conv2's step gain `max_m Σ_k |w2[m, k]| · s1 · w2_scale / s2` per step of q1 before its own
/// rounding, which adds one more: `⌈gain⌉ + 1` for y_q.
fn chain_step_bounds(chain: &Chain) -> [i64; 2] {
    let row_sums = chain.w2.chunks(45).map(|row| {
        let sum: i64 = row.iter().map(|&w| i64::from(w).abs()).sum();
        sum as f64
    });
    let max_row_sum = row_sums.fold(0.0, f64::max);
    let scale_ratio = f64::from(chain.step * chain.w2_scale / (2.0 * chain.step));
    [1, (max_row_sum * scale_ratio).ceil() as i64 + 1]
}

fn integers(tensor: &HostTensor) -> Vec<i64> {
    tensor.to_i64_vec("test").unwrap()
}

#[test]
fn lowered_chains_match_the_float_path_and_are_the_same_bytes_on_cpu_and_gpu() {
    let gpu = Gpu::from_env().expect("a GPU adapter (lavapipe in CI)");
    let saturating = 0.0002;
    let cases = [
        (DType::U8, 0, 0.02),
        (DType::U8, 128, 0.02),
        (DType::U8, 255, 0.02),
        (DType::U8, 128, saturating),
        (DType::I8, -128, 0.02),
        (DType::I8, 0, 0.02),
        (DType::I8, 127, 0.02),
        (DType::I8, 0, saturating),
    ];
    for (seed, (dtype, zero_point, step)) in (1..).zip(cases) {
        let label = format!("{dtype} zero point {zero_point} step {step}");
        let chain = conv_chain(dtype, zero_point, step, seed);
        let values = SeededRng::new(100 + seed).uniform_vec(2 * 3 * 9 * 7, -1.0, 1.0);
        let inputs = [(
            "x".to_string(),
            HostTensor::from_f32(&[2, 3, 9, 7], values).unwrap(),
        )];
        let unlowered = run_unlowered(&chain.graph, &inputs);
        let (on_cpu, cpu_lowered) = run_lowered(&chain.graph, &inputs, Backend::Cpu);
        let (on_gpu, gpu_lowered) = run_lowered(&chain.graph, &inputs, Backend::Gpu(&gpu));
        assert_eq!((cpu_lowered, gpu_lowered), (2, 2), "{label}");
        assert_eq!(
            plan_ops(&chain.graph, &inputs),
            ["QuantizeLinear", "QLinearConv", "MaxPool", "QLinearConv"],
            "{label}: no dequantization left between the layers"
        );
        for ((cpu, gpu), (float, bound)) in on_cpu
            .iter()
            .zip(&on_gpu)
            .zip(unlowered.iter().zip(chain_step_bounds(&chain)))
        {
            assert_eq!(cpu.dtype(), dtype, "{label}");
            let (cpu, gpu, float) = (integers(cpu), integers(gpu), integers(float));
            assert_eq!(cpu, gpu, "{label}: the GPU's integers must be the CPU's");
            let worst = cpu
                .iter()
                .zip(&float)
                .map(|(a, b)| (a - b).abs())
                .max()
                .unwrap_or(0);
            let differing = cpu.iter().zip(&float).filter(|(a, b)| a != b).count();
            eprintln!("{label}: max |lowered − float| {worst} steps (bound {bound}), {differing}/{} differ", cpu.len());
            assert!(worst <= bound, "{label}: {worst} steps > {bound}");
        }
        if step == saturating {
            let (low, high) = if dtype == DType::I8 {
                (-128, 127)
            } else {
                (0, 255)
            };
            // conv1's output range is ±0.0256: much of it saturates (the Relu keeps the rest at
            // the zero point).
            let q1 = integers(&on_cpu[0]);
            let saturated = q1.iter().filter(|&&v| v == low || v == high).count();
            assert!(
                saturated * 4 > q1.len(),
                "{label}: the case must saturate, {saturated}"
            );
        }
    }
}
