//! A decoded `ModelProto` to a [`Graph`]: the default-domain opset, initializers and Constant
//! nodes (both become [`Graph::initializers`]), declared inputs and outputs, every node converted
//! and then sorted, metadata; the result is checked with [`Graph::validate`].

use super::convert::{convert_node, ModelState};
use super::external::ExternalData;
use super::names::NameSet;
use super::proto::{
    DimensionValue, GraphProto, ModelProto, NodeProto, OperatorSetIdProto, TensorProto, TypeValue,
    ValueInfoProto,
};
use super::tensor::{supported_dtype, tensor_from_proto};
use super::topo::sort_nodes;
use crate::error::{Error, Result};
use crate::graph::{Dim, Graph, Node, ValueInfo};
use crate::tensor::HostTensor;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

/// The oldest default-domain opset kiln reads.
pub(crate) const MIN_OPSET: i64 = 6;
/// The newest default-domain opset kiln knows the operator definitions of: the converted ops'
/// schemas were checked up to here (onnx 1.23); later versions only added types and
/// attributes whose defaults keep the old meaning.
pub(crate) const MAX_OPSET: i64 = 28;

/// Converts `model`; external tensor data is read relative to `base_dir`.
pub(crate) fn graph_from_model(model: ModelProto, base_dir: Option<&Path>) -> Result<Graph> {
    let mut graph = model
        .graph
        .ok_or_else(|| invalid("model", "has no graph".into()))?;
    reject_foreign_domains(&graph.node)?;
    let opset = default_opset(&model.opset_import, &graph.node)?;
    if !graph.sparse_initializer.is_empty() {
        return Err(Error::Unsupported {
            location: format!("graph '{}'", graph.name),
            detail: "sparse initializers are not supported".into(),
        });
    }
    let mut external = ExternalData::new(base_dir);
    super::int4::dequantize_int4_weights(&mut graph, &mut external)?;
    let initializers = read_initializers(std::mem::take(&mut graph.initializer), &mut external)?;
    let inputs = graph
        .input
        .iter()
        .filter(|input| !initializers.contains_key(&input.name))
        .map(|input| value_info(input, "input"))
        .collect::<Result<Vec<_>>>()?;
    let outputs = graph
        .output
        .iter()
        .map(|output| value_info(output, "output"))
        .collect::<Result<Vec<_>>>()?;
    let names = NameSet::new(all_value_names(&graph, &initializers));
    let mut state = ModelState {
        opset,
        initializers,
        names,
        used_values: used_value_names(&graph),
        external,
        declared_ranks: declared_ranks(&inputs, &graph.value_info)?,
        extra_nodes: Vec::new(),
    };
    let nodes = convert_nodes(&graph.node, &mut state)?;
    let mut available: HashSet<String> = state.initializers.keys().cloned().collect();
    available.extend(inputs.iter().map(|input| input.name.clone()));
    let result = Graph {
        name: graph.name,
        inputs,
        outputs,
        initializers: state.initializers,
        packed_weights: Default::default(),
        nodes: sort_nodes(nodes, &available)?,
        metadata: model
            .metadata_props
            .into_iter()
            .map(|entry| (entry.key, entry.value))
            .collect(),
    };
    result.validate()?;
    Ok(result)
}

/// The initializers by name, each message dropped once decoded so its bytes are not held twice.
fn read_initializers(
    protos: Vec<TensorProto>,
    external: &mut ExternalData,
) -> Result<BTreeMap<String, HostTensor>> {
    let mut initializers = BTreeMap::new();
    for proto in protos {
        let location = format!("initializer '{}'", proto.name);
        if proto.name.is_empty() || initializers.contains_key(&proto.name) {
            return Err(invalid(&location, "has an empty or repeated name".into()));
        }
        let tensor = tensor_from_proto(&proto, &location, external)?;
        initializers.insert(proto.name, tensor);
    }
    Ok(initializers)
}

