"""HDF5 files: legacy Keras models (``model_config`` / ``training_config``) and Keras 3 weights.

Recognised by the HDF5 signature at offset 0, 512, 1024, 2048... (after a user block). Read with
h5py (imported lazily; without it the file is skipped with a reason, never called clean). The
Keras configs stored as root attributes, and any other attribute holding a Keras-shaped JSON
config, go through :mod:`mlwarden.scan.formats.keras_config`. External links, external raw
storage and virtual datasets that read other files are findings. No dataset is read.
"""

from __future__ import annotations

import io
from typing import Any, ClassVar

from mlwarden.scan import format_rules as R
from mlwarden.scan.formats.keras_config import ConfigError, analyze_config, parse_config
from mlwarden.scan.interface import FormatScanner, ScanContext, ScanTarget

SIGNATURE = b"\x89HDF\r\n\x1a\n"
CONFIG_ATTRIBUTES = ("model_config", "training_config")
MAX_OBJECTS = 200_000
"""Links visited before the walk stops (a skip is recorded for the rest)."""
CONFIG_LIMIT = 64 * 1024 * 1024


def signature_offset(data: bytes | memoryview) -> int | None:
    """Where the HDF5 superblock signature is: 0, or 512 × 2ⁿ within the data."""
    offset = 0
    size = len(data)
    while offset + 8 <= size:
        if bytes(data[offset:offset + 8]) == SIGNATURE:
            return offset
        offset = 512 if offset == 0 else offset * 2
    return None


class _StopWalk(Exception):
    pass


class Hdf5Scanner(FormatScanner):
    """HDF5 (legacy Keras ``.h5`` and Keras 3 ``model.weights.h5``)."""

    name: ClassVar[str] = "hdf5"
    version: ClassVar[str] = "1"
    priority: ClassVar[int] = 60

    @classmethod
    def detect(cls, head: bytes, target: ScanTarget) -> bool:
        if head[:8] == SIGNATURE:
            return True
        return signature_offset(target.data) is not None

    def scan(self, target: ScanTarget, ctx: ScanContext) -> None:
        try:
            import h5py
        except ImportError:
            ctx.skip(target, "HDF5 file not checked: h5py is not installed "
                             "(pip install 'mlwarden[scan]')")
            return
        try:
            if target.fs_path is not None and target.member is None:
                handle = h5py.File(str(target.fs_path), "r")
            else:
                handle = h5py.File(io.BytesIO(bytes(target.data)), "r")
        except Exception as exc:  # noqa: BLE001 - h5py raises many types for hostile files
            ctx.add(R.HDF_MALFORMED.finding(f"HDF5 library cannot open the file: {exc}",
                                            target.location()))
            return
        try:
            with handle:
                self._scan_root_configs(handle, target, ctx)
                self._walk(h5py, handle, target, ctx)
        except Exception as exc:  # noqa: BLE001 - malformed objects fail inside h5py
            ctx.add(R.HDF_MALFORMED.finding(f"HDF5 structure cannot be read: {exc}",
                                            target.location()))

    def _scan_root_configs(self, handle: Any, target: ScanTarget, ctx: ScanContext) -> None:
        for name in CONFIG_ATTRIBUTES:
            if name not in handle.attrs:
                continue
            try:
                value = handle.attrs[name]
            except Exception as exc:  # noqa: BLE001
                ctx.add(R.HDF_MALFORMED.finding(f"attribute {name!r} cannot be read: {exc}",
                                                target.location()))
                continue
            raw = _as_text(value)
            if raw is None:
                ctx.add(R.HDF_MALFORMED.finding(f"attribute {name!r} is not a JSON string",
                                                target.location()))
                continue
            self._analyze(raw, f"/@{name}", target, ctx)

    @staticmethod
    def _analyze(raw: bytes, where: str, target: ScanTarget, ctx: ScanContext) -> None:
        try:
            issues = analyze_config(parse_config(raw, CONFIG_LIMIT), base=where)
        except ConfigError as exc:
            ctx.add(R.KERAS_MALFORMED.finding(f"Keras config {where}: {exc}", target.location()))
            return
        for issue in issues:
            ctx.add(issue.rule.finding(issue.message, target.location(), severity=issue.severity,
                                       evidence={"json_path": issue.path, **issue.evidence}))

    def _walk(self, h5py: Any, handle: Any, target: ScanTarget, ctx: ScanContext) -> None:
        count = 0

        def visit(name: str, link: Any) -> None:
            nonlocal count
            count += 1
            if count > MAX_OBJECTS:
                raise _StopWalk
            if isinstance(link, h5py.ExternalLink):
                ctx.add(R.HDF_EXTERNAL.finding(
                    f"external link {name!r} → {link.filename}:{link.path}", target.location(),
                    evidence={"link": name, "file": str(link.filename), "path": str(link.path)}))
                return
            if not isinstance(link, h5py.HardLink):
                return
            obj = handle.get(name)
            if obj is None:
                return
            if isinstance(obj, h5py.Dataset):
                self._check_dataset(name, obj, target, ctx)
            for attr_name in list(obj.attrs.keys())[:1000]:
                try:
                    raw = _as_text(obj.attrs[attr_name])
                except Exception:  # noqa: BLE001, S112 - an unreadable attribute is not a config
                    continue
                if raw is not None and raw.lstrip()[:1] == b"{" and b"class_name" in raw:
                    self._analyze(raw, f"/{name}/@{attr_name}", target, ctx)

        try:
            handle.visititems_links(visit)
        except _StopWalk:
            ctx.skip(target, f"HDF5 file has more than {MAX_OBJECTS} objects; the rest were "
                             "not checked")

    @staticmethod
    def _check_dataset(name: str, dset: Any, target: ScanTarget, ctx: ScanContext) -> None:
        external = dset.external
        if external:
            files = [str(entry[0]) for entry in external][:20]
            ctx.add(R.HDF_EXTERNAL.finding(
                f"dataset {name!r} stores its data in external file(s) {files}",
                target.location(), evidence={"dataset": name, "files": files}))
        if dset.is_virtual:
            sources = [str(src.file_name) for src in dset.virtual_sources()]
            foreign = sorted({src for src in sources if src != "."})[:20]
            if foreign:
                ctx.add(R.HDF_EXTERNAL.finding(
                    f"virtual dataset {name!r} reads from file(s) {foreign}", target.location(),
                    evidence={"dataset": name, "files": foreign}))


def _as_text(value: object) -> bytes | None:
    """An attribute value as bytes if it is a string (h5py gives str, bytes or numpy scalars)."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    item = getattr(value, "item", None)
    shape = getattr(value, "shape", None)
    if callable(item) and shape == ():
        inner = item()
        if isinstance(inner, bytes | str):
            return _as_text(inner)
    return None
