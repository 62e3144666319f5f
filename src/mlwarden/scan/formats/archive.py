"""Generic archives: zip (and therefore ``.npz``), tar and 7z.

Each member is handed back to the engine (:meth:`ScanContext.scan_nested`), which recognises its
format by content, so a pickle, an ``.npy`` or another archive inside is analysed whatever it is
called. Bombs, traversal names, links and device entries, encrypted members and damaged archives
are findings; members that cannot be read are skips (never clean).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, ClassVar, Protocol

from mlwarden.core.finding import Location, Skip
from mlwarden.core.severity import Severity
from mlwarden.scan.container_rules import (
    ARCHIVE_BOMB,
    ENCRYPTED_MEMBER,
    LINK_MEMBER,
    LOADER_DISAGREEMENT,
    MALFORMED_ARCHIVE,
    PATH_TRAVERSAL,
    UNSUPPORTED_COMPRESSION,
)
from mlwarden.scan.formats import zipreader
from mlwarden.scan.interface import FormatScanner, ScanContext, ScanLimits, ScanTarget
from mlwarden.scan.sniff import SEVEN_ZIP_MAGIC, looks_like_tar

if TYPE_CHECKING:
    import tarfile

_MIB = 1 << 20
_MAX_REPORTED = 20
"""At most this many findings of one kind per archive; the rest are counted in the last one."""
_DRIVE = re.compile(r"^[A-Za-z]:")


def unsafe_name(name: str) -> str | None:
    """Why extracting a member called ``name`` would escape the target folder, or ``None``."""
    if "\x00" in name:
        return "contains a NUL byte"
    norm = name.replace("\\", "/")
    if norm.startswith("/"):
        return "is an absolute path"
    if _DRIVE.match(norm):
        return "starts with a drive letter"
    if ".." in norm.split("/"):
        return "has a '..' component"
    return None


def member_location(target: ScanTarget, member: str) -> Location:
    """Where a member of ``target`` is (without building its target)."""
    return Location(path=target.path,
                    member=f"{target.member}/{member}" if target.member else member)


def check_name(target: ScanTarget, ctx: ScanContext, name: str) -> None:
    why = unsafe_name(name)
    if why is not None:
        ctx.add(PATH_TRAVERSAL.finding(f"member name {name!r} {why}",
                                       target.location(), evidence={"member": name}))


def bomb_limit(limits: ScanLimits, compressed: int, declared: int) -> int:
    """How many bytes to inflate at most: the declared size, bounded by the ratio and size limits."""
    by_ratio = max(_MIB, int(compressed * limits.max_compression_ratio))
    return min(limits.max_member_size, max(declared, _MIB) if declared else by_ratio, by_ratio) + 1


def is_bomb(limits: ScanLimits, compressed: int, uncompressed: int) -> str | None:
    """Why declared sizes make a member a decompression bomb, or ``None``."""
    if uncompressed > limits.max_member_size:
        return f"expands to {uncompressed} bytes (limit {limits.max_member_size})"
    if uncompressed > _MIB and uncompressed > compressed * limits.max_compression_ratio:
        ratio = uncompressed / max(compressed, 1)
        return (f"compression ratio {ratio:.0f}:1 (limit {limits.max_compression_ratio:.0f}:1, "
                f"{uncompressed} bytes from {compressed})")
    return None


@dataclass
class _Capped:
    """Counts findings of one kind and stops reporting after a cap."""

    count: int = 0

    def take(self) -> bool:
        self.count += 1
        return self.count <= _MAX_REPORTED


# ---------------------------------------------------------------------------------------------- zip

ZipMemberHandler = Callable[[zipreader.ZipEntry, "bytes | memoryview", bool], None]
"""Called with each readable member: the entry, its bytes, whether they are complete."""


def scan_zip_members(target: ScanTarget, ctx: ScanContext, directory: zipreader.ZipDirectory,
                     handle: ZipMemberHandler,
                     wanted: Callable[[zipreader.ZipEntry], bool] = lambda e: True) -> None:
    """Report the archive's anomalies, then read every ``wanted`` member and pass it on."""
    limits = ctx.limits
    loc = target.location()
    if directory.recovered:
        ctx.add(MALFORMED_ARCHIVE.finding(
            f"damaged zip archive: {'; '.join(directory.problems)}; {len(directory.entries)} "
            "member(s) recovered from local headers and analysed", loc,
            evidence={"problems": directory.problems, "recovered": len(directory.entries)}))
    elif directory.problems:
        ctx.add(LOADER_DISAGREEMENT.finding(
            f"zip structure anomalies: {'; '.join(directory.problems)}", loc,
            evidence={"problems": directory.problems, "prefix_bytes": directory.prefix}))
    if directory.truncated_members:
        ctx.add(ARCHIVE_BOMB.finding(
            f"more than {limits.max_members} members (declared {directory.declared_count}); only "
            f"the first {limits.max_members} were analysed", loc,
            evidence={"declared": directory.declared_count, "limit": limits.max_members}))
    _scan_lead(target, ctx, directory)
    seen: dict[str, int] = {}
    folded: dict[str, set[str]] = {}
    for entry in directory.entries:
        seen[entry.name] = seen.get(entry.name, 0) + 1
        folded.setdefault(entry.name.lower(), set()).add(entry.name)
    # miniz (torch) looks names up case-insensitively: 'a/data.pkl' and 'a/DATA.PKL' collide.
    duplicates = sorted({n for n, c in seen.items() if c > 1}
                        | {n for names in folded.values() if len(names) > 1 for n in names})
    if duplicates:
        ctx.add(LOADER_DISAGREEMENT.finding(
            "duplicate member names, exact or differing only in case (readers pick different "
            f"copies): {', '.join(duplicates[:10])}"
            + (f" (+{len(duplicates) - 10} more)" if len(duplicates) > 10 else "")
            + "; every copy was analysed", loc, evidence={"duplicates": duplicates[:100]}))
    anomalies = _Capped()
    total = 0
    for entry in directory.entries:
        member = entry.name if seen[entry.name] == 1 else f"{entry.name}#{entry.index}"
        child_loc = member_location(target, member)
        check_name(target, ctx, entry.name)
        if entry.is_symlink:
            # an extractor makes it a link; zipfile.read, np.load and torch's reader return its
            # bytes as a member like any other: those are scanned too
            ctx.add(LINK_MEMBER.finding(f"member {entry.name!r} is a symbolic link", child_loc,
                                        evidence={"member": entry.name}))
        if entry.problems and not directory.recovered and anomalies.take():
            ctx.add(LOADER_DISAGREEMENT.finding(
                f"member {entry.name!r}: {'; '.join(entry.problems)}", child_loc,
                evidence={"problems": list(entry.problems), "local_name": entry.local_name}))
        # A name ending in '/' marks a directory, but Python's zipfile still reads the bytes
        # of such an entry (np.load of an .npz opens 'arr.npy/' like any member): skip it only
        # when it holds none.
        if (entry.is_dir and not (entry.compressed_size or entry.uncompressed_size)) or \
                not wanted(entry):
            continue
        if entry.encrypted:
            ctx.add(ENCRYPTED_MEMBER.finding(f"member {entry.name!r} is encrypted", child_loc,
                                             evidence={"member": entry.name}))
            ctx.skipped.append(_skip(target, member, "encrypted member"))
            continue
        # The declared size is the writer's word: zipfile and miniz read the data until its end
        # whatever it says. A member declared as a bomb is inflated up to the ratio limit, and it
        # is a bomb if it really expands past it (reported below); a lie about its size is only
        # a disagreement, and its bytes are analysed.
        declared_bomb = is_bomb(limits, entry.compressed_size, entry.uncompressed_size)
        if total > limits.max_total_uncompressed:
            ctx.add(ARCHIVE_BOMB.finding(
                f"members expand to more than {limits.max_total_uncompressed} bytes in total; "
                f"the rest (from {entry.name!r}) was not unpacked", loc,
                evidence={"limit": limits.max_total_uncompressed}))
            ctx.skipped.append(_skip(target, member, "total size limit reached"))
            break
        if entry.method == zipreader.STORED:
            # Stored bytes are not expanded: read all of them, whatever size is declared.
            limit = min(limits.max_member_size, entry.compressed_size) + 1
            if entry.uncompressed_size != entry.compressed_size and not directory.recovered:
                ctx.add(LOADER_DISAGREEMENT.finding(
                    f"stored member {entry.name!r} declares {entry.uncompressed_size} bytes but "
                    f"holds {entry.compressed_size}; all of them were analysed", child_loc,
                    evidence={"declared": entry.uncompressed_size,
                              "stored": entry.compressed_size}))
        else:
            limit = bomb_limit(limits, entry.compressed_size,
                               0 if declared_bomb else entry.uncompressed_size)
        try:
            read = zipreader.read_member(target.data, entry, limit)
        except zipreader.MemberError as exc:
            rule = ENCRYPTED_MEMBER if exc.kind == "encrypted" else (
                UNSUPPORTED_COMPRESSION if exc.kind == "method" else MALFORMED_ARCHIVE)
            ctx.add(rule.finding(f"member {entry.name!r}: {exc}", child_loc,
                                 evidence={"member": entry.name, "method": entry.method}))
            ctx.skipped.append(_skip(target, member, str(exc)))
            continue
        total += len(read.data)
        if read.overflow and entry.method != zipreader.STORED:
            ctx.add(ARCHIVE_BOMB.finding(
                f"member {entry.name!r} expands beyond {limit - 1} bytes (declared "
                f"{entry.uncompressed_size}); only that much was analysed", child_loc,
                evidence={"declared": entry.uncompressed_size, "limit": limit - 1}))
        elif (not directory.recovered and entry.method != zipreader.STORED and read.complete
              and len(read.data) != entry.uncompressed_size):
            ctx.add(LOADER_DISAGREEMENT.finding(
                f"member {entry.name!r} expands to {len(read.data)} bytes, the directory says "
                f"{entry.uncompressed_size}", child_loc,
                evidence={"declared": entry.uncompressed_size, "actual": len(read.data)}))
        if read.error is not None:
            ctx.add(MALFORMED_ARCHIVE.finding(
                f"member {entry.name!r}: {read.error}; the readable part was analysed", child_loc,
                evidence={"member": entry.name, "error": read.error}))
        if read.crc_ok is False:
            ctx.add(LOADER_DISAGREEMENT.finding(
                f"member {entry.name!r} has a wrong CRC-32: Python's zipfile refuses it, torch.load "
                "(miniz, CRC checks disabled) reads it", child_loc,
                evidence={"member": entry.name, "declared_crc": f"{entry.crc:08x}"}))
        handle(entry, read.data, read.complete)
    if anomalies.count > _MAX_REPORTED:
        ctx.add(LOADER_DISAGREEMENT.finding(
            f"{anomalies.count - _MAX_REPORTED} more members with header anomalies", loc,
            evidence={"more": anomalies.count - _MAX_REPORTED}))


