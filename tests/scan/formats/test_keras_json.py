"""Keras configs outside a .keras archive, and JSON documents in every encoding json.loads(bytes)
accepts (Keras reads config.json as bytes)."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from mlwarden.core.severity import Severity
from mlwarden.scan.engine import scan_bytes
from mlwarden.scan.formats.keras_config import looks_like_keras_config
from mlwarden.scan.interface import ScanTarget
from mlwarden.scan.sniff import could_be_json_object
from tests.scan.redteam.cases_formats import _DENSE, _lambda, _sequential

_ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le",
              "utf-32-be"]


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=8), st.integers() | st.text(max_size=8), max_size=4),
       st.sampled_from(_ENCODINGS), st.sampled_from(["", " ", "\n\t ", "\r\n"]))
def test_the_json_sniff_admits_every_object_json_loads_reads(
        value: dict[str, object], encoding: str, space: str) -> None:
    raw = (space + json.dumps(value)).encode(encoding)
    assert json.loads(raw) == value
    target = ScanTarget(path="x.json", data=raw)
    assert could_be_json_object(raw[:4096], target), (encoding, raw[:16])


def test_keras_configs_are_told_from_other_json() -> None:
    assert looks_like_keras_config(_sequential("s", [_DENSE]))
    assert looks_like_keras_config({"modelTopology": {"model_config": {}}})
    assert looks_like_keras_config({"model_config": "{}"})
    for other in ({"architectures": ["X"], "model_type": "llama"}, {"chat_template": "x",
                  "class_name": "A", "config": {}}, {"class_name": "A"}, [1, 2], "text"):
        assert not looks_like_keras_config(other)


def test_a_lambda_in_any_encoding_of_a_model_json_is_found() -> None:
    from pathlib import Path

    text = json.dumps(_sequential("s", [_DENSE, _lambda(Path("/nonexistent/canary"))]))
    for encoding in _ENCODINGS:
        report = scan_bytes(text.encode(encoding), name="model.json")
        assert report.at_or_above(Severity.HIGH), encoding
        assert {f.rule_id for f in report.active} == {"MW-KERAS-001"}


def test_a_benign_model_json_is_clean() -> None:
    report = scan_bytes(json.dumps(_sequential("s", [_DENSE])).encode(), name="model.json")
    assert not report.active
