//! QDQ export of packed weights: Q8 per tensor and per channel, int8 and uint8, and Q4 at opset
//! 21 become integer initializers and `DequantizeLinear` nodes; kiln re-imports the file and
//! gets the outputs of the packed graph; a pinned opset below 21 writes Q4 dense; BSR and N:M
//! are always dense.

use super::sample_graph::conv_attrs;
use super::{to_onnx_bytes, to_onnx_bytes_with, ExportOptions};
use crate::error::Error;
use crate::graph::packing::{pack_weight, unpack_weights, Packing};
use crate::graph::{Dim, Graph, Node, Op, ValueInfo};
use crate::import::onnx::parse_onnx;
use crate::import::onnx::proto::{data_type, ModelProto};
use crate::ops::Activation;
use crate::runtime::cpu::run_graph;
use crate::tensor::nm_sparse::NmPattern;
use crate::tensor::{DType, HostTensor, Q4GroupSize, Q8Scheme};
use prost::Message;

/// `K` of the MatMul/Gemm weights and their `N`: neither a multiple of the Q4 group (32).
const K: usize = 200;
const N: usize = 24;
/// The conv weight `[16, 5, 3, 3]`: `K = 45`, one full group of 32 and a partial one.
const CONV_SHAPE: [usize; 4] = [16, 5, 3, 3];

/// Values in about [-1, 1.1], the range growing by 5% every 200 elements (every row of a Gemm
/// weight), so that per-channel scales differ.
fn values(count: usize, seed: usize) -> Vec<f32> {
    (0..count)
        .map(|i| {
            let base = ((i * 37 + seed * 11) % 101) as f32 / 50.0 - 1.0 + seed as f32 * 0.01;
            base * (1.0 + (i / K) as f32 * 0.05)
        })
        .collect()
}

fn step(name: &str, op: Op, inputs: &[&str]) -> Node {
    Node {
        name: name.into(),
        op,
        inputs: inputs.iter().map(|input| Some(input.to_string())).collect(),
        outputs: vec![name.into()],
    }
}

fn declared(name: &str, shape: &[usize]) -> ValueInfo {
    ValueInfo {
        name: name.into(),
        dtype: Some(DType::F32),
        shape: Some(shape.iter().map(|&extent| Dim::Fixed(extent)).collect()),
    }
}

/// Every weight to pack and how: one reader each.
fn packings() -> Vec<(&'static str, Packing)> {
    let q8 = |per_channel, scheme, unsigned| Packing::Q8 {
        per_channel,
        scheme,
        unsigned,
    };
    vec![
        ("w_mm_q8", q8(false, Q8Scheme::Symmetric, false)),
        ("w_gemm_q8u", q8(true, Q8Scheme::Asymmetric, true)),
        ("w_gemm_q8", q8(true, Q8Scheme::Asymmetric, false)),
        ("w_mm_q8u", q8(false, Q8Scheme::Asymmetric, true)),
        (
            "w_mm_q4",
            Packing::Q4 {
                group_size: Q4GroupSize::G32,
                symmetric: false,
            },
        ),
        (
            "w_conv_q4",
            Packing::Q4 {
                group_size: Q4GroupSize::G32,
                symmetric: true,
            },
        ),
        (
            "w_gemm_nm",
            Packing::NmSparse {
                pattern: NmPattern::TWO_FOUR,
            },
        ),
    ]
}

