"""joblib's inline arrays skipped as ``NumpyArrayWrapper.read_array`` skips them: a differential test.

Each file is ``[array, Payload()]`` written by joblib's own ``NumpyPickler`` (its wrapper fields
sometimes respelled the way a hostile writer can: a list shape, a ``numpy.int64`` size, a dtype
that is not a dtype). The oracle runs joblib's own ``NumpyUnpickler`` in a limited child process
with every global but numpy's data constructors replaced by an inert stand-in that records being
called (``tests/scan/loader_oracle.py``). Where joblib reaches the payload, the scanner must find
it (critical) or fail closed (high, the analysis could not follow the array).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlwarden.core.severity import Severity
from tests.scan.loader_oracle import Oracle

from .conftest import Payload, scan

np = pytest.importorskip("numpy")
numpy_pickle = pytest.importorskip("joblib.numpy_pickle")

Tweak = Callable[[object], None]


@pytest.fixture(scope="module")
def oracle() -> Iterator[Oracle]:
    with Oracle() as running:
        yield running


def dump(array: object, tweak: Tweak | None = None, protocol: int = 4) -> bytes:
    """``joblib.dump([array, Payload()])`` uncompressed, the wrapper edited by ``tweak``."""

    class Pickler(numpy_pickle.NumpyPickler):  # type: ignore[misc,name-defined]
        def _create_array_wrapper(self, array: object) -> object:
            wrapper = super()._create_array_wrapper(array)
            if tweak is not None:
                tweak(wrapper)
            return wrapper

    buf = io.BytesIO()
    Pickler(buf, protocol=protocol).dump([array, Payload()])
    return buf.getvalue()


def check(oracle: Oracle, data: bytes) -> None:
    said = oracle.ask("joblib_load_inert", data)
    assert said["ok"], said
    report = scan(data, "model.joblib")
    if "posix.system" not in said["called"]:
        return
    worst = report.max_severity()
    unmodelled = any(f.evidence.get("unmodelled") for f in report.findings)
    assert worst is Severity.CRITICAL or (unmodelled and worst >= Severity.HIGH), \
        [(f.rule_id, f.severity, f.message) for f in report.findings]


def _set(field: str, value: Callable[[object], object]) -> Tweak:
    def tweak(wrapper: object) -> None:
        setattr(wrapper, field, value(getattr(wrapper, field)))
    return tweak


ARANGE = np.arange(6, dtype="<i8")
REGRESSIONS: dict[str, tuple[object, Tweak | None]] = {
    # read_array takes len() of the shape and numpy.int64() of each item: a list works
    "list-shape": (ARANGE, _set("shape", list)),
    "list-shape-2d": (ARANGE.reshape(2, 3), _set("shape", list)),
    # a numpy.int64 size is a scalar the analyser does not evaluate: fail closed (high)
    "numpy-int-size": (ARANGE, _set("shape", lambda s: tuple(np.int64(d) for d in s))),
    # the same family, read correctly before
    "no-alignment-field": (ARANGE, lambda w: delattr(w, "numpy_array_alignment_bytes")),
    "alignment-none": (ARANGE, _set("numpy_array_alignment_bytes", lambda _: None)),
    "object-array": (np.array([1, "a"], dtype=object), None),
    "structured-with-object": (np.zeros(2, dtype=[("a", "<i4"), ("b", "O")]), None),
    "fortran-order": (np.asfortranarray(ARANGE.reshape(2, 3)), None),
}


@pytest.mark.parametrize("name", sorted(REGRESSIONS))
def test_regression(oracle: Oracle, name: str) -> None:
    array, tweak = REGRESSIONS[name]
    data = dump(array, tweak)
    assert "posix.system" in oracle.ask("joblib_load_inert", data)["called"]
    check(oracle, data)


# ------------------------------------------------------------------ generated wrappers

_DTYPES = ["<i8", ">i4", "|u1", "<f2", "<f4", ">f8", "<c16", "|b1", "<U3", "|S2", "|V4",
           "<M8[s]", "<m8[ns]", "O", [("a", "<i4"), ("b", "<f8", (2,))],
           [("a", "<i4"), ("b", "O")], "float32"]
_TWEAKS: list[Tweak | None] = [
    None, _set("shape", list), _set("shape", lambda s: tuple(np.int64(d) for d in s)),
    _set("shape", lambda s: tuple(bool(d) for d in s)), _set("order", lambda _: "F"),
    _set("numpy_array_alignment_bytes", lambda _: None),
    lambda w: delattr(w, "numpy_array_alignment_bytes"),
    _set("dtype", lambda d: d.str), _set("dtype", lambda d: d.type),
    _set("dtype", lambda d: np.dtype(d.str).newbyteorder()),
    _set("numpy_array_alignment_bytes", lambda _: 8),
]


@st.composite
def joblib_arrays(draw: st.DrawFn) -> bytes:
    dtype = np.dtype(draw(st.sampled_from(_DTYPES)))
    shape = draw(st.sampled_from([(), (0,), (1,), (3,), (2, 3)]))
    array = np.zeros(shape, dtype=dtype)
    return dump(array, draw(st.sampled_from(_TWEAKS)), draw(st.sampled_from([2, 3, 4, 5])))


_FAST = settings(max_examples=40, deadline=None,
                 suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
_SLOW = settings(max_examples=1500, deadline=None,
                 suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@_FAST
@given(data=joblib_arrays())
def test_inline_arrays_skipped_as_joblib_reads_them(oracle: Oracle, data: bytes) -> None:
    check(oracle, data)


@pytest.mark.slow
@_SLOW
@given(data=joblib_arrays())
def test_many_inline_arrays_skipped_as_joblib_reads_them(oracle: Oracle, data: bytes) -> None:
    check(oracle, data)


def _two_readings() -> bytes:
    """An object-array wrapper with ``allow_mmap`` (joblib writes ``False`` for object arrays).
    Without ``mmap_mode`` joblib unpickles the bytes after it: a harmless ``bytes`` object
    (``C``, its length, its contents). With ``mmap_mode`` it reads the ``C`` as the padding length
    (67), skips the padding and 16 bytes of "pointers", and reads on inside that bytes object,
    where a call to ``posix.system`` waits."""
    def tweak(wrapper: object) -> None:
        wrapper.allow_mmap = True  # type: ignore[attr-defined]

    data = dump(np.array([1, 2], dtype=object), tweak)
    build = data.index(b"b\x80", data.index(b"allow_mmap"))  # the wrapper's BUILD, then
    head = data[:build + 1]  # the nested pickle joblib wrote
    evil = b"cposix\nsystem\n(S'true'\ntR."
    skipped = 1 + ord("C") + 2 * 8  # padding byte, padding, two pointers
    return head + b"C" + bytes([skipped - 2 + len(evil)]) + b"\x00" * (skipped - 2) + evil + b".."


def test_memmapped_object_array_has_two_readings(oracle: Oracle) -> None:
    from .conftest import critical

    data = _two_readings()
    assert "posix.system" not in oracle.ask("joblib_load_inert", data)["called"]
    assert "posix.system" in oracle.ask("joblib_load_inert", data, mmap_mode="r")["called"]
    report = scan(data, "model.joblib")
    assert critical(report)
    assert any(f.evidence.get("unmodelled") and f.severity is Severity.HIGH
               for f in report.findings)
