//! The standard-ONNX form of the integer element-wise ops, re-imported by kiln and run on the CPU
//! against the ops themselves: LookupTable's `Cast → Add → Gather` gives the same bytes, the
//! `DQ → Add/Mul/Concat → Q` forms are the float path, within one output step of the integer ops
//! (the bound derived in `crate::ops::quantized_elementwise`).

use super::to_onnx_bytes;
use crate::check::SeededRng;
use crate::graph::registry::onnx_op;
use crate::graph::{Dim, Graph, Node, Op, ValueInfo};
use crate::import::onnx::parse_onnx;
use crate::import::onnx::proto::ModelProto;
use crate::ops::quantized_elementwise::QLinearBinaryOp;
use crate::runtime::cpu::run_graph;
use crate::tensor::{DType, HostTensor, TensorData};
use prost::Message;

/// One output step of the quantized outputs.
const ONE_STEP: i64 = 1;

fn input(name: &str, dtype: DType, shape: &[usize]) -> ValueInfo {
    ValueInfo {
        name: name.into(),
        dtype: Some(dtype),
        shape: Some(shape.iter().map(|&size| Dim::Fixed(size)).collect()),
    }
}

fn node(name: &str, op: Op, inputs: &[&str], output: &str) -> Node {
    Node {
        name: name.into(),
        op,
        inputs: inputs.iter().map(|input| Some(input.to_string())).collect(),
        outputs: vec![output.into()],
    }
}

fn int8(shape: &[usize], values: Vec<i32>) -> HostTensor {
    let data = TensorData::I8(values.into_iter().map(|v| v as i8).collect());
    HostTensor::new(shape, data).unwrap()
}

/// `a` (i8 [2, 5]) and `b` (i8 [5]) through QLinearAdd, QLinearMul, QLinearConcat and a
/// LookupTable; `c` (u8, every value) through a LookupTable.
fn lowered_graph() -> Graph {
    let mut rng = SeededRng::new(3);
    let scalar = |value: f32| HostTensor::new(&[], TensorData::F32(vec![value])).unwrap();
    let mut graph = Graph {
        inputs: vec![
            input("a", DType::I8, &[2, 5]),
            input("b", DType::I8, &[5]),
            input("c", DType::U8, &[256]),
        ],
        outputs: ["sum", "product", "joined", "looked_up", "looked_up_u8"]
            .map(|name| ValueInfo {
                name: name.into(),
                dtype: None,
                shape: None,
            })
            .to_vec(),
        ..Graph::default()
    };
    let add = Op::QLinearBinary {
        op: QLinearBinaryOp::Add,
    };
    let mul = Op::QLinearBinary {
        op: QLinearBinaryOp::Mul,
    };
    let binary = ["a", "sa", "za", "b", "sb", "zb", "sy", "zy"];
    let concat = ["sy", "zy", "a", "sa", "za", "sum", "sy", "zy"];
    let table = |x_dtype| Op::LookupTable { x_dtype };
    graph.nodes = vec![
        node("add", add, &binary, "sum"),
        node("mul", mul, &binary, "product"),
        node("cat", Op::QLinearConcat { axis: 0 }, &concat, "joined"),
        node("lut", table(DType::I8), &["a", "table"], "looked_up"),
        node("lut_u8", table(DType::U8), &["c", "table"], "looked_up_u8"),
    ];
    let tensors = [
        ("sa", scalar(0.05)),
        ("za", int8(&[], vec![-3])),
        ("sb", scalar(0.02)),
        ("zb", int8(&[], vec![127])),
        ("sy", scalar(0.03)),
        ("zy", int8(&[], vec![-128])),
        ("table", int8(&[256], rng.int_vec(256, -128, 127))),
    ];
    graph
        .initializers
        .extend(tensors.map(|(name, tensor)| (name.to_string(), tensor)));
    graph
}

#[test]
fn the_standard_form_runs_as_the_integer_ops() {
    let graph = lowered_graph();
    let bytes = to_onnx_bytes(&graph).unwrap();
    let model = ModelProto::decode(&bytes[..]).unwrap();
    let written: Vec<String> = (model.graph.unwrap().node.iter())
        .map(|node| node.op_type.clone())
        .collect();
    assert!(
        written.iter().all(|op_type| onnx_op(op_type).is_some()),
        "{written:?}"
    );
    let reimported = parse_onnx(&bytes, None).unwrap();
    let all_levels = (-128..128).cycle().skip(5);
    let inputs = vec![
        (
            "a".to_string(),
            int8(&[2, 5], all_levels.clone().step_by(23).take(10).collect()),
        ),
        (
            "b".to_string(),
            int8(&[5], all_levels.step_by(51).take(5).collect()),
        ),
        (
            "c".to_string(),
            HostTensor::new(&[256], TensorData::U8((0..=255).collect())).unwrap(),
        ),
    ];
    let integer = run_graph(&graph, &inputs).unwrap();
    let standard = run_graph(&reimported, &inputs).unwrap();
    for ((name, want), (_, got)) in integer.iter().zip(&standard) {
        assert_eq!(
            (want.shape(), want.dtype()),
            (got.shape(), got.dtype()),
            "{name}"
        );
        let (want, got) = (
            want.to_i64_vec("test").unwrap(),
            got.to_i64_vec("test").unwrap(),
        );
        let allowed = if name.starts_with("looked_up") {
            0
        } else {
            ONE_STEP
        };
        for (w, g) in want.iter().zip(&got) {
            assert!((w - g).abs() <= allowed, "{name}: {w} vs {g}");
        }
    }
}
