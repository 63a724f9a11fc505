//! The graph's convolution attributes as the ops' plain attribute lists
//! ([`crate::ops::conv::ConvSpec`], [`crate::ops::conv::TransposeSpec`]). Importers leave a list
//! empty when the model omits it and the rank is not yet known (no `kernel_shape`, weight a graph
//! input); the ops' geometry resolver fills ONNX's defaults (strides 1, dilations 1, pads 0,
//! output_padding 0) once the spatial rank is known, so shape inference and both backends agree.

use crate::graph::{ConvAttrs, ConvTransposeAttrs};
use crate::ops::conv::{ConvSpec, TransposeSpec};

impl ConvAttrs {
    /// These attributes as the geometry resolver's plain lists ([`crate::ops::conv::geometry`]).
    pub fn spec(&self) -> ConvSpec<'_> {
        ConvSpec {
            kernel_shape: &self.kernel_shape,
            strides: &self.strides,
            pads: &self.pads,
            dilations: &self.dilations,
            group: self.group,
            auto_pad: self.auto_pad,
        }
    }
}

impl ConvTransposeAttrs {
    /// These attributes as the geometry resolver's plain lists.
    pub fn spec(&self) -> TransposeSpec<'_> {
        TransposeSpec {
            conv: self.conv.spec(),
            output_padding: &self.output_padding,
            output_shape: &self.output_shape,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::graph::{ConvAttrs, ConvTransposeAttrs};
    use crate::ops::conv::ConvGeometry;

    fn empty_lists() -> ConvAttrs {
        ConvAttrs::default()
    }

    #[test]
    fn empty_lists_take_onnx_defaults_for_the_rank() {
        let attrs = empty_lists();
        let geometry = ConvGeometry::forward(&attrs.spec(), &[1, 2, 5, 6], &[3, 2, 2, 3]).unwrap();
        assert_eq!(geometry.strides, [1, 1]);
        assert_eq!(geometry.dilations, [1, 1]);
        assert_eq!(geometry.unsigned_pads(), Some(vec![0; 4]));
        assert_eq!(geometry.output_shape(1), [1, 3, 4, 4]);
        let transposed = ConvTransposeAttrs {
            conv: empty_lists(),
            output_padding: vec![],
            output_shape: vec![4, 5, 6],
        };
        let x = [1, 1, 3, 4, 5];
        let geometry = ConvGeometry::transposed(&transposed.spec(), &x, &[1, 2, 2, 2, 2]).unwrap();
        assert_eq!(geometry.output_shape(1), [1, 2, 4, 5, 6]);
    }

    #[test]
    fn given_lists_of_the_wrong_length_are_errors() {
        let given = ConvAttrs {
            strides: vec![2, 3],
            pads: vec![1],
            ..empty_lists()
        };
        assert!(ConvGeometry::forward(&given.spec(), &[1, 1, 5, 5], &[1, 1, 3, 3]).is_err());
    }
}
