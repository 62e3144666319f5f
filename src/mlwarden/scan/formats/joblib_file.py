"""Compressed streams: joblib's compressors (zlib, gzip, bz2, lzma, xz, lz4 and the pre-0.10 ``ZF``
zlib files) and any gzip/bz2/xz/zstd file such as ``model.pkl.gz``, ``weights.tar.xz`` or
``model.pkl.zst`` (zstd through ``compression.zstd``, or ``backports.zstd`` which py7zr installs;
without a decoder, or for lz4 without ``lz4``, the stream is a high finding: unread is never clean).

The stream is recognised by its magic bytes (as ``joblib.load`` itself does, ignoring the
extension), decompressed in bounded steps — spilling to a temporary file when large, stopping at
the size/ratio limits — and the result is scanned again by content: a joblib pickle (with its
inline numpy buffers) goes to the pickle VM, a tar to the tar scanner, and so on.
Plain (uncompressed) joblib files are pickles and reach the pickle scanner directly.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Any, ClassVar

from mlwarden.scan.container_rules import ARCHIVE_BOMB, MALFORMED_ARCHIVE, UNSUPPORTED_COMPRESSION
from mlwarden.scan.formats.streams import Inflated, inflate_gzip, inflate_with, inflate_zlib
from mlwarden.scan.interface import FormatScanner, ScanContext, ScanTarget
from mlwarden.scan.sniff import ZSTD_MAGIC, could_be_lzma_alone, is_zstd_skippable

_ZF_HEADER = 2 + 19
"""``ZF`` then the hex length padded to ``len(hex(2**64))`` characters (joblib < 0.10)."""
_MIN_LIMIT = 256 * 1024 * 1024
"""Streams may always expand to this size, whatever their ratio (joblib compresses zeros well)."""


def _probe(factory: Callable[[], object], head: bytes) -> bool:
    d = factory()
    try:
        d.decompress(head, 64)  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - zlib.error, OSError, EOFError, lzma.LZMAError: not this codec
        return False
    return True


def zf_data_offset(head: bytes | memoryview) -> int | None:
    """Where the zlib data of a pre-0.10 ``ZF`` file starts, as joblib's ``read_zfile`` finds it:
    the 19 bytes after ``ZF`` are whatever ``int(field, 16)`` accepts (``0x`` or not, either case,
    a sign, surrounding whitespace, ``_`` between digits), and one space after them — written by
    joblib <= 0.8.4 on Python 2 — is skipped. ``None`` when joblib could not read the length."""
    field = bytes(head[2:_ZF_HEADER])
    try:
        int(field, 16)
    except ValueError:
        return None
    return _ZF_HEADER + 1 if head[_ZF_HEADER:_ZF_HEADER + 1] == b" " else _ZF_HEADER


def codec_of(head: bytes) -> str | None:
    """The compression of a stream from its first bytes, or ``None``."""
    if head.startswith(b"ZF"):
        start = zf_data_offset(head)
        if start is not None and _probe(zlib.decompressobj, head[start:4096]):
            return "zlib-zf"
    if head.startswith(b"\x1f\x8b\x08"):
        return "gzip"
    if head.startswith(b"BZh") and head[3:4].isdigit() and head[4:10] in (
            b"1AY&SY", b"\x17\x72\x45\x38\x50\x90"):
        return "bz2"
    if head.startswith(b"\xfd7zXZ\x00"):
        return "xz"
    if head.startswith(b"\x04\x22\x4d\x18"):
        return "lz4"
    if head.startswith(ZSTD_MAGIC) or is_zstd_skippable(head):
        return "zstd"
    if head[:1] == b"\x78" and len(head) >= 2 and (head[0] * 256 + head[1]) % 31 == 0 and \
            _probe(zlib.decompressobj, head[:4096]):
        return "zlib"
    if (head[:3] == b"\x5d\x00\x00" and len(head) >= 13) or could_be_lzma_alone(head):
        import lzma

        if _probe(lambda: lzma.LZMADecompressor(lzma.FORMAT_ALONE), head[:4096]):
            return "lzma"
    return None


def decompress(codec: str, data: bytes | memoryview, limit: int) -> Inflated | None:
    """Decompress ``data``; ``None`` when the codec's library is not installed (lz4, zstd)."""
    if codec == "zlib-zf":
        return inflate_zlib(memoryview(data)[zf_data_offset(data) or _ZF_HEADER:], limit)
    if codec == "zlib":
        return inflate_zlib(data, limit)
    if codec == "gzip":
        return inflate_gzip(data, limit)
    if codec == "bz2":
        import bz2

        return inflate_with(bz2.BZ2Decompressor, data, limit, multi_stream=True)
    if codec in ("xz", "lzma"):
        import lzma

        # lzma.LZMAFile (joblib, pandas, lzma.open) reads on after the first stream with the
        # automatic decoder, so an .xz may continue with an .lzma stream and the reverse;
        # trailing bytes that start no stream are ignored.
        fmt = lzma.FORMAT_XZ if codec == "xz" else lzma.FORMAT_ALONE
        return inflate_with(lambda: lzma.LZMADecompressor(fmt), data, limit, multi_stream=True,
                            errors=(lzma.LZMAError,),
                            next_factory=lambda: lzma.LZMADecompressor(lzma.FORMAT_AUTO),
                            stream_padding=4 if codec == "xz" else 0)
    if codec == "lz4":
        try:
            import lz4.frame  # type: ignore[import-not-found,unused-ignore]
        except ImportError:
            return None
        return inflate_with(lz4.frame.LZ4FrameDecompressor, data, limit,
                            errors=(RuntimeError,))
    if codec == "zstd":
        zstd = _zstd_module()
        if zstd is None:
            return None
        # ZstdFile decodes whatever follows a frame with a new decoder (skippable frames
        # included, first or between frames), and stops only where that decoder fails
        return inflate_with(zstd.ZstdDecompressor, data, limit, multi_stream=True,
                            errors=(zstd.ZstdError,), next_factory=zstd.ZstdDecompressor)
    raise ValueError(f"unknown codec {codec}")


