"""Builds small float CNNs, quantizes them with onnxruntime, and records onnxruntime's outputs,
for tests/quantized_interop.rs.

    python scripts/make_quantized_models.py OUT_DIR

Two float CNNs are built with onnx's helper API and seeded He-scaled weights:
- squeeze: a SqueezeNet-like net (3x3 stride-2 conv, max pool, two fire modules whose 1x1 and
  3x3 expand branches are concatenated, the second with a residual Add, a 1x1 classifier conv,
  GlobalAveragePool, Flatten); input 1x3x32x32, 10 outputs;
- mobilenet: a MobileNetV2-like net (stem conv, inverted residual blocks of 1x1 expand, 3x3
  depthwise and 1x1 project convs with ReLU6 as Clip, a residual Add, GlobalAveragePool,
  Flatten, a Gemm head); input 1x3x32x32, 10 outputs.

Each is calibrated with seeded uniform random inputs and quantized by `quantize_static` in QDQ
format four ways: per-tensor and per-channel weights, uint8 (QUInt8) and int8 (QInt8)
activations, int8 weights. A MatMul model (two MatMuls with a bias Add and a Relu) is quantized by
`quantize_dynamic`. For every quantized model onnxruntime runs fixed seeded inputs, and the script
saves OUT_DIR/<model>.onnx, OUT_DIR/<model>.input.npy, OUT_DIR/<model>.output.npy, and one line
per model in OUT_DIR/manifest.txt: `<model> <input name> <output quantization step> <convs>`,
where the step is the scale of the DequantizeLinear that produces the output (0 for the dynamic
model, whose output is float) and <convs> the number of Conv nodes in the float model.
"""

import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper
from onnxruntime.quantization import (CalibrationDataReader, QuantFormat, QuantType,
                                      quantize_dynamic, quantize_static)

OPSET = 13
INPUT_SHAPE = [1, 3, 32, 32]
CALIBRATION_SAMPLES = 16
SEED = 13


