"""A zip reader that sees what PyTorch's reader sees, parsed from bytes.

``torch.load`` reads checkpoints with ``caffe2::serialize::PyTorchStreamReader`` on top of miniz:
it trusts the *central directory* (names, sizes, methods), takes only the lengths of the name and
extra fields from each local header, and does not check CRCs. Python's ``zipfile`` is stricter
(CRC, local/central name mismatch) and handles some layouts differently, so a scanner built on
``zipfile`` can be made to see another archive than torch loads. This reader follows the central
directory like miniz, copes with prepended bytes, ZIP64, data descriptors and duplicate names, and
records every anomaly so the scanner can report it. When the central directory is missing (a
truncated file), members are recovered from their local headers.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field

from mlwarden.scan.formats.streams import Inflated, inflate_with, inflate_zlib

LOCAL_SIG = b"PK\x03\x04"
CENTRAL_SIG = b"PK\x01\x02"
EOCD_SIG = b"PK\x05\x06"
EOCD64_SIG = b"PK\x06\x06"
EOCD64_LOC_SIG = b"PK\x06\x07"
_EOCD = struct.Struct("<4s4H2LH")
_EOCD64 = struct.Struct("<4sQ2H2L4Q")
_EOCD64_LOC = struct.Struct("<4sLQL")
_CENTRAL = struct.Struct("<4s4B4H3L5H2L")
_LOCAL = struct.Struct("<4s2B4H3L2H")
_MAX_COMMENT = 0xFFFF

STORED, DEFLATED, DEFLATE64, BZIP2, LZMA = 0, 8, 9, 12, 14
METHOD_NAMES = {0: "stored", 8: "deflate", 9: "deflate64", 12: "bzip2", 14: "lzma", 93: "zstd",
                95: "xz", 99: "aes"}


class ZipFormatError(Exception):
    """The bytes are not a zip archive that any reader could use."""


@dataclass(frozen=True, slots=True)
class ZipEntry:
    """One member, as the central directory (or, when recovered, its local header) declares it."""

    name: str
    index: int
    method: int
    flags: int
    crc: int
    compressed_size: int
    uncompressed_size: int
    header_offset: int
    """Absolute offset of the local header in the buffer (prepended bytes accounted for)."""
    data_offset: int | None
    """Absolute offset of the member's (compressed) data, or ``None`` if the local header is bad."""
    external_attr: int = 0
    local_name: str | None = None
    problems: tuple[str, ...] = ()
    """Anomalies of this member (name mismatch, bad local header…)."""

    @property
    def encrypted(self) -> bool:
        return bool(self.flags & 0x1)

    @property
    def is_dir(self) -> bool:
        return self.name.endswith("/")

    @property
    def is_symlink(self) -> bool:
        return (self.external_attr >> 16) & 0o170000 == 0o120000


@dataclass
class ZipDirectory:
    """The members of an archive and the archive-level anomalies."""

    entries: list[ZipEntry] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    prefix: int = 0
    """Bytes before the archive proper (a self-extractor stub, or junk)."""
    recovered: bool = False
    """The central directory is missing: entries come from a scan of local headers."""
    truncated_members: bool = False
    """More members were declared than the member limit allows."""
    declared_count: int = 0


def _decode_name(raw: bytes, flags: int) -> str:
    if raw.isascii():
        return raw.decode("ascii")
    if flags & 0x800:
        return raw.decode("utf-8", "replace")
    return raw.decode("cp437")


def find_eocd(buf: bytes | memoryview, *, strict: bool = False) -> int | None:
    """Offset of the end-of-central-directory record, searching back over a possible comment.

    ``strict`` accepts only a record whose comment ends exactly at the end of the buffer; otherwise
    the last signature found is used when none fits exactly (trailing bytes after the archive).
    """
    size = len(buf)
    if size < _EOCD.size:
        return None
    start = max(0, size - _EOCD.size - _MAX_COMMENT)
    tail = bytes(buf[start:])
    pos = tail.rfind(EOCD_SIG)
    best: int | None = None
    while pos >= 0:
        if pos + _EOCD.size <= len(tail):
            comment_len = struct.unpack_from("<H", tail, pos + 20)[0]
            if pos + _EOCD.size + comment_len == len(tail):
                return start + pos
            if best is None and not strict:
                best = start + pos
        pos = tail.rfind(EOCD_SIG, 0, pos)
    return best


