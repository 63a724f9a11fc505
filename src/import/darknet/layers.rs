//! Builds the graph from parsed sections: one method per section kind, each reading its keys,
//! checking them against the shape of its inputs, and appending nodes and initializers. Value
//! names follow darknet's layer numbering (`layer7.conv`, `layer7.bn`, `layer7.leaky`), so a
//! graph printout lines up with darknet's own layer table.

use super::cfg::Section;
use super::weights::WeightReader;
use super::{DarknetModel, YoloHead};
use crate::error::{Error, Result};
use crate::graph::{Dim, Graph, Node, Op, PoolAttrs, ResizeAttrs, ValueInfo};
use crate::ops::resize::{CoordinateMode, NearestMode, ResizeMode};
use crate::tensor::{DType, HostTensor};

/// The graph input's name.
const INPUT: &str = "input";

/// Sections darknet knows that kiln does not import (reported as unsupported, not as unknown).
#[rustfmt::skip]
const KNOWN_UNSUPPORTED: &[&str] = &[
    "local", "deconvolutional", "deconv", "connected", "conn", "region", "detection", "softmax",
    "soft", "avgpool", "avg", "dropout", "crop", "cost", "normalization", "batchnorm", "gru", "rnn",
    "crnn", "lstm", "conv_lstm", "reorg", "reorg3d", "logistic", "l2norm", "iseg", "sam",
    "scale_channels", "gaussian_yolo", "contrastive", "implicit_add", "implicit_mul", "empty",
    "silence", "activation", "xnor",
];

/// Layer keys that only matter to training.
pub(super) const INERT_KEYS: &[&str] = &["stopbackward", "learning_rate", "train"];

/// What a layer produced: its value, its `[C, H, W]`, and whether a route may read it.
#[derive(Clone, Debug)]
pub(super) struct LayerOutput {
    pub value: String,
    pub shape: [usize; 3],
    /// False for `[yolo]`, whose darknet output is partly decoded and so not the value here.
    pub routable: bool,
}

/// The graph under construction.
pub(super) struct Builder<'w> {
    pub graph: Graph,
    weights: WeightReader<'w>,
    pub layers: Vec<LayerOutput>,
    pub heads: Vec<YoloHead>,
    pub input: [usize; 3],
    last_weighted: String,
}

/// Builds the model from the sections (the first is `[net]`, as `parse_cfg` guarantees).
pub(super) fn build(sections: &[Section], weights: WeightReader) -> Result<DarknetModel> {
    let (net, layer_sections) = sections.split_first().ok_or_else(|| Error::InvalidModel {
        location: "cfg".into(),
        detail: "no sections".into(),
    })?;
    let mut builder = Builder::new(read_net(net)?, weights);
    for section in layer_sections {
        let output = builder.layer(section)?;
        builder.layers.push(output);
    }
    builder.finish()
}

fn read_net(net: &Section) -> Result<[usize; 3]> {
    let channels = net.count("channels", None, 1)?;
    let height = net.count("height", None, 1)?;
    let width = net.count("width", None, 1)?;
    Ok([channels, height, width])
}

impl<'w> Builder<'w> {
    fn new(input: [usize; 3], weights: WeightReader<'w>) -> Self {
        let mut graph = Graph {
            name: "darknet".into(),
            ..Graph::default()
        };
        graph.inputs.push(value_info(INPUT, input));
        Builder {
            graph,
            weights,
            layers: Vec::new(),
            heads: Vec::new(),
            input,
            last_weighted: "the header".into(),
        }
    }

    fn layer(&mut self, section: &Section) -> Result<LayerOutput> {
        let output = match section.kind.as_str() {
            "convolutional" | "conv" => self.convolutional(section)?,
            "maxpool" | "max" => self.maxpool(section)?,
            "upsample" => self.upsample(section)?,
            "route" => self.route(section)?,
            "shortcut" => self.shortcut(section)?,
            "yolo" => return self.yolo(section),
            kind if KNOWN_UNSUPPORTED.contains(&kind) => {
                return Err(section.unsupported(format!("kiln does not import [{kind}] layers")))
            }
            kind => return Err(section.invalid(format!("unknown section [{kind}]"))),
        };
        section.reject_unread(INERT_KEYS)?;
        Ok(output)
    }

    fn finish(self) -> Result<DarknetModel> {
        if self.heads.is_empty() {
            return Err(Error::InvalidModel {
                location: "cfg".into(),
                detail: "the network has no [yolo] layer, so no output".into(),
            });
        }
        self.weights.finish(&self.last_weighted)?;
        self.graph.validate()?;
        Ok(DarknetModel {
            graph: self.graph,
            heads: self.heads,
            input: self.input,
        })
    }

    /// The output of the layer before `section` (the network input for the first layer).
    pub fn previous(&self, section: &Section) -> Result<LayerOutput> {
        match self.layers.last() {
            Some(layer) if !layer.routable => {
                Err(section.unsupported("a layer reading a [yolo] layer's decoded output".into()))
            }
            Some(layer) => Ok(layer.clone()),
            None => Ok(LayerOutput {
                value: INPUT.into(),
                shape: self.input,
                routable: true,
            }),
        }
    }