_LEAD_MIN = 64
"""Fewer bytes before a zip's first member are not scanned (too few to hold a model)."""


def _scan_lead(target: ScanTarget, ctx: ScanContext, directory: zipreader.ZipDirectory) -> None:
    """Hand the bytes before the first member back to the engine. zipfile (Keras, np.load,
    skops) finds an archive appended to another file, while loaders that read from byte 0
    (h5py and keras' legacy .h5 path, torch.load's tar and pickle paths) read the file in front."""
    lead = min((e.header_offset for e in directory.entries if e.data_offset is not None),
               default=0)
    if directory.recovered or lead < _LEAD_MIN:
        return
    ctx.scan_nested(target.child("<before-zip>", memoryview(target.data)[:lead], offset=0))


def _skip(target: ScanTarget, member: str, reason: str) -> Skip:
    name = f"{target.member}/{member}" if target.member else member
    return Skip(path=target.path, member=name, reason=reason)


def open_zip(target: ScanTarget, ctx: ScanContext) -> zipreader.ZipDirectory | None:
    """The archive's directory, or ``None`` after reporting why there is none."""
    try:
        return zipreader.read_directory_cached(target.data, max_members=ctx.limits.max_members)
    except zipreader.ZipFormatError as exc:
        ctx.add(MALFORMED_ARCHIVE.finding(f"unreadable zip archive: {exc}", target.location()))
        ctx.skip(target, f"unreadable zip archive: {exc}")
        return None


