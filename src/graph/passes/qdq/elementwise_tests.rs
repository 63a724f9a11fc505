//! The lowering of Add/Mul, Concat and element-wise chains: what it lowers, the reasons it gives,
//! and the lowered graph against the unlowered float path: within one output step for
//! QLinearBinary and QLinearConcat (the bound derived in `crate::ops::quantized_elementwise`),
//! identical for LookupTable (exact by construction).

use super::*;
use crate::graph::passes::eliminate_dead_nodes;
use crate::graph::passes::testing::{activation, assert_same_outputs, f32_input, node, output};
use crate::graph::ValueInfo;
use crate::ops::elementwise::{BinaryOp, UnaryOp};
use crate::ops::PointwiseActivation;
use crate::tensor::TensorData;

/// One output step, in the quantized values the graphs output (module doc).
const ONE_STEP: f32 = 1.0;

fn scalar(value: f32) -> HostTensor {
    HostTensor::new(&[], TensorData::F32(vec![value])).unwrap()
}

fn zero(dtype: DType, value: i32) -> HostTensor {
    let data = match dtype {
        DType::I8 => TensorData::I8(vec![value as i8]),
        _ => TensorData::U8(vec![value as u8]),
    };
    HostTensor::new(&[], data).unwrap()
}

fn quantize() -> Op {
    Op::QuantizeLinear {
        axis: 1,
        saturate: true,
    }
}

fn dequantize() -> Op {
    Op::DequantizeLinear { axis: 1 }
}

/// A graph of `nodes` reading f32 `inputs`, outputting `y`, with `(name, scale, zero point)`
/// quantization initializers of `dtype` and `constants`.
fn graph(
    inputs: &[(&str, &[usize])],
    nodes: Vec<Node>,
    quantization: &[(&str, f32, i32)],
    dtype: DType,
    constants: &[(&str, f32)],
) -> Graph {
    let mut graph = Graph {
        inputs: inputs
            .iter()
            .map(|(name, shape)| f32_input(name, shape))
            .collect(),
        outputs: vec![output("y")],
        nodes,
        ..Graph::default()
    };
    for &(name, scale, zero_point) in quantization {
        (graph.initializers).insert(format!("{name}_s"), scalar(scale));
        (graph.initializers).insert(format!("{name}_z"), zero(dtype, zero_point));
    }
    for &(name, value) in constants {
        graph.initializers.insert(name.into(), scalar(value));
    }
    graph
}

/// `Q → DQ` of input `x` with the parameters named `x_s`, `x_z`, giving `x_f`.
fn quantized_input(x: &str) -> [Node; 2] {
    let (s, z) = (format!("{x}_s"), format!("{x}_z"));
    [
        node(
            &format!("q_{x}"),
            quantize(),
            &[x, &s, &z],
            &[&format!("{x}_q")],
        ),
        node(
            &format!("dq_{x}"),
            dequantize(),
            &[&format!("{x}_q"), &s, &z],
            &[&format!("{x}_f")],
        ),
    ]
}

/// Inputs covering every quantized level of `scale` (and beyond, to saturate) for each input.
fn sweep_inputs(graph: &Graph, scale: f32) -> Vec<(String, HostTensor)> {
    (graph.inputs.iter())
        .enumerate()
        .map(|(index, input)| {
            let shape: Vec<usize> = (input.shape.iter().flatten())
                .map(|dim| match dim {
                    crate::graph::Dim::Fixed(size) => *size,
                    crate::graph::Dim::Symbol(_) => 1,
                })
                .collect();
            let count: usize = shape.iter().product();
            let values = (0..count)
                .map(|i| ((i * 37 + index * 11) % 300) as f32 * scale - 150.0 * scale)
                .collect();
            let tensor = HostTensor::new(&shape, TensorData::F32(values)).unwrap();
            (input.name.clone(), tensor)
        })
        .collect()
}

/// Lowers `graph`, checks that `lowered` are the lowered nodes and that the result has `op`, and
/// compares with the float path within `tolerance` on `inputs`.
fn check_lowering(graph: &Graph, lowered: &[&str], op: &str, tolerance: f32, scale: f32) {
    let mut after = graph.clone();
    let report = lower_qdq_report(&mut after).unwrap();
    assert_eq!(report.lowered, lowered, "{:?}", report.kept_float);
    eliminate_dead_nodes(&mut after).unwrap();
    assert!(after.nodes.iter().any(|node| node.op.name() == op));
    let count = |wanted: fn(&Op) -> bool| after.nodes.iter().filter(|n| wanted(&n.op)).count();
    assert_eq!(count(|op| matches!(op, Op::DequantizeLinear { .. })), 0);
    let quantizers = count(|op| matches!(op, Op::QuantizeLinear { .. }));
    assert_eq!(quantizers, graph.inputs.len(), "only the inputs' Q remain");
    assert_same_outputs(graph, &after, &sweep_inputs(graph, scale), tolerance);
}

