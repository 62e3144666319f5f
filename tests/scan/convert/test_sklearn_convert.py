"""scikit-learn pickle/joblib → skops: allowlist loading and identical predictions."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pytest

from mlwarden.scan.convert import ConversionRefused, NotConvertible, Target, convert
from mlwarden.scan.convert.unpickler import load_pickle_or_joblib, py3_name
from tests.scan.corpus.payloads import canary_object
from tests.scan.corpus.pickle_asm import call_pickle


@pytest.mark.parametrize("protocol", range(6))
def test_pickle_protocols_convert_with_identical_predictions(
        tmp_path: Path, sk_models: dict[str, Any], protocol: int) -> None:
    import skops.io as sio

    model = sk_models["pipeline_logreg"]
    src = tmp_path / "model.pkl"
    src.write_bytes(pickle.dumps(model, protocol=protocol))
    result = convert(src)
    assert result.target is Target.SKOPS and result.output == tmp_path / "model.skops"
    data = result.output.read_bytes()
    loaded = sio.loads(data, trusted=sio.get_untrusted_types(data=data))
    probe = np.random.default_rng(1).normal(size=(20, 6))
    assert np.array_equal(loaded.predict_proba(probe), model.predict_proba(probe))
    assert "predict_proba" in result.summary


@pytest.mark.parametrize("compress", ["none", "zlib", "gzip", "bz2", "lzma", "xz"])
def test_joblib_compressions(tmp_path: Path, sk_models: dict[str, Any], compress: str) -> None:
    src = tmp_path / "model.joblib"
    joblib.dump(sk_models["random_forest"], src, compress=0 if compress == "none" else (compress, 3))
    result = convert(src, tmp_path / "out" / "rf.skops")
    assert result.output.is_file() and "RandomForestClassifier" in result.summary


@pytest.mark.parametrize("name", ["gradient_boosting", "pca_svc", "knn", "kmeans"])
def test_more_estimators(tmp_path: Path, sk_models: dict[str, Any], name: str) -> None:
    src = tmp_path / f"{name}.pkl"
    src.write_bytes(pickle.dumps(sk_models[name], protocol=5))
    assert convert(src).output.is_file()


def test_probe_csv_for_a_model_a_generated_probe_cannot_feed(
        tmp_path: Path, sk_models: dict[str, Any]) -> None:
    src = tmp_path / "onehot.joblib"
    joblib.dump(sk_models["column_onehot"], src)
    with pytest.raises(NotConvertible, match="probe input"):
        convert(src)
    probe = tmp_path / "probe.csv"
    probe.write_text("a,b\na,x\nb,y\nc,x\n")
    result = convert(src, probe=probe)
    assert "3 probe rows" in result.summary


def test_hostile_pickle_is_refused_before_loading(tmp_path: Path) -> None:
    canary = tmp_path / "FIRED"
    src = tmp_path / "evil.pkl"
    src.write_bytes(pickle.dumps({"model": canary_object(str(canary))}))
    with pytest.raises(ConversionRefused, match="MW-"):
        convert(src)
    assert not canary.exists() and not src.with_suffix(".skops").exists()


def test_unpickler_refuses_what_is_not_allowlisted_even_unscanned(tmp_path: Path) -> None:
    canary = tmp_path / "FIRED"
    for data in (call_pickle("os", "system", f"touch {canary}"),
                 call_pickle("__builtin__", "eval", f"open({str(canary)!r}, 'w')"),
                 call_pickle("mycorp.layers", "Custom")):
        with pytest.raises(ConversionRefused, match="refused"):
            load_pickle_or_joblib(data)
    assert not canary.exists()


def test_python2_names_are_judged_as_python3_names() -> None:
    assert py3_name("copy_reg", "_reconstructor") == ("copyreg", "_reconstructor")
    assert py3_name("__builtin__", "eval") == ("builtins", "eval")


def test_not_an_estimator(tmp_path: Path) -> None:
    src = tmp_path / "dict.pkl"
    src.write_bytes(pickle.dumps({"a": [1, 2]}))
    with pytest.raises(NotConvertible, match="not a scikit-learn estimator"):
        convert(src)
