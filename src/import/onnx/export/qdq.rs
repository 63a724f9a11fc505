//! Packed weights to standard ONNX QDQ: each one becomes an integer initializer and a
//! `DequantizeLinear` whose output carries the weight's name, so the nodes that read it are
//! written unchanged.
//!
//! - `Q8` → an int8 (or, for a uint8 source, uint8) initializer of the logical shape, with one
//!   scale and zero point (per tensor, when every row shares them) or one per output channel
//!   (`axis` 0, or 1 for a MatMul `B` stored as `Wᵀ`); opset ≥ 13.
//! - `Q4` → at opset ≥ 21, an int4 (symmetric groups: the values minus 8, no zero point) or uint4
//!   (with uint4 zero points) initializer and a blocked `DequantizeLinear` (`block_size` = the
//!   group size) whose f32 scales are the f16 scales widened, exactly. `W` is written `[N, K]`
//!   (blocks along axis 1) and, when the logical shape differs (a Conv weight), reshaped;
//!   a MatMul `B` is written `[K, N]` with blocks along axis 0. Below opset 21 the weight is
//!   written dense (dequantized f32), with a warning naming it.
//! - `Bsr` and `NmSparse` are written dense: ONNX has no block-sparse or N:M layout.
//!
//! Every value dequantizes to exactly the f32 [`PackedWeight::to_dense`] gives: `(q − z) · s` is
//! one rounding of an exact product, in kiln and in ONNX alike.

use super::writer::{int_attribute, NodeWriter};
use crate::error::Result;
use crate::graph::{PackedMatrix, PackedWeight};
use crate::import::onnx::proto::{data_type, TensorProto};
use crate::import::onnx::tensor::tensor_to_proto;
use crate::tensor::{HostTensor, Q4Weights, Q8Weights, TensorData};

/// The first opset with blocked quantization and the int4/uint4 types.
pub(crate) const INT4_OPSET: i64 = 21;

/// The zero point of a symmetric Q4 group.
const Q4_SYMMETRIC_ZERO_POINT: u8 = 8;

/// Writes packed weight `name` as QDQ nodes (or, where ONNX cannot hold its layout at
/// `writer.opset`, as a dense initializer).
pub(crate) fn write_packed_weight(
    writer: &mut NodeWriter,
    name: &str,
    weight: &PackedWeight,
) -> Result<()> {
    match &weight.matrix {
        PackedMatrix::Q8 { weights, unsigned } => {
            write_q8(writer, name, weight, weights, *unsigned)
        }
        PackedMatrix::Q4(weights) if writer.opset >= INT4_OPSET => {
            write_q4(writer, name, weight, weights)
        }
        PackedMatrix::Q4(_) => {
            log::warn!(
                "packed weight '{name}' (q4) written to ONNX as dense f32: int4 needs opset \
                 {INT4_OPSET}, the export writes {}",
                writer.opset
            );
            write_dense(writer, name, weight)
        }
        PackedMatrix::Bsr(_) | PackedMatrix::NmSparse(_) => {
            log::info!(
                "packed weight '{name}' ({}) written to ONNX as dense f32: ONNX has no such layout",
                weight.matrix.layout_name()
            );
            write_dense(writer, name, weight)
        }
    }
}

fn write_dense(writer: &mut NodeWriter, name: &str, weight: &PackedWeight) -> Result<()> {
    writer
        .initializers
        .push(tensor_to_proto(name, &weight.to_dense()?));
    Ok(())
}

/// The Q8 values in the logical layout (`[N, K]`, or `[K, N]` when transposed), per tensor when
/// every row has the same scale and zero point.
fn write_q8(
    writer: &mut NodeWriter,
    name: &str,
    weight: &PackedWeight,
    weights: &Q8Weights,
    unsigned: bool,
) -> Result<()> {
    let (rows, cols) = (weights.rows, weights.cols);
    let values = logical_matrix(rows, cols, weight.transposed, |row, col| {
        weights.value(row, col)
    });
    let per_tensor = weights.scales.windows(2).all(|pair| pair[0] == pair[1])
        && weights
            .zero_points
            .windows(2)
            .all(|pair| pair[0] == pair[1]);
    let (scales, zero_points, param_shape) = if per_tensor && rows > 0 {
        (
            vec![weights.scales[0]],
            vec![weights.zero_points[0]],
            vec![],
        )
    } else {
        (
            weights.scales.clone(),
            weights.zero_points.clone(),
            vec![rows],
        )
    };
    let int_tensor = |shape: &[usize], values: &[i8]| {
        let data = if unsigned {
            TensorData::U8(values.iter().map(|&v| (i16::from(v) + 128) as u8).collect())
        } else {
            TensorData::I8(values.to_vec())
        };
        HostTensor::new(shape, data)
    };
    let quantized = int_tensor(&weight.shape, &values)?;
    let quantized = writer.constant(&format!("{name}::quantized"), &quantized);
    let scale = HostTensor::from_f32(&param_shape, scales)?;
    let scale = writer.constant(&format!("{name}::scale"), &scale);
    let zero_point = int_tensor(&param_shape, &zero_points)?;
    let zero_point = writer.constant(&format!("{name}::zero_point"), &zero_point);
    let axis = i64::from(weight.transposed);
    let node_name = writer.fresh_name(&format!("{name}::dequantize"));
    writer.emit(
        &node_name,
        "DequantizeLinear",
        vec![quantized, scale, zero_point],
        vec![name.to_string()],
        vec![int_attribute("axis", axis)],
    );
    Ok(())
}

