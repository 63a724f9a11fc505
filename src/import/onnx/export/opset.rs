//! Which ONNX opset export writes: 17 unless an op's form or its input dtype needs a later one,
//! and the IR version that opset came with.

use crate::graph::{Graph, Node, Op};
use crate::ops::elementwise::UnaryOp;
use crate::ops::layout::PadMode;
use crate::ops::reduce::ReduceKind;
use crate::ops::resize::CoordinateMode;
use crate::ops::{Activation, PointwiseActivation};
use crate::tensor::{DType, HostTensor};

/// The opset export writes when no op needs a later one.
const BASE_OPSET: i64 = 17;

/// The opset `graph` is written in: the latest any of its nodes needs.
pub(super) fn required_opset(graph: &Graph) -> i64 {
    graph
        .nodes
        .iter()
        .map(|node| form_opset(node).max(dtype_opset(graph, node)))
        .max()
        .unwrap_or(BASE_OPSET)
}

/// The IR version released with `opset` (ONNX's version table: 1.13 to 1.23).
pub(super) fn ir_version(opset: i64) -> i64 {
    match opset {
        ..=18 => 8,
        19..=20 => 9,
        21..=22 => 10,
        23 => 11,
        24 => 12,
        25..=27 => 13,
        _ => 14,
    }
}

/// The first opset whose form of `node`'s op holds what kiln holds.
fn form_opset(node: &Node) -> i64 {
    let gelu = |activation: &Activation| *activation == Activation::Gelu;
    match &node.op {
        Op::Unary(UnaryOp::Activation(PointwiseActivation::Gelu)) => 20,
        Op::MatMul { activation } | Op::Gemm { activation, .. } if gelu(activation) => 20,
        Op::Conv(conv) | Op::QLinearConv(conv) if gelu(&conv.activation) => 20,
        Op::ConvTranspose(transpose) if gelu(&transpose.conv.activation) => 20,
        Op::Pad {
            mode: PadMode::Wrap,
        } => 19,
        Op::Resize(resize) if resize.coordinates == CoordinateMode::HalfPixelSymmetric => 19,
        Op::AveragePool(pool) | Op::QLinearAveragePool(pool)
            if pool.dilations.iter().any(|&dilation| dilation != 1) =>
        {
            19
        }
        Op::QuantizeLinear {
            saturate: false, ..
        } => 19,
        Op::Pad { .. } if node.input(3).is_some() => 18,
        Op::Split {
            num_outputs: Some(_),
            ..
        } => 18,
        Op::Resize(resize) if !resize.axes.is_empty() => 18,
        Op::Reduce {
            kind: ReduceKind::Mean | ReduceKind::Max,
            noop_with_empty_axes,
            ..
        } if node.input(1).is_some() || *noop_with_empty_axes => 18,
        _ => BASE_OPSET,
    }
}

/// The first opset whose type constraints admit `node`'s inputs, where their dtypes are known
/// (an initializer or a declared graph input).
fn dtype_opset(graph: &Graph, node: &Node) -> i64 {
    let dtype = |index: usize| node.input(index).and_then(|name| known_dtype(graph, name));
    match &node.op {
        Op::Range if dtype(0) == Some(DType::F16) => 27,
        Op::Reduce {
            kind: ReduceKind::Max,
            ..
        } if dtype(0) == Some(DType::Bool) => 20,
        Op::QuantizeLinear { .. } | Op::DequantizeLinear { .. }
            if dtype(0) == Some(DType::F16) || dtype(1) == Some(DType::F16) =>
        {
            19
        }
        _ => BASE_OPSET,
    }
}

fn known_dtype(graph: &Graph, name: &str) -> Option<DType> {
    graph
        .initializers
        .get(name)
        .map(HostTensor::dtype)
        .or_else(|| {
            graph
                .inputs
                .iter()
                .find(|input| input.name == name)
                .and_then(|input| input.dtype)
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::ValueInfo;
    use crate::tensor::TensorData;

    fn one_node_graph(op: Op, input_dtype: DType) -> Graph {
        Graph {
            inputs: vec![ValueInfo {
                name: "x".into(),
                dtype: Some(input_dtype),
                shape: None,
            }],
            nodes: vec![Node {
                name: "n".into(),
                op,
                inputs: vec![Some("x".into()), Some("x".into()), Some("x".into())],
                outputs: vec!["y".into()],
            }],
            ..Default::default()
        }
    }

    #[test]
    fn input_dtypes_added_after_17_raise_the_opset() {
        assert_eq!(required_opset(&one_node_graph(Op::Range, DType::F32)), 17);
        assert_eq!(required_opset(&one_node_graph(Op::Range, DType::F16)), 27);
        let reduce_max = Op::Reduce {
            kind: ReduceKind::Max,
            keepdims: true,
            noop_with_empty_axes: false,
        };
        assert_eq!(required_opset(&one_node_graph(reduce_max, DType::Bool)), 20);
        let mut half_scale = one_node_graph(Op::DequantizeLinear { axis: 1 }, DType::I8);
        let scale = HostTensor::new(&[], TensorData::F16(vec![half::f16::ONE])).unwrap();
        half_scale.initializers.insert("scale".into(), scale);
        half_scale.nodes[0].inputs[1] = Some("scale".into());
        assert_eq!(required_opset(&half_scale), 19);
    }

    #[test]
    fn ir_versions_follow_the_release_table() {
        let pairs: Vec<(i64, i64)> = [17, 18, 19, 20, 21, 23, 24, 25, 27, 28]
            .iter()
            .map(|&opset| (opset, ir_version(opset)))
            .collect();
        assert_eq!(
            pairs,
            [
                (17, 8),
                (18, 8),
                (19, 9),
                (20, 9),
                (21, 10),
                (23, 11),
                (24, 12),
                (25, 13),
                (27, 13),
                (28, 14)
            ]
        );
    }
}
