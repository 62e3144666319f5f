"""mlwarden scan vs picklescan, modelscan, fickling and modelaudit — same corpus, same machine.

    python benchmarks/scan_vs_anchors.py --setup            # install the anchors (own venv)
    python benchmarks/scan_vs_anchors.py                    # corpus: recall, FPR, wall times
    python benchmarks/scan_vs_anchors.py --large            # + a ≥1 GB benign file per format
    python benchmarks/scan_vs_anchors.py --large-only --large-formats gguf onnx   # only those

Every tool runs as a whole process per file (what a CI job pays, start-up included) and once over
the whole corpus directory (``--repeat`` times, median). Verdicts come from each tool's exit code
and output (see ``_anchors.py``); an error is never a detection and is counted apart. Results go
to ``benchmarks/results/scan_vs_anchors.{json,md}``; generated inputs to ``benchmarks/results/tmp``
(git-ignored). The large files (torch checkpoint, TorchScript, safetensors, GGUF, ONNX with
external data, numpy .npy/.npz, Keras v3, Keras HDF5, joblib plain and gzip; see
``LARGE_FORMATS``) are built one at a time by the formats' own libraries, scanned by every tool
and deleted before the next is built, unless ``--keep-large``.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import statistics
import sys
import time
import warnings
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _anchors import TOOLS, Run, setup_anchors, versions  # noqa: E402
from tests.scan.corpus.common import Sample  # noqa: E402
from tests.scan.corpus.generate import generate  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
TMP = RESULTS / "tmp"


def run_corpus(tools: list[str], corpus: Path, samples: list[Sample], timeout: float
               ) -> dict[str, dict[str, Run]]:
    """Every tool on every sample, interleaved (sample by sample, the tools in turn), so that a
    change in machine load during the run falls on all tools alike."""
    runs: dict[str, dict[str, Run]] = {name: {} for name in tools}
    spent = dict.fromkeys(tools, 0.0)
    for i, sample in enumerate(samples, 1):
        for name in tools:
            run = TOOLS[name].run(corpus / sample.name, timeout)
            runs[name][sample.name] = run
            spent[name] += run.seconds
        if i % 25 == 0:
            print(f"  {i}/{len(samples)}", file=sys.stderr, flush=True)
    for name in tools:
        print(f"{name}: {len(samples)} files in {spent[name]:.1f} s", file=sys.stderr, flush=True)
    return runs


def score(samples: list[Sample], runs: dict[str, Run], fmt: str | None = None) -> dict[str, Any]:
    chosen = [s for s in samples if fmt is None or s.format == fmt]
    mal = [s for s in chosen if s.label == "malicious"]
    ben = [s for s in chosen if s.label == "benign"]
    hit = sum(runs[s.name].verdict == "flagged" for s in mal)
    fp = sum(runs[s.name].verdict == "flagged" for s in ben)
    return {
        "malicious": len(mal), "benign": len(ben), "detected": hit, "false_positives": fp,
        "recall": round(hit / len(mal), 3) if mal else None,
        "fpr": round(fp / len(ben), 3) if ben else None,
        "errors_malicious": sum(runs[s.name].verdict == "error" for s in mal),
        "errors_benign": sum(runs[s.name].verdict == "error" for s in ben),
    }


def dir_times(tools: list[str], corpus: Path, repeat: int, timeout: float) -> dict[str, float]:
    """Median whole-directory wall time per tool, the tools interleaved round by round."""
    times: dict[str, list[float]] = {name: [] for name in tools}
    for _ in range(repeat):
        for name in tools:
            times[name].append(TOOLS[name].run(corpus, timeout * 10).seconds)
    out = {name: round(statistics.median(t), 2) for name, t in times.items()}
    for name in tools:
        print(f"{name}: directory {out[name]} s", file=sys.stderr, flush=True)
    return out


# ---------------------------------------------------------------------------------------------
# Large files: one benign multi-GB file per format users ship at that size, made by the format's
# own library (by hand, per the spec, only where the writer is not installed: Keras v3), built
# one at a time, scanned by every tool, then deleted — so the disk holds one of them at a time.

LARGE_PIECE = 1 << 26
"""Bytes of random weights generated and written at once (64 MiB): memory stays bounded."""
LLAMA_VOCAB, LLAMA_HIDDEN, LLAMA_BLOCKS = 32_000, 4096, 5
"""A LLaMA-shaped checkpoint (safetensors, GGUF): embeddings, 5 attention blocks, output head."""
MLP_SIDE, MLP_LAYERS = 8192, 4
"""A 4-layer 8192×8192 float32 MLP (ONNX, Keras, HDF5, TorchScript, npz): 1 GiB + biases."""


def _side(full: int, scale: float, minimum: int = 8) -> int:
    """``full`` shrunk so that a square of it shrinks by ``scale``."""
    return max(minimum, int(full * scale ** 0.5))


def _pieces(rows: int, cols: int, itemsize: int = 4) -> Iterator[tuple[int, int]]:
    step = max(1, LARGE_PIECE // max(1, cols * itemsize))
    for start in range(0, rows, step):
        yield start, min(rows, start + step)


def _random_rows(rng: Any, rows: int, cols: int) -> Any:
    import numpy as np

    return rng.standard_normal((rows, cols), dtype=np.float32) * np.float32(0.02)


def _fill(target: Any, rng: Any) -> None:
    """Fill a 1-D or 2-D float32 array-like (memmap, h5py dataset) with weights, piece by piece."""
    if len(target.shape) == 1:
        target[:] = _random_rows(rng, 1, target.shape[0])[0]
        return
    rows, cols = target.shape
    for start, stop in _pieces(rows, cols):
        target[start:stop] = _random_rows(rng, stop - start, cols)


def _build_torch_checkpoint(path: Path, scale: float) -> None:
    """``torch.save`` of a state dict of 24 float32 4096×4096 matrices and an epoch (1.6 GB)."""
    import torch

    gen = torch.Generator().manual_seed(0)
    side = _side(4096, scale)
    layers = {f"layers.{i}.weight": torch.randn(side, side, generator=gen) for i in range(24)}
    torch.save({"model": layers, "epoch": 10}, path)


def _knn_pipeline(rows: int) -> Any:
    import numpy as np
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x = np.random.default_rng(0).normal(size=(rows, 100))
    y = (x[:, 0] > 0).astype(np.int64)
    return make_pipeline(StandardScaler(),
                         KNeighborsClassifier(n_neighbors=5, algorithm="brute")).fit(x, y)


def _build_joblib(path: Path, scale: float) -> None:
    """``joblib.dump`` of StandardScaler + brute-force KNN fitted on 1.35 M × 100 floats."""
    import joblib

    joblib.dump(_knn_pipeline(max(20, int(1_350_000 * scale))), path)


def _build_joblib_gzip(path: Path, scale: float) -> None:
    """The same pipeline on 1.45 M rows, ``joblib.dump(compress=("gzip", 1))`` (random floats
    barely compress: about 0.95)."""
    import joblib

    joblib.dump(_knn_pipeline(max(20, int(1_450_000 * scale))), path, compress=("gzip", 1))


def _llama_shapes(scale: float) -> tuple[int, int, int]:
    vocab = _side(LLAMA_VOCAB, scale, minimum=300)  # room for the 3 special and 256 byte tokens
    return vocab, _side(LLAMA_HIDDEN, scale), LLAMA_BLOCKS


def _build_safetensors(path: Path, scale: float) -> None:
    """``safetensors.torch.save_file`` of a LLaMA-shaped bfloat16 state dict with Hugging Face
    names (embeddings, 5 blocks of q/k/v/o projections and norms, lm_head; 1.2 GB). The library
    has no streaming writer: the tensors are in memory once (1.2 GB)."""
    import torch
    from safetensors.torch import save_file

    vocab, hidden, blocks = _llama_shapes(scale)
    gen = torch.Generator().manual_seed(0)

    def weight(rows: int, cols: int) -> torch.Tensor:
        return (torch.randn(rows, cols, generator=gen) * 0.02).to(torch.bfloat16)

    tensors = {"model.embed_tokens.weight": weight(vocab, hidden)}
    for i in range(blocks):
        for proj in ("q", "k", "v", "o"):
            tensors[f"model.layers.{i}.self_attn.{proj}_proj.weight"] = weight(hidden, hidden)
        for norm in ("input_layernorm", "post_attention_layernorm"):
            tensors[f"model.layers.{i}.{norm}.weight"] = torch.ones(hidden, dtype=torch.bfloat16)
    tensors["model.norm.weight"] = torch.ones(hidden, dtype=torch.bfloat16)
    tensors["lm_head.weight"] = weight(vocab, hidden)
    save_file(tensors, path, metadata={"format": "pt"})


def _build_gguf(path: Path, scale: float) -> None:
    """``gguf.GGUFWriter`` (llama.cpp's own writer): a LLaMA-architecture float16 model with a
    32 000-token SentencePiece vocabulary (tokens, scores, types) and Llama 3's chat template
    in ``tokenizer.chat_template`` (1.2 GB). Tensors are declared first, then streamed one by
    one, so at most one (262 MB) is in memory."""
    import gguf
    import numpy as np
    from tests.scan.corpus.benign import LLAMA3

    vocab, hidden, blocks = _llama_shapes(scale)
    writer = gguf.GGUFWriter(path, "llama")
    writer.add_name("bench-llama")
    writer.add_context_length(8192)
    writer.add_embedding_length(hidden)
    writer.add_block_count(blocks)
    writer.add_feed_forward_length(hidden * 4)
    writer.add_head_count(max(1, hidden // 128))
    writer.add_head_count_kv(max(1, hidden // 512))
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_rope_freq_base(500_000.0)
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_F16)
    writer.add_tokenizer_model("llama")
    specials = ["<unk>", "<s>", "</s>"]
    byte_tokens = [f"<0x{b:02X}>" for b in range(256)]
    tokens = specials + byte_tokens + [f"▁tok{i}" for i in range(vocab - 259)]
    writer.add_token_list(tokens)
    writer.add_token_scores([0.0] * 259 + [-float(i) for i in range(vocab - 259)])
    writer.add_token_types([gguf.TokenType.UNKNOWN, gguf.TokenType.CONTROL, gguf.TokenType.CONTROL]
                           + [gguf.TokenType.BYTE] * 256 + [gguf.TokenType.NORMAL] * (vocab - 259))
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)
    writer.add_chat_template(LLAMA3)
    writer.add_quantization_version(gguf.GGML_QUANT_VERSION)
    shapes: list[tuple[str, tuple[int, ...], Any]] = [("token_embd.weight", (vocab, hidden),
                                                       np.float16)]
    for i in range(blocks):
        shapes.append((f"blk.{i}.attn_norm.weight", (hidden,), np.float32))
        shapes += [(f"blk.{i}.attn_{p}.weight", (hidden, hidden), np.float16)
                   for p in ("q", "k", "v", "output")]
    shapes += [("output_norm.weight", (hidden,), np.float32), ("output.weight", (vocab, hidden),
                                                              np.float16)]
    for name, shape, dtype in shapes:
        writer.add_tensor_info(name, shape, np.dtype(dtype),
                               int(np.prod(shape)) * np.dtype(dtype).itemsize)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    rng = np.random.default_rng(0)
    for _name, shape, dtype in shapes:
        if len(shape) == 1:
            writer.write_tensor_data(np.ones(shape, dtype=dtype))
        else:
            writer.write_tensor_data(_random_rows(rng, *shape).astype(dtype))
    writer.close()


def _build_onnx(path: Path, scale: float) -> None:
    """A directory as Hugging Face/optimum ship it: ``model.onnx`` (``onnx.helper`` graph of
    4 MatMul/Add layers with ReLU, saved by ``onnx.save_model``) and ``model.onnx_data`` with
    the initializers, back to back at the offsets ``onnx.save_model(save_as_external_data=True)``
    gives them (1 GiB). The data file is written piece by piece and the model checked with
    ``onnx.checker.check_model`` on the path (which verifies the external data)."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper

    side = _side(MLP_SIDE, scale)
    path.mkdir(parents=True, exist_ok=True)
    data_name = "model.onnx_data"
    rng = np.random.default_rng(0)
    initializers, nodes = [], []
    offset = 0
    prev = "input"
    with (path / data_name).open("wb") as data:
        for i in range(MLP_LAYERS):
            for name, shape in ((f"layers.{i}.weight", (side, side)), (f"layers.{i}.bias", (side,))):
                tensor = TensorProto(name=name, data_type=TensorProto.FLOAT, dims=shape,
                                     data_location=TensorProto.EXTERNAL)
                rows, cols = (1, shape[0]) if len(shape) == 1 else shape
                for start, stop in _pieces(rows, cols):
                    _random_rows(rng, stop - start, cols).tofile(data)
                length = rows * cols * 4
                for key, value in (("location", data_name), ("offset", str(offset)),
                                   ("length", str(length))):
                    tensor.external_data.add(key=key, value=value)
                offset += length
                initializers.append(tensor)
            out = "output" if i == MLP_LAYERS - 1 else f"h{i}"
            nodes += [helper.make_node("MatMul", [prev, f"layers.{i}.weight"], [f"mm{i}"]),
                      helper.make_node("Add", [f"mm{i}", f"layers.{i}.bias"],
                                       [out if i == MLP_LAYERS - 1 else f"pre{i}"])]
            if i < MLP_LAYERS - 1:
                nodes.append(helper.make_node("Relu", [f"pre{i}"], [out]))
            prev = out
    graph = helper.make_graph(
        nodes, "mlp", [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", side])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", side])],
        initializer=initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="pytorch", producer_version="2.13.0")
    onnx.save_model(model, path / "model.onnx")
    onnx.checker.check_model(str(path / "model.onnx"))


