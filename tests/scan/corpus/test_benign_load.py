"""Benign corpus samples really are what they claim: each loads with its own library.

Only benign files we generated ourselves are loaded here, in a temporary directory.
"""

from __future__ import annotations

import io
import pickle

import numpy as np
import pytest

from tests.scan.corpus.conftest import Corpus


def _benign(corpus: Corpus, fmt: str) -> list[str]:
    return [s.name for s in corpus.of("benign") if s.format == fmt]


def test_torch_benign_load_with_weights_only(corpus: Corpus) -> None:
    torch = pytest.importorskip("torch")
    for name in _benign(corpus, "pytorch"):
        data = (corpus.root / name).read_bytes()
        if "torchscript" in name:
            module = torch.jit.load(io.BytesIO(data))
            assert isinstance(module, torch.jit.ScriptModule)
        elif "trainer_checkpoint" in name:
            # argparse.Namespace is outside torch's weights-only set: load our own file in full
            obj = torch.load(io.BytesIO(data), weights_only=False, map_location="cpu")
            assert obj["args"].epochs == 3
        elif "full_module" in name:
            # a whole-module pickle names the user's class: torch's allowlist refuses it
            with pytest.raises(pickle.UnpicklingError):
                torch.load(io.BytesIO(data), weights_only=True)
        else:
            obj = torch.load(io.BytesIO(data), weights_only=True, map_location="cpu")
            assert isinstance(obj, dict) and obj, name


def test_sklearn_and_gbm_pickles_predict(corpus: Corpus) -> None:
    import joblib

    probe = np.zeros((2, 6))
    for name in _benign(corpus, "pickle") + _benign(corpus, "joblib"):
        path = corpus.root / name
        obj = joblib.load(path) if name.endswith(".joblib") else pickle.loads(path.read_bytes())
        if hasattr(obj, "predict") and getattr(obj, "n_features_in_", None) == 6:
            assert len(obj.predict(probe)) == 2, name
        else:
            assert obj is not None, name


def test_skops_loads_with_only_sklearn_types_trusted(corpus: Corpus) -> None:
    import skops.io as sio

    for name in _benign(corpus, "skops"):
        data = (corpus.root / name).read_bytes()
        untrusted = sio.get_untrusted_types(data=data)
        assert all(t.startswith(("sklearn.", "numpy.")) for t in untrusted), untrusted
        model = sio.loads(data, trusted=untrusted)
        assert len(model.predict(np.zeros((2, 6)))) == 2


def test_onnx_checker_accepts_benign_models(corpus: Corpus) -> None:
    import onnx

    for name in _benign(corpus, "onnx"):
        onnx.checker.check_model(str(corpus.root / name))
        model = onnx.load(str(corpus.root / name))  # external data resolved beside the file
        assert model.graph.initializer[0].name == "W"


def test_gguf_reader_sees_the_chat_templates(corpus: Corpus) -> None:
    from gguf import GGUFReader

    for name in _benign(corpus, "gguf") + [s.name for s in corpus.of("malicious")
                                           if s.format == "gguf"]:
        reader = GGUFReader(corpus.root / name)
        keys = set(reader.fields)
        assert "general.architecture" in keys, name
        assert len(reader.tensors) == 1


def test_safetensors_and_numpy_load(corpus: Corpus) -> None:
    from safetensors.numpy import load

    for name in _benign(corpus, "safetensors"):
        assert load((corpus.root / name).read_bytes())
    for name in _benign(corpus, "numpy"):
        loaded = np.load(corpus.root / name, allow_pickle="object" in name)
        assert loaded is not None


def test_keras_and_hdf5_samples_have_the_keras_layout(corpus: Corpus) -> None:
    import json
    import zipfile

    import h5py

    for sample in corpus.samples:
        if sample.format != "keras":
            continue
        path = corpus.root / sample.name
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as zf:
                assert {"config.json", "metadata.json", "model.weights.h5"} <= set(zf.namelist())
                assert json.loads(zf.read("config.json"))["class_name"] == "Sequential"
        else:
            with h5py.File(path, "r") as f:
                assert json.loads(f.attrs["model_config"])["class_name"] == "Sequential"
