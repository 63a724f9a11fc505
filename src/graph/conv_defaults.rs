//! ONNX's defaults for a convolution's per-axis attribute lists (strides 1, dilations 1, pads 0,
//! output_padding 0), filled once the spatial rank is known. Importers leave the lists empty when
//! the model omits them and the rank is not yet known (no `kernel_shape`, weight a graph input);
//! shape inference and both backends resolve them through these methods, so all agree.

use crate::graph::{ConvAttrs, ConvTransposeAttrs};

/// `list` itself, or `count` copies of `default` when it is empty.
fn or_default(list: &[usize], count: usize, default: usize) -> Vec<usize> {
    if list.is_empty() {
        vec![default; count]
    } else {
        list.to_vec()
    }
}

impl ConvAttrs {
    /// A copy whose empty `strides` and `dilations` become 1 on each of `spatial_rank` axes and
    /// whose empty `pads` become `2 · spatial_rank` zeros; lists given stay as they are (their
    /// lengths are checked where they are used).
    pub fn with_spatial_defaults(&self, spatial_rank: usize) -> ConvAttrs {
        ConvAttrs {
            strides: or_default(&self.strides, spatial_rank, 1),
            dilations: or_default(&self.dilations, spatial_rank, 1),
            pads: or_default(&self.pads, 2 * spatial_rank, 0),
            ..self.clone()
        }
    }
}

impl ConvTransposeAttrs {
    /// A copy with [`ConvAttrs::with_spatial_defaults`] applied and an empty `output_padding`
    /// made zeros on each of `spatial_rank` axes.
    pub fn with_spatial_defaults(&self, spatial_rank: usize) -> ConvTransposeAttrs {
        ConvTransposeAttrs {
            conv: self.conv.with_spatial_defaults(spatial_rank),
            output_padding: or_default(&self.output_padding, spatial_rank, 0),
            output_shape: self.output_shape.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::graph::{AutoPad, ConvAttrs, ConvTransposeAttrs};
    use crate::ops::Activation;

    fn empty_lists() -> ConvAttrs {
        ConvAttrs {
            kernel_shape: vec![],
            strides: vec![],
            pads: vec![],
            dilations: vec![],
            group: 1,
            auto_pad: AutoPad::NotSet,
            activation: Activation::Identity,
        }
    }

    #[test]
    fn empty_lists_take_onnx_defaults_for_the_rank() {
        let filled = empty_lists().with_spatial_defaults(2);
        assert_eq!(filled.strides, [1, 1]);
        assert_eq!(filled.dilations, [1, 1]);
        assert_eq!(filled.pads, [0, 0, 0, 0]);
        assert!(filled.kernel_shape.is_empty());
        let transposed = ConvTransposeAttrs {
            conv: empty_lists(),
            output_padding: vec![],
            output_shape: vec![10, 8],
        }
        .with_spatial_defaults(3);
        assert_eq!(transposed.conv.strides, [1, 1, 1]);
        assert_eq!(transposed.output_padding, [0, 0, 0]);
        assert_eq!(transposed.output_shape, [10, 8]);
    }

    #[test]
    fn given_lists_are_kept_even_when_their_length_is_wrong() {
        let given = ConvAttrs {
            strides: vec![2, 3],
            pads: vec![1],
            dilations: vec![2, 2],
            ..empty_lists()
        };
        let filled = given.with_spatial_defaults(2);
        assert_eq!(filled, given);
    }
}
