#!/usr/bin/env python3
"""Checks that kiln's integer element-wise ops (QLinearAdd/QLinearMul, QLinearConcat, LookupTable),
exported in standard ONNX, run in onnxruntime with kiln's outputs.

Usage (scripts/check_quantized_elementwise_export.sh runs all three steps):
    python scripts/check_quantized_elementwise_export.py model WORK_DIR
        writes WORK_DIR/qdq.onnx, a QDQ model with int8/uint8 inputs (Add and Mul with broadcasting,
        SiLU as Mul(x, Sigmoid(x)), HardSwish, Concat of differently quantized inputs), and one
        .npy per input into WORK_DIR/inputs, printing kiln's `--input` flags
    python scripts/check_quantized_elementwise_export.py compare WORK_DIR KILN_OUT_DIR [...]
        checks WORK_DIR/lowered.onnx (kiln's export of its lowered graph: onnx.checker, standard
        ops only), runs it and qdq.onnx in onnxruntime and compares each output with the .npy of
        the same name in each KILN_OUT_DIR

Allowed differences, in output steps: LookupTable outputs (silu_q, hswish_q) 0 against the export,
whose Cast/Add/Gather form is the table itself; QLinearAdd/Mul/Concat outputs 1 (their f32
rounding differs from the float path's only next to a rounding boundary, see
src/ops/quantized_elementwise/mod.rs). Against onnxruntime's run of the QDQ model, whose float ops
it may compute in another order or fuse, the same bounds apply except that the tables may differ
where onnxruntime's Sigmoid/HardSwish round differently: reported, not checked.
Exit status 1 when a checked output differs by more."""

import pathlib
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

TABLE_OUTPUTS = {"silu_q", "hswish_q"}
OUTPUTS = ["add_q", "mul_q", "silu_q", "hswish_q", "cat_q"]


