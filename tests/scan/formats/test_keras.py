"""Keras v3 archives: config analysis (Lambda anywhere, foreign modules, reloads) and members."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import h5py
import pytest

from mlwarden.core.severity import Severity
from mlwarden.scan.formats.keras_config import analyze_config, parse_config

from .conftest import assert_no_crash, by_rule, format_of, rule_ids, scan
from .keras_samples import (
    benign_cnn,
    benign_functional_with_nested_model,
    dense,
    keras3_lambda,
    keras_zip,
    layer,
    marshalled_lambda,
    sequential,
)


def weights_h5() -> bytes:
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        f.create_group("layers/dense/vars").create_dataset("0", data=[[1.0, 2.0]])
        f.attrs["keras_version"] = "3.6.0"
    return buf.getvalue()


@pytest.mark.parametrize("config", [benign_cnn(), benign_functional_with_nested_model()],
                         ids=["sequential-cnn", "functional-nested-wrappers"])
def test_realistic_keras3_models_are_clean(config: dict[str, Any]) -> None:
    ctx = scan(keras_zip(config, extra={"model.weights.h5": weights_h5()}))
    assert format_of(ctx) == "keras"
    assert ctx.findings == []
    assert ctx.formats["model!model.weights.h5"] == "hdf5"  # the weights went to the HDF5 scanner


def test_lambda_layer_with_bytecode_is_critical() -> None:
    ctx = scan(keras_zip(sequential([dense("d", 4), keras3_lambda("evil")])))
    [finding] = by_rule(ctx, "MW-KERAS-001")
    assert finding.severity is Severity.CRITICAL
    assert "evil" in finding.message
    assert finding.evidence["marshalled_code_bytes"] > 100


@pytest.mark.parametrize("wrap", ["nested-sequential", "time-distributed", "bidirectional",
                                  "functional", "deep"])
def test_lambda_is_found_wherever_it_is_nested(wrap: str) -> None:
    lam = keras3_lambda()
    if wrap == "nested-sequential":
        model = sequential([sequential([lam], name="inner")])
    elif wrap == "time-distributed":
        model = sequential([layer("TimeDistributed", {"name": "td", "layer": lam})])
    elif wrap == "bidirectional":
        model = sequential([layer("Bidirectional", {"name": "b", "layer": lam,
                                                    "backward_layer": dense("x", 2)})])
    elif wrap == "functional":
        model = layer("Functional", {"name": "m", "layers": [dense("a", 2), lam]})
    else:
        model = lam
        for i in range(50):
            model = sequential([model], name=f"s{i}")
    ctx = scan(keras_zip(model))
    assert any(f.severity is Severity.CRITICAL for f in by_rule(ctx, "MW-KERAS-001"))


def test_lambda_object_outside_a_lambda_layer() -> None:
    custom = layer("MyLayer", {"name": "x", "fn": {"class_name": "__lambda__", "config": {
        "code": marshalled_lambda()}}}, module="keras.layers")
    ctx = scan(keras_zip(sequential([custom])))
    assert by_rule(ctx, "MW-KERAS-001")[0].severity is Severity.CRITICAL


def test_legacy_style_lambda_list_and_named_function() -> None:
    legacy = layer("Lambda", {"name": "l", "function": [marshalled_lambda(), None, None],
                              "function_type": "lambda", "module": "__main__"})
    named = layer("Lambda", {"name": "n", "function": {"module": "os", "class_name": "function",
                                                       "config": "system",
                                                       "registered_name": "function"}})
    issues = analyze_config(parse_config(json.dumps(sequential([legacy, named])), 1 << 20))
    lambdas = [i for i in issues if i.rule.id == "MW-KERAS-001"]
    assert {i.evidence.get("layer") for i in lambdas} == {"l", "n"}
    assert any(i.severity is Severity.CRITICAL and "os.system" in i.message for i in lambdas)


@pytest.mark.parametrize(("obj", "expected"), [
    ({"module": "os", "class_name": "function", "config": "system", "registered_name": None},
     "os.system"),
    ({"module": "subprocess", "class_name": "Popen", "config": {}}, "subprocess"),
    ({"module": "builtins", "class_name": "function", "config": "exec"}, "builtins.exec"),
    ({"module": "keras.layers", "class_name": "Dense", "config": {},
      "registered_name": "os>system"}, "os"),
    ({"class_name": "importlib.import_module", "config": {}}, "importlib"),
])
def test_dangerous_modules_are_critical(obj: dict[str, Any], expected: str) -> None:
    ctx = scan(keras_zip(sequential([layer("Activation", {"name": "a", "activation": obj})])))
    [finding] = by_rule(ctx, "MW-KERAS-002")
    assert finding.severity is Severity.CRITICAL
    assert expected in finding.message


def test_custom_objects_are_medium_and_reported_once() -> None:
    custom = layer("MyAttention", {"name": "att"}, module="my_project.layers",
                   registered_name="MyProject>MyAttention")
    ctx = scan(keras_zip(sequential([custom, dict(custom)])))
    [finding] = by_rule(ctx, "MW-KERAS-005")
    assert finding.severity is Severity.MEDIUM
    assert "my_project.layers" in finding.message


@pytest.mark.parametrize("obj", [
    {"module": "keras.models", "class_name": "function", "config": "load_model"},
    {"module": "keras.saving", "class_name": "function", "config": "load_model"},
    {"module": "keras.utils", "class_name": "function", "config": "get_file"},
    {"module": "keras.config", "class_name": "function",
     "config": "enable_unsafe_deserialization"},
    {"name": "x", "path": "tf.keras.models.load_model"},
    {"name": "x", "filepath": "other.keras", "safe_mode": False},
    {"module": "keras.src.legacy.saving.legacy_h5_format", "class_name": "function",
     "config": "load_model_from_hdf5"},
    {"module": "my_pkg.io", "class_name": "function", "config": "load_weights_from_hdf5_group"},
    {"name": "x", "fn": "tf_keras.src.saving.legacy.hdf5_format.load_model_from_hdf5"},
])
def test_nested_reloads_are_high(obj: dict[str, Any]) -> None:
    ctx = scan(keras_zip(sequential([layer("Lambda2", {"name": "r", "payload": obj})])))
    findings = by_rule(ctx, "MW-KERAS-003")
    assert findings and all(f.severity is Severity.HIGH for f in findings)


def test_loader_like_words_outside_function_names_stay_clean() -> None:
    ctx = scan(keras_zip(sequential([layer("Dense", {"name": "load_model_head", "units": 2,
                                                     "note": "call load_model later"})])))
    assert "MW-KERAS-003" not in {f.rule_id for f in ctx.findings}


def test_duplicate_keys_do_not_hide_a_lambda() -> None:
    lam = json.dumps(keras3_lambda())
    raw = ('{"module": "keras", "class_name": "Sequential", "config": {"name": "s", "layers": ['
           + lam + ']}, "config": {"name": "s", "layers": []}}').encode()
    ctx = scan(keras_zip(raw))
    assert by_rule(ctx, "MW-KERAS-001")


@pytest.mark.parametrize("config", [b"{not json", b"\xff\xfe", b"[" * 100_000 + b"]" * 100_000])
def test_malformed_config_is_a_finding(config: bytes) -> None:
    ctx = scan(keras_zip(config))
    assert_no_crash(ctx)
    assert "MW-KERAS-004" in rule_ids(ctx)


def test_oversized_config_is_refused() -> None:
    from mlwarden.scan.interface import ScanLimits

    big = json.dumps(sequential([dense(f"d{i}", 4) for i in range(200)])).encode()
    ctx = scan(keras_zip(big), limits=ScanLimits(max_header_size=1000))
    [finding] = by_rule(ctx, "MW-KERAS-004")
    assert finding.severity is Severity.HIGH and "limit" in finding.message


def test_pickle_member_inside_the_archive_is_dispatched() -> None:
    import pickle

    ctx = scan(keras_zip(benign_cnn(), extra={"assets/extra.pkl": pickle.dumps({"a": 1})},
                         compression=zipfile.ZIP_STORED))
    assert ctx.formats.get("model!assets/extra.pkl") not in (None, "unknown")


def test_not_a_keras_zip_is_left_to_the_zip_scanner() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("config.json", "{}")
    ctx = scan(buf.getvalue())
    assert format_of(ctx) != "keras"


def test_members_walked_without_the_zip_scanner(monkeypatch: pytest.MonkeyPatch) -> None:
    from mlwarden.scan.interface import FormatScanner

    monkeypatch.delitem(FormatScanner.registry, "zip")
    ctx = scan(keras_zip(benign_cnn(), extra={"model.weights.h5": weights_h5()}))
    assert ctx.formats["model!model.weights.h5"] == "hdf5"
    assert ctx.findings == []


def test_zip_announcing_too_many_members_is_left_to_the_zip_scanner() -> None:
    from mlwarden.scan.formats.keras import KerasScanner, _announced_members
    from mlwarden.scan.interface import ScanTarget

    data = bytearray(keras_zip(benign_cnn()))
    assert _announced_members(data) == 2
    eocd = data.rfind(b"PK\x05\x06")
    data[eocd + 10:eocd + 12] = b"\xff\xff"
    assert not KerasScanner.detect(bytes(data[:4096]), ScanTarget(path="x", data=bytes(data)))


@pytest.mark.parametrize("obj", [
    layer("StringLookup", {"name": "lookup", "vocabulary": "/etc/passwd", "num_oov_indices": 1}),
    layer("TextVectorization", {"name": "tv", "vocabulary": "../../secrets.txt"}),
    layer("TFSMLayer", {"name": "sm", "filepath": "/models/other_savedmodel"}),
])
def test_layers_that_read_files_on_load(obj: dict[str, Any]) -> None:
    ctx = scan(keras_zip(sequential([obj])))
    assert by_rule(ctx, "MW-KERAS-003")


def test_lookup_layer_with_inline_vocabulary_is_clean() -> None:
    lookup = layer("StringLookup", {"name": "lookup", "vocabulary": ["a", "b"],
                                    "num_oov_indices": 1})
    assert scan(keras_zip(sequential([lookup]))).findings == []


def test_metadata_json_that_is_not_json() -> None:
    ctx = scan(keras_zip(benign_cnn(), metadata=b"\x00garbage"))
    assert [f.message.split(":")[0] for f in by_rule(ctx, "MW-KERAS-004")] == ["metadata.json"]


def test_config_with_bad_crc_is_a_finding_not_a_pass() -> None:
    data = bytearray(keras_zip(sequential([keras3_lambda()]), compression=zipfile.ZIP_STORED))
    at = data.find(b'"Lambda"')
    data[at + 1] = ord("X")  # the stored bytes no longer match the CRC Keras' zipfile checks
    ctx = scan(bytes(data))
    assert_no_crash(ctx)
    assert by_rule(ctx, "MW-KERAS-004")
