"""The oracle's child process: CPython's C unpickler run on untrusted bytes over inert stand-ins.

Run only by :mod:`tests.scan.pickle.oracle` (``python -I oracle_child.py``), never imported by the
test process. It reads inputs from stdin (a 4-byte little-endian length, then the bytes) and writes
one JSON line per input to stdout. Resource limits are set before the first input is read.

Nothing named in a pickle is ever imported: while a pickle loads, ``builtins.__import__`` is
replaced by a recorder that answers every module name with a stand-in module, so the C unpickler's
own ``find_class`` (its ``fix_imports`` mapping for protocol < 3, dotted names for protocol >= 4)
runs unchanged and what it would import is recorded exactly. Each attribute of a stand-in module is
a stand-in *type* (``NEWOBJ`` requires a class) whose metaclass records calls; calling one returns
a stand-in instance, whose calls, ``__setstate__``, ``extend``/``append``/``add``/``__setitem__``
are recorded too. Every input is loaded three times: as ``pickle.loads(data)`` (bytes in memory,
encoding ASCII), as ``pickle.Unpickler(file).load()`` (a file without ``peek``, like ``io.BytesIO``,
with ``persistent_load`` set and encoding UTF-8, as ``torch.load`` reads) — the two read frames
differently — and with the pure-Python ``pickle._Unpickler`` (joblib's unpickler).
"""

from __future__ import annotations

import builtins
import codecs
import copyreg
import io
import json
import pickle
import resource
import struct
import sys
import types
import warnings
from typing import Any

MAX_EVENTS = 2000
MAX_NESTED = 3
EXT_CODES = (*range(1, 65536), 65536, 0x01000000, 0x7FFFFFFF)
"""Extension codes registered in this process (as ``copyreg.add_extension`` would) so EXT1/2/4 load."""
EXT_MODULE = "copyreg._extension_registry"
NESTED_LOADERS = frozenset({"pickle.loads", "_pickle.loads", "pickle._loads"})
FILE_LOADERS = frozenset({"pickle.load", "_pickle.load", "pickle._load"})
BYTES_IO = frozenset({"io.BytesIO", "_io.BytesIO"})
RECONSTRUCTORS = frozenset({"copyreg._reconstructor", "copyreg.__newobj__", "copyreg.__newobj_ex__"})

MODES = ("bytes", "file", "python")
"""``pickle.loads(data)``; ``_pickle.Unpickler(file, encoding="utf-8")`` as ``torch.load`` reads;
the pure-Python ``pickle._Unpickler(file)`` that joblib's ``NumpyUnpickler`` subclasses."""

_real_import = builtins.__import__
_saved_modules: dict[str, Any] = {}
_MISSING = object()


class Recorder:
    """The events of one input (imports, calls, method calls on stand-ins, persistent ids)."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.depth = 0
        self.reader: Reader | None = None
        self.overflow = False
        self.find_class_pending = False

    def add(self, event: dict[str, Any]) -> None:
        if len(self.events) >= MAX_EVENTS:
            self.overflow = True
            return
        event["depth"] = self.depth
        event["pos"] = self.reader.pos if self.reader is not None and self.depth == 0 else None
        self.events.append(event)


REC = Recorder()


def _describe_args(args: tuple[Any, ...]) -> list[str]:
    return [type(a).__name__ if not isinstance(a, StandIn | StandInMeta) else _name_of(a)
            for a in args[:8]]


def _name_of(obj: Any) -> str:
    if isinstance(obj, StandInMeta):
        return str(obj._sw_name)
    if isinstance(obj, StandIn):
        return f"<instance of {type(obj)._sw_name}>"
    return type(obj).__name__


def _record_call(callee: Any, via: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Record a call; returns what stands in for its result (``None``: a stand-in instance)."""
    kind = "class" if isinstance(callee, StandInMeta) else "instance"
    REC.add({"kind": "call", "callee": _name_of(callee), "target": kind, "via": via,
             "nargs": len(args), "kwargs": sorted(str(k) for k in kwargs)[:8],
             "args": _describe_args(args)})
    if kind != "class":
        return None
    name = callee._sw_name
    if name in RECONSTRUCTORS and args and isinstance(args[0], StandInMeta):
        # what the real helper does: instantiate its first argument
        _record_call(args[0], "reconstructor", (), {})
    if name in BYTES_IO and len(args) == 1 and isinstance(args[0], bytes | bytearray):
        return io.BytesIO(bytes(args[0]))  # inert, and what pickle.load reads below
    payload = args[0] if args else None
    if isinstance(payload, io.BytesIO) and name in FILE_LOADERS:
        payload = payload.getvalue()[payload.tell():]
    elif name not in NESTED_LOADERS:
        payload = None
    if isinstance(payload, bytes | bytearray) and REC.depth < MAX_NESTED:
        REC.depth += 1
        try:
            pickle.loads(bytes(payload))
        finally:
            REC.depth -= 1
    return None


