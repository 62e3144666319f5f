"""Unvetted classes only rebuilt the way ``object.__reduce_ex__`` saves instances are medium.

A whole pickled model (``torch.save(model)``) names the user's classes; unpickling only runs
``cls.__new__(cls)`` and sets the attribute dict, so no constructor runs. Every other use of an
unvetted name (a call with arguments, a value someone may call later, an odd BUILD state, a
denylisted module) keeps its high/critical verdict, so an attacker cannot ride the medium path.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlwarden.core.severity import Severity
from mlwarden.scan.engine import scan_paths
from tests.scan.pickle.opcodes import (
    APPEND,
    BUILD,
    EMPTY_DICT,
    EMPTY_LIST,
    EMPTY_TUPLE,
    MARK,
    NEWOBJ,
    NEWOBJ_EX,
    NONE,
    POP,
    REDUCE,
    SETITEM,
    STOP,
    TUPLE,
    TUPLE1,
    TUPLE2,
    TUPLE3,
    binget,
    binput,
    by_rule,
    global_,
    proto,
    s,
    scan,
    worst,
)
from tests.scan.pickle.tinynet import Record, Slotted

HELPER = "tests.scan.pickle.tinynet"
CLS = global_(HELPER, "Record")
STATE = EMPTY_DICT + s("name") + s("a") + SETITEM


def test_torch_save_of_a_whole_module_is_medium_only(tmp_path: Path) -> None:
    import torch

    from tests.scan.pickle.tinynet import TinyNet

    path = tmp_path / "tiny.pt"
    torch.save(TinyNet(), path)
    report = scan_paths([path], workers=1)
    assert not report.at_or_above(Severity.HIGH), [f.message for f in report.active]
    notes = [f for f in report.active if f.rule_id == "MW-PKL-003"]
    assert {str(f.evidence["callable"]) for f in notes} == {f"{HELPER}.TinyNet"}
    assert all(f.severity == Severity.MEDIUM and f.evidence["instantiated_only"] for f in notes)
    proc = subprocess.run([sys.executable, "-m", "mlwarden", "scan", str(path)],
                          capture_output=True, text=True, timeout=120, check=False,
                          env={**os.environ, "NO_COLOR": "1"})
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]


@pytest.mark.parametrize("protocol", [0, 1, 2, 4, 5])
def test_plain_instances_of_every_protocol_are_medium(protocol: int) -> None:
    # slotted classes pickle only from protocol 2 (protocols 0-1 use copyreg._reconstructor)
    obj = {"r": Record("x", 3), "s": Slotted() if protocol >= 2 else Record("y", 4)}
    ctx, _ = scan(pickle.dumps(obj, protocol=protocol))
    assert worst(ctx) == Severity.MEDIUM, [f.message for f in ctx.findings]
    expected = {f"{HELPER}.Record", f"{HELPER}.Slotted"} if protocol >= 2 else {f"{HELPER}.Record"}
    assert {str(f.evidence["callable"]) for f in by_rule(ctx, "MW-PKL-003")} == expected


def _newobj(cls: bytes, args: bytes = EMPTY_TUPLE, state: bytes = STATE) -> bytes:
    return proto(2) + cls + args + NEWOBJ + state + BUILD + STOP


HOSTILE = {
    # called with arguments: the constructor (or __new__) runs on pickle data
    "newobj_with_args": _newobj(CLS, s("rm -rf") + TUPLE1),
    "reduce_no_args": proto(2) + CLS + EMPTY_TUPLE + REDUCE + STOP,
    "reduce_with_args": proto(2) + CLS + s("a") + TUPLE1 + REDUCE + STOP,
    "newobj_ex_kwargs": proto(4) + CLS + EMPTY_TUPLE + EMPTY_DICT + s("cmd") + s("id") + SETITEM
    + NEWOBJ_EX + STOP,
    "copyreg_newobj_with_args": proto(2) + global_("copyreg", "__newobj__") + CLS + s("a")
    + TUPLE + REDUCE + STOP,
    "reconstructor_with_state": proto(1) + global_("copyreg", "_reconstructor") + MARK + CLS
    + global_("builtins", "object") + s("x") + TUPLE + REDUCE + STOP,
    # referenced as a value that its holder may call later
    "defaultdict_factory": proto(2) + global_("collections", "defaultdict") + CLS + TUPLE1
    + REDUCE + STOP,
    "class_in_build_state": _newobj(global_(HELPER, "Slotted"), state=EMPTY_DICT + s("factory")
                                    + CLS + SETITEM),
    "class_as_result": proto(2) + CLS + STOP,
    "newobj_then_class_in_dict": proto(2) + MARK + CLS + binput(1) + EMPTY_TUPLE + NEWOBJ
    + EMPTY_DICT + s("f") + binget(1) + SETITEM + TUPLE + STOP,
    # an odd BUILD state goes to __setstate__ as is
    "string_state": _newobj(CLS, state=s("payload")),
    # not spelt like a class: a function cannot be a NEWOBJ target, so this is something else
    "snake_case_name": _newobj(global_(HELPER, "make_record")),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_other_uses_of_an_unvetted_name_stay_high(name: str) -> None:
    ctx, _ = scan(HOSTILE[name])
    assert worst(ctx) is not None and worst(ctx) >= Severity.HIGH, [f.message for f in ctx.findings]
    culprit = f"{HELPER}.{'make_record' if name == 'snake_case_name' else 'Record'}"
    assert any(f.rule_id == "MW-PKL-003" and f.evidence.get("callable") == culprit
               and f.severity == Severity.HIGH for f in ctx.findings), [f.message for f in ctx.findings]


def test_dunder_state_on_an_instantiated_class_is_critical() -> None:
    ctx, _ = scan(_newobj(CLS, state=EMPTY_DICT + s("__reduce__") + global_("os", "system")
                          + SETITEM))
    assert worst(ctx) == Severity.CRITICAL
    assert by_rule(ctx, "MW-PKL-007")
    # and the class itself is no longer "only instantiated"
    [note] = [f for f in by_rule(ctx, "MW-PKL-003") if f.evidence["callable"] == f"{HELPER}.Record"]
    assert note.severity == Severity.HIGH


@pytest.mark.parametrize("cls", [("subprocess", "Popen"), ("os", "PathLike"),
                                 ("builtins", "Exception"), ("pickle", "Unpickler")])
def test_denylisted_class_instantiated_plainly_is_critical(cls: tuple[str, str]) -> None:
    ctx, _ = scan(_newobj(global_(*cls)))
    assert worst(ctx) == Severity.CRITICAL
    assert by_rule(ctx, "MW-PKL-001")


def test_reconstructor_with_object_base_and_no_state_is_medium() -> None:
    data = (proto(1) + global_("copyreg", "_reconstructor") + CLS + global_("builtins", "object")
            + NONE + TUPLE3 + REDUCE + STATE + BUILD + STOP)
    ctx, _ = scan(data)
    assert worst(ctx) == Severity.MEDIUM


def test_allow_globals_still_clears_the_note() -> None:
    ctx, _ = scan(pickle.dumps(Record("x", 1), protocol=2), allow=(f"{HELPER}.*",))
    assert not ctx.findings


TA = global_("transformers.training_args", "TrainingArguments")
TA_STATE = EMPTY_DICT + s("output_dir") + s("out") + SETITEM


def test_value_type_reconstructed_by_newobj_and_build_is_clean() -> None:
    """How HF Trainer's training_args.bin pickles TrainingArguments (a dataclass)."""
    ctx, _ = scan(_newobj(TA, state=TA_STATE))
    assert not ctx.findings


