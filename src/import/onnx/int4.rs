//! Int4 and uint4 weights (opset 21) at import. kiln's tensors have no 4-bit element type, so a
//! `DequantizeLinear` whose `x` is an INT4/UINT4 initializer and whose scale (and zero point)
//! are initializers too (the form of a blocked or per-axis int4 weight, as kiln's own QDQ export
//! writes it) is evaluated here, before the graph is converted: its output becomes an f32
//! initializer holding `(q − zero_point) · scale` and the node is dropped (with the Reshape to a
//! constant shape that follows it when only that Reshape reads it). Any other use of a
//! 4-bit tensor stays an [`Error::Unsupported`] naming it (from reading its data type).

use super::attributes::Attributes;
use super::external::ExternalData;
use super::proto::{data_type, DataLocation, GraphProto, NodeProto, TensorProto};
use super::tensor::{checked_shape, tensor_from_proto, tensor_to_proto};
use crate::error::{Error, Result};
use crate::ops::quantize::{reference_dequantize_linear, QdqAttributes};
use crate::tensor::{DType, HostTensor, TensorData};
use std::collections::{HashMap, HashSet};

/// Replaces every `DequantizeLinear` of constant 4-bit weights in `graph` by the f32 initializer
/// it computes, and drops the 4-bit initializers nothing reads any more.
pub(crate) fn dequantize_int4_weights(
    graph: &mut GraphProto,
    external: &mut ExternalData,
) -> Result<()> {
    let is_int4 = |tensor: &TensorProto| {
        tensor.data_type == data_type::INT4 || tensor.data_type == data_type::UINT4
    };
    if !graph.initializer.iter().any(is_int4) {
        return Ok(());
    }
    let mut kept = Vec::with_capacity(graph.node.len());
    let mut dequantized = HashSet::new();
    for node in std::mem::take(&mut graph.node) {
        let reads_int4 = node.op_type == "DequantizeLinear"
            && matches!(node.domain.as_str(), "" | "ai.onnx")
            && find(graph, node.input.first()).is_some_and(is_int4);
        if let Some(x) = find(graph, node.input.first()).filter(|_| reads_int4) {
            let value = dequantize(graph, &node, x, external)?;
            let output = node.output.first().cloned().unwrap_or_default();
            graph.initializer.push(tensor_to_proto(&output, &value));
            dequantized.insert(output);
        } else {
            kept.push(node);
        }
    }
    graph.node = kept;
    fold_reshapes(graph, &dequantized, external)?;
    let read: HashSet<&String> = graph.node.iter().flat_map(|node| &node.input).collect();
    let unread: HashSet<String> = (graph.initializer.iter())
        .filter(|tensor| is_int4(tensor) && !read.contains(&tensor.name))
        .map(|tensor| tensor.name.clone())
        .collect();
    graph
        .initializer
        .retain(|tensor| !unread.contains(&tensor.name));
    Ok(())
}

/// Folds each Reshape of a dequantized weight that only it reads (how kiln's export gives a
/// Conv weight its shape) to a constant shape into the weight: the initializer is renamed to the
/// Reshape's output and given its dims.
fn fold_reshapes(
    graph: &mut GraphProto,
    dequantized: &HashSet<String>,
    external: &mut ExternalData,
) -> Result<()> {
    let mut readers: HashMap<String, usize> = HashMap::new();
    for input in graph.node.iter().flat_map(|node| &node.input) {
        *readers.entry(input.clone()).or_default() += 1;
    }
    let mut kept = Vec::with_capacity(graph.node.len());
    for node in std::mem::take(&mut graph.node) {
        let only_reader = node
            .input
            .first()
            .is_some_and(|source| readers[source] == 1);
        match reshape_target(graph, &node, dequantized, external)?.filter(|_| only_reader) {
            Some((source, dims)) => {
                let tensor = (graph.initializer.iter_mut())
                    .find(|tensor| tensor.name == source)
                    .ok_or_else(|| invalid(&source, "was folded twice".into()))?;
                tensor.name = node.output[0].clone();
                tensor.dims = dims;
            }
            None => kept.push(node),
        }
    }
    graph.node = kept;
    Ok(())
}

