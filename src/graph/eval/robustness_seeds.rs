//! Valid inputs, mutated: each [`Op`] sample fed an input list it accepts with one input replaced
//! by a hostile tensor, dropped, cut off or followed by an extra one, so the checks deep inside
//! each op (not only the arity check) meet bad data. [`eval_node`] must never panic, and every
//! error must name the node.

use crate::check::SeededRng;
use crate::graph::eval::element::tensor_from_f64;
use crate::graph::eval::eval_node;
use crate::graph::eval::robustness::{sample_ops, sample_tensors, variant, VARIANTS};
use crate::graph::{Node, Op};
use crate::tensor::{DType, HostTensor};
use std::collections::BTreeSet;

/// A tensor of `dtype` and `shape` holding `values` cycled.
fn filled(dtype: DType, shape: &[usize], values: &[f64]) -> HostTensor {
    let count: usize = shape.iter().product();
    tensor_from_f64(dtype, shape, values.iter().copied().cycle().take(count)).unwrap()
}

/// A valid input list for `op` (for at least one of its samples).
pub(crate) fn seed_inputs(op: &Op) -> Vec<HostTensor> {
    use DType::{Bool, F32, I32, I64, I8, U8};
    let data = [-1.5, 2.0, 0.5, -0.25, 1.0];
    let f = |shape: &[usize]| filled(F32, shape, &data);
    let int = |dtype: DType, values: &[f64]| filled(dtype, &[values.len()], values);
    let scalar = |dtype: DType, value: f64| filled(dtype, &[], &[value]);
    match op {
        Op::Where => vec![filled(Bool, &[2, 3], &[1.0, 0.0]), f(&[2, 3]), f(&[3])],
        Op::Not => vec![filled(Bool, &[2, 3], &[1.0, 0.0])],
        Op::Binary(_) | Op::Variadic(_) | Op::Compare(_) => vec![f(&[2, 3]), f(&[3])],
        Op::Clip => vec![f(&[2, 3]), scalar(F32, -1.0), scalar(F32, 1.0)],
        Op::MatMul { .. } => vec![f(&[2, 2, 3]), f(&[3, 1])],
        Op::Gemm { .. } => vec![f(&[3, 2]), f(&[3, 4]), f(&[4])],
        Op::Conv(_) => vec![f(&[1, 2, 4, 4]), f(&[2, 2, 2, 2]), f(&[2])],
        Op::MaxPool(_) | Op::AveragePool(_) => vec![f(&[1, 2, 4, 4])],
        Op::ConvTranspose(_) => vec![f(&[1, 2, 3, 3]), f(&[2, 1, 2, 2]), f(&[1])],
        Op::QLinearAveragePool(_) | Op::QLinearGlobalAveragePool => vec![
            filled(I8, &[1, 2, 4, 5], &[-128.0, 7.0, 127.0]),
            scalar(F32, 0.5),
            scalar(I8, -3.0),
            scalar(F32, 0.25),
            scalar(I8, 5.0),
        ],
        Op::QLinearConv(_) => vec![
            filled(U8, &[1, 2, 3, 3], &[0.0, 7.0, 200.0]),
            scalar(F32, 0.5),
            scalar(U8, 1.0),
            filled(U8, &[2, 2, 2, 2], &[3.0, 0.0, 255.0]),
            int(F32, &[0.25, 0.5]),
            int(U8, &[2.0, 1.0]),
            scalar(F32, 0.25),
            scalar(U8, 3.0),
            int(I32, &[-7.0, 9.0]),
        ],
        Op::QLinearBinary { .. } => vec![
            filled(I8, &[2, 3], &[-128.0, 0.0, 127.0, 5.0]),
            scalar(F32, 0.5),
            scalar(I8, -3.0),
            filled(I8, &[3], &[7.0, -9.0, 100.0]),
            scalar(F32, 0.25),
            scalar(I8, 0.0),
            scalar(F32, 0.75),
            scalar(I8, 127.0),
        ],
        Op::QLinearConcat { .. } => vec![
            scalar(F32, 0.5),
            scalar(U8, 128.0),
            filled(U8, &[2, 1], &[0.0, 255.0]),
            scalar(F32, 0.5),
            scalar(U8, 128.0),
            filled(U8, &[2, 3], &[7.0, 200.0]),
            scalar(F32, 1e-3),
            scalar(U8, 0.0),
        ],
        Op::LookupTable { .. } => vec![
            filled(I8, &[2, 3], &[-128.0, 0.0, 127.0]),
            filled(U8, &[256], &[0.0, 17.0, 255.0]),
        ],
        Op::MatMulInteger => vec![
            filled(U8, &[2, 3], &[1.0, 250.0]),
            filled(U8, &[3, 2], &[9.0, 0.0]),
            int(U8, &[1.0, 2.0]),
            int(U8, &[3.0, 4.0]),
        ],
        Op::DynamicQuantizeLinear => vec![f(&[2, 3])],
        Op::QLinearMatMul { .. } => vec![
            filled(U8, &[2, 3], &[0.0, 7.0, 200.0]),
            scalar(F32, 0.5),
            scalar(U8, 1.0),
            filled(I8, &[3, 2], &[3.0, -128.0, 127.0]),
            int(F32, &[0.25, 0.5]),
            int(I8, &[0.0, 0.0]),
            scalar(F32, 0.25),
            scalar(U8, 3.0),
            int(I32, &[-7.0, 9.0]),
        ],
        Op::QuantizeLinear { .. } => vec![
            f(&[2, 3]),
            int(F32, &[0.5, 1.0, 2.0]),
            int(I8, &[0.0, -1.0, 1.0]),
        ],
        Op::DequantizeLinear { .. } => vec![
            filled(I8, &[2, 3], &[-128.0, 127.0]),
            int(F32, &[0.5, 1.0, 2.0]),
            int(I8, &[0.0, -1.0, 1.0]),
        ],
        Op::BatchNormalization { .. } => {
            let positive = int(F32, &[0.5, 2.0]);
            vec![f(&[1, 2, 3, 3]), f(&[2]), f(&[2]), f(&[2]), positive]
        }
        Op::LayerNormalization { .. } => vec![f(&[2, 3]), f(&[3]), f(&[3])],
        Op::Lrn(_) => vec![f(&[1, 3, 2])],
        Op::Resize(_) => vec![f(&[1, 2, 3, 3]), f(&[0]), int(F32, &[1.0, 1.0, 2.0, 0.5])],
        Op::Concat { .. } => vec![f(&[2, 3]), f(&[2, 1])],
        Op::Split { .. } => vec![f(&[4, 2]), int(I64, &[1.0, 3.0])],
        Op::Slice => vec![
            f(&[2, 3]),
            int(I64, &[1.0]),
            int(I64, &[3.0]),
            int(I64, &[-1.0]),
            int(I64, &[1.0]),
        ],
        Op::Pad { .. } => vec![
            f(&[2, 3]),
            int(I64, &[1.0, 0.0, 1.0, 1.0]),
            scalar(F32, 5.0),
        ],
        Op::Reshape { .. } => vec![f(&[2, 3]), int(I64, &[3.0, -1.0])],
        Op::Squeeze => vec![f(&[1, 3]), int(I64, &[0.0])],
        Op::Unsqueeze => vec![f(&[2, 3]), int(I64, &[0.0])],
        Op::Expand => vec![f(&[3, 1]), int(I64, &[1.0, 2.0])],
        Op::Gather { .. } => vec![f(&[2, 3]), int(I64, &[-1.0, 0.0])],
        Op::ConstantOfShape { .. } => vec![int(I64, &[2.0, 3.0])],
        Op::Range => vec![scalar(F32, 0.0), scalar(F32, 2.0), scalar(F32, 0.5)],
        _ => vec![f(&[2, 3])],
    }
}

