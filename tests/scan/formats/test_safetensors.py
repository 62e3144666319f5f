"""safetensors: files from the real library are clean; every header/layout violation is found."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from safetensors.numpy import save as np_save

from mlwarden.core.severity import Severity
from mlwarden.scan.interface import ScanLimits

from .conftest import assert_no_crash, by_rule, format_of, scan


def real_file() -> bytes:
    return np_save({"w": np.ones((4, 4), np.float32), "b": np.zeros(3, np.int64),
                    "flag": np.array([True, False])}, metadata={"format": "np"})


def handmade(header: dict[str, Any] | bytes, data: bytes, pad: int = 0) -> bytes:
    raw = header if isinstance(header, bytes) else json.dumps(header).encode()
    raw += b" " * pad
    return struct.pack("<Q", len(raw)) + raw + data


def test_numpy_file_is_clean() -> None:
    ctx = scan(real_file())
    assert format_of(ctx) == "safetensors" and ctx.findings == []


def test_torch_file_is_clean(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    from safetensors.torch import save_file

    path = tmp_path / "m.safetensors"
    save_file({"emb": torch.randn(10, 4), "half": torch.zeros(3, dtype=torch.bfloat16),
               "empty": torch.zeros(0, 4)}, str(path))
    ctx = scan(path.read_bytes())
    assert format_of(ctx) == "safetensors" and ctx.findings == []


T = {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}


@pytest.mark.parametrize(("label", "data", "rule"), [
    ("not-json", handmade(b"{nope", b""), "MW-SAFET-001"),
    ("not-utf8", handmade(b'{"\xff": 1}', b""), "MW-SAFET-001"),
    ("duplicate-key", handmade(b'{"a": ' + json.dumps(T).encode() + b', "a": '
                               + json.dumps(T).encode() + b"}", b"\0" * 8), "MW-SAFET-001"),
    ("entry-not-object", handmade(b'{"a": [1]}', b""), "MW-SAFET-001"),
    ("metadata-not-str", handmade({"__metadata__": {"n": 1}, "t": T}, b"\0" * 8), "MW-SAFET-001"),
    ("unknown-dtype", handmade({"t": {**T, "dtype": "OBJ"}}, b"\0" * 8), "MW-SAFET-001"),
    ("negative-shape", handmade({"t": {**T, "shape": [-2]}}, b"\0" * 8), "MW-SAFET-001"),
    ("three-offsets", handmade({"t": {**T, "data_offsets": [0, 4, 8]}}, b"\0" * 8),
     "MW-SAFET-001"),
    ("size-mismatch", handmade({"t": {**T, "shape": [3]}}, b"\0" * 8), "MW-SAFET-002"),
    ("reversed", handmade({"t": {**T, "data_offsets": [8, 0]}}, b"\0" * 8), "MW-SAFET-002"),
    ("overlap", handmade({"a": T, "b": {**T, "data_offsets": [4, 12]}}, b"\0" * 12),
     "MW-SAFET-002"),
    ("hole", handmade({"a": T, "b": {**T, "data_offsets": [12, 20]}}, b"\0" * 20),
     "MW-SAFET-002"),
    ("out-of-bounds", handmade({"t": {**T, "shape": [1000], "data_offsets": [0, 4000]}},
                               b"\0" * 8), "MW-SAFET-002"),
    ("trailing-bytes", handmade({"t": T}, b"\0" * 8 + b"hidden payload"), "MW-SAFET-002"),
    ("sub-byte", handmade({"t": {"dtype": "F4", "shape": [3], "data_offsets": [0, 2]}},
                          b"\0" * 2), "MW-SAFET-002"),
])
def test_violations_are_found(label: str, data: bytes, rule: str) -> None:
    ctx = scan(data)
    assert_no_crash(ctx)
    assert format_of(ctx) == "safetensors", label
    findings = by_rule(ctx, rule)
    assert findings, (label, ctx.findings)
    assert all(f.severity is Severity.HIGH for f in findings)


def test_header_over_the_limit() -> None:
    data = handmade({"t": T}, b"\0" * 8, pad=5000)
    ctx = scan(data, limits=ScanLimits(max_header_size=1000))
    [finding] = by_rule(ctx, "MW-SAFET-001")
    assert "limit" in finding.message


def test_padded_header_and_f4_pairs_are_valid() -> None:
    ok = handmade({"t": {"dtype": "F4", "shape": [4], "data_offsets": [0, 2]}}, b"\0\0", pad=7)
    assert scan(ok).findings == []


@pytest.mark.parametrize("tail", [b"{}", b"{x", b"{\x00\x01", b"[\"a\"]", b"{"])
def test_length_beyond_file_without_a_json_object_is_not_claimed(tail: bytes) -> None:
    assert format_of(scan(struct.pack("<Q", 10**9) + tail + b"\0" * 64)) != "safetensors"


@pytest.mark.parametrize("length", [1 << 40, (1 << 64) - 1, 10**9, 5000])
@pytest.mark.parametrize("start", [b'{"a":{"dtype":"F32"', b'{ "a"', b'{\n  "a"', b'{\t"a"'])
def test_absurd_header_length_is_a_high_finding(length: int, start: bytes) -> None:
    # What a loader reads as "allocate `length` bytes for the header": 1 TiB in a tiny file.
    data = struct.pack("<Q", length) + start + b' ' * 64
    ctx = scan(data, limits=ScanLimits(max_header_size=2000))
    assert format_of(ctx) == "safetensors"
    [finding] = by_rule(ctx, "MW-SAFET-001")
    assert finding.severity is Severity.HIGH
    assert finding.evidence["header_size"] == length
    assert finding.evidence["file_size"] == len(data)
    assert ("limit" if length > 2000 else "past the end") in finding.message


def test_random_bytes_are_not_claimed() -> None:
    rng = np.random.default_rng(7)
    claimed = 0
    for _ in range(2000):
        data = bytearray(rng.integers(0, 256, 200, dtype=np.uint8).tobytes())
        data[8] = ord("{")
        claimed += format_of(scan(bytes(data))) == "safetensors"
    # Only the ~4% whose 10th byte is '"' or JSON whitespace, and whose length is absurd.
    assert claimed < 2000 * 0.05


@settings(max_examples=150, deadline=None)
@given(st.integers(0, (1 << 64) - 1), st.sampled_from([b'"', b" ", b"\n", b"\t", b"\r"]),
       st.binary(max_size=120))
def test_any_length_past_the_end_with_a_json_start_is_high(length: int, second: bytes,
                                                           rest: bytes) -> None:
    data = struct.pack("<Q", length) + b"{" + second + rest
    assume(length > len(data) - 8)
    ctx = scan(data)
    assert_no_crash(ctx)
    assert format_of(ctx) == "safetensors"
    assert [f.severity for f in by_rule(ctx, "MW-SAFET-001")] == [Severity.HIGH]