/// The dequantized weight `node` reshapes and the dims it gives it, when `node` is a Reshape of
/// one that nothing else reads (the caller checks that), to an INT64 initializer shape of positive extents of the same
/// element count.
fn reshape_target(
    graph: &GraphProto,
    node: &NodeProto,
    dequantized: &HashSet<String>,
    external: &mut ExternalData,
) -> Result<Option<(String, Vec<i64>)>> {
    let (Some(source), Some(shape), Some(_)) =
        (node.input.first(), node.input.get(1), node.output.first())
    else {
        return Ok(None);
    };
    let graph_output = graph.output.iter().any(|output| &output.name == source);
    if node.op_type != "Reshape" || !dequantized.contains(source) || graph_output {
        return Ok(None);
    }
    let (Some(shape), Some(weight)) = (find(graph, Some(shape)), find(graph, Some(source))) else {
        return Ok(None);
    };
    let location = format!("initializer '{}'", shape.name);
    let shape = tensor_from_proto(shape, &location, external)?;
    let TensorData::I64(dims) = shape.data() else {
        return Ok(None);
    };
    let dims = dims.clone();
    let count = |dims: &[i64]| {
        dims.iter()
            .try_fold(1i64, |count, &dim| count.checked_mul(dim))
    };
    let positive = dims.iter().all(|&dim| dim > 0);
    if !positive || count(&dims).is_none() || count(&dims) != count(&weight.dims) {
        return Ok(None);
    }
    Ok(Some((source.clone(), dims)))
}

/// The initializer named `name`, if any.
fn find<'g>(graph: &'g GraphProto, name: Option<&String>) -> Option<&'g TensorProto> {
    let name = name.filter(|name| !name.is_empty())?;
    graph.initializer.iter().find(|tensor| &tensor.name == name)
}

/// The f32 value of one `DequantizeLinear` of a 4-bit initializer.
fn dequantize(
    graph: &GraphProto,
    node: &NodeProto,
    x: &TensorProto,
    external: &mut ExternalData,
) -> Result<HostTensor> {
    let location = format!("node '{}' (DequantizeLinear)", node.name);
    let attributes = Attributes::new(location.clone(), &node.attribute)?;
    let block_size = attributes.count_or("block_size", 0, 0)?;
    let qdq = QdqAttributes {
        axis: attributes.int_or("axis", 1)?,
        block_size,
    };
    let unsupported = |detail: String| Error::Unsupported {
        location: location.clone(),
        detail,
    };
    let (x_shape, q) = read_int4(x)?;
    let scale = find(graph, node.input.get(1))
        .ok_or_else(|| unsupported("a 4-bit weight's scale must be an initializer".into()))?;
    let scale_location = format!("initializer '{}'", scale.name);
    let scale = tensor_from_proto(scale, &scale_location, external)?;
    let scale_values = scale.as_f32().ok_or_else(|| {
        unsupported(format!(
            "scale is {}; kiln dequantizes with FLOAT",
            scale.dtype()
        ))
    })?;
    let zero_point = match node.input.get(2).filter(|name| !name.is_empty()) {
        None => None,
        Some(name) => {
            let zero_point = find(graph, Some(name))
                .filter(|zero_point| zero_point.data_type == x.data_type)
                .ok_or_else(|| {
                    unsupported(format!(
                        "zero point '{name}' must be an initializer of x's 4-bit type"
                    ))
                })?;
            let (zero_shape, zero_values) = read_int4(zero_point)?;
            if zero_shape != scale.shape() {
                return Err(invalid(
                    &location,
                    format!(
                        "zero point {zero_shape:?} and scale {:?} differ",
                        scale.shape()
                    ),
                ));
            }
            Some(zero_values)
        }
    };
    let values = reference_dequantize_linear(
        &q,
        &x_shape,
        scale_values,
        scale.shape(),
        zero_point.as_deref(),
        &qdq,
    )
    .map_err(|error| invalid(&location, error.to_string()))?;
    HostTensor::from_f32(&x_shape, values.iter().map(|&value| value as f32).collect())
}

/// The shape and values of an INT4 or UINT4 tensor stored as `raw_data`, two values a byte, the
/// first in the low nibble.
fn read_int4(tensor: &TensorProto) -> Result<(Vec<usize>, Vec<i32>)> {
    let location = format!("initializer '{}'", tensor.name);
    let (shape, count) = checked_shape(&tensor.dims, DType::I8, &location)?;
    let raw = match &tensor.raw_data {
        Some(raw) if tensor.data_location == DataLocation::Default as i32 => raw,
        _ => {
            return Err(Error::Unsupported {
                location,
                detail: "kiln reads 4-bit tensors from raw_data only".into(),
            })
        }
    };
    if raw.len() != count.div_ceil(2) {
        return Err(invalid(
            &location,
            format!(
                "{count} 4-bit values need {} bytes, got {}",
                count.div_ceil(2),
                raw.len()
            ),
        ));
    }
    let signed = tensor.data_type == data_type::INT4;
    let values = (0..count)
        .map(|index| {
            let nibble = (raw[index / 2] >> (4 * (index % 2))) & 0xF;
            if signed {
                i32::from(((nibble << 4) as i8) >> 4)
            } else {
                i32::from(nibble)
            }
        })
        .collect();
    Ok((shape, values))
}

