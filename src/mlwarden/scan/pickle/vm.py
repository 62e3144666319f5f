"""The symbolic pickle VM: runs the opcode stream of protocols 0-5 over symbolic values.

It tracks the stack, the memo and the marks exactly as CPython's unpickler does, so names built
through the memo, dotted names, ``getattr``/``attrgetter`` chains, partials, reconstructors and
nested payloads all resolve to the callable they would really import — without importing or
executing anything. The opcode handlers live in :mod:`~mlwarden.scan.pickle.handlers`, joblib's
inline arrays in :mod:`~mlwarden.scan.pickle.joblib_arrays`; this module holds the main loop and
the semantics of imports, calls, BUILD and nested payloads.

Hostile input never raises out of :meth:`VM.run`: a break in the stream, an exceeded limit or an
unmodelled construct becomes a finding, and everything resolved before it is still reported.
"""

from __future__ import annotations

import _compat_pickle
import mmap
import struct
import sys
from collections.abc import Callable, MutableMapping
from typing import Any

from mlwarden.core.finding import JSONValue
from mlwarden.core.rules import Rule
from mlwarden.core.severity import Severity
from mlwarden.scan import progress
from mlwarden.scan.pickle import decode, names, rules
from mlwarden.scan.pickle.handlers import BIG_TEXT, HANDLERS, OpcodeHandlers, opname
from mlwarden.scan.pickle.joblib_arrays import MAX_NESTED_PICKLES, JoblibArrays
from mlwarden.scan.pickle.names import words
from mlwarden.scan.pickle.scipy_dists import template_gadget, vetted_state
from mlwarden.scan.pickle.state import Abort, Shared
from mlwarden.scan.pickle.values import (
    ArrayWrapper,
    AttrGetter,
    Blob,
    BytesIO,
    Call,
    Decoded,
    DType,
    Imp,
    MethodCaller,
    Opaque,
    Partial,
    Ref,
    SDict,
    SideFileWrapper,
    describe,
)

MAX_WALKED = 500_000
"""Tuples kept to check values for unvetted names; past it no class is downgraded to medium."""
MAX_DEFERRED = 8
"""Partials nested inside partials' arguments whose held calls are judged (``partial(partial,
partial, ..., f)`` needs one call per level before ``f`` runs)."""
MAX_PARTIAL_ARGS = 256
"""Arguments kept when partials are flattened (each was judged when it was bound)."""
MAX_IMPORTS = 1_000_000
"""Imports recorded per analysis (each is kept for the result); more is a resource-limit finding."""

NESTED_LOADERS = frozenset(words(
    "pickle.loads pickle._loads pickle.load pickle._load _pickle.loads _pickle.load dill.loads "
    "dill.load dill._dill.loads dill._dill.load cloudpickle.loads cloudpickle.load "
    "cloudpickle.cloudpickle.loads torch.load torch.serialization.load torch.storage._load_from_bytes "
    "numpy.load numpy.loads joblib.load joblib.numpy_pickle.load pandas.read_pickle "
    "pandas.io.pickle.read_pickle"))
CODE_BUILDERS = frozenset(words(
    "marshal.loads marshal.load types.CodeType types.FunctionType types.LambdaType "
    "builtins.compile builtins.eval builtins.exec"))
SIDE_FILE_WRAPPERS = frozenset(words(
    "joblib.numpy_pickle_compat.NDArrayWrapper joblib.numpy_pickle_compat.ZNDArrayWrapper "
    "sklearn.externals.joblib.numpy_pickle_compat.NDArrayWrapper "
    "sklearn.externals.joblib.numpy_pickle_compat.ZNDArrayWrapper"))
"""joblib's legacy wrappers whose ``read()`` loads a side file the pickle names."""
_IMPORTERS = frozenset(words("builtins.__import__ importlib.import_module importlib.__import__ "
                        "importlib._bootstrap._gcd_import pydoc.locate pkgutil.resolve_name"))
_UFUNC_RECONSTRUCT = names.UFUNC_RECONSTRUCT
_SMUGGLE_CRITICAL = frozenset(words(
    "__reduce__ __reduce_ex__ __setstate__ __getstate__ __getattr__ __getattribute__ __setattr__ "
    "__class__ __dict__ __init__ __new__ __call__ __del__ __code__ __globals__ __builtins__ "
    "__import__ __init_subclass__ __class_getitem__ __set_name__ __get__ __set__ __delete__ "
    "__eq__ __hash__ __len__ __iter__ __getitem__ __setitem__ __missing__ __enter__ __exit__"))
_INSTANTIATES_FIRST = frozenset(words(
    "numpy.core.multiarray._reconstruct numpy._core.multiarray._reconstruct "
    "numpy.ma.core._mareconstruct pandas.core.indexes.base._new_Index "
    "pandas.core.indexes.datetimes._new_DatetimeIndex pandas.core.indexes.period._new_PeriodIndex "
    "torch._utils._rebuild_wrapper_subclass numpy.random._pickle.__bit_generator_ctor"))
"""Allowlisted helpers that instantiate the class they get as first argument."""
_BASE_NEW = frozenset(words(
    "numpy.core.multiarray._reconstruct numpy._core.multiarray._reconstruct "
    "numpy.ma.core._mareconstruct"))
"""Of those, the ones that run ``ndarray.__new__(subtype)`` rather than the subtype's constructor."""
_CALLS_SECOND_WITH_FIRST = frozenset(words(
    "numpy.random._pickle.__generator_ctor numpy.random._pickle.__randomstate_ctor"))
"""``ctor(name, bit_generator_ctor)`` calls ``bit_generator_ctor(name)``: a known gadget."""
_CALLS_FIRST_WITH_THIRD = frozenset(words(
    "torch._tensor._rebuild_from_type_v2 torch._tensor._rebuild_from_type"))
