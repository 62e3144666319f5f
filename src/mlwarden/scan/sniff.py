"""Which format scanner to import for a target: cheap, conservative sniffs over its first bytes.

``mlwarden scan`` runs in front of every ``torch.load`` in CI, once per file, so its whole-process
time is mostly Python start-up. Importing every format scanner (protobuf walkers, the Jinja
analyser, the zip reader, the Keras config rules…) costs more than scanning a small pickle.
:data:`SNIFFS` therefore lists each registered scanner with its name, priority, module and a
*sniff*: a necessary condition for the scanner's ``detect``, computed from the head (and size) of
the target without importing the scanner. The engine imports a scanner's module only when the
sniff says yes, and then asks the scanner's own ``detect``.

A sniff may say yes where ``detect`` says no (that costs an import), never the reverse: that
would hide a file from its scanner. ``tests/scan/engine/test_sniff.py`` checks the table against
the registry and this implication on the whole corpus, the red-team samples and random bytes.
Where a format's detection is itself a cheap test of the head (tar, the legacy torch stream,
magic numbers), the test lives here and the format module imports it, so there is one copy.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from mlwarden.scan.interface import ScanTarget

GGUF_MAGIC = b"GGUF"
HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
NUMPY_MAGIC = b"\x93NUMPY"
SEVEN_ZIP_MAGIC = b"7z\xbc\xaf\x27\x1c"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
"""A zstd frame (RFC 8878)."""
ZIP_LOCAL_SIG = b"PK\x03\x04"
ZIP_EOCD_SIG = b"PK\x05\x06"
ZIP_SPANNED_SIG = b"PK\x07\x08"
ZIP_EOCD_REACH = 22 + 0xFFFF
"""How far from the end an end-of-central-directory record can start (its size + max comment)."""
TORCH_MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
TORCH_MAGIC_LONG1 = b"\x8a\x0a" + TORCH_MAGIC_NUMBER.to_bytes(10, "little")
TORCH_MAGIC_TEXT = str(TORCH_MAGIC_NUMBER).encode()
MAX_CHAT_CONFIG = 32 * 1024 * 1024
"""Largest JSON document read for a ``chat_template`` key (tokenizer configs are kilobytes)."""
MAX_TEMPLATE = 4 * 1024 * 1024
"""Largest Jinja template analysed."""
PICKLE_FIRST_OPCODES = frozenset(
    b"().012BCFGIJKLMNPQRSTUVX]abcdeghijlopqrstu}" + bytes(range(0x80, 0x99)))
"""Every pickle opcode (``pickletools.opcodes``; a test keeps the two equal). The unpickler
needs no PROTO first: ``NEWTRUE``, ``SHORT_BINUNICODE`` or ``FRAME`` can open a stream as well
as ``(`` or ``c`` can, so any opcode may start a pickle."""
_COMPRESSED_PREFIXES = (b"ZF", b"\x1f\x8b\x08", b"BZh", b"\xfd7zXZ\x00", b"\x04\x22\x4d\x18",
                        ZSTD_MAGIC, b"\x78", b"\x5d\x00\x00")


def is_zstd_skippable(head: bytes) -> bool:
    """A zstd skippable frame (magic ``0x184D2A50``-``0x184D2A5F``): ``ZstdFile`` and the
    ``zstandard`` decoder pandas uses step over it to the frames after it."""
    return len(head) >= 8 and 0x50 <= head[0] <= 0x5F and head[1:4] == b"\x2a\x4d\x18"


def could_be_lzma_alone(head: bytes) -> bool:
    """The 13-byte header of an ``.lzma`` ("alone") stream that liblzma's automatic decoder —
    ``lzma.LZMAFile``/``lzma.open``, which joblib and pandas use — accepts: properties ≤ 224, a
    dictionary size of 2ⁿ or 2ⁿ + 2ⁿ⁻¹ (or 0, or -1), an uncompressed size that is unknown or
    below 2³⁸, and the range coder's first byte 0. joblib picks its lzma reader for any file
    starting ``]\x00`` (a dictionary below 64 KiB included).

    A stream of size 0 is empty (18 bytes: 14 NUL bytes with properties and dictionary 0, as any
    file of zeros starts), and ``LZMAFile`` reads on after it: such a head counts only when
    another stream follows it."""
    for _ in range(8):
        if len(head) < 14 or head[0] > 224 or head[13] != 0:
            return False
        dict_size = int.from_bytes(head[1:5], "little")
        if dict_size not in (0, 0xFFFFFFFF):
            d = dict_size - 1
            for shift in (2, 3, 4, 8, 16):
                d |= d >> shift
            if d + 1 != dict_size:
                return False
        size = int.from_bytes(head[5:13], "little")
        if size != 0:
            return size == (1 << 64) - 1 or size < (1 << 38)
        if head[13:18] != bytes(5):
            return False
        head = head[18:]
        if head.startswith(b"\xfd7zXZ\x00"):
            return True
    return False


ONNX_FIRST_TAGS = frozenset(b"\x08\x12\x1a\x22\x28\x32\x3a\x42\x72")
"""One-byte tags of ModelProto fields 1-8 and 14 (field number, wire type)."""
ONNX_FIRST_TAGS_2 = (b"\xa2\x01", b"\xca\x01", b"\xd2\x01")
"""Two-byte tags of ModelProto fields 20, 25 and 26."""


def could_be_onnx(head: bytes) -> bool:
    """Starts with a ModelProto field tag. Protobuf fields may come in any order (``onnx.load``
    parses a model whose graph comes first), so the tag of ``ir_version`` is not required."""
    return bool(head) and (head[0] in ONNX_FIRST_TAGS or head[:2] in ONNX_FIRST_TAGS_2)


def could_be_keras_metadata(head: bytes, target: ScanTarget) -> bool:
    """A ``keras_metadata.pb`` (SavedObject nodes, field 1): the Keras identifier in the head,
    or a file longer than the head (it may come after a long metadata field or other nodes)."""
    return head[:1] == b"\x0a" and (b"_tf_keras_" in head or target.size > len(head))


def could_be_pickle(head: bytes) -> bool:
    """Whether ``head`` starts with a pickle opcode (a PROTO of 0-5, or any other opcode: the
    unpickler does not require PROTO); :func:`mlwarden.scan.pickle.looks_like_pickle` decides."""
    if len(head) >= 2 and head[0] == 0x80 and head[1] <= 5:
        return True
    return bool(head) and head[0] in PICKLE_FIRST_OPCODES


def looks_like_tar(head: bytes) -> bool:
    """A tar header block with a valid checksum (what ``tarfile`` and so ``torch.load`` accept).

    The ``ustar`` magic alone is not enough: a block with the magic but a bad checksum is not a tar
    to ``tarfile``, and ``torch.load`` then falls back to unpickling the file.
    """
    if len(head) < 512:
        return False
    block = head[:512]
    if block[0] == 0 and block[257:262] != b"ustar":
        return False
    try:
        declared = int(block[148:156].replace(b"\x00", b" ").strip() or b"-1", 8)
    except ValueError:
        return False
    unsigned = sum(block[:148]) + 8 * 32 + sum(block[156:512])
    signed = sum(b - 256 if b > 127 else b for b in block[:148] + block[156:512]) + 8 * 32
    return declared in (unsigned, signed)


def is_legacy_torch_stream(head: bytes) -> bool:
    """The first pickle of a legacy (non-zip) ``torch.save`` stream: torch's magic number."""
    return TORCH_MAGIC_LONG1 in head[:16] or (head[:1] in (b"L", b"I", b"\x80")
                                              and TORCH_MAGIC_TEXT in head[:40])


