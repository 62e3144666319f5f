"""PyTorch checkpoints → safetensors: allowlist loading, bit-identical tensors, refusals."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mlwarden.scan.convert import ConversionRefused, NotConvertible, Target, convert, guess_target
from tests.conftest import LazyModule
from tests.scan.corpus.benign import tiny_net, torch_checkpoint

torch: Any = LazyModule("torch")
st: Any = LazyModule("safetensors.torch")


def _reload(path: Path) -> tuple[dict[str, object], dict[str, str]]:
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        return {k: f.get_tensor(k) for k in f.keys()}, f.metadata()  # noqa: SIM118


def test_state_dict_converts_bit_identical(torch_file: Callable[..., Path]) -> None:
    state = tiny_net().state_dict()
    src = torch_file(state)
    result = convert(src)
    assert result.output == src.with_suffix(".safetensors") and result.target is Target.SAFETENSORS
    tensors, meta = _reload(result.output)
    assert set(tensors) == set(state)
    for name, tensor in state.items():
        assert torch.equal(tensors[name], tensor), name
    assert meta["mlwarden.source_sha256"] == result.source_sha256
    assert "bit-identical" in result.summary


def test_checkpoint_with_optimizer_state_keeps_every_tensor_and_value(
        torch_file: Callable[..., Path]) -> None:
    ckpt = torch_checkpoint()
    result = convert(torch_file(ckpt, "ckpt.pth"))
    tensors, meta = _reload(result.output)
    assert torch.equal(tensors["model.fc.weight"], ckpt["model"]["fc.weight"])
    exp_avg = ckpt["optimizer"]["state"][0]["exp_avg"]
    assert torch.equal(tensors["optimizer.state.0.exp_avg"], exp_avg)
    values = json.loads(meta["mlwarden.values"])
    assert values["epoch"] == 3 and values["optimizer.param_groups.0.lr"] == 1e-3
    assert values["config.layers.2"] == 3


def test_legacy_format_views_and_shared_storage(torch_file: Callable[..., Path]) -> None:
    base = torch.arange(12, dtype=torch.float32)
    obj = {"tied_a": base, "tied_b": base, "view": base[2:6], "t": base.reshape(3, 4).t(),
           "bf16": torch.ones(2, dtype=torch.bfloat16), "nan": torch.tensor([float("nan")])}
    result = convert(torch_file(obj, "legacy.pt", _use_new_zipfile_serialization=False))
    tensors, _ = _reload(result.output)
    for name, tensor in obj.items():
        assert tensors[name].dtype == tensor.dtype
        assert torch.equal(tensors[name].view(torch.uint8) if name == "nan" else tensors[name],
                           tensor.view(torch.uint8) if name == "nan" else tensor.contiguous())


def test_full_module_is_never_unpickled(torch_file: Callable[..., Path], tmp_path: Path) -> None:
    import sys
    import types

    net = tiny_net()
    mod = types.ModuleType("user_models")
    type(net).__module__, type(net).__qualname__ = "user_models", "TinyNet"
    mod.TinyNet = type(net)  # type: ignore[attr-defined]
    sys.modules["user_models"] = mod
    try:
        src = torch_file(net, "full.pt")
    finally:
        del sys.modules["user_models"]
    # the scanner reports the unknown class; were it waived, torch's weights-only loader refuses
    with pytest.raises((ConversionRefused, NotConvertible)):
        convert(src)
    with pytest.raises(NotConvertible, match=r"weights-only loader refused user_models\.TinyNet"):
        convert(src, allow_globals=["user_models.*"])
    assert not src.with_suffix(".safetensors").exists()


def test_torchscript_is_refused(tmp_path: Path) -> None:
    buf = io.BytesIO()
    torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), buf)
    src = tmp_path / "scripted.pt"
    src.write_bytes(buf.getvalue())
    with pytest.raises((NotConvertible, ConversionRefused)):
        convert(src)
    assert not src.with_suffix(".safetensors").exists()


def test_guess_target_by_content(torch_file: Callable[..., Path], tmp_path: Path) -> None:
    assert guess_target(torch_file({"w": torch.ones(1)}).read_bytes()) is Target.SAFETENSORS
    legacy = torch_file({"w": torch.ones(1)}, "l.pt", _use_new_zipfile_serialization=False)
    assert guess_target(legacy.read_bytes()) is Target.SAFETENSORS
    import pickle

    assert guess_target(pickle.dumps({"a": 1})) is Target.SKOPS


def test_checkpoint_without_tensors_is_not_convertible(torch_file: Callable[..., Path]) -> None:
    with pytest.raises(NotConvertible, match="no tensors"):
        convert(torch_file({"epoch": 1}))


def test_trainer_checkpoint_with_numpy_rng_and_namespace(tmp_path: Path) -> None:
    """numpy arrays/RNG states, datetimes and argparse args load through the allowlist (torch's
    weights-only set extended by exactly the names our allowlist admits)."""
    import argparse
    import datetime

    import numpy as np

    ckpt = {"state_dict": tiny_net().state_dict(), "rng": np.random.RandomState(0).get_state(),
            "weights_np": np.arange(6, dtype=np.float32).reshape(2, 3),
            "saved": datetime.datetime(2024, 1, 2), "args": argparse.Namespace(lr=0.5, layers=[1])}
    src = tmp_path / "trainer.ckpt"
    buf = io.BytesIO()
    torch.save(ckpt, buf)
    src.write_bytes(buf.getvalue())
    result = convert(src)
    tensors, meta = _reload(result.output)
    assert torch.equal(tensors["weights_np"], torch.arange(6, dtype=torch.float32).reshape(2, 3))
    assert tensors["rng.1"].dtype == torch.uint32
    values = json.loads(meta["mlwarden.values"])
    assert values["args.lr"] == 0.5 and values["rng.0"] == "MT19937"
    assert values["saved"] == "2024-01-02T00:00:00"


def test_allow_global_admits_a_reviewed_class_for_scanner_and_loader(tmp_path: Path) -> None:
    """An unknown (not denylisted) class converts only when a reviewer allows it by name."""
    import string

    src = tmp_path / "ckpt.pt"
    buf = io.BytesIO()
    torch.save({"w": torch.ones(2), "fmt": string.Template("$x")}, buf)
    src.write_bytes(buf.getvalue())
    with pytest.raises((ConversionRefused, NotConvertible)):
        convert(src)
    with pytest.raises(NotConvertible, match="Template"):  # admitted, but not a plain value
        convert(src, allow_globals=["string.Template"])


def test_guess_target_with_a_large_central_directory(torch_file: Callable[..., Path]) -> None:
    """Thousands of storages push data.pkl's directory entry far from the end of the file."""
    many = {f"t{i}": torch.zeros(1) for i in range(3000)}
    assert guess_target(torch_file(many).read_bytes()) is Target.SAFETENSORS