"""``_rebuild_from_type_v2(func, new_type, args, state)`` calls ``func(*args)``."""
_SETS_STATE_FROM = {"torch._tensor._rebuild_from_type_v2": 3,
                    "torch._utils._rebuild_parameter_with_state": 3}
"""Allowlisted helpers that set attributes from one of their arguments (the argument's index)."""


class VM(OpcodeHandlers, JoblibArrays):
    """One pickle stream over ``data[start:end]`` (``data`` is the target's buffer or a decoded one)."""

    def __init__(self, shared: Shared, data: memoryview, start: int, end: int, *,
                 base: int | None = 0, anchor: int = 0, depth: int = 0) -> None:
        self.shared = shared
        self.limits = shared.ctx.limits
        self.data = data
        owner = data.obj
        self.raw: Any = owner if (isinstance(owner, bytes | bytearray | mmap.mmap)
                                  and len(owner) == len(data) and data.contiguous) else None
        """The buffer's owner when it has ``find`` over the same bytes (line-based opcodes)."""
        self.start = start
        self.end = end
        self.base = base
        """Offset of ``data[0]`` in the scanned target; ``None`` for a decoded buffer."""
        self.anchor = anchor
        """Where findings of a decoded buffer are located (the outer call's offset)."""
        self.depth = depth
        self.stack: list[object] = []
        self.metastack: list[list[object]] = []
        self.memo: MutableMapping[int, object] = {}
        self.proto: int | None = None
        self.op_pos = start
        self.pos = start
        self.complete = False
        self.failure: str | None = None
        self.shadow = False
        self.result: object = None
        """The value STOP returned."""
        """A what-if run (the stream as plain ``pickle.load`` reads it); starts no further ones."""
        self.nops = 0
        self.extra_ops = 0
        """Opcodes run by nested streams while one of this stream's handlers ran."""
        self.deferring = 0
        """Partials whose held call is being judged right now (see :meth:`defer`)."""
        self.frame_end = _NO_FRAME
        """End of the FRAME whose bytes a file-reading unpickler holds in its buffer (see
        :meth:`enter_frame`)."""
        self.frame_split = False

    # ------------------------------------------------------------------ locations and findings
    def loc(self, off: int) -> int:
        return self.base + off if self.base is not None else self.anchor

    def emit(self, rule: Rule, message: str, off: int, evidence: dict[str, JSONValue], *,
             severity: Severity | None = None) -> None:
        shared = self.shared
        shared.findings += 1
        if not shared.emit_findings:
            return
        if self.depth:
            evidence = {**evidence, "nested_depth": self.depth}
            if self.base is None:
                evidence["nested_offset"] = off
        shared.ctx.add(rule.finding(message, shared.target.location(self.loc(off)),
                                    severity=severity, evidence=evidence))

    def malformed(self, message: str, off: int | None = None, kind: str = "malformed") -> Abort:
        off = self.op_pos if off is None else off
        if self.frame_end != _NO_FRAME and self.op_pos < self.frame_end and self._crosses_frame():
            self.split_frame(self.frame_end)  # a file-reading unpickler may well read on
        dangerous = self.shared.dirty()
        self.failure = kind
        self.emit(rules.MALFORMED,
                  f"{message} at offset {self.loc(off)}"
                  + ("; the calls before it still run when the file is loaded" if dangerous else ""),
                  off, {"opcode": opname(self.data, off, self.end), "offset": self.loc(off),
                        "problem": message, "dangerous_before_break": dangerous},
                  severity=Severity.HIGH if dangerous else Severity.MEDIUM)
        return Abort()

    def limit(self, what: str, value: int, bound: int) -> Abort:
        self.failure = "limit"
        self.emit(rules.RESOURCE_LIMIT,
                  f"pickle exceeds the {what} limit ({bound}); analysis stopped at offset "
                  f"{self.loc(self.op_pos)}", self.op_pos,
                  {"limit": what, "bound": bound, "value": value, "offset": self.loc(self.op_pos),
                   "opcode": opname(self.data, self.op_pos, self.end)})
        return Abort()

    # ------------------------------------------------------------------ main loop
    def run(self) -> None:
        """Execute symbolically until STOP, a break, or a limit. Never raises on hostile input."""
        data = self.data
        end = self.end
        dispatch = _DISPATCH
        shared = self.shared
        max_ops = self.limits.max_pickle_opcodes
        max_stack = self.limits.max_pickle_stack
        ops = shared.ops
        pos = self.pos
        frame_end = self.frame_end
        frame_op = _FRAME_OP
        shown = pos  # progress: the input bytes reported to the bar so far
        try:
            while True:
                if pos >= end:
                    self.op_pos = pos
                    raise self.malformed("stream ends before STOP (truncated pickle)", pos,
                                         "truncated")
                handler = dispatch[data[pos]]
                self.op_pos = pos
                if handler is None:
                    raise self.malformed(f"unknown opcode 0x{data[pos]:02x}", pos)
                ops += 1
                if not ops & 0x3FF:
                    ops += self.extra_ops
                    self.extra_ops = 0
                    if ops > max_ops:
                        raise self.limit("opcode count", ops, max_ops)
                    depth = len(self.stack) + len(self.metastack)
                    if depth > max_stack:
                        raise self.limit("stack size", depth, max_stack)
                    if progress.METER is not None and not self.depth and pos > shown:
                        progress.advance(pos - shown)
                        shown = pos
                pos = handler(self, pos + 1)
                if handler is frame_op:
                    frame_end = self.frame_end
                elif pos > frame_end:
                    if self.op_pos < frame_end:
                        self.split_frame(frame_end)
                    frame_end = self.frame_end = _NO_FRAME
                if pos < 0:
                    self.complete = True
                    self.pos = -pos
                    break
        except Abort:
            self.pos = self.op_pos
        except (IndexError, struct.error):
            self.pos = self.op_pos
            self.malformed("opcode argument runs past the end of the stream", self.op_pos,
                           "truncated")
        except (RecursionError, MemoryError) as exc:
            # the analyser's own limit, not a broken stream: the unpickler may well go on (it
            # flattens partials, it does not recurse where this VM does), so fail closed
            self.pos = self.op_pos
            depth = sys.getrecursionlimit()
            self.limit(f"analysis depth ({type(exc).__name__})", depth, depth)
        except (ValueError, TypeError, UnicodeDecodeError, OverflowError) as exc:
            self.pos = self.op_pos
            self.malformed(f"invalid opcode argument ({type(exc).__name__})", self.op_pos)
        finally:
            ops += self.extra_ops
            self.extra_ops = 0
            shared.ops = ops
            self.nops = ops
        if ops > max_ops and self.failure is None:
            self.limit("opcode count", ops, max_ops)

    # ------------------------------------------------------------------ frames
    def enter_frame(self, start: int, length: int) -> None:
        """A FRAME whose data starts at ``start``.

        ``pickle.loads(data)`` ignores frames. ``Unpickler(file).load()`` (``torch.load`` reads an
        ``io.BytesIO``) reads the frame into its buffer and serves opcodes from it; a read that
        needs more than the buffer still holds drops the rest of the buffer and goes on from the
        file at the frame's end. An opcode, or a nested FRAME, that runs past the end of the
        frame therefore reads *different bytes* in the two loaders.
        """
        # a frame longer than the rest of the stream: _pickle fails here, pickle._Unpickler
        # (joblib) takes the short frame and reads on, as this VM does
        end = self.frame_end
        if end != _NO_FRAME and self.op_pos < end:  # inside the buffer of an earlier frame
            if start > end:
                self.split_frame(end)
            elif start + length <= end:
                return  # fits in the buffer: nothing is read
            elif start != end:
                self.split_frame(end)
        self.frame_end = start + length

    def _crosses_frame(self) -> bool:
        """Whether the opcode at ``op_pos`` (which broke) may read past the end of its frame."""
        if self.frame_end > self.end:
            return False  # _pickle could not read the frame at all; pickle._Unpickler reads on
        op = self.data[self.op_pos]
        if op in _LINE_OPS:
            lines = bytes(self.data[self.op_pos + 1:self.frame_end])
            return lines.count(b"\n") < (2 if op in _TWO_LINE_OPS else 1)
        return self.op_pos + 9 > self.frame_end

    def split_frame(self, end: int) -> None:
        """Fail closed (high) once: the stream reads differently from a file than from bytes; the
        analysis goes on as ``pickle.loads`` reads it."""
        if self.frame_split or (self.data[self.op_pos] == _BUILD_OP and self.op_pos < end):
            # BUILD has no argument: what it steps over are joblib's array bytes, which joblib
            # writes after closing the frame and reads from the file itself
            return
        self.frame_split = True
        self.emit(rules.MALFORMED,
                  f"{opname(self.data, self.op_pos, self.end)} at offset {self.loc(self.op_pos)} runs "
                  f"past the end of its FRAME (offset {self.loc(end)}): pickle.loads and a file-reading "
                  "unpickler (torch.load) read different opcodes from here; analysed as pickle.loads "
                  "reads it", self.op_pos,
                  {"opcode": opname(self.data, self.op_pos, self.end), "offset": self.loc(self.op_pos),
                   "frame_end": self.loc(end), "problem": "opcode crosses the end of its frame"},
                  severity=Severity.HIGH)

    # ------------------------------------------------------------------ imports and calls
    def new_import(self, module: str, name: str, off: int, opcode: str, *,
                   derived_from: str | None = None) -> Ref:
        if (self.proto or 0) < 3 and derived_from is None:
            if (module, name) in _compat_pickle.NAME_MAPPING:
                module, name = _compat_pickle.NAME_MAPPING[(module, name)]
            elif module in _compat_pickle.IMPORT_MAPPING:
                module = _compat_pickle.IMPORT_MAPPING[module]
        if module == "__builtin__":
            module = "builtins"
        verdict = names.judge(module, name)
        v, reason = verdict.verdict, verdict.reason
        if v == names.UNKNOWN and names.allowed_by_policy(module, name, self.shared.ctx.allow_globals):
            v, reason = names.SAFE, "allowed by policy allow_globals"
        if v == names.UNKNOWN or qual_in(module, name, names.CALL_ONLY_HERE):
            self.shared.unvetted += 1  # values are walked for it from now on (see escape)
        imp = Imp(module=module, name=name, offset=self.loc(off), opcode=opcode, verdict=v,
                  reason=reason, derived_from=derived_from, nested_depth=self.depth,
                  nested_offset=off if self.base is None else None)
        self.shared.imports.append(imp)
        bound = min(self.limits.max_pickle_memo, MAX_IMPORTS)
        if len(self.shared.imports) > bound:
            raise self.limit("import count", len(self.shared.imports), bound)
        return Ref(imp)

    def respelt_import(self, module: str, name: str, off: int) -> None:
        """STRING/BINSTRING bytes become ``str`` by the unpickler's ``encoding`` (ASCII by default,
        ``torch.load`` UTF-8, ``latin1`` for Python 2 pickles); this VM reads them as latin-1. A
        name with non-ASCII bytes is recorded as the UTF-8 reading names it too."""
        alt_module, alt_name = _utf8_reading(module), _utf8_reading(name)
        if alt_module is not None or alt_name is not None:
            self.new_import(alt_module or module, alt_name or name, off, "STACK_GLOBAL")

    def text(self, value: object) -> str | None:
        """The value as a str constant, if it is one (names, codec arguments)."""
        if isinstance(value, str):
            return value
        if isinstance(value, Blob) and value.kind in ("str", "str8") and value.length <= BIG_TEXT * 8:
            raw = bytes(self.data[value.offset:value.offset + value.length])
            return raw.decode("utf-8" if value.kind == "str" else "latin-1", "surrogatepass")
        if isinstance(value, Decoded) and isinstance(value.value, str):
            return value.value
        return None

    def concrete(self, value: object) -> bytes | str | int | None:
        """A constant argument for a decoder (bounded), or ``None``."""
        if isinstance(value, bytes | str | int) and not isinstance(value, bool):
            return value
        if isinstance(value, Blob):
            if value.length > decode.MAX_DECODED:
                return None
            raw = bytes(self.data[value.offset:value.offset + value.length])
            if value.kind == "str":
                return raw.decode("utf-8", "surrogatepass")
            if value.kind == "str8":
                return raw.decode("latin-1")
            return raw
        if isinstance(value, Decoded):
            return value.value
        return None

    def call(self, func: object, args: object, off: int, opcode: str, *,
             base_new: bool = False, plain_new: bool = False, kwargs: object = None) -> object:
        """The symbolic result of ``func(*args)`` at ``off``; records what is called.

        ``base_new``: only a base class's ``__new__`` runs for ``func`` (``object.__new__(cls)``,
        ``ndarray.__new__(subtype)``), not ``func``'s own constructor. ``plain_new``: the call is
        ``cls.__new__(cls)`` with no arguments at all, as ``object.__reduce_ex__`` saves any
        instance (``NEWOBJ`` with an empty tuple, ``copyreg.__newobj__(cls)``,
        ``copyreg._reconstructor(cls, object, None)``). A reconstructor helper's first argument is
        the class it instantiates: judged by the inner call, not as a value handed over.
        """
        argv: tuple[object, ...] = args if isinstance(args, tuple) else ()
        reconstructs = isinstance(func, Ref) and func.imp.qualname in _RECONSTRUCTORS
        self.escape(argv[1:] if reconstructs else args)
        self.escape(kwargs)
        with_kwargs = _nonempty(kwargs)
        if isinstance(func, Ref):
            imp = func.imp
            if imp.qualname in names.CALL_DANGEROUS and not base_new:
                imp.verdict = names.DANGEROUS
                imp.reason = "opens or creates a file when called"
            if not plain_new or argv or with_kwargs:
                imp.invoked = True
                if imp.qualname in names.VALUE_ONLY and imp.verdict == names.SAFE \
                        and not names.allowed_by_policy(imp.module, imp.name,
                                                        self.shared.ctx.allow_globals):
                    imp.verdict = names.UNKNOWN
                    imp.reason = ("value type allowlisted only for reconstruction (NEWOBJ + "
                                  "BUILD) is called: its constructor runs on the pickle's arguments")
            if not imp.called:
                imp.called = True
                imp.call_offset = self.loc(off)
                imp.call_opcode = opcode
                imp.call_args = describe(argv if isinstance(args, tuple) else args, 200)
                if self.base is None:
                    imp.nested_offset = off
            return self.apply(func, argv, off, opcode, kwargs)
        if isinstance(func, Partial):
            unwrapped = _unwrap(func, argv, kwargs)
            if unwrapped is None:  # the unpickler recurses until it fails: the load stops here
                raise self.malformed("call of a functools.partial that loops back to itself")
            return self.call(unwrapped[0], unwrapped[1], off, opcode, kwargs=unwrapped[2])
        if isinstance(func, AttrGetter):
            result: object = argv[0] if argv else None
            for attr in func.names:
                for part in attr.split("."):
                    result = self.getattr(result, part, off, opcode)
            return result
        if isinstance(func, MethodCaller):
            method = self.getattr(argv[0] if argv else None, func.name, off, opcode)
            return self.call(method, func.args, off, opcode)
        self.emit(rules.UNRESOLVED_CALL,
                  f"{opcode} at offset {self.loc(off)} calls a computed value "
                  f"({describe(func)}) that is not an imported constructor", off,
                  {"callable": describe(func), "opcode": opcode, "offset": self.loc(off),
                   "args": describe(args, 200)})
        self.shared.imports.append(Imp(module="<computed>", name=describe(func, 60),
                                       offset=self.loc(off), opcode=opcode, verdict=names.UNKNOWN,
                                       reason="computed callable", called=True,
                                       call_offset=self.loc(off), call_opcode=opcode,
                                       handled="unresolved", nested_depth=self.depth))
        return Call(func, off)

    def defer(self, partial: Partial, off: int, opcode: str) -> None:
        """Judge the call a ``functools.partial`` holds as if it were made now.

        A partial is a call that whoever holds it makes later — a ``defaultdict`` factory (which
        ``dict(ChainMap(...))`` or ``Counter(...)`` fire while loading), a key pandas calls on
        ``__setitem__``, a tensor hook, model code. Its function is judged as called with the
        arguments bound so far (``numpy.memmap`` is dangerous, ``TrainingArguments`` unvetted,
        ``_ufunc_reconstruct`` without constant names an import of anything); the result is
        dropped.
        """
        unwrapped = _unwrap(partial, (), None)
        if unwrapped is None or self.deferring >= MAX_DEFERRED:
            # a partial calling itself fails when called; partial(partial, partial, ..., f) needs
            # a call per level before f runs (and must not turn into recursion here)
            return
        func, args, kwargs = unwrapped
        imp = func.imp if isinstance(func, Ref) else None
        before = (imp.called, imp.call_offset, imp.call_opcode, imp.call_args, imp.nested_offset) \
            if imp is not None else None
        self.deferring += 1
        try:
            self.call(func, args, off, f"{opcode} (bound by functools.partial)", kwargs=kwargs)
        finally:
            self.deferring -= 1
        if imp is not None and before is not None and not before[0]:
            # not called while loading: its verdict stands (numpy.memmap is dangerous now), but it
            # is reported as carried, not as called
            (imp.called, imp.call_offset, imp.call_opcode, imp.call_args,
             imp.nested_offset) = before

    def escape(self, value: object) -> None:
        """Mark every imported name held by ``value`` as used as a value (see ``Imp.escaped``).

        Lists, dicts and sets are not entered: their items are marked when they are added.
        Tuples are immutable, so each is walked once (kept in ``shared.walked``). Only unvetted
        imports need the mark, so nothing is walked before the first one exists.
        """
        shared = self.shared
        if not shared.unvetted or shared.walk_overflow:
            return
        pending = [value]
        walked = shared.walked
        while pending:
            item = pending.pop()
            if isinstance(item, Ref):
                imp = item.imp
                imp.escaped = True
                if imp.qualname in names.CALL_ONLY_HERE and imp.verdict == names.SAFE:
                    imp.verdict = names.UNKNOWN
                    imp.reason = ("allowlisted only for reconstruction or a call whose arguments "
                                  "are judged here; handed over as a value, whoever holds it "
                                  "calls it with arguments nobody judged")
            elif isinstance(item, list):  # the items an opcode popped (never a symbolic value)
                pending.extend(item)
            elif isinstance(item, tuple | Partial):
                if id(item) in walked or item == ():
                    continue
                if len(walked) >= MAX_WALKED:
                    shared.walk_overflow = True  # fail closed: every unvetted name stays high
                    return
                walked[id(item)] = item
                pending.extend(item if isinstance(item, tuple)
                               else (item.func, item.args, item.kwargs))
            elif isinstance(item, MethodCaller):
                pending.append(item.args)
            elif isinstance(item, BytesIO):
                pending.append(item.payload)

    def mutate(self, ref: Ref, opcode: str) -> None:
        """APPEND/SETITEM on an imported object itself: it changes global state of the loader."""
        imp = ref.imp
        imp.invoked = True
        if not imp.called:
            imp.called = True
            imp.call_offset = self.loc(self.op_pos)
            imp.call_opcode = opcode
            if self.base is None:
                imp.nested_offset = self.op_pos

    def getattr(self, obj: object, attr: object, off: int, opcode: str) -> object:
        """``getattr(obj, attr)`` resolved to a derived import when ``obj`` is one."""
        name = self.text(attr)
        if name is None:
            return Opaque("attribute with a computed name")
        if isinstance(obj, Ref):
            imp = obj.imp
            dotted = f"{imp.name}.{name}" if imp.name else name
            return self.new_import(imp.module, dotted, off, opcode, derived_from=imp.qualname)
        if isinstance(obj, str | Blob | Decoded):
            kind = "bytes" if isinstance(obj, Blob) and obj.kind.startswith("byte") else "str"
            return self.new_import("builtins", f"{kind}.{name}", off, opcode,
                                   derived_from=describe(obj))
        return self.new_import("<computed>", name, off, opcode, derived_from=describe(obj))

    def apply(self, func: Ref, args: tuple[object, ...], off: int, opcode: str,
              kwargs: object = None) -> object:
        imp = func.imp
        qual = imp.qualname
        if qual == "builtins.getattr" and len(args) >= 2:
            derived = self.getattr(args[0], args[1], off, opcode)
            if isinstance(derived, Ref) and derived.imp.verdict == names.SAFE and not imp.unsafe_use:
                imp.verdict = names.SAFE
                imp.reason = "getattr of an allowlisted attribute (how protocols 0-3 pickle classmethods)"
            else:
                imp.unsafe_use = True
                verdict = names.judge(imp.module, imp.name)
                imp.verdict, imp.reason = verdict.verdict, verdict.reason
            return derived
        if qual == "builtins.type":
            # type(None) is how NoneType pickles; type(name, bases, dict) builds a class
            if len(args) == 1 and (args[0] is None or isinstance(args[0], int | float | str | bytes)) \
                    and not imp.unsafe_use:
                imp.verdict = names.SAFE
                imp.reason = "type() of a constant (how NoneType pickles)"
            else:
                imp.unsafe_use = True
                verdict = names.judge(imp.module, imp.name)
                imp.verdict, imp.reason = verdict.verdict, verdict.reason
            return Call(func, off)
        if qual in _IMPORTERS and args:
            target = self.text(args[0])
            if target is not None:
                if qual in ("pydoc.locate", "pkgutil.resolve_name"):
                    module, _, name = target.replace(":", ".").rpartition(".")
                    return self.new_import(module or name, name if module else "", off, opcode,
                                           derived_from=qual)
                return self.new_import(target, "", off, opcode, derived_from=qual)
        if qual in _UFUNC_RECONSTRUCT:
            # ``getattr(__import__(module), name)``: an importer, safe only on names read here
            ufunc_module = self.text(args[0]) if args else None
            ufunc_name = self.text(args[1]) if len(args) >= 2 else None
            if ufunc_module is not None and ufunc_name is not None:
                return self.new_import(ufunc_module, ufunc_name, off, opcode, derived_from=qual)
            ref = self.new_import("<computed>", describe(args, 80), off, opcode, derived_from=qual)
            ref.imp.verdict = names.DANGEROUS
            ref.imp.reason = (f"{qual} imports a module and name computed while loading (anything "
                              "may be imported)")
            return ref
        if qual == "operator.attrgetter":
            attrs = tuple(t for t in (self.text(a) for a in args) if t is not None)
            return AttrGetter(attrs) if attrs else Opaque("attrgetter")
        if qual == "operator.methodcaller" and args:
            method = self.text(args[0])
            return MethodCaller(method, args[1:]) if method else Opaque("methodcaller")
        if qual == "functools.partial":
            if not args:
                return Opaque("partial")
            inner = args[0]
            if isinstance(inner, Partial):  # partial(partial(f, a), b) is partial(f, a, b)
                merged = inner.kwargs
                if _nonempty(kwargs):
                    merged = SDict([*(inner.kwargs.pairs if isinstance(inner.kwargs, SDict) else ()),
                                    *(kwargs.pairs if isinstance(kwargs, SDict) else ())])
                # bounded: 40,000 levels that each add an argument would otherwise keep
                # quadratic memory (the walked tuples stay alive) and time
                bound = MAX_PARTIAL_ARGS
                partial = Partial(inner.func, (inner.args[:bound] + args[1:bound])[:bound], merged)
            else:
                partial = Partial(inner, args[1:], kwargs)
            self.defer(partial, off, opcode)
            return partial
        if qual == "copyreg._reconstructor":
            if args:
                plain = len(args) < 2 or (isinstance(args[1], Ref)
                                          and args[1].imp.qualname == "builtins.object")
                # base.__new__(cls, state): the state is an argument unless base is object
                # (_reconstructor(partial, partial, f) is partial(f), BUILD then binds its args)
                result = self.call(args[0], () if plain or len(args) < 3 else (args[2],), off,
                                   opcode, base_new=plain,
                                   plain_new=plain and len(args) == 3 and args[2] is None)
                if not plain:
                    self.call(args[1], (), off, opcode)
                return result
            return Opaque("reconstructed object")
        if qual == "copyreg.__newobj__":
            if not args:
                return Opaque("new object")
            return self.call(args[0], args[1:], off, opcode, plain_new=True)
        if qual == "copyreg.__newobj_ex__":
            if not args:
                return Opaque("new object")
            new_args = args[1] if len(args) > 1 else ()
            return self.call(args[0], new_args if isinstance(new_args, tuple) else (new_args,),
                             off, opcode, plain_new=len(args) <= 3,
                             kwargs=args[2] if len(args) > 2 else None)
        if args and (qual in _INSTANTIATES_FIRST or imp.name.startswith("__pyx_unpickle_")
                     or imp.name == "newObj" or (imp.module.startswith("pandas.core.indexes.")
                                                 and imp.name.startswith("_new_"))):
            if _callable(args[0]):
                self.call(args[0], (), off, opcode, base_new=qual in _BASE_NEW)
            return Call(func, off)
        if qual in _CALLS_SECOND_WITH_FIRST and args:
            if len(args) >= 2 and _callable(args[1]):
                self.call(args[1], (args[0],), off, opcode)
            elif isinstance(args[0], Ref | Partial):
                self.call(args[0], (), off, opcode)
            return Call(func, off)
        if qual in _SETS_STATE_FROM and len(args) > _SETS_STATE_FROM[qual]:
            # torch._utils._set_obj_state: setattr of every key, as BUILD without __setstate__
            self.smuggle(Call(func, off), args[_SETS_STATE_FROM[qual]], off, on_global=False)
        if qual in _CALLS_FIRST_WITH_THIRD and len(args) >= 3:
            self.call(args[0], args[2] if isinstance(args[2], tuple) else (), off, opcode)
            if isinstance(args[1], Ref):
                self.call(args[1], (), off, opcode)
            return Call(func, off)
        if qual in ("io.BytesIO", "_io.BytesIO"):
            return BytesIO(args[0] if args else b"")
        if qual in NESTED_LOADERS:
            imp.handled = "nested"
            self.nested(imp, args[0] if args else None, off, opcode)
            return Opaque(f"object loaded by {qual}")
        if qual in CODE_BUILDERS:
            imp.handled = "code"
            self.emit(rules.CODE_OBJECT,
                      f"{opcode} at offset {self.loc(off)} calls {qual}: bytecode or source is "
                      "turned into code while loading", off,
                      {"callable": qual, "opcode": opcode, "offset": self.loc(off),
                       "args": describe(args, 200)})
            return Opaque("code object")
        if qual in ("numpy.dtype", "numpy.core.multiarray.dtype"):
            return DType(args[0] if args else None)
        if qual in ("joblib.numpy_pickle.NumpyArrayWrapper",
                    "sklearn.externals.joblib.numpy_pickle.NumpyArrayWrapper"):
            return ArrayWrapper()
        if qual in SIDE_FILE_WRAPPERS:
            return SideFileWrapper()
        if decode.can_evaluate(qual):
            return self.decode(imp, args, off)
        return Call(func, off)

    def decode(self, imp: Imp, args: tuple[object, ...], off: int) -> object:
        concrete = [self.concrete(a) for a in args]
        qual = imp.qualname
        if qual == "_codecs.encode" and not (
            len(args) == 2 and isinstance(concrete[0], str)
            and isinstance(concrete[1], str) and concrete[1].strip().lower() in decode.LATIN1
        ):
            imp.verdict = names.UNKNOWN
            imp.reason = "_codecs.encode used beyond the latin-1 bytes idiom of protocols 0-2"
        if not args or any(c is None for c in concrete):
            return Call(Ref(imp), off)
        try:
            return Decoded(decode.evaluate(qual, tuple(c for c in concrete if c is not None)),
                           self.loc(off))
        except decode.DecodeError:
            return Call(Ref(imp), off)

    def payload(self, value: object) -> tuple[memoryview, int | None] | None:
        """The bytes a nested loader would read, with their offset in this buffer if they are in it."""
        if isinstance(value, BytesIO):
            value = value.payload
        if isinstance(value, Blob):
            return self.data[value.offset:value.offset + value.length], value.offset
        if isinstance(value, Decoded):
            raw = value.value
            return memoryview(raw.encode("latin-1", "replace") if isinstance(raw, str) else raw), None
        if isinstance(value, bytes):
            return memoryview(value), None
        if isinstance(value, str):
            return memoryview(value.encode("latin-1", "replace")), None
        return None

    def nested(self, imp: Imp, arg: object, off: int, opcode: str) -> None:
        found = self.payload(arg)
        evidence: dict[str, JSONValue] = {"callable": imp.qualname, "opcode": opcode,
                                          "offset": self.loc(off)}
        if found is None:
            self.emit(rules.NESTED_PICKLE,
                      f"{opcode} at offset {self.loc(off)} calls {imp.qualname} on a payload the "
                      f"analyser cannot recover ({describe(arg)})", off,
                      {**evidence, "payload": describe(arg)}, severity=Severity.CRITICAL)
            return
        view, inner_off = found
        evidence["payload_size"] = len(view)
        if self.depth + 1 > MAX_NESTED_PICKLES:
            raise self.limit("nested pickle depth", self.depth + 1, MAX_NESTED_PICKLES)
        idiom = imp.qualname == "torch.storage._load_from_bytes"
        library = imp.module.partition(".")[0]
        head = bytes(view[:2])
        if head[:2] == b"PK" or (library in ("numpy", "torch") and not _plausible(head)):
            self._nested_container(imp, view, off, evidence, idiom=idiom)
            return
        findings_before = self.shared.findings
        imports_before = len(self.shared.imports)
        complete = True
        count = 0
        pos = 0
        # torch.load of a legacy stream reads five pickles (magic number, protocol, system info,
        # the object, the storage keys); any other loader reads one.
        while count < 5:
            count += 1
            # Decoded payloads get a buffer of their own; payloads in this buffer keep true offsets.
            if inner_off is not None:
                child = VM(self.shared, self.data, inner_off + pos, inner_off + len(view),
                           base=self.base, anchor=self.anchor, depth=self.depth + 1)
            else:
                child = VM(self.shared, view, pos, len(view), base=None, anchor=self.loc(off),
                           depth=self.depth + 1)
            start_ops = self.shared.ops
            child.run()
            self.extra_ops += child.nops - start_ops
            complete = complete and child.complete
            if not (child.complete and library == "torch" and (count > 1 or (
                    isinstance(child.result, int) and child.result == _TORCH_LEGACY_MAGIC))):
                break
            pos = child.pos - (inner_off or 0)
        dirty = any(i.verdict != names.SAFE for i in self.shared.imports[imports_before:])
        severity = (Severity.CRITICAL if dirty or not complete
                    else Severity.INFO if idiom else Severity.HIGH)
        self.emit(rules.NESTED_PICKLE,
                  f"{opcode} at offset {self.loc(off)} calls {imp.qualname} on an embedded "
                  f"{len(view)}-byte pickle"
                  + (" that imports dangerous or unvetted callables" if dirty
                     else " (torch's own tensor pickling, contents allowlisted)" if idiom else ""),
                  off, {**evidence, "nested_complete": complete, "nested_pickles": count,
                        "nested_findings": self.shared.findings - findings_before},
                  severity=severity)

    def _nested_container(self, imp: Imp, view: memoryview, off: int,
                          evidence: dict[str, JSONValue], *, idiom: bool) -> None:
        ctx = self.shared.ctx
        if ctx.dispatch is not None and self.shared.emit_findings:
            child = self.shared.target.child(f"<payload@{self.loc(off)}>", view)
            before = len(ctx.findings)
            ctx.scan_nested(child)
            loud = any(f.severity >= Severity.HIGH for f in ctx.findings[before:])
            self.emit(rules.NESTED_PICKLE,
                      f"{imp.qualname} at offset {self.loc(off)} loads an embedded "
                      f"{len(view)}-byte file (scanned as {child.member})", off, evidence,
                      severity=Severity.CRITICAL if loud else Severity.INFO if idiom else Severity.HIGH)
            return
        self.emit(rules.NESTED_PICKLE,
                  f"{imp.qualname} at offset {self.loc(off)} loads an embedded {len(view)}-byte "
                  "file that is not a plain pickle", off, evidence, severity=Severity.CRITICAL)

    # ------------------------------------------------------------------ BUILD
    def build(self, pos: int) -> int:
        state = self.pop()
        obj = self.top()
        off = self.op_pos
        self.escape(state)
        if isinstance(obj, Ref):
            self.smuggle(obj, state, off, on_global=True)
            return pos
        vetted = False
        if isinstance(obj, Call):
            if isinstance(obj.func, Ref) and template_gadget(obj.func.imp.reason):
                vetted = self.vet_distribution(obj, state)
            # a second BUILD on one object is not how pickle saves anything: the first state can
            # make the second one's __setstate__ lookup (__getattr__) reach something else
            if isinstance(obj.func, Ref) and (obj.built or not self.plain_state(state)) and \
                    not vetted:
                obj.func.imp.odd_state = True
            obj.built = True
        if isinstance(obj, Partial):
            if isinstance(state, tuple) and state:
                obj.func = state[0]
                if len(state) > 1 and isinstance(state[1], tuple):
                    obj.args = state[1]
                if len(state) > 2:
                    obj.kwargs = state[2]
                self.defer(obj, off, "BUILD")
        elif isinstance(obj, DType):
            obj.state = state
        elif isinstance(obj, ArrayWrapper):
            obj.state = state
            self.smuggle(obj, state, off, on_global=False)
            return self.joblib_array(pos, obj)
        elif isinstance(obj, SideFileWrapper):
            obj.state = state
            self.joblib_side_file(obj, off)
        if not vetted:  # a vetted distribution's own __doc__ string is not smuggling
            self.smuggle(obj, state, off, on_global=False)
        return pos

    def vet_distribution(self, obj: Call, state: object) -> bool:
        """A scipy distribution (``rv_generic.__setstate__`` ``exec``s the state's template):
        vetted when this first BUILD carries scipy's own template (:mod:`.scipy_dists`), and only
        as long as no other rebuild of the class in this stream fails the check."""
        assert isinstance(obj.func, Ref)
        imp = obj.func.imp
        failed = self.shared.unvetted_dists
        if not obj.built and id(imp) not in failed and vetted_state(state, self.text):
            imp.verdict = names.SAFE
            imp.reason = ("scipy distribution rebuilt with scipy's own argument-parser template "
                          f"(library gadget otherwise: {imp.reason})")
            return True
        failed.add(id(imp))
        verdict = names.judge(imp.module, imp.name)
        imp.verdict, imp.reason = verdict.verdict, verdict.reason
        return False

    def plain_state(self, state: object) -> bool:
        """Whether a BUILD state is what ``object.__reduce_ex__`` saves: an attribute dict, or a
        ``(dict or None, slot dict or None)`` pair, with no dunder attribute names (its values are
        judged on their own)."""
        parts = state if isinstance(state, tuple) and len(state) == 2 else (state,)
        if isinstance(state, tuple) and len(state) == 2 and state == (None, None):
            return False
        for part in parts:
            if part is None and len(parts) == 2:
                continue
            if not isinstance(part, SDict):
                return False
            for key, _ in part.pairs:
                name = self.text(key)
                if name is None or (name.startswith("__") and name.endswith("__")):
                    return False
        return True

    def smuggle(self, obj: object, state: object, off: int, *, on_global: bool) -> None:
        dicts = [state]
        if isinstance(state, tuple) and len(state) == 2:
            dicts = [state[0], state[1]]
        keys: list[str] = []
        critical = on_global
        for d in dicts:
            if isinstance(d, SDict):
                for k, v in d.pairs:
                    key = self.text(k)
                    if key is not None and key.startswith("__") and key.endswith("__"):
                        keys.append(key)
                        if key in _SMUGGLE_CRITICAL or isinstance(v, Ref | Partial | AttrGetter):
                            critical = True
        if not keys and not on_global:
            return
        target = describe(obj)
        what = (f"sets attributes on the imported object {target}" if on_global
                else f"sets special attributes {', '.join(sorted(set(keys))[:8])} on {target}")
        self.emit(rules.BUILD_SMUGGLING, f"BUILD at offset {self.loc(off)} {what}", off,
                  {"opcode": "BUILD", "offset": self.loc(off), "callable": target,
                   "attributes": sorted(set(keys))[:32], "on_imported_object": on_global},
                  severity=Severity.CRITICAL if critical else Severity.HIGH)


