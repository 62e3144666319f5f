"""Sweep the installed libraries for classes whose hooks act when a pickle merely rebuilds them.

A class that a pickle rebuilds without calling it (``NEWOBJ`` with no arguments, or
``copyreg._reconstructor(cls, object, None)``, then ``BUILD``) still runs code of its own:
``__new__``, ``__setstate__`` (or, without one, ``__getattr__``/``__getattribute__`` looking it up,
and ``__setattr__``/data-descriptor setters for slot state), ``__hash__``/``__eq__`` when the object
becomes a dict key, ``__del__`` when it is collected, ``__reduce__``/``__reduce_ex__`` when it is
copied or saved again, and finalizers any of them register. This walks the submodules of the ML
libraries installed here (each root in a child process with CPU and memory limits; a submodule
that fails to import is skipped), lists every class that defines or inherits such a hook from a
base other than ``object``, and reads the Python source of each hook, and of the methods and
same-library functions it calls (a few levels deep), for references to what acts outside the
process's memory: processes, files, ``exec``/``eval``, imports, native code, deserialisers, the
network, finalizers, and well-known acting methods called on state (``self._path.unlink()``).

A class whose hooks reach any of them is a *gadget*; the result is written to
``src/mlwarden/scan/pickle/gadgets.py`` (``python -m tests.scan.pickle.gadget_sweep --write``) and
``tests/scan/pickle/test_gadget_sweep.py`` re-runs the sweep against the installed versions.
Hooks written in C or Cython have no source to read: they are not gadgets here, and a class of a
library that is not on the allowlist stays high in the scanner anyway.

This runs library code only by importing it (never a hook); it is a test tool, not part of the
scanner.
"""

from __future__ import annotations

import argparse
import ast
import builtins
import contextlib
import importlib
import importlib.metadata
import importlib.util
import inspect
import io
import json
import os
import pkgutil
import subprocess
import sys
import textwrap
import time
import types
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOTS: tuple[str, ...] = (
    "numpy", "scipy", "pandas", "sklearn", "torch", "joblib", "xgboost", "lightgbm", "onnx",
    "h5py", "skops", "safetensors", "mlflow", "pyarrow", "cloudpickle", "transformers",
    "tensorflow", "keras", "jax", "catboost", "dask", "torchvision", "stdlib")
"""Roots swept; those not installed are recorded as missing (``stdlib`` is the standard library)."""

HOOKS: tuple[str, ...] = (
    "__new__", "__setstate__", "__getattr__", "__getattribute__", "__setattr__", "__delattr__",
    "__hash__", "__eq__", "__del__", "__reduce__", "__reduce_ex__", "__set_name__",
    "__init_subclass__", "__class_getitem__")
"""Methods that run on a rebuilt instance without its constructor (or on its class)."""

SKIP_PARTS = ("tests", "_tests", "testing", "conftest", "benchmarks", "__main__", "_vendor",
              "vendored", "_vendored", "setup", "examples")
STDLIB_SKIP = frozenset(("antigravity", "this", "idlelib", "tkinter", "turtle", "turtledemo",
                         "__phello__", "test", "ensurepip", "lib2to3", "pydoc_data", "_pydecimal",
                         "__hello__", "xxsubtype", "_testcapi", "_testinternalcapi",
                         "_testbuffer", "_testimportmultiple", "_testmultiphase", "_xxtestfuzz",
                         "_ctypes_test", "_testclinic", "msilib", "winsound", "_winapi", "nt",
                         "winreg", "msvcrt", "_msi", "_overlapped", "_wmi", "_scproxy"))