def _build_npy(path: Path, scale: float) -> None:
    """``numpy.lib.format.open_memmap``: one float32 16384×16384 array (1 GiB), filled in pieces."""
    import numpy as np

    side = _side(16_384, scale)
    array = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(side, side))
    _fill(array, np.random.default_rng(0))
    array.flush()
    del array


def _build_npz(path: Path, scale: float) -> None:
    """``numpy.savez`` of the MLP's weights and biases (1 GiB, stored). The weights are
    memory-mapped ``.npy`` scratch files, which ``savez`` streams into the zip."""
    import numpy as np

    side = _side(MLP_SIDE, scale)
    rng = np.random.default_rng(0)
    arrays: dict[str, Any] = {}
    scratch = [path.with_name(f".{path.name}.{i}.npy") for i in range(MLP_LAYERS)]
    try:
        for i, part in enumerate(scratch):
            array = np.lib.format.open_memmap(part, mode="w+", dtype=np.float32,
                                              shape=(side, side))
            _fill(array, rng)
            array.flush()
            del array
            arrays[f"layers.{i}.weight"] = np.load(part, mmap_mode="r")
            arrays[f"layers.{i}.bias"] = np.zeros(side, dtype=np.float32)
        np.savez(path, **arrays)
    finally:
        arrays.clear()
        for part in scratch:
            part.unlink(missing_ok=True)


