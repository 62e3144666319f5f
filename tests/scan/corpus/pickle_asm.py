"""A tiny pickle assembler: write hostile pickles opcode by opcode (fickling's test_bypasses style).

Only what the corpus needs: each method appends one opcode with its argument encoded exactly as
``pickletools`` documents it, so a sample can use the opcodes a scanner might overlook (INST, OBJ,
NEWOBJ_EX, STACK_GLOBAL from memoised strings, EXT1/2/4, PROTO mid-stream…).
"""

from __future__ import annotations

import struct


class Asm:
    """Builds one pickle stream; :meth:`bytes` returns it (without an implicit STOP)."""

    def __init__(self, proto: int | None = 2) -> None:
        self._out = bytearray()
        if proto is not None:
            self.proto(proto)

    # framing -------------------------------------------------------------------------------
    def proto(self, n: int) -> Asm:
        self._out += b"\x80" + bytes([n])
        return self

    def stop(self) -> Asm:
        self._out += b"."
        return self

    def raw(self, data: bytes) -> Asm:
        self._out += data
        return self

    # constants ------------------------------------------------------------------------------
    def unicode(self, text: str) -> Asm:
        data = text.encode("utf-8")
        if len(data) < 256:
            self._out += b"\x8c" + bytes([len(data)]) + data  # SHORT_BINUNICODE
        else:
            self._out += b"X" + struct.pack("<I", len(data)) + data  # BINUNICODE
        return self

    def unicode0(self, text: str) -> Asm:
        """Protocol 0 UNICODE (raw-unicode-escape, newline terminated)."""
        self._out += b"V" + text.encode("raw-unicode-escape") + b"\n"
        return self

    def string0(self, text: str) -> Asm:
        """Protocol 0 STRING (a repr in quotes)."""
        self._out += b"S" + repr(text).encode("ascii") + b"\n"
        return self

    def binbytes(self, data: bytes) -> Asm:
        if len(data) < 256:
            self._out += b"C" + bytes([len(data)]) + data  # SHORT_BINBYTES
        else:
            self._out += b"B" + struct.pack("<I", len(data)) + data
        return self

    def int_(self, value: int) -> Asm:
        self._out += b"J" + struct.pack("<i", value)  # BININT
        return self

    def none(self) -> Asm:
        self._out += b"N"
        return self

    # containers -------------------------------------------------------------------------------
    def mark(self) -> Asm:
        self._out += b"("
        return self

    def tuple_(self) -> Asm:
        self._out += b"t"
        return self

    def tuple1(self) -> Asm:
        self._out += b"\x85"
        return self

    def tuple2(self) -> Asm:
        self._out += b"\x86"
        return self

    def empty_tuple(self) -> Asm:
        self._out += b")"
        return self

    def empty_dict(self) -> Asm:
        self._out += b"}"
        return self

    def empty_list(self) -> Asm:
        self._out += b"]"
        return self

    def setitem(self) -> Asm:
        self._out += b"s"
        return self

    def setitems(self) -> Asm:
        self._out += b"u"
        return self

    def append(self) -> Asm:
        self._out += b"a"
        return self

    def pop(self) -> Asm:
        self._out += b"0"
        return self

    def dup(self) -> Asm:
        self._out += b"2"
        return self

    # memo ---------------------------------------------------------------------------------
    def put(self, idx: int) -> Asm:
        self._out += b"q" + bytes([idx])  # BINPUT
        return self

    def get(self, idx: int) -> Asm:
        self._out += b"h" + bytes([idx])  # BINGET
        return self

    def memoize(self) -> Asm:
        self._out += b"\x94"
        return self

    # imports and calls ---------------------------------------------------------------------
    def global_(self, module: str, name: str) -> Asm:
        self._out += b"c" + module.encode() + b"\n" + name.encode() + b"\n"
        return self

    def stack_global(self, module: str, name: str) -> Asm:
        return self.unicode(module).unicode(name).raw(b"\x93")

    def stack_global_op(self) -> Asm:
        self._out += b"\x93"
        return self

    def reduce(self) -> Asm:
        self._out += b"R"
        return self

    def build(self) -> Asm:
        self._out += b"b"
        return self

    def inst(self, module: str, name: str) -> Asm:
        self._out += b"i" + module.encode() + b"\n" + name.encode() + b"\n"
        return self

    def obj(self) -> Asm:
        self._out += b"o"
        return self

    def newobj(self) -> Asm:
        self._out += b"\x81"
        return self

    def newobj_ex(self) -> Asm:
        self._out += b"\x92"
        return self

    def ext1(self, code: int) -> Asm:
        self._out += b"\x82" + bytes([code])
        return self

    def ext2(self, code: int) -> Asm:
        self._out += b"\x83" + struct.pack("<H", code)
        return self

    def ext4(self, code: int) -> Asm:
        self._out += b"\x84" + struct.pack("<i", code)
        return self

    # helpers --------------------------------------------------------------------------------
    def call(self, module: str, name: str, *args: str) -> Asm:
        """``module.name(*args)`` with GLOBAL + a tuple of strings + REDUCE."""
        self.global_(module, name).mark()
        for arg in args:
            self.unicode(arg)
        return self.tuple_().reduce()

    def bytes(self) -> bytes:
        return bytes(self._out)


def call_pickle(module: str, name: str, *args: str, proto: int = 2) -> bytes:
    """A complete pickle that calls ``module.name(*args)`` on load."""
    return Asm(proto).call(module, name, *args).stop().bytes()
