"""Benign real-world shapes that naive scanners flag (false-positive traps).

Built with the real libraries where they are installed (torch, sklearn, pandas, scipy, numpy,
onnx, gguf); third-party classes that are not installed here (transformers' TrainingArguments,
Lightning's AttributeDict, omegaconf) are recreated as same-named stand-ins so the real pickler
writes exactly the globals and opcodes the real files hold.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import decimal
import enum
import fractions
import io
import pathlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.scan.redteam.build import Case, dumps, fake_class, fake_modules, put
from tests.scan.redteam.cases_formats import gguf_file, keras_file, onnx_model

GAPS: dict[str, str] = {}
"""Sample id → the false positive it shows today (measured; the test is a strict xfail)."""

def _torch_bytes(obj: Any, **kw: Any) -> bytes:
    import torch

    buf = io.BytesIO()
    torch.save(obj, buf, **kw)
    return buf.getvalue()


def _net_state(dtype: Any = None) -> Any:
    import torch

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(8, 4), torch.nn.LayerNorm(4), torch.nn.Linear(4, 2))
    return net.to(dtype).state_dict() if dtype is not None else net.state_dict()


# -- torch --------------------------------------------------------------------------------------

def _hf_bf16(c: Path) -> bytes:
    import torch
    return _torch_bytes(_net_state(torch.bfloat16))


def _hf_fp16_legacy(c: Path) -> bytes:
    import torch
    return _torch_bytes(_net_state(torch.float16), _use_new_zipfile_serialization=False)


@dataclass
class _TrainingArguments:
    output_dir: str = "out"
    learning_rate: float = 5e-5
    eval_strategy: Any = None
    lr_scheduler_type: Any = None
    optim: Any = None
    hub_strategy: Any = None
    lr_scheduler_kwargs: dict[str, Any] = field(default_factory=dict)
    report_to: list[str] = field(default_factory=lambda: ["tensorboard"])


class _IntervalStrategy(str, enum.Enum):
    NO = "no"
    STEPS = "steps"


class _SchedulerType(str, enum.Enum):
    LINEAR = "linear"


class _OptimizerNames(str, enum.Enum):
    ADAMW_TORCH = "adamw_torch"


class _HubStrategy(str, enum.Enum):
    EVERY_SAVE = "every_save"


def _training_args(c: Path) -> bytes:
    names = {"transformers.training_args.TrainingArguments": _TrainingArguments,
             "transformers.trainer_utils.IntervalStrategy": _IntervalStrategy,
             "transformers.trainer_utils.SchedulerType": _SchedulerType,
             "transformers.training_args.OptimizerNames": _OptimizerNames,
             "transformers.trainer_utils.HubStrategy": _HubStrategy}
    with fake_modules(names):
        args = _TrainingArguments(eval_strategy=_IntervalStrategy.STEPS,
                                  lr_scheduler_type=_SchedulerType.LINEAR,
                                  optim=_OptimizerNames.ADAMW_TORCH,
                                  hub_strategy=_HubStrategy.EVERY_SAVE)
        return _torch_bytes(args)


def _lightning_ckpt(c: Path) -> bytes:
    attr_dict = fake_class("AttributeDict", dict)
    with fake_modules({"lightning.fabric.utilities.data.AttributeDict": attr_dict}):
        hp = attr_dict(lr=1e-3, hidden=64, optimizer="adam")
        return _torch_bytes({"epoch": 3, "global_step": 300, "pytorch-lightning_version": "2.4.0",
                             "state_dict": _net_state(), "hyper_parameters": hp,
                             "loops": {"fit_loop": {"state_dict": {}}}, "callbacks": {},
                             "optimizer_states": [], "lr_schedulers": []})


def _omegaconf_ckpt(c: Path) -> bytes:
    dict_config = fake_class("DictConfig")
    metadata = fake_class("ContainerMetadata")
    any_node = fake_class("AnyNode")
    with fake_modules({"omegaconf.dictconfig.DictConfig": dict_config,
                       "omegaconf.base.ContainerMetadata": metadata,
                       "omegaconf.nodes.AnyNode": any_node}):
        meta = metadata()
        meta.__dict__.update({"ref_type": Any, "object_type": dict, "optional": True,
                              "key": None, "flags": {}, "resolver_cache": {}})
        node = any_node()
        node.__dict__.update({"_val": 0.001, "_metadata": meta, "_parent": None})
        cfg = dict_config()
        cfg.__dict__.update({"_metadata": meta, "_parent": None, "_content": {"lr": node}})
        return _torch_bytes({"state_dict": _net_state(), "hyper_parameters": {"cfg": cfg}})


def _argparse_ckpt(c: Path) -> bytes:
    import torch
    args = argparse.Namespace(arch="transformer", lr=[0.0005], max_tokens=4096, seed=1)
    return _torch_bytes({"args": args, "model": _net_state(), "extra_state": {
        "epoch": 4, "rng": torch.get_rng_state()}})


def _optimizer_ckpt(c: Path) -> bytes:
    import torch

    net = torch.nn.Linear(4, 2)
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3)
    net(torch.ones(1, 4)).sum().backward()
    opt.step()
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.01, total_steps=10)
    return _torch_bytes({"model": net.state_dict(), "optimizer": opt.state_dict(),
                         "scheduler": sched.state_dict(),
                         "scaler": torch.amp.GradScaler("cpu").state_dict()})


def _numpy_scalars_ckpt(c: Path) -> bytes:
    import numpy as np
    rng = np.random.RandomState(0)
    return _torch_bytes({"best_acc": np.float64(0.91), "epoch": np.int64(3),
                         "np_rng": rng.get_state(), "mean": np.array([0.485, 0.456, 0.406]),
                         "state_dict": _net_state()}, pickle_protocol=2)


def _torch_exotic_tensors(c: Path) -> bytes:
    import torch

    q = torch.quantize_per_tensor(torch.ones(4), 0.1, 0, torch.quint8)
    return _torch_bytes({"q": q, "sparse": torch.eye(3).to_sparse(), "complex": torch.ones(
        2, dtype=torch.complex64), "size": torch.Size([2, 3]), "dtype": torch.float16,
        "device": torch.device("cpu"), "param": torch.nn.Parameter(torch.ones(2)),
        "int8": torch.ones(3, dtype=torch.int8), "bool": torch.ones(2, dtype=torch.bool)})


# -- sklearn / pandas / scipy / numpy / stdlib pickles ----------------------------------------

def _sklearn_zoo(c: Path) -> bytes:
    import numpy as np
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier, IsolationForest
    from sklearn.feature_selection import SelectKBest, f_classif
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer, KBinsDiscretizer, StandardScaler

    rng = np.random.default_rng(0)
    x, y = rng.random((40, 4)), np.arange(40) % 2
    pipe = Pipeline([
        ("cols", ColumnTransformer([("log", FunctionTransformer(np.log1p, np.expm1), [0, 1]),
                                    ("bins", KBinsDiscretizer(n_bins=3), [2]),
                                    ("imp", SimpleImputer(), [3])])),
        ("sel", SelectKBest(f_classif, k=3)), ("scale", StandardScaler()),
        ("clf", LogisticRegression())]).fit(x, y)
    models = [pipe, HistGradientBoostingClassifier(max_iter=3).fit(x, y),
              IsolationForest(n_estimators=3, random_state=0).fit(x),
              KNeighborsClassifier(n_neighbors=3, algorithm="kd_tree").fit(x, y),
              MLPClassifier(hidden_layer_sizes=(3,), max_iter=5, random_state=0).fit(x, y)]
    return dumps(models, protocol=5)


def _pandas_frames(c: Path) -> bytes:
    import numpy as np
    import pandas as pd

    df = pd.DataFrame({
        "cat": pd.Categorical(["a", "b", "a"]),
        "when": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01"]).tz_localize("UTC"),
        "delta": pd.to_timedelta([1, 2, 3], unit="D"),
        "period": pd.period_range("2024-01", periods=3, freq="M"),
        "interval": pd.IntervalIndex.from_breaks([0, 1, 2, 3]),
        "nullable": pd.array([1, None, 3], dtype="Int64"),
        "flag": pd.array([True, None, False], dtype="boolean"),
        "text": ["x", "y", "z"], "f": np.arange(3.0)})
    return dumps({"df": df, "multi": df.set_index(["cat", "text"]),
                  "sparse": pd.arrays.SparseArray([0, 0, 1])}, protocol=4)


def _scipy_sparse(c: Path) -> bytes:
    import scipy.sparse as sp

    m = sp.random(6, 6, density=0.3, random_state=0)
    return dumps([m.tocoo(), m.tocsc(), m.tolil(), m.todok(), m.tobsr(), sp.csr_array(m)], 4)


def _numpy_values(c: Path) -> bytes:
    import numpy as np

    return dumps({"dt": np.array(["2024-01-01T00:00"], dtype="datetime64[ns]"),
                  "td": np.array([5], dtype="timedelta64[s]"),
                  "structured": np.zeros(2, dtype=[("x", "<f4"), ("y", "<i8", (2,))]),
                  "masked": np.ma.masked_array([1, 2, 3], mask=[False, True, False]),
                  "matrix": np.asmatrix(np.eye(2)),
                  "objects": np.array(["cat", "dog", None], dtype=object),
                  "gen": np.random.Generator(np.random.PCG64DXSM(1)),
                  "seedseq": np.random.SeedSequence(42), "f16": np.float16(1.5),
                  "c128": np.complex128(1 + 2j), "bool": np.bool_(True)}, protocol=4)


def _numpy_recarray(c: Path) -> bytes:
    import numpy as np

    return dumps(np.rec.array([(1, 2.0)], dtype=[("a", "i4"), ("b", "f8")]), protocol=4)


def _stdlib_values(c: Path) -> bytes:
    import zoneinfo

    return dumps({"when": dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
                  "zoned": dt.datetime(2024, 1, 1, tzinfo=zoneinfo.ZoneInfo("Europe/Paris")),
                  "date": dt.date(2024, 1, 1), "delta": dt.timedelta(hours=1),
                  "dec": decimal.Decimal("1.10"), "frac": fractions.Fraction(1, 3),
                  "uuid": uuid.UUID(int=7), "path": pathlib.PurePosixPath("/data/train.csv"),
                  "posix": pathlib.PosixPath("runs/exp1"), "set": {1, 2}, "fs": frozenset("ab"),
                  "ba": bytearray(b"xy"), "cx": 1 + 2j, "rng": range(3), "sl": slice(1, 5),
                  "od": collections.OrderedDict(a=1), "dd": collections.defaultdict(list),
                  "cnt": collections.Counter("abca"), "dq": collections.deque([1, 2])},
                 protocol=2)


# -- GGUF templates from real models ------------------------------------------------------------

TEMPLATES = Path(__file__).parent / "templates"
"""Chat templates of real models (Llama 3.1 tool calling, Qwen2.5, Phi-3, Gemma 2, DeepSeek-R1,
Mistral tool calling), as their tokenizer_config.json ships them."""


# -- Keras / ONNX ---------------------------------------------------------------------------------

def _keras_standard(c: Path) -> bytes:
    def layer(cls: str, name: str, **cfg: Any) -> dict[str, object]:
        return {"module": "keras.layers", "class_name": cls, "config": {
            "name": name, "trainable": True, "dtype": {
                "module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"},
                "registered_name": None}, **cfg}, "registered_name": None,
            "build_config": {"input_shape": [None, 8]}}

    init: dict[str, object] = {"module": "keras.initializers", "class_name": "GlorotUniform",
            "config": {"seed": None}, "registered_name": None}
    reg: dict[str, object] = {"module": "keras.regularizers", "class_name": "L2", "config": {"l2": 0.01},
           "registered_name": None}
    layers = [layer("InputLayer", "in", batch_shape=[None, 8], sparse=False),
              layer("Embedding", "emb", input_dim=100, output_dim=8),
              layer("LSTM", "lstm", units=8, return_sequences=True, activation="tanh"),
              layer("MultiHeadAttention", "mha", num_heads=2, key_dim=4),
              layer("LayerNormalization", "ln", epsilon=1e-6),
              layer("Conv1D", "conv", filters=4, kernel_size=3, padding="same",
                    kernel_initializer=init, kernel_regularizer=reg),
              layer("GlobalAveragePooling1D", "gap"),
              layer("Dense", "head", units=2, activation="softmax")]
    config: dict[str, object] = {"module": "keras", "class_name": "Sequential",
              "config": {"name": "seq", "trainable": True, "layers": layers},
              "registered_name": None}
    compile_cfg: dict[str, object] = {"compile_config": {
        "optimizer": {"module": "keras.optimizers", "class_name": "Adam",
                      "config": {"name": "adam", "learning_rate": 0.001}, "registered_name": None},
        "loss": {"module": "keras.losses", "class_name": "SparseCategoricalCrossentropy",
                 "config": {"name": "sparse_categorical_crossentropy", "from_logits": False,
                            "reduction": "sum_over_batch_size"}, "registered_name": None},
        "metrics": ["accuracy"], "loss_weights": None, "run_eagerly": False, "jit_compile": False}}
    return keras_file(config, compile_cfg)


def _onnx_subdir(folder: Path, canary: Path) -> Path:
    import struct as st

    put(folder, "m/model.onnx", onnx_model("weights/w.bin"))
    put(folder, "m/weights/w.bin", st.pack("<8f", *([0.5] * 8)))
    return folder / "m"


def benign_cases() -> list[Case]:
    def f(id_: str, technique: str, rel: str, fn: Callable[[Path], bytes]) -> Case:
        return Case(id_, "benign", technique, lambda folder, c: put(folder, rel, fn(c)),
                    GAPS.get(id_))

    out = [
        f("benign-torch-hf-bf16", "HF pytorch_model.bin, bfloat16 state dict (zip)",
          "pytorch_model.bin", _hf_bf16),
        f("benign-torch-hf-fp16-legacy", "float16 state dict, legacy non-zip torch.save",
          "pytorch_model_legacy.bin", _hf_fp16_legacy),
        f("benign-torch-training-args", "transformers training_args.bin (TrainingArguments "
          "dataclass + str enums)", "training_args.bin", _training_args),
        f("benign-torch-lightning-attributedict", "Lightning checkpoint with hyper_parameters "
          "as AttributeDict", "epoch=3.ckpt", _lightning_ckpt),
        f("benign-torch-omegaconf", "Hydra/Lightning checkpoint with an omegaconf DictConfig",
          "last.ckpt", _omegaconf_ckpt),
        f("benign-torch-argparse-namespace", "fairseq-style checkpoint with argparse.Namespace "
          "args and torch RNG state", "checkpoint_best.pt", _argparse_ckpt),
        f("benign-torch-optimizer", "AdamW + OneCycleLR + GradScaler state dicts",
          "optimizer.pt", _optimizer_ckpt),
        f("benign-torch-numpy-scalars", "checkpoint with numpy scalars and RandomState state "
          "(protocol 2)", "ckpt_np.pth", _numpy_scalars_ckpt),
        f("benign-torch-exotic-tensors", "quantized/sparse/complex tensors, Size, dtype, device",
          "exotic.pt", _torch_exotic_tensors),
        f("benign-pickle-sklearn-zoo", "sklearn Pipeline with ColumnTransformer/FunctionTransformer"
          "(np.log1p)/KBins/SelectKBest(f_classif), HGB, IsolationForest, KNN kd_tree, MLP",
          "models.pkl", _sklearn_zoo),
        f("benign-pickle-pandas", "DataFrame with categorical, tz datetime, timedelta, period, "
          "interval, nullable Int64/boolean, MultiIndex, SparseArray", "frames.pkl",
          _pandas_frames),
        f("benign-pickle-scipy-sparse", "scipy sparse coo/csc/lil/dok/bsr/csr_array",
          "sparse.pkl", _scipy_sparse),
        f("benign-pickle-numpy-values", "numpy datetime64/timedelta64/structured/masked/matrix/"
          "object strings/Generator(PCG64DXSM)/SeedSequence", "np_values.pkl",
          _numpy_values),
        f("benign-pickle-numpy-recarray", "numpy record array (np.rec.array)", "rec.pkl",
          _numpy_recarray),
        f("benign-pickle-stdlib-values", "datetime (utc, zoneinfo), Decimal, Fraction, UUID, "
          "PurePosixPath/PosixPath, set, bytearray, range, slice, collections", "values.pkl",
          _stdlib_values),
        f("benign-keras-standard-layers", "Keras 3 model: Embedding/LSTM/MHA/Conv1D, "
          "initializer/regularizer objects, Adam + loss compile_config", "model.keras",
          _keras_standard),
        Case("benign-onnx-subdir-external", "benign", "ONNX external data in a weights/ subfolder",
             _onnx_subdir, GAPS.get("benign-onnx-subdir-external")),
    ]
    for source in sorted(TEMPLATES.glob("*.jinja")):
        key = source.stem

        def build(folder: Path, c: Path, source: Path = source) -> Path:
            return gguf_file(folder / f"{source.stem}.gguf",
                             {"tokenizer.chat_template": source.read_text(encoding="utf-8")})
        out.append(Case(f"benign-gguf-{key}", "benign", f"real {key} chat template", build,
                        GAPS.get(f"benign-gguf-{key}")))
    return out
