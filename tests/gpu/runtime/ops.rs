//! Every other op the GPU backend maps, each as a graph output of its own, against the CPU
//! backend. The CPU backend computes each op's f64 reference rounded to f32, so the tolerance of
//! one output is that reference's own (kernel bound plus the half ULP of the rounding); layout ops
//! must match exactly.

use kiln::check::compare;
use kiln::graph::{AutoPad, ConvAttrs, ConvTransposeAttrs, Graph, Op, ResizeAttrs};
use kiln::ops::conv::{reference_conv_transpose2d, ConvTranspose2dParams};
use kiln::ops::elementwise::{reference_binary, reference_unary, reference_variadic};
use kiln::ops::elementwise::{BinaryOp, UnaryOp, VariadicOp};
use kiln::ops::gemm::{reference_gemm, GemmOptions};
use kiln::ops::layout::PadMode;
use kiln::ops::matmul::reference::OutputPrecision;
use kiln::ops::normalization::{reference_layernorm, LayerNormOptions};
use kiln::ops::pooling::average_pool_tolerance;
use kiln::ops::reduce::{reference_reduce, ReduceKind};
use kiln::ops::resize::{CoordinateMode, NearestMode, ResizeMode};
use kiln::ops::softmax::reference_softmax;
use kiln::ops::Activation;
use kiln::tensor::{DType, HostTensor, TensorData};

use super::builder::{max_pool, random_input, Builder};
use super::{run_both, Outputs, UNIT_ROUNDOFF};
use crate::common::gpu;

/// Compares output `name` of the two backends element by element.
fn check(got: &Outputs, want: &Outputs, name: &str, tolerance: &[f32]) {
    let find = |outputs: &Outputs| -> Vec<f32> {
        let (_, tensor) = outputs.iter().find(|(output, _)| output == name).unwrap();
        tensor.to_f64_vec().iter().map(|&v| v as f32).collect()
    };
    compare(name, &find(got), &find(want), tolerance).assert_passed();
}

fn exact(count: usize) -> Vec<f32> {
    vec![0.0; count]
}

fn scalar(value: f32) -> HostTensor {
    HostTensor::from_f32(&[], vec![value]).unwrap()
}

fn reduce(kind: ReduceKind, keepdims: bool, noop_with_empty_axes: bool) -> Op {
    Op::Reduce {
        kind,
        keepdims,
        noop_with_empty_axes,
    }
}

/// Element-wise ops, Softmax (opset-11 coercion), LogSoftmax, reductions and LayerNorm of x
/// [2, 3, 4] (and y [4]).
fn pointwise_graph() -> Graph {
    let mut b = Builder::new(43);
    let mask = HostTensor::new(&[4], TensorData::Bool(vec![true, false, false, true])).unwrap();
    let softmax = Op::Softmax {
        axis: 1,
        coerce_2d: true,
    };
    let log_softmax = Op::LogSoftmax {
        axis: -1,
        coerce_2d: false,
    };
    let layer_norm = Op::LayerNormalization {
        axis: -1,
        epsilon: 1e-5,
    };
    b.input("x", DType::F32, &[2, 3, 4])
        .input("y", DType::F32, &[4])
        .constant("low", scalar(-0.5))
        .constant("high", scalar(0.25))
        .constant("mask", mask)
        .ints("axes", &[0, 2])
        .weight("scale", &[4], 1.0)
        .weight("shift", &[4], 0.5)
        .probe("exp", Op::Unary(UnaryOp::Exp), &["x"])
        .probe("sub", Op::Binary(BinaryOp::Sub), &["x", "y"])
        .probe("sum", Op::Variadic(VariadicOp::Sum), &["x", "y", "x"])
        .probe("clip", Op::Clip, &["x", "low", "high"])
        .probe("where", Op::Where, &["mask", "x", "y"])
        .probe("sm", softmax, &["x"])
        .probe("ls", log_softmax, &["x"])
        .probe(
            "mean",
            reduce(ReduceKind::Mean, true, false),
            &["x", "axes"],
        )
        .probe("max", reduce(ReduceKind::Max, false, false), &["x"])
        .probe("noop", reduce(ReduceKind::Sum, true, true), &["x"])
        .probe("ln", layer_norm, &["x", "scale", "shift"]);
    b.graph
}

