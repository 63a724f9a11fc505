//! The registry's own checks: every family's ONNX list is unique and names its ops, every
//! family's shape rule gives the types its CPU rule computes, and the one backward rule agrees
//! with finite differences.

use super::*;
use crate::check::SeededRng;
use crate::graph::eval::{eval_node, sample_ops, seed_inputs};
use crate::graph::infer::infer_types;
use crate::graph::Graph;
use crate::ops::elementwise::{BinaryOp, UnaryOp};
use crate::ops::PointwiseActivation;
use std::collections::HashSet;

#[test]
fn onnx_op_types_are_unique_and_every_family_has_some() {
    let mut seen = HashSet::new();
    for op_type in onnx_op_types() {
        assert!(seen.insert(op_type), "{op_type} is registered twice");
    }
    for family in Family::ALL {
        assert_eq!(
            family.spec().onnx.is_empty(),
            family.made_by_passes(),
            "{family:?}"
        );
        if family.made_by_passes() {
            continue;
        }
        assert_eq!(onnx_op(family.spec().onnx[0].op_type).unwrap().0, family);
    }
}

#[test]
fn every_op_is_named_in_its_familys_onnx_list() {
    let mut families_seen = HashSet::new();
    for op in sample_ops() {
        let family = op.family();
        families_seen.insert(family);
        // SiLU has no ONNX op: it is written as Sigmoid and Mul, both registered.
        // The QDQ lowering's quantized pools have no ONNX op of the default domain either.
        if op == Op::Unary(UnaryOp::Activation(PointwiseActivation::Silu))
            || family == Family::QuantizedPool
        {
            continue;
        }
        // The QDQ lowering's integer ops have no ONNX op type; they export as standard nodes.
        if family.made_by_passes() {
            continue;
        }
        let listed = family
            .spec()
            .onnx
            .iter()
            .any(|entry| entry.op_type == op.name());
        assert!(listed, "{op:?} ({}) is not in {family:?}'s list", op.name());
    }
    assert_eq!(families_seen.len(), Family::ALL.len());
}

fn node(op: Op, inputs: usize) -> Node {
    Node {
        name: "n".into(),
        op,
        inputs: (0..inputs).map(|i| Some(format!("x{i}"))).collect(),
        outputs: vec!["y".into()],
    }
}

/// A tensor of `shape` whose values are multiples of 2⁻⁶ in [-2, 2] (`offset_from_zero` added
/// away from zero), so that sums, differences and products of two of them, and their ±2⁻⁴
/// perturbations, are exact in f32.
fn dyadic(rng: &mut SeededRng, shape: &[usize], offset_from_zero: f32) -> HostTensor {
    let count = shape.iter().product();
    let values = rng
        .int_vec(count, -128, 128)
        .into_iter()
        .map(|k| k as f32 / 64.0 + offset_from_zero.copysign(k as f32))
        .collect();
    HostTensor::from_f32(shape, values).unwrap()
}

/// A bound on |y| for the outputs checked: inputs lie in [-2.25, 2.25] (a 2⁻² offset at most),
/// moved by 2⁻⁴, so sums are below 4.7 and products below 2.3125² < 5.4.
const MAX_OUTPUT: f64 = 5.5;

/// `L = Σ wᵢ·yᵢ` in f64 (the weights are the output gradient).
fn loss(node: &Node, inputs: &[HostTensor], weights: &HostTensor) -> f64 {
    let refs: Vec<Option<&HostTensor>> = inputs.iter().map(Some).collect();
    let y = eval_node(node, &refs).unwrap();
    let (y, w) = (y[0].as_f32().unwrap(), weights.as_f32().unwrap());
    y.iter()
        .zip(w)
        .map(|(&y, &w)| f64::from(y) * f64::from(w))
        .sum()
}

/// Checks the family's backward rule on `node` against central differences of [`loss`].
///
/// Tolerance: the inputs, weights and step are dyadic, so every output (a sum, difference or
/// product of two 2⁻⁶-multiples, or a Relu) is exact in f32 and each term `wᵢ·yᵢ` exact in f64;
/// the f64 sum of the n terms rounds by at most n·2⁻⁵³·Σ|wᵢyᵢ|, twice, and the difference is
/// divided by 2·step = 2⁻³. The functions are linear in each input element away from Relu's kink
/// (inputs stay 2⁻² from it), so the difference quotient has no truncation error. Σ|wᵢyᵢ| is at
/// most [`MAX_OUTPUT`]·Σ|wᵢ|. The rule's gradient is rounded to f32 once: 2⁻²⁴·|g|.
fn check_gradients(node: &Node, inputs: Vec<HostTensor>, weights: &HostTensor) {
    const STEP: f32 = 1.0 / 16.0;
    let refs: Vec<Option<&HostTensor>> = inputs.iter().map(Some).collect();
    let outputs = eval_node(node, &refs).unwrap();
    let args = BackwardArgs {
        node,
        inputs: &refs,
        outputs: &outputs,
        output_grads: &[Some(weights)],
    };
    let grads = (node.op.family().spec().backward.unwrap())(&args).unwrap();
    let terms = weights.len() as f64;
    let weight_sum: f64 = weights
        .as_f32()
        .unwrap()
        .iter()
        .map(|w| f64::from(w.abs()))
        .sum();
    let magnitude = MAX_OUTPUT * weight_sum;
    for (index, grad) in grads.iter().enumerate() {
        let grad = grad.as_ref().unwrap();
        assert_eq!(
            grad.shape(),
            inputs[index].shape(),
            "{:?} input {index}",
            node.op
        );
        for (element, &got) in grad.as_f32().unwrap().iter().enumerate() {
            let shifted = |step: f32| {
                let mut moved = inputs.clone();
                let mut values = moved[index].as_f32().unwrap().to_vec();
                values[element] += step;
                moved[index] = HostTensor::from_f32(inputs[index].shape(), values).unwrap();
                loss(node, &moved, weights)
            };
            let want = (shifted(STEP) - shifted(-STEP)) / f64::from(2.0 * STEP);
            let tolerance = 2f64.powi(-24) * want.abs()
                + 2.0 * terms * 2f64.powi(-53) * magnitude / f64::from(2.0 * STEP);
            let error = (f64::from(got) - want).abs();
            assert!(
                error <= tolerance,
                "{:?} input {index}[{element}]: {got} vs {want} (tolerance {tolerance:e})",
                node.op
            );
        }
    }
}

