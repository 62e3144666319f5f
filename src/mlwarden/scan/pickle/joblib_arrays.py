"""joblib's inline arrays: skipped exactly as joblib reads them, and read as opcodes too.

``joblib.dump`` writes each numpy array's raw bytes straight into the pickle stream after the
BUILD of a ``NumpyArrayWrapper``; ``joblib.load`` reads them with ``read_array`` and goes on
parsing after them. The VM mirrors that reader (padding byte included) and analyses object arrays
as the nested pickle they are. A plain ``pickle.load`` would execute those bytes as opcodes, so a
what-if run reads them that way as well.
"""

from __future__ import annotations

import re
from collections.abc import Callable, MutableMapping
from typing import TYPE_CHECKING

from mlwarden.core.severity import Severity
from mlwarden.scan.interface import ScanLimits
from mlwarden.scan.numpy_dtypes import SCALAR_TYPES, simple_dtype
from mlwarden.scan.pickle import names, rules
from mlwarden.scan.pickle.names import words
from mlwarden.scan.pickle.state import Abort, Shared

if TYPE_CHECKING:
    from mlwarden.core.finding import JSONValue
    from mlwarden.core.rules import Rule

from mlwarden.scan.pickle.values import (
    ArrayWrapper,
    DType,
    MemoOverlay,
    Opaque,
    Ref,
    SDict,
    SideFileWrapper,
    SList,
    describe,
)

MAX_NESTED_PICKLES = 8
"""Pickles inside pickles inside pickles… beyond this depth is a resource-limit finding."""
_DTYPE_CODE = re.compile(r"^[<>|=]?([biufcmMOUSV?])(\d*)")
_SHADOW_BUDGET = 2_000_000
_SHADOW_STACK = 64
"""Stack items (and mark levels) a what-if run starts from; deeper pops end it."""
_SHADOW_LIMITS = ScanLimits(max_pickle_opcodes=100_000, max_pickle_stack=100_000,
                            max_pickle_memo=100_000)


