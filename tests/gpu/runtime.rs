//! Graphs run by a runtime Plan on the GPU backend against the CPU reference backend: a small CNN,
//! a layout path, broadcasting MatMuls and ArgMax; the peak-bytes figure of a chain computed by
//! hand; identical repeated runs that allocate nothing new. Input errors are in `errors`.

pub mod builder;
mod errors;
mod observe;
mod ops;
mod packed;
mod precision;
mod yolo;

use kiln::check::compare;
use kiln::device::Gpu;
use kiln::graph::{AutoPad, Graph, Op, ResizeAttrs};
use kiln::ops::elementwise::{BinaryOp, UnaryOp};
use kiln::ops::layout::PadMode;
use kiln::ops::reduce::ReduceKind;
use kiln::ops::resize::{CoordinateMode, ResizeMode, LINEAR_TOLERANCE};
use kiln::ops::{Activation, PointwiseActivation};
use kiln::runtime::{Backend, Plan};
use kiln::tensor::{DType, HostTensor};

use crate::common::gpu;
use builder::{conv, max_pool, random_input, Builder};
use observe::YOLO_RELATIVE_TOLERANCE;

/// f32's unit roundoff, 2⁻²⁴.
pub const UNIT_ROUNDOFF: f32 = 1.0 / 16_777_216.0;

pub type Outputs = Vec<(String, HostTensor)>;

/// Runs `graph` with `inputs` on the GPU and on the CPU reference backend.
pub fn run_both(gpu: &Gpu, graph: &Graph, inputs: &[(String, HostTensor)]) -> (Outputs, Outputs) {
    let shapes: Vec<(String, Vec<usize>)> = inputs
        .iter()
        .map(|(name, tensor)| (name.clone(), tensor.shape().to_vec()))
        .collect();
    let mut on_gpu = Plan::new(graph, &shapes, Backend::Gpu(gpu)).unwrap();
    let mut on_cpu = Plan::new(graph, &shapes, Backend::Cpu).unwrap();
    (on_gpu.run(inputs).unwrap(), on_cpu.run(inputs).unwrap())
}

/// Compares one output of each backend with a uniform absolute tolerance.
fn assert_close(label: &str, got: &(String, HostTensor), want: &(String, HostTensor), tol: f32) {
    assert_eq!(got.0, want.0);
    assert_eq!(got.1.shape(), want.1.shape(), "{label}: shapes");
    let got_values = got.1.expect_f32("test").unwrap();
    let want_values = want.1.expect_f32("test").unwrap();
    compare(
        label,
        got_values,
        want_values,
        &vec![tol; want_values.len()],
    )
    .assert_passed();
}

pub fn max_abs(tensor: &HostTensor) -> f32 {
    tensor
        .to_f64_vec()
        .iter()
        .fold(0.0f32, |m, v| m.max(v.abs() as f32))
}

