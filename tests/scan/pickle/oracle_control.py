"""Positive controls for the audit-hook oracle (``gadget_oracle``): classes whose plain rebuild
acts. Never loaded by the scanner; the oracle's hook blocks each action before it happens."""

from __future__ import annotations

import os
import shutil
from typing import Any

MISSING = os.path.join(os.sep, "nonexistent-mlwarden-oracle-control")


class RemovesOnCollect:
    """``__del__`` removes a file (the oracle blocks ``os.remove`` before it runs)."""

    def __del__(self) -> None:
        os.remove(MISSING)


class RmtreeOnSetstate:
    """``__setstate__`` removes a directory tree."""

    def __setstate__(self, state: dict[str, Any]) -> None:
        shutil.rmtree(MISSING)


class Inert:
    """A plain class: nothing acts when it is rebuilt."""

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
