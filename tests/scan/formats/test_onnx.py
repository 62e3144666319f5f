"""ONNX: benign models made by the onnx package; hostile ones edited at the protobuf level."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from mlwarden.core.severity import Severity
from mlwarden.scan.formats.onnx import location_problem

from .conftest import assert_no_crash, by_rule, format_of, rule_ids, scan, scan_file


def benign_model(extra_nodes: list[onnx.NodeProto] | None = None,
                 opsets: list[onnx.OperatorSetIdProto] | None = None,
                 weight: np.ndarray | None = None) -> onnx.ModelProto:
    w = numpy_helper.from_array(weight if weight is not None else
                                np.arange(64, dtype=np.float32).reshape(8, 8), "W")
    nodes = [helper.make_node("MatMul", ["X", "W"], ["Y0"]),
             helper.make_node("Relu", ["Y0"], ["Y"]), *(extra_nodes or [])]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("X", TensorProto.FLOAT,
                                                                         [1, 8])],
                              [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1, 8])],
                              [w])
    return helper.make_model(graph, producer_name="mlwarden-tests",
                             opset_imports=opsets or [helper.make_opsetid("", 17)])


def test_benign_model_is_clean() -> None:
    data = benign_model().SerializeToString()
    ctx = scan(data)
    assert format_of(ctx) == "onnx" and ctx.findings == []


def test_benign_model_with_external_data_in_directory(tmp_path: Path) -> None:
    model = benign_model(weight=np.ones((8, 8), np.float32))
    path = tmp_path / "model.onnx"
    onnx.save_model(model, path, save_as_external_data=True, location="model.data",
                    size_threshold=0)
    ctx = scan_file(path)
    assert format_of(ctx, str(path)) == "onnx" and ctx.findings == []


def with_location(model: onnx.ModelProto, location: str) -> bytes:
    tensor = model.graph.initializer[0]
    tensor.ClearField("raw_data")
    tensor.data_location = TensorProto.EXTERNAL
    del tensor.external_data[:]
    tensor.external_data.add(key="location", value=location)
    tensor.external_data.add(key="length", value="256")
    return model.SerializeToString()


@pytest.mark.parametrize("location", ["../../../../etc/passwd", "/etc/passwd", "C:\\Windows\\x",
                                      "weights/../../secret", "file:///etc/shadow",
                                      "https://evil.example/w.bin", "ok\x00/../x", "~/.ssh/id_rsa",
                                      "\\\\server\\share\\w"])
def test_escaping_external_data_location_is_high(location: str) -> None:
    ctx = scan(with_location(benign_model(), location))
    [finding] = by_rule(ctx, "MW-ONNX-001")
    assert finding.severity is Severity.HIGH
    assert finding.evidence["location"] == location
    assert finding.location.offset is not None


def test_symlinked_external_data_leaving_the_directory(tmp_path: Path) -> None:
    outside = tmp_path / "outside.bin"
    outside.write_bytes(b"\0" * 256)
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    os.symlink(outside, model_dir / "weights.bin")
    path = model_dir / "model.onnx"
    path.write_bytes(with_location(benign_model(), "weights.bin"))
    ctx = scan_file(path)
    assert "symlink" in by_rule(ctx, "MW-ONNX-001")[0].message


def test_escape_inside_an_if_subgraph_is_found() -> None:
    inner_tensor = numpy_helper.from_array(np.ones(4, np.float32), "C")
    inner_tensor.ClearField("raw_data")
    inner_tensor.data_location = TensorProto.EXTERNAL
    inner_tensor.external_data.add(key="location", value="../../proc/self/environ")
    then_graph = helper.make_graph([helper.make_node("Constant", [], ["T"], value=inner_tensor)],
                                   "then", [], [helper.make_tensor_value_info(
                                       "T", TensorProto.FLOAT, [4])])
    else_graph = helper.make_graph([helper.make_node("Constant", [], ["E"],
                                                     value=numpy_helper.from_array(
                                                         np.zeros(4, np.float32)))],
                                   "else", [], [helper.make_tensor_value_info(
                                       "E", TensorProto.FLOAT, [4])])
    loop_body = helper.make_graph([helper.make_node("If", ["c"], ["out"], then_branch=then_graph,
                                                    else_branch=else_graph)], "body", [], [])
    node = helper.make_node("Loop", ["M", "c"], ["z"], body=loop_body)
    ctx = scan(benign_model([node]).SerializeToString())
    assert by_rule(ctx, "MW-ONNX-001")


def test_custom_domain_is_a_low_policy_finding() -> None:
    node = helper.make_node("Decrypt", ["Y"], ["Z"], domain="com.evil.ops")
    model = benign_model([node], opsets=[helper.make_opsetid("", 17),
                                         helper.make_opsetid("com.evil.ops", 1)])
    ctx = scan(model.SerializeToString())
    [finding] = by_rule(ctx, "MW-ONNX-002")
    assert finding.severity is Severity.LOW
    assert finding.evidence == {"domain": "com.evil.ops", "ops": ["Decrypt"]}


def test_standard_and_onnxruntime_domains_are_not_reported() -> None:
    nodes = [helper.make_node("FusedMatMul", ["X", "W"], ["F"], domain="com.microsoft"),
             helper.make_node("Normalizer", ["F"], ["N"], domain="ai.onnx.ml")]
    model = benign_model(nodes, opsets=[helper.make_opsetid("", 17),
                                        helper.make_opsetid("com.microsoft", 1),
                                        helper.make_opsetid("ai.onnx.ml", 3)])
    assert scan(model.SerializeToString()).findings == []


def test_model_local_functions_are_not_custom_ops() -> None:
    fn = helper.make_function("local.fns", "Double", ["a"], ["b"],
                              [helper.make_node("Add", ["a", "a"], ["b"])],
                              [helper.make_opsetid("", 17)])
    model = benign_model([helper.make_node("Double", ["Y"], ["Z"], domain="local.fns")],
                         opsets=[helper.make_opsetid("", 17), helper.make_opsetid("local.fns", 1)])
    model.functions.append(fn)
    assert scan(model.SerializeToString()).findings == []
    # but a custom op inside a function body is still seen
    fn.node.append(helper.make_node("Steal", ["b"], ["c"], domain="com.evil"))
    model.functions[0].CopyFrom(fn)
    assert by_rule(scan(model.SerializeToString()), "MW-ONNX-002")


@pytest.mark.parametrize("cut", [0.5, 0.9])
def test_truncated_model_is_malformed(cut: float) -> None:
    data = benign_model().SerializeToString()
    ctx = scan(data[:int(len(data) * cut)])
    assert_no_crash(ctx)
    assert format_of(ctx) == "onnx" and "MW-ONNX-003" in rule_ids(ctx)


def test_random_protobuf_like_bytes_are_not_claimed() -> None:
    assert format_of(scan(b"\x08\x01" + b"random text that is not a model")) != "onnx"
    assert format_of(scan(b"\x08\x07\x12\x03abc")) != "onnx"  # no graph


@pytest.mark.parametrize(("location", "ok"), [("weights.bin", True), ("a/b/c.data", True),
                                              ("a/../b", False), ("", False)])
def test_location_problem(location: str, ok: bool) -> None:
    assert (location_problem(location) is None) is ok
