"""The gadget table (``mlwarden.scan.pickle.gadgets``) against the installed libraries, and one
opcode-built pickle per gadget family it lists.

``gadget_sweep`` imports the libraries (in child processes) and reads the source of every class
hook that runs on an instance a pickle merely rebuilds. The slow test re-runs the whole sweep and
fails when the installed versions hold a gadget the table does not cover; the fast tests check the
table's verdicts, sweep two small libraries, and vet the ``torch.nn.Module`` hooks that keep whole
pickled models at the medium review note.
"""

from __future__ import annotations

from collections import defaultdict

import pytest

from mlwarden.core.severity import Severity
from mlwarden.scan.pickle import gadgets, libraries, names
from tests.scan.pickle import gadget_sweep
from tests.scan.pickle.opcodes import (
    BUILD,
    EMPTY_DICT,
    EMPTY_TUPLE,
    NEWOBJ,
    NONE,
    SETITEM,
    STOP,
    TUPLE2,
    global_,
    proto,
    s,
    scan,
)

REVIEWED_ALLOWLISTED: dict[str, str] = {
    "numpy.memmap": "an ndarray subclass for _reconstruct; called it is critical (CALL_DANGEROUS)",
    "numpy._core.memmap.memmap": "as numpy.memmap",
    "zoneinfo.ZoneInfo": "opens only tzdata files for a validated key; ZoneInfo._unpickle pickles",
    "xgboost.core.Booster": "__setstate__ loads the model bytes in libxgboost (VALUE_ONLY: never "
                            "called with arguments)",
    "lightgbm.basic.Booster": "as xgboost.core.Booster (libLightGBM)",
    **{f"torch.{t}Storage": "torch.load(weights_only=True) accepts it; __reduce__ re-saves the "
                            "storage's own bytes" for t in names._TORCH_TYPES},
    **{f"torch.cuda.{t}Storage": "as torch.FloatStorage" for t in names._TORCH_TYPES},
    "torch.storage.TypedStorage": "as torch.FloatStorage",
    "torch.storage.UntypedStorage": "as torch.FloatStorage",
}
"""Gadget-table names the exact allowlist keeps safe (it wins over the table), and why."""


def _split(qual: str) -> tuple[str, str]:
    module, _, name = qual.rpartition(".")
    return module, name


def rebuilt(qual: str) -> bytes:
    """``cls.__new__(cls)`` + BUILD of a plain attribute dict: no call, no odd state."""
    module, name = _split(qual)
    state = EMPTY_DICT + s("path") + s("/tmp/x") + SETITEM
    return proto(2) + global_(module, name) + EMPTY_TUPLE + NEWOBJ + state + BUILD + STOP


def _expected(kind: str) -> Severity:
    return Severity.CRITICAL if kind in gadgets.CRITICAL_KINDS else Severity.HIGH


def test_the_table_is_sorted_and_says_what_it_was_swept_on() -> None:
    assert list(gadgets.GADGETS) == sorted(gadgets.GADGETS)
    assert {"python", "numpy", "torch", "sklearn", "scipy"} <= set(gadgets.SWEPT_ON)
    assert gadgets.CRITICAL_KINDS == gadget_sweep.KINDS_CRITICAL


def test_no_gadget_is_a_user_class_or_stays_safe() -> None:
    """A gadget is never medium (it is library code) and never safe unless reviewed above."""
    for qual, (kind, _path) in gadgets.GADGETS.items():
        module, name = _split(qual)
        assert not libraries.may_rebuild_as_medium(module), qual
        verdict = names.judge(module, name)
        if qual in REVIEWED_ALLOWLISTED:
            assert verdict.verdict == names.SAFE, qual
            continue
        want = names.DANGEROUS if kind in gadgets.CRITICAL_KINDS else names.UNKNOWN
        assert verdict.verdict == want, (qual, verdict)


def _families() -> dict[str, str]:
    """One gadget per family: the hook that reaches (its defining class and method) and what it
    reaches. The representative is the first name of the family that is not allowlisted."""
    families: dict[str, list[str]] = defaultdict(list)
    for qual, (kind, path) in gadgets.GADGETS.items():
        steps = path.split(" -> ")
        families[f"{steps[0]} -> {steps[-1]} ({kind})"].append(qual)
    return {family: next((q for q in quals if q not in REVIEWED_ALLOWLISTED), quals[0])
            for family, quals in sorted(families.items())}