fn invalid(location: &str, detail: String) -> Error {
    Error::InvalidModel {
        location: location.to_string(),
        detail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::onnx::testing::{f32_tensor, int, model, node, parse, parse_error};

    /// A `[2, 3]` INT4 or UINT4 tensor from six 4-bit values.
    fn int4(name: &str, code: i32, nibbles: [u8; 6]) -> TensorProto {
        let raw = nibbles
            .chunks(2)
            .map(|pair| pair[0] | pair[1] << 4)
            .collect();
        TensorProto {
            name: name.into(),
            dims: vec![2, 3],
            data_type: code,
            raw_data: Some(raw),
            ..Default::default()
        }
    }

    /// `Add(x, DequantizeLinear(w))` with `w` 4-bit and blocks of 2 along axis 1.
    fn dequantize_model(weights: Vec<TensorProto>) -> crate::import::onnx::proto::ModelProto {
        let attributes = vec![int("axis", 1), int("block_size", 2)];
        let dequantize = node("DequantizeLinear", &["w", "s", "z"], &["w_f32"], attributes);
        let add = node("Add", &["x", "w_f32"], &["y"], vec![]);
        let mut initializers = weights;
        initializers.push(f32_tensor("s", &[2, 2], vec![0.5, 2.0, 0.25, 1.0]));
        model(21, vec![dequantize, add], initializers, &["y"])
    }

    #[test]
    fn int4_and_uint4_weights_dequantize_by_block_at_import() {
        let weight = int4("w", data_type::INT4, [0xF, 0x8, 0x7, 0x1, 0x2, 0x3]);
        let zero_point = TensorProto {
            dims: vec![2, 2],
            raw_data: Some(vec![0x01, 0xF0]),
            ..int4("z", data_type::INT4, [0; 6])
        };
        let graph = parse(&dequantize_model(vec![weight, zero_point])).unwrap();
        // Rows [-1, -8, 7] and [1, 2, 3]; blocks {0, 1} and {2}; zero points [[1, 0], [0, -1]].
        let expected = [-1.0, -4.5, 14.0, 0.25, 0.5, 4.0];
        assert_eq!(graph.initializers["w_f32"].as_f32().unwrap(), expected);
        assert!(!graph.initializers.contains_key("w"));
        let unsigned = vec![
            int4("w", data_type::UINT4, [0xF, 0x8, 0x7, 0x1, 0x2, 0x3]),
            TensorProto {
                dims: vec![2, 2],
                raw_data: Some(vec![0x01, 0xF0]),
                ..int4("z", data_type::UINT4, [0; 6])
            },
        ];
        let graph = parse(&dequantize_model(unsigned)).unwrap();
        let expected = [7.0, 3.5, 14.0, 0.25, 0.5, -12.0];
        assert_eq!(graph.initializers["w_f32"].as_f32().unwrap(), expected);
    }

    #[test]
    fn malformed_or_unfoldable_4_bit_tensors_are_errors_naming_them() {
        let mut short = int4("w", data_type::INT4, [0; 6]);
        short.raw_data = Some(vec![0; 2]);
        let message = parse_error(&dequantize_model(vec![short]));
        assert!(
            message.contains("'w'") && message.contains("need 3 bytes"),
            "{message}"
        );
        let mut bad_block = dequantize_model(vec![
            int4("w", data_type::INT4, [0; 6]),
            TensorProto {
                dims: vec![2, 2],
                raw_data: Some(vec![0, 0]),
                ..int4("z", data_type::INT4, [0; 6])
            },
        ]);
        let graph = bad_block.graph.as_mut().unwrap();
        graph.node[0].attribute[1].i = 4;
        let message = parse_error(&bad_block);
        assert!(message.contains("DequantizeLinear"), "{message}");
        let mut other_use = dequantize_model(vec![int4("w", data_type::INT4, [0; 6])]);
        let graph = other_use.graph.as_mut().unwrap();
        graph.node[0].input.truncate(2);
        graph
            .node
            .push(node("Identity", &["w"], &["w_copy"], vec![]));
        let message = parse_error(&other_use);
        assert!(
            message.contains("'w'") && message.contains("INT4"),
            "{message}"
        );
    }
}
