"""Benign samples, each made by the real library that ships the format (none hand-assembled
except where the format's writer is not installed: Keras, SavedModel)."""

from __future__ import annotations

import gzip
import io
import pickle
import sys
import types
from pathlib import Path
from typing import Any

from tests.scan.corpus import proto
from tests.scan.corpus.common import Sample, tar_bytes, write, write_7z, zip_bytes, zip_members
from tests.scan.corpus.malicious import _keras_layer, _sequential, gguf_bytes, keras_archive

# Real-world chat templates (as shipped in the models' tokenizer_config.json / GGUF metadata).
LLAMA3 = ("{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = "
          "'<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | "
          "trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}"
          "{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ "
          "'<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}")
CHATML = ("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + "
          "message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}"
          "{{ '<|im_start|>assistant\n' }}{% endif %}")
MISTRAL = ("{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != "
           "(loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate "
           "user/assistant/user/assistant/...') }}{% endif %}{% if message['role'] == 'user' %}"
           "{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == "
           "'assistant' %}{{ message['content'] + eos_token}}{% else %}{{ raise_exception('Only "
           "user and assistant roles are supported!') }}{% endif %}{% endfor %}")
GEMMA = ("{{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role "
         "not supported') }}{% endif %}{% for message in messages %}{% if (message['role'] == "
         "'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must "
         "alternate user/assistant/user/assistant/...') }}{% endif %}{% if (message['role'] == "
         "'assistant') %}{% set role = 'model' %}{% else %}{% set role = message['role'] %}"
         "{% endif %}{{ '<start_of_turn>' + role + '\n' + message['content'] | trim + "
         "'<end_of_turn>\n' }}{% endfor %}{% if add_generation_prompt %}{{'<start_of_turn>model\n'}}"
         "{% endif %}")
QWEN_TOOLS = ("{%- if tools %}{{- '<|im_start|>system\\n' }}{%- if messages[0]['role'] == "
              "'system' %}{{- messages[0]['content'] }}{%- else %}{{- 'You are a helpful "
              "assistant.' }}{%- endif %}{{- \"\\n\\n# Tools\\n\\n<tools>\" }}{%- for tool in tools "
              "%}{{- \"\\n\" }}{{- tool | tojson }}{%- endfor %}{{- \"\\n</tools><|im_end|>\\n\" }}"
              "{%- endif %}{%- for message in messages %}{%- if message.role == 'user' %}{{- "
              "'<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}"
              "{%- elif message.role == 'assistant' %}{{- '<|im_start|>assistant\\n' + "
              "message.content }}{%- for tool_call in message.tool_calls | default([]) %}{{- "
              "'\\n<tool_call>\\n' + tool_call.function | tojson + '\\n</tool_call>' }}"
              "{%- endfor %}{{- '<|im_end|>\\n' }}{%- endif %}{%- endfor %}{%- if "
              "add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}")
LLAMA31_DATE = ("{{- bos_token }}{%- if not date_string is defined %}{%- set date_string = "
                "strftime_now('%d %b %Y') %}{%- endif %}{{- '<|start_header_id|>system"
                "<|end_header_id|>\\n\\n' }}{{- 'Cutting Knowledge Date: December 2023\\n' }}"
                "{{- 'Today Date: ' + date_string + '\\n\\n<|eot_id|>' }}{%- for message in "
                "messages %}{{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>"
                "\\n\\n' + message['content'] | trim + '<|eot_id|>' }}{%- endfor %}")


def build(root: Path) -> list[Sample]:
    out: list[Sample] = []
    for builder in (_sklearn, _gbm, _pandas, _numpy, _torch, _safetensors, _onnx, _keras,
                    _gguf, _skops, _savedmodel, _archives, _everyday):
        out.extend(builder(root))
    return out


def _data(n: int = 120, d: int = 6) -> tuple[Any, Any]:
    import numpy as np

    rng = np.random.default_rng(7)
    x = rng.normal(size=(n, d))
    y = (x[:, 0] + x[:, 1] > 0).astype(int)
    return x, y


