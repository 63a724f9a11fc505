//! `[convolutional]` sections and darknet's activations. Every key is read and checked before any
//! weight, so a cfg problem is reported as such rather than as a weights file of the wrong length.

use super::cfg::Section;
use super::layers::{pooled_extent, scalar, Builder, LayerOutput};
use super::{BATCH_NORM_EPSILON, LEAKY_SLOPE};
use crate::error::Result;
use crate::graph::{ConvAttrs, Op};
use crate::ops::elementwise::{BinaryOp, UnaryOp};
use crate::ops::{Activation, PointwiseActivation};
use crate::tensor::HostTensor;

/// The activations kiln imports, by darknet's names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum DarknetActivation {
    Linear,
    Leaky,
    Logistic,
    Relu,
    Tanh,
    Relu6,
    Swish,
    Mish,
}

impl DarknetActivation {
    const ALL: [DarknetActivation; 8] = [
        DarknetActivation::Linear,
        DarknetActivation::Leaky,
        DarknetActivation::Logistic,
        DarknetActivation::Relu,
        DarknetActivation::Tanh,
        DarknetActivation::Relu6,
        DarknetActivation::Swish,
        DarknetActivation::Mish,
    ];

    /// The section's `activation` key (or `default`).
    pub fn read(section: &Section, default: &str) -> Result<Self> {
        let name = section.text("activation", default);
        Self::ALL
            .into_iter()
            .find(|activation| activation.name() == name)
            .ok_or_else(|| {
                let known: Vec<&str> = Self::ALL.iter().map(|known| known.name()).collect();
                section.unsupported(format!(
                    "activation '{name}' (kiln imports {})",
                    known.join(", ")
                ))
            })
    }

    /// Darknet's name for it.
    fn name(self) -> &'static str {
        match self {
            DarknetActivation::Linear => "linear",
            DarknetActivation::Leaky => "leaky",
            DarknetActivation::Logistic => "logistic",
            DarknetActivation::Relu => "relu",
            DarknetActivation::Tanh => "tanh",
            DarknetActivation::Relu6 => "relu6",
            DarknetActivation::Swish => "swish",
            DarknetActivation::Mish => "mish",
        }
    }
}

/// A conv section's geometry, read and checked before its weights.
struct ConvGeometry {
    filters: usize,
    size: usize,
    stride: usize,
    padding: usize,
    groups: usize,
    batch_normalize: bool,
    activation: DarknetActivation,
    output: [usize; 3],
}

fn read_geometry(section: &Section, [channels, height, width]: [usize; 3]) -> Result<ConvGeometry> {
    let filters = section.count("filters", Some(1), 1)?;
    let size = section.count("size", Some(1), 1)?;
    let stride = section.count("stride", Some(1), 1)?;
    let groups = section.count("groups", Some(1), 1)?;
    // darknet reads `padding`, then overrides it with size/2 when `pad` is set.
    let explicit_padding = section.count("padding", Some(0), 0)?;
    let padding = match section.int("pad", Some(0))? {
        0 => explicit_padding,
        _ => size / 2,
    };
    let batch_normalize = section.int("batch_normalize", Some(0))? != 0;
    for flag in ["binary", "xnor"] {
        if section.int(flag, Some(0))? != 0 {
            return Err(section.unsupported(format!("{flag} convolutions")));
        }
    }
    let activation = DarknetActivation::read(section, "logistic")?;
    section.reject_unread(super::layers::INERT_KEYS)?;
    if channels % groups != 0 || filters % groups != 0 {
        return Err(section.invalid(format!(
            "groups={groups} does not divide the {channels} input channels and {filters} filters"
        )));
    }
    let extent = |length| {
        let both_sides = padding.checked_mul(2);
        both_sides
            .and_then(|both_sides| pooled_extent(length, both_sides, size, stride))
            .ok_or_else(|| {
                section.invalid(format!(
                    "a {size}×{size} kernel does not fit the {height}×{width} input"
                ))
            })
    };
    Ok(ConvGeometry {
        filters,
        size,
        stride,
        padding,
        groups,
        batch_normalize,
        activation,
        output: [filters, extent(height)?, extent(width)?],
    })
}

