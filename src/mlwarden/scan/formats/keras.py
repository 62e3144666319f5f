"""Keras v3 ``.keras`` archives: a zip holding ``config.json``, ``metadata.json`` and the weights.

Recognised by content (zip local-header magic and both JSON members in the central directory), so
it runs before the generic zip scanner. ``config.json`` is analysed by
:mod:`mlwarden.scan.formats.keras_config`; every other member (``model.weights.h5``, assets,
sharded weights) is handed back to the engine, so a pickle or a hostile HDF5 inside is scanned by
its own scanner (through the engine's generic zip scanner when it is registered, so archive
bombs and traversal names are reported as for any zip).
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from typing import ClassVar

from mlwarden.core.severity import Severity
from mlwarden.scan import format_rules as R
from mlwarden.scan.formats.keras_config import (
    ConfigError,
    ParsedConfig,
    looks_like_keras_config,
    parse_config,
    report_config,
)
from mlwarden.scan.interface import FormatScanner, ScanContext, ScanTarget

CONFIG_LIMIT = 64 * 1024 * 1024
"""Largest config.json / metadata.json read (bounded further by ``limits.max_header_size``)."""


class MemoryFile(io.RawIOBase):
    """A read-only, seekable file over a buffer, without copying it (zipfile needs a file)."""

    def __init__(self, data: bytes | memoryview) -> None:
        super().__init__()
        self._view = memoryview(data).cast("B") if isinstance(data, memoryview) else memoryview(data)
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: len(self._view)}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        chunk = self._view[self._pos:self._pos + len(buffer)]
        n = len(chunk)
        memoryview(buffer).cast("B")[:n] = chunk
        self._pos += n
        return n


def open_zip(data: bytes | memoryview) -> zipfile.ZipFile:
    """A zipfile over ``data`` (raises zipfile/OSError/ValueError on a malformed archive)."""
    return zipfile.ZipFile(MemoryFile(data))


MAX_KERAS_MEMBERS = 65534
"""A zip whose end record announces more members is left to the generic zip scanner."""


def _announced_members(data: bytes | memoryview) -> int | None:
    """The member count in the end-of-central-directory record (without parsing the directory)."""
    start = max(0, len(data) - (0xFFFF + 22))
    tail = bytes(data[start:])
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or at + 22 > len(tail):
        return None
    return int(struct.unpack_from("<H", tail, at + 10)[0])


def _is_keras_zip(data: bytes | memoryview) -> bool:
    count = _announced_members(data)
    if count is None or count > MAX_KERAS_MEMBERS:
        return False
    try:
        with open_zip(data) as zf:
            names = set(zf.namelist())
            if "config.json" not in names:
                return False
            # A PyTorch/TorchScript archive with a config.json beside it is torch's to load
            # (torch.jit.load runs its code/); its scanner hands config.json on by content.
            from mlwarden.scan.formats.torch_zip import is_torch_layout

            if is_torch_layout(names):
                return False
            if "metadata.json" in names:
                return True
            # keras.saving reads only config.json: without metadata.json, claim the archive
            # when config.json is a Keras config
            info = zf.getinfo("config.json")
            if info.file_size > CONFIG_LIMIT or info.flag_bits & 0x1:
                return False
            with zf.open(info) as fh:
                raw = fh.read(CONFIG_LIMIT + 1)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, KeyError, struct.error,
            NotImplementedError, RuntimeError, zlib.error):
        return False
    try:
        return looks_like_keras_config(parse_config(raw, CONFIG_LIMIT).root)
    except ConfigError:
        return False


def stored_range(data: bytes | memoryview, info: zipfile.ZipInfo) -> tuple[int, int] | None:
    """``(start, end)``: where the bytes of an uncompressed, unencrypted member lie in ``data``."""
    if info.compress_type != zipfile.ZIP_STORED or info.flag_bits & 0x1:
        return None
    view = memoryview(data)
    offset = info.header_offset
    if offset + 30 > len(view) or bytes(view[offset:offset + 4]) != b"PK\x03\x04":
        return None
    name_len, extra_len = struct.unpack_from("<HH", view, offset + 26)
    start = offset + 30 + name_len + extra_len
    end = start + info.compress_size
    if end > len(view):
        return None
    return start, end


class KerasScanner(FormatScanner):
    """Keras v3 ``.keras`` zip archives."""

    name: ClassVar[str] = "keras"
    version: ClassVar[str] = "1"
    priority: ClassVar[int] = 50

    @classmethod
    def detect(cls, head: bytes, target: ScanTarget) -> bool:
        # keras.saving opens the file with zipfile, which also reads an archive with bytes
        # prepended (zipfile.is_zipfile is its test), so the local-header magic is not required
        return _is_keras_zip(target.data)

    def scan(self, target: ScanTarget, ctx: ScanContext) -> None:
        try:
            zf = open_zip(target.data)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, KeyError, struct.error,
                NotImplementedError) as exc:
            ctx.add(R.KERAS_MALFORMED.finding(f"Keras archive is not a readable zip: {exc}",
                                              target.location()))
            return
        with zf:
            infos = zf.infolist()
            limit = min(CONFIG_LIMIT, ctx.limits.max_header_size)
            by_name = {info.filename: info for info in infos}
            analysed: set[bytes] = set()
            for name in ("config.json", "metadata.json"):
                if name not in by_name:
                    continue
                raw = self._read_small(zf, by_name[name], limit, target, ctx)
                if raw is None:
                    continue
                analysed.add(raw)
                try:
                    parsed = parse_config(raw, limit)
                except ConfigError as exc:
                    ctx.add(R.KERAS_MALFORMED.finding(f"{name}: {exc}", target.location()))
                    continue
                if name == "config.json":
                    self._report_config(parsed, target, ctx)
                from mlwarden.scan.formats.embedded import scan_json_fields

                scan_json_fields(parsed.root, target, ctx, prefix=f"{name}:")
            self._scan_members(zf, infos, target, ctx, analysed)

    @staticmethod
    def _read_small(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int, target: ScanTarget,
                    ctx: ScanContext) -> bytes | None:
        if info.file_size > limit:
            ctx.add(R.KERAS_MALFORMED.finding(
                f"{info.filename} is {info.file_size} bytes, over the {limit}-byte limit",
                target.location(), severity=Severity.HIGH))
            return None
        try:
            with zf.open(info) as fh:
                raw = fh.read(limit + 1)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, RuntimeError,
                NotImplementedError, zlib.error) as exc:
            ctx.add(R.KERAS_MALFORMED.finding(f"{info.filename} cannot be read: {exc}",
                                              target.location()))
            return None
        if len(raw) > limit:
            ctx.add(R.KERAS_MALFORMED.finding(
                f"{info.filename} inflates past the {limit}-byte limit (its header says "
                f"{info.file_size})", target.location(), severity=Severity.HIGH))
            return None
        return raw

    @staticmethod
    def _report_config(parsed: ParsedConfig, target: ScanTarget, ctx: ScanContext) -> None:
        report_config(parsed, target, ctx, base="config.json")

    @staticmethod
    def _scan_members(zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo], target: ScanTarget,
                      ctx: ScanContext, analysed: set[bytes] | None = None) -> None:
        """Hand the members back to the engine: through the generic zip reader when the zip
        scanner is registered (bomb, traversal and loader-disagreement checks, every copy any
        zip reader sees), else within the limits here. ``config.json``/``metadata.json`` bytes
        already analysed here are not handed over again (other copies are). The engine imports
        scanners lazily, so the zip scanner's module is imported here first."""
        from mlwarden.scan.formats import archive, zipreader

        if FormatScanner.registry.get("zip") is not None:
            directory = archive.open_zip(target, ctx)
            if directory is None:
                return
            done = analysed or set()

            def nested(entry: zipreader.ZipEntry, data: bytes | memoryview,
                       complete: bool) -> None:
                if entry.name in ("config.json", "metadata.json") and bytes(data) in done:
                    return
                stored = entry.method == zipreader.STORED
                ctx.scan_nested(target.child(entry.name, data,
                                             offset=entry.data_offset if stored else None))

            archive.scan_zip_members(target, ctx, directory, nested)
            return
        limits = ctx.limits
        if len(infos) > limits.max_members:
            ctx.skip(target, f"Keras archive has {len(infos)} members, over the limit of "
                             f"{limits.max_members}; members were not scanned")
            return
        if target.depth + 1 > limits.max_depth:
            ctx.skip(target, f"nesting deeper than {limits.max_depth}; members were not scanned")
            return
        total = 0
        for info in infos:
            if info.is_dir() or info.filename in ("config.json", "metadata.json"):
                continue
            member = ScanTarget(path=target.path, data=b"", member=target.member,
                                depth=target.depth).child(info.filename, b"")
            if info.flag_bits & 0x1:
                ctx.skip(member, "encrypted zip member")
                continue
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > limits.max_member_size or (
                    info.file_size > 1 << 20 and ratio > limits.max_compression_ratio):
                ctx.skip(member, f"member of {info.file_size} bytes (ratio {ratio:.0f}) is over "
                                 "the scan limits")
                continue
            total += info.file_size
            if total > limits.max_total_uncompressed:
                ctx.skip(member, "archive exceeds the total uncompressed size limit")
                break
            where = stored_range(target.data, info)
            data: bytes | memoryview | None = None
            if where is not None:  # a slice of target.data: the child may be read in place
                data = memoryview(target.data)[where[0]:where[1]]
            else:
                try:
                    with zf.open(info) as fh:
                        data = fh.read(info.file_size + 1)
                except (zipfile.BadZipFile, OSError, ValueError, EOFError, RuntimeError,
                        NotImplementedError, zlib.error) as exc:
                    ctx.add(R.KERAS_MALFORMED.finding(f"member {info.filename} cannot be read: "
                                                      f"{exc}", target.location()))
                    continue
                if len(data) > info.file_size:
                    ctx.skip(member, "member inflates past the size its header declares")
                    continue
            ctx.scan_nested(target.child(info.filename, data,
                                         offset=where[0] if where is not None else None))