def fitted_models() -> dict[str, Any]:
    """Fitted scikit-learn models of the kinds seen in the wild (also used by convert's tests)."""
    import numpy as np
    from sklearn.cluster import KMeans
    from sklearn.compose import ColumnTransformer
    from sklearn.decomposition import PCA
    from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler
    from sklearn.svm import SVC

    x, y = _data()
    models: dict[str, Any] = {
        "pipeline_logreg": make_pipeline(StandardScaler(), LogisticRegression(max_iter=200)),
        "random_forest": RandomForestClassifier(n_estimators=4, max_depth=3, random_state=0),
        "gradient_boosting": GradientBoostingClassifier(n_estimators=5, random_state=0),
        "pca_svc": make_pipeline(PCA(n_components=3, random_state=0), SVC(random_state=0)),
        "knn": make_pipeline(StandardScaler(), KNeighborsClassifier(n_neighbors=3)),
        "kmeans": KMeans(n_clusters=3, n_init=2, random_state=0),
    }
    for model in models.values():
        model.fit(x, y)
    cats = np.array([["a", "x"], ["b", "y"], ["a", "y"], ["c", "x"]] * 30, dtype=object)
    column = make_pipeline(ColumnTransformer([("onehot", OneHotEncoder(handle_unknown="ignore"),
                                               [0, 1])]), LogisticRegression(max_iter=200))
    column.fit(cats, y)
    models["column_onehot"] = column
    return models


def _sklearn(root: Path) -> list[Sample]:
    import joblib

    out = []
    models = fitted_models()
    for p in range(6):
        rel = f"benign/pickle/sklearn_pipeline_p{p}.pkl"
        write(root, rel, pickle.dumps(models["pipeline_logreg"], protocol=p))
        out.append(Sample(rel, "pickle", f"sklearn Pipeline, pickle protocol {p}", "benign"))
    for name, model in models.items():
        rel = f"benign/pickle/sklearn_{name}.pkl"
        write(root, rel, pickle.dumps(model, protocol=5))
        out.append(Sample(rel, "pickle", f"sklearn {name} (pickle)", "benign"))
    for comp in ("none", "zlib", "gzip", "bz2", "lzma", "xz"):
        rel = f"benign/joblib/sklearn_pipeline_{comp}.joblib"
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        joblib.dump(models["random_forest"] if comp == "none" else models["pipeline_logreg"],
                    root / rel, compress=0 if comp == "none" else (comp, 3))
        out.append(Sample(rel, "joblib", f"sklearn model via joblib ({comp})", "benign"))
    rel = "benign/joblib/column_onehot.joblib"
    joblib.dump(models["column_onehot"], root / rel)
    out.append(Sample(rel, "joblib", "ColumnTransformer + OneHotEncoder (object arrays)", "benign"))
    return out


def _gbm(root: Path) -> list[Sample]:
    import joblib
    import lightgbm
    import xgboost

    x, y = _data()
    xgb = xgboost.XGBClassifier(n_estimators=4, max_depth=2, n_jobs=1, random_state=0)
    xgb.fit(x, y)
    lgb = lightgbm.LGBMClassifier(n_estimators=4, num_leaves=4, n_jobs=1, random_state=0,
                                  verbose=-1, deterministic=True)
    lgb.fit(x, y)
    out = []
    for rel, model, fmt in (("benign/joblib/xgboost.joblib", xgb, "joblib"),
                            ("benign/pickle/xgboost.pkl", xgb, "pickle"),
                            ("benign/joblib/lightgbm.joblib", lgb, "joblib"),
                            ("benign/pickle/lightgbm.pkl", lgb, "pickle")):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        if fmt == "joblib":
            joblib.dump(model, root / rel)
        else:
            write(root, rel, pickle.dumps(model, protocol=4))
        out.append(Sample(rel, fmt, f"{type(model).__name__} ({fmt})", "benign"))
    return out