/// The version of the `ai.onnx` (or empty) domain the model imports. A model importing only
/// other domains is [`Error::Unsupported`], naming its first node's op and domain.
fn default_opset(opset_import: &[OperatorSetIdProto], protos: &[NodeProto]) -> Result<i64> {
    let opset = opset_import
        .iter()
        .filter(|entry| entry.domain.is_empty() || entry.domain == "ai.onnx")
        .map(|entry| entry.version)
        .max();
    let Some(opset) = opset else {
        let domains: Vec<&str> = opset_import
            .iter()
            .map(|entry| entry.domain.as_str())
            .collect();
        return Err(match protos.first() {
            Some(proto) => Error::Unsupported {
                location: format!("node '{}' ({})", node_name(proto, 0), proto.op_type),
                detail: format!(
                    "op {} of domain '{}': the model imports only the domains {domains:?}, none of them ai.onnx",
                    proto.op_type, proto.domain
                ),
            },
            None => invalid("model", "imports no ai.onnx opset (opset_import)".into()),
        });
    };
    if !(MIN_OPSET..=MAX_OPSET).contains(&opset) {
        return Err(Error::Unsupported {
            location: "model".into(),
            detail: format!("ai.onnx opset {opset}; kiln reads opsets {MIN_OPSET} to {MAX_OPSET}"),
        });
    }
    Ok(opset)
}

/// An [`Error::Unsupported`] for the first node outside the `ai.onnx` domain.
fn reject_foreign_domains(protos: &[NodeProto]) -> Result<()> {
    let foreign = protos
        .iter()
        .enumerate()
        .find(|(_, proto)| !proto.domain.is_empty() && proto.domain != "ai.onnx");
    match foreign {
        None => Ok(()),
        Some((index, proto)) => Err(Error::Unsupported {
            location: format!("node '{}' ({})", node_name(proto, index), proto.op_type),
            detail: format!(
                "op {} of domain '{}' is not in kiln's op set (kiln reads the ai.onnx domain)",
                proto.op_type, proto.domain
            ),
        }),
    }
}

/// Every node converted in file order. Constant nodes become initializers first, so the
/// converters see their values (a weight's rank, an empty `scales`) wherever they sit in the file.
fn convert_nodes(protos: &[NodeProto], state: &mut ModelState) -> Result<Vec<Node>> {
    let named = protos
        .iter()
        .enumerate()
        .map(|(index, proto)| (node_name(proto, index), proto));
    let (constants, others): (Vec<_>, Vec<_>) = named
        .into_iter()
        .partition(|(_, proto)| proto.op_type == "Constant");
    for (name, proto) in constants {
        add_constant(proto, name, state)?;
    }
    let mut nodes = Vec::with_capacity(others.len());
    for (name, proto) in others {
        let node = convert_node(state, proto, name)?;
        nodes.append(&mut state.extra_nodes);
        nodes.push(node);
    }
    Ok(nodes)
}

/// The ranks the file declares: graph inputs' and `value_info` entries' shapes.
fn declared_ranks(
    inputs: &[ValueInfo],
    annotations: &[ValueInfoProto],
) -> Result<HashMap<String, usize>> {
    let mut ranks: HashMap<String, usize> = inputs
        .iter()
        .filter_map(|input| Some((input.name.clone(), input.shape.as_ref()?.len())))
        .collect();
    for annotation in annotations {
        let info = value_info(annotation, "value_info")?;
        if let Some(shape) = info.shape {
            ranks.entry(info.name).or_insert(shape.len());
        }
    }
    Ok(ranks)
}

/// The node's name, or `<OpType>_<index>` when the file gives none.
fn node_name(proto: &NodeProto, index: usize) -> String {
    if proto.name.is_empty() {
        format!("{}_{index}", proto.op_type)
    } else {
        proto.name.clone()
    }
}