#[test]
fn every_op_survives_mutated_valid_inputs() {
    let mut rng = SeededRng::new(77);
    let tensors = sample_tensors(&mut rng);
    let mut valid = BTreeSet::new();
    for op in sample_ops() {
        let seeds = seed_inputs(&op);
        let outputs = if matches!(op, Op::Split { .. }) { 2 } else { 1 };
        let node = Node {
            name: "fuzz".into(),
            op: op.clone(),
            inputs: vec![],
            outputs: (0..outputs).map(|i| format!("y{i}")).collect(),
        };
        if eval_node(&node, &seeds.iter().map(Some).collect::<Vec<_>>()).is_ok() {
            valid.insert(variant(&op));
        }
        for trial in 0..60 {
            let mut inputs: Vec<Option<&HostTensor>> = seeds.iter().map(Some).collect();
            let position = rng.int_in(0, inputs.len() as i32 - 1) as usize;
            let replacement = &tensors[rng.int_in(0, tensors.len() as i32 - 1) as usize];
            match trial % 4 {
                0 => inputs[position] = Some(replacement),
                1 => inputs[position] = None,
                2 => inputs.truncate(position),
                _ => inputs.push(Some(replacement)),
            }
            if let Err(error) = eval_node(&node, &inputs) {
                let message = error.to_string();
                assert!(message.contains("node 'fuzz'"), "{message}");
            }
        }
    }
    assert_eq!(
        valid.len(),
        VARIANTS,
        "every variant accepts its seed inputs"
    );
}
