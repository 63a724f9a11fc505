//! Graphs whose MatMul / Gemm / Conv weights are packed (Q8, Q4, BSR, N:M) run by a Plan: the CPU
//! reference backend computes exactly what the graph with the weights unpacked computes, and the
//! GPU (the weight kernels for MatMul and Gemm, the int8 implicit GEMM for Q8 Convs, the im2col
//! path around the weight kernels for other one-group Convs, the dense fallback for other grouped
//! Convs) agrees with it within the accumulation bound. Also YOLOv3-tiny with every convolution
//! weight packed (2:4, Q8, Q4), with its device weight bytes.

use kiln::check::compare;
use kiln::graph::packing::{pack_weight, pack_weights, unpack_weights, Packing};
use kiln::graph::{AutoPad, ConvAttrs, Graph, Op};
use kiln::ops::Activation;
use kiln::runtime::cpu::run_graph;
use kiln::runtime::gpu::packed::upload_packed;
use kiln::runtime::{Backend, Plan};
use kiln::tensor::bsr::BlockShape;
use kiln::tensor::nm_sparse::NmPattern;
use kiln::tensor::{DType, HostTensor, Q4GroupSize, Q8Scheme};
use kiln::Error;

use super::builder::{conv, random_input, Builder};
use super::{max_abs, yolo, UNIT_ROUNDOFF, YOLO_RELATIVE_TOLERANCE};
use crate::common::gpu;

/// The reduction lengths of the small graphs: 70 (MatMul, Gemm) and 5·3·3 = 45 (Conv), none a
/// multiple of a Q4 group, a BSR block or an N:M group.
const K: usize = 70;

/// A small graph around weight `w`, its inputs, and its reduction length.
struct Case {
    label: &'static str,
    graph: Graph,
    inputs: Vec<(String, HostTensor)>,
    k: usize,
}

fn cases() -> Vec<Case> {
    let mut matmul = Builder::new(1);
    matmul
        .input("x", DType::F32, &[2, 5, K])
        .weight("w", &[K, 13], 1.0)
        .node(
            "mm",
            Op::MatMul {
                activation: Activation::Relu,
            },
            &["x", "w"],
            &["y"],
        )
        .output("y");
    let mut gemm = Builder::new(2);
    let gemm_op = Op::Gemm {
        alpha: 1.0,
        beta: 1.0,
        trans_a: false,
        trans_b: true,
        activation: Activation::Identity,
    };
    gemm.input("a", DType::F32, &[7, K])
        .weight("w", &[13, K], 1.0)
        .weight("c", &[13], 1.0)
        .node("fc", gemm_op, &["a", "w", "c"], &["y"])
        .output("y");
    let mut convolution = Builder::new(3);
    convolution
        .input("image", DType::F32, &[1, 5, 9, 11])
        .weight("w", &[6, 5, 3, 3], 1.0)
        .weight("b", &[6], 1.0)
        .node(
            "conv",
            conv(3, 1, 1, AutoPad::NotSet),
            &["image", "w", "b"],
            &["y"],
        )
        .output("y");
    let mut strided = Builder::new(4);
    let strided_op = Op::Conv(ConvAttrs {
        kernel_shape: vec![3, 2],
        strides: vec![2, 1],
        pads: vec![1, 0, 0, 1],
        dilations: vec![1, 2],
        group: 1,
        auto_pad: AutoPad::NotSet,
        activation: Activation::LeakyRelu { alpha: 0.1 },
    });
    strided
        .input("image", DType::F32, &[2, 4, 10, 9])
        .weight("w", &[7, 4, 3, 2], 1.0)
        .weight("b", &[7], 1.0)
        .node("conv", strided_op, &["image", "w", "b"], &["y"])
        .output("y");
    let mut grouped = Builder::new(5);
    grouped
        .input("image", DType::F32, &[1, 6, 7, 8])
        .weight("w", &[4, 3, 3, 3], 1.0)
        .node(
            "conv",
            conv(3, 1, 2, AutoPad::NotSet),
            &["image", "w"],
            &["y"],
        )
        .output("y");
    let input = |name: &str, shape: &[usize]| vec![(name.to_string(), random_input(9, shape))];
    vec![
        Case {
            label: "MatMul",
            graph: matmul.graph,
            inputs: input("x", &[2, 5, K]),
            k: K,
        },
        Case {
            label: "Gemm",
            graph: gemm.graph,
            inputs: input("a", &[7, K]),
            k: K,
        },
        Case {
            label: "Conv",
            graph: convolution.graph,
            inputs: input("image", &[1, 5, 9, 11]),
            k: 45,
        },
        Case {
            label: "Conv strided, padded, dilated, 3×2",
            graph: strided.graph,
            inputs: input("image", &[2, 4, 10, 9]),
            k: 24,
        },
        Case {
            label: "Conv of 2 groups (Q8, Q4 in place; BSR, N:M dense)",
            graph: grouped.graph,
            inputs: input("image", &[1, 6, 7, 8]),
            k: 27,
        },
    ]
}