def looks_like_zip(head: bytes, buf: bytes | memoryview) -> bool:
    """Starts with a zip signature, or ends with an end record whose central directory is there
    (an archive with bytes prepended, like a self-extractor). The end record is looked for as
    the loaders look for it too (:func:`last_eocd`): ``zipfile`` and miniz do not check that its
    comment reaches the end of the file, so an archive with bytes both before and after it is
    read by them. A tar ending in an archive member that is a zip (followed by the tar's padding)
    stays a tar: its scanner reads that member as the zip it is."""
    if head[:4] in (LOCAL_SIG, EOCD_SIG, b"PK\x07\x08"):
        return True
    if find_eocd(buf, strict=True) is None:
        from mlwarden.scan.sniff import looks_like_tar

        if last_eocd(buf) is None or looks_like_tar(head):
            return False
    try:
        directory = read_directory(buf, max_members=1, recover=False)
    except ZipFormatError:
        return False
    return bool(directory.entries)


def _zip64_extra(extra: bytes, usize: int, csize: int, offset: int) -> tuple[int, int, int]:
    pos = 0
    while pos + 4 <= len(extra):
        tag, length = struct.unpack_from("<HH", extra, pos)
        body = extra[pos + 4:pos + 4 + length]
        if tag == 0x0001:
            fields = [usize == 0xFFFFFFFF, csize == 0xFFFFFFFF, offset == 0xFFFFFFFF]
            values = [usize, csize, offset]
            cur = 0
            for i, needed in enumerate(fields):
                if needed and cur + 8 <= len(body):
                    values[i] = struct.unpack_from("<Q", body, cur)[0]
                    cur += 8
            return values[0], values[1], values[2]
        pos += 4 + length
    return usize, csize, offset


def last_eocd(buf: bytes | memoryview) -> int | None:
    """The end record the loaders use: the last signature with a whole record after it.

    miniz (``torch.load``) scans back for the last signature followed by at least a record's
    length; Python's ``zipfile`` takes the last signature (and fails when it is cut short). Neither
    checks that the comment length reaches the end of the file, so a comment (or trailing bytes)
    can hold a second archive's end record that they read instead of the first.
    """
    size = len(buf)
    start = max(0, size - _EOCD.size - _MAX_COMMENT)
    tail = bytes(buf[start:])
    pos = tail.rfind(EOCD_SIG, 0, max(0, len(tail) - _EOCD.size + 4))
    return None if pos < 0 else start + pos


@dataclass(frozen=True, slots=True)
class _Layout:
    """Where one reader finds the central directory."""

    start: int
    size: int
    count: int
    prefix: int
    """Added to every header offset (bytes before the archive's declared start)."""
    cd_end: int
    cd_offset: int
    reader: str


