""".npy headers read as numpy reads them: a differential test against numpy's own header reader.

The oracle is ``numpy.lib.format.read_magic`` + ``_check_version`` + ``_read_array_header`` with
``max_header_size`` lifted as ``np.load(allow_pickle=True)`` lifts it, run in a child process
(``tests/scan/loader_oracle.py``); it reads headers only and never unpickles. For every header
numpy accepts, the scanner must find the same data offset, shape and fortran order, and for an
object dtype it must analyse the pickle numpy would unpickle (a payload there is critical).
Wherever the scanner does not parse a header numpy accepts, the scan must be high.

Every disagreement found so far is a named case in ``REGRESSIONS``.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlwarden.core.severity import Severity
from mlwarden.scan.formats.numpy_file import NpyHeaderError, parse_header
from mlwarden.scan.interface import ScanLimits
from tests.scan.loader_oracle import Oracle

from .conftest import Payload, critical, scan

pytest.importorskip("numpy")

PAYLOAD = pickle.dumps([Payload(), 1], protocol=2)


@pytest.fixture(scope="module")
def oracle() -> Iterator[Oracle]:
    with Oracle() as running:
        yield running


def npy(header: str | bytes, version: tuple[int, int] = (1, 0), *, length_delta: int = 0,
        tail: bytes = PAYLOAD) -> bytes:
    raw = header.encode("utf-8" if version[0] == 3 else "latin-1") \
        if isinstance(header, str) else header
    width = 2 if version[0] == 1 else 4
    length = max(0, min(len(raw) + length_delta, 256**width - 1))
    return b"\x93NUMPY" + bytes(version) + length.to_bytes(width, "little") + raw + tail


def check(oracle: Oracle, data: bytes) -> None:
    """The parity property for one file."""
    said = oracle.ask("npy_header", data)
    report = scan(data, "x.npy")
    assert not any(f.rule_id == "MW-FMT-001" for f in report.findings), report.findings
    if not said["ok"]:
        return
    try:
        header = parse_header(data, 1 << 30)
    except NpyHeaderError as exc:
        pytest.fail(f"numpy reads this header ({said}), the scanner does not: {exc}")
    assert header.data_offset == said["data_offset"]
    assert list(header.shape) == said["shape"]
    assert header.fortran_order == said["fortran_order"]
    assert header.has_objects == said["hasobject"], (header.descr, said)
    if said["hasobject"] and data[header.data_offset:].startswith(PAYLOAD):
        assert critical(report), [(f.rule_id, f.message) for f in report.findings]


OBJ = "{'descr': '|O', 'fortran_order': False, 'shape': (2,), }"
REGRESSIONS = {
    # numpy's header check is isinstance(x, int): negative sizes pass, and an object array
    # is then unpickled without the count ever being used
    "negative-shape": npy("{'descr': '|O', 'fortran_order': False, 'shape': (-1,), }"),
    "negative-shape-v2": npy("{'descr': '|O', 'fortran_order': False, 'shape': (2, -5)}",
                             (2, 0)),
    # Python 2 long suffixes: numpy retries with _filter_header on a SyntaxError (v1.0/2.0)
    "py2-long-suffix": npy("{'descr': '|O', 'fortran_order': False, 'shape': (2L,), }"),
    "py2-long-suffix-v2": npy("{'descr': '|O', 'fortran_order': False, 'shape': (0L, 3L)}",
                              (2, 0)),
    "py2-long-and-unicode": npy("{u'descr': u'|O', u'fortran_order': False, u'shape': (2L,)}"),
    # np.load(allow_pickle=True) lifts max_header_size: an oversized header is still read
    "header-beyond-scanner-limit": npy(OBJ + " " * 5000 + "\n", (2, 0)),
    # descr_to_dtype iterates a dict's keys (and strings) as (name, format) fields
    "dict-descr": npy("{'descr': {'aO': 1}, 'fortran_order': False, 'shape': (1,)}"),
    "string-field-descr": npy("{'descr': ['aO'], 'fortran_order': False, 'shape': (1,)}"),
    # accepted before too; kept as cases of the same family
    "bool-shape": npy("{'descr': '|O', 'fortran_order': False, 'shape': (True,)}"),
    "hex-shape": npy("{'descr': '|O', 'fortran_order': False, 'shape': (0x2,)}"),
    "comment-and-crlf": npy("{'descr': '|O',\r\n 'fortran_order': False,\r\n 'shape': (2,)}"
                            " # x\r\n"),
    "v3-utf8-field": npy("{'descr': [('\u00e9', '|O')], 'fortran_order': False, 'shape': (1,)}",
                         (3, 0)),
    "subarray-tuple-descr": npy("{'descr': ('|O', 2), 'fortran_order': False, 'shape': (1,)}"),
}


@pytest.mark.parametrize("name", sorted(REGRESSIONS))
def test_regression(oracle: Oracle, name: str) -> None:
    data = REGRESSIONS[name]
    assert oracle.ask("npy_header", data)["ok"], "numpy accepts every regression case"
    check(oracle, data)


def test_header_beyond_the_scanners_limit_fails_closed_at_high(oracle: Oracle) -> None:
    from mlwarden.scan.engine import scan_bytes

    for data in (REGRESSIONS["header-beyond-scanner-limit"], npy(OBJ, (2, 0),
                                                                  tail=pickle.dumps([1, 2]))):
        said = oracle.ask("npy_header", data)
        report = scan_bytes(data, name="x.npy", limits=ScanLimits(max_header_size=16))
        assert report.max_severity() >= Severity.HIGH
        found = [f for f in report.findings if f.rule_id == "MW-NPY-002"]
        assert found and found[0].severity is Severity.HIGH
        assert found[0].evidence["data_offset"] == said["data_offset"]
    assert critical(scan_bytes(REGRESSIONS["header-beyond-scanner-limit"], name="x.npy",
                               limits=ScanLimits(max_header_size=16)))


def test_unknown_dtype_without_numpy_fails_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    from mlwarden.scan.formats import numpy_file

    monkeypatch.setattr(numpy_file, "_numpy_has_objects", lambda descr: None)
    monkeypatch.setattr(numpy_file, "_numpy_itemsize", lambda descr: None)
    report = scan(npy("{'descr': 'float32', 'fortran_order': False, 'shape': (2,)}"), "x.npy")
    assert critical(report)  # the bytes after the header were analysed as a pickle
    assert any(f.rule_id == "MW-NPY-002" and f.severity is Severity.HIGH
               for f in report.findings)


# ------------------------------------------------------------------ generated headers

_DESCRS = ["'|O'", "'O'", "'O8'", "'<O'", "'object'", "u'|O'", "'<f4'", "'|u1'", "'<U3'",
           "'float32'", "[('a', '<i4'), ('b', '|O')]", "[('a', '<f8', (2,))]", "('|O', 2)",
           "{'aO': 1}", "['aO']", "'i4,O'", "'(2,)O'", "'|V0'", "'M8[s]'", "'|O4'", "''",
           "[(('t', 'n'), '|O')]", "'O0'", "None", "'S'"]
_SPACES = ["", " ", "  ", "\t", "\n", "\r\n", "\x0c", " \\\n"]
_INTS = st.one_of(st.integers(-3, 5), st.sampled_from([2**40, 2**63, -(2**63)]))


@st.composite
def headers(draw: st.DrawFn) -> bytes:
    space = draw(st.sampled_from(_SPACES))
    quote = draw(st.sampled_from(["'", '"', "u'"]))
    close = '"' if quote == '"' else "'"

    def key(name: str) -> str:
        return f"{quote}{name}{close}"

    dims = draw(st.lists(_INTS, max_size=3))
    rendered = [f"{d}{draw(st.sampled_from(['', '', 'L', 'l']))}"
                if draw(st.booleans()) else draw(st.sampled_from(["True", "0x2", "0o1"]))
                for d in dims]
    shape = "(" + ", ".join(rendered) + ("," if len(rendered) == 1 else "") + ")"
    fortran = draw(st.sampled_from(["False", "True", "0", "1L"]))
    items = [f"{key('descr')}:{space}{draw(st.sampled_from(_DESCRS))}",
             f"{key('fortran_order')}: {fortran}", f"{key('shape')}:{space}{shape}"]
    if draw(st.booleans()):
        items.append(f"{key('extra')}: 1")
    order = draw(st.permutations(items))
    text = "{" + f",{space}".join(order) + draw(st.sampled_from(["", ",", ", "])) + "}"
    text += draw(st.sampled_from(["", " " * 7 + "\n", "\n", " # c\n", "\x00", "\r"]))
    version = draw(st.sampled_from([(1, 0), (2, 0), (3, 0), (1, 1), (0, 0)]))
    delta = draw(st.sampled_from([0, 0, 0, -1, 1, 3]))
    return npy(text if version[0] != 3 else text.replace("a", "\u00e4"), version,
               length_delta=delta)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A numpy-written header with a few byte edits in it."""
    data = bytearray(npy(OBJ + " " * 13 + "\n"))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(10, 10 + len(OBJ)))
        edit = draw(st.sampled_from(["replace", "insert", "delete"]))
        byte = draw(st.sampled_from(b" \t\n\r\x0c,:'\"()[]{}uLObj0123456789-#\\\x00\xff"))
        if edit == "replace":
            data[at] = byte
        elif edit == "insert":
            data.insert(at, byte)
        else:
            del data[at]
    # the header length follows the edits (the length field itself is fuzzed by headers())
    length = len(data) - 10 - len(PAYLOAD)
    data[8:10] = max(0, length).to_bytes(2, "little")
    return bytes(data)


