"""Assembling pickle streams opcode by opcode (payloads are bytes we build, never objects we run)."""

from __future__ import annotations

import struct

from mlwarden.core.finding import Finding
from mlwarden.core.severity import Severity
from mlwarden.scan.interface import ScanContext, ScanLimits, ScanTarget
from mlwarden.scan.pickle import PickleResult, analyze_pickle, analyze_pickles

MARK = b"("
STOP = b"."
TUPLE = b"t"
TUPLE1 = b"\x85"
TUPLE2 = b"\x86"
TUPLE3 = b"\x87"
EMPTY_TUPLE = b")"
REDUCE = b"R"
BUILD = b"b"
OBJ = b"o"
NEWOBJ = b"\x81"
NEWOBJ_EX = b"\x92"
STACK_GLOBAL = b"\x93"
MEMOIZE = b"\x94"
EMPTY_DICT = b"}"
EMPTY_LIST = b"]"
SETITEM = b"s"
SETITEMS = b"u"
APPEND = b"a"
NONE = b"N"
POP = b"0"


def proto(n: int) -> bytes:
    return b"\x80" + bytes([n])


def global_(module: str, name: str) -> bytes:
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def inst(module: str, name: str) -> bytes:
    return b"i" + module.encode() + b"\n" + name.encode() + b"\n"


def s(text: str) -> bytes:
    """SHORT_BINUNICODE (or BINUNICODE when long)."""
    raw = text.encode()
    if len(raw) < 256:
        return b"\x8c" + bytes([len(raw)]) + raw
    return b"X" + struct.pack("<I", len(raw)) + raw


def string0(text: str) -> bytes:
    """Protocol-0 STRING."""
    return b"S" + repr(text).encode() + b"\n"


def binbytes(data: bytes) -> bytes:
    if len(data) < 256:
        return b"C" + bytes([len(data)]) + data
    return b"B" + struct.pack("<I", len(data)) + data


def binbytes8(data: bytes) -> bytes:
    return b"\x8e" + struct.pack("<Q", len(data)) + data


def binput(i: int) -> bytes:
    return b"q" + bytes([i])


def binget(i: int) -> bytes:
    return b"h" + bytes([i])


def binint1(i: int) -> bytes:
    return b"K" + bytes([i])


def call(module: str, name: str, *args: bytes, protocol: int = 2) -> bytes:
    """``module.name(*args)`` as GLOBAL + MARK args TUPLE + REDUCE + STOP."""
    return proto(protocol) + global_(module, name) + MARK + b"".join(args) + TUPLE + REDUCE + STOP


def stack_call(module: str, name: str, *args: bytes) -> bytes:
    """The same call through STACK_GLOBAL (protocol 4 style), without STOP."""
    return s(module) + s(name) + STACK_GLOBAL + MARK + b"".join(args) + TUPLE + REDUCE


def scan(data: bytes | memoryview, *, limits: ScanLimits | None = None,
         allow: tuple[str, ...] = (), many: bool = False) -> tuple[ScanContext, list[PickleResult]]:
    ctx = ScanContext(limits=limits or ScanLimits(), allow_globals=allow)
    target = ScanTarget(path="model.pkl", data=data)
    if many:
        return ctx, analyze_pickles(target, ctx)
    return ctx, [analyze_pickle(target, ctx)]


def worst(ctx: ScanContext) -> Severity | None:
    return max((f.severity for f in ctx.findings), default=None)


def by_rule(ctx: ScanContext, rule_id: str) -> list[Finding]:
    return [f for f in ctx.findings if f.rule_id == rule_id]


def callables(ctx: ScanContext) -> set[str]:
    return {str(f.evidence.get("callable")) for f in ctx.findings}