# What a hook may reach, by the object's home module (top level) and, within it, by name.
_KIND_BY_MODULE: dict[str, str] = {
    "subprocess": "process", "_posixsubprocess": "process", "pty": "process",
    "multiprocessing": "process", "_multiprocessing": "process", "concurrent": "process",
    "signal": "process", "shutil": "file", "tempfile": "file", "glob": "file",
    "fileinput": "file", "shelve": "file", "dbm": "file", "sqlite3": "file", "zipfile": "file",
    "tarfile": "file", "mmap": "file", "gzip": "file", "bz2": "file", "lzma": "file",
    "runpy": "eval", "code": "eval", "codeop": "eval", "marshal": "eval",
    "importlib": "import", "imp": "import", "zipimport": "import", "pkgutil": "import",
    "ctypes": "native", "_ctypes": "native", "cffi": "native",
    "pickle": "deserialize", "_pickle": "deserialize", "dill": "deserialize",
    "cloudpickle": "deserialize",
    "socket": "network", "_socket": "network", "ssl": "network", "http": "network",
    "urllib": "network", "urllib3": "network", "requests": "network", "httpx": "network",
    "aiohttp": "network", "smtplib": "network", "ftplib": "network", "xmlrpc": "network",
    "socketserver": "network", "webbrowser": "process", "atexit": "finalizer",
}
_OS_KINDS: dict[str, str] = {
    **dict.fromkeys(("system", "popen", "fork", "forkpty", "kill", "killpg", "posix_spawn",
                     "posix_spawnp", "startfile", "_exit", "abort", "spawnl", "spawnle",
                     "spawnlp", "spawnlpe", "spawnv", "spawnve", "spawnvp", "spawnvpe", "execl",
                     "execle", "execlp", "execlpe", "execv", "execve", "execvp", "execvpe",
                     "putenv", "unsetenv", "chdir", "setuid", "setgid"), "process"),
    **dict.fromkeys(("remove", "unlink", "rmdir", "removedirs", "rename", "renames", "replace",
                     "makedirs", "mkdir", "chmod", "chown", "lchown", "symlink", "link",
                     "truncate", "ftruncate", "write", "open", "fdopen", "close", "closerange",
                     "dup2", "utime", "mkfifo", "mknod", "fchmod", "fchown", "umask",
                     "sendfile", "pwrite", "writev", "lseek", "read", "pread", "listdir",
                     "scandir", "walk", "fwalk"), "file"),
}
_PICKLE_INERT = frozenset(("dumps", "dump", "Pickler", "PickleBuffer", "PicklingError",
                           "UnpicklingError", "PickleError", "HIGHEST_PROTOCOL",
                           "DEFAULT_PROTOCOL"))
_BUILTIN_KINDS: dict[str, str] = {
    "open": "file", "exec": "eval", "eval": "eval", "compile": "eval", "__import__": "import",
    "breakpoint": "eval", "input": "process", "exit": "process", "quit": "process",
}
_LIBRARY_KINDS: dict[str, str] = {
    "torch.load": "deserialize", "torch.serialization.load": "deserialize",
    "torch.save": "file", "torch.serialization.save": "file", "torch.from_file": "file",
    "torch.ops.load_library": "native",
    "torch.jit.load": "deserialize", "torch.jit._serialization.load": "deserialize",
    "torch.hub.load": "import", "torch.utils.cpp_extension.load": "native",
    "numpy.load": "deserialize", "numpy.lib.npyio.load": "deserialize",
    "numpy.lib._npyio_impl.load": "deserialize", "numpy.fromfile": "file",
    "numpy.save": "file", "numpy.savez": "file", "numpy.memmap": "file", "numpy.tofile": "file",
    "numpy.core.memmap.memmap": "file", "numpy._core.memmap.memmap": "file",
    "joblib.load": "deserialize", "joblib.numpy_pickle.load": "deserialize",
    "joblib.dump": "file", "joblib.numpy_pickle.dump": "file", "joblib.Parallel": "process",
    "joblib.parallel.Parallel": "process", "pandas.read_pickle": "deserialize",
    "pandas.io.pickle.read_pickle": "deserialize", "pandas.eval": "eval",
    "pandas.core.computation.eval.eval": "eval", "scipy.io.loadmat": "file",
    "pyarrow.lib.memory_map": "file", "pyarrow.lib.OSFile": "file",
}
INERT = frozenset((
    # logging and bookkeeping helpers of the modules above
    "multiprocessing.util.debug", "multiprocessing.util.info", "multiprocessing.util.sub_debug",
    "multiprocessing.util.sub_warning", "multiprocessing.util.get_logger",
    "multiprocessing.util._exit_function", "multiprocessing.context.assert_spawning",
    "multiprocessing.process.current_process", "multiprocessing.process.parent_process",
    "multiprocessing.util.is_exiting", "multiprocessing.context.get_spawning_popen",
    "multiprocessing.process.AuthenticationString", "concurrent.futures._base.Future",
    "signal.Signals", "signal.Handlers", "shutil.get_terminal_size", "importlib.util.find_spec",
    "importlib.metadata.version",
    "ctypes.sizeof", "ctypes.addressof", "ctypes.c_int", "ctypes.c_long", "ctypes.c_double",
    "pickle.PickleBuffer", "socket.gethostname"))