def _dense_layers(side: int, *, keras3: bool) -> list[dict[str, Any]]:
    init = {"module": "keras.initializers", "class_name": "GlorotUniform", "config": {"seed": None},
            "registered_name": None}
    zeros: dict[str, Any] = {"module": "keras.initializers", "class_name": "Zeros",
                             "config": {}, "registered_name": None}
    layers = []
    for i in range(MLP_LAYERS):
        config: dict[str, Any] = {
            "name": "dense" if i == 0 else f"dense_{i}", "trainable": True,
            "dtype": ({"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"},
                       "registered_name": None} if keras3 else "float32"),
            "units": side, "activation": "linear" if i == MLP_LAYERS - 1 else "relu",
            "use_bias": True, "kernel_initializer": init, "bias_initializer": zeros,
            "kernel_regularizer": None, "bias_regularizer": None, "kernel_constraint": None,
            "bias_constraint": None}
        if not keras3:
            config["activity_regularizer"] = None
        layers.append({"module": "keras.layers", "class_name": "Dense", "config": config,
                       "registered_name": None, "build_config": {"input_shape": [None, side]}})
    return layers


def _build_keras(path: Path, scale: float) -> None:
    """A Keras v3 ``.keras`` archive as ``model.save`` writes it (Keras is not installed here):
    a stored zip of ``metadata.json``, ``config.json`` (a Sequential of 4 Dense 8192→8192) and
    ``model.weights.h5`` (h5py; ``layers/<name>/vars/<i>``, 1 GiB), weights filled in pieces."""
    import h5py
    import numpy as np

    side = _side(MLP_SIDE, scale)
    layers = _dense_layers(side, keras3=True)
    config = {"module": "keras", "class_name": "Sequential", "config": {
        "name": "sequential", "trainable": True,
        "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"},
                  "registered_name": None},
        "layers": [{"module": "keras.layers", "class_name": "InputLayer",
                    "config": {"batch_shape": [None, side], "dtype": "float32", "sparse": False,
                               "name": "input_layer"}, "registered_name": None}, *layers],
        "build_input_shape": [None, side]}, "registered_name": None,
        "build_config": {"input_shape": [None, side]},
        "compile_config": {"optimizer": "adam", "loss": "mean_squared_error", "metrics": None,
                           "loss_weights": None, "weighted_metrics": None,
                           "run_eagerly": False, "steps_per_execution": 1, "jit_compile": False}}
    meta = {"keras_version": "3.6.0", "date_saved": "2025-03-14@09:26:53"}
    weights = path.with_name(f".{path.name}.weights.h5")
    rng = np.random.default_rng(0)
    try:
        with h5py.File(weights, "w") as f:
            for layer in layers:
                group = f.create_group(f"layers/{layer['config']['name']}/vars")
                _fill(group.create_dataset("0", (side, side), dtype="float32"), rng)
                group.create_dataset("1", data=np.zeros(side, dtype=np.float32))
            f.create_group("vars")
        with zipfile.ZipFile(path, "w") as zf:  # Keras 3 writes a stored (uncompressed) zip
            zf.writestr("metadata.json", json.dumps(meta))
            zf.writestr("config.json", json.dumps(config))
            zf.write(weights, "model.weights.h5")
    finally:
        weights.unlink(missing_ok=True)