    /// Appends a node with one output named like the node.
    pub fn node(&mut self, name: String, op: Op, inputs: Vec<String>) -> String {
        self.graph.nodes.push(Node {
            name: name.clone(),
            op,
            inputs: inputs.into_iter().map(Some).collect(),
            outputs: vec![name.clone()],
        });
        name
    }

    /// Adds an initializer and returns its name.
    pub fn constant(&mut self, name: String, tensor: HostTensor) -> String {
        self.graph.initializers.insert(name.clone(), tensor);
        name
    }

    /// The next `count` weights as a tensor of `shape`, for `what` of `section`.
    pub fn weight_tensor(
        &mut self,
        section: &Section,
        what: &str,
        shape: &[usize],
    ) -> Result<HostTensor> {
        let count = shape
            .iter()
            .try_fold(1usize, |count, &extent| count.checked_mul(extent))
            .ok_or_else(|| section.invalid(format!("{what} of shape {shape:?}: too many")))?;
        let values = self.weights.floats(count, what, &section.location())?;
        self.last_weighted = section.location();
        HostTensor::from_f32(shape, values)
    }

    fn maxpool(&mut self, section: &Section) -> Result<LayerOutput> {
        let input = self.previous(section)?;
        let [channels, height, width] = input.shape;
        let stride = section.count("stride", Some(1), 1)?;
        let size = section.count("size", Some(stride), 1)?;
        let padding = section.count("padding", Some(size - 1), 0)?;
        // darknet starts windows at -padding/2; the pads after make ONNX's floor((in + pads -
        // size)/stride) + 1 equal darknet's (in + padding - size)/stride + 1.
        let (pad_begin, pad_end) = (padding / 2, padding - padding / 2);
        if pad_end >= size {
            return Err(section.unsupported(format!(
                "padding={padding} with size={size}: a window could lie wholly in the padding"
            )));
        }
        let extent = |length| {
            pooled_extent(length, padding, size, stride).ok_or_else(|| {
                section.invalid(format!(
                    "a {size}×{size} window does not fit the {height}×{width} input"
                ))
            })
        };
        let shape = [channels, extent(height)?, extent(width)?];
        let attrs = PoolAttrs {
            kernel_shape: vec![size, size],
            strides: vec![stride, stride],
            pads: vec![pad_begin, pad_begin, pad_end, pad_end],
            dilations: vec![1, 1],
            ceil_mode: false,
            count_include_pad: false,
            auto_pad: Default::default(),
        };
        let value = self.node(
            format!("layer{}.maxpool", section.index - 1),
            Op::MaxPool(attrs),
            vec![input.value],
        );
        Ok(LayerOutput {
            value,
            shape,
            routable: true,
        })
    }

    fn upsample(&mut self, section: &Section) -> Result<LayerOutput> {
        let input = self.previous(section)?;
        let stride = section.int("stride", Some(2))?;
        if stride < 1 {
            return Err(
                section.unsupported(format!("stride={stride} (a negative stride downsamples)"))
            );
        }
        if section.float("scale", 1.0)? != 1.0 {
            return Err(section.unsupported("an upsample scale other than 1".into()));
        }
        let [channels, height, width] = input.shape;
        let factor = stride as usize;
        let (Some(out_height), Some(out_width)) =
            (height.checked_mul(factor), width.checked_mul(factor))
        else {
            return Err(section.invalid(format!("stride={stride} overflows the output size")));
        };
        let prefix = format!("layer{}.upsample", section.index - 1);
        let scales = HostTensor::from_f32(&[4], vec![1.0, 1.0, stride as f32, stride as f32])?;
        let scales = self.constant(format!("{prefix}.scales"), scales);
        let attrs = ResizeAttrs {
            mode: ResizeMode::Nearest(NearestMode::Floor),
            coordinates: CoordinateMode::Asymmetric,
            axes: Vec::new(),
        };
        self.graph.nodes.push(Node {
            name: prefix.clone(),
            op: Op::Resize(attrs),
            inputs: vec![Some(input.value), None, Some(scales)],
            outputs: vec![prefix.clone()],
        });
        Ok(LayerOutput {
            value: prefix,
            shape: [channels, out_height, out_width],
            routable: true,
        })
    }
}

/// Darknet's output extent `(length + padding - size) / stride + 1`, or `None` when the window
/// does not fit once.
pub(super) fn pooled_extent(
    length: usize,
    padding: usize,
    size: usize,
    stride: usize,
) -> Option<usize> {
    let padded = length.checked_add(padding)?;
    padded.checked_sub(size).map(|span| span / stride + 1)
}

/// A one-element f32 tensor of shape `[]`.
pub(super) fn scalar(value: f32) -> Result<HostTensor> {
    HostTensor::from_f32(&[], vec![value])
}

/// A value with shape `[batch, C, H, W]`.
pub(super) fn value_info(name: &str, [channels, height, width]: [usize; 3]) -> ValueInfo {
    ValueInfo {
        name: name.into(),
        dtype: Some(DType::F32),
        shape: Some(vec![
            Dim::Symbol("batch".into()),
            Dim::Fixed(channels),
            Dim::Fixed(height),
            Dim::Fixed(width),
        ]),
    }
}
