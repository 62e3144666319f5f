"""What every corpus builder shares: the labelled sample record and deterministic writers."""

from __future__ import annotations

import io
import tarfile
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

Label = Literal["malicious", "benign"]
FIXED_DATE = (2024, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class Sample:
    """One corpus entry: a file or a directory (SavedModel, ONNX with external data)."""

    name: str
    """Path relative to the corpus root."""
    format: str
    """The family it is measured under: pickle, pytorch, joblib, numpy, keras, onnx, gguf,
    savedmodel, safetensors, archive, skops."""
    technique: str
    label: Label

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def write(root: Path, rel: str, data: bytes) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def zip_bytes(members: list[tuple[str, bytes]], *, compress: bool = False) -> bytes:
    """A zip with fixed timestamps (deterministic), stored or deflated."""
    buf = io.BytesIO()
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=FIXED_DATE)
            info.compress_type = method
            zf.writestr(info, data)
    return buf.getvalue()


def zip_members(data: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return [(i.filename, zf.read(i)) for i in zf.infolist()]


def tar_bytes(members: list[tuple[str, bytes]], *, mode: str = "w",
              symlinks: dict[str, str] | None = None) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as tf:  # type: ignore[call-overload]
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 1_704_067_200, 0o644
            tf.addfile(info, io.BytesIO(data))
        for name, target in (symlinks or {}).items():
            info = tarfile.TarInfo(name)
            info.type, info.linkname, info.mtime = tarfile.SYMTYPE, target, 1_704_067_200
            tf.addfile(info)
    return buf.getvalue()


def write_7z(root: Path, rel: str, members: list[tuple[str, bytes]]) -> Path:
    """A 7z archive (py7zr) whose members carry a fixed timestamp (deterministic)."""
    import os
    import tempfile

    import py7zr

    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, py7zr.SevenZipFile(path, "w") as archive:
        for name, data in members:
            src = Path(tmp) / name.replace("/", "_")
            src.write_bytes(data)
            os.utime(src, (1_704_067_200, 1_704_067_200))
            archive.write(src, name)
    return path