class JoblibArrays:
    """The inline-array reader; mixed into :class:`~mlwarden.scan.pickle.vm.VM`."""

    stack: list[object]
    metastack: list[list[object]]
    memo: MutableMapping[int, object]
    proto: int | None
    op_pos: int
    data: memoryview
    end: int
    base: int | None
    anchor: int
    depth: int
    shared: Shared
    shadow: bool
    extra_ops: int
    failure: str | None

    if TYPE_CHECKING:
        def malformed(self, message: str, off: int | None = None,
                      kind: str = "malformed") -> Abort: ...
        def limit(self, what: str, value: int, bound: int) -> Abort: ...
        def loc(self, off: int) -> int: ...
        def emit(self, rule: Rule, message: str, off: int, evidence: dict[str, JSONValue], *,
                 severity: Severity | None = None) -> None: ...
        def text(self, value: object) -> str | None: ...

    def joblib_array(self, pos: int, wrapper: ArrayWrapper) -> int:
        """Skip (or analyse) the array joblib writes right after a NumpyArrayWrapper's BUILD.

        Mirrors ``NumpyArrayWrapper.read_array``: an object array follows as a nested pickle;
        otherwise one padding-length byte (joblib >= 1.2, when the state has
        ``numpy_array_alignment_bytes``), the padding, then ``count * itemsize`` raw bytes.
        """
        self.stack[-1] = Opaque("ndarray")
        state = _effective_state(wrapper.state)
        if not isinstance(state, SDict):
            raise self.malformed("joblib NumpyArrayWrapper without a state dict; the inline array "
                                 "cannot be located")
        dtype = state.get("dtype")
        shape = state.get("shape")
        info = _dtype_info(dtype, self.text) if isinstance(dtype, DType) else None
        if info is None:
            problem = (f"joblib inline array with a dtype the analyser cannot size "
                       f"({describe(dtype)}); the rest of the stream is unchecked")
            if _may_be_dtype(dtype):
                raise self.unmodelled(problem)
            raise self.malformed(problem)
        itemsize, hasobject = info
        if hasobject:
            from mlwarden.scan.pickle.vm import VM  # the VM is built from this mixin

            if state.has("allow_mmap") and _may_be_true(state.get("allow_mmap")):
                self.memmapped_object_array(pos, state, shape)

            if self.depth + 1 > MAX_NESTED_PICKLES:
                raise self.limit("nested pickle depth", self.depth + 1, MAX_NESTED_PICKLES)
            child = VM(self.shared, self.data, pos, self.end, base=self.base, anchor=self.anchor,
                       depth=self.depth + 1)
            start_ops = self.shared.ops
            child.run()
            self.extra_ops += child.nops - start_ops
            if not child.complete:
                raise Abort()
            return child.pos
        dims = _dims(shape)
        if dims is None:
            problem = f"joblib inline array with a shape of {describe(shape)}"
            if _may_be_shape(shape):
                raise self.unmodelled(problem + " that the analyser cannot evaluate; the rest of "
                                      "the stream is unchecked")
            raise self.malformed(problem)
        count = 1
        for d in dims:
            count *= d
        self.plain_pickle_reading(pos)
        align = state.get("numpy_array_alignment_bytes")
        if align is not None and state.has("numpy_array_alignment_bytes"):
            if pos >= self.end:
                raise self.malformed("joblib array padding byte missing", pos, "truncated")
            pos += 1 + self.data[pos]
        pos += count * itemsize
        if pos > self.end:
            raise self.malformed(f"joblib inline array of {count * itemsize} bytes runs past the "
                                 "end of the stream", self.op_pos, "truncated")
        return pos

    def joblib_side_file(self, wrapper: SideFileWrapper, off: int) -> None:
        """joblib's legacy ``NDArrayWrapper``: ``joblib.load`` unpickles the side file its state
        names (``np.load(os.path.join(dirname, filename), allow_pickle=True)``). A name that
        leaves the folder (``..``, absolute, a drive, a URL), or one the analyser cannot read,
        makes the loader unpickle a file that was not scanned with this one: high. A plain
        relative name is the side file ``joblib.dump`` wrote beside it (scanned in its own right
        when the folder is)."""
        from mlwarden.scan.container_rules import PATH_TRAVERSAL
        from mlwarden.scan.formats.onnx import location_problem

        state = _effective_state(wrapper.state)
        raw = state.get("filename") if isinstance(state, SDict) else None
        name = self.text(raw) if raw is not None else None
        if name is not None:
            why = location_problem(name)
            if why is None:
                return
            message = f"NDArrayWrapper side file {name!r} {why}"
        else:
            message = f"NDArrayWrapper side file name the analyser cannot read ({describe(raw)})"
        self.emit(PATH_TRAVERSAL,
                  f"BUILD at offset {self.loc(off)}: {message}: joblib.load unpickles it with "
                  "np.load(allow_pickle=True), a file outside what was scanned", off,
                  {"filename": describe(raw, 300), "offset": self.loc(off)})

    def memmapped_object_array(self, pos: int, state: SDict, shape: object) -> None:
        """An object array whose wrapper says ``allow_mmap``: ``joblib.load(mmap_mode=...)``
        memory-maps it (``read_mmap``: the padding byte and padding, then ``count * 8`` bytes of
        pointers) and reads on after it, where ``joblib.load`` without ``mmap_mode`` unpickles a
        nested pickle there. joblib never writes such a wrapper; the two readings of the stream
        differ, so the scan fails closed at high, and the memmap reading's continuation is also
        read as opcodes (a denylisted call there is critical)."""
        dims = _dims(shape)
        at = pos
        if dims is not None:
            if state.get("numpy_array_alignment_bytes") is not None and \
                    state.has("numpy_array_alignment_bytes") and at < self.end:
                at += 1 + self.data[at]
            count = 1
            for d in dims:
                count *= d
            at += count * 8
        message = ("joblib object array whose wrapper allows memory-mapping: joblib.load with "
                   "mmap_mode maps its bytes and reads on at offset "
                   f"{self.loc(at) if dims is not None else '(unknown)'}, without it they are "
                   "unpickled; the stream has two readings")
        self.emit(rules.MALFORMED, f"{message} at offset {self.loc(self.op_pos)}", self.op_pos,
                  {"offset": self.loc(self.op_pos), "problem": message, "unmodelled": True},
                  severity=Severity.HIGH)
        if dims is not None and at <= self.end:
            self.plain_pickle_reading(at)

    def unmodelled(self, message: str) -> Abort:
        """Fail closed: joblib may read this array (a value the analyser cannot evaluate), so the
        bytes after it — which the analysis cannot locate — may run. High, not a malformed
        medium."""
        self.failure = "malformed"
        self.emit(rules.MALFORMED, f"{message} at offset {self.loc(self.op_pos)}", self.op_pos,
                  {"offset": self.loc(self.op_pos), "problem": message, "unmodelled": True},
                  severity=Severity.HIGH)
        return Abort()

    def plain_pickle_reading(self, pos: int) -> None:
        """Read the array bytes the way ``pickle.load``/``torch.load`` would: as opcodes.

        joblib skips them, a plain unpickler executes them, so a payload can hide in "array data"
        from any scanner that follows only joblib. This what-if run starts from a copy of the
        current stack and memo; only a resolved, denylisted, called name counts (random array bytes
        never form one), and it is reported as critical.
        """
        if self.shadow:
            return
        budget = self.shared.shadow_ops_left
        if budget <= 0:
            if budget == 0:  # report once, then stay below zero
                self.shared.shadow_ops_left = -1
                self.limit("joblib what-if opcode budget", _SHADOW_BUDGET, _SHADOW_BUDGET)
                self.failure = None  # the joblib reading itself goes on
            return
        from mlwarden.scan.pickle.vm import VM  # the VM is built from this mixin

        shared = Shared(target=self.shared.target, ctx=self.shared.ctx, emit_findings=False)
        vm = VM(shared, self.data, pos, self.end, base=self.base, anchor=self.anchor,
                depth=self.depth)
        vm.shadow = True
        vm.limits = _SHADOW_LIMITS if budget >= _SHADOW_LIMITS.max_pickle_opcodes else ScanLimits(
            max_pickle_opcodes=budget, max_pickle_stack=_SHADOW_LIMITS.max_pickle_stack,
            max_pickle_memo=_SHADOW_LIMITS.max_pickle_memo)
        # the top of the stack and memo as they are now, without copying either in full
        vm.stack = self.stack[-_SHADOW_STACK:]
        vm.metastack = [m[-_SHADOW_STACK:] for m in self.metastack[-_SHADOW_STACK:]]
        vm.memo = MemoOverlay(self.memo)
        vm.proto = self.proto
        vm.run()
        self.extra_ops += vm.nops
        self.shared.shadow_ops_left = max(0, budget - max(vm.nops, 1))
        for imp in shared.imports:
            if not (imp.verdict == names.DANGEROUS and imp.called
                    and not imp.reason.startswith("not a valid")):
                continue
            imp.handled = "shadow"
            self.shared.imports.append(imp)
            if self.shared.emit_findings:
                at = imp.call_offset if imp.call_offset is not None else imp.offset
                self.shared.ctx.add(rules.DANGEROUS_CALL.finding(
                    f"{imp.qualname} is called by {imp.call_opcode} at offset {at}, hidden in the "
                    f"bytes of a joblib inline array (offset {self.loc(pos)}): joblib skips them, "
                    "pickle.load and torch.load execute them", self.shared.target.location(at),
                    evidence={"callable": imp.qualname, "opcode": imp.opcode, "offset": imp.offset,
                              "called_by": imp.call_opcode, "call_offset": at,
                              "array_offset": self.loc(pos), "reason": imp.reason}))


