//! Valid ONNX models built in code as fuzzing seeds: together they reach every converter, the
//! old-opset attribute forms, Constant nodes, typed tensor fields of every dtype, and symbolic
//! shapes. Their kiln exports are seeds too.

use crate::builders::{
    float, floats, floats_tensor, int, int32_tensor, int64_tensor, ints, model, node, raw_tensor,
    string, tensor_attr,
};
use kiln::import::onnx::proto::ModelProto;
use kiln::import::onnx::{parse_onnx, to_onnx_bytes};
use prost::Message;

fn cnn() -> ModelProto {
    let nodes = vec![
        node(
            "Conv",
            &["x", "w", "b"],
            &["c"],
            vec![ints("pads", &[1, 1, 1, 1]), int("group", 1)],
        ),
        node(
            "BatchNormalization",
            &["c", "s", "b", "b", "s"],
            &["n"],
            vec![float("epsilon", 1e-3)],
        ),
        node("LeakyRelu", &["n"], &["r"], vec![float("alpha", 0.1)]),
        node(
            "MaxPool",
            &["r"],
            &["p"],
            vec![ints("kernel_shape", &[2, 2]), ints("strides", &[2, 2])],
        ),
        node(
            "AveragePool",
            &["p"],
            &["a"],
            vec![ints("kernel_shape", &[2, 2]), int("ceil_mode", 1)],
        ),
        node(
            "ConvTranspose",
            &["a", "wt"],
            &["t"],
            vec![ints("strides", &[2, 2])],
        ),
        node("GlobalAveragePool", &["t"], &["g"], vec![]),
        node("Flatten", &["g"], &["f"], vec![]),
        node(
            "Gemm",
            &["f", "fc_w", "fc_b"],
            &["y"],
            vec![int("transB", 1), float("alpha", 0.5)],
        ),
        node("HardSigmoid", &["y"], &["hs"], vec![]),
        node("Softmax", &["hs"], &["sm"], vec![]),
    ];
    let initializers = vec![
        floats_tensor("w", &[4, 3, 3, 3], 0.5),
        floats_tensor("b", &[4], 0.1),
        floats_tensor("s", &[4], 1.0),
        floats_tensor("wt", &[4, 2, 2, 2], 0.25),
        floats_tensor("fc_w", &[5, 2], 1.0),
        floats_tensor("fc_b", &[5], 0.0),
    ];
    model(13, nodes, initializers, &["sm"])
}

fn legacy_opset_7() -> ModelProto {
    let nodes = vec![
        node(
            "Slice",
            &["x"],
            &["s"],
            vec![ints("starts", &[0]), ints("ends", &[2]), ints("axes", &[1])],
        ),
        node("Squeeze", &["s"], &["q"], vec![ints("axes", &[0])]),
        node("Unsqueeze", &["q"], &["u"], vec![ints("axes", &[0])]),
        node(
            "Pad",
            &["u"],
            &["p"],
            vec![
                ints("pads", &[0, 0, 1, 1, 0, 0, 1, 1]),
                string("mode", "reflect"),
            ],
        ),
        node(
            "ReduceSum",
            &["p"],
            &["r"],
            vec![ints("axes", &[1]), int("keepdims", 1)],
        ),
        node(
            "Clip",
            &["r"],
            &["c"],
            vec![float("min", 0.0), float("max", 6.0)],
        ),
        node(
            "Upsample",
            &["c"],
            &["up"],
            vec![floats("scales", &[1.0, 1.0, 2.0, 2.0])],
        ),
        node(
            "Split",
            &["up"],
            &["y", "z"],
            vec![int("axis", 2), ints("split", &[10, 10])],
        ),
        node("Dropout", &["y"], &["d", "mask"], vec![float("ratio", 0.5)]),
        node("LogSoftmax", &["d"], &["ls"], vec![]),
        node("Sum", &["ls", "z", "z"], &["sum"], vec![]),
    ];
    model(7, nodes, vec![], &["sum"])
}

fn shapes_opset_11() -> ModelProto {
    let nodes = vec![
        node("Constant", &[], &["axes"], vec![int("value_int", 2)]),
        node(
            "Constant",
            &[],
            &["one"],
            vec![tensor_attr("value", floats_tensor("", &[], 1.0))],
        ),
        node("Shape", &["x"], &["shape"], vec![]),
        node("Gather", &["shape", "axes"], &["n"], vec![int("axis", 0)]),
        node(
            "ConstantOfShape",
            &["shape"],
            &["zeros"],
            vec![tensor_attr("value", floats_tensor("", &[1], 0.0))],
        ),
        node("Cast", &["n"], &["nf"], vec![int("to", 1)]),
        node("Range", &["one", "nf", "one"], &["range"], vec![]),
        node("Less", &["zeros", "x"], &["lt"], vec![]),
        node("Not", &["lt"], &["nlt"], vec![]),
        node("Where", &["nlt", "x", "zeros"], &["w"], vec![]),
        node("Expand", &["w", "shape"], &["e"], vec![]),
        node(
            "Transpose",
            &["e"],
            &["t"],
            vec![ints("perm", &[0, 2, 3, 1])],
        ),
        node("Reshape", &["t", "target"], &["rs"], vec![]),
        node(
            "Resize",
            &["x", "roi", "scales", "sizes"],
            &["big"],
            vec![
                string("mode", "linear"),
                string("coordinate_transformation_mode", "align_corners"),
            ],
        ),
        node("Concat", &["big", "big"], &["cat"], vec![int("axis", 1)]),
        node(
            "ArgMax",
            &["cat"],
            &["am"],
            vec![int("axis", 1), int("keepdims", 0)],
        ),
        node("Equal", &["am", "am"], &["eq"], vec![]),
    ];
    let initializers = vec![
        int64_tensor("target", &[0, -1]),
        floats_tensor("roi", &[0], 0.0),
        floats_tensor("scales", &[0], 0.0),
        int64_tensor("sizes", &[1, 3, 16, 16]),
    ];
    model(11, nodes, initializers, &["rs", "eq", "range"])
}

