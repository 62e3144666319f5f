"""Bounded, streaming decompression for scanners (zip members, joblib/gzip/bz2/xz streams).

Output goes to memory and spills to an anonymous temporary file (memory-mapped afterwards) when it
grows large, so a multi-GB benign stream is decompressed once without holding two copies, and a
bomb stops at ``limit`` bytes instead of exhausting memory or disk. Past the spill point a writer
thread writes the output while decoding goes on (both release the GIL), through a short queue.

zlib/gzip/deflate streams are decoded by ``zlib-ng`` when it is installed (the ``scan`` extra):
about 1.3 times the throughput of the standard library's zlib on literal-heavy data (float
weights), and the same decoder, so the same bytes and the same accept/reject on any input.
"""

from __future__ import annotations

import mmap
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from types import ModuleType, TracebackType
from typing import IO, Any, Protocol

from mlwarden.scan import progress

SPILL_AT = 64 * 1024 * 1024
"""Output beyond this many bytes is written to a temporary file instead of memory."""
_IN_STEP = 1 << 20
_OUT_STEP = 8 << 20
_WITH_STEP = 256 << 10
"""Output bound of one ``inflate_with`` step (the most ``_replay`` decodes a byte at a time)."""
_SPILL_QUEUE = 4
"""Output chunks (``_OUT_STEP`` bytes each at most) waiting for the writer thread."""


@cache
def zlib_backend() -> ModuleType:
    """``zlib_ng.zlib_ng`` when installed, else the standard library's ``zlib``.

    zlib-ng is a fork of zlib with its inflate state machine, checks and messages: it gives the
    same output and the same errors (``tests/scan/formats/test_streams.py`` checks this on random
    and corrupted streams). ``isal.isal_zlib`` was measured and rejected: it consumes all input
    while holding back output, so ``max_length`` with ``unconsumed_tail`` (the bounded steps
    here) loses data, and it accepts or rejects some streams differently from zlib.
    """
    try:
        from zlib_ng import zlib_ng  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return zlib
    return zlib_ng  # type: ignore[no-any-return,unused-ignore]


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