def _zstd_module() -> Any:
    """The zstd decoder with the bz2/lzma decompressor interface, or ``None``."""
    try:
        from compression import zstd  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        try:
            from backports import zstd  # type: ignore[import-not-found,unused-ignore,no-redef]
        except ImportError:
            return None
    return zstd


class CompressedStreamScanner(FormatScanner):
    """joblib compressed files and gzip/bz2/xz/lzma/zlib/lz4/zstd streams."""

    name: ClassVar[str] = "compressed"
    version: ClassVar[str] = "1"
    priority: ClassVar[int] = 850

    @classmethod
    def detect(cls, head: bytes, target: ScanTarget) -> bool:
        return codec_of(head) is not None

    def scan(self, target: ScanTarget, ctx: ScanContext) -> None:
        codec = codec_of(target.head(4096))
        assert codec is not None
        key = f"{target.path}!{target.member}" if target.member else target.path
        ctx.formats[key] = f"compressed ({codec})"
        limits = ctx.limits
        limit = min(limits.max_member_size,
                    max(_MIN_LIMIT, int(target.size * limits.max_compression_ratio)))
        result = decompress(codec, target.data, limit + 1)
        loc = target.location()
        if result is None:
            package = "backports.zstd" if codec == "zstd" else "lz4"
            ctx.add(UNSUPPORTED_COMPRESSION.finding(
                f"cannot inspect {codec}-compressed content: the {package} package is not "
                "installed", loc, evidence={"codec": codec, "package": package}))
            ctx.skip(target, f"{codec} stream: the {package} package is not installed")
            return
        if result.overflow:
            ctx.add(ARCHIVE_BOMB.finding(
                f"{codec} stream expands beyond {limit} bytes from {target.size} (ratio limit "
                f"{limits.max_compression_ratio:.0f}:1); only the first {limit} bytes were analysed",
                loc, evidence={"compressed": target.size, "limit": limit, "codec": codec}))
        elif result.error is not None:
            ctx.add(MALFORMED_ARCHIVE.finding(
                f"{codec} stream is damaged ({result.error}) after {len(result.data)} bytes; the "
                "readable part was analysed", loc,
                evidence={"codec": codec, "decompressed": len(result.data)}))
        elif (end := result.consumed + ((zf_data_offset(target.head(64)) or _ZF_HEADER)
                                        if codec == "zlib-zf" else 0)) < target.size:
            ctx.add(MALFORMED_ARCHIVE.finding(
                f"{target.size - end} bytes follow the end of the {codec} stream (loaders ignore "
                "them)", target.location(offset=end),
                evidence={"codec": codec, "trailing": target.size - end}))
        ctx.scan_nested(target.child(f"<{codec}>", result.data))
