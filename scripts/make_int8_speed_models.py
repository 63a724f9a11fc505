"""Builds two larger float CNNs for timing the integer path against the float one with
`kiln bench model`, and quantizes each with onnxruntime (QDQ, per-channel int8 weights, uint8 and
int8 activations):

    python scripts/make_int8_speed_models.py OUT_DIR

- resnet: a ResNet-50-like net at 224x224: 7x7 stride-2 stem, max pool, then one bottleneck block
  per stage (1x1 reduce, 3x3, 1x1 expand, projection shortcut, residual Add) at 56/28/14/7 with
  64-256, 128-512, 256-1024 and 512-2048 channels, GlobalAveragePool, Flatten;
- mobilenet: a MobileNetV2-like net at 224x224: 3x3 stride-2 stem, inverted residual blocks
  (1x1 expand x6, 3x3 depthwise, 1x1 project, residual Add) with MobileNetV2's widths and strides,
  one block per width, a 1x1 head, GlobalAveragePool, Flatten.

Activations are Relu (the lowering fuses it into QLinearConv). The models reuse the builder and the
calibration reader of make_quantized_models.py; OUT_DIR gets <model>.float.onnx and
<model>_{u8,s8}.onnx.
"""

import os
import sys

from onnxruntime.quantization import QuantFormat, QuantType, quantize_static

import make_quantized_models as base

base.INPUT_SHAPE = [1, 3, 224, 224]
base.CALIBRATION_SAMPLES = 4


def resnet():
    b = base.Builder(base.SEED + 20)
    x = b.conv("input", "stem", 3, 64, 7, stride=2)
    x = b.node("MaxPool", [x], "pool", kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    in_channels = 64
    for stage, (width, stride) in enumerate(((64, 1), (128, 2), (256, 2), (512, 2))):
        name = f"stage{stage + 1}"
        h = b.conv(x, f"{name}.reduce", in_channels, width, 1)
        h = b.conv(h, f"{name}.conv3", width, width, 3, stride=stride)
        h = b.conv(h, f"{name}.expand", width, 4 * width, 1, act=None)
        shortcut = b.conv(x, f"{name}.shortcut", in_channels, 4 * width, 1, stride=stride,
                          act=None)
        x = b.node("Add", [h, shortcut], f"{name}.add")
        x = b.node("Relu", [x], f"{name}.relu")
        in_channels = 4 * width
    x = b.node("GlobalAveragePool", [x], "gap")
    x = b.node("Flatten", [x], "features", axis=1)
    return b.model("resnet", x, [1, 2048])


def mobilenet():
    b = base.Builder(base.SEED + 21)
    x = b.conv("input", "stem", 3, 32, 3, stride=2)
    in_channels = 32
    blocks = ((1, 16, 1), (6, 24, 2), (6, 24, 1), (6, 32, 2), (6, 32, 1), (6, 64, 2),
              (6, 96, 1), (6, 160, 2), (6, 320, 1))
    for index, (expand, out_channels, stride) in enumerate(blocks):
        name = f"block{index + 1}"
        hidden = in_channels * expand
        h = x if expand == 1 else b.conv(x, f"{name}.expand", in_channels, hidden, 1)
        h = b.conv(h, f"{name}.depthwise", hidden, hidden, 3, stride=stride, group=hidden)
        h = b.conv(h, f"{name}.project", hidden, out_channels, 1, act=None)
        x = b.node("Add", [x, h], f"{name}.residual") if (
            stride == 1 and in_channels == out_channels) else h
        in_channels = out_channels
    x = b.conv(x, "head", in_channels, 1280, 1)
    x = b.node("GlobalAveragePool", [x], "gap")
    x = b.node("Flatten", [x], "features", axis=1)
    return b.model("mobilenet", x, [1, 1280])


def main(out):
    os.makedirs(out, exist_ok=True)
    for float_model in (resnet(), mobilenet()):
        float_path = os.path.join(out, f"{float_model.graph.name}.float.onnx")
        base.onnx.save(float_model, float_path)
        for activation, tag in ((QuantType.QUInt8, "u8"), (QuantType.QInt8, "s8")):
            path = os.path.join(out, f"{float_model.graph.name}_{tag}.onnx")
            quantize_static(float_path, path, base.RandomReader(base.SEED + 7),
                            quant_format=QuantFormat.QDQ, per_channel=True,
                            activation_type=activation, weight_type=QuantType.QInt8)
            print(path)


if __name__ == "__main__":
    main(sys.argv[1])
