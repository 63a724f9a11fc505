//! Inference on small graphs built in code: one-node graphs per shape rule, a shape subgraph
//! resolved through known constants, and the input-binding errors.

use super::*;
use crate::graph::passes::testing::{conv3x3, f32_input, node};
use crate::graph::{
    AutoPad, ConvAttrs, ConvTransposeAttrs, Dim, PoolAttrs, ResizeAttrs, ValueInfo,
};
use crate::ops::elementwise::BinaryOp;
use crate::ops::layout::PadMode;
use crate::ops::resize::{CoordinateMode, ResizeMode};

/// One input slot of a one-node test graph.
enum Arg {
    /// A graph input of this f32 shape.
    Input(Vec<usize>),
    /// An initializer.
    Const(HostTensor),
    /// An omitted optional input.
    Absent,
}

fn ints(values: &[i64]) -> Arg {
    Arg::Const(HostTensor::from_i64(&[values.len()], values.to_vec()).unwrap())
}

fn floats(values: &[f32]) -> Arg {
    Arg::Const(HostTensor::from_f32(&[values.len()], values.to_vec()).unwrap())
}

fn zeros(shape: &[usize]) -> Arg {
    Arg::Const(HostTensor::zeros(shape, DType::F32).unwrap())
}

/// The output types of one `op` node over `args`, with `outputs` outputs.
fn infer_node(op: Op, args: Vec<Arg>, outputs: usize) -> Result<Vec<ValueType>> {
    let mut graph = Graph::default();
    let mut inputs = Vec::new();
    for (index, arg) in args.into_iter().enumerate() {
        let name = format!("arg{index}");
        match arg {
            Arg::Input(shape) => graph.inputs.push(f32_input(&name, &shape)),
            Arg::Const(tensor) => {
                graph.initializers.insert(name.clone(), tensor);
            }
            Arg::Absent => {
                inputs.push(None);
                continue;
            }
        }
        inputs.push(Some(name));
    }
    let output_names: Vec<String> = (0..outputs).map(|index| format!("out{index}")).collect();
    graph.nodes.push(Node {
        name: "n".into(),
        op,
        inputs,
        outputs: output_names.clone(),
    });
    let types = infer_types(&graph, &[])?;
    Ok(output_names
        .iter()
        .map(|name| types[name].clone())
        .collect())
}

fn shape_of(op: Op, args: Vec<Arg>) -> Vec<usize> {
    infer_node(op, args, 1).unwrap().remove(0).shape
}

#[test]
fn conv_pool_and_gemm_shapes() {
    let strided = ConvAttrs {
        strides: vec![2, 2],
        ..conv3x3()
    };
    let conv = Op::Conv(strided);
    let args = vec![
        Arg::Input(vec![1, 3, 8, 8]),
        zeros(&[4, 3, 3, 3]),
        zeros(&[4]),
    ];
    assert_eq!(shape_of(conv, args), [1, 4, 4, 4]);
    let same = Op::Conv(ConvAttrs {
        strides: vec![2, 2],
        pads: vec![0; 4],
        auto_pad: AutoPad::SameUpper,
        ..conv3x3()
    });
    let args = vec![
        Arg::Input(vec![1, 1, 5, 6]),
        zeros(&[2, 1, 3, 3]),
        Arg::Absent,
    ];
    assert_eq!(shape_of(same, args), [1, 2, 3, 3]);
    let pool = Op::MaxPool(PoolAttrs {
        kernel_shape: vec![2, 2],
        strides: vec![2, 2],
        pads: vec![0; 4],
        dilations: vec![1, 1],
        ceil_mode: true,
        count_include_pad: false,
        auto_pad: AutoPad::NotSet,
    });
    assert_eq!(
        shape_of(pool, vec![Arg::Input(vec![1, 4, 5, 5])]),
        [1, 4, 3, 3]
    );
    assert_eq!(
        shape_of(Op::GlobalAveragePool, vec![Arg::Input(vec![2, 4, 5, 5])]),
        [2, 4, 1, 1]
    );
    let gemm = Op::Gemm {
        alpha: 1.0,
        beta: 1.0,
        trans_a: false,
        trans_b: true,
        activation: crate::ops::Activation::Identity,
    };
    let args = vec![Arg::Input(vec![2, 16]), zeros(&[10, 16]), zeros(&[10])];
    assert_eq!(shape_of(gemm, args), [2, 10]);
}

