"""The legacy torch stream (five pickles, then raw storages) and the torch < 0.4 tar format."""

from __future__ import annotations

import io
import pickle
import struct
import tarfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from .conftest import Payload, benign_pickle, critical, evil_pickle, rules, scan, scan_file

_FLOAT_STORAGE_ARGS = (b"\x80\x02(X\x01\x00\x00\x000X\x03\x00\x00\x00cpu"
                       b"ctorch\nFloatStorage\nt.")
"""``('0', 'cpu', torch.FloatStorage)``: a storage record header, built opcode by opcode."""


def legacy_tar(storages: bytes, main: bytes = b"", tensors: bytes | None = None) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in (("sys_info", pickle.dumps({"little_endian": True}, protocol=2)),
                           ("pickle", main or benign_pickle()), ("storages", storages),
                           ("tensors", tensors if tensors is not None else pickle.dumps(0, 2))):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def storage_record(numel: int) -> bytes:
    return _FLOAT_STORAGE_ARGS + struct.pack("<q", numel) + b"\x00\x01\x02\x03" * numel


def test_legacy_stream_real_files(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    good = tmp_path / "good.pt"
    torch.save({"w": torch.ones(1000)}, good, _use_new_zipfile_serialization=False)
    report = scan_file(good)
    assert not report.findings, report.findings
    assert report.metadata["formats"][str(good)] == "torch-legacy"
    evil = tmp_path / "evil.ckpt"
    torch.save({"w": torch.ones(3), "x": Payload()}, evil, _use_new_zipfile_serialization=False)
    assert critical(scan_file(evil))


def test_legacy_stream_payload_in_any_of_the_five_pickles() -> None:
    magic = pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2)
    parts = [magic, pickle.dumps(1001, 2), pickle.dumps({"little_endian": True}, 2),
             benign_pickle(), pickle.dumps(["0"], 2)]
    assert not scan(b"".join(parts) + b"\x00" * 64).findings
    for index in range(1, 5):
        tampered = list(parts)
        tampered[index] = evil_pickle()
        assert critical(scan(b"".join(tampered))), index


def test_legacy_stream_truncated_is_a_finding() -> None:
    magic = pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2)
    report = scan(magic + pickle.dumps(1001, 2))
    assert "MW-ARC-005" in rules(report)


def test_legacy_tar_clean_and_payloads() -> None:
    storages = pickle.dumps(1, 2) + storage_record(4) + pickle.dumps([], 2)
    report = scan(legacy_tar(storages))
    assert not report.findings, report.findings
    assert report.metadata["formats"]["x.bin"] == "torch-legacy-tar"
    assert critical(scan(legacy_tar(storages, main=evil_pickle())))
    # A payload in the second storage record, after raw bytes that contain no pickle.
    hidden = pickle.dumps(2, 2) + storage_record(3) + evil_pickle()
    assert critical(scan(legacy_tar(hidden)))
    # ... and in the tensors member.
    tensors = pickle.dumps(1, 2) + evil_pickle()
    assert critical(scan(legacy_tar(storages, tensors=tensors)))


def test_legacy_tar_unknown_storage_type_is_a_skip() -> None:
    odd = pickle.dumps(1, 2) + pickle.dumps(("0", "cpu", "not-a-class"), 2) + b"\x00" * 16
    report = scan(legacy_tar(odd))
    assert any("element size" in s.reason for s in report.skipped)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300), st.integers(min_value=0, max_value=5))
def test_random_storage_records_never_raise(tail: bytes, count: int) -> None:
    report = scan(legacy_tar(pickle.dumps(count, 2) + tail, tensors=pickle.dumps(count, 2) + tail))
    assert "MW-FMT-001" not in rules(report)
