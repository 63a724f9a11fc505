#!/usr/bin/env python3
"""Checks kiln's QDQ ONNX export of a packed model with the reference tools: onnx.checker (full,
strict) on the exported file, then onnxruntime's outputs against kiln's own outputs of the packed
`.kiln` model, and against kiln's outputs of its re-import of the exported file, on one input.

Usage (scripts/check_qdq_export.sh runs it for YOLOv3-tiny Q8 and Q4):
    python scripts/check_qdq_export.py inputs MODEL.onnx INPUT_DIR
        writes one uniform [0, 1) .npy per graph input of MODEL.onnx into INPUT_DIR
    python scripts/check_qdq_export.py compare MODEL.onnx INPUT_DIR KILN_OUT_DIR [KILN_OUT_DIR...]
        checks MODEL.onnx, runs onnxruntime on the inputs and compares every output with the
        .npy of the same name in each KILN_OUT_DIR

The tolerance is relative to the largest |output|: both engines dequantize the weights to the
same f32 values (one rounding of an exact product), so they differ only in the order of the f32
sums. Each layer's sums of K products differ by at most K·u·Σ|x·w| (u = 2⁻²⁴); over L layers,
with K ≤ K_MAX and Σ|x·w| taken as the layer's output scale, the difference stays within
L·K_MAX·u of the largest output. YOLOv3-tiny: L = 13 convolutions, K_MAX = 3·3·512 = 4608.
Exit status 1 when an output differs by more."""

import pathlib
import sys

import numpy as np
import onnx
import onnxruntime as ort

LAYERS = 13
K_MAX = 4608
UNIT_ROUNDOFF = 2.0**-24
RELATIVE_TOLERANCE = LAYERS * K_MAX * UNIT_ROUNDOFF
QUANTIZED_TYPES = {onnx.TensorProto.INT8: "int8", onnx.TensorProto.UINT8: "uint8",
                   onnx.TensorProto.INT4: "int4", onnx.TensorProto.UINT4: "uint4"}


def graph_inputs(model):
    initializers = {init.name for init in model.graph.initializer}
    return [value for value in model.graph.input if value.name not in initializers]


def write_inputs(model_path, input_dir):
    model = onnx.load(model_path)
    rng = np.random.default_rng(0)
    input_dir = pathlib.Path(input_dir)
    input_dir.mkdir(parents=True, exist_ok=True)
    for value in graph_inputs(model):
        shape = [dim.dim_value if dim.HasField("dim_value") else 1 for dim in value.type.tensor_type.shape.dim]
        np.save(input_dir / f"{value.name}.npy", rng.random(shape, dtype=np.float32))
        print(f"--input {value.name}={input_dir / (value.name + '.npy')}")


def describe_weights(model):
    counts = {}
    for init in model.graph.initializer:
        name = QUANTIZED_TYPES.get(init.data_type, onnx.TensorProto.DataType.Name(init.data_type).lower())
        counts[name] = counts.get(name, 0) + 1
    dequantize = [node for node in model.graph.node if node.op_type == "DequantizeLinear"]
    blocked = sum(1 for node in dequantize if any(a.name == "block_size" and a.i > 0 for a in node.attribute))
    return f"initializers by type {counts}; {len(dequantize)} DequantizeLinear ({blocked} blocked)"


def compare(model_path, input_dir, kiln_dirs):
    model = onnx.load(model_path)
    onnx.checker.check_model(model, full_check=True)
    size = pathlib.Path(model_path).stat().st_size
    print(f"onnx.checker (full): {model_path} passes, opset {model.opset_import[0].version}, {size} bytes")
    print(f"  {describe_weights(model)}")
    inputs = {value.name: np.load(pathlib.Path(input_dir) / f"{value.name}.npy") for value in graph_inputs(model)}
    session = ort.InferenceSession(model_path, providers=["CPUExecutionProvider"])
    names = [output.name for output in session.get_outputs()]
    expected = dict(zip(names, session.run(None, inputs)))
    failed = False
    for kiln_dir in kiln_dirs:
        for name, reference in expected.items():
            got = np.load(pathlib.Path(kiln_dir) / f"{name}.npy")
            scale = float(np.max(np.abs(reference))) if reference.size else 0.0
            largest = float(np.max(np.abs(reference.astype(np.float64) - got))) if reference.size else 0.0
            tolerance = RELATIVE_TOLERANCE * max(scale, 1.0)
            verdict = "ok" if got.shape == reference.shape and largest <= tolerance else "DIFFERS"
            print(f"  {kiln_dir} {name} {list(reference.shape)}: max |kiln - onnxruntime| {largest:.3e} "
                  f"(max |output| {scale:.3e}, tolerance {tolerance:.3e}) {verdict}")
            failed |= verdict != "ok"
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "inputs":
        write_inputs(sys.argv[2], sys.argv[3])
    elif len(sys.argv) >= 5 and sys.argv[1] == "compare":
        sys.exit(compare(sys.argv[2], sys.argv[3], sys.argv[4:]))
    else:
        sys.exit(__doc__)
