//! Graphs whose MatMul / Gemm / Conv weights are packed (Q4, BSR, N:M, Q8) run by a Plan: the CPU
//! reference backend computes exactly what the graph with the weights unpacked computes, and the
//! GPU (the weight kernels for MatMul and Gemm, the dense fallback for Conv) agrees with it within
//! the accumulation bound. Also YOLOv3-tiny with every convolution weight pruned to 2:4.

use kiln::check::compare;
use kiln::graph::packing::{pack_weight, pack_weights, unpack_weights, Packing};
use kiln::graph::{AutoPad, Graph, Op};
use kiln::ops::Activation;
use kiln::runtime::cpu::run_graph;
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
    ]
}

fn layouts() -> [Packing; 4] {
    [
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

/// Bound for one output of `k` products plus a bias, inputs and weights in ±1 (a Q4 weight's
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
fn q8_weights_of_float_matmuls_are_unsupported_on_the_gpu_and_convs_run_dense() {
    let q8 = Packing::Q8 {
        per_channel: true,
        scheme: Q8Scheme::Asymmetric,
        unsigned: false,
    };
    for case in cases() {
        let mut packed = case.graph.clone();
        pack_weight(&mut packed, "w", &q8).unwrap();
        let shapes = shapes_of(&case.inputs);
        let want = Plan::new(&packed, &shapes, Backend::Cpu)
            .unwrap()
            .run(&case.inputs)
            .unwrap();
        let Some(gpu) = gpu() else { continue };
        match Plan::new(&packed, &shapes, Backend::Gpu(gpu)) {
            Ok(mut plan) => {
                assert_eq!(case.label, "Conv");
                let got = plan.run(&case.inputs).unwrap();
                assert_close(case.label, &got[0].1, &want[0].1, tolerance(case.k));
            }
            Err(Error::Unsupported { location, detail }) => {
                assert_ne!(case.label, "Conv");
                assert!(location.contains(&case.graph.nodes[0].name), "{location}");
                assert!(detail.contains("Q8"), "{detail}");
            }
            Err(other) => panic!("{}: {other}", case.label),
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

#[test]
fn yolov3_tiny_with_2_4_sparse_convolutions_matches_on_both_backends() {
    let Some(mut graph) = yolo::yolov3_tiny() else {
        return;
    };
    let nm = Packing::NmSparse {
        pattern: NmPattern::TWO_FOUR,
    };
    let packed = pack_weights(&mut graph, &nm).unwrap();
    assert_eq!(packed.len(), 13, "{packed:?}");
    let side = yolo::SIDE;
    let inputs = vec![("input".to_string(), random_input(5, &[1, 3, side, side]))];
    let shapes = shapes_of(&inputs);
    let want = Plan::new(&graph, &shapes, Backend::Cpu)
        .unwrap()
        .run(&inputs)
        .unwrap();
    let Some(gpu) = gpu() else { return };
    let got = Plan::new(&graph, &shapes, Backend::Gpu(gpu))
        .unwrap()
        .run(&inputs)
        .unwrap();
    for ((name, got), (_, want)) in got.iter().zip(&want) {
        assert_close(name, got, want, YOLO_RELATIVE_TOLERANCE * max_abs(want));
    }
}