def _effective_state(state: object) -> object:
    """The attributes BUILD gives the wrapper, as ``pickle``'s ``load_build`` sets them: a state
    dict, or ``(dict or None, slotstate)`` whose slot items are ``setattr`` after the dict's (so a
    key in both takes the slot value). Anything else is returned as it is (not a dict)."""
    if isinstance(state, tuple) and len(state) == 2:
        main, slots = state
        pairs: list[tuple[object, object]] = []
        dropped = 0
        for part in (main, slots):
            if isinstance(part, SDict):
                pairs += part.pairs
                dropped += part.dropped
            elif part not in (None, False, 0, ""):
                return state
        return SDict(pairs, dropped)
    return state


def _dims(shape: object) -> list[int] | None:
    """The dimensions of a wrapper's shape as ``read_array`` uses them: a tuple or a list (joblib
    only takes ``len`` of it, converts each item with ``numpy.int64`` and reshapes) of
    non-negative ints; ``None`` otherwise."""
    items = shape if isinstance(shape, tuple) else shape.items \
        if isinstance(shape, SList) and not shape.dropped else None
    if items is None or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0
                                for d in items):
        return None
    return list(items)


_PLAIN = (str, bytes, int, float, complex, type(None))


def _may_be_true(value: object) -> bool:
    """Whether a state value may be truthy when joblib tests it (constants are judged; anything
    the analyser did not evaluate may be)."""
    if isinstance(value, _PLAIN):
        return bool(value)
    return True


def _may_be_shape(shape: object) -> bool:
    """Whether joblib might accept a shape the analyser could not read: a sequence holding
    values it did not evaluate (a ``numpy.int64`` scalar, a call result). Plain negative, bool,
    float or string sizes make ``numpy.empty`` or ``reshape`` fail."""
    items = shape.items if isinstance(shape, SList) else shape if isinstance(shape, tuple) \
        else None
    if items is None:
        return not isinstance(shape, (*_PLAIN, SDict))
    return (isinstance(shape, SList) and bool(shape.dropped)) or \
        any(not isinstance(d, _PLAIN) for d in items)


