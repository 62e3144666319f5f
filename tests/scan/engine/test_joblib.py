"""joblib files with every compressor, and generic compressed streams."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import tarfile
import zlib
from pathlib import Path

import pytest

from mlwarden.scan.interface import ScanLimits

from .conftest import Payload, critical, evil_pickle, rules, scan, scan_file

joblib = pytest.importorskip("joblib")
COMPRESSORS = ["zlib", "gzip", "bz2", "lzma", "xz"]


@pytest.fixture(scope="module")
def model() -> object:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rng = __import__("numpy").random.default_rng(0)
    x = rng.normal(size=(60, 4))
    return make_pipeline(StandardScaler(), LogisticRegression()).fit(x, (x[:, 0] > 0).astype(int))


@pytest.mark.parametrize("compressor", [None, *COMPRESSORS])
def test_real_sklearn_model_is_clean(tmp_path: Path, model: object, compressor: str | None) -> None:
    path = tmp_path / "model.bin"  # the extension says nothing
    joblib.dump(model, path, compress=(compressor, 3) if compressor else 0)
    report = scan_file(path)
    assert not report.findings, [f.message for f in report.findings]
    fmt = report.metadata["formats"][str(path)]
    assert fmt == ("pickle" if compressor is None else f"compressed ({compressor})")


@pytest.mark.parametrize("compressor", [None, *COMPRESSORS])
def test_malicious_object_is_critical(tmp_path: Path, compressor: str | None) -> None:
    path = tmp_path / "evil.joblib"
    joblib.dump({"model": Payload()}, path, compress=(compressor, 3) if compressor else 0)
    assert critical(scan_file(path))


def test_legacy_zf_format() -> None:
    body = evil_pickle()
    data = b"ZF" + hex(len(body)).encode().ljust(19) + zlib.compress(body)
    report = scan(data)
    assert critical(report)
    assert report.metadata["formats"]["x.bin"] == "compressed (zlib-zf)"


def test_pkl_gz_and_tar_xz() -> None:
    assert critical(scan(gzip.compress(evil_pickle()), "model.pkl.gz"))
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:xz") as tar:
        info = tarfile.TarInfo("inner/model.pt")
        payload = evil_pickle()
        info.size = len(payload)
        tar.addfile(info, io.BytesIO(payload))
    report = scan(buf.getvalue(), "bundle.tar.xz")
    assert critical(report)
    assert any(f.location.member == "<xz>/inner/model.pt" for f in report.findings)


def test_concatenated_gzip_members_all_scanned() -> None:
    payload = evil_pickle()
    data = gzip.compress(payload[:20]) + gzip.compress(payload[20:])
    # gzip readers concatenate members: the pickle is whole only across both
    assert critical(scan(data))


def test_bomb_is_bounded_and_reported() -> None:
    limits = ScanLimits(max_member_size=4 << 20)
    blob = zlib.compress(b"\x00" * (16 << 20), 9)
    from mlwarden.scan.engine import scan_bytes

    report = scan_bytes(blob, limits=limits)
    assert "MW-ARC-001" in rules(report)


def test_corrupt_and_truncated_streams_are_findings() -> None:
    for data in (bz2.compress(evil_pickle())[:-10], lzma.compress(evil_pickle())[:-8],
                 gzip.compress(evil_pickle())[:-12]):
        report = scan(data)
        assert "MW-ARC-005" in rules(report)
        assert report.findings


def test_large_output_spills_to_a_temporary_file(monkeypatch: pytest.MonkeyPatch) -> None:
    import mmap

    from mlwarden.scan.formats import streams

    monkeypatch.setattr(streams, "SPILL_AT", 1 << 20)
    payload = evil_pickle() + b"\x00" * (3 << 20)  # trailing zeros after STOP
    result = streams.inflate_zlib(gzip.compress(payload), 1 << 30, wbits=31)
    assert result.complete and isinstance(result.data, memoryview)
    assert isinstance(result.data.obj, mmap.mmap)
    assert bytes(result.data[:64]) == payload[:64] and len(result.data) == len(payload)
    assert critical(scan(gzip.compress(payload)))


def test_zstd_frames_are_decompressed_and_scanned() -> None:
    zstd = pytest.importorskip("backports.zstd")
    payload = evil_pickle()
    report = scan(zstd.compress(payload[:8]) + zstd.compress(payload[8:]), "model.pkl.zst")
    assert critical(report)  # frames are joined, as zstd -d joins them
    assert report.metadata["formats"]["model.pkl.zst"] == "compressed (zstd)"
    from mlwarden.scan.engine import scan_bytes

    bomb = scan_bytes(zstd.compress(b"\0" * (2 << 20)), limits=ScanLimits(max_member_size=1 << 20))
    assert "MW-ARC-001" in rules(bomb)


def test_zstd_without_a_decoder_fails_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    from mlwarden.scan.formats import joblib_file

    monkeypatch.setattr(joblib_file, "_zstd_module", lambda: None)
    frame = b"\x28\xb5\x2f\xfd\xa0" + bytes(8)
    report = scan(frame, "model.pkl.zst")
    assert [(f.rule_id, f.severity.value) for f in report.findings] == [("MW-ARC-007", "high")]
    assert report.skipped
