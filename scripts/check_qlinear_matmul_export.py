#!/usr/bin/env python3
"""The MatMul/Gemm QDQ lowering against onnxruntime, through kiln's ONNX export.

    python scripts/check_qlinear_matmul_export.py make DIR
        writes DIR/mlp_qdq.onnx, a QDQ MLP as onnxruntime's quantize_static writes one (x → Q → DQ
        → Gemm transB with an int32 bias under a DQ → Relu → Q → DQ → MatMul with per-column int8
        weights and zero points → Q, uint8 activations, int8 output), seeded, and DIR/input.npy
    python scripts/check_qlinear_matmul_export.py compare DIR BOUND
        checks DIR/lowered.onnx (kiln's export of the lowered graph) with onnx.checker (full) and
        that it uses only the standard domain, runs onnxruntime on it and on DIR/mlp_qdq.onnx, and
        compares both with DIR/kiln_output.npy: at most BOUND output steps apart (the test derives
        BOUND from the requantization steps). Exit status 1 otherwise.

tests/quantized_interop/qlinear_matmul_export.rs runs both steps with cache/ort-venv-quantize.
"""

import pathlib
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

SEED = 1314
X_SCALE = np.float32(1.0 / 127.0)
H_SCALE = np.float32(0.05)
Y_SCALE = np.float32(0.1)


def initializer(name, values):
    return numpy_helper.from_array(np.asarray(values), name)


def make(out_dir):
    rng = np.random.default_rng(SEED)
    w1 = rng.integers(-127, 128, size=(12, 20)).astype(np.int8)
    w1_scales = rng.uniform(0.002, 0.01, 12).astype(np.float32)
    b1 = rng.integers(-2000, 2000, size=12).astype(np.int32)
    w2 = rng.integers(-20, 21, size=(12, 5)).astype(np.int8)
    w2_scales = rng.uniform(0.002, 0.008, 5).astype(np.float32)
    w2_zero_points = np.array([0, -3, 5, 9, -8], np.int8)
    inits = [
        initializer("s0", X_SCALE), initializer("s1", H_SCALE), initializer("s2", Y_SCALE),
        initializer("z", np.uint8(128)), initializer("z_out", np.int8(-7)),
        initializer("w1", w1), initializer("w1_s", w1_scales), initializer("b1", b1),
        initializer("b1_s", (X_SCALE * w1_scales).astype(np.float32)),
        initializer("w2", w2), initializer("w2_s", w2_scales), initializer("w2_z", w2_zero_points),
    ]
    node = helper.make_node
    nodes = [
        node("QuantizeLinear", ["x", "s0", "z"], ["x_q"], name="q0"),
        node("DequantizeLinear", ["x_q", "s0", "z"], ["x_f"], name="dq0"),
        node("DequantizeLinear", ["w1", "w1_s"], ["w1_f"], name="dq_w1", axis=0),
        node("DequantizeLinear", ["b1", "b1_s"], ["b1_f"], name="dq_b1", axis=0),
        node("Gemm", ["x_f", "w1_f", "b1_f"], ["g1"], name="gemm1", transB=1),
        node("Relu", ["g1"], ["r1"], name="relu1"),
        node("QuantizeLinear", ["r1", "s1", "z"], ["h_q"], name="q1"),
        node("DequantizeLinear", ["h_q", "s1", "z"], ["h_f"], name="dq1"),
        node("DequantizeLinear", ["w2", "w2_s", "w2_z"], ["w2_f"], name="dq_w2", axis=1),
        node("MatMul", ["h_f", "w2_f"], ["m2"], name="matmul2"),
        node("QuantizeLinear", ["m2", "s2", "z_out"], ["y_q"], name="q2"),
    ]
    graph = helper.make_graph(
        nodes, "mlp_qdq",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, 20])],
        [helper.make_tensor_value_info("y_q", TensorProto.INT8, [3, 5])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    onnx.checker.check_model(model, full_check=True)
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    onnx.save(model, out_dir / "mlp_qdq.onnx")
    np.save(out_dir / "input.npy", rng.uniform(-1, 1, (3, 20)).astype(np.float32))


def run(path, x):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {"x": x})[0]


def compare(out_dir, bound):
    out_dir = pathlib.Path(out_dir)
    lowered = onnx.load(out_dir / "lowered.onnx")
    onnx.checker.check_model(lowered, full_check=True)
    domains = {node.domain for node in lowered.graph.node} - {"", "ai.onnx"}
    ops = [node.op_type for node in lowered.graph.node]
    print(f"lowered.onnx: opset {lowered.opset_import[0].version}, ops {ops}")
    if domains:
        print(f"FAIL: non-standard domains {domains}")
        return 1
    x = np.load(out_dir / "input.npy")
    kiln = np.load(out_dir / "kiln_output.npy").astype(np.int32)
    worst = 0
    for name in ["lowered.onnx", "mlp_qdq.onnx"]:
        steps = int(np.abs(run(out_dir / name, x).astype(np.int32) - kiln).max())
        print(f"onnxruntime on {name}: max |onnxruntime − kiln| = {steps} steps (bound {bound})")
        worst = max(worst, steps)
    return 0 if worst <= bound else 1


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2])
    else:
        sys.exit(compare(sys.argv[2], int(sys.argv[3])))