/// Conv(+bias) → BN → Relu → MaxPool → depthwise Conv (SAME_UPPER) → residual Add →
/// GlobalAveragePool → Flatten → Gemm → Softmax, on a [1, 3, 16, 16] image. Weights are uniform
/// in ±1/√K so every activation stays of order one.
pub fn cnn() -> Graph {
    let mut b = Builder::new(7);
    b.input("image", DType::F32, &[1, 3, 16, 16])
        .weight("w1", &[8, 3, 3, 3], 1.0 / 27f32.sqrt())
        .weight("b1", &[8], 0.1)
        .uniform("gamma", &[8], 0.5, 1.5)
        .weight("beta", &[8], 0.1)
        .weight("mean", &[8], 0.1)
        .uniform("var", &[8], 0.5, 1.5)
        .weight("wd", &[8, 1, 3, 3], 1.0 / 3.0)
        .weight("bd", &[8], 0.1)
        .weight("wf", &[10, 8], 1.0 / 8f32.sqrt())
        .weight("bf", &[10], 0.1);
    let relu = Op::Unary(UnaryOp::Activation(PointwiseActivation::Relu));
    let gemm = Op::Gemm {
        alpha: 1.0,
        beta: 1.0,
        trans_a: false,
        trans_b: true,
        activation: Activation::Identity,
    };
    let bn = Op::BatchNormalization { epsilon: 1e-5 };
    b.node(
        "conv1",
        conv(3, 1, 1, AutoPad::NotSet),
        &["image", "w1", "b1"],
        &["c1"],
    )
    .node("bn", bn, &["c1", "gamma", "beta", "mean", "var"], &["n1"])
    .node("relu", relu, &["n1"], &["r1"])
    .node("pool", max_pool(2), &["r1"], &["p1"])
    .node(
        "depthwise",
        conv(3, 0, 8, AutoPad::SameUpper),
        &["p1", "wd", "bd"],
        &["d1"],
    )
    .node(
        "residual",
        Op::Binary(BinaryOp::Add),
        &["d1", "p1"],
        &["a1"],
    )
    .node("gap", Op::GlobalAveragePool, &["a1"], &["g"])
    .node("flatten", Op::Flatten { axis: 1 }, &["g"], &["f"])
    .node("fc", gemm, &["f", "wf", "bf"], &["logits"])
    .node(
        "softmax",
        Op::Softmax {
            axis: -1,
            coerce_2d: false,
        },
        &["logits"],
        &["probs"],
    )
    .output("logits")
    .output("probs");
    b.graph
}

#[test]
fn cnn_matches_the_cpu_backend_and_repeats_exactly() {
    let Some(gpu) = gpu() else { return };
    let graph = cnn();
    let inputs = vec![("image".to_string(), random_input(11, &[1, 3, 16, 16]))];
    let shapes = [("image".to_string(), vec![1, 3, 16, 16])];
    let mut plan = Plan::new(&graph, &shapes, Backend::Gpu(gpu)).unwrap();
    plan.warm_up().unwrap();
    let first = plan.run(&inputs).unwrap();
    let mut reference = Plan::new(&graph, &shapes, Backend::Cpu).unwrap();
    let want = reference.run(&inputs).unwrap();
    eprintln!(
        "test CNN: {} nodes after the passes, peak {} bytes of activations",
        plan.node_count(),
        plan.peak_bytes()
    );
    // The passes fold BN into conv1 and fuse the Relu, leaving 8 nodes; the peak is conv1's step:
    // the image (3·16·16·4 = 3072 B) and its output (8·16·16·4 = 8192 B).
    assert_eq!((plan.node_count(), plan.peak_bytes()), (8, 11264));
    // Bound: the four accumulating layers (conv K = 27, depthwise K = 9, global average K = 64,
    // Gemm K = 8) each err by at most (K + 2)·u·Σ|terms| (u = 2⁻²⁴) on either backend; with weights
    // in ±1/√K the sums of |terms| stay within 4× the largest activation, so one layer adds at
    // most 2·66·u·4 ≈ 3.1e-5 of it, and Relu, MaxPool, Add and the average carry errors forward
    // without growth: four layers stay below 1.3e-4, rounded up to 2e-4 of the largest |logit|.
    let logit_tol = 2e-4 * max_abs(&want[0].1);
    assert_close("logits", &first[0], &want[0], logit_tol);
    // Softmax's Jacobian has ∞-norm ≤ 1/2, plus its own few roundings of values ≤ 1.
    assert_close(
        "probs",
        &first[1],
        &want[1],
        0.5 * logit_tol + 8.0 * UNIT_ROUNDOFF,
    );
    let again = plan.run(&inputs).unwrap();
    assert_eq!(again, first, "a second run must give identical outputs");
}