def _layouts(buf: bytes | memoryview, eocd: int) -> tuple[list[_Layout], list[str]]:
    """Every place a zip reader finds the central directory from the end record at ``eocd``.

    miniz reads the ZIP64 record the locator points to and the directory at its declared offset;
    Python's ``zipfile`` reads the ZIP64 record just before the locator and the directory that
    ends where that record (or the end record) starts, shifting every offset by the difference.
    Normally these agree; where they do not, each reading is returned (first: the one miniz uses
    when it is valid).
    """
    size = len(buf)
    problems: list[str] = []
    (_, disk, cd_disk, _n_here, n_total, cd_size, cd_offset, _comment) = _EOCD.unpack_from(
        buf, eocd)
    if disk != 0 or cd_disk != 0:
        problems.append(f"multi-disk archive fields (disk {disk}, directory disk {cd_disk})")
    records: list[tuple[int, int, int, int, str]] = []
    loc = eocd - _EOCD64_LOC.size
    if loc >= 0 and bytes(buf[loc:loc + 4]) == EOCD64_LOC_SIG:
        _, _, rec_offset, _ = _EOCD64_LOC.unpack_from(buf, loc)
        for rec, reader in ((rec_offset, "miniz"), (loc - _EOCD64.size, "zipfile")):
            if 0 <= rec <= size - _EOCD64.size and bytes(buf[rec:rec + 4]) == EOCD64_SIG and \
                    all(r[3] != rec for r in records):
                (_, _, _, _, _, _, _, n64, size64, offset64) = _EOCD64.unpack_from(buf, rec)
                records.append((n64, size64, offset64, rec, reader))
    if not records:
        records.append((n_total, cd_size, cd_offset, eocd, "end record"))
    layouts: list[_Layout] = []
    for count, cd_len, offset, cd_end, reader in records:
        places = [(offset, 0, "declared offset")]
        shifted = cd_end - cd_len
        if shifted != offset and count:
            places.append((shifted, shifted - offset, "where it ends at its end record"))
        for start, prefix, how in places:
            if count and not _sig_at(buf, start, CENTRAL_SIG):
                continue
            layout = _Layout(start, cd_len, count, prefix, cd_end, offset, f"{reader}, {how}")
            if all((lay.start, lay.size, lay.prefix) != (start, cd_len, prefix)
                   for lay in layouts):
                layouts.append(layout)
    return layouts, problems


def read_directory(buf: bytes | memoryview, *, max_members: int = 100_000,
                   recover: bool = True) -> ZipDirectory:
    """Parse the central directory (or recover members from local headers if there is none).

    When zip readers disagree about where the directory is — two end records (one hidden in the
    comment or after the archive), two ZIP64 records, a directory at its declared offset and
    another where the end record says it ends — every reading is parsed and the members of all of
    them are returned (the first reading's first), with the disagreement as a problem: a scanner
    must see every member that any loader (torch's miniz, Python's zipfile) may read.
    """
    eocds: list[int] = []
    for pos in (last_eocd(buf), find_eocd(buf)):
        if pos is not None and pos not in eocds:
            eocds.append(pos)
    if not eocds:
        if not recover:
            raise ZipFormatError("no end-of-central-directory record")
        return _recover(buf, max_members, "no end-of-central-directory record (truncated or "
                                          "damaged archive)")
    readings: list[tuple[int, _Layout]] = []
    problems: list[str] = []
    for n, eocd in enumerate(eocds):
        layouts, eocd_problems = _layouts(buf, eocd)
        if n == 0 or not readings:
            problems = eocd_problems
        readings.extend((eocd, layout) for layout in layouts)
    if not readings:
        if not recover:
            raise ZipFormatError("central directory not found")
        return _recover(buf, max_members, "central directory not found where the "
                                          "end-of-directory record says")
    result = ZipDirectory()
    result.problems.extend(problems)
    first_eocd, first = readings[0]
    result.declared_count = first.count
    result.prefix = first.prefix
    if first.prefix > 0:
        result.problems.append(f"{first.prefix} bytes before the archive's declared start "
                               "(prepended data; offsets shifted)")
    elif first.prefix < 0:
        result.problems.append(f"the archive's offsets count from {-first.prefix} bytes before "
                               "its first byte (it was appended to other data)")
    elif first.cd_end - (first.cd_offset + first.size) > 0 and first.count:
        result.problems.append(f"{first.cd_end - first.cd_offset - first.size} unexplained bytes "
                               "between the central directory and its end record")
    _parse_central(buf, first, max_members, result)
    seen = {(e.name, e.header_offset) for e in result.entries}
    for eocd, layout in readings[1:]:
        if len(result.entries) >= max_members:
            break
        other = ZipDirectory()
        _parse_central(buf, layout, max_members - len(result.entries), other)
        extra = [e for e in other.entries if (e.name, e.header_offset) not in seen]
        if not extra:
            continue
        where = f"end record at {eocd}" if eocd != first_eocd else "the same end record"
        result.problems.append(
            f"zip readers disagree: a second reading of the archive ({where}; {layout.reader}) "
            f"lists {len(extra)} member(s) the first does not "
            f"({', '.join(repr(e.name) for e in extra[:5])}); every member was analysed")
        for entry in extra:
            seen.add((entry.name, entry.header_offset))
            result.entries.append(_reindex(entry, len(result.entries)))
        result.truncated_members = result.truncated_members or other.truncated_members
    return result