_FAST = settings(max_examples=120, deadline=None,
                 suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
_SLOW = settings(max_examples=5000, deadline=None,
                 suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@_FAST
@given(data=headers())
def test_generated_headers_parse_as_numpy_reads_them(oracle: Oracle, data: bytes) -> None:
    check(oracle, data)


@_FAST
@given(data=mutated())
def test_mutated_headers_parse_as_numpy_reads_them(oracle: Oracle, data: bytes) -> None:
    check(oracle, data)


@pytest.mark.slow
@_SLOW
@given(data=st.one_of(headers(), mutated()))
def test_many_headers_parse_as_numpy_reads_them(oracle: Oracle, data: bytes) -> None:
    check(oracle, data)


def test_np_load_dispatch_is_followed(oracle: Oracle) -> None:
    """``np.load`` reads a zip prefix as npz, the npy magic as npy and anything else with
    ``pickle.load``: a pickle saved under a ``.npy`` name is analysed as one."""
    evil = pickle.dumps([Payload()], protocol=2)
    assert oracle.ask("np_load_kind", evil)["kind"] == "pickle"
    assert critical(scan(evil, "weights.npy"))


def _npz(members: list[tuple[str, bytes]]) -> bytes:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members:
            zf.writestr(name, data)
    return buf.getvalue()


def test_npz_dispatch_and_member_names(oracle: Oracle) -> None:
    """``np.load`` takes a file starting with an end record (``PK\\x05\\x06``) for an npz too, and
    ``NpzFile`` reads members of any name: every member is scanned by content."""
    obj = npy(OBJ, tail=PAYLOAD)
    eocd_first = b"PK\x05\x06" + b"\x00" * 18 + _npz([("a.npy", obj)])
    assert oracle.ask("np_load_kind", eocd_first)["kind"] == "npz"
    assert critical(scan(eocd_first, "w.npz"))
    for name in ("../../x.npy", "noext", "a.npy\x00b", "dir/"):
        assert critical(scan(_npz([(name, obj)]), "w.npz")), name