"""Names of the modules above that do not act on anything (logging, lookups, sizes)."""
INERT_MODULES = ("urllib.parse", "importlib.metadata", "importlib._bootstrap", "http.HTTPStatus",
                 "importlib.util", "importlib.machinery", "importlib.abc")
"""Parts of the modules above that only compute or look things up."""

ACTING_METHODS: dict[str, str] = {
    **dict.fromkeys(("unlink", "rmdir", "rmtree", "removedirs", "write_text", "write_bytes",
                     "touch", "symlink_to", "hardlink_to", "chmod", "rename"), "file"),
    **dict.fromkeys(("kill", "terminate", "send_signal", "terminate_broken", "popen", "system",
                     "spawn", "start_new_thread"), "process"),
    **dict.fromkeys(("urlopen", "sendall", "sendto", "connect", "connect_ex"), "network"),
    **dict.fromkeys(("load_library", "LoadLibrary", "dlopen"), "native"),
    **dict.fromkeys(("import_module", "exec_module", "load_module"), "import"),
    "finalize": "finalizer",
}
"""Acting methods called on something the sweep cannot resolve (usually state: ``self._dir``)."""
_FINALIZERS = frozenset(("weakref.finalize", "atexit.register", "threading.Thread",
                         "threading.Timer"))

ON_COPY = frozenset(("__reduce__", "__reduce_ex__"))
KINDS_CRITICAL = frozenset(("process", "file", "eval", "import", "native", "deserialize"))
"""Reach kinds that make an instantiated gadget critical; the others are high."""

MAX_DEPTH = 3
MAX_FUNCS = 40


def _unwrap(fn: object) -> object:
    for _ in range(8):
        if isinstance(fn, (staticmethod, classmethod)):
            fn = fn.__func__
        inner = getattr(fn, "__wrapped__", None)
        if inner is None or inner is fn:
            break
        fn = inner
    if isinstance(fn, property):
        return fn.fset
    return fn


def _kind_of(obj: object, via: str) -> str | None:
    """What ``obj`` (reached as ``via``) acts on, or ``None`` when it is inert or unknown."""
    if obj is None:
        return None
    if isinstance(obj, types.BuiltinFunctionType) and getattr(obj, "__self__", None) is builtins:
        return _BUILTIN_KINDS.get(obj.__name__)
    if isinstance(obj, types.ModuleType):
        return None  # a module on its own does nothing; its attributes are judged when used
    home = getattr(obj, "__module__", None)
    name = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None)
    if not isinstance(home, str) or not isinstance(name, str):
        return None
    qual = f"{home}.{name}"
    if qual in _LIBRARY_KINDS or via in _LIBRARY_KINDS:
        return _LIBRARY_KINDS.get(qual) or _LIBRARY_KINDS[via]
    if qual in _FINALIZERS or via in _FINALIZERS:
        return "finalizer"
    top = home.partition(".")[0]
    if home.startswith(INERT_MODULES):
        return None
    if qual in INERT or name.startswith(("_check", "_warn")) or (isinstance(obj, type) and issubclass(
            obj, BaseException)):
        return None
    if top in ("os", "posix", "nt"):
        return _OS_KINDS.get(name)
    if top in ("pickle", "_pickle", "dill", "cloudpickle") and name.rpartition(".")[2] in _PICKLE_INERT:
        return None
    if top in ("io", "_io") and name in ("open", "FileIO", "open_code"):
        return "file"
    if top in ("types",) and name in ("FunctionType", "CodeType", "LambdaType"):
        return "eval"
    if top == "sys" and name in ("settrace", "setprofile", "exit", "addaudithook"):
        return "process"
    return _KIND_BY_MODULE.get(top)