class _Method:
    """A method every stand-in (type or instance) answers, recording who it was called on."""

    def __init__(self, method: str) -> None:
        self.method = method

    def __get__(self, obj: Any, owner: Any = None) -> Any:
        target = obj if obj is not None else owner
        method = self.method

        def recorded(*args: Any, **kwargs: Any) -> None:
            REC.add({"kind": "method", "method": method, "on": _name_of(target),
                     "target": "class" if isinstance(target, StandInMeta) else "instance",
                     "nargs": len(args)})
        return recorded


class StandInMeta(type):
    """The metaclass of every stand-in type: calls and item assignment on the class are recorded."""

    _sw_name: str

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        result = _record_call(cls, "call", args, kwargs)
        return result if result is not None else object.__new__(_result_type(cls))

    def __getattribute__(cls, attr: str) -> Any:
        # every attribute of a stand-in class is a stand-in too (find_class's dotted path for
        # protocol >= 4 reaches ``modules.__getitem__`` or ``Foo.__init__``), except what the
        # unpickler itself asks a class for: __setstate__/extend/append/add are recorded, __new__
        # (NEWOBJ_EX) records the call, __getinitargs__ is absent (INST/OBJ without arguments
        # then call cls.__new__(cls))
        if attr.startswith("_sw_") or attr in _CLASS_PROTOCOL:
            return type.__getattribute__(cls, attr)
        if not attr or attr == "__getinitargs__":
            raise AttributeError(attr)
        name = type.__getattribute__(cls, "_sw_name")
        dotted = f"{name}.{attr}"
        last = REC.events[-1] if REC.events else None
        if last is not None and last["kind"] == "import" and last["qualname"] == name:
            # the dotted walk right after the import: the import grows by one part
            last["name"] = f"{last['name']}.{attr}"
            last["qualname"] = dotted
        return standin(dotted)

    def __setitem__(cls, key: Any, value: Any) -> None:
        REC.add({"kind": "method", "method": "__setitem__", "on": cls._sw_name, "target": "class",
                 "nargs": 2})

    def __repr__(cls) -> str:
        return f"<stand-in {cls._sw_name}>"


_CLASS_PROTOCOL = frozenset({"__setstate__", "extend", "append", "add", "__new__",
                             # what isinstance()/issubclass()/repr() read (not recorded)
                             "__class__", "__mro__", "__bases__", "__dict__", "__name__",
                             "__qualname__", "__module__", "__doc__"})


class StandIn(metaclass=StandInMeta):
    """Base of the stand-in types; instances are what calls return."""

    _sw_name = "<stand-in>"
    __setstate__ = _Method("__setstate__")
    extend = _Method("extend")
    append = _Method("append")
    add = _Method("add")

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:  # NEWOBJ / NEWOBJ_EX call tp_new directly
        _record_call(cls, "new", args, kwargs)
        return object.__new__(_result_type(cls))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        _record_call(self, "call", args, kwargs)
        return object.__new__(_result_type(type(self)))

    def __setitem__(self, key: Any, value: Any) -> None:
        REC.add({"kind": "method", "method": "__setitem__", "on": _name_of(self),
                 "target": "instance", "nargs": 2})

    def __repr__(self) -> str:
        return _name_of(self)


_TYPES: dict[str, StandInMeta] = {}


def standin(name: str) -> StandInMeta:
    cls = _TYPES.get(name)
    if cls is None:
        cls = StandInMeta(f"StandIn_{len(_TYPES)}", (StandIn,), {"_sw_name": name})
        _TYPES[name] = cls
    return cls


def _result_type(cls: StandInMeta) -> StandInMeta:
    return standin(f"<result of {cls._sw_name}>") if not cls._sw_name.startswith("<") else cls


_MODULE_MACHINERY = frozenset({"__spec__", "__loader__", "__file__", "__path__", "__class__",
                               "__name__", "__package__"})


class StandInModule(types.ModuleType):
    """What every import answers while a pickle loads: each attribute is a stand-in type."""

    def __getattribute__(self, attr: str) -> Any:
        if not attr:
            raise AttributeError(attr)
        if attr in _MODULE_MACHINERY:  # what repr() and the import system read (not recorded)
            return types.ModuleType.__getattribute__(self, attr)
        module = types.ModuleType.__getattribute__(self, "__name__")
        qualname = f"{module}.{attr}"
        REC.add({"kind": "import", "module": module, "name": attr, "qualname": qualname})
        return standin(qualname)

    def __repr__(self) -> str:
        return f"<stand-in module {types.ModuleType.__getattribute__(self, '__name__')}>"


