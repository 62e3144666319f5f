"""ONNX models are recognised whatever the order of their top-level fields (protobuf parsers,
``onnx.load`` among them, accept any order) and without an ir_version."""

from __future__ import annotations

import itertools

import onnx

from mlwarden.core.severity import Severity
from mlwarden.scan.engine import scan_bytes
from tests.scan.redteam.cases_formats import onnx_model
from tests.scan.redteam.cases_round4_formats import onnx_fields


def test_every_field_order_is_scanned() -> None:
    fields = onnx_fields(onnx.load_from_string(onnx_model("../../../../etc/passwd")))
    for order in itertools.permutations(fields):
        for drop_ir in (False, True):
            data = b"".join(raw for name, raw in order if not (drop_ir and name == "ir_version"))
            onnx.load_from_string(data)  # what the loader accepts
            report = scan_bytes(data, name="model.onnx")
            assert report.at_or_above(Severity.HIGH), [name for name, _ in order]
            assert report.metadata["formats"]["model.onnx"] == "onnx"


def test_a_model_without_a_graph_is_not_onnx() -> None:
    fields = dict(onnx_fields(onnx.load_from_string(onnx_model("w.bin"))))
    data = fields["opset_import"] + fields["ir_version"]
    assert scan_bytes(data, name="x.bin").metadata["formats"]["x.bin"] != "onnx"