class _Spill:
    """A temporary file filled by a writer thread, so that writing overlaps decoding."""

    def __init__(self) -> None:
        import queue
        import tempfile
        import threading

        self.file: IO[bytes] = tempfile.TemporaryFile(prefix="mlwarden-")  # noqa: SIM115 - closed by close()
        self._queue: queue.Queue[bytes | bytearray | None] = queue.Queue(_SPILL_QUEUE)
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = threading.Thread(
            target=self._run, name="mlwarden-spill", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (chunk := self._queue.get()) is not None:
            if self._error is None:
                try:
                    self.file.write(chunk)
                except BaseException as exc:  # noqa: BLE001 - raised again in the decoding thread
                    self._error = exc
            del chunk  # the buffer is freed as soon as it is written

    def put(self, chunk: bytes | bytearray) -> None:
        """Queue a chunk the caller will never modify again (blocks while the queue is full)."""
        if self._error is not None:
            raise self._error
        self._queue.put(chunk)

    def _stop(self) -> None:
        if self._thread is not None:
            self._queue.put(None)  # the writer drains the queue even after an error
            self._thread.join()
            self._thread = None

    def join(self) -> None:
        """Wait for every queued chunk to be written; raise the writer's error, if any."""
        self._stop()
        if self._error is not None:
            raise self._error

    def close(self) -> None:
        """Stop the writer (its error, if any, is dropped: the caller is failing already)."""
        self._stop()
        self.file.close()


class _Sink:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.size = 0
        self._mem = bytearray()
        self._spill: _Spill | None = None

    def __enter__(self) -> _Sink:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._spill is not None:  # finish() not reached: stop the writer, drop the file
            self._spill.close()
            self._spill = None

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
        if self._spill is None and len(self._mem) + len(chunk) > SPILL_AT:
            self._spill = _Spill()
            self._spill.put(self._mem)  # handed over whole: never written to again
            self._mem = bytearray()
        if self._spill is not None:
            self._spill.put(chunk)
        else:
            self._mem += chunk

    def finish(self) -> bytes | memoryview:
        if self._spill is None:
            return memoryview(self._mem)  # no copy; the buffer is never written again
        spill, self._spill = self._spill, None
        try:
            spill.join()
            spill.file.flush()
            mapped = mmap.mmap(spill.file.fileno(), 0, access=mmap.ACCESS_READ)
        finally:
            spill.close()  # the mapping keeps the (unlinked) file alive
        return memoryview(mapped)


def inflate_zlib(data: bytes | memoryview, limit: int, *, wbits: int = zlib.MAX_WBITS,
                 multi_member: bool = False, backend: ModuleType | None = None) -> Inflated:
    """Decompress a zlib (``wbits=15``), raw deflate (``-15``) or gzip (``31``) stream.

    ``multi_member`` continues after the end of a stream when more input follows (concatenated
    gzip members, as ``gzip`` itself reads them). ``backend`` is the zlib module to decode with
    (default: ``zlib_backend()``).
    """
    lib = zlib_backend() if backend is None else backend
    errors = (zlib.error, lib.error)
    view = memoryview(data)
    with _Sink(limit) as sink:
        pos = 0
        complete = False
        try:
            while True:
                d = lib.decompressobj(wbits)
                tail = b""
                while True:
                    if tail:
                        chunk: bytes | memoryview = tail
                    else:
                        chunk = view[pos:pos + _IN_STEP]
                        pos += len(chunk)
                        progress.advance(len(chunk))
                    if not len(chunk):
                        break
                    before = d.copy()  # about 1 µs: the state to salvage from if this step fails
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
        except errors as exc:
            sink.write(_salvage(before, chunk, errors))
            return Inflated(sink.finish(), False, sink.full, f"corrupt stream: {exc}", pos)
        return Inflated(sink.finish(), complete, sink.full,
                        None if complete else "stream truncated", pos)


_FTEXT, _FHCRC, _FEXTRA, _FNAME, _FCOMMENT = 1, 2, 4, 8, 16


def gzip_body(view: memoryview, pos: int) -> int | None:
    """Where the deflate data of the gzip member at ``pos`` starts, read as ``gzip.GzipFile``
    reads a member header (``gzip._read_gzip_header``); ``None`` when it refuses it.

    Python's reader is more lenient than zlib's own gzip mode: it ignores the reserved flag bits
    and never checks the header CRC (``FHCRC``), and a name or comment may run to the end of the
    file. pandas' ``read_pickle("x.pkl.gz")`` and ``gzip.open`` read such members; zlib refuses
    them.
    """
    size = len(view)
    if bytes(view[pos:pos + 2]) != b"\x1f\x8b" or pos + 10 > size or view[pos + 2] != 8:
        return None
    flags = view[pos + 3]
    at = pos + 10
    if flags & _FEXTRA:
        if at + 2 > size:
            return None
        at += 2 + int.from_bytes(view[at:at + 2], "little")
        if at > size:
            return None
    for field in (_FNAME, _FCOMMENT):
        if flags & field:
            end = bytes(view[at:]).find(b"\x00")  # to the end of the file when unterminated
            at = size if end < 0 else at + end + 1
    if flags & _FHCRC:
        at += 2
        if at > size:
            return None
    return at


def inflate_gzip(data: bytes | memoryview, limit: int, *,
                 backend: ModuleType | None = None) -> Inflated:
    """Decompress every member of a gzip file as ``gzip.GzipFile`` does: each header read by
    :func:`gzip_body`, the deflate data inflated raw, the CRC and size checked after each member
    (a mismatch ends the reading, after the member's bytes were handed over, as Python's reader
    hands them over before it checks), and zero bytes between members skipped."""
    lib = zlib_backend() if backend is None else backend
    errors = (zlib.error, lib.error)
    view = memoryview(data)
    with _Sink(limit) as sink:
        pos, complete, error = 0, False, None
        while True:
            body = gzip_body(view, pos)
            if body is None:
                if pos == 0:
                    error = "not a gzip member header"
                break  # bytes that start no member: gzip raises after what it returned
            d = lib.decompressobj(-zlib.MAX_WBITS)
            crc = produced = 0
            at, tail = body, b""
            chunk: bytes | memoryview = b""
            before = d.copy()
            try:
                while not d.eof and not sink.full:
                    if tail:
                        chunk = tail
                    else:
                        chunk = view[at:at + _IN_STEP]
                        at += len(chunk)
                        progress.advance(len(chunk))
                    if not len(chunk):
                        break
                    before = d.copy()
                    out = d.decompress(chunk, _OUT_STEP)
                    crc, produced = lib.crc32(out, crc), produced + len(out)
                    sink.write(out)
                    tail = d.unconsumed_tail
            except errors as exc:
                sink.write(_salvage(before, chunk, errors))
                return Inflated(sink.finish(), False, sink.full, f"corrupt stream: {exc}", pos)
            if sink.full and not d.eof:
                return Inflated(sink.finish(), False, True, None, pos)
            if not d.eof:
                error = "stream truncated"
                break
            pos = at - len(d.unused_data)
            trailer = bytes(view[pos:pos + 8])
            if len(trailer) < 8:
                error = "member trailer truncated"
                break
            if int.from_bytes(trailer[:4], "little") != crc or \
                    int.from_bytes(trailer[4:], "little") != produced & 0xFFFFFFFF:
                error = "CRC or length check failed"
                break
            pos += 8
            complete = True
            while pos < len(view) and view[pos] == 0:  # gzip skips zero padding between members
                pos += 1
            if pos >= len(view):
                break
        return Inflated(sink.finish(), complete and error is None, sink.full, error, pos)


def _salvage(before: Any, chunk: bytes | memoryview,
             errors: tuple[type[BaseException], ...]) -> bytes:
    """What a failed ``decompress(chunk, _OUT_STEP)`` decodes before the damage it stopped at.

    zlib raises without returning the output of the call that meets a damaged block or a wrong
    checksum, up to ``_OUT_STEP`` bytes. A loader reading in small steps gets those bytes all the
    same (``gzip.GzipFile`` even returns the last ones before it checks the CRC) and may unpickle
    them. Decoding a prefix of the input stops, without error, wherever the prefix ends before the
    damage; the longest such prefix, found by bisection from a copy of the state before the call,
    gives every byte any reader can get.
    """
    good, bad, out = 0, len(chunk), b""
    while bad - good > 1:
        mid = (good + bad) // 2
        try:
            got = before.copy().decompress(chunk[:mid], _OUT_STEP)
        except errors:
            bad = mid
        else:
            good, out = mid, got
    return out


def inflate_with(factory: Callable[[], _Decompressor], data: bytes | memoryview, limit: int,
                 *, multi_stream: bool = False, errors: tuple[type[BaseException], ...] = (OSError,),
                 next_factory: Callable[[], _Decompressor] | None = None,
                 stream_padding: int = 0) -> Inflated:
    """Decompress with a ``bz2``/``lzma``-style decompressor (``max_length``, ``needs_input``).

    ``multi_stream``: go on after a stream ends, as the file readers do. Streams after the first
    are decoded by ``next_factory`` when given — whatever bytes follow, as
    ``_compression.DecompressReader`` tries them, stopping where they start no stream — else by
    ``factory`` when they start with a known magic. ``stream_padding``: NUL bytes in groups of
    this size between streams are padding (the xz format's Stream Padding), not trailing data."""
    view = memoryview(data)
    caught: tuple[type[BaseException], ...] = (EOFError, ValueError, MemoryError, *errors)
    with _Sink(limit) as sink:
        pos = 0
        complete = False
        try:
            while True:
                d = factory()
                start, steps = pos, 0
                while not d.eof and not sink.full:
                    if d.needs_input:
                        chunk = view[pos:pos + _IN_STEP]
                        pos += len(chunk)
                        progress.advance(len(chunk))
                        if not len(chunk):
                            break
                        sink.write(d.decompress(chunk, _WITH_STEP))
                    else:
                        sink.write(d.decompress(b"", _WITH_STEP))
                    steps += 1
                complete = d.eof
                if d.eof:
                    pos -= len(d.unused_data)
                if sink.full and not d.eof:
                    return Inflated(sink.finish(), False, True, None, pos)
                if not (multi_stream and complete and pos < len(view)):
                    break
                if stream_padding:
                    pos = _skip_padding(view, pos, stream_padding)
                    if pos >= len(view):
                        break
                if next_factory is not None:
                    if not _starts_stream(next_factory, view[pos:pos + _PROBE], caught):
                        break
                    factory = next_factory
                elif not any(bytes(view[pos:pos + 6]).startswith(m) for m in _STREAM_MAGIC):
                    break
        except caught as exc:
            sink.write(_replay(factory, view, start, steps, caught))
            return Inflated(sink.finish(), False, sink.full, f"corrupt stream: {exc}", pos)
        return Inflated(sink.finish(), complete, sink.full,
                        None if complete else "stream truncated", pos)


def _replay(factory: Callable[[], _Decompressor], view: memoryview, start: int, steps: int,
            errors: tuple[type[BaseException], ...]) -> bytes:
    """What the failed step of ``inflate_with`` decodes before the damage it stopped at.

    As with zlib (``_salvage``), the step that meets the damage raises without returning its
    output, and a loader reading in small steps has that output. bz2/lzma/zstd decoders cannot be
    copied, so the stream is decoded again from ``start``: the ``steps`` that succeeded as they
    were, then the failed one a byte at a time (at most ``_WITH_STEP`` calls) until it fails.
    This misses at most one byte a reader can get: when a trailer (bz2's stream CRC, an xz block
    check, the next zstd block) is damaged, the call that returns the last byte before it goes on
    to check it and fails, where a reader whose input stops before the trailer keeps that byte
    (for a pickle: its ``STOP``; every opcode before it is analysed, and a pickle without its
    ``STOP`` is itself a finding).
    """
    d = factory()
    pos, done, out, replayed = start, 0, bytearray(), 0
    try:
        while not d.eof and len(out) < _WITH_STEP:
            chunk: bytes | memoryview = b""
            if d.needs_input:
                # the failed step's input a byte at a time too (its first _REPLAY_BYTES): a
                # decoder that streams a raw block out (zstd) raises on a chunk before returning
                # what precedes the damage in it
                fine = done >= steps and pos - start < _REPLAY_BYTES + replayed
                chunk = view[pos:pos + (1 if fine else _IN_STEP)]
                pos += len(chunk)
                if not len(chunk):
                    break
            if done < steps:
                d.decompress(chunk, _WITH_STEP)
                done += 1
                replayed = pos - start
            else:
                out += d.decompress(chunk, 1)
    except errors:
        pass
    return bytes(out)


_REPLAY_BYTES = 1 << 16
"""Input of the failed step fed a byte at a time (bounds the cost of a damaged stream)."""

_STREAM_MAGIC = (b"BZh", b"\xfd7zXZ\x00", b"\x28\xb5\x2f\xfd")
_PROBE = 8192
"""Bytes a file reader hands a new decoder at once (``io.DEFAULT_BUFFER_SIZE``)."""


def _skip_padding(view: memoryview, pos: int, unit: int) -> int:
    """``pos`` moved over whole ``unit``-byte groups of NUL bytes."""
    end = pos
    while end < len(view):
        chunk = bytes(view[end:end + (1 << 20)])
        zeros = len(chunk) - len(chunk.lstrip(b"\0"))
        end += zeros
        if zeros < len(chunk):
            break
    return pos + (end - pos) // unit * unit


def _starts_stream(factory: Callable[[], _Decompressor], head: bytes | memoryview,
                   errors: tuple[type[BaseException], ...]) -> bool:
    """Whether a new decoder accepts the start of ``head`` (what a file reader tries on the bytes
    after a stream before it gives up on them as trailing garbage)."""
    try:
        factory().decompress(bytes(head), 1)
    except errors:
        return False
    return True


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
