"""Just enough protobuf wire format to write a TensorFlow SavedModel by hand (TF is not installed).

Field numbers are TensorFlow's (``saved_model.proto``, ``meta_graph.proto``, ``graph.proto``,
``node_def.proto``, ``function.proto``, ``op_def.proto``, ``attr_value.proto``).
"""

from __future__ import annotations


def varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field_bytes(number: int, payload: bytes) -> bytes:
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def field_str(number: int, text: str) -> bytes:
    return field_bytes(number, text.encode())


def field_int(number: int, value: int) -> bytes:
    return varint(number << 3) + varint(value)


def attr_value_str(value: bytes) -> bytes:
    return field_bytes(2, value)  # AttrValue.s


def attr_value_type(dtype: int) -> bytes:
    return field_int(6, dtype)  # AttrValue.type


def node_def(name: str, op: str, inputs: tuple[str, ...] = (),
             attrs: dict[str, bytes] | None = None) -> bytes:
    out = field_str(1, name) + field_str(2, op)
    for inp in inputs:
        out += field_str(3, inp)
    for key, value in (attrs or {}).items():  # map<string, AttrValue> attr = 5
        out += field_bytes(5, field_str(1, key) + field_bytes(2, value))
    return out


def function_def(name: str, nodes: list[bytes]) -> bytes:
    out = field_bytes(1, field_str(1, name))  # signature: OpDef.name
    for node in nodes:
        out += field_bytes(3, node)  # node_def
    return out


def saved_model(nodes: list[bytes], functions: tuple[bytes, ...] = (), *, tags: str = "serve",
                tf_version: str = "2.15.0") -> bytes:
    graph = b"".join(field_bytes(1, n) for n in nodes)
    if functions:
        graph += field_bytes(2, b"".join(field_bytes(1, f) for f in functions))  # library
    graph += field_bytes(4, field_int(1, 1716))  # versions.producer
    meta_info = field_str(4, tags) + field_str(5, tf_version)  # tags, tensorflow_version
    meta_graph = field_bytes(1, meta_info) + field_bytes(2, graph)
    return field_int(1, 1) + field_bytes(2, meta_graph)
