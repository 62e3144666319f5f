"""Hostile bytes never crash the VM, never hang it, and never come back clean when broken."""

from __future__ import annotations

import mmap
import pickle
import time
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlwarden.scan.interface import ScanContext, ScanLimits, ScanTarget
from mlwarden.scan.pickle import analyze_pickle, analyze_pickles, looks_like_pickle

LIMITS = ScanLimits(max_pickle_opcodes=200_000, max_pickle_stack=50_000, max_pickle_memo=50_000)

SEEDS = [pickle.dumps(obj, protocol=p) for p in range(6) for obj in (
    {"w": [1.5, 2, "x", b"y", None, True], "t": (1, (2, 3)), "s": {4}, "f": frozenset([5])},
    np.arange(6, dtype=np.int16).reshape(2, 3),
    [10**30, -7, 3.25, "ünïcode", bytearray(b"ab")],
)]


def _run(data: bytes) -> None:
    ctx = ScanContext(limits=LIMITS)
    target = ScanTarget(path="fuzz.pkl", data=data)
    start = time.perf_counter()
    results = analyze_pickles(target, ctx)
    result = analyze_pickle(target, ctx)
    assert time.perf_counter() - start < 5
    assert 0 <= result.end <= len(data)
    for r in results:
        assert r.start <= r.end <= len(data)
    if not result.complete:  # a broken stream is never clean
        assert ctx.findings
    looks_like_pickle(data[:256])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2048))
def test_random_bytes(data: bytes) -> None:
    _run(data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=512))
def test_random_bytes_after_a_protocol_header(data: bytes) -> None:
    _run(b"\x80\x04" + data)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SEEDS), st.data())
def test_mutated_and_truncated_real_pickles(seed: bytes, data: st.DataObject) -> None:
    buf = bytearray(seed)
    for _ in range(data.draw(st.integers(0, 6))):
        pos = data.draw(st.integers(0, len(buf) - 1))
        action = data.draw(st.sampled_from(["flip", "insert", "delete"]))
        if action == "flip":
            buf[pos] = data.draw(st.integers(0, 255))
        elif action == "insert":
            buf[pos:pos] = data.draw(st.binary(min_size=1, max_size=8))
        elif len(buf) > 1:
            del buf[pos]
    cut = data.draw(st.integers(0, len(buf)))
    _run(bytes(buf[:cut]))


def test_complete_seeds_are_clean() -> None:
    for seed in SEEDS:
        ctx = ScanContext(limits=LIMITS)
        result = analyze_pickle(ScanTarget(path="seed.pkl", data=seed), ctx)
        assert result.complete and ctx.findings == []


def test_memoryview_of_a_slice_is_supported() -> None:
    payload = b"junk" + pickle.dumps({"a": "line\nbreak"}, protocol=0) + b"tail"
    view = memoryview(payload)[4:-4]
    ctx = ScanContext()
    result = analyze_pickle(ScanTarget(path="v.pkl", data=view), ctx)
    assert result.complete and result.end == len(view) and ctx.findings == []


_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
    | st.binary(max_size=20) | st.complex_numbers(allow_nan=False),
    lambda children: st.lists(children, max_size=5) | st.tuples(children, children)
    | st.dictionaries(st.text(max_size=5), children, max_size=5)
    | st.frozensets(st.integers(), max_size=4),
    max_leaves=25,
)


@settings(max_examples=150, deadline=None)
@given(_values, st.integers(0, 5))
def test_any_plain_value_pickle_is_clean_and_ends_at_stop(value: object, protocol: int) -> None:
    data = pickle.dumps(value, protocol=protocol) + b"\x00tail"
    ctx = ScanContext()
    result = analyze_pickle(ScanTarget(path="v.pkl", data=data), ctx)
    assert result.complete and result.end == len(data) - 5 and ctx.findings == []


def test_mmap_backed_memoryview(tmp_path: Path) -> None:
    path = tmp_path / "m.pkl"
    path.write_bytes(pickle.dumps([{"k": "v\nw"}, 1.5, 10**20], protocol=0)
                     + b"cos\nsystem\n(S'id'\ntR.")
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
        view = memoryview(mapped)
        ctx = ScanContext()
        results = analyze_pickles(ScanTarget(path=str(path), data=view), ctx)
        assert [r.complete for r in results] == [True, True]
        assert [f.rule_id for f in ctx.findings] == ["MW-PKL-001"]
        view.release()


def test_strided_and_typed_views() -> None:
    data = pickle.dumps([1, 2, 3], protocol=2)
    doubled = bytes(b for c in data for b in (c, 0))
    strided = memoryview(doubled)[::2]
    typed = memoryview(np.frombuffer(data.ljust(len(data) + (-len(data)) % 4, b"\x00"),
                                     dtype=np.int32))
    for view in (strided, typed):
        ctx = ScanContext()
        result = analyze_pickle(ScanTarget(path="v.pkl", data=view), ctx)
        assert result.complete and result.end == len(data) and ctx.findings == []