def _may_be_dtype(dtype: object) -> bool:
    """Whether an unsized wrapper dtype could still be a numpy dtype at load time: a
    ``numpy.dtype`` the analyser cannot size, or a value it did not evaluate. Constants, classes
    and containers have no ``hasobject``: joblib fails on them."""
    return not isinstance(dtype, (*_PLAIN, tuple, Ref, SDict, SList))


_OBJECT_CLASSES = frozenset(words("builtins.object numpy.object_ numpy.dtypes.ObjectDType"))
"""Classes ``numpy.dtype(cls)`` maps to ``dtype('O')``."""
_OBJECT_WORDS = frozenset(words("O O4 O8 object object_"))
"""Object spellings (after the byte-order character) when numpy is not installed here."""
_BUILTIN_SCALARS = {"builtins.bool": (1, False), "builtins.int": (8, False),
                    "builtins.float": (8, False), "builtins.complex": (16, False)}
_FLEXIBLE = frozenset("USV")
"""Kinds whose item size a pickled dtype carries in its BUILD state (``elsize``)."""
_MAX_CODE = 256


def _numpy_dtype(spec: object) -> tuple[int, bool, str] | None:
    """``(itemsize, hasobject, kind)`` as numpy itself reads a dtype spelling, or ``None``.

    Only strings and numpy's own allowlisted scalar classes reach numpy (a string is parsed, never
    evaluated); without numpy installed the caller falls back to the common spellings.
    """
    try:
        import warnings

        import numpy
    except ImportError:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            dt = numpy.dtype(spec)  # type: ignore[call-overload]
    except Exception:  # noqa: BLE001 - any spelling numpy rejects is "unknown"
        return None
    return int(dt.itemsize), bool(dt.hasobject), str(dt.kind)


def _dtype_base(dtype: DType, text: Callable[[object], str | None]) -> tuple[int, bool, str] | None:
    """The dtype a pickled ``numpy.dtype(code, ...)`` call makes, before its BUILD state."""
    code = dtype.code
    if isinstance(code, Ref):
        qual = code.imp.qualname
        if qual in _OBJECT_CLASSES:
            return 8, True, "O"
        if qual in _BUILTIN_SCALARS:
            size, obj = _BUILTIN_SCALARS[qual]
            return size, obj, "?"
        if code.imp.module == "numpy" and code.imp.name in names.NUMPY_SCALARS:
            return SCALAR_TYPES.get(code.imp.name) or _numpy_dtype(code.imp.name)
        return None
    spelling = text(code)
    if spelling is None or len(spelling) > _MAX_CODE:
        return None
    found = simple_dtype(spelling) or _numpy_dtype(spelling)
    if found is not None:
        return found
    bare = spelling.lstrip("<>|=")
    if bare in _OBJECT_WORDS:
        return 8, True, "O"
    match = _DTYPE_CODE.match(spelling)
    if match is None:
        return None
    kind, digits = match.groups()
    return (int(digits) if digits else 1 if kind == "?" else 0), False, kind


def _dtype_info(dtype: DType, text: Callable[[object], str | None]) -> tuple[int, bool] | None:
    """``(itemsize, hasobject)`` of a pickled ``numpy.dtype``, or ``None`` when unknown.

    numpy pickles a dtype as ``dtype(code, False, True)`` plus a BUILD state
    ``(version, byteorder, subarray, names, fields, elsize, alignment, flags[, metadata])``. Every
    spelling numpy maps to ``dtype('O')`` (``'O'``, ``'|O'``, ``'O8'``, ``'object'``,
    ``'object_'``, ``numpy.object_``, ``builtins.object``) is an object dtype: joblib unpickles
    the bytes after the wrapper.
    """
    base = _dtype_base(dtype, text)
    if base is None:
        return None
    itemsize, hasobject, kind = base
    state = dtype.state
    elsize = flags = None
    if isinstance(state, tuple) and len(state) >= 8:
        elsize, flags = state[5], state[7]
    if hasobject or (isinstance(flags, int) and bool(flags & 1)):
        return 8, True
    if kind in _FLEXIBLE and isinstance(elsize, int) and not isinstance(elsize, bool) \
            and elsize > 0:
        return elsize, False
    return (itemsize, False) if itemsize > 0 else None
