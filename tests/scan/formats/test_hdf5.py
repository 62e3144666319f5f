"""Legacy Keras HDF5 models and HDF5 external references, written with the real h5py."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest

from mlwarden.core.severity import Severity
from mlwarden.scan.formats.hdf5 import signature_offset

from .conftest import assert_no_crash, by_rule, format_of, rule_ids, scan, scan_file
from .keras_samples import marshalled_lambda


def legacy_config(extra_layer: dict[str, Any] | None = None) -> dict[str, Any]:
    layers: list[dict[str, Any]] = [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 8],
                                                "dtype": "float32", "name": "input_1"}},
        {"class_name": "Dense", "config": {"name": "dense", "units": 4, "activation": "relu",
                                           "kernel_initializer": {"class_name": "GlorotUniform",
                                                                  "config": {"seed": None}}}},
        {"class_name": "Dropout", "config": {"name": "dropout", "rate": 0.2}},
    ]
    if extra_layer:
        layers.append(extra_layer)
    return {"class_name": "Sequential", "config": {"name": "sequential", "layers": layers}}


def legacy_h5(config: dict[str, Any] | str, path: Path | None = None, **attrs: Any) -> bytes:
    buf: io.BytesIO | Path = path if path is not None else io.BytesIO()
    with h5py.File(buf, "w") as f:
        f.attrs["keras_version"] = "2.13.1"
        f.attrs["backend"] = "tensorflow"
        f.attrs["model_config"] = config if isinstance(config, str) else json.dumps(config)
        f.attrs["training_config"] = json.dumps({"loss": "mse", "optimizer_config": {
            "class_name": "Adam", "config": {"learning_rate": 0.001}}})
        for key, value in attrs.items():
            f.attrs[key] = value
        g = f.create_group("model_weights/dense")
        g.attrs["weight_names"] = [b"dense/kernel:0"]
        g.create_dataset("dense/kernel:0", data=np.ones((8, 4), "float32"))
    return path.read_bytes() if path is not None else buf.getvalue()  # type: ignore[union-attr]


def test_benign_legacy_model_is_clean() -> None:
    ctx = scan(legacy_h5(legacy_config()))
    assert format_of(ctx) == "hdf5"
    assert ctx.findings == []


def test_legacy_lambda_with_bytecode_is_critical() -> None:
    lam = {"class_name": "Lambda", "config": {
        "name": "lambda", "function": [marshalled_lambda(), None, None],
        "function_type": "lambda", "module": "__main__", "output_shape": None,
        "output_shape_type": "raw", "output_shape_module": None, "arguments": {}}}
    ctx = scan(legacy_h5(legacy_config(lam)))
    [finding] = by_rule(ctx, "MW-KERAS-001")
    assert finding.severity is Severity.CRITICAL
    assert finding.evidence["json_path"].startswith("/@model_config")


def test_training_config_loss_from_os_is_critical() -> None:
    path_cfg = legacy_config()
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        f.attrs["model_config"] = json.dumps(path_cfg)
        f.attrs["training_config"] = json.dumps({"loss": {"class_name": "function",
                                                          "module": "os", "config": "system"}})
    ctx = scan(buf.getvalue())
    assert by_rule(ctx, "MW-KERAS-002")[0].severity is Severity.CRITICAL


def test_config_in_a_nested_attribute_is_analysed() -> None:
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        f.create_group("layers/x").attrs["config"] = json.dumps(
            {"class_name": "Lambda", "config": {"name": "hidden",
                                                "function": [marshalled_lambda(), None, None]}})
    ctx = scan(buf.getvalue())
    assert by_rule(ctx, "MW-KERAS-001")


def test_model_config_that_is_not_json() -> None:
    ctx = scan(legacy_h5("{'python': 'repr'}"))
    assert "MW-KERAS-004" in rule_ids(ctx)


def test_external_link_and_external_storage(tmp_path: Path) -> None:
    path = tmp_path / "model.h5"
    with h5py.File(path, "w") as f:
        f["leak"] = h5py.ExternalLink("/etc/passwd", "/")
        f.create_dataset("ext", shape=(4,), dtype="uint8", external=[("/etc/hostname", 0, 4)])
    ctx = scan_file(path)
    messages = " ".join(f.message for f in by_rule(ctx, "MW-HDF-002"))
    assert "/etc/passwd" in messages and "/etc/hostname" in messages


def test_virtual_dataset_reading_another_file(tmp_path: Path) -> None:
    path = tmp_path / "vds.h5"
    layout = h5py.VirtualLayout(shape=(4,), dtype="f4")
    layout[:] = h5py.VirtualSource("/tmp/other.h5", "data", shape=(4,))
    with h5py.File(path, "w") as f:
        f.create_virtual_dataset("v", layout)
    ctx = scan_file(path)
    assert "/tmp/other.h5" in by_rule(ctx, "MW-HDF-002")[0].message


def test_user_block_offset_is_detected(tmp_path: Path) -> None:
    path = tmp_path / "ub.h5"
    with h5py.File(path, "w", userblock_size=1024) as f:
        f.attrs["model_config"] = json.dumps(legacy_config())
    data = path.read_bytes()
    assert data[:8] != b"\x89HDF\r\n\x1a\n" and signature_offset(data) == 1024
    ctx = scan(data)
    assert format_of(ctx) == "hdf5" and ctx.findings == []


@pytest.mark.parametrize("cut", [8, 100, 600])
def test_truncated_or_corrupt_hdf5_is_a_finding(cut: int) -> None:
    data = legacy_h5(legacy_config())
    ctx = scan(data[:cut])
    assert_no_crash(ctx)
    assert by_rule(ctx, "MW-HDF-001")


def test_missing_h5py_is_a_skip(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "h5py" else real(name, *a))
    ctx = scan(b"\x89HDF\r\n\x1a\n" + b"\0" * 100)
    assert ctx.findings == [] and "h5py" in ctx.skipped[0].reason


@pytest.mark.parametrize(("script", "expected"), [
    ("import os, signal; os.kill(os.getpid(), signal.SIGSEGV)", "crashed"),
    ("import time; time.sleep(30)", "did not finish"),
    ("raise SystemExit(3)", "exit 3"),
    ("print('not json')", "no readable result"),
])
def test_probe_crash_hang_or_garbage_is_a_finding(monkeypatch: pytest.MonkeyPatch,
                                                  tmp_path: Path, script: str,
                                                  expected: str) -> None:
    """h5py runs in a child process: the HDF5 C library segfaults on some hostile files."""
    from mlwarden.scan.formats import hdf5

    probe = tmp_path / "probe.py"
    probe.write_text(script)
    monkeypatch.setattr(hdf5, "PROBE", probe)
    monkeypatch.setattr(hdf5, "PROBE_TIMEOUT", 2)
    ctx = scan(legacy_h5(legacy_config()))
    [finding] = by_rule(ctx, "MW-HDF-001")
    assert expected in finding.message and finding.severity is Severity.HIGH
    assert ctx.skipped  # and the file is not reported as checked


def test_hdf5_member_is_probed_from_a_temporary_copy(tmp_path: Path) -> None:
    from mlwarden.scan.formats.hdf5 import Hdf5Scanner
    from mlwarden.scan.interface import ScanContext, ScanTarget

    data = legacy_h5(legacy_config())
    ctx = ScanContext()
    Hdf5Scanner().scan(ScanTarget(path="a.zip", data=memoryview(data), member="m.h5"), ctx)
    assert ctx.findings == [] and ctx.skipped == []


def _pytables_store(**attrs: Any) -> bytes:
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        f.attrs["PYTABLES_FORMAT_VERSION"] = np.bytes_(b"2.1")
        grp = f.create_group("df")
        grp.attrs["CLASS"] = np.bytes_(b"GROUP")
        grp.attrs["pandas_type"] = np.bytes_(b"frame")
        for key, value in attrs.items():
            grp.attrs[key] = value
        grp.create_dataset("axis0", data=np.arange(3))
    return buf.getvalue()


@pytest.mark.parametrize("payload", [
    b"cposix\nsystem\n(S'id'\ntR.",  # protocol 0, what PyTables unpickles (ends in '.')
    b"\x80\x04\x95\x1a\x00\x00\x00\x00\x00\x00\x00\x8c\x05posix\x94\x8c\x06system"
                    b"\x94\x93\x94\x8c\x02id\x94\x85\x94R\x94.",
])
def test_pickled_attributes_are_analysed(payload: bytes) -> None:
    ctx = scan(_pytables_store(non_index_axes=np.bytes_(payload)))
    assert "MW-PKL-001" in rule_ids(ctx)
    finding = by_rule(ctx, "MW-PKL-001")[0]
    assert finding.location.member == "attr:/df/@non_index_axes"
    assert finding.severity == Severity.CRITICAL


def test_benign_pickled_and_plain_attributes_are_clean() -> None:
    import pickle

    data = _pytables_store(levels=np.bytes_(pickle.dumps([1, 2, "a"], protocol=0)),
                           note=np.bytes_(b"A table of values."), info=np.bytes_(b"plain"))
    ctx = scan(data)
    assert not [f for f in ctx.findings if f.severity >= Severity.MEDIUM], ctx.findings
    assert ctx.formats.get("model!attr:/df/@levels") == "pickle"
    assert_no_crash(ctx)


_FLAKY_PROBE = """
import os, signal, sys, time
sys.path.insert(0, {probe_dir!r})
import hdf5_probe
real = hdf5_probe.probe
def probe(path):
    if "crash" in os.path.basename(path):
        os.kill(os.getpid(), signal.SIGSEGV)
    if "hang" in os.path.basename(path):
        time.sleep(60)
    return real(path)