class ZipScanner(FormatScanner):
    """Any zip archive (``.zip``, ``.npz``, ``.skops``…): every member is scanned by content."""

    name: ClassVar[str] = "zip"
    version: ClassVar[str] = "1"
    priority: ClassVar[int] = 800

    @classmethod
    def detect(cls, head: bytes, target: ScanTarget) -> bool:
        return zipreader.looks_like_zip(head, target.data)

    def scan(self, target: ScanTarget, ctx: ScanContext) -> None:
        directory = open_zip(target, ctx)
        if directory is None:
            return

        def nested(entry: zipreader.ZipEntry, data: bytes | memoryview, complete: bool) -> None:
            # a stored member is handed over as target.data[data_offset:...] (read_member): say
            # so, and a reader that wants a file can read it in place (ScanTarget.child checks it)
            stored = entry.method == zipreader.STORED
            ctx.scan_nested(target.child(entry.name, data,
                                         offset=entry.data_offset if stored else None))

        scan_zip_members(target, ctx, directory, nested)


# ---------------------------------------------------------------------------------------------- tar

class _Product(Protocol):
    """What py7zr extracts a member into (``Py7zBytesIO``)."""

    def seek(self, offset: int, whence: int = ..., /) -> int: ...

    def read(self, size: int | None = ..., /) -> bytes: ...


