//! Folding an inference BatchNormalization into the Conv before it: `BN(conv(x, W, b))` becomes
//! `conv(x, W', b')` (see [`fold_batchnorm_into_conv`]), one node and one pass over the data fewer.

use super::{drop_unused_initializers, initializer, unique_name};
use crate::error::{Error, Result};
use crate::graph::{Graph, Op};
use crate::ops::normalization::{fold_batchnorm_into_conv, BatchNormParams};
use crate::ops::Activation;
use crate::tensor::HostTensor;

/// Folds every BatchNormalization whose input is the output of a Conv (no fused activation, an
/// f32 weight initializer, a bias that is absent or an f32 initializer) used by nothing else, and
/// whose scale, bias, mean and variance are f32 initializers. The Conv gets new initializers (the
/// old weight may be shared) and the BatchNormalization's output name; unused initializers are
/// dropped.
pub fn fold_batchnorm(graph: &mut Graph) -> Result<usize> {
    let mut folded = 0;
    let mut index = 0;
    while index < graph.nodes.len() {
        if let Some(fold) = plan_fold(graph, index)? {
            apply(graph, index, fold);
            folded += 1;
        } else {
            index += 1;
        }
    }
    if folded > 0 {
        drop_unused_initializers(graph);
    }
    Ok(folded)
}

/// One fold, computed: the conv's index, its new weight and bias, and the BN's output.
struct Fold {
    conv: usize,
    weight: HostTensor,
    bias: HostTensor,
    output: String,
}

/// The fold of the BatchNormalization at `index`, when the pattern matches.
fn plan_fold(graph: &Graph, index: usize) -> Result<Option<Fold>> {
    let bn = &graph.nodes[index];
    let Op::BatchNormalization { epsilon } = bn.op else {
        return Ok(None);
    };
    let Some(conv_output) = bn.input(0).filter(|value| graph.use_count(value) == 1) else {
        return Ok(None);
    };
    let Some((conv_index, conv)) = graph.producer(conv_output) else {
        return Ok(None);
    };
    let Op::Conv(attrs) = &conv.op else {
        return Ok(None);
    };
    let params: Option<Vec<&[f32]>> = (1..5)
        .map(|input| initializer(graph, bn.input(input)).and_then(HostTensor::as_f32))
        .collect();
    let weight = initializer(graph, conv.input(1)).filter(|w| w.as_f32().is_some());
    let bias = match conv.input(2) {
        None => Some(None),
        Some(name) => initializer(graph, Some(name))
            .and_then(HostTensor::as_f32)
            .map(Some),
    };
    let (Some(params), Some(weight), Some(bias)) = (params, weight, bias) else {
        return Ok(None);
    };
    if attrs.activation != Activation::Identity || bn.outputs.len() != 1 || conv.outputs.len() != 1
    {
        return Ok(None);
    }
    let bn_params = BatchNormParams {
        scale: params[0].to_vec(),
        bias: params[1].to_vec(),
        mean: params[2].to_vec(),
        var: params[3].to_vec(),
        epsilon,
    };
    let weight_values = weight.as_f32().unwrap_or_default();
    let invalid = |error: Error| Error::InvalidModel {
        location: bn.location(),
        detail: format!("cannot fold into {}: {error}", conv.location()),
    };
    let (folded_weight, folded_bias) =
        fold_batchnorm_into_conv(weight_values, weight.shape(), bias, &bn_params)
            .map_err(invalid)?;
    let channels = folded_bias.len();
    Ok(Some(Fold {
        conv: conv_index,
        weight: HostTensor::from_f32(weight.shape(), folded_weight)?,
        bias: HostTensor::from_f32(&[channels], folded_bias)?,
        output: bn.outputs[0].clone(),
    }))
}

