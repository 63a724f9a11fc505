"""A YOLOv8n-style detector built with onnx's helper API, for scripts/make_quantized_real_models.py.

The layout follows ultralytics' yolov8n.yaml at width 0.25 and depth 0.33: Conv (Conv + SiLU as
Sigmoid*Mul) stride-2 stages, C2f blocks (1x1 conv, Split in two, bottlenecks of two 3x3 convs
with a residual Add, Concat, 1x1 conv), SPPF (three chained 5x5 MaxPools, Concat), a PAN neck
with Resize nearest upsampling and Concat, and the decoupled head: per stride a box branch
(4 x 16 DFL bins) and a class branch, flattened and concatenated over strides, then the DFL
(Softmax over the bins, a 1x1 Conv with weights 0..15) and dist2bbox against the anchor points,
as ultralytics' ONNX export writes it. Weights are seeded, then rescaled on the calibration photos
(`normalise`), since there is no BatchNorm to keep the activations in range.
"""

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

from make_quantized_models import OPSET, Builder

CLASSES = 80
BINS = 16
# The standard deviation `normalise` gives each conv's output on the calibration photos: 1 for
# the body (no BatchNorm here, so seeded weights alone would shrink or blow up through SiLU and
# the residual Adds), more for the box convs (peaked DFL bins, so boxes of many sizes) and the
# class convs, whose bias puts the median over the calibration photos of each photo's
# CLASS_QUANTILE quantile of the logits at 0 (so about half the photos have confident boxes).
BODY_STD, BOX_STD, CLASS_STD = 1.0, 3.0, 2.0
CLASS_QUANTILE = 0.9995


class Yolo(Builder):
    """Builder with YOLOv8's blocks."""

    def cbs(self, x, name, cin, cout, kernel, stride=1):
        y = self.conv(x, name, cin, cout, kernel, stride=stride, act=None)
        s = self.node("Sigmoid", [y], f"{name}.sigmoid")
        return self.node("Mul", [y, s], f"{name}.silu")

    def c2f(self, x, name, cin, cout, depth, shortcut):
        half = cout // 2
        y = self.cbs(x, f"{name}.cv1", cin, cout, 1)
        split = int64(self, f"{name}.split", [half, half])
        parts = [f"{name}.split0", f"{name}.split1"]
        self.nodes.append(helper.make_node("Split", [y, split], parts, name=f"{name}.split",
                                           axis=1))
        last = parts[1]
        for i in range(depth):
            h = self.cbs(last, f"{name}.m{i}.cv1", half, half, 3)
            h = self.cbs(h, f"{name}.m{i}.cv2", half, half, 3)
            last = self.node("Add", [last, h], f"{name}.m{i}.add") if shortcut else h
            parts.append(last)
        cat = self.node("Concat", parts, f"{name}.concat", axis=1)
        return self.cbs(cat, f"{name}.cv2", half * len(parts), cout, 1)

    def sppf(self, x, name, c):
        y = self.cbs(x, f"{name}.cv1", c, c // 2, 1)
        pools = [y]
        for i in range(3):
            pools.append(self.node("MaxPool", [pools[-1]], f"{name}.pool{i}",
                                   kernel_shape=[5, 5], strides=[1, 1], pads=[2, 2, 2, 2]))
        cat = self.node("Concat", pools, f"{name}.concat", axis=1)
        return self.cbs(cat, f"{name}.cv2", c * 2, c, 1)

    def upsample(self, x, name):
        scales = self.constant(f"{name}.scales", np.array([1, 1, 2, 2], np.float32))
        return self.node("Resize", [x, "", scales], name, mode="nearest")

    def head(self, x, name, cin):
        """[N, 4*BINS + CLASSES, H*W] raw predictions of one stride."""
        c2, c3 = max(16, cin // 4, 4 * BINS), max(cin, min(CLASSES, 100))
        box = self.cbs(self.cbs(x, f"{name}.box0", cin, c2, 3), f"{name}.box1", c2, c2, 3)
        box = self.conv(box, f"{name}.box2", c2, 4 * BINS, 1, act=None)
        cls = self.cbs(self.cbs(x, f"{name}.cls0", cin, c3, 3), f"{name}.cls1", c3, c3, 3)
        cls = self.conv(cls, f"{name}.cls2", c3, CLASSES, 1, act=None)
        cat = self.node("Concat", [box, cls], f"{name}.concat", axis=1)
        shape = int64(self, f"{name}.shape", [0, 4 * BINS + CLASSES, -1])
        return self.node("Reshape", [cat, shape], f"{name}.flat")


def anchor_points(size, strides):
    """Cell centres (x, y) in grid units and each cell's stride, strides in order."""
    points, stride_of = [], []
    for s in strides:
        n = size // s
        ys, xs = np.meshgrid(np.arange(n) + 0.5, np.arange(n) + 0.5, indexing="ij")
        points.append(np.stack([xs.ravel(), ys.ravel()]))
        stride_of.append(np.full(n * n, s))
    return (np.concatenate(points, 1).astype(np.float32)[None],
            np.concatenate(stride_of).astype(np.float32)[None, None])


def int64(b, name, values):
    b.initializers.append(numpy_helper.from_array(np.array(values, np.int64), name))
    return name


def decode(b, raw, size):
    """DFL and dist2bbox: `boxes` [N, 4, A] (cx, cy, w, h pixels), `scores` [N, CLASSES, A]."""
    parts = ["dfl.box", "dfl.cls"]
    b.nodes.append(helper.make_node("Split", [raw, int64(b, "dfl.split", [4 * BINS, CLASSES])],
                                    parts, name="dfl.split", axis=1))
    x = b.node("Reshape", [parts[0], int64(b, "dfl.shape", [0, 4, BINS, -1])], "dfl.bins")
    x = b.node("Transpose", [x], "dfl.transpose", perm=[0, 2, 1, 3])
    x = b.node("Softmax", [x], "dfl.softmax", axis=1)
    bins = b.constant("dfl.weight", np.arange(BINS, dtype=np.float32).reshape(1, BINS, 1, 1))
    x = b.node("Conv", [x, bins], "dfl.conv", kernel_shape=[1, 1])
    dist = b.node("Reshape", [x, int64(b, "dfl.dist_shape", [0, 4, -1])], "dfl.dist")
    halves = ["dist.lt", "dist.rb"]
    b.nodes.append(helper.make_node("Split", [dist, int64(b, "dist.split", [2, 2])], halves,
                                    name="dist.split", axis=1))
    points, strides = anchor_points(size, (8, 16, 32))
    anchors = b.constant("anchors", points)
    x1y1 = b.node("Sub", [anchors, halves[0]], "x1y1")
    x2y2 = b.node("Add", [anchors, halves[1]], "x2y2")
    centre = b.node("Div", [b.node("Add", [x1y1, x2y2], "xy_sum"),
                            b.constant("two", np.float32(2.0))], "centre")
    wh = b.node("Sub", [x2y2, x1y1], "wh")
    box = b.node("Concat", [centre, wh], "box_grid", axis=1)
    boxes = b.node("Mul", [box, b.constant("strides", strides)], "boxes")
    scores = b.node("Sigmoid", [parts[1]], "scores")
    return boxes, scores


def normalise(model, images):
    """Rescales every Conv but the DFL's, in node order, so its output on `images` has the
    standard deviation the module names (LSUV initialisation); the class convs' bias stays."""
    weights = {t.name: t for t in model.graph.initializer}
    for node in model.graph.node:
        if node.op_type != "Conv" or node.name == "dfl.conv":
            continue
        target = (BOX_STD if ".box2" in node.name
                  else CLASS_STD if ".cls2" in node.name else BODY_STD)
        probe = onnx.ModelProto()
        probe.CopyFrom(model)
        probe.graph.output.append(helper.make_empty_tensor_value_info(node.output[0]))
        session = ort.InferenceSession(probe.SerializeToString(),
                                       providers=["CPUExecutionProvider"])
        values = np.concatenate([session.run([node.output[0]], {"images": x[None]})[0]
                                 for x in images])
        gain = target / max(float(values.std()), 1e-6)
        w, b = weights[node.input[1]], weights[node.input[2]]
        w.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(w) * np.float32(gain), w.name))
        bias = numpy_helper.to_array(b) * np.float32(gain)
        if ".cls2" in node.name:
            logits = (values - numpy_helper.to_array(b)[None, :, None, None]) * gain
            per_image = np.quantile(logits.reshape(len(images), -1), CLASS_QUANTILE, axis=1)
            bias = np.full_like(bias, -np.median(per_image))
        b.CopyFrom(numpy_helper.from_array(bias, b.name))
    return model


