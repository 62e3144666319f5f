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
