//! Seed `.kiln` files for `fuzz_targets/load_kiln.rs`: every ONNX seed model as `.kiln`, and a
//! MatMul graph per packed weight layout (Q8, Q4, BSR with int8 values, N:M with f16 values), so
//! the fuzzer starts from files that reach every part of the loader.

use kiln::format::{to_kiln_bytes, Provenance};
use kiln::graph::{Graph, Node, Op, PackedMatrix, PackedWeight, ValueInfo};
use kiln::import::onnx::parse_onnx;
use kiln::ops::Activation;
use kiln::tensor::bsr::{BlockShape, BsrMatrix};
use kiln::tensor::nm_sparse::{NmPattern, NmSparseMatrix};
use kiln::tensor::{Q4GroupSize, Q4Weights, Q8Scheme, Q8Weights};

/// `N` and `K` of the packed seeds (not multiples of the group or block sizes).
const ROWS: usize = 6;
const COLS: usize = 36;

fn packed_graph(matrix: PackedMatrix) -> Graph {
    let value = |name: &str| ValueInfo {
        name: name.into(),
        dtype: None,
        shape: None,
    };
    let mut graph = Graph {
        name: "packed".into(),
        inputs: vec![value("x")],
        outputs: vec![value("y")],
        nodes: vec![Node {
            name: "mm".into(),
            op: Op::MatMul {
                activation: Activation::Clip {
                    min: 0.0,
                    max: f32::INFINITY,
                },
            },
            inputs: vec![Some("x".into()), Some("w".into())],
            outputs: vec!["y".into()],
        }],
        ..Graph::default()
    };
    let weight = PackedWeight::new(matrix, vec![COLS, ROWS], true).expect("a valid seed weight");
    graph.packed_weights.insert("w".into(), weight);
    graph
}

fn packed_matrices() -> kiln::Result<Vec<PackedMatrix>> {
    let dense: Vec<f32> = (0..ROWS * COLS)
        .map(|i| {
            if i % 4 >= 2 {
                0.0
            } else {
                (i % 11) as f32 - 5.0
            }
        })
        .collect();
    let bsr = BsrMatrix::from_dense_f32(&dense, ROWS, COLS, BlockShape::B4x4)?.quantize_i8()?;
    let nm = NmSparseMatrix::from_dense(&dense, ROWS, COLS, NmPattern::TWO_FOUR)?.to_f16();
    Ok(vec![
        PackedMatrix::Q8 {
            weights: Q8Weights::quantize(&dense, ROWS, COLS, Q8Scheme::Asymmetric)?,
            unsigned: true,
        },
        PackedMatrix::Q4(Q4Weights::quantize(
            &dense,
            ROWS,
            COLS,
            Q4GroupSize::G32,
            false,
        )?),
        PackedMatrix::Bsr(bsr),
        PackedMatrix::NmSparse(nm),
    ])
}

/// Named `.kiln` seed files.
pub fn seed_kiln_files() -> Vec<(String, Vec<u8>)> {
    let provenance = Provenance::in_memory();
    let from_onnx = crate::seed_models()
        .into_iter()
        .filter_map(|(name, bytes)| Some((name, parse_onnx(&bytes, None).ok()?)));
    let packed = packed_matrices()
        .expect("valid seed matrices")
        .into_iter()
        .map(|matrix| (matrix.layout_name().to_string(), packed_graph(matrix)));
    from_onnx
        .chain(packed)
        .filter_map(|(name, graph)| Some((name, to_kiln_bytes(&graph, &provenance).ok()?)))
        .collect()
}