#[test]
fn pointwise_softmax_reductions_and_layernorm_match() {
    let Some(gpu) = gpu() else { return };
    let graph = pointwise_graph();
    let (x, y) = (random_input(41, &[2, 3, 4]), random_input(42, &[4]));
    let (xs, ys) = (x.as_f32().unwrap(), y.as_f32().unwrap());
    let inputs = [("x".to_string(), x.clone()), ("y".to_string(), y.clone())];
    let (got, want) = run_both(gpu, &graph, &inputs);
    let shape: &[usize] = &[2, 3, 4];
    let exp = reference_unary(UnaryOp::Exp, xs, shape);
    check(&got, &want, "exp", &exp.tolerances());
    let sub = reference_binary(BinaryOp::Sub, xs, shape, ys, &[4]).unwrap();
    check(&got, &want, "sub", &sub.tolerances());
    let sum = reference_variadic(BinaryOp::Add, &[(xs, shape), (ys, &[4]), (xs, shape)]);
    check(&got, &want, "sum", &sum.unwrap().tolerances());
    check(&got, &want, "clip", &exact(24));
    check(&got, &want, "where", &exact(24));
    let softmax = reference_softmax(xs, &[2, 12], 1, false).unwrap();
    check(&got, &want, "sm", &softmax.tolerances());
    let log_softmax = reference_softmax(xs, shape, -1, true).unwrap();
    check(&got, &want, "ls", &log_softmax.tolerances());
    let mean = reference_reduce(ReduceKind::Mean, xs, shape, &[0, 2], true).unwrap();
    check(&got, &want, "mean", &mean.tolerances());
    let max = reference_reduce(ReduceKind::Max, xs, shape, &[], false).unwrap();
    check(&got, &want, "max", &max.tolerances());
    check(&got, &want, "noop", &exact(24));
    let weights = |name: &str| graph.initializers[name].as_f32().unwrap().to_vec();
    let options = LayerNormOptions {
        axis: -1,
        epsilon: 1e-5,
    };
    let (scale, shift) = (weights("scale"), weights("shift"));
    let ln = reference_layernorm(xs, shape, &scale, Some(&shift), &options).unwrap();
    // The kernel's tolerance against the exact value, plus the CPU's rounding to f32.
    let ln_tolerance: Vec<f32> = (ln.tolerances.iter().zip(&ln.output))
        .map(|(&tol, &y)| tol + UNIT_ROUNDOFF * y.abs() as f32)
        .collect();
    check(&got, &want, "ln", &ln_tolerance);
}

/// ConvTranspose (stride 2, pads 1, output_padding 1), AveragePool, GlobalMaxPool and Resize by
/// sizes of x [1, 2, 6, 6]; a Gemm with transposed A, alpha, beta, a [1, 4] C and a Relu.
fn spatial_graph() -> Graph {
    let mut b = Builder::new(53);
    let conv = ConvAttrs {
        kernel_shape: vec![3, 3],
        strides: vec![2, 2],
        pads: vec![1; 4],
        dilations: vec![1, 1],
        group: 1,
        auto_pad: AutoPad::NotSet,
        activation: Activation::Identity,
    };
    let transpose = Op::ConvTranspose(ConvTransposeAttrs {
        conv,
        output_padding: vec![1, 1],
        output_shape: vec![],
    });
    let Op::MaxPool(mut average) = max_pool(3) else {
        unreachable!("max_pool() builds a MaxPool")
    };
    (average.strides, average.pads) = (vec![1, 1], vec![1; 4]);
    let resize = Op::Resize(ResizeAttrs {
        mode: ResizeMode::Nearest(NearestMode::Floor),
        coordinates: CoordinateMode::Asymmetric,
        axes: vec![],
    });
    let gemm = Op::Gemm {
        alpha: 0.5,
        beta: 2.0,
        trans_a: true,
        trans_b: false,
        activation: Activation::Relu,
    };
    b.input("x", DType::F32, &[1, 2, 6, 6])
        .input("a", DType::F32, &[5, 3])
        .weight("w", &[2, 3, 3, 3], 1.0 / 18f32.sqrt())
        .weight("bias", &[3], 0.1)
        .weight("gb", &[5, 4], 1.0)
        .weight("gc", &[1, 4], 1.0)
        .ints("sizes", &[1, 2, 9, 4])
        .probe("ct", transpose, &["x", "w", "bias"])
        .probe("ap", Op::AveragePool(average), &["x"])
        .probe("gmax", Op::GlobalMaxPool, &["x"])
        .probe("nearest", resize, &["x", "", "", "sizes"])
        .probe("gemm", gemm, &["a", "gb", "gc"]);
    b.graph
}