class _Reader:
    """Reads one class's hooks and what they call."""

    def __init__(self, cls: type) -> None:
        self.cls = cls
        self.library = (getattr(cls, "__module__", "") or "").partition(".")[0]
        self.seen: set[int] = set()
        self.found: list[tuple[str, str]] = []
        self.called: set[int] = set()

    def read(self, fn: object, path: str, depth: int) -> None:
        fn = _unwrap(fn)
        if not isinstance(fn, types.FunctionType) or id(fn) in self.seen:
            return
        if depth > MAX_DEPTH or len(self.seen) >= MAX_FUNCS:
            return
        self.seen.add(id(fn))
        try:
            source = textwrap.dedent(inspect.getsource(fn))
            tree = ast.parse(source)
        except (OSError, TypeError, SyntaxError, IndentationError):
            return
        env: dict[str, Any] = {**vars(builtins), **fn.__globals__}
        if fn.__closure__:
            for var, cell in zip(fn.__code__.co_freevars, fn.__closure__, strict=False):
                with contextlib.suppress(ValueError):
                    env[var] = cell.cell_contents
        local = _locals(tree)
        for name in local:
            env.pop(name, None)  # parameters and assignments shadow globals (``input``)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                env.update(_imported(node, _package_of(fn.__module__ or "")))
        self.called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute):
                self._attribute(node, env, path, depth)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                obj = env.get(node.id)
                self._judge(obj, node.id, path, depth, id(node) in self.called)

    def _attribute(self, node: ast.Attribute, env: dict[str, Any], path: str, depth: int) -> None:
        chain: list[str] = []
        cur: ast.expr = node
        while isinstance(cur, ast.Attribute):
            chain.append(cur.attr)
            cur = cur.value
        chain.reverse()
        if isinstance(cur, ast.Name) and cur.id in ("self", "cls"):
            # a method of the class itself: read it too
            member = inspect.getattr_static(self.cls, chain[0], None)
            if member is not None:
                self.read(member, f"{path} -> self.{chain[0]}", depth + 1)
            elif len(chain) >= 2:
                self._method_on_state(chain[-1], f"self.{'.'.join(chain)}", path)
            return
        if isinstance(cur, ast.Name) and cur.id in env:
            called = id(node) in self.called
            obj: object = env[cur.id]
            dotted = cur.id
            for part in chain:
                try:
                    obj = inspect.getattr_static(obj, part)
                except AttributeError:
                    try:
                        obj = getattr(obj, part)
                    except Exception:  # noqa: BLE001 - lazy module attributes may fail
                        return
                dotted += "." + part
                self._judge(obj, dotted, path, depth, called and part == chain[-1])
            return
        self._method_on_state(chain[-1], ".".join(chain), path)

    def _method_on_state(self, method: str, via: str, path: str) -> None:
        kind = ACTING_METHODS.get(method)
        if kind is not None:
            # a name match on an object the sweep cannot resolve: a likely reach, not a sure one
            self.found.append((f"state-method {kind}", f"{path} -> {via}()"))

    def _judge(self, obj: object, via: str, path: str, depth: int, called: bool = True) -> None:
        if isinstance(obj, type) and not called:
            return  # a class named, not instantiated (``isinstance(other, Morsel)``)
        kind = _kind_of(obj, via)
        if kind is not None:
            home = getattr(obj, "__module__", "") or ""
            name = getattr(obj, "__qualname__", "") or getattr(obj, "__name__", "")
            self.found.append((kind, f"{path} -> {home}.{name}" if home else f"{path} -> {via}"))
            return
        fn = _unwrap(obj)
        if isinstance(fn, types.FunctionType):
            home = (getattr(fn, "__module__", "") or "").partition(".")[0]
            if home == self.library:  # a helper of the same library: read it too
                self.read(fn, f"{path} -> {fn.__module__}.{fn.__qualname__}", depth + 1)


def _locals(tree: ast.AST) -> set[str]:
    """Names a function binds itself: parameters, assignment and loop targets (not imports)."""
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
            bound.add(node.id)
    return bound


def _package_of(module: str) -> str:
    mod = sys.modules.get(module)
    return module if hasattr(mod, "__path__") else module.rpartition(".")[0]


