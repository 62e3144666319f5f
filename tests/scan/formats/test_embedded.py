"""Payloads hidden in other formats' fields (issue 10): every field a loader could decode and
deserialise is scanned as what it decodes to, in files made by the real libraries and by hand.

The decoding oracle is the standard library itself: whatever ``base64.b64decode``,
``urlsafe_b64decode`` (with the usual re-padding idiom), ``binascii.a2b_base64`` or
``bytes.fromhex`` turn a hostile spelling into, the scanner must find the payload in it.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import io
import json
import os
import pickle
import struct
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlwarden.core.severity import Severity
from mlwarden.scan.engine import scan_bytes, scan_paths
from mlwarden.scan.formats import embedded
from mlwarden.scan.formats.embedded import FieldScanner, decodings

from . import keras_samples as ks

PAYLOAD = (b"\x80\x04\x95\x1e\x00\x00\x00\x00\x00\x00\x00\x8c\x05posix\x94\x8c\x06system\x94"
           b"\x93\x94\x8c\x02id\x94\x85\x94R\x94.")
"""``pickle.dumps`` of an object reducing to ``os.system('id')`` (protocol 4), built by hand."""
PROTO0 = b"cos\nsystem\n(S'id'\ntR."
SAFE = pickle.dumps({"lr": 0.001, "layers": [1, 2, 3], "name": "adam"})


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def rules(report: object) -> set[str]:
    return {f.rule_id for f in report.findings}  # type: ignore[attr-defined]


def members(report: object) -> set[str | None]:
    return {f.location.member for f in report.findings}  # type: ignore[attr-defined]


def scan_json(doc: object, name: str = "config.json") -> object:
    return scan_bytes(json.dumps(doc).encode(), name=name)


# --- encodings -------------------------------------------------------------------------------

ENCODINGS: dict[str, Callable[[bytes], str]] = {
    "base64": b64,
    "base64-no-padding": lambda d: b64(d).rstrip("="),
    "base64-newlines": lambda d: base64.encodebytes(d).decode(),
    "base64-76-columns-crlf": lambda d: "\r\n".join(
        b64(d)[i:i + 76] for i in range(0, len(b64(d)), 76)),
    "urlsafe": lambda d: base64.urlsafe_b64encode(d).decode(),
    "urlsafe-no-padding": lambda d: base64.urlsafe_b64encode(d).decode().rstrip("="),
    "hex": lambda d: d.hex(),
    "hex-upper": lambda d: d.hex().upper(),
    "hex-0x": lambda d: "0x" + d.hex(),
    "hex-spaced": lambda d: d.hex(" ", 4),
    "data-uri": lambda d: "data:application/octet-stream;base64," + b64(d),
    "base64-of-base64": lambda d: b64(b64(d).encode()),
    "hex-of-base64": lambda d: b64(d).encode().hex(),
    "base64-junk-characters": lambda d: "".join(
        c + ("*" if i % 10 == 9 else "") for i, c in enumerate(b64(d))),
    "raw-latin-1": lambda d: d.decode("latin-1"),
    # found by the decoder differential below: "=" before the data (skipped by a2b_base64),
    # padding removed — decoded by the ``s + "=" * (-len(s) % 4)`` idiom
    "base64-leading-pad-no-padding": lambda d: "=\n\n" + b64(d).rstrip("="),
}


@pytest.mark.parametrize("encoding", sorted(ENCODINGS))
@pytest.mark.parametrize("payload", [PAYLOAD, PROTO0], ids=["protocol-4", "protocol-0"])
def test_every_encoding_of_a_pickle_in_a_json_config_is_found(encoding: str,
                                                              payload: bytes) -> None:
    report = scan_json({"model_type": "custom", "blob": ENCODINGS[encoding](payload)})
    assert "MW-PKL-001" in rules(report), report.findings  # type: ignore[attr-defined]


def test_member_name_says_where_and_how() -> None:
    doc = {"layers": [{}, {}, {}, {"config": {"blob": b64(PAYLOAD)}}]}
    assert members(scan_json(doc)) == {"layers[3].config.blob(base64)"}


def test_safe_pickle_and_benign_base64_are_clean() -> None:
    png = (b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + bytes(13) + os.urandom(64))
    doc = {"optimizer_state": b64(SAFE), "icon": "data:image/png;base64," + b64(png),
           "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
           "merges": ["Ġ t", "Ġ a", "h e", "i n", "r e", "o n", "Ġt he", "e r"] * 50,
           "random": [b64(os.urandom(n)) for n in range(8, 200, 7)],
           "description": "A small model for tests; it has nothing to hide whatsoever.",
           "_name_or_path": "meta-llama/Llama-3.2-1B-Instruct",
           "architectures": ["LlamaForCausalLM", "InternationalizationModel"]}
    report = scan_json(doc)
    assert not report.findings, report.findings  # type: ignore[attr-defined]


def test_heavily_interleaved_junk_is_not_decoded() -> None:
    """Known limit: a value that is mostly not base64 is not decoded (prose, paths and token
    merges would cost a decode each), though ``b64decode`` would drop the junk."""
    assert not embedded.plausible("*".join(b64(PAYLOAD)))
    assert embedded.plausible(b64(PAYLOAD)) and embedded.plausible(PAYLOAD.hex())


def test_plain_json_without_long_strings_stays_unknown() -> None:
    report = scan_json({"a": 1, "b": [1, 2], "c": "short"}, name="x.json")
    assert report.metadata["formats"]["x.json"] == "unknown"  # type: ignore[attr-defined]


def test_nested_archive_and_compressed_payloads() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("inner/data.pkl", PAYLOAD)
    doc = {"zip": b64(buf.getvalue()), "gzip": b64(gzip.compress(PAYLOAD)),
           "zlib": zlib.compress(PAYLOAD).hex()}
    found = members(scan_json(doc))
    assert found == {"zip(base64)/inner/data.pkl", "gzip(base64)/<gzip>", "zlib(hex)/<zlib>"}


def test_base64_keras_config_goes_to_the_keras_rules() -> None:
    inner = ks.sequential([ks.keras3_lambda()])
    report = scan_json({"model_type": "wrapper", "keras": b64(json.dumps(inner).encode())})
    assert "MW-KERAS-001" in rules(report)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["\n", " ", "\r\n", "\t", "*", "!", ".", "="]), max_size=6),
       st.integers(min_value=0, max_value=10_000), st.booleans(), st.booleans())
def test_decoders_agree_with_the_standard_library(junk: list[str], seed: int, strip: bool,
                                                  urlsafe: bool) -> None:
    """Mutated spellings: whenever a loader idiom decodes one to the pickle, so does the scan."""
    text = (base64.urlsafe_b64encode if urlsafe else base64.b64encode)(PAYLOAD).decode()
    if strip:
        text = text.rstrip("=")
    chars = list(text)
    for index, piece in enumerate(junk):
        chars.insert((seed * (index + 7)) % (len(chars) + 1), piece)
    text = "".join(chars)
    idioms: list[Callable[[str], bytes]] = [
        base64.b64decode, lambda s: base64.b64decode(s + "=" * (-len(s) % 4)),
        base64.urlsafe_b64decode, lambda s: base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)),
        lambda s: binascii.a2b_base64(s.encode()), lambda s: base64.decodebytes(s.encode())]
    loaders_get_it = False
    for idiom in idioms:
        try:
            loaders_get_it |= idiom(text) == PAYLOAD
        except (binascii.Error, ValueError):
            continue
    ours = {data for _, data in decodings(text)}
    if loaders_get_it:
        assert PAYLOAD in ours
        assert "MW-PKL-001" in rules(scan_json({"blob": text}))


# --- formats made by the real libraries --------------------------------------------------------

def test_hdf5_attributes(tmp_path: Path) -> None:
    h5py = pytest.importorskip("h5py")
    path = tmp_path / "model.h5"
    with h5py.File(path, "w") as f:
        group = f.create_group("layer")
        group.attrs["b64"] = b64(PAYLOAD)
        group.attrs["bytes_u8"] = np.frombuffer(PAYLOAD, dtype="u1")
        group.attrs["opaque"] = np.void(PAYLOAD + b"pad")
        group.attrs["array"] = np.array([b"hello", PROTO0 + b"x"], dtype=object)
        f.attrs["hex"] = np.bytes_(PAYLOAD.hex())
        f.attrs["note"] = "an ordinary description of this file, nothing else"
        f.create_dataset("w", data=np.zeros(4)).attrs["state"] = np.void(SAFE)
    report = scan_paths([path])
    # a void holding a protocol 2+ pickle already went to the VM as PyTables would read it
    assert members(report) == {"attr:/layer/@b64(base64)", "attr:/layer/@bytes_u8(raw)",
                               "attr:/layer/@opaque", "attr:/layer/@array[1](raw)",
                               "attr:/@hex(hex)"}
    assert not [f for f in report.findings if "/w/" in (f.location.member or "")]


def test_hdf5_benign_attributes_are_clean(tmp_path: Path) -> None:
    h5py = pytest.importorskip("h5py")
    path = tmp_path / "weights.h5"
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = "3.4.1"
        f.attrs["layer_names"] = np.array([b"dense_internationalization_1", b"dense_2"])
        f.attrs["digest"] = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
        f.attrs["state"] = np.void(SAFE)
        f.create_dataset("w", data=np.arange(10.0))
    assert not scan_paths([path]).findings


def test_safetensors_metadata(tmp_path: Path) -> None:
    from safetensors.numpy import save_file

    path = tmp_path / "model.safetensors"
    save_file({"w": np.zeros(2, dtype=np.float32)}, str(path),
              metadata={"format": "pt", "config": b64(PAYLOAD), "raw": PROTO0.decode("latin-1"),
                        "nested": json.dumps({"opt": {"state": PAYLOAD.hex()}}),
                        "safe": b64(SAFE)})
    assert members(scan_paths([path])) == {
        "__metadata__.config(base64)", "__metadata__.raw(raw)",
        "__metadata__.nested(json).opt.state(hex)"}


def test_gguf_string_metadata(tmp_path: Path) -> None:
    gguf = pytest.importorskip("gguf")
    path = tmp_path / "model.gguf"
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_string("custom.blob", b64(PAYLOAD))
    writer.add_string("general.description", "An ordinary description of a model for tests.")
    writer.add_array("tokenizer.ggml.tokens", ["a", "b", "internationalization", PAYLOAD.hex()])
    writer.add_tensor("w", np.zeros(32, dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    assert members(scan_paths([path])) == {"custom.blob(base64)", "tokenizer.ggml.tokens[3](hex)"}


def test_onnx_metadata_and_string_attributes(tmp_path: Path) -> None:
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    node = helper.make_node("Identity", ["x"], ["y"], name="n0", blob=PAYLOAD,
                            cfg=b64(PAYLOAD), note="an ordinary attribute value here")
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                                                          [1])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
    model = helper.make_model(graph)
    helper.set_model_props(model, {"blob": PAYLOAD.hex(), "safe": b64(SAFE),
                                   "author": "somebody with a long enough name"})
    path = tmp_path / "model.onnx"
    onnx.save(model, str(path))
    assert members(scan_paths([path])) == {"metadata_props['blob'](hex)", "node['n0'].blob(raw)",
                                           "node['n0'].cfg(base64)"}


def test_keras_custom_layer_config() -> None:
    layer = ks.layer("PickledLayer", {"name": "p", "blob": b64(PAYLOAD)}, module="my_layers")
    report = scan_bytes(ks.keras_zip(ks.sequential([layer])), name="model.keras")
    assert "config.json:config.layers[1].config.blob(base64)" in members(report)


def test_tokenizer_config_and_shard_index_fields() -> None:
    tok = {"chat_template": "{{ messages[0]['content'] }}", "extra": b64(PAYLOAD)}
    index = {"metadata": {"state": b64(PAYLOAD)}, "weight_map": {"w": "model.safetensors"}}
    assert members(scan_json(tok, "tokenizer_config.json")) == {"extra(base64)"}
    assert members(scan_json(index, "model.safetensors.index.json")) == {
        "metadata.state(base64)"}


def test_torch_and_numpy_payloads_in_fields() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("archive/data.pkl", PAYLOAD)
        zf.writestr("archive/version", "3\n")
    npy = io.BytesIO()
    np.lib.format.write_array_header_1_0(npy, {"descr": "|O", "fortran_order": False,
                                               "shape": (1,)})
    npy.write(PAYLOAD)
    report = scan_json({"state_dict": b64(buf.getvalue()), "array": b64(npy.getvalue())})
    assert {"state_dict(base64)/archive/data.pkl", "array(base64)"} <= members(report)
    assert "MW-PKL-001" in rules(report)


@pytest.mark.parametrize("metadata", [None, 5, [1, "x"], "plain"])
def test_odd_safetensors_metadata_does_not_crash(metadata: object) -> None:
    header = json.dumps({"__metadata__": metadata}).encode()
    report = scan_bytes(struct.pack("<Q", len(header)) + header, name="m.safetensors")
    assert "MW-FMT-001" not in rules(report)


# --- limits (MW-EMB-001) ------------------------------------------------------------------------

def test_a_field_over_the_limit_fails_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embedded, "MAX_FIELD", 1000)
    report = scan_json({"blob": "A" * 2000})
    assert rules(report) == {"MW-EMB-001"}
    assert report.skipped  # type: ignore[attr-defined]


def test_too_many_payloads_fail_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embedded, "MAX_PAYLOADS", 3)
    report = scan_json({"blobs": [b64(SAFE)] * 5})
    assert rules(report) == {"MW-EMB-001"}


def test_under_the_limits_no_mw_emb_001() -> None:
    assert "MW-EMB-001" not in rules(scan_json({"blobs": [b64(SAFE)] * 5, "x": "A" * 2000}))


def test_field_scanner_counts_values() -> None:
    from mlwarden.scan.interface import ScanContext, ScanTarget

    ctx = ScanContext()
    fields = FieldScanner(ScanTarget(path="x", data=b""), ctx)
    fields.value("short", "abc")
    fields.value("long", "internationalization")
    assert fields.values == 1 and ctx.findings == []


# --- properties: no crash, no false positive on random benign values ------------------------------

_MAGIC = (b"\x89HDF", b"PK", b"\x93NUMPY", b"GGUF", b"7z\xbc", b"\x1f\x8b", b"BZh", b"\xfd7zXZ",
          b"\x28\xb5\x2f\xfd", b"\x04\x22\x4d\x18", b"ZF")
"""Bytes that start like a file of a known format are handed to its scanner, which may well call
a truncated one malformed: that is not a false positive, so random data leaves them out
(hypothesis likes to try the constants it finds in the code)."""
_BYTES = st.binary(min_size=8, max_size=300).filter(lambda b: not b.startswith(_MAGIC))
_VALUES = st.one_of(_BYTES.map(lambda b: base64.b64encode(b).decode()),
                    _BYTES.map(lambda b: b.hex()), st.text(min_size=8, max_size=300), _BYTES)


def _check_benign(values: list[str | bytes]) -> None:
    from mlwarden.scan import engine
    from mlwarden.scan.interface import ScanContext, ScanTarget

    ctx = ScanContext(dispatch=engine.dispatch)
    fields = FieldScanner(ScanTarget(path="x", data=b""), ctx)
    for index, value in enumerate(values):
        fields.value(f"v{index}", value)
    fields.finish()
    # random data may decode to a few opcodes of a harmless pickle; never to anything serious
    assert not [f for f in ctx.findings if f.severity >= Severity.MEDIUM], ctx.findings


@settings(max_examples=40, deadline=None)
@given(st.lists(_VALUES, max_size=8))
def test_random_values_raise_nothing_and_report_nothing_serious(
        values: list[str | bytes]) -> None:
    _check_benign(values)


@pytest.mark.slow
@settings(max_examples=3000, deadline=None)
@given(st.lists(_VALUES, max_size=8))
def test_random_values_long(values: list[str | bytes]) -> None:
    _check_benign(values)


def test_keras_metadata_pb_fields() -> None:
    from .test_savedmodel import keras_metadata

    layer = {"name": "p", "class_name": "PickledLayer", "config": {"blob": b64(PAYLOAD)}}
    report = scan_bytes(keras_metadata(layer), name="keras_metadata.pb")
    assert "root.layer-0:config.blob(base64)" in members(report)


def test_hdf5_attribute_arrays_over_the_limit_fail_closed(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from mlwarden.scan.formats import hdf5_probe
    from mlwarden.scan.formats.hdf5 import Hdf5Scanner
    from mlwarden.scan.interface import ScanContext, ScanTarget

    assert hdf5_probe.MAX_ELEMENTS >= 100_000  # far above the weight names of big models
    monkeypatch.setattr(hdf5_probe, "MAX_ELEMENTS", 3)
    out = {"pickles": [], "fields": [], "field_bytes": 0, "fields_truncated": False}
    hdf5_probe._collect_fields(out, "/", {"names": np.array([b"weight_name_0"] * 4),
                                          "ok": np.array([b"weight_name_0"] * 3)})
    assert out["fields_truncated"] and len(out["fields"]) == 3
    ctx = ScanContext()
    Hdf5Scanner._scan_fields(out, ScanTarget(path="m.h5", data=b""), ctx)
    assert [f.rule_id for f in ctx.findings] == ["MW-EMB-001"]
