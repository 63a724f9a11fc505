//! Packing round trips on every layout and every reader orientation, each layout's dequantization
//! checked element by element, and the weights that cannot be packed.

use super::*;
use crate::check::SeededRng;
use crate::graph::{ConvAttrs, Node};
use crate::ops::Activation;
use crate::tensor::HostTensor;

/// One of each layout, with shapes of `K` and `N` that are no multiple of their groups or blocks.
fn layouts() -> Vec<Packing> {
    vec![
        Packing::Q8 {
            per_channel: true,
            scheme: Q8Scheme::Symmetric,
            unsigned: false,
        },
        Packing::Q8 {
            per_channel: false,
            scheme: Q8Scheme::Asymmetric,
            unsigned: true,
        },
        Packing::Q4 {
            group_size: Q4GroupSize::G32,
            symmetric: true,
        },
        Packing::Q4 {
            group_size: Q4GroupSize::G64,
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

fn node(op: Op, inputs: &[&str]) -> Node {
    Node {
        name: "reader".into(),
        op,
        inputs: inputs.iter().map(|name| Some(name.to_string())).collect(),
        outputs: vec!["y".into()],
    }
}

fn gemm(trans_b: bool) -> Op {
    Op::Gemm {
        alpha: 1.0,
        beta: 1.0,
        trans_a: false,
        trans_b,
        activation: Activation::Identity,
    }
}

fn conv() -> Op {
    Op::Conv(ConvAttrs {
        kernel_shape: vec![3, 3],
        strides: vec![1, 1],
        pads: vec![1; 4],
        dilations: vec![1, 1],
        group: 1,
        auto_pad: crate::graph::AutoPad::NotSet,
        activation: Activation::Identity,
    })
}

/// A graph whose weight `w` of `shape` is read by `op`, and whether it is stored transposed.
fn readers() -> Vec<(Op, Vec<usize>, bool)> {
    vec![
        (
            Op::MatMul {
                activation: Activation::Identity,
            },
            vec![70, 13],
            true,
        ),
        (gemm(true), vec![13, 70], false),
        (gemm(false), vec![70, 13], true),
        (conv(), vec![6, 5, 3, 3], false),
    ]
}

fn graph_with(op: Op, shape: &[usize], rng: &mut SeededRng) -> Graph {
    let values = rng.uniform_vec(shape.iter().product(), -1.0, 1.0);
    let mut graph = Graph::default();
    (graph.initializers).insert("w".into(), HostTensor::from_f32(shape, values).unwrap());
    graph.nodes.push(node(op, &["x", "w"]));
    graph
}

/// Whether packing the dequantized values reproduces the packed weight bit for bit: true for the
/// symmetric quantizers (the largest magnitude maps back onto ±127 or ±7 steps, so the scale is
/// found again) and for pruning (kept values keep the largest magnitudes); false for Q4 with zero
/// points, whose dequantized group spans `(0 − zp)·s ..= (15 − zp)·s`, not the original min/max
/// (the zero point is rounded), so the rescaled group may shift by up to one step.
fn repacks_exactly(packing: &Packing) -> bool {
    !matches!(
        packing,
        Packing::Q4 {
            symmetric: false,
            ..
        }
    )
}

/// The largest quantization step of a Q4 matrix.
fn largest_step(matrix: &PackedMatrix) -> f32 {
    match matrix {
        PackedMatrix::Q4(weights) => (weights.scales.iter()).fold(0.0, |m, s| m.max(s.to_f32())),
        _ => 0.0,
    }
}

#[test]
fn pack_unpack_pack_gives_the_same_packed_weight() {
    let mut rng = SeededRng::new(3);
    for packing in layouts() {
        for (op, shape, transposed) in readers() {
            let label = format!("{packing:?} read by {}", op.name());
            let mut graph = graph_with(op, &shape, &mut rng);
            pack_weight(&mut graph, "w", &packing).unwrap();
            let first = graph.packed_weights["w"].clone();
            assert_eq!((first.transposed, &first.shape), (transposed, &shape));
            unpack_weight(&mut graph, "w").unwrap();
            let dense = graph.initializers["w"].clone();
            assert_eq!(dense, first.to_dense().unwrap());
            pack_weight(&mut graph, "w", &packing).unwrap();
            assert!(graph.initializers.is_empty(), "{label}");
            let second = &graph.packed_weights["w"];
            if repacks_exactly(&packing) {
                assert_eq!(second, &first, "{label}");
                continue;
            }
            let step = largest_step(&first.matrix).max(largest_step(&second.matrix));
            let again = second.to_dense().unwrap();
            let values = dense.as_f32().unwrap();
            for (index, (a, b)) in values.iter().zip(again.as_f32().unwrap()).enumerate() {
                assert!(
                    (a - b).abs() <= step,
                    "{label}: element {index}: {a} vs {b}"
                );
            }
        }
    }
}

/// `W[n][k]` by each layout's own definition, straight from its stored fields.
fn dequantized_element(matrix: &PackedMatrix, n: usize, k: usize) -> f32 {
    match matrix {
        PackedMatrix::Q8 { weights, .. } => {
            let q = i32::from(weights.value(n, k)) - i32::from(weights.zero_points[n]);
            q as f32 * weights.scales[n]
        }
        PackedMatrix::Q4(weights) => {
            let group = n * weights.groups_per_row + k / weights.group_size.elements();
            let q = i32::from(weights.value_q(n, k)) - i32::from(weights.zero_points[group]);
            q as f32 * weights.scales[group].to_f32()
        }
        PackedMatrix::Bsr(matrix) => (matrix.stored_elements())
            .find(|element| (element.row, element.col) == (n, k))
            .map_or(0.0, |element| {
                matrix.values.value_f64(element.index, n) as f32
            }),
        PackedMatrix::NmSparse(matrix) => {
            let pattern = matrix.pattern;
            let group = k / pattern.group;
            (0..pattern.kept)
                .map(|kept| group * pattern.kept + kept)
                .find(|&slot| group * pattern.group + matrix.position(n, slot) == k)
                .map_or(0.0, |slot| {
                    let slots_per_row = matrix.groups_per_row * pattern.kept;
                    matrix.values.value_f32(n * slots_per_row + slot)
                })
        }
    }
}

#[test]
fn to_dense_is_each_layouts_dequantization_in_the_logical_shape() {
    let mut rng = SeededRng::new(4);
    for packing in layouts() {
        for (op, shape, transposed) in readers() {
            let mut graph = graph_with(op, &shape, &mut rng);
            pack_weight(&mut graph, "w", &packing).unwrap();
            let packed = &graph.packed_weights["w"];
            let dense = packed.to_dense().unwrap();
            assert_eq!(dense.shape(), shape);
            let values = dense.as_f32().unwrap();
            let (rows, cols) = packed.matrix.dims();
            for n in 0..rows {
                for k in 0..cols {
                    let logical = if transposed {
                        k * rows + n
                    } else {
                        n * cols + k
                    };
                    let want = dequantized_element(&packed.matrix, n, k);
                    assert_eq!(values[logical], want, "{packing:?} W[{n}][{k}]");
                }
            }
        }
    }
}

#[test]
fn weights_other_ops_read_or_that_do_not_fit_are_errors() {
    let mut rng = SeededRng::new(5);
    let q4 = Packing::Q4 {
        group_size: Q4GroupSize::G32,
        symmetric: true,
    };
    let mut graph = graph_with(gemm(true), &[13, 70], &mut rng);
    let add = Op::Binary(crate::ops::elementwise::BinaryOp::Add);
    graph.nodes.push(node(add, &["y", "w"]));
    let error = pack_weight(&mut graph, "w", &q4).unwrap_err().to_string();
    assert!(error.contains("cannot take a packed weight"), "{error}");
    assert_eq!(pack_weights(&mut graph, &q4).unwrap(), Vec::<String>::new());

    let matmul = Op::MatMul {
        activation: Activation::Identity,
    };
    let mut batched = graph_with(matmul, &[2, 70, 13], &mut rng);
    assert!(pack_weight(&mut batched, "w", &q4).is_err());
    assert!(pack_weight(&mut batched, "absent", &q4).is_err());
    assert!(unpack_weight(&mut batched, "w").is_err());

    let mut both = graph_with(gemm(true), &[13, 13], &mut rng);
    both.nodes.push(node(gemm(false), &["y", "w"]));
    let error = pack_weight(&mut both, "w", &q4).unwrap_err().to_string();
    assert!(error.contains("two orientations"), "{error}");
}