/// Transpose → Slice (a reversed axis) and Slice → Concat → Resize (linear) → Reshape → Pad →
/// Split into two outputs.
fn layout_path() -> Graph {
    let mut b = Builder::new(3);
    let resize = Op::Resize(ResizeAttrs {
        mode: ResizeMode::Linear,
        coordinates: CoordinateMode::HalfPixel,
        axes: vec![],
    });
    let scales = HostTensor::from_f32(&[4], vec![1.0, 1.0, 2.0, 2.0]).unwrap();
    let fill = HostTensor::from_f32(&[], vec![0.5]).unwrap();
    let transpose = Op::Transpose {
        perm: Some(vec![0, 1, 3, 2]),
    };
    let reversed = ["t", "rev_starts", "rev_ends", "rev_axes", "rev_steps"];
    let pad = Op::Pad {
        mode: PadMode::Constant(0.0),
    };
    let split = Op::Split {
        axis: 0,
        num_outputs: None,
    };
    b.input("x", DType::F32, &[1, 4, 4, 6])
        .ints("rev_starts", &[1, 3])
        .ints("rev_ends", &[5, -5])
        .ints("rev_axes", &[2, 3])
        .ints("rev_steps", &[1, -1])
        .ints("head_starts", &[0])
        .ints("head_ends", &[4])
        .ints("head_axes", &[3])
        .constant("scales", scales)
        .ints("shape", &[8, 64])
        .ints("pads", &[0, 1, 0, 1])
        .constant("fill", fill)
        .ints("split", &[3, 5])
        .node("t", transpose, &["x"], &["t"])
        .node("s", Op::Slice, &reversed, &["s"])
        .node(
            "h",
            Op::Slice,
            &["x", "head_starts", "head_ends", "head_axes"],
            &["h"],
        )
        .node("cat", Op::Concat { axis: 1 }, &["s", "h"], &["c"])
        .node("up", resize, &["c", "", "scales"], &["r"])
        .node(
            "flat",
            Op::Reshape { allowzero: false },
            &["r", "shape"],
            &["flat"],
        )
        .node("pad", pad, &["flat", "pads", "fill"], &["p"])
        .node("split", split, &["p", "split"], &["top", "bottom"])
        .output("top")
        .output("bottom");
    b.graph
}

#[test]
fn layout_path_matches_the_cpu_backend() {
    let Some(gpu) = gpu() else { return };
    let inputs = vec![("x".to_string(), random_input(5, &[1, 4, 4, 6]))];
    let (got, want) = run_both(gpu, &layout_path(), &inputs);
    assert_eq!(got.len(), 2);
    assert_eq!(want[0].1.shape(), [3, 66]);
    // Layout ops move bits exactly; bilinear Resize errs by at most LINEAR_TOLERANCE of the
    // largest input magnitude (|x| < 1, the fill 0.5).
    for (got, want) in got.iter().zip(&want) {
        assert_close(&got.0, got, want, LINEAR_TOLERANCE);
    }
}

#[test]
fn broadcasting_matmuls_match_the_cpu_backend() {
    let Some(gpu) = gpu() else { return };
    const K: usize = 7;
    let mut b = Builder::new(9);
    b.input("a", DType::F32, &[2, 1, 5, K])
        .input("b", DType::F32, &[3, K, 4])
        .input("rows", DType::F32, &[2, 3, 5, K])
        .input("v", DType::F32, &[K])
        .weight("w", &[K, 4], 1.0);
    let matmul = || Op::MatMul {
        activation: Activation::Identity,
    };
    b.node("batched", matmul(), &["a", "b"], &["y_batched"])
        .node("folded", matmul(), &["rows", "w"], &["y_folded"])
        .node("vector", matmul(), &["v", "b"], &["y_vector"])
        .output("y_batched")
        .output("y_folded")
        .output("y_vector");
    let inputs = vec![
        ("a".to_string(), random_input(1, &[2, 1, 5, K])),
        ("b".to_string(), random_input(2, &[3, K, 4])),
        ("rows".to_string(), random_input(3, &[2, 3, 5, K])),
        ("v".to_string(), random_input(4, &[K])),
    ];
    let (got, want) = run_both(gpu, &b.graph, &inputs);
    let shapes: [&[usize]; 3] = [&[2, 3, 5, 4], &[2, 3, 5, 4], &[3, 4]];
    // Each backend is within (K + 2)·u·Σ|aᵢbᵢ| of the exact product, and Σ|aᵢbᵢ| ≤ K with every
    // operand in [-1, 1), so the two differ by at most 2·(K + 2)·u·K.
    let tol = 2.0 * (K as f32 + 2.0) * UNIT_ROUNDOFF * K as f32;
    for ((got, want), shape) in got.iter().zip(&want).zip(shapes) {
        assert_eq!(want.1.shape(), shape);
        assert_close(&got.0, got, want, tol);
    }
}

