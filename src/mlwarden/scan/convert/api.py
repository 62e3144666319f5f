"""``convert``: one file in, one safe file out — scanned, allowlist-loaded, verified, atomic."""

from __future__ import annotations

import enum
import io
import tarfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlwarden.core.atomic import atomic_write_bytes
from mlwarden.core.errors import UsageError
from mlwarden.core.severity import Severity
from mlwarden.scan.convert.gate import read_and_scan

_TORCH_LEGACY_MAGIC = b"\x80\x02\x8a\nl\xfc\x9cF\xf9 j\xa8P\x19."


class Target(str, enum.Enum):
    SAFETENSORS = "safetensors"
    SKOPS = "skops"


@dataclass(frozen=True)
class ConversionResult:
    source: Path
    output: Path
    target: Target
    source_sha256: str
    summary: str
    """One line saying what was converted and how it was verified."""


def guess_target(data: bytes) -> Target:
    """PyTorch archives (zip with data.pkl, legacy stream or tar) → safetensors, else → skops."""
    if data[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                if any(n.endswith("/data.pkl") or n == "data.pkl" for n in zf.namelist()):
                    return Target.SAFETENSORS
        except (zipfile.BadZipFile, ValueError, OSError):
            pass
    if data.startswith(_TORCH_LEGACY_MAGIC):
        return Target.SAFETENSORS
    if len(data) > 512 and data[257:262] == b"ustar":
        try:
            with tarfile.open(fileobj=io.BytesIO(data)) as tf:
                if {"pickle", "storages"} <= set(tf.getnames()):
                    return Target.SAFETENSORS
        except (tarfile.TarError, OSError):
            pass
    return Target.SKOPS


def convert(source: Path, output: Path | None = None, *, target: Target | None = None,
            probe: Path | None = None, fail_on: Severity = Severity.HIGH,
            allow_globals: Sequence[str] = ()) -> ConversionResult:
    """Convert ``source`` into a safe format; raises instead of writing anything half-checked."""
    scanned = read_and_scan(source, fail_on=fail_on, allow_globals=allow_globals)
    kind = target or guess_target(scanned.data)
    dest = output or source.with_suffix(f".{kind.value}")
    if dest.resolve() == source.resolve():
        raise UsageError(f"{dest}: the output would overwrite the input")
    if kind is Target.SAFETENSORS:
        from mlwarden.scan.convert import torch_safetensors

        tc = torch_safetensors.convert(scanned.data, source=source.name,
                                       source_sha256=scanned.sha256, allow_globals=allow_globals)
        data = tc.data
        summary = (f"{len(tc.tensors)} tensors bit-identical after reload"
                   + (f", {len(tc.values)} plain values kept in metadata" if tc.values else ""))
    else:
        from mlwarden.scan.convert import sklearn_skops

        rows: Any = sklearn_skops.read_probe(probe) if probe is not None else None
        sc = sklearn_skops.convert(scanned.data, probe=rows, allow_globals=allow_globals)
        data = sc.data
        summary = (f"{type(sc.model).__name__}: identical {', '.join(sc.checked)} on "
                   f"{sc.probe_rows} probe rows")
    atomic_write_bytes(dest, data)
    return ConversionResult(source, dest, kind, scanned.sha256, summary)
