"""Which importable names a pickle may reference: an allowlist of inert constructors, a denylist
of known gadgets, and "unknown" for everything else.

The allowlist is what keeps recall at 1.00: the standard library alone holds hundreds of callables
that run commands, open files or load code, and no denylist lists them all. A name on neither list
is never silently safe — it is "unknown", a high finding that a policy can waive with
``allow_globals`` patterns (``module.Name`` or ``module.*``). A policy pattern never overrides the
denylist.

Nothing here imports the modules it judges: every decision is made on the dotted name alone.
"""

from __future__ import annotations

import fnmatch
import re
import sys
from functools import lru_cache
from typing import NamedTuple

from mlwarden.scan import dangerous

SAFE = "safe"
DANGEROUS = "dangerous"
UNKNOWN = "unknown"


def words(text: str) -> list[str]:
    return text.split()


class Verdict(NamedTuple):
    """How one imported name is judged, and why."""

    verdict: str
    reason: str


_TORCH_DTYPES = words(
    "bfloat16 bits16 bits1x8 bits2x4 bits4x2 bits8 bool complex128 complex32 complex64 float16 "
    "float32 float4_e2m1fn_x2 float64 float8_e4m3fn float8_e4m3fnuz float8_e5m2 float8_e5m2fnuz "
    "float8_e8m0fnu int1 int16 int2 int3 int32 int4 int5 int6 int64 int7 int8 qint32 qint8 quint2x4 "
    "quint4x2 quint8 uint1 uint16 uint2 uint3 uint32 uint4 uint5 uint6 uint64 uint7 uint8 half float "
    "double long int short cfloat cdouble chalf per_channel_affine per_channel_affine_float_qparams "
    "per_channel_symmetric per_tensor_affine per_tensor_symmetric strided sparse_coo sparse_csr "
    "sparse_csc sparse_bsr sparse_bsc _mkldnn contiguous_format channels_last channels_last_3d "
    "preserve_format")
_TORCH_TYPES = words("BFloat16 Bool Byte Char ComplexDouble ComplexFloat Double Float Half Int Long "
                "QInt32 QInt8 QUInt2x4 QUInt4x2 QUInt8 Short")

NUMPY_SCALARS = words(
    "bool_ bool int8 int16 int32 int64 uint8 uint16 uint32 uint64 intc uintc intp uintp int_ uint "
    "longlong ulonglong short ushort byte ubyte float16 float32 float64 float128 half single double "
    "longdouble complex64 complex128 complex256 csingle cdouble clongdouble object_ str_ bytes_ void "
    "datetime64 timedelta64 generic number integer signedinteger unsignedinteger floating "
    "complexfloating inexact character flexible")
_NUMPY_UFUNCS = words(
    "absolute add arccos arccosh arcsin arcsinh arctan arctan2 arctanh cbrt ceil clip conjugate "
    "copysign cos cosh deg2rad degrees divide equal exp exp2 expm1 fabs floor floor_divide fmax fmin "
    "fmod greater greater_equal hypot isfinite isinf isnan less less_equal log log10 log1p log2 "
    "logaddexp logaddexp2 logical_and logical_not logical_or logical_xor maximum minimum multiply "
    "negative not_equal positive power rad2deg radians reciprocal remainder rint sign sin sinh sqrt "
    "square subtract tan tanh trunc")

_NUMPY_PURE = words(
    "mean median average sum prod max min amax amin std var ptp nanmean nanmedian nansum nanmax "
    "nanmin nanstd nanvar cumsum cumprod argmax argmin argsort sort dot matmul inner outer "
    "asarray asanyarray array ascontiguousarray zeros ones full empty zeros_like ones_like "
    "concatenate stack vstack hstack ravel reshape transpose where clip round around percentile "
    "quantile nanpercentile nanquantile histogram bincount unique diff gradient interp linspace "
    "arange isclose allclose count_nonzero squeeze expand_dims atleast_1d atleast_2d")
