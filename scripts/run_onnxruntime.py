#!/usr/bin/env python3
"""Runs an ONNX model with onnxruntime's CPU provider on .npy inputs and writes every output as
OUT_DIR/<output name>.npy. kiln's tests call it (with the venv that scripts/make_quantized_models.sh
makes) to check that onnxruntime runs what kiln exports.

Usage:
    python scripts/run_onnxruntime.py [--standard] MODEL.onnx OUT_DIR NAME=INPUT.npy [...]

--standard first checks that MODEL holds standard ONNX only (every node in the default domain,
opset >= 13) and exits with status 1, saying why, when it does not.
"""

import pathlib
import sys

import numpy as np
import onnx
import onnxruntime as ort


def check_standard(path):
    model = onnx.load(path)
    domains = {node.domain for node in model.graph.node} - {"", "ai.onnx"}
    opsets = [entry.version for entry in model.opset_import if entry.domain in ("", "ai.onnx")]
    if domains or not opsets or max(opsets) < 13:
        sys.exit(f"error: {path} is not standard ONNX >= 13 (other domains {sorted(domains)}, "
                 f"opset {opsets})")


def main(argv):
    standard = bool(argv) and argv[0] == "--standard"
    argv = argv[1:] if standard else argv
    if len(argv) < 3:
        sys.exit(__doc__)
    model, out_dir = argv[0], pathlib.Path(argv[1])
    if standard:
        check_standard(model)
    feeds = {}
    for argument in argv[2:]:
        name, _, path = argument.partition("=")
        if not path:
            sys.exit(f"error: input '{argument}' is not NAME=FILE.npy")
        feeds[name] = np.load(path)
    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    out_dir.mkdir(parents=True, exist_ok=True)
    names = [output.name for output in session.get_outputs()]
    for name, value in zip(names, session.run(names, feeds)):
        np.save(out_dir / f"{name}.npy", value)


if __name__ == "__main__":
    main(sys.argv[1:])
