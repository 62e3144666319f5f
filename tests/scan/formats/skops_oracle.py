"""skops' own loader as an oracle for the skops scanner, run so that nothing a file names is ever
imported or executed.

In a child process (CPU, address-space, file-size and open-file limits; a timeout) the installed
``skops.io`` runs ``get_untrusted_types(data=...)`` and then the usual
``load(data, trusted=get_untrusted_types(...))`` — with ``skops.io._utils._import_obj`` (the only
place the loader imports a name: ``gettype`` and ``TypeNode``) replaced by a recorder. The
recorder hands back the real object only for a closed set of inert value types (builtins
containers and scalars, ``collections.OrderedDict``, numpy arrays, scalars and bit generators) and
refuses every other import: the loader gets an inert stand-in class instead, which records what
the loader does with it — ``call`` (``cls(*args)``), ``new`` (``cls.__new__(cls)``),
``setstate`` (``instance.__setstate__(attrs)``) — and never runs anything. ``importlib`` inside
``skops.io._utils`` is replaced as well, so a missed path fails instead of importing.

The result per file: the names skops lists as untrusted, the names the loader imported and what it
did with each, and the loader's error (a stand-in may make a later step fail; the events before it
are still recorded).
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from dataclasses import dataclass

_CHILD = r'''
import base64, json, resource, sys, warnings
warnings.simplefilter("ignore")
resource.setrlimit(resource.RLIMIT_CPU, (120, 120))
resource.setrlimit(resource.RLIMIT_AS, (6 << 30, 6 << 30))
resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))
resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))
import builtins, collections
import numpy as np
import skops.io as sio
from skops.io import _utils

PASS = {("builtins", n): getattr(builtins, n) for n in (
    "dict", "list", "set", "frozenset", "tuple", "str", "int", "float", "bool", "complex",
    "bytes", "bytearray", "slice")}
PASS[("collections", "OrderedDict")] = collections.OrderedDict
PASS[("numpy", "ndarray")] = np.ndarray
for _n in ("float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8",
           "uint16", "uint32", "uint64", "bool_", "complex64", "complex128"):
    PASS[("numpy", _n)] = getattr(np, _n)
for _n in ("MT19937", "PCG64", "PCG64DXSM", "Philox", "SFC64"):
    PASS[("numpy.random", _n)] = getattr(np.random, _n)
PASS[("numpy.random.bit_generator", "SeedSequence")] = np.random.SeedSequence

events = {}

def note(qual, what):
    events.setdefault(qual, []).append(what)

class Meta(type):
    def __call__(cls, *args, **kwargs):
        note(cls._qual, "call")
        return object.__new__(cls)

class Inert(metaclass=Meta):
    _qual = "?"
    def __new__(cls, *args, **kwargs):
        note(cls._qual, "new")
        return object.__new__(cls)
    def __setstate__(self, state):
        note(type(self)._qual, "setstate")
    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        note(type(self)._qual, "attr:" + name)
        return lambda *a, **k: None
    def __setitem__(self, key, value):
        pass

def fake_import(module, name, package=None):
    qual = f"{module}.{name}"
    note(qual, "import")
    if (module, name) in PASS:
        return PASS[(module, name)]
    return Meta(name, (Inert,), {"_qual": qual})

class NoImportlib:
    def import_module(self, *a, **k):
        raise ImportError("refused by the oracle")

_utils._import_obj = fake_import
_utils.importlib = NoImportlib()
from skops.io import _general
_general._import_obj = fake_import

out = {}
for key, raw in json.load(sys.stdin).items():
    data = base64.b64decode(raw)
    events = {}
    result = {"untrusted": None, "events": None, "error": None}
    try:
        untrusted = sio.get_untrusted_types(data=data)
        result["untrusted"] = sorted(untrusted)
        sio.loads(data, trusted=untrusted)
    except BaseException as exc:
        result["error"] = f"{type(exc).__name__}: {exc}"[:500]
    result["events"] = events
    out[key] = result
from skops.io._audit import NODE_TYPE_MAPPING
print("LOADERS " + json.dumps(sorted({loader for loader, _ in NODE_TYPE_MAPPING})))
print("ORACLE " + json.dumps(out))
'''


@dataclass(frozen=True)
class OracleResult:
    untrusted: list[str] | None
    """``get_untrusted_types``: what the usual idiom trusts (None: skops refused the file)."""
    events: dict[str, list[str]]
    """qualified name → what the loader did with it (import, call, new, setstate, attr:NAME)."""
    error: str | None


def run(files: dict[str, bytes], timeout: float = 240.0) -> dict[str, OracleResult]:
    """Run the oracle on every file in one child process (the key ``LOADERS`` of the result
    holds, as its ``untrusted``, every ``__loader__`` the installed skops registers)."""
    payload = json.dumps({k: base64.b64encode(v).decode() for k, v in files.items()})
    proc = subprocess.run([sys.executable, "-c", _CHILD], input=payload, capture_output=True,
                          text=True, timeout=timeout, check=False)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("ORACLE ")), None)
    if line is None:
        raise RuntimeError(f"skops oracle failed: {proc.returncode} {proc.stderr[-2000:]}")
    raw = json.loads(line[len("ORACLE "):])
    out = {k: OracleResult(v["untrusted"], v["events"], v["error"]) for k, v in raw.items()}
    loaders = next(ln for ln in proc.stdout.splitlines() if ln.startswith("LOADERS "))
    out["LOADERS"] = OracleResult(json.loads(loaders[len("LOADERS "):]), {}, None)
    return out