"""Pure numpy computations (sklearn stores e.g. ``pooling_func=numpy.mean`` as a parameter)."""
_NUMPY_FUNCTION_MODULES = ("numpy", "numpy.core.fromnumeric", "numpy._core.fromnumeric",
                           "numpy.lib.function_base", "numpy.lib._function_base_impl",
                           "numpy.core.numeric", "numpy._core.numeric")
_ARRAY_API_ALIASES = re.compile(r"^(scipy\._lib\.|sklearn\.externals\.)?array_api_compat\.numpy"
                                r"(\._aliases)?$")
_SKLEARN_FUNCTION_MODULES = frozenset(words(
    "sklearn.feature_selection sklearn.feature_selection._univariate_selection "
    "sklearn.feature_selection._mutual_info sklearn.metrics sklearn.metrics._classification "
    "sklearn.metrics._regression sklearn.metrics._ranking sklearn.metrics.pairwise "
    "sklearn.metrics._scorer sklearn.metrics.cluster sklearn.metrics.cluster._supervised "
    "sklearn.metrics.cluster._unsupervised sklearn.cluster._kmeans sklearn.cluster._k_means_lloyd "
    "sklearn.cluster._k_means_elkan sklearn.utils.extmath"))
"""sklearn modules of numeric functions stored as estimator parameters (``score_func=f_classif``,
``metric``, ``_kmeans_single_lloyd``): pure computations, safe even when called."""