def _build_h5(path: Path, scale: float) -> None:
    """A legacy Keras 2 HDF5 model as ``model.save("m.h5")`` writes it, with h5py: root
    attributes ``keras_version``/``backend``/``model_config``/``training_config``, weights under
    ``model_weights/<layer>/<layer>/kernel:0`` with ``layer_names``/``weight_names`` (1 GiB)."""
    import h5py
    import numpy as np

    side = _side(MLP_SIDE, scale)
    layers = _dense_layers(side, keras3=False)
    model_config = {"class_name": "Sequential", "config": {"name": "sequential", "layers": [
        {"module": "keras.layers", "class_name": "InputLayer",
         "config": {"batch_input_shape": [None, side], "dtype": "float32", "sparse": False,
                    "ragged": False, "name": "dense_input"}, "registered_name": None}, *layers]},
        "keras_version": "2.15.0", "backend": "tensorflow"}
    training_config = {"loss": "mean_squared_error", "metrics": None, "weighted_metrics": None,
                       "loss_weights": None, "optimizer_config": {
                           "class_name": "Adam", "config": {"name": "Adam", "learning_rate": 0.001,
                                                            "beta_1": 0.9, "beta_2": 0.999,
                                                            "epsilon": 1e-07, "amsgrad": False}}}
    rng = np.random.default_rng(0)
    names = [layer["config"]["name"] for layer in layers]
    with h5py.File(path, "w") as f:
        f.attrs["backend"] = b"tensorflow"
        f.attrs["keras_version"] = b"2.15.0"
        f.attrs["model_config"] = json.dumps(model_config).encode()
        f.attrs["training_config"] = json.dumps(training_config).encode()
        weights = f.create_group("model_weights")
        weights.attrs["backend"] = b"tensorflow"
        weights.attrs["keras_version"] = b"2.15.0"
        weights.attrs["layer_names"] = np.array([n.encode() for n in names])
        for name in names:
            group = weights.create_group(name)
            group.attrs["weight_names"] = np.array([f"{name}/kernel:0".encode(),
                                                    f"{name}/bias:0".encode()])
            inner = group.create_group(name)
            _fill(inner.create_dataset("kernel:0", (side, side), dtype="float32"), rng)
            inner.create_dataset("bias:0", data=np.zeros(side, dtype=np.float32))