def _pandas(root: Path) -> list[Sample]:
    import numpy as np
    import pandas as pd

    frame = pd.DataFrame({
        "f": np.linspace(0, 1, 8), "i": np.arange(8), "cat": pd.Categorical(list("abcdabcd")),
        "when": pd.date_range("2024-01-01", periods=8, freq="D"), "s": [f"r{i}" for i in range(8)],
    })
    out = []
    for p in (2, 4, 5):
        rel = f"benign/pickle/pandas_frame_p{p}.pkl"
        write(root, rel, pickle.dumps(frame, protocol=p))
        out.append(Sample(rel, "pickle", f"pandas DataFrame, protocol {p}", "benign"))
    rel = "benign/pickle/pandas_series.pkl"
    write(root, rel, pickle.dumps(frame["f"], protocol=5))
    out.append(Sample(rel, "pickle", "pandas Series", "benign"))
    return out


def _numpy(root: Path) -> list[Sample]:
    import numpy as np

    out = []

    def save(rel: str, arr: Any, tech: str) -> None:
        buf = io.BytesIO()
        np.save(buf, arr, allow_pickle=arr.dtype == object)
        write(root, rel, buf.getvalue())
        out.append(Sample(rel, "numpy", tech, "benign"))

    save("benign/numpy/float.npy", np.linspace(0, 1, 64).reshape(8, 8), "float64 array")
    save("benign/numpy/int_fortran.npy", np.asfortranarray(np.arange(12).reshape(3, 4)),
         "Fortran-order int array")
    save("benign/numpy/structured.npy", np.zeros(4, dtype=[("x", "<f4"), ("y", "<i8")]),
         "structured dtype")
    save("benign/numpy/object_strings.npy", np.array(["cat", "dog", None, 3], dtype=object),
         "plain object array (str, None, int)")
    for name, saver in (("arrays.npz", np.savez), ("arrays_compressed.npz", np.savez_compressed)):
        buf = io.BytesIO()
        saver(buf, w=np.ones((3, 3)), b=np.arange(3))
        rel = f"benign/numpy/{name}"
        write(root, rel, zip_bytes(zip_members(buf.getvalue()), compress="compressed" in name))
        out.append(Sample(rel, "numpy", f"npz ({name})", "benign"))
    return out


def tiny_net() -> Any:
    import torch

    class TinyNet(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = torch.nn.Conv2d(1, 2, 3)
            self.bn = torch.nn.BatchNorm2d(2)
            self.fc = torch.nn.Linear(8, 3)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.fc(torch.relu(self.bn(self.conv(x))).flatten(1))

    torch.manual_seed(0)
    return TinyNet()


def torch_checkpoint() -> dict[str, Any]:
    """A full training checkpoint: model weights, Adam state, scheduler, epoch, metrics."""
    import torch

    net = tiny_net()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2)
    loss = net(torch.randn(2, 1, 4, 4)).sum()
    loss.backward()
    opt.step()
    sched.step()
    return {"model": net.state_dict(), "optimizer": opt.state_dict(),
            "scheduler": sched.state_dict(), "epoch": 3, "best_acc": 0.91,
            "config": {"lr": 1e-3, "layers": [1, 2, 3], "name": "tiny"}}


