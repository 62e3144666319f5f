"""Hypothesis strategies for the pickle differential: opcode streams the C unpickler accepts.

Weighted toward what ``Modules/_pickle.c`` accepts and a strict parser may not: text opcodes of
protocols 0/1 with odd spellings (``strtol``/``PyLong_FromString``/``PyOS_string_to_double``
forms — whitespace, signs, leading zeros, ``L``, ``I00``/``I01``, NUL-terminated lines, CR),
STRING quoting and escapes, raw-unicode-escape, GLOBAL/INST names renamed by ``fix_imports``,
memo indices written every way ``PyLong_FromString(s, NULL, 10)`` reads them, PERSID, FRAME
misuse, MARK/POP_MARK, EXT codes, nested ``pickle.loads`` — and mutated real pickles.
"""

from __future__ import annotations

import pickle
import struct

from hypothesis import strategies as st

from tests.scan.corpus.payloads import all_pickle_payloads

WS = [b" ", b"\t", b"\x0b", b"\x0c", b"\r"]
MODULES = ["os", "posix", "mod\u00e9", "\u00e9", "__builtin__", "builtins", "exceptions", "copy_reg",
           "subprocess", "UserDict", "__main__", "foo.bar", "nt", "commands", "cPickle", "pickle", "copyreg",
           "collections", "_codecs"]
NAMES = ["system", "eval", "getattr", "Popen", "loads", "Foo", "UserDict", "ValueError",
         "reduce", "_reconstructor", "__newobj__", "path.join", "OrderedDict", "encode", "apply"]


@st.composite
def int_line(draw: st.DrawFn, *, long: bool = False) -> bytes:
    """An INT/LONG argument line (without the newline) in a form C's readers take."""
    kind = draw(st.sampled_from(["plain", "bool", "hex", "octal", "zeros", "under", "nul", "ws",
                                 "big"]))
    sign = draw(st.sampled_from([b"", b"+", b"-"]))
    if kind == "bool":
        body = draw(st.sampled_from([b"00", b"01", b"+0", b"-1", b" 1", b"1\x00", b"0 "]))
    elif kind == "hex":
        body = sign + draw(st.sampled_from([b"0x", b"0X"])) + b"%x" % draw(st.integers(0, 1 << 70))
    elif kind == "octal":
        body = sign + draw(st.sampled_from([b"0", b"0o", b"00"])) + b"%o" % draw(st.integers(0, 4096))
    elif kind == "zeros":
        body = sign + b"0" * draw(st.integers(1, 4)) + b"%d" % draw(st.integers(0, 999))
    elif kind == "under":
        body = sign + b"1_000" + draw(st.sampled_from([b"", b"_0", b"__0"]))
    elif kind == "nul":
        body = sign + b"%d" % draw(st.integers(0, 1 << 40)) + b"\x00" + draw(
            st.binary(max_size=4).filter(lambda b: b"\n" not in b))
    elif kind == "ws":
        body = draw(st.sampled_from(WS)) + sign + b"%d" % draw(st.integers(0, 99)) + draw(
            st.sampled_from([b"", *WS]))
    elif kind == "big":
        body = sign + b"9" * draw(st.sampled_from([19, 20, 40, 4301]))
    else:
        body = sign + b"%d" % draw(st.integers(0, 1 << 64))
    if long and draw(st.booleans()):
        body += b"L"
    return body


@st.composite
def float_line(draw: st.DrawFn) -> bytes:
    return draw(st.sampled_from([
        b"1.5", b"-0.0", b"1e5", b"1E-5", b"+.5", b"5.", b"inf", b"-inf", b"nan", b"Infinity",
        b"1.5\x00junk", b"1e999", b" 1.5", b"1_0.5", b"0x1p3", b"1.5 ", b"3", b"1.5\r"]))


def _escape_variants(text: str) -> list[bytes]:
    raw = text.encode()
    return [raw, b"".join(b"\\x%02x" % c for c in raw), b"".join(b"\\%03o" % c for c in raw),
            raw[:1] + b"\\\n" + raw[1:]]


@st.composite
def text_value(draw: st.DrawFn, text: str) -> bytes:
    """Opcodes pushing the str ``text`` in one of the forms both modes decode to it."""
    raw = text.encode()
    if not text.isascii() and draw(st.booleans()):
        raw = text.encode("latin-1", "replace")
    form = draw(st.sampled_from(["STRING", "UNICODE", "BINUNICODE", "SHORT_BINUNICODE",
                                 "BINUNICODE8", "SHORT_BINSTRING", "BINSTRING"]))
    if form == "STRING":
        quote = draw(st.sampled_from([b"'", b'"']))
        body = draw(st.sampled_from(_escape_variants(text)))
        return b"S" + quote + body + quote + b"\n"
    if form == "UNICODE":
        body = draw(st.sampled_from([raw, b"".join(b"\\u%04x" % c for c in raw),
                                     b"".join(b"\\U%08x" % c for c in raw)]))
        return b"V" + body + b"\n"
    if form == "BINUNICODE":
        return b"X" + struct.pack("<I", len(raw)) + raw
    if form == "BINUNICODE8":
        return b"\x8d" + struct.pack("<Q", len(raw)) + raw
    if form == "SHORT_BINSTRING":
        return b"U" + bytes([len(raw)]) + raw
    if form == "BINSTRING":
        return b"T" + struct.pack("<i", len(raw)) + raw
    return b"\x8c" + bytes([len(raw)]) + raw