impl Builder<'_> {
    pub(super) fn convolutional(&mut self, section: &Section) -> Result<LayerOutput> {
        let input = self.previous(section)?;
        let geometry = read_geometry(section, input.shape)?;
        let ConvGeometry { filters, size, .. } = geometry;
        // darknet's order in the file: biases, [scales, rolling mean, rolling variance], weights.
        let biases = self.weight_tensor(section, "biases", &[filters])?;
        let mut batch_norm = Vec::new();
        if geometry.batch_normalize {
            for what in [
                "batch-norm scales",
                "batch-norm means",
                "batch-norm variances",
            ] {
                batch_norm.push(self.weight_tensor(section, what, &[filters])?);
            }
        }
        let kernel = [filters, input.shape[0] / geometry.groups, size, size];
        let weight = self.weight_tensor(section, "weights", &kernel)?;

        let prefix = format!("layer{}", section.index - 1);
        let weight = self.constant(format!("{prefix}.weight"), weight);
        let biases = self.constant(format!("{prefix}.bias"), biases);
        let conv = Op::Conv(ConvAttrs {
            kernel_shape: vec![size, size],
            strides: vec![geometry.stride; 2],
            pads: vec![geometry.padding; 4],
            dilations: vec![1, 1],
            group: geometry.groups,
            auto_pad: Default::default(),
            activation: Activation::Identity,
        });
        let conv_name = format!("{prefix}.conv");
        let value = match <[HostTensor; 3]>::try_from(batch_norm) {
            Ok([scales, means, variances]) => {
                let conv = self.node(conv_name, conv, vec![input.value, weight]);
                let scales = self.constant(format!("{prefix}.bn_scale"), scales);
                let means = self.constant(format!("{prefix}.bn_mean"), means);
                let variances = self.constant(format!("{prefix}.bn_var"), variances);
                let batch_norm = Op::BatchNormalization {
                    epsilon: BATCH_NORM_EPSILON,
                };
                let inputs = vec![conv, scales, biases, means, variances];
                self.node(format!("{prefix}.bn"), batch_norm, inputs)
            }
            Err(_) => self.node(conv_name, conv, vec![input.value, weight, biases]),
        };
        Ok(LayerOutput {
            value: self.activate(&prefix, geometry.activation, value)?,
            shape: geometry.output,
            routable: true,
        })
    }

    /// Appends the nodes computing `activation` of `value`; returns the result's name.
    pub(super) fn activate(
        &mut self,
        prefix: &str,
        activation: DarknetActivation,
        value: String,
    ) -> Result<String> {
        let unary = |activation| Op::Unary(UnaryOp::Activation(activation));
        let node = format!("{prefix}.{}", activation.name());
        let mul = Op::Binary(BinaryOp::Mul);
        Ok(match activation {
            DarknetActivation::Linear => value,
            DarknetActivation::Leaky => {
                let leaky = unary(PointwiseActivation::LeakyRelu { alpha: LEAKY_SLOPE });
                self.node(node, leaky, vec![value])
            }
            DarknetActivation::Logistic => {
                self.node(node, unary(PointwiseActivation::Sigmoid), vec![value])
            }
            DarknetActivation::Relu => {
                self.node(node, unary(PointwiseActivation::Relu), vec![value])
            }
            DarknetActivation::Tanh => {
                self.node(node, unary(PointwiseActivation::Tanh), vec![value])
            }
            DarknetActivation::Relu6 => {
                let low = self.constant(format!("{node}.min"), scalar(0.0)?);
                let high = self.constant(format!("{node}.max"), scalar(6.0)?);
                self.node(node, Op::Clip, vec![value, low, high])
            }
            DarknetActivation::Swish => {
                let sigmoid = unary(PointwiseActivation::Sigmoid);
                let gate = self.node(format!("{node}.sigmoid"), sigmoid, vec![value.clone()]);
                self.node(node, mul, vec![value, gate])
            }
            DarknetActivation::Mish => {
                let softplus = unary(PointwiseActivation::Softplus);
                let softplus = self.node(format!("{node}.softplus"), softplus, vec![value.clone()]);
                let gate = self.node(
                    format!("{node}.tanh"),
                    unary(PointwiseActivation::Tanh),
                    vec![softplus],
                );
                self.node(node, mul, vec![value, gate])
            }
        })
    }
}
