"""The class patterns of the allowlist never vouch for a gadget that a library module re-exports.

``names.judge`` allows CamelCase classes of sklearn, scipy.stats, pandas internals, torch.nn.modules
and the xgboost/lightgbm sklearn wrappers by module name, without importing anything. A module of
those libraries that does ``from joblib import Parallel`` or ``from multiprocessing.connection
import Client`` makes ``sklearn.calibration.Parallel`` a name the pattern matches but that is not
the library's own class. This walks the installed libraries (importing them here, in the test, is
fine) and fails on any pattern-allowed name whose object really lives in a denylisted or unvetted
module, so a new library release that adds such a re-export is caught.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import pkgutil
import warnings

import pytest

from mlwarden.scan.pickle import names

ROOTS = ("sklearn", "scipy.stats", "scipy.interpolate", "scipy.spatial", "xgboost.sklearn",
         "lightgbm.sklearn", "pandas.core", "pandas._libs", "torch.nn.modules")
HARMLESS_HOMES = ("typing", "abc", "numbers", "collections.abc", "enum", "_io.StringIO",
                  "_thread.allocate_lock", "builtins", "types.GenericAlias", "inspect.Parameter",
                  "importlib._bootstrap", "unittest.case.SkipTest", "torch._C.")
"""Re-exported names that are judged unsafe at home but do nothing when called (type hints,
abstract bases, in-memory buffers, locks, namedtuples that merely claim an importlib module)."""


def _modules(root: str) -> list[str]:
    mod = importlib.import_module(root)
    found = [root]
    for info in pkgutil.walk_packages(getattr(mod, "__path__", []), root + "."):
        if any(part in info.name for part in (".tests", "._tests", "conftest", ".testing")):
            continue
        found.append(info.name)
    return found


MODELLED = frozenset(("functools.partial", "copyreg._reconstructor", "copyreg.__newobj__",
                      "copyreg.__newobj_ex__", "numpy.memmap", "numpy._core.memmap.memmap",
                      "builtins.getattr", "builtins.type", "_codecs.encode"))
"""Callables the VM models by name: under another name the model would not apply."""


def _denylisted(obj: object, home: str, qual: str) -> bool:
    """Whether the object, or for a class any of its bases (``sklearn.utils.parallel.Parallel``
    is a ``joblib.Parallel``), is defined in a denylisted module."""
    if names.judge(home, qual).verdict == names.DANGEROUS:
        return True
    for base in getattr(obj, "__mro__", ())[1:]:
        base_home, base_qual = getattr(base, "__module__", ""), getattr(base, "__qualname__", "")
        if (isinstance(base_home, str) and isinstance(base_qual, str) and base_home != "builtins"
                and not f"{base_home}.{base_qual}".startswith(HARMLESS_HOMES)
                and names.judge(base_home, base_qual).verdict == names.DANGEROUS):
            return True
    return False


@pytest.mark.parametrize("root", ROOTS)
def test_no_pattern_allowed_reexport_of_a_gadget(root: str) -> None:
    pytest.importorskip(root.partition(".")[0])
    bad: list[str] = []
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        for module_name in _modules(root):
            try:
                module = importlib.import_module(module_name)
            except Exception:  # noqa: BLE001 - optional dependencies of a submodule
                continue
            for attr, obj in list(vars(module).items()):
                if not callable(obj):
                    continue
                if names.judge(module_name, attr).verdict != names.SAFE:
                    continue
                home = getattr(obj, "__module__", None)
                qual = getattr(obj, "__qualname__", attr)
                if not isinstance(home, str) or not isinstance(qual, str):
                    continue
                real = f"{home}.{qual}"
                if real.startswith(HARMLESS_HOMES) or "<" in qual:
                    continue
                if _denylisted(obj, home, qual) or (real in MODELLED
                                                    and real != f"{module_name}.{attr}"):
                    bad.append(f"{module_name}.{attr} is {real}")
    assert not bad, "pattern-allowed re-exports of denied objects:\n" + "\n".join(sorted(bad))
