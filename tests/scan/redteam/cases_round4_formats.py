"""Round four, containers and formats: where a loader's own parser reads something else than a
scanner does, or where one format's scanner claims a file another loader reads differently.

- zip readings: a second end record in the comment (miniz and zipfile take the last), zipfile's
  directory-where-it-ends vs miniz's declared offset, two ZIP64 records, 'directory' entries
  holding data (np.load reads them), bytes before the first member (h5py reads them);
- Keras: prefixed archives, config.json in UTF-8-BOM/UTF-16/UTF-32, no metadata.json,
  model.to_json()/tf.keras/TensorFlow.js JSON files, unzipped folders, torch layout beside
  Keras files (both ways), keras_metadata.pb with a late or non-first Keras node;
- tar: GNU sparse members, unknown type flags, a legacy torch tar in an HDF5 user block;
- lzma/xz: joblib's ']\x00' prefix with small dictionaries, other properties bytes, .xz and
  .lzma streams chained (LZMAFile's automatic decoder), an empty stream of NUL bytes first;
- 7z that py7zr cannot decode (BCJ2, no SubStreamsInfo): fail closed;
- ONNX with its fields in another order or without ir_version; TorchScript code spelled in
  upper case (miniz looks names up case-insensitively); a .keras zip appended to a GGUF;
  sharded-checkpoint indexes whose shards leave the folder; escaped chat_template keys.

Every hostile sample was checked against the real reader it targets — ``zipfile``, torch's
``PyTorchFileReader`` (miniz), ``tarfile``, ``lzma.LZMAFile``/joblib's decompressor, h5py,
``onnx.load_from_string`` — reading the payload *bytes* (never unpickling them). The benign
samples are the near misses of each fix.
"""

from __future__ import annotations

import io
import json
import lzma
import pickle
import struct
import tarfile
import zipfile
from collections.abc import Callable
from functools import partial
from pathlib import Path

from tests.scan.redteam.build import DATE, Case, put, torch_zip, zip_bytes
from tests.scan.redteam.cases_formats import benign_pickle, evil_pickle

GAPS: dict[str, str] = {
}
"""Sample id → the scanner gap it shows today (measured; the test is a strict xfail)."""

_EOCD = struct.Struct("<4s4H2LH")
_EOCD64 = struct.Struct("<4sQ2H2L4Q")
_EOCD64_LOC = struct.Struct("<4sLQL")


def _torch_members(data_pkl: bytes) -> list[tuple[str, bytes]]:
    return [("archive/data.pkl", data_pkl), ("archive/byteorder", b"little"),
            ("archive/version", b"3\n"), ("archive/.data/serialization_id", b"1234567890")]


def zip_after(prefix: bytes, members: list[tuple[str, bytes]]) -> bytes:
    """``prefix`` followed by a zip whose offsets count from the start of the whole buffer (as
    appending to a file with ``zipfile`` writes them)."""
    buf = io.BytesIO()
    buf.write(prefix)
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members:
            zf.writestr(zipfile.ZipInfo(name, date_time=DATE), data)
    return buf.getvalue()


def _split(archive: bytes) -> tuple[bytes, bytes]:
    """(local headers and data, central directory) of a one-disk zip without a comment."""
    cd = archive.find(b"PK\x01\x02")
    return archive[:cd], archive[cd:archive.rfind(b"PK\x05\x06")]


def _eocd_in_comment(canary: Path) -> bytes:
    """A benign checkpoint whose archive comment holds a hostile checkpoint and its end record,
    then a few bytes: the benign end record's comment length reaches the end of the file exactly,
    so a reader that checks it takes the benign directory; miniz (torch.load) and zipfile take the
    *last* end record, the hostile one."""
    benign = torch_zip(benign_pickle())
    hostile = zip_after(benign, _torch_members(evil_pickle(canary)))[len(benign):]
    comment = hostile + b"JUNK"
    out = bytearray(benign)
    struct.pack_into("<H", out, len(out) - 2, len(comment))
    return bytes(out) + comment


def _cd_where_it_ends(canary: Path) -> bytes:
    """Two central directories of equal size. The end record's offset points at the benign one
    (miniz reads it); Python's zipfile reads the directory that ends where the end record starts,
    shifting every offset by the difference — the hostile one (np.load, Keras, skops)."""
    local_b, cd_b = _split(zip_bytes([("model/model.pkl", benign_pickle())]))
    local_h, cd_h = _split(zip_bytes([("model/model.pkl", evil_pickle(canary))]))
    size = len(cd_b)
    cd1 = len(local_b) + len(local_h)
    shift = size  # zipfile reads the second directory, at cd1 + size: offsets move by size
    moved = bytearray(cd_h)
    struct.pack_into("<I", moved, 42, len(local_b) - shift)
    eocd = _EOCD.pack(b"PK\x05\x06", 0, 0, 1, 1, size, cd1, 0)
    return local_b + local_h + cd_b + bytes(moved) + eocd


