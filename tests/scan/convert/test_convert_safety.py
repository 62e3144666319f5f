"""The conversion's security properties: every hostile corpus file refused, the canary silent,
exactly the scanned bytes loaded, malformed input a one-line error, the CLI's exit codes."""

from __future__ import annotations

import contextlib
import pickle
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlwarden.scan.convert import ConversionRefused, NotConvertible, convert
from mlwarden.scan.convert.torch_safetensors import load_tensors
from mlwarden.scan.convert.unpickler import load_pickle_or_joblib
from tests.conftest import CliRun
from tests.scan.corpus.conftest import Corpus


def test_every_hostile_corpus_file_is_refused(corpus: Corpus, tmp_path: Path) -> None:
    """Scanner first, allowlisting loader second: nothing hostile converts, the canary stays off."""
    converted = []
    for sample in corpus.of("malicious"):
        if sample.format not in ("pickle", "joblib", "pytorch", "numpy"):
            continue
        try:
            convert(corpus.root / sample.name, tmp_path / "out.bin")
        except (ConversionRefused, NotConvertible):
            continue
        converted.append(sample.name)
    assert not converted, converted
    assert not corpus.canary.exists()
    assert not (tmp_path / "out.bin").exists()


def test_loads_exactly_the_scanned_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         sk_models: dict[str, Any]) -> None:
    """Swapping the file after the scan (TOCTOU) changes nothing: the scanned bytes are loaded."""
    import mlwarden.scan.engine as engine

    canary = tmp_path / "FIRED"
    src = tmp_path / "model.pkl"
    src.write_bytes(pickle.dumps(sk_models["pipeline_logreg"]))
    real_scan = engine.scan_bytes

    def scan_then_swap(data: bytes, **kw: Any) -> Any:
        report = real_scan(data, **kw)
        src.write_bytes(b"\x80\x02cos\nsystem\nX\x05\x00\x00\x00touch\x85R.")  # swapped in
        return report

    monkeypatch.setattr(engine, "scan_bytes", scan_then_swap)
    result = convert(src)
    assert "Pipeline" in result.summary and not canary.exists()


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes_never_crash_the_loaders(data: bytes) -> None:
    for loader in (load_pickle_or_joblib, load_tensors):
        with contextlib.suppress(ConversionRefused, NotConvertible):
            loader(data)


@settings(max_examples=30, deadline=None)
@given(st.binary(min_size=1, max_size=64), st.integers(min_value=0, max_value=200))
def test_mutated_pickles_never_crash(junk: bytes, cut: int) -> None:
    base = pickle.dumps({"w": [1.0, 2.0], "name": "m"}, protocol=4)
    data = base[:cut] + junk + base[cut:]
    with contextlib.suppress(ConversionRefused, NotConvertible):
        load_pickle_or_joblib(data)


def test_cli_exit_codes_and_one_line_errors(cli: CliRun, tmp_path: Path,
                                            sk_models: dict[str, Any]) -> None:
    good = tmp_path / "m.pkl"
    good.write_bytes(pickle.dumps(sk_models["knn"]))
    ok = cli("convert", str(good), "-o", str(tmp_path / "m.skops"))
    assert ok.returncode == 0, ok.stderr
    assert "identical" in ok.stdout and (tmp_path / "m.skops").is_file()

    evil = tmp_path / "e.pkl"
    evil.write_bytes(b"\x80\x02cos\nsystem\nX\x04\x00\x00\x00true\x85R.")
    bad = cli("convert", str(evil))
    assert bad.returncode == 1
    assert "refused" in bad.stderr and "MW-" in bad.stderr and "Traceback" not in bad.stderr
    assert not (tmp_path / "e.skops").exists()

    assert cli("convert", str(tmp_path / "missing.pt")).returncode == 2
    junk = tmp_path / "junk.pkl"
    junk.write_bytes(b"not a pickle at all")
    res = cli("convert", str(junk))
    assert res.returncode in (1, 2) and "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) <= 2
    assert cli("convert", str(good), "--to", "onnx").returncode == 2
    assert cli("convert", str(good), "-o", str(good)).returncode == 2