def _build_torchscript(path: Path, scale: float) -> None:
    """``torch.jit.save`` of ``torch.jit.script`` of a Sequential of 4 Linear 8192→8192 with
    ReLU (1 GiB)."""
    import torch

    torch.manual_seed(0)
    side = _side(MLP_SIDE, scale)
    mods: list[torch.nn.Module] = []
    for i in range(MLP_LAYERS):
        mods.append(torch.nn.Linear(side, side))
        if i < MLP_LAYERS - 1:
            mods.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*mods).eval()
    with warnings.catch_warnings(action="ignore", category=DeprecationWarning):  # still the API
        torch.jit.save(torch.jit.script(model), str(path))


@dataclass(frozen=True)
class LargeFormat:
    label: str
    """Column title in the results."""
    name: str
    """File (or, for ONNX, directory) name under the large-files folder."""
    build: Callable[[Path, float], None]


LARGE_FORMATS: dict[str, LargeFormat] = {
    "torch": LargeFormat("torch checkpoint", "large_checkpoint.pt", _build_torch_checkpoint),
    "torchscript": LargeFormat("TorchScript", "large_scripted.pt", _build_torchscript),
    "safetensors": LargeFormat("safetensors", "large_llama.safetensors", _build_safetensors),
    "gguf": LargeFormat("GGUF", "large_llama.gguf", _build_gguf),
    "onnx": LargeFormat("ONNX + external data (dir)", "large_onnx", _build_onnx),
    "npy": LargeFormat("numpy .npy", "large_array.npy", _build_npy),
    "npz": LargeFormat("numpy .npz", "large_arrays.npz", _build_npz),
    "keras": LargeFormat("Keras v3 .keras", "large_mlp.keras", _build_keras),
    "h5": LargeFormat("Keras HDF5 .h5", "large_mlp.h5", _build_h5),
    "joblib": LargeFormat("joblib sklearn", "large_knn.joblib", _build_joblib),
    "joblib-gzip": LargeFormat("joblib gzip", "large_knn_gzip.joblib", _build_joblib_gzip),
}
"""What ``--large`` builds, by ``--large-formats`` key. ONNX is scanned as its directory (what a
user downloading a model repository points the scanner at): model and external data together."""


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size


