#!/usr/bin/env python3
"""Runs an ONNX model with onnxruntime (CPU) on one letterboxed photo and writes what it computed,
as the reference kiln's detection results are compared with.

The letterbox is darknet's (letterbox_image): scale to fit the model input keeping the aspect ratio
(new size by integer division, bilinear), centre it at integer offsets ((size - new) / 2) on a
0.5-gray canvas; then RGB, pixel / 255, NCHW, batch 1. Pass --input-npy to run a tensor made
elsewhere (kiln's own letterbox) instead.

Writes, under --out-dir (default models/), <prefix>_input.npy (the tensor fed) and
<prefix>_<output>.npy for every model output (raw, before any decoding), and prints each output's
shape and statistics. With --cfg (the Darknet .cfg the model came from) it also decodes the YOLO
heads as darknet does, or with --anchor-free a YOLOv8-style output, and prints the detections above
--threshold after per-class NMS (IoU 0.45), boxes in input pixels.

Runs inside cache/ort-venv (onnxruntime, numpy and Pillow at the versions pinned below), creating it
on first use with pip. Usage:
  python3 scripts/ort_reference.py models/yolov3-tiny.onnx --image models/photos/dog.jpg \
      --prefix yolov3-tiny_dog --cfg models/yolov3-tiny.cfg --names models/coco.names
"""
import argparse
import os
import re
import subprocess
import sys
import venv

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV_DIR = os.path.join(REPO_ROOT, "cache", "ort-venv")
PINNED = ["onnxruntime==1.32.0", "numpy==2.4.6", "pillow==13.0.0"]


