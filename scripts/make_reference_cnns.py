"""Builds VGG-19 and AlexNet as ONNX models with seeded random weights, for tests/big_models.rs.

    python scripts/make_reference_cnns.py OUT_DIR

writes OUT_DIR/vgg19.onnx (torchvision / ONNX-zoo VGG-19: 16 3x3 convolutions, five max pools,
fc6 25088->4096 whose 411 MB weight exceeds a 128 MiB storage binding, fc7, fc8 -> 1000 logits;
input 1x3x224x224) and OUT_DIR/alexnet.onnx (bvlc_alexnet: grouped convolutions, LRN after conv1
and conv2, fc6 9216->4096, fc7, fc8 -> 1000 logits and their softmax; input 1x3x227x227).

The weights are He-scaled normals (std sqrt(2 / fan_in)) so that activations keep their magnitude
through the ReLU layers: the logits are finite and of order one, neither zero nor overflowing.
Biases are small normals (std 0.01). Every tensor comes from one numpy generator per model with a
fixed seed, so the files are the same on every run.
"""

import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 13
VGG19_SEED = 19
ALEXNET_SEED = 2012
# torchvision's VGG-19 feature extractor: output channels per 3x3 convolution, "M" a 2x2 max pool.
VGG19_FEATURES = [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M",
                  512, 512, 512, 512, "M", 512, 512, 512, 512, "M"]


class Builder:
    """Collects nodes and seeded He-scaled initializers for one graph."""

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.nodes = []
        self.initializers = []

    def weight(self, name, shape, fan_in):
        values = self.rng.standard_normal(shape, dtype=np.float32)
        values *= np.float32(np.sqrt(2.0 / fan_in))
        self.initializers.append(numpy_helper.from_array(values, name))
        return name

    def bias(self, name, size):
        values = self.rng.standard_normal(size, dtype=np.float32) * np.float32(0.01)
        self.initializers.append(numpy_helper.from_array(values, name))
        return name

    def node(self, op, inputs, output, **attributes):
        self.nodes.append(helper.make_node(op, inputs, [output], name=output, **attributes))
        return output

    def conv_relu(self, x, name, in_channels, out_channels, kernel, stride=1, pad=0, group=1):
        fan_in = in_channels // group * kernel * kernel
        w = self.weight(f"{name}.weight", (out_channels, in_channels // group, kernel, kernel),
                        fan_in)
        b = self.bias(f"{name}.bias", out_channels)
        y = self.node("Conv", [x, w, b], name, kernel_shape=[kernel, kernel],
                      strides=[stride, stride], pads=[pad] * 4, group=group)
        return self.node("Relu", [y], f"{name}.relu")

    def linear(self, x, name, in_features, out_features, relu):
        w = self.weight(f"{name}.weight", (out_features, in_features), in_features)
        b = self.bias(f"{name}.bias", out_features)
        y = self.node("Gemm", [x, w, b], name, transB=1)
        return self.node("Relu", [y], f"{name}.relu") if relu else y

    def max_pool(self, x, name, kernel, stride):
        return self.node("MaxPool", [x], name, kernel_shape=[kernel, kernel],
                         strides=[stride, stride])

    def model(self, name, input_shape, outputs):
        graph = helper.make_graph(
            self.nodes, name,
            [helper.make_tensor_value_info("input", TensorProto.FLOAT, input_shape)],
            [helper.make_tensor_value_info(output, TensorProto.FLOAT, [1, 1000])
             for output in outputs],
            self.initializers)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
        model.producer_name = "kiln scripts/make_reference_cnns.py"
        onnx.checker.check_model(model)
        return model


def vgg19():
    builder = Builder(VGG19_SEED)
    x, channels, convs, pools = "input", 3, 0, 0
    for entry in VGG19_FEATURES:
        if entry == "M":
            pools += 1
            x = builder.max_pool(x, f"pool{pools}", 2, 2)
        else:
            convs += 1
            x = builder.conv_relu(x, f"conv{convs}", channels, entry, 3, pad=1)
            channels = entry
    x = builder.node("Flatten", [x], "flatten", axis=1)
    x = builder.linear(x, "fc6", 512 * 7 * 7, 4096, relu=True)
    x = builder.linear(x, "fc7", 4096, 4096, relu=True)
    x = builder.linear(x, "fc8", 4096, 1000, relu=False)
    return builder.model("vgg19", [1, 3, 224, 224], [x])


def alexnet():
    builder = Builder(ALEXNET_SEED)

    def lrn(x, name):
        return builder.node("LRN", [x], name, size=5, alpha=1e-4, beta=0.75, bias=1.0)

    x = builder.conv_relu("input", "conv1", 3, 96, 11, stride=4)
    x = builder.max_pool(lrn(x, "norm1"), "pool1", 3, 2)
    x = builder.conv_relu(x, "conv2", 96, 256, 5, pad=2, group=2)
    x = builder.max_pool(lrn(x, "norm2"), "pool2", 3, 2)
    x = builder.conv_relu(x, "conv3", 256, 384, 3, pad=1)
    x = builder.conv_relu(x, "conv4", 384, 384, 3, pad=1, group=2)
    x = builder.conv_relu(x, "conv5", 384, 256, 3, pad=1, group=2)
    x = builder.max_pool(x, "pool5", 3, 2)
    x = builder.node("Flatten", [x], "flatten", axis=1)
    x = builder.linear(x, "fc6", 256 * 6 * 6, 4096, relu=True)
    x = builder.linear(x, "fc7", 4096, 4096, relu=True)
    logits = builder.linear(x, "fc8", 4096, 1000, relu=False)
    prob = builder.node("Softmax", [logits], "prob", axis=1)
    return builder.model("alexnet", [1, 3, 227, 227], [logits, prob])


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make_reference_cnns.py OUT_DIR")
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, build in [("vgg19", vgg19), ("alexnet", alexnet)]:
        path = os.path.join(out, f"{name}.onnx")
        model = build()
        onnx.save(model, path + ".partial")
        os.replace(path + ".partial", path)
        weights = sum(int(np.prod(t.dims)) for t in model.graph.initializer)
        print(f"wrote {path}: {weights} weights, {os.path.getsize(path) / 1e6:.0f} MB")


if __name__ == "__main__":
    main()