def _imported(node: ast.Import | ast.ImportFrom, package: str) -> dict[str, object]:
    """What an import inside a hook binds (the modules are already imported or importable)."""
    found: dict[str, object] = {}
    for alias in node.names:
        try:
            if isinstance(node, ast.Import):
                top = importlib.import_module(alias.name.partition(".")[0] if alias.asname is None
                                              else alias.name)
                found[alias.asname or alias.name.partition(".")[0]] = top
            else:
                base = importlib.import_module(
                    "." * node.level + (node.module or ""), package if node.level else None)
                obj = getattr(base, alias.name, None)
                if obj is None:
                    obj = importlib.import_module(f"{base.__name__}.{alias.name}")
                found[alias.asname or alias.name] = obj
        except Exception:  # noqa: BLE001 - an optional dependency
            continue
    return found


def _hooks(cls: type) -> Iterator[tuple[str, object, type]]:
    """(hook name, function, defining class) for every hook ``cls`` has from a non-object base."""
    for hook in HOOKS:
        for klass in cls.__mro__:
            if klass is object:
                break
            if hook in vars(klass):
                yield hook, vars(klass)[hook], klass
                break
    seen: set[str] = set()
    for klass in cls.__mro__:
        if klass is object:
            break
        for attr, member in vars(klass).items():
            if attr in seen or attr.startswith("__"):
                continue
            seen.add(attr)
            if isinstance(member, property) and member.fset is not None:
                yield f"{attr}.setter", member.fset, klass
            elif hasattr(type(member), "__set__") and not isinstance(
                    member, (types.MemberDescriptorType, types.GetSetDescriptorType,
                             types.FunctionType, property)):
                setter = getattr(type(member), "__set__", None)
                yield f"{attr}.__set__", setter, klass


def classify(cls: type) -> dict[str, Any] | None:
    """The gadget record of ``cls`` (reach kind and the path to it), or ``None``."""
    reader = _Reader(cls)
    hooks: list[str] = []
    for hook, fn, klass in _hooks(cls):
        hooks.append(hook)
        where = f"{klass.__module__}.{klass.__qualname__}.{hook}"
        before = len(reader.found)
        reader.read(fn, where, 0)
        if hook in ON_COPY:
            # a reduction names what rebuilds the copy; it runs when the object is copied or
            # saved and loaded again, never while this pickle loads
            reader.found[before:] = [(f"on-copy {k}", e) for k, e in reader.found[before:]]
    if not reader.found:
        return None
    kinds = sorted({k for k, _ in reader.found})
    critical = [k for k in kinds if k in KINDS_CRITICAL]
    kind = critical[0] if critical else kinds[0]
    evidence = next(e for k, e in reader.found if k == kind)
    return {"kind": kind, "evidence": evidence[:300]}


def _submodules(root: str) -> Iterator[str]:
    stdlib = sorted(n for n in sys.stdlib_module_names if n not in STDLIB_SKIP)
    tops = stdlib if root == "stdlib" else [root]
    for top in tops:
        yield top
        try:
            mod = importlib.import_module(top)
        except BaseException:  # noqa: BLE001 - skipped, like any module that fails to import
            continue
        path = getattr(mod, "__path__", None)
        if not path:
            continue
        for info in pkgutil.walk_packages(path, top + ".", onerror=lambda _name: None):
            parts = info.name.split(".")
            if any(p in SKIP_PARTS or p.startswith("test_") for p in parts):
                continue
            if top == "torch" and parts[1:2] in (["_inductor"], ["_dynamo"], ["onnx"],
                                                 ["testing"], ["distributed"]):
                continue  # internals of the compiler stack; already denylisted as modules
            yield info.name


def _classes(module: types.ModuleType) -> Iterator[tuple[str, type]]:
    """(dotted name under the module, class) for classes defined in or re-exported by it."""
    for attr, obj in list(vars(module).items()):
        if isinstance(obj, type):
            yield attr, obj
            for inner_attr, inner in list(vars(obj).items()):
                if isinstance(inner, type) and getattr(inner, "__module__", None) == obj.__module__ \
                        and getattr(inner, "__qualname__", "") == f"{obj.__qualname__}.{inner_attr}":
                    yield f"{attr}.{inner_attr}", inner