_SAFE_EXACT: frozenset[str] = frozenset(
    [
        # builtins: plain value types only
        *(f"builtins.{n}" for n in words(
            "set frozenset dict list tuple bytearray complex slice range bytes str int float bool "
            "object Ellipsis NotImplemented")),
        "collections.OrderedDict", "collections.defaultdict", "collections.deque",
        "collections.Counter",
        "copyreg._reconstructor", "copyreg.__newobj__", "copyreg.__newobj_ex__",
        *(f"datetime.{n}" for n in ("datetime", "date", "time", "timedelta", "timezone", "tzinfo")),
        "decimal.Decimal", "fractions.Fraction", "uuid.UUID", "uuid.SafeUUID", "re._compile",
        "zoneinfo.ZoneInfo", "zoneinfo.ZoneInfo._unpickle", "pytz._p", "pytz._UTC",
        "dateutil.tz.tz.tzutc", "dateutil.tz.tz.tzoffset",
        "argparse.Namespace", "types.SimpleNamespace",  # attribute bags (training-script args)
        "collections.ChainMap", "array.array", "array._array_reconstructor", "re.RegexFlag",
        "typing.Any",
        # training-run metadata in checkpoints: HF Trainer's TrainingArguments (training_args.bin)
        # and its str enums, Lightning's hyper-parameter dict, omegaconf/Hydra configs
        *(f"transformers.{n}" for n in words(
            "training_args.TrainingArguments training_args_seq2seq.Seq2SeqTrainingArguments "
            "training_args.OptimizerNames trainer_utils.IntervalStrategy trainer_utils.SchedulerType "
            "trainer_utils.HubStrategy trainer_utils.SaveStrategy trainer_utils.EvaluationStrategy "
            "trainer_utils.FSDPOption debug_utils.DebugOption")),
        "lightning.fabric.utilities.data.AttributeDict", "lightning_fabric.utilities.data.AttributeDict",
        "lightning.pytorch.utilities.parsing.AttributeDict",
        "pytorch_lightning.utilities.parsing.AttributeDict",
        *(f"omegaconf.{n}" for n in words(
            "dictconfig.DictConfig listconfig.ListConfig base.ContainerMetadata base.Metadata "
            "nodes.AnyNode nodes.StringNode nodes.IntegerNode nodes.FloatNode nodes.BooleanNode "
            "nodes.EnumNode nodes.PathNode nodes.BytesNode")),
        *(f"ipaddress.{n}" for n in words(
            "IPv4Address IPv6Address IPv4Network IPv6Network IPv4Interface IPv6Interface")),
        "_codecs.encode",  # the latin-1 bytes idiom of protocols 0-2, checked at the call
        "functools.partial",  # its function is judged as a global of its own
        *(f"pathlib.{n}" for n in ("Path", "PosixPath", "WindowsPath", "PurePath", "PurePosixPath",
                                   "PureWindowsPath")),
        # torch: what torch.load(weights_only=True) accepts
        "torch.Size", "torch.Tensor", "torch.device", "torch.nn.parameter.Parameter",
        "torch.nn.parameter.Buffer", "torch.serialization._get_layout",
        "torch._tensor._rebuild_from_type_v2", "torch._tensor._rebuild_from_type",
        *(f"torch._utils._rebuild_{n}" for n in words(
            "tensor tensor_v2 tensor_v3 parameter parameter_with_state sparse_tensor qtensor "
            "nested_tensor wrapper_subclass meta_tensor_no_storage device_tensor_from_numpy "
            "device_tensor_from_cpu_tensor")),
        # TorchScript archives' pickles: identity/list builders of torch.jit._pickle
        *(f"torch.jit._pickle.{n}" for n in words(
            "restore_type_tag build_intlist build_tensorlist build_doublelist build_boollist "
            "build_tensor_from_id")),
        "torch.storage.TypedStorage", "torch.storage.UntypedStorage", "torch.storage._TypedStorage",
        *(f"torch.{d}" for d in _TORCH_DTYPES),
        *(f"torch.{t}Storage" for t in _TORCH_TYPES),
        *(f"torch.cuda.{t}Storage" for t in _TORCH_TYPES),
        *(f"{m}.{t}Tensor" for m in ("torch", "torch.cuda", "torch.sparse", "torch.cuda.sparse")
          for t in _TORCH_TYPES),
        # numpy
        *(f"{m}.{n}" for m in ("numpy.core.multiarray", "numpy._core.multiarray")
          for n in ("_reconstruct", "scalar")),
        "numpy.core.numeric._frombuffer", "numpy._core.numeric._frombuffer",
        # numpy 1.x pickles ufuncs by (module, name); the VM judges that name on its own
        "numpy.core._ufunc_reconstruct", "numpy._core._ufunc_reconstruct",
        "numpy.ndarray", "numpy.dtype", "numpy.matrix", "numpy.recarray", "numpy.memmap",
        "numpy.record", "numpy.rec.recarray", "numpy.rec.record",
        *(f"{m}.{n}" for m in ("numpy.core.records", "numpy._core.records")
          for n in ("recarray", "record")),
        "numpy.core.memmap.memmap", "numpy._core.memmap.memmap",
        "numpy.ma.core._mareconstruct", "numpy.ma.core.MaskedArray", "numpy.ma.MaskedArray",
        "numpy.random._pickle.__bit_generator_ctor", "numpy.random._pickle.__randomstate_ctor",
        "numpy.random._pickle.__generator_ctor", "numpy.random.mtrand.RandomState",
        "numpy.random._generator.Generator", "numpy.random.bit_generator.SeedSequence",
        "numpy.random.bit_generator.__pyx_unpickle_SeedSequence",
        *(f"numpy.random._{m}.{c}" for m, c in (("mt19937", "MT19937"), ("pcg64", "PCG64"),
                                                ("pcg64", "PCG64DXSM"), ("philox", "Philox"),
                                                ("sfc64", "SFC64"))),
        *(f"numpy.{n}" for n in NUMPY_SCALARS),
        *(f"numpy.{n}" for n in _NUMPY_UFUNCS),
        *(f"numpy.dtypes.{n}" for n in words(
            "Float64DType Float32DType Float16DType Int64DType Int32DType Int16DType Int8DType "
            "UInt64DType UInt32DType UInt16DType UInt8DType BoolDType ObjectDType StrDType "
            "BytesDType VoidDType Complex64DType Complex128DType DateTime64DType "
            "TimeDelta64DType StringDType")),
        # joblib's array placeholders (their inline buffers are skipped by the VM)
        "joblib.numpy_pickle.NumpyArrayWrapper", "joblib.numpy_pickle_compat.NDArrayWrapper",
        "sklearn.externals.joblib.numpy_pickle.NumpyArrayWrapper",
        # gradient boosting libraries
        "xgboost.core.Booster", "lightgbm.basic.Booster",
        # pandas internals needed for DataFrames and Series
        "pandas._libs.internals._unpickle_block", "pandas.core.internals.blocks.new_block",
        "pandas.core.internals.blocks._new_block", "pandas.core.indexes.base._new_Index",
        "pandas.core.indexes.datetimes._new_DatetimeIndex",
        "pandas.core.indexes.period._new_PeriodIndex",
        "pandas._libs.tslibs.timestamps._unpickle_timestamp",
        "pandas._libs.tslibs.timedeltas._timedelta_unpickle",
        "pandas._libs.tslibs.nattype.__nat_unpickle",
        "pandas._libs.arrays.__pyx_unpickle_NDArrayBacked",
        # pyarrow pieces pandas' string columns pickle through
        "pyarrow.lib._restore_array", "pyarrow.lib.py_buffer", "pyarrow.lib.type_for_alias",
        "pyarrow.lib._reconstruct_table", "pyarrow.lib._reconstruct_record_batch",
        "pyarrow.lib.chunked_array",
        # sklearn's Cython helpers that only allocate (cls.__new__(cls))
        "sklearn.neighbors._kd_tree.newObj", "sklearn.neighbors._ball_tree.newObj",
        "sklearn.neighbors._binary_tree.newObj", "sklearn.metrics._dist_metrics.newObj",
    ]
)