def hdf5_signature_offset(data: bytes | memoryview) -> int | None:
    """Where the HDF5 superblock signature is: 0, or 512 × 2ⁿ within the data."""
    offset = 0
    size = len(data)
    while offset + 8 <= size:
        if bytes(data[offset:offset + 8]) == HDF5_SIGNATURE:
            return offset
        offset = 512 if offset == 0 else offset * 2
    return None


def could_be_zip(head: bytes, target: ScanTarget) -> bool:
    """A zip signature at the start, or an end-of-central-directory signature near the end (an
    archive with bytes prepended, like a self-extractor)."""
    if head[:4] in (ZIP_LOCAL_SIG, ZIP_EOCD_SIG, ZIP_SPANNED_SIG):
        return True
    data = target.data
    return ZIP_EOCD_SIG in bytes(data[max(0, len(data) - ZIP_EOCD_REACH):])


def _zip_member_names(head: bytes, target: ScanTarget) -> set[str] | None:
    """The member names of a zip as our reader reads it (every zip needs that reader anyway),
    or ``None`` for an archive it finds odd in the least (unreadable, prefixed, recovered, with
    problems): such archives are left to the scanner's own test."""
    from mlwarden.scan.formats import zipreader

    try:
        directory = zipreader.read_directory_cached(target.data, max_members=100_000)
    except zipreader.ZipFormatError:
        return None
    if directory.problems or directory.recovered or directory.truncated_members or \
            directory.prefix:
        return None
    return {entry.name for entry in directory.entries}


def could_be_keras(head: bytes, target: ScanTarget) -> bool:
    """A zip whose directory names ``config.json`` (keras.saving reads only that; metadata.json
    is not required). Keras opens a ``.keras`` file with ``zipfile``, which accepts bytes before
    the archive, so a zip that does not start with a local header is a candidate too."""
    if not could_be_zip(head, target):
        return False
    names = _zip_member_names(head, target)
    return names is None or "config.json" in names


