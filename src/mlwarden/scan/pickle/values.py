"""The symbolic values the pickle VM keeps on its stack and in its memo.

Constants are plain Python values (None, bool, int, float, str, tuple); everything the unpickler
would build by importing or calling is represented by what it came from, never by the real object.
Large byte and text payloads stay in the scanned buffer as :class:`Blob` (offset and length only).
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass, field

ITEM_CAP = 4096
"""Items kept per symbolic container; the rest are only counted (bounded memory)."""


@dataclass(slots=True, eq=False)
class Imp:
    """One imported (or derived) name: the record findings and :class:`ResolvedGlobal` come from."""

    module: str
    name: str
    offset: int
    """Absolute offset (in the scanned target) of the opcode that produced it."""
    opcode: str
    verdict: str
    reason: str
    called: bool = False
    call_offset: int | None = None
    call_opcode: str | None = None
    handled: str | None = None
    """``nested``/``code``/``ext`` when a dedicated rule reported the call instead."""
    derived_from: str | None = None
    nested_depth: int = 0
    call_args: str | None = None
    nested_offset: int | None = None
    """Offset inside a decoded nested payload (whose findings sit at the outer call's offset)."""
    unsafe_use: bool = False
    """A conditionally safe callable (getattr) was used beyond its safe idiom at least once."""
    invoked: bool = False
    """Called some other way than a plain instantiation (``cls.__new__(cls)`` without arguments,
    as ``object.__reduce_ex__`` saves instances): its constructor or body runs."""
    escaped: bool = False
    """Used as a value (a call argument, a container item, BUILD state, the result), where the
    code holding it may call it later."""
    odd_state: bool = False
    """An instance of it got a BUILD state that is not a plain attribute dict / slot-state pair."""

    @property
    def qualname(self) -> str:
        return f"{self.module}.{self.name}" if self.name else self.module


@dataclass(slots=True, eq=False)
class Ref:
    """An imported object on the stack (class, function or module)."""

    imp: Imp


@dataclass(slots=True, eq=False)
class Blob:
    """A byte/text constant left in the buffer: ``data[offset:offset+length]`` of the VM's data."""

    offset: int
    length: int
    kind: str
    """``bytes``, ``bytearray``, ``str`` (UTF-8) or ``str8`` (protocol-0/1 8-bit string)."""


@dataclass(slots=True, eq=False)
class Decoded:
    """Bytes or text computed by evaluating a decoder on constants."""

    value: bytes | str
    offset: int
    """Absolute offset of the call that produced it."""


@dataclass(slots=True, eq=False)
class Call:
    """The result of calling something (an object the unpickler would build)."""

    func: object
    offset: int


@dataclass(slots=True, eq=False)
class SList:
    items: list[object] = field(default_factory=list)
    dropped: int = 0


@dataclass(slots=True, eq=False)
class SDict:
    pairs: list[tuple[object, object]] = field(default_factory=list)
    dropped: int = 0

    def get(self, key: str) -> object:
        for k, v in self.pairs:
            if k == key:
                return v
        return None

    def has(self, key: str) -> bool:
        return any(k == key for k, _ in self.pairs)


@dataclass(slots=True, eq=False)
class SSet:
    items: list[object] = field(default_factory=list)
    dropped: int = 0


@dataclass(slots=True, eq=False)
class Partial:
    """``functools.partial(func, *args)``."""

    func: object
    args: tuple[object, ...]
    kwargs: object = None
    """Keyword arguments set by BUILD (``partial.__setstate__``), when there are any."""


@dataclass(slots=True, eq=False)
class AttrGetter:
    names: tuple[str, ...]


@dataclass(slots=True, eq=False)
class MethodCaller:
    name: str
    args: tuple[object, ...]


@dataclass(slots=True, eq=False)
class BytesIO:
    """``io.BytesIO(payload)``: a file-like a nested loader reads."""

    payload: object


@dataclass(slots=True, eq=False)
class DType:
    """``numpy.dtype(code, align, copy)`` and its BUILD state (for joblib's inline arrays)."""

    code: object
    state: object = None


@dataclass(slots=True, eq=False)
class ArrayWrapper:
    """joblib's ``NumpyArrayWrapper``: its array bytes follow the BUILD inline in the stream."""

    state: object = None


@dataclass(slots=True, eq=False)
class Opaque:
    """Something the VM does not model further (a persistent id, an out-of-band buffer, a code object)."""

    what: str


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