FAMILIES = _families()


@pytest.mark.parametrize("family", list(FAMILIES))
def test_each_gadget_family_rebuilt_without_a_call_is_high_or_critical(family: str) -> None:
    qual = FAMILIES[family]
    kind, _ = gadgets.GADGETS[qual]
    ctx, _ = scan(rebuilt(qual))
    found = [f for f in ctx.findings if f.evidence.get("callable") == qual]
    if qual in REVIEWED_ALLOWLISTED:
        assert not found, [f.message for f in found]
        return
    assert found and max(f.severity for f in found) == _expected(kind), [
        (f.rule_id, f.severity, f.message) for f in ctx.findings]
    assert all(f.severity >= Severity.HIGH for f in found)
    assert {f.rule_id for f in found} <= {"MW-PKL-001", "MW-PKL-003"}


# -- named regressions: gadgets the sweep found where the scanner said medium or clean before ----

REGRESSIONS: dict[str, tuple[str, Severity]] = {
    # rv_generic.__setstate__ passes the state's _parse_arg_template to exec: code execution on
    # load (was medium: a library class only rebuilt)
    "scipy_rv_generic_exec": ("scipy.stats._continuous_distns.norm_gen", Severity.CRITICAL),
    # DataSource.__del__ runs shutil.rmtree(self._destpath) when self._istmpdest: deletes any
    # directory the state names when the object is collected (was medium)
    "numpy_datasource_rmtree": ("numpy.lib._datasource.DataSource", Severity.CRITICAL),
    "numpy_repository_rmtree": ("numpy.lib._datasource.Repository", Severity.CRITICAL),
    # ExecutionTraceObserver.__del__ removes the output file its state names (was medium)
    "torch_trace_observer_remove": ("torch.profiler.profiler.ExecutionTraceObserver",
                                    Severity.CRITICAL),
    # the free of a native handle taken from the state (pointer from the pickle) in __del__:
    # lightgbm.sklearn.Dataset was allowlisted by the sklearn-wrapper class pattern (was clean)
    "lightgbm_sklearn_dataset_free": ("lightgbm.sklearn.Dataset", Severity.CRITICAL),
    "xgboost_dmatrix_free": ("xgboost.core.DMatrix", Severity.CRITICAL),
    # the boosters' re-exports under the sklearn-wrapper modules were allowlisted by pattern, so
    # Booster(model_file=...) was safe to call there (was clean)
    "xgboost_sklearn_booster": ("xgboost.sklearn.Booster", Severity.CRITICAL),
    "lightgbm_sklearn_booster": ("lightgbm.sklearn.Booster", Severity.CRITICAL),
    # LowLevelCallable.__new__ wraps a native function pointer; allowlisted by the scipy.stats
    # class pattern under its re-export (was clean)
    "scipy_lowlevelcallable": ("scipy.stats._continuous_distns.LowLevelCallable",
                               Severity.CRITICAL),
    # the resources property setter (slot state goes through setattr) opens the path it is given
    "mlflow_model_resources_open": ("mlflow.models.model.Model", Severity.CRITICAL),
    # LazyLoader.__getattr__ (BUILD looks up __setstate__ on the instance) imports the module
    # the state names
    "mlflow_lazyloader_import": ("mlflow.utils.lazy_load.LazyLoader", Severity.CRITICAL),
    # ScoringMonitor.__setstate__ connects to the multiprocessing address in its state
    "sklearn_scoring_monitor_client": ("sklearn.callback._scoring_monitor.ScoringMonitor",
                                       Severity.CRITICAL),
    # BaseFileLock.__del__ releases (writes, unlinks) the lock file its state names
    "filelock_del": ("filelock._native._unix.UnixFileLock", Severity.CRITICAL),
    # zipfile.ZipFile.__del__ writes the central directory to the state's file object; skops
    # re-exports it
    "skops_zipfile_del": ("skops.io._utils.ZipFile", Severity.CRITICAL),
}


@pytest.mark.parametrize("case", list(REGRESSIONS))
def test_named_gadget_regressions(case: str) -> None:
    qual, severity = REGRESSIONS[case]
    assert qual in gadgets.GADGETS, f"{qual} is no longer in the table: re-run the sweep"
    ctx, _ = scan(rebuilt(qual))
    found = [f.severity for f in ctx.findings if f.evidence.get("callable") == qual]
    assert found and max(found) == severity, [f.message for f in ctx.findings]


