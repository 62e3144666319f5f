"""Moderately big benign files (100–300 MB): the verdict stays clean and the scan stays quick.

A held-out benign corpus holds multi-GB checkpoints; a scanner that reads every weight byte, or
misreads a large storage as a pickle, shows up here first. Marked slow (writes ~400 MB to tmp).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from mlwarden.core.severity import Severity
from mlwarden.scan.engine import scan_paths

SCAN_BUDGET_S = 60.0
"""Generous on 2 shared cores: the scan reads the pickles, not the weights."""


def _assert_clean_and_quick(path: Path) -> float:
    started = time.perf_counter()
    report = scan_paths([path], workers=1)
    elapsed = time.perf_counter() - started
    worrying = report.at_or_above(Severity.MEDIUM)
    assert not worrying, "; ".join(f"{f.rule_id} {f.message[:160]}" for f in worrying)
    assert elapsed < SCAN_BUDGET_S, f"scan of {path.name} took {elapsed:.1f}s"
    return elapsed


@pytest.mark.slow
def test_big_torch_state_dict_is_clean(tmp_path: Path) -> None:
    import torch

    # ~200 MB over 40 tensors in three dtypes, saved like an HF pytorch_model.bin
    state = {f"layers.{n}.weight": torch.full((1024, 1024 + n), 0.5,
                                               dtype=(torch.float32, torch.float16,
                                                      torch.bfloat16)[n % 3])
             for n in range(60)}
    path = tmp_path / "pytorch_model.bin"
    torch.save(state, path)
    assert path.stat().st_size > 150 * 1024 * 1024
    _assert_clean_and_quick(path)


@pytest.mark.slow
def test_big_joblib_arrays_are_clean(tmp_path: Path) -> None:
    import joblib
    import numpy as np

    obj = {"coef": np.ones((4000, 5000), dtype=np.float64),  # 160 MB inline array
           "labels": np.array([f"class_{i}" for i in range(1000)], dtype=object),
           "intercept": np.zeros(5000)}
    path = tmp_path / "model.joblib"
    joblib.dump(obj, path)
    assert path.stat().st_size > 150 * 1024 * 1024
    _assert_clean_and_quick(path)


@pytest.mark.slow
def test_payload_after_20_mib_constant_in_data_pkl(tmp_path: Path) -> None:
    """A torch data.pkl that is mostly one 20 MiB bytes constant, payload after it: pickles are
    read whole however large (only numbered storages are skipped)."""
    import struct

    from tests.scan.redteam.build import proto, torch_zip
    from tests.scan.redteam.cases_formats import evil_pickle

    canary = tmp_path / "CANARY"
    big = proto(2) + b"B" + struct.pack("<I", 20 << 20) + bytes(20 << 20) + b"0"
    path = tmp_path / "model.pt"
    path.write_bytes(torch_zip(big + evil_pickle(canary)[2:]))
    report = scan_paths([path], workers=1)
    assert report.at_or_above(Severity.HIGH)
    assert not canary.exists()
