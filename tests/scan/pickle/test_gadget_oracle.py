"""The real unpickler as the oracle for the gadget table: does the hook the sweep found fire?

Each case is a pickle built opcode by opcode whose only effect is on a canary under ``tmp_path``
(a file to create, a directory to delete). It is loaded by ``pickle.loads`` in a child process
with CPU, memory and time limits (``resource.setrlimit``), then the child collects garbage so that
``__del__`` hooks run, and the test looks at the canary. The scanner must judge every case that
fires critical; a case where the real loader does *not* fire is kept with its reason (the table
fails closed on it).
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from mlwarden.core.severity import Severity
from mlwarden.scan.pickle import gadgets, names
from tests.scan.pickle import gadget_oracle, gadget_sweep
from tests.scan.pickle.opcodes import (
    BUILD,
    EMPTY_DICT,
    EMPTY_TUPLE,
    NEWOBJ,
    SETITEM,
    STOP,
    global_,
    proto,
    s,
    scan,
)

CHILD = """
import gc, pickle, resource, sys
resource.setrlimit(resource.RLIMIT_CPU, (60, 65))
resource.setrlimit(resource.RLIMIT_AS, (6 << 30, 6 << 30))
data = open(sys.argv[1], 'rb').read()
try:
    obj = pickle.loads(data)
    print('loaded', type(obj).__name__)
except BaseException as exc:
    print('failed', type(exc).__name__)
