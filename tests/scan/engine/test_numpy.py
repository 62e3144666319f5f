"""NumPy .npy and .npz: plain arrays, object arrays (pickles) and damaged headers."""

from __future__ import annotations

import contextlib
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlwarden.scan.formats.numpy_file import NpyHeaderError, itemsize, parse_header

from .conftest import Payload, critical, rules, scan

np = pytest.importorskip("numpy")


def npy(array: object, **kwargs: object) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array, **kwargs)
    return buf.getvalue()


@pytest.mark.parametrize("array", [np.arange(12, dtype="<f4").reshape(3, 4), np.zeros((0, 5)),
                                   np.array(["abc", "de"]), np.array([b"xy"]),
                                   np.zeros(3, dtype=[("a", "<i4"), ("b", "|S3", (2,))]),
                                   np.array(np.datetime64("2020-01-01"))])
def test_plain_arrays_are_clean(array: object) -> None:
    report = scan(npy(array), "a.npy")
    assert not report.findings, [f.message for f in report.findings]
    assert report.metadata["formats"]["a.npy"] == "numpy"


def test_object_array_of_plain_data_is_low_only() -> None:
    data = npy(np.array([1, "two", [3, 4], {"k": 5.0}], dtype=object), allow_pickle=True)
    report = scan(data, "o.npy")
    assert rules(report) == {"MW-NPY-001"}
    assert report.metadata["formats"]["o.npy"] == "numpy-object"


def test_malicious_object_array_is_critical() -> None:
    data = npy(np.array([Payload(), 1], dtype=object), allow_pickle=True)
    report = scan(data, "weights.npy")
    assert critical(report)


def _respelled(descr: object) -> bytes:
    """A malicious object array whose header names its dtype ``descr`` (padded like numpy)."""
    data = npy(np.array([Payload(), 1], dtype=object), allow_pickle=True)
    length = int.from_bytes(data[8:10], "little")
    header = f"{{'descr': {descr!r}, 'fortran_order': False, 'shape': (2,), }}"
    header += " " * (length - 1 - len(header)) + "\n"
    assert len(header) == length
    return data[:10] + header.encode("latin-1") + data[10 + length:]


@pytest.mark.parametrize("descr", ["O", "|O", "O8", "<O", "=O", "object", "object_", ">O8",
                                   [("a", "O")], ("O", (1,)),
                                   # descr_to_dtype iterates a dict's keys / a string as fields
                                   {"aO": 1}, ["aO"]])
@pytest.mark.parametrize("with_numpy", [True, False])
def test_every_object_descr_spelling_is_analysed(descr: object, with_numpy: bool,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from mlwarden.scan.formats import numpy_file

    if not with_numpy:
        monkeypatch.setattr(numpy_file, "_numpy_has_objects", lambda descr: None)
    report = scan(_respelled(descr), "o.npy")
    assert "MW-NPY-001" in rules(report)
    assert critical(report)


@pytest.mark.parametrize("descr", ["object", "object_", "|O8", "i4,O", "(2,)O"])
def test_fallback_agrees_with_numpy(descr: str) -> None:
    from mlwarden.scan.formats.numpy_file import _has_objects, _numpy_has_objects

    assert _numpy_has_objects(descr) is True
    assert _has_objects(descr) is True
    assert _numpy_has_objects("<f4") is False and _has_objects("<f4") is False


def test_npz_plain_and_malicious() -> None:
    buf = io.BytesIO()
    np.savez_compressed(buf, a=np.arange(10), b=np.ones((2, 2)))
    report = scan(buf.getvalue(), "w.npz")
    assert not report.findings
    assert report.metadata["formats"]["w.npz!a.npy"] == "numpy"
    buf = io.BytesIO()
    np.savez(buf, a=np.arange(3), evil=np.array([Payload()], dtype=object))
    assert critical(scan(buf.getvalue(), "w.npz"))


def test_size_mismatches_are_findings() -> None:
    data = npy(np.arange(100, dtype="<i8"))
    assert "MW-NPY-002" in rules(scan(data[:-8]))
    report = scan(data + b"\x80\x04hidden")
    assert "MW-NPY-002" in rules(report)


@pytest.mark.parametrize("header", [b"{'descr': __import__('os').system('x')}",
                                    b"not a dict at all", b"{'descr': '<f4'}",
                                    b"{'descr': '<f4', 'fortran_order': 1, 'shape': (2,)}"])
def test_bad_headers_are_rejected_without_evaluation(header: bytes) -> None:
    raw = b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header
    with pytest.raises(NpyHeaderError):
        parse_header(raw, 1 << 20)
    report = scan(raw)
    assert "MW-NPY-002" in rules(report)


def test_negative_dimension_of_a_plain_array_is_malformed() -> None:
    """numpy's header check takes any int (``(-1,)`` passes it); a plain dtype then fails to
    load, so the scanner says malformed (an object dtype is analysed: see test_npy_parity)."""
    header = b"{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}"
    raw = b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header
    assert parse_header(raw, 1 << 20).shape == (-1,)
    assert rules(scan(raw)) == {"MW-NPY-002"}


def test_oversized_header_and_versions() -> None:
    with pytest.raises(NpyHeaderError, match="truncated"):
        parse_header(b"\x93NUMPY\x02\x00" + (1 << 30).to_bytes(4, "little"), 1 << 20)
    with pytest.raises(NpyHeaderError, match="exceeds") as info:
        parse_header(b"\x93NUMPY\x02\x00" + (64).to_bytes(4, "little") + b" " * 64, 32)
    assert info.value.data_offset == 12 + 64
    with pytest.raises(NpyHeaderError, match="version"):
        parse_header(b"\x93NUMPY\x09\x00\x00\x00", 1 << 20)
    v3 = npy(np.array(["é"]))
    assert parse_header(v3, 1 << 20).shape == (1,)


def test_itemsize_matches_numpy() -> None:
    for dtype in ["<f2", "<c16", "|b1", "<U7", "|S5", "|V12", "<M8[ns]", "<u8"]:
        assert itemsize(np.lib.format.dtype_to_descr(np.dtype(dtype))) == np.dtype(dtype).itemsize
    structured = np.dtype([("a", "<i4"), ("b", "<f8", (3,))])
    assert itemsize(np.lib.format.dtype_to_descr(structured)) == structured.itemsize


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_random_headers_never_raise_anything_else(tail: bytes) -> None:
    with contextlib.suppress(NpyHeaderError):
        parse_header(b"\x93NUMPY" + tail, 1 << 16)
