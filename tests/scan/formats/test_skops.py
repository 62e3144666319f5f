"""skops files: every type or function schema.json names is judged like a pickle import
(MW-SKOPS-001 for a denylisted one); real sklearn models stay clean."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest

from mlwarden.scan.engine import scan_bytes
from tests.scan.redteam.build import zip_bytes


def _dump() -> bytes:
    import skops.io as sio
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, MinMaxScaler

    x, y = np.random.default_rng(0).random((30, 3)), [0, 1, 2] * 10
    model = make_pipeline(MinMaxScaler(), FunctionTransformer(np.log1p),
                          LogisticRegression()).fit(x, y)
    return bytes(sio.dumps(model))


def respelled(data: bytes, old: str, module: str, name: str) -> bytes:
    """``data`` with every schema node of class ``old`` renamed to ``module.name``."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        members = [(info.filename, zf.read(info)) for info in zf.infolist()]

    def patch(value: object) -> None:
        if isinstance(value, dict):
            if value.get("__class__") == old:
                value["__class__"], value["__module__"] = name, module
            for child in value.values():
                patch(child)
        elif isinstance(value, list):
            for child in value:
                patch(child)

    out = []
    for member, raw in members:
        if member == "schema.json":
            tree = json.loads(raw)
            patch(tree)
            raw = json.dumps(tree).encode()
        out.append((member, raw))
    return zip_bytes(out)


def test_a_real_skops_model_is_clean() -> None:
    report = scan_bytes(_dump(), name="model.skops")
    assert not report.active
    assert report.metadata["formats"]["model.skops"] == "skops"


@pytest.mark.parametrize(("module", "name"), [("posix", "system"), ("builtins", "eval"),
                                              ("subprocess", "Popen"), ("runpy", "run_path")])
def test_a_dangerous_function_is_high(module: str, name: str) -> None:
    import skops.io as sio

    data = respelled(_dump(), "log1p", module, name)
    assert f"{module}.{name}" in sio.get_untrusted_types(data=data)  # what a loader would trust
    report = scan_bytes(data, name="model.skops")
    assert [f.rule_id for f in report.active] == ["MW-SKOPS-001"]


# -- how skops.io.load uses each node's name (skops_nodes) ----------------------------------------

def _leaf(value: object) -> dict[str, object]:
    return {"__class__": "str", "__module__": "builtins", "__loader__": "JsonNode",
            "content": json.dumps(value), "is_json": True}


def _args(*items: dict[str, object]) -> dict[str, object]:
    return {"__class__": "tuple", "__module__": "builtins", "__loader__": "TupleNode",
            "content": list(items)}


def _attrs(**items: dict[str, object]) -> dict[str, object]:
    return {"__class__": "dict", "__module__": "builtins", "__loader__": "DictNode",
            "content": items, "key_types": {
                "__class__": "list", "__module__": "builtins", "__loader__": "ListNode",
                "content": [{"__class__": "str", "__module__": "builtins",
                             "__loader__": "TypeNode"} for _ in items]}}


def _file(root: dict[str, object]) -> bytes:
    schema = {**root, "protocol": 2, "_skops_version": "0.16.0"}
    return zip_bytes([("schema.json", json.dumps(schema).encode())])


def _active(root: dict[str, object], **kw: object) -> list[tuple[str, str]]:
    report = scan_bytes(_file(root), name="model.skops", **kw)  # type: ignore[arg-type]
    return sorted((f.rule_id, f.severity.value) for f in report.active)


USER_OBJECT = {"__class__": "TinyNet", "__module__": "my_models", "__loader__": "ObjectNode",
               "content": _attrs(w=_leaf(1))}


def test_an_unvetted_class_rebuilt_by_object_node_is_high() -> None:
    assert _active(USER_OBJECT) == [("MW-SKOPS-002", "high")]
    # the policy's allow_globals clears it, as for a pickle's unvetted import
    assert _active(USER_OBJECT, allow_globals=["my_models.*"]) == []


def test_an_allowlisted_class_rebuilt_by_object_node_is_clean() -> None:
    node = {**USER_OBJECT, "__module__": "sklearn.linear_model._logistic",
            "__class__": "LogisticRegression"}
    assert _active(node) == []


