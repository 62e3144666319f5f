"""How a scanned folder is walked: Hugging Face cache snapshots (every file a symlink into
../../blobs), hidden files, odd file names."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from tests.scan.redteam.build import Case, put
from tests.scan.redteam.cases_formats import evil_pickle

GAPS: dict[str, str] = {}
"""Sample id → the scanner gap it shows today (measured; the test is a strict xfail)."""


def _hf_snapshot(folder: Path, files: dict[str, bytes]) -> Path:
    """``models--org--name/{blobs/<sha256>, snapshots/<rev>/<file> -> ../../blobs/<sha256>}``,
    the layout huggingface_hub writes; the snapshot folder is what users point tools at."""
    repo = folder / "models--org--tiny"
    snap = repo / "snapshots" / "0123456789abcdef0123456789abcdef01234567"
    snap.mkdir(parents=True)
    for name, data in files.items():
        digest = hashlib.sha256(data).hexdigest()
        put(repo, f"blobs/{digest}", data)
        (snap / name).symlink_to(Path("../../blobs") / digest)
    return snap


def _safetensors_blob() -> bytes:
    import numpy as np
    from safetensors.numpy import save

    return save({"w": np.ones(4, dtype=np.float32)})


def _benign_snapshot(folder: Path, canary: Path) -> Path:
    return _hf_snapshot(folder, {"config.json": json.dumps({"model_type": "bert"}).encode(),
                                 "model.safetensors": _safetensors_blob()})


def _hostile_snapshot(folder: Path, canary: Path) -> Path:
    return _hf_snapshot(folder, {"config.json": json.dumps({"model_type": "bert"}).encode(),
                                 "pytorch_model.bin": evil_pickle(canary)})


def _symlink_out(folder: Path, canary: Path) -> Path:
    put(folder, "elsewhere/evil.pkl", evil_pickle(canary))
    model = folder / "model"
    put(model, "config.json", b"{}")
    (model / "pytorch_model.bin").symlink_to(folder / "elsewhere" / "evil.pkl")
    return model


def _hidden(folder: Path, canary: Path) -> Path:
    put(folder, "model/.cache/checkpoint.pkl", evil_pickle(canary))
    put(folder, "model/config.json", b"{}")
    return folder / "model"


def _odd_name(folder: Path, canary: Path) -> Path:
    put(folder, "model/weights\nfinal \u202e.bin", evil_pickle(canary))
    return folder / "model"


def walk_cases() -> list[Case]:
    spec = [
        ("benign-hf-cache-snapshot", "benign",
         "HF cache snapshot: every file a symlink into ../../blobs (what users scan)",
         _benign_snapshot),
        ("walk-hf-cache-snapshot-hostile", "malicious",
         "HF cache snapshot whose pytorch_model.bin blob is a hostile pickle", _hostile_snapshot),
        ("walk-symlink-out-of-tree", "malicious",
         "model folder whose pytorch_model.bin is a symlink to a hostile pickle outside it",
         _symlink_out),
        ("walk-hidden-file", "malicious", "hostile pickle in a hidden .cache folder", _hidden),
        ("walk-odd-file-name", "malicious",
         "hostile pickle whose name holds a newline and a right-to-left override", _odd_name),
    ]
    return [Case(id_, label, tech, fn, GAPS.get(id_))  # type: ignore[arg-type]
            for id_, label, tech, fn in spec]
