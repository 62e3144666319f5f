"""The opcode handlers of the pickle VM, one method per opcode of protocols 0-5.

Each handler gets the offset just after its opcode byte and returns the offset of the next opcode
(negative after STOP). Arguments are read with ``struct`` straight from the buffer; byte and text
payloads beyond :data:`BIG_TEXT` stay in the buffer as :class:`Blob` (offset and length), so a
multi-GB ``BINBYTES8`` is stepped over, never copied. Calls, imports and BUILD go to the VM's
semantics (:mod:`mlwarden.scan.pickle.vm`).
"""

from __future__ import annotations

import struct
from collections.abc import MutableMapping
from typing import TYPE_CHECKING, Any

from mlwarden.scan.interface import ScanLimits
from mlwarden.scan.pickle import names, textargs
from mlwarden.scan.pickle.state import Abort, Shared
from mlwarden.scan.pickle.values import ITEM_CAP, Blob, Opaque, Ref, SDict, SList, SSet, describe

BIG_TEXT = 1 << 20
"""Text constants above this size are left in the buffer (a :class:`Blob`) instead of decoded."""

_UNPACK_I = struct.Struct("<i").unpack_from
_UNPACK_UI = struct.Struct("<I").unpack_from
_UNPACK_Q = struct.Struct("<Q").unpack_from
_UNPACK_H = struct.Struct("<H").unpack_from
_UNPACK_D = struct.Struct(">d").unpack_from


