"""Property tests: random bytes and truncations into every container parser never raise, and a
truncated malicious file is never reported clean."""

from __future__ import annotations

import contextlib
import gzip
import io
import tarfile

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlwarden.scan.engine import scan_bytes
from mlwarden.scan.formats import zipreader
from mlwarden.scan.formats.archive import looks_like_tar
from mlwarden.scan.formats.joblib_file import codec_of
from mlwarden.scan.formats.streams import inflate_zlib

from .conftest import Member, benign_pickle, build_zip, evil_pickle

MAGICS = [b"", b"PK\x03\x04", b"PK\x05\x06", b"\x93NUMPY\x01\x00", b"\x93NUMPY\x03\x00",
          b"\x1f\x8b\x08", b"BZh91AY&SY", b"\xfd7zXZ\x00", b"\x5d\x00\x00\x80\x00", b"\x78\x9c",
          b"ZF0x" + b" " * 16 + b"\x78", b"7z\xbc\xaf\x27\x1c",
          b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19", b"\x80\x04\x95",
          b"\x28\xb5\x2f\xfd", b"\x28\xb5\x2f\xfd\xa0"]
SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def _zip() -> bytes:
    return build_zip([Member("archive/data.pkl", evil_pickle(), method=8),
                      Member("archive/version", b"3\n"), Member("archive/data/0", b"\x00" * 64)])


def _tar() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        data = evil_pickle()
        info = tarfile.TarInfo("m.pkl")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


SAMPLES = [_zip(), _tar(), gzip.compress(evil_pickle())]


@SETTINGS
@given(st.sampled_from(MAGICS), st.binary(max_size=600))
def test_random_bytes_never_raise(magic: bytes, tail: bytes) -> None:
    report = scan_bytes(magic + tail)
    assert "MW-FMT-001" not in {f.rule_id for f in report.findings}, report.findings


@SETTINGS
@given(st.sampled_from(range(len(SAMPLES))), st.data())
def test_truncations_and_bit_flips_never_raise(which: int, data: st.DataObject) -> None:
    sample = bytearray(SAMPLES[which])
    cut = data.draw(st.integers(min_value=1, max_value=len(sample)))
    flips = data.draw(st.lists(st.tuples(st.integers(0, len(sample) - 1), st.integers(0, 255)),
                               max_size=4))
    for pos, value in flips:
        sample[pos] = value
    report = scan_bytes(bytes(sample[:cut]))
    assert "MW-FMT-001" not in {f.rule_id for f in report.findings}, report.findings


@SETTINGS
@given(st.integers(min_value=0, max_value=200))
def test_truncated_payload_archives_are_never_clean(keep: int) -> None:
    data = _zip()
    report = scan_bytes(data[: len(data) - keep])
    assert report.findings or report.skipped


@SETTINGS
@given(st.binary(max_size=400))
def test_zip_reader_api_on_random_bytes(data: bytes) -> None:
    zipreader.looks_like_zip(data[:64], data)
    try:
        directory = zipreader.read_directory(data)
    except zipreader.ZipFormatError:
        return
    for entry in directory.entries:
        with contextlib.suppress(zipreader.MemberError):
            zipreader.read_member(data, entry, 1 << 16)


@SETTINGS
@given(st.binary(max_size=700))
def test_sniffers_on_random_bytes(data: bytes) -> None:
    looks_like_tar(data)
    codec_of(data)
    inflate_zlib(data, 1 << 16, wbits=-15)


def test_benign_zip_round_trip() -> None:
    zipped = build_zip([Member("a.pkl", benign_pickle(), method=8)])
    directory = zipreader.read_directory(zipped)
    (entry,) = directory.entries
    assert bytes(zipreader.read_member(zipped, entry, 1 << 20).data) == benign_pickle()


@SETTINGS
@given(st.binary(max_size=2048), st.integers(1, 1 << 16))
def test_deflate64_never_raises_and_respects_the_limit(data: bytes, limit: int) -> None:
    result = zipreader.inflate_deflate64(data, limit)
    assert len(result.data) <= limit
    assert result.complete or result.error is not None or result.overflow


@SETTINGS
@given(st.binary(max_size=600), st.integers(0, 599))
def test_truncated_zstd_payload_is_never_clean(tail: bytes, cut: int) -> None:
    import pytest

    zstd = pytest.importorskip("backports.zstd")
    frame = zstd.compress(evil_pickle() + tail)
    report = scan_bytes(frame[:max(cut, 8)])
    assert report.metadata["formats"]["<bytes>"] == "compressed (zstd)"
    assert report.findings  # the payload when it survived the cut, a damaged stream otherwise