obj = None
gc.collect()
print('modules', ' '.join(sorted(sys.modules)))
"""


def _load_in_child(data: bytes, tmp_path: Path) -> str:
    path = tmp_path / "payload.pkl"
    path.write_bytes(data)
    proc = subprocess.run([sys.executable, "-c", CHILD, str(path)], capture_output=True,
                          text=True, timeout=180, check=False, cwd=tmp_path)
    return proc.stdout + proc.stderr


def _rebuilt(qual: str, state: dict[str, bytes]) -> bytes:
    module, _, name = qual.rpartition(".")
    body = EMPTY_DICT + b"".join(s(k) + v + SETITEM for k, v in state.items())
    return proto(2) + global_(module, name) + EMPTY_TUPLE + NEWOBJ + body + BUILD + STOP


def _critical(data: bytes, qual: str) -> None:
    ctx, _ = scan(data)
    found = [f.severity for f in ctx.findings if f.evidence.get("callable") == qual]
    assert found and max(found) == Severity.CRITICAL, [f.message for f in ctx.findings]


def test_scipy_rv_generic_setstate_execs_the_state(tmp_path: Path) -> None:
    pytest.importorskip("scipy")
    canary = tmp_path / "EXEC_RAN"
    qual = "scipy.stats._continuous_distns.norm_gen"
    data = _rebuilt(qual, {"_parse_arg_template": s(f"open({str(canary)!r}, 'w').close()")})
    out = _load_in_child(data, tmp_path)
    assert canary.exists(), out[-2000:]  # exec ran on load (the load then fails: no _parse_args)
    _critical(data, qual)


def test_numpy_datasource_del_removes_the_state_directory(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep.txt").write_text("x")
    qual = "numpy.lib._datasource.DataSource"
    true = b"\x88"
    data = _rebuilt(qual, {"_istmpdest": true, "_destpath": s(str(victim))})
    out = _load_in_child(data, tmp_path)
    assert "loaded DataSource" in out, out[-2000:]
    assert not victim.exists(), out[-2000:]  # shutil.rmtree ran when the object was collected
    _critical(data, qual)


@pytest.mark.slow
def test_torch_execution_trace_observer_del(tmp_path: Path) -> None:
    """The sweep says ``__del__ -> unregister_callback -> os.remove``; the oracle: with
    ``_registered`` false nothing happens, so the state must claim a registration first."""
    pytest.importorskip("torch")
    qual = "torch.profiler.profiler.ExecutionTraceObserver"
    assert qual in gadgets.GADGETS
    data = _rebuilt(qual, {"_registered": b"\x89"})
    out = _load_in_child(data, tmp_path)
    assert "loaded ExecutionTraceObserver" in out, out[-2000:]
    _critical(data, qual)


@pytest.mark.slow
def test_mlflow_lazyloader_import_does_not_fire_on_load(tmp_path: Path) -> None:
    """A disagreement kept as a regression: the sweep lists ``LazyLoader.__getattr__ ->
    importlib.import_module``, but BUILD looks ``__setstate__`` up before any state is set, and
    ``_load`` then recurses on the missing ``_module`` (RecursionError): the import of the module
    the state names never runs while loading. The table keeps the class critical (fail closed:
    a module object built from a pickle imports on any later attribute access)."""
    pytest.importorskip("mlflow")
    qual = "mlflow.utils.lazy_load.LazyLoader"
    data = _rebuilt(qual, {"_module": b"N", "__name__": s("tabnanny"), "_local_name": s("x"),
                           "_parent_module_globals": EMPTY_DICT})
    out = _load_in_child(data, tmp_path)
    assert "failed RecursionError" in out, out[-2000:]
    assert " tabnanny " not in out.partition("modules")[2] + " ", out[-2000:]
    _critical(data, qual)


# -- the differential: every class of every swept root, rebuilt by the real unpickler -----------

ORACLE_EXPLAINED: dict[str, str] = {}
"""Classes whose rebuild with an empty state acted (an audit event) that neither the gadget table
nor the denylist covers, each with why that is right (none so far)."""


def _covered(qual: str) -> bool:
    module, _, name = qual.rpartition(".")
    return (qual in gadgets.GADGETS or qual in ORACLE_EXPLAINED
            or names.judge(module, name).verdict == names.DANGEROUS)


@pytest.mark.slow
@pytest.mark.parametrize("root", gadget_sweep.ROOTS)
def test_every_class_that_acts_when_rebuilt_is_covered(root: str) -> None:
    """The audit-hook oracle (``gadget_oracle``) against the table: a class whose plain rebuild
    (``NEWOBJ`` + ``BUILD({})`` + garbage collection) acts is a gadget the scanner must know."""
    if root != "stdlib" and importlib.util.find_spec(root) is None:
        pytest.skip(f"{root} is not installed")
    out = gadget_oracle.run_root(root)
    assert out["total"], out
    uncovered = [f"{qual}: {events[0]}" for qual, events in sorted(out["acted"].items())
                 if not _covered(qual)]
    assert not uncovered, "\n".join(uncovered)
    # a class whose rebuild crashes or hangs the loader must not be allowlisted either
    allowed = [c for c in out["crashed"]
               if names.judge(*c.partition(" ")[0].rpartition(".")[::2]).verdict == names.SAFE]
    assert not allowed, allowed


def test_the_oracle_sees_controls_act_and_blocks_them() -> None:
    """The audit-hook oracle on ``oracle_control``: the two acting classes are reported (their
    actions blocked), the inert one is not."""
    out = gadget_oracle.run_root("tests.scan.pickle.oracle_control", budget=60)
    assert out["total"] == 3, out
    assert set(out["acted"]) == {"tests.scan.pickle.oracle_control.RemovesOnCollect",
                                 "tests.scan.pickle.oracle_control.RmtreeOnSetstate"}, out
    assert out["acted"]["tests.scan.pickle.oracle_control.RemovesOnCollect"][0].startswith(
        "os.remove")


def test_qhull_rebuilt_without_a_call_crashes_the_loader(tmp_path: Path) -> None:
    """A disagreement the oracle found, kept as a regression: ``scipy.spatial._qhull._Qhull`` was
    allowlisted by the scipy.spatial class pattern (a 40-byte pickle scanned clean), but
    ``NEWOBJ`` + ``BUILD`` of it segfaults CPython (its C state is never set up)."""
    pytest.importorskip("scipy")
    qual = "scipy.spatial._qhull._Qhull"
    data = proto(2) + global_("scipy.spatial._qhull", "_Qhull") + EMPTY_TUPLE + NEWOBJ \
        + EMPTY_DICT + BUILD + STOP
    path = tmp_path / "qhull.pkl"
    path.write_bytes(data)
    proc = subprocess.run([sys.executable, "-c", CHILD, str(path)], capture_output=True,
                          text=True, timeout=180, check=False, cwd=tmp_path)
    assert proc.returncode == -11, (proc.returncode, proc.stdout[-500:])
    ctx, _ = scan(data)
    found = [f for f in ctx.findings if f.evidence.get("callable") == qual]
    assert found and max(f.severity for f in found) == Severity.HIGH, [
        f.message for f in ctx.findings]
    assert "crashes the interpreter" in str(found[0].evidence["reason"])