CALLED_VALUE_TYPE = {
    "partial_kwargs": proto(2) + global_("functools", "partial") + TA + TUPLE1 + NEWOBJ
    + MARK + TA + EMPTY_TUPLE + EMPTY_DICT + s("deepspeed") + s("/etc/passwd") + SETITEM + NONE
    + TUPLE + BUILD + EMPTY_TUPLE + REDUCE + STOP,
    "reduce_args": proto(2) + TA + s("/tmp/out") + TUPLE1 + REDUCE + STOP,
    "newobj_ex_kwargs": proto(4) + TA + EMPTY_TUPLE + TA_STATE + NEWOBJ_EX + STOP,
    "partial_positional": proto(2) + global_("functools", "partial") + MARK + TA + s("x") + TUPLE
    + REDUCE + EMPTY_TUPLE + REDUCE + STOP,
}


@pytest.mark.parametrize("name", list(CALLED_VALUE_TYPE))
def test_value_type_called_with_arguments_is_high(name: str) -> None:
    ctx, _ = scan(CALLED_VALUE_TYPE[name])
    findings = [f for f in by_rule(ctx, "MW-PKL-003")
                if f.evidence.get("callable") == "transformers.training_args.TrainingArguments"]
    assert findings and all(f.severity == Severity.HIGH for f in findings), [
        f.message for f in ctx.findings]
    assert "reconstruction" in str(findings[0].evidence["reason"])