def yolov8n_style(seed, size, images):
    """The float model: input `images` [N, 3, size, size]; outputs `boxes`, `scores`."""
    b = Yolo(seed)
    x = b.cbs("images", "b0", 3, 16, 3, 2)
    x = b.c2f(b.cbs(x, "b1", 16, 32, 3, 2), "b2", 32, 32, 1, True)
    p3 = b.c2f(b.cbs(x, "b3", 32, 64, 3, 2), "b4", 64, 64, 2, True)
    p4 = b.c2f(b.cbs(p3, "b5", 64, 128, 3, 2), "b6", 128, 128, 2, True)
    p5 = b.sppf(b.c2f(b.cbs(p4, "b7", 128, 256, 3, 2), "b8", 256, 256, 1, True), "b9", 256)
    up = b.node("Concat", [b.upsample(p5, "n10"), p4], "n11", axis=1)
    n12 = b.c2f(up, "n12", 384, 128, 1, False)
    up = b.node("Concat", [b.upsample(n12, "n13"), p3], "n14", axis=1)
    n15 = b.c2f(up, "n15", 192, 64, 1, False)
    down = b.node("Concat", [b.cbs(n15, "n16", 64, 64, 3, 2), n12], "n17", axis=1)
    n18 = b.c2f(down, "n18", 192, 128, 1, False)
    down = b.node("Concat", [b.cbs(n18, "n19", 128, 128, 3, 2), p5], "n20", axis=1)
    n21 = b.c2f(down, "n21", 384, 256, 1, False)
    heads = [b.head(n15, "h0", 64), b.head(n18, "h1", 128), b.head(n21, "h2", 256)]
    raw = b.node("Concat", heads, "raw", axis=2)
    boxes, scores = decode(b, raw, size)
    anchors = sum((size // s) ** 2 for s in (8, 16, 32))
    graph = helper.make_graph(
        b.nodes, "yolov8n",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, ["N", 3, size, size])],
        [helper.make_tensor_value_info(boxes, TensorProto.FLOAT, ["N", 4, anchors]),
         helper.make_tensor_value_info(scores, TensorProto.FLOAT, ["N", CLASSES, anchors])],
        b.initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return normalise(model, images)
