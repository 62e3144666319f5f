"""Malicious samples, one per format and technique class. Every payload is a harmless canary."""

from __future__ import annotations

import base64
import bz2
import gzip
import io
import json
import lzma
import marshal
import pickle
import struct
import zipfile
import zlib
from pathlib import Path

from tests.scan.corpus import proto
from tests.scan.corpus.common import Sample, tar_bytes, write, write_7z, zip_bytes, zip_members
from tests.scan.corpus.payloads import all_pickle_payloads, canary_object, shell
from tests.scan.corpus.pickle_asm import Asm, call_pickle


def build(root: Path, canary: str) -> list[Sample]:
    out: list[Sample] = []
    for builder in (_raw_pickles, _torch, _joblib, _numpy, _keras, _onnx, _savedmodel, _gguf,
                    _safetensors, _archives):
        out.extend(builder(root, canary))
    return out


def _raw_pickles(root: Path, c: str) -> list[Sample]:
    out = []
    for p in all_pickle_payloads(c):
        rel = f"malicious/pickle/{p.name}.pkl"
        write(root, rel, p.data)
        out.append(Sample(rel, "pickle", p.technique, "malicious"))
    # extensions a scanner must not rely on
    for rel in ("malicious/pickle/renamed_system.txt", "malicious/pickle/renamed_system.ckpt"):
        write(root, rel, call_pickle("os", "system", shell(c)))
        out.append(Sample(rel, "pickle", "hostile pickle under a misleading extension",
                          "malicious"))
    return out


# -- PyTorch ---------------------------------------------------------------------------------

def _torch_state() -> bytes:
    import torch

    torch.manual_seed(0)
    buf = io.BytesIO()
    torch.save({"fc.weight": torch.randn(4, 3), "fc.bias": torch.zeros(4)}, buf)
    return buf.getvalue()


def _replace_member(data: bytes, suffix: str, new: bytes, *, rename: str | None = None) -> bytes:
    members = []
    for name, content in zip_members(data):
        if name.endswith(suffix):
            content = new
        if rename is not None:
            name = rename + name[name.index("/"):]
        members.append((name, content))
    return zip_bytes(members)


def _inject(original: bytes, payload: bytes) -> bytes:
    """Insert ``payload; POP`` right after the PROTO opcode of ``original`` (fickling-style)."""
    assert original[:1] == b"\x80"
    return original[:2] + payload + b"0" + original[2:]


def _corrupt_zip_member(data: bytes, member: str, *, crc: bool, flags: int) -> bytes:
    """Flip the CRC and/or set general-purpose flag bits of ``member`` in both headers."""
    buf = bytearray(data)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        info = zf.getinfo(member)
    local, cd = info.header_offset, -1
    # the central directory record of this member: search by name after each CD signature
    needle = member.encode()
    pos = data.find(b"PK\x01\x02")
    while pos != -1:
        name_len = struct.unpack_from("<H", data, pos + 28)[0]
        if data[pos + 46:pos + 46 + name_len] == needle:
            cd = pos
            break
        pos = data.find(b"PK\x01\x02", pos + 4)
    assert cd >= 0, member
    for off, flag_at, crc_at in ((local, 6, 14), (cd, 8, 16)):
        if crc:
            old = struct.unpack_from("<I", buf, off + crc_at)[0]
            struct.pack_into("<I", buf, off + crc_at, old ^ 0xDEADBEEF)
        if flags:
            old_f = struct.unpack_from("<H", buf, off + flag_at)[0]
            struct.pack_into("<H", buf, off + flag_at, old_f | flags)
    return bytes(buf)