def test_scipy_exec_gadget_through_slot_state_and_reconstructor() -> None:
    """The rv_generic gadget however the instance is rebuilt: NEWOBJ + (dict, slots) state."""
    cls = global_("scipy.stats._continuous_distns", "norm_gen")
    template = s("import os\nos.system('id')\ndef _parse_args(self): pass")
    state = NONE + EMPTY_DICT + s("_parse_arg_template") + template + SETITEM + TUPLE2
    data = proto(2) + cls + EMPTY_TUPLE + NEWOBJ + state + BUILD + STOP
    ctx, _ = scan(data)
    assert max(f.severity for f in ctx.findings) == Severity.CRITICAL
    assert any(f.rule_id == "MW-PKL-001" and "exec" in str(f.evidence.get("reason"))
               for f in ctx.findings)


def test_a_policy_cannot_waive_a_critical_gadget() -> None:
    qual = "numpy.lib._datasource.DataSource"
    ctx, _ = scan(rebuilt(qual), allow=("numpy.lib._datasource.*",))
    assert max(f.severity for f in ctx.findings) == Severity.CRITICAL


# -- the sweep itself ---------------------------------------------------------------------------

def _uncovered(results: dict[str, object]) -> list[str]:
    missing = []
    for qual, record in sorted(gadget_sweep.gadgets_of(results).items()):  # type: ignore[arg-type]
        module, name = _split(qual)
        if qual in gadgets.GADGETS or qual in REVIEWED_ALLOWLISTED:
            continue
        if names.judge(module, name).verdict == names.DANGEROUS:
            continue  # the denylist already covers it
        missing.append(f"{qual}: {record['kind']} via {record['evidence']}")
    return missing


def test_sweep_of_small_libraries_is_covered() -> None:
    """joblib and lightgbm, each swept in a child process (a few seconds)."""
    results = gadget_sweep.sweep(("joblib", "lightgbm"), budget=60.0)
    if results["missing"]:
        pytest.skip(f"not installed: {results['missing']}")
    assert not results["incomplete"], results["incomplete"]
    assert not _uncovered(results), "\n".join(_uncovered(results))


@pytest.mark.slow
def test_sweep_of_the_installed_libraries_is_covered() -> None:
    """Every library the table was swept on (about two minutes): a new release that adds a class
    whose hooks act fails here until ``python -m tests.scan.pickle.gadget_sweep --write`` runs."""
    results = gadget_sweep.sweep()
    assert not results["incomplete"], results["incomplete"]
    uncovered = _uncovered(results)
    assert not uncovered, ("gadget classes the table does not cover (re-run the sweep with "
                           "--write and review):\n" + "\n".join(uncovered))


def test_the_sweep_sees_a_cleanup_finalizer_and_an_exec_setstate() -> None:
    """The sweep's reader on two classes written here (the shapes of the real gadgets)."""
    import shutil

    class Cleanup:
        def __del__(self) -> None:
            if getattr(self, "_tmp", False):
                shutil.rmtree(self.path)

    class Template:
        def __setstate__(self, state: dict[str, str]) -> None:
            self.__dict__.update(state)
            self._attach()

        def _attach(self) -> None:
            ns: dict[str, object] = {}
            exec(self.template, ns)

    class Inert:
        def __setstate__(self, state: dict[str, object]) -> None:
            self.__dict__.update(state)
            self.cache = {}

    cleanup, template = gadget_sweep.classify(Cleanup), gadget_sweep.classify(Template)
    assert cleanup is not None and cleanup["kind"] == "file", cleanup
    assert template is not None and template["kind"] == "eval", template
    assert gadget_sweep.classify(Inert) is None


def test_torch_nn_module_hooks_are_inert() -> None:
    """What keeps whole pickled models (``torch.save(model)``) at medium for user classes and
    vetted model namespaces: ``nn.Module``'s own ``__setstate__``/``__getattr__``/``__setattr__``
    reach nothing, nor do the layers such models hold."""
    torch = pytest.importorskip("torch")

    for cls in (torch.nn.Module, torch.nn.Linear, torch.nn.Conv2d, torch.nn.BatchNorm2d,
                torch.nn.Sequential, torch.nn.ModuleList, torch.nn.TransformerEncoderLayer,
                torch.nn.MultiheadAttention, torch.nn.LSTM, torch.nn.Embedding):
        assert gadget_sweep.classify(cls) is None, cls