# Whole modules (and their submodules) whose every callable can run code, touch files, the network
# or the interpreter. Allowlisted exact names above win over these (torch.serialization._get_layout).
_DANGEROUS_MODULES: frozenset[str] = dangerous.MODULES
_DANGEROUS_NAMES: frozenset[str] = dangerous.CALLABLES
"""Both from the one catalogue of dangerous names (:mod:`mlwarden.scan.dangerous`)."""

# Byte-producing helpers an attacker uses to hide a nested payload; the VM evaluates them (with
# size bounds) but a model never needs them, so they are unknown imports.
DECODERS: frozenset[str] = frozenset(words(
    "base64.b64decode base64.standard_b64decode base64.urlsafe_b64decode base64.b32decode "
    "base64.b16decode base64.a85decode base64.b85decode base64.decodebytes binascii.a2b_base64 "
    "binascii.a2b_hex binascii.unhexlify codecs.decode _codecs.decode codecs.encode "
    "zlib.decompress bz2.decompress lzma.decompress gzip.decompress builtins.bytes.fromhex "
    "bytes.fromhex"))

_DUNDER = re.compile(r"^__\w+__$")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_CAMEL = re.compile(r"^_?[A-Z][A-Za-z0-9_]*$")
_PYX_UNPICKLE = re.compile(r"^__pyx_unpickle_[A-Za-z0-9_]+$")

_CLASS_PACKAGES = ("sklearn", "xgboost.sklearn", "lightgbm.sklearn", "torch.nn.modules",
                   "pandas.core", "pandas._libs", "pandas.arrays")
# pandas and pyarrow re-export file handles at their top level (pandas.HDFStore, ExcelWriter,
# pyarrow.lib.OSFile): only value types are allowed there, by name.
_PANDAS_TOP = frozenset(words(
    "DataFrame Series Index MultiIndex RangeIndex DatetimeIndex TimedeltaIndex PeriodIndex "
    "CategoricalIndex IntervalIndex Categorical Timestamp Timedelta Period Interval NaT NA "
    "DateOffset NamedAgg Flags"))