def _torch(root: Path) -> list[Sample]:
    import torch

    out = []

    def save(rel: str, obj: Any, tech: str, **kw: Any) -> None:
        buf = io.BytesIO()
        torch.save(obj, buf, **kw)
        write(root, rel, buf.getvalue())
        out.append(Sample(rel, "pytorch", tech, "benign"))

    net = tiny_net()
    save("benign/pytorch/state_dict.pt", net.state_dict(), "state_dict (zip)")
    save("benign/pytorch/state_dict.bin", net.state_dict(), "state_dict as pytorch_model.bin")
    save("benign/pytorch/checkpoint_adam.pth", torch_checkpoint(),
         "full checkpoint with Adam optimizer and scheduler state")
    save("benign/pytorch/state_dict_legacy.pt", net.state_dict(), "legacy (non-zip) torch.save",
         _use_new_zipfile_serialization=False)
    save("benign/pytorch/tensors_mixed_dtypes.pt",
         {"f16": torch.ones(3, dtype=torch.float16), "bf16": torch.ones(3, dtype=torch.bfloat16),
          "i64": torch.arange(4), "bool": torch.tensor([True, False]),
          "view": torch.arange(10)[2:6]}, "tensors of several dtypes and a view")
    # Full-module save: the pickle names the user's class. Decision (see README): benign. The class
    # is the user's own code, not a gadget; the scanner reports it as an unknown import below the
    # default threshold, and `scan.allow_globals` / `--allow-global` makes it explicit.
    module = types.ModuleType("corpus_models")
    net_cls = type(net)
    net_cls.__module__, net_cls.__qualname__ = "corpus_models", "TinyNet"
    module.TinyNet = net_cls  # type: ignore[attr-defined]
    sys.modules["corpus_models"] = module
    try:
        save("benign/pytorch/full_module.pt", net, "torch.save of a whole nn.Module (user class)")
    finally:
        del sys.modules["corpus_models"]
    for kind, scripted in (("script", torch.jit.script(torch.nn.Linear(3, 2))),
                           ("trace", torch.jit.trace(torch.nn.Sequential(
                               torch.nn.Linear(4, 4), torch.nn.ReLU()), torch.ones(1, 4)))):
        buf = io.BytesIO()
        torch.jit.save(scripted, buf)
        rel = f"benign/pytorch/torchscript_{kind}.pt"
        write(root, rel, buf.getvalue())
        out.append(Sample(rel, "pytorch", f"TorchScript (torch.jit.{kind})", "benign"))
    return out


def _safetensors(root: Path) -> list[Sample]:
    import numpy as np
    from safetensors.numpy import save as np_save
    from safetensors.torch import save as torch_save

    out = []
    for rel, data, tech in (
            ("benign/safetensors/numpy.safetensors",
             np_save({"w": np.ones((3, 3), np.float32), "b": np.arange(3, dtype=np.int64)}),
             "safetensors from numpy"),
            ("benign/safetensors/torch.safetensors",
             torch_save({k: v.contiguous() for k, v in tiny_net().state_dict().items()},
                        metadata={"format": "pt"}), "safetensors from torch with metadata")):
        write(root, rel, data)
        out.append(Sample(rel, "safetensors", tech, "benign"))
    return out


def onnx_model() -> Any:
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    w = numpy_helper.from_array(np.arange(32, dtype=np.float32).reshape(4, 8) / 10, "W")
    b = numpy_helper.from_array(np.zeros(8, dtype=np.float32), "B")
    nodes = [helper.make_node("MatMul", ["X", "W"], ["H"]), helper.make_node("Add", ["H", "B"], ["A"]),
             helper.make_node("Relu", ["A"], ["Y"])]
    graph = helper.make_graph(nodes, "mlp", [helper.make_tensor_value_info("X", TensorProto.FLOAT,
                                                                           [1, 4])],
                              [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1, 8])],
                              initializer=[w, b])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="corpus")
    onnx.checker.check_model(model)
    return model


def _onnx(root: Path) -> list[Sample]:
    import onnx

    out = []
    rel = "benign/onnx/mlp.onnx"
    write(root, rel, onnx_model().SerializeToString())
    out.append(Sample(rel, "onnx", "MatMul/Add/Relu model (onnx.helper)", "benign"))
    folder = root / "benign/onnx/external"
    folder.mkdir(parents=True, exist_ok=True)
    onnx.save_model(onnx_model(), folder / "model.onnx", save_as_external_data=True,
                    all_tensors_to_one_file=True, location="weights.bin", size_threshold=0)
    out.append(Sample("benign/onnx/external/model.onnx", "onnx",
                      "external data in the same directory", "benign"))
    return out


