"""Bounded decompression (``scan/formats/streams.py``): the zlib-ng accelerator decodes exactly
as the standard library's zlib does, and the threaded spill gives the bytes the memory path gives.
"""

from __future__ import annotations

import contextlib
import gzip
import mmap
import threading
import zlib
from collections.abc import Callable
from types import ModuleType
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlwarden.scan.formats import streams
from mlwarden.scan.formats.streams import Inflated, inflate_zlib

zlib_ng: ModuleType = pytest.importorskip("zlib_ng.zlib_ng")

WBITS = (15, 31, -15)


def outcome(result: Inflated) -> tuple[bytes, bool, bool, str | None, int]:
    return bytes(result.data), result.complete, result.overflow, result.error, result.consumed


def both(data: bytes, limit: int, wbits: int, multi: bool = False) -> tuple[Any, Any]:
    ref = inflate_zlib(data, limit, wbits=wbits, multi_member=multi, backend=zlib)
    fast = inflate_zlib(data, limit, wbits=wbits, multi_member=multi, backend=zlib_ng)
    return outcome(ref), outcome(fast)


def compress(raw: bytes, wbits: int, level: int = 6, strategy: int = zlib.Z_DEFAULT_STRATEGY
             ) -> bytes:
    c = zlib.compressobj(level, zlib.DEFLATED, wbits, strategy=strategy)
    return c.compress(raw) + c.flush()


