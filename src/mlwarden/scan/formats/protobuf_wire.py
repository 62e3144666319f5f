"""A small, bounded reader (and writer) for the protobuf wire format.

The ONNX and TensorFlow scanners read their protobufs with this instead of the frameworks: no
generated classes, no code from the artifact, every length checked against the buffer. Offsets
are absolute in the buffer given, so findings can point at the byte that matters.

Wire types: 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32. Groups (3, 4) are obsolete and
unused by the formats we read; meeting one is a :class:`WireError`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

VARINT = 0
I64 = 1
LEN = 2
I32 = 5


class WireError(ValueError):
    """The bytes are not a well-formed protobuf message."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(f"{message} at byte {offset}")
        self.offset = offset


@dataclass(frozen=True, slots=True)
class Field:
    """One field of a message. For ``LEN`` fields the payload is ``buf[start:end]``."""

    number: int
    wire: int
    value: int
    """The varint or fixed value; for ``LEN`` fields the payload length."""
    start: int
    """Offset of the payload (``LEN``) or of the value."""
    end: int
    tag_offset: int


Buffer = bytes | bytearray | memoryview


def read_varint(buf: Buffer, pos: int, end: int) -> tuple[int, int]:
    """Decode a varint at ``pos``; return ``(value, next_pos)``."""
    value = 0
    shift = 0
    start = pos
    while True:
        if pos >= end:
            raise WireError("truncated varint", start)
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7
        if shift >= 70:
            raise WireError("varint longer than 10 bytes", start)


class FieldBudget:
    """How many fields one parse may still read: a file of millions of one-byte fields is a
    finding after ``limit`` fields instead of minutes of work."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.remaining = limit


def iter_fields(buf: Buffer, start: int = 0, end: int | None = None,
                budget: FieldBudget | None = None) -> Iterator[Field]:
    """The fields of the message in ``buf[start:end]``, in order, each checked against the bounds."""
    stop = len(buf) if end is None else end
    pos = start
    while pos < stop:
        tag_offset = pos
        if budget is not None:
            budget.remaining -= 1
            if budget.remaining < 0:
                raise WireError(f"more than {budget.limit} protobuf fields", pos)
        tag, pos = read_varint(buf, pos, stop)
        number, wire = tag >> 3, tag & 7
        if number == 0 or number > 0x1FFFFFFF:
            raise WireError(f"invalid field number {number}", tag_offset)
        if wire == VARINT:
            value, nxt = read_varint(buf, pos, stop)
            yield Field(number, wire, value, pos, nxt, tag_offset)
            pos = nxt
        elif wire == LEN:
            length, payload = read_varint(buf, pos, stop)
            if length > stop - payload:
                raise WireError(f"field {number} length {length} runs past the message", tag_offset)
            yield Field(number, wire, length, payload, payload + length, tag_offset)
            pos = payload + length
        elif wire in (I64, I32):
            size = 8 if wire == I64 else 4
            if pos + size > stop:
                raise WireError(f"truncated fixed{size * 8} field {number}", tag_offset)
            value = int.from_bytes(bytes(buf[pos:pos + size]), "little")
            yield Field(number, wire, value, pos, pos + size, tag_offset)
            pos += size
        else:
            raise WireError(f"unsupported wire type {wire} (field {number})", tag_offset)


def text(buf: Buffer, field: Field, limit: int = 1 << 20) -> str:
    """A ``LEN`` field's payload as text (UTF-8, invalid bytes replaced), at most ``limit`` bytes."""
    if field.wire != LEN:
        raise WireError(f"field {field.number} should be length-delimited", field.tag_offset)
    return bytes(buf[field.start:min(field.end, field.start + limit)]).decode("utf-8", "replace")


# --- writer (used by tests to build hostile protobufs by hand, and by nothing that parses) --------


def encode_varint(value: int) -> bytes:
    if value < 0:
        value += 1 << 64
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field_varint(number: int, value: int) -> bytes:
    return encode_varint(number << 3 | VARINT) + encode_varint(value)


def field_bytes(number: int, payload: bytes | str) -> bytes:
    data = payload.encode() if isinstance(payload, str) else payload
    return encode_varint(number << 3 | LEN) + encode_varint(len(data)) + data


def message(*parts: bytes) -> bytes:
    return b"".join(parts)
