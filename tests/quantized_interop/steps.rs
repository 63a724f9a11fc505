//! The bound on |kiln − onnxruntime| for models quantized by onnxruntime, in output quantization
//! steps, and the measured difference in the same unit.

use std::collections::HashMap;

use kiln::graph::{Graph, Op};
use kiln::tensor::HostTensor;

/// The most QuantizeLinear nodes on any path from an input to an output: how many times a value
/// is requantized on its way through the model.
///
/// The bound on |kiln − onnxruntime| in output steps. Both engines compute every requantization
/// from the same integers, but not in the same order: onnxruntime fuses the QDQ pattern into its
/// integer kernels (QLinearConv, QLinearAdd, QLinearConcat, QLinearGlobalAveragePool …), kiln runs
/// convs in integers and the other ops in f32 between DQ and Q. A value that lies within the
/// engines' rounding difference of a half step can therefore round one step apart at each
/// requantization. A one-step difference at a layer's input moves its output by the layer's step
/// gain `x_scale · Σ|w| / y_scale`; calibration sets every layer's output range from that layer's
/// own values, so for these He-scaled layers the gain is about 1, and a layer adds at most one
/// step of its own. Along a path of k requantizations the output can so be off by about k steps.
pub fn requantization_depth(graph: &Graph) -> usize {
    let mut depth: HashMap<&str, usize> = HashMap::new();
    for node in &graph.nodes {
        let input_depth = (node.inputs.iter().flatten())
            .map(|input| depth.get(input.as_str()).copied().unwrap_or(0))
            .max()
            .unwrap_or(0);
        let own = usize::from(matches!(node.op, Op::QuantizeLinear { .. }));
        for output in &node.outputs {
            depth.insert(output, input_depth + own);
        }
    }
    (graph.outputs.iter())
        .map(|output| depth.get(output.name.as_str()).copied().unwrap_or(0))
        .max()
        .unwrap_or(0)
}

/// max |got − want| / step, rounded to whole steps (both are multiples of the step).
pub fn max_steps(got: &HostTensor, want: &HostTensor, step: f64) -> f64 {
    assert_eq!(got.shape(), want.shape());
    (got.to_f64_vec().iter().zip(want.to_f64_vec()))
        .map(|(a, b)| ((a - b) / step).abs().round())
        .fold(0.0, f64::max)
}
