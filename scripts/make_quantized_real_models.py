"""Quantizes real network architectures with onnxruntime and records onnxruntime's outputs, for
tests/quantized_interop/real_architectures.rs (called by scripts/make_quantized_models.sh).

    python scripts/make_quantized_real_models.py OUT_DIR MODELS_DIR [--full]

MODELS_DIR is what scripts/fetch_detection_assets.sh fetched (photos/, and OUT_DIR already holds
yolov3_tiny.float.onnx, exported from models/yolov3-tiny.cfg by `kiln convert`). The float models:
- squeezenet, resnet50: the onnx wheel's light_squeezenet and light_resnet50 graphs, whose weights
  are ConstantOfShape nodes (one value per tensor), given seeded fan-in-scaled random weights
  instead; BatchNormalization folded into the Conv before it, Sum of two as Add, Dropout and the
  final Softmax removed (the logits are the output), the batch dimension left symbolic. SqueezeNet
  is fully convolutional and runs at 96x96; ResNet-50 keeps 224x224 (its AveragePool is 7x7).
- mobilenetv2: MobileNetV2 (stem, the 17 inverted residual blocks with depthwise 3x3 convs and
  ReLU6, 1x1 head conv, GlobalAveragePool, Gemm) at width 0.5, 32x32 input (1x1 after its
  five stride-2 stages), 10 classes. (With 100 classes at 64x64 its seeded logits lie close:
  kiln and onnxruntime, within 9 output steps of each other, agreed on 490 of 500 top-1.)
- yolov3_tiny: COCO YOLOv3-tiny with its real weights (two anchor-grid outputs).
- yolov8n: a YOLOv8n-style detector built here (C2f blocks, SiLU as Sigmoid*Mul, SPPF with
  MaxPool, Resize nearest upsampling, Concat, a decoupled anchor-free head with DFL and box
  decoding in the graph), seeded weights, 160x160 input, 80 classes; outputs `boxes` [N, 4, A]
  (cx, cy, w, h in input pixels) and `scores` [N, 80, A] (sigmoid), kept apart because one
  quantization scale cannot hold both.
Inputs are deterministic crops and flips of the real photos (ImageNet-normalised squares for
the classifiers, letterboxed [0, 1] frames for the detectors). Each float model is calibrated on
a few such inputs and quantized by `quantize_static` (QDQ; int8 weights; per-tensor and
per-channel; uint8 and int8 activations; MinMax, Entropy and Percentile calibration) and the
classifiers also by `quantize_dynamic`. onnxruntime (CPU, default optimisations) runs each
quantized model on the inputs; the script writes OUT_DIR/<model>.onnx, <family>.input.npy,
<model>.output<k>.npy per output k, and OUT_DIR/real_models.json describing every model, with
how many of the inputs to compare (`compare`): 500 for SqueezeNet's first variant, 50 for the
other SqueezeNet and the MobileNetV2 variants, 3 for ResNet-50 and the detectors (--full: 500
for every model, or KILN_REAL_MODELS_INPUTS; that is scripts/compare_quantized_real_models.sh's
run, too slow for CI).
"""

import json
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper
from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat,
                                      QuantType, quantize_dynamic, quantize_static)
from PIL import Image

from make_quantized_models import OPSET, Builder
from make_yolov8n_style import yolov8n_style

SEED = 1313
CALIBRATION_SAMPLES = 8
FULL_INPUTS = int(os.environ.get("KILN_REAL_MODELS_INPUTS", "500"))
# Without --full: the inputs CI compares for the first variant of a cheap family, for its other
# variants, and for every variant of the expensive families (ResNet-50, the detectors).
SOME_INPUTS = 50
FEW_INPUTS = 3
IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], np.float32)
LIGHT = os.path.join(os.path.dirname(onnx.__file__), "backend/test/data/light")


