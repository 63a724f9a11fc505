//! Small constructors for ONNX protobuf messages, used to build the seed models.

use kiln::import::onnx::proto::{
    AttributeProto, AttributeType, DimensionProto, DimensionValue, GraphProto, ModelProto,
    NodeProto, OperatorSetIdProto, StringStringEntryProto, TensorProto, TensorShapeProto,
    TensorTypeProto, TypeProto, TypeValue, ValueInfoProto,
};

fn attr(name: &str, kind: AttributeType, set: impl FnOnce(&mut AttributeProto)) -> AttributeProto {
    let mut attribute = AttributeProto {
        name: name.into(),
        r#type: kind as i32,
        ..Default::default()
    };
    set(&mut attribute);
    attribute
}

pub(crate) fn int(name: &str, value: i64) -> AttributeProto {
    attr(name, AttributeType::Int, |a| a.i = value)
}

pub(crate) fn ints(name: &str, values: &[i64]) -> AttributeProto {
    attr(name, AttributeType::Ints, |a| a.ints = values.to_vec())
}

pub(crate) fn float(name: &str, value: f32) -> AttributeProto {
    attr(name, AttributeType::Float, |a| a.f = value)
}

pub(crate) fn floats(name: &str, values: &[f32]) -> AttributeProto {
    attr(name, AttributeType::Floats, |a| a.floats = values.to_vec())
}

pub(crate) fn string(name: &str, value: &str) -> AttributeProto {
    attr(name, AttributeType::String, |a| {
        a.s = value.as_bytes().to_vec()
    })
}

pub(crate) fn tensor_attr(name: &str, value: TensorProto) -> AttributeProto {
    attr(name, AttributeType::Tensor, |a| a.t = Some(value))
}

pub(crate) fn node(
    op_type: &str,
    inputs: &[&str],
    outputs: &[&str],
    attribute: Vec<AttributeProto>,
) -> NodeProto {
    NodeProto {
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: outputs.iter().map(|s| s.to_string()).collect(),
        op_type: op_type.into(),
        attribute,
        ..Default::default()
    }
}

pub(crate) fn floats_tensor(name: &str, dims: &[i64], fill: f32) -> TensorProto {
    let count = dims.iter().product::<i64>() as usize;
    TensorProto {
        name: name.into(),
        dims: dims.to_vec(),
        data_type: 1,
        float_data: vec![fill; count],
        ..Default::default()
    }
}

pub(crate) fn raw_tensor(name: &str, dims: &[i64], data_type: i32, raw: Vec<u8>) -> TensorProto {
    TensorProto {
        name: name.into(),
        dims: dims.to_vec(),
        data_type,
        raw_data: Some(raw),
        ..Default::default()
    }
}

pub(crate) fn int32_tensor(
    name: &str,
    dims: &[i64],
    data_type: i32,
    values: &[i32],
) -> TensorProto {
    TensorProto {
        name: name.into(),
        dims: dims.to_vec(),
        data_type,
        int32_data: values.to_vec(),
        ..Default::default()
    }
}

pub(crate) fn int64_tensor(name: &str, values: &[i64]) -> TensorProto {
    TensorProto {
        name: name.into(),
        dims: vec![values.len() as i64],
        data_type: 7,
        int64_data: values.to_vec(),
        ..Default::default()
    }
}

pub(crate) fn info(name: &str, elem_type: i32, dims: &[i64]) -> ValueInfoProto {
    let dim = dims
        .iter()
        .map(|&d| DimensionProto {
            value: Some(if d < 0 {
                DimensionValue::DimParam("N".into())
            } else {
                DimensionValue::DimValue(d)
            }),
            ..Default::default()
        })
        .collect();
    let tensor = TensorTypeProto {
        elem_type,
        shape: Some(TensorShapeProto { dim }),
    };
    ValueInfoProto {
        name: name.into(),
        r#type: Some(TypeProto {
            value: Some(TypeValue::TensorType(tensor)),
            ..Default::default()
        }),
        ..Default::default()
    }
}

pub(crate) fn model(
    opset: i64,
    nodes: Vec<NodeProto>,
    initializer: Vec<TensorProto>,
    outputs: &[&str],
) -> ModelProto {
    ModelProto {
        ir_version: 7,
        opset_import: vec![OperatorSetIdProto {
            domain: String::new(),
            version: opset,
        }],
        graph: Some(GraphProto {
            node: nodes,
            name: "seed".into(),
            initializer,
            input: vec![info("x", 1, &[-1, 3, 8, 8])],
            output: outputs
                .iter()
                .map(|name| ValueInfoProto {
                    name: name.to_string(),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }),
        metadata_props: vec![StringStringEntryProto {
            key: "names".into(),
            value: "a,b".into(),
        }],
        ..Default::default()
    }
}
