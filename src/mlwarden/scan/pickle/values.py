"""The symbolic values the pickle VM keeps on its stack and in its memo.

Constants are plain Python values (None, bool, int, float, str, tuple); everything the unpickler
would build by importing or calling is represented by what it came from, never by the real object.
Large byte and text payloads stay in the scanned buffer as :class:`Blob` (offset and length only).
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping

ITEM_CAP = 4096
"""Items kept per symbolic container; the rest are only counted (bounded memory)."""


class _Value:
    """Base of the VM's values: slotted records compared by identity (``eq=False`` dataclasses).

    Written by hand rather than with ``@dataclass``: generating a dataclass's methods costs about
    two million instructions per class at import, and ``mlwarden scan`` of a small file is mostly
    start-up (see ``mlwarden.cli.fastpath``).
    """

    __slots__ = ()

    def __repr__(self) -> str:
        names = [n for cls in reversed(type(self).__mro__) for n in getattr(cls, "__slots__", ())]
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in names)
        return f"{type(self).__name__}({fields})"


class Imp(_Value):
    """One imported (or derived) name: the record findings and :class:`ResolvedGlobal` come from."""

    __slots__ = (
        "call_args",
        "call_offset",
        "call_opcode",
        "called",
        "derived_from",
        "escaped",
        "handled",
        "invoked",
        "module",
        "name",
        "nested_depth",
        "nested_offset",
        "odd_state",
        "offset",
        "opcode",
        "reason",
        "unsafe_use",
        "verdict",
    )

    module: str
    name: str
    offset: int
    """Absolute offset (in the scanned target) of the opcode that produced it."""
    opcode: str
    verdict: str
    reason: str
    called: bool
    call_offset: int | None
    call_opcode: str | None
    handled: str | None
    """``nested``/``code``/``ext`` when a dedicated rule reported the call instead."""
    derived_from: str | None
    nested_depth: int
    call_args: str | None
    nested_offset: int | None
    """Offset inside a decoded nested payload (whose findings sit at the outer call's offset)."""
    unsafe_use: bool
    """A conditionally safe callable (getattr) was used beyond its safe idiom at least once."""
    invoked: bool
    """Called some other way than a plain instantiation (``cls.__new__(cls)`` without arguments,
    as ``object.__reduce_ex__`` saves instances): its constructor or body runs."""
    escaped: bool
    """Used as a value (a call argument, a container item, BUILD state, the result), where the
    code holding it may call it later."""
    odd_state: bool
    """An instance of it got a BUILD state that is not a plain attribute dict / slot-state pair."""

    def __init__(self, module: str, name: str, offset: int, opcode: str, verdict: str,
                 reason: str, called: bool = False, call_offset: int | None = None,
                 call_opcode: str | None = None, handled: str | None = None,
                 derived_from: str | None = None, nested_depth: int = 0,
                 call_args: str | None = None, nested_offset: int | None = None,
                 unsafe_use: bool = False, invoked: bool = False, escaped: bool = False,
                 odd_state: bool = False) -> None:
        self.module = module
        self.name = name
        self.offset = offset
        self.opcode = opcode
        self.verdict = verdict
        self.reason = reason
        self.called = called
        self.call_offset = call_offset
        self.call_opcode = call_opcode
        self.handled = handled
        self.derived_from = derived_from
        self.nested_depth = nested_depth
        self.call_args = call_args
        self.nested_offset = nested_offset
        self.unsafe_use = unsafe_use
        self.invoked = invoked
        self.escaped = escaped
        self.odd_state = odd_state

    @property
    def qualname(self) -> str:
        return f"{self.module}.{self.name}" if self.name else self.module


class Ref(_Value):
    """An imported object on the stack (class, function or module)."""

    __slots__ = ("imp",)
    imp: Imp

    def __init__(self, imp: Imp) -> None:
        self.imp = imp


class Blob(_Value):
    """A byte/text constant left in the buffer: ``data[offset:offset+length]`` of the VM's data."""

    __slots__ = ("kind", "length", "offset")
    offset: int
    length: int
    kind: str
    """``bytes``, ``bytearray``, ``str`` (UTF-8) or ``str8`` (protocol-0/1 8-bit string)."""

    def __init__(self, offset: int, length: int, kind: str) -> None:
        self.offset = offset
        self.length = length
        self.kind = kind


class Decoded(_Value):
    """Bytes or text computed by evaluating a decoder on constants."""

    __slots__ = ("offset", "value")
    value: bytes | str
    offset: int
    """Absolute offset of the call that produced it."""

    def __init__(self, value: bytes | str, offset: int) -> None:
        self.value = value
        self.offset = offset


class Call(_Value):
    """The result of calling something (an object the unpickler would build)."""

    __slots__ = ("built", "func", "offset")
    func: object
    offset: int
    built: bool
    """A BUILD has set its state already (``object.__reduce_ex__`` saves one state per object)."""

    def __init__(self, func: object, offset: int) -> None:
        self.func = func
        self.offset = offset
        self.built = False


class _Items(_Value):
    """Items kept up to ``ITEM_CAP``, the rest counted in ``dropped``."""

    __slots__ = ("dropped", "items")
    items: list[object]
    dropped: int

    def __init__(self, items: list[object] | None = None, dropped: int = 0) -> None:
        self.items = [] if items is None else items
        self.dropped = dropped


class SList(_Items):
    """A list (items kept up to ``ITEM_CAP``, the rest counted in ``dropped``)."""

    __slots__ = ()


class SDict(_Value):
    """A dict as its (key, value) pairs (up to ``ITEM_CAP``, the rest counted in ``dropped``)."""

    __slots__ = ("dropped", "pairs")
    pairs: list[tuple[object, object]]
    dropped: int

    def __init__(self, pairs: list[tuple[object, object]] | None = None, dropped: int = 0) -> None:
        self.pairs = [] if pairs is None else pairs
        self.dropped = dropped

    def get(self, key: str) -> object:
        """The value of ``key`` as the unpickled dict holds it: the last one set (``SETITEMS``
        with a repeated key, or a slot state over a dict state, keeps the last)."""
        for k, v in reversed(self.pairs):
            if k == key:
                return v
        return None

    def has(self, key: str) -> bool:
        return any(k == key for k, _ in self.pairs)


class SSet(_Items):
    """A set or frozenset (items kept up to ``ITEM_CAP``, the rest counted in ``dropped``)."""

    __slots__ = ()


class Partial(_Value):
    """``functools.partial(func, *args)``."""

    __slots__ = ("args", "func", "kwargs")
    func: object
    args: tuple[object, ...]
    kwargs: object
    """Keyword arguments set by BUILD (``partial.__setstate__``), when there are any."""

    def __init__(self, func: object, args: tuple[object, ...], kwargs: object = None) -> None:
        self.func = func
        self.args = args
        self.kwargs = kwargs


class AttrGetter(_Value):
    """``operator.attrgetter(*names)``."""

    __slots__ = ("names",)
    names: tuple[str, ...]

    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = names


class MethodCaller(_Value):
    """``operator.methodcaller(name, *args)``."""

    __slots__ = ("args", "name")
    name: str
    args: tuple[object, ...]

    def __init__(self, name: str, args: tuple[object, ...]) -> None:
        self.name = name
        self.args = args


class BytesIO(_Value):
    """``io.BytesIO(payload)``: a file-like a nested loader reads."""

    __slots__ = ("payload",)
    payload: object

    def __init__(self, payload: object) -> None:
        self.payload = payload


class DType(_Value):
    """``numpy.dtype(code, align, copy)`` and its BUILD state (for joblib's inline arrays)."""

    __slots__ = ("code", "state")
    code: object
    state: object

    def __init__(self, code: object, state: object = None) -> None:
        self.code = code
        self.state = state


class ArrayWrapper(_Value):
    """joblib's ``NumpyArrayWrapper``: its array bytes follow the BUILD inline in the stream."""

    __slots__ = ("state",)
    state: object

    def __init__(self, state: object = None) -> None:
        self.state = state


class SideFileWrapper(_Value):
    """joblib's legacy ``NDArrayWrapper`` (joblib < 0.10): ``joblib.load`` calls its ``read()``
    after BUILD, which ``np.load(os.path.join(dirname, filename), allow_pickle=True)``s a file the
    pickle names."""

    __slots__ = ("state",)
    state: object

    def __init__(self, state: object = None) -> None:
        self.state = state


class Opaque(_Value):
    """Something the VM does not model further (a persistent id, an out-of-band buffer, a code object)."""

    __slots__ = ("what",)
    what: str

    def __init__(self, what: str) -> None:
        self.what = what


class MemoOverlay(MutableMapping[int, object]):
    """A memo that reads through to another one and keeps its own writes (no copy of the base).

    A what-if run starts from the real memo without copying it: with thousands of joblib arrays,
    copying the memo per array would be quadratic.
    """

    __slots__ = ("base", "extra", "top")

    def __init__(self, base: MutableMapping[int, object]) -> None:
        self.base = base
        self.top: dict[int, object] = {}
        self.extra = 0

    def __getitem__(self, key: int) -> object:
        try:
            return self.top[key]
        except KeyError:
            return self.base[key]

    def __setitem__(self, key: int, value: object) -> None:
        if key not in self.top and key not in self.base:
            self.extra += 1
        self.top[key] = value

    def __delitem__(self, key: int) -> None:
        raise TypeError("the pickle memo is never deleted from")

    def __iter__(self) -> Iterator[int]:
        yield from self.base
        yield from (k for k in self.top if k not in self.base)

    def __len__(self) -> int:
        return len(self.base) + self.extra


def describe(value: object, limit: int = 120, _depth: int = 0) -> str:
    """A short text for evidence, bounded in length and in nesting depth."""
    text: str
    if _depth > 3:
        return "..."
    if isinstance(value, Ref):
        text = value.imp.qualname
    elif isinstance(value, Blob):
        text = f"<{value.kind} of {value.length} bytes>"
    elif isinstance(value, Decoded):
        text = f"<decoded {type(value.value).__name__} of {len(value.value)}>"
    elif isinstance(value, Call):
        text = f"{describe(value.func, 60, _depth + 1)}(...)"
    elif isinstance(value, tuple):
        text = "(" + ", ".join(describe(v, 40, _depth + 1) for v in value[:6]) \
            + (", ..." if len(value) > 6 else "") + ")"
    elif isinstance(value, SList | SSet):
        text = f"<{type(value).__name__[1:].lower()} of {len(value.items) + value.dropped}>"
    elif isinstance(value, SDict):
        text = f"<dict of {len(value.pairs) + value.dropped}>"
    elif isinstance(value, str | bytes | int | float | bool) or value is None:
        text = repr(value) if not isinstance(value, int) or value.bit_length() < 256 else "<big int>"
    elif isinstance(value, Opaque):
        text = f"<{value.what}>"
    else:
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."