fn binary_graph(op: BinaryOp, dtype: DType, zero_points: [i32; 3], scales: [f32; 3]) -> Graph {
    let mut nodes = Vec::new();
    nodes.extend(quantized_input("a"));
    nodes.extend(quantized_input("b"));
    nodes.push(node("op", Op::Binary(op), &["a_f", "b_f"], &["sum"]));
    nodes.push(node("q_y", quantize(), &["sum", "y_s", "y_z"], &["y"]));
    let quantization = [
        ("a", scales[0], zero_points[0]),
        ("b", scales[1], zero_points[1]),
        ("y", scales[2], zero_points[2]),
    ];
    graph(
        &[("a", &[2, 3, 5]), ("b", &[3, 1])],
        nodes,
        &quantization,
        dtype,
        &[],
    )
}

#[test]
fn add_and_mul_lower_to_qlinear_binary_within_one_step() {
    for (dtype, zero_points) in [(DType::U8, [0, 128, 255]), (DType::I8, [-128, 0, 127])] {
        for rotation in [0, 1, 2] {
            let mut zps = zero_points;
            zps.rotate_left(rotation);
            let add = binary_graph(BinaryOp::Add, dtype, zps, [0.02, 0.03, 0.04]);
            check_lowering(&add, &["op"], "QLinearAdd", ONE_STEP, 0.02);
            let tiny = binary_graph(BinaryOp::Add, dtype, zps, [1e-6, 3e-6, 2e-6]);
            check_lowering(&tiny, &["op"], "QLinearAdd", ONE_STEP, 1e-6);
            let mul = binary_graph(BinaryOp::Mul, dtype, zps, [0.02, 0.5, 0.013]);
            check_lowering(&mul, &["op"], "QLinearMul", ONE_STEP, 0.02);
            let large = binary_graph(BinaryOp::Mul, dtype, zps, [1e2, 1e-2, 1e2]);
            check_lowering(&large, &["op"], "QLinearMul", ONE_STEP, 1e2);
        }
    }
}

#[test]
fn add_with_a_scale_ratio_beyond_the_bound_stays_float() {
    let mut graph = binary_graph(BinaryOp::Add, DType::U8, [128; 3], [1.0, 1.0, 1e-3]);
    let report = lower_qdq_report(&mut graph).unwrap();
    assert!(report.lowered.is_empty());
    assert_eq!(report.kept_float.len(), 1);
    assert!(
        report.kept_float[0].1.contains("sum to"),
        "{:?}",
        report.kept_float
    );
}

#[test]
fn concat_lowers_with_copies_and_requantized_inputs_within_one_step() {
    for (dtype, zero_points) in [(DType::U8, [0, 128, 255]), (DType::I8, [-128, 0, 127])] {
        let mut nodes = Vec::new();
        for x in ["a", "b", "c"] {
            nodes.extend(quantized_input(x));
        }
        let cat = Op::Concat { axis: -2 };
        nodes.push(node("cat", cat, &["a_f", "b_f", "c_f"], &["joined"]));
        nodes.push(node("q_y", quantize(), &["joined", "y_s", "y_z"], &["y"]));
        let quantization = [
            ("a", 0.05, zero_points[0]),
            ("b", 0.013, zero_points[1]),
            ("c", 0.05, zero_points[0]),
            ("y", 0.05, zero_points[0]),
        ];
        let inputs: [(&str, &[usize]); 3] =
            [("a", &[2, 1, 3]), ("b", &[2, 4, 3]), ("c", &[2, 2, 3])];
        let graph = graph(&inputs, nodes, &quantization, dtype, &[]);
        check_lowering(&graph, &["cat"], "QLinearConcat", ONE_STEP, 0.013);
    }
}

/// `x → Q → DQ → body → Q → y`: `body` reads `x_f` and writes `f`.
fn chain_graph(dtype: DType, body: Vec<Node>, constants: &[(&str, f32)]) -> Graph {
    let mut nodes = quantized_input("x").to_vec();
    nodes.extend(body);
    nodes.push(node("q_y", quantize(), &["f", "y_s", "y_z"], &["y"]));
    let (x_zero, y_zero) = if dtype == DType::I8 {
        (3, -128)
    } else {
        (128, 0)
    };
    let quantization = [("x", 0.03, x_zero), ("y", 0.01, y_zero)];
    graph(
        &[("x", &[2, 3, 67])],
        nodes,
        &quantization,
        dtype,
        constants,
    )
}

fn unary_body(op: Op) -> Vec<Node> {
    vec![node("last", op, &["x_f"], &["f"])]
}