def _keras(root: Path) -> list[Sample]:
    import h5py

    out = []
    dense = _keras_layer("Dense", "dense", {"units": 8, "activation": "relu", "use_bias": True,
                                            "kernel_initializer": {"module": "keras.initializers",
                                                                   "class_name": "GlorotUniform",
                                                                   "config": {"seed": None},
                                                                   "registered_name": None}})
    drop = _keras_layer("Dropout", "dropout", {"rate": 0.2, "seed": None})
    head = _keras_layer("Dense", "head", {"units": 2, "activation": "softmax", "use_bias": True})
    norm = _keras_layer("BatchNormalization", "bn", {"axis": -1, "momentum": 0.99})
    for rel, cfg, tech in (
            ("benign/keras/sequential.keras", _sequential("mlp", [dense, drop, head]),
             "Keras v3 Sequential (Dense/Dropout)"),
            ("benign/keras/nested.keras", _sequential("outer", [_sequential("inner", [dense, norm]),
                                                                head]),
             "Keras v3 with a nested Sequential submodel")):
        write(root, rel, keras_archive(cfg))
        out.append(Sample(rel, "keras", tech, "benign"))
    h5cfg = {"class_name": "Sequential", "config": {"name": "sequential", "layers": [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 4], "name": "in"}},
        {"class_name": "Dense", "config": {"name": "dense", "units": 2, "activation": "relu"}}]}}
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        f.attrs["keras_version"] = "2.15.0"
        f.attrs["backend"] = "tensorflow"
        f.attrs["model_config"] = __import__("json").dumps(h5cfg)
        g = f.create_group("model_weights").create_group("dense").create_group("dense")
        g.create_dataset("kernel:0", data=[[0.1, 0.2]] * 4)
        g.create_dataset("bias:0", data=[0.0, 0.0])
    write(root, "benign/keras/model.h5", buf.getvalue())
    out.append(Sample("benign/keras/model.h5", "keras", "Keras 2 HDF5 model (h5py)", "benign"))
    return out


def _gguf(root: Path) -> list[Sample]:
    out = []
    for name, tmpl in (("llama3", LLAMA3), ("chatml", CHATML), ("mistral", MISTRAL),
                       ("gemma", GEMMA), ("qwen_tools", QWEN_TOOLS), ("llama31_date", LLAMA31_DATE)):
        rel = f"benign/gguf/{name}.gguf"
        gguf_bytes(root, rel, {"tokenizer.chat_template": tmpl})
        out.append(Sample(rel, "gguf", f"{name} chat template (GGUFWriter)", "benign"))
    rel = "benign/gguf/no_template.gguf"
    gguf_bytes(root, rel, {})
    out.append(Sample(rel, "gguf", "GGUF without a chat template", "benign"))
    return out


def _skops(root: Path) -> list[Sample]:
    import skops.io as sio

    out = []
    models = fitted_models()
    for name in ("pipeline_logreg", "random_forest"):
        rel = f"benign/skops/{name}.skops"
        # skops writes the wall-clock time into its zip: re-pack with fixed dates (deterministic)
        write(root, rel, zip_bytes(zip_members(sio.dumps(models[name])), compress=True))
        out.append(Sample(rel, "skops", f"skops dump of {name}", "benign"))
    return out


def _savedmodel(root: Path) -> list[Sample]:
    nodes = [proto.node_def("x", "Placeholder", attrs={"dtype": proto.attr_value_type(1)}),
             proto.node_def("w", "VarHandleOp", attrs={"dtype": proto.attr_value_type(1)}),
             proto.node_def("r", "ReadVariableOp", ("w",)),
             proto.node_def("m", "MatMul", ("x", "r")), proto.node_def("y", "Identity", ("m",))]
    funcs = (proto.function_def("__inference_serve_42", [proto.node_def("s", "Softmax", ("x",))]),)
    rel = "benign/savedmodel/mlp"
    write(root, f"{rel}/saved_model.pb", proto.saved_model(nodes, funcs))
    (root / rel / "variables").mkdir(exist_ok=True)
    return [Sample(rel, "savedmodel", "MatMul graph with a function library", "benign")]


def _archives(root: Path) -> list[Sample]:
    import torch
    from safetensors.torch import save as torch_save

    out = []
    state = io.BytesIO()
    torch.save(tiny_net().state_dict(), state)
    model_pkl = pickle.dumps(fitted_models()["pipeline_logreg"], protocol=5)
    for rel, data, tech in (
            ("benign/archive/sklearn_in_zip.zip", zip_bytes([("model/model.pkl", model_pkl),
                                                             ("model/README.md", b"# model\n")],
                                                            compress=True),
             "sklearn pickle inside a zip"),
            ("benign/archive/state_dict.tar.gz",
             gzip.compress(tar_bytes([("ckpt/model.pt", state.getvalue())]), mtime=0),
             "torch state_dict inside a tar.gz")):
        write(root, rel, data)
        out.append(Sample(rel, "archive", tech, "benign"))
    write_7z(root, "benign/archive/safetensors_in_7z.7z",
             [("model/model.safetensors", torch_save({"w": torch.ones(4)}))])
    out.append(Sample("benign/archive/safetensors_in_7z.7z", "archive",
                      "safetensors inside a 7z", "benign"))
    return out