#[test]
fn transposed_conv_pools_resize_and_gemm_match() {
    let Some(gpu) = gpu() else { return };
    let graph = spatial_graph();
    let (x, a) = (random_input(51, &[1, 2, 6, 6]), random_input(52, &[5, 3]));
    let inputs = [("x".to_string(), x.clone()), ("a".to_string(), a.clone())];
    let (got, want) = run_both(gpu, &graph, &inputs);
    let weights = |name: &str| graph.initializers[name].as_f32().unwrap().to_vec();
    let params = ConvTranspose2dParams {
        strides: [2, 2],
        pads: [1; 4],
        output_padding: [1, 1],
        ..ConvTranspose2dParams::default()
    };
    let (xs, w, bias) = (x.as_f32().unwrap(), weights("w"), weights("bias"));
    let identity = Activation::Identity;
    let ct = reference_conv_transpose2d(
        xs,
        x.shape(),
        &w,
        &[2, 3, 3, 3],
        Some(&bias),
        &params,
        identity,
    );
    check(
        &got,
        &want,
        "ct",
        &ct.unwrap().tolerances(OutputPrecision::F32),
    );
    // |x| < 1; the kernel's bound against the exact mean covers the CPU's f32 rounding too.
    check(&got, &want, "ap", &vec![average_pool_tolerance(9, 1.0); 72]);
    check(&got, &want, "gmax", &exact(2));
    check(&got, &want, "nearest", &exact(72));
    let options = GemmOptions {
        alpha: 0.5,
        beta: 2.0,
        trans_a: true,
        trans_b: false,
    };
    let (gb, gc) = (weights("gb"), weights("gc"));
    let gemm = reference_gemm(
        a.as_f32().unwrap(),
        &[5, 3],
        &gb,
        &[5, 4],
        Some((&gc, &[1, 4])),
        &options,
    );
    // Relu is exact and cannot widen the gap between the two backends.
    check(&got, &want, "gemm", &gemm.unwrap().tolerances());
}

/// Expand, Squeeze (copied: x is read again) then Unsqueeze (moved), Pad over named axes, Split by
/// `num_outputs`, a Cast to the same dtype, and QuantizeLinear → DequantizeLinear of x [2, 1, 3].
fn movement_graph() -> Graph {
    let mut b = Builder::new(62);
    let zero = HostTensor::new(&[], TensorData::I8(vec![0])).unwrap();
    let split = Op::Split {
        axis: 2,
        num_outputs: Some(2),
    };
    b.input("x", DType::F32, &[2, 1, 3])
        .ints("target", &[2, 4, 3])
        .ints("axis1", &[1])
        .ints("axis0", &[0])
        .ints("pads", &[1, 2])
        .ints("pad_axes", &[2])
        .constant("scale", scalar(0.01))
        .constant("zero", zero)
        .probe("expand", Op::Expand, &["x", "target"])
        .node("squeeze", Op::Squeeze, &["x", "axis1"], &["squeezed"])
        .probe("unsqueeze", Op::Unsqueeze, &["squeezed", "axis0"])
        .probe(
            "pad",
            Op::Pad {
                mode: PadMode::Reflect,
            },
            &["x", "pads", "", "pad_axes"],
        )
        .node("split", split, &["x"], &["left", "right"])
        .output("left")
        .output("right")
        .probe("cast", Op::Cast { to: DType::F32 }, &["x"])
        .probe(
            "q",
            Op::QuantizeLinear {
                axis: 1,
                saturate: true,
            },
            &["x", "scale", "zero"],
        )
        .probe(
            "dq",
            Op::DequantizeLinear { axis: 1 },
            &["q", "scale", "zero"],
        );
    b.graph
}

#[test]
fn expand_squeeze_pad_split_cast_and_qdq_match() {
    let Some(gpu) = gpu() else { return };
    let x = random_input(61, &[2, 1, 3]);
    let (got, want) = run_both(gpu, &movement_graph(), &[("x".to_string(), x)]);
    let exact_outputs = ["expand", "unsqueeze", "pad", "left", "right", "cast"];
    for (name, count) in exact_outputs.iter().zip([24, 6, 12, 4, 2, 6]) {
        check(&got, &want, name, &exact(count));
    }
    // QuantizeLinear is exact except where the GPU's division lands a quotient on the other side
    // of a .5 boundary (one step); DequantizeLinear of that step differs by the scale.
    check(&got, &want, "q", &[1.0; 6]);
    check(&got, &want, "dq", &[0.01 * (1.0 + 2.0 * UNIT_ROUNDOFF); 6]);
}