fn modern_opsets() -> ModelProto {
    let nodes = vec![
        node(
            "ReduceMean",
            &["x", "axes"],
            &["m"],
            vec![int("keepdims", 1)],
        ),
        node(
            "ReduceMax",
            &["m"],
            &["mx"],
            vec![int("noop_with_empty_axes", 1)],
        ),
        node(
            "Split",
            &["x"],
            &["a", "b", "c"],
            vec![int("axis", 1), int("num_outputs", 3)],
        ),
        node(
            "Pad",
            &["a", "pads", "", "pad_axes"],
            &["p"],
            vec![string("mode", "wrap")],
        ),
        node(
            "Resize",
            &["p", "", "scales"],
            &["r"],
            vec![ints("axes", &[2, 3]), string("nearest_mode", "ceil")],
        ),
        node(
            "LayerNormalization",
            &["r", "gamma", "beta"],
            &["ln"],
            vec![int("axis", -1)],
        ),
        node("Gelu", &["ln"], &["g"], vec![]),
        node("HardSwish", &["g"], &["hw"], vec![]),
        node(
            "Shape",
            &["hw"],
            &["sh"],
            vec![int("start", 1), int("end", -1)],
        ),
        node("Max", &["b", "c"], &["bc"], vec![]),
        node("Pow", &["bc", "two"], &["pw"], vec![]),
    ];
    let initializers = vec![
        int64_tensor("axes", &[2, 3]),
        int64_tensor("pads", &[1, 1, 1, 1]),
        int64_tensor("pad_axes", &[2, 3]),
        floats_tensor("scales", &[2], 2.0),
        floats_tensor("gamma", &[20], 1.0),
        floats_tensor("beta", &[20], 0.0),
        floats_tensor("two", &[], 2.0),
    ];
    model(20, nodes, initializers, &["sh", "pw", "mx"])
}

fn quantized() -> ModelProto {
    let nodes = vec![
        node("QuantizeLinear", &["x", "scale", "zero_u8"], &["q"], vec![]),
        node(
            "QLinearConv",
            &[
                "q", "scale", "zero_u8", "w_i8", "scale", "zero_i8", "scale", "zero_u8", "bias_i32",
            ],
            &["qc"],
            vec![ints("kernel_shape", &[1, 1])],
        ),
        node(
            "DequantizeLinear",
            &["qc", "scale", "zero_u8"],
            &["dq"],
            vec![int("axis", 1)],
        ),
        node("MatMulInteger", &["q", "m_i8", "zero_u8"], &["mi"], vec![]),
        node("Mul", &["dq", "scale"], &["y"], vec![]),
    ];
    let initializers = vec![
        floats_tensor("scale", &[], 0.05),
        int32_tensor("zero_u8", &[], 2, &[128]),
        int32_tensor("zero_i8", &[], 3, &[0]),
        int32_tensor("w_i8", &[2, 3, 1, 1], 3, &[-1, 2, -3, 4, -5, 6]),
        int32_tensor("bias_i32", &[2], 6, &[1, -1]),
        raw_tensor("m_i8", &[8, 2], 3, vec![1; 16]),
        int32_tensor("half", &[1], 10, &[0x3800]),
        int32_tensor("flags", &[2], 9, &[1, 0]),
        raw_tensor("raw_i64", &[1], 7, 5i64.to_le_bytes().to_vec()),
    ];
    model(13, nodes, initializers, &["y", "mi"])
}

/// The seed models as `(name, bytes)`, each also as its kiln export.
pub fn seed_models() -> Vec<(String, Vec<u8>)> {
    let models = [
        ("cnn", cnn()),
        ("legacy7", legacy_opset_7()),
        ("shapes11", shapes_opset_11()),
        ("modern20", modern_opsets()),
        ("quantized", quantized()),
    ];
    let mut seeds = Vec::new();
    for (name, model) in models {
        let bytes = model.encode_to_vec();
        if let Ok(graph) = parse_onnx(&bytes, None) {
            if let Ok(exported) = to_onnx_bytes(&graph) {
                seeds.push((format!("{name}_export"), exported));
            }
        }
        seeds.push((name.to_string(), bytes));
    }
    seeds
}
