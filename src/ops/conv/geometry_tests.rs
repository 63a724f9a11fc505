//! Tests of the geometry resolver ([`super::geometry`]): SAME pads, transposed output shapes,
//! defaults from the spatial rank and the errors bad attributes give.

use crate::ops::conv::geometry::{
    resolve_auto_pads, AutoPad, ConvGeometry, ConvSpec, TransposeSpec,
};

fn spec(auto_pad: AutoPad) -> ConvSpec<'static> {
    ConvSpec {
        kernel_shape: &[],
        strides: &[2, 2],
        pads: &[],
        dilations: &[],
        group: 1,
        auto_pad,
    }
}

#[test]
fn same_padding_puts_the_odd_pad_where_asked() {
    // 5 wide, stride 2 → 3 outputs; (3 − 1)·2 + 3 − 5 = 2 pads, split 1 + 1. 6 wide → 3
    // outputs, 1 pad: at the end (upper) or the beginning (lower).
    let upper = ConvGeometry::forward(&spec(AutoPad::SameUpper), &[1, 1, 5, 6], &[1, 1, 3, 3]);
    let upper = upper.unwrap();
    assert_eq!((upper.pads_begin, upper.pads_end), (vec![1, 0], vec![1, 1]));
    assert_eq!(upper.output, vec![3, 3]);
    let lower = ConvGeometry::forward(&spec(AutoPad::SameLower), &[1, 1, 5, 6], &[1, 1, 3, 3]);
    assert_eq!(lower.unwrap().pads_begin, vec![1, 1]);
    let valid = ConvGeometry::forward(&spec(AutoPad::Valid), &[1, 1, 5, 6], &[1, 1, 3, 3]);
    assert_eq!(valid.unwrap().output, vec![2, 2]);
}

#[test]
fn resolved_pads_list_begins_then_ends() {
    let pads = |auto_pad| resolve_auto_pads(auto_pad, &[5, 6], &[2, 3], &[1, 2], &[1, 1], &[]);
    // Axis 0: 5 outputs need 4 + 2 − 5 = 1 pad; axis 1: 3 outputs need 4 + 3 − 6 = 1.
    assert_eq!(pads(AutoPad::SameUpper).unwrap(), [0, 0, 1, 1]);
    assert_eq!(pads(AutoPad::SameLower).unwrap(), [1, 1, 0, 0]);
    assert_eq!(pads(AutoPad::Valid).unwrap(), [0; 4]);
    assert_eq!(pads(AutoPad::NotSet).unwrap(), [0; 4]);
    let explicit = resolve_auto_pads(AutoPad::NotSet, &[5], &[2], &[1], &[1], &[1, 0]);
    assert_eq!(explicit.unwrap(), [1, 0]);
    assert!(resolve_auto_pads(AutoPad::SameUpper, &[5], &[2], &[0], &[1], &[]).is_err());
    assert!(resolve_auto_pads(AutoPad::NotSet, &[5], &[2], &[1], &[1], &[1]).is_err());
}

#[test]
fn transposed_output_shape_sets_signed_pads() {
    // Full output 3·(3 − 1) + 3 = 9 rows, 2·(3 − 1) + 3 = 7 columns; asking for 10 × 8 pads
    // by −1 at the end of each axis.
    let transpose = TransposeSpec {
        conv: ConvSpec {
            strides: &[3, 2],
            ..spec(AutoPad::NotSet)
        },
        output_padding: &[],
        output_shape: &[10, 8],
    };
    let geometry = ConvGeometry::transposed(&transpose, &[1, 1, 3, 3], &[1, 2, 3, 3]).unwrap();
    assert_eq!(geometry.output, vec![10, 8]);
    assert_eq!(
        (geometry.pads_begin.clone(), geometry.pads_end.clone()),
        (vec![0, 0], vec![-1, -1])
    );
    assert_eq!(geometry.unsigned_pads(), None);
    assert_eq!(geometry.output_shape(2), [2, 2, 10, 8]);
    let same = TransposeSpec {
        conv: spec(AutoPad::SameUpper),
        output_padding: &[],
        output_shape: &[],
    };
    let geometry = ConvGeometry::transposed(&same, &[1, 1, 3, 3], &[1, 2, 3, 3]).unwrap();
    assert_eq!(geometry.output, vec![6, 6]);
    assert_eq!(geometry.unsigned_pads(), Some(vec![0, 0, 1, 1]));
}

#[test]
fn empty_lists_take_the_defaults_of_any_rank() {
    let plain = ConvSpec {
        strides: &[],
        ..spec(AutoPad::NotSet)
    };
    let geometry = ConvGeometry::forward(&plain, &[1, 2, 5, 6, 7], &[4, 2, 2, 3, 1]).unwrap();
    assert_eq!(geometry.output, vec![4, 4, 7]);
    assert_eq!(geometry.strides, vec![1; 3]);
    assert_eq!(geometry.unsigned_pads(), Some(vec![0; 6]));
}

#[test]
fn bad_geometry_is_an_error() {
    let plain = spec(AutoPad::NotSet);
    assert!(ConvGeometry::forward(&plain, &[1, 1, 2, 2], &[1, 1, 3, 3]).is_err());
    assert!(ConvGeometry::forward(&plain, &[1, 2, 5, 5], &[1, 1, 3, 3]).is_err());
    assert!(ConvGeometry::forward(&plain, &[1, 1, 5], &[1, 1, 3, 3]).is_err());
    let huge = ConvSpec {
        strides: &[usize::MAX, 1],
        ..plain
    };
    assert!(ConvGeometry::forward(&huge, &[1, 1, 5, 5], &[1, 1, 3, 3]).is_err());
    let wrong_kernel = ConvSpec {
        kernel_shape: &[2, 2],
        ..plain
    };
    assert!(ConvGeometry::forward(&wrong_kernel, &[1, 1, 5, 5], &[1, 1, 3, 3]).is_err());
    let cropped = TransposeSpec {
        conv: ConvSpec {
            pads: &[2, 2, 2, 2],
            ..plain
        },
        output_padding: &[],
        output_shape: &[],
    };
    assert!(ConvGeometry::transposed(&cropped, &[1, 1, 1, 1], &[1, 1, 3, 3]).is_err());
}