/// The Q4 nibbles as int4 or uint4 with blocked scales, then a Reshape to a Conv weight's shape.
fn write_q4(
    writer: &mut NodeWriter,
    name: &str,
    weight: &PackedWeight,
    weights: &Q4Weights,
) -> Result<()> {
    let (rows, cols, groups) = (weights.rows, weights.cols, weights.groups_per_row);
    let symmetric = (weights.zero_points.iter()).all(|&zero| zero == Q4_SYMMETRIC_ZERO_POINT);
    let nibble = |row: usize, col: usize| {
        let q = weights.value_q(row, col);
        if symmetric {
            (q.wrapping_sub(Q4_SYMMETRIC_ZERO_POINT)) & 0xF
        } else {
            q
        }
    };
    let scale_at = |row: usize, group: usize| f32::from(weights.scales[row * groups + group]);
    let zero_at = |row: usize, group: usize| weights.zero_points[row * groups + group];
    // [K, N] with blocks along axis 0 for a MatMul B, else [N, K] with blocks along axis 1.
    let transposed = weight.transposed;
    let nibbles = logical_matrix(rows, cols, transposed, nibble);
    let scales = logical_matrix(rows, groups, transposed, scale_at);
    let zeros = logical_matrix(rows, groups, transposed, zero_at);
    let (dims, param_dims) = if transposed {
        ([cols, rows], [groups, rows])
    } else {
        ([rows, cols], [rows, groups])
    };
    let int4_type = if symmetric {
        data_type::INT4
    } else {
        data_type::UINT4
    };
    let quantized = writer.fresh_name(&format!("{name}::quantized"));
    (writer.initializers).push(int4_proto(&quantized, &dims, int4_type, &nibbles));
    let scale = HostTensor::from_f32(&param_dims, scales)?;
    let mut inputs = vec![
        quantized,
        writer.constant(&format!("{name}::scale"), &scale),
    ];
    if !symmetric {
        let zero_point = writer.fresh_name(&format!("{name}::zero_point"));
        (writer.initializers).push(int4_proto(&zero_point, &param_dims, int4_type, &zeros));
        inputs.push(zero_point);
    }
    let block_size = weights.group_size.elements() as i64;
    emit_blocked_dequantize(writer, name, weight, inputs, &dims, block_size)
}

/// The blocked `DequantizeLinear` of `inputs` (blocks along axis 0 of a transposed weight, else
/// axis 1) into `name`, through a Reshape when the written `dims` are not the logical shape.
fn emit_blocked_dequantize(
    writer: &mut NodeWriter,
    name: &str,
    weight: &PackedWeight,
    inputs: Vec<String>,
    dims: &[usize],
    block_size: i64,
) -> Result<()> {
    let reshaped = !weight.transposed && weight.shape[..] != dims[..];
    let output = if reshaped {
        writer.fresh_name(&format!("{name}::dequantized"))
    } else {
        name.to_string()
    };
    let attributes = vec![
        int_attribute("axis", if weight.transposed { 0 } else { 1 }),
        int_attribute("block_size", block_size),
    ];
    let node_name = writer.fresh_name(&format!("{name}::dequantize"));
    writer.emit(
        &node_name,
        "DequantizeLinear",
        inputs,
        vec![output.clone()],
        attributes,
    );
    if reshaped {
        let extents: Vec<i64> = weight.shape.iter().map(|&extent| extent as i64).collect();
        let shape = HostTensor::from_i64(&[extents.len()], extents)?;
        let shape = writer.constant(&format!("{name}::shape"), &shape);
        let node_name = writer.fresh_name(&format!("{name}::reshape"));
        writer.emit(
            &node_name,
            "Reshape",
            vec![output, shape],
            vec![name.to_string()],
            Vec::new(),
        );
    }
    Ok(())
}

/// `f(row, col)` over a `[rows, cols]` matrix, row-major, or over its transpose when
/// `transposed`.
fn logical_matrix<T>(
    rows: usize,
    cols: usize,
    transposed: bool,
    f: impl Fn(usize, usize) -> T,
) -> Vec<T> {
    if transposed {
        (0..cols)
            .flat_map(|col| (0..rows).map(move |row| (row, col)))
            .map(|(row, col)| f(row, col))
            .collect()
    } else {
        (0..rows)
            .flat_map(|row| (0..cols).map(move |col| (row, col)))
            .map(|(row, col)| f(row, col))
            .collect()
    }
}

/// An INT4 or UINT4 tensor of `dims` from one 4-bit value per byte (low nibble), packed two per
/// byte, the first in the low nibble, as ONNX stores them.
fn int4_proto(name: &str, dims: &[usize], data_type: i32, nibbles: &[u8]) -> TensorProto {
    let raw_data = nibbles
        .chunks(2)
        .map(|pair| (pair[0] & 0xF) | (pair.get(1).copied().unwrap_or(0) & 0xF) << 4)
        .collect();
    TensorProto {
        name: name.to_string(),
        dims: dims.iter().map(|&dim| dim as i64).collect(),
        data_type,
        raw_data: Some(raw_data),
        ..Default::default()
    }
}
