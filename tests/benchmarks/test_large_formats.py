"""The benchmark's large-file builders, at a tiny scale: every format is produced, by the real
libraries, and the scanner gives none of them a finding at or above ``high`` (a benign file the
default ``mlwarden scan`` would pass). The GB-size run itself is ``scan_vs_anchors.py --large``."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from mlwarden.core.severity import Severity
from mlwarden.scan.engine import scan_paths

ROOT = Path(__file__).resolve().parents[2]
SCALE = 1e-5
"""Side lengths shrink by ``SCALE ** 0.5``: a few kB to a few hundred kB per file."""

LIBRARIES = ("torch", "sklearn", "joblib", "gguf", "onnx", "h5py", "safetensors")
"""The real libraries that build the files: imported by the fixture, not at collection."""


def _bench() -> ModuleType:
    name = "scan_vs_anchors"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


BENCH = _bench()


@pytest.fixture(scope="module")
def large(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    for lib in LIBRARIES:
        pytest.importorskip(lib)
    folder = tmp_path_factory.mktemp("large")
    return {key: BENCH.make_one(key, folder, SCALE) for key in BENCH.LARGE_FORMATS}


@pytest.mark.parametrize("key", list(BENCH.LARGE_FORMATS))
def test_large_file_is_built_and_scans_clean(large: dict[str, Path], key: str) -> None:
    path = large[key]
    assert path.exists() and BENCH._size(path) > 0
    if key == "onnx":
        assert {p.name for p in path.iterdir()} == {"model.onnx", "model.onnx_data"}
    report = scan_paths([path], workers=1)
    high = [(f.rule_id, f.severity.value, f.location.path, f.message[:160])
            for f in report.active if f.severity >= Severity.HIGH]
    assert not high, f"{key}: {high}"
    assert not report.skipped, f"{key}: {report.skipped}"


def test_make_large_returns_every_format_by_label(tmp_path: Path) -> None:
    files = BENCH.make_large(tmp_path, SCALE, ["npy", "gguf"])
    assert list(files) == ["numpy .npy", "GGUF"]
    assert all(p.parent == tmp_path for p in files.values())


def test_merge_large_keeps_the_formats_not_rerun() -> None:
    def run(verdict: str) -> dict[str, object]:
        return {"verdict": verdict, "seconds": 0.5, "rc": 0}

    old = {"scale": 1.0, "files": {"A": {"bytes": 1e9}, "B": {"bytes": 2e9}},
           "runs": {"mlwarden": {"A": run("clean"), "B": run("clean")}}}
    new = {"scale": 1.0, "files": {"B": {"bytes": 3e9}},
           "runs": {"mlwarden": {"B": run("flagged")}, "fickling": {"B": run("error")}}}
    merged = BENCH.merge_large(old, new)
    assert merged["files"] == {"A": {"bytes": 1e9}, "B": {"bytes": 3e9}}
    assert merged["runs"]["mlwarden"]["B"]["verdict"] == "flagged"
    assert merged["runs"]["fickling"] == {"B": run("error")}
    assert BENCH.merge_large({**old, "scale": 0.5}, new) is new
    table = BENCH.large_markdown(merged, ["mlwarden", "fickling"])
    assert "| tool | A (1.00 GB) | B (3.00 GB) |" in table
    assert "| fickling | – | 0.5 s (error) |" in table