_VALUE_SUFFIXES = ("Dtype", "DType", "Array", "Type", "Scalar", "Table", "RecordBatch", "Schema",
                   "Field", "Index", "Block", "Manager", "Offset")
_CLASS_PACKAGE_DENY = ("pandas.io", "pandas.core.computation", "pandas.plotting", "pandas.api",
                       "pandas.util", "pandas.testing", "pandas.tests", "pyarrow.lib.NativeFile",
                       "sklearn.utils._testing", "sklearn.utils._mocking", "sklearn.utils.fixes",
                       "sklearn.externals", "sklearn.datasets", "sklearn.experimental",
                       "sklearn.utils.parallel", "sklearn.utils._joblib", "sklearn.callback")
# Names that the patterns below would allow in a library module but that such modules only
# re-export (``sklearn.calibration.Parallel`` is joblib's, ``sklearn.callback._transport.Client``
# multiprocessing's, ``xgboost.sklearn.DMatrix`` loads files, ``scipy.stats._mgc.MapWrapper``
# starts a process pool): a pattern never vouches for a class of one of these names, wherever it
# is reached from. ``tests/scan/pickle/test_reexports.py`` walks the installed libraries for
# re-exports of denylisted classes that the patterns would allow.
_REEXPORTED_GADGETS = frozenset(words(
    "Parallel Memory MapWrapper DMatrix QuantileDMatrix DeviceQuantileDMatrix "
    "ExtMemQuantileDMatrix DataIter Client Listener Connection Pipe Process Pool ThreadPool "
    "Thread Timer Popen Executor ThreadPoolExecutor ProcessPoolExecutor TemporaryDirectory "
    "NamedTemporaryFile SpooledTemporaryFile TemporaryFile ZipFile PyZipFile TarFile GzipFile "
    "BZ2File LZMAFile FileIO BufferedWriter BufferedReader BufferedRandom BufferedRWPair "
    "TextIOWrapper StringIO BytesIO MethodType FunctionType CodeType LambdaType ModuleType "
    "Queue SimpleQueue JoinableQueue Manager SyncManager BaseManager Progress Live Console "
    "PackageImporter PackageExporter Unpickler Pickler Popen4 Lock RLock Event Semaphore "
    "BoundedSemaphore Condition Barrier DataFrameInfo SeriesInfo DataFrameFormatter "
    "DataFrameRenderer PrettyDict"))
_REEXPORTED_FUNCTIONS = frozenset(words("signature effective_n_jobs delayed format_exc partial"))
"""Functions that sklearn's numeric-function modules import from inspect/joblib/traceback, and
``functools.partial`` (``sklearn.metrics._scorer.partial`` is it under a name the VM would not
model as a partial; the pickler always writes ``functools.partial``)."""
_PYX_PACKAGES = ("sklearn", "pandas._libs", "numpy.random", "scipy.sparse", "scipy.spatial")


VALUE_ONLY: frozenset[str] = frozenset(words(
    "transformers.training_args.TrainingArguments "
    "transformers.training_args_seq2seq.Seq2SeqTrainingArguments "
    "xgboost.core.Booster lightgbm.basic.Booster"))
"""Allowlisted value types that are safe to *reconstruct* (``NEWOBJ`` + ``BUILD``, the way pickle
saves any instance: no constructor runs) but not to *call*: their constructors act on their
arguments (``TrainingArguments.__post_init__`` opens the ``deepspeed``/``fsdp_config`` paths it is
given and sets environment variables). Called any other way, or handed around as a value, they are
judged like an unvetted import. The boosters are saved the same way (``__getstate__``); called,
``Booster(model_file=path)`` reads any file and lightgbm's ``params`` open network ports
(``machines``) and read files (``forcedsplits_filename``). Everything else on the allowlist is a
constructor that is safe to call with any arguments."""