def _rename_local_header(data: bytes, member: str) -> bytes:
    """Change the last character of ``member``'s name in its local header only."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        offset = zf.getinfo(member).header_offset
    buf = bytearray(data)
    name_len = struct.unpack_from("<H", buf, offset + 26)[0]
    buf[offset + 30 + name_len - 1] = ord("X")
    return bytes(buf)


def _torch(root: Path, c: str) -> list[Sample]:
    import torch

    out: list[Sample] = []
    evil = pickle.dumps(canary_object(c), protocol=2)

    def add(rel: str, data: bytes, technique: str) -> None:
        write(root, rel, data)
        out.append(Sample(rel, "pytorch", technique, "malicious"))

    base = _torch_state()
    torch.manual_seed(0)
    buf = io.BytesIO()
    torch.save({"state_dict": {"w": torch.randn(2, 2)}, "hook": canary_object(c)}, buf)
    add("malicious/pytorch/torch_save_reduce.pt", buf.getvalue(),
        "torch.save of a checkpoint holding a __reduce__ payload")
    buf = io.BytesIO()
    torch.save({"state_dict": {"w": torch.ones(2)},
                "args": __import__("argparse").Namespace(callback=canary_object(c))}, buf)
    add("malicious/pytorch/payload_in_args.ckpt", buf.getvalue(),
        "payload inside the argparse.Namespace of a trainer checkpoint")
    add("malicious/pytorch/zip_data_pkl_replaced.pt", _replace_member(base, "/data.pkl", evil),
        "data.pkl replaced by a hostile pickle")
    original = dict(zip_members(base))["archive/data.pkl"]
    injected = _inject(original, Asm(None).call("os", "system", shell(c)).bytes())
    add("malicious/pytorch/zip_data_pkl_injected.pth", _replace_member(base, "/data.pkl", injected),
        "payload injected into the real data.pkl, weights intact")
    add("malicious/pytorch/zip_odd_prefix.bin",
        _replace_member(base, "/data.pkl", evil, rename="model v2 (final)"),
        "torch zip with an unusual top-level directory name")
    odd = zip_bytes([*zip_members(base), ("archive/data/.hidden/extra.pkl", evil)])
    add("malicious/pytorch/zip_hidden_member.pt", odd, "extra hostile pickle under an odd member name")
    bad = _replace_member(base, "/data.pkl", evil)
    add("malicious/pytorch/zip_bad_crc.pt", _corrupt_zip_member(bad, "archive/data.pkl", crc=True,
                                                               flags=0),
        "data.pkl with a wrong CRC (Python's zipfile refuses it)")
    # (an encrypted-flag member is not a sample: torch's miniz refuses it too, so it cannot load)
    add("malicious/pytorch/zip_local_name_mismatch.pt", _rename_local_header(bad, "archive/data.pkl"),
        "local header name differs from the central directory (Python's zipfile refuses, torch "
        "loads)")
    add("malicious/pytorch/zip_data_descriptor_flag.pt",
        _corrupt_zip_member(bad, "archive/data.pkl", crc=False, flags=0x8),
        "data.pkl with the data-descriptor flag set but no descriptor")
    # legacy (pre-1.6) stream: magic, protocol, sys_info, then the object pickle, storage keys
    legacy = b"".join(pickle.dumps(x, protocol=2) for x in (
        0x1950A86A20F9469CFC6C, 1001,
        {"protocol_version": 1001, "little_endian": True,
         "type_sizes": {"short": 2, "int": 4, "long": 4}}))
    legacy += pickle.dumps({"w": canary_object(c)}, protocol=2) + pickle.dumps([], protocol=2)
    add("malicious/pytorch/legacy_stream.pt", legacy, "legacy torch.save stream with a payload")
    tar = tar_bytes([("sys_info", pickle.dumps({"protocol_version": 1001}, protocol=2)),
                     ("pickle", evil), ("storages", pickle.dumps(0, protocol=2)),
                     ("tensors", pickle.dumps(0, protocol=2))])
    add("malicious/pytorch/legacy_tar.pt", tar, "legacy torch tar format, payload in 'pickle'")
    scripted = io.BytesIO()
    torch.jit.save(torch.jit.script(torch.nn.Linear(3, 2)), scripted)
    add("malicious/pytorch/torchscript_constants.pt",
        _replace_member(scripted.getvalue(), "/constants.pkl", evil),
        "TorchScript archive with a hostile constants.pkl")
    add("malicious/pytorch/torchscript_data.pt",
        _replace_member(scripted.getvalue(), "/data.pkl", evil),
        "TorchScript archive with a hostile data.pkl")
    return out


# -- joblib, numpy ---------------------------------------------------------------------------

def _joblib(root: Path, c: str) -> list[Sample]:
    import joblib
    import numpy as np

    out = []
    obj = {"coef": np.arange(12, dtype=np.float64).reshape(3, 4), "hook": canary_object(c)}
    for comp in ("none", "zlib", "gzip", "bz2", "lzma", "xz"):
        rel = f"malicious/joblib/payload_{comp}.joblib"
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        joblib.dump(obj, path, compress=0 if comp == "none" else (comp, 3))
        out.append(Sample(rel, "joblib", f"joblib dump ({comp}) with a __reduce__ payload",
                          "malicious"))
    arr = np.empty(1, dtype=object)
    arr[0] = canary_object(c)
    for comp in ("none", "xz"):
        rel = f"malicious/joblib/object_array_{comp}.joblib"
        joblib.dump({"labels": arr, "w": np.ones(3)}, root / rel,
                    compress=0 if comp == "none" else (comp, 3))
        out.append(Sample(rel, "joblib", f"payload inside a joblib object array ({comp})",
                          "malicious"))
    raw = pickle.dumps(canary_object(c), protocol=4)
    for comp, data in (("zlib_raw", zlib.compress(raw)), ("gzip_raw", gzip.compress(raw, mtime=0)),
                       ("bz2_raw", bz2.compress(raw)), ("xz_raw", lzma.compress(raw))):
        rel = f"malicious/joblib/{comp}.pkl"
        write(root, rel, data)
        out.append(Sample(rel, "joblib", f"hostile pickle compressed with {comp.split('_')[0]}",
                          "malicious"))
    return out


def _numpy(root: Path, c: str) -> list[Sample]:
    import numpy as np

    out = []
    arr = np.empty(2, dtype=object)
    arr[0], arr[1] = "label", canary_object(c)
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=True)
    write(root, "malicious/numpy/object_array.npy", buf.getvalue())
    out.append(Sample("malicious/numpy/object_array.npy", "numpy",
                      "object array whose pickle runs os.system", "malicious"))
    for name, saver in (("payload.npz", np.savez), ("payload_compressed.npz", np.savez_compressed)):
        buf = io.BytesIO()
        saver(buf, weights=np.ones(3), meta=arr)
        rel = f"malicious/numpy/{name}"
        # rewrite with fixed timestamps so the corpus is deterministic
        write(root, rel, zip_bytes(zip_members(buf.getvalue()), compress="compressed" in name))
        out.append(Sample(rel, "numpy", f"{name}: object array member with a payload", "malicious"))
    # a hand-made npy header claiming a plain dtype is fine; one whose pickle is raw after a header
    header = "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }"
    header += " " * (63 - len(header) % 64) + "\n"
    data = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode()
    data += Asm(2).call("subprocess", "getoutput", shell(c)).tuple1().stop().bytes()
    write(root, "malicious/numpy/handmade_object.npy", data)
    out.append(Sample("malicious/numpy/handmade_object.npy", "numpy",
                      "hand-written npy header followed by a hostile pickle", "malicious"))
    return out


# -- Keras -----------------------------------------------------------------------------------

def _lambda_fn(c: str) -> list[object]:
    code = compile(f"lambda x: (__import__('os').system({shell(c)!r}), x)[1]", "<corpus>", "eval")
    fn_code = next(k for k in code.co_consts if hasattr(k, "co_code"))
    return [base64.b64encode(marshal.dumps(fn_code)).decode(), None, None]


def _keras_layer(cls: str, name: str, config: dict[str, object], module: str = "keras.layers"
                 ) -> dict[str, object]:
    return {"module": module, "class_name": cls,
            "config": {"name": name, "trainable": True,
                       "dtype": {"module": "keras", "class_name": "DTypePolicy",
                                 "config": {"name": "float32"}, "registered_name": None},
                       **config},
            "registered_name": None}


def _sequential(name: str, layers: list[dict[str, object]]) -> dict[str, object]:
    return {"module": "keras", "class_name": "Sequential",
            "config": {"name": name, "trainable": True, "dtype": "float32",
                       "layers": [_keras_layer("InputLayer", "input_layer",
                                               {"batch_shape": [None, 4], "sparse": False}),
                                  *layers]},
            "registered_name": None, "build_config": {"input_shape": [None, 4]}}


def keras_archive(config: dict[str, object]) -> bytes:
    import h5py

    meta = {"keras_version": "3.6.0", "date_saved": "2024-11-05@10:21:44"}
    weights = io.BytesIO()
    with h5py.File(weights, "w") as f:
        f.create_group("layers").create_group("dense").create_group("vars")
        f["layers/dense/vars"].create_dataset("0", data=[[0.5] * 2] * 4)
    return zip_bytes([("metadata.json", json.dumps(meta).encode()),
                      ("config.json", json.dumps(config).encode()),
                      ("model.weights.h5", weights.getvalue())])


def _keras(root: Path, c: str) -> list[Sample]:
    import h5py

    out = []
    dense = _keras_layer("Dense", "dense", {"units": 2, "activation": "relu", "use_bias": True})
    lam = _keras_layer("Lambda", "lambda", {
        "function": {"class_name": "__lambda__", "config": {"value": _lambda_fn(c)}},
        "arguments": {}, "output_shape": None})

    def add(rel: str, data: bytes, technique: str) -> None:
        write(root, rel, data)
        out.append(Sample(rel, "keras", technique, "malicious"))

    add("malicious/keras/lambda.keras", keras_archive(_sequential("seq", [dense, lam])),
        "Keras v3 Lambda, function as serialization_lib's __lambda__ {value: func_dump}")
    code, defaults, closure = _lambda_fn(c)
    lam_cfg = _keras_layer("Lambda", "lambda_1", {
        "function": {"class_name": "__lambda__",
                     "config": {"code": code, "defaults": defaults, "closure": closure}},
        "arguments": {}, "output_shape": None})
    add("malicious/keras/lambda_get_config.keras",
        keras_archive(_sequential("seq", [dense, lam_cfg])),
        "Keras v3 Lambda as Lambda.get_config() writes it (code/defaults/closure)")
    nested = _sequential("outer", [dense, _sequential("inner", [lam])])
    add("malicious/keras/nested_lambda.keras", keras_archive(nested),
        "Lambda inside a nested Sequential submodel")
    outside = _keras_layer("system", "evil", {"command": shell(c)}, module="os")
    add("malicious/keras/module_outside_keras.keras",
        keras_archive(_sequential("seq", [dense, outside])),
        "layer whose module points outside Keras (os.system)")
    popen = {"module": "subprocess", "class_name": "Popen",
             "config": {"args": ["touch", c]}, "registered_name": "Popen"}
    add("malicious/keras/module_subprocess.keras", keras_archive(_sequential("seq", [dense, popen])),
        "layer deserialised from subprocess.Popen")
    # Keras 2 HDF5: model_config attribute, Lambda as (code, defaults, closure)
    h5cfg = {"class_name": "Sequential", "config": {"name": "sequential", "layers": [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 4], "name": "in"}},
        {"class_name": "Lambda", "config": {"name": "lambda", "function": _lambda_fn(c),
                                            "function_type": "lambda", "module": "__main__",
                                            "output_shape": None, "arguments": {}}}]}}
    for rel in ("malicious/keras/lambda_h5.bin", "malicious/keras/lambda.h5"):
        buf = io.BytesIO()
        with h5py.File(buf, "w") as f:
            f.attrs["keras_version"] = "2.15.0"
            f.attrs["backend"] = "tensorflow"
            f.attrs["model_config"] = json.dumps(h5cfg)
            f.create_group("model_weights")
        add(rel, buf.getvalue(), f"HDF5 Keras model with a Lambda layer ({Path(rel).suffix})")
    return out


# -- ONNX, SavedModel --------------------------------------------------------------------------

def _onnx_external(location: str) -> bytes:
    from onnx import TensorProto, helper

    weight = TensorProto(name="W", data_type=TensorProto.FLOAT, dims=[4, 2])
    weight.data_location = TensorProto.EXTERNAL
    for key, value in (("location", location), ("offset", "0"), ("length", "32")):
        entry = weight.external_data.add()
        entry.key, entry.value = key, value
    graph = helper.make_graph([helper.make_node("MatMul", ["X", "W"], ["Y"])], "g",
                              [helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1, 2])],
                              initializer=[weight])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="corpus")
    return model.SerializeToString()


def _onnx(root: Path, c: str) -> list[Sample]:
    out = []
    for rel, loc, tech in (
            ("malicious/onnx/traversal/model.onnx", "../../../../../../etc/passwd",
             "external data path traversal (../)"),
            ("malicious/onnx/absolute/model.onnx", "/etc/passwd", "external data absolute path"),
            ("malicious/onnx/traversal_nested/model.onnx", "weights/../../../secret.bin",
             "external data traversal hidden behind a subdirectory")):
        write(root, rel, _onnx_external(loc))
        out.append(Sample(rel, "onnx", tech, "malicious"))
    return out


def _savedmodel(root: Path, c: str) -> list[Sample]:
    out = []
    ph = proto.node_def("x", "Placeholder", attrs={"dtype": proto.attr_value_type(1)})
    pyfunc = proto.node_def("py", "PyFunc", ("x",), {"token": proto.attr_value_str(b"pyfunc_0")})
    read = proto.node_def("rf", "ReadFile", ("path",))
    path_c = proto.node_def("path", "Const", attrs={"value": proto.attr_value_str(b"/etc/passwd")})
    wfile = proto.node_def("wf", "WriteFile", ("path", "x"))
    cases = [
        ("pyfunc", [ph, pyfunc], (), "PyFunc op in the graph"),
        ("readfile", [ph, path_c, read], (), "ReadFile op reading /etc/passwd"),
        ("writefile", [ph, path_c, wfile], (), "WriteFile op in the graph"),
        ("function_pyfunc", [ph], (proto.function_def("__inference_call_12",
                                                      [proto.node_def("e", "EagerPyFunc", ("x",))]),),
         "EagerPyFunc hidden in the function library"),
    ]
    for name, nodes, funcs, tech in cases:
        rel = f"malicious/savedmodel/{name}"
        write(root, f"{rel}/saved_model.pb", proto.saved_model(nodes, funcs))
        (root / rel / "variables").mkdir(exist_ok=True)
        out.append(Sample(rel, "savedmodel", tech, "malicious"))
    return out


# -- GGUF -------------------------------------------------------------------------------------

def gguf_bytes(root: Path, rel: str, templates: dict[str, str]) -> Path:
    import gguf
    import numpy as np

    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = gguf.GGUFWriter(path, "llama")
    writer.add_name("corpus-tiny")
    writer.add_context_length(128)
    for key, value in templates.items():
        writer.add_string(key, value)
    writer.add_tensor("token_embd.weight", np.arange(32, dtype=np.float32).reshape(8, 4))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def _gguf(root: Path, c: str) -> list[Sample]:
    cmd = shell(c)
    chatml = ("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + "
              "message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}")
    templates = {
        "mro_subclasses": ("{{ ''.__class__.__mro__[1].__subclasses__() }}",
                           "SSTI through __class__.__mro__ and __subclasses__"),
        "attr_concat": ("{{ ()|attr('__cla'~'ss__')|attr('__ba'~'se__')|attr('__subcla'~'sses__')()"
                        " }}", "SSTI via |attr with concatenated dunder names"),
        "attr_hex": ("{{ ()|attr('\\x5f\\x5fclass\\x5f\\x5f') }}", "SSTI via hex-escaped dunders"),
        "cycler_globals": (f"{{{{ cycler.__init__.__globals__.os.popen('{cmd}').read() }}}}",
                           "cycler.__init__.__globals__ → os.popen"),
        "joiner_globals": (f"{{{{ joiner.__init__.__globals__.os.system('{cmd}') }}}}",
                           "joiner.__init__.__globals__ → os.system"),
        "lipsum_globals": (f"{{{{ lipsum.__globals__['os'].popen('{cmd}').read() }}}}",
                           "lipsum.__globals__ → os.popen"),
        "builtins_import": ("{{ self.__init__.__globals__.__builtins__.__import__('os')"
                            f".system('{cmd}') }}}}", "__builtins__.__import__ via self"),
        "subclass_loop": ("{% for x in ().__class__.__base__.__subclasses__() %}{% if 'warning' in "
                          "x.__name__ %}{{ x()._module.__builtins__['__import__']('os')"
                          f".system('{cmd}') }}}}{{% endif %}}{{% endfor %}}",
                          "loop over __subclasses__ to reach catch_warnings"),
        "hidden_in_chatml": (chatml + "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n'"
                             " }}{% endif %}{% set x = cycler.__init__.__globals__.os.popen('"
                             + cmd + "') %}", "payload appended to a real ChatML template"),
    }
    out = []
    for name, (tmpl, tech) in templates.items():
        rel = f"malicious/gguf/{name}.gguf"
        gguf_bytes(root, rel, {"tokenizer.chat_template": tmpl})
        out.append(Sample(rel, "gguf", tech, "malicious"))
    rel = "malicious/gguf/named_template.gguf"
    gguf_bytes(root, rel, {"tokenizer.chat_template": chatml,
                           "tokenizer.chat_template.tool_use": templates["lipsum_globals"][0]})
    out.append(Sample(rel, "gguf", "SSTI in a named (tool_use) chat template", "malicious"))
    return out


# -- safetensors -------------------------------------------------------------------------------

def safetensors_raw(header: dict[str, object], body: bytes, *, length: int | None = None) -> bytes:
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text) if length is None else length) + text + body


def _safetensors(root: Path, c: str) -> list[Sample]:
    body = bytes(64)
    t = {"dtype": "F32", "shape": [4]}
    cases = {
        "overlap": (safetensors_raw({"a": {**t, "data_offsets": [0, 16]},
                                     "b": {**t, "data_offsets": [8, 24]}}, body),
                    "tensors with overlapping data offsets"),
        "out_of_bounds": (safetensors_raw({"a": {**t, "data_offsets": [0, 16]},
                                           "b": {"dtype": "F32", "shape": [1 << 20],
                                                 "data_offsets": [16, 16 + (4 << 20)]}}, body),
                          "offsets past the end of the file"),
        "header_oversized": (safetensors_raw({"a": {**t, "data_offsets": [0, 16]}}, body,
                                             length=1 << 40),
                             "header length field of 1 TiB"),
        "shape_mismatch": (safetensors_raw({"a": {"dtype": "F32", "shape": [1 << 30, 1 << 30],
                                                  "data_offsets": [0, 16]}}, body),
                           "shape whose size disagrees with its offsets (allocation bomb)"),
    }
    out = []
    for name, (data, tech) in cases.items():
        rel = f"malicious/safetensors/{name}.safetensors"
        write(root, rel, data)
        out.append(Sample(rel, "safetensors", tech, "malicious"))
    return out


# -- archives -----------------------------------------------------------------------------------

def _archives(root: Path, c: str) -> list[Sample]:
    out = []
    evil = pickle.dumps(canary_object(c), protocol=4)

    def add(rel: str, data: bytes, technique: str) -> None:
        write(root, rel, data)
        out.append(Sample(rel, "archive", technique, "malicious"))

    add("malicious/archive/zip_bomb.zip",
        zip_bytes([("weights.bin", bytes(24 << 20))], compress=True),
        "zip bomb (24 MiB of zeros, ratio > 1000)")
    add("malicious/archive/zip_traversal.zip",
        zip_bytes([("model/config.json", b"{}"), ("../../../../home/user/.bashrc", b"echo hi\n")]),
        "zip member with ../ path traversal")
    add("malicious/archive/zip_absolute.zip", zip_bytes([("/etc/cron.d/job", b"* * * * * true\n")]),
        "zip member with an absolute path")
    add("malicious/archive/tar_traversal.tar",
        tar_bytes([("model/config.json", b"{}"), ("../../.ssh/authorized_keys", b"ssh-ed25519 A\n")]),
        "tar member with ../ path traversal")
    add("malicious/archive/tar_symlink.tar",
        tar_bytes([("model/config.json", b"{}")], symlinks={"model/weights.bin": "/etc/passwd"}),
        "tar symlink pointing outside the archive")
    add("malicious/archive/pickle_in_zip.zip", zip_bytes([("model/model.pkl", evil)], compress=True),
        "hostile pickle inside a zip")
    add("malicious/archive/pickle_in_tar_gz.tar.gz",
        gzip.compress(tar_bytes([("model/model.pkl", evil)]), mtime=0),
        "hostile pickle inside a tar.gz")
    inner = zip_bytes([("model.pkl", evil)])
    add("malicious/archive/zip_in_zip.zip", zip_bytes([("bundle/inner.zip", inner)]),
        "hostile pickle two containers deep")
    write_7z(root, "malicious/archive/pickle_in_7z.7z", [("model/model.pkl", evil)])
    out.append(Sample("malicious/archive/pickle_in_7z.7z", "archive", "hostile pickle inside a 7z",
                      "malicious"))
    return out
