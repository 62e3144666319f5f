"""Parity with CPython's C unpickler: the VM sees every import and call the real loader makes.

Each named case below is a disagreement the differential (``oracle.py`` + ``strategies.py``) found
between the VM and ``_pickle``; the bounded differential runs in the normal suite, the long one
(hypothesis with many examples, atheris) is ``slow``.
"""

from __future__ import annotations

import os
import pickle
import struct
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from mlwarden.core.severity import Severity
from mlwarden.scan.engine import scan_bytes
from tests.scan.corpus.payloads import all_pickle_payloads
from tests.scan.pickle import strategies
from tests.scan.pickle.oracle import Oracle
from tests.scan.pickle.parity import disagreements, vm_view
from tests.scan.redteam.cases_pickle import pickle_cases

CALL = b"cos\nsystem\n(S'ls'\ntR."
"""The payload the regression cases hide after the odd spelling."""


def frame(length: int) -> bytes:
    return b"\x95" + struct.pack("<Q", length)


REGRESSIONS: dict[str, bytes] = {
    # INT/LONG/FLOAT/GET/PUT lines go to C string functions: everything after a NUL is ignored
    "int_nul_terminated": b"I1\x00junk\n0" + CALL,
    "int_bool_spelt_with_nul": b"I1\x00\n0" + CALL,
    "int_empty_before_nul": b"I\x00x\n0" + CALL,
    "long_nul_terminated": b"L-1472\x00 L\n0" + CALL,
    "float_nul_terminated": b"F1.5\x00junk\n0" + CALL,
    "put_get_index_nul_terminated": b"Np3\x00x\n0g3\x00x\n0" + CALL,
    # an opcode that runs past the end of its FRAME: Unpickler(file) (torch.load) drops the rest
    # of the frame and reads on from the file, pickle.loads reads on in place
    "frame_splits_global_line": frame(5) + b"cbuiltins\ngetattr\n.",
    "frame_splits_payload_module": frame(2) + b"cos\nsystem\n(S'ls'\ntR.",
    "frame_splits_long": frame(5) + b"L-0210L\n0F1.5\n0T\x07\x00\x00\x00_codecsU\x06encode\x93Na.",
    # pickle._Unpickler (joblib) imports INST's class before it looks for the MARK
    "inst_without_mark_imports_first": b"ios\nsystem\n.",
    # ... and reads a last line without newline as if its last byte were one
    "global_last_line_without_newline": b"cmod\xc3\xa9loads\n(tR.",
    "global_module_line_without_newline": b"(cantigravity_",
    "long_frame_read_on": frame(0x06_0000_003E) + CALL,
    # STRING bytes become str by the unpickler's encoding (UTF-8 in torch.load)
    "stack_global_utf8_string_name": b"(d0T\x05\x00\x00\x00mod\xc3\xa9\x8c\x06system\x93)}\x92.",
    "stack_global_escaped_utf8_name": b"S'\\303\\251'\nV\\u0070\\u0061\\u0074\\u0068\n\x93}b.",
}

PINNED: dict[str, bytes] = {
    # forms the VM already read right, pinned with the oracle next to the cases above
    "memo_index_spaces_and_sign": b"cos\nsystem\np +7\n0g 7\n(S'ls'\ntR.",
    "int_c_octal_leading_zeros": b"I" + b"0" * 30 + b"7\n0" + CALL,
    # a decimal LONG past this interpreter's digit limit (the loading process may lift it): the
    # oracle rejects it in this process, the VM reads on
    "long_past_digit_limit": b"L" + b"9" * 5000 + b"\n0" + CALL,
    "nested_frame_drops_buffer": frame(13) + frame(20) + b"Ncos\nsystem\n(S'ls'\ntR.",
    "nested_frame_inside_buffer": frame(30) + frame(4) + b"Ncos\nsystem\n(S'ls'\ntR.",
    "nested_load_of_bytesio": b"cpickle\nload\n(cio\nBytesIO\n(C\x15" + CALL + b"tRtR.",
}
CASES = {**REGRESSIONS, **PINNED}


