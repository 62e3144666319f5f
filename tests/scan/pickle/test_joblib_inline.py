"""joblib's inline array buffers: skipped exactly as joblib's reader does, object arrays analysed."""

from __future__ import annotations

import struct
import time
from pathlib import Path

import pytest

from mlwarden.core.severity import Severity
from tests.scan.pickle.opcodes import (
    BUILD,
    EMPTY_DICT,
    EMPTY_TUPLE,
    MARK,
    NEWOBJ,
    REDUCE,
    SETITEMS,
    STOP,
    TUPLE,
    TUPLE3,
    binint1,
    by_rule,
    call,
    global_,
    proto,
    s,
    scan,
)


def _dtype(code: str, flags: int) -> bytes:
    state = (MARK + binint1(3) + s("<") + b"NNN" + b"J" + struct.pack("<i", -1)
             + b"J" + struct.pack("<i", -1) + binint1(flags) + TUPLE)
    return (global_("numpy", "dtype") + s(code) + b"\x89\x88" + TUPLE3 + REDUCE + state + BUILD)


def wrapper(code: str, shape: tuple[int, ...], *, flags: int = 0, aligned: bool = True,
            allow_mmap: bool | None = None) -> bytes:
    """A NumpyArrayWrapper as joblib writes it: ``allow_mmap`` is false for object arrays
    (a true one has two readings: see test_joblib_arrays_parity)."""
    if allow_mmap is None:
        allow_mmap = not code.lstrip("<>|=").startswith("O")
    items = (s("subclass") + global_("numpy", "ndarray") + s("shape") + MARK
             + b"".join(binint1(d) for d in shape) + TUPLE + s("order") + s("C")
             + s("dtype") + _dtype(code, flags) + s("allow_mmap")
             + (b"\x88" if allow_mmap else b"\x89"))
    if aligned:
        items += s("numpy_array_alignment_bytes") + binint1(16)
    return (global_("joblib.numpy_pickle", "NumpyArrayWrapper") + EMPTY_TUPLE + NEWOBJ + EMPTY_DICT
            + MARK + items + SETITEMS + BUILD)


EVIL = call("os", "system", s("touch /tmp/should-not-exist"), protocol=4)


def test_array_bytes_are_skipped_like_joblib_does() -> None:
    raw = bytes(range(48))  # 2 x 3 float64 = 48 raw bytes: data, never opcodes
    data = proto(2) + MARK + wrapper("f8", (2, 3)) + bytes([3]) + b"\xff" * 3 + raw + TUPLE + STOP
    ctx, [result] = scan(data)
    assert result.complete and result.end == len(data)
    assert ctx.findings == []


def test_payload_hidden_in_array_bytes_runs_under_plain_pickle_load() -> None:
    # joblib skips the 48 bytes; pickle.load executes them (the padding byte is read as an opcode
    # too, so the payload starts where pickle.load would be)
    hidden = b"cos\nsystem\n(S'touch /tmp/x'\ntR."
    data = proto(2) + MARK + wrapper("f8", (2, 3), aligned=False) + hidden.ljust(48, b"N") + TUPLE + STOP
    ctx, [result] = scan(data)
    assert result.complete and result.end == len(data)
    [finding] = by_rule(ctx, "MW-PKL-001")
    assert finding.evidence["callable"] == "os.system" and "joblib" in finding.message


def test_unaligned_legacy_wrapper() -> None:
    raw = bytes(range(24))
    data = proto(2) + wrapper("i4", (6,), aligned=False) + raw + STOP
    ctx, [result] = scan(data)
    assert result.complete and ctx.findings == []


def test_object_array_is_a_nested_pickle_and_is_analysed() -> None:
    data = proto(2) + MARK + wrapper("O8", (1,), flags=63) + EVIL + TUPLE + STOP
    ctx, [result] = scan(data)
    [finding] = by_rule(ctx, "MW-PKL-001")
    assert finding.evidence["callable"] == "os.system" and finding.severity is Severity.CRITICAL
    offset = finding.location.offset
    assert offset is not None and data.index(EVIL) <= offset < data.index(EVIL) + len(EVIL)
    assert result.complete and result.end == len(data)