_DISPATCH: list[Callable[[VM, int], int] | None] = [
    getattr(VM, HANDLERS[code]) if code in HANDLERS else None for code in range(256)]
"""Opcode byte → handler (a plain function taking the VM), built once."""

_FRAME_OP = VM.op_frame
_NO_FRAME = sys.maxsize
"""``frame_end`` outside any frame."""
_LINE_OPS = frozenset(b"FILSVgpPci")
_BUILD_OP = ord("b")
_TWO_LINE_OPS = frozenset(b"ci")

_RECONSTRUCTORS = frozenset(words("copyreg._reconstructor copyreg.__newobj__ copyreg.__newobj_ex__"))
"""Helpers whose first argument is the class they instantiate (``object.__reduce_ex__``'s forms)."""


def qual_in(module: str, name: str, table: frozenset[str]) -> bool:
    return (f"{module}.{name}" if name else module) in table


def _unwrap(partial: Partial, args: tuple[object, ...],
            kwargs: object) -> tuple[object, tuple[object, ...], object] | None:
    """The function a (possibly chained) partial ends in, with all its bound arguments; ``None``
    when the chain loops. A loop, not recursion: BUILD (``partial.__setstate__``, which does not
    flatten) can chain partials deeper than this interpreter's recursion limit."""
    seen: set[int] = set()
    func: object = partial
    while isinstance(func, Partial):
        if id(func) in seen:
            return None
        seen.add(id(func))
        args = func.args + args
        kwargs = func.kwargs if _nonempty(func.kwargs) else kwargs
        func = func.func
    return func, args, kwargs


def _callable(value: object) -> bool:
    """Whether a helper that calls its argument calls something here: an import, a symbolic
    callable, or a value computed while loading (which the call then reports as unresolved);
    constants and containers are not callable."""
    return isinstance(value, Ref | Partial | AttrGetter | MethodCaller | Call | Opaque)


def _nonempty(kwargs: object) -> bool:
    """Whether keyword arguments are present (anything but ``None`` or an empty dict)."""
    if kwargs is None:
        return False
    return not (isinstance(kwargs, SDict) and not kwargs.pairs and not kwargs.dropped)


_TORCH_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
"""The first pickle of a legacy ``torch.save`` stream (four more follow)."""


def _utf8_reading(text: str) -> str | None:
    """``text`` (bytes read as latin-1) as UTF-8 reads the same bytes, when that differs."""
    if text.isascii():
        return None
    try:
        return text.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return None


def _plausible(head: bytes) -> bool:
    return bool(head) and (head[0] == 0x80 or chr(head[0]) in "(cl]}).NIFSVKJMXUTGdti")
