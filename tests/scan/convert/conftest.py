"""Real models saved by their own libraries, for the converters."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.scan.corpus.conftest import corpus  # noqa: F401 - the shared generated corpus


@pytest.fixture(scope="session")
def sk_models() -> dict[str, Any]:
    from tests.scan.corpus.benign import fitted_models

    return fitted_models()


@pytest.fixture
def torch_file(tmp_path: Path) -> Callable[..., Path]:
    torch = pytest.importorskip("torch")

    def save(obj: Any, name: str = "model.pt", **kw: Any) -> Path:
        buf = io.BytesIO()
        torch.save(obj, buf, **kw)
        path = tmp_path / name
        path.write_bytes(buf.getvalue())
        return path

    return save