@st.composite
def noise(draw: st.DrawFn) -> bytes:
    """A stack-neutral stretch: pushes one value in an odd form, maybe memoises it, pops it."""
    kind = draw(st.sampled_from(["int", "long", "float", "string", "unicode", "memo", "mark",
                                 "frame", "binint", "bytes", "dup"]))
    if kind == "int":
        value = b"I" + draw(int_line()) + b"\n"
    elif kind == "long":
        value = b"L" + draw(int_line(long=True)) + b"\n"
    elif kind == "float":
        value = b"F" + draw(float_line()) + b"\n"
    elif kind == "string":
        quote = draw(st.sampled_from([b"'", b'"']))
        body = draw(st.sampled_from([b"abc", b"a\\'b", b"\\x41\\101", b"\\n\\t", b"", b"a\"b",
                                     b"\\u0041", b"\\", b"\xc3\xa9", b"\x00"]))
        tail = draw(st.sampled_from([b"", b"\r", b" "]))
        value = b"S" + quote + body + draw(st.sampled_from([quote, b"'", b'"'])) + tail + b"\n"
    elif kind == "unicode":
        value = b"V" + draw(st.sampled_from([b"abc", b"\\u0041", b"\\U0001F600", b"\\u12", b"\\x41",
                                             b"\xe9", b"\\", b"a\\\\b", b""])) + b"\n"
    elif kind == "memo":
        index = draw(st.sampled_from([b"0", b" 1", b"01", b"+2", b"3\x00x", b"1_0", b"4 ", b"-1"]))
        value = b"N" + b"p" + index + b"\n" + draw(st.sampled_from([b"0g" + index + b"\n", b""]))
    elif kind == "mark":
        return draw(st.sampled_from([b"(1", b"(N1", b"(NN10", b"(t0", b"(l0", b"(d0", b"(\x910"]))
    elif kind == "frame":
        return b"\x95" + struct.pack("<Q", draw(st.integers(0, 40)))
    elif kind == "binint":
        value = draw(st.sampled_from([b"J\xff\xff\xff\xff", b"K\x00", b"M\x01\x00", b"\x8a\x00",
                                      b"\x8a\x02\xff\x7f", b"\x8b\x00\x00\x00\x00", b"G" + b"\x00" * 8,
                                      b"\x88", b"\x89"]))
    elif kind == "bytes":
        value = draw(st.sampled_from([b"C\x00", b"B\x01\x00\x00\x00x", b"\x96\x00" + b"\x00" * 7,
                                      b"U\x01\xff", b"T\x00\x00\x00\x00"]))
    else:
        return b"N20" + b"0"
    return value + b"0"


@st.composite
def import_ref(draw: st.DrawFn) -> bytes:
    """Opcodes leaving one imported name on the stack."""
    module = draw(st.sampled_from(MODULES))
    name = draw(st.sampled_from(NAMES))
    kind = draw(st.sampled_from(["GLOBAL", "GLOBAL", "STACK_GLOBAL", "EXT", "MEMO"]))
    if kind == "STACK_GLOBAL":
        return draw(text_value(module)) + draw(text_value(name)) + b"\x93"
    if kind == "EXT":
        code = draw(st.sampled_from([1, 5, 255, 256, 65535, 65536, 0x7FFFFFFF]))
        if code < 256:
            return b"\x82" + bytes([code])
        if code < 65536:
            return b"\x83" + struct.pack("<H", code)
        return b"\x84" + struct.pack("<i", code)
    odd = draw(st.sampled_from([b"", b"", b"\r", b" ", b"\x00"]))
    body = b"c" + module.encode() + draw(st.sampled_from([b"", odd])) + b"\n" + name.encode() + b"\n"
    if kind == "MEMO":
        index = draw(st.sampled_from([b"7", b" 7", b"07", b"+7", b"7\x00z"]))
        return body + b"p" + index + b"\n0g" + index + b"\n"
    return body