#[test]
fn conv_transpose_shapes_from_pads_or_output_shape() {
    let transposed = |pads: Vec<usize>, output_shape: Vec<usize>| {
        Op::ConvTranspose(ConvTransposeAttrs {
            conv: ConvAttrs {
                strides: vec![2, 2],
                pads,
                ..conv3x3()
            },
            output_padding: vec![1, 1],
            output_shape,
        })
    };
    let args = || vec![Arg::Input(vec![1, 2, 3, 3]), zeros(&[2, 4, 3, 3])];
    // 2·(3 − 1) + 1 + (3 − 1) + 1 = 8 before cropping one row and column on each side.
    assert_eq!(
        shape_of(transposed(vec![1; 4], vec![]), args()),
        [1, 4, 6, 6]
    );
    assert_eq!(
        shape_of(transposed(vec![0; 4], vec![7, 5]), args()),
        [1, 4, 7, 5]
    );
    assert_eq!(
        shape_of(transposed(vec![0; 4], vec![1, 4, 6, 6]), args()),
        [1, 4, 6, 6]
    );
    // An output_shape beyond the full 8 makes the padding negative, which ONNX allows.
    assert_eq!(
        shape_of(transposed(vec![0; 4], vec![9, 10]), args()),
        [1, 4, 9, 10]
    );
    // No strides, dilations, pads or output_padding: ONNX's defaults, 3 + 3 − 1 = 5.
    let defaults = Op::ConvTranspose(ConvTransposeAttrs {
        conv: ConvAttrs {
            kernel_shape: vec![],
            strides: vec![],
            pads: vec![],
            dilations: vec![],
            ..conv3x3()
        },
        output_padding: vec![],
        output_shape: vec![],
    });
    assert_eq!(shape_of(defaults, args()), [1, 4, 5, 5]);
}

#[test]
fn matmul_follows_numpy() {
    let matmul = || Op::MatMul {
        activation: crate::ops::Activation::Identity,
    };
    let shape = |a: &[usize], b: &[usize]| {
        shape_of(
            matmul(),
            vec![Arg::Input(a.to_vec()), Arg::Input(b.to_vec())],
        )
    };
    assert_eq!(shape(&[2, 1, 3, 4], &[5, 4, 6]), [2, 5, 3, 6]);
    assert_eq!(shape(&[4], &[2, 4, 6]), [2, 6]);
    assert_eq!(shape(&[3, 4], &[4]), [3]);
    let mismatch = vec![Arg::Input(vec![3, 4]), Arg::Input(vec![5, 6])];
    assert!(infer_node(matmul(), mismatch, 1).is_err());
}

#[test]
fn layout_shapes_from_constant_arguments() {
    let x = || Arg::Input(vec![2, 3, 4]);
    let reshape = Op::Reshape { allowzero: false };
    assert_eq!(shape_of(reshape, vec![x(), ints(&[0, -1])]), [2, 12]);
    assert_eq!(
        shape_of(Op::Squeeze, vec![Arg::Input(vec![2, 1, 4]), ints(&[1])]),
        [2, 4]
    );
    assert_eq!(shape_of(Op::Squeeze, vec![Arg::Input(vec![1, 3, 1])]), [3]);
    assert_eq!(
        shape_of(Op::Unsqueeze, vec![x(), ints(&[0, -1])]),
        [1, 2, 3, 4, 1]
    );
    let concat = Op::Concat { axis: -1 };
    assert_eq!(
        shape_of(concat, vec![x(), Arg::Input(vec![2, 3, 5])]),
        [2, 3, 9]
    );
    let add = Op::Binary(BinaryOp::Add);
    assert_eq!(
        shape_of(add, vec![Arg::Input(vec![2, 1, 4]), Arg::Input(vec![3, 1])]),
        [2, 3, 4]
    );
    let slice = vec![
        x(),
        ints(&[1, -1]),
        ints(&[3, 0]),
        ints(&[1, 2]),
        ints(&[1, -2]),
    ];
    assert_eq!(shape_of(Op::Slice, slice), [2, 2, 2]);
    let pad = Op::Pad {
        mode: PadMode::Constant(0.0),
    };
    assert_eq!(
        shape_of(pad, vec![x(), ints(&[1, 2]), Arg::Absent, ints(&[-1])]),
        [2, 3, 7]
    );
    assert_eq!(
        shape_of(Op::Expand, vec![Arg::Input(vec![3, 1]), ints(&[2, 1, 5])]),
        [2, 3, 5]
    );
    let gather = Op::Gather { axis: 1 };
    let indices = Arg::Const(HostTensor::from_i64(&[2, 2], vec![0, 1, 2, 0]).unwrap());
    assert_eq!(shape_of(gather, vec![x(), indices]), [2, 2, 2, 4]);
    let transpose = Op::Transpose {
        perm: Some(vec![2, 0, 1]),
    };
    assert_eq!(shape_of(transpose, vec![x()]), [4, 2, 3]);
    let split = Op::Split {
        axis: 2,
        num_outputs: Some(3),
    };
    let parts = infer_node(split, vec![Arg::Input(vec![1, 2, 7])], 3).unwrap();
    let extents: Vec<usize> = parts.iter().map(|part| part.shape[2]).collect();
    assert_eq!(extents, [3, 3, 1]);
}