def _everyday(root: Path) -> list[Sample]:
    """What real checkpoints and pickles carry besides weights: argparse args, RNG states,
    dates, builtin containers, text pipelines, RandomState instances, sparse matrices."""
    import argparse
    import collections
    import datetime
    import decimal
    import random

    import joblib
    import numpy as np
    import scipy.sparse
    import torch
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression, SGDClassifier
    from sklearn.pipeline import make_pipeline

    out = []

    def add(rel: str, data: bytes, fmt: str, tech: str) -> None:
        write(root, rel, data)
        out.append(Sample(rel, fmt, tech, "benign"))

    net = tiny_net()
    random.seed(0)
    ckpt = {"state_dict": net.state_dict(), "args": argparse.Namespace(lr=0.1, epochs=3),
            "np_rng": np.random.RandomState(0).get_state(), "py_rng": random.getstate(),
            "torch_rng": torch.Generator().manual_seed(0).get_state(),
            "saved_at": datetime.datetime(2024, 1, 2, 3, 4, 5),
            "hparams": collections.OrderedDict(a=1), "shape": torch.Size([3, 4]),
            "dtype": torch.float16, "device": torch.device("cpu")}
    buf = io.BytesIO()
    torch.save(ckpt, buf)
    add("benign/pytorch/trainer_checkpoint.ckpt", buf.getvalue(), "pytorch",
        "trainer checkpoint: argparse.Namespace args, RNG states, datetime, torch.Size/dtype")
    buf = io.BytesIO()
    torch.save({k: v.half() for k, v in net.state_dict().items() if v.is_floating_point()}, buf)
    add("benign/pytorch/pytorch_model.bin", buf.getvalue(), "pytorch", "float16 state_dict (HF)")
    misc = {"set": {1, 2}, "frozen": frozenset({3}), "complex": 1 + 2j, "bytes": bytearray(b"xy"),
            "date": datetime.date(2024, 1, 1), "delta": datetime.timedelta(days=1),
            "dec": decimal.Decimal("1.5"), "dd": collections.defaultdict(list, a=[1]),
            "slice": slice(1, 5, 2), "range": range(3), "counter": collections.Counter("aab")}
    for p in (2, 5):
        add(f"benign/pickle/builtins_p{p}.pkl", pickle.dumps(misc, protocol=p), "pickle",
            f"builtin containers and values, protocol {p}")
    x, y = _data()
    texts = ["good movie", "bad movie", "great film", "awful film"] * 5
    tfidf = make_pipeline(TfidfVectorizer(), LogisticRegression()).fit(texts, [1, 0, 1, 0] * 5)
    add("benign/pickle/tfidf_pipeline.pkl", pickle.dumps(tfidf, protocol=5), "pickle",
        "TfidfVectorizer + LogisticRegression")
    sgd = SGDClassifier(random_state=np.random.RandomState(0)).fit(x, y)
    add("benign/pickle/sgd_randomstate_p2.pkl", pickle.dumps(sgd, protocol=2), "pickle",
        "estimator holding a numpy RandomState")
    add("benign/pickle/scipy_csr.pkl", pickle.dumps(scipy.sparse.csr_matrix(np.eye(4)), protocol=4),
        "pickle", "scipy CSR matrix")
    add("benign/pickle/numpy_generator.pkl", pickle.dumps(np.random.default_rng(0), protocol=4),
        "pickle", "numpy Generator (PCG64)")
    rel = "benign/joblib/object_array.joblib"
    joblib.dump({"labels": np.array(["a", None, 3], dtype=object), "w": np.ones(3)}, root / rel)
    out.append(Sample(rel, "joblib", "joblib with a plain object array (nested pickle)", "benign"))
    return out