BROKEN_AFTER_A_CALL: dict[str, bytes] = {
    # the unpickler runs the call, then fails: the file sniff took these for text (nothing reported)
    "protocol0_call_then_garbage": b"cos\nsystem\n(S'ls'\ntR\xff",
    "protocol0_call_without_stop": b"cos\nsystem\n(S'ls'\ntR",
    "inst_call_then_garbage": b"(S'ls'\nios\nsystem\n\xff",
    "call_then_unimportable_name": b"cos\nsystem\n(S'ls'\ntR0cfoo bar\nx\n.",
}
NOT_PICKLES = [b"cat\ndog\nfish\n", b"(this is text)\n", b"import os\nprint(1)\n", b"hello world\n",
               b"cfoo bar\nx\n(tR."]


@pytest.fixture(scope="module")
def oracle() -> Iterator[Oracle]:
    with Oracle() as running:
        yield running


@pytest.mark.parametrize("name", sorted(CASES))
def test_regression_has_parity(oracle: Oracle, name: str) -> None:
    data = CASES[name]
    record = oracle.run(data)
    assert not record.timeout and record.crashed is None
    assert disagreements(record, vm_view(data)) == []


def test_corpus_and_redteam_pickles_have_parity(oracle: Oracle, tmp_path: Path) -> None:
    """Every hostile pickle of the scanner corpus and the red-team suite, as the real unpickler
    reads it (nothing is executed: the oracle's stand-ins record the calls)."""
    samples = {p.name: p.data for p in all_pickle_payloads(str(tmp_path / "canary"))}
    for case in pickle_cases():
        samples[case.id] = case.build(tmp_path / case.id, tmp_path / "canary").read_bytes()
    found = {}
    for name, data in samples.items():
        record = oracle.run(data)
        assert not record.timeout and record.crashed is None, name
        problems = disagreements(record, vm_view(data))
        if problems:
            found[name] = problems
    assert found == {}
    assert len(samples) > 100


ODD_SPELLINGS = [n for n in CASES if n.startswith(("int_", "long_", "float_", "put_", "memo_"))]
"""Cases the VM reads through to the call after them."""


@pytest.mark.parametrize(("name", "qualname"), [
    ("inst_without_mark_imports_first", "os.system"),
    ("global_last_line_without_newline", "mod\u00e9loads.(tR"),
    ("global_module_line_without_newline", "antigravity"),
])
def test_pure_python_unpickler_imports_are_seen(name: str, qualname: str) -> None:
    view = vm_view(CASES[name])
    assert qualname in view.imports
    assert view.worst is not None and view.worst >= Severity.HIGH


@pytest.mark.parametrize("name", sorted(BROKEN_AFTER_A_CALL))
def test_engine_reports_a_call_made_before_the_break(oracle: Oracle, name: str) -> None:
    data = BROKEN_AFTER_A_CALL[name]
    record = oracle.run(data)
    assert "os.system" in record.class_calls()  # ran before the break
    report = scan_bytes(data, name="model.bin")
    assert report.metadata["formats"]["model.bin"] == "pickle"
    assert max(f.severity for f in report.findings) == Severity.CRITICAL


@pytest.mark.parametrize("data", NOT_PICKLES)
def test_text_is_still_not_a_pickle(data: bytes) -> None:
    report = scan_bytes(data, name="notes.txt")
    assert report.metadata["formats"]["notes.txt"] == "unknown" and not report.findings


@pytest.mark.parametrize("name", ODD_SPELLINGS)
def test_odd_spelling_hides_nothing(name: str) -> None:
    """The VM reads through the odd spelling to the call after it (no oracle needed)."""
    view = vm_view(CASES[name])
    assert view.complete, name
    assert "os.system" in view.called
    assert "MW-PKL-008" not in view.rules


@pytest.mark.parametrize("name", [n for n in CASES if n.startswith("frame_")]
                         + ["nested_frame_drops_buffer"])
def test_frame_split_fails_closed(name: str) -> None:
    view = vm_view(CASES[name])
    assert view.frame_split
    assert view.worst is not None and view.worst >= Severity.HIGH
    assert "MW-PKL-008" in view.rules


def test_nested_frame_inside_the_buffer_is_not_a_split() -> None:
    view = vm_view(CASES["nested_frame_inside_buffer"])
    assert view.complete and not view.frame_split and "MW-PKL-008" not in view.rules


def test_utf8_reading_of_a_string_name_is_an_import() -> None:
    view = vm_view(REGRESSIONS["stack_global_utf8_string_name"])
    assert "mod\u00e9.system" in view.imports