#[test]
fn element_wise_chains_lower_to_exact_lookup_tables() {
    let act = activation;
    let mut bodies = [
        PointwiseActivation::Sigmoid,
        PointwiseActivation::Tanh,
        PointwiseActivation::LeakyRelu { alpha: 0.1 },
        PointwiseActivation::HardSigmoid {
            alpha: 0.2,
            beta: 0.5,
        },
        PointwiseActivation::HardSwish,
        PointwiseActivation::Relu,
        PointwiseActivation::Gelu,
    ]
    .map(|activation| (unary_body(act(activation)), vec![]))
    .to_vec();
    bodies.push((unary_body(Op::Unary(UnaryOp::Exp)), vec![]));
    let clip = node("last", Op::Clip, &["x_f", "low", "high"], &["f"]);
    bodies.push((vec![clip], vec![("low", -0.5), ("high", 0.75)]));
    let silu = vec![
        node("sig", act(PointwiseActivation::Sigmoid), &["x_f"], &["s"]),
        node("last", Op::Binary(BinaryOp::Mul), &["x_f", "s"], &["f"]),
    ];
    bodies.push((silu, vec![]));
    let hard_swish = vec![
        node(
            "shift",
            Op::Binary(BinaryOp::Add),
            &["x_f", "three"],
            &["t"],
        ),
        node("clip", Op::Clip, &["t", "zero", "six"], &["c"]),
        node("gate", Op::Binary(BinaryOp::Mul), &["x_f", "c"], &["g"]),
        node("last", Op::Binary(BinaryOp::Div), &["g", "six"], &["f"]),
    ];
    bodies.push((
        hard_swish,
        vec![("three", 3.0), ("zero", 0.0), ("six", 6.0)],
    ));
    for dtype in [DType::I8, DType::U8] {
        for (body, constants) in &bodies {
            let graph = chain_graph(dtype, body.clone(), constants);
            check_lowering(&graph, &["last"], "LookupTable", 0.0, 0.03);
        }
    }
}

#[test]
fn chains_that_are_not_one_dq_to_one_q_stay_float_with_reasons() {
    // Add(DQ(a), DQ(b)) → Relu → Q: two sources for a table, and the Add does not feed a Q.
    let mut nodes = Vec::new();
    nodes.extend(quantized_input("a"));
    nodes.extend(quantized_input("b"));
    nodes.push(node(
        "add",
        Op::Binary(BinaryOp::Add),
        &["a_f", "b_f"],
        &["sum"],
    ));
    let relu = activation(PointwiseActivation::Relu);
    nodes.push(node("relu", relu, &["sum"], &["f"]));
    nodes.push(node("q_y", quantize(), &["f", "y_s", "y_z"], &["y"]));
    let quantization = [("a", 0.1, 0), ("b", 0.1, 0), ("y", 0.1, 0)];
    let mut two = graph(
        &[("a", &[4]), ("b", &[4])],
        nodes,
        &quantization,
        DType::U8,
        &[],
    );
    let report = lower_qdq_report(&mut two).unwrap();
    assert!(report.lowered.is_empty());
    let reason = |name: &str| {
        (report.kept_float.iter())
            .find(|(node, _)| node == name)
            .map(|(_, reason)| reason.clone())
            .unwrap_or_default()
    };
    assert!(reason("add").contains("does not feed exactly one QuantizeLinear"));
    assert!(reason("relu").contains("several DequantizeLinear"));
    // Sigmoid's value is also a graph output: the chain cannot absorb it.
    let silu = vec![
        node(
            "sig",
            activation(PointwiseActivation::Sigmoid),
            &["x_f"],
            &["s"],
        ),
        node("last", Op::Binary(BinaryOp::Mul), &["x_f", "s"], &["f"]),
    ];
    let mut shared = chain_graph(DType::I8, silu, &[]);
    shared.outputs.push(ValueInfo {
        name: "s".into(),
        dtype: None,
        shape: None,
    });
    let report = lower_qdq_report(&mut shared).unwrap();
    assert!(report.lowered.is_empty());
    assert!(report.kept_float[0].1.contains("also read outside"));
}

#[test]
fn lowered_ops_round_trip_through_a_kiln_file() {
    use crate::format::{parse_kiln, to_kiln_bytes, Provenance};
    let mut lowered = binary_graph(BinaryOp::Mul, DType::I8, [0, 5, -7], [0.1, 0.2, 0.3]);
    let sigmoid = activation(PointwiseActivation::Sigmoid);
    lowered.nodes.extend([
        node("dq_y", dequantize(), &["y", "y_s", "y_z"], &["y_f"]),
        node("sig", sigmoid, &["y_f"], &["s"]),
        node("last", Op::Binary(BinaryOp::Mul), &["y_f", "s"], &["f"]),
    ]);
    lowered
        .nodes
        .push(node("q_out", quantize(), &["f", "y_s", "y_z"], &["out"]));
    lowered.outputs = vec![output("out")];
    lower_qdq(&mut lowered).unwrap();
    eliminate_dead_nodes(&mut lowered).unwrap();
    let ops: Vec<&str> = lowered.nodes.iter().map(|node| node.op.name()).collect();
    assert!(
        ops.contains(&"QLinearMul") && ops.contains(&"LookupTable"),
        "{ops:?}"
    );
    let bytes = to_kiln_bytes(&lowered, &Provenance::in_memory()).unwrap();
    assert_eq!(parse_kiln(&bytes).unwrap().graph.nodes, lowered.nodes);
}
