//! Running a whole [`Graph`] on the CPU backend: the given inputs checked against their
//! declarations, then the graph run as given (no optimisation passes) by the runtime's one node
//! loop, which evaluates nodes in order with [`super::eval_node`] and drops each computed value
//! after its last use; the outputs returned in `graph.outputs` order.

use crate::error::{Error, Result};
use crate::graph::{Dim, Graph, ValueInfo};
use crate::runtime::plan::run_as_given;
use crate::tensor::HostTensor;
use std::collections::{HashMap, HashSet};

/// Runs `graph` on `inputs` (one `(name, tensor)` per graph input) and returns its outputs in
/// `graph.outputs` order. Inputs must match the declared dtype and fixed extents; a named
/// symbolic extent (`batch`) must be the same wherever it appears. Unknown, repeated or missing
/// inputs are an [`Error::InvalidArgument`]; a failing node reports itself.
pub fn run_graph(
    graph: &Graph,
    inputs: &[(String, HostTensor)],
) -> Result<Vec<(String, HostTensor)>> {
    graph.validate()?;
    check_inputs(graph, inputs)?;
    let distinct = run_as_given(graph, inputs)?;
    let by_name: HashMap<&str, &HostTensor> = (distinct.iter())
        .map(|(name, tensor)| (name.as_str(), tensor))
        .collect();
    (graph.outputs.iter())
        .map(|output| {
            let tensor = by_name
                .get(output.name.as_str())
                .ok_or_else(|| Error::InvalidModel {
                    location: format!("graph output '{}'", output.name),
                    detail: "was not computed".into(),
                })?;
            Ok((output.name.clone(), (*tensor).clone()))
        })
        .collect()
}

/// Checks that every graph input is given once and fits its declaration.
fn check_inputs(graph: &Graph, inputs: &[(String, HostTensor)]) -> Result<()> {
    let bad = |detail: String| Error::InvalidArgument {
        op: "run_graph",
        detail,
    };
    let mut given = HashSet::new();
    let mut symbols: HashMap<&str, usize> = HashMap::new();
    for (name, tensor) in inputs {
        let Some(info) = graph.inputs.iter().find(|info| info.name == *name) else {
            return Err(bad(format!("the graph has no input named '{name}'")));
        };
        if !given.insert(name.as_str()) {
            return Err(bad(format!("input '{name}' is given twice")));
        }
        check_declared(info, tensor, &mut symbols).map_err(bad)?;
    }
    match graph
        .inputs
        .iter()
        .find(|info| !given.contains(info.name.as_str()))
    {
        Some(missing) => Err(bad(format!("input '{}' is not given", missing.name))),
        None => Ok(()),
    }
}