/// Rewrites the conv of `fold` to produce the BatchNormalization's output and removes the
/// BatchNormalization at `bn_index`.
fn apply(graph: &mut Graph, bn_index: usize, fold: Fold) {
    let conv_name = graph.nodes[fold.conv].name.clone();
    let weight_name = unique_name(graph, &format!("{conv_name}.bn_folded_weight"));
    graph.initializers.insert(weight_name.clone(), fold.weight);
    let bias_name = unique_name(graph, &format!("{conv_name}.bn_folded_bias"));
    graph.initializers.insert(bias_name.clone(), fold.bias);
    graph.nodes.remove(bn_index);
    let conv = &mut graph.nodes[fold.conv];
    conv.inputs.truncate(1);
    conv.inputs.push(Some(weight_name));
    conv.inputs.push(Some(bias_name));
    conv.outputs[0] = fold.output;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::SeededRng;
    use crate::graph::passes::testing::{
        assert_same_outputs, conv3x3, f32_input, node, output, random_inputs, random_tensor,
    };
    use crate::ops::matmul::reference::F32_UNIT_ROUNDOFF;

    const CHANNELS: usize = 4;
    const INPUT_CHANNELS: usize = 3;
    /// Products summed per output: 3 input channels × a 3×3 kernel.
    const ACCUMULATION: usize = INPUT_CHANNELS * 9;

    /// x → Conv(w, b?) → BatchNormalization → y, with random weights and statistics.
    fn conv_bn(with_bias: bool, seed: u64) -> Graph {
        let mut rng = SeededRng::new(seed);
        let conv_inputs: &[&str] = if with_bias {
            &["x", "w", "b"]
        } else {
            &["x", "w"]
        };
        let mut graph = Graph {
            inputs: vec![f32_input("x", &[1, INPUT_CHANNELS, 6, 5])],
            outputs: vec![output("y")],
            nodes: vec![
                node("conv", Op::Conv(conv3x3()), conv_inputs, &["z"]),
                node(
                    "bn",
                    Op::BatchNormalization { epsilon: 1e-5 },
                    &["z", "gamma", "beta", "mean", "var"],
                    &["y"],
                ),
            ],
            ..Graph::default()
        };
        let channel = [CHANNELS];
        let mut tensors = vec![
            (
                "w",
                random_tensor(&mut rng, &[CHANNELS, INPUT_CHANNELS, 3, 3], -1.0, 1.0),
            ),
            ("gamma", random_tensor(&mut rng, &channel, 0.5, 2.0)),
            ("beta", random_tensor(&mut rng, &channel, -1.0, 1.0)),
            ("mean", random_tensor(&mut rng, &channel, -0.5, 0.5)),
            ("var", random_tensor(&mut rng, &channel, 0.1, 2.0)),
        ];
        if with_bias {
            tensors.push(("b", random_tensor(&mut rng, &channel, -1.0, 1.0)));
        }
        graph
            .initializers
            .extend(tensors.into_iter().map(|(name, t)| (name.to_string(), t)));
        graph
    }

    /// The largest difference folding may make, for inputs bounded by 1. The unfused path rounds
    /// the conv sum (the CPU reference sums in f64: at most (K + 1) roundings if it summed in
    /// f32) and then the BN's multiply and add; the folded one rounds each `w·m` and the sum. Each
    /// path is thus within `(K + 3)·u·B` of the exact value, where `B = |m|·(Σ|w| + |b|) + |c|`
    /// bounds every term's magnitude, so they differ by at most `2·(K + 3)·u·B`.
    fn fold_tolerance(graph: &Graph) -> f32 {
        let values = |name: &str| graph.initializers.get(name).map(|t| t.to_f64_vec());
        let params = BatchNormParams {
            scale: f32s(values("gamma")),
            bias: f32s(values("beta")),
            mean: f32s(values("mean")),
            var: f32s(values("var")),
            epsilon: 1e-5,
        };
        let weights = values("w").unwrap_or_default();
        let bias = values("b").unwrap_or_else(|| vec![0.0; CHANNELS]);
        let per_channel = weights.len() / CHANNELS;
        let magnitude = (0..CHANNELS)
            .map(|channel| {
                let (multiplier, offset) = params.channel_affine(channel);
                let filter: f64 = weights[channel * per_channel..][..per_channel]
                    .iter()
                    .map(|w| w.abs())
                    .sum();
                multiplier.abs() * (filter + bias[channel].abs()) + offset.abs()
            })
            .fold(0.0, f64::max);
        (2.0 * (ACCUMULATION as f64 + 3.0) * F32_UNIT_ROUNDOFF * magnitude) as f32
    }

    fn f32s(values: Option<Vec<f64>>) -> Vec<f32> {
        values
            .unwrap_or_default()
            .iter()
            .map(|&v| v as f32)
            .collect()
    }

    #[test]
    fn batchnorm_folds_into_the_conv_with_and_without_bias() {
        for (with_bias, seed) in [(true, 10), (false, 11)] {
            let before = conv_bn(with_bias, seed);
            let mut after = before.clone();
            assert_eq!(fold_batchnorm(&mut after).unwrap(), 1);
            after.validate().unwrap();
            assert_eq!(after.nodes.len(), 1);
            let conv = &after.nodes[0];
            assert!(matches!(conv.op, Op::Conv(_)));
            assert_eq!(conv.outputs, ["y"]);
            assert_eq!(conv.inputs.len(), 3);
            // The old weight, bias and BN statistics are gone; the folded pair remains.
            assert_eq!(after.initializers.len(), 2);
            let tolerance = fold_tolerance(&before);
            assert_same_outputs(&before, &after, &random_inputs(&before, seed), tolerance);
        }
    }

    #[test]
    fn a_conv_with_other_uses_or_an_activation_is_left_alone() {
        let mut shared = conv_bn(true, 12);
        shared.outputs.push(output("z"));
        assert_eq!(fold_batchnorm(&mut shared).unwrap(), 0);
        let mut activated = conv_bn(true, 13);
        if let Op::Conv(attrs) = &mut activated.nodes[0].op {
            attrs.activation = Activation::Relu;
        }
        assert_eq!(fold_batchnorm(&mut activated).unwrap(), 0);
        assert_eq!(activated.nodes.len(), 2);
    }
}
