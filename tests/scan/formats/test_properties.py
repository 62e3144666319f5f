"""Property tests: hostile bytes never make a format parser raise, hang, or pass silently.

Each strategy starts from a valid sample of the format (so the mutations reach deep into the
parser, not just the magic check) and truncates, flips or splices bytes.
"""

from __future__ import annotations

import io
import json
import struct
import time
import zipfile

import numpy as np
import onnx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper, numpy_helper
from safetensors.numpy import save as np_save

from mlwarden.scan.formats.gguf import GgufScanner
from mlwarden.scan.formats.hdf5 import Hdf5Scanner
from mlwarden.scan.formats.keras import KerasScanner
from mlwarden.scan.formats.onnx import OnnxScanner
from mlwarden.scan.formats.protobuf_wire import WireError, field_bytes, iter_fields
from mlwarden.scan.formats.safetensors import SafetensorsScanner
from mlwarden.scan.formats.savedmodel import KerasMetadataScanner, SavedModelScanner
from mlwarden.scan.interface import FormatScanner, ScanContext, ScanTarget

from .keras_samples import benign_cnn, keras3_lambda, keras_zip, sequential
from .test_savedmodel import CHECKPOINT_NODES, keras_metadata, saved_model


def _onnx() -> bytes:
    w = numpy_helper.from_array(np.ones((2, 2), np.float32), "W")
    g = helper.make_graph([helper.make_node("MatMul", ["X", "W"], ["Y"], domain="x.y")], "g",
                          [helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, 2])],
                          [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1, 2])], [w])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17),
                                               helper.make_opsetid("x.y", 1)]).SerializeToString()


def _gguf() -> bytes:
    def gstr(s: bytes) -> bytes:
        return struct.pack("<Q", len(s)) + s

    template = b"{% for m in messages %}{{ m['role'] ~ m.content|trim }}{% endfor %}"
    kvs = (gstr(b"tokenizer.chat_template") + struct.pack("<I", 8) + gstr(template)
           + gstr(b"tokenizer.ggml.tokens") + struct.pack("<IIQ", 9, 8, 2) + gstr(b"a") + gstr(b"b"))
    tensors = gstr(b"w") + struct.pack("<IQIQ", 1, 8, 0, 0)
    head = b"GGUF" + struct.pack("<IQQ", 3, 1, 2) + kvs + tensors
    return head + b"\0" * ((-len(head)) % 32) + b"\0" * 32


def _h5() -> bytes:
    import h5py

    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        f.attrs["model_config"] = json.dumps(sequential([keras3_lambda()]))
        f.create_dataset("w", data=np.ones(4))
    return buf.getvalue()


def _keras() -> bytes:
    return keras_zip(benign_cnn(), compression=zipfile.ZIP_STORED)


SAMPLES: dict[type[FormatScanner], bytes] = {
    OnnxScanner: _onnx(),
    SavedModelScanner: saved_model([*CHECKPOINT_NODES]),
    KerasMetadataScanner: keras_metadata({"class_name": "Dense", "config": {}}),
    GgufScanner: _gguf(),
    SafetensorsScanner: np_save({"a": np.ones(3, np.float32), "b": np.zeros(2, np.int8)}),
    KerasScanner: _keras(),
    Hdf5Scanner: _h5(),
}


def mutate(data: bytes, draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["truncate", "flip", "splice", "random"]))
    if kind == "truncate":
        return data[:draw(st.integers(0, len(data)))]
    if kind == "random":
        return data[:draw(st.integers(0, 16))] + draw(st.binary(max_size=512))
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 8))):
        pos = draw(st.integers(0, len(out) - 1))
        if kind == "flip":
            out[pos] = draw(st.integers(0, 255))
        else:
            out[pos:pos] = draw(st.binary(min_size=1, max_size=16))
    return bytes(out)


IN_PROCESS = sorted((c for c in SAMPLES if c is not Hdf5Scanner), key=lambda c: c.name)
"""Scanners that parse in this process (the HDF5 one runs h5py in a child, ~0.3 s a file)."""