class ViewReader(io.RawIOBase):
    """A seekable, read-only file over a buffer, without copying it (for ``tarfile``)."""

    def __init__(self, data: bytes | memoryview) -> None:
        super().__init__()
        self._view = memoryview(data)
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        n = max(0, min(len(buffer), len(self._view) - self._pos))
        buffer[:n] = self._view[self._pos:self._pos + n]
        self._pos += n
        return n

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: len(self._view)}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def tell(self) -> int:
        return self._pos


@dataclass(frozen=True, slots=True)
class TarMember:
    name: str
    data: memoryview
    complete: bool


def iter_tar(target: ScanTarget, ctx: ScanContext) -> Iterator[TarMember]:
    """Regular-file members of a tar archive (as views), reporting everything else."""
    import tarfile

    view = memoryview(target.data)
    loc = target.location()
    total = 0
    count = 0
    try:
        archive = tarfile.open(  # noqa: SIM115 - read lazily member by member
            fileobj=io.BufferedReader(ViewReader(view)), mode="r:")
    except (tarfile.TarError, OSError, EOFError, ValueError) as exc:
        ctx.add(MALFORMED_ARCHIVE.finding(f"unreadable tar archive: {exc}", loc))
        ctx.skip(target, f"unreadable tar archive: {exc}")
        return
    links = _Capped()
    while True:
        try:
            info = archive.next()
        except (tarfile.TarError, OSError, EOFError, ValueError, UnicodeError) as exc:
            ctx.add(MALFORMED_ARCHIVE.finding(
                f"damaged tar archive after {count} members: {exc}", loc,
                evidence={"members_read": count}))
            ctx.skip(target, f"tar archive damaged after {count} members")
            return
        if info is None:
            return
        count += 1
        if count > ctx.limits.max_members:
            ctx.add(ARCHIVE_BOMB.finding(
                f"more than {ctx.limits.max_members} members; the rest was not analysed", loc,
                evidence={"limit": ctx.limits.max_members}))
            ctx.skip(target, "member limit reached")
            return
        check_name(target, ctx, info.name)
        child_loc = member_location(target, info.name)
        if info.issym() or info.islnk() or info.isdev() or info.isfifo():
            kind = ("symbolic link" if info.issym() else "hard link" if info.islnk() else
                    "FIFO" if info.isfifo() else "device node")
            if links.take():
                detail = f" -> {info.linkname!r}" if info.linkname else ""
                ctx.add(LINK_MEMBER.finding(f"member {info.name!r} is a {kind}{detail}", child_loc,
                                            evidence={"member": info.name, "kind": kind,
                                                      "link": info.linkname}))
            continue
        # tarfile reads a member of an unknown type as a regular file (extractfile, extract)
        if not info.isreg() and info.type in tarfile.SUPPORTED_TYPES:
            continue
        total += info.size
        if info.size > ctx.limits.max_member_size or total > ctx.limits.max_total_uncompressed:
            ctx.add(ARCHIVE_BOMB.finding(
                f"member {info.name!r} ({info.size} bytes) exceeds the size limits; not analysed",
                child_loc, evidence={"size": info.size}))
            ctx.skipped.append(_skip(target, info.name, "size limit"))
            continue
        if info.sparse is not None:
            # tarfile.extractfile (torch's legacy tar loader, tar.extract) rebuilds a sparse
            # member, holes as zeros: analyse exactly those bytes.
            sparse = _read_sparse(archive, info, target, ctx, child_loc)
            if sparse is not None:
                yield TarMember(info.name, memoryview(sparse), True)
            continue
        start = info.offset_data
        end = start + info.size
        complete = end <= len(view)
        if not complete:
            ctx.add(MALFORMED_ARCHIVE.finding(
                f"member {info.name!r} is truncated ({len(view) - start} of {info.size} bytes); "
                "the readable part was analysed", child_loc, evidence={"size": info.size}))
        yield TarMember(info.name, view[start:min(end, len(view))], complete)
    if links.count > _MAX_REPORTED:
        ctx.add(LINK_MEMBER.finding(f"{links.count - _MAX_REPORTED} more link/device members", loc))


