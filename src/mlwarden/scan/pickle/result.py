"""What one pickle analysis returns to its caller (the scan engine, container scanners)."""

from __future__ import annotations

from typing import NamedTuple


class ResolvedGlobal(NamedTuple):
    """One importable name the pickle references, as the analyser resolved it."""

    module: str
    name: str
    offset: int
    """Offset of the opcode that imported (or derived) it, in the analysed target."""
    verdict: str
    """``safe``, ``dangerous`` or ``unknown``."""
    called: bool
    """Invoked while loading (REDUCE, OBJ, INST, NEWOBJ, NEWOBJ_EX or a reconstructor)."""

    @property
    def qualname(self) -> str:
        return f"{self.module}.{self.name}" if self.name else self.module


class PickleResult(NamedTuple):
    """Where one pickle stream lies and what it imports."""

    start: int
    end: int
    """Offset just after STOP, or where analysis stopped."""
    complete: bool
    """Whether the stream reached STOP cleanly."""
    protocol: int | None
    globals: tuple[ResolvedGlobal, ...]