def make_one(key: str, folder: Path, scale: float = 1.0) -> Path:
    """Build the large file of ``key`` in ``folder`` (kept if it is already there)."""
    fmt = LARGE_FORMATS[key]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / fmt.name
    if not path.exists():
        try:
            fmt.build(path, scale)
        except BaseException:
            _remove(path)
            raise
    return path


def make_large(folder: Path, scale: float = 1.0, formats: Sequence[str] | None = None
               ) -> dict[str, Path]:
    """Every large file of ``formats`` (default: all), by label (``scale`` shrinks them, to try
    the script or test the builders quickly)."""
    return {LARGE_FORMATS[k].label: make_one(k, folder, scale) for k in formats or LARGE_FORMATS}


def run_large(tools: list[str], files: dict[str, Path], timeout: float) -> dict[str, Any]:
    out: dict[str, Any] = {"files": {k: {"path": str(p), "bytes": _size(p)}
                                     for k, p in files.items()}, "runs": {}}
    for name in tools:
        out["runs"][name] = {}
        for label, path in files.items():
            run = TOOLS[name].run(path, timeout)
            entry: dict[str, Any] = {"verdict": run.verdict, "seconds": round(run.seconds, 2),
                                     "rc": run.rc}
            if run.verdict != "clean":
                entry["output"] = run.tail[-300:]
            out["runs"][name][label] = entry
            print(f"{name}: {label} {run.verdict} {run.seconds:.1f} s", file=sys.stderr,
                  flush=True)
    return out


def large_run(tools: list[str], formats: Sequence[str], folder: Path, scale: float,
              timeout: float, keep: bool = False) -> dict[str, Any]:
    """Build each large file, run every tool on it, delete it (unless ``keep``), next."""
    out: dict[str, Any] = {"scale": scale, "files": {}, "runs": {t: {} for t in tools}}
    for key in formats:
        label = LARGE_FORMATS[key].label
        start = time.perf_counter()
        path = make_one(key, folder, scale)
        built = time.perf_counter() - start
        print(f"built {label}: {path.name} {_size(path) / 1e9:.2f} GB in {built:.1f} s",
              file=sys.stderr, flush=True)
        try:
            part = run_large(tools, {label: path}, timeout)
        finally:
            if not keep:
                _remove(path)
        out["files"][label] = {**part["files"][label], "format": key, "build_s": round(built, 1)}
        for t in tools:
            out["runs"][t].update(part["runs"][t])
    return out