#[test]
fn resize_range_and_constant_of_shape() {
    let resize = || {
        Op::Resize(ResizeAttrs {
            mode: ResizeMode::Linear,
            coordinates: CoordinateMode::HalfPixel,
            axes: vec![],
        })
    };
    let x = || Arg::Input(vec![1, 3, 10, 10]);
    let by_scales = vec![x(), Arg::Absent, floats(&[1.0, 1.0, 0.7, 2.0])];
    assert_eq!(shape_of(resize(), by_scales), [1, 3, 7, 20]);
    let by_sizes = vec![x(), Arg::Absent, floats(&[]), ints(&[1, 3, 4, 5])];
    assert_eq!(shape_of(resize(), by_sizes), [1, 3, 4, 5]);
    let scalar = |value: i64| Arg::Const(HostTensor::from_i64(&[], vec![value]).unwrap());
    let range = infer_node(Op::Range, vec![scalar(10), scalar(1), scalar(-4)], 1).unwrap();
    assert_eq!(range[0], ValueType::new(DType::I64, vec![3]));
    let fill = HostTensor::new(&[1], crate::tensor::TensorData::Bool(vec![true])).unwrap();
    let op = Op::ConstantOfShape { value: fill };
    let filled = infer_node(op, vec![ints(&[2, 5])], 1).unwrap();
    assert_eq!(filled[0], ValueType::new(DType::Bool, vec![2, 5]));
}

/// `x: [batch, 3, 4, 4]` reshaped to `[batch, -1]` by a target built from its own shape.
fn flatten_by_shape_subgraph() -> Graph {
    let mut graph = Graph {
        inputs: vec![ValueInfo {
            name: "x".into(),
            dtype: Some(DType::F32),
            shape: Some(vec![
                Dim::Symbol("batch".into()),
                Dim::Fixed(3),
                Dim::Fixed(4),
                Dim::Fixed(4),
            ]),
        }],
        outputs: vec![ValueInfo {
            name: "y".into(),
            dtype: Some(DType::F32),
            shape: None,
        }],
        nodes: vec![
            node(
                "shape",
                Op::Shape {
                    start: 0,
                    end: None,
                },
                &["x"],
                &["dims"],
            ),
            node(
                "gather",
                Op::Gather { axis: 0 },
                &["dims", "zero"],
                &["batch"],
            ),
            node("unsqueeze", Op::Unsqueeze, &["batch", "axes"], &["batch1"]),
            node(
                "concat",
                Op::Concat { axis: 0 },
                &["batch1", "minus_one"],
                &["target"],
            ),
            node(
                "reshape",
                Op::Reshape { allowzero: false },
                &["x", "target"],
                &["y"],
            ),
        ],
        ..Graph::default()
    };
    for (name, shape, values) in [
        ("zero", vec![], vec![0]),
        ("axes", vec![1], vec![0]),
        ("minus_one", vec![1], vec![-1]),
    ] {
        let tensor = HostTensor::from_i64(&shape, values).unwrap();
        graph.initializers.insert(name.into(), tensor);
    }
    graph
}

#[test]
fn a_shape_subgraph_resolves_through_known_values() {
    let graph = flatten_by_shape_subgraph();
    let types = infer_types(&graph, &[("x".into(), vec![5, 3, 4, 4])]).unwrap();
    assert_eq!(types["dims"], ValueType::new(DType::I64, vec![4]));
    assert_eq!(types["batch"], ValueType::new(DType::I64, vec![]));
    assert_eq!(types["target"].shape, [2]);
    assert_eq!(types["y"], ValueType::new(DType::F32, vec![5, 48]));
}

#[test]
fn a_shape_from_run_time_data_is_unsupported() {
    let mut graph = flatten_by_shape_subgraph();
    graph.inputs.push(ValueInfo {
        name: "target_in".into(),
        dtype: Some(DType::I64),
        shape: Some(vec![Dim::Fixed(2)]),
    });
    graph.nodes[4].inputs[1] = Some("target_in".into());
    let error = infer_types(&graph, &[("x".into(), vec![1, 3, 4, 4])]).unwrap_err();
    assert!(matches!(error, Error::Unsupported { .. }), "{error}");
    assert!(
        error.to_string().contains("node 'reshape' (Reshape)"),
        "{error}"
    );
}

#[test]
fn errors_name_the_node() {
    let reshape = Op::Reshape { allowzero: false };
    let error = infer_node(reshape, vec![Arg::Input(vec![2, 3]), ints(&[4, -1])], 1).unwrap_err();
    assert!(error.to_string().contains("node 'n' (Reshape)"), "{error}");
    let conv = Op::Conv(conv3x3());
    let error = infer_node(
        conv,
        vec![Arg::Input(vec![1, 3, 8, 8]), zeros(&[4, 2, 3, 3])],
        1,
    )
    .unwrap_err();
    assert!(error.to_string().contains("node 'n' (Conv)"), "{error}");
}

#[test]
fn bad_input_shapes_are_rejected() {
    let graph = flatten_by_shape_subgraph();
    let error = infer_types(&graph, &[("x".into(), vec![5, 4, 4, 4])]).unwrap_err();
    assert!(
        error.to_string().contains("declares [batch, 3, 4, 4]"),
        "{error}"
    );
    let mut two_inputs = graph.clone();
    let mut second = two_inputs.inputs[0].clone();
    second.name = "x2".into();
    two_inputs.inputs.push(second);
    let shapes = vec![
        ("x".into(), vec![5, 3, 4, 4]),
        ("x2".into(), vec![6, 3, 4, 4]),
    ];
    let error = infer_types(&two_inputs, &shapes).unwrap_err();
    assert!(error.to_string().contains("symbol 'batch'"), "{error}");
}
