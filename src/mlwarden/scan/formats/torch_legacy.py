"""Legacy PyTorch serialisations: the pre-zip stream (``_use_new_zipfile_serialization=False``) and
the tar format of torch < 0.4.

The stream is five pickles in a row — the magic number, the protocol version, ``sys_info``, the
object itself, the list of storage keys — then raw storage bytes that torch reads as numbers and
never unpickles. All five pickles are analysed; the storage bytes are not.

The tar holds ``sys_info`` and ``pickle`` (pickles) and ``storages`` and ``tensors``: a count
pickle, then for each entry a small pickle followed by raw bytes whose length the entry declares.
Those members are walked entry by entry, so every pickle torch would load is analysed.
"""

from __future__ import annotations

import io
import struct
from typing import ClassVar

from mlwarden.scan.container_rules import MALFORMED_ARCHIVE
from mlwarden.scan.formats.archive import ViewReader, iter_tar
from mlwarden.scan.formats.pickled import analyze_embedded, record_format
from mlwarden.scan.interface import FormatScanner, ScanContext, ScanTarget
from mlwarden.scan.sniff import is_legacy_torch_stream, looks_like_tar

_STREAM_PICKLES = ("magic number", "protocol version", "sys_info", "object", "storage keys")

ELEMENT_SIZES = {
    "DoubleStorage": 8, "FloatStorage": 4, "HalfStorage": 2, "BFloat16Storage": 2,
    "LongStorage": 8, "IntStorage": 4, "ShortStorage": 2, "CharStorage": 1, "ByteStorage": 1,
    "BoolStorage": 1, "ComplexFloatStorage": 8, "ComplexDoubleStorage": 16, "QInt8Storage": 1,
    "QUInt8Storage": 1, "QInt32Storage": 4, "QUInt4x2Storage": 1, "QUInt2x4Storage": 1,
}
"""Bytes per element of each legacy storage class (``torch._utils._element_size``)."""


is_legacy_stream = is_legacy_torch_stream


class TorchLegacyScanner(FormatScanner):
    """``torch.save(..., _use_new_zipfile_serialization=False)`` files."""

    name: ClassVar[str] = "torch-legacy"
    version: ClassVar[str] = "1"
    priority: ClassVar[int] = 300

    @classmethod
    def detect(cls, head: bytes, target: ScanTarget) -> bool:
        return is_legacy_stream(head)

    def scan(self, target: ScanTarget, ctx: ScanContext) -> None:
        pos = 0
        for index, what in enumerate(_STREAM_PICKLES):
            result = analyze_embedded(target, ctx, start=pos, all_streams=False)[0]
            if not result.complete:
                ctx.add(MALFORMED_ARCHIVE.finding(
                    f"legacy torch file ends inside its {what} pickle (pickle {index + 1} of 5)",
                    target.location(offset=pos), evidence={"pickle": what, "offset": pos}))
                return
            pos = result.end
            if pos >= target.size:
                if index < len(_STREAM_PICKLES) - 1:
                    ctx.add(MALFORMED_ARCHIVE.finding(
                        f"legacy torch file ends after its {what} pickle (expected 5 pickles)",
                        target.location(offset=pos), evidence={"pickles": index + 1}))
                return


def _tar_names(target: ScanTarget, limit: int = 16) -> set[str]:
    import tarfile

    names: set[str] = set()
    try:
        with tarfile.open(fileobj=io.BufferedReader(ViewReader(target.data)), mode="r:") as tar:
            for _ in range(limit):
                info = tar.next()
                if info is None:
                    break
                names.add(info.name)
    except (tarfile.TarError, OSError, EOFError, ValueError, UnicodeError):
        pass
    return names


class TorchLegacyTarScanner(FormatScanner):
    """The tar checkpoints of torch < 0.4 (``sys_info``, ``pickle``, ``storages``, ``tensors``)."""

    name: ClassVar[str] = "torch-legacy-tar"
    version: ClassVar[str] = "1"
    priority: ClassVar[int] = 250

    @classmethod
    def detect(cls, head: bytes, target: ScanTarget) -> bool:
        return looks_like_tar(head) and {"pickle", "storages"} <= _tar_names(target)

    def scan(self, target: ScanTarget, ctx: ScanContext) -> None:
        for member in iter_tar(target, ctx):
            child = target.child(member.name, member.data)
            if member.name in ("sys_info", "pickle"):
                record_format(ctx, child, "pickle")
                analyze_embedded(child, ctx)
            elif member.name == "storages":
                record_format(ctx, child, "torch-legacy-storages")
                _walk_records(child, ctx, storages=True)
            elif member.name == "tensors":
                record_format(ctx, child, "torch-legacy-tensors")
                _walk_records(child, ctx, storages=False)
            else:
                ctx.scan_nested(child)


def _walk_records(target: ScanTarget, ctx: ScanContext, *, storages: bool) -> None:
    """A count pickle, then per record a pickle and raw bytes; then (storages) the views pickle."""
    data = target.data
    first = analyze_embedded(target, ctx, all_streams=False)[0]
    if not first.complete:
        return
    count = _small_int(bytes(data[first.start:first.end]))
    pos = first.end
    if count is None:
        ctx.skip(target, "record count is not a plain integer; the records after it were not "
                         "analysed")
        return
    for index in range(count):
        if pos >= target.size:
            ctx.add(MALFORMED_ARCHIVE.finding(
                f"{target.member} ends after {index} of {count} records", target.location(pos)))
            return
        record = analyze_embedded(target, ctx, start=pos, all_streams=False)[0]
        if not record.complete:
            return
        pos = record.end
        if storages:
            size = _element_size(record)
            if size is None or pos + 8 > target.size:
                ctx.skip(target, f"storage record {index}: unknown element size; the rest of the "
                                 "member was not analysed")
                return
            (numel,) = struct.unpack_from("<q", data, pos)
            pos += 8 + max(numel, 0) * size
        else:
            if pos + 8 > target.size:
                break
            (ndim,) = struct.unpack_from("<i", data, pos)
            if not 0 <= ndim <= 64:
                ctx.skip(target, f"tensor record {index}: implausible ndim {ndim}; the rest of "
                                 "the member was not analysed")
                return
            pos += 8 + 16 * ndim + 8
    if storages and pos < target.size:
        analyze_embedded(target, ctx, start=pos, all_streams=False)


def _element_size(record: object) -> int | None:
    for glob in getattr(record, "globals", ()):
        size = ELEMENT_SIZES.get(getattr(glob, "name", ""))
        if size is not None:
            return size
    return None


def _small_int(raw: bytes) -> int | None:
    """The integer a tiny pickle like ``\\x80\\x02K\\x03.`` holds (no unpickling)."""
    body = raw[2:] if raw[:1] == b"\x80" else raw
    if body[:1] == b"\x95":  # protocol 4+ frame header
        body = body[9:]
    if body[:1] == b"K" and len(body) >= 2:
        return body[1]
    if body[:1] == b"M" and len(body) >= 3:
        return int(struct.unpack_from("<H", body, 1)[0])
    if body[:1] == b"J" and len(body) >= 5:
        return int(struct.unpack_from("<i", body, 1)[0])
    if body[:1] == b"I":
        try:
            return int(body[1:body.index(b"\n")])
        except ValueError:
            return None
    return None
