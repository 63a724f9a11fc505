//! A graph using most ops in their canonical imported form, for the export round-trip tests.
//! Shapes are not meant to agree (nothing infers them here); names and attributes are.

use crate::graph::{
    AutoPad, CompareOp, ConvAttrs, ConvTransposeAttrs, Dim, Graph, Node, Op, PoolAttrs,
    ResizeAttrs, ValueInfo,
};
use crate::ops::elementwise::{BinaryOp, UnaryOp, VariadicOp};
use crate::ops::layout::PadMode;
use crate::ops::normalization::LrnAttrs;
use crate::ops::reduce::ReduceKind;
use crate::ops::resize::{CoordinateMode, NearestMode, ResizeMode};
use crate::ops::{Activation, PointwiseActivation};
use crate::tensor::{DType, HostTensor, TensorData};

/// Index of the Softmax node in [`many_ops`].
pub(super) const SOFTMAX_NODE: usize = 16;
/// Index of the MatMul node in [`many_ops`].
pub(super) const MATMUL_NODE: usize = 38;

fn step(name: &str, op: Op, inputs: &[&str], outputs: &[&str]) -> Node {
    Node {
        name: name.into(),
        op,
        inputs: inputs
            .iter()
            .map(|input| (!input.is_empty()).then(|| input.to_string()))
            .collect(),
        outputs: outputs.iter().map(|output| output.to_string()).collect(),
    }
}

/// 3×3 convolution attributes, padded by 1, with `activation` fused.
pub(super) fn conv_attrs(activation: Activation) -> ConvAttrs {
    ConvAttrs {
        kernel_shape: vec![3, 3],
        strides: vec![1, 1],
        pads: vec![1, 1, 1, 1],
        dilations: vec![1, 1],
        group: 1,
        auto_pad: AutoPad::NotSet,
        activation,
    }
}

fn pool_attrs(count_include_pad: bool) -> PoolAttrs {
    PoolAttrs {
        kernel_shape: vec![2, 2],
        strides: vec![2, 2],
        pads: vec![0, 0, 0, 0],
        dilations: vec![1, 1],
        ceil_mode: true,
        count_include_pad,
        auto_pad: AutoPad::SameUpper,
    }
}

fn constants() -> Vec<(&'static str, HostTensor)> {
    let f32s = |shape: &[usize], value: f32| {
        HostTensor::from_f32(shape, vec![value; shape.iter().product()]).unwrap()
    };
    let i64s = |values: &[i64]| HostTensor::from_i64(&[values.len()], values.to_vec()).unwrap();
    let typed = |shape: &[usize], data| HostTensor::new(shape, data).unwrap();
    vec![
        ("w", f32s(&[4, 3, 3, 3], 0.5)),
        ("b", f32s(&[4], 0.1)),
        ("bn", f32s(&[4], 1.0)),
        (
            "scales",
            HostTensor::from_f32(&[4], vec![1.0, 1.0, 2.0, 2.0]).unwrap(),
        ),
        ("shape", i64s(&[0, -1])),
        ("fc_w", f32s(&[10, 256], 0.01)),
        ("axes", i64s(&[1])),
        ("pads", i64s(&[0, 0, 1, 1, 0, 0, 1, 1])),
        ("zero", f32s(&[], 0.0)),
        ("q_scale", f32s(&[], 0.1)),
        ("q_zero", typed(&[], TensorData::U8(vec![128]))),
        ("int8_w", typed(&[192, 2], TensorData::I8(vec![-3; 384]))),
        ("mask", typed(&[1], TensorData::Bool(vec![true]))),
        (
            "half",
            typed(&[2], TensorData::F16(vec![half::f16::ONE; 2])),
        ),
        ("index", typed(&[], TensorData::I32(vec![1]))),
    ]
}