@st.composite
def hostile(draw: st.DrawFn, scanners: list[type[FormatScanner]] = IN_PROCESS
            ) -> tuple[type[FormatScanner], bytes]:
    scanner = draw(st.sampled_from(scanners))
    return scanner, mutate(SAMPLES[scanner], draw)


def _run(scanner: type[FormatScanner], data: bytes) -> ScanContext:
    ctx = ScanContext(dispatch=lambda target, c: None)
    target = ScanTarget(path="fuzz", data=memoryview(data))
    if scanner.detect(data[:4096], target):
        scanner().scan(target, ctx)
    return ctx


def test_samples_are_detected_by_their_scanner() -> None:
    for scanner, data in SAMPLES.items():
        assert scanner.detect(data[:4096], ScanTarget(path="x", data=data)), scanner.name


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile())
def test_mutated_inputs_never_raise_and_stay_fast(case: tuple[type[FormatScanner], bytes]) -> None:
    scanner, data = case
    start = time.monotonic()
    _run(scanner, data)
    assert time.monotonic() - start < 5


@settings(max_examples=25, deadline=None)
@given(hostile([Hdf5Scanner]))
def test_mutated_hdf5_is_a_finding_or_clean_never_a_crash(
        case: tuple[type[FormatScanner], bytes]) -> None:
    """The HDF5 library segfaults on some of these; the scanner must survive and say so."""
    _, data = case
    _run(Hdf5Scanner, data)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_through_every_detector(data: bytes) -> None:
    for scanner in IN_PROCESS:
        _run(scanner, data)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_wire_reader_either_parses_or_raises_wire_error(data: bytes) -> None:
    try:
        for f in iter_fields(data):
            assert 0 <= f.start <= f.end <= len(data)
    except WireError as exc:
        assert 0 <= exc.offset <= len(data)


@given(st.lists(st.tuples(st.integers(1, 1000), st.binary(max_size=40)), max_size=10))
def test_wire_writer_round_trips(fields: list[tuple[int, bytes]]) -> None:
    data = b"".join(field_bytes(n, p) for n, p in fields)
    parsed = [(f.number, data[f.start:f.end]) for f in iter_fields(data)]
    assert parsed == fields


def test_onnx_sample_is_a_real_model() -> None:
    onnx.checker.check_model(onnx.load_from_string(SAMPLES[OnnxScanner]))


@pytest.mark.parametrize("scanner", [OnnxScanner, SavedModelScanner, KerasMetadataScanner])
def test_millions_of_tiny_fields_take_bounded_time(scanner: type[FormatScanner],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """b"\\x08\\x01" repeated is a valid-looking stream of one-byte fields: detection looks at a
    bounded prefix, and a parse stops at the field budget with a malformed finding."""
    from mlwarden.scan.formats import onnx as onnx_mod
    from mlwarden.scan.formats import savedmodel as sm_mod

    monkeypatch.setattr(onnx_mod, "MAX_FIELDS", 100_000)
    monkeypatch.setattr(sm_mod, "MAX_FIELDS", 100_000)
    bodies = {OnnxScanner: b"\x08\x07\x3a" + field_bytes(7, b"\x08\x01" * 500_000)[1:],
              SavedModelScanner: b"\x08\x01" + field_bytes(2, field_bytes(2, b"\x08\x01" * 500_000)),
              KerasMetadataScanner: field_bytes(1, field_bytes(4, b"_tf_keras_layer")
                                                + b"\x10\x01" * 500_000)}
    data = bodies[scanner]
    start = time.monotonic()
    target = ScanTarget(path="x", data=data)
    assert scanner.detect(data[:4096], target)
    ctx = ScanContext()
    scanner().scan(target, ctx)
    assert time.monotonic() - start < 10
    assert any("more than 100000 protobuf fields" in f.message for f in ctx.findings)
