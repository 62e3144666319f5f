"""The sniff table: built-in scanners are imported only when a cheap, conservative test matches."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlwarden.scan import engine, sniff
from mlwarden.scan.interface import FormatScanner, ScanTarget
from mlwarden.scan.sniff import SNIFFS, Entry
from tests.scan import conftest as audit


def test_the_table_lists_every_built_in_scanner_as_registered() -> None:
    engine.load_scanners()
    built_in = {name: cls for name, cls in FormatScanner.registry.items()
                if cls.__module__.startswith("mlwarden.")}
    assert {e.name for e in SNIFFS} == set(built_in)
    for entry in SNIFFS:
        cls = built_in[entry.name]
        assert (entry.priority, entry.module) == (cls.priority, cls.__module__), entry.name
    order = [(e.priority, e.name) for e in SNIFFS]
    assert order == sorted(order), "SNIFFS is kept in detection order"


MAGICS = [sniff.GGUF_MAGIC, sniff.HDF5_SIGNATURE, sniff.NUMPY_MAGIC, sniff.SEVEN_ZIP_MAGIC,
          sniff.ZSTD_MAGIC, sniff.ZIP_LOCAL_SIG, sniff.ZIP_EOCD_SIG, sniff.ZIP_SPANNED_SIG,
          sniff.TORCH_MAGIC_LONG1, b"\x80\x02", b"\x80\x05", b"(", b"c", b"]", b"}", b"\x08",
          b"\x0a", b"\x12", b"{", b"{%", b"{{", b"\xef\xbb\xbf{", b"ZF", b"\x1f\x8b\x08", b"BZh",
          b"\xfd7zXZ\x00", b"\x04\x22\x4d\x18", b"\x78\x9c", b"\x5d\x00\x00", b"ustar",
          b"\x00" * 8 + b"{", b"_tf_keras_"]


@settings(max_examples=400, deadline=None)
@given(prefix=st.sampled_from(MAGICS), body=st.binary(max_size=1200),
       tail=st.sampled_from([b"", sniff.ZIP_EOCD_SIG + b"\0" * 18, sniff.HDF5_SIGNATURE]))
def test_no_scanner_claims_bytes_its_sniff_refuses(prefix: bytes, body: bytes,
                                                  tail: bytes) -> None:
    engine.load_scanners()
    for data in (prefix + body + tail, body[:7] + prefix + body[7:], pickle.dumps(body) + tail):
        target = ScanTarget(path="fuzz", data=data)
        assert audit.sniff_misses(target) == []


def test_the_audit_reports_a_sniff_that_hides_a_format(monkeypatch: pytest.MonkeyPatch) -> None:
    engine.load_scanners()
    blind = tuple(Entry(e.name, e.priority, e.module, lambda h, t: False)
                  if e.name == "numpy" else e for e in SNIFFS)
    monkeypatch.setattr(audit, "SNIFFS", blind)
    npy = b"\x93NUMPY\x01\x00v\x00{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }"
    target = ScanTarget(path="x.npy", data=npy.ljust(128 + 8, b" ")[:127] + b"\n" + b"\0" * 8)
    assert [m.split(":")[0] for m in audit.sniff_misses(target)] == ["numpy"]


def test_findings_are_the_same_with_sniffing_off(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # With sniffing off every detector runs: the verdict on a sample of formats is the same.
    from mlwarden.scan.engine import scan_bytes

    samples = [pickle.dumps({"a": [1, 2]}, protocol=p) for p in range(6)]
    samples += [b"GGUF" + b"\0" * 40, b"not a model at all", json.dumps({"x": 1}).encode()]
    with_sniffs = [scan_bytes(s).to_dict()["findings"] for s in samples]
    monkeypatch.setattr(engine, "SNIFFING", False)
    assert [scan_bytes(s).to_dict()["findings"] for s in samples] == with_sniffs


LAZY = """
import pickle, sys, tempfile, pathlib
from mlwarden.scan.engine import scan_paths
path = pathlib.Path(tempfile.mkdtemp()) / "model.bin"
path.write_bytes(pickle.dumps({"weights": [1.0, 2.0]}, protocol=4))
report = scan_paths([path], workers=1)
assert report.metadata["formats"] == {str(path): "pickle"}, report.metadata
print(" ".join(sorted(m for m in sys.modules if m.startswith("mlwarden.scan.formats."))))
"""


def test_scanning_a_pickle_imports_no_other_format_scanner(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-c", LAZY], capture_output=True, text=True,
                         check=True, cwd=tmp_path).stdout.split()
    assert out == [], out


@settings(max_examples=300, deadline=None)
@given(prefix=st.sampled_from(MAGICS), body=st.binary(max_size=600),
       tail=st.binary(max_size=64))
def test_sniffs_answer_any_bytes_without_raising(prefix: bytes, body: bytes, tail: bytes) -> None:
    for data in (prefix + body + tail, prefix + body + sniff.ZIP_EOCD_SIG + tail):
        target = ScanTarget(path="fuzz", data=data)
        head = target.head(engine.HEAD_SIZE)
        for entry in SNIFFS:
            assert isinstance(entry.sniff(head, target), bool), entry.name


def test_a_sniff_that_raises_lets_the_scanner_decide(monkeypatch: pytest.MonkeyPatch) -> None:
    from mlwarden.scan.engine import scan_bytes

    def broken(head: bytes, target: ScanTarget) -> bool:
        raise RuntimeError("sniff bug")

    monkeypatch.setattr(engine, "_SLOTS", (frozenset({"-"}), []))
    monkeypatch.setattr(engine, "SNIFFS", tuple(Entry(e.name, e.priority, e.module, broken)
                                                  for e in SNIFFS))
    report = scan_bytes(pickle.dumps({"a": 1}, protocol=4))
    assert report.metadata["formats"] == {"<bytes>": "pickle"}
    assert report.findings == ()


def test_every_pickle_opcode_may_start_a_pickle() -> None:
    import pickletools

    codes = {o.code.encode("latin-1")[0] for o in pickletools.opcodes}
    assert codes == sniff.PICKLE_FIRST_OPCODES
    assert pickle.loads(b"\x88.") is True  # no PROTO: the unpickler still runs it