def _read_sparse(archive: tarfile.TarFile, info: tarfile.TarInfo, target: ScanTarget,
                 ctx: ScanContext, loc: Location) -> bytes | None:
    """The bytes ``tarfile`` gives for a sparse member, or ``None`` after reporting why not."""
    import tarfile

    try:
        handle = archive.extractfile(info)
        data = handle.read(info.size) if handle is not None else b""
    except (tarfile.TarError, OSError, EOFError, ValueError) as exc:
        ctx.add(MALFORMED_ARCHIVE.finding(f"sparse member {info.name!r} cannot be read: {exc}",
                                          loc, evidence={"member": info.name}))
        ctx.skipped.append(_skip(target, info.name, "unreadable sparse tar member"))
        return None
    if len(data) < info.size:
        ctx.add(MALFORMED_ARCHIVE.finding(
            f"sparse member {info.name!r} is truncated ({len(data)} of {info.size} bytes); the "
            "readable part was analysed", loc, evidence={"size": info.size}))
    return data


class TarScanner(FormatScanner):
    """Tar archives (uncompressed; ``.tar.gz`` reaches here through the compressed-stream scanner)."""

    name: ClassVar[str] = "tar"
    version: ClassVar[str] = "1"
    priority: ClassVar[int] = 810

    @classmethod
    def detect(cls, head: bytes, target: ScanTarget) -> bool:
        return looks_like_tar(head)

    def scan(self, target: ScanTarget, ctx: ScanContext) -> None:
        for member in iter_tar(target, ctx):
            ctx.scan_nested(target.child(member.name, member.data))


# ----------------------------------------------------------------------------------------------- 7z



def seven_zip_headers_intact(data: bytes | memoryview) -> bool:
    """Whether a 7z archive's start header and next header are present with matching CRCs (the
    archive is not damaged, whatever a reader makes of its contents)."""
    import zlib

    head = bytes(data[:32])
    if len(head) < 32 or not head.startswith(SEVEN_ZIP_MAGIC):
        return False
    if zlib.crc32(head[12:32]) != int.from_bytes(head[8:12], "little"):
        return False
    offset, size = int.from_bytes(head[12:20], "little"), int.from_bytes(head[20:28], "little")
    start = 32 + offset
    if size == 0 or start + size > len(data):
        return False
    return zlib.crc32(memoryview(data)[start:start + size]) == int.from_bytes(head[28:32],
                                                                              "little")