def payload(size: int, seed: int = 0) -> bytes:
    """Float-like bytes: mostly literals (as model weights are), with some repeats."""
    import random

    rng = random.Random(seed)
    return b"".join(rng.randbytes(97) + b"\x00" * rng.randrange(8) for _ in range(size // 100))


def test_the_accelerator_is_zlib_ng_when_installed() -> None:
    assert streams.zlib_backend() is zlib_ng


def test_without_zlib_ng_the_standard_library_decodes(monkeypatch: pytest.MonkeyPatch) -> None:
    streams.zlib_backend.cache_clear()
    try:
        monkeypatch.setitem(__import__("sys").modules, "zlib_ng", None)  # import fails
        assert streams.zlib_backend() is zlib
        data = gzip.compress(b"abc" * 1000)
        assert bytes(inflate_zlib(data, 1 << 20, wbits=31).data) == b"abc" * 1000
    finally:
        monkeypatch.undo()
        streams.zlib_backend.cache_clear()
    assert streams.zlib_backend() is zlib_ng


@pytest.mark.parametrize("wbits", WBITS)
def test_both_backends_give_the_same_bytes(wbits: int) -> None:
    raw = payload(3 << 20)
    data = compress(raw, wbits, level=1)
    ref, fast = both(data, 1 << 30, wbits)
    assert ref == fast
    assert ref[0] == raw and ref[1] and ref[4] == len(data)


def test_both_backends_agree_on_members_bombs_truncation_and_damage() -> None:
    raw = payload(1 << 20)
    members = gzip.compress(raw[:1000]) + gzip.compress(raw[1000:]) + b"trailing"
    assert both(members, 1 << 30, 31, multi=True)[0] == both(members, 1 << 30, 31, multi=True)[1]
    bomb = compress(b"\x00" * (32 << 20), 15, level=9)
    ref, fast = both(bomb, 1 << 20, 15)
    assert ref == fast and ref[2] and len(ref[0]) == 1 << 20
    data = gzip.compress(raw)
    for cut in (5, 11, 12, len(data) // 2, len(data) - 8, len(data) - 1):
        ref, fast = both(data[:cut], 1 << 30, 31)
        assert ref == fast and not ref[1] and ref[3] is not None
    for at in (0, 3, 10, 11, 500, len(data) - 8, len(data) - 2):
        damaged = bytearray(data)
        damaged[at] ^= 0x10
        ref, fast = both(bytes(damaged), 1 << 30, 31)
        assert ref == fast


@st.composite
def streams_to_decode(draw: st.DrawFn) -> tuple[bytes, int, bool]:
    wbits = draw(st.sampled_from(WBITS))
    if draw(st.integers(0, 9)) == 0:  # noise, or noise behind a valid-looking header
        head = draw(st.sampled_from([b"", b"\x78\x9c", b"\x78\x01", b"\x1f\x8b\x08\x00"]))
        return head + draw(st.binary(max_size=600)), wbits, draw(st.booleans())
    raw = draw(st.one_of(st.binary(max_size=3000),
                         st.builds(payload, st.integers(0, 20000), st.integers(0, 3))))
    strategy = draw(st.sampled_from([zlib.Z_DEFAULT_STRATEGY, zlib.Z_FIXED, zlib.Z_HUFFMAN_ONLY,
                                     zlib.Z_RLE, zlib.Z_FILTERED]))
    data = bytearray(compress(raw, wbits, draw(st.integers(0, 9)), strategy))
    if wbits == 31 and draw(st.booleans()):  # a second member
        data += compress(draw(st.binary(max_size=200)), 31)
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(["flip", "byte", "cut", "splice", "append"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "byte" and data:
            data[at] = draw(st.integers(0, 255))
        elif kind == "cut":
            del data[at:]
        elif kind == "splice":
            data[at:at] = draw(st.binary(min_size=1, max_size=6))
        else:
            data += draw(st.binary(min_size=1, max_size=12))
    return bytes(data), wbits, draw(st.booleans())


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(streams_to_decode(), st.sampled_from([1 << 30, 5000, 1]),
       st.sampled_from([(1 << 20, 8 << 20), (7, 13), (100, 4096)]))
def test_both_backends_accept_and_reject_alike(sample: tuple[bytes, int, bool], limit: int,
                                               steps: tuple[int, int]) -> None:
    data, wbits, multi = sample
    with mock.patch.object(streams, "_IN_STEP", steps[0]), \
            mock.patch.object(streams, "_OUT_STEP", steps[1]):
        ref, fast = both(data, limit, wbits, multi)
    assert ref == fast
    if limit == 1 << 30 and ref[1]:  # the bounded steps decode what a one-shot decode does
        assert ref[0].startswith(zlib.decompressobj(wbits).decompress(data))


# -- damaged streams: every byte a reader can get before the damage is analysed --------------

def longest(read: Callable[[bool], bytes]) -> bytes:
    """The longer of what ``read`` gets with output drained a byte at a time and unbounded."""
    shorter, longer = sorted((read(True), read(False)), key=len)
    assert longer.startswith(shorter)
    return longer


def finest_reader(data: bytes, wbits: int) -> bytes:
    """The most output any zlib reader gets before an error: input fed one byte at a time."""
    def read(bounded: bool) -> bytes:
        d, out = zlib.decompressobj(wbits), bytearray()
        with contextlib.suppress(zlib.error):
            for i in range(len(data)):
                buf = data[i:i + 1]
                while buf:
                    out += d.decompress(buf, 1) if bounded else d.decompress(buf)
                    buf = d.unconsumed_tail
                if d.eof:
                    break
        return bytes(out)

    return longest(read)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(streams_to_decode(), st.sampled_from([(1 << 20, 8 << 20), (7, 13), (64, 1000)]))
def test_a_damaged_stream_gives_every_byte_a_reader_gets(sample: tuple[bytes, int, bool],
                                                         steps: tuple[int, int]) -> None:
    data, wbits, _ = sample
    with mock.patch.object(streams, "_IN_STEP", steps[0]), \
            mock.patch.object(streams, "_OUT_STEP", steps[1]):
        for backend in (zlib, zlib_ng):
            result = inflate_zlib(data, 1 << 30, wbits=wbits, backend=backend)
            assert bytes(result.data) == finest_reader(data, wbits)


def evil_tail_stream(wbits: int, padding: int) -> bytes:
    from ..engine.conftest import evil_pickle

    # the pickle, then junk a loader never reads (it stops at STOP), then a wrong checksum
    data = bytearray(compress(evil_pickle() + payload(padding), wbits))
    data[-5 if wbits == 31 else -1] ^= 0x40  # gzip: CRC32 (before ISIZE); zlib: Adler-32
    return bytes(data)


@pytest.mark.parametrize("padding", [0, 100_000])
@pytest.mark.parametrize("wbits", [31, 15])
def test_a_payload_before_a_bad_checksum_is_found(wbits: int, padding: int) -> None:
    from mlwarden.scan.engine import scan_bytes

    from ..engine.conftest import critical, evil_pickle

    data = evil_tail_stream(wbits, padding)
    reader = zlib.decompressobj(wbits)  # as joblib reads: 8 KiB blocks, no output bound
    got = b""
    with pytest.raises(zlib.error, match="incorrect data check"):
        for i in range(0, len(data), 8192):
            got += reader.decompress(data[i:i + 8192])
    if padding:  # the loader has the whole pickle before it meets the checksum
        assert got.startswith(evil_pickle())
    report = scan_bytes(data, name="model.joblib")
    assert critical(report)
    assert "MW-ARC-005" in {f.rule_id for f in report.findings}


def test_gzip_module_returns_the_data_before_checking_the_crc() -> None:
    """Why the salvage matters even without padding: ``gzip.GzipFile`` hands out the last bytes
    of a member and checks its CRC on the next read, after ``pickle.load`` has returned."""
    from ..engine.conftest import evil_pickle

    data = evil_tail_stream(31, 0)
    reader = gzip.GzipFile(fileobj=__import__("io").BytesIO(data))
    assert reader.read(len(evil_pickle())) == evil_pickle()
    with pytest.raises(gzip.BadGzipFile):
        reader.read()
    result = inflate_zlib(data, 1 << 30, wbits=31)
    assert bytes(result.data) == evil_pickle() and result.error is not None


def codecs() -> list[tuple[str, Any, Any, tuple[type[BaseException], ...]]]:
    """(name, compress(raw, level), decompressor factory, errors) for the ``inflate_with`` codecs."""
    import bz2
    import lzma

    found = [("bz2", lambda raw, level: bz2.compress(raw, level % 9 + 1), bz2.BZ2Decompressor,
              (OSError,)),
             ("xz", lambda raw, level: lzma.compress(raw, preset=level % 7), lzma.LZMADecompressor,
              (lzma.LZMAError,))]
    try:
        from backports import zstd  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        pass
    else:
        found.append(("zstd", lambda raw, level: zstd.compress(raw, level), zstd.ZstdDecompressor,
                      (zstd.ZstdError,)))
    return found


CODECS = codecs()


def finest_reader_with(factory: Any, data: bytes, errors: tuple[type[BaseException], ...]) -> bytes:
    """``finest_reader`` for bz2/lzma-style decompressors."""
    def read(bounded: bool) -> bytes:
        d, out = factory(), bytearray()
        with contextlib.suppress(EOFError, ValueError, *errors):
            for i in range(len(data)):
                out += d.decompress(data[i:i + 1], 1 if bounded else -1)
                while bounded and not d.needs_input and not d.eof:
                    out += d.decompress(b"", 1)
                if d.eof:
                    break
        return bytes(out)

    return longest(read)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(CODECS), st.binary(max_size=2000) | st.builds(payload, st.integers(0, 8000)),
       st.integers(0, 9), st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), max_size=3),
       st.floats(0, 1), st.sampled_from([(1 << 20, 256 << 10), (5, 11), (100, 1000)]))
def test_a_damaged_bz2_xz_zstd_stream_gives_every_byte_a_reader_gets(
        codec: Any, raw: bytes, level: int, damage: list[tuple[float, int]], cut: float,
        steps: tuple[int, int]) -> None:
    _, compress_, factory, errors = codec
    data = bytearray(compress_(raw, level))
    for where, value in damage:
        data[int(where * (len(data) - 1))] = value
    data = data[:max(1, int(len(data) * (1 - cut / 4)))] if cut > 0.5 else data
    with mock.patch.object(streams, "_IN_STEP", steps[0]), \
            mock.patch.object(streams, "_WITH_STEP", steps[1]):
        result = streams.inflate_with(factory, bytes(data), 1 << 30, errors=errors)
    got, finest = bytes(result.data), finest_reader_with(factory, bytes(data), errors)
    # at most the one byte just before a damaged trailer (see ``streams._replay``)
    assert finest.startswith(got) and len(finest) - len(got) <= (result.error is not None)


@pytest.mark.parametrize("codec", CODECS, ids=[c[0] for c in CODECS])
def test_a_payload_before_damage_in_a_later_block_is_found(codec: Any) -> None:
    from mlwarden.scan.engine import scan_bytes

    from ..engine.conftest import critical, evil_pickle

    _, compress_, factory, errors = codec
    data = bytearray(compress_(evil_pickle() + payload(400_000), 1))  # bz2 -1: 100 kB blocks
    data[-40] ^= 0x40  # the last block: a loader has unpickled long before it gets there
    got = b""
    reader = factory()
    try:
        while len(got) < len(evil_pickle()):
            got += reader.decompress(bytes(data) if not got else b"", 8192)
    except (EOFError, *errors):
        pass
    assert got.startswith(evil_pickle())
    report = scan_bytes(bytes(data), name="model.joblib")
    assert critical(report)


# -- the spill: a temporary file written by a thread while decoding goes on --------------------

def spill_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "mlwarden-spill"]


@pytest.fixture
def small_spill(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(streams, "SPILL_AT", 64 << 10)
    monkeypatch.setattr(streams, "_OUT_STEP", 16 << 10)  # many chunks through the queue


@pytest.mark.usefixtures("small_spill")
@pytest.mark.parametrize("backend", [zlib, zlib_ng], ids=["zlib", "zlib-ng"])
def test_spilled_output_is_the_memory_output(backend: ModuleType) -> None:
    raw = payload(3 << 20, seed=1)
    data = gzip.compress(raw, 1)
    result = inflate_zlib(data, 1 << 30, wbits=31, backend=backend)
    assert isinstance(result.data, memoryview) and isinstance(result.data.obj, mmap.mmap)
    assert outcome(result) == (raw, True, False, None, len(data))
    streams.release(result.data)
    assert not spill_threads()


@pytest.mark.usefixtures("small_spill")
def test_spilled_bombs_stop_at_the_limit_and_damage_is_reported() -> None:
    bomb = inflate_zlib(zlib.compress(b"\x00" * (8 << 20), 9), 1 << 20)
    assert bomb.overflow and not bomb.complete and len(bomb.data) == 1 << 20
    raw = payload(1 << 20, seed=2)
    data = gzip.compress(raw, 1)
    cut = inflate_zlib(data[:len(data) // 2], 1 << 30, wbits=31)
    assert cut.error == "stream truncated" and raw.startswith(bytes(cut.data))
    assert len(cut.data) > 64 << 10
    damaged = bytearray(data)
    damaged[-6] ^= 1  # the CRC
    bad = inflate_zlib(bytes(damaged), 1 << 30, wbits=31)
    assert bad.error is not None and "incorrect data check" in bad.error
    assert raw.startswith(bytes(bad.data))
    assert not spill_threads()


@pytest.mark.usefixtures("small_spill")
def test_a_failing_spill_write_is_raised_and_the_writer_stops(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import tempfile

    real = tempfile.TemporaryFile

    class Full:
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            self._file = real(*args, **kwargs)
            self.written = 0

        def write(self, chunk: bytes) -> int:
            if self.written > 100 << 10:
                raise OSError(28, "No space left on device")
            self.written += len(chunk)
            return self._file.write(chunk)

        def __getattr__(self, name: str) -> Any:
            return getattr(self._file, name)

    monkeypatch.setattr(tempfile, "TemporaryFile", Full)
    data = gzip.compress(payload(2 << 20, seed=3), 1)
    with pytest.raises(OSError, match="No space left"):
        inflate_zlib(data, 1 << 30, wbits=31)
    assert not spill_threads()


@pytest.mark.usefixtures("small_spill")
def test_bz2_and_xz_spill_through_the_same_writer() -> None:
    import bz2
    import lzma

    raw = payload(1 << 20, seed=4)
    for data, factory in ((bz2.compress(raw), bz2.BZ2Decompressor),
                          (lzma.compress(raw), lzma.LZMADecompressor)):
        result = streams.inflate_with(factory, data, 1 << 30)
        assert isinstance(result.data, memoryview) and isinstance(result.data.obj, mmap.mmap)
        assert outcome(result) == (raw, True, False, None, len(data))
    assert not spill_threads()