def light_model(name, seed, size, output_shape):
    """The onnx wheel's light_<name> with seeded weights (for its ConstantOfShape weights and its
    float initializers), BN folded, logits out, batch symbolic."""
    model = onnx.load(os.path.join(LIGHT, f"light_{name}.onnx"))
    graph = model.graph
    rng = np.random.default_rng(seed)
    shapes = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    weights = {}
    for node in graph.node:
        if node.op_type == "ConstantOfShape":
            weights[node.output[0]] = random_weight(node.output[0], shapes[node.input[0]], rng)
    image = next(i for i in graph.input if len(i.type.tensor_type.shape.dim) == 4
                 and i.type.tensor_type.shape.dim[1].dim_value == 3)
    shape_inputs = {n.input[0] for n in graph.node if n.op_type == "ConstantOfShape"}
    for name, value in shapes.items():
        if name not in shape_inputs and value.dtype == np.float32:
            weights[name] = random_weight(name, value.shape, rng)
        elif name not in shape_inputs:
            weights[name] = value
    nodes = [n for n in graph.node if n.op_type != "ConstantOfShape"]
    nodes = fold_batch_norms(nodes, weights)
    nodes, output = strip_head_and_dropout(nodes, weights)
    initializers = [numpy_helper.from_array(v, k) for k, v in weights.items()]
    input_name = image.name
    new_graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, ["N", 3, size, size])],
        [helper.make_tensor_value_info(output, TensorProto.FLOAT, output_shape)], initializers)
    new_model = helper.make_model(new_graph, opset_imports=[helper.make_opsetid("", OPSET)])
    new_model.ir_version = 8
    new_model = onnx.shape_inference.infer_shapes(new_model)
    onnx.checker.check_model(new_model)
    return new_model


def random_weight(name, shape, rng):
    """A seeded value for the light model's weight `name`: He-scaled conv/FC weights, small
    biases, BN statistics near identity (the last BN of a ResNet branch damped so the residual
    sums keep their scale)."""
    shape = tuple(int(d) for d in shape)
    if len(shape) >= 2:
        fan_in = int(np.prod(shape[1:]))
        return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(np.float32)
    if name.endswith(("_bn_s_0", "_bn_scale")):
        gain = 0.3 if "branch2c" in name else 1.0
        return (gain * rng.uniform(0.7, 1.3, shape)).astype(np.float32)
    if name.endswith("_bn_riv_0"):
        return rng.uniform(0.7, 1.3, shape).astype(np.float32)
    return (rng.standard_normal(shape) * 0.05).astype(np.float32)


def fold_batch_norms(nodes, weights):
    """Folds every BatchNormalization that follows a Conv into the Conv's weight and bias."""
    producer = {n.output[0]: n for n in nodes}
    kept = []
    for node in nodes:
        if node.op_type != "BatchNormalization":
            kept.append(node)
            continue
        conv = producer[node.input[0]]
        scale, bias, mean, var = (weights.pop(name) for name in node.input[1:5])
        eps = next((a.f for a in node.attribute if a.name == "epsilon"), 1e-5)
        factor = scale / np.sqrt(var + eps)
        w = weights[conv.input[1]]
        weights[conv.input[1]] = (w * factor[:, None, None, None]).astype(np.float32)
        old_bias = weights.pop(conv.input[2]) if len(conv.input) > 2 else 0.0
        bias_name = f"{conv.output[0]}.folded_bias"
        weights[bias_name] = ((old_bias - mean) * factor + bias).astype(np.float32)
        del conv.input[2:]
        conv.input.append(bias_name)
        conv.output[0] = node.output[0]
    return kept