def recording_import(name: Any, globals: Any = None, locals: Any = None, fromlist: Any = (),
                     level: int = 0) -> Any:
    """``builtins.__import__`` while a pickle loads: the import ``find_class`` asks for (announced
    by its audit event) is never made and answered with a stand-in module; the interpreter's own
    lazy imports (a codec, ``linecache`` for a warning) go through."""
    if not REC.find_class_pending:
        return _real_import(name, globals, locals, fromlist, level)
    REC.find_class_pending = False
    name = str(name)
    if not name:
        raise ValueError("Empty module name")  # importlib's own check, before any finder runs
    if name not in _saved_modules:
        _saved_modules[name] = sys.modules.get(name, _MISSING)
    module = StandInModule(name)
    sys.modules[name] = module
    return module


def _restore_modules() -> None:
    for name, old in _saved_modules.items():
        if old is _MISSING:
            sys.modules.pop(name, None)
        else:
            sys.modules[name] = old
    _saved_modules.clear()


class Reader:
    """A file without ``peek`` (like ``io.BytesIO``) that counts the bytes the unpickler consumed."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def read(self, n: int = -1) -> bytes:
        end = len(self.data) if n is None or n < 0 else min(len(self.data), self.pos + n)
        out = self.data[self.pos:end]
        self.pos = end
        return out

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        chunk = self.read(len(view))
        view[:len(chunk)] = chunk
        return len(chunk)

    def readline(self, size: int = -1) -> bytes:
        i = self.data.find(b"\n", self.pos)
        end = len(self.data) if i < 0 else i + 1
        out = self.data[self.pos:end]
        self.pos = end
        return out


def persistent_load(pid: Any) -> Any:
    REC.add({"kind": "persid", "pid": _name_of(pid) if not isinstance(pid, str | bytes | int)
             else repr(pid)[:80]})
    return object.__new__(standin("<persistent>"))


def load_once(data: bytes, mode: str) -> dict[str, Any]:
    copyreg._extension_cache.clear()  # type: ignore[attr-defined]  # else a second load skips find_class
    REC.events = []
    REC.depth = 0
    REC.overflow = False
    REC.find_class_pending = False
    REC.reader = Reader(data) if mode != "bytes" else None
    result: dict[str, Any] = {"accepted": False, "error": None}
    builtins.__import__ = recording_import
    try:
        if mode == "file":
            unpickler = pickle.Unpickler(REC.reader, encoding="utf-8")
            unpickler.persistent_load = persistent_load  # type: ignore[method-assign]
            unpickler.load()
        elif mode == "python":
            py_unpickler = pickle._Unpickler(REC.reader)  # type: ignore[attr-defined]
            py_unpickler.persistent_load = persistent_load
            py_unpickler.load()
        else:
            pickle.loads(data)
        result["accepted"] = True
    except RecursionError as exc:
        result["error"] = f"RecursionError: {str(exc)[:200]}"
    except MemoryError:
        result["error"] = "MemoryError"
    except BaseException as exc:  # noqa: BLE001 - hostile input: every failure is a rejection
        result["error"] = f"{type(exc).__name__}: {str(exc)[:200]}"
    finally:
        builtins.__import__ = _real_import
        _restore_modules()
    result["events"] = REC.events
    result["overflow"] = REC.overflow
    result["pos"] = REC.reader.pos if REC.reader is not None else None
    return result


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if event == "pickle.find_class":
        REC.find_class_pending = True


def setup(memory: int, cpu: int) -> None:
    warnings.simplefilter("ignore")
    sys.addaudithook(_audit)
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    for name in ("ascii", "utf-8", "latin-1", "raw_unicode_escape", "unicode_escape"):
        codecs.lookup(name)  # codec modules imported now, never while a stand-in import is active
    b"x".decode("ascii")
    registry = copyreg._extension_registry  # type: ignore[attr-defined]
    for code in EXT_CODES:
        registry[(EXT_MODULE, str(code))] = code  # type: ignore[index]
    inverted = copyreg._inverted_registry  # type: ignore[attr-defined]
    for code in EXT_CODES:
        inverted[code] = (EXT_MODULE, str(code))


def main() -> None:
    memory = int(sys.argv[1]) if len(sys.argv) > 1 else 1 << 30
    cpu = int(sys.argv[2]) if len(sys.argv) > 2 else 120
    setup(memory, cpu)
    sys.setrecursionlimit(10_000)
    stdin = sys.stdin.buffer
    stdout = sys.stdout
    while True:
        head = stdin.read(4)
        if len(head) < 4:
            return
        (size,) = struct.unpack("<I", head)
        data = stdin.read(size)
        out = {mode: load_once(data, mode) for mode in MODES}
        stdout.write(json.dumps(out) + "\n")
        stdout.flush()


if __name__ == "__main__":
    main()