def sweep_root(root: str, budget: float) -> dict[str, Any]:
    """Sweep one root in this process (call it in a child: it imports the library)."""
    started = time.monotonic()
    gadgets: dict[str, dict[str, Any]] = {}
    verdict_of: dict[int, dict[str, Any] | None] = {}
    modules = failed = 0
    complete = True
    sink = io.StringIO()
    with warnings.catch_warnings(), contextlib.redirect_stdout(sink), \
            contextlib.redirect_stderr(sink):
        warnings.simplefilter("ignore")
        for name in _submodules(root):
            if time.monotonic() - started > budget:
                complete = False
                break
            try:
                module = importlib.import_module(name)
            except BaseException:  # noqa: BLE001 - optional dependencies, platform modules
                failed += 1
                continue
            modules += 1
            for attr, cls in _classes(module):
                if id(cls) not in verdict_of:
                    try:
                        verdict_of[id(cls)] = classify(cls)
                    except Exception:  # noqa: BLE001 - a class whose introspection fails
                        verdict_of[id(cls)] = None
                record = verdict_of[id(cls)]
                if record is None:
                    continue
                home = f"{cls.__module__}.{cls.__qualname__}"
                gadgets.setdefault(home, record)
                alias = f"{name}.{attr}"
                if alias != home:
                    gadgets.setdefault(alias, {**record, "alias_of": home})
    versions: dict[str, str] = {}
    if root == "stdlib":
        versions["python"] = ".".join(map(str, sys.version_info[:3]))
    else:
        dist = {"sklearn": "scikit-learn", "skops": "skops"}.get(root, root)
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            versions[root] = importlib.metadata.version(dist)
    return {"root": root, "gadgets": gadgets, "modules": modules, "failed": failed,
            "complete": complete, "versions": versions,
            "seconds": round(time.monotonic() - started, 1)}


_SENTINEL = "\n@@GADGET-SWEEP@@"


def _limit(cpu_seconds: int) -> Callable[[], None]:
    def apply() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 5))
        resource.setrlimit(resource.RLIMIT_AS, (16 << 30, 16 << 30))
    return apply


def sweep(roots: tuple[str, ...] = ROOTS, budget: float = 240.0) -> dict[str, Any]:
    """Sweep every installed root, each in a child process with CPU, memory and time limits."""
    results: dict[str, Any] = {"roots": {}, "missing": [], "incomplete": []}
    repo = Path(__file__).resolve().parents[3]
    for root in roots:
        if root != "stdlib" and importlib.util.find_spec(root) is None:
            results["missing"].append(root)
            continue
        code = (f"import json, sys\nfrom tests.scan.pickle.gadget_sweep import sweep_root\n"
                f"out = sweep_root({root!r}, {budget!r})\n"
                f"sys.stdout.write({_SENTINEL!r} + json.dumps(out))\n")
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [str(repo), str(repo / "src"), os.environ.get("PYTHONPATH", "")]),
            "CUDA_VISIBLE_DEVICES": "", "MPLBACKEND": "Agg", "TF_CPP_MIN_LOG_LEVEL": "3"}
        try:
            proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                  timeout=budget + 120, env=env, cwd=repo, check=False,
                                  preexec_fn=_limit(int(budget) + 60))
        except subprocess.TimeoutExpired:
            results["incomplete"].append(root)
            continue
        if _SENTINEL not in proc.stdout:
            results["incomplete"].append(root)
            continue
        out = json.loads(proc.stdout.rsplit(_SENTINEL, 1)[1])
        results["roots"][root] = out
        if not out["complete"]:
            results["incomplete"].append(root)
    return results