def test_a_name_the_loader_never_imports_is_not_judged_unvetted() -> None:
    """JsonNode/BytesNode/SliceNode names are only audited (a denylisted one still counts)."""
    assert _active({**_leaf(1), "__module__": "my_models", "__class__": "Thing"}) == []
    assert _active({**_leaf(1), "__module__": "posix", "__class__": "system"}) == [
        ("MW-SKOPS-001", "high")]


@pytest.mark.parametrize(("root", "expected"), [
    ({"__class__": "Thing", "__module__": "my_models", "__loader__": "ConstructorFromReduceNode",
      "content": _args(_leaf("x"))}, [("MW-SKOPS-002", "high")]),
    ({"__class__": "system", "__module__": "posix", "__loader__": "ConstructorFromReduceNode",
      "content": _args(_leaf("id"))}, [("MW-SKOPS-001", "critical")]),
    ({"__class__": "Booster", "__module__": "xgboost.core", "__loader__": "FunctionNode"},
     [("MW-SKOPS-001", "high")]),
    ({"__class__": "memmap", "__module__": "numpy", "__loader__": "NdArrayNode",
      "type": "numpy", "file": "a.npy"}, [("MW-SKOPS-001", "high")]),
    ({**_attrs(k=_leaf(1)), "key_types": {
        "__class__": "list", "__module__": "builtins", "__loader__": "ListNode",
        "content": [{"__class__": "system", "__module__": "posix", "__loader__": "TypeNode"}]}},
     [("MW-SKOPS-001", "critical")]),
    ({"__class__": "Thing", "__module__": "my_models", "__loader__": "BrandNewNode"},
     [("MW-SKOPS-001", "high")]),
    ({"__class__": "TinyNet", "__module__": "my_models", "__loader__": "MethodNode",
      "content": {"func": "__reduce__", "obj": USER_OBJECT}},
     [("MW-SKOPS-001", "high"), ("MW-SKOPS-002", "high")]),
], ids=["reduce-unvetted", "reduce-denylisted", "value-only-as-function", "ndarray-subclass-call",
        "dict-key-type-called", "unknown-loader", "dunder-method"])
def test_each_node_kind_is_judged_by_its_use(root: dict[str, object],
                                             expected: list[tuple[str, str]]) -> None:
    assert _active(root) == expected


def test_a_random_generator_with_an_unknown_bit_generator() -> None:
    def generator(name: str) -> dict[str, object]:
        return {"__class__": "Generator", "__module__": "numpy.random._generator",
                "__loader__": "RandomGeneratorNode",
                "content": {"bit_generator": {"content": {"bit_generator": _leaf(name)}},
                            "seed_seq": _attrs()}}

    assert _active(generator("PCG64")) == []
    assert _active(generator("Evil")) == [("MW-SKOPS-002", "high")]


@pytest.mark.parametrize("wrap", ["dict", "defaultdict"])
def test_state_that_rv_generic_setstate_executes_is_critical_under_any_class(wrap: str) -> None:
    """scipy's rv_generic.__setstate__ exec()s _parse_arg_template: critical even under a class
    name the allowlist vouches for (CamelCase in scipy.stats), and through a defaultdict state."""
    state = _attrs(_parse_arg_template=_leaf("import os"), numargs=_leaf(0))
    if wrap == "defaultdict":
        state = {"__class__": "defaultdict", "__module__": "collections",
                 "__loader__": "DefaultDictNode",
                 "content": {"main": state, "default_factory": _leaf(None)}}
    node = {"__class__": "NormGen", "__module__": "scipy.stats._continuous_distns",
            "__loader__": "ObjectNode", "content": state}
    assert _active(node) == [("MW-SKOPS-001", "critical")]


def test_a_schema_over_the_analysis_limit_is_high_not_passed(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """skops reads schema.json whatever its size; padding it past the limit with incompressible
    bytes must not turn the file into an unclaimed zip."""
    import os

    from mlwarden.scan.formats import skops_file

    node = {"__class__": "system", "__module__": "posix", "__loader__": "FunctionNode",
            "protocol": 2, "pad": os.urandom(3 * 1024 * 1024).hex()}
    data = zip_bytes([("schema.json", json.dumps(node).encode())])
    monkeypatch.setattr(skops_file, "MAX_SCHEMA", 1024 * 1024)
    report = scan_bytes(data, name="model.skops")
    assert report.metadata["formats"]["model.skops"] == "skops"
    assert [(f.rule_id, f.severity.value) for f in report.active] == [("MW-SKOPS-001", "high")]
    assert "not analysed" in report.active[0].message
