"""Archives and compressed streams: every member a real reader returns is a member the scanner scans.

The oracles (``tests/scan/loader_oracle.py``, a limited child process) are ``zipfile``,
``tarfile.open(mode='r:*')``, ``py7zr`` extracting into memory, ``gzip``/``bz2``/``lzma`` file
objects and torch's own ``PyTorchFileReader`` — readers only, nothing is unpickled. For each
mutated archive, every non-empty member a reader returns (or the bytes it returned before it
failed) must be among the bytes the scanner handed to a scanner (a prefix of them, for streams).
"Anything a reader returns that the scanner did not scan is a bug."
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import io
import lzma
import pickle
import tarfile
import warnings
import zipfile
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlwarden.scan import engine
from mlwarden.scan.interface import ScanContext, ScanTarget
from tests.scan.loader_oracle import Oracle

from .conftest import Payload, scan

PAYLOAD = pickle.dumps({"hook": Payload()}, protocol=2)
BENIGN = pickle.dumps({"weights": [1.0, 2.0]}, protocol=4)


@pytest.fixture(scope="module")
def oracle() -> Iterator[Oracle]:
    with Oracle() as running:
        yield running


class Scanned:
    """The bytes of every target the engine dispatched and every pickle the VM analysed."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        import mlwarden.scan.pickle as pickle_vm

        self.blobs: list[bytes] = []
        dispatch = engine.dispatch
        many, one = pickle_vm.analyze_pickles, pickle_vm.analyze_pickle

        def seen(target: ScanTarget, ctx: ScanContext) -> None:
            self.blobs.append(bytes(target.data))
            dispatch(target, ctx)

        def seen_many(target: ScanTarget, ctx: ScanContext, **kw: object) -> object:
            self.blobs.append(bytes(target.data))
            return many(target, ctx, **kw)  # type: ignore[arg-type]

        def seen_one(target: ScanTarget, ctx: ScanContext, **kw: object) -> object:
            self.blobs.append(bytes(target.data))
            return one(target, ctx, **kw)  # type: ignore[arg-type]

        monkeypatch.setattr(engine, "dispatch", seen)
        monkeypatch.setattr(pickle_vm, "analyze_pickles", seen_many)
        monkeypatch.setattr(pickle_vm, "analyze_pickle", seen_one)

    def has(self, digest: str, length: int) -> bool:
        return any(len(b) >= length and hashlib.sha256(b[:length]).hexdigest() == digest
                   for b in self.blobs)


@pytest.fixture
def scanned(monkeypatch: pytest.MonkeyPatch) -> Scanned:
    return Scanned(monkeypatch)


def check(oracle: Oracle, scanned: Scanned, question: str, data: bytes, *,
          key: str = "members", only: tuple[str, ...] = ()) -> list[str]:
    """Scan ``data``; every non-empty member the oracle returns must have been scanned. Returns
    the names the oracle listed."""
    said = oracle.ask(question, data)
    scanned.blobs.clear()
    report = scan(data, "archive.bin")
    assert not any(f.rule_id == "MW-FMT-001" for f in report.findings), report.findings
    if not said["ok"]:
        return []
    entries = said[key] if key in said else [["<stream>", *said["stream"]]]
    missing = [name for name, digest, *rest in entries
               if digest is not None and rest and rest[0] > 0
               and (not only or name.endswith(only)) and not scanned.has(digest, rest[0])]
    assert not missing, f"{question} returns members the scanner did not scan: {missing}"
    return [entry[0] for entry in entries]


# ------------------------------------------------------------------ mutations