def _reindex(entry: ZipEntry, index: int) -> ZipEntry:
    return ZipEntry(entry.name, index, entry.method, entry.flags, entry.crc,
                    entry.compressed_size, entry.uncompressed_size, entry.header_offset,
                    entry.data_offset, entry.external_attr, entry.local_name, entry.problems)


def _parse_central(buf: bytes | memoryview, layout: _Layout, max_members: int,
                   result: ZipDirectory) -> None:
    """Parse the directory ``layout`` locates into ``result`` (as miniz reads it: exactly the
    declared directory, one copy of it, parsed from bytes)."""
    size = len(buf)
    start, prefix, n_total = layout.start, layout.prefix, layout.count
    cd = bytes(buf[start:start + max(0, min(layout.size, size - start))])
    pos = 0
    index = 0
    central_size = _CENTRAL.size
    while pos + central_size <= len(cd) and cd[pos:pos + 4] == CENTRAL_SIG:
        if index >= max_members:
            result.truncated_members = True
            break
        (_, _, _, _, _, flags, method, _, _, crc, csize, usize, n_len, e_len, c_len, _, _,
         ext_attr, offset) = _CENTRAL.unpack_from(cd, pos)
        name_at = pos + central_size
        raw_name = cd[name_at:name_at + n_len]
        if usize == 0xFFFFFFFF or csize == 0xFFFFFFFF or offset == 0xFFFFFFFF:
            extra = cd[name_at + n_len:name_at + n_len + e_len]
            usize, csize, offset = _zip64_extra(extra, usize, csize, offset)
        name = _decode_name(raw_name, flags)
        header = offset + prefix
        problems: list[str] = []
        data_offset: int | None = None
        local_name: str | None = None
        if 0 <= header <= size - _LOCAL.size:
            (sig, _, _, l_flags, l_method, _, _, _, _, _, l_nlen, l_elen) = _LOCAL.unpack_from(
                buf, header)
        else:
            sig = b""
        if sig == LOCAL_SIG:
            local_raw = bytes(buf[header + _LOCAL.size:header + _LOCAL.size + l_nlen])
            data_offset = header + _LOCAL.size + l_nlen + l_elen
            local_name = name
            if local_raw != raw_name:
                local_name = _decode_name(local_raw, l_flags)
                problems.append(f"local header names the member {local_name!r}, the central "
                                f"directory {name!r}")
            if l_method != method:
                problems.append(f"local header says method {l_method}, central directory "
                                f"{method}")
        else:
            problems.append("no local header at the offset the central directory gives")
        result.entries.append(ZipEntry(name, index, method, flags, crc, csize, usize, header,
                                       data_offset, ext_attr, local_name, tuple(problems)))
        index += 1
        pos = name_at + n_len + e_len + c_len
    if index < n_total and not result.truncated_members:
        result.problems.append(f"the end record declares {n_total} members, the central "
                               f"directory holds {index}")


_LAST: tuple[object, int, bool, ZipDirectory] | None = None


