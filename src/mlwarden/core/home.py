"""The state folder every command shares: keys, attestations, runs, the registry."""

from __future__ import annotations

import os
from pathlib import Path

HOME_ENV = "MLWARDEN_HOME"
DEFAULT_HOME = ".mlwarden"


def home_folder(explicit: str | Path | None = None) -> Path:
    """``explicit`` (``--home``), else ``$MLWARDEN_HOME``, else ``./.mlwarden``."""
    return Path(explicit or os.environ.get(HOME_ENV) or DEFAULT_HOME)