class Builder:
    """Collects nodes and seeded He-scaled initializers for one graph."""

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.nodes = []
        self.initializers = []

    def constant(self, name, values):
        self.initializers.append(numpy_helper.from_array(np.asarray(values, np.float32), name))
        return name

    def node(self, op, inputs, output, **attributes):
        self.nodes.append(helper.make_node(op, inputs, [output], name=output, **attributes))
        return output

    def conv(self, x, name, in_channels, out_channels, kernel, stride=1, group=1, act="relu"):
        fan_in = in_channels // group * kernel * kernel
        shape = (out_channels, in_channels // group, kernel, kernel)
        w = self.rng.standard_normal(shape).astype(np.float32) * np.sqrt(2.0 / fan_in)
        b = self.rng.standard_normal(out_channels).astype(np.float32) * 0.05
        y = self.node("Conv", [x, self.constant(f"{name}.weight", w),
                               self.constant(f"{name}.bias", b)], name,
                      kernel_shape=[kernel, kernel], strides=[stride, stride],
                      pads=[kernel // 2] * 4, group=group)
        if act == "relu":
            return self.node("Relu", [y], f"{name}.relu")
        if act == "relu6":
            low = self.constant(f"{name}.low", np.float32(0.0))
            high = self.constant(f"{name}.high", np.float32(6.0))
            return self.node("Clip", [y, low, high], f"{name}.relu6")
        return y

    def model(self, name, output, outputs_shape):
        graph = helper.make_graph(
            self.nodes, name,
            [helper.make_tensor_value_info("input", TensorProto.FLOAT, INPUT_SHAPE)],
            [helper.make_tensor_value_info(output, TensorProto.FLOAT, outputs_shape)],
            self.initializers)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
        model.ir_version = 8
        onnx.checker.check_model(model)
        return model


def squeeze_net():
    b = Builder(SEED)
    x = b.conv("input", "conv1", 3, 16, 3, stride=2)
    x = b.node("MaxPool", [x], "pool1", kernel_shape=[2, 2], strides=[2, 2])

    def fire(x, name, in_channels, squeeze, expand):
        s = b.conv(x, f"{name}.squeeze", in_channels, squeeze, 1)
        e1 = b.conv(s, f"{name}.expand1", squeeze, expand, 1)
        e3 = b.conv(s, f"{name}.expand3", squeeze, expand, 3)
        return b.node("Concat", [e1, e3], f"{name}.concat", axis=1)

    x = fire(x, "fire2", 16, 8, 16)
    y = fire(x, "fire3", 32, 8, 16)
    x = b.node("Add", [x, y], "fire3.residual")
    x = b.conv(x, "classifier", 32, 10, 1)
    x = b.node("GlobalAveragePool", [x], "gap")
    x = b.node("Flatten", [x], "logits", axis=1)
    return b.model("squeeze", x, [1, 10])


def mobile_net():
    b = Builder(SEED + 1)
    x = b.conv("input", "stem", 3, 16, 3, stride=2, act="relu6")

    def inverted_residual(x, name, in_channels, out_channels, stride, expand=3):
        hidden = in_channels * expand
        h = b.conv(x, f"{name}.expand", in_channels, hidden, 1, act="relu6")
        h = b.conv(h, f"{name}.depthwise", hidden, hidden, 3, stride=stride, group=hidden,
                   act="relu6")
        h = b.conv(h, f"{name}.project", hidden, out_channels, 1, act=None)
        if stride == 1 and in_channels == out_channels:
            return b.node("Add", [x, h], f"{name}.residual")
        return h

    x = inverted_residual(x, "block1", 16, 16, 1)
    x = inverted_residual(x, "block2", 16, 24, 2)
    x = inverted_residual(x, "block3", 24, 24, 1)
    x = b.conv(x, "head", 24, 32, 1, act="relu6")
    x = b.node("GlobalAveragePool", [x], "gap")
    x = b.node("Flatten", [x], "flat", axis=1)
    w = b.rng.standard_normal((32, 10)).astype(np.float32) * np.sqrt(1.0 / 32)
    x = b.node("Gemm", [x, b.constant("fc.weight", w),
                        b.constant("fc.bias", np.zeros(10, np.float32))], "logits")
    return b.model("mobilenet", x, [1, 10])


def matmul_net():
    rng = np.random.default_rng(SEED + 2)
    w1 = numpy_helper.from_array(rng.standard_normal((32, 48)).astype(np.float32) * 0.25, "w1")
    b1 = numpy_helper.from_array(rng.standard_normal(48).astype(np.float32) * 0.05, "b1")
    w2 = numpy_helper.from_array(rng.standard_normal((48, 10)).astype(np.float32) * 0.2, "w2")
    nodes = [helper.make_node("MatMul", ["input", "w1"], ["h"], name="fc1"),
             helper.make_node("Add", ["h", "b1"], ["hb"], name="fc1.bias"),
             helper.make_node("Relu", ["hb"], ["r"], name="fc1.relu"),
             helper.make_node("MatMul", ["r", "w2"], ["logits"], name="fc2")]
    graph = helper.make_graph(
        nodes, "matmul", [helper.make_tensor_value_info("input", TensorProto.FLOAT, [4, 32])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [4, 10])], [w1, b1, w2])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    return model


class RandomReader(CalibrationDataReader):
    """Seeded uniform inputs in [-1, 1)."""

    def __init__(self, seed):
        rng = np.random.default_rng(seed)
        self.batches = iter([{"input": rng.uniform(-1, 1, INPUT_SHAPE).astype(np.float32)}
                             for _ in range(CALIBRATION_SAMPLES)])

    def get_next(self):
        return next(self.batches, None)


def output_step(model):
    """The scale of the DequantizeLinear producing the graph output (0 when none does)."""
    output = model.graph.output[0].name
    scales = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    for node in model.graph.node:
        if node.op_type == "DequantizeLinear" and node.output[0] == output:
            return float(scales[node.input[1]])
    return 0.0


def run_and_save(out, name, path, inputs, convs):
    """Runs `path` in onnxruntime (CPU, default optimisations) and saves inputs and outputs."""
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    (output,) = session.run(None, {"input": inputs})
    np.save(os.path.join(out, f"{name}.input.npy"), inputs)
    np.save(os.path.join(out, f"{name}.output.npy"), output.astype(np.float32))
    step = output_step(onnx.load(path))
    return f"{name} input {step!r} {convs}\n"


def main(out):
    os.makedirs(out, exist_ok=True)
    manifest = []
    inputs = np.random.default_rng(SEED + 100).uniform(-1, 1, INPUT_SHAPE).astype(np.float32)
    for float_model in (squeeze_net(), mobile_net()):
        float_path = os.path.join(out, f"{float_model.graph.name}.float.onnx")
        onnx.save(float_model, float_path)
        convs = sum(node.op_type == "Conv" for node in float_model.graph.node)
        for per_channel in (False, True):
            for activation, tag in ((QuantType.QUInt8, "u8"), (QuantType.QInt8, "s8")):
                name = (f"{float_model.graph.name}_{tag}_"
                        f"{'per_channel' if per_channel else 'per_tensor'}")
                path = os.path.join(out, f"{name}.onnx")
                quantize_static(float_path, path, RandomReader(SEED + 7),
                                quant_format=QuantFormat.QDQ, per_channel=per_channel,
                                activation_type=activation, weight_type=QuantType.QInt8)
                manifest.append(run_and_save(out, name, path, inputs, convs))
    matmul_path = os.path.join(out, "matmul.float.onnx")
    onnx.save(matmul_net(), matmul_path)
    dynamic_path = os.path.join(out, "matmul_dynamic.onnx")
    quantize_dynamic(matmul_path, dynamic_path, weight_type=QuantType.QInt8)
    matmul_inputs = np.random.default_rng(SEED + 101).uniform(-1, 1, [4, 32]).astype(np.float32)
    manifest.append(run_and_save(out, "matmul_dynamic", dynamic_path, matmul_inputs, 0))
    with open(os.path.join(out, "manifest.txt"), "w") as f:
        f.writelines(manifest)


if __name__ == "__main__":
    main(sys.argv[1])