#[test]
fn elementwise_backward_matches_finite_differences() {
    let mut rng = SeededRng::new(77);
    for op in [BinaryOp::Add, BinaryOp::Sub, BinaryOp::Mul] {
        // b broadcasts along a's first axis, and a along b's last, so gradients must sum.
        for (a_shape, b_shape) in [
            (vec![2, 3], vec![2, 3]),
            (vec![2, 3], vec![3]),
            (vec![2, 1], vec![1, 3]),
        ] {
            let (a, b) = (
                dyadic(&mut rng, &a_shape, 0.0),
                dyadic(&mut rng, &b_shape, 0.0),
            );
            let weights = dyadic(&mut rng, &[2, 3], 0.0);
            check_gradients(&node(Op::Binary(op), 2), vec![a, b], &weights);
        }
    }
    let relu = Op::Unary(UnaryOp::Activation(PointwiseActivation::Relu));
    let x = dyadic(&mut rng, &[3, 5], 0.25);
    let weights = dyadic(&mut rng, &[3, 5], 0.0);
    check_gradients(&node(relu, 1), vec![x], &weights);
}

#[test]
fn backward_without_an_output_gradient_or_rule_says_so() {
    let spec = Family::Elementwise.spec();
    let backward = spec.backward.unwrap();
    let x = HostTensor::from_f32(&[2], vec![1.0, -1.0]).unwrap();
    let add = node(Op::Binary(BinaryOp::Add), 2);
    let none = BackwardArgs {
        node: &add,
        inputs: &[Some(&x), Some(&x)],
        outputs: &[],
        output_grads: &[None],
    };
    assert_eq!(backward(&none).unwrap(), vec![None, None]);
    let exp = node(Op::Unary(UnaryOp::Exp), 1);
    let args = BackwardArgs {
        node: &exp,
        inputs: &[Some(&x)],
        outputs: &[],
        output_grads: &[Some(&x)],
    };
    assert!(matches!(backward(&args), Err(Error::Unsupported { .. })));
    let wrong_shape = HostTensor::from_f32(&[3], vec![0.0; 3]).unwrap();
    let args = BackwardArgs {
        node: &add,
        inputs: &[Some(&x), Some(&x)],
        outputs: &[],
        output_grads: &[Some(&wrong_shape)],
    };
    assert!(matches!(backward(&args), Err(Error::InvalidModel { .. })));
}

/// The sample ops with their seed inputs, and pools with the lists the importer fills (the
/// samples leave them empty, which the CPU rule accepts and the shape rule does not).
fn typed_cases() -> Vec<(Op, Vec<HostTensor>)> {
    let mut cases: Vec<_> = sample_ops()
        .into_iter()
        .map(|op| {
            let seeds = seed_inputs(&op);
            (op, seeds)
        })
        .collect();
    let pool = crate::graph::PoolAttrs {
        kernel_shape: vec![2, 2],
        strides: vec![1, 2],
        pads: vec![0, 1, 1, 0],
        dilations: vec![1, 1],
        ceil_mode: false,
        count_include_pad: false,
        auto_pad: crate::graph::AutoPad::NotSet,
    };
    let image = HostTensor::from_f32(&[1, 2, 4, 5], (0..40).map(|v| v as f32).collect()).unwrap();
    for op in [
        Op::MaxPool(pool.clone()),
        Op::AveragePool(pool),
        Op::GlobalMaxPool,
    ] {
        cases.push((op, vec![image.clone()]));
    }
    cases
}

#[test]
fn every_families_shape_rule_agrees_with_its_cpu_rule() {
    let mut agreed = HashSet::new();
    for (op, seeds) in typed_cases() {
        let outputs = match op {
            Op::Split { .. } => 2,
            Op::DynamicQuantizeLinear => 3,
            _ => 1,
        };
        let node = Node {
            name: "n".into(),
            op: op.clone(),
            inputs: (0..seeds.len()).map(|i| Some(format!("x{i}"))).collect(),
            outputs: (0..outputs).map(|i| format!("y{i}")).collect(),
        };
        let Ok(values) = eval_node(&node, &seeds.iter().map(Some).collect::<Vec<_>>()) else {
            continue;
        };
        let graph = Graph {
            initializers: (0..seeds.len())
                .map(|i| format!("x{i}"))
                .zip(seeds)
                .collect(),
            nodes: vec![node.clone()],
            ..Graph::default()
        };
        let types = match infer_types(&graph, &[]) {
            Ok(types) => types,
            // Known: the pools' CPU rule accepts empty attribute lists and rank-2 global pools,
            // which the shape rule rejects; every other family agrees on every sample.
            Err(_) if op.family() == Family::Pool => continue,
            Err(error) => panic!("{op:?}: {error}"),
        };
        for (name, value) in node.outputs.iter().zip(&values) {
            assert_eq!(types[name], ValueType::of(value), "{op:?} output {name}");
        }
        agreed.insert(op.family());
    }
    assert_eq!(agreed.len(), Family::ALL.len());
}
