//! MaxPool, AveragePool and the global pools over f32 and f16 tensors (MaxPool and GlobalMaxPool
//! also i8 and u8, exact through f32). Two spatial axes go through [`reference_pool2d`]; any other count as one
//! [`reference_pool2d`] pass per spatial axis, with the tensor viewed as `[1, outer, extent,
//! inner]` and a `k × 1` window. That is exact, not an approximation: a pool window is a box, so
//! its maximum is the maximum of per-axis maxima, and its average divides a box sum by a count
//! that is the product of per-axis counts (taps inside the input, or with `count_include_pad`
//! inside the padded input), so averaging one axis after another gives the same value, rounded
//! to f32 once per pass.

use crate::error::Result;
use crate::graph::eval::args::{
    expect_arity, float_values, output_len, required, shape_error, unsupported, Inputs,
};
use crate::graph::eval::element::{is_float, tensor_from_f64};
use crate::graph::PoolAttrs;
use crate::ops::conv::geometry::{axis_values, resolve_auto_pads};
use crate::ops::pooling::{reference_global_pool, reference_pool2d, Pool2dOptions, PoolKind};
use crate::tensor::{DType, HostTensor};

/// MaxPool or AveragePool `(x)` with `attrs`.
pub(crate) fn pool(kind: PoolKind, attrs: &PoolAttrs, inputs: Inputs) -> Result<Vec<HostTensor>> {
    expect_arity(inputs, 1, 1)?;
    let x = required(inputs, 0)?;
    let exact_in_f32 = matches!(x.dtype(), DType::I8 | DType::U8) && kind == PoolKind::Max;
    if !is_float(x.dtype()) && !exact_in_f32 {
        return Err(unsupported(format!(
            "{kind:?} pool of a {} tensor",
            x.dtype()
        )));
    }
    if x.shape().len() < 3 || x.shape()[2..].contains(&0) {
        return Err(shape_error(format!(
            "x must be [N, C, spatial...] with non-empty spatial axes, got {:?}",
            x.shape()
        )));
    }
    let axis_options = axis_options(attrs, &x.shape()[2..])?;
    let values: Vec<f32> = match exact_in_f32 {
        true => x.to_f64_vec().into_iter().map(|v| v as f32).collect(),
        false => float_values(x, "x")?.into_owned(),
    };
    let (shape, pooled) = match &axis_options[..] {
        [rows, columns] => {
            let options = Pool2dOptions {
                kernel: [rows.kernel[0], columns.kernel[0]],
                strides: [rows.strides[0], columns.strides[0]],
                pads: [rows.pads[0], columns.pads[0], rows.pads[2], columns.pads[2]],
                dilations: [rows.dilations[0], columns.dilations[0]],
                ..*rows
            };
            let [n, c, h, w] = [x.shape()[0], x.shape()[1], x.shape()[2], x.shape()[3]];
            let [out_h, out_w] = options.output_size([h, w])?;
            output_len(&[n, c, out_h, out_w])?;
            let pooled = reference_pool2d(kind, &values, [n, c, h, w], &options);
            (vec![n, c, out_h, out_w], pooled)
        }
        _ => pool_axis_by_axis(kind, x.shape(), values, &axis_options)?,
    };
    let output = tensor_from_f64(x.dtype(), &shape, pooled.into_iter().map(f64::from))?;
    Ok(vec![output])
}