fn layouts() -> [Packing; 6] {
    [
        Packing::Q8 {
            per_channel: true,
            scheme: Q8Scheme::Asymmetric,
            unsigned: false,
        },
        Packing::Q8 {
            per_channel: false,
            scheme: Q8Scheme::Symmetric,
            unsigned: true,
        },
        Packing::Q4 {
            group_size: Q4GroupSize::G32,
            symmetric: false,
        },
        Packing::Bsr {
            block: BlockShape::B4x4,
            sparsity: 0.5,
        },
        Packing::Bsr {
            block: BlockShape::B1x32,
            sparsity: 0.75,
        },
        Packing::NmSparse {
            pattern: NmPattern::TWO_FOUR,
        },
    ]
}

fn shapes_of(inputs: &[(String, HostTensor)]) -> Vec<(String, Vec<usize>)> {
    (inputs.iter())
        .map(|(name, tensor)| (name.clone(), tensor.shape().to_vec()))
        .collect()
}

/// Bound for one output of `k` products plus a bias, inputs and weights in ±1 (a Q4 or Q8 weight's
/// dequantization stays within ±1 plus half a step, below 1.1): each backend errs by at most
/// (k + 2)·u·Σ|terms| ≤ (k + 2)·u·(1.1·k + 1), so they differ by at most twice that.
fn tolerance(k: usize) -> f32 {
    2.0 * (k as f32 + 2.0) * UNIT_ROUNDOFF * (1.1 * k as f32 + 1.0)
}

fn assert_close(label: &str, got: &HostTensor, want: &HostTensor, tolerance: f32) {
    assert_eq!(got.shape(), want.shape(), "{label}");
    let want_values = want.expect_f32("test").unwrap();
    let got_values = got.expect_f32("test").unwrap();
    compare(
        label,
        got_values,
        want_values,
        &vec![tolerance; want_values.len()],
    )
    .assert_passed();
}

#[test]
fn packed_weights_mean_their_dense_value_on_the_cpu_and_match_it_on_the_gpu() {
    for case in cases() {
        for packing in layouts() {
            let label = format!("{} with {packing:?}", case.label);
            let mut packed = case.graph.clone();
            pack_weight(&mut packed, "w", &packing).unwrap();
            let mut unpacked = packed.clone();
            unpack_weights(&mut unpacked).unwrap();
            let shapes = shapes_of(&case.inputs);
            let mut on_cpu = Plan::new(&packed, &shapes, Backend::Cpu).unwrap();
            let want = on_cpu.run(&case.inputs).unwrap();
            assert_eq!(want, run_graph(&unpacked, &case.inputs).unwrap(), "{label}");
            assert_eq!(want, run_graph(&packed, &case.inputs).unwrap(), "{label}");
            let Some(gpu) = gpu() else { continue };
            let mut on_gpu = Plan::new(&packed, &shapes, Backend::Gpu(gpu)).unwrap();
            let got = on_gpu.run(&case.inputs).unwrap();
            assert_close(&label, &got[0].1, &want[0].1, tolerance(case.k));
        }
    }
}