@st.composite
def mutate(draw: st.DrawFn, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(["flip", "prefix", "suffix", "truncate"]))
        if kind == "flip" and out:
            at = draw(st.integers(0, len(out) - 1))
            out[at] = draw(st.integers(0, 255))
        elif kind == "prefix":
            out[:0] = draw(st.sampled_from([b"\x00" * 7, b"PK\x05\x06", b"junk-before", PAYLOAD]))
        elif kind == "suffix":
            out += draw(st.sampled_from([b"\x00" * 512, b"trailing", PAYLOAD]))
        elif kind == "truncate" and len(out) > 2:
            del out[draw(st.integers(len(out) // 2, len(out) - 1)):]
    return bytes(out)


_NAMES = ["model.pkl", "a/b.bin", "dup", "dup", "../up.pkl", "dir/", "x" * 120, "weights.npy"]
_CONTENTS = [PAYLOAD, BENIGN, b"", b"plain text\n" * 20]


@st.composite
def zips(draw: st.DrawFn) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for _ in range(draw(st.integers(1, 3))):
            method = draw(st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED,
                                           zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA]))
            with warnings.catch_warnings():  # duplicate names are the point
                warnings.simplefilter("ignore")
                zf.writestr(draw(st.sampled_from(_NAMES)), draw(st.sampled_from(_CONTENTS)),
                            compress_type=method)
        if draw(st.booleans()):
            zf.comment = draw(st.sampled_from([b"c", PAYLOAD]))
    return draw(mutate(buf.getvalue()))


@st.composite
def tars(draw: st.DrawFn) -> bytes:
    buf = io.BytesIO()
    mode = draw(st.sampled_from(["w", "w:gz", "w:bz2", "w:xz"]))
    fmt = draw(st.sampled_from([tarfile.USTAR_FORMAT, tarfile.GNU_FORMAT, tarfile.PAX_FORMAT]))
    with tarfile.open(fileobj=buf, mode=mode, format=fmt) as tf:  # type: ignore[call-overload]
        for _ in range(draw(st.integers(1, 3))):
            name = draw(st.sampled_from(_NAMES)).rstrip("/") or "d"
            content = draw(st.sampled_from(_CONTENTS))
            info = tarfile.TarInfo(name if fmt != tarfile.USTAR_FORMAT else name[:99])
            info.size = len(content)
            tf.addfile(info, io.BytesIO(content))
    return draw(mutate(buf.getvalue()))


def _zstd_compress(data: bytes) -> bytes:
    from mlwarden.scan.formats.joblib_file import _zstd_module

    zstd = _zstd_module()
    if zstd is None:
        pytest.skip("no zstd decoder installed")
    return bytes(zstd.compress(data))


_SKIPPABLE = b"\x5a\x2a\x4d\x18" + (4).to_bytes(4, "little") + b"skip"


@st.composite
def streams(draw: st.DrawFn) -> tuple[str, bytes]:
    codec = draw(st.sampled_from(["gzip", "bz2", "lzma", "zstd"]))
    pack = {"gzip": gzip.compress, "bz2": bz2.compress, "lzma": lzma.compress,
            "zstd": _zstd_compress}[codec]
    data = pack(draw(st.sampled_from([PAYLOAD, BENIGN])))
    if draw(st.booleans()):
        data += pack(draw(st.sampled_from([PAYLOAD, BENIGN])))
    if codec == "zstd" and draw(st.booleans()):
        data = _SKIPPABLE + data
    return codec, draw(mutate(data))


_FAST = settings(max_examples=40, deadline=None,
                 suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
_SLOW = settings(max_examples=1500, deadline=None,
                 suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@_FAST
@given(data=zips())
def test_zip_members_scanned_as_zipfile_returns_them(oracle: Oracle, scanned: Scanned,
                                                     data: bytes) -> None:
    check(oracle, scanned, "zip_members", data)


@_FAST
@given(data=tars())
def test_tar_members_scanned_as_tarfile_returns_them(oracle: Oracle, scanned: Scanned,
                                                     data: bytes) -> None:
    check(oracle, scanned, "tar_members", data)


@_FAST
@given(stream=streams())
def test_streams_scanned_as_their_readers_return_them(oracle: Oracle, scanned: Scanned,
                                                      stream: tuple[str, bytes]) -> None:
    _check_stream(oracle, scanned, *stream)


def _check_stream(oracle: Oracle, scanned: Scanned, codec: str, data: bytes) -> None:
    said = oracle.ask("stream", data, codec=codec)
    scanned.blobs.clear()
    report = scan(data, "model.bin")
    assert not any(f.rule_id == "MW-FMT-001" for f in report.findings), report.findings
    digest, length = said["stream"] if said["ok"] else (None, 0)
    if length:
        assert scanned.has(digest, length), f"{codec} reader returns {length} bytes the " \
                                             f"scanner did not scan ({said})"


@pytest.mark.slow
@_SLOW
@given(data=st.one_of(zips(), tars()))
def test_many_archives_scanned_as_their_readers_return_them(oracle: Oracle, scanned: Scanned,
                                                            data: bytes) -> None:
    check(oracle, scanned, "zip_members", data)
    check(oracle, scanned, "tar_members", data)


@pytest.mark.slow
@_SLOW
@given(stream=streams())
def test_many_streams_scanned_as_their_readers_return_them(oracle: Oracle, scanned: Scanned,
                                                           stream: tuple[str, bytes]) -> None:
    _check_stream(oracle, scanned, *stream)


# ------------------------------------------------------------------ 7z and torch


def seven_zip(members: list[tuple[str, bytes]]) -> bytes:
    py7zr = pytest.importorskip("py7zr")
    buf = io.BytesIO()
    with py7zr.SevenZipFile(buf, "w") as archive:
        for name, content in members:
            archive.writestr(content, name)
    return buf.getvalue()


@pytest.mark.parametrize("members", [[("model.pkl", PAYLOAD)],
                                     [("a.pkl", BENIGN), ("b/evil.pkl", PAYLOAD)],
                                     [("dup.pkl", BENIGN), ("dup.pkl", PAYLOAD)]],
                         ids=["one", "two", "duplicate-names"])
def test_seven_zip_members_scanned_as_py7zr_returns_them(oracle: Oracle, scanned: Scanned,
                                                         members: list[tuple[str, bytes]]) -> None:
    check(oracle, scanned, "seven_zip_members", seven_zip(members))


@pytest.fixture(scope="module")
def checkpoint() -> bytes:
    torch = pytest.importorskip("torch")
    buf = io.BytesIO()
    torch.save({"w": torch.zeros(2), "n": 3}, buf)
    return buf.getvalue()


@pytest.mark.torch
@settings(max_examples=8, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_torch_records_scanned_as_torchs_reader_returns_them(
        oracle: Oracle, scanned: Scanned, checkpoint: bytes, data: st.DataObject) -> None:
    """Every pickle record torch's reader returns (``*.pkl``) was analysed; storages under
    ``data/`` are weights torch never unpickles."""
    mutated = data.draw(mutate(checkpoint))
    check(oracle, scanned, "torch_records", mutated, key="records", only=(".pkl",))


@pytest.mark.torch
@pytest.mark.slow
@settings(max_examples=400, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_many_torch_records_scanned_as_torchs_reader_returns_them(
        oracle: Oracle, scanned: Scanned, checkpoint: bytes, data: st.DataObject) -> None:
    mutated = data.draw(mutate(checkpoint))
    check(oracle, scanned, "torch_records", mutated, key="records", only=(".pkl",))


# ------------------------------------------------------------------ named regressions


def _zip(name: str, content: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(name, content)
    return buf.getvalue()


def _declared_size(data: bytes, size: int) -> bytes:
    """``data`` (one member) with the central directory declaring ``size`` uncompressed bytes."""
    out = bytearray(data)
    central = out.rfind(b"PK\x01\x02")
    out[central + 24:central + 28] = size.to_bytes(4, "little")
    return bytes(out)


def _zip_method(name: str, content: bytes, method: int) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=method) as zf:
        zf.writestr(name, content)
    return buf.getvalue()


def _zip_symlink(name: str, content: bytes) -> bytes:
    buf = io.BytesIO()
    info = zipfile.ZipInfo(name)
    info.external_attr = 0o120777 << 16  # a symbolic link to an extractor
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(info, content)
    return buf.getvalue()


REGRESSIONS = {
    # a member whose mode says symbolic link is still returned by zipfile.read (and torch's
    # reader): it was reported (MW-ARC-003) but its bytes were never scanned
    "zip-member-marked-as-symlink": (_zip_symlink("model.pkl", PAYLOAD), "zip_members"),
    # zipfile reads compressed data to its end whatever size the directory declares; a declared
    # size past the ratio limit made the scanner skip the member as a bomb, unread
    "zip-declared-bomb-size-bz2": (_declared_size(_zip_method("model.pkl", PAYLOAD,
                                                              zipfile.ZIP_BZIP2), 0x100056),
                                   "zip_members"),
    "zip-declared-bomb-size-deflate": (_declared_size(_zip_method("model.pkl", PAYLOAD,
                                                                  zipfile.ZIP_DEFLATED), 1 << 30),
                                       "zip_members"),
    # zipfile does not check that the end record's comment reaches the end of the file: with
    # bytes before *and* after the archive it still reads it; the scanner's detect did not
    "zip-bytes-before-and-after": (b"\x00" * 7 + _zip("model.pkl", PAYLOAD) + b"\x00" * 512,
                                   "zip_members"),
    "zip-junk-before-text-after": (b"junk-before" + _zip("model.pkl", PAYLOAD) + b"trailing",
                                   "zip_members"),
}


@pytest.mark.parametrize("name", sorted(REGRESSIONS))
def test_regression(oracle: Oracle, scanned: Scanned, name: str) -> None:
    from .conftest import critical

    data, question = REGRESSIONS[name]
    assert check(oracle, scanned, question, data), "the reader returns members"
    assert critical(scan(data, "archive.bin"))


def test_seven_zip_duplicate_name_is_scanned(oracle: Oracle, scanned: Scanned) -> None:
    """py7zr extracts a second member of the same name as ``name_0``; the scanner looked members
    up by their listed names only and never scanned it."""
    from .conftest import critical

    data = seven_zip([("dup.pkl", BENIGN), ("dup.pkl", PAYLOAD)])
    assert "dup.pkl_0" in check(oracle, scanned, "seven_zip_members", data)
    assert critical(scan(data, "archive.7z"))


def _gzip_flags(flags: int, extra: bytes = b"") -> bytes:
    packed = gzip.compress(PAYLOAD, mtime=0)
    return packed[:3] + bytes([flags]) + packed[4:10] + extra + packed[10:]


GZIP_REGRESSIONS = {
    # gzip.GzipFile ignores reserved flag bits and never checks the header CRC; zlib's gzip mode
    # (what the scanner decoded with) refuses both, so the payload was never analysed
    "gzip-reserved-flag-bit": _gzip_flags(0x20),
    "gzip-all-reserved-bits": _gzip_flags(0xE0),
    "gzip-wrong-header-crc": _gzip_flags(0x02, b"\xde\xad"),
    # gzip skips zero bytes between members
    "gzip-zero-padding-between-members": gzip.compress(BENIGN) + b"\x00" * 9
    + gzip.compress(PAYLOAD),
    # a file name running to the end of the header area is read up to its NUL
    "gzip-name-and-comment": _gzip_flags(0x18, b"model.pkl\x00a comment\x00"),
}


@pytest.mark.parametrize("name", sorted(GZIP_REGRESSIONS))
def test_gzip_regression(oracle: Oracle, scanned: Scanned, name: str) -> None:
    from .conftest import critical

    data = GZIP_REGRESSIONS[name]
    said = oracle.ask("stream", data, codec="gzip")
    assert said["ok"] and said["stream"][1] > 0, said
    _check_stream(oracle, scanned, "gzip", data)
    assert critical(scan(data, "model.pkl.gz"))


@pytest.mark.parametrize("name", ["skippable-frame-first", "skippable-frame-between"])
def test_zstd_regression(oracle: Oracle, scanned: Scanned, name: str) -> None:
    """``ZstdFile`` steps over skippable frames; the scanner did not recognise a file starting
    with one (nothing reported) and stopped at one between frames (payload unseen)."""
    from .conftest import critical

    data = _SKIPPABLE + _zstd_compress(PAYLOAD) if name == "skippable-frame-first" else \
        _zstd_compress(b"") + _SKIPPABLE + _zstd_compress(PAYLOAD)
    said = oracle.ask("stream", data, codec="zstd")
    assert said["ok"] and said["stream"][1] == len(PAYLOAD), said
    _check_stream(oracle, scanned, "zstd", data)
    assert critical(scan(data, "model.pkl.zst"))
