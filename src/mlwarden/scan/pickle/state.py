"""State shared by the pieces of the pickle VM: the abort signal and per-analysis bookkeeping."""

from __future__ import annotations

from dataclasses import dataclass, field

from mlwarden.scan.interface import ScanContext, ScanTarget
from mlwarden.scan.pickle import names
from mlwarden.scan.pickle.values import Imp


class Abort(Exception):
    """Analysis of this stream stops here (the finding has already been emitted)."""


@dataclass
class Shared:
    """State shared by one top-level analysis and the nested pickles inside it."""

    target: ScanTarget
    ctx: ScanContext
    emit_findings: bool = True
    imports: list[Imp] = field(default_factory=list)
    ops: int = 0
    findings: int = 0
    unvetted: int = 0
    """Imports judged unknown so far (values are only checked for them once there is one)."""
    walked: dict[int, object] = field(default_factory=dict)
    walk_overflow: bool = False
    """More tuples than the VM keeps for that check: every unvetted import is treated as a value."""
    """Tuples already walked for imported names used as values (kept alive so ids stay unique)."""
    unvetted_dists: set[int] = field(default_factory=set)
    """``id`` of scipy distribution imports a rebuild failed to vet (see ``scipy_dists``)."""
    shadow_ops_left: int = 2_000_000  # = joblib_arrays._SHADOW_BUDGET
    """Opcodes left for what-if readings of joblib array bytes (see ``joblib_arrays``)."""

    def dirty(self) -> bool:
        return any(i.verdict != names.SAFE for i in self.imports)