@pytest.mark.parametrize("protocol", [4, 5])
def test_well_formed_frames_are_not_split(protocol: int) -> None:
    data = pickle.dumps([{"k": list(range(20000)), "s": "x" * 70000}, b"y" * 100000],
                        protocol=protocol)
    assert data.count(b"\x95") >= 1
    view = vm_view(data)
    assert view.complete and not view.frame_split and view.worst is None


def test_frame_longer_than_the_stream_is_read_on(oracle: Oracle) -> None:
    """_pickle fails at such a FRAME; pickle._Unpickler (joblib) takes the short frame and reads
    on. The VM reads on too."""
    data = frame(100) + CALL
    record = oracle.run(data)
    assert not record.modes["bytes"].accepted and not record.modes["file"].accepted
    assert record.modes["python"].accepted and "os.system" in record.class_calls()
    view = vm_view(data)
    assert view.complete and "os.system" in view.called


def test_oracle_sees_what_it_should(oracle: Oracle) -> None:
    """The oracle itself: fix_imports renames, protocol >= 3 keeps ``__builtin__``, EXT codes,
    nested ``pickle.loads``, persistent ids only in file mode, NEWOBJ through ``__new__``."""
    assert oracle.run(b"c__builtin__\neval\n(S'1'\ntR.").class_calls() == {"builtins.eval"}
    assert oracle.run(b"\x80\x02cexceptions\nValueError\n.").imports() == {"builtins.ValueError"}
    assert oracle.run(b"\x80\x03c__builtin__\neval\n.").imports() == {"__builtin__.eval"}
    assert oracle.run(b"\x80\x02\x82\x05)R.").class_calls() == {"copyreg._extension_registry.5"}
    inner = b"cos\nsystem\n."
    nested = oracle.run(b"cpickle\nloads\n(C" + bytes([len(inner)]) + inner + b"tR.")
    assert "os.system" in nested.imports()
    assert "os.system" in oracle.run(CASES["nested_load_of_bytesio"]).class_calls()
    persid = oracle.run(b"Pabc\n)R.")
    assert not persid.modes["bytes"].accepted and persid.modes["file"].accepted
    assert persid.instance_calls()
    new = oracle.run(b"\x80\x02cfoo\nBar\n)\x81}b.")
    assert new.class_calls() == {"foo.Bar"}
    assert any(e.detail.startswith("new") for e in new.events)


def test_oracle_survives_a_memory_bomb(oracle: Oracle) -> None:
    """RLIMIT_AS: a huge memo index is a MemoryError in the child, not a dead machine."""
    record = oracle.run(b"N" + b"r" + struct.pack("<I", 0xFFFFFFF0) + b".")
    assert not record.timeout and record.crashed is None
    assert record.modes["bytes"].error == "MemoryError"  # _pickle's memo is an array
    assert record.modes["python"].accepted  # pickle._Unpickler's is a dict
    assert oracle.run(CALL).class_calls() == {"os.system"}  # the child is still (or again) usable


@settings(max_examples=250, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
@given(data=strategies.streams)
def test_differential_bounded(oracle: Oracle, data: bytes) -> None:
    record = oracle.run(data)
    if record.timeout or record.crashed:
        pytest.fail(f"oracle {'timed out' if record.timeout else record.crashed} on {data!r}")
    assert disagreements(record, vm_view(data)) == [], data


@pytest.mark.slow
@pytest.mark.timeout(1800)
@settings(max_examples=10_000, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
@given(data=strategies.streams)
def test_differential_long(oracle: Oracle, data: bytes) -> None:
    record = oracle.run(data)
    if record.timeout or record.crashed:
        pytest.fail(f"oracle {'timed out' if record.timeout else record.crashed} on {data!r}")
    assert disagreements(record, vm_view(data)) == [], data


@pytest.mark.slow
def test_atheris_parity_run(tmp_path: Path) -> None:
    """A bounded coverage-guided run of ``fuzz_pickle_parity.py`` (60 s)."""
    pytest.importorskip("atheris")
    harness = Path(__file__).with_name("fuzz_pickle_parity.py")
    root = Path(__file__).resolve().parents[3]
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for i, data in enumerate([*CASES.values(), *strategies.SAMPLES, *strategies.HOSTILE]):
        (seeds / f"seed-{i:04d}").write_bytes(data)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root / "src"), str(root)])}
    proc = subprocess.run([sys.executable, str(harness), str(seeds), "-max_total_time=60",
                           "-max_len=1024", f"-artifact_prefix={tmp_path}/", "-print_final_stats=1"],
                          capture_output=True, text=True, env=env, timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-4000:]