def strip_head_and_dropout(nodes, weights):
    """Drops Dropout (rewiring its output) and the final Softmax; Sum becomes Add; a Reshape
    before the classifier gets shape [0, -1] so any batch runs. Returns the nodes and the
    logits' name."""
    rename = {}
    kept = []
    for node in nodes:
        for i, name in enumerate(node.input):
            node.input[i] = rename.get(name, name)
        if node.op_type == "Dropout":
            rename[node.output[0]] = node.input[0]
            continue
        if node.op_type == "Softmax":
            output = node.input[0]
            continue
        if node.op_type == "Sum":
            node = helper.make_node("Add", list(node.input), list(node.output), name=node.name)
        if node.op_type == "Reshape":
            weights[node.input[1]] = np.array([0, -1], np.int64)
        kept.append(node)
    return kept, output


def folded(model):
    """`model` with its BatchNormalization nodes folded into the Conv before them (onnxruntime's
    quantizer names an activation's scale `<tensor>_scale`, which collides with the BN scale
    initializers of kiln's Darknet export)."""
    graph = model.graph
    weights = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    nodes = fold_batch_norms(list(graph.node), weights)
    del graph.node[:]
    graph.node.extend(nodes)
    del graph.initializer[:]
    graph.initializer.extend(numpy_helper.from_array(v, k) for k, v in weights.items())
    onnx.checker.check_model(model)
    return model


def mobilenet_v2(size=32, classes=10, width=0.5):
    """MobileNetV2's layout (torchvision's table) at `width`, seeded He-scaled weights."""
    b = Builder(SEED + 3)

    def channels(c):
        return max(8, int(c * width + 4) // 8 * 8)

    x = b.conv("input", "stem", 3, channels(32), 3, stride=2, act="relu6")
    in_c = channels(32)
    table = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
             (6, 160, 3, 2), (6, 320, 1, 1)]
    block = 0
    for t, c, n, s in table:
        for i in range(n):
            out_c, stride, hidden = channels(c), (s if i == 0 else 1), in_c * t
            name = f"block{block}"
            h = x if t == 1 else b.conv(x, f"{name}.expand", in_c, hidden, 1, act="relu6")
            h = b.conv(h, f"{name}.depthwise", hidden, hidden, 3, stride=stride, group=hidden,
                       act="relu6")
            h = b.conv(h, f"{name}.project", hidden, out_c, 1, act=None)
            x = b.node("Add", [x, h], f"{name}.residual") if stride == 1 and in_c == out_c else h
            in_c, block = out_c, block + 1
    x = b.conv(x, "head", in_c, 1280, 1, act="relu6")
    x = b.node("GlobalAveragePool", [x], "gap")
    x = b.node("Flatten", [x], "flat", axis=1)
    w = b.rng.standard_normal((1280, classes)).astype(np.float32) * np.sqrt(2.0 / 1280)
    x = b.node("Gemm", [x, b.constant("fc.weight", w),
                        b.constant("fc.bias", np.zeros(classes, np.float32))], "logits")
    graph = helper.make_graph(
        b.nodes, "mobilenetv2",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, size, size])],
        [helper.make_tensor_value_info(x, TensorProto.FLOAT, ["N", classes])], b.initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def load_photos(models_dir):
    photos = os.path.join(models_dir, "photos")
    names = sorted(f for f in os.listdir(photos) if f.endswith(".jpg"))
    if not names:
        raise SystemExit(f"no photos in {photos}: run scripts/fetch_detection_assets.sh first")
    return [Image.open(os.path.join(photos, name)).convert("RGB") for name in names]


def square_crops(photos, count, size, seed):
    """`count` ImageNet-normalised [3, size, size] crops: photo i mod 7, a seeded square of
    30-100% of the short side, flipped half the time."""
    rng = np.random.default_rng(seed)
    out = np.empty((count, 3, size, size), np.float32)
    for i in range(count):
        image = photos[i % len(photos)]
        w, h = image.size
        side = int(min(w, h) * rng.uniform(0.3, 1.0))
        x0, y0 = int(rng.integers(0, w - side + 1)), int(rng.integers(0, h - side + 1))
        crop = image.crop((x0, y0, x0 + side, y0 + side)).resize((size, size), Image.BILINEAR)
        if rng.random() < 0.5:
            crop = crop.transpose(Image.FLIP_LEFT_RIGHT)
        pixels = np.asarray(crop, np.float32) / 255.0
        out[i] = ((pixels - IMAGENET_MEAN) / IMAGENET_STD).transpose(2, 0, 1)
    return out