def read_directory_cached(buf: bytes | memoryview, *, max_members: int = 100_000,
                          recover: bool = True) -> ZipDirectory:
    """:func:`read_directory`, remembering the last result (format detection and the scan that
    follows read the same directory). The cache holds the buffer itself, so an identity match
    cannot be a different, reallocated buffer; :func:`forget` drops it."""
    global _LAST
    last = _LAST
    if last is not None and last[0] is buf and last[1] == max_members and last[2] == recover:
        return last[3]
    directory = read_directory(buf, max_members=max_members, recover=recover)
    _LAST = (buf, max_members, recover, directory)
    return directory


def forget() -> None:
    """Drop the cached directory (and the reference to its buffer)."""
    global _LAST
    _LAST = None


def _sig_at(buf: bytes | memoryview, pos: int, sig: bytes) -> bool:
    return 0 <= pos <= len(buf) - 4 and bytes(buf[pos:pos + 4]) == sig


def _recover(buf: bytes | memoryview, max_members: int, why: str) -> ZipDirectory:
    """Find members by their local headers (what a streaming unzip would read)."""
    result = ZipDirectory(recovered=True)
    result.problems.append(why)
    first = 0 if _sig_at(buf, 0, LOCAL_SIG) else find_local(buf, 0)
    if first is None:
        raise ZipFormatError("not a zip archive: " + why)
    pos: int | None = first
    size = len(buf)
    index = 0
    while pos is not None and pos + _LOCAL.size <= size:
        if index >= max_members:
            result.truncated_members = True
            break
        (_, _, _, flags, method, _, _, crc, csize, usize, n_len, e_len) = _LOCAL.unpack_from(
            buf, pos)
        raw = bytes(buf[pos + _LOCAL.size:pos + _LOCAL.size + n_len])
        extra = bytes(buf[pos + _LOCAL.size + n_len:pos + _LOCAL.size + n_len + e_len])
        usize, csize, _ = _zip64_extra(extra, usize, csize, 0)
        data_offset = pos + _LOCAL.size + n_len + e_len
        if flags & 0x8 or data_offset + csize > size:
            # Sizes unknown (data descriptor) or truncated: the member runs to the next header.
            nxt = find_local(buf, data_offset)
            end = nxt if nxt is not None else size
            csize = end - data_offset
            usize = usize if usize and not flags & 0x8 else 0
        entry = ZipEntry(_decode_name(raw, flags), index, method, flags, crc, csize, usize, pos,
                         data_offset, 0, None, ("recovered from its local header",))
        result.entries.append(entry)
        index += 1
        pos = find_local(buf, data_offset + max(csize, 0))
    result.declared_count = index
    return result


def find_local(buf: bytes | memoryview, start: int) -> int | None:
    """The next local-header signature at or after ``start``."""
    step = 1 << 22
    pos = max(0, start)
    while pos < len(buf):
        window = bytes(buf[pos:pos + step + 3])
        found = window.find(LOCAL_SIG)
        if found >= 0:
            return pos + found
        pos += step
    return None


CRC_CHECK_STORED_MAX = 16 * 1024 * 1024
"""Stored members larger than this are not CRC-checked: checking reads every byte, while the
scanners only read what they need of a weight file (an .npy header, a safetensors header)."""


