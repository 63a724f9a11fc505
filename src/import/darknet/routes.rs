//! The layers that read earlier layers by index: `[route]` (concatenate on channels, optionally
//! one channel group of each input) and `[shortcut]` (add). An index is absolute, or relative to
//! the current layer when negative, and must name an earlier layer.

use super::cfg::Section;
use super::conv::DarknetActivation;
use super::layers::{Builder, LayerOutput};
use crate::error::Result;
use crate::graph::{Node, Op};
use crate::ops::elementwise::BinaryOp;
use crate::tensor::HostTensor;

impl Builder<'_> {
    /// The output of the layer `index` names, as seen from `section`.
    fn earlier_layer(&self, section: &Section, index: i64) -> Result<LayerOutput> {
        let current = section.index - 1;
        let absolute = if index < 0 {
            current as i64 + index
        } else {
            index
        };
        let layer = usize::try_from(absolute)
            .ok()
            .filter(|&absolute| absolute < current)
            .and_then(|absolute| self.layers.get(absolute))
            .ok_or_else(|| {
                section.invalid(format!(
                    "layer index {index} names layer {absolute}, which is not an earlier layer (this is layer {current})"
                ))
            })?;
        if !layer.routable {
            return Err(section.unsupported(format!(
                "reading layer {absolute}, a [yolo] layer whose darknet output is partly decoded"
            )));
        }
        Ok(layer.clone())
    }

    pub(super) fn route(&mut self, section: &Section) -> Result<LayerOutput> {
        let indices = section
            .int_list("layers")?
            .ok_or_else(|| section.invalid("the required key 'layers' is missing".into()))?;
        let groups = section.count("groups", Some(1), 1)?;
        let group_id = section.count("group_id", Some(0), 0)?;
        if group_id >= groups {
            return Err(
                section.invalid(format!("group_id={group_id} is not below groups={groups}"))
            );
        }
        let prefix = format!("layer{}.route", section.index - 1);
        let mut parts = Vec::with_capacity(indices.len());
        let mut channels = 0;
        let mut extent: Option<[usize; 2]> = None;
        for (position, &index) in indices.iter().enumerate() {
            let layer = self.earlier_layer(section, index)?;
            let [layer_channels, height, width] = layer.shape;
            if *extent.get_or_insert([height, width]) != [height, width] {
                return Err(section.invalid(format!(
                    "layer index {index} is {height}×{width}, unlike the first routed layer {:?}",
                    extent.unwrap_or_default()
                )));
            }
            if layer_channels % groups != 0 {
                return Err(section.invalid(format!(
                    "groups={groups} does not divide layer index {index}'s {layer_channels} channels"
                )));
            }
            let group_channels = layer_channels / groups;
            channels = usize::checked_add(channels, group_channels)
                .ok_or_else(|| section.invalid("the routed channel count overflows".into()))?;
            parts.push(if groups == 1 {
                layer.value
            } else {
                let name = format!("{prefix}.slice{position}");
                let start = group_id * group_channels;
                self.channel_slice(name, layer.value, start, start + group_channels)?
            });
        }
        let [height, width] = extent.unwrap_or_default();
        let value = match <[String; 1]>::try_from(parts) {
            Ok([single]) => single,
            Err(parts) => self.node(prefix, Op::Concat { axis: 1 }, parts),
        };
        Ok(LayerOutput {
            value,
            shape: [channels, height, width],
            routable: true,
        })
    }

    /// A Slice of channels `start..end` of `value`.
    fn channel_slice(
        &mut self,
        name: String,
        value: String,
        start: usize,
        end: usize,
    ) -> Result<String> {
        let bound = |number: usize| HostTensor::from_i64(&[1], vec![number as i64]);
        let starts = self.constant(format!("{name}.starts"), bound(start)?);
        let ends = self.constant(format!("{name}.ends"), bound(end)?);
        let axes = self.constant(format!("{name}.axes"), bound(1)?);
        self.graph.nodes.push(Node {
            name: name.clone(),
            op: Op::Slice,
            inputs: vec![Some(value), Some(starts), Some(ends), Some(axes)],
            outputs: vec![name.clone()],
        });
        Ok(name)
    }

    pub(super) fn shortcut(&mut self, section: &Section) -> Result<LayerOutput> {
        let previous = self.previous(section)?;
        let from = section.int("from", None)?;
        let activation = DarknetActivation::read(section, "linear")?;
        let other = self.earlier_layer(section, from)?;
        for (key, value) in [
            ("alpha", section.float("alpha", 1.0)?),
            ("beta", section.float("beta", 1.0)?),
        ] {
            if value != 1.0 {
                return Err(section.unsupported(format!("{key}={value} (only 1 is imported)")));
            }
        }
        if previous.shape != other.shape {
            return Err(section.unsupported(format!(
                "adding a {:?} layer to a {:?} one (darknet's strided shortcut)",
                other.shape, previous.shape
            )));
        }
        let prefix = format!("layer{}", section.index - 1);
        let sum = self.node(
            format!("{prefix}.shortcut"),
            Op::Binary(BinaryOp::Add),
            vec![previous.value, other.value],
        );
        let value = self.activate(&prefix, activation, sum)?;
        Ok(LayerOutput {
            value,
            shape: previous.shape,
            routable: true,
        })
    }
}