UFUNC_RECONSTRUCT: frozenset[str] = frozenset(words(
    "numpy.core._ufunc_reconstruct numpy._core._ufunc_reconstruct "
    "numpy.core.umath._ufunc_reconstruct"))
"""numpy 1.x pickles a ufunc as ``_ufunc_reconstruct(module, name)``, which is
``getattr(__import__(module), name)``: an importer, safe only on names the VM reads as constants."""

CALL_ONLY_HERE: frozenset[str] = VALUE_ONLY | UFUNC_RECONSTRUCT
"""Allowlisted names that are safe only where the pickle itself calls them, with arguments the VM
judges: handed over as a value (a ``defaultdict`` factory, a hook, a helper's argument), whoever
holds them calls them with arguments nobody judged — they are unvetted then."""


def in_stdlib(module: str) -> bool:
    """Whether ``module`` belongs to the standard library. Its classes are a closed, known set:
    the inert ones are on the allowlist by name, and an unvetted one is never a user's model class
    only rebuilt by NEWOBJ + BUILD (``_pyio.BufferedWriter`` flushes its buffer to any file
    descriptor when collected, ``wave.Wave_write`` writes to its file object)."""
    return module.partition(".")[0] in sys.stdlib_module_names


def looks_like_class(name: str) -> bool:
    """Whether the last part of a dotted name is spelt like a class (``CamelCase``)."""
    return bool(_CAMEL.match(name.rpartition(".")[2]))


CALL_DANGEROUS: frozenset[str] = frozenset(words(
    "numpy.memmap numpy.core.memmap.memmap numpy._core.memmap.memmap"))
"""Classes that are inert as an argument (an ndarray subclass for ``_reconstruct``) but open or
create a file when called."""