class OpcodeHandlers:
    """Stack, memo and argument handling; mixed into :class:`~mlwarden.scan.pickle.vm.VM`."""

    stack: list[object]
    metastack: list[list[object]]
    memo: MutableMapping[int, object]
    proto: int | None
    op_pos: int
    data: memoryview
    end: int
    raw: Any
    limits: ScanLimits
    result: object
    shared: Shared

    if TYPE_CHECKING:
        def malformed(self, message: str, off: int | None = None,
                      kind: str = "malformed") -> Abort: ...
        def limit(self, what: str, value: int, bound: int) -> Abort: ...
        def new_import(self, module: str, name: str, off: int, opcode: str, *,
                       derived_from: str | None = None) -> Ref: ...
        def text(self, value: object) -> str | None: ...
        def call(self, func: object, args: object, off: int, opcode: str, *,
                 base_new: bool = False, plain_new: bool = False,
                 kwargs: object = None) -> object: ...
        def mutate(self, ref: Ref, opcode: str) -> None: ...
        def escape(self, value: object) -> None: ...
        def build(self, pos: int) -> int: ...
        def enter_frame(self, start: int, length: int) -> None: ...
        def respelt_import(self, module: str, name: str, off: int) -> None: ...

    # ------------------------------------------------------------------ stack
    def pop(self) -> object:
        try:
            return self.stack.pop()
        except IndexError:
            raise self.malformed("stack underflow") from None

    def pop_mark(self) -> list[object]:
        items = self.stack
        try:
            self.stack = self.metastack.pop()
        except IndexError:
            raise self.malformed("MARK expected but missing") from None
        return items

    def top(self) -> object:
        try:
            return self.stack[-1]
        except IndexError:
            raise self.malformed("stack underflow") from None

    def push(self, value: object) -> None:
        self.stack.append(value)

    # ------------------------------------------------------------------ arguments
    def _newline(self, pos: int) -> int:
        """Offset of the next newline from ``pos`` (-1: none before the end of the stream)."""
        raw = self.raw
        if raw is not None:
            return int(raw.find(b"\n", pos, self.end))
        p = pos
        step = 4096
        while p < self.end:
            q = min(p + step, self.end)
            j = bytes(self.data[p:q]).find(b"\n")
            if j >= 0:
                return p + j
            p = q
            step = min(step * 2, 1 << 22)
        return -1

    def _readline(self, pos: int) -> tuple[bytes, int]:
        raw = self.raw
        i = raw.find(b"\n", pos, self.end) if raw is not None else self._newline(pos)
        if i < 0:
            raise self.malformed("line argument has no newline (truncated pickle)", self.op_pos,
                                 "truncated")
        return bytes(self.data[pos:i]), i + 1

    def _name_line(self, pos: int, module: bytes | None, opcode: str) -> tuple[bytes, int]:
        """A GLOBAL/INST line. ``pickle._Unpickler`` (joblib) also takes a last line that has no
        newline (dropping its last byte as if it were one) and imports before it finds the stream
        truncated: that import is recorded, then the stream is reported truncated as usual."""
        i = self._newline(pos)
        if i < 0:
            if self.shared.emit_findings:
                rest = bytes(self.data[pos:self.end])
                mod, name = (rest[:-1], b"") if module is None else (module, rest[:-1])
                if mod:
                    self.new_import(mod.decode("utf-8", "replace"),
                                    name.decode("utf-8", "replace"), self.op_pos, opcode)
            raise self.malformed("line argument has no newline (truncated pickle)", self.op_pos,
                                 "truncated")
        return bytes(self.data[pos:i]), i + 1

    def _bytes(self, pos: int, n: int) -> bytes:
        if pos + n > self.end:
            raise IndexError
        return bytes(self.data[pos:pos + n])

    def _sized(self, pos: int, n: int, kind: str) -> tuple[object, int]:
        stop = pos + n
        if n < 0 or stop > self.end:
            raise self.malformed(f"{kind} payload of {n} bytes runs past the end of the stream",
                                 self.op_pos, "truncated")
        if kind == "str" and n <= BIG_TEXT:
            return bytes(self.data[pos:stop]).decode("utf-8", "surrogatepass"), stop
        if kind == "str8" and n <= BIG_TEXT:
            return bytes(self.data[pos:stop]).decode("latin-1"), stop
        return Blob(pos, n, kind), stop


    def op_mark(self, pos: int) -> int:
        self.metastack.append(self.stack)
        self.stack = []
        return pos

    def op_stop(self, pos: int) -> int:
        self.result = self.pop()
        self.escape(self.result)
        return -pos

    def op_pop(self, pos: int) -> int:
        if self.stack:
            self.stack.pop()
        else:
            self.pop_mark()
        return pos

    def op_pop_mark(self, pos: int) -> int:
        self.pop_mark()
        return pos

    def op_dup(self, pos: int) -> int:
        self.push(self.top())
        return pos

    def op_float(self, pos: int) -> int:
        line, pos = self._readline(pos)
        self.push(textargs.float_arg(line))
        return pos

    def op_int(self, pos: int) -> int:
        line, pos = self._readline(pos)
        self.push(textargs.int_arg(line))
        return pos

    def op_long(self, pos: int) -> int:
        line, pos = self._readline(pos)
        self.push(textargs.long_arg(line))
        return pos

    def op_binint(self, pos: int) -> int:
        self.push(_UNPACK_I(self.data, pos)[0])
        return pos + 4

    def op_binint1(self, pos: int) -> int:
        self.push(self.data[pos])
        return pos + 1

    def op_binint2(self, pos: int) -> int:
        self.push(_UNPACK_H(self.data, pos)[0])
        return pos + 2

    def op_long1(self, pos: int) -> int:
        n = self.data[pos]
        self.push(int.from_bytes(self._bytes(pos + 1, n), "little", signed=True))
        return pos + 1 + n

    def op_long4(self, pos: int) -> int:
        n = int(_UNPACK_I(self.data, pos)[0])
        if n < 0:
            raise self.malformed("LONG4 with a negative byte count")
        if pos + 4 + n > self.end:
            raise self.malformed("LONG4 payload runs past the end of the stream", None, "truncated")
        self.push(int.from_bytes(self._bytes(pos + 4, n), "little", signed=True) if n <= 64
                  else Opaque(f"{n}-byte integer"))
        return pos + 4 + n

    def op_binfloat(self, pos: int) -> int:
        self.push(_UNPACK_D(self.data, pos)[0])
        return pos + 8

    def op_none(self, pos: int) -> int:
        self.push(None)
        return pos

    def op_true(self, pos: int) -> int:
        self.push(True)
        return pos

    def op_false(self, pos: int) -> int:
        self.push(False)
        return pos

    def op_string(self, pos: int) -> int:
        line, pos = self._readline(pos)
        line = line.rstrip(b"\r ")
        if len(line) < 2 or line[0] != line[-1] or line[:1] not in (b"'", b'"'):
            raise self.malformed("STRING argument is not quoted")
        self.push(textargs.string_arg(line[1:-1]))
        return pos

    def op_binstring(self, pos: int) -> int:
        n = _UNPACK_I(self.data, pos)[0]
        if n < 0:
            raise self.malformed("BINSTRING with a negative length")
        value, pos = self._sized(pos + 4, n, "str8")
        self.push(value)
        return pos

    def op_short_binstring(self, pos: int) -> int:
        value, pos = self._sized(pos + 1, self.data[pos], "str8")
        self.push(value)
        return pos

    def op_unicode(self, pos: int) -> int:
        line, pos = self._readline(pos)
        self.push(line.decode("raw-unicode-escape"))
        return pos

    def op_binunicode(self, pos: int) -> int:
        value, pos = self._sized(pos + 4, _UNPACK_UI(self.data, pos)[0], "str")
        self.push(value)
        return pos

    def op_short_binunicode(self, pos: int) -> int:
        value, pos = self._sized(pos + 1, self.data[pos], "str")
        self.push(value)
        return pos

    def op_binunicode8(self, pos: int) -> int:
        value, pos = self._sized(pos + 8, _UNPACK_Q(self.data, pos)[0], "str")
        self.push(value)
        return pos

    def op_binbytes(self, pos: int) -> int:
        value, pos = self._sized(pos + 4, _UNPACK_UI(self.data, pos)[0], "bytes")
        self.push(value)
        return pos

    def op_short_binbytes(self, pos: int) -> int:
        value, pos = self._sized(pos + 1, self.data[pos], "bytes")
        self.push(value)
        return pos

    def op_binbytes8(self, pos: int) -> int:
        value, pos = self._sized(pos + 8, _UNPACK_Q(self.data, pos)[0], "bytes")
        self.push(value)
        return pos

    def op_bytearray8(self, pos: int) -> int:
        value, pos = self._sized(pos + 8, _UNPACK_Q(self.data, pos)[0], "bytearray")
        self.push(value)
        return pos

    def op_next_buffer(self, pos: int) -> int:
        self.push(Opaque("out-of-band buffer"))
        return pos

    def op_readonly_buffer(self, pos: int) -> int:
        self.top()
        return pos

    def op_empty_tuple(self, pos: int) -> int:
        self.push(())
        return pos

    def op_tuple(self, pos: int) -> int:
        self.push(tuple(self.pop_mark()))
        return pos

    def op_tuple1(self, pos: int) -> int:
        self.push((self.pop(),))
        return pos

    def op_tuple2(self, pos: int) -> int:
        b = self.pop()
        a = self.pop()
        self.push((a, b))
        return pos

    def op_tuple3(self, pos: int) -> int:
        c = self.pop()
        b = self.pop()
        a = self.pop()
        self.push((a, b, c))
        return pos

    def op_empty_list(self, pos: int) -> int:
        self.push(SList())
        return pos

    def op_list(self, pos: int) -> int:
        items = self.pop_mark()
        self.escape(items)
        self.push(SList(items[:ITEM_CAP], max(0, len(items) - ITEM_CAP)))
        return pos

    def op_empty_dict(self, pos: int) -> int:
        self.push(SDict())
        return pos

    def op_dict(self, pos: int) -> int:
        items = self.pop_mark()
        self.escape(items)
        if len(items) % 2:
            raise self.malformed("DICT with an odd number of items")
        pairs = list(zip(items[0::2], items[1::2], strict=True))
        self.push(SDict(pairs[:ITEM_CAP], max(0, len(pairs) - ITEM_CAP)))
        return pos

    def op_empty_set(self, pos: int) -> int:
        self.push(SSet())
        return pos

    def op_frozenset(self, pos: int) -> int:
        items = self.pop_mark()
        self.escape(items)
        self.push(SSet(items[:ITEM_CAP], max(0, len(items) - ITEM_CAP)))
        return pos

    def op_append(self, pos: int) -> int:
        value = self.pop()
        self.escape(value)
        target = self.top()
        if isinstance(target, Ref):
            self.mutate(target, "APPEND")
        if isinstance(target, SList):
            if len(target.items) < ITEM_CAP:
                target.items.append(value)
            else:
                target.dropped += 1
        return pos

    def op_appends(self, pos: int) -> int:
        items = self.pop_mark()
        self.escape(items)
        target = self.top()
        if isinstance(target, Ref):
            self.mutate(target, "APPENDS")
        if isinstance(target, SList):
            room = ITEM_CAP - len(target.items)
            target.items.extend(items[:max(room, 0)])
            target.dropped += max(0, len(items) - max(room, 0))
        return pos

    def op_setitem(self, pos: int) -> int:
        value = self.pop()
        key = self.pop()
        self.escape((key, value))
        target = self.top()
        if isinstance(target, Ref):
            self.mutate(target, "SETITEM")
        if isinstance(target, SDict):
            if len(target.pairs) < ITEM_CAP:
                target.pairs.append((key, value))
            else:
                target.dropped += 1
        return pos

    def op_setitems(self, pos: int) -> int:
        items = self.pop_mark()
        if len(items) % 2:
            raise self.malformed("SETITEMS with an odd number of items")
        self.escape(items)
        target = self.top()
        if isinstance(target, Ref):
            self.mutate(target, "SETITEMS")
        if isinstance(target, SDict):
            pairs = list(zip(items[0::2], items[1::2], strict=True))
            room = max(ITEM_CAP - len(target.pairs), 0)
            target.pairs.extend(pairs[:room])
            target.dropped += max(0, len(pairs) - room)
        return pos

    def op_additems(self, pos: int) -> int:
        items = self.pop_mark()
        self.escape(items)
        target = self.top()
        if isinstance(target, Ref):
            self.mutate(target, "ADDITEMS")
        if isinstance(target, SSet):
            room = max(ITEM_CAP - len(target.items), 0)
            target.items.extend(items[:room])
            target.dropped += max(0, len(items) - room)
        return pos

    def _memo_get(self, key: int) -> None:
        try:
            self.push(self.memo[key])
        except KeyError:
            raise self.malformed(f"memo key {key} read before it was written") from None

    def _memo_put(self, key: int) -> None:
        if key < 0:
            raise self.malformed("negative memo key")
        self.memo[key] = self.top()
        if len(self.memo) > self.limits.max_pickle_memo:
            raise self.limit("memo size", len(self.memo), self.limits.max_pickle_memo)

    def op_get(self, pos: int) -> int:
        line, pos = self._readline(pos)
        self._memo_get(textargs.memo_index(line))
        return pos

    def op_binget(self, pos: int) -> int:
        self._memo_get(self.data[pos])
        return pos + 1

    def op_long_binget(self, pos: int) -> int:
        self._memo_get(_UNPACK_UI(self.data, pos)[0])
        return pos + 4

    def op_put(self, pos: int) -> int:
        line, pos = self._readline(pos)
        self._memo_put(textargs.memo_index(line))
        return pos

    def op_binput(self, pos: int) -> int:
        self._memo_put(self.data[pos])
        return pos + 1

    def op_long_binput(self, pos: int) -> int:
        self._memo_put(_UNPACK_UI(self.data, pos)[0])
        return pos + 4

    def op_memoize(self, pos: int) -> int:
        self._memo_put(len(self.memo))
        return pos

    def op_proto(self, pos: int) -> int:
        proto = self.data[pos]
        if proto > 5:
            raise self.malformed(f"unsupported pickle protocol {proto}")
        self.proto = proto
        return pos + 1

    def op_frame(self, pos: int) -> int:
        self.enter_frame(pos + 8, _UNPACK_Q(self.data, pos)[0])
        return pos + 8

    def op_global(self, pos: int) -> int:
        off = self.op_pos
        module, pos = self._name_line(pos, None, "GLOBAL")
        name, pos = self._name_line(pos, module, "GLOBAL")
        self.push(self.new_import(module.decode("utf-8", "replace"), name.decode("utf-8", "replace"),
                                  off, "GLOBAL"))
        return pos

    def op_stack_global(self, pos: int) -> int:
        name_v = self.pop()
        module_v = self.pop()
        module, name = self.text(module_v), self.text(name_v)
        off = self.op_pos
        if module is None or name is None:
            self.push(self.new_import("<computed>", f"{describe(module_v, 40)}.{describe(name_v, 40)}",
                                      off, "STACK_GLOBAL"))
        else:
            self.push(self.new_import(module, name, off, "STACK_GLOBAL"))
            self.respelt_import(module, name, off)
        return pos

    def op_inst(self, pos: int) -> int:
        off = self.op_pos
        module, pos = self._name_line(pos, None, "INST")
        name, pos = self._name_line(pos, module, "INST")
        # pickle._Unpickler (joblib) imports before it looks for the MARK (_pickle after)
        cls = self.new_import(module.decode("utf-8", "replace"), name.decode("utf-8", "replace"),
                              off, "INST")
        args = tuple(self.pop_mark())
        self.push(self.call(cls, args, off, "INST"))
        return pos

    def op_obj(self, pos: int) -> int:
        items = self.pop_mark()
        if not items:
            raise self.malformed("OBJ without a class")
        self.push(self.call(items[0], tuple(items[1:]), self.op_pos, "OBJ"))
        return pos

    def op_newobj(self, pos: int) -> int:
        args = self.pop()
        cls = self.pop()
        self.push(self.call(cls, args, self.op_pos, "NEWOBJ", plain_new=args == ()))
        return pos

    def op_newobj_ex(self, pos: int) -> int:
        kwargs = self.pop()
        args = self.pop()
        cls = self.pop()
        self.push(self.call(cls, args, self.op_pos, "NEWOBJ_EX", plain_new=args == (),
                            kwargs=kwargs))
        return pos

    def op_reduce(self, pos: int) -> int:
        args = self.pop()
        func = self.pop()
        self.push(self.call(func, args, self.op_pos, "REDUCE"))
        return pos

    def op_build(self, pos: int) -> int:
        return self.build(pos)

    def op_persid(self, pos: int) -> int:
        line, pos = self._readline(pos)
        self.push(Opaque(f"persistent id {line[:40]!r}"))
        return pos

    def op_binpersid(self, pos: int) -> int:
        pid = self.pop()
        self.escape(pid)
        self.push(Opaque(f"persistent id {describe(pid, 60)}"))
        return pos

    def _ext(self, code: int, opcode: str) -> None:
        off = self.op_pos
        ref = self.new_import("copyreg._extension_registry", str(code), off, opcode)
        ref.imp.verdict = names.UNKNOWN
        ref.imp.reason = "extension-registry code, resolved only in the loading process"
        ref.imp.handled = "ext"
        self.push(ref)

    def op_ext1(self, pos: int) -> int:
        self._ext(self.data[pos], "EXT1")
        return pos + 1

    def op_ext2(self, pos: int) -> int:
        self._ext(_UNPACK_H(self.data, pos)[0], "EXT2")
        return pos + 2

    def op_ext4(self, pos: int) -> int:
        self._ext(_UNPACK_I(self.data, pos)[0], "EXT4")
        return pos + 4


