#!/usr/bin/env python3
"""Runs an ONNX model with onnxruntime's CPU provider on .npy inputs and writes every output as
OUT_DIR/<output name>.npy. kiln's tests call it (with the venv that scripts/make_quantized_models.sh
makes) to check that onnxruntime runs what kiln exports.

Usage:
    python scripts/run_onnxruntime.py MODEL.onnx OUT_DIR NAME=INPUT.npy [NAME=INPUT.npy ...]
"""

import pathlib
import sys

import numpy as np
import onnxruntime as ort


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    model, out_dir = argv[0], pathlib.Path(argv[1])
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