# -- property: the medium verdict holds exactly when every use is a plain instantiation ---------

REF = binget(1)
USES: dict[str, tuple[bytes, bool]] = {
    # name: (a value appended to the result list, whether it keeps the class medium)
    "plain": (REF + EMPTY_TUPLE + NEWOBJ + STATE + BUILD, True),
    "plain_slots": (REF + EMPTY_TUPLE + NEWOBJ + NONE + STATE + TUPLE2 + BUILD, True),
    "discarded": (REF + POP + NONE, True),
    "discarded_tuple": (REF + TUPLE1 + POP + NONE, True),
    "newobj_args": (REF + s("a") + TUPLE1 + NEWOBJ, False),
    "reduce": (REF + EMPTY_TUPLE + REDUCE, False),
    "value": (REF, False),
    "in_tuple": (REF + TUPLE1, False),
    "dict_key": (EMPTY_DICT + REF + s("v") + SETITEM, False),
    "state_value": (REF + EMPTY_TUPLE + NEWOBJ + EMPTY_DICT + s("f") + REF + SETITEM + BUILD, False),
    "odd_state": (REF + EMPTY_TUPLE + NEWOBJ + s("x") + BUILD, False),
    "defaultdict": (global_("collections", "defaultdict") + REF + TUPLE1 + REDUCE, False),
    "partial": (global_("functools", "partial") + REF + TUPLE1 + REDUCE, False),
}


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(sorted(USES)), min_size=1, max_size=6))
def test_medium_exactly_when_every_use_is_a_plain_instantiation(uses: list[str]) -> None:
    body = b"".join(USES[u][0] + APPEND for u in uses)
    data = proto(2) + CLS + binput(1) + POP + EMPTY_LIST + body + STOP
    ctx, [result] = scan(data)
    assert result.complete
    [finding] = [f for f in by_rule(ctx, "MW-PKL-003")
                 if f.evidence.get("callable") == f"{HELPER}.Record"]
    instantiated = any(u.startswith("plain") for u in uses)
    expected = (Severity.MEDIUM if instantiated and all(USES[u][1] for u in uses)
                else Severity.HIGH)
    assert finding.severity == expected, (uses, finding.message)


def test_too_many_values_to_check_fails_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    from mlwarden.scan.pickle import vm

    data = pickle.dumps([Record("x", 1), *((i, str(i)) for i in range(50))], protocol=2)
    ctx, _ = scan(data)
    assert worst(ctx) == Severity.MEDIUM
    monkeypatch.setattr(vm, "MAX_WALKED", 10)
    ctx, _ = scan(data)
    assert worst(ctx) == Severity.HIGH


UFUNC = global_("numpy.core", "_ufunc_reconstruct")


def test_ufunc_reconstruct_handed_over_when_values_overflow(monkeypatch: pytest.MonkeyPatch) -> None:
    """An importer safe only where the pickle calls it: once values are no longer walked it may
    have been handed over unseen, so it is no longer safe."""
    from mlwarden.scan.pickle import vm

    tuples = b"".join(b"K" + bytes([n]) + b"\x85" + b"0" for n in range(40))
    data = (proto(2) + tuples + UFUNC + MARK + s("numpy") + s("add") + TUPLE + REDUCE + STOP)
    ctx, _ = scan(data)
    assert worst(ctx) is None
    monkeypatch.setattr(vm, "MAX_WALKED", 10)
    escaped = proto(2) + b"]" + tuples.replace(b"0", b"a") + UFUNC + b"a" + STOP
    ctx, _ = scan(escaped)
    assert worst(ctx) == Severity.HIGH


def test_ufunc_reconstruct_with_computed_names_imports_anything() -> None:
    np_str = global_("numpy", "str_")
    data = (proto(2) + UFUNC + MARK + np_str + s("os") + TUPLE1 + REDUCE + np_str + s("system")
            + TUPLE1 + REDUCE + TUPLE + REDUCE + STOP)
    ctx, _ = scan(data)
    assert worst(ctx) == Severity.HIGH
    assert any("computed while loading" in str(f.evidence.get("reason")) for f in ctx.findings)