HANDLERS: dict[int, str] = {
    ord("("): "op_mark", ord("."): "op_stop", ord("0"): "op_pop", ord("1"): "op_pop_mark",
    ord("2"): "op_dup", ord("F"): "op_float", ord("I"): "op_int", ord("J"): "op_binint",
    ord("K"): "op_binint1", ord("L"): "op_long", ord("M"): "op_binint2", ord("N"): "op_none",
    ord("P"): "op_persid", ord("Q"): "op_binpersid", ord("R"): "op_reduce", ord("S"): "op_string",
    ord("T"): "op_binstring", ord("U"): "op_short_binstring", ord("V"): "op_unicode",
    ord("X"): "op_binunicode", ord("a"): "op_append", ord("b"): "op_build", ord("c"): "op_global",
    ord("d"): "op_dict", ord("}"): "op_empty_dict", ord("e"): "op_appends", ord("g"): "op_get",
    ord("h"): "op_binget", ord("i"): "op_inst", ord("j"): "op_long_binget", ord("l"): "op_list",
    ord("]"): "op_empty_list", ord("o"): "op_obj", ord("p"): "op_put", ord("q"): "op_binput",
    ord("r"): "op_long_binput", ord("s"): "op_setitem", ord("t"): "op_tuple",
    ord(")"): "op_empty_tuple", ord("u"): "op_setitems", ord("G"): "op_binfloat",
    0x80: "op_proto", 0x81: "op_newobj", 0x82: "op_ext1", 0x83: "op_ext2", 0x84: "op_ext4",
    0x85: "op_tuple1", 0x86: "op_tuple2", 0x87: "op_tuple3", 0x88: "op_true", 0x89: "op_false",
    0x8A: "op_long1", 0x8B: "op_long4", ord("B"): "op_binbytes", ord("C"): "op_short_binbytes",
    0x8C: "op_short_binunicode", 0x8D: "op_binunicode8", 0x8E: "op_binbytes8",
    0x8F: "op_empty_set", 0x90: "op_additems", 0x91: "op_frozenset", 0x92: "op_newobj_ex",
    0x93: "op_stack_global", 0x94: "op_memoize", 0x95: "op_frame", 0x96: "op_bytearray8",
    0x97: "op_next_buffer", 0x98: "op_readonly_buffer",
}
OPNAMES = {code: method[3:].upper() for code, method in HANDLERS.items()}


def opname(data: memoryview, off: int, end: int) -> str:
    if off >= end:
        return "<end of stream>"
    return OPNAMES.get(data[off], f"0x{data[off]:02x}")