/// MatMuls (`B` = `[K, N]`, stored `Wᵀ`), Gemms with `transB` and a Conv, each reading one
/// dense f32 weight.
fn dense_graph() -> Graph {
    let gemm = Op::Gemm {
        alpha: 1.0,
        beta: 1.0,
        trans_a: false,
        trans_b: true,
        activation: Activation::Identity,
    };
    let matmul = Op::MatMul {
        activation: Activation::Identity,
    };
    let mut graph = Graph {
        name: "qdq".into(),
        inputs: vec![declared("x", &[3, K]), declared("image", &[1, 5, 7, 6])],
        ..Graph::default()
    };
    for (index, (name, _)) in packings().into_iter().enumerate() {
        let output = format!("y_{name}");
        let (node, shape) = if name.starts_with("w_mm") {
            (step(&output, matmul.clone(), &["x", name]), vec![K, N])
        } else if name.starts_with("w_gemm") {
            (step(&output, gemm.clone(), &["x", name]), vec![N, K])
        } else {
            let conv = Op::Conv(conv_attrs(Activation::Identity));
            (step(&output, conv, &["image", name]), CONV_SHAPE.to_vec())
        };
        let count = shape.iter().product();
        let tensor = HostTensor::from_f32(&shape, values(count, index)).unwrap();
        graph.initializers.insert(name.into(), tensor);
        graph.nodes.push(node);
        graph.outputs.push(ValueInfo {
            name: output,
            dtype: None,
            shape: None,
        });
    }
    graph
}

fn packed_graph() -> Graph {
    let mut graph = dense_graph();
    for (name, packing) in packings() {
        pack_weight(&mut graph, name, &packing).unwrap();
    }
    graph
}

fn inputs() -> Vec<(String, HostTensor)> {
    let x = HostTensor::from_f32(&[3, K], values(3 * K, 40)).unwrap();
    let image = HostTensor::from_f32(&[1, 5, 7, 6], values(210, 41)).unwrap();
    vec![("x".into(), x), ("image".into(), image)]
}

fn initializer<'m>(
    model: &'m ModelProto,
    name: &str,
) -> &'m crate::import::onnx::proto::TensorProto {
    let graph = model.graph.as_ref().unwrap();
    graph
        .initializer
        .iter()
        .find(|tensor| tensor.name == name)
        .unwrap_or_else(|| panic!("no initializer '{name}'"))
}

#[test]
fn packed_weights_export_as_integer_initializers_and_dequantize_nodes() {
    let bytes = to_onnx_bytes(&packed_graph()).unwrap();
    let model = ModelProto::decode(&bytes[..]).unwrap();
    assert_eq!(model.opset_import[0].version, 21, "int4 needs opset 21");
    let expected = [
        ("w_mm_q8", data_type::INT8, K * N),
        ("w_gemm_q8u", data_type::UINT8, K * N),
        ("w_gemm_q8", data_type::INT8, K * N),
        ("w_mm_q8u", data_type::UINT8, K * N),
        ("w_mm_q4", data_type::UINT4, (K * N).div_ceil(2)),
        (
            "w_conv_q4",
            data_type::INT4,
            (CONV_SHAPE.iter().product::<usize>()).div_ceil(2),
        ),
    ];
    for (name, code, bytes) in expected {
        let quantized = initializer(&model, &format!("{name}::quantized"));
        assert_eq!(quantized.data_type, code, "{name}");
        assert_eq!(quantized.raw_data.as_ref().unwrap().len(), bytes, "{name}");
    }
    let nm = initializer(&model, "w_gemm_nm");
    assert_eq!(
        nm.data_type,
        data_type::FLOAT,
        "N:M has no ONNX layout: dense"
    );
    let graph = model.graph.as_ref().unwrap();
    let dequantize_count = (graph.node.iter())
        .filter(|node| node.op_type == "DequantizeLinear")
        .count();
    assert_eq!(dequantize_count, 6);
    let per_tensor_scale = initializer(&model, "w_mm_q8::scale");
    assert!(per_tensor_scale.dims.is_empty(), "one scale for the tensor");
    assert_eq!(initializer(&model, "w_gemm_q8::scale").dims, [N as i64]);
    assert_eq!(
        initializer(&model, "w_mm_q4::scale").dims,
        [K.div_ceil(32) as i64, N as i64]
    );
}

