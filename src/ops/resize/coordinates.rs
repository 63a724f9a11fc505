//! ONNX Resize's coordinate rules, per axis and in f64, written as the operator spec states them:
//! the output size, the source coordinate of an output index (`coordinate_transformation_mode`),
//! and the input taps nearest or linear interpolation reads there. Both the reference and the
//! GPU launcher (which uploads one table of taps per axis) use these, so index selection is
//! exact and the kernel only gathers and blends.

use crate::error::{Error, Result};

/// How an output index maps back to an input coordinate (`coordinate_transformation_mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum CoordinateMode {
    /// `(x + 0.5) / scale − 0.5` (the ONNX default).
    #[default]
    HalfPixel,
    /// `offset + (x + 0.5) / scale − 0.5`, with `offset = in/2 · (1 − out / (scale·in))`.
    HalfPixelSymmetric,
    /// `(x + 0.5) / scale − 0.5` when the output length exceeds 1, else 0.
    PytorchHalfPixel,
    /// `x · (in − 1) / (out − 1)`, 0 when the output length is 1.
    AlignCorners,
    /// `x / scale`.
    Asymmetric,
    /// `(x + 0.5) / scale`.
    TfHalfPixelForNn,
}

/// How nearest mode rounds a source coordinate (`nearest_mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum NearestMode {
    /// Round to nearest, ties down (the ONNX default).
    #[default]
    RoundPreferFloor,
    /// Round to nearest, ties up.
    RoundPreferCeil,
    /// Round down.
    Floor,
    /// Round up.
    Ceil,
}

/// The interpolation (`mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ResizeMode {
    /// The nearest input element, rounded as the [`NearestMode`] says.
    Nearest(NearestMode),
    /// Bilinear over H and W; the source coordinate is clamped to `[0, in − 1]`.
    Linear,
}

/// The output's extent: from scales (`floor(in · scale)`, the product in f32) or given sizes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ResizeTarget {
    /// Scale factors for H and W (`scales[2..4]` of ONNX's NCHW scales).
    Scales([f32; 2]),
    /// Output H and W (`sizes[2..4]`); the scale is then `out / in`.
    Sizes([usize; 2]),
}

/// One output index's read along one axis: `(1 − weight)·input[first] + weight·input[second]`
/// (nearest: `first == second`, weight 0).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AxisTap {
    /// The first input index.
    pub first: usize,
    /// The second input index.
    pub second: usize,
    /// The second index's weight.
    pub weight: f64,
}

/// The output extent and the scale of one axis of length `input` under `target`'s `axis` entry.
pub fn axis_geometry(target: ResizeTarget, axis: usize, input: usize) -> Result<(usize, f64)> {
    let invalid = |detail: String| Error::InvalidArgument {
        op: "resize",
        detail,
    };
    if input == 0 {
        return Err(invalid(format!("cannot resize an empty axis {axis}")));
    }
    let (output, scale) = match target {
        ResizeTarget::Scales(scales) => {
            let scale = f64::from(scales[axis]);
            if !(scale.is_finite() && scale > 0.0) {
                return Err(invalid(format!(
                    "scale {scale} must be finite and positive"
                )));
            }
            // The product in f32, as ONNX Runtime computes it: `10 × 0.7` gives 7, not 6.
            ((input as f32 * scales[axis]).floor() as usize, scale)
        }
        ResizeTarget::Sizes(sizes) => (sizes[axis], sizes[axis] as f64 / input as f64),
    };
    if output == 0 {
        return Err(invalid(format!(
            "axis {axis} of length {input} would resize to 0"
        )));
    }
    Ok((output, scale))
}

/// The input coordinate of output index `x` along an axis of `input` → `output` elements.
pub fn source_coordinate(
    mode: CoordinateMode,
    x: usize,
    scale: f64,
    input: usize,
    output: usize,
) -> f64 {
    let x = x as f64;
    match mode {
        CoordinateMode::HalfPixel => (x + 0.5) / scale - 0.5,
        CoordinateMode::HalfPixelSymmetric => {
            let adjustment = output as f64 / (scale * input as f64);
            let offset = input as f64 / 2.0 * (1.0 - adjustment);
            offset + (x + 0.5) / scale - 0.5
        }
        CoordinateMode::PytorchHalfPixel if output > 1 => (x + 0.5) / scale - 0.5,
        CoordinateMode::PytorchHalfPixel => 0.0,
        CoordinateMode::AlignCorners if output == 1 => 0.0,
        CoordinateMode::AlignCorners => x * (input as f64 - 1.0) / (output as f64 - 1.0),
        CoordinateMode::Asymmetric => x / scale,
        CoordinateMode::TfHalfPixelForNn => (x + 0.5) / scale,
    }
}