/// The sample graph: one node per op (two for some), every attribute away from its default
/// somewhere, and an input with fixed, named and unknown dims.
#[rustfmt::skip]
pub(crate) fn many_ops() -> Graph {
    let act = |activation| Op::Unary(UnaryOp::Activation(activation));
    let nearest_floor = ResizeAttrs { mode: ResizeMode::Nearest(NearestMode::Floor), coordinates: CoordinateMode::Asymmetric, axes: vec![] };
    let deconv = ConvTransposeAttrs { conv: conv_attrs(Activation::Identity), output_padding: vec![1, 1], output_shape: vec![] };
    let gemm = Op::Gemm { alpha: 0.5, beta: 2.0, trans_a: false, trans_b: true, activation: Activation::Identity };
    let nodes = vec![
        step("conv", Op::Conv(conv_attrs(Activation::Identity)), &["x", "w", "b"], &["c"]),
        step("bn", Op::BatchNormalization { epsilon: 1e-3 }, &["c", "bn", "b", "b", "bn"], &["n"]),
        step("relu", act(PointwiseActivation::Relu), &["n"], &["r"]),
        step("leaky", act(PointwiseActivation::LeakyRelu { alpha: 0.1 }), &["r"], &["lr"]),
        step("hsig", act(PointwiseActivation::HardSigmoid { alpha: 0.3, beta: 0.4 }), &["lr"], &["hs"]),
        step("max_pool", Op::MaxPool(pool_attrs(false)), &["hs"], &["mp"]),
        step("avg_pool", Op::AveragePool(pool_attrs(true)), &["mp"], &["ap"]),
        step("resize", Op::Resize(nearest_floor), &["ap", "", "scales"], &["rs"]),
        step("cat", Op::Concat { axis: 1 }, &["rs", "r"], &["cat"]),
        step("split", Op::Split { axis: 1, num_outputs: Some(2) }, &["cat"], &["s1", "s2"]),
        step("add", Op::Binary(BinaryOp::Add), &["s1", "s2"], &["add"]),
        step("max3", Op::Variadic(VariadicOp::Max), &["add", "s1", "s2"], &["vmax"]),
        step("sqrt", Op::Unary(UnaryOp::Sqrt), &["vmax"], &["sq"]),
        step("transpose", Op::Transpose { perm: Some(vec![0, 2, 3, 1]) }, &["sq"], &["tr"]),
        step("reshape", Op::Reshape { allowzero: false }, &["tr", "shape"], &["flat"]),
        step("gemm", gemm, &["flat", "fc_w"], &["fc"]),
        step("softmax", Op::Softmax { axis: -1, coerce_2d: false }, &["fc"], &["sm"]),
        step("log_softmax", Op::LogSoftmax { axis: 1, coerce_2d: false }, &["fc"], &["lsm"]),
        step("greater", Op::Compare(CompareOp::Greater), &["sm", "zero"], &["gt"]),
        step("not", Op::Not, &["gt"], &["nt"]),
        step("where", Op::Where, &["nt", "sm", "lsm"], &["wh"]),
        step("shape", Op::Shape { start: 1, end: Some(3) }, &["x"], &["shp"]),
        step("gather", Op::Gather { axis: 0 }, &["shp", "index"], &["g"]),
        step("cast", Op::Cast { to: DType::F32 }, &["g"], &["gf"]),
        step("fill", Op::ConstantOfShape { value: HostTensor::from_i64(&[1], vec![7]).unwrap() }, &["shp"], &["filled"]),
        step("pad", Op::Pad { mode: PadMode::Constant(0.0) }, &["x", "pads", "zero"], &["pd"]),
        step("reflect", Op::Pad { mode: PadMode::Reflect }, &["x", "pads"], &["pr"]),
        step("slice", Op::Slice, &["x", "axes", "pads", "axes"], &["sl"]),
        step("unsqueeze", Op::Unsqueeze, &["sl", "axes"], &["uq"]),
        step("squeeze", Op::Squeeze, &["uq", "axes"], &["sqz"]),
        step("flatten", Op::Flatten { axis: 2 }, &["x"], &["fl"]),
        step("reduce", Op::Reduce { kind: ReduceKind::Sum, keepdims: false, noop_with_empty_axes: true }, &["x", "axes"], &["rsum"]),
        step("mean", Op::Reduce { kind: ReduceKind::Mean, keepdims: true, noop_with_empty_axes: false }, &["x", "axes"], &["rmean"]),
        step("argmax", Op::ArgMax { axis: 1, keepdims: false, select_last_index: true }, &["x"], &["am"]),
        step("layer_norm", Op::LayerNormalization { axis: -1, epsilon: 1e-5 }, &["x", "zero", "zero"], &["ln"]),
        step("quantize", Op::QuantizeLinear { axis: 1, saturate: true }, &["x", "q_scale", "q_zero"], &["q"]),
        step("dequantize", Op::DequantizeLinear { axis: 0 }, &["q", "q_scale", "q_zero"], &["dq"]),
        step("matmul_int", Op::MatMulInteger, &["q", "int8_w", "q_zero"], &["mmi"]),
        step("matmul", Op::MatMul { activation: Activation::Identity }, &["fl", "fl"], &["mm"]),
        step("clip", Op::Clip, &["x", "", "zero"], &["cl"]),
        step("identity", Op::Identity, &["cl"], &["id"]),
        step("dropout", Op::Dropout, &["id"], &["dr"]),
        step("gap", Op::GlobalAveragePool, &["dr"], &["gap"]),
        step("gmp", Op::GlobalMaxPool, &["dr"], &["gmp"]),
        step("range", Op::Range, &["zero", "q_scale", "q_scale"], &["rng"]),
        step("expand", Op::Expand, &["rng", "shape"], &["ex"]),
        step("deconv", Op::ConvTranspose(deconv), &["x", "w"], &["dc"]),
        step("equal", Op::Compare(CompareOp::Equal), &["mask", "mask"], &["eq"]),
        step("half_sum", Op::Variadic(VariadicOp::Sum), &["half", "half", "half"], &["hsum"]),
        step("lrn", Op::Lrn(LrnAttrs { size: 4, alpha: 2e-4, beta: 0.5, bias: 2.0 }), &["x"], &["lrn"]),
    ];
    let output = |name: &str, dtype| ValueInfo { name: name.into(), dtype, shape: None };
    Graph {
        name: "many".into(),
        inputs: vec![ValueInfo {
            name: "x".into(),
            dtype: Some(DType::F32),
            shape: Some(vec![Dim::Symbol("batch".into()), Dim::Fixed(3), Dim::Symbol("?".into()), Dim::Fixed(8)]),
        }],
        outputs: vec![output("wh", Some(DType::F32)), output("gf", Some(DType::F32)), output("dq", None)],
        initializers: constants().into_iter().map(|(name, tensor)| (name.to_string(), tensor)).collect(),
        packed_weights: Default::default(),
        nodes,
        metadata: [("names".to_string(), "a,b".to_string())].into(),
    }
}
