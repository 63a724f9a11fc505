#!/usr/bin/env python3
"""Checks an ONNX -> .kiln -> ONNX round trip with the reference tools: onnx.checker (full check)
on both files, then onnxruntime outputs of the original and the round-tripped model on the same
random inputs, which must be bit-identical (the round trip must give back the same graph).

Needs onnx, onnxruntime and numpy (e.g. a venv under cache/). Usage, from the repository root:
    target/release/kiln convert models/yolov3-tiny.cfg /tmp/yolo.onnx
    target/release/kiln convert /tmp/yolo.onnx /tmp/yolo.kiln
    target/release/kiln convert /tmp/yolo.kiln /tmp/yolo-back.onnx
    python scripts/check_kiln_round_trip.py /tmp/yolo.onnx /tmp/yolo-back.onnx
Symbolic dimensions are bound to 1 (batch); exit status 1 on any difference."""

import sys

import numpy as np
import onnx
import onnxruntime as ort

NUMPY_TYPES = {1: np.float32, 10: np.float16, 3: np.int8, 2: np.uint8, 6: np.int32, 7: np.int64, 9: np.bool_}


def random_inputs(model, seed=0):
    rng = np.random.default_rng(seed)
    initializers = {init.name for init in model.graph.initializer}
    inputs = {}
    for value in model.graph.input:
        if value.name in initializers:
            continue
        tensor_type = value.type.tensor_type
        shape = [dim.dim_value if dim.HasField("dim_value") else 1 for dim in tensor_type.shape.dim]
        dtype = NUMPY_TYPES[tensor_type.elem_type]
        inputs[value.name] = rng.standard_normal(shape).astype(dtype)
    return inputs


def main(original_path, round_trip_path):
    models = [onnx.load(original_path), onnx.load(round_trip_path)]
    for path, model in zip([original_path, round_trip_path], models):
        onnx.checker.check_model(model, full_check=True)
        print(f"onnx.checker: {path} passes (opset {model.opset_import[0].version})")
    inputs = random_inputs(models[0])
    runs = []
    for path in [original_path, round_trip_path]:
        session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        names = [output.name for output in session.get_outputs()]
        runs.append(dict(zip(names, session.run(None, inputs))))
    failed = False
    for name, expected in runs[0].items():
        got = runs[1][name]
        identical = expected.shape == got.shape and np.array_equal(expected, got, equal_nan=True)
        largest = float(np.max(np.abs(expected.astype(np.float64) - got))) if expected.size else 0.0
        print(f"output {name} {list(expected.shape)}: {'identical' if identical else 'DIFFERS'} (max |diff| {largest})")
        failed |= not identical
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