class SevenZipScanner(FormatScanner):
    """7z archives, read with py7zr (imported only when a 7z file is met)."""

    name: ClassVar[str] = "7z"
    version: ClassVar[str] = "1"
    priority: ClassVar[int] = 820

    @classmethod
    def detect(cls, head: bytes, target: ScanTarget) -> bool:
        return head.startswith(SEVEN_ZIP_MAGIC)

    def scan(self, target: ScanTarget, ctx: ScanContext) -> None:
        try:
            import py7zr
            from py7zr.io import BytesIOFactory
        except ImportError:
            ctx.skip(target, "7z archive: py7zr is not installed (pip install 'mlwarden[scan]')")
            return
        loc = target.location()
        limits = ctx.limits
        source: IO[bytes] | Path = target.fs_path if target.fs_path is not None else \
            io.BufferedReader(ViewReader(target.data))
        try:
            with py7zr.SevenZipFile(source, mode="r") as archive:
                if archive.needs_password():
                    ctx.add(ENCRYPTED_MEMBER.finding("7z archive is encrypted", loc))
                    ctx.skip(target, "encrypted 7z archive")
                    return
                infos = archive.list()
                if len(infos) > limits.max_members:
                    ctx.add(ARCHIVE_BOMB.finding(f"{len(infos)} members (limit "
                                                 f"{limits.max_members}); not unpacked", loc))
                    ctx.skip(target, "member limit")
                    return
                total = 0
                for info in infos:
                    check_name(target, ctx, info.filename)
                    if info.is_symlink:
                        ctx.add(LINK_MEMBER.finding(f"member {info.filename!r} is a symbolic link",
                                                    member_location(target, info.filename)))
                    total += info.uncompressed or 0
                packed = max(len(target.data), 1)
                bomb = is_bomb(limits, packed, total)
                if bomb is not None or total > limits.max_total_uncompressed:
                    ctx.add(ARCHIVE_BOMB.finding(f"7z archive {bomb or 'exceeds the total size limit'};"
                                                 " not unpacked", loc,
                                                 evidence={"uncompressed": total}))
                    ctx.skip(target, "decompression bomb")
                    return
                factory = BytesIOFactory(limits.max_member_size)
                archive.extractall(factory=factory)  # noqa: S202 - into memory, no paths
        except Exception as exc:  # noqa: BLE001 - py7zr raises many types on hostile input
            if type(exc).__name__ == "PasswordRequired":
                ctx.add(ENCRYPTED_MEMBER.finding("7z archive is encrypted (headers included)", loc))
                ctx.skip(target, "encrypted 7z archive")
                return
            why = f"{type(exc).__name__}: {exc}"
            if type(exc).__name__ == "UnsupportedCompressionMethodError":
                # BCJ2, ARM64, LZ4… : 7-Zip extracts them; nothing was analysed here
                ctx.add(UNSUPPORTED_COMPRESSION.finding(
                    f"7z archive uses a method py7zr cannot decode ({why}); its members were not "
                    "analysed", loc, evidence={"error": why[:300]}))
            elif seven_zip_headers_intact(target.data):
                ctx.add(MALFORMED_ARCHIVE.finding(
                    f"7z archive py7zr cannot read ({why}), although its header checksums are "
                    "intact: 7-Zip may extract members that were not analysed", loc,
                    severity=Severity.HIGH, evidence={"error": why[:300]}))
            else:
                ctx.add(MALFORMED_ARCHIVE.finding(f"unreadable 7z archive: {why}", loc))
            ctx.skip(target, "unreadable 7z archive")
            return
        scanned: set[str] = set()
        for info in infos:
            if not info.is_file or info.is_symlink:
                continue
            if factory.products.get(info.filename) is None:
                ctx.skipped.append(_skip(target, info.filename, "not extracted by py7zr"))
                continue
            scanned.add(info.filename)
            self._scan_product(target, ctx, info.filename, factory.products[info.filename])
        # py7zr extracts a second member of the same name as ``name_0`` (``name_1``, ...): it is
        # in no info's filename, and is scanned under the name py7zr gave it
        for name, product in factory.products.items():
            if name not in scanned:
                self._scan_product(target, ctx, name, product)

    @staticmethod
    def _scan_product(target: ScanTarget, ctx: ScanContext, name: str, product: _Product) -> None:
        limits = ctx.limits
        product.seek(0)
        data = product.read()
        if len(data) >= limits.max_member_size:
            ctx.add(ARCHIVE_BOMB.finding(
                f"member {name!r} expands to the member size limit "
                f"({limits.max_member_size} bytes); only that much was analysed",
                member_location(target, name), evidence={"limit": limits.max_member_size}))
        ctx.scan_nested(target.child(name, data))