hdf5_probe.probe = probe
hdf5_probe.main()
"""


def _series(tmp_path: Path, names: list[str]) -> Path:
    lam = {"class_name": "Lambda", "config": {
        "name": "lambda", "function": [marshalled_lambda(), None, None],
        "function_type": "lambda", "module": "__main__", "output_shape": None,
        "output_shape_type": "raw", "output_shape_module": None, "arguments": {}}}
    folder = tmp_path / "models"
    folder.mkdir()
    for name in names:
        legacy_h5(legacy_config(lam if "evil" in name else None), folder / name)
    return folder


def _by_file(report: Any) -> dict[str, list[tuple[str, str]]]:
    out: dict[str, list[tuple[str, str]]] = {}
    for f in report.findings:
        out.setdefault(Path(f.location.path).name, []).append((f.rule_id, f.message))
    return out


def test_a_directory_of_hdf5_files_reuses_one_probe_child(tmp_path: Path) -> None:
    from mlwarden.scan.engine import scan_paths
    from mlwarden.scan.formats import hdf5

    folder = _series(tmp_path, ["a.h5", "b_evil.h5", "c.h5", "d.h5", "e_evil.h5"])
    hdf5._CHILD.close()
    before = hdf5.ProbeChild.spawned
    report = scan_paths([folder], workers=1)
    assert hdf5.ProbeChild.spawned - before == 1
    found = _by_file(report)
    assert sorted(found) == ["b_evil.h5", "e_evil.h5"]
    assert all("MW-KERAS-001" in {r for r, _ in found[n]} for n in found)
    assert report.skipped == ()
    pid = hdf5._CHILD.pid
    assert pid is not None
    hdf5._CHILD.close()
    assert hdf5._CHILD.pid is None
    with pytest.raises(ProcessLookupError):  # ended and reaped: not even a zombie is left
        os.kill(pid, 0)


def test_a_crash_or_hang_mid_series_spares_the_files_after_it(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from mlwarden.scan.engine import scan_paths
    from mlwarden.scan.formats import hdf5

    probe = tmp_path / "flaky_probe.py"
    probe.write_text(_FLAKY_PROBE.format(probe_dir=str(hdf5.PROBE.parent)))
    monkeypatch.setattr(hdf5, "PROBE", probe)
    monkeypatch.setattr(hdf5, "PROBE_TIMEOUT", 2)
    folder = _series(tmp_path, ["1.h5", "2_crash.h5", "3_evil.h5", "4_hang.h5", "5.h5",
                                "6_evil.h5"])
    before = hdf5.ProbeChild.spawned
    report = scan_paths([folder], workers=1)
    assert hdf5.ProbeChild.spawned - before == 3  # the first, one after the crash, one after the hang
    found = _by_file(report)
    assert sorted(found) == ["2_crash.h5", "3_evil.h5", "4_hang.h5", "6_evil.h5"]
    [(rule, message)] = found["2_crash.h5"]
    assert rule == "MW-HDF-001" and "crashed" in message and "signal 11" in message
    [(rule, message)] = found["4_hang.h5"]
    assert rule == "MW-HDF-001" and "did not finish" in message
    for name in ("3_evil.h5", "6_evil.h5"):  # analysed normally by the fresh children
        rules = {r for r, _ in found[name]}
        assert "MW-KERAS-001" in rules and "MW-HDF-001" not in rules
    assert sorted(Path(s.path).name for s in report.skipped) == ["2_crash.h5", "4_hang.h5"]
    hdf5._CHILD.close()


def _probe_in_worker(path: str) -> int | None:
    from mlwarden.scan.formats import hdf5

    data = Path(path).read_bytes()
    from mlwarden.scan.interface import ScanTarget

    assert isinstance(hdf5._run_probe(ScanTarget(path=path, data=memoryview(data),
                                                 fs_path=Path(path))), dict)
    return hdf5._CHILD.pid


def test_probe_children_of_worker_processes_end_with_them(tmp_path: Path) -> None:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from mlwarden.scan.formats import hdf5
    from mlwarden.scan.interface import ScanTarget

    path = tmp_path / "m.h5"
    legacy_h5(legacy_config(), path)
    assert isinstance(hdf5._run_probe(ScanTarget(path=str(path), data=memoryview(
        path.read_bytes()), fs_path=path)), dict)
    parent_child = hdf5._CHILD.pid  # a live child at fork time is not touched by the workers
    assert parent_child is not None
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork")) as pool:
        pids = list(pool.map(_probe_in_worker, [str(path)] * 4))
    assert parent_child not in pids
    for pid in set(pids):
        assert pid is not None
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)  # reaped by the worker's exit finalizer
    assert hdf5._CHILD.pid == parent_child
    assert isinstance(hdf5._run_probe(ScanTarget(path=str(path), data=memoryview(
        path.read_bytes()), fs_path=path)), dict)
    hdf5._CHILD.close()


def test_probe_child_is_ended_at_interpreter_exit(tmp_path: Path) -> None:
    import subprocess
    import sys

    path = tmp_path / "m.h5"
    legacy_h5(legacy_config(), path)
    code = ("import sys; from mlwarden.scan.engine import scan_paths; "
            "from mlwarden.scan.formats import hdf5; "
            "r = scan_paths([sys.argv[1]], workers=1); assert not r.findings; print(hdf5._CHILD.pid)")
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True,
                         text=True, check=True, timeout=60)
    pid = int(out.stdout.strip())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_a_file_the_hdf5_library_chokes_on_gets_the_next_file_a_fresh_child(
        tmp_path: Path) -> None:
    """Library state damaged by a malformed file must not carry over to the files after it."""
    from mlwarden.scan.engine import scan_paths
    from mlwarden.scan.formats import hdf5

    folder = _series(tmp_path, ["a.h5", "c.h5"])
    (folder / "b_broken.h5").write_bytes(legacy_h5(legacy_config())[:600])
    hdf5._CHILD.close()
    before = hdf5.ProbeChild.spawned
    report = scan_paths([folder], workers=1)
    assert hdf5.ProbeChild.spawned - before == 2  # a.h5 + b_broken.h5 share one; c.h5 a fresh one
    assert {f.rule_id for f in report.findings
            if f.location.path.endswith("b_broken.h5")} >= {"MW-HDF-001"}
    assert not [f for f in report.findings if f.location.path.endswith(("a.h5", "c.h5"))]
    hdf5._CHILD.close()


def test_prewarm_starts_the_one_probe_child_early_and_changes_no_result(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A directory scan with one worker starts the probe child before the first file when an
    HDF5 file is among them (engine._prewarm_hdf5): the child is started once, by the prewarm,
    reused for every HDF5 file, and the report is the one a scan without the prewarm gives."""
    import pickle

    from mlwarden.scan import engine
    from mlwarden.scan.formats import hdf5

    folder = _series(tmp_path, ["x_model.h5", "y_evil.h5", "z_model.h5"])  # scanned last
    (folder / "a.pkl").write_bytes(pickle.dumps({"weights": [1.0, 2.0]}, protocol=4))
    (folder / "b_evil.pkl").write_bytes(b"cposix\nsystem\n(S'echo MLWARDEN-CANARY'\ntR.")
    (folder / "c.json").write_text('{"architectures": ["Bert"]}')
    np.save(folder / "d.npy", np.arange(10, dtype="float32"))
    (folder / "e.txt").write_text("hello")
    events: list[str] = []
    real_prewarm, real_request = hdf5.prewarm_probe, hdf5._CHILD.request

    def prewarm() -> None:
        before = hdf5.ProbeChild.spawned
        real_prewarm()
        events.append(f"prewarm started {hdf5.ProbeChild.spawned - before}")

    def request(path: Path, window: tuple[int, int] | None = None) -> dict[str, Any] | str:
        events.append(f"request {path.name}")
        return real_request(path, window)

    monkeypatch.setattr(hdf5, "prewarm_probe", prewarm)
    monkeypatch.setattr(hdf5._CHILD, "request", request)

    def run() -> tuple[Any, int, int | None]:
        hdf5._CHILD.close()
        before = hdf5.ProbeChild.spawned
        report = engine.scan_paths([folder], workers=1)
        pid = hdf5._CHILD.pid
        hdf5._CHILD.close()
        return report, hdf5.ProbeChild.spawned - before, pid

    warm, warm_spawned, warm_pid = run()
    assert events == ["prewarm started 1", "request x_model.h5", "request y_evil.h5",
                      "request z_model.h5"]
    assert warm_spawned == 1 and warm_pid is not None

    events.clear()
    monkeypatch.setattr(engine, "_prewarm_hdf5", lambda paths: None)
    cold, cold_spawned, _ = run()
    assert events == ["request x_model.h5", "request y_evil.h5", "request z_model.h5"]
    assert cold_spawned == 1

    def result(report: Any) -> tuple[Any, ...]:
        return (report.findings, report.skipped, report.checks, report.metadata)

    assert result(warm) == result(cold)
    assert {Path(f.location.path).name for f in warm.findings} == {"y_evil.h5", "b_evil.pkl"}
    assert warm.metadata["formats"][str(folder / "z_model.h5")] == "hdf5"