def letterboxed(photos, count, size, seed):
    """`count` [3, size, size] frames in [0, 1]: photo i mod 7 whole for the first pass, then
    seeded crops of 60-100% of each side, flipped half the time; letterboxed on grey 0.5."""
    rng = np.random.default_rng(seed)
    out = np.full((count, 3, size, size), 0.5, np.float32)
    for i in range(count):
        image = photos[i % len(photos)]
        if i >= len(photos):
            w, h = image.size
            cw, ch = int(w * rng.uniform(0.6, 1.0)), int(h * rng.uniform(0.6, 1.0))
            x0, y0 = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
            image = image.crop((x0, y0, x0 + cw, y0 + ch))
            if rng.random() < 0.5:
                image = image.transpose(Image.FLIP_LEFT_RIGHT)
        w, h = image.size
        scale = size / max(w, h)
        rw, rh = max(1, round(w * scale)), max(1, round(h * scale))
        pixels = np.asarray(image.resize((rw, rh), Image.BILINEAR), np.float32) / 255.0
        ox, oy = (size - rw) // 2, (size - rh) // 2
        out[i, :, oy:oy + rh, ox:ox + rw] = pixels.transpose(2, 0, 1)
    return out


class Reader(CalibrationDataReader):
    """Calibration batches of one input each."""

    def __init__(self, input_name, samples):
        self.batches = iter([{input_name: s[None]} for s in samples])

    def get_next(self):
        return next(self.batches, None)


def output_steps(model):
    """Per graph output, the scale of the DequantizeLinear producing it (0 when none does)."""
    scales = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    steps = {}
    for node in model.graph.node:
        if node.op_type == "DequantizeLinear" and scales[node.input[1]].size == 1:
            steps[node.output[0]] = float(scales[node.input[1]].reshape(()))
    return [steps.get(o.name, 0.0) for o in model.graph.output]


CALIBRATION = {"minmax": CalibrationMethod.MinMax, "entropy": CalibrationMethod.Entropy,
               "percentile": CalibrationMethod.Percentile}
ACTIVATIONS = {"u8": QuantType.QUInt8, "s8": QuantType.QInt8}

# (activations, per_channel, calibration) per family: every axis appears on every family that
# CI runs many inputs of; the expensive families get a spread.
VARIANTS = {
    "squeezenet": [("u8", False, "minmax"), ("s8", False, "minmax"), ("u8", True, "minmax"),
                   ("s8", True, "minmax"), ("s8", True, "entropy"), ("u8", False, "percentile")],
    "mobilenetv2": [("u8", False, "minmax"), ("s8", False, "minmax"), ("u8", True, "minmax"),
                    ("s8", True, "minmax"), ("u8", True, "entropy"), ("s8", False, "percentile")],
    "resnet50": [("u8", False, "minmax"), ("s8", True, "minmax"), ("s8", True, "percentile")],
    "yolov3_tiny": [("u8", False, "minmax"), ("s8", True, "minmax"), ("u8", True, "entropy")],
    # Per-channel yolov8n fails in onnxruntime itself (QlinearBuildLookupTable: its fused
    # sigmoid gets a per-channel input scale), so its variants are per tensor.
    "yolov8n": [("u8", False, "minmax"), ("s8", False, "minmax"), ("s8", False, "percentile")],
}
DYNAMIC = ("squeezenet", "mobilenetv2")