@st.composite
def call_form(draw: st.DrawFn) -> bytes:
    """Opcodes that import a name and use it (call, instantiate, mutate), leaving one value."""
    ref = draw(import_ref())
    arg = draw(st.sampled_from([b"", b"S'ls'\n", b"N", b"K\x01", b"Vx\n", b"I01\n"]))
    form = draw(st.sampled_from(["REDUCE", "REDUCE", "OBJ", "INST", "NEWOBJ", "NEWOBJ_EX", "APPEND",
                                 "SETITEM", "BUILD", "VALUE", "PERSID", "NESTED"]))
    if form == "REDUCE":
        return ref + b"(" + arg + b"tR"
    if form == "OBJ":
        return b"(" + ref + arg + b"o"
    if form == "INST":
        module = draw(st.sampled_from(MODULES)).encode()
        name = draw(st.sampled_from(NAMES)).encode()
        return b"(" + arg + b"i" + module + b"\n" + name + b"\n"
    if form == "NEWOBJ":
        return ref + b")\x81}b"
    if form == "NEWOBJ_EX":
        return ref + b")}\x92"
    if form == "APPEND":
        return ref + b"Na"
    if form == "SETITEM":
        return ref + b"NNs"
    if form == "BUILD":
        return ref + b"}b"
    if form == "PERSID":
        return draw(st.sampled_from([b"Pabc\n", b"Nq\x00Q"])) + b")R"
    if form == "NESTED":
        inner = draw(call_form()) + b"."
        if len(inner) >= 256:
            return ref
        payload = b"C" + bytes([len(inner)]) + inner
        if draw(st.booleans()):
            loads = draw(st.sampled_from([b"cpickle\nloads\n", b"c_pickle\nloads\n"]))
            return loads + b"(" + payload + b"tR"
        return b"cpickle\nload\n(c_io\nBytesIO\n(" + payload + b"tRtR"
    return ref


@st.composite
def program(draw: st.DrawFn) -> bytes:
    """A whole stream: optional PROTO/FRAME, noise, one or two uses of imports, STOP."""
    out = b""
    if draw(st.booleans()):
        out += b"\x80" + bytes([draw(st.integers(0, 5))])
    parts = draw(st.lists(st.one_of(noise(), call_form().map(lambda c: c + b"0")), max_size=5))
    out += b"".join(parts) + draw(call_form()) + b"."
    if draw(st.integers(0, 5)) == 0:
        # a frame over part of the stream (possibly ending inside an opcode)
        cut = draw(st.integers(0, len(out)))
        length = draw(st.integers(0, len(out) - cut + 3))
        out = out[:cut] + b"\x95" + struct.pack("<Q", length) + out[cut:]
    return out


SAMPLES = [pickle.dumps(v, protocol=p) for p in range(6) for v in (
    {"a": [1, 2.5, "x", b"y", None, True]}, (1, -1, 1 << 70, "é", frozenset({1})), [[], {}, ()],
    {"k": bytearray(b"z")}, 1.5, "text\nwith newline")]
"""Benign pickles of every protocol."""
HOSTILE = [p.data for p in all_pickle_payloads("/nonexistent/mlwarden-canary") if len(p.data) < 4096]
"""The scanner corpus's hostile pickles (built, never loaded)."""


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A real pickle (or a generated program) with a few bytes replaced, inserted or deleted."""
    data = bytearray(draw(st.one_of(st.sampled_from(SAMPLES), st.sampled_from(HOSTILE), program())))
    for _ in range(draw(st.integers(1, 3))):
        if not data:
            break
        i = draw(st.integers(0, len(data) - 1))
        op = draw(st.sampled_from(["set", "insert", "delete", "splice"]))
        if op == "set":
            data[i] = draw(st.integers(0, 255))
        elif op == "insert":
            data[i:i] = draw(st.sampled_from([b" ", b"\x00", b"\r", b"0", b"+", b"L", b"\n", b"("]))
        elif op == "delete":
            del data[i]
        else:
            data[i:i] = draw(call_form())
    return bytes(data)


SNIPPETS = [
    b"(", b".", b"0", b"1", b"2", b"N", b")", b"]", b"}", b"t", b"l", b"d", b"a", b"e", b"s", b"u",
    b"b", b"R", b"o", b"\x81", b"\x92", b"\x85", b"\x86", b"\x87", b"\x88", b"\x89", b"\x8f",
    b"\x90", b"\x91", b"\x93", b"\x94", b"\x97", b"\x98", b"Q", b"K\x01", b"h\x00", b"q\x00",
    b"j\x00\x00\x00\x00", b"r\x00\x00\x00\x00", b"\x82\x01", b"\x83\x00\x01", b"\x80\x02",
    b"\x80\x04", b"\x95\x02\x00\x00\x00\x00\x00\x00\x00", b"Pabc\n", b"g0\n", b"p0\n",
    b"I01\n", b"L1L\n", b"F1\n", b"S'x'\n", b"Vx\n", b"\x8c\x02os", b"\x8c\x06system",
    b"cos\nsystem\n", b"c__builtin__\neval\n", b"ios\nsystem\n", b"C\x01.", b"X\x00\x00\x00\x00",
]


@st.composite
def soup(draw: st.DrawFn) -> bytes:
    """Opcodes in any order (most streams break; the prefix before the break still runs)."""
    return b"".join(draw(st.lists(st.sampled_from(SNIPPETS), min_size=1, max_size=24))) + b"."


streams = st.one_of(program(), program(), mutated(), soup())
"""What the differential draws from."""