OBJECT_SPELLINGS = {
    **{f"text-{code}": s(code) for code in ("O", "|O", "O8", "<O", "object", "object_")},
    "numpy.object_": global_("numpy", "object_"),
    "builtins.object": global_("builtins", "object"),
}


@pytest.mark.parametrize("spelling", list(OBJECT_SPELLINGS))
def test_every_object_dtype_spelling_is_a_nested_pickle(spelling: str) -> None:
    # the state's flags say "no object" (0): numpy builds dtype('O') from the code all the same
    head = proto(2) + MARK + wrapper("O8", (1,), flags=0).replace(s("O8"),
                                                                  OBJECT_SPELLINGS[spelling])
    data = head + EVIL + TUPLE + STOP
    ctx, [result] = scan(data)
    [finding] = by_rule(ctx, "MW-PKL-001")
    assert finding.evidence["callable"] == "os.system" and finding.severity is Severity.CRITICAL
    assert not by_rule(ctx, "MW-PKL-008")
    assert result.complete and result.end == len(data)


@pytest.mark.parametrize(("code", "size"), [(s("float64"), 8), (s("int16"), 2),
                                            (global_("numpy", "float32"), 4),
                                            (global_("builtins", "float"), 8)])
def test_word_and_class_spellings_of_plain_dtypes_are_sized(code: bytes, size: int) -> None:
    raw = bytes(range(3 * size))
    data = (proto(2) + MARK + wrapper("f8", (3,)).replace(s("f8"), code) + bytes([0]) + raw
            + TUPLE + STOP)
    ctx, [result] = scan(data)
    assert result.complete and result.end == len(data)
    assert ctx.findings == []


def test_buffer_past_the_end_is_truncation() -> None:
    data = proto(2) + wrapper("f8", (100,)) + bytes([0]) + b"\x00" * 10
    ctx, [result] = scan(data)
    assert not result.complete and by_rule(ctx, "MW-PKL-008")


def test_unsized_dtype_is_reported_not_misparsed() -> None:
    data = proto(2) + wrapper("U", (2,)) + b"\x00" * 64 + STOP
    ctx, [result] = scan(data)
    [finding] = by_rule(ctx, "MW-PKL-008")
    assert "cannot size" in finding.message and not result.complete


def test_object_arrays_nested_in_object_arrays_are_bounded() -> None:
    data = proto(2) + (proto(2) + wrapper("O8", (1,), flags=63)) * 2000
    ctx, [result] = scan(data)
    assert not result.complete and by_rule(ctx, "MW-PKL-009")


def test_what_if_reading_has_a_bounded_budget() -> None:
    from mlwarden.scan.interface import ScanContext, ScanTarget
    from mlwarden.scan.pickle.state import Shared
    from mlwarden.scan.pickle.vm import VM

    # array bytes that parse as a long run of opcodes (NONE pushes) under plain pickle.load
    one = wrapper("u1", (200,), aligned=False) + b"N" * 200 + b"0"
    data = proto(2) + one * 20 + b"N" + STOP
    ctx = ScanContext()
    shared = Shared(target=ScanTarget(path="b.joblib", data=data), ctx=ctx, shadow_ops_left=1000)
    vm = VM(shared, memoryview(data), 0, len(data))
    vm.run()
    assert vm.complete
    [limit] = by_rule(ctx, "MW-PKL-009")
    assert "what-if" in limit.message


def test_many_small_arrays_stay_linear(tmp_path: Path) -> None:
    import joblib
    import numpy as np

    path = tmp_path / "many.joblib"
    joblib.dump([np.arange(3, dtype=np.float64) + i for i in range(5000)], path)
    data = path.read_bytes()
    start = time.perf_counter()
    ctx, [result] = scan(data)
    assert result.complete and ctx.findings == []
    assert time.perf_counter() - start < 5