def family_models(out, models_dir):
    """(family, task, float model path, input name, input side) for every family."""
    families = []
    photos = letterboxed(load_photos(models_dir), 7, 160, SEED + 30)
    for family, model, size in (
            ("squeezenet", light_model("squeezenet", SEED, 96, ["N", 1000, 1, 1]), 96),
            ("resnet50", light_model("resnet50", SEED + 1, 224, ["N", 1000]), 224),
            ("mobilenetv2", mobilenet_v2(), 32),
            ("yolov8n", yolov8n_style(SEED + 4, 160, photos), 160)):
        path = os.path.join(out, f"{family}.float.onnx")
        onnx.save(model, path)
        task = "detect" if family == "yolov8n" else "classify"
        families.append((family, task, path, model.graph.input[0].name, size))
    yolo = os.path.join(out, "yolov3_tiny.float.onnx")
    yolo_model = folded(onnx.load(os.path.join(out, "yolov3_tiny.kiln.onnx")))
    onnx.save(yolo_model, yolo)
    side = yolo_model.graph.input[0].type.tensor_type.shape.dim[2].dim_value
    families.append(("yolov3_tiny", "detect", yolo, yolo_model.graph.input[0].name, side))
    return families


def main(out, models_dir, full):
    photos = load_photos(models_dir)
    entries = []
    for family, task, float_path, input_name, size in family_models(out, models_dir):
        cheap = family in ("squeezenet", "mobilenetv2")
        count = FULL_INPUTS if full or cheap else FEW_INPUTS
        make = square_crops if task == "classify" else letterboxed
        inputs = make(photos, count, size, SEED + 10)
        calibration = make(photos, CALIBRATION_SAMPLES, size, SEED + 20)
        np.save(os.path.join(out, f"{family}.input.npy"), inputs)
        for variant, (act, per_channel, method) in enumerate(VARIANTS[family]):
            many = family == "squeezenet" and variant == 0
            compare = count if full or many else min(count, SOME_INPUTS)
            name = f"{family}_{act}_{'per_channel' if per_channel else 'per_tensor'}_{method}"
            path = os.path.join(out, f"{name}.onnx")
            quantize_static(float_path, path, Reader(input_name, calibration),
                            quant_format=QuantFormat.QDQ, per_channel=per_channel,
                            activation_type=ACTIVATIONS[act], weight_type=QuantType.QInt8,
                            calibrate_method=CALIBRATION[method])
            entries.append(record(out, name, family, path, input_name, inputs[:compare],
                                  f"quantize_static QDQ {act} activations, int8 weights "
                                  f"{'per channel' if per_channel else 'per tensor'}, {method}"))
        if family in DYNAMIC:
            name = f"{family}_dynamic"
            path = os.path.join(out, f"{name}.onnx")
            quantize_dynamic(float_path, path, weight_type=QuantType.QInt8)
            entries.append(record(out, name, family, path, input_name,
                                  inputs[:min(count, SOME_INPUTS)],
                                  "quantize_dynamic, int8 weights"))
    with open(os.path.join(out, "real_models.json"), "w") as f:
        json.dump({"models": entries}, f, indent=1)


def record(out, name, family, path, input_name, inputs, how):
    """Runs `path` in onnxruntime on `inputs` (the family's first ones, in batches of 50) and
    saves every output; the model's entry for real_models.json."""
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    runs = [session.run(None, {input_name: inputs[i:i + SOME_INPUTS]})
            for i in range(0, len(inputs), SOME_INPUTS)]
    model = onnx.load(path)
    outputs = []
    for k, (output, quant_step) in enumerate(zip(model.graph.output, output_steps(model))):
        values = np.concatenate([run[k] for run in runs]).astype(np.float32)
        np.save(os.path.join(out, f"{name}.output{k}.npy"), values)
        outputs.append({"name": output.name, "step": quant_step, "file": f"{name}.output{k}.npy"})
    return {"name": name, "family": family, "input": input_name, "compare": len(inputs),
            "inputs_file": f"{family}.input.npy", "quantization": how, "outputs": outputs}


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], "--full" in sys.argv[3:])
