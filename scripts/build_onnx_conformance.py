"""Writes the ONNX backend conformance suites into one folder, as kiln's conformance test reads them.

Run by build_onnx_conformance.sh inside a venv that has the pinned `onnx`. Produces, under OUT:
  node/<case>/model.onnx + test_data_set_0/{input,output}_N.pb   generated from onnx.backend.test.case.node
  pytorch-converted/, pytorch-operator/, simple/                  copied as the wheel ships them
  <suite>/<case>/ops.txt   every op the model uses (subgraphs included), one `domain:op_type` a line
                           (`:Add` for the default domain), so the test can tell which cases use only
                           ops kiln supports without parsing a model it may fail to load
  VERSION                  the onnx version the suites come from
"""

from __future__ import annotations

import os
import shutil
import sys

import onnx
from onnx import TensorProto, numpy_helper
from onnx.backend.test.case.node import collect_testcases
from onnx.backend.test.loader import DATA_DIR

COPIED_SUITES = ("pytorch-converted", "pytorch-operator", "simple", "node")


def serialize_value(value, type_proto, name: str) -> bytes:
    """One input or output value as the .pb file the ONNX runners read (mirrors cmd_tools)."""
    if type_proto.HasField("map_type"):
        return numpy_helper.from_dict(value, name).SerializeToString()
    if type_proto.HasField("sequence_type"):
        return numpy_helper.from_list(value, name).SerializeToString()
    if type_proto.HasField("optional_type"):
        return numpy_helper.from_optional(value, name).SerializeToString()
    if isinstance(value, TensorProto):
        return value.SerializeToString()
    return numpy_helper.from_array(value, name).SerializeToString()


def write_node_case(case, suite_dir: str) -> None:
    """model.onnx and test_data_set_N/ for one generated node test case."""
    case_dir = os.path.join(suite_dir, case.name)
    os.makedirs(case_dir)
    with open(os.path.join(case_dir, "model.onnx"), "wb") as f:
        f.write(case.model.SerializeToString())
    graph = case.model.graph
    for set_index, (inputs, outputs) in enumerate(case.data_sets):
        set_dir = os.path.join(case_dir, f"test_data_set_{set_index}")
        os.makedirs(set_dir)
        for kind, values, infos in (("input", inputs, graph.input), ("output", outputs, graph.output)):
            for index, value in enumerate(values):
                info = infos[index]
                with open(os.path.join(set_dir, f"{kind}_{index}.pb"), "wb") as f:
                    f.write(serialize_value(value, info.type, info.name))


def graph_ops(graph) -> set[str]:
    """`domain:op_type` of every node in `graph` and in the subgraphs its attributes hold."""
    ops = set()
    for node in graph.node:
        ops.add(f"{node.domain if node.domain != 'ai.onnx' else ''}:{node.op_type}")
        for attribute in node.attribute:
            if attribute.HasField("g"):
                ops |= graph_ops(attribute.g)
            for subgraph in attribute.graphs:
                ops |= graph_ops(subgraph)
    return ops


def write_ops_lists(out_dir: str) -> None:
    """ops.txt beside every model.onnx under `out_dir`."""
    for root, _, files in os.walk(out_dir):
        if "model.onnx" in files:
            model = onnx.load(os.path.join(root, "model.onnx"), load_external_data=False)
            with open(os.path.join(root, "ops.txt"), "w") as f:
                f.write("".join(f"{op}\n" for op in sorted(graph_ops(model.graph))))


def main() -> None:
    out_dir = sys.argv[1]
    node_dir = os.path.join(out_dir, "node")
    shipped = [s for s in COPIED_SUITES if os.path.isdir(os.path.join(DATA_DIR, s))]
    for suite in shipped:
        shutil.copytree(os.path.join(DATA_DIR, suite), os.path.join(out_dir, suite))
    if "node" not in shipped:
        os.makedirs(node_dir)
        for case in collect_testcases():
            write_node_case(case, node_dir)
    write_ops_lists(out_dir)
    with open(os.path.join(out_dir, "VERSION"), "w") as f:
        f.write(f"onnx {onnx.__version__}\n")
    counts = {s: len(os.listdir(os.path.join(out_dir, s))) for s in sorted(os.listdir(out_dir))
              if os.path.isdir(os.path.join(out_dir, s))}
    print(" ".join(f"{suite}: {count}" for suite, count in counts.items()))


if __name__ == "__main__":
    main()