def _zip64_two_records(canary: Path) -> bytes:
    """ZIP64: the locator points at a record for the benign directory (miniz follows it), while
    zipfile reads the record just before the locator, which describes the hostile one."""
    local_b, cd_b = _split(zip_bytes([("model/model.pkl", benign_pickle())]))
    local_h, cd_h = _split(zip_bytes([("model/model.pkl", evil_pickle(canary))]))
    moved = bytearray(cd_h)
    struct.pack_into("<I", moved, 42, len(local_b))

    def record(size: int, offset: int) -> bytes:
        return _EOCD64.pack(b"PK\x06\x06", 44, 45, 45, 0, 0, 1, 1, size, offset)

    cd1 = len(local_b) + len(local_h)
    rec1 = cd1 + len(cd_b)
    cd2 = rec1 + _EOCD64.size
    body = local_b + local_h + cd_b + record(len(cd_b), cd1) + bytes(moved) + record(
        len(moved), cd2)
    locator = _EOCD64_LOC.pack(b"PK\x06\x07", 0, rec1, 1)
    eocd = _EOCD.pack(b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    return body + locator + eocd


def _prefixed_keras(canary: Path) -> bytes:
    """A .keras archive with bytes before it: keras.saving checks zipfile.is_zipfile and opens it
    with zipfile, which finds the archive behind the prefix."""
    from tests.scan.redteam.cases_formats import _DENSE, _lambda, _sequential, keras_file

    return b"\x00" * 64 + keras_file(_sequential("s", [_DENSE, _lambda(canary)]))


def _octal(value: int) -> bytes:
    return b"%011o\x00" % value


def _gnu_sparse_tar(payload: bytes, name: str) -> bytes:
    """A tar whose member is an old GNU sparse file (type ``S``) with one data region: tarfile
    (torch's legacy loader, ``tar.extract``) rebuilds it."""
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.type = len(payload), 0, tarfile.GNUTYPE_SPARSE
    block = bytearray(info.tobuf(tarfile.GNU_FORMAT)[:512])
    block[386:398], block[398:410] = _octal(0), _octal(len(payload))
    block[483:495] = _octal(len(payload))
    block[148:156] = b" " * 8
    block[148:156] = b"%06o\x00 " % sum(block)
    return bytes(block) + payload + bytes(-len(payload) % 512) + bytes(1024)


def _legacy_tar_sparse(canary: Path) -> bytes:
    """A torch < 0.4 tar checkpoint whose ``pickle`` member is sparse."""
    def member(name: str, data: bytes) -> bytes:
        info = tarfile.TarInfo(name)
        info.size, info.mtime = len(data), 0
        return info.tobuf(tarfile.GNU_FORMAT) + data + bytes(-len(data) % 512)

    sparse = _gnu_sparse_tar(evil_pickle(canary), "pickle")[:-1024]
    return (member("sys_info", benign_pickle()) + sparse
            + member("storages", b"\x80\x02K\x00.") + bytes(1024))


def _lzma_alone(payload: bytes, dict_size: int) -> bytes:
    """An .lzma stream with the given dictionary size in its header."""
    out = bytearray(lzma.compress(payload, format=lzma.FORMAT_ALONE))
    struct.pack_into("<I", out, 1, dict_size)
    return bytes(out)


def _joblib_lzma_small_dict(canary: Path) -> bytes:
    """joblib picks its lzma reader for any file starting ``]\\x00``; a 32 KiB dictionary makes
    the header ``5d 00 80 00 00``, not the ``5d 00 00`` of the default."""
    return _lzma_alone(evil_pickle(canary), 0x8000)


def _lzma_props_not_5d(canary: Path) -> bytes:
    """An .lzma stream with lc=0/lp=2/pb=0 (properties byte 0x12): lzma.open and pandas'
    ``read_pickle('x.pkl.xz')`` decode it (automatic format)."""
    return lzma.compress(evil_pickle(canary), format=lzma.FORMAT_ALONE,
                         filters=[{"id": lzma.FILTER_LZMA1, "lc": 0, "lp": 2, "pb": 0}])


def _xz_then_lzma(canary: Path) -> bytes:
    """An empty .xz stream followed by an .lzma stream: lzma.LZMAFile reads on with the automatic
    decoder, so joblib gets the pickle from the second stream."""
    return lzma.compress(b"") + lzma.compress(evil_pickle(canary), format=lzma.FORMAT_ALONE)


def _lzma_then_xz(canary: Path) -> bytes:
    return lzma.compress(b"", format=lzma.FORMAT_ALONE) + lzma.compress(evil_pickle(canary))


def _keras_members(canary: Path) -> list[tuple[str, bytes]]:
    from tests.scan.redteam.cases_formats import _DENSE, _lambda, _sequential, keras_file

    data = keras_file(_sequential("s", [_DENSE, _lambda(canary)]))
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return [(info.filename, zf.read(info)) for info in zf.infolist()]


def _keras_config_encoded(encoding: str, canary: Path) -> bytes:
    """config.json re-encoded: Keras reads it as bytes and json.loads(bytes) accepts a UTF-8
    BOM, UTF-16 and UTF-32."""
    return zip_bytes([(name, data.decode().encode(encoding) if name == "config.json" else data)
                      for name, data in _keras_members(canary)])


def _keras_without_metadata(canary: Path) -> bytes:
    """keras.saving reads only config.json: metadata.json is not needed to load."""
    return zip_bytes([(n, d) for n, d in _keras_members(canary) if n != "metadata.json"])


def _lambda_config(canary: Path) -> dict[str, object]:
    from tests.scan.redteam.cases_formats import _DENSE, _lambda, _sequential

    return _sequential("s", [_DENSE, _lambda(canary)])


def _model_json(canary: Path) -> bytes:
    """``model.to_json()`` output, read back with ``model_from_json`` (architecture JSON plus a
    weights .h5: a common way to ship Keras models)."""
    return json.dumps(_lambda_config(canary)).encode()


def _tf2_model_json(canary: Path) -> bytes:
    config = _lambda_config(canary)
    return json.dumps({"class_name": "Sequential", "config": config["config"],
                       "keras_version": "2.15.0", "backend": "tensorflow"}).encode()


def _tfjs_model_json(canary: Path) -> bytes:
    """A TensorFlow.js layers model (``tensorflowjs_converter`` turns it back into Keras)."""
    return json.dumps({"format": "layers-model", "generatedBy": "keras v2.15.0",
                       "convertedBy": "TensorFlow.js Converter v4.17.0",
                       "modelTopology": {"keras_version": "2.15.0", "backend": "tensorflow",
                                         "model_config": _lambda_config(canary)},
                       "weightsManifest": []}).encode()


def _model_config_string(canary: Path) -> bytes:
    """The HDF5 attribute layout as JSON: ``model_config`` holding the config as a string."""
    return json.dumps({"keras_version": "2.15.0",
                       "model_config": json.dumps(_lambda_config(canary))}).encode()


def _keras_folder(folder: Path, canary: Path) -> Path:
    """An unzipped .keras folder (config.json + model.weights.h5), which Keras 3 loads too."""
    root = folder / "model.keras"
    for name, data in _keras_members(canary):
        put(root, name, data)
    return root


def _escaped_chat_template_key(canary: Path) -> bytes:
    """tokenizer_config.json whose key and template are written with JSON escapes only: the
    bytes hold neither 'chat' nor '{{'."""
    template = "{{ cycler.__init__.__globals__.os.popen('touch " + str(canary) + "').read() }}"
    escaped = "".join(f"\\u{ord(ch):04x}" for ch in template)
    key = "".join(f"\\u{ord(ch):04x}" for ch in "chat_template")
    return ('{"bos_token": "<s>", "' + key + '": "' + escaped + '"}').encode()


def onnx_fields(model: object) -> list[tuple[str, bytes]]:
    """Each top-level field of an ``onnx.ModelProto``, serialised on its own (name, bytes)."""
    import onnx

    assert isinstance(model, onnx.ModelProto)
    parts: list[tuple[str, bytes]] = []
    for descriptor, _ in model.ListFields():
        single = onnx.ModelProto()
        single.CopyFrom(model)
        for other, _ in model.ListFields():
            if other.name != descriptor.name:
                single.ClearField(other.name)
        parts.append((descriptor.name, single.SerializeToString()))
    return parts


def _onnx_reordered(first: str, drop: tuple[str, ...], canary: Path) -> bytes:
    """An ONNX model with external data climbing out of its folder, its top-level fields
    re-ordered (``first`` first) or some dropped: protobuf parsers (onnx.load) accept any field
    order, and onnx.load needs no ir_version."""
    import onnx

    from tests.scan.redteam.cases_formats import onnx_model

    parts = onnx_fields(onnx.load_from_string(onnx_model("../../../../etc/passwd")))
    ordered = sorted(parts, key=lambda part: part[0] != first)
    return b"".join(data for name, data in ordered if name not in drop)


def _keras_metadata_node(node_id: int, path: str, identifier: str, metadata: str,
                         metadata_first: bool) -> bytes:
    from mlwarden.scan.formats.protobuf_wire import field_bytes as fb
    from mlwarden.scan.formats.protobuf_wire import field_varint as fv

    ident, meta = fb(4, identifier), fb(5, metadata)
    body = fv(2, node_id) + fb(3, path) + (meta + ident if metadata_first else ident + meta)
    return fb(1, body)


def _keras_metadata_late_identifier(canary: Path) -> bytes:
    """keras_metadata.pb (TF SavedModel Keras metadata) whose node has its 6 KB metadata JSON
    before its identifier: '_tf_keras_' is not in the first 4 KB."""
    from tests.scan.redteam.cases_formats import _lambda

    meta = json.dumps({**_lambda(canary), "pad": "x" * 6000})
    return _keras_metadata_node(0, "root", "_tf_keras_layer", meta, True)


def _keras_metadata_dummy_first(canary: Path) -> bytes:
    """keras_metadata.pb whose first node is another trackable object."""
    from tests.scan.redteam.cases_formats import _lambda

    return (_keras_metadata_node(0, "root", "_generic_user_object", "{}", False)
            + _keras_metadata_node(1, "root.lam", "_tf_keras_layer",
                                   json.dumps(_lambda(canary)), False))


def _7z_number(value: int) -> bytes:
    assert value < 0x4000
    return bytes([value]) if value < 0x80 else bytes([0x80 | (value >> 8), value & 0xFF])


def seven_zip(payload: bytes, name: str, coder: bytes = b"\x00", *,
              substreams: bool = True) -> bytes:
    """A one-member 7z archive with a plain (not encoded) header, written by hand: ``coder`` is
    the method id of its one coder (``00`` copy); ``substreams=False`` leaves out the optional
    SubStreamsInfo (7-Zip defaults it; py7zr cannot read the archive then)."""
    import zlib

    n = _7z_number
    folder = n(1) + bytes([len(coder) & 0xF]) + coder
    sub = (b"\x08\x0a\x01" + struct.pack("<I", zlib.crc32(payload)) + b"\x00") if substreams \
        else b""
    header = (b"\x01\x04"
              + b"\x06" + n(0) + n(1) + b"\x09" + n(len(payload)) + b"\x00"
              + b"\x07\x0b" + n(1) + b"\x00" + folder + b"\x0c" + n(len(payload)) + b"\x00"
              + sub + b"\x00"
              + b"\x05" + n(1) + b"\x11" + n(1 + (len(name) + 1) * 2) + b"\x00"
              + name.encode("utf-16-le") + b"\x00\x00" + b"\x00"
              + b"\x00")
    start = struct.pack("<QQI", len(payload), len(header), zlib.crc32(header))
    return (b"7z\xbc\xaf\x27\x1c\x00\x04" + struct.pack("<I", zlib.crc32(start)) + start
            + payload + header)


def _npz_directory_entry(canary: Path) -> bytes:
    """An .npz whose object array sits in an entry named like a directory ('meta.npy/'): zipfile
    reads its bytes, and np.load lists it in .files and loads it like any member."""
    import numpy as np

    from tests.scan.redteam.build import Call, shell

    arr = np.empty(1, dtype=object)
    arr[0] = Call(__import__("os").system, shell(canary))
    buf, weights = io.BytesIO(), io.BytesIO()
    np.save(buf, arr, allow_pickle=True)
    np.save(weights, np.ones(3))
    return zip_bytes([("w.npy", weights.getvalue()), ("meta.npy/", buf.getvalue())])


def _tar_unknown_type(canary: Path) -> bytes:
    """A tar member of an unknown type flag ('Z'): tarfile extracts it as a regular file."""
    info = tarfile.TarInfo("model/model.pkl")
    payload = evil_pickle(canary)
    info.size, info.mtime, info.type = len(payload), 0, b"Z"
    return (info.tobuf(tarfile.GNU_FORMAT) + payload + bytes(-len(payload) % 512)
            + bytes(1024))


def _zip_with_directories(canary: Path) -> bytes:
    """A zip of a model folder with its directory entries, as zip tools write it."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for folder in ("model/", "model/tokenizer/"):
            zf.writestr(zipfile.ZipInfo(folder, date_time=DATE), b"")
        zf.writestr("model/tokenizer/vocab.txt", "a\nb\n")
        zf.writestr("model/state.pkl", benign_pickle())
    return buf.getvalue()


def _torchscript_beside_keras(canary: Path) -> bytes:
    """A TorchScript archive whose code/ loads a native library, with a benign Keras
    config.json/metadata.json beside it (torch.jit.load ignores them): the archive must be
    scanned as torch's, code/ included, not as a Keras model."""
    from tests.scan.redteam.cases_formats import _DENSE, _sequential

    code = b"def forward(self, x):\n    torch.ops.load_library('/tmp/evil.so')\n    return x\n"
    return zip_bytes([("archive/version", b"3\n"), ("archive/constants.pkl", b"\x80\x02)."),
                      ("archive/data.pkl", b"\x80\x02}."), ("archive/code/__torch__/m.py", code),
                      ("config.json", json.dumps(_sequential("s", [_DENSE])).encode()),
                      ("metadata.json", b"{}")])


def _keras_with_torch_layout(canary: Path) -> bytes:
    """A .keras (Lambda) that also has a torch checkpoint's layout: scanned as torch's, its
    config.json must still be analysed as a Keras config."""
    return zip_bytes([*_keras_members(canary), ("archive/data.pkl", benign_pickle()),
                      ("archive/version", b"3\n")])


def hdf5_with_user_block(prefix: bytes, size: int) -> bytes:
    """A small HDF5 file (h5py) with a ``size``-byte user block holding ``prefix``."""
    import h5py
    import numpy as np

    buf = io.BytesIO()
    with h5py.File(buf, "w", userblock_size=size) as f:
        f.create_dataset("w", data=np.ones(3))
    data = bytearray(buf.getvalue())
    assert len(prefix) <= size
    data[:len(prefix)] = prefix
    return bytes(data)


def _legacy_tar_in_user_block(canary: Path) -> bytes:
    """A torch < 0.4 tar checkpoint in the user block of an HDF5 file: torch.load reads the tar
    (tarfile ignores what follows its end), an HDF5 reader the rest."""
    from tests.scan.redteam.cases_formats import tar_bytes

    tar = tar_bytes([("sys_info", benign_pickle()), ("pickle", evil_pickle(canary)),
                     ("storages", b"\x80\x02K\x00.")])
    return hdf5_with_user_block(tar, 16384)


def _zero_padded_xz(canary: Path) -> bytes:
    """18 NUL bytes (an empty .lzma stream) then the pickle in an .xz stream: lzma.LZMAFile
    (pandas.read_pickle('model.pkl.xz'), lzma.open) reads on after the empty stream."""
    return bytes(18) + lzma.compress(evil_pickle(canary))


def _legacy_h5_with_keras_zip_appended(canary: Path) -> bytes:
    """A legacy Keras .h5 (Lambda in model_config) with a benign .keras zip appended: zipfile
    finds the zip (a '.keras' name loads it), h5py and load_model('x.h5') read the HDF5."""
    import h5py

    from tests.scan.redteam.cases_formats import _DENSE, _sequential

    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        f.attrs["model_config"] = json.dumps(_lambda_config(canary))
        f.attrs["keras_version"] = "2.15.0"
        f.attrs["backend"] = "tensorflow"
        f.create_group("model_weights")
    from tests.scan.redteam.cases_formats import keras_file

    with zipfile.ZipFile(io.BytesIO(keras_file(_sequential("s", [_DENSE])))) as zf:
        members = [(info.filename, zf.read(info)) for info in zf.infolist()]
    return zip_after(buf.getvalue(), members)


def _gguf_with_keras_zip_appended(folder: Path, canary: Path) -> Path:
    """A GGUF model with a .keras zip (Lambda) appended: llama.cpp ignores bytes after the
    tensor data, zipfile finds the archive (saved as '.keras', Keras loads it)."""
    from tests.scan.redteam.cases_formats import gguf_file

    gguf = gguf_file(folder / "base.gguf", {"tokenizer.chat_template": "{{ messages }}"})
    data = zip_after(gguf.read_bytes(), _keras_members(canary))
    gguf.unlink()
    return put(folder, "model.keras", data)


def _torchscript_uppercase_code(canary: Path) -> bytes:
    """TorchScript whose code/ member is spelled 'CODE/…/M.PY': torch.jit.load finds it with
    miniz's case-insensitive lookup (checked with PyTorchFileReader.get_record)."""
    code = b"def forward(self, x):\n    torch.ops.load_library('/tmp/evil.so')\n    return x\n"
    return zip_bytes([("archive/version", b"3\n"), ("archive/constants.pkl", b"\x80\x02)."),
                      ("archive/data.pkl", b"\x80\x02}."), ("archive/CODE/__torch__/M.PY", code)])


def _shard_index(shards: dict[str, str]) -> bytes:
    return json.dumps({"metadata": {"total_size": 1 << 20}, "weight_map": shards}).encode()


def _skops_with(module: str, name: str, canary: Path) -> bytes:
    """A real skops dump whose FunctionTransformer function is respelled ``module.name`` (what
    ``trusted=get_untrusted_types(...)`` then trusts)."""
    from tests.scan.formats.test_skops import _dump, respelled

    return respelled(_dump(), "log1p", module, name)


# -- benign ------------------------------------------------------------------------------------

def _skops_benign(canary: Path) -> bytes:
    from tests.scan.formats.test_skops import _dump

    return _dump()


def _benign_model_json(canary: Path) -> bytes:
    from tests.scan.redteam.cases_formats import _DENSE, _sequential

    return json.dumps(_sequential("s", [_DENSE])).encode()


def _hf_config_json(canary: Path) -> bytes:
    return json.dumps({"architectures": ["LlamaForCausalLM"], "model_type": "llama",
                       "hidden_size": 64, "torch_dtype": "float16"}).encode()


def _keras_utf16_benign(canary: Path) -> bytes:
    from tests.scan.redteam.cases_formats import _DENSE, _sequential, keras_file

    data = keras_file(_sequential("s", [_DENSE]))
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        members = [(i.filename, zf.read(i)) for i in zf.infolist()]
    return zip_bytes([(n, d.decode().encode("utf-16") if n == "config.json" else d)
                      for n, d in members])

def _torch_with_comment(canary: Path) -> bytes:
    """A real torch checkpoint with an archive comment (zip tools add them)."""
    import torch

    buf = io.BytesIO()
    torch.save({"w": torch.ones(3)}, buf)
    data = bytearray(buf.getvalue())
    comment = b"exported by release pipeline 1.4"
    struct.pack_into("<H", data, len(data) - 2, len(comment))
    return bytes(data) + comment


def _zip_of_stored_npz(canary: Path) -> bytes:
    """A zip whose last member is a stored .npz (its end record lies near the outer one)."""
    import numpy as np

    inner = io.BytesIO()
    np.savez(inner, a=np.arange(6.0), b=np.ones((2, 2)))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("bundle/README.txt", "arrays\n")
        zf.writestr("bundle/arrays.npz", inner.getvalue())
    buf.seek(0, io.SEEK_END)
    return buf.getvalue()


def _sparse_tar_benign(canary: Path) -> bytes:
    import numpy as np

    arr = io.BytesIO()
    np.save(arr, np.arange(16, dtype=np.float32))
    return _gnu_sparse_tar(arr.getvalue(), "weights/w.npy")


def _joblib_lzma(canary: Path) -> bytes:
    import joblib
    import numpy as np

    buf = io.BytesIO()
    joblib.dump({"coef": np.arange(5.0), "names": ["a", "b"]}, buf, compress="lzma")
    return buf.getvalue()


def _joblib_xz_padded(canary: Path) -> bytes:
    """Two .xz streams with stream padding between them (xz tools write this on concatenation)."""
    import joblib
    import numpy as np

    buf = io.BytesIO()
    joblib.dump({"coef": np.arange(5.0)}, buf, compress="xz")
    return buf.getvalue() + bytes(8) + lzma.compress(b"")


def _keras_benign(canary: Path) -> bytes:
    from tests.scan.redteam.cases_formats import _DENSE, _sequential, keras_file

    return keras_file(_sequential("s", [_DENSE]))


def _one(id_: str, label: str, technique: str, rel: str,
         fn: Callable[[Path], bytes]) -> Case:
    def build(folder: Path, canary: Path) -> Path:
        return put(folder, rel, fn(canary))

    return Case(id_, label, technique, build, GAPS.get(id_))  # type: ignore[arg-type]


def round4_format_cases() -> list[Case]:
    evil = [
        ("container-zip-eocd-in-comment", "benign torch zip whose comment holds a hostile one; "
         "miniz and zipfile take the last end record", "commented.pt", _eocd_in_comment),
        ("container-zip-cd-where-it-ends", "two central directories: miniz reads the declared "
         "offset, zipfile the one ending at the end record", "two_cd.zip", _cd_where_it_ends),
        ("container-zip64-two-records", "ZIP64 locator -> benign record; zipfile reads the "
         "record before the locator (hostile)", "zip64_two.zip", _zip64_two_records),
        ("keras-prefixed-bytes", ".keras with 64 bytes prepended (zipfile still opens it) "
         "holding a Lambda layer", "prefixed.keras", _prefixed_keras),
        ("container-tar-gnu-sparse-member", "tar with a GNU sparse member holding a pickle",
         "sparse.tar", lambda c: _gnu_sparse_tar(evil_pickle(c), "model/model.pkl")),
        ("container-torch-legacy-tar-sparse-pickle", "torch < 0.4 tar whose 'pickle' member is "
         "sparse", "legacy_sparse.tar", _legacy_tar_sparse),
        ("container-joblib-lzma-small-dict", "joblib lzma file with a 32 KiB dictionary "
         "(header 5d 00 80)", "small_dict.joblib", _joblib_lzma_small_dict),
        ("container-lzma-props-not-5d", ".pkl.xz holding an .lzma stream with properties 0x12",
         "model.pkl.xz", _lzma_props_not_5d),
        ("container-xz-then-lzma-alone", "empty .xz stream, then the pickle in an .lzma stream",
         "multi.joblib", _xz_then_lzma),
        ("container-lzma-alone-then-xz", "empty .lzma stream, then the pickle in an .xz stream",
         "multi2.joblib", _lzma_then_xz),
        ("keras-config-utf8-bom", "config.json with a UTF-8 BOM (json.loads(bytes) accepts it)",
         "bom.keras", partial(_keras_config_encoded, "utf-8-sig")),
        ("keras-config-utf16", "config.json in UTF-16", "utf16.keras",
         partial(_keras_config_encoded, "utf-16")),
        ("keras-config-utf32", "config.json in UTF-32", "utf32.keras",
         partial(_keras_config_encoded, "utf-32")),
        ("keras-no-metadata-json", ".keras without metadata.json (Keras reads only "
         "config.json)", "nometa.keras", _keras_without_metadata),
        ("keras-model-json", "model.to_json() architecture file with a Lambda", "model.json",
         _model_json),
        ("keras-tf2-model-json", "tf.keras 2 to_json() file with a Lambda", "arch.json",
         _tf2_model_json),
        ("keras-tfjs-model-json", "TensorFlow.js model.json whose topology has a Lambda",
         "tfjs/model.json", _tfjs_model_json),
        ("keras-model-config-string", "JSON with model_config held as a string (HDF5 "
         "attribute layout)", "model_config.json", _model_config_string),
        ("hf-chat-template-escaped-key", "tokenizer_config.json with the key and template "
         "written only as JSON escapes", "tokenizer_config.json", _escaped_chat_template_key),
        ("onnx-graph-first", "ONNX model serialised graph first (external data ../../)",
         "graph_first/model.onnx", partial(_onnx_reordered, "graph", ())),
        ("onnx-opset-first-no-ir-version", "ONNX model with opset_import first and no "
         "ir_version (onnx.load reads it)", "no_ir/model.onnx",
         partial(_onnx_reordered, "opset_import", ("ir_version",))),
        ("keras-metadata-late-identifier", "keras_metadata.pb node with its metadata before "
         "its identifier (6 KB)", "sm/keras_metadata.pb", _keras_metadata_late_identifier),
        ("keras-metadata-dummy-first-node", "keras_metadata.pb whose first node is not a Keras "
         "object", "sm2/keras_metadata.pb", _keras_metadata_dummy_first),
        ("container-7z-bcj2", "7z whose coder is BCJ2 (7-Zip extracts it, py7zr cannot): must "
         "fail closed", "bcj2.7z",
         lambda c: seven_zip(evil_pickle(c), "model/model.pkl", b"\x03\x03\x01\x1b")),
        ("container-7z-no-substreams", "7z without the optional SubStreamsInfo (py7zr cannot "
         "read it; its checksums are intact): must fail closed", "nosub.7z",
         lambda c: seven_zip(evil_pickle(c), "model/model.pkl", substreams=False)),
        ("container-npz-directory-entry", ".npz with the object array in an entry named "
         "'meta.npy/' (a directory name with data)", "dir_entry.npz", _npz_directory_entry),
        ("container-tar-unknown-type", "tar member with the unknown type flag 'Z' (tarfile "
         "reads it as a file)", "typed.tar", _tar_unknown_type),
        ("container-torchscript-beside-keras-config", "TorchScript (code/ loads a native "
         "library) with a Keras config.json and metadata.json beside it", "ts.pt",
         _torchscript_beside_keras),
        ("keras-with-torch-layout", ".keras with a Lambda that also has archive/data.pkl and "
         "archive/version", "both.keras", _keras_with_torch_layout),
        ("container-tar-in-hdf5-user-block", "torch legacy tar checkpoint in an HDF5 user "
         "block (torch.load reads the tar)", "ub.pt", _legacy_tar_in_user_block),
        ("container-zero-padded-xz", "empty .lzma stream of 18 NUL bytes, then an .xz stream",
         "model.pkl.xz", _zero_padded_xz),
        ("keras-h5-with-zip-appended", "legacy .h5 with a Lambda, a benign .keras zip "
         "appended (the zip claims the file)", "poly.h5", _legacy_h5_with_keras_zip_appended),
        ("container-torchscript-uppercase-code", "TorchScript code member spelled "
         "CODE/__torch__/M.PY (miniz looks names up case-insensitively)", "upper_ts.pt",
         _torchscript_uppercase_code),
        ("hf-shard-index-traversal", "pytorch_model.bin.index.json whose weight_map sends a "
         "shard to another cached repository (../../models--evil--x/...)",
         "pytorch_model.bin.index.json",
         lambda c: _shard_index({"lm_head.weight": "pytorch_model-00001-of-00002.bin",
                                 "embed.weight": "../../models--evil--x/snapshots/1/evil.bin"})),
        ("hf-shard-index-absolute", "model.safetensors.index.json with an absolute shard path",
         "model.safetensors.index.json",
         lambda c: _shard_index({"w": "/home/user/.cache/other/model.safetensors"})),
        ("skops-function-os-system", "skops pipeline whose FunctionTransformer.func is "
         "posix.system", "model.skops", partial(_skops_with, "posix", "system")),
        ("skops-function-builtins-exec", "skops pipeline whose FunctionTransformer.func is "
         "builtins.exec", "exec.skops", partial(_skops_with, "builtins", "exec")),
    ]
    benign = [
        ("benign-skops-pipeline", "skops dump of MinMaxScaler + FunctionTransformer(log1p) + "
         "LogisticRegression", "pipe.skops",
         _skops_benign),
        ("benign-hf-shard-index", "model.safetensors.index.json of a two-shard checkpoint",
         "index/model.safetensors.index.json",
         lambda c: _shard_index({"a.weight": "model-00001-of-00002.safetensors",
                                 "b.weight": "model-00002-of-00002.safetensors"})),
        ("benign-self-extractor-stub", "zip behind a 4 KB executable-like stub (self-extractor)",
         "setup.zip", lambda c: zip_after(b"MZ" + bytes(4094), [("model/state.pkl",
                                                                  benign_pickle())])),
        ("benign-hdf5-user-block", "HDF5 file with an empty (zeroed) 4 KB user block",
         "ub.h5", lambda c: hdf5_with_user_block(b"", 4096)),
        ("benign-zeros-file", "64 KB of zeros (an unwritten weights file)", "zeros.bin",
         lambda c: bytes(65536)),
        ("benign-zip-with-directories", "zip of a model folder with directory entries",
         "folder.zip", _zip_with_directories),
        ("benign-7z-by-hand", "7z written by hand (copy coder) holding a benign pickle",
         "plain.7z", lambda c: seven_zip(benign_pickle(), "model/state.pkl")),
        ("benign-text-leading-newline", "8 KB text file starting with a newline (0x0a)",
         "notes.txt", lambda c: b"\n" + b"model card line\n" * 512),
        ("benign-csv-quoted", "CSV file starting with a quote (0x22, an ONNX field tag)",
         "labels.csv", lambda c: b'"id","label"\n"1","cat"\n"2","dog"\n'),
        ("benign-pickle-protocol0-mark", "protocol 0 pickle starting with MARK (0x28, an ONNX "
         "field tag)", "p0.pkl", lambda c: pickle.dumps([1, 2, (3, 4)], protocol=0)),
        ("benign-keras-model-json", "model.to_json() of a Dense model", "model.json",
         _benign_model_json),
        ("benign-hf-config-json", "transformers config.json", "config.json", _hf_config_json),
        ("benign-keras-config-utf16", ".keras whose config.json is UTF-16 (Dense)",
         "utf16.keras", _keras_utf16_benign),
        ("benign-torch-zip-comment", "torch checkpoint with an archive comment", "commented.pt",
         _torch_with_comment),
        ("benign-zip-of-stored-npz", "zip whose last member is a stored .npz", "bundle.zip",
         _zip_of_stored_npz),
        ("benign-tar-gnu-sparse-npy", "tar with a GNU sparse .npy member", "sparse.tar",
         _sparse_tar_benign),
        ("benign-joblib-lzma", "joblib.dump(compress='lzma')", "model.joblib", _joblib_lzma),
        ("benign-joblib-xz-padded", "joblib xz file with stream padding and an empty second "
         "stream", "model_xz.joblib", _joblib_xz_padded),
        ("benign-keras-plain", "plain Keras v3 archive (Dense only)", "plain.keras",
         _keras_benign),
    ]
    appended = Case("keras-zip-appended-to-gguf", "malicious", "GGUF with a .keras zip "
                    "(Lambda) appended after the tensor data", _gguf_with_keras_zip_appended,
                    GAPS.get("keras-zip-appended-to-gguf"))
    folder = Case("keras-unzipped-folder", "malicious", "unzipped .keras folder (config.json "
                  "with a Lambda, model.weights.h5)", _keras_folder, GAPS.get("keras-unzipped-folder"))
    return ([_one(i, "malicious", t, r, f) for i, t, r, f in evil] + [folder, appended]
            + [_one(i, "benign", t, r, f) for i, t, r, f in benign])