/// The window along each spatial axis as a `k × 1` 2-D pool, after `auto_pad`.
fn axis_options(attrs: &PoolAttrs, spatial: &[usize]) -> Result<Vec<Pool2dOptions>> {
    let rank = spatial.len();
    if attrs.kernel_shape.is_empty() {
        return Err(shape_error("kernel_shape is required"));
    }
    let kernel = axis_values("kernel_shape", &attrs.kernel_shape, rank, 1)?;
    let strides = axis_values("strides", &attrs.strides, rank, 1)?;
    let dilations = axis_values("dilations", &attrs.dilations, rank, 1)?;
    let pads = resolve_auto_pads(
        attrs.auto_pad,
        spatial,
        &kernel,
        &strides,
        &dilations,
        &attrs.pads,
    )?;
    let (begin, end) = pads.split_at(rank);
    Ok((0..rank)
        .map(|axis| Pool2dOptions {
            kernel: [kernel[axis], 1],
            strides: [strides[axis], 1],
            pads: [begin[axis], 0, end[axis], 0],
            dilations: [dilations[axis], 1],
            ceil_mode: attrs.ceil_mode,
            count_include_pad: attrs.count_include_pad,
        })
        .collect())
}

/// One 2-D reference pass per spatial axis (see the module documentation).
fn pool_axis_by_axis(
    kind: PoolKind,
    shape: &[usize],
    mut values: Vec<f32>,
    axis_options: &[Pool2dOptions],
) -> Result<(Vec<usize>, Vec<f32>)> {
    let mut shape = shape.to_vec();
    for (axis, options) in (2..).zip(axis_options) {
        let outer: usize = shape[..axis].iter().product();
        let inner: usize = shape[axis + 1..].iter().product();
        let [extent, _] = options.output_size([shape[axis], inner])?;
        let input = [1, outer, shape[axis], inner];
        shape[axis] = extent;
        output_len(&shape)?;
        values = reference_pool2d(kind, &values, input, options);
    }
    Ok((shape, values))
}