#[test]
fn a_gemm_the_weight_kernels_cannot_express_is_unsupported() {
    let Some(gpu) = gpu() else { return };
    let mut case = cases().remove(1);
    case.graph
        .initializers
        .insert("c".into(), random_input(4, &[7, 13]));
    let nm = Packing::NmSparse {
        pattern: NmPattern::TWO_FOUR,
    };
    pack_weight(&mut case.graph, "w", &nm).unwrap();
    let shapes = shapes_of(&case.inputs);
    let mut plan = Plan::new(&case.graph, &shapes, Backend::Gpu(gpu)).unwrap();
    match plan.run(&case.inputs).unwrap_err() {
        Error::Unsupported { location, detail } => {
            assert!(location.contains("fc"), "{location}");
            assert!(detail.contains("[7, 13]"), "{detail}");
        }
        other => panic!("expected Unsupported, got {other}"),
    }
}

/// The f32 bytes of every packed weight of `graph` held dense.
fn dense_weight_bytes(graph: &Graph) -> u64 {
    (graph.packed_weights.values())
        .map(|weight| 4 * weight.shape.iter().product::<usize>() as u64)
        .sum()
}

#[test]
fn yolov3_tiny_with_packed_convolutions_matches_on_both_backends() {
    let Some(yolo_graph) = yolo::yolov3_tiny() else {
        return;
    };
    // Each layout with a bound on its device bytes over the f32 bytes: 2:4 keeps half the f32
    // values plus a 2-bit position each (1/2 + 1/32 = 0.53); Q8 a byte per weight plus a scale,
    // zero point and row sum (4 bytes each) per output channel, 1/4 + 3/K ≤ 0.26 for every layer
    // but the first (K = 27, 864 weights); Q4 half a byte plus an f16 scale and a zero-point byte
    // per group of 32, (1/2 + 3/32)/4 = 0.148, rows padded to whole groups.
    let layouts = [
        (
            Packing::NmSparse {
                pattern: NmPattern::TWO_FOUR,
            },
            0.54,
        ),
        (
            Packing::Q8 {
                per_channel: true,
                scheme: Q8Scheme::Symmetric,
                unsigned: false,
            },
            0.26,
        ),
        (
            Packing::Q4 {
                group_size: Q4GroupSize::G32,
                symmetric: false,
            },
            0.16,
        ),
    ];
    let side = yolo::SIDE;
    let inputs = vec![("input".to_string(), random_input(5, &[1, 3, side, side]))];
    let shapes = shapes_of(&inputs);
    for (packing, max_ratio) in layouts {
        let mut graph = yolo_graph.clone();
        let packed = pack_weights(&mut graph, &packing).unwrap();
        assert_eq!(packed.len(), 13, "{packed:?}");
        let want = Plan::new(&graph, &shapes, Backend::Cpu)
            .unwrap()
            .run(&inputs)
            .unwrap();
        let Some(gpu) = gpu() else { return };
        let device_bytes: u64 = (upload_packed(gpu, &graph).unwrap().values())
            .map(|weight| weight.device_bytes())
            .sum();
        let dense_bytes = dense_weight_bytes(&graph);
        eprintln!(
            "yolov3-tiny conv weights {packing:?}: {device_bytes} device bytes packed, \
             {dense_bytes} dense f32 ({:.3}×)",
            device_bytes as f64 / dense_bytes as f64
        );
        let ratio = device_bytes as f64 / dense_bytes as f64;
        assert!(
            ratio < max_ratio,
            "{packing:?}: {device_bytes} vs {dense_bytes} bytes"
        );
        let got = Plan::new(&graph, &shapes, Backend::Gpu(gpu))
            .unwrap()
            .run(&inputs)
            .unwrap();
        for ((name, got), (_, want)) in got.iter().zip(&want) {
            let label = format!("{name} with {packing:?}");
            assert_close(&label, got, want, YOLO_RELATIVE_TOLERANCE * max_abs(want));
        }
    }
}