def could_be_skops(head: bytes, target: ScanTarget) -> bool:
    """A zip whose directory names ``schema.json`` (a skops file)."""
    if not could_be_zip(head, target):
        return False
    names = _zip_member_names(head, target)
    return names is None or "schema.json" in names


def _strip(head: bytes) -> bytes:
    return head.removeprefix(b"\xef\xbb\xbf").lstrip()


_UNICODE_BOMS = ((b"\xff\xfe\x00\x00", "utf-32-le"), (b"\x00\x00\xfe\xff", "utf-32-be"),
                 (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))


def could_be_json_object(head: bytes, target: ScanTarget) -> bool:
    """A JSON object as ``json.loads(bytes)`` reads one — UTF-8 (with or without a BOM), UTF-16
    or UTF-32, told apart as :func:`json.detect_encoding` does — within the config size limit."""
    if target.size > MAX_CHAT_CONFIG:
        return False
    if _strip(head).startswith(b"{"):
        return True
    encoding = next((enc for bom, enc in _UNICODE_BOMS if head.startswith(bom)), None)
    body = head
    if encoding is not None:
        body = head[4 if encoding.startswith("utf-32") else 2:]
    elif len(head) >= 4 and not (head[0] and head[1]):
        encoding = ("utf-32-be" if not head[1] else "utf-16-be") if not head[0] else \
            ("utf-32-le" if not (head[2] or head[3]) else "utf-16-le")
    else:
        return False
    return body.decode(encoding, "ignore").lstrip().startswith("{")


def could_be_chat_template(head: bytes, target: ScanTarget) -> bool:
    """A JSON object (a tokenizer config), or text with Jinja markers and no NUL byte."""
    if _strip(head).startswith(b"{") and target.size <= MAX_CHAT_CONFIG:
        return True
    if target.size > MAX_TEMPLATE or b"\0" in head:
        return False
    return b"{%" in head or b"{{" in head or target.size > len(head)


Sniff = Callable[[bytes, "ScanTarget"], bool]


class Entry(NamedTuple):
    """A format scanner as the engine sees it before importing it."""

    name: str
    priority: int
    module: str
    sniff: Sniff


_F = "mlwarden.scan.formats."
SNIFFS: tuple[Entry, ...] = (
    Entry("gguf", 40, _F + "gguf", lambda h, t: h[:4] == GGUF_MAGIC),
    Entry("safetensors", 40, _F + "safetensors", lambda h, t: len(h) >= 9 and h[8:9] == b"{"),
    Entry("keras", 50, _F + "keras", could_be_keras),
    Entry("hdf5", 60, _F + "hdf5", lambda h, t: hdf5_signature_offset(t.data) is not None),
    Entry("onnx", 70, _F + "onnx", lambda h, t: could_be_onnx(h)),
    Entry("keras-metadata", 72, _F + "savedmodel", could_be_keras_metadata),
    Entry("tf-savedmodel", 72, _F + "savedmodel", lambda h, t: h[:1] in (b"\x08", b"\x12")),
    Entry("torch-zip", 200, _F + "torch_zip", could_be_zip),
    Entry("torch-legacy-tar", 250, _F + "torch_legacy", lambda h, t: looks_like_tar(h)),
    Entry("torch-legacy", 300, _F + "torch_legacy", lambda h, t: is_legacy_torch_stream(h)),
    Entry("numpy", 400, _F + "numpy_file", lambda h, t: h.startswith(NUMPY_MAGIC)),
    Entry("skops", 790, _F + "skops_file", could_be_skops),
    Entry("zip", 800, _F + "archive", could_be_zip),
    Entry("tar", 810, _F + "archive", lambda h, t: looks_like_tar(h)),
    Entry("7z", 820, _F + "archive", lambda h, t: h.startswith(SEVEN_ZIP_MAGIC)),
    Entry("compressed", 850, _F + "joblib_file",
          lambda h, t: h.startswith(_COMPRESSED_PREFIXES) or could_be_lzma_alone(h)
          or is_zstd_skippable(h)),
    Entry("keras-json", 870, _F + "keras_json", could_be_json_object),
    Entry("hf-shard-index", 875, _F + "hf_index", could_be_json_object),
    Entry("chat-template", 880, _F + "chat_template", could_be_chat_template),
    Entry("json", 885, _F + "json_fields", could_be_json_object),
    Entry("pickle", 900, "mlwarden.scan.pickle.scanner", lambda h, t: could_be_pickle(h)),
)
"""Every built-in format scanner, in detection order (priority, then name)."""
