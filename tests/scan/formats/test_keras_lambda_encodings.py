"""Every encoding of a Lambda layer's function is reported, wherever the layer is nested."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlwarden.core.severity import Severity
from mlwarden.scan.formats.keras_config import analyze_config, parse_config

from .conftest import by_rule, scan
from .keras_samples import DTYPE, dense, keras_zip, layer, marshalled_lambda, sequential


def _lambda(function: object, name: str = "lam") -> dict[str, Any]:
    return layer("Lambda", {"name": name, "trainable": True, "dtype": DTYPE,
                            "function": function, "arguments": {}})


CODE = marshalled_lambda()
BYTECODE_ENCODINGS: dict[str, object] = {
    # Keras 3 serialization_lib.serialize_keras_object(lambda): {"value": func_dump(...)}.
    "value-list": {"class_name": "__lambda__", "config": {"value": [CODE, None, None]}},
    "value-string": {"class_name": "__lambda__", "config": {"value": CODE}},
    "code": {"class_name": "__lambda__",
             "config": {"code": CODE, "defaults": None, "closure": None}},
    "function-key": {"class_name": "__lambda__", "config": {"function": [CODE, None, None]}},
    "legacy-list": [CODE, None, None],
    "legacy-string": CODE,
}


def _wrap(model: dict[str, Any], how: str) -> dict[str, Any]:
    if how == "plain":
        return sequential([dense("d", 4), model])
    if how == "functional":
        inner = layer("Functional", {"name": "sub", "layers": [dense("a", 2), model]},
                      module="keras.src.models.functional")
        return layer("Functional", {"name": "outer", "layers": [inner]},
                     module="keras.src.models.functional")
    if how == "sequential":
        return sequential([dense("d", 4), sequential([model], name="inner")], name="outer")
    return sequential([layer("TimeDistributed", {"name": "td", "layer": model})])


@pytest.mark.parametrize("how", ["plain", "functional", "sequential", "wrapper"])
@pytest.mark.parametrize("encoding", sorted(BYTECODE_ENCODINGS))
def test_lambda_bytecode_in_any_encoding_is_critical(encoding: str, how: str) -> None:
    ctx = scan(keras_zip(_wrap(_lambda(BYTECODE_ENCODINGS[encoding]), how)))
    [finding] = by_rule(ctx, "MW-KERAS-001")
    assert finding.severity is Severity.CRITICAL
    assert "'lam'" in finding.message
    assert finding.evidence["marshalled_code_bytes"] > 100  # the bytecode itself was found


@pytest.mark.parametrize("function", [
    {"class_name": "__lambda__", "config": {"value": "not base64 !"}},
    {"class_name": "__lambda__", "config": {}},
    {"class_name": "__lambda__"},
    None,
    42,
])
def test_lambda_whose_function_is_unreadable_is_still_critical(function: object) -> None:
    ctx = scan(keras_zip(_wrap(_lambda(function), "sequential")))
    [finding] = by_rule(ctx, "MW-KERAS-001")
    assert finding.severity is Severity.CRITICAL


@pytest.mark.parametrize("function", [
    "my_package.transforms.normalise",
    {"module": "my_package.transforms", "class_name": "function", "config": "normalise",
     "registered_name": "normalise"},
])
def test_lambda_naming_a_function_is_high(function: object) -> None:
    ctx = scan(keras_zip(_wrap(_lambda(function), "functional")))
    [finding] = by_rule(ctx, "MW-KERAS-001")
    assert finding.severity is Severity.HIGH
    assert "normalise" in finding.message


@pytest.mark.parametrize("spelling", [
    {"module": "keras.layers", "class_name": "Lambda"},
    {"module": "keras.src.layers.core.lambda_layer", "class_name": "Lambda"},
    {"module": "tensorflow.keras.layers", "class_name": "Lambda"},
    {"class_name": "keras.layers.Lambda"},
    {"class_name": "Custom", "registered_name": "keras.layers>Lambda"},
])
def test_every_module_spelling_of_lambda_is_found(spelling: dict[str, Any]) -> None:
    obj = {**spelling, "config": {"name": "lam", "function": BYTECODE_ENCODINGS["value-list"]}}
    ctx = scan(keras_zip(sequential([obj])))
    assert [f.severity for f in by_rule(ctx, "MW-KERAS-001")] == [Severity.CRITICAL]


def test_standalone_lambda_object_in_value_form_is_critical() -> None:
    custom = layer("MyLayer", {"name": "x", "fn": BYTECODE_ENCODINGS["value-list"]})
    ctx = scan(keras_zip(sequential([custom])))
    [finding] = by_rule(ctx, "MW-KERAS-001")
    assert finding.severity is Severity.CRITICAL
    assert finding.evidence["marshalled_code_bytes"] > 100


_JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                     lambda inner: st.lists(inner, max_size=3)
                     | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=8)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(["code", "value", "function", "other"]), _JSON)
def test_any_lambda_object_in_a_lambda_layer_is_critical(key: str, payload: object) -> None:
    function = {"class_name": "__lambda__", "config": {key: payload}}
    issues = analyze_config(parse_config(json.dumps(sequential([_lambda(function)])), 1 << 20))
    assert [i.severity or i.rule.severity for i in issues
            if i.rule.id == "MW-KERAS-001"] == [Severity.CRITICAL]