def gadgets_of(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    merged: dict[str, dict[str, Any]] = {}
    for out in results["roots"].values():
        for qual, record in out["gadgets"].items():
            merged.setdefault(qual, record)
    return merged


def _denied(module: str, name: str) -> bool:
    """Whether the denylist alone (without the gadget table) judges ``module.name`` dangerous."""
    from mlwarden.scan.pickle import gadgets, names

    saved = dict(gadgets.GADGETS)
    gadgets.GADGETS.clear()
    names.judge.cache_clear()
    try:
        return names.judge(module, name).verdict == names.DANGEROUS
    finally:
        gadgets.GADGETS.update(saved)
        names.judge.cache_clear()


def _wrapped(text: str, width: int = 96) -> str:
    """``text`` as adjacent string literals of at most ``width`` characters, one per line."""
    parts: list[str] = []
    line = ""
    for piece in text.split(" -> "):
        piece = piece if not line and not parts else " -> " + piece
        if line and len(line) + len(piece) > width:
            parts.append(line)
            line = piece
        else:
            line += piece
    parts.append(line)
    chunks = [c[i:i + width] for c in parts for i in range(0, max(len(c), 1), width)]
    return "\n".join(f"        {json.dumps(c)}" for c in chunks)


def render(results: dict[str, Any]) -> str:
    """The data module ``mlwarden.scan.pickle.gadgets`` for a sweep's results."""

    versions: dict[str, str] = {}
    for out in results["roots"].values():
        versions.update(out["versions"])
    rows = []
    for qual, record in sorted(gadgets_of(results).items()):
        module, _, name = qual.rpartition(".")
        # a nested class: judge by its top-level module path as pickle names it
        if _denied(module, name):
            continue  # the denylist already judges it dangerous
        rows.append(f"    {json.dumps(qual)}: (\n        {json.dumps(record['kind'])},\n"
                    + _wrapped(record["evidence"]) + "),")
    body = "\n".join(rows)
    swept = textwrap.fill(", ".join(f"{k} {v}" for k, v in sorted(versions.items())), 96)
    swept_rows = "\n".join(f"    {json.dumps(k)}: {json.dumps(v)}," for k, v in sorted(versions.items()))
    return f'''"""Library classes whose hooks act when a pickle merely rebuilds them (generated; do not edit).

Written by ``python -m tests.scan.pickle.gadget_sweep --write`` (see that module): every class of
the swept libraries whose ``__new__``, ``__setstate__``, ``__getattr__``, ``__setattr__``, property
setters, ``__hash__``/``__eq__``, ``__del__`` or ``__reduce__`` reaches processes, files, ``exec``,
imports, native code, deserialisers, the network or finalizers, in its own source or in the methods
and same-library functions it calls. Names the denylist already makes critical are left out.
A gadget is judged dangerous (critical when instantiated) when its kind is in
:data:`CRITICAL_KINDS`, otherwise unvetted (high) — even where an allowlist pattern would vouch for
its module.

Swept on:
{swept}.
Roots not installed there: {", ".join(results["missing"]) or "none"}.
"""

from __future__ import annotations

SWEPT_ON: dict[str, str] = {{
{swept_rows}
}}

CRITICAL_KINDS: frozenset[str] = frozenset((
    {", ".join(json.dumps(k) for k in sorted(KINDS_CRITICAL))}))

GADGETS: dict[str, tuple[str, str]] = {{
{body}
}}
"""Dotted name (home or re-export) → (reach kind, the hook path that reaches it)."""
'''


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="rewrite the gadgets data module")
    parser.add_argument("--roots", nargs="*", default=list(ROOTS))
    parser.add_argument("--budget", type=float, default=240.0, help="seconds per root")
    parser.add_argument("--json", type=Path, help="also dump the raw sweep here")
    parser.add_argument("--from-json", type=Path, help="render a raw sweep dumped before")
    args = parser.parse_args(argv)
    results = (json.loads(args.from_json.read_text()) if args.from_json
               else sweep(tuple(args.roots), args.budget))
    for root, out in results["roots"].items():
        print(f"{root}: {out['modules']} modules ({out['failed']} failed), "
              f"{len(out['gadgets'])} gadget names, {out['seconds']} s"
              + ("" if out["complete"] else " [INCOMPLETE]"))
    print("missing:", ", ".join(results["missing"]) or "none")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, sort_keys=True))
    if args.write:
        target = Path(__file__).resolve().parents[3] / "src/mlwarden/scan/pickle/gadgets.py"
        target.write_text(render(results))
        print(f"wrote {target}")
    return 1 if results["incomplete"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