def _within(module: str, packages: tuple[str, ...] | frozenset[str]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def _dangerous_module(module: str) -> bool:
    parts = module.split(".")
    return any(".".join(parts[:i]) in _DANGEROUS_MODULES for i in range(1, len(parts) + 1))


@lru_cache(maxsize=4096)
def judge(module: str, name: str) -> Verdict:
    """The verdict on ``module.name`` as a pickle would import it (``name`` may be dotted)."""
    qual = f"{module}.{name}" if name else module
    parts = name.split(".") if name else []
    if not module or not all(_IDENT.match(p) for p in (*module.split("."), *parts)):
        return Verdict(DANGEROUS, "not a valid dotted Python name (an evasion attempt)")
    if qual in _SAFE_EXACT:
        return Verdict(SAFE, "allowlisted constructor")
    if qual in _DANGEROUS_NAMES or qual.startswith(tuple(f"{n}." for n in _DANGEROUS_NAMES)):
        return Verdict(DANGEROUS, "denylisted callable (loads, runs or writes outside the model)")
    if any(_DUNDER.match(p) for p in parts[1:]) or (
        parts and _DUNDER.match(parts[0]) and parts[0] not in {"__newobj__", "__newobj_ex__"}
    ):
        return Verdict(DANGEROUS, "reaches a dunder attribute (introspection gadget)")
    if qual in DECODERS:
        return Verdict(UNKNOWN, "decoder a model never needs (hides a nested payload)")
    if _dangerous_module(module):
        return Verdict(DANGEROUS, f"denylisted module {module!r} "
                                  "(code execution, files, network or interpreter state)")
    gadget = _gadget(qual)
    if gadget is not None:
        return gadget
    if qual in CRASHES_LOADER:
        return Verdict(UNKNOWN, "crashes the interpreter when a pickle rebuilds it (segfault)")
    if len(parts) == 1 and not _within(module, _CLASS_PACKAGE_DENY) \
            and name not in _REEXPORTED_GADGETS:
        if _within(module, _CLASS_PACKAGES) and _CAMEL.match(name):
            return Verdict(SAFE, "model or container class of an allowlisted library")
        if module == "pandas" and (name in _PANDAS_TOP or name.endswith(_VALUE_SUFFIXES)):
            return Verdict(SAFE, "pandas value type")
        if module == "pyarrow.lib" and _CAMEL.match(name) and name.endswith(_VALUE_SUFFIXES):
            return Verdict(SAFE, "pyarrow value type")
        if _within(module, _PYX_PACKAGES) and _PYX_UNPICKLE.match(name):
            return Verdict(SAFE, "Cython unpickle helper of an allowlisted library class")
        if module.startswith("pandas.core.indexes.") and re.fullmatch(r"_new_[A-Za-z]*Index", name):
            return Verdict(SAFE, "pandas index unpickle helper")
        if module.startswith("scipy.sparse") and re.fullmatch(r"[a-z]{3}_(matrix|array)", name):
            return Verdict(SAFE, "scipy sparse matrix class")
        if name in _NUMPY_PURE and (module in _NUMPY_FUNCTION_MODULES
                                    or _ARRAY_API_ALIASES.match(module)):
            return Verdict(SAFE, "pure numpy computation")
        if module in _SKLEARN_FUNCTION_MODULES and not name.startswith("__") \
                and name not in _REEXPORTED_FUNCTIONS:
            return Verdict(SAFE, "numeric sklearn function (estimator parameter)")
        if _within(module, ("scipy.interpolate", "scipy.spatial", "scipy.stats")) and (
                _CAMEL.match(name) or name.endswith("_frozen") or name in {"cKDTree"}):
            return Verdict(SAFE, "scipy value class")
    return Verdict(UNKNOWN, "not on the allowlist of model constructors")


CRASHES_LOADER: frozenset[str] = frozenset(words("scipy.spatial._qhull._Qhull"))
"""Library classes an allowlist pattern would vouch for but that crash CPython when a pickle
rebuilds them (``cls.__new__(cls)`` + ``BUILD``: a Cython object whose C state was never set up),
found by the audit-hook oracle (``tests/scan/pickle/test_gadget_oracle.py``)."""


def library_modules() -> frozenset[str]:
    """Every module the allow and deny lists name (``mlwarden.scan.pickle.libraries`` takes the
    third-party top-level packages among them into its catalogue of known libraries)."""
    dotted = {q.rpartition(".")[0] for q in (*_SAFE_EXACT, *_DANGEROUS_NAMES)}
    return frozenset({*dotted, *_DANGEROUS_MODULES, *_CLASS_PACKAGES, *_PYX_PACKAGES,
                      *_CLASS_PACKAGE_DENY} - {""})


def _gadget(qual: str) -> Verdict | None:
    """The verdict on a library class the gadget sweep found (``mlwarden.scan.pickle.gadgets``):
    its hooks act on the state of an instance a pickle merely rebuilds. Dangerous when they reach
    processes, files, ``exec``, imports, native code or deserialisers (critical once instantiated,
    and no policy waives it), unvetted otherwise — even where an allowlist pattern would vouch for
    its module. Exact allowlist entries (what ``torch.load(weights_only=True)`` accepts) win."""
    from mlwarden.scan.pickle import gadgets  # a generated table, imported when first needed

    found = gadgets.GADGETS.get(qual)
    if found is None:
        return None
    kind, path = found
    reason = f"library gadget class: {path} ({kind})"
    return Verdict(DANGEROUS if kind in gadgets.CRITICAL_KINDS else UNKNOWN, reason)


def allowed_by_policy(module: str, name: str, patterns: tuple[str, ...]) -> bool:
    """Whether policy ``allow_globals`` patterns (``module.Name``, ``module.*``) allow this name."""
    qual = f"{module}.{name}" if name else module
    return any(fnmatch.fnmatchcase(qual, p) for p in patterns)


def qualname(module: str, name: str) -> str:
    return f"{module}.{name}" if name else module