#[test]
fn the_export_is_about_as_small_as_the_packed_weights() {
    let packed = packed_graph();
    let mut dense = packed.clone();
    unpack_weights(&mut dense).unwrap();
    let qdq_bytes = to_onnx_bytes(&packed).unwrap().len();
    let dense_bytes = to_onnx_bytes(&dense).unwrap().len();
    // Dense: six [200, 24] weights and the [16, 45] conv as f32 = 6·19200 + 2880 = 118080 B.
    // QDQ: four Q8 of 4800 B (+ at most 24 f32 scales and 24 zero points), the MatMul Q4 as
    // 2400 B of uint4 + 7·24 f32 scales + 84 B of uint4 zero points, the conv Q4 as 360 B of int4
    // + 16·2 f32 scales, the N:M weight dense (19200 B): 42908 B = 0.363; names, nodes and the
    // graph's declarations add about 1% of the dense size.
    let ratio = qdq_bytes as f64 / dense_bytes as f64;
    assert!(ratio < 0.38, "QDQ export is {ratio:.3} of the dense export");
}

/// kiln's re-import of its own export computes exactly what the packed graph does on the CPU
/// reference: the dequantized values are the same f32 (one rounding of an exact product) and
/// they meet the same kernels as the packed graph's dense weights.
#[test]
fn kiln_reimports_its_qdq_export_with_the_packed_graphs_outputs() {
    let packed = packed_graph();
    let mut dense = packed.clone();
    unpack_weights(&mut dense).unwrap();
    let reimported = parse_onnx(&to_onnx_bytes(&packed).unwrap(), None).unwrap();
    assert!(reimported.packed_weights.is_empty());
    let expected = run_graph(&dense, &inputs()).unwrap();
    assert_eq!(run_graph(&reimported, &inputs()).unwrap(), expected);
    let packed_outputs = run_graph(&packed, &inputs()).unwrap();
    for ((name, from_packed), (_, from_dense)) in packed_outputs.iter().zip(&expected) {
        let (a, b) = (from_packed.as_f32().unwrap(), from_dense.as_f32().unwrap());
        // The packed kernels may sum the K ≤ 200 products in another order: at most
        // K·u·Σ|x·w| apart, with u = 2⁻²⁴ and Σ|x·w| ≤ K·max|x|·max|w| ≤ 200·1.1·2.4 ≈ 530
        // (inputs within [-1, 1.1], weights grown by up to 2.15×), so 200·530·6e-8 ≈ 6.4e-3.
        const TOLERANCE: f32 = 6.4e-3;
        for (index, (x, y)) in a.iter().zip(b).enumerate() {
            assert!((x - y).abs() <= TOLERANCE, "{name}[{index}]: {x} vs {y}");
        }
    }
}

#[test]
fn below_opset_21_q4_weights_are_written_dense() {
    let packed = packed_graph();
    let options = ExportOptions { opset: Some(17) };
    let bytes = to_onnx_bytes_with(&packed, &options).unwrap();
    let model = ModelProto::decode(&bytes[..]).unwrap();
    assert_eq!(model.opset_import[0].version, 17);
    for name in ["w_mm_q4", "w_conv_q4"] {
        assert_eq!(initializer(&model, name).data_type, data_type::FLOAT);
    }
    assert_eq!(
        initializer(&model, "w_mm_q8::quantized").data_type,
        data_type::INT8
    );
    let mut dense = packed.clone();
    unpack_weights(&mut dense).unwrap();
    let reimported = parse_onnx(&bytes, None).unwrap();
    assert_eq!(
        run_graph(&reimported, &inputs()).unwrap(),
        run_graph(&dense, &inputs()).unwrap()
    );
}

#[test]
fn a_pinned_opset_below_what_the_nodes_need_or_beyond_kilns_is_an_error() {
    let mut graph = packed_graph();
    graph.nodes[0].op = Op::MatMul {
        activation: Activation::Gelu,
    };
    let options = ExportOptions { opset: Some(19) };
    let error = to_onnx_bytes_with(&graph, &options).unwrap_err();
    assert!(matches!(error, Error::Unsupported { .. }), "{error}");
    assert!(error.to_string().contains("opset 20"), "{error}");
    let options = ExportOptions { opset: Some(99) };
    let error = to_onnx_bytes_with(&graph, &options).unwrap_err();
    assert!(error.to_string().contains("up to 28"), "{error}");
}