def qdq_model():
    def scalar(name, value, dtype=np.float32):
        return numpy_helper.from_array(np.array(value, dtype=dtype), name)

    initializers = [
        scalar("sa", 0.011), scalar("za", -3, np.int8),
        scalar("sb", 0.017), scalar("zb", 127, np.int8),
        scalar("sc", 0.05), scalar("zc", 0, np.int8),
        scalar("su", 0.02), scalar("zu", 128, np.uint8),
        scalar("sy", 0.02), scalar("zy", -128, np.int8),
        scalar("sm", 0.004), scalar("zm", 0, np.int8),
        scalar("sh", 0.015), scalar("zh", 3, np.uint8),
    ]
    node = helper.make_node
    nodes = [
        node("DequantizeLinear", ["a_q", "sa", "za"], ["a_f"], name="dq_a"),
        node("DequantizeLinear", ["b_q", "sb", "zb"], ["b_f"], name="dq_b"),
        node("DequantizeLinear", ["c_q", "sc", "zc"], ["c_f"], name="dq_c"),
        node("DequantizeLinear", ["u_q", "su", "zu"], ["u_f"], name="dq_u"),
        node("Add", ["a_f", "b_f"], ["sum"], name="add"),
        node("QuantizeLinear", ["sum", "sy", "zy"], ["add_q"], name="q_add"),
        node("Mul", ["a_f", "b_f"], ["product"], name="mul"),
        node("QuantizeLinear", ["product", "sm", "zm"], ["mul_q"], name="q_mul"),
        node("Sigmoid", ["a_f"], ["gate"], name="sigmoid"),
        node("Mul", ["a_f", "gate"], ["silu"], name="silu"),
        node("QuantizeLinear", ["silu", "sy", "zy"], ["silu_q"], name="q_silu"),
        node("HardSwish", ["u_f"], ["hswish"], name="hswish"),
        node("QuantizeLinear", ["hswish", "sh", "zh"], ["hswish_q"], name="q_hswish"),
        node("Concat", ["a_f", "c_f"], ["joined"], axis=1, name="cat"),
        node("QuantizeLinear", ["joined", "sy", "zy"], ["cat_q"], name="q_cat"),
    ]
    inputs = [
        helper.make_tensor_value_info("a_q", TensorProto.INT8, [1, 3, 5, 7]),
        helper.make_tensor_value_info("b_q", TensorProto.INT8, [1, 3, 1, 7]),
        helper.make_tensor_value_info("c_q", TensorProto.INT8, [1, 2, 5, 7]),
        helper.make_tensor_value_info("u_q", TensorProto.UINT8, [1, 1, 16, 16]),
    ]
    int8, uint8 = TensorProto.INT8, TensorProto.UINT8
    output_types = [(int8, [1, 3, 5, 7])] * 3 + [(uint8, [1, 1, 16, 16]), (int8, [1, 5, 5, 7])]
    outputs = [helper.make_tensor_value_info(name, dtype, shape)
               for name, (dtype, shape) in zip(OUTPUTS, output_types)]
    graph = helper.make_graph(nodes, "quantized_elementwise", inputs, outputs, initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    return model


def write_model(work):
    work = pathlib.Path(work)
    (work / "inputs").mkdir(parents=True, exist_ok=True)
    onnx.save(qdq_model(), work / "qdq.onnx")
    rng = np.random.default_rng(0)
    values = {
        "a_q": rng.integers(-128, 128, (1, 3, 5, 7), dtype=np.int8),
        "b_q": rng.integers(-128, 128, (1, 3, 1, 7), dtype=np.int8),
        "c_q": rng.integers(-128, 128, (1, 2, 5, 7), dtype=np.int8),
        "u_q": np.arange(256, dtype=np.uint8).reshape(1, 1, 16, 16),
    }
    values["a_q"].reshape(-1)[:105] = np.arange(-128, 127, 255 / 105).astype(np.int8)[:105]
    for name, value in values.items():
        np.save(work / "inputs" / f"{name}.npy", value)
        print(f"--input {name}={work / 'inputs' / (name + '.npy')}")


def run_ort(path, work):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feeds = {i.name: np.load(pathlib.Path(work) / "inputs" / f"{i.name}.npy") for i in session.get_inputs()}
    return dict(zip([o.name for o in session.get_outputs()], session.run(None, feeds)))


def compare(work, kiln_dirs):
    work = pathlib.Path(work)
    lowered = onnx.load(work / "lowered.onnx")
    onnx.checker.check_model(lowered, full_check=True)
    domains = {opset.domain for opset in lowered.opset_import}
    op_types = sorted({node.op_type for node in lowered.graph.node})
    print(f"lowered.onnx: opset {[o.version for o in lowered.opset_import]}, domains {domains}, ops {op_types}")
    status = 0
    if domains - {"", "ai.onnx"}:
        print("FAIL: a non-standard domain")
        status = 1
    exported = run_ort(work / "lowered.onnx", work)
    original = run_ort(work / "qdq.onnx", work)
    for kiln_dir in kiln_dirs:
        for name in OUTPUTS:
            kiln = np.load(pathlib.Path(kiln_dir) / f"{name}.npy").astype(np.int64)
            bound = 0 if name in TABLE_OUTPUTS else 1
            for label, ort_values, checked in [("export", exported, True), ("qdq model", original, bound > 0)]:
                theirs = ort_values[name].astype(np.int64)
                if kiln.shape != theirs.shape:
                    print(f"FAIL {kiln_dir} {name}: shape {kiln.shape} vs {theirs.shape}")
                    status = 1
                    continue
                worst = int(np.abs(kiln - theirs).max())
                differing = int(np.count_nonzero(kiln != theirs))
                verdict = "ok" if worst <= bound else ("FAIL" if checked else "reported")
                if verdict == "FAIL":
                    status = 1
                print(f"{verdict:8} {pathlib.Path(kiln_dir).name:10} {name:9} vs onnxruntime on the "
                      f"{label}: worst {worst} steps (bound {bound}), {differing}/{kiln.size} differ")
    return status


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "model":
        write_model(sys.argv[2])
    elif len(sys.argv) >= 4 and sys.argv[1] == "compare":
        sys.exit(compare(sys.argv[2], sys.argv[3:]))
    else:
        sys.exit(__doc__)