/// Checks `tensor` against `info`'s dtype and shape, binding named symbolic extents in `symbols`.
fn check_declared<'i>(
    info: &'i ValueInfo,
    tensor: &HostTensor,
    symbols: &mut HashMap<&'i str, usize>,
) -> std::result::Result<(), String> {
    let name = &info.name;
    if let Some(dtype) = info.dtype.filter(|&dtype| dtype != tensor.dtype()) {
        return Err(format!(
            "input '{name}' is declared {dtype}, got {}",
            tensor.dtype()
        ));
    }
    let Some(dims) = &info.shape else {
        return Ok(());
    };
    let mismatch = || {
        format!(
            "input '{name}' is declared {dims:?}, got shape {:?}",
            tensor.shape()
        )
    };
    if dims.len() != tensor.shape().len() {
        return Err(mismatch());
    }
    for (dim, &extent) in dims.iter().zip(tensor.shape()) {
        let fits = match dim {
            Dim::Fixed(fixed) => *fixed == extent,
            Dim::Symbol(symbol) if symbol == "?" => true,
            Dim::Symbol(symbol) => *symbols.entry(symbol.as_str()).or_insert(extent) == extent,
        };
        if !fits {
            return Err(mismatch());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::SeededRng;
    use crate::graph::{AutoPad, ConvAttrs, Node, Op, PoolAttrs};
    use crate::ops::conv::{reference_conv2d, Conv2dParams};
    use crate::ops::elementwise::UnaryOp;
    use crate::ops::gemm::{reference_gemm, GemmOptions};
    use crate::ops::pooling::{reference_pool2d, Pool2dOptions, PoolKind};
    use crate::ops::softmax::reference_softmax;
    use crate::ops::{Activation, PointwiseActivation};
    use crate::tensor::DType;

    fn node(name: &str, op: Op, inputs: &[&str], outputs: &[&str]) -> Node {
        Node {
            name: name.into(),
            op,
            inputs: inputs.iter().map(|input| Some(input.to_string())).collect(),
            outputs: outputs.iter().map(|output| output.to_string()).collect(),
        }
    }

    fn info(name: &str, dtype: DType, dims: Vec<Dim>) -> ValueInfo {
        ValueInfo {
            name: name.into(),
            dtype: Some(dtype),
            shape: Some(dims),
        }
    }

    /// Conv (3×3, pad 1) → Relu → MaxPool (2×2) → Flatten → Gemm → Softmax on a [2, 2, 6, 6]
    /// input, against the same references called one after another.
    fn classifier(rng: &mut SeededRng) -> Graph {
        let mut graph = Graph {
            name: "classifier".into(),
            inputs: vec![info(
                "image",
                DType::F32,
                vec![
                    Dim::Symbol("batch".into()),
                    Dim::Fixed(2),
                    Dim::Fixed(6),
                    Dim::Fixed(6),
                ],
            )],
            outputs: vec![info("probabilities", DType::F32, vec![])],
            ..Graph::default()
        };
        let mut weight = |name: &str, shape: &[usize]| {
            let values = rng.uniform_vec(shape.iter().product(), -0.5, 0.5);
            let tensor = HostTensor::from_f32(shape, values).unwrap();
            graph.initializers.insert(name.into(), tensor);
        };
        weight("conv_w", &[3, 2, 3, 3]);
        weight("conv_b", &[3]);
        weight("fc_w", &[27, 4]);
        weight("fc_b", &[4]);
        let conv = ConvAttrs {
            kernel_shape: vec![3, 3],
            strides: vec![1, 1],
            pads: vec![1, 1, 1, 1],
            dilations: vec![1, 1],
            group: 1,
            auto_pad: AutoPad::NotSet,
            activation: Activation::Identity,
        };
        let pool = PoolAttrs {
            kernel_shape: vec![2, 2],
            strides: vec![2, 2],
            pads: vec![0; 4],
            dilations: vec![1, 1],
            ceil_mode: false,
            count_include_pad: false,
            auto_pad: AutoPad::NotSet,
        };
        let gemm = Op::Gemm {
            alpha: 1.0,
            beta: 1.0,
            trans_a: false,
            trans_b: false,
            activation: Activation::Identity,
        };
        let relu = Op::Unary(UnaryOp::Activation(PointwiseActivation::Relu));
        let softmax = Op::Softmax {
            axis: -1,
            coerce_2d: false,
        };
        graph.nodes = vec![
            node(
                "conv",
                Op::Conv(conv),
                &["image", "conv_w", "conv_b"],
                &["c"],
            ),
            node("relu", relu, &["c"], &["r"]),
            node("pool", Op::MaxPool(pool), &["r"], &["p"]),
            node("flatten", Op::Flatten { axis: 1 }, &["p"], &["f"]),
            node("fc", gemm, &["f", "fc_w", "fc_b"], &["logits"]),
            node("softmax", softmax, &["logits"], &["probabilities"]),
        ];
        graph
    }

    #[test]
    fn classifier_matches_the_references_in_sequence() {
        let mut rng = SeededRng::new(5);
        let graph = classifier(&mut rng);
        let image = rng.uniform_vec(2 * 2 * 6 * 6, -1.0, 1.0);
        let input = HostTensor::from_f32(&[2, 2, 6, 6], image.clone()).unwrap();
        let outputs = run_graph(&graph, &[("image".into(), input)]).unwrap();

        let weight = |name: &str| graph.initializers[name].as_f32().unwrap().to_vec();
        let params = Conv2dParams {
            pads: [1; 4],
            ..Conv2dParams::default()
        };
        let conv_w = weight("conv_w");
        let conv_b = weight("conv_b");
        let conv = reference_conv2d(
            &image,
            &[2, 2, 6, 6],
            &conv_w,
            &[3, 2, 3, 3],
            Some(&conv_b),
            &params,
            Activation::Identity,
        )
        .unwrap();
        let relu: Vec<f32> = conv.values().iter().map(|&v| v.max(0.0)).collect();
        let pooled = reference_pool2d(
            PoolKind::Max,
            &relu,
            [2, 3, 6, 6],
            &Pool2dOptions::square(2, 2),
        );
        let fc_w = weight("fc_w");
        let fc_b = weight("fc_b");
        let logits = reference_gemm(
            &pooled,
            &[2, 27],
            &fc_w,
            &[27, 4],
            Some((&fc_b, &[4])),
            &GemmOptions::default(),
        )
        .unwrap();
        let expected = reference_softmax(&logits.values(), &[2, 4], -1, false).unwrap();

        assert_eq!(outputs.len(), 1);
        assert_eq!(outputs[0].0, "probabilities");
        assert_eq!(outputs[0].1.shape(), &[2, 4]);
        assert_eq!(outputs[0].1.as_f32().unwrap(), expected.values().as_slice());
    }

    #[test]
    fn inputs_are_checked_against_their_declarations() {
        let graph = classifier(&mut SeededRng::new(1));
        let image = |shape: &[usize], dtype: DType| HostTensor::zeros(shape, dtype).unwrap();
        let run = |inputs: Vec<(&str, HostTensor)>| {
            let named: Vec<(String, HostTensor)> = inputs
                .into_iter()
                .map(|(name, t)| (name.to_string(), t))
                .collect();
            run_graph(&graph, &named)
        };
        assert!(run(vec![("image", image(&[3, 2, 6, 6], DType::F32))]).is_ok());
        for bad in [
            vec![],
            vec![("image", image(&[1, 2, 6, 6], DType::F16))],
            vec![("image", image(&[1, 2, 6, 5], DType::F32))],
            vec![("image", image(&[1, 2, 6], DType::F32))],
            vec![("other", image(&[1, 2, 6, 6], DType::F32))],
            vec![
                ("image", image(&[1, 2, 6, 6], DType::F32)),
                ("image", image(&[1, 2, 6, 6], DType::F32)),
            ],
        ] {
            let error = run(bad).unwrap_err();
            assert!(matches!(error, Error::InvalidArgument { .. }), "{error}");
        }
        let mut symbolic = graph.clone();
        symbolic
            .inputs
            .push(info("mask", DType::Bool, vec![Dim::Symbol("batch".into())]));
        let inputs = |batch: usize| {
            vec![
                ("image".to_string(), image(&[2, 2, 6, 6], DType::F32)),
                ("mask".to_string(), image(&[batch], DType::Bool)),
            ]
        };
        assert!(run_graph(&symbolic, &inputs(2)).is_ok());
        assert!(run_graph(&symbolic, &inputs(3)).is_err());
    }

    #[test]
    fn outputs_may_be_inputs_initializers_or_reused_values() {
        let x = HostTensor::from_f32(&[2], vec![1.0, -2.0]).unwrap();
        let graph = Graph {
            inputs: vec![info("x", DType::F32, vec![Dim::Fixed(2)])],
            outputs: ["y", "x", "w", "z", "y"]
                .iter()
                .map(|name| info(name, DType::F32, vec![]))
                .collect(),
            initializers: [("w".to_string(), x.clone())].into_iter().collect(),
            nodes: vec![
                node("neg", Op::Unary(UnaryOp::Neg), &["x"], &["y"]),
                node("abs", Op::Unary(UnaryOp::Abs), &["y"], &["z"]),
            ],
            ..Graph::default()
        };
        let outputs = run_graph(&graph, &[("x".into(), x.clone())]).unwrap();
        let names: Vec<&str> = outputs.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(names, ["y", "x", "w", "z", "y"]);
        assert_eq!(outputs[0].1.as_f32().unwrap(), &[-1.0, 2.0]);
        assert_eq!(outputs[4].1, outputs[0].1);
        assert_eq!((&outputs[1].1, &outputs[2].1), (&x, &x));
        assert_eq!(outputs[3].1.as_f32().unwrap(), &[1.0, 2.0]);
    }

    #[test]
    fn failing_nodes_name_themselves() {
        let x = HostTensor::from_f32(&[2], vec![1.0, 2.0]).unwrap();
        let mut graph = Graph {
            inputs: vec![info("x", DType::F32, vec![Dim::Fixed(2)])],
            outputs: vec![info("y", DType::F32, vec![])],
            nodes: vec![node(
                "bad_axis",
                Op::Softmax {
                    axis: 4,
                    coerce_2d: false,
                },
                &["x"],
                &["y"],
            )],
            ..Graph::default()
        };
        let error = run_graph(&graph, &[("x".into(), x.clone())]).unwrap_err();
        assert!(
            error.to_string().contains("node 'bad_axis' (Softmax)"),
            "{error}"
        );
        graph.nodes = vec![node("split", Op::Dropout, &["x"], &["y", "mask", "extra"])];
        let error = run_graph(&graph, &[("x".into(), x)]).unwrap_err();
        assert!(
            error.to_string().contains("node 'split' (Dropout)"),
            "{error}"
        );
    }
}