def merge_large(old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    """``old`` with the files and tool runs of ``new`` replaced (a subset re-measured); ``new``
    alone when ``old`` was made at another scale."""
    if not old or old.get("scale", 1.0) != new["scale"]:
        return new
    old["scale"] = new["scale"]
    old["files"].update(new["files"])
    for t, runs in new["runs"].items():
        old["runs"].setdefault(t, {}).update(runs)
    return old


def large_markdown(large: dict[str, Any], tools: list[str]) -> list[str]:
    labels = [fmt.label for fmt in LARGE_FORMATS.values() if fmt.label in large["files"]]
    labels += [k for k in large["files"] if k not in labels]
    shown = [t for t in tools if t in large["runs"]] + [t for t in large["runs"] if t not in tools]

    def cell(t: str, label: str) -> str:
        run = large["runs"][t].get(label)
        return "–" if run is None else f"{run['seconds']:.1f} s ({run['verdict']})"

    return ["", "Large files (whole-process wall time, verdict):", "",
            "| tool | " + " | ".join(f"{k} ({large['files'][k]['bytes'] / 1e9:.2f} GB)"
                                    for k in labels) + " |",
            "|---|" + "---|" * len(labels),
            *(f"| {t} | " + " | ".join(cell(t, k) for k in labels) + " |" for t in shown)]


def markdown(result: dict[str, Any]) -> str:
    tools = result["tools"]
    lines = [f"Corpus: {result['corpus']['malicious']} malicious and {result['corpus']['benign']} "
             f"benign files ({', '.join(result['corpus']['formats'])}), generated by "
             "`tests/scan/corpus/generate.py`. Machine: " + result["machine"] + ".", "",
             "| tool | version | recall | FPR | errors (mal/benign) | median s/file | "
             "p90 s/file | per file vs mlwarden | directory s |",
             "|---|---|---|---|---|---|---|---|---|"]
    ours = result["verdicts"].get("mlwarden", {})
    for t in tools:
        s = result["scores"][t]["all"]
        seconds = sorted(v["seconds"] for v in result["verdicts"][t].values())
        p90 = seconds[min(len(seconds) - 1, int(0.9 * len(seconds)))]
        lines.append(f"| {t} | {result['versions'].get(t, '')} | {s['recall']:.2f} | "
                     f"{s['fpr']:.2f} | {s['errors_malicious']}/{s['errors_benign']} | "
                     f"{result['per_file_median_s'][t]:.3f} | {p90:.3f} | "
                     f"{_paired(result['verdicts'][t], ours)} | "
                     f"{result['directory_s'].get(t, float('nan')):.2f} |")
    lines += ["", "*per file vs mlwarden*: the median over files of this tool's time / mlwarden's "
              "time on the same file (runs are interleaved file by file), and on how many files "
              "mlwarden was faster."]
    lines += ["", "Recall / FPR per format:", "",
              "| format | " + " | ".join(tools) + " |", "|---|" + "---|" * len(tools)]
    for fmt in result["corpus"]["formats"]:
        cells = []
        for t in tools:
            s = result["scores"][t][fmt]
            rec = "–" if s["recall"] is None else f"{s['recall']:.2f}"
            fpr = "–" if s["fpr"] is None else f"{s['fpr']:.2f}"
            cells.append(f"{rec} / {fpr}")
        lines.append(f"| {fmt} | " + " | ".join(cells) + " |")
    if result.get("large"):
        lines += large_markdown(result["large"], tools)
    lines += ["", f"Command: `{result['command']}`"]
    return "\n".join(lines) + "\n"


def _paired(theirs: dict[str, Any], ours: dict[str, Any]) -> str:
    common = [n for n in theirs if n in ours and ours[n]["seconds"] > 0]
    if not common or theirs is ours:
        return "–"
    ratios = [theirs[n]["seconds"] / ours[n]["seconds"] for n in common]
    faster = sum(r > 1 for r in ratios)
    return f"{statistics.median(ratios):.2f}× ({faster}/{len(common)})"


def _merge(old: dict[str, Any], new: dict[str, Any], tools: list[str]) -> dict[str, Any]:
    """``old`` with the figures of ``tools`` replaced by ``new``'s (same corpus required)."""
    if old["labels"] != new["labels"]:
        raise SystemExit("--merge: the corpus changed since the previous results; run all tools")
    for key in ("scores", "per_file_median_s", "directory_s", "verdicts", "versions"):
        for t in tools:
            if t in new[key]:
                old[key][t] = new[key][t]
    old["tools"] = [*old["tools"], *(t for t in tools if t not in old["tools"])]
    old["command"] += f" && {new['command']}"
    old["canary_fired"] = old["canary_fired"] or new["canary_fired"]
    return old


def rescore(result: dict[str, Any]) -> dict[str, Any]:
    """Recompute scores and per-file medians from the stored verdicts and labels."""
    samples = [Sample(n, fmt, tech, label) for n, (fmt, label, tech) in result["labels"].items()]
    formats = sorted({s.format for s in samples})
    result["corpus"] = {"malicious": sum(s.label == "malicious" for s in samples),
                        "benign": sum(s.label == "benign" for s in samples), "formats": formats}
    for t in result["tools"]:
        runs = {n: Run(v["verdict"], v["seconds"], v["rc"], "")
                for n, v in result["verdicts"][t].items()}
        result["scores"][t] = {"all": score(samples, runs),
                               **{f: score(samples, runs, f) for f in formats}}
        result["per_file_median_s"][t] = round(statistics.median(r.seconds for r in runs.values()),
                                               3)
    return result


def extend(old: dict[str, Any], corpus: Path, samples: list[Sample], timeout: float,
           command: str) -> dict[str, Any]:
    """Run every tool of ``old`` on the samples ``old`` has not seen, and rescore."""
    new = [s for s in samples if s.name not in old["labels"]]
    runs = run_corpus(old["tools"], corpus, new, timeout)
    for t in old["tools"]:
        old["verdicts"][t].update({n: {"verdict": r.verdict, "seconds": round(r.seconds, 3),
                                       "rc": r.rc} for n, r in runs[t].items()})
    old["labels"].update({s.name: [s.format, s.label, s.technique] for s in new})
    old["command"] += f" && {command}"
    old["extended_with"] = sorted(s.name for s in new)
    return rescore(old)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--setup", action="store_true", help="install the anchors and exit")
    parser.add_argument("--tools", nargs="+", default=list(TOOLS), choices=list(TOOLS))
    parser.add_argument("--corpus", type=Path, default=None, help="an existing corpus directory")
    parser.add_argument("--formats", nargs="+", default=None, help="only these sample formats")
    parser.add_argument("--repeat", type=int, default=3, help="directory runs per tool")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per file")
    parser.add_argument("--large", action="store_true", help="also the GB-size files")
    parser.add_argument("--large-only", action="store_true", help="only the GB-size files; "
                        "keep the corpus figures of the previous results file")
    parser.add_argument("--keep-large", action="store_true")
    parser.add_argument("--large-formats", nargs="+", default=list(LARGE_FORMATS),
                        choices=list(LARGE_FORMATS), metavar="FORMAT",
                        help="only these large files (default: all; with --large-only the "
                        "others keep their previous figures): " + ", ".join(LARGE_FORMATS))
    parser.add_argument("--extend", action="store_true", help="run every tool of the existing "
                        "results on the corpus samples they do not cover yet")
    parser.add_argument("--large-scale", type=float, default=1.0, help=argparse.SUPPRESS)
    parser.add_argument("--merge", action="store_true", help="update only --tools in the "
                        "existing results (e.g. re-measure mlwarden after a scanner change)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.setup:
        setup_anchors()
        return 0
    tools = args.tools
    args.out.mkdir(parents=True, exist_ok=True)
    json_path = args.out / "scan_vs_anchors.json"
    command = "python benchmarks/scan_vs_anchors.py " + " ".join(argv or sys.argv[1:])
    if args.large_only:
        result = json.loads(json_path.read_text())
        result["command"] = result["command"] + f" && {command.strip()}"
    elif args.extend:
        from tests.scan.corpus.generate import load_manifest

        corpus = args.corpus or TMP / "corpus"
        result = extend(json.loads(json_path.read_text()), corpus, load_manifest(corpus),
                        args.timeout, command.strip())
    else:
        corpus = args.corpus or TMP / "corpus"
        if args.corpus is None:
            shutil.rmtree(corpus, ignore_errors=True)
            samples = generate(corpus, TMP / "canary" / "FIRED")
        else:
            from tests.scan.corpus.generate import load_manifest

            samples = load_manifest(corpus)
        if args.formats:
            samples = [s for s in samples if s.format in args.formats]
        formats = sorted({s.format for s in samples})
        runs = run_corpus(tools, corpus, samples, args.timeout)
        result = {
            "command": command.strip(),
            "machine": f"{platform.machine()}, {platform.system()}, Python "
                       f"{platform.python_version()}, {__import__('os').cpu_count()} CPUs",
            "versions": versions(),
            "tools": tools,
            "corpus": {"malicious": sum(s.label == "malicious" for s in samples),
                       "benign": sum(s.label == "benign" for s in samples), "formats": formats},
            "scores": {t: {"all": score(samples, runs[t]),
                           **{f: score(samples, runs[t], f) for f in formats}} for t in tools},
            "per_file_median_s": {t: round(statistics.median(r.seconds for r in runs[t].values()),
                                           3) for t in tools},
            "directory_s": dir_times(tools, corpus, args.repeat, args.timeout)
            if args.formats is None else {},
            "verdicts": {t: {n: {"verdict": r.verdict, "seconds": round(r.seconds, 3), "rc": r.rc}
                             for n, r in runs[t].items()} for t in tools},
            "labels": {s.name: [s.format, s.label, s.technique] for s in samples},
            "canary_fired": (TMP / "canary" / "FIRED").exists(),
        }
    if args.merge and json_path.exists() and not args.large_only:
        result = _merge(json.loads(json_path.read_text()), result, tools)
    if args.large or args.large_only:
        # one folder per scale, so that files kept by --keep-large are never reused at another
        folder = TMP / ("large" if args.large_scale == 1.0 else f"large-{args.large_scale:g}")
        try:
            large = large_run(tools, args.large_formats, folder, args.large_scale,
                              args.timeout * 20, keep=args.keep_large)
        finally:
            if not args.keep_large:
                shutil.rmtree(folder, ignore_errors=True)
        result["large"] = merge_large(result.get("large") if args.large_only else None, large)
    json_path.write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
    (args.out / "scan_vs_anchors.md").write_text(markdown(result))
    print(markdown(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