#[test]
fn argmax_indices_come_back_as_i64() {
    let Some(gpu) = gpu() else { return };
    let mut b = Builder::new(1);
    let argmax = Op::ArgMax {
        axis: 1,
        keepdims: false,
        select_last_index: false,
    };
    b.input("x", DType::F32, &[3, 5])
        .node("argmax", argmax, &["x"], &["indices"])
        .output("indices");
    let inputs = vec![("x".to_string(), random_input(8, &[3, 5]))];
    let (got, want) = run_both(gpu, &b.graph, &inputs);
    assert_eq!(got[0].1.dtype(), DType::I64);
    assert_eq!(got, want);
}

/// x [2, 3, 4] → Exp → Concat(e, e) [4, 3, 4] → ReduceSum over axis 2 [4, 3] → Reshape [12].
fn chain() -> Graph {
    let mut b = Builder::new(2);
    let sum = Op::Reduce {
        kind: ReduceKind::Sum,
        keepdims: false,
        noop_with_empty_axes: false,
    };
    b.input("x", DType::F32, &[2, 3, 4])
        .ints("axes", &[2])
        .ints("shape", &[12])
        .node("exp", Op::Unary(UnaryOp::Exp), &["x"], &["e"])
        .node("cat", Op::Concat { axis: 0 }, &["e", "e"], &["c"])
        .node("sum", sum, &["c", "axes"], &["r"])
        .node(
            "flat",
            Op::Reshape { allowzero: false },
            &["r", "shape"],
            &["y"],
        )
        .output("y");
    b.graph
}

#[test]
fn peak_bytes_of_a_chain_is_the_hand_computed_figure() {
    let shapes = [("x".to_string(), vec![2, 3, 4])];
    let plan = Plan::new(&chain(), &shapes, Backend::Cpu).unwrap();
    assert_eq!(plan.node_count(), 4);
    // Step 0: x 96 B + e 96; step 1: e 96 + c 192 = 288; step 2: c 192 + r 48 = 240; step 3:
    // Reshape takes r's buffer (its last reader), 48.
    assert_eq!(plan.peak_bytes(), 288);
    let types = plan.output_types();
    assert_eq!(types[0].0, "y");
    assert_eq!(
        (types[0].1.dtype, types[0].1.shape.clone()),
        (DType::F32, vec![12])
    );
}

#[test]
fn repeated_runs_reuse_buffers_and_allocate_nothing_new() {
    if gpu().is_none() {
        return;
    }
    // A device of its own, so that no other test's buffers move the pool's counters.
    let device = Gpu::from_env().unwrap();
    let shapes = [("x".to_string(), vec![2, 3, 4])];
    let mut plan = Plan::new(&chain(), &shapes, Backend::Gpu(&device)).unwrap();
    let inputs = vec![("x".to_string(), random_input(6, &[2, 3, 4]))];
    let first = plan.run(&inputs).unwrap();
    let after_first = device.pool_stats();
    // x dies after Exp, so Concat's output takes its buffer within the first run.
    assert!(after_first.reuses > 0, "{after_first:?}");
    let second = plan.run(&inputs).unwrap();
    let after_second = device.pool_stats();
    assert_eq!(after_second.allocations, after_first.allocations);
    assert_eq!(second, first);
    let on_device = plan.run_on_device(&inputs).unwrap();
    assert_eq!(
        on_device[0].1.read::<f32>(&device).unwrap(),
        first[0].1.as_f32().unwrap()
    );
}