/// GlobalAveragePool or GlobalMaxPool `(x)`: `[N, C, spatial…]` to `[N, C, 1, …]`.
pub(crate) fn global_pool(kind: PoolKind, inputs: Inputs) -> Result<Vec<HostTensor>> {
    expect_arity(inputs, 1, 1)?;
    let x = required(inputs, 0)?;
    if x.shape().len() < 2 {
        return Err(shape_error(format!(
            "x must be [N, C, ...], got {:?}",
            x.shape()
        )));
    }
    let plane: usize = x.shape()[2..].iter().product();
    if plane == 0 {
        return Err(shape_error(format!(
            "cannot pool the empty planes of {:?}",
            x.shape()
        )));
    }
    let values: Vec<f32> = match (kind, x.dtype()) {
        // Every 8-bit value is exact in f32, so the max is the integers' max.
        (PoolKind::Max, DType::I8 | DType::U8) => {
            x.to_f64_vec().into_iter().map(|v| v as f32).collect()
        }
        _ => float_values(x, "x")?.into_owned(),
    };
    let pooled = reference_global_pool(kind, &values, plane);
    let mut shape = x.shape().to_vec();
    shape[2..].fill(1);
    Ok(vec![tensor_from_f64(
        x.dtype(),
        &shape,
        pooled.into_iter().map(f64::from),
    )?])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::SeededRng;
    use crate::graph::AutoPad;
    use crate::tensor::TensorData;

    fn attrs(kernel: &[usize]) -> PoolAttrs {
        PoolAttrs {
            kernel_shape: kernel.to_vec(),
            strides: vec![],
            pads: vec![],
            dilations: vec![],
            ceil_mode: false,
            count_include_pad: false,
            auto_pad: AutoPad::NotSet,
        }
    }

    fn f32s(shape: &[usize], values: &[f32]) -> HostTensor {
        HostTensor::from_f32(shape, values.to_vec()).unwrap()
    }

    #[test]
    fn one_dimensional_windows_by_hand() {
        let x = f32s(&[1, 1, 5], &[1.0, 5.0, 2.0, 4.0, 3.0]);
        let max = pool(PoolKind::Max, &attrs(&[2]), &[Some(&x)]).unwrap();
        assert_eq!(max[0].as_f32().unwrap(), &[5.0, 5.0, 4.0, 4.0]);
        let padded = PoolAttrs {
            strides: vec![2],
            pads: vec![1, 1],
            ..attrs(&[2])
        };
        // Windows [pad, 1], [5, 2], [4, 3]: averages over the real elements.
        let average = pool(PoolKind::Average, &padded, &[Some(&x)]).unwrap();
        assert_eq!(average[0].as_f32().unwrap(), &[1.0, 3.5, 3.5]);
        let bytes = HostTensor::new(&[1, 1, 3], TensorData::U8(vec![1, 200, 3])).unwrap();
        let max = pool(PoolKind::Max, &attrs(&[2]), &[Some(&bytes)]).unwrap();
        assert_eq!(max[0].data(), &TensorData::U8(vec![200, 200]));
        assert!(pool(PoolKind::Average, &attrs(&[2]), &[Some(&bytes)]).is_err());
    }

    /// A 2-D pool computed as two 1-D passes equals the direct 2-D reference. Maxima match
    /// exactly; each average pass rounds to f32, so the split result is within
    /// 2⁻²⁴·(|first pass| + |result|) ≤ 2·2⁻²⁴·4 ≈ 4.8e-7 of the direct one for inputs in
    /// [−4, 4]; 1e-6 covers it.
    #[test]
    fn axis_by_axis_matches_the_2d_reference() {
        let mut rng = SeededRng::new(3);
        let shape = [2, 3, 7, 6];
        let values = rng.uniform_vec(shape.iter().product(), -4.0, 4.0);
        for (kind, include_pad, ceil_mode) in [
            (PoolKind::Max, false, true),
            (PoolKind::Average, false, true),
            (PoolKind::Average, true, false),
        ] {
            let attrs = PoolAttrs {
                strides: vec![2, 3],
                pads: vec![1, 0, 1, 2],
                dilations: vec![1, 2],
                ceil_mode,
                count_include_pad: include_pad,
                ..attrs(&[3, 2])
            };
            let x = f32s(&shape, &values);
            let direct = pool(kind, &attrs, &[Some(&x)]).unwrap();
            let options = axis_options(&attrs, &shape[2..]).unwrap();
            let (split_shape, split) =
                pool_axis_by_axis(kind, &shape, values.clone(), &options).unwrap();
            assert_eq!(direct[0].shape(), &split_shape[..]);
            for (a, b) in direct[0].as_f32().unwrap().iter().zip(&split) {
                assert!((a - b).abs() <= 1e-6, "{kind:?}: {a} vs {b}");
            }
        }
    }

    #[test]
    fn three_dimensional_same_padding() {
        let x = f32s(&[1, 1, 2, 2, 2], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]);
        let same = PoolAttrs {
            auto_pad: AutoPad::SameUpper,
            ..attrs(&[2, 2, 2])
        };
        let max = pool(PoolKind::Max, &same, &[Some(&x)]).unwrap();
        assert_eq!(max[0].shape(), &[1, 1, 2, 2, 2]);
        assert_eq!(
            max[0].as_f32().unwrap(),
            &[8.0, 8.0, 8.0, 8.0, 8.0, 8.0, 8.0, 8.0]
        );
        let average = pool(PoolKind::Average, &same, &[Some(&x)]).unwrap();
        assert_eq!(average[0].as_f32().unwrap()[7], 8.0);
        assert_eq!(average[0].as_f32().unwrap()[0], 4.5);
    }

    #[test]
    fn global_pools_keep_n_and_c() {
        let x = f32s(&[1, 2, 2], &[1.0, 3.0, -1.0, f32::NAN]);
        let average = global_pool(PoolKind::Average, &[Some(&x)]).unwrap();
        assert_eq!(average[0].shape(), &[1, 2, 1]);
        assert_eq!(average[0].as_f32().unwrap()[0], 2.0);
        let max = global_pool(PoolKind::Max, &[Some(&x)]).unwrap();
        assert!(max[0].as_f32().unwrap()[1].is_nan());
        assert!(global_pool(PoolKind::Max, &[Some(&f32s(&[2], &[1.0, 2.0]))]).is_err());
    }
}