/// A Constant node's value as an initializer named by its output.
fn add_constant(proto: &NodeProto, name: String, state: &mut ModelState) -> Result<()> {
    let location = format!("node '{name}' (Constant)");
    let [output] = proto.output.as_slice() else {
        return Err(invalid(
            &location,
            format!("needs exactly one output, has {:?}", proto.output),
        ));
    };
    if !proto.input.is_empty() || proto.attribute.len() != 1 {
        return Err(invalid(
            &location,
            "takes no inputs and exactly one value attribute".into(),
        ));
    }
    let mut context = super::convert::NodeContext::new(proto, name, state)?;
    let attribute = proto.attribute[0].name.as_str();
    let attrs = &context.attrs;
    let value = match attribute {
        "value_float" => HostTensor::from_f32(&[], vec![attrs.float_or(attribute, 0.0)?])?,
        "value_floats" => {
            let values = attrs.floats(attribute)?.unwrap_or_default().to_vec();
            HostTensor::from_f32(&[values.len()], values)?
        }
        "value_int" => HostTensor::from_i64(&[], vec![attrs.int_or(attribute, 0)?])?,
        "value_ints" => {
            let values = attrs.ints(attribute)?.unwrap_or_default().to_vec();
            HostTensor::from_i64(&[values.len()], values)?
        }
        "value" => {
            let tensor = attrs
                .tensor(attribute)?
                .ok_or_else(|| invalid(&location, "has no value".into()))?;
            context.decode_tensor(attribute, tensor)?
        }
        _ => {
            return Err(Error::Unsupported {
                location,
                detail: format!(
                "Constant attribute '{attribute}' (kiln reads value, value_float(s), value_int(s))"
            ),
            })
        }
    };
    if state.initializers.contains_key(output) || output.is_empty() {
        return Err(invalid(
            &location,
            format!("output '{output}' is empty or already an initializer"),
        ));
    }
    state.initializers.insert(output.clone(), value);
    Ok(())
}

/// A declared graph input or output.
fn value_info(proto: &ValueInfoProto, kind: &str) -> Result<ValueInfo> {
    let location = format!("graph {kind} '{}'", proto.name);
    if proto.name.is_empty() {
        return Err(invalid(&location, "has no name".into()));
    }
    let mut info = ValueInfo {
        name: proto.name.clone(),
        dtype: None,
        shape: None,
    };
    let Some(value) = proto.r#type.as_ref().and_then(|kind| kind.value.as_ref()) else {
        return Ok(info);
    };
    let TypeValue::TensorType(tensor) = value else {
        return Err(Error::Unsupported {
            location,
            detail: "is not a tensor (sequence, map, optional and sparse values are not supported)"
                .into(),
        });
    };
    if tensor.elem_type != 0 {
        info.dtype = Some(supported_dtype(tensor.elem_type, &location)?);
    }
    if let Some(shape) = &tensor.shape {
        let dims = shape.dim.iter().map(|dim| match &dim.value {
            Some(DimensionValue::DimValue(extent)) => usize::try_from(*extent)
                .map(Dim::Fixed)
                .map_err(|_| invalid(&location, format!("has a negative dimension {extent}"))),
            Some(DimensionValue::DimParam(symbol)) if !symbol.is_empty() => {
                Ok(Dim::Symbol(symbol.clone()))
            }
            _ => Ok(Dim::Symbol("?".into())),
        });
        info.shape = Some(dims.collect::<Result<_>>()?);
    }
    Ok(info)
}

/// Every value name the graph mentions.
fn all_value_names(
    graph: &GraphProto,
    initializers: &BTreeMap<String, HostTensor>,
) -> HashSet<String> {
    let mut names: HashSet<String> = initializers.keys().cloned().collect();
    names.extend(
        graph
            .input
            .iter()
            .chain(&graph.output)
            .map(|info| info.name.clone()),
    );
    for node in &graph.node {
        names.extend(node.input.iter().chain(&node.output).cloned());
    }
    names
}

/// The values some node input or graph output reads.
fn used_value_names(graph: &GraphProto) -> HashSet<String> {
    let mut names: HashSet<String> = graph.output.iter().map(|info| info.name.clone()).collect();
    for node in &graph.node {
        names.extend(node.input.iter().filter(|name| !name.is_empty()).cloned());
    }
    names
}

fn invalid(location: &str, detail: String) -> Error {
    Error::InvalidModel {
        location: location.to_string(),
        detail,
    }
}
