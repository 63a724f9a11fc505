//! `[yolo]` sections: no computation in the graph, only a graph output (the previous layer's raw
//! values) and the [`YoloHead`] that says how to decode it. Keys other than the ones read here
//! configure the loss and training (`jitter`, `ignore_thresh`, `random`, ...) and are ignored,
//! except `new_coords`, which changes the decoding and is rejected.

use super::cfg::Section;
use super::layers::{value_info, Builder, LayerOutput};
use super::YoloHead;
use crate::error::Result;

impl Builder<'_> {
    pub(super) fn yolo(&mut self, section: &Section) -> Result<LayerOutput> {
        let input = self.previous(section)?;
        let classes = section.count("classes", Some(20), 1)?;
        let anchor_count = section.count("num", Some(1), 1)?;
        let pairs = section
            .float_list("anchors")?
            .ok_or_else(|| section.invalid("the required key 'anchors' is missing".into()))?;
        // Checked before the default mask below allocates `num` entries.
        if anchor_count.checked_mul(2) > Some(pairs.len()) || pairs.len() % 2 != 0 {
            return Err(section.invalid(format!(
                "anchors has {} numbers; num={anchor_count} needs twice as many (width, height pairs)",
                pairs.len(),
            )));
        }
        let mask = match section.int_list("mask")? {
            Some(mask) => mask,
            None => (0..anchor_count as i64).collect(),
        };
        let anchors = mask
            .iter()
            .map(|&index| {
                usize::try_from(index)
                    .ok()
                    .filter(|&index| index < anchor_count)
                    .map(|index| [pairs[2 * index], pairs[2 * index + 1]])
                    .ok_or_else(|| {
                        section.invalid(format!(
                            "mask index {index} is not below num={anchor_count}"
                        ))
                    })
            })
            .collect::<Result<Vec<_>>>()?;
        let scale_x_y = section.float("scale_x_y", 1.0)?;
        if section.int("new_coords", Some(0))? != 0 {
            return Err(section.unsupported("new_coords=1 (the scaled-YOLOv4 decoding)".into()));
        }
        let [channels, height, width] = input.shape;
        let expected = classes
            .checked_add(5)
            .and_then(|per| per.checked_mul(anchors.len()));
        if expected != Some(channels) {
            let expected = expected.map_or("more than a usize holds".into(), |e| e.to_string());
            return Err(section.invalid(format!(
                "the input has {channels} channels; {} anchors × (5 + {classes} classes) need {expected}",
                anchors.len()
            )));
        }
        let stride = self.grid_stride(section, [height, width])?;
        if self
            .graph
            .outputs
            .iter()
            .any(|output| output.name == input.value)
        {
            return Err(section.unsupported("two [yolo] layers reading the same values".into()));
        }
        self.graph
            .outputs
            .push(value_info(&input.value, input.shape));
        self.heads.push(YoloHead {
            output: input.value.clone(),
            anchors,
            classes,
            stride,
            scale_x_y,
        });
        Ok(LayerOutput {
            routable: false,
            ..input
        })
    }

    /// Input pixels per grid cell; the grid must divide the input evenly, by the same factor on
    /// both axes, for a head to have one stride.
    fn grid_stride(&self, section: &Section, grid: [usize; 2]) -> Result<usize> {
        let [_, height, width] = self.input;
        let divides =
            |extent: usize, cells: usize| extent.is_multiple_of(cells).then(|| extent / cells);
        match (divides(height, grid[0]), divides(width, grid[1])) {
            (Some(vertical), Some(horizontal)) if vertical == horizontal => Ok(vertical),
            _ => Err(section.unsupported(format!(
                "a {}×{} grid on a {height}×{width} input: no single integer stride",
                grid[0], grid[1]
            ))),
        }
    }
}
