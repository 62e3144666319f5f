"""The comparison: the VM must see every import and call the real unpickler makes.

:func:`vm_view` runs the VM the way ``analyze_pickle`` does but keeps its import records (a test
hook: the public result only lists resolved globals); :func:`disagreements` compares it with an
:class:`~oracle.OracleRecord`. The rules, on every input:

- every name the real unpicklers imported (``_pickle`` reading bytes and a file, the pure-Python
  ``pickle._Unpickler``; nested ``pickle.loads``/``pickle.load`` included) is an import the VM
  recorded (``__builtin__`` spelt as the ``builtins`` it is) — except what
  a file-reading unpickler reads after an opcode that crosses the end of its FRAME, where the VM
  says so at high and reads on as ``pickle.loads`` does;
- every import the unpicklers called (``REDUCE``, ``NEWOBJ``'s ``__new__``, ``INST``/``OBJ``, a
  reconstructor instantiating it, ``APPEND``/``SETITEM``/``BUILD`` on the class itself) is an
  import the VM marked as called — or the scan is at least high;
- a call of a computed value (the result of a call, a persistent object) leaves the scan high;
- a stream the unpickler loads to the end is one the VM reads to STOP, or the scan is high
  (the analyser failing closed on what it cannot model).
"""

from __future__ import annotations

from dataclasses import dataclass

from mlwarden.core.severity import Severity
from mlwarden.scan.interface import ScanContext, ScanLimits, ScanTarget
from mlwarden.scan.pickle import analyze
from mlwarden.scan.pickle.state import Shared
from mlwarden.scan.pickle.vm import VM
from tests.scan.pickle.oracle import OracleRecord

LIMITS = ScanLimits(max_pickle_opcodes=200_000, max_pickle_stack=50_000, max_pickle_memo=50_000)


@dataclass(frozen=True)
class VMView:
    imports: frozenset[str]
    called: frozenset[str]
    complete: bool
    failure: str | None
    pos: int
    worst: Severity | None
    rules: frozenset[str]
    frame_split: bool
    """The VM reported (high) that a file-reading unpickler reads other opcodes than ``loads``."""


def _norm(qualname: str) -> str:
    return "builtins" + qualname[len("__builtin__"):] if qualname.startswith("__builtin__.") else qualname


def vm_view(data: bytes) -> VMView:
    ctx = ScanContext(limits=LIMITS)
    target = ScanTarget(path="oracle.pkl", data=data)
    shared = Shared(target=target, ctx=ctx)
    vm = VM(shared, memoryview(data), 0, len(data))
    vm.run()
    analyze._report_imports(shared)
    imports = {_norm(i.qualname) for i in shared.imports}
    called = {_norm(i.qualname) for i in shared.imports if i.called or i.invoked}
    return VMView(imports=frozenset(imports), called=frozenset(called), complete=vm.complete,
                  failure=vm.failure, pos=vm.pos,
                  worst=max((f.severity for f in ctx.findings), default=None),
                  rules=frozenset(f.rule_id for f in ctx.findings), frame_split=vm.frame_split)


def disagreements(oracle: OracleRecord, vm: VMView) -> list[str]:
    """What the real unpickler did that the VM missed (empty: parity on this input)."""
    out: list[str] = []
    high = vm.worst is not None and vm.worst >= Severity.HIGH
    for mode, record in sorted(oracle.modes.items()):
        if mode == "file" and vm.frame_split and high:
            continue  # the VM said it reads this stream as pickle.loads does, and failed closed
        for name in sorted({_norm(e.name) for e in record.events if e.kind == "import"}):
            if name not in vm.imports:
                out.append(f"import {name} ({mode}) not seen by the VM")
    for name in sorted(_norm(n) for n in oracle.class_calls() | oracle.class_methods()):
        if name not in vm.called and not high:
            out.append(f"call of {name} not seen by the VM (scan not high)")
    if oracle.instance_calls() and not high:
        out.append(f"call of computed values {sorted(oracle.instance_calls())[:3]} but scan not high")
    if oracle.accepted and not vm.complete and not high:
        out.append(f"the unpickler loads the stream; the VM stops at {vm.pos} ({vm.failure}) "
                   f"with the scan at {vm.worst}")
    return out

