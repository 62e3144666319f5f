"""Bounded, streaming decompression for scanners (zip members, joblib/gzip/bz2/xz streams).

Output goes to memory and spills to an anonymous temporary file (memory-mapped afterwards) when it
grows large, so a multi-GB benign stream is decompressed once without holding two copies, and a
bomb stops at ``limit`` bytes instead of exhausting memory or disk.
"""

from __future__ import annotations

import mmap
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Protocol

SPILL_AT = 512 * 1024 * 1024
"""Output beyond this many bytes is written to a temporary file instead of memory."""
_IN_STEP = 1 << 20
_OUT_STEP = 8 << 20


class _Decompressor(Protocol):
    def decompress(self, data: bytes | memoryview, max_length: int = -1) -> bytes: ...

    @property
    def eof(self) -> bool: ...

    @property
    def needs_input(self) -> bool: ...

    @property
    def unused_data(self) -> bytes: ...


@dataclass(frozen=True, slots=True)
class Inflated:
    """The result of a bounded decompression."""

    data: bytes | memoryview
    complete: bool
    """The stream ended properly (end-of-stream marker seen)."""
    overflow: bool
    """Output reached ``limit``; ``data`` holds the first ``limit`` bytes."""
    error: str | None = None
    """Why decoding stopped early (corrupt data), if it did."""
    consumed: int = 0
    """Input bytes consumed up to the end of the (last) stream."""


class _Sink:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.size = 0
        self._mem = bytearray()
        self._file: IO[bytes] | None = None

    @property
    def full(self) -> bool:
        return self.size >= self.limit

    def write(self, chunk: bytes) -> None:
        room = self.limit - self.size
        if room <= 0 or not chunk:
            return
        if len(chunk) > room:
            chunk = chunk[:room]
        self.size += len(chunk)
        if self._file is None and len(self._mem) + len(chunk) > SPILL_AT:
            import tempfile

            self._file = tempfile.TemporaryFile(prefix="mlwarden-")  # noqa: SIM115 - closed in finish
            self._file.write(self._mem)
            self._mem = bytearray()
        if self._file is not None:
            self._file.write(chunk)
        else:
            self._mem += chunk

    def finish(self) -> bytes | memoryview:
        if self._file is None:
            return memoryview(self._mem)  # no copy; the buffer is never written again
        self._file.flush()
        mapped = mmap.mmap(self._file.fileno(), 0, access=mmap.ACCESS_READ)
        self._file.close()  # the mapping keeps the (unlinked) file alive
        return memoryview(mapped)


def inflate_zlib(data: bytes | memoryview, limit: int, *, wbits: int = zlib.MAX_WBITS,
                 multi_member: bool = False) -> Inflated:
    """Decompress a zlib (``wbits=15``), raw deflate (``-15``) or gzip (``31``) stream.

    ``multi_member`` continues after the end of a stream when more input follows (concatenated
    gzip members, as ``gzip`` itself reads them).
    """
    view = memoryview(data)
    sink = _Sink(limit)
    pos = 0
    complete = False
    try:
        while True:
            d = zlib.decompressobj(wbits)
            tail = b""
            while True:
                if tail:
                    chunk: bytes | memoryview = tail
                else:
                    chunk = view[pos:pos + _IN_STEP]
                    pos += len(chunk)
                if not len(chunk):
                    break
                sink.write(d.decompress(chunk, _OUT_STEP))
                tail = d.unconsumed_tail
                if sink.full or d.eof:
                    break
            complete = d.eof
            pos -= len(d.unused_data) if d.eof else 0
            if sink.full and not d.eof:
                return Inflated(sink.finish(), False, True, None, pos)
            if not (multi_member and complete and pos < len(view) and bytes(view[pos:pos + 2])
                    == b"\x1f\x8b"):
                break
    except zlib.error as exc:
        return Inflated(sink.finish(), False, sink.full, f"corrupt stream: {exc}", pos)
    return Inflated(sink.finish(), complete, sink.full, None if complete else "stream truncated",
                    pos)


def inflate_with(factory: Callable[[], _Decompressor], data: bytes | memoryview, limit: int,
                 *, multi_stream: bool = False, errors: tuple[type[BaseException], ...] = (OSError,)
                 ) -> Inflated:
    """Decompress with a ``bz2``/``lzma``-style decompressor (``max_length``, ``needs_input``)."""
    view = memoryview(data)
    sink = _Sink(limit)
    pos = 0
    complete = False
    caught: tuple[type[BaseException], ...] = (EOFError, ValueError, MemoryError, *errors)
    try:
        while True:
            d = factory()
            while not d.eof and not sink.full:
                if d.needs_input:
                    chunk = view[pos:pos + _IN_STEP]
                    pos += len(chunk)
                    if not len(chunk):
                        break
                    sink.write(d.decompress(chunk, _OUT_STEP))
                else:
                    sink.write(d.decompress(b"", _OUT_STEP))
            complete = d.eof
            if d.eof:
                pos -= len(d.unused_data)
            if sink.full and not d.eof:
                return Inflated(sink.finish(), False, True, None, pos)
            if not (multi_stream and complete and pos < len(view)
                    and any(bytes(view[pos:pos + 6]).startswith(m) for m in _STREAM_MAGIC)):
                break
    except caught as exc:
        return Inflated(sink.finish(), False, sink.full, f"corrupt stream: {exc}", pos)
    return Inflated(sink.finish(), complete, sink.full, None if complete else "stream truncated",
                    pos)


_STREAM_MAGIC = (b"BZh", b"\xfd7zXZ\x00", b"\x28\xb5\x2f\xfd")


def release(data: bytes | memoryview) -> None:
    """Unmap a spilled buffer early (best effort: slices still in use keep it alive)."""
    if isinstance(data, memoryview):
        obj = data.obj
        try:
            data.release()
            if isinstance(obj, mmap.mmap):
                obj.close()
        except BufferError:
            pass