/// The input index nearest mode reads at coordinate `source`, clamped into `0..input`.
pub fn nearest_index(mode: NearestMode, source: f64, input: usize) -> usize {
    let floor = source.floor();
    let is_tie = source - floor == 0.5;
    let rounded = match mode {
        NearestMode::RoundPreferFloor if is_tie => floor,
        NearestMode::RoundPreferCeil if is_tie => floor + 1.0,
        NearestMode::RoundPreferFloor | NearestMode::RoundPreferCeil => source.round(),
        NearestMode::Floor => floor,
        NearestMode::Ceil => source.ceil(),
    };
    rounded.clamp(0.0, input as f64 - 1.0) as usize
}

/// The taps of every output index along one axis.
pub fn axis_taps(
    mode: ResizeMode,
    coordinates: CoordinateMode,
    scale: f64,
    input: usize,
    output: usize,
) -> Vec<AxisTap> {
    (0..output)
        .map(|x| {
            let source = source_coordinate(coordinates, x, scale, input, output);
            match mode {
                ResizeMode::Nearest(rounding) => {
                    let index = nearest_index(rounding, source, input);
                    AxisTap {
                        first: index,
                        second: index,
                        weight: 0.0,
                    }
                }
                ResizeMode::Linear => {
                    let clamped = source.clamp(0.0, input as f64 - 1.0);
                    let first = clamped.floor() as usize;
                    AxisTap {
                        first,
                        second: (first + 1).min(input - 1),
                        weight: clamped - first as f64,
                    }
                }
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coordinates_follow_the_spec() {
        // Upsampling 2 → 4 by 2.
        let half: Vec<f64> = (0..4)
            .map(|x| source_coordinate(CoordinateMode::HalfPixel, x, 2.0, 2, 4))
            .collect();
        assert_eq!(half, [-0.25, 0.25, 0.75, 1.25]);
        assert_eq!(
            source_coordinate(CoordinateMode::AlignCorners, 3, 2.0, 2, 4),
            1.0
        );
        assert_eq!(
            source_coordinate(CoordinateMode::AlignCorners, 0, 0.2, 5, 1),
            0.0
        );
        assert_eq!(
            source_coordinate(CoordinateMode::PytorchHalfPixel, 0, 0.2, 5, 1),
            0.0
        );
        assert_eq!(
            source_coordinate(CoordinateMode::Asymmetric, 3, 2.0, 2, 4),
            1.5
        );
        assert_eq!(
            source_coordinate(CoordinateMode::TfHalfPixelForNn, 1, 2.0, 2, 4),
            0.75
        );
        // Without rounding in the output size the symmetric variant is half_pixel.
        assert_eq!(
            source_coordinate(CoordinateMode::HalfPixelSymmetric, 1, 2.0, 2, 4),
            0.25
        );
    }

    #[test]
    fn nearest_rounding_and_clamping() {
        assert_eq!(nearest_index(NearestMode::RoundPreferFloor, 1.5, 4), 1);
        assert_eq!(nearest_index(NearestMode::RoundPreferCeil, 1.5, 4), 2);
        assert_eq!(nearest_index(NearestMode::RoundPreferFloor, 1.6, 4), 2);
        assert_eq!(nearest_index(NearestMode::Floor, 1.9, 4), 1);
        assert_eq!(nearest_index(NearestMode::Ceil, 1.1, 4), 2);
        assert_eq!(nearest_index(NearestMode::Ceil, 3.5, 4), 3);
        assert_eq!(nearest_index(NearestMode::RoundPreferFloor, -0.5, 4), 0);
    }

    #[test]
    fn onnx_linear_upsample_example() {
        // resize_upsample_scales_linear: [[1, 2], [3, 4]] by 2, half_pixel; first row
        // [1, 1.25, 1.75, 2].
        let taps = axis_taps(ResizeMode::Linear, CoordinateMode::HalfPixel, 2.0, 2, 4);
        let row: Vec<f64> = taps
            .iter()
            .map(|tap| {
                (1.0 - tap.weight) * [1.0, 2.0][tap.first] + tap.weight * [1.0, 2.0][tap.second]
            })
            .collect();
        assert_eq!(row, [1.0, 1.25, 1.75, 2.0]);
        assert_eq!(
            axis_geometry(ResizeTarget::Scales([0.6, 1.0]), 0, 5).unwrap(),
            (3, 0.6f32 as f64)
        );
        assert!(axis_geometry(ResizeTarget::Scales([0.1, 1.0]), 0, 5).is_err());
        assert!(axis_geometry(ResizeTarget::Sizes([0, 1]), 0, 5).is_err());
    }
}