def ensure_venv():
    """Re-executes this script inside cache/ort-venv, creating the venv first when missing."""
    venv_python = os.path.join(VENV_DIR, "bin", "python")
    if os.path.realpath(sys.prefix) == os.path.realpath(VENV_DIR):
        return
    stamp = os.path.join(VENV_DIR, "pinned.txt")
    if not os.path.exists(stamp) or open(stamp).read().split() != PINNED:
        print(f"ort_reference: creating {VENV_DIR} with {' '.join(PINNED)}", file=sys.stderr)
        venv.create(VENV_DIR, with_pip=True, clear=True)
        install = [venv_python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        if subprocess.call(install + PINNED) != 0:
            sys.exit("ort_reference: pip install failed (is PyPI reachable?)")
        with open(stamp, "w") as out:
            out.write("\n".join(PINNED) + "\n")
    os.execv(venv_python, [venv_python, os.path.abspath(__file__)] + sys.argv[1:])


def letterbox(path, size, fill, numpy):
    """darknet's letterbox_image of the photo at `path` into a 1x3xHxW float32 tensor."""
    from PIL import Image

    height, width = size
    image = Image.open(path).convert("RGB")
    if width / image.width < height / image.height:
        new_width, new_height = width, image.height * width // image.width
    else:
        new_width, new_height = image.width * height // image.height, height
    resized = numpy.asarray(image.resize((new_width, new_height), Image.BILINEAR), numpy.float32)
    canvas = numpy.full((height, width, 3), fill, numpy.float32)
    top, left = (height - new_height) // 2, (width - new_width) // 2
    canvas[top : top + new_height, left : left + new_width] = resized / 255.0
    print(f"letterbox: {image.width}x{image.height} -> {new_width}x{new_height} at x={left}, y={top}")
    return canvas.transpose(2, 0, 1)[None].copy()


def yolo_sections(cfg_path):
    """(anchors as [w, h] pairs, classes) of each [yolo] section, in file order."""
    sections, current = [], None
    for raw in open(cfg_path):
        line = re.sub(r"\s", "", raw)
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            current = {} if line == "[yolo]" else None
            if current is not None:
                sections.append(current)
        elif current is not None and "=" in line:
            key, value = line.split("=", 1)
            current[key] = value
    heads = []
    for section in sections:
        pairs = [float(v) for v in section["anchors"].split(",")]
        num = int(section.get("num", "1"))
        mask = [int(v) for v in section.get("mask", ",".join(map(str, range(num)))).split(",")]
        heads.append(([pairs[2 * i : 2 * i + 2] for i in mask], int(section.get("classes", "20"))))
    return heads


def decode_yolo(outputs, heads, input_size, threshold, numpy):
    """Darknet's get_yolo_detections, boxes in input pixels (x0, y0, x1, y1), as (score, class, box)."""
    sigmoid = lambda x: 1.0 / (1.0 + numpy.exp(-x))
    boxes = []
    for raw, (anchors, classes) in zip(outputs, heads):
        _, _, grid_h, grid_w = raw.shape
        values = raw[0].reshape(len(anchors), 5 + classes, grid_h, grid_w).astype(numpy.float64)
        rows, cols = numpy.meshgrid(numpy.arange(grid_h), numpy.arange(grid_w), indexing="ij")
        for a, (anchor_w, anchor_h) in enumerate(anchors):
            v = values[a]
            x = (cols + sigmoid(v[0])) / grid_w * input_size[1]
            y = (rows + sigmoid(v[1])) / grid_h * input_size[0]
            w, h = numpy.exp(v[2]) * anchor_w, numpy.exp(v[3]) * anchor_h
            objectness = sigmoid(v[4])
            scores = sigmoid(v[5:]) * objectness
            for i, j in zip(*numpy.nonzero(objectness > threshold)):
                for c in numpy.nonzero(scores[:, i, j] > threshold)[0]:
                    box = (x[i, j] - w[i, j] / 2, y[i, j] - h[i, j] / 2, x[i, j] + w[i, j] / 2, y[i, j] + h[i, j] / 2)
                    boxes.append((float(scores[c, i, j]), int(c), box))
    return boxes


def decode_anchor_free(output, threshold, numpy):
    """A YOLOv8-style [1, 4 + classes, N] output (centre x, centre y, width, height in input pixels,
    then class probabilities) as (score, class, box) above `threshold`."""
    values = output[0].astype(numpy.float64)
    boxes = []
    for n in numpy.nonzero(values[4:].max(axis=0) > threshold)[0]:
        x, y, w, h = values[:4, n]
        c = int(values[4:, n].argmax())
        boxes.append((float(values[4 + c, n]), c, (x - w / 2, y - h / 2, x + w / 2, y + h / 2)))
    return boxes


def non_max_suppression(boxes):
    """darknet's do_nms_sort: per class, best first, dropping boxes overlapping a kept one by IoU > 0.45."""
    kept = []
    for score, c, box in sorted(boxes, key=lambda item: -item[0]):
        if all(other_c != c or iou(box, other) <= 0.45 for _, other_c, other in kept):
            kept.append((score, c, box))
    return kept


def iou(a, b):
    inter_w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    inter_h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = inter_w * inter_h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def main():
    ensure_venv()
    import numpy
    import onnxruntime

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--image", help="a photo to letterbox")
    source.add_argument("--input-npy", help="an NCHW float32 tensor to feed as it is")
    parser.add_argument("--size", type=int, nargs=2, metavar=("H", "W"), help="input size when the model's is not fixed")
    parser.add_argument("--out-dir", default=os.path.join(REPO_ROOT, "models"))
    parser.add_argument("--prefix", help="file name prefix (default: the model's file stem)")
    parser.add_argument("--cfg", help="the Darknet .cfg, to decode YOLO heads")
    parser.add_argument("--names", help="class names, one a line")
    parser.add_argument("--anchor-free", action="store_true", help="decode a YOLOv8-style [1, 4 + classes, N] output")
    parser.add_argument("--threshold", type=float, default=0.5)
    parser.add_argument("--fill", type=float, default=0.5, help="letterbox gray (Ultralytics uses 114/255)")
    args = parser.parse_args()

    print(f"onnxruntime {onnxruntime.__version__}, numpy {numpy.__version__}")
    session = onnxruntime.InferenceSession(args.model, providers=["CPUExecutionProvider"])
    model_input = session.get_inputs()[0]
    print(f"input {model_input.name}: {model_input.type} {model_input.shape}")
    fixed = [d for d in model_input.shape[2:] if isinstance(d, int)]
    size = tuple(args.size) if args.size else tuple(fixed) if len(fixed) == 2 else (416, 416)
    if args.image:
        tensor = letterbox(args.image, size, args.fill, numpy)
    else:
        tensor = numpy.load(args.input_npy).astype(numpy.float32)
    feed = tensor.astype(numpy.float16) if model_input.type == "tensor(float16)" else tensor
    outputs = session.run(None, {model_input.name: feed})

    prefix = args.prefix or os.path.splitext(os.path.basename(args.model))[0]
    os.makedirs(args.out_dir, exist_ok=True)
    numpy.save(os.path.join(args.out_dir, f"{prefix}_input.npy"), tensor)
    for meta, value in zip(session.get_outputs(), outputs):
        path = os.path.join(args.out_dir, f"{prefix}_{re.sub(r'[^A-Za-z0-9_.-]', '_', meta.name)}.npy")
        numpy.save(path, value)
        as_f64 = value.astype(numpy.float64)
        print(
            f"output {meta.name}: {value.dtype} {list(value.shape)} min {as_f64.min():.6g} max {as_f64.max():.6g} "
            f"mean {as_f64.mean():.6g} first {[round(float(v), 6) for v in as_f64.reshape(-1)[:4]]} -> {path}"
        )
    if args.cfg:
        boxes = decode_yolo(outputs, yolo_sections(args.cfg), size, args.threshold, numpy)
    elif args.anchor_free:
        boxes = decode_anchor_free(outputs[0], args.threshold, numpy)
    else:
        return
    names = open(args.names).read().split("\n") if args.names else None
    for score, c, box in non_max_suppression(boxes):
        label = names[c] if names else str(c)
        print(f"detection {label} {score:.4f} box [{', '.join(f'{v:.1f}' for v in box)}]")


if __name__ == "__main__":
    main()