class MemberError(Exception):
    """A member cannot be read; ``kind`` says which rule applies."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        """``encrypted``, ``method``, ``truncated`` or ``corrupt``."""


@dataclass(frozen=True, slots=True)
class MemberData:
    data: bytes | memoryview
    complete: bool
    """All declared bytes were present and the compressed stream ended properly."""
    overflow: bool
    """The output reached the limit."""
    error: str | None
    crc_ok: bool | None
    """``None`` when not checked (recovered entries with unknown CRC)."""


def read_member(buf: bytes | memoryview, entry: ZipEntry, limit: int) -> MemberData:
    """The uncompressed bytes of ``entry`` (a view for stored members), bounded by ``limit``."""
    if entry.encrypted:
        raise MemberError("encrypted", "member is encrypted")
    if entry.data_offset is None:
        raise MemberError("truncated", "member has no readable local header")
    start = entry.data_offset
    end = start + entry.compressed_size
    raw = memoryview(buf)[start:min(end, len(buf))]
    present = end <= len(buf)
    inflated: Inflated
    if entry.method == STORED:
        out = raw[:limit]
        inflated = Inflated(out, present, len(raw) > limit, None if present else "member data "
                            "truncated")
    elif entry.method == DEFLATED:
        inflated = inflate_zlib(raw, limit, wbits=-15)
    elif entry.method == BZIP2:
        import bz2

        inflated = inflate_with(bz2.BZ2Decompressor, raw, limit)
    elif entry.method == LZMA:
        inflated = _inflate_zip_lzma(raw, limit)
    elif entry.method == DEFLATE64 and _inflate64_available():
        inflated = inflate_deflate64(raw, limit)
        if inflated.error is not None and not len(inflated.data):
            raise MemberError("method", f"deflate64 stream could not be decoded "
                                        f"({inflated.error})")
    else:
        raise MemberError("method", f"compression method {entry.method} "
                                    f"({METHOD_NAMES.get(entry.method, 'unknown')}) is not "
                                    "supported")
    crc_ok: bool | None = None
    big_stored = entry.method == STORED and len(inflated.data) > CRC_CHECK_STORED_MAX
    if inflated.complete and not inflated.overflow and not big_stored and \
            not (entry.flags & 0x8 and entry.crc == 0):
        crc_ok = (zlib.crc32(inflated.data) & 0xFFFFFFFF) == entry.crc
    complete = inflated.complete and present
    error = inflated.error if inflated.error else (None if present else "member data truncated")
    return MemberData(inflated.data, complete, inflated.overflow, error, crc_ok)


def _inflate_zip_lzma(raw: bytes | memoryview, limit: int) -> Inflated:
    """Zip's LZMA (method 14): a 4-byte version/properties-size header, then LZMA1 properties."""
    import lzma

    head = bytes(raw[:4])
    if len(head) < 4:
        return Inflated(b"", False, False, "lzma header truncated")
    (psize,) = struct.unpack("<H", head[2:4])
    props = bytes(raw[4:4 + psize])
    try:
        filt = lzma._decode_filter_properties(lzma.FILTER_LZMA1, props)  # type: ignore[attr-defined]
    except (lzma.LZMAError, ValueError) as exc:
        return Inflated(b"", False, False, f"bad lzma properties: {exc}")

    def factory() -> lzma.LZMADecompressor:
        return lzma.LZMADecompressor(lzma.FORMAT_RAW, filters=[filt])

    return inflate_with(factory, memoryview(raw)[4 + psize:], limit, errors=(lzma.LZMAError,))


def _inflate64_available() -> bool:
    try:
        import inflate64  # noqa: F401 - installed with py7zr (the ``scan`` extra)
    except ImportError:
        return False
    return True


_DEFLATE64_IN_STEP = 16 * 1024
"""Input fed per call: the inflater has no output bound, and deflate64 expands at most ~1032:1."""


def inflate_deflate64(raw: bytes | memoryview, limit: int) -> Inflated:
    """Decompress a deflate64 (zip method 9) stream with ``inflate64``, bounded by ``limit``."""
    import inflate64

    view = memoryview(raw)
    out = bytearray()
    inflater = inflate64.Inflater()
    pos = 0
    try:
        while not inflater.eof and len(out) < limit and pos < len(view):
            out += inflater.inflate(bytes(view[pos:pos + _DEFLATE64_IN_STEP]))
            pos += _DEFLATE64_IN_STEP
    except (ValueError, MemoryError, EOFError) as exc:
        return Inflated(memoryview(out)[:limit], False, len(out) >= limit,
                        f"corrupt stream: {exc}", pos)
    overflow = len(out) >= limit and not inflater.eof
    error = None if inflater.eof or overflow else "stream truncated"
    return Inflated(memoryview(out)[:limit], inflater.eof, overflow, error, pos)
