"""Runs kiln's standard-ONNX exports of lowered QDQ models in onnxruntime and compares outputs.

`cargo test --test quantized_interop a_lowered_model_round_trips` writes, into target/qdq-export/,
each lowered model exported as ONNX (<name>.onnx: QLinearAveragePool and QLinearGlobalAveragePool
written as DequantizeLinear -> AveragePool/GlobalAveragePool -> QuantizeLinear), its input
(<name>.input.npy), kiln's lowered output (<name>.kiln.npy) and `<input name> <output step>`
(<name>.meta). This script checks that the export uses only the default ONNX domain at opset >= 13,
runs it in onnxruntime, and prints max |onnxruntime - kiln| in output steps per model; it fails
when a model differs by more than --max-steps (default 1: kiln's quantized pools are within one
step of the float path onnxruntime takes for DQ -> pool -> Q, and everything else is the same
integer arithmetic).

Usage: cache/ort-venv-quantize/bin/python scripts/check_qdq_export.py [--dir target/qdq-export]
"""

import argparse
import pathlib
import sys

import numpy as np
import onnx
import onnxruntime as ort


def check(model_path: pathlib.Path, max_steps: float) -> bool:
    name = model_path.stem
    directory = model_path.parent
    input_name, step = (directory / f"{name}.meta").read_text().split()
    model = onnx.load(model_path)
    domains = {node.domain for node in model.graph.node} - {"", "ai.onnx"}
    opset = max(entry.version for entry in model.opset_import if entry.domain in ("", "ai.onnx"))
    if domains or opset < 13:
        print(f"{name}: non-standard export (domains {domains}, opset {opset})")
        return False
    options = ort.SessionOptions()
    session = ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
    x = np.load(directory / f"{name}.input.npy")
    got = session.run(None, {input_name: x})[0]
    want = np.load(directory / f"{name}.kiln.npy")
    steps = float(np.max(np.abs(got.astype(np.float64) - want.astype(np.float64))) / float(step))
    ops = sorted({node.op_type for node in model.graph.node})
    print(f"{name}: opset {opset}, ops {ops}; max |onnxruntime - kiln| = {steps:.3f} steps")
    return steps <= max_steps + 1e-6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", default="target/qdq-export", type=pathlib.Path)
    parser.add_argument("--max-steps", default=1.0, type=float)
    arguments = parser.parse_args()
    models = sorted(arguments.dir.glob("*.onnx"))
    if not models:
        print(f"no models in {arguments.dir}: run the cargo test named in this script's doc first")
        return 1
    results = [check(path, arguments.max_steps) for path in models]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
